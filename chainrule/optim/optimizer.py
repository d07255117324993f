"""The Optimizer base class: parameter groups, per-parameter state, ``zero_grad`` and ``state_dict``.

An optimizer turns each parameter's ``.grad`` into an update of the parameter itself. The update is
not part of any graph, so subclasses write it on the raw arrays (``p._data``) with in-place NumPy
ufuncs (``out=``): this is the hot path of every training loop, and in-place arithmetic into a
reused work array allocates nothing after the first step. Each update bumps the parameter's version
counter once, so a graph that saved the old value notices (PyTorch's "modified by an inplace
operation" error).
"""

from __future__ import annotations

import copy
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from .. import backend
from ..autograd.function import observed_method
from ..autograd.grad_mode import enable_grad, no_grad
from ..backend import xp
from ..tensor import Tensor


class _Required:
    """Marks a hyperparameter that has no default and must be given (PyTorch's ``optim.optimizer.required``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


class _Workspace:
    """Reusable work arrays for in-place updates, so that a step allocates nothing once warmed up.

    One flat buffer per (dtype, slot) as large as the largest parameter; a parameter gets a view of
    its first ``numel`` elements in its own shape. Params are updated one after another, so they can
    all share the same memory: the extra memory is one largest-parameter per slot, not one copy of
    the model.
    """

    def __init__(self):
        self._flat: dict = {}
        self._views: dict = {}

    def get(self, like, slot: int = 0):
        key = (like.shape, like.dtype, slot)
        view = self._views.get(key)
        if view is None:
            flat = self._flat.get((like.dtype, slot))
            if flat is None or flat.size < like.size:
                flat = self._flat[(like.dtype, slot)] = xp.empty(like.size, like.dtype)
                self._views = {k: v for k, v in self._views.items() if k[1:] != key[1:]}
            view = self._views[key] = flat[:like.size].reshape(like.shape)
        return view


def lerp_(start, end, weight: float, work) -> None:
    """``start += weight * (end - start)`` in place, with PyTorch's formula (exact at weight 0 and 1)."""
    xp.subtract(end, start, out=work)
    if weight < 0.5:
        work *= weight
        start += work
    else:
        work *= 1.0 - weight
        xp.subtract(end, work, out=start)


def update_moments_(m, v, g, beta1: float, beta2: float, work) -> None:
    """Adam's moment estimates in place: m = β1·m + (1-β1)·g (as PyTorch's lerp), v = β2·v + (1-β2)·g²."""
    lerp_(m, g, 1 - beta1, work)
    v *= beta2
    xp.multiply(g, g, out=work)
    work *= 1 - beta2
    v += work


class Optimizer:
    """Base class of all optimizers: holds ``param_groups`` and per-parameter ``state``.

    ``params`` is an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts (parameter
    groups) whose keys override ``defaults`` for that group. Subclasses implement
    ``_update_group(group)``, called by ``step`` once per group without graph recording.

    >>> import chainrule as cr
    >>> w = cr.ones(2, requires_grad=True)
    >>> opt = cr.optim.SGD([{"params": [w], "lr": 0.5}], lr=0.1)
    >>> (w * w).sum().backward(); _ = opt.step(); w
    tensor([0., 0.], requires_grad=True)
    """

    def __init_subclass__(cls, **kwargs):
        # an optimizer's step is one event to observers (chainrule.compile replays it live)
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = observed_method(cls.__dict__["step"])

    def __init__(self, params, defaults: dict[str, Any]):
        self.defaults = defaults
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._ws = _Workspace()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or "
                            f"dicts, but got a Tensor of shape {tuple(params.shape)}; wrap it in a list: [w]")
        if isinstance(params, (set, frozenset)):
            # PyTorch lets a top-level set through; its order changes between runs, so state_dict ids would too
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the "
                            "ordering of tensors in sets will change between runs. Please use a list instead.")
        if callable(getattr(params, "parameters", None)) and not hasattr(params, "__iter__"):
            raise TypeError(f"params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got the model itself ({type(params).__name__}); pass model.parameters()")
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list (if you passed model.parameters() to an "
                             "earlier optimizer too: that generator is used up once read, call it again)")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __repr__(self) -> str:
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (missing ones come from ``defaults``).

        >>> import chainrule as cr
        >>> opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=0.1)
        >>> opt.add_param_group({"params": [cr.zeros(1, requires_grad=True)], "lr": 0.01})
        >>> [g["lr"] for g in opt.param_groups]
        [0.1, 0.01]
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"add_param_group: a param group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the "
                            "ordering of tensors in sets will change between runs. Please use a list instead.")
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            group["param_names"] = names
        group["params"] = params
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but params[{i}] is a {type(p).__name__}")
            if not (p.is_leaf or p.retains_grad):
                raise ValueError(f"can't optimize a non-leaf Tensor (params[{i}] of shape {tuple(p.shape)} "
                                 f"was made by {p.grad_fn.name()}); optimize the leaf it came from")
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            group.setdefault(name, default)
        if len({id(p) for p in params}) != len(params):   # each step would move the parameter twice
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          UserWarning, stacklevel=3)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    @observed_method
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: to None (the default, frees memory) or to zeros.

        >>> import chainrule as cr
        >>> w = cr.ones(2, requires_grad=True); opt = cr.optim.SGD([w], lr=0.1)
        >>> w.sum().backward(); opt.zero_grad(); print(w.grad)
        None
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p._grad is None:     # .grad without its non-leaf warning (params are leaves or retain grad)
                    continue
                if set_to_none:
                    p._grad = None
                    continue
                if p.grad.grad_fn is not None:
                    p.grad.detach_()
                else:
                    p.grad.requires_grad_(False)
                p.grad.zero_()

    @observed_method
    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a gradient; ``closure`` (re-evaluates the loss) is optional.

        Returns the closure's loss (or None), as PyTorch does.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                self._update_group(group)
        return loss

    def _update_group(self, group: dict[str, Any]) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement step() (or _update_group(group))")

    # --- helpers for the update rules ----------------------------------------------------------
    def _params(self, group: dict, *buffers: str, **scalars: float):
        """``(p, w, state)`` for each parameter of ``group`` that has a gradient (``w`` its raw array).

        A parameter's first visit starts its state as PyTorch does: ``step`` (a 0-d tensor at 0, float32
        unless the default dtype is float64), then each of ``scalars`` as a 0-d tensor of that value,
        then each of ``buffers`` as zeros shaped like the parameter."""
        scalar = xp.float64 if backend.default_float.np == xp.float64 else xp.float32
        for p in group["params"]:
            if p.grad is None:
                continue
            w = p._data
            state = self.state[p]
            if not state:
                state["step"] = Tensor._make(xp.zeros((), scalar))
                for name, value in scalars.items():
                    state[name] = Tensor._make(xp.full((), value, scalar))
                for name in buffers:
                    state[name] = Tensor._make(xp.zeros_like(w))
            yield p, w, state

    def _decayed_grad(self, w, g, lr: float, weight_decay: float, decoupled: bool, maximize: bool):
        """The gradient after weight decay: decoupled (AdamW: ``w *= 1 - lr·λ`` first) or added to it (L2)."""
        if weight_decay != 0 and decoupled:
            w *= 1 - lr * weight_decay
            return self._grad(w, g, 0, maximize)
        return self._grad(w, g, weight_decay, maximize)

    def _grad(self, p, g, weight_decay: float, maximize: bool):
        """The gradient the rule uses: ``±g + weight_decay * p``, in a work array when it is not ``g``."""
        if not weight_decay and not maximize:
            return g
        d = self._ws.get(g, 0)
        if weight_decay:
            xp.multiply(p, weight_decay, out=d)
            if maximize:
                xp.subtract(d, g, out=d)
            else:
                xp.add(d, g, out=d)
        else:
            xp.negative(g, out=d)
        return d

    @staticmethod
    def _step_counter(state: dict) -> float:
        """Advance ``state["step"]`` (a 0-dim float32 Tensor, as in PyTorch) and return the new count."""
        step = state["step"]
        step._data += 1
        return float(step._data)

    # --- saving and loading ----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in PyTorch's layout: parameters are replaced by integer ids.

        ``{"state": {0: {"momentum_buffer": tensor, ...}, ...}, "param_groups": [{"lr": ..., "params": [0, 1]}]}``.
        Like PyTorch, state tensors are returned by reference (copy them for a snapshot).

        >>> import chainrule as cr
        >>> opt = cr.optim.SGD([cr.zeros(2, requires_grad=True)], lr=0.1)
        >>> opt.state_dict()["param_groups"][0]["params"]
        [0]
        """
        ids: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                ids.setdefault(id(p), len(ids))
            packed["params"] = [ids[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {(ids[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a ``state_dict()``: hyperparameters per group and each parameter's state, matched by order.

        State tensors are copied (and cast to their parameter's dtype, except the float32 ``step``),
        so the loaded optimizer never shares buffers with the one that saved.
        """
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has a different number of parameter groups "
                             f"({len(saved_groups)} saved, {len(self.param_groups)} in this optimizer)")
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(f"loaded state dict contains a parameter group that doesn't match the size of "
                                 f"optimizer's group (group {i}: {len(saved['params'])} saved params, "
                                 f"{len(group['params'])} here)")
        id_map = {}
        for group, saved in zip(self.param_groups, saved_groups):
            for saved_id, p in zip(saved["params"], group["params"]):
                id_map[saved_id] = p
        state: defaultdict = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in id_map:
                p = id_map[key]
                state[p] = {k: _cast_state(p, k, v) for k, v in value.items()}
            else:
                state[key] = value
        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            new_groups.append(saved)
        self.state = state
        self.param_groups = new_groups


def _cast_state(p: Tensor, key: str, value):
    if not isinstance(value, Tensor):
        return copy.deepcopy(value)
    array = value._data
    if key != "step" and array.dtype.kind == "f":
        array = array.astype(p._data.dtype)  # astype copies even when the dtype already matches
    else:
        array = array.copy()
    return Tensor._make(array)


def as_float(value) -> float:
    """A hyperparameter given as a number or a one-element Tensor (PyTorch allows a Tensor lr)."""
    return float(value) if isinstance(value, Tensor) else value


ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]

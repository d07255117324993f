"""A teaching lint for training loops: warns, once each, about mistakes that run without crashing.

Opt in with ``with chainrule.inspect.lint():`` or ``enable_lint()``. It watches the forward pass
(forward observers) and the backward pass (engine observers) and warns with
``ChainruleLintWarning`` about:

- **a forgotten zero_grad**: a parameter changed in place (an optimizer step) since its gradient was
  last accumulated, and the new gradient is added onto the old ``.grad``;
- **summing losses that keep their graphs** (``total += loss``): a new op takes as input a loss that
  was already backpropagated through, so every iteration's graph stays alive;
- **silent float64 promotion**: an op got a float32 and a float64 input and computes in float64;
- **an in-place change of a tensor saved for backward**, with the line where it was saved and the
  line where it was changed (backward would fail later with a less helpful message).

Each warning says what to do instead.
"""

from __future__ import annotations

import contextlib
import warnings
import weakref

from ..autograd import engine
from ..autograd.anomaly import user_stack
from ..autograd.function import add_forward_observer, remove_forward_observer
from ..tensor import Tensor
from .labels import TensorMap


class ChainruleLintWarning(UserWarning):
    """A likely mistake in a training loop, found by ``chainrule.inspect.lint``."""


def _site() -> str:
    frames = user_stack()
    if not frames:
        return "<unknown>"
    f = frames[-1]
    return f"{f.filename}:{f.lineno}" + (f" ({f.line.strip()})" if f.line else "")


def _warn_at_user_line(message: str) -> None:
    """Warn pointing at the user's line (not at chainrule's internals)."""
    frames = user_stack()
    if frames:
        warnings.warn_explicit(message, ChainruleLintWarning, frames[-1].filename, frames[-1].lineno)
    else:
        warnings.warn(message, ChainruleLintWarning, stacklevel=3)


def _implicit(node) -> bool:
    """Whether a float64 result came from PyTorch's type promotion rather than an explicit
    .double()/.to(): promotion's casts are marked by the Cast op itself."""
    return node.name() != "ToCopyBackward0" or getattr(node, "implicit", False)


class _Lint:
    def __init__(self):
        self.said: set = set()
        self.versions = TensorMap()  # leaf -> its version when its gradient was last accumulated
        self.finished_roots: weakref.WeakSet = weakref.WeakSet()
        self.saved: dict = {}  # id(version box) -> (weakref to node, tensor name, site where saved)

    def warn(self, key, message: str) -> None:
        if key in self.said:
            return
        self.said.add(key)
        _warn_at_user_line(message)

    # --- forward --------------------------------------------------------------------------------
    def node_created(self, node, args, result) -> None:
        T = Tensor
        tensors = [a for a in args if isinstance(a, T)]
        out = result[0] if isinstance(result, tuple) else result
        kinds = {a._data.dtype.name for a in tensors if a._data.dtype.kind == "f"}
        if out._data.dtype.name == "float64" and "float32" in kinds and _implicit(node):
            site = _site()
            self.warn(("float64", site), f"{node.name()} at {site} mixed a float32 and a float64 tensor, so it "
                      f"computes in float64 (slower, twice the memory) and everything after it does too. This "
                      f"often comes from a NumPy array (float64 by default) or dtype=float64 data fed to a "
                      f"float32 model: convert it with .float() or create it with dtype=chainrule.float32.")
        for a in tensors:
            fn = a.grad_fn
            if fn is not None and fn in self.finished_roots:
                site = _site()
                self.warn(("graph", site), f"{node.name()} at {site} uses a loss that was already "
                          f"backpropagated through, so its whole graph (all activations) stays alive; summed over "
                          f"iterations this grows memory every step. To accumulate a number for logging use "
                          f"total += loss.item() (or loss.detach()).")
        if node._saved_versions:
            site = _site()
            for box, _version, _slot in node._saved_versions:
                key = id(box)
                # the entry goes when the node does (graphs die every iteration; the lint must not leak)
                ref = weakref.ref(node, lambda r, k=key: self._forget(k, r))
                self.saved[key] = (ref, box, site)

    def _forget(self, key, ref) -> None:
        entry = self.saved.get(key)
        if entry is not None and entry[0] is ref:
            del self.saved[key]

    def inplace(self, tensor, op_name: str) -> None:
        entry = self.saved.get(id(tensor._version_box))
        if entry is None:
            return
        ref, box, saved_at = entry
        node = ref()
        if node is None or box is not tensor._version_box or node._saved is None or not node._saved_versions:
            del self.saved[id(tensor._version_box)]
            return
        site = _site()
        self.warn(("inplace", saved_at, site), f"{op_name} at {site} changes in place a tensor that "
                  f"{node.name()} saved for backward at {saved_at}; backward() will fail (or would use the new "
                  f"values). Use the out-of-place form (x = x * 2 instead of x.mul_(2), x = x + 1 instead of "
                  f"x += 1), or clone() the tensor before changing it.")

    # --- backward -------------------------------------------------------------------------------
    def node_done(self, node, grad_output, grad_inputs) -> None:
        # A scalar op receiving gradient 1 is almost always the loss a backward pass started from.
        g = grad_output._data if isinstance(grad_output, Tensor) else grad_output
        if getattr(g, "size", 0) == 1 and float(g.reshape(())) == 1.0:
            self.finished_roots.add(node)

    def leaf_done(self, tensor, grad) -> None:
        version = tensor._version
        last = self.versions.get(tensor)
        old = tensor.grad
        if last is not None and old is not None and version != last and old._data.any():
            site = _site()
            shape = tuple(tensor.shape)
            self.warn(("zero_grad", site), f"backward() at {site} adds a new gradient onto the old .grad of a "
                      f"parameter of shape {shape} that an optimizer step has changed since: gradients grow "
                      f"across steps. Call optimizer.zero_grad() (or model.zero_grad()) once per iteration, "
                      f"before loss.backward().")
        self.versions[tensor] = version


_enabled: list = []


def enable_lint() -> None:
    """Turn the teaching lint on (see the module docstring for what it checks).

    >>> import chainrule as cr
    >>> cr.inspect.enable_lint(); cr.inspect.disable_lint()
    """
    if _enabled:
        return
    obs = _Lint()
    _enabled.append(obs)
    add_forward_observer(obs)
    engine.observers.append(obs)


def disable_lint() -> None:
    """Turn the teaching lint off."""
    while _enabled:
        obs = _enabled.pop()
        remove_forward_observer(obs)
        if obs in engine.observers:
            engine.observers.remove(obs)


@contextlib.contextmanager
def lint():
    """Run a block with the teaching lint on.

    >>> import chainrule as cr, warnings
    >>> x = cr.tensor([1.0], requires_grad=True)
    >>> with warnings.catch_warnings(record=True) as w, cr.inspect.lint():
    ...     warnings.simplefilter("always")
    ...     y = x * cr.tensor([2.0], dtype=cr.float64)
    >>> w[0].category.__name__
    'ChainruleLintWarning'
    """
    was_on = bool(_enabled)
    enable_lint()
    try:
        yield
    finally:
        if not was_on:
            disable_lint()

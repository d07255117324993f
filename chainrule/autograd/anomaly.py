"""Anomaly detection: find the op that first produced a NaN or an infinity, and where your code made it.

While enabled, a forward observer stores in each new node's ``metadata`` the stack where it was
created (``metadata["traceback_"]`` as in PyTorch, ``metadata["created_at"]`` = the first frame of
*your* code, skipping chainrule's own) and checks the op's output; an engine observer checks the
gradients every op's backward returns. The first NaN/inf that appears (from finite inputs) raises
a RuntimeError naming the op, the creation site and a likely fix. It slows every op down (a stack
walk per op): use it to debug, not to train.

>>> import chainrule as cr
>>> p = cr.tensor([0.5, 0.0], requires_grad=True)
>>> with cr.autograd.detect_anomaly():
...     loss = -p.log().sum()
Traceback (most recent call last):
RuntimeError: Function 'LogBackward0' produced inf values in its forward output ...
"""

from __future__ import annotations

import os
import traceback

from ..backend import xp
from . import engine
from .function import add_forward_observer, hooks, remove_forward_observer

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_HINTS = {
    "Log": "log(0) = -inf and log(x<0) = nan. For a loss on probabilities (BCE / NLL on sigmoid or softmax "
           "outputs) compute it from the logits instead: nn.BCEWithLogitsLoss / "
           "F.binary_cross_entropy_with_logits, or F.cross_entropy / log_softmax; otherwise clamp: "
           "x.clamp_min(1e-12).log()",
    "Div": "division by zero: a denominator (a count, a norm, a standard deviation) is 0; add a small eps "
           "to it or mask those entries",
    "Sqrt": "sqrt of a negative number is nan, and its derivative 1/(2·sqrt(x)) is inf at 0: clamp the "
            "argument, or use sqrt(x + eps) (e.g. for a norm of a vector that can be 0)",
    "Rsqrt": "1/sqrt(x) is inf at 0 and nan below 0: add eps to the argument (as normalisation layers do)",
    "Pow": "a fractional power of a negative number is nan, and a negative power of 0 is inf: clamp the base",
    "Exp": "exp overflowed (exp(x) = inf for x > ~88 in float32, ~709 in float64): use logsumexp / softmax / "
           "log_softmax, which subtract the maximum first, or BCEWithLogitsLoss",
    "Tan": "tan is infinite at odd multiples of π/2",
}
_COPY_OPS = ("MaskedFill", "Where", "Index", "Scatter", "Select", "Slice", "Cat", "Stack", "Clone", "ToCopy",
             "Expand", "View", "Reshape", "Unsafe", "Permute", "Transpose", "Unsqueeze", "Squeeze", "Max", "Min",
             "Clamp", "Gather", "Maximum", "Minimum", "Flip", "Roll", "Repeat", "Split", "Narrow", "Pad")


def _hint(name: str) -> str:
    for prefix, text in _HINTS.items():
        if name.startswith(prefix):
            return "Hint: " + text + "."
    return ("Hint: print the min/max of this op's inputs just before it; a NaN usually comes from 0/0, inf-inf, "
            "log or sqrt of a negative number, or an overflow.")


def user_stack() -> list:
    """The current stack without chainrule's own frames (innermost last)."""
    frames = traceback.extract_stack()[:-1]
    return [f for f in frames if not os.path.abspath(f.filename).startswith(_PACKAGE)]


def _site(frames) -> str:
    if not frames:
        return "<unknown>"
    f = frames[-1]
    code = f" ({f.line.strip()})" if f.line else ""
    return f"{f.filename}:{f.lineno}, in {f.name}{code}"


def _bad(a) -> str | None:
    a = a._data if isinstance(a, hooks.Tensor) else a
    if a is None or getattr(a, "dtype", None) is None or a.dtype.kind not in "fc":
        return None
    if xp.isnan(a).any():
        return "nan"
    if xp.isinf(a).any():
        return "inf"
    return None


class _Anomaly:
    def __init__(self, check_nan: bool):
        self.check_nan = check_nan

    def node_created(self, node, args, result) -> None:
        frames = user_stack()
        node.metadata = {"traceback_": traceback.format_list(frames), "created_at": _site(frames)}
        if not self.check_nan:
            return
        outs = result if isinstance(result, tuple) else (result,)
        kind = next((k for k in map(_bad, outs) if k), None)
        if kind is None or any(_bad(a) for a in args if isinstance(a, hooks.Tensor)):
            return  # clean, or the NaN/inf came in from an input: the op that made it was reported
        name = node.name()
        if kind == "inf" and name.startswith(_COPY_OPS):
            return  # copying an inf (e.g. masked_fill(mask, -inf) before a softmax) is deliberate
        raise RuntimeError(f"Function '{name}' produced {kind} values in its forward output (its inputs were "
                           f"finite). The op was created at {node.metadata['created_at']}. {_hint(name)}")

    def inplace(self, tensor, op_name) -> None:
        pass

    def node_done(self, node, grad_output, grad_inputs) -> None:
        if not self.check_nan or _bad(grad_output):
            return
        for i, g in enumerate(grad_inputs):
            kind = _bad(g) if g is not None else None
            if kind is None:
                continue
            meta = node.metadata or {}
            where = meta.get("created_at", "<unknown: the op was created before anomaly detection was enabled>")
            raise RuntimeError(f"Function '{node.name()}' returned {kind} values in its {i}th output. The "
                               f"forward op was created at {where}. {_hint(node.name())}")

    def leaf_done(self, tensor, grad) -> None:
        pass


_active: list = []


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on."""
    return bool(_active)


def is_anomaly_check_nan_enabled() -> bool:
    return bool(_active) and _active[-1].check_nan


def _enable(check_nan: bool) -> _Anomaly:
    obs = _Anomaly(check_nan)
    _active.append(obs)
    add_forward_observer(obs)
    engine.observers.append(obs)
    return obs


def _disable(obs) -> None:
    if obs in _active:
        _active.remove(obs)
    remove_forward_observer(obs)
    if obs in engine.observers:
        engine.observers.remove(obs)


class detect_anomaly:
    """Context manager (or decorator) that turns anomaly detection on for its block.

    >>> import chainrule as cr
    >>> with cr.autograd.detect_anomaly():
    ...     y = cr.tensor([1.0, 4.0], requires_grad=True).sqrt().sum()
    >>> y.grad_fn.metadata["created_at"].startswith("<doctest")
    True
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan
        self._obs = None

    def __enter__(self):
        self._obs = _enable(self.check_nan)
        return self

    def __exit__(self, *exc) -> None:
        _disable(self._obs)

    def __call__(self, func):
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return func(*args, **kwargs)
        return wrapper


class set_detect_anomaly:
    """Turn anomaly detection on or off; usable as a plain call or as a context manager.

    >>> import chainrule as cr
    >>> _ = cr.autograd.set_detect_anomaly(True); cr.autograd.is_anomaly_enabled()
    True
    >>> _ = cr.autograd.set_detect_anomaly(False); cr.autograd.is_anomaly_enabled()
    False
    """

    def __init__(self, mode: bool, check_nan: bool = True):
        self.prev = list(_active)
        for obs in _active:
            _disable(obs)
        if mode:
            _enable(check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        for obs in _active:
            _disable(obs)
        for obs in self.prev:
            _active.append(obs)
            add_forward_observer(obs)
            engine.observers.append(obs)

"""The ``chainrule.<op>(tensor, ...)`` forms of Tensor methods, plus ops over several tensors
(``cat``, ``stack``, ``where``, …), as in the ``torch`` namespace."""

from __future__ import annotations

import builtins

from . import backend
from .backend import xp
from .ops import shape as S
from .ops.indexing import IndexAdd
from .ops.shape import Pad
from .tensor import Tensor
from .tensor_ops import as_tensor_like, normalize_dim, promote, where


def _tensors(tensors, op: str) -> list:
    ts = [as_tensor_like(t, None) for t in tensors]
    if not ts:
        raise RuntimeError(f"{op}: expected a non-empty list of Tensors")
    dtype = ts[0]
    for t in ts[1:]:
        dtype, _ = promote(dtype, t)
    target = dtype._data.dtype
    return [t if t._data.dtype == target else t.to(target) for t in ts]


def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension."""
    ts = _tensors(tensors, "cat")
    ts = [t for t in ts if not (t.ndim == 1 and t.shape[0] == 0)] or ts[:1]  # PyTorch skips empty 1-D
    d = normalize_dim(dim, ts[0].ndim, "cat")
    for i, t in enumerate(ts):
        if t.ndim != ts[0].ndim:
            raise RuntimeError(f"cat: tensor 0 has {ts[0].ndim} dimensions but tensor {i} has {t.ndim} "
                               f"(shapes {tuple(ts[0].shape)} and {tuple(t.shape)})")
    return S.Cat.apply(d, *ts)


concat = concatenate = cat


def stack(tensors, dim: int = 0) -> Tensor:
    """Join tensors of equal shape along a new dimension."""
    ts = _tensors(tensors, "stack")
    return S.Stack.apply(normalize_dim(dim, ts[0].ndim + 1, "stack"), *ts)


def hstack(tensors) -> Tensor:
    ts = [as_tensor_like(t, None) for t in tensors]
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    return cat([t if t.ndim > 1 else t.unsqueeze(0) for t in (as_tensor_like(t, None) for t in tensors)], 0)


def pad(input: Tensor, pad: tuple, mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad the last dims: ``pad=(left, right, top, bottom, ...)`` as in ``torch.nn.functional.pad``."""
    if mode != "constant":
        raise NotImplementedError(f"pad: mode {mode!r} is not supported (only 'constant')")
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise RuntimeError(f"pad: padding length {len(pad)} must be even and at most 2 * {input.ndim}")
    pads = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        pads[input.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    if builtins.any(b < 0 or a < 0 for b, a in pads):  # builtins: this module defines any()
        raise NotImplementedError("pad: negative padding (cropping) is not supported")
    return Pad.apply(input, pads, value)


def broadcast_tensors(*tensors):
    shape = xp.broadcast_shapes(*(t.shape for t in tensors))
    return tuple(t.expand(shape) for t in tensors)


def broadcast_shapes(*shapes):
    return xp.broadcast_shapes(*shapes)


def meshgrid(*tensors, indexing: str = "ij"):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    n = len(tensors)
    out = []
    for i, t in enumerate(tensors):
        shape = [1] * n
        shape[i] = t.shape[0]
        out.append(t.reshape(shape))
    if indexing == "xy" and n >= 2:
        out[0], out[1] = out[0].transpose(0, 1), out[1].transpose(0, 1)
    return broadcast_tensors(*out)


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return a.allclose(b, rtol, atol, equal_nan)


def equal(a, b) -> bool:
    return a.equal(b)


def numel(t) -> int:
    return t.numel()


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def clamp(input, min=None, max=None):
    return input.clamp(min, max)


clip = clamp


def max(input, dim=None, keepdim=False):
    if isinstance(dim, Tensor):
        return input.maximum(dim)
    return input.max(dim, keepdim)


def min(input, dim=None, keepdim=False):
    if isinstance(dim, Tensor):
        return input.minimum(dim)
    return input.min(dim, keepdim)


def _method(name: str, doc: str):
    method = getattr(Tensor, name)  # bound once: these wrappers are on the hot path (cr.tanh(x))

    def f(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            input = as_tensor_like(input, None)
        return method(input, *args, **kwargs)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    return f


# The remaining torch.* functions are exactly their Tensor methods.
_SAME_AS_METHOD = [
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "pow", "neg", "negative", "abs",
    "absolute", "reciprocal", "square", "exp", "log", "log2", "log1p", "expm1", "sqrt", "rsqrt", "sin", "cos",
    "tan", "tanh", "sigmoid", "relu", "sign", "floor", "ceil", "round", "trunc", "clamp_min", "clamp_max",
    "maximum", "minimum", "sum", "mean", "var", "std", "prod", "amax", "amin", "argmax", "argmin", "logsumexp",
    "norm", "cumsum", "softmax", "log_softmax", "matmul", "mm", "bmm", "mv", "dot", "inner", "outer", "ger",
    "reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "permute", "transpose", "swapaxes", "swapdims",
    "t", "broadcast_to", "tile", "flip", "fliplr", "flipud", "split", "chunk", "unbind", "gather", "scatter",
    "scatter_add", "index_select", "masked_fill", "tril", "triu", "eq", "ne", "lt", "le", "gt", "ge",
    "greater", "less", "greater_equal", "less_equal", "not_equal", "logical_and", "logical_or", "logical_xor",
    "logical_not", "isnan", "isinf", "isfinite", "any", "all", "isclose", "nonzero", "count_nonzero", "lerp",
    "clone", "detach",
]
for _name in _SAME_AS_METHOD:
    globals()[_name] = _method(_name, f"``chainrule.{_name}(t, ...)`` is ``t.{_name}(...)``.")
del _name


__all__ = ["cat", "concat", "concatenate", "stack", "hstack", "vstack", "pad", "broadcast_tensors",  # noqa: PLE0604
           "broadcast_shapes", "meshgrid", "allclose", "equal", "numel", "is_tensor", "clamp", "clip", "max",
           "min", "where", "var_mean", "std_mean", "diag", "trace", "is_floating_point", "result_type",
           *_SAME_AS_METHOD]


def var_mean(input, dim=None, unbiased=None, keepdim=False, correction=None):
    return input.var(dim, unbiased, keepdim, correction), input.mean(dim, keepdim=keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, correction=None):
    return input.std(dim, unbiased, keepdim, correction), input.mean(dim, keepdim=keepdim)


def diag(input, diagonal: int = 0):
    if input.ndim == 1:
        n = input.shape[0] + builtins.abs(diagonal)
        idx = xp.arange(input.shape[0])
        rows, cols = (idx, idx + diagonal) if diagonal >= 0 else (idx - diagonal, idx)
        return IndexAdd.apply(input, (n, n), (rows, cols))
    rows = xp.arange(builtins.min(input.shape[0], input.shape[1] - diagonal) if diagonal >= 0
                     else builtins.min(input.shape[0] + diagonal, input.shape[1]))
    return input[(rows, rows + diagonal)] if diagonal >= 0 else input[(rows - diagonal, rows)]


def trace(input):
    return diag(input).sum()


def is_floating_point(t) -> bool:
    return t.is_floating_point()


def result_type(a, b):
    ta = a.dtype if isinstance(a, Tensor) else None
    tb = b.dtype if isinstance(b, Tensor) else None
    if ta is None:
        return backend.result_dtype(tb, b.ndim, None, 0, a)
    return backend.result_dtype(ta, a.ndim, tb, b.ndim if tb else 0, b if tb is None else None)


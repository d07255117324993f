"""The ``chainrule.<op>(tensor, ...)`` forms of Tensor methods, plus ops over several tensors
(``cat``, ``stack``, ``where``, …), as in the ``torch`` namespace."""

from __future__ import annotations

import builtins

from .. import backend
from ..backend import xp
from ..ops import elementwise as E
from ..ops import shape as S
from ..ops.shape import Pad
from . import functions_methods as _methods
from .args import as_tensor_like, keepdim_arg, normalize_dim, promote, where
from .contract import bucketize, cdist, einsum, kron, searchsorted, tensordot
from .core import Tensor
from .functions_methods import *  # re-exported: chainrule.tanh is here, as before the split
from .functions_methods import _input
from .selection import kthvalue  # defined there: this module is already long


def _tensors(tensors, op: str, dim=0) -> list:
    if isinstance(tensors, Tensor) or isinstance(dim, Tensor):
        raise TypeError(f"{op}(): argument 'tensors' must be a list or tuple of Tensors, got a Tensor"
                        f"{' and a Tensor as dim' if isinstance(dim, Tensor) else ''}; write {op}([a, b], dim=0)")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    ts = list(tensors)
    if not ts:
        raise RuntimeError(f"{op}: expected a non-empty list of Tensors")
    dtype = ts[0]
    for t in ts[1:]:
        dtype, _ = promote(dtype, t)
    target = dtype._data.dtype
    return [t if t._data.dtype == target else t.to(target) for t in ts]


def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension."""
    ts = _tensors(tensors, "cat", dim)
    # PyTorch lets a 1-D empty tensor join anything (it adds nothing); it stays an input of the node,
    # so its gradient is an empty tensor, not "unused".
    joined = [t for t in ts if not S.is_legacy_empty(t._data)] or ts[:1]
    d = normalize_dim(dim, joined[0].ndim, "cat")
    for t in joined:
        if t.ndim != joined[0].ndim:
            first = next(i for i, u in enumerate(ts) if u is joined[0])
            this = next(i for i, u in enumerate(ts) if u is t)
            raise RuntimeError(f"cat: tensor {first} has {joined[0].ndim} dimensions but tensor {this} has "
                               f"{t.ndim} (shapes {tuple(joined[0].shape)} and {tuple(t.shape)})")
    return S.Cat.apply(d, *ts)


concat = concatenate = cat


def stack(tensors, dim: int = 0) -> Tensor:
    """Join tensors of equal shape along a new dimension."""
    ts = _tensors(tensors, "stack", dim)
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
    shape = _broadcast_shape("broadcast_tensors", [tuple(t.shape) for t in tensors])
    return tuple(t if tuple(t.shape) == shape else t.expand(shape) for t in tensors)   # (as PyTorch: t itself)


def broadcast_shapes(*shapes):
    return _broadcast_shape("broadcast_shapes", [(s,) if isinstance(s, int) else tuple(s) for s in shapes])


def _broadcast_shape(fn: str, shapes: list) -> tuple:
    return E.broadcast_shape(fn, "tensors", *shapes)


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
    return (t if isinstance(t, Tensor) else _input(t, "numel", ())).numel()


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def clamp(input, min=None, max=None):
    """Limit each element of ``input`` to [min, max] (``Tensor.clamp``)."""
    if not isinstance(input, Tensor):
        input = _input(input, "clamp", ())
    return input.clamp(min, max)


def clip(input, min=None, max=None):
    """``clamp(input, min, max)`` under NumPy's name."""
    if not isinstance(input, Tensor):
        input = _input(input, "clip", ())
    return input.clip(min, max)


def max(input, dim=None, keepdim=False, *, keepdims=None):
    if not isinstance(input, Tensor):
        input = _input(input, "max", ())
    if isinstance(dim, Tensor):
        return input.maximum(dim)
    return input.max(dim, keepdim, keepdims=keepdims)


def min(input, dim=None, keepdim=False, *, keepdims=None):
    if not isinstance(input, Tensor):
        input = _input(input, "min", ())
    if isinstance(dim, Tensor):
        return input.minimum(dim)
    return input.min(dim, keepdim, keepdims=keepdims)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """``input.repeat_interleave(repeats, dim)``; with one tensor argument, each index ``i`` repeated
    ``input[i]`` times.

    >>> import chainrule as cr
    >>> cr.repeat_interleave(cr.tensor([2, 1]))
    tensor([0, 0, 1])
    """
    if repeats is None:
        return Tensor._make(xp.arange(input.numel())).repeat_interleave(input, 0)
    return as_tensor_like(input, None).repeat_interleave(repeats, dim, output_size=output_size)


# the functions defined or gathered here, then the Tensor-method functions (functions_methods)
__all__ = [
    "allclose",
    "broadcast_shapes",
    "broadcast_tensors",
    "bucketize",
    "cat",
    "cdist",
    "clamp",
    "clip",
    "concat",
    "concatenate",
    "einsum",
    "equal",
    "hstack",
    "is_floating_point",
    "is_tensor",
    "kron",
    "kthvalue",
    "max",
    "meshgrid",
    "min",
    "numel",
    "pad",
    "repeat_interleave",
    "result_type",
    "searchsorted",
    "stack",
    "std_mean",
    "tensordot",
    "trace",
    "var_mean",
    "vstack",
    "where",
]
__all__ += _methods.__all__


def var_mean(input, dim=None, unbiased=None, keepdim=False, correction=None, *, keepdims=None):
    keepdim = keepdim_arg(keepdim, keepdims, "var_mean")
    return input.var(dim, unbiased, keepdim, correction), input.mean(dim, keepdim=keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, correction=None, *, keepdims=None):
    keepdim = keepdim_arg(keepdim, keepdims, "std_mean")
    return input.std(dim, unbiased, keepdim, correction), input.mean(dim, keepdim=keepdim)


def trace(input):
    """The sum of the main diagonal of a matrix."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got a tensor with {input.ndim} dims (shape "
                           f"{tuple(input.shape)})")
    return input.diagonal().sum()


def is_floating_point(t) -> bool:
    return t.is_floating_point()


def result_type(a, b):
    ta = a.dtype if isinstance(a, Tensor) else None
    tb = b.dtype if isinstance(b, Tensor) else None
    if ta is None:
        return backend.result_dtype(tb, b.ndim, None, 0, a)
    return backend.result_dtype(ta, a.ndim, tb, b.ndim if tb else 0, b if tb is None else None)


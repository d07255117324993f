"""Argument handling shared by Tensor's methods: PyTorch's conventions (``dim``/``keepdim``, negative
dims, ``*shape`` or ``shape``) and PyTorch's dtype promotion, so the ops underneath see plain,
normalised arguments.
"""

from __future__ import annotations

import numbers
import warnings

from .. import backend
from ..autograd.function import notify_inplace
from ..autograd.grad_mode import state
from ..backend import xp
from ..ops import arithmetic as A
from ..ops import elementwise as E
from . import core

_ndarray = xp.ndarray
_Scalar = (int, float, bool)
_NumpyScalar = xp.generic


def py_scalar(x):
    """A NumPy scalar as the Python number it holds: PyTorch treats ``np.float64(0.5)`` like ``0.5`` (a
    float32 tensor times it stays float32), where NumPy would make it a float64 operand."""
    return x.item() if isinstance(x, _NumpyScalar) and x.dtype.kind in "biuf" else x
_Add, _Sub, _Mul = A.Add.apply, A.Sub.apply, A.Mul.apply


def normalize_dim(dim: int, ndim: int, op: str) -> int:
    n = max(ndim, 1)
    if not isinstance(dim, numbers.Integral):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    if not -n <= dim < n:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim}) for a tensor with {ndim} dimensions")
    return int(dim) % n if ndim else 0


def normalize_dims(dim, ndim: int, op: str):
    """None -> None (all dims); int or sequence -> sorted tuple of non-negative dims."""
    if dim is None:
        return None
    if isinstance(dim, numbers.Integral):
        return (normalize_dim(dim, ndim, op),) if ndim else None
    if getattr(dim, "ndim", None) == 0:   # a 0-d integer tensor, as PyTorch accepts
        return normalize_dims(dim.item(), ndim, op)
    if len(dim) == 0:
        return None
    dims = tuple(sorted({normalize_dim(d, ndim, op) for d in dim}))
    if len(dims) != len(dim):
        raise RuntimeError(f"{op}: dim {_repeated(dim, ndim, op)} appears multiple times in the list of dims "
                           f"{tuple(dim)}")
    return dims if ndim else None


def _repeated(dim, ndim: int, op: str) -> int:
    seen = set()
    for d in dim:
        d = normalize_dim(d, ndim, op)
        if d in seen:
            return d
        seen.add(d)
    return dim[0]


def keepdim_arg(keepdim, keepdims, op: str) -> bool:
    """``keepdims=`` is NumPy's spelling of ``keepdim=``; PyTorch accepts either (not both)."""
    if keepdims is None:
        return bool(keepdim)
    if keepdim:
        raise TypeError(f"{op}(): got both keepdim and keepdims; pass one of them")
    return bool(keepdims)


def shape_arg(shape) -> tuple:
    """Accept ``f(2, 3)`` and ``f((2, 3))`` alike."""
    if len(shape) == 1 and not isinstance(shape[0], numbers.Integral):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def as_tensor_like(value, like):
    """Turn a NumPy array / list operand into a Tensor; Python scalars are left to the ops."""
    T = core.Tensor
    if isinstance(value, T):
        return value
    a = backend.to_array(value)
    return T._make(a)


def promote(a, b):
    """Cast two tensors to their PyTorch result dtype (NumPy's rules differ, e.g. int64 + float32)."""
    da, db = a._data.dtype, b._data.dtype
    if da == db:
        return a, b
    target = backend.result_dtype(backend.from_np_dtype(da), a._data.ndim,
                                  backend.from_np_dtype(db), b._data.ndim).np
    return (a if da == target else E.Cast.apply(a, target, True)), \
        (b if db == target else E.Cast.apply(b, target, True))


def binary(op, a, b):
    """Apply a binary op with PyTorch's promotion of ``a`` (a Tensor) and ``b`` (Tensor or scalar)."""
    T = core.Tensor
    if isinstance(b, T):
        if a._data.dtype is not b._data.dtype:
            a, b = promote(a, b)
        return op.apply(a, b)
    b = py_scalar(b)
    if isinstance(b, _Scalar):
        return op.apply(_scalar_promoted(a, b), b)
    if b is None:
        raise TypeError(f"{op.__name__.lower()}: unsupported operand None for a Tensor")
    b = as_tensor_like(b, a)
    if a._data.dtype is not b._data.dtype:
        a, b = promote(a, b)
    return op.apply(a, b)


def _scalar_promoted(a, b):
    """``a`` cast to PyTorch's result dtype for ``a op b`` with a Python scalar ``b`` (the scalar's type
    only matters across kinds: an int tensor and a float give float32, a bool tensor and an int int64)."""
    kind = a._data.dtype.kind
    if kind in "biu" and isinstance(b, float):
        return a.to(backend.default_float.np)
    if kind == "b" and not isinstance(b, bool):
        return a.to(backend.int64.np)
    return a


def _floatify(a):
    return a if a._data.dtype.kind == "f" else a.to(backend.default_float.np)


def _no_grad_result(array):
    return core.Tensor._make(array)


def _raw(x):
    return x._data if isinstance(x, core.Tensor) else x


def where(condition, input, other):
    """``input`` where ``condition`` holds, else ``other`` (either may be a Python scalar)."""
    T = core.Tensor
    cond = _raw(condition)
    if cond.dtype != bool:
        raise RuntimeError(f"where: expected condition to be a boolean tensor, got {cond.dtype}")
    input, other = py_scalar(input), py_scalar(other)
    if isinstance(input, T) and isinstance(other, T) and input._data.dtype is not other._data.dtype:
        input, other = promote(input, other)
    elif isinstance(input, T) and isinstance(other, _Scalar):
        input = _scalar_promoted(input, other)
    elif isinstance(other, T) and isinstance(input, _Scalar):
        other = _scalar_promoted(other, input)
    elif not isinstance(input, T) and not isinstance(other, T):
        input = T._make(backend.to_array(input))
    return E.Where.apply(cond, input, other)


def _changed(t, op: str):
    """Record an untracked in-place change: bump the version counter, tell observers."""
    t._version_box[0] += 1
    if state.observed:
        notify_inplace(t, op)
    return t


def _correction(unbiased, correction) -> int:
    if correction is not None:
        return int(correction)
    return 0 if unbiased is False else 1


def _normalize_index(index) -> tuple:
    """Turn any index into a tuple NumPy understands, with Tensors replaced by their arrays."""
    T = core.Tensor
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    for i in index:
        if isinstance(i, T):
            i = i._data
            if i.dtype == xp.uint8:     # PyTorch still reads a uint8 tensor as a mask, with a warning
                warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool "
                              "instead.", UserWarning, stacklevel=3)
                i = i.astype(bool)
            elif i.ndim == 0 and i.dtype.kind in "iu":
                i = int(i)      # a 0-d integer tensor indexes like an int, as PyTorch's: a view (select)
            elif i.dtype.kind == "f":
                raise IndexError(f"index: tensors used as indices must be long, int, byte or bool tensors, got "
                                 f"{i.dtype} (convert with .long())")
        elif isinstance(i, list):
            i = xp.asarray(i)
            if i.dtype.kind == "f":
                raise IndexError("lists used as indices must contain integers or booleans")
        elif isinstance(i, bool):
            i = xp.asarray(i)
        elif isinstance(i, numbers.Integral) and not isinstance(i, int):
            i = int(i)
        out.append(i)
    return tuple(out)


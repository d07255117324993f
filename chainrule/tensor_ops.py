"""Tensor's operator and math methods (a mixin ``Tensor`` inherits), one line per op where possible.

Here live the PyTorch argument conventions — ``dim``/``keepdim``, negative dims, ``*shape`` or
``shape`` — and PyTorch's dtype promotion, so the ops underneath see plain, normalised arguments.
"""

from __future__ import annotations

import math
import numbers

from . import backend
from .autograd.function import hooks, notify_inplace
from .autograd.grad_mode import state
from .backend import xp
from .ops import elementwise as E
from .ops import indexing as I
from .ops import linalg as L
from .ops import reduce as R
from .ops import shape as S

_ndarray = xp.ndarray
_Scalar = (int, float, bool)
_Add, _Sub, _Mul = E.Add.apply, E.Sub.apply, E.Mul.apply


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
    if len(dim) == 0:
        return None
    dims = tuple(sorted({normalize_dim(d, ndim, op) for d in dim}))
    return dims if ndim else None


def shape_arg(shape) -> tuple:
    """Accept ``f(2, 3)`` and ``f((2, 3))`` alike."""
    if len(shape) == 1 and not isinstance(shape[0], numbers.Integral):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def as_tensor_like(value, like):
    """Turn a NumPy array / list operand into a Tensor; Python scalars are left to the ops."""
    T = hooks.Tensor
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
    return (a if da == target else a.to(target)), (b if db == target else b.to(target))


def binary(op, a, b):
    """Apply a binary op with PyTorch's promotion of ``a`` (a Tensor) and ``b`` (Tensor or scalar)."""
    T = hooks.Tensor
    if isinstance(b, T):
        if a._data.dtype is not b._data.dtype:
            a, b = promote(a, b)
        return op.apply(a, b)
    if isinstance(b, _Scalar):
        kind = a._data.dtype.kind
        if kind in "biu" and isinstance(b, float):
            a = a.to(backend.default_float.np)
        elif kind == "b" and not isinstance(b, bool):
            a = a.to(backend.int64.np)
        return op.apply(a, b)
    if b is None:
        raise TypeError(f"{op.__name__.lower()}: unsupported operand None for a Tensor")
    b = as_tensor_like(b, a)
    if a._data.dtype is not b._data.dtype:
        a, b = promote(a, b)
    return op.apply(a, b)


def _floatify(a):
    return a if a._data.dtype.kind == "f" else a.to(backend.default_float.np)


def _no_grad_result(array):
    return hooks.Tensor._make(array)


def _raw(x):
    return x._data if isinstance(x, hooks.Tensor) else x


class TensorOps:
    """Arithmetic, math, reductions, shape and indexing methods of ``Tensor``."""

    __slots__ = ()

    # --- arithmetic ------------------------------------------------------------------------
    # The four hottest operators first try the common case (same-class tensor of the same dtype,
    # or a Python float with a float tensor) before the general promotion in ``binary``.
    def __add__(self, other):
        if (other.__class__ is self.__class__ and other._data.dtype is self._data.dtype) or \
                (other.__class__ is float and self._data.dtype.kind == "f"):
            return _Add(self, other)
        return binary(E.Add, self, other)

    __radd__ = __add__

    def __sub__(self, other):
        if (other.__class__ is self.__class__ and other._data.dtype is self._data.dtype) or \
                (other.__class__ is float and self._data.dtype.kind == "f"):
            return _Sub(self, other)
        return binary(E.Sub, self, other)

    def __rsub__(self, other):
        if isinstance(other, _Scalar):
            return E.RSub.apply(self, other)
        return binary(E.Sub, as_tensor_like(other, self), self)

    def __mul__(self, other):
        if (other.__class__ is self.__class__ and other._data.dtype is self._data.dtype) or \
                (other.__class__ is float and self._data.dtype.kind == "f"):
            return _Mul(self, other)
        return binary(E.Mul, self, other)

    __rmul__ = __mul__

    def __truediv__(self, other):
        if self._data.dtype.kind != "f" and (not isinstance(other, (hooks.Tensor, float))
                                              or (isinstance(other, hooks.Tensor)
                                                  and other._data.dtype.kind != "f")):
            return binary(E.Div, _floatify(self), other)
        return binary(E.Div, self, other)

    def __rtruediv__(self, other):
        if isinstance(other, _Scalar):
            return E.RDiv.apply(_floatify(self), other)
        return as_tensor_like(other, self).__truediv__(self)

    def __floordiv__(self, other):
        return _no_grad_result(xp.floor_divide(self._data, _raw(other)))

    def __rfloordiv__(self, other):
        return _no_grad_result(xp.floor_divide(_raw(other), self._data))

    def __mod__(self, other):
        return _no_grad_result(xp.remainder(self._data, _raw(other)))

    def __pow__(self, exponent):
        if isinstance(exponent, _Scalar):
            if self._data.dtype.kind in "biu" and (isinstance(exponent, float) or exponent < 0):
                return E.Pow.apply(_floatify(self), exponent)
            return E.Pow.apply(self, exponent)
        return binary(E.PowTensor, self, exponent)

    def __rpow__(self, base):
        if isinstance(base, _Scalar):
            return E.RPow.apply(_floatify(self) if isinstance(base, float) else self, base)
        return binary(E.PowTensor, as_tensor_like(base, self), self)

    def __matmul__(self, other):
        return self.matmul(other)

    def __rmatmul__(self, other):
        return as_tensor_like(other, self).matmul(self)

    def __neg__(self):
        return E.Neg.apply(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return E.Abs.apply(self)

    def add(self, other, alpha=1):
        if alpha != 1:
            return binary(E.Add, self, other * alpha)
        return binary(E.Add, self, other)

    def sub(self, other, alpha=1):
        if alpha != 1:
            return binary(E.Sub, self, other * alpha)
        return binary(E.Sub, self, other)

    subtract = sub

    def mul(self, other):
        return binary(E.Mul, self, other)

    multiply = mul

    def div(self, other, rounding_mode=None):
        if rounding_mode == "floor":
            return self.__floordiv__(other)
        if rounding_mode == "trunc":
            return _no_grad_result(xp.trunc(self._data / _raw(other)).astype(self._data.dtype))
        return self.__truediv__(other)

    divide = true_divide = div

    def pow(self, exponent):
        return self.__pow__(exponent)

    def neg(self):
        return E.Neg.apply(self)

    negative = neg

    def abs(self):
        return E.Abs.apply(self)

    absolute = abs

    def reciprocal(self):
        return E.RDiv.apply(_floatify(self), 1.0)

    def square(self):
        return E.Pow.apply(self, 2)

    # --- comparisons and logic (no gradient) ------------------------------------------------
    def __eq__(self, other):
        return _no_grad_result(xp.equal(self._data, _raw(other)))

    def __ne__(self, other):
        return _no_grad_result(xp.not_equal(self._data, _raw(other)))

    def __lt__(self, other):
        return _no_grad_result(xp.less(self._data, _raw(other)))

    def __le__(self, other):
        return _no_grad_result(xp.less_equal(self._data, _raw(other)))

    def __gt__(self, other):
        return _no_grad_result(xp.greater(self._data, _raw(other)))

    def __ge__(self, other):
        return _no_grad_result(xp.greater_equal(self._data, _raw(other)))

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__
    greater, less, greater_equal, less_equal, not_equal = gt, lt, ge, le, ne

    def __and__(self, other):
        return _no_grad_result(xp.bitwise_and(self._data, _raw(other)))

    def __or__(self, other):
        return _no_grad_result(xp.bitwise_or(self._data, _raw(other)))

    def __xor__(self, other):
        return _no_grad_result(xp.bitwise_xor(self._data, _raw(other)))

    def __invert__(self):
        return _no_grad_result(xp.invert(self._data))

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    def logical_and(self, other):
        return _no_grad_result(xp.logical_and(self._data, _raw(other)))

    def logical_or(self, other):
        return _no_grad_result(xp.logical_or(self._data, _raw(other)))

    def logical_xor(self, other):
        return _no_grad_result(xp.logical_xor(self._data, _raw(other)))

    def logical_not(self):
        return _no_grad_result(xp.logical_not(self._data))

    def isnan(self):
        return _no_grad_result(xp.isnan(self._data))

    def isinf(self):
        return _no_grad_result(xp.isinf(self._data))

    def isfinite(self):
        return _no_grad_result(xp.isfinite(self._data))

    def any(self, dim=None, keepdim=False):
        return _no_grad_result(xp.any(self._data, axis=normalize_dims(dim, self.ndim, "any"), keepdims=keepdim))

    def all(self, dim=None, keepdim=False):
        return _no_grad_result(xp.all(self._data, axis=normalize_dims(dim, self.ndim, "all"), keepdims=keepdim))

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
        return bool(xp.allclose(self._data, _raw(other), rtol=rtol, atol=atol, equal_nan=equal_nan))

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return _no_grad_result(xp.isclose(self._data, _raw(other), rtol=rtol, atol=atol, equal_nan=equal_nan))

    def equal(self, other) -> bool:
        return self._data.shape == _raw(other).shape and bool(xp.array_equal(self._data, _raw(other)))

    def nonzero(self, as_tuple=False):
        idx = xp.nonzero(self._data)
        if as_tuple:
            return tuple(_no_grad_result(i) for i in idx)
        return _no_grad_result(xp.stack(idx, axis=1) if idx else xp.zeros((0, 0), xp.int64))

    def count_nonzero(self, dim=None):
        return _no_grad_result(xp.asarray(xp.count_nonzero(self._data, axis=normalize_dims(dim, self.ndim, "count_nonzero"))))

    # --- unary math ------------------------------------------------------------------------
    def exp(self):
        return E.Exp.apply(_floatify(self))

    def log(self):
        return E.Log.apply(_floatify(self))

    def log2(self):
        return E.Log2.apply(_floatify(self))

    def log1p(self):
        return E.Log1p.apply(_floatify(self))

    def expm1(self):
        return E.Expm1.apply(_floatify(self))

    def sqrt(self):
        return E.Sqrt.apply(_floatify(self))

    def rsqrt(self):
        return E.Rsqrt.apply(_floatify(self))

    def sin(self):
        return E.Sin.apply(_floatify(self))

    def cos(self):
        return E.Cos.apply(_floatify(self))

    def tan(self):
        return E.Tan.apply(_floatify(self))

    def tanh(self):
        return E.Tanh.apply(_floatify(self))

    def sigmoid(self):
        return E.Sigmoid.apply(_floatify(self))

    def relu(self):
        return E.Relu.apply(self)

    def sign(self):
        return E.ZeroGrad.apply(self, "sign")

    def floor(self):
        return E.ZeroGrad.apply(self, "floor")

    def ceil(self):
        return E.ZeroGrad.apply(self, "ceil")

    def round(self, decimals: int = 0):
        if decimals:
            scale = 10.0 ** decimals
            return (self * scale).round() / scale
        return E.ZeroGrad.apply(self, "round")

    def trunc(self):
        return E.ZeroGrad.apply(self, "trunc")

    def clamp(self, min=None, max=None):
        if min is None and max is None:
            raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
        if isinstance(min, hooks.Tensor) or isinstance(max, hooks.Tensor):
            out = self
            if min is not None:
                out = out.maximum(min if isinstance(min, hooks.Tensor) else hooks.Tensor._make(xp.asarray(min, self._data.dtype)))
            if max is not None:
                out = out.minimum(max if isinstance(max, hooks.Tensor) else hooks.Tensor._make(xp.asarray(max, self._data.dtype)))
            return out
        return E.Clamp.apply(self, min, max)

    clip = clamp

    def clamp_min(self, min):
        return self.clamp(min=min)

    def clamp_max(self, max):
        return self.clamp(max=max)

    def maximum(self, other):
        return binary(E.Maximum, self, as_tensor_like(other, self))

    def minimum(self, other):
        return binary(E.Minimum, self, as_tensor_like(other, self))

    def where(self, condition, other):
        return where(condition, self, other)

    def lerp(self, end, weight):
        return self + (end - self) * weight

    # --- reductions ------------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, dtype=None, axis=None):
        x = self.to(dtype) if dtype is not None else self
        if x._data.dtype.kind == "b":
            x = x.to(backend.int64.np)
        return R.Sum.apply(x, normalize_dims(dim if axis is None else axis, x.ndim, "sum"), keepdim)

    def mean(self, dim=None, keepdim=False, dtype=None, axis=None):
        x = self.to(dtype) if dtype is not None else self
        if x._data.dtype.kind != "f":
            raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a floating "
                               f"point or complex dtype. Got: {x.dtype.name.capitalize()}")
        return R.Mean.apply(x, normalize_dims(dim if axis is None else axis, x.ndim, "mean"), keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, correction=None):
        return R.Var.apply(_floatify(self), normalize_dims(dim, self.ndim, "var"),
                           _correction(unbiased, correction), keepdim)

    def std(self, dim=None, unbiased=None, keepdim=False, correction=None):
        return R.Std.apply(_floatify(self), normalize_dims(dim, self.ndim, "std"),
                           _correction(unbiased, correction), keepdim)

    def prod(self, dim=None, keepdim=False, dtype=None):
        x = self.to(dtype) if dtype is not None else self
        if dim is not None:
            dim = normalize_dim(dim, x.ndim, "prod")
            return R.Prod.apply(x, (dim,) if x.ndim else None, keepdim)
        return R.Prod.apply(x, None, False)

    def _extremum(self, dim, keepdim, largest: bool):
        name = "max" if largest else "min"
        if dim is None:
            cls = R.Amax if largest else R.Amin
            return cls.apply(self, None, False, "MaxBackward1" if largest else "MinBackward1")
        if isinstance(dim, hooks.Tensor):
            return self.maximum(dim) if largest else self.minimum(dim)
        d = normalize_dim(dim, self.ndim, name)
        if self.ndim == 0:
            return _ValuesIndices(self, _no_grad_result(xp.asarray(0)))
        values = R.MaxDim.apply(self, d, keepdim, largest)
        indices = (xp.argmax if largest else xp.argmin)(self._data, axis=d, keepdims=keepdim)
        return _ValuesIndices(values, _no_grad_result(indices))

    def max(self, dim=None, keepdim=False):
        return self._extremum(dim, keepdim, True)

    def min(self, dim=None, keepdim=False):
        return self._extremum(dim, keepdim, False)

    def amax(self, dim=(), keepdim=False):
        return R.Amax.apply(self, normalize_dims(dim, self.ndim, "amax"), keepdim, "AmaxBackward0")

    def amin(self, dim=(), keepdim=False):
        return R.Amin.apply(self, normalize_dims(dim, self.ndim, "amin"), keepdim, "AminBackward0")

    def argmax(self, dim=None, keepdim=False):
        if dim is None:
            return _no_grad_result(xp.asarray(xp.argmax(self._data)))
        d = normalize_dim(dim, self.ndim, "argmax")
        return _no_grad_result(xp.argmax(self._data, axis=d, keepdims=keepdim))

    def argmin(self, dim=None, keepdim=False):
        if dim is None:
            return _no_grad_result(xp.asarray(xp.argmin(self._data)))
        d = normalize_dim(dim, self.ndim, "argmin")
        return _no_grad_result(xp.argmin(self._data, axis=d, keepdims=keepdim))

    def logsumexp(self, dim, keepdim=False):
        return R.LogSumExp.apply(_floatify(self), normalize_dims(dim, self.ndim, "logsumexp"), keepdim)

    def norm(self, p="fro", dim=None, keepdim=False):
        if p == "fro" or p is None:
            p = 2
        p = float(p) if p not in (math.inf, -math.inf) else p
        return R.Norm.apply(_floatify(self), p, normalize_dims(dim, self.ndim, "norm"), keepdim)

    def cumsum(self, dim, dtype=None):
        x = self.to(dtype) if dtype is not None else self
        return R.Cumsum.apply(x, normalize_dim(dim, x.ndim, "cumsum"))

    def softmax(self, dim, dtype=None):
        x = _floatify(self.to(dtype) if dtype is not None else self)
        return R.Softmax.apply(x, normalize_dim(dim, x.ndim, "softmax"))

    def log_softmax(self, dim, dtype=None):
        x = _floatify(self.to(dtype) if dtype is not None else self)
        return R.LogSoftmax.apply(x, normalize_dim(dim, x.ndim, "log_softmax"))

    # --- linear algebra --------------------------------------------------------------------
    def matmul(self, other):
        other = as_tensor_like(other, self)
        a, b = promote(self, other) if self._data.dtype is not other._data.dtype else (self, other)
        if a.ndim == 1 and b.ndim == 1:
            name = "DotBackward0"
        elif a.ndim == 2 and b.ndim == 2:
            name = "MmBackward0"
        elif b.ndim == 1:
            name = "MvBackward0"
        else:
            name = "BmmBackward0"
        return L.MatMul.apply(a, b, name, "matmul")

    def _checked_matmul(self, other, op: str, ndims: tuple, name: str):
        if self.ndim != ndims[0] or other.ndim != ndims[1]:
            raise RuntimeError(f"{op}: expected {ndims[0]}-D and {ndims[1]}-D tensors, got shapes "
                               f"{tuple(self.shape)} and {tuple(other.shape)}")
        a, b = promote(self, other)
        return L.MatMul.apply(a, b, name, op)

    def mm(self, mat2):
        return self._checked_matmul(mat2, "mm", (2, 2), "MmBackward0")

    def bmm(self, mat2):
        if self.ndim == 3 and mat2.ndim == 3 and self.shape[0] != mat2.shape[0]:
            raise RuntimeError(f"bmm: batch sizes differ: {tuple(self.shape)} and {tuple(mat2.shape)}")
        return self._checked_matmul(mat2, "bmm", (3, 3), "BmmBackward0")

    def mv(self, vec):
        return self._checked_matmul(vec, "mv", (2, 1), "MvBackward0")

    def dot(self, other):
        return self._checked_matmul(other, "dot", (1, 1), "DotBackward0")

    inner = dot

    def outer(self, other):
        if self.ndim != 1 or other.ndim != 1:
            raise RuntimeError(f"outer: expected 1-D tensors, got shapes {tuple(self.shape)} and "
                               f"{tuple(other.shape)}")
        return self.unsqueeze(1) * other.unsqueeze(0)

    ger = outer

    # --- shape -----------------------------------------------------------------------------
    def reshape(self, *shape):
        shape = shape_arg(shape)
        if shape == self._data.shape:
            return self
        return S.Reshape.apply(self, shape)._view_of(self)

    def view(self, *shape):
        if len(shape) == 1 and not isinstance(shape[0], (numbers.Integral, tuple, list)):
            return self.to(shape[0])
        return S.Reshape.apply(self, shape_arg(shape))._view_of(self)

    def view_as(self, other):
        return self.view(other._data.shape)

    def reshape_as(self, other):
        return self.reshape(other._data.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        s = normalize_dim(start_dim, self.ndim, "flatten")
        e = normalize_dim(end_dim, self.ndim, "flatten")
        if s > e:
            raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
        shp = self._data.shape
        return self.reshape(shp[:s] + (math.prod(shp[s:e + 1]),) + shp[e + 1:])

    def unflatten(self, dim, sizes):
        d = normalize_dim(dim, self.ndim, "unflatten")
        sizes = list(sizes)
        if -1 in sizes:
            known = math.prod(s for s in sizes if s != -1)
            sizes[sizes.index(-1)] = self._data.shape[d] // max(known, 1)
        if math.prod(sizes) != self._data.shape[d]:
            raise RuntimeError(f"unflatten: sizes {tuple(sizes)} don't multiply up to the size of dim {dim} "
                               f"({self._data.shape[d]}) in the input of shape {tuple(self.shape)}")
        shp = self._data.shape
        return self.reshape(shp[:d] + tuple(sizes) + shp[d + 1:])

    def squeeze(self, dim=None):
        shp = self._data.shape
        if dim is None:
            new = tuple(n for n in shp if n != 1)
            name = "SqueezeBackward0"
        else:
            dims = normalize_dims(dim, self.ndim, "squeeze") or ()
            new = tuple(n for i, n in enumerate(shp) if not (i in dims and n == 1))
            name = "SqueezeBackward1"
        return S.Reshape.apply(self, new, name)._view_of(self)

    def unsqueeze(self, dim):
        d = normalize_dim(dim, self.ndim + 1, "unsqueeze")
        shp = self._data.shape
        return S.Reshape.apply(self, shp[:d] + (1,) + shp[d:], "UnsqueezeBackward0")._view_of(self)

    def permute(self, *dims):
        dims = shape_arg(dims) if dims else ()
        if len(dims) != self.ndim:
            raise RuntimeError(f"permute: number of dims in {dims} doesn't match the tensor's {self.ndim} "
                               f"dimensions (shape {tuple(self.shape)})")
        perm = tuple(normalize_dim(d, self.ndim, "permute") for d in dims)
        if len(set(perm)) != len(perm):
            raise RuntimeError(f"permute: repeated dim in {dims}")
        return S.Permute.apply(self, perm)._view_of(self)

    def transpose(self, dim0, dim1):
        if self.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
            return self
        a = normalize_dim(dim0, self.ndim, "transpose")
        b = normalize_dim(dim1, self.ndim, "transpose")
        perm = list(range(self.ndim))
        perm[a], perm[b] = perm[b], perm[a]
        return S.Permute.apply(self, tuple(perm), "TransposeBackward0")._view_of(self)

    swapaxes = swapdims = transpose

    def t(self):
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return S.Permute.apply(self, tuple(range(self.ndim))[::-1], "TBackward0")._view_of(self)

    def expand(self, *sizes):
        sizes = shape_arg(sizes)
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal "
                               f"to the number of dimensions in the tensor ({self.ndim})")
        if -1 in sizes[:lead]:
            raise RuntimeError(f"expand: the expanded size -1 isn't allowed in a leading, non-existing "
                               f"dimension (sizes {sizes} for a tensor of shape {tuple(self.shape)})")
        shape = tuple(self._data.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
        if shape == self._data.shape:
            return self
        return S.Expand.apply(self, shape)._view_of(self)

    def expand_as(self, other):
        return self.expand(other._data.shape)

    def broadcast_to(self, shape):
        return self.expand(shape_arg((shape,)))

    def repeat(self, *reps):
        reps = shape_arg(reps)
        if len(reps) < self.ndim:
            raise RuntimeError(f"repeat: number of repeat dims ({len(reps)}) can not be smaller than number "
                               f"of dimensions of tensor ({self.ndim})")
        return S.Repeat.apply(self, reps)

    def tile(self, *reps):
        reps = shape_arg(reps)
        return self.repeat((1,) * (self.ndim - len(reps)) + reps)

    def flip(self, *dims):
        dims = shape_arg(dims)
        return S.Flip.apply(self, tuple(normalize_dim(d, self.ndim, "flip") for d in dims))

    def fliplr(self):
        return self.flip(1)

    def flipud(self):
        return self.flip(0)

    def split(self, split_size_or_sections, dim=0):
        d = normalize_dim(dim, self.ndim, "split")
        n = self._data.shape[d]
        if isinstance(split_size_or_sections, numbers.Integral):
            step = int(split_size_or_sections)
            if step <= 0:
                raise RuntimeError(f"split: split_size must be positive, got {step}")
            sizes = [min(step, n - s) for s in range(0, n, step)] or [0]
        else:
            sizes = list(split_size_or_sections)
            if sum(sizes) != n:
                raise RuntimeError(f"split: sizes {sizes} sum to {sum(sizes)} but dim {dim} has size {n}")
        out, start = [], 0
        lead = (slice(None),) * d
        for s in sizes:
            part = I.Index.apply(self, lead + (slice(start, start + s),))
            if part.grad_fn is not None:
                part.grad_fn.backward_name = "SplitBackward0" if isinstance(split_size_or_sections, numbers.Integral) \
                    else "SplitWithSizesBackward0"
            out.append(part._view_of(self))
            start += s
        return tuple(out)

    def chunk(self, chunks: int, dim=0):
        d = normalize_dim(dim, self.ndim, "chunk")
        n = self._data.shape[d]
        return self.split(max(1, -(-n // chunks)), d)

    def unbind(self, dim=0):
        d = normalize_dim(dim, self.ndim, "unbind")
        lead = (slice(None),) * d
        parts = tuple(self[lead + (i,)] for i in range(self._data.shape[d]))
        for p in parts:
            if p.grad_fn is not None:
                p.grad_fn.backward_name = "UnbindBackward0"
        return parts

    def tril(self, diagonal=0):
        return S.Tri.apply(self, diagonal, True)

    def triu(self, diagonal=0):
        return S.Tri.apply(self, diagonal, False)

    # --- indexing --------------------------------------------------------------------------
    def __getitem__(self, index):
        index = _normalize_index(index)
        out = I.Index.apply(self, index)
        if I.is_basic(index):
            out._view_of(self)
        return out

    def __setitem__(self, index, value):
        index = _normalize_index(index)
        T = hooks.Tensor
        if state.enabled and (self.requires_grad or (isinstance(value, T) and value.requires_grad)):
            v = value if isinstance(value, T) else T._make(xp.asarray(value, self._data.dtype))
            self._inplace(lambda old: I.IndexPut.apply(old, index, v.to(old._data.dtype)), "setitem")
            return
        try:
            self._data[index] = _raw(value)
        except (ValueError, IndexError) as e:
            raise type(e)(f"setitem: cannot assign {getattr(_raw(value), 'shape', type(value).__name__)} to "
                          f"index {I._show(index)} of a tensor of shape {tuple(self.shape)}: {e}") from None
        _changed(self, "setitem")

    def gather(self, dim, index):
        d = normalize_dim(dim, self.ndim, "gather")
        idx = _raw(index)
        if idx.dtype.kind not in "iu":
            raise RuntimeError(f"gather: index must be an integer tensor, got {idx.dtype}")
        if idx.ndim != self.ndim:
            raise RuntimeError(f"gather: index ({idx.ndim}-D, shape {idx.shape}) must have the same number "
                               f"of dimensions as input ({self.ndim}-D, shape {tuple(self.shape)})")
        return I.Gather.apply(self, d, idx)

    def scatter(self, dim, index, src=None, value=None):
        d = normalize_dim(dim, self.ndim, "scatter")
        src = value if src is None else src
        if isinstance(src, hooks.Tensor) and src._data.dtype != self._data.dtype:
            src = src.to(self._data.dtype)
        return I.Scatter.apply(self, d, _raw(index), src)

    def scatter_add(self, dim, index, src):
        d = normalize_dim(dim, self.ndim, "scatter_add")
        return self + I.ScatterAdd.apply(src, self._data.shape, d, _raw(index))

    def index_select(self, dim, index):
        d = normalize_dim(dim, self.ndim, "index_select")
        idx = _raw(index)
        if idx.ndim > 1:
            raise IndexError(f"index_select: index must be 0-D or 1-D, got shape {idx.shape}")
        out = I.Index.apply(self, (slice(None),) * d + (idx.reshape(-1),))
        if out.grad_fn is not None:
            out.grad_fn.backward_name = "IndexSelectBackward0"
        return out

    def masked_fill(self, mask, value):
        m = _raw(mask)
        if m.dtype != bool:
            raise RuntimeError(f"masked_fill: expected a boolean mask, got {m.dtype}")
        if isinstance(value, hooks.Tensor):
            if value.requires_grad:
                return E.Where.apply(m, value.to(self._data.dtype), self)
            value = value.item()
        return I.MaskedFill.apply(self, m, value)

    # --- in-place ops ----------------------------------------------------------------------
    def _inplace(self, compute, op: str):
        """Run ``compute`` out of place and write the result into self's memory.

        Untracked (no grad involved) this costs one ufunc with ``out=``. When the graph must
        record it, the op is applied to a copy holding the old values (so anything it saves stays
        intact), the result is written into self's memory, and self's history is rebased onto the
        new node — PyTorch's behaviour, with the version counter catching stale saved tensors.
        """
        T = hooks.Tensor
        if state.observed:
            notify_inplace(self, op)
        if self.grad_fn is None and self.requires_grad and state.enabled:
            raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an in-place "
                               f"operation. Wrap the update in `with chainrule.no_grad():` (as for "
                               f"`w -= lr * w.grad`), or use the out-of-place form.")
        if self._base is not None and state.enabled and (self._base.requires_grad or self.requires_grad):
            raise RuntimeError(f"{op}: in-place modification of a view of a tensor that requires grad is "
                               f"not supported by chainrule; use the out-of-place form (or clone() first)")
        old = T._make(self._data.copy(), self.grad_fn, self._output_nr) if self.grad_fn is not None \
            else T._make(self._data.copy())
        new = compute(old)
        if new._data.dtype != self._data.dtype and not xp.can_cast(new._data.dtype, self._data.dtype, "same_kind"):
            raise RuntimeError(f"{op}: result type {new.dtype.name} can't be cast to the desired output type "
                               f"{self.dtype.name}")
        self._data[...] = new._data
        self.grad_fn, self._output_nr = new.grad_fn, new._output_nr
        self.requires_grad = new.requires_grad
        self._version_box[0] += 1
        return self

    def _inplace_binary(self, op, other, name: str, ufunc):
        T = hooks.Tensor
        if not state.enabled or not (self.requires_grad or (isinstance(other, T) and other.requires_grad)):
            try:
                ufunc(self._data, _raw(other), out=self._data, casting="same_kind")
            except (TypeError, ValueError) as e:
                b = _raw(other)
                raise RuntimeError(f"{name}: cannot update a {self.dtype.name} tensor of shape "
                                   f"{tuple(self.shape)} in place with {getattr(b, 'dtype', type(b).__name__)} "
                                   f"of shape {getattr(b, 'shape', ())}: {e}") from None
            return _changed(self, name)
        # x.mul_(x): the right operand is the old value too, not the memory being overwritten
        return self._inplace(lambda old: op(old, old if other is self else other), name)

    def add_(self, other, alpha=1):
        other = other * alpha if alpha != 1 else other
        return self._inplace_binary(TensorOps.__add__, other, "add_", xp.add)

    def sub_(self, other, alpha=1):
        other = other * alpha if alpha != 1 else other
        return self._inplace_binary(TensorOps.__sub__, other, "sub_", xp.subtract)

    def mul_(self, other):
        return self._inplace_binary(TensorOps.__mul__, other, "mul_", xp.multiply)

    def div_(self, other):
        return self._inplace_binary(TensorOps.__truediv__, other, "div_", xp.true_divide)

    def pow_(self, exponent):
        return self._inplace_binary(TensorOps.__pow__, exponent, "pow_", xp.power)

    __iadd__, __isub__, __imul__, __itruediv__ = add_, sub_, mul_, div_

    def _inplace_unary(self, method, name: str):
        if not state.enabled or not self.requires_grad:
            self._data[...] = _raw(method(hooks.Tensor._make(self._data)))
            return _changed(self, name)
        return self._inplace(method, name)

    def zero_(self):
        return self._fill(0, "zero_")

    def fill_(self, value):
        return self._fill(value, "fill_")

    def _fill(self, value, name: str):
        if state.enabled and self.requires_grad:
            return self._inplace(lambda old: old * 0 + value, name)
        self._data[...] = _raw(value)
        return _changed(self, name)

    def copy_(self, src):
        T = hooks.Tensor
        if state.enabled and (self.requires_grad or (isinstance(src, T) and src.requires_grad)):
            return self._inplace(lambda old: (old * 0 + src).to(old._data.dtype), "copy_")
        try:
            self._data[...] = _raw(src)
        except ValueError:
            raise RuntimeError(f"copy_: source of shape {tuple(getattr(_raw(src), 'shape', ()))} cannot be "
                               f"broadcast to the destination's shape {tuple(self.shape)}") from None
        return _changed(self, "copy_")

    def clamp_(self, min=None, max=None):
        return self._inplace_unary(lambda t: t.clamp(min, max), "clamp_")

    clip_ = clamp_

    def neg_(self):
        return self._inplace_unary(TensorOps.neg, "neg_")

    def exp_(self):
        return self._inplace_unary(TensorOps.exp, "exp_")

    def relu_(self):
        return self._inplace_unary(TensorOps.relu, "relu_")

    def sigmoid_(self):
        return self._inplace_unary(TensorOps.sigmoid, "sigmoid_")

    def tanh_(self):
        return self._inplace_unary(TensorOps.tanh, "tanh_")

    def sqrt_(self):
        return self._inplace_unary(TensorOps.sqrt, "sqrt_")

    def abs_(self):
        return self._inplace_unary(TensorOps.abs, "abs_")

    def masked_fill_(self, mask, value):
        return self._inplace_unary(lambda t: t.masked_fill(mask, value), "masked_fill_")

    def addcmul_(self, t1, t2, value=1):
        return self.add_(t1 * t2 * value)

    def addcdiv_(self, t1, t2, value=1):
        return self.add_(t1 / t2 * value)

    def lerp_(self, end, weight):
        return self.add_((end - self) * weight)

    def uniform_(self, a=0.0, b=1.0, generator=None):
        return self._fill_random(lambda rng, shape: rng.uniform(a, b, shape), generator, "uniform_")

    def normal_(self, mean=0.0, std=1.0, generator=None):
        return self._fill_random(lambda rng, shape: rng.normal(mean, std, shape), generator, "normal_")

    def bernoulli_(self, p=0.5, generator=None):
        return self._fill_random(lambda rng, shape: rng.random(shape) < p, generator, "bernoulli_")

    def _fill_random(self, draw, generator, name: str):
        if state.enabled and self.requires_grad and self.grad_fn is None:
            raise RuntimeError(f"{name}: a leaf Variable that requires grad is being used in an in-place "
                               f"operation; wrap it in `with chainrule.no_grad():`")
        rng = (generator or backend.default_generator).rng
        self._data[...] = draw(rng, self._data.shape)
        return _changed(self, name)


def where(condition, input, other):
    """``input`` where ``condition`` holds, else ``other`` (either may be a Python scalar)."""
    T = hooks.Tensor
    cond = _raw(condition)
    if cond.dtype != bool:
        raise RuntimeError(f"where: expected condition to be a boolean tensor, got {cond.dtype}")
    if isinstance(input, T) and isinstance(other, T) and input._data.dtype is not other._data.dtype:
        input, other = promote(input, other)
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
    T = hooks.Tensor
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    for i in index:
        if isinstance(i, T):
            i = i._data
            if i.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
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


class _ValuesIndices(tuple):
    """The (values, indices) pair returned by ``max(dim)``/``min(dim)``, like PyTorch's named tuple."""

    def __new__(cls, values, indices):
        return super().__new__(cls, (values, indices))

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]

"""Tensor's arithmetic, comparison and elementwise math methods (a mixin of ``Tensor``).

One line per op where possible: each method normalises PyTorch-style arguments and calls an op.
"""

from __future__ import annotations

from ..backend import xp
from ..ops import arithmetic as A
from ..ops import elementwise as E
from ..ops import unary as U
from . import core
from .args import (
    _Add,
    _floatify,
    _Mul,
    _no_grad_result,
    _raw,
    _Scalar,
    _Sub,
    as_tensor_like,
    binary,
    normalize_dims,
    where,
)


class MathMethods:
    """Arithmetic, comparisons and elementwise math of ``Tensor``."""

    __slots__ = ()


    # --- arithmetic ------------------------------------------------------------------------
    # The four hottest operators first try the common case (same-class tensor of the same dtype,
    # or a Python float with a float tensor) before the general promotion in ``binary``.
    def __add__(self, other):
        if (other.__class__ is self.__class__ and other._data.dtype is self._data.dtype) or \
                (other.__class__ is float and self._data.dtype.kind == "f"):
            return _Add(self, other)
        return binary(A.Add, self, other)

    __radd__ = __add__

    def __sub__(self, other):
        if (other.__class__ is self.__class__ and other._data.dtype is self._data.dtype) or \
                (other.__class__ is float and self._data.dtype.kind == "f"):
            return _Sub(self, other)
        return binary(A.Sub, self, other)

    def __rsub__(self, other):
        if isinstance(other, _Scalar):
            return A.RSub.apply(self, other)
        return binary(A.Sub, as_tensor_like(other, self), self)

    def __mul__(self, other):
        if (other.__class__ is self.__class__ and other._data.dtype is self._data.dtype) or \
                (other.__class__ is float and self._data.dtype.kind == "f"):
            return _Mul(self, other)
        return binary(A.Mul, self, other)

    __rmul__ = __mul__

    def __truediv__(self, other):
        if self._data.dtype.kind != "f" and (not isinstance(other, (core.Tensor, float))
                                              or (isinstance(other, core.Tensor)
                                                  and other._data.dtype.kind != "f")):
            return binary(A.Div, _floatify(self), other)
        return binary(A.Div, self, other)

    def __rtruediv__(self, other):
        if isinstance(other, _Scalar):
            return A.RDiv.apply(_floatify(self), other)
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
                return A.Pow.apply(_floatify(self), exponent)
            return A.Pow.apply(self, exponent)
        return binary(A.PowTensor, self, exponent)

    def __rpow__(self, base):
        if isinstance(base, _Scalar):
            return A.RPow.apply(_floatify(self) if isinstance(base, float) else self, base)
        return binary(A.PowTensor, as_tensor_like(base, self), self)

    def __matmul__(self, other):
        return self.matmul(other)

    def __rmatmul__(self, other):
        return as_tensor_like(other, self).matmul(self)

    def __neg__(self):
        return A.Neg.apply(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return U.Abs.apply(self)

    def add(self, other, alpha=1):
        if alpha != 1:
            return binary(A.Add, self, other * alpha)
        return binary(A.Add, self, other)

    def sub(self, other, alpha=1):
        if alpha != 1:
            return binary(A.Sub, self, other * alpha)
        return binary(A.Sub, self, other)

    subtract = sub

    def mul(self, other):
        return binary(A.Mul, self, other)

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
        return A.Neg.apply(self)

    negative = neg

    def abs(self):
        return U.Abs.apply(self)

    absolute = abs

    def reciprocal(self):
        return A.RDiv.apply(_floatify(self), 1.0)

    def square(self):
        return A.Pow.apply(self, 2)

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
        return U.Exp.apply(_floatify(self))

    def log(self):
        return U.Log.apply(_floatify(self))

    def log2(self):
        return U.Log2.apply(_floatify(self))

    def log1p(self):
        return U.Log1p.apply(_floatify(self))

    def expm1(self):
        return U.Expm1.apply(_floatify(self))

    def sqrt(self):
        return U.Sqrt.apply(_floatify(self))

    def rsqrt(self):
        return U.Rsqrt.apply(_floatify(self))

    def sin(self):
        return U.Sin.apply(_floatify(self))

    def cos(self):
        return U.Cos.apply(_floatify(self))

    def tan(self):
        return U.Tan.apply(_floatify(self))

    def tanh(self):
        return U.Tanh.apply(_floatify(self))

    def sigmoid(self):
        return U.Sigmoid.apply(_floatify(self))

    def relu(self):
        return U.Relu.apply(self)

    def sign(self):
        return U.Sign.apply(self)

    def floor(self):
        return U.Floor.apply(self)

    def ceil(self):
        return U.Ceil.apply(self)

    def round(self, decimals: int = 0):
        if decimals:
            scale = 10.0 ** decimals
            return (self * scale).round() / scale
        return U.Round.apply(self)

    def trunc(self):
        return U.Trunc.apply(self)

    def clamp(self, min=None, max=None):
        if min is None and max is None:
            raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
        if isinstance(min, core.Tensor) or isinstance(max, core.Tensor):
            out = self
            if min is not None:
                out = out.maximum(min if isinstance(min, core.Tensor) else core.Tensor._make(xp.asarray(min, self._data.dtype)))
            if max is not None:
                out = out.minimum(max if isinstance(max, core.Tensor) else core.Tensor._make(xp.asarray(max, self._data.dtype)))
            return out
        return U.Clamp.apply(self, min, max)

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

"""Tensor's arithmetic, comparison and elementwise math methods (a mixin of ``Tensor``).

One line per op where possible: each method normalises PyTorch-style arguments and calls an op.
"""

from __future__ import annotations

from ..backend import xp
from ..ops import arithmetic as A
from ..ops import elementwise as E
from ..ops import unary as U
from ..ops.elementwise_extra import _divide_check
from . import core
from .args import (
    _Add,
    _floatify,
    _Mul,
    _no_grad_result,
    _Scalar,
    _scalar_promoted,
    _Sub,
    as_tensor_like,
    binary,
    py_scalar,
    require_kind,
    where,
)
from .arithmetic_args import clamp_tensor, division_operands, lerp_operands
from .scalars import F32_MAX, float_value_fits, int_operand, int_power, operand


class MathMethods:
    """Arithmetic, comparisons and elementwise math of ``Tensor``."""

    __slots__ = ()


    # --- arithmetic ------------------------------------------------------------------------
    # The four hottest operators first try the common case (same-class tensor of the same dtype,
    # or a Python float with a float tensor) before the general promotion in ``binary``.
    def __add__(self, other):
        if (other.__class__ is self.__class__ and other._data.dtype is self._data.dtype) or \
                (other.__class__ is float and self._data.dtype.kind == "f" and -F32_MAX <= other <= F32_MAX):
            return _Add(self, other)
        return binary(A.Add, self, other)

    __radd__ = __add__

    def __sub__(self, other):
        if (other.__class__ is self.__class__ and other._data.dtype is self._data.dtype
                and self._data.dtype.kind != "b") or (other.__class__ is float and self._data.dtype.kind == "f"
                                                      and -F32_MAX <= other <= F32_MAX):
            return _Sub(self, other)
        _no_bool_subtraction(self, other)
        return binary(A.Sub, self, other)

    def __rsub__(self, other):
        other = py_scalar(other)
        _no_bool_subtraction(self, other)
        if isinstance(other, _Scalar):
            if other.__class__ is int and self._data.dtype.kind in "biu":   # low bits, as PyTorch reads it
                other = int_operand(other, self._data.dtype, "rsub")
            x = _scalar_promoted(self, other)
            return A.RSub.apply(x, operand(other, x, "rsub"))
        return binary(A.Sub, as_tensor_like(other, self), self)

    def __mul__(self, other):
        if (other.__class__ is self.__class__ and other._data.dtype is self._data.dtype) or \
                (other.__class__ is float and self._data.dtype.kind == "f" and -F32_MAX <= other <= F32_MAX):
            return _Mul(self, other)
        return binary(A.Mul, self, other)

    __rmul__ = __mul__

    def __truediv__(self, other):
        other = py_scalar(other)
        if self._data.dtype.kind != "f" and (not isinstance(other, (core.Tensor, float))
                                              or (isinstance(other, core.Tensor)
                                                  and other._data.dtype.kind != "f")):
            return binary(A.Div, _floatify(self), other)
        return binary(A.Div, self, other)

    def __rtruediv__(self, other):
        other = py_scalar(other)
        if isinstance(other, _Scalar):      # c / x is c * reciprocal(x), as PyTorch records it
            return A.Reciprocal.apply(_floatify(self)) * other
        return as_tensor_like(other, self).__truediv__(self)

    def __floordiv__(self, other):
        x, other = division_operands(self, py_scalar(other), "floor_divide")
        _divide_check("floor_divide", x._data, other)
        with xp.errstate(divide="ignore", invalid="ignore"):   # floats: ±inf/nan, as PyTorch, silently
            return _no_grad_result(xp.floor_divide(x._data, other))

    def __rfloordiv__(self, other):
        other = py_scalar(other)
        x = _scalar_promoted(self, other) if isinstance(other, _Scalar) else self   # 3.5 // int_tensor: float32
        other = operand(other, x, "floor_divide")
        _divide_check("floor_divide", xp.asarray(other), x._data)
        with xp.errstate(divide="ignore", invalid="ignore"):
            return _no_grad_result(xp.floor_divide(other, x._data))

    def __pow__(self, exponent):
        exponent = py_scalar(exponent)
        if isinstance(exponent, _Scalar):
            if self._data.dtype.kind in "biu" and (isinstance(exponent, float) or exponent < 0):
                if not isinstance(exponent, float):
                    raise RuntimeError(f"pow: Integers to negative integer powers are not allowed ({self.dtype} "
                                       f"tensor ** {exponent}); use a float, e.g. x.float() ** {exponent}")
                x = _floatify(self)
                return A.Pow.apply(x, operand(exponent, x, "pow"))
            if self._data.dtype.kind == "b":   # True ** 2 is int64 1 in PyTorch (NumPy would make int8)
                return A.Pow.apply(self.long(), operand(exponent, self, "pow"))
            if exponent.__class__ is int and self._data.dtype.kind in "iu":
                int_power(exponent, self, "pow")
            return A.Pow.apply(self, operand(exponent, self, "pow"))
        return binary(A.PowTensor, self, exponent)

    def __rpow__(self, base):
        base = py_scalar(base)
        if isinstance(base, _Scalar):
            if isinstance(base, float):
                x = _floatify(self)
                return A.RPow.apply(x, operand(base, x, "pow"))
            return A.RPow.apply(self, operand(base, self, "pow"))
        return binary(A.PowTensor, as_tensor_like(base, self), self)

    def __matmul__(self, other):
        return self.matmul(other)

    def __rmatmul__(self, other):
        return as_tensor_like(other, self).matmul(self)

    def __neg__(self):
        if self._data.dtype.kind == "b":   # (the kind tested here: a call would cost the float path more)
            _no_bool_negation(self)
        return A.Neg.apply(self)

    def __pos__(self):
        return self

    def __abs__(self):
        if self._data.dtype.kind == "b":
            require_kind(self, "abs", "fiu")
        return U.Abs.apply(self)

    def add(self, other, alpha=1):
        """self + alpha·other, elementwise with broadcasting and PyTorch's type promotion (the ``+``
        operator).

        Gradient: the upstream gradient to self, alpha times it to other (each summed back to its shape).

        >>> import chainrule as cr
        >>> cr.tensor([1.0, 2.0]).add(cr.tensor([10.0, 20.0]), alpha=2)
        tensor([21., 42.])
        """
        if alpha != 1:
            return binary(A.Add, self, other * alpha)
        return binary(A.Add, self, other)

    def sub(self, other, alpha=1):
        """self − alpha·other, elementwise with broadcasting (the ``-`` operator; ``subtract`` is an alias).

        Bool tensors are refused, as in PyTorch: invert a mask with ``~``.

        >>> import chainrule as cr
        >>> cr.tensor([5, 7]).sub(1)
        tensor([4, 6])
        """
        _no_bool_subtraction(self, py_scalar(other))
        if alpha != 1:
            return binary(A.Sub, self, other * alpha)
        return binary(A.Sub, self, other)

    subtract = sub

    def mul(self, other):
        """self · other, elementwise with broadcasting (the ``*`` operator; ``multiply`` is an alias).

        Gradient: ∂/∂self = other, ∂/∂other = self. An integer tensor times a float becomes float32.

        >>> import chainrule as cr
        >>> cr.tensor([1, 2]).mul(2.5)
        tensor([2.5000, 5.0000])
        """
        return binary(A.Mul, self, other)

    multiply = mul

    def div(self, other, rounding_mode=None):
        """self / other, elementwise (the ``/`` operator; ``divide`` and ``true_divide`` are aliases).

        True division, so integers give floats; ``rounding_mode="floor"`` or ``"trunc"`` rounds the quotient
        (keeping an integer dtype, with no gradient).

        >>> import chainrule as cr
        >>> cr.tensor([-7, 7]).div(2)
        tensor([-3.5000,  3.5000])
        >>> cr.tensor([-7, 7]).div(2, rounding_mode="floor")
        tensor([-4,  3])
        """
        if rounding_mode == "floor":
            return self.__floordiv__(other)
        if rounding_mode == "trunc":
            x, other = division_operands(self, py_scalar(other), "div")
            _divide_check("div", x._data, other)
            a = x._data
            if a.dtype.kind == "f":
                with xp.errstate(divide="ignore", invalid="ignore"):   # ±inf/nan, as PyTorch, silently
                    return _no_grad_result(xp.trunc(a / other).astype(a.dtype, copy=False))
            # integers exactly (a float64 quotient would round beyond 2**53): floor, then one step towards 0
            q = xp.floor_divide(a, other)
            return _no_grad_result(q + ((xp.remainder(a, other) != 0) & (q < 0)).astype(q.dtype))
        return self.__truediv__(other)

    divide = true_divide = div

    def pow(self, exponent):
        """self ** exponent, elementwise (the ``**`` operator); the exponent may be a number or a tensor.

        Gradient: exponent·self^(exponent−1), and self^exponent·ln(self) for a tensor exponent.

        >>> import chainrule as cr
        >>> cr.tensor([1.0, 2.0, 3.0]).pow(2)
        tensor([1., 4., 9.])
        """
        return self.__pow__(exponent)

    def neg(self):
        """−self, elementwise (the unary ``-`` operator; ``negative`` is an alias). Bool tensors are refused, as in
        PyTorch: invert a mask with ``~``."""
        if self._data.dtype.kind == "b":
            _no_bool_negation(self)
        return A.Neg.apply(self)

    negative = neg

    def abs(self):
        """|x|, elementwise (``absolute`` is an alias). Gradient: sign(x), which is 0 at x = 0.

        >>> import chainrule as cr
        >>> cr.tensor([-1.5, 0.0, 2.0]).abs()
        tensor([1.5000, 0.0000, 2.0000])
        """
        if self._data.dtype.kind == "b":   # PyTorch has no bool kernel: NotImplementedError
            require_kind(self, "abs", "fiu")
        return U.Abs.apply(self)

    absolute = abs

    def reciprocal(self):
        """1/x, elementwise (integers become the default float type). Gradient: −1/x²."""
        return A.Reciprocal.apply(_floatify(self))

    def square(self):
        """x², elementwise (a bool tensor squares as int64, as in PyTorch). Gradient: 2x."""
        return A.Pow.apply(self if self._data.dtype.kind != "b" else self.long(), 2)

    # --- unary math ------------------------------------------------------------------------
    def exp(self):
        """eˣ, elementwise (integers become the default float type). Gradient: eˣ again, read from the output.

        >>> import chainrule as cr
        >>> cr.tensor([0.0, 1.0]).exp()
        tensor([1.0000, 2.7183])
        """
        return U.Exp.apply(_floatify(self))

    def log(self):
        """The natural logarithm ln x, elementwise (−inf at 0, NaN below). Gradient: 1/x."""
        return U.Log.apply(_floatify(self))

    def log2(self):
        """The base-2 logarithm, elementwise. Gradient: 1/(x·ln 2)."""
        return U.Log2.apply(_floatify(self))

    def log1p(self):
        """ln(1 + x), accurate even for tiny x, where 1 + x rounds to 1. Gradient: 1/(1 + x).

        >>> import chainrule as cr
        >>> cr.tensor([1e-10]).log1p()
        tensor([1.0000e-10])
        """
        return U.Log1p.apply(_floatify(self))

    def expm1(self):
        """eˣ − 1, accurate even for tiny x, where eˣ rounds to 1. Gradient: eˣ."""
        return U.Expm1.apply(_floatify(self))

    def sqrt(self):
        """√x, elementwise (NaN for negative x). Gradient: 1/(2√x), infinite at 0."""
        return U.Sqrt.apply(_floatify(self))

    def rsqrt(self):
        """1/√x, elementwise. Gradient: −1/(2x√x)."""
        return U.Rsqrt.apply(_floatify(self))

    def sin(self):
        """sin x, elementwise (x in radians). Gradient: cos x."""
        return U.Sin.apply(_floatify(self))

    def cos(self):
        """cos x, elementwise (x in radians). Gradient: −sin x."""
        return U.Cos.apply(_floatify(self))

    def tan(self):
        """tan x, elementwise (x in radians). Gradient: 1 + tan²x."""
        return U.Tan.apply(_floatify(self))

    def tanh(self):
        """tanh x = (eˣ − e⁻ˣ)/(eˣ + e⁻ˣ), elementwise. Gradient: 1 − tanh²x, read from the output.

        >>> import chainrule as cr
        >>> cr.tensor([0.0, 1.0]).tanh()
        tensor([0.0000, 0.7616])
        """
        return U.Tanh.apply(_floatify(self))

    def sigmoid(self):
        """σ(x) = 1/(1 + e⁻ˣ), elementwise. Gradient: σ(x)(1 − σ(x)), read from the output.

        >>> import chainrule as cr
        >>> cr.tensor([0.0, 2.0]).sigmoid()
        tensor([0.5000, 0.8808])
        """
        return U.Sigmoid.apply(_floatify(self))

    def relu(self):
        """max(x, 0), elementwise. Gradient: 1 where x > 0, else 0 (0 at x = 0 too, as in PyTorch).

        >>> import chainrule as cr
        >>> cr.tensor([-1.0, 0.0, 2.0]).relu()
        tensor([0., 0., 2.])
        """
        if self._data.dtype.kind == "b":   # PyTorch: RuntimeError
            require_kind(self, "relu", "fiu", RuntimeError)
        return U.Relu.apply(self)

    def sign(self):
        """−1, 0 or +1 by the sign of each element (same dtype; a bool is its own sign). Gradient: 0 everywhere."""
        return U.Sign.apply(self)

    def floor(self):
        """The largest integer <= x, elementwise (integer tensors are returned unchanged; bool tensors are
        refused, as in PyTorch). Gradient: 0."""
        require_kind(self, "floor", "fiu")
        return U.Floor.apply(self)

    def ceil(self):
        """The smallest integer >= x, elementwise (integers unchanged, bool refused). Gradient: 0."""
        require_kind(self, "ceil", "fiu")
        return U.Ceil.apply(self)

    def round(self, decimals: int | None = None):
        """Round to the nearest integer, halves to even as in PyTorch (0.5 → 0, 2.5 → 2), or to ``decimals``
        places (floating point only, as PyTorch's, even ``decimals=0``). Gradient: 0.

        >>> import chainrule as cr
        >>> cr.tensor([0.5, 1.5, 2.5]).round()
        tensor([0., 2., 2.])
        """
        require_kind(self, "round", "fiu" if decimals is None else "f")   # PyTorch has no bool kernel
        if decimals:
            scale = 10.0 ** decimals
            return (self * scale).round() / scale
        return U.Round.apply(self)

    def trunc(self):
        """Drop the fractional part (round towards zero), elementwise (integers unchanged, bool refused).
        Gradient: 0."""
        require_kind(self, "trunc", "fiu")
        return U.Trunc.apply(self)

    def clamp(self, min=None, max=None):
        """Limit each element to [min, max]; either bound may be None, and a tensor bound applies elementwise.

        ``clip`` is an alias. Gradient: 1 where min <= x <= max, 0 where the value was clipped.

        >>> import chainrule as cr
        >>> cr.tensor([-2.0, 0.5, 3.0]).clamp(min=0.0, max=1.0)
        tensor([0.0000, 0.5000, 1.0000])
        """
        return clamp_tensor(self, min, max, "clamp")

    def clip(self, min=None, max=None):
        """``clamp(min, max)``: limit each element to [min, max]."""
        return clamp_tensor(self, min, max, "clip")

    def clamp_min(self, min):
        """``clamp(min=min)``: max(x, min), elementwise."""
        return clamp_tensor(self, min, None, "clamp_min")

    def clamp_max(self, max):
        """``clamp(max=max)``: min(x, max), elementwise."""
        return clamp_tensor(self, None, max, "clamp_max")

    def maximum(self, other):
        """The elementwise larger of self and other (broadcast); NaN wins. Gradient: to the larger input,
        split in half on ties.

        >>> import chainrule as cr
        >>> cr.tensor([1.0, 4.0]).maximum(cr.tensor([3.0, 2.0]))
        tensor([3., 4.])
        """
        return binary(E.Maximum, self, as_tensor_like(other, self))

    def minimum(self, other):
        """The elementwise smaller of self and other (broadcast); NaN wins. Gradient as for ``maximum``."""
        return binary(E.Minimum, self, as_tensor_like(other, self))

    def where(self, condition, other):
        """self where ``condition`` is True, ``other`` elsewhere: ``chainrule.where(condition, self, other)``.

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0, -2.0, 3.0])
        >>> x.where(x > 0, 0.0)
        tensor([1., 0., 3.])
        """
        return where(condition, self, other)

    def lerp(self, end, weight):
        """Linear interpolation self + weight·(end − self): weight 0 gives self, 1 gives end.

        >>> import chainrule as cr
        >>> cr.tensor([0.0, 10.0]).lerp(cr.tensor([10.0, 20.0]), 0.25)
        tensor([ 2.5000, 12.5000])
        """
        if self._data.dtype.kind != "f":
            raise NotImplementedError(f"lerp: not implemented for {self.dtype} tensors (PyTorch's "
                                      f"\"lerp_kernel_scalar\" not implemented); convert first: x.float().lerp(...)")
        if weight.__class__ is float and not -F32_MAX <= weight <= F32_MAX:
            float_value_fits(weight, self._data.dtype, "lerp")
        lerp_operands(self, end, weight, "lerp")
        return self + (end - self) * weight


def _no_bool_negation(x) -> None:
    """PyTorch refuses ``-`` on a bool tensor (RuntimeError): a mask is inverted with ``~``."""
    require_kind(x, "neg", "fiu", RuntimeError, "to invert a mask (the `-` operator) use `~` or logical_not()")


def _no_bool_subtraction(a, b) -> None:
    """PyTorch refuses ``-`` when either side is a bool tensor or bool: a mask is inverted with ``~``."""
    if a._data.dtype.kind == "b" or isinstance(b, bool) or (isinstance(b, core.Tensor) and b._data.dtype.kind == "b"):
        raise RuntimeError(f"sub: subtraction, the `-` operator, with a bool tensor is not supported (got "
                           f"{a.dtype.name} and {b.dtype.name if isinstance(b, core.Tensor) else type(b).__name__});"
                           f" to invert a mask use `~` or logical_not()")

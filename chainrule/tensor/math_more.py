"""Tensor's math of two or three tensors with special points (a mixin of ``Tensor``): logaddexp, hypot,
copysign, xlogy, heaviside, addcmul/addcdiv, logit, nansum and dist, with the in-place forms PyTorch has.

logaddexp, hypot, copysign, xlogy, logit and heaviside are ops (``chainrule.ops.binary_math``); addcmul,
addcdiv, nansum and dist are compositions of existing ops whose gradients are PyTorch's, special points
included. Dtypes follow PyTorch: copysign, xlogy and logit turn integer results into the default float
type; logaddexp and hypot refuse them, as PyTorch does.
"""

from __future__ import annotations

import math

from .. import backend
from ..backend import xp
from ..ops import binary_math as BM
from ..ops.elementwise import broadcast_shape
from . import core
from .args import _floatify, _scalar_promoted, dtype_arg, promote, py_scalar, where
from .scalars import float_value_fits, int_value, operand

_KIND = {"b": "Bool", "u": "Byte", "i": "Long", "f": "Float"}


def _tensor_arg(value, op: str, name: str, pos: int) -> None:
    if not isinstance(value, core.Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position {pos}) must be Tensor, not {type(value).__name__}")


def _number(value) -> bool:
    return isinstance(value, bool | int | float)


def _floats_only(t, op: str, other=None) -> None:
    """logaddexp and hypot have no integer kernel in PyTorch (NotImplementedError, not a promotion)."""
    if t._data.dtype.kind != "f":
        of = f" (promoted from {other})" if other else ""
        raise NotImplementedError(f'{op}: not implemented for {t.dtype.name} tensors{of} ("{op}_cpu" not '
                                  f"implemented for '{_KIND.get(t._data.dtype.kind, t.dtype.name)}'); convert "
                                  f"to a floating-point dtype first, e.g. x.float()")


def _pair(a, b, op: str, floats: bool):
    """``a`` and ``b`` (Tensors) in PyTorch's result dtype; an integer result becomes the default float when
    ``floats`` (copysign, xlogy), and is refused otherwise (logaddexp, hypot)."""
    a, b = promote(a, b)
    if floats:
        return _floatify(a), _floatify(b)
    _floats_only(a, op, f"{a.dtype.name} and {b.dtype.name}" if a.dtype is not b.dtype else "")
    return a, b


def _with_number(t, c, op: str):
    """``t`` in PyTorch's result dtype for ``t op c`` (a float result: copysign, xlogy) and the Python number
    ``c`` as a 0-d array of it (a float beyond float32's range is ±inf there, as in PyTorch)."""
    t = _floatify(_scalar_promoted(t, c))
    raw = operand(c, t, op)
    with xp.errstate(over="ignore"):
        return t, xp.asarray(raw, t._data.dtype)


def _tensor_or_number(other, op: str, pos: int):
    other = py_scalar(other)
    if isinstance(other, core.Tensor) or _number(other):
        return other
    raise TypeError(f"{op}(): argument 'other' (position {pos}) must be Tensor or Number, not {type(other).__name__}")


def xlogy(input, other):
    """``chainrule.xlogy(x, y)``: x·log(y), 0 where x = 0 (unless y is NaN). Either argument may be a Python
    number, but not both.

    >>> import chainrule as cr
    >>> cr.xlogy(0, cr.tensor([0.0, 2.0, float("nan")]))
    tensor([0., 0., nan])
    """
    if isinstance(input, core.Tensor):
        return input.xlogy(other)
    input = py_scalar(input)
    if not _number(input) or not isinstance(other, core.Tensor):
        raise TypeError(f"xlogy(): expected (Tensor input, Tensor other), (Number self, Tensor other) or (Tensor "
                        f"input, Number other), got ({type(input).__name__}, {type(other).__name__})")
    y, x = _with_number(other, input, "xlogy")
    return BM.XlogyScalarSelf.apply(x, y)


def _broadcast_shape(op: str, names: str, *ts) -> tuple:
    return broadcast_shape(op, names, *(t.shape for t in ts))


def _three(op: str, x, t1, t2):
    """input, tensor1, tensor2 in PyTorch's result dtype of the three (0-d tensors lift only the category)."""
    _tensor_arg(t1, op, "tensor1", 2)
    _tensor_arg(t2, op, "tensor2", 3)
    ts = (x, t1, t2)
    _broadcast_shape(op, "input, tensor1 and tensor2", *ts)
    dimmed = [backend.from_np_dtype(t._data.dtype) for t in ts if t._data.ndim]
    zero = [backend.from_np_dtype(t._data.dtype) for t in ts if not t._data.ndim]
    d = z = None
    for dt in dimmed:
        d = dt if d is None else backend.promote_types(d, dt)
    for dt in zero:
        z = dt if z is None else backend.promote_types(z, dt)
    target = (z if d is None or (z is not None and z.category > d.category) else d).np
    return tuple(t if t._data.dtype == target else t.to(target) for t in ts)


def _value(value, op: str, dtype):
    """addcmul's ``value`` as PyTorch converts it to the result dtype: a float is truncated for an integer
    result, and must fit the dtype's range."""
    if isinstance(value, core.Tensor) and value.ndim == 0:
        value = value.item()
    value = py_scalar(value)
    if isinstance(value, complex):   # PyTorch's RuntimeError: a complex Number, not a wrong type
        why = f"{op}: value {value!r} cannot be converted to type {backend.from_np_dtype(dtype)} without " \
              f"overflow (a complex value needs a complex tensor)"
        raise RuntimeError(why)  # noqa: TRY004
    if not _number(value):
        raise TypeError(f"{op}(): argument 'value' must be Number, not {type(value).__name__}")
    if dtype.kind in "iu":
        if isinstance(value, float) and not math.isfinite(value):
            raise RuntimeError(f"{op}: value cannot be converted to type {backend.from_np_dtype(dtype)} without "
                               f"overflow: {value}")
        return int_value(int(value), dtype, op)
    float_value_fits(value, dtype, op)
    return value


class BinaryMathMethods:
    """logaddexp, hypot, copysign, xlogy, heaviside, addcmul, addcdiv, logit, nansum, dist of ``Tensor``."""

    __slots__ = ()

    def logaddexp(self, other):
        """log(exp(self) + exp(other)), without overflow: max + log1p(exp(-|self - other|)).

        >>> import chainrule as cr
        >>> cr.tensor([1000.0, -1000.0]).logaddexp(cr.tensor([1000.0, -1000.0]))
        tensor([1000.6932, -999.3068])
        """
        _tensor_arg(other, "logaddexp", "other", 1)
        return BM.Logaddexp.apply(*_pair(self, other, "logaddexp", floats=False))

    def hypot(self, other):
        """√(self² + other²), the length of the hypotenuse, without overflow for large sides.

        >>> import chainrule as cr
        >>> cr.tensor([3.0, 3e30]).hypot(cr.tensor([4.0, 4e30]))
        tensor([5.0000e+00, 5.0000e+30])
        """
        _tensor_arg(other, "hypot", "other", 1)
        return BM.Hypot.apply(*_pair(self, other, "hypot", floats=False))

    def copysign(self, other):
        """|self| with the sign (bit) of ``other``, a Tensor or a number; integers become floats.

        >>> import chainrule as cr
        >>> cr.tensor([1.0, -2.0, 3.0]).copysign(cr.tensor([-1.0, 1.0, -0.0]))
        tensor([-1.,  2., -3.])
        """
        other = _tensor_or_number(other, "copysign", 1)
        if isinstance(other, core.Tensor):
            return BM.Copysign.apply(*_pair(self, other, "copysign", floats=True))
        return BM.CopysignScalar.apply(*_with_number(self, other, "copysign"))

    def xlogy(self, other):
        """self·log(other), 0 where self = 0 even for other = 0 or inf (NaN where other is NaN).

        >>> import chainrule as cr
        >>> cr.tensor([0.0, 0.0, 2.0]).xlogy(cr.tensor([0.0, float("inf"), 1.0]))
        tensor([0., 0., 0.])
        """
        other = _tensor_or_number(other, "xlogy", 1)
        if isinstance(other, core.Tensor):
            return BM.Xlogy.apply(*_pair(self, other, "xlogy", floats=True))
        return BM.XlogyScalarOther.apply(*_with_number(self, other, "xlogy"))

    def heaviside(self, values):
        """The step function: 0 where self < 0, ``values`` where self = 0, 1 where self > 0. ``values`` is a
        Tensor of self's dtype. Not differentiable (as in PyTorch, backward through it raises).

        >>> import chainrule as cr
        >>> cr.tensor([-1.5, 0.0, 2.0]).heaviside(cr.tensor(0.5))
        tensor([0.0000, 0.5000, 1.0000])
        """
        _tensor_arg(values, "heaviside", "values", 1)
        if self._data.dtype != values._data.dtype:
            raise RuntimeError(f"heaviside: input and values must have the same dtype, got {self.dtype.name} and "
                               f"{values.dtype.name} (heaviside is not yet implemented for tensors with different "
                               f"dtypes); convert one, e.g. values.to(input.dtype)")
        return BM.Heaviside.apply(self, values)

    def addcmul(self, tensor1, tensor2, *, value=1):
        """self + value·tensor1·tensor2, broadcast together, in the three tensors' result dtype.

        >>> import chainrule as cr
        >>> cr.tensor([1.0, 1.0]).addcmul(cr.tensor([2.0, 3.0]), cr.tensor([4.0, 5.0]), value=0.5)
        tensor([5.0000, 8.5000])
        """
        x, t1, t2 = _three("addcmul", self, tensor1, tensor2)
        if x._data.dtype.kind == "b":
            raise NotImplementedError("addcmul: not implemented for bool tensors (\"addcmul_cpu_out\" not "
                                      "implemented for 'Bool'); convert them first, e.g. x.int()")
        value = _value(value, "addcmul", x._data.dtype)
        return x + (t1 * t2 if value == 1 else value * t1 * t2)

    def addcdiv(self, tensor1, tensor2, *, value=1):
        """self + value·tensor1/tensor2, broadcast together; tensor1 and tensor2 may not both be integers.

        >>> import chainrule as cr
        >>> cr.tensor([1.0, 1.0]).addcdiv(cr.tensor([2.0, 3.0]), cr.tensor([4.0, 0.0]), value=2)
        tensor([2., inf])
        """
        _tensor_arg(tensor1, "addcdiv", "tensor1", 2)
        _tensor_arg(tensor2, "addcdiv", "tensor2", 3)
        if tensor1._data.dtype.kind in "biu" and tensor2._data.dtype.kind in "biu":
            raise RuntimeError(f"addcdiv: integer division with addcdiv is no longer supported (tensor1 is "
                               f"{tensor1.dtype.name}, tensor2 {tensor2.dtype.name}); write "
                               f"input + value * tensor1 / tensor2 for a true division, or convert one to float")
        x, t1, t2 = _three("addcdiv", self, tensor1, tensor2)
        value = _value(value, "addcdiv", x._data.dtype)
        return x + (t1 / t2 if value == 1 else value * t1 / t2)

    def logit(self, eps=None):
        """log(self/(1 - self)), the inverse of sigmoid; with ``eps``, self is first clamped to [eps, 1 - eps].

        Its gradient is 0 outside [eps, 1 - eps]; without eps it is NaN outside [0, 1] (a negative eps
        counts as None, as in PyTorch).

        >>> import chainrule as cr
        >>> cr.tensor([0.0, 0.5, 0.75]).logit(), cr.tensor([0.0, 1.0]).logit(eps=0.25)
        (tensor([  -inf, 0.0000, 1.0986]), tensor([-1.0986,  1.0986]))
        """
        if isinstance(eps, core.Tensor) and eps.ndim == 0:
            eps = eps.item()
        eps = py_scalar(eps)
        if eps is not None and not _number(eps):
            raise TypeError(f"logit(): argument 'eps' (position 1) must be float, not {type(eps).__name__}")
        eps = None if eps is None or eps < 0 else float(eps)
        return BM.Logit.apply(_floatify(self), eps)

    def nansum(self, dim=None, keepdim=False, *, dtype=None):
        """The sum treating NaN as 0, over all elements or along ``dim``; its gradient is 0 at the NaNs.

        >>> import chainrule as cr
        >>> cr.tensor([[1.0, float("nan")], [2.0, 3.0]]).nansum(1)
        tensor([1., 5.])
        """
        x = self.to(dtype_arg(dtype, "nansum")) if dtype is not None else self
        if x._data.dtype.kind == "f":
            x = where(x.isnan(), 0, x)
        return x.sum(dim, keepdim)

    def dist(self, other, p=2):
        """The p-norm of ``self - other`` (broadcast): ``(self - other).norm(p)``.

        >>> import chainrule as cr
        >>> cr.tensor([1.0, 2.0]).dist(cr.tensor([4.0, 6.0])), cr.tensor([1.0, 2.0]).dist(cr.tensor(0.0), p=1)
        (tensor(5.), tensor(3.))
        """
        _tensor_arg(other, "dist", "other", 1)
        if isinstance(p, core.Tensor) and p.ndim == 0:
            p = p.item()
        p = py_scalar(p)
        if not _number(p):
            raise TypeError(f"dist(): argument 'p' (position 2) must be Number, not {type(p).__name__}")
        a, b = promote(self, other)
        if a._data.dtype.kind != "f":
            raise RuntimeError(f"dist: expected floating-point tensors, got {self.dtype.name} and "
                               f"{other.dtype.name} (as torch's norm(): input dtype should be floating point)")
        shape = _broadcast_shape("dist", "input and other", a, b)
        if math.isinf(p) and 0 in shape:
            raise RuntimeError(f"dist: cannot compute the {p} norm of an empty difference (broadcast shape "
                               f"{shape}): the max/min of nothing has no value")
        return (a - b).norm(p)

    # In place (``x.hypot_(y)``): the result is written into self, which must hold a float dtype.
    def _math_inplace(self, method, other, name: str):
        if self._data.dtype.kind != "f":
            raise RuntimeError(f"{name}: result type Float can't be cast to the desired output type "
                               f"{_KIND.get(self._data.dtype.kind, self.dtype.name)} (this {self.dtype.name} "
                               f"tensor cannot hold the float result in place; use the out-of-place form)")
        return self._inplace_with(method, other, name)

    def hypot_(self, other):
        """In place: self = hypot(self, other); returns self."""
        return self._math_inplace(lambda t: t.hypot(other), other, "hypot_")

    def copysign_(self, other):
        """In place: self = copysign(self, other); returns self."""
        return self._math_inplace(lambda t: t.copysign(other), other, "copysign_")

    def xlogy_(self, other):
        """In place: self = xlogy(self, other); returns self."""
        return self._math_inplace(lambda t: t.xlogy(other), other, "xlogy_")

    def logit_(self, eps=None):
        """In place: self = logit(self, eps); returns self."""
        return self._math_inplace(lambda t: t.logit(eps), None, "logit_")

    def heaviside_(self, values):
        """In place: self = heaviside(self, values); returns self."""
        return self._inplace_with(lambda t: t.heaviside(values), values, "heaviside_")


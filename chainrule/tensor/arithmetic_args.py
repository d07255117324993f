"""The argument handling of two families of ``Tensor``'s arithmetic, apart so that ``arithmetic`` stays one
line per operator: ``clamp``/``clip`` (numbers or tensors as bounds) and the integer-friendly divisions
(``//``, ``div(rounding_mode="trunc")``) that NumPy would promote differently from PyTorch.
"""

from __future__ import annotations

from ..backend import xp
from ..ops import elementwise as E
from ..ops import unary as U
from . import core
from .args import _as_tensor_hint, _floatify, _Scalar, _scalar_promoted, number_arg, promote, py_scalar
from .scalars import F32_MAX, divisor, float_value_fits, int_value


def division_operands(x, other, op: str):
    """``x`` and ``other``'s raw operand for ``//`` and trunc division, in PyTorch's result dtype (an integer
    tensor // 1.5 is float32, int64 // float32 tensor is float32: NumPy would make both float64)."""
    if isinstance(other, core.Tensor):
        if other._data.dtype is not x._data.dtype:
            x, other = promote(x, other)
        return x, other._data
    if isinstance(other, _Scalar):
        x = _scalar_promoted(x, other)
    elif other is None or isinstance(other, list | tuple | str):
        raise TypeError(f"{op}: unsupported operand of type {type(other).__name__} for a Tensor"
                        f"{_as_tensor_hint(other)}")
    return x, divisor(other, x, op)


def clamp_tensor(x, min, max, op: str):
    """clamp/clip: the bounds are both numbers or both tensors (either may be None), PyTorch's two signatures."""
    min, max = py_scalar(min), py_scalar(max)
    if min is None and max is None:
        raise RuntimeError(f"{op}: at least one of 'min' or 'max' must not be None")
    for name, bound in (("min", min), ("max", max)):
        if bound is not None:
            number_arg(bound, op, name)
            if bound.__class__ is float and not -F32_MAX <= bound <= F32_MAX:
                float_value_fits(bound, _floatify(x)._data.dtype, op)
    if x._data.dtype.kind in "iu":   # an int bound as PyTorch converts it (-1 is 255 for uint8)
        min = int_value(min, x._data.dtype, op) if min.__class__ is int else min
        max = int_value(max, x._data.dtype, op) if max.__class__ is int else max
    if isinstance(min, core.Tensor) or isinstance(max, core.Tensor):
        if min is not None and max is not None and isinstance(min, core.Tensor) != isinstance(max, core.Tensor):
            number = max if isinstance(min, core.Tensor) else min
            raise TypeError(f"{op}(): received an invalid combination of arguments: min={type(min).__name__} and "
                            f"max={type(max).__name__}; the bounds must be both numbers or both tensors (either "
                            f"may be None): make the number a tensor too, chainrule.tensor({number!r})")
        # PyTorch's clamp with tensor bounds: one node saving x and both bounds (ClampBackward0),
        # in the dtype of all three
        bounds = [b if b is None or isinstance(b, core.Tensor) else core.Tensor._make(xp.asarray(b, x._data.dtype))
                  for b in (min, max)]
        for b in bounds:
            if b is not None:
                x, _ = promote(x, b)
        lo, hi = (b if b is None or b._data.dtype == x._data.dtype else promote(x, b)[1] for b in bounds)
        return E.ClampT.apply(x, lo, hi)
    if x._data.dtype.kind in "biu" and (isinstance(min, float) or isinstance(max, float)):
        return U.Clamp.apply(_floatify(x), min, max)    # an integer tensor with float bounds: float32
    return U.Clamp.apply(x, min, max)


def lerp_operands(x, end, weight, op: str) -> None:
    """PyTorch's lerp and lerp_ do not promote: a tensor ``end`` or ``weight`` must have ``x``'s dtype."""
    for name, t in (("end", end), ("weight", weight)):
        if isinstance(t, core.Tensor) and t._data.dtype != x._data.dtype:
            raise RuntimeError(f"{op}: expected dtype {x.dtype.name} for `{name}` but got dtype {t.dtype.name} "
                               f"(PyTorch's lerp does not promote); convert it with .to()")
    E.broadcast_shape(op, "input, end and weight", *(t._data.shape for t in (x, end, weight)
                                                      if isinstance(t, core.Tensor)))

"""A Python number meeting a tensor, as PyTorch reads it: an int keeps its low bits in an integer tensor's
dtype (``int32_tensor + 2**40`` adds 0, ``uint8_tensor < -1`` compares with 255), a float beyond float32's
range is ±inf next to float32 (without NumPy's overflow warning), a fill value must fit the dtype, and an
int exponent must fit it. Used by ``args.binary`` and the operator methods; each check runs only on the
path where the number could be out of range, so ``x + 2`` and ``x * 0.5`` pay a comparison at most.
"""

from __future__ import annotations

from .. import backend
from ..backend import xp
from ..ops.elementwise_extra import IntegerDivisionByZero
from . import core

_int_ranges: dict = {}   # NumPy integer dtype -> (lowest, highest)


def int_operand(value: int, dtype, op: str) -> int:
    """A Python int meeting an integer (or bool) tensor, as PyTorch reads it: cast to the tensor's dtype
    the C way, keeping the low bits (``int32_tensor + 2**40`` adds 0, ``uint8_tensor + 300`` adds 44),
    where NumPy raises OverflowError. An int beyond 64 bits is PyTorch's OverflowError.

    >>> import chainrule as cr
    >>> cr.tensor([1], dtype=cr.int32) + 2**31
    tensor([-2147483647], dtype=chainrule.int32)
    """
    if dtype.kind == "b":   # bool tensor and int: int64, as _scalar_promoted makes it
        dtype = xp.dtype(xp.int64)
        if value >= 2 ** 63:
            raise RuntimeError(f"{op}: Promotion for uint16, uint32, uint64 types is not supported, attempted "
                               f"to promote Bool and UInt64 (the Python int {value} does not fit in int64)")
    bounds = _int_ranges.get(dtype)
    if bounds is None:
        info = xp.iinfo(dtype)
        bounds = _int_ranges[dtype] = (int(info.min), int(info.max))
    low, high = bounds
    if low <= value <= high:
        return value
    if not -2 ** 63 <= value < 2 ** 64:
        raise OverflowError(f"{op}: the Python int {value} is too big to convert to any tensor dtype "
                            f"(at most 64 bits)")
    bits = 8 * dtype.itemsize
    value %= 1 << bits
    return value - (1 << bits) if value > high else value


def int_value(value: int, dtype, op: str) -> int:
    """An int fill value or bound (``masked_fill``, ``clamp``, ``where``) for an integer dtype, as PyTorch's
    checked conversion: within the dtype's range, except that an unsigned dtype also takes -max..-1, read
    modulo 2**bits (``-1`` fills a uint8 tensor with 255); anything else is PyTorch's RuntimeError."""
    low, high = _int_ranges.get(dtype) or (int(xp.iinfo(dtype).min), int(xp.iinfo(dtype).max))
    if low <= value <= high:
        return value
    if dtype.kind == "u" and -high <= value < 0:
        return value + high + 1
    raise RuntimeError(f"{op}: value cannot be converted to type {backend.from_np_dtype(dtype)} without "
                       f"overflow: {value} (it must lie in [{low - high * (dtype.kind == 'u')}, {high}])")


def operand(value, x, op: str):
    """The raw operand of ``x op value`` (a comparison, ``//``, ``%``, ``&`` …): a Tensor's array, or a Python
    int read as PyTorch reads it next to ``x`` (the low bits, ``int_operand``, next to an integer or bool
    tensor: ``int32_tensor < 2**40`` compares with 0, as in PyTorch); other numbers as they are.

    >>> import chainrule as cr
    >>> cr.tensor([1, 7], dtype=cr.uint8) & 300   # 300 is 44 as a uint8
    tensor([0, 4], dtype=chainrule.uint8)
    """
    if value.__class__ is int:
        if x._data.dtype.kind in "biu":
            return int_operand(value, x._data.dtype, op)
        if not -2 ** 63 <= value < 2 ** 64:
            raise OverflowError(f"{op}: the Python int {value} is too big to convert to any tensor dtype "
                                f"(at most 64 bits)")
        return value
    if value.__class__ is float and not -F32_MAX <= value <= F32_MAX:
        return float_operand(value, x._data.dtype)
    return value._data if isinstance(value, core.Tensor) else value


F32_MAX = 3.4028234663852886e38   # the largest float32


def float_operand(value: float, dtype) -> float:
    """A Python float beyond ±F32_MAX meeting a float32 tensor, rounded to float32 as PyTorch rounds it
    (``float32_tensor * 1e200`` multiplies by inf), without NumPy's "overflow encountered in cast" warning.
    Only such values come here, so ``x * 0.5`` pays one comparison."""
    if dtype.kind != "f" or dtype.itemsize != 4:
        return value
    with xp.errstate(over="ignore"):
        return float(dtype.type(value))


def float_value_fits(value, dtype, op: str) -> None:
    """A fill value (``masked_fill``, ``clamp``, ``where``, ``new_full``) must fit a float dtype (a NumPy dtype):
    PyTorch raises where NumPy would store inf with a warning (an arithmetic operand is rounded instead)."""
    if value.__class__ is float and dtype.kind == "f" and dtype.itemsize < 8 and value - value == 0 \
            and abs(value) > float(xp.finfo(dtype).max):
        raise RuntimeError(f"{op}: value cannot be converted to type {backend.from_np_dtype(dtype)} without "
                           f"overflow: {value} (use a float64 tensor, or float('inf') for inf)")


def divisor(value, x, op: str):
    """``operand`` for the right side of ``//``, ``%``, ``fmod``: a Python int whose low bits are 0 in ``x``'s
    dtype (``int32_tensor // 2**40``) divides by zero, as in PyTorch; the error says why."""
    raw = operand(value, x, op)
    if value.__class__ is int and value != 0 and raw == 0:
        raise IntegerDivisionByZero(f"{op}: ZeroDivisionError: the Python int {value} is 0 as a {x.dtype} (its "
                                    f"low bits, as PyTorch reads it), so this is an integer division by zero")
    return raw


def int_power(exponent: int, x, op: str) -> int:
    """An int exponent of an integer tensor must fit the tensor's dtype (PyTorch's RuntimeError; it does not
    wrap here as ``+`` does): ``int32_tensor ** 2**40`` has no meaning."""
    if x._data.dtype.kind in "iu" and int_operand(exponent, x._data.dtype, op) != exponent:
        raise RuntimeError(f"{op}: value cannot be converted to type {x.dtype} without overflow: the "
                           f"exponent {exponent} does not fit the {x.dtype} tensor's dtype")
    return exponent

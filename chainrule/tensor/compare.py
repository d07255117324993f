"""Tensor's comparisons and logic (a mixin of ``Tensor``): ``==``, ``<``, ``isclose``, ``logical_and``,
``isnan``, ``any``/``all``, ``nonzero`` … Their results are boolean or integer: no gradient flows
through them, as in PyTorch."""

from __future__ import annotations

import numbers

from .. import backend
from ..autograd.function import notify
from ..autograd.grad_mode import state
from ..backend import xp
from ..ops.elementwise import broadcast_error
from . import core
from .args import (
    _no_grad_result,
    _raw,
    keepdim_arg,
    normalize_dims,
)
from .scalars import operand

_NUMBERS = (numbers.Number, xp.ndarray, xp.generic)


def _method(operator, name: str):
    """The named form (``x.eq(other)``): a TypeError naming it for an operand that is not a tensor or a number."""
    def method(self, other):
        out = operator(self, other)
        if out is NotImplemented:
            raise TypeError(f"{name}(): argument 'other' must be a Tensor or a number, got {type(other).__name__} "
                            f"({other!r:.40})")
        return out
    method.__name__, method.__doc__ = name, operator.__doc__
    return method


class ComparisonMethods:
    """Comparisons and logic of ``Tensor``."""

    __slots__ = ()

    # --- comparisons and logic (no gradient) ------------------------------------------------
    def __eq__(self, other):
        """self == other, elementwise with broadcasting: a bool tensor (``eq``). No gradient.

        >>> import chainrule as cr
        >>> cr.tensor([1, 2, 3]) == 2
        tensor([False,  True, False])
        """
        return _compare(xp.equal, self, other, "eq")

    def __ne__(self, other):
        """self != other, elementwise: a bool tensor (``ne``, ``not_equal``). No gradient."""
        return _compare(xp.not_equal, self, other, "ne")

    def __lt__(self, other):
        """self < other, elementwise: a bool tensor (``lt``, ``less``). No gradient."""
        return _compare(xp.less, self, other, "lt")

    def __le__(self, other):
        """self <= other, elementwise: a bool tensor (``le``, ``less_equal``). No gradient."""
        return _compare(xp.less_equal, self, other, "le")

    def __gt__(self, other):
        """self > other, elementwise: a bool tensor (``gt``, ``greater``). No gradient."""
        return _compare(xp.greater, self, other, "gt")

    def __ge__(self, other):
        """self >= other, elementwise: a bool tensor (``ge``, ``greater_equal``). No gradient."""
        return _compare(xp.greater_equal, self, other, "ge")

    # (a str, None, list …: _compare gives NotImplemented, so Python answers as for torch: == is False, < a
    # TypeError; the named forms raise TypeError)
    eq, ne, lt, le, gt, ge = (_method(f, name) for f, name in ((__eq__, "eq"), (__ne__, "ne"), (__lt__, "lt"),
                                                               (__le__, "le"), (__gt__, "gt"), (__ge__, "ge")))
    greater, less, greater_equal, less_equal, not_equal = gt, lt, ge, le, ne

    def __and__(self, other):
        return _no_grad_result(_bitwise(xp.bitwise_and, "&", self, other))

    def __or__(self, other):
        return _no_grad_result(_bitwise(xp.bitwise_or, "|", self, other))

    def __xor__(self, other):
        return _no_grad_result(_bitwise(xp.bitwise_xor, "^", self, other))

    def __invert__(self):
        return _no_grad_result(xp.invert(self._data))

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    def logical_and(self, other):
        """Elementwise "both nonzero", as a bool tensor (any dtype is read as true/false)."""
        return _no_grad_result(xp.logical_and(self._data, _raw(other)))

    def logical_or(self, other):
        """Elementwise "either nonzero", as a bool tensor."""
        return _no_grad_result(xp.logical_or(self._data, _raw(other)))

    def logical_xor(self, other):
        """Elementwise "exactly one nonzero", as a bool tensor."""
        return _no_grad_result(xp.logical_xor(self._data, _raw(other)))

    def logical_not(self):
        """Elementwise "is zero", as a bool tensor (for a bool mask, the same as ``~mask``)."""
        return _no_grad_result(xp.logical_not(self._data))

    def isnan(self):
        """A bool tensor, True where the element is NaN.

        >>> import chainrule as cr
        >>> cr.tensor([1.0, float("nan"), float("inf")]).isnan()
        tensor([False,  True, False])
        """
        return _no_grad_result(xp.isnan(self._data))

    def isinf(self):
        """A bool tensor, True where the element is +inf or −inf."""
        return _no_grad_result(xp.isinf(self._data))

    def isfinite(self):
        """A bool tensor, True where the element is neither infinite nor NaN."""
        return _no_grad_result(xp.isfinite(self._data))

    def any(self, dim=None, keepdim=False, keepdims=None):
        """Whether any element is nonzero: over all elements, or along ``dim`` (an int or a tuple).

        A bool tensor; ``keepdim=True`` keeps each reduced dimension with size 1.

        >>> import chainrule as cr
        >>> cr.tensor([[0, 1], [0, 0]]).any(dim=1)
        tensor([ True, False])
        """
        keepdim = keepdim_arg(keepdim, keepdims, "any")
        return _no_grad_result(xp.any(self._data, axis=normalize_dims(dim, self.ndim, "any"), keepdims=keepdim))

    def all(self, dim=None, keepdim=False, keepdims=None):
        """Whether every element is nonzero: over all elements, or along ``dim`` (an int or a tuple).

        >>> import chainrule as cr
        >>> cr.tensor([[1, 1], [0, 1]]).all(dim=0)
        tensor([False,  True])
        """
        keepdim = keepdim_arg(keepdim, keepdims, "all")
        return _no_grad_result(xp.all(self._data, axis=normalize_dims(dim, self.ndim, "all"), keepdims=keepdim))

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
        """A Python bool: is |self − other| <= atol + rtol·|other| everywhere? (NaNs match only with
        equal_nan.)

        >>> import chainrule as cr
        >>> cr.tensor([1.0, 2.0]).allclose(cr.tensor([1.0, 2.0 + 1e-7]))
        True
        """
        if state.observed:
            notify("data_read", self, "allclose")
        return bool(xp.allclose(self._data, _raw(other), rtol=rtol, atol=atol, equal_nan=equal_nan))

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """Elementwise |self − other| <= atol + rtol·|other|, as a bool tensor (per-element ``allclose``)."""
        return _no_grad_result(xp.isclose(self._data, _raw(other), rtol=rtol, atol=atol, equal_nan=equal_nan))

    def equal(self, other) -> bool:
        """A Python bool: True if other has the same shape and exactly the same values."""
        if state.observed:
            notify("data_read", self, "equal")
        return self._data.shape == _raw(other).shape and bool(xp.array_equal(self._data, _raw(other)))

    def nonzero(self, as_tuple=False):
        """The indices of the nonzero elements: an int64 tensor with one row per element and one column per
        dimension, or with ``as_tuple=True`` one 1-D index tensor per dimension (what ``t[mask]`` uses).

        >>> import chainrule as cr
        >>> cr.tensor([3, 0, 5]).nonzero()
        tensor([[0],
                [2]])
        """
        idx = xp.nonzero(self._data)
        if as_tuple:
            return tuple(_no_grad_result(i) for i in idx)
        return _no_grad_result(xp.stack(idx, axis=1) if idx else xp.zeros((0, 0), xp.int64))

    def count_nonzero(self, dim=None):
        """The number of nonzero elements, in all or along ``dim`` (an int64 tensor).

        >>> import chainrule as cr
        >>> cr.tensor([[0, 1], [2, 3]]).count_nonzero(dim=0)
        tensor([1, 2])
        """
        return _no_grad_result(xp.asarray(xp.count_nonzero(self._data, axis=normalize_dims(dim, self.ndim, "count_nonzero"))))


def _bitwise(ufunc, symbol: str, x, other):
    """``&``, ``|``, ``^`` on bools and integers; on floats PyTorch refuses, and so do we, with the fix."""
    a, b = x._data, operand(other, x, ufunc.__name__)
    try:
        return ufunc(a, b)
    except TypeError:
        kinds = f"{a.dtype} and {getattr(b, 'dtype', type(b).__name__)}"
        raise RuntimeError(f"{ufunc.__name__}: the {symbol} operator needs bool or integer tensors, got {kinds}; "
                           f"for masks compare first, e.g. (x > 0) {symbol} (y > 0)") from None


def _compare(ufunc, x, other, op: str):
    """``x op other`` as a bool tensor. Two tensors of different dtypes are compared in PyTorch's result
    dtype, where a dimensioned float32 tensor outranks a 0-d float64 one (NumPy would compare in float64:
    ``float32_tensor == float64_scalar_tensor`` could then differ from PyTorch's answer). NotImplemented for
    an operand that is not a tensor or a number."""
    a = x._data
    if not isinstance(other, core.Tensor):
        if not isinstance(other, _NUMBERS):
            return NotImplemented     # not a tensor or a number: Python's fallback, as for torch
    elif other._data.dtype != a.dtype:
        b = other._data
        target = backend.result_dtype(backend.from_np_dtype(a.dtype), a.ndim, backend.from_np_dtype(b.dtype),
                                      b.ndim).np
        try:
            with xp.errstate(over="ignore"):      # a float64 beyond float32's range is ±inf there, as in PyTorch
                return _no_grad_result(ufunc(a.astype(target, copy=False), b.astype(target, copy=False)))
        except ValueError:
            raise broadcast_error(op, "operands", a.shape, b.shape) from None
    b = operand(other, x, op)
    try:
        return _no_grad_result(ufunc(a, b))
    except ValueError:
        raise broadcast_error(op, "operands", a.shape, xp.shape(b)) from None

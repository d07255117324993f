"""Tensor's ``new_*`` factories and memory-layout queries (a mixin of ``Tensor``).

``t.new_zeros(shape)`` makes a tensor like ``zeros`` but with ``t``'s dtype (and device), so code can
create matching buffers without naming a dtype. ``stride()`` reports the array's strides in elements.
"""

from __future__ import annotations

from .. import backend
from ..backend import xp
from . import core
from .args import dtype_arg, normalize_dim, overflow_is_an_error, shape_arg
from .scalars import float_value_fits


def _size(size, op: str) -> tuple:
    shape = shape_arg(size, op)
    for d in shape:
        if d < 0:
            raise RuntimeError(f"{op}: Trying to create tensor with negative dimension {d}: {list(shape)}")
    return shape


def _new(t, array, requires_grad: bool):
    out = core.Tensor._make(array)
    if requires_grad:
        out.requires_grad_(True)
    return out


class FactoryMethods:
    """``new_zeros``/``new_ones``/``new_full``/``new_empty``/``new_tensor`` and ``stride`` of ``Tensor``."""

    __slots__ = ()

    def _new_dtype(self, dtype, op: str):
        return self._data.dtype if dtype is None else dtype_arg(dtype, op).np

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        """Zeros of ``size`` with this tensor's dtype (unless ``dtype`` is given).

        >>> import chainrule as cr
        >>> cr.tensor([1, 2]).new_zeros(2, 2)
        tensor([[0, 0],
                [0, 0]])
        """
        return _new(self, xp.zeros(_size(size, "new_zeros"), self._new_dtype(dtype, "new_zeros")), requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        """Ones of ``size`` with this tensor's dtype.

        >>> import chainrule as cr
        >>> cr.zeros(1, dtype=cr.float64).new_ones(2)
        tensor([1., 1.], dtype=chainrule.float64)
        """
        return _new(self, xp.ones(_size(size, "new_ones"), self._new_dtype(dtype, "new_ones")), requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        """An uninitialised tensor of ``size`` with this tensor's dtype.

        >>> import chainrule as cr
        >>> cr.zeros(1).new_empty(2, 3).shape
        chainrule.Size([2, 3])
        """
        return _new(self, xp.empty(_size(size, "new_empty"), self._new_dtype(dtype, "new_empty")), requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
        """``size`` filled with ``fill_value``, in this tensor's dtype (a float fill of an int tensor truncates).

        >>> import chainrule as cr
        >>> cr.zeros(1).new_full((2,), 1.5)
        tensor([1.5000, 1.5000])
        """
        new_dtype = self._new_dtype(dtype, "new_full")
        float_value_fits(fill_value, new_dtype, "new_full")
        array = xp.full(_size((size,), "new_full"), fill_value, new_dtype)
        return _new(self, array, requires_grad)

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
        """A copy of ``data`` in this tensor's dtype (not inferred from ``data``), never sharing memory.

        >>> import chainrule as cr
        >>> cr.tensor([1, 2]).new_tensor([1.7, 2.2])
        tensor([1, 2])
        """
        raw = data._data if isinstance(data, core.Tensor) else data
        new_dtype = backend.from_np_dtype(self._new_dtype(dtype, "new_tensor"))
        with overflow_is_an_error("new_tensor", new_dtype):
            array = backend.to_array(raw, new_dtype)
        return _new(self, array, requires_grad)

    def stride(self, dim=None):
        """Steps in elements between neighbours along each dimension (of this array's memory layout).

        chainrule's layouts follow NumPy's: a transpose or an ``expand`` is a view, as in PyTorch, but a
        few ops copy where PyTorch makes a view, so strides can differ from PyTorch's there.

        >>> import chainrule as cr
        >>> cr.zeros(2, 3).stride(), cr.zeros(2, 3).t().stride()
        ((3, 1), (1, 3))
        """
        a = self._data
        strides = tuple(s // a.itemsize for s in a.strides)
        if dim is None:
            return strides
        return strides[normalize_dim(dim, a.ndim, "stride")]

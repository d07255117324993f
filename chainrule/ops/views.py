"""In-place changes through a view: PyTorch's ``CopySlices``.

``v = b[1:3]; v.mul_(2)`` changes ``b``'s memory, so ``b``'s history must change too. The view's
elements are located in its base by flat position (:func:`view_positions`, from the strides), and
the change is recorded on the base as two ordinary ops:

* ``AsStrided``: the view's old values, read from the base at those positions;
* ``CopySlices``: the base with the op's result written back there. Its gradient is the upstream
  gradient with those positions zeroed for the old base, and the gradient at those positions for
  the written values, so the op applied through the view is differentiated like any other.

The view itself then reads its values from the new base (another ``AsStrided``).
"""

from __future__ import annotations

from ..backend import xp
from .indexing import IndexPut
from .shape_extra import Take


def view_positions(base, view):
    """For each element of the array ``view`` (a view into ``base``'s memory), its flat C-order
    position in ``base``; None when ``view`` is not made of ``base``'s elements.

    >>> import numpy as np
    >>> b = np.arange(6.).reshape(2, 3)
    >>> view_positions(b, b[:, 1:].T)
    array([[1, 4],
           [2, 5]])
    """
    size = base.itemsize
    if view.dtype != base.dtype or base.size == 0 or view.size == 0:
        return xp.zeros(view.shape, xp.int64) if view.size == 0 else None
    strides = base.strides + view.strides
    offset = view.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    if any(s % size for s in strides) or offset % size:
        return None
    lo = sum(min(0, (n - 1) * s) for n, s in zip(base.shape, base.strides)) // size
    hi = sum(max(0, (n - 1) * s) for n, s in zip(base.shape, base.strides)) // size
    vlo = offset // size + sum(min(0, (n - 1) * s) for n, s in zip(view.shape, view.strides)) // size
    vhi = offset // size + sum(max(0, (n - 1) * s) for n, s in zip(view.shape, view.strides)) // size
    if vlo < lo or vhi > hi:
        return None
    # A memory image of the base: each element's slot holds its flat position; gaps hold -1.
    image = xp.full(hi - lo + 1, -1, xp.int64)
    item = image.itemsize
    as_strided = xp.lib.stride_tricks.as_strided
    laid = as_strided(image[-lo:], base.shape, tuple(s // size * item for s in base.strides))
    laid[...] = xp.arange(base.size).reshape(base.shape)
    read = as_strided(image[offset // size - lo:], view.shape, tuple(s // size * item for s in view.strides))
    positions = read.copy()
    return None if (positions < 0).any() else positions


class AsStrided(Take):
    """A view's elements, read from its base by position (the view's history after an in-place
    change through it)."""

    op_name = "as_strided"
    formula = "z = x.flatten()[positions]"
    local = ("1 at the view's positions",)

    @staticmethod
    def forward(ctx, x, index, view=False):   # saves nothing: the base changes in place right after (CopySlices)
        ctx.shape, ctx.index, ctx.dtype, ctx.view = x.shape, index, x.dtype, view
        return x.reshape(-1)[index]

    @staticmethod
    def backward(ctx, g):
        if ctx.view and ctx.index.size == 0:   # a view's history (PyTorch's AsStridedBackward0), empty: its
            return ctx.xp.zeros(ctx.shape, ctx.dtype), None, None   # gradient is zeros, with no history
        return Take.backward(ctx, g) + (None,)


class CopySlices(IndexPut):
    """The base after an in-place op through one of its views: the op's result ``v`` written back
    at the view's positions."""

    backward_name = "CopySlices"
    op_name = "copy_slices"
    direct = False
    formula = "z = x; z.flatten()[positions] = v"
    local = ("1 where not written", "1 at the written positions")


OVERLAP_MESSAGE = ("unsupported operation: more than one element of the written-to tensor refers to a single memory "
                   "location. Please clone() the tensor before performing the operation.")


class OverlapCopySlices(CopySlices):
    """The base after ``fill_``/``zero_`` through a view that repeats elements (``expand()``): as in PyTorch the
    values are written (one value for every element is well defined), but the change cannot be
    differentiated, so a backward pass that reaches it raises."""

    backward_name = "CopySlices"
    formula = "z = x; z.flatten()[positions] = v (through a view that repeats elements)"
    local = ("not defined (raises)", "not defined (raises)")

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError(f"{ctx.op}: {OVERLAP_MESSAGE} (the {ctx.op} went through a view of shape "
                           f"{ctx.view_shape} that repeats elements, as expand() does)")

"""Ops that pick elements by a computed order: sort, topk and median.

The tensor layer finds the order (``argsort``, the k largest, the middle element) and these ops read
the chosen elements along one axis: ``z = take_along_axis(x, index, axis)``. So the chain rule is the
one for ``gather``: each input position receives the gradient of the output positions that read it
(``scatter_add``), and every other position gets 0. The classes differ only in PyTorch's node name.
"""

from __future__ import annotations

from ..autograd.function import Op
from ..backend import xp
from ..backend.layout import c_order, relayout


class Sort(Op):
    formula = "z = take_along_axis(x, argsort(x), axis)"
    local = ("1 at the position each output element came from",)
    preserve = True      # the values keep x's layout (PyTorch's preserve_format); topk's are contiguous

    @classmethod
    def forward(cls, ctx, x, axis, index):
        ctx.shape, ctx.axis = x.shape, axis
        if x.ndim == 0:                         # a single number is its own sort
            return x.copy()
        ctx.save_for_backward(index)
        z = xp.take_along_axis(x, index, axis=axis)
        return relayout(z, x) if cls.preserve else c_order(z)

    @staticmethod
    def backward(ctx, g):
        if ctx.shape == ():
            return g, None, None
        (index,) = ctx.saved_tensors
        return ctx.xp.scatter_add(ctx.shape, ctx.axis, index, g), None, None


class SortStable(Sort):
    """``sort(stable=...)``: PyTorch's other overload, the same math."""

    backward_name = "SortBackward1"
    op_name = "sort"


class Topk(Sort):
    """The k largest (or smallest)."""

    formula = "z = take_along_axis(x, topk_indices(x), axis)"
    preserve = False


class MedianDim(Op):
    """The lower middle element."""

    backward_name = "MedianBackward1"
    op_name = "median"
    formula = "z = take_along_axis(x, median_index(x), axis)"
    local = ("1 at the median's position",)

    @staticmethod
    def forward(ctx, x, axis, index, keepdim):
        ctx.shape, ctx.axis, ctx.keepdim = x.shape, axis, keepdim
        if x.ndim == 0:
            return x.copy()
        ctx.save_for_backward(index)
        z = xp.take_along_axis(x, index, axis=axis)
        return z if keepdim else xp.squeeze(z, axis)

    @staticmethod
    def backward(ctx, g):
        if ctx.shape == ():
            return g, None, None, None
        (index,) = ctx.saved_tensors
        g = g if ctx.keepdim else ctx.xp.expand_dims(g, ctx.axis)
        return ctx.xp.scatter_add(ctx.shape, ctx.axis, index, g), None, None, None


class Median(Op):
    """The lower middle element of all of x.

    As ``max()`` without a dim: the gradient is shared evenly by all the elements that equal the
    median (PyTorch's ``evenly_distribute_backward``), NaN counting as equal to a NaN median."""

    formula = "z = median(x)"
    local = ("1/count at the elements equal to the median",)

    @staticmethod
    def forward(ctx, x):
        flat = xp.sort(x.reshape(-1))           # NaN sorts last; PyTorch's median is NaN if any is
        if flat.size == 0:
            z = xp.asarray(xp.nan, x.dtype)
        elif xp.isnan(flat[-1]):
            z = flat[-1:].reshape(())
        else:
            z = flat[(flat.size - 1) // 2].reshape(())
        out = xp.array(z)          # a 0-d array (flat[k] is a NumPy scalar), saved as the output below
        if x.dtype.kind == "f":
            tie = xp.isnan(x) if xp.isnan(z) else (x == z)
            # x and the result are saved as PyTorch's MedianBackward0 saves them: changing either in place
            # afterwards makes backward raise
            ctx.save_for_backward((tie / max(int(tie.sum()), 1)).astype(x.dtype), x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        share = ctx.saved_tensors[0]
        return (g * share,)

"""Sliding windows (``unfold``), vectors put on a diagonal (``diag_embed``), a diagonal copied out (``diag``)
and the running maximum and minimum with where they were reached (``cummax``, ``cummin``).

Each reads or writes elements at known positions, so its gradient reads or writes back at the same
positions: windows that overlap hand the gradient of a shared element to it once per window.
"""

from __future__ import annotations

from ..autograd.function import Op
from ..backend import xp
from ..backend.layout import c_order
from .shape_extra import Diagonal, _diagonal_index
from .sorting import Sort


class Unfold(Op):
    """``size``-long windows ``step`` apart along ``axis``, as a new last axis; a strided view of x, as in
    PyTorch (windows that overlap share memory). A 0-d x counts as one element."""

    formula = "z[..., w, ..., k] = x[..., w·step + k, ...]"
    local = ("1 at each position a window reads (summed over the windows that read it)",)

    @staticmethod
    def forward(ctx, x, axis, size, step):
        ctx.shape, ctx.axis, ctx.size, ctx.step = x.shape, axis, size, step
        a = x.reshape(1) if x.ndim == 0 else x
        n = a.shape[axis]
        windows = (n - size) // step + 1
        shape = a.shape[:axis] + (windows,) + a.shape[axis + 1:] + (size,)
        strides = a.strides[:axis] + (a.strides[axis] * step,) + a.strides[axis + 1:] + (a.strides[axis],)
        z = xp.lib.stride_tricks.as_strided(a, shape, strides)
        return z.reshape(size) if x.ndim == 0 else z      # (1, size) -> (size,): still a view

    @staticmethod
    def backward(ctx, g):
        xp_ = ctx.xp
        if ctx.shape == ():
            return xp_.reshape(xp_.index_add((1,), (xp.zeros(ctx.size, xp.int64),), g), ()), None, None, None
        return xp_.index_add(ctx.shape, _window_index(ctx.shape, ctx.axis, ctx.size, ctx.step), g), None, None, None


def _window_index(shape: tuple, axis: int, size: int, step: int) -> tuple:
    """Index arrays that read every window: along ``axis`` w·step + k (w on that axis of the output,
    k on its new last axis), every other axis itself; they broadcast to the output's shape."""
    out_ndim = len(shape) + 1
    windows = (shape[axis] - size) // step + 1

    def on(values, position):
        return values.reshape(tuple(-1 if i == position else 1 for i in range(out_ndim)))
    index = [on(xp.arange(n), i) for i, n in enumerate(shape)]
    index[axis] = on(xp.arange(windows) * step, axis) + on(xp.arange(size), out_ndim - 1)
    return tuple(index)


class DiagEmbed(Op):
    """The last axis of x becomes the diagonal ``offset`` of the plane (dim1, dim2) of a new tensor of
    zeros (``torch.diag`` of a vector too)."""

    formula = "z = zeros(); diagonal(z, offset, dim1, dim2) = x"
    local = ("1 on the diagonal",)

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        n = x.shape[-1] + abs(offset)
        rest = iter(x.shape[:-1])
        shape = tuple(n if d in (dim1, dim2) else next(rest) for d in range(x.ndim + 1))
        ctx.index = _diagonal_index(shape, offset, dim1, dim2)
        z = xp.zeros(shape, x.dtype)
        z[ctx.index] = x
        return z

    @staticmethod
    def backward(ctx, g):
        return g[ctx.index], None, None, None


class DiagonalCopy(Diagonal):
    """``torch.diag`` of a matrix: the diagonal as a new tensor (``diagonal`` is a view)."""

    backward_name = "DiagonalBackward0_copy"
    op_name = "diag"
    formula = "z = diagonal(x, offset, 0, 1).clone()"

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        return Diagonal.forward(ctx, x, offset, dim1, dim2).copy()


class Cummax(Sort):
    """The index is that of the last element that reached the running maximum (ties: the later one;
    a NaN is the maximum from there on, each later NaN taking over), as PyTorch's. The gradient of an
    empty x is x itself, as PyTorch's (so under create_graph it requires grad as x does)."""

    formula = "z = take_along_axis(x, cummax_index(x), axis)"
    local = ("1 at the position where the running maximum was reached",)
    empty = False
    preserve = False     # PyTorch's running values are contiguous whatever x's layout

    @classmethod
    def forward(cls, ctx, x, axis, index):
        if x.size == 0:
            ctx.empty = True
            ctx.save_for_backward(x)
            return x.copy()
        return super().forward(ctx, x, axis, index)

    @staticmethod
    def backward(ctx, g):
        if ctx.empty:
            return ctx.saved_tensors[0], None, None
        return Sort.backward(ctx, g)


class Cummin(Cummax):
    """As ``Cummax``, for the running minimum."""

    formula = "z = take_along_axis(x, cummin_index(x), axis)"
    local = ("1 at the position where the running minimum was reached",)


def running_index(a, axis: int, largest: bool):
    """For each position along ``axis``, the index of the last element so far that reached the running
    maximum (``largest``) or minimum: an element reached it if it equals the running value there
    (≥ all before it), or if both are NaN."""
    if a.ndim == 0:
        return xp.zeros((), xp.int64)
    run = (xp.maximum if largest else xp.minimum).accumulate(a, axis=axis)
    reached = a == run
    if a.dtype.kind == "f":
        reached |= xp.isnan(a) & xp.isnan(run)
    position = xp.arange(a.shape[axis]).reshape((-1,) + (1,) * (a.ndim - 1 - axis))
    return c_order(xp.maximum.accumulate(xp.where(reached, position, 0), axis=axis))

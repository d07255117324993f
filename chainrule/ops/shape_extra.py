"""More ops that move elements around: roll, rot90, diagonal, take; and the running product cumprod.

Moving ops have a gradient that moves back: ``roll`` and ``rot90`` are undone by rolling/rotating the
other way; ``diagonal`` and ``take`` read positions, so their gradient adds ``g`` at those positions.
"""

from __future__ import annotations

import math

from ..autograd.function import Op
from ..backend import xp
from ..backend.layout import roll_layout
from .elementwise import contiguous


class Roll(Op):
    formula = "z = roll(x, shifts, dims)"
    local = ("1 at the position each element moved from",)

    @staticmethod
    def forward(ctx, x, shifts, axes):
        ctx.shifts, ctx.axes = shifts, axes
        z = xp.roll(x, shifts, axes)
        if x.flags.c_contiguous or axes is None:
            return z
        out = roll_layout(x, shifts, axes)     # PyTorch's layout (a cat of two pieces per dim)
        out[...] = z
        return out

    @staticmethod
    def backward(ctx, g):
        back = -ctx.shifts if isinstance(ctx.shifts, int) else tuple(-s for s in ctx.shifts)
        return ctx.xp.roll(g, back, ctx.axes), None, None


class Rot90(Op):
    """From the first axis towards the second."""

    formula = "z = rot90(x, k, dims)"
    local = ("1 at the position each element moved from",)

    @staticmethod
    def forward(ctx, x, k, axes):
        ctx.k, ctx.axes = k, axes
        return xp.rot90(x, k, axes).copy()

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.rot90(g, -ctx.k, ctx.axes), None, None


class Diagonal(Op):
    """The diagonal moves to the last axis."""

    formula = "z = diagonal(x, offset, dim1, dim2)"
    local = ("1 on the diagonal",)

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        ctx.shape = x.shape
        ctx.index = _diagonal_index(x.shape, offset, dim1, dim2)
        return _diagonal_view(x, offset, dim1, dim2)

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.index_add(ctx.shape, ctx.index, g), None, None, None


def _diagonal_view(x, offset: int, dim1: int, dim2: int):
    """The diagonal as a strided view of ``x`` (writable where ``x`` is), as PyTorch's: one step along it moves
    one row and one column (NumPy's own ``diagonal`` is read-only)."""
    start = [slice(None)] * x.ndim
    start[dim1], start[dim2] = slice(max(-offset, 0), None), slice(max(offset, 0), None)
    corner = x[tuple(start)]
    rest = [d for d in range(x.ndim) if d not in (dim1, dim2)]
    n = min(corner.shape[dim1], corner.shape[dim2])
    return xp.lib.stride_tricks.as_strided(corner, tuple(x.shape[d] for d in rest) + (n,),
                                           tuple(x.strides[d] for d in rest) + (x.strides[dim1] + x.strides[dim2],))


def _diagonal_index(shape: tuple, offset: int, dim1: int, dim2: int) -> tuple:
    """Index arrays that read the diagonal, broadcasting to (other dims..., diagonal length)."""
    rest = [d for d in range(len(shape)) if d not in (dim1, dim2)]
    n = max(0, min(shape[dim1] - max(-offset, 0), shape[dim2] - max(offset, 0)))
    i = xp.arange(n)
    out_ndim = len(rest) + 1
    index = [None] * len(shape)
    for k, d in enumerate(rest):
        index[d] = xp.arange(shape[d]).reshape((-1,) + (1,) * (out_ndim - 1 - k))
    index[dim1] = i + max(-offset, 0)
    index[dim2] = i + max(offset, 0)
    return tuple(index)


class Take(Op):
    """Repeated indices accumulate their gradients."""

    formula = "z = x.flatten()[index]"
    local = ("1 at the read positions",)

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.index = x.shape, index
        ctx.save_for_backward(x)      # as PyTorch's TakeBackward0: changing x in place afterwards raises
        return x.reshape(-1)[index]

    @staticmethod
    def backward(ctx, g):
        ctx.saved_tensors     # noqa: B018 - reading them checks that x was not changed in place since
        size = 1
        for n in ctx.shape:
            size *= n
        xp_ = ctx.xp
        return xp_.reshape(xp_.index_add((size,), (ctx.index,), g), ctx.shape), None


class Cumprod(Op):
    """z_j / x_i is the product of all factors of z_j but x_i. Without zeros that is one reversed cumsum
    divided by x. With a zero the division is 0/0, so then the sum is built without dividing:
    ∂L/∂x_i = z_{i-1} · S_i with S_i = g_i + x_{i+1}·S_{i+1}, one step per position along the axis."""

    formula = "z = cumprod(x, dim)"
    local = ("Σ_{j≥i} z_j/x_i",)

    @staticmethod
    def forward(ctx, x, axis):
        if x.ndim == 0:
            z = x.copy()
        elif x.dtype.kind == "f":   # the ufunc from here: overflow to inf stays silent, as in PyTorch
            z = contiguous(xp.multiply.accumulate(x, axis=axis))
        else:
            z = contiguous(xp.cumprod(x, axis=axis))
        ctx.axis = axis
        ctx.save_for_backward(x, z)
        return z

    @staticmethod
    def backward(ctx, g):
        x, z = ctx.saved_tensors
        xp_, axis = ctx.xp, ctx.axis
        if x.ndim == 0 or x.shape[axis] <= 1 or math.prod(x.shape) <= 1:   # z = x, or empty: g passes through
            return g, None
        if not bool((x == 0).any()):
            return xp_.flip(xp_.cumsum(xp_.flip(g * z, axis), axis), axis) / x, None
        at = _along(axis)
        n = x.shape[axis]
        s = g[at(n - 1)]
        grads = [s]                         # S_i, built from the last position back
        for i in range(n - 2, -1, -1):
            s = g[at(i)] + x[at(i + 1)] * s
            grads.append(s)
        grads.reverse()
        out = [grads[0]] + [z[at(i - 1)] * grads[i] for i in range(1, n)]
        return xp_.stack(out, axis), None


def _along(axis: int):
    """``at(i)``: the index of position i along ``axis`` (all of the other axes)."""
    return lambda i: (slice(None),) * axis + (i,)

"""The ops of in-place writes that forget the old value: ``fill_``, ``zero_`` and ``copy_``.

The tensor layer runs them on a copy of the old value and writes the result back (see
``Tensor._inplace``). The old value does not reach the result, so its gradient is zeros that
depend on nothing, as PyTorch's ``zeros_like(grad)``: under ``create_graph`` it is a constant, and
a second-order gradient through it is None, not a tensor of zeros.
"""

from __future__ import annotations

from ..autograd.function import Op
from ..backend import xp


class Fill(Op):
    backward_name = "FillBackward2"
    op_name = "fill_"
    formula = "z = c"
    local = ("0",)

    @staticmethod
    def forward(ctx, x, value):
        return xp.full_like(x, value)

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.zeros_like(g), None


class Zero(Op):
    op_name = "zero_"
    formula = "z = 0"
    local = ("0",)

    @staticmethod
    def forward(ctx, x):
        return xp.zeros_like(x)

    @staticmethod
    def backward(ctx, g):
        return (ctx.xp.zeros_like(g),)


class Copy(Op):
    """src is broadcast to x's shape and cast to x's dtype; the engine sums its gradient back."""

    backward_name = "CopyBackwards"
    op_name = "copy_"
    formula = "z = src"
    local = ("0", "1")

    @staticmethod
    def forward(ctx, x, src):
        try:
            return xp.broadcast_to(src, x.shape).astype(x.dtype)
        except ValueError:
            raise RuntimeError(f"copy_: source of shape {tuple(xp.shape(src))} cannot be broadcast to the "
                               f"destination's shape {tuple(x.shape)}") from None

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.zeros_like(g), g

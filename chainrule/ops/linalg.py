"""Matrix products. One op covers matmul/@/mm/bmm/mv/dot with NumPy's matmul rules:
1-D operands are treated as a row (left) or column (right) vector, batch dims broadcast.

For Z = X·W:  ∂L/∂X = G·Wᵀ and ∂L/∂W = Xᵀ·G — the gradient never builds the (huge, mostly zero)
Jacobian ∂Z/∂W, it multiplies G by the other factor directly. Summing over broadcast batch dims
is left to the engine.
"""

from __future__ import annotations

import math

from ..autograd.function import Op
from ..backend import xp


class MatMul(Op):
    formula = "z = x @ y"
    local = ("g·yᵀ", "xᵀ·g")

    @staticmethod
    def forward(ctx, x, y):
        op = ctx.op_name
        if x.ndim == 0 or y.ndim == 0:
            raise RuntimeError(f"{op}: both arguments need at least 1 dimension; got shapes "
                               f"{x.shape} and {y.shape}")
        try:
            if x.ndim > 2 and y.ndim == 2 and x.shape[-1] == y.shape[0]:
                # (..., k) @ (k, n): one GEMM on the flattened rows, not one small product per batch row
                # (explicit row count: with a zero-size dim a -1 would be ambiguous)
                rows = math.prod(x.shape[:-1])
                z = xp.matmul(x.reshape(rows, x.shape[-1]), y).reshape(x.shape[:-1] + (y.shape[1],))
            else:
                z = xp.matmul(x, y)
        except ValueError:
            k1 = x.shape[-1]
            k2 = y.shape[0] if y.ndim == 1 else y.shape[-2]
            if k1 != k2:
                raise RuntimeError(f"{op}: cannot multiply {x.shape} by {y.shape}: inner dimensions "
                                   f"{k1} and {k2} differ") from None
            raise RuntimeError(f"{op}: batch dimensions of {x.shape} and {y.shape} cannot be "
                               f"broadcast together") from None
        # as PyTorch: x only for y's gradient, y only for x's (an in-place change to the other is fine)
        ctx.save_for_backward(x if ctx.needs(1) else None, y if ctx.needs(0) else None)
        ctx.shapes = (x.shape, y.shape)
        return z

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        xp_ = ctx.xp
        x_shape, y_shape = ctx.shapes
        gx = gy = None
        if len(x_shape) == 1 and len(y_shape) == 1:          # dot: scalar output
            gx = g * y if ctx.needs(0) else None
            gy = g * x if ctx.needs(1) else None
        elif len(y_shape) == 1:                               # (..., m, k) @ (k,) -> (..., m)
            gcol = xp_.expand_dims(g, -1)
            gx = gcol * y if ctx.needs(0) else None
            gy = xp_.matmul(xp_.swapaxes(x, -1, -2), gcol)[..., 0] if ctx.needs(1) else None
        elif len(x_shape) == 1:                               # (k,) @ (..., k, n) -> (..., n)
            grow = xp_.expand_dims(g, -1)
            gx = xp_.matmul(y, grow)[..., 0] if ctx.needs(0) else None
            gy = xp_.expand_dims(x, -1) * xp_.expand_dims(g, -2) if ctx.needs(1) else None
        elif len(x_shape) > 2 and len(y_shape) == 2:         # (..., k) @ (k, n) as one (rows, k) @ (k, n)
            rows = math.prod(x_shape[:-1])
            g2 = xp_.reshape(g, (rows, g.shape[-1]))
            gx = xp_.reshape(xp_.matmul(g2, xp_.swapaxes(y, 0, 1)), x_shape) if ctx.needs(0) else None
            if ctx.needs(1):                                  # Σ over rows directly: no batch of (k, n) grads
                gy = xp_.matmul(xp_.swapaxes(xp_.reshape(x, (rows, x_shape[-1])), 0, 1), g2)
        else:
            gx = xp_.matmul(g, xp_.swapaxes(y, -1, -2)) if ctx.needs(0) else None
            gy = xp_.matmul(xp_.swapaxes(x, -1, -2), g) if ctx.needs(1) else None
        return gx, gy


class Dot(MatMul):
    """``x @ y`` of two vectors (``matmul``, ``dot``, ``inner``): a scalar."""

    op_name = "matmul"


class Mm(MatMul):
    """``x @ y`` of two matrices (``matmul``, ``mm``)."""

    op_name = "matmul"


class Mv(MatMul):
    """``x @ y`` of a matrix and a vector (``matmul``, ``mv``)."""

    op_name = "matmul"


class Bmm(MatMul):
    """``x @ y`` with batch dimensions (``matmul``, ``bmm``)."""

    op_name = "matmul"

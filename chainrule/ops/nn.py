"""The ops behind ``chainrule.nn``: layers and losses that are one node each, for a stated reason.

- ``Gelu``: exact GELU through erf, one node with its own derivative.
- ``Linear``: one node instead of transpose + matmul + add on the training hot path.
- ``Embedding``: a row lookup whose gradient is scattered back (``padding_idx`` gets none).
- ``LogSigmoid``: the composite log(sigmoid(x)) overflows and has the wrong gradient at exactly 0.
- ``BinaryCrossEntropy``: log(0) clamped to -100 must still give a finite gradient.
"""

from __future__ import annotations

import math

from ..autograd.function import Op
from ..backend import xp
from ..backend.special import erf

_BCE_EPS = float(xp.float32(1e-12))   # PyTorch's BCE backward clamps x(1-x) at the float32 value of 1e-12


class Gelu(Op):
    """z = x·Φ(x) with Φ(x) = ½(1 + erf(x/√2));  ∂z/∂x = Φ(x) + x·φ(x), φ(x) = e^(-x²/2)/√(2π)"""

    formula = "z = x·Φ(x)"
    local = ("Φ(x) + x·φ(x)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * (0.5 * (1.0 + erf(x * math.sqrt(0.5))))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        xp_ = ctx.xp
        cdf = 0.5 * (1.0 + xp_.erf(x * math.sqrt(0.5)))
        pdf = xp_.exp(-0.5 * (x * x)) * (1.0 / math.sqrt(2.0 * math.pi))
        return (g * (cdf + x * pdf),)


class Linear(Op):
    """z = x·Wᵀ + b;  ∂L/∂x = g·W, ∂L/∂W = gᵀ·x (summed over batch dims), ∂L/∂b = Σ_batch g"""

    formula = "z = x @ W.T + b"
    local = ("g·W", "gᵀ·x", "Σ g")

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.backward_name = "AddmmBackward0" if b is not None else "MmBackward0"
        z = x @ w.T              # the transposed view costs nothing: BLAS reads it transposed
        if b is not None:
            z += b               # in place: z is a fresh buffer that only we hold
        ctx.save_for_backward(x, w)
        return z

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        xp_ = ctx.xp
        gx = xp_.matmul(g, w) if ctx.needs(0) else None
        gw = None
        if ctx.needs(1):
            if x.ndim == 1:
                gw = xp_.expand_dims(g, -1) * x
            else:
                g2 = g if g.ndim == 2 else xp_.reshape(g, (-1, g.shape[-1]))
                x2 = x if x.ndim == 2 else xp_.reshape(x, (-1, x.shape[-1]))
                gw = xp_.matmul(xp_.swapaxes(g2, 0, 1), x2)
        gb = g if ctx.needs(2) else None   # the engine sums the batch dims down to b's shape
        return gx, gw, gb


class Embedding(Op):
    """z = W[idx] (a row lookup);  ∂L/∂W = rows of g added back at idx (row padding_idx gets none)"""

    formula = "z = W[idx]"
    local = ("1 at the looked-up rows",)

    @staticmethod
    def forward(ctx, w, idx, padding_idx):
        ctx.shape, ctx.idx, ctx.padding_idx = w.shape, idx, padding_idx
        return xp.take(w, idx, axis=0)

    @staticmethod
    def backward(ctx, g):
        xp_ = ctx.xp
        gw = xp_.index_add(ctx.shape, (ctx.idx,), g)
        if ctx.padding_idx is not None:
            pad_row = xp.zeros((ctx.shape[0],) + (1,) * (len(ctx.shape) - 1), bool)
            pad_row[ctx.padding_idx] = True
            gw = xp_.where(pad_row, 0, gw)
        return gw, None, None


class LogSigmoid(Op):
    """z = log σ(x) = min(x, 0) - log(1 + e^(-|x|)) (never overflows);  ∂z/∂x = σ(-x)"""

    formula = "z = log(sigmoid(x))"
    local = ("σ(-x)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        xp_ = ctx.xp
        e = xp_.exp(-xp_.abs(x))               # in (0, 1]: σ(-x) from it without overflow on either side
        return (g * xp_.where(x >= 0, e / (1 + e), 1 / (1 + e)),)


class BinaryCrossEntropy(Op):
    """z = -(t·max(log x, -100) + (1-t)·max(log(1-x), -100));  ∂z/∂x = (x - t) / max(x(1-x), 1e-12),
    ∂z/∂t = log(1-x) - log x"""

    formula = "z = -(t·log x + (1-t)·log(1-x))"
    local = ("(x - t) / (x(1-x))", "log(1-x) - log x")

    @staticmethod
    def forward(ctx, x, t):
        if x.size and (x.min() < 0 or x.max() > 1):
            raise RuntimeError(f"binary_cross_entropy: all elements of input should be between 0 and 1 "
                               f"(got min {x.min():.4g}, max {x.max():.4g}); use binary_cross_entropy_with_logits "
                               f"for raw scores")
        ctx.save_for_backward(x, t)
        with xp.errstate(divide="ignore"):   # log(0) = -inf is expected; the clamp makes it -100
            log_x = xp.maximum(xp.log(x), -100.0)
            log_1mx = xp.maximum(xp.log1p(-x), -100.0)
        return -(t * log_x + (1 - t) * log_1mx)

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        xp_ = ctx.xp
        gx = g * (x - t) / xp_.maximum(x * (1 - x), _BCE_EPS) if ctx.needs(0) else None
        gt = None
        if ctx.needs(1):
            with xp.errstate(divide="ignore"):   # -logit(x), unclamped as PyTorch's (±inf at x = 0 or 1)
                gt = g * (xp_.log(1 - x) - xp_.log(x))
        return gx, gt

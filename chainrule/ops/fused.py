"""Composites that run as one node each because models spend their time in them.

- ``LayerNorm``: mean, centre, variance, rsqrt, scale and shift would be 9 recorded ops; its
  backward is the closed form below, one pass over the rows.

(cross_entropy is two nodes, ``LogSoftmax`` then ``NllLoss``, as PyTorch records it: a tutorial that
walks ``loss.grad_fn.next_functions`` prints the same names.)

It keeps the saved statistics (x̂ and 1/σ; the softmax) for the ordinary first-order backward and
recompute them from the input under ``create_graph=True``, where they must be functions of x for
the second derivative to be right.
"""

from __future__ import annotations

from ..autograd.function import Op
from ..backend import xp


def _normalize(xp_, x, axes, n, eps):
    """x̂ = (x - μ)/σ and 1/σ over ``axes`` (σ² the biased variance + eps), with ``xp_``'s functions."""
    xc = x - xp_.sum(x, axis=axes, keepdims=True) * (1.0 / n)
    rstd = 1.0 / xp_.sqrt(xp_.sum(xc * xc, axis=axes, keepdims=True) * (1.0 / n) + eps)
    return xc * rstd, rstd


class LayerNorm(Op):
    """Over the last k dims (n elements), x̂ = (x - μ)/√(σ² + ε):
    ∂L/∂x = (ĝ - mean(ĝ) - x̂·mean(ĝ·x̂))/σ with ĝ = g·w,  ∂L/∂w = Σ g·x̂,  ∂L/∂b = Σ g."""

    backward_name = "NativeLayerNormBackward0"
    op_name = "layer_norm"
    formula = "z = (x - mean(x))/sqrt(var(x) + eps)·w + b"
    local = ("(ĝ - mean(ĝ) - x̂·mean(ĝ·x̂))/σ", "Σ g·x̂", "Σ g")

    @staticmethod
    def forward(ctx, x, w, b, k, eps):
        axes = tuple(range(x.ndim - k, x.ndim))
        n = 1
        for d in x.shape[x.ndim - k:]:
            n *= d
        n = max(n, 1)          # an empty normalized shape: the arrays are empty, any count will do
        xhat, rstd = _normalize(xp, x, axes, n, eps)
        ctx.axes, ctx.n, ctx.eps = axes, n, eps
        ctx.xhat, ctx.rstd = xhat, rstd               # for the first-order backward
        ctx.save_for_backward(x, w)
        if w is None:
            return xhat + b if b is not None else xhat.copy()
        z = xhat * w
        if b is not None:
            z += b                                     # z is ours: shift in place
        return z

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        xp_, axes, inv_n = ctx.xp, ctx.axes, 1.0 / ctx.n
        xhat, rstd = _normalize(xp_, x, axes, ctx.n, ctx.eps)   # as functions of x (create_graph)
        gw = g * xhat if ctx.needs(1) else None        # the engine sums the leading dims down to w
        # PyTorch's ∂L/∂b also depends on x (with derivative 0) under create_graph
        gb = xp_.attach(g, x) if ctx.needs(2) else None
        gx = None
        if ctx.needs(0):
            gh = g * w if w is not None else g
            mean_g = xp_.sum(gh, axis=axes, keepdims=True) * inv_n
            mean_gx = xp_.sum(gh * xhat, axis=axes, keepdims=True) * inv_n
            gx = (gh - mean_g - xhat * mean_gx) * rstd
        return gx, gw, gb, None, None

    @staticmethod
    def backward_array(ctx, g):
        """The first-order kernel: the same formula with x̂ and 1/σ kept from forward, and ∂L/∂x
        computed in place on one buffer."""
        w = ctx.saved_tensors[1]
        xhat, rstd, axes, inv_n = ctx.xhat, ctx.rstd, ctx.axes, 1.0 / ctx.n
        gw = g * xhat if ctx.needs(1) else None
        gb = g if ctx.needs(2) else None
        gx = None
        if ctx.needs(0):
            gh = g * w if w is not None else g
            mean_g = xp.sum(gh, axis=axes, keepdims=True) * inv_n
            gx = xhat * (xp.sum(gh * xhat, axis=axes, keepdims=True) * inv_n)
            xp.subtract(gh, gx, out=gx)
            gx -= mean_g
            gx *= rstd
        return gx, gw, gb, None, None

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

import math
from functools import lru_cache

from ..autograd.function import Op
from ..backend import accel, xp


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
        # On (rows, n) views: row sums as matrix-vector products (BLAS sums short rows far faster
        # than a NumPy reduce), x̂ and 1/σ kept for the first-order kernel.
        rows, n = math.prod(x.shape[:x.ndim - k]), math.prod(x.shape[x.ndim - k:])
        x2 = x.reshape(rows, n)
        ctx.axes, ctx.n, ctx.eps = tuple(range(x.ndim - k, x.ndim)), max(n, 1), eps
        ctx.norm_shape = x.shape[x.ndim - k:]         # w's and b's shape
        kernels = _compiled(x, w, b)
        if kernels is not None and n > 0:               # float32 with numba: one pass per row
            z, xhat, rstd = xp.empty_like(x2), xp.empty_like(x2), xp.empty(rows, x.dtype)
            kernels.layer_norm_forward(x2, _vector(w, n, 1), _vector(b, n, 0), xp.float32(eps), z, xhat, rstd)
            ctx.save_for_backward(x, w, xhat, rstd, b)
            return z.reshape(x.shape)
        xhat = x2 - (x2 @ _ones(n, x.dtype))[:, None] * (1.0 / max(n, 1))
        var = xp.einsum("ij,ij->i", xhat, xhat) * (1.0 / max(n, 1))   # n = 0: empty arrays, any count
        rstd = 1.0 / xp.sqrt(var + eps)
        xhat *= rstd[:, None]
        ctx.save_for_backward(x, w, xhat, rstd, b)   # b only for requires_grad under create_graph
        if w is None:
            z = xhat + b.reshape(n) if b is not None else xhat.copy()
        else:
            z = xhat * w.reshape(n)
            if b is not None:
                z += b.reshape(n)                      # z is ours: shift in place
        return z.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        x, w, _, _, b = ctx.saved_tensors
        xp_, axes, inv_n = ctx.xp, ctx.axes, 1.0 / ctx.n
        xhat, rstd = _normalize(xp_, x, axes, ctx.n, ctx.eps)   # as functions of x (create_graph)
        # Under create_graph PyTorch's gradients all require grad when x, w or b does, but give no
        # second-order gradient to what their formula does not read (its double backward leaves it undefined)
        gw = xp_.attach(g * xhat, w, b, zeros=False) if ctx.needs(1) else None   # the engine sums to w
        gb = xp_.attach(g, x, w, b, zeros=False) if ctx.needs(2) else None
        gx = None
        if ctx.needs(0):
            gh = g * w if w is not None else g
            mean_g = xp_.sum(gh, axis=axes, keepdims=True) * inv_n
            mean_gx = xp_.sum(gh * xhat, axis=axes, keepdims=True) * inv_n
            gx = xp_.attach((gh - mean_g - xhat * mean_gx) * rstd, b, zeros=False)
        return gx, gw, gb, None, None

    @staticmethod
    def backward_array(ctx, g):
        """The first-order kernel: the same formula with x̂ and 1/σ kept from forward, on (rows, n)
        views, the sums over rows and over each row as matrix-vector products."""
        _, w, xhat, rstd, _ = ctx.saved_tensors
        rows, n = xhat.shape
        g2 = g.reshape(rows, n)
        kernels = _compiled(g2, w, xhat, rstd)
        if kernels is not None and n > 0:               # float32 with numba: one pass per row
            gx, gw, gb = xp.empty_like(g2), xp.zeros(n, g.dtype), xp.zeros(n, g.dtype)
            kernels.layer_norm_backward(g2, _vector(w, n, 1), xhat, rstd, gx, gw, gb)
            return (gx.reshape(g.shape) if ctx.needs(0) else None, gw.reshape(ctx.norm_shape) if ctx.needs(1) else None,
                    gb.reshape(ctx.norm_shape) if ctx.needs(2) else None, None, None)
        gw = (_ones(rows, g.dtype) @ (g2 * xhat)).reshape(ctx.norm_shape) if ctx.needs(1) else None
        gb = (_ones(rows, g.dtype) @ g2).reshape(ctx.norm_shape) if ctx.needs(2) else None
        gx = None
        if ctx.needs(0):
            gh = g2 * w.reshape(n) if w is not None else g2
            mean_g = (gh @ _ones(n, g.dtype)) * (1.0 / ctx.n)
            mean_gx = xp.einsum("ij,ij->i", gh, xhat) * (1.0 / ctx.n)
            gx = gh * rstd[:, None]                    # (ĝ - mean(ĝ) - x̂·mean(ĝ·x̂))/σ, term by term
            gx -= xhat * (mean_gx * rstd)[:, None]
            gx -= (mean_g * rstd)[:, None]
            gx = gx.reshape(g.shape)
        return gx, gw, gb, None, None


def _compiled(x, *others):
    """The numba kernels (``backend/numba_nn.py``) when x and the other arrays (None skipped) are
    C-contiguous float32; None otherwise, or without numba (then NumPy runs)."""
    for a in (x, *others):            # a loop, not any(generator): this runs on every call
        if a is not None and (a.dtype != xp.float32 or not a.flags.c_contiguous):
            return None
    return accel.kernels("numba_nn")


def _vector(a, n: int, fill: int):
    """a as a vector of n, or n copies of ``fill`` (1 for a missing weight, 0 for a missing bias); a
    fresh writeable array, not a cached read-only one: numba would compile the kernel again for that type."""
    if a is not None:
        return a.reshape(n)
    return xp.full(n, fill, xp.float32)


@lru_cache(maxsize=64)
def _ones(n: int, dtype):
    """A read-only vector of n ones: ``a @ ones`` sums each row of a (a matrix-vector product)."""
    ones = xp.ones(n, dtype)
    ones.flags.writeable = False
    return ones

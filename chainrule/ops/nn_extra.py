"""More layer ops that PyTorch records as one node: ``prelu`` (a leaky ReLU whose slope is learned)."""

from __future__ import annotations

from ..autograd.function import Op
from ..backend import xp


class Prelu(Op):
    """The slope w arrives already shaped to broadcast against x (one per channel, or one in all).
    At x = 0 the negative branch is taken (PyTorch's rule). The gradients' own derivatives (create_graph)
    take x = 0 as positive instead, as PyTorch's double backward does: its mixed terms are masked by
    x < 0, and the gradient's slope in g at 0 is 1, though the gradient's value there is w·g."""

    backward_name = "PreluKernelBackward0"
    formula = "z = x if x > 0 else w·x"
    local = ("1[x > 0] + w·1[x ≤ 0]", "x·1[x ≤ 0]")

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return xp.where(x > 0, x, w * x)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        m = ctx.xp
        gx, gw = m.where(x > 0, g, w * g), m.where(x > 0, 0, x * g)     # not 0·g: NaN at g = ±inf
        # at x = 0 PyTorch's double backward differentiates these as on the positive side: the slope of gx in
        # g is 1 (its value stays w·g), and gw has no slope at all (constants keep the values exact)
        zero = x == 0
        gx = m.where(zero & (m.abs(g) < float("inf")), m.constant(gx) + (g - m.constant(g)), gx)
        gw = m.where(zero, m.constant(gw), gw)
        # PyTorch's backward is one node reading x and w: under create_graph each gradient has a (zero)
        # derivative w.r.t. both, never None
        return m.attach(gx, x, w), m.attach(gw, x, w)

    @staticmethod
    def backward_array(ctx, g):
        x, w = ctx.saved_tensors
        positive = x > 0
        return xp.where(positive, g, w * g), xp.where(positive, 0, x * g)


class WeightedEmbedding(Op):
    """embedding_bag's lookup with per_sample_weights: row idx[i] of W scaled by p[i]. One node, as in
    PyTorch, saving W for p's gradient, so changing W in place afterwards makes that backward raise."""

    formula = "z[i] = W[idx[i]] · p[i]"
    local = ("p[i] at the looked-up rows", "W[idx[i]]")

    @staticmethod
    def forward(ctx, w, idx, p):
        ctx.save_for_backward(w if ctx.needs(2) else None, idx, p if ctx.needs(0) else None)
        ctx.shape = w.shape
        return xp.take(w, idx, axis=0) * p[:, None]

    @staticmethod
    def backward(ctx, g):
        w, idx, p = ctx.saved_tensors
        m = ctx.xp
        idx = getattr(idx, "_data", idx)      # under create_graph saved arrays come back as Tensors
        gw = m.index_add(ctx.shape, (idx,), g * m.expand_dims(p, -1)) if ctx.needs(0) else None
        gp = m.sum(g * w[idx], -1) if ctx.needs(2) else None
        return gw, None, gp

"""More layer ops that PyTorch records as one node: ``prelu`` (a leaky ReLU whose slope is learned)."""

from __future__ import annotations

from ..autograd.function import Op
from ..backend import xp


class Prelu(Op):
    """The slope w arrives already shaped to broadcast against x (one per channel, or one in all).
    At x = 0 the negative branch is taken (PyTorch's rule)."""

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
        positive = x > 0
        m = ctx.xp
        gx, gw = m.where(positive, g, w * g), m.where(positive, 0, x * g)   # not 0·g: NaN at g = ±inf
        # PyTorch's backward is one node reading x and w: under create_graph each gradient has a (zero)
        # derivative w.r.t. both, never None
        return m.attach(gx, x, w), m.attach(gw, x, w)

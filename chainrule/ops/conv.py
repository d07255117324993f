"""Convolution as im2col + one matrix product, with adjoint ops for every backward.

A convolution reads, for every output pixel, a window of the (padded) input. Copying all windows
into one matrix ``cols`` (C·kh·kw, N·OH·OW) — "im2col" (``backend.conv_kernels``) — turns the
whole layer into one product ``w (O, C·kh·kw) @ cols`` per group, which BLAS runs near its peak.
Conv is bilinear in (x, w), so its gradients are convolutions too:

    ∂L/∂x = conv_transpose(g, w)   (ConvInputGrad: wᵀ @ g, then add the columns back: col2im)
    ∂L/∂w = correlate(x, g)        (ConvWeightGrad: g @ colsᵀ)

Each of the three is an Op whose backward calls the other two, so any order of derivative works.

Speed comes from memory, not arithmetic: the big work arrays come from ``backend.scratch`` and are
reused once nothing else holds them (fresh multi-MB arrays cost page faults on every step), the
forward's ``cols`` is kept for the weight gradient instead of being built a second time, and on the
first-order path g is brought into channel-major order once for both products. Without numba, small
images use batch-last columns (``conv_kernels.batch_last``): every function below takes ``last``.
"""

from __future__ import annotations

from ..autograd.function import Op
from ..backend import array_math, xp
from ..backend.conv_kernels import Geometry, batch_last, col2im, im2col, offset, out_size, pad
from ..backend.scratch import scratch

__all__ = ["Conv", "ConvInputGrad", "ConvWeightGrad", "Geometry", "offset", "out_size", "pad"]

KEEP_COLS_BYTES = 64 * 2 ** 20  # keep forward's im2col matrix for backward up to this size


def _call(op, xp_, *args):
    """Run ``op`` raw on the first-order path, as a recorded Op under create_graph."""
    if xp_ is array_math:
        return op.kernel(*args)
    return op.apply(*args)


def _as4d(a):
    return a[:, :, None, :] if a.ndim == 3 else a


def _shape4d(shape: tuple) -> tuple:
    return (shape[0], shape[1], 1, shape[2]) if len(shape) == 3 else tuple(shape)


def _out(a, ndim: int):
    """A 4-D result back as 3-D when the op's input was 1-D (N, C, L)."""
    return a[:, :, 0] if ndim == 3 else a


# --- convolution kernels (raw arrays, 4-D) ---------------------------------------------------
def by_channel(gout, groups: int, last: bool = False):
    """g (N, O, OH, OW) in channel-major order (groups, O/groups, N·OH·OW), the layout of ``cols``
    (with ``last``, (groups, O/groups, OH·OW·N))."""
    n, o, oh, ow = gout.shape
    gt = scratch("gT", (o, n, oh, ow), gout.dtype)
    xp.copyto(gt, gout.transpose(1, 0, 2, 3))
    if last:
        gt, plain = scratch("gTT", (o, oh, ow, n), gout.dtype), gt
        xp.copyto(gt, plain.transpose(0, 2, 3, 1))
    return gt.reshape(groups, o // groups, n * oh * ow)


def conv_forward(x, w, b, geom: Geometry, last: bool | None = None):
    """(out, cols, last) for x (N, C, H, W), w (O, C/groups, kh, kw), bias b (O,) or None; ``last``
    (batch-last columns) is chosen by ``batch_last`` unless given."""
    n, _, h, wd = x.shape
    o, cg, kh, kw = w.shape
    g, (t, bottom, left, r) = geom.groups, geom.padding
    oh = out_size(h, kh, geom.stride[0], t, bottom, geom.dilation[0])
    ow = out_size(wd, kw, geom.stride[1], left, r, geom.dilation[1])
    dtype = xp.result_type(x, w)
    last = batch_last(dtype, ow) if last is None else last
    cols = im2col(x, kh, kw, geom, oh, ow, last)
    res = scratch("convres", (g, o // g, n * oh * ow), dtype)
    xp.matmul(w.reshape(g, o // g, cg * kh * kw), cols.reshape(g, cg * kh * kw, n * oh * ow), out=res)
    if last:
        grid = res.reshape(o, oh, ow, n).transpose(3, 0, 1, 2)
    else:
        grid = res.reshape(o, n, oh, ow).transpose(1, 0, 2, 3)
    out = xp.empty((n, o, oh, ow), dtype)
    if b is None:                      # one pass brings the result to (N, O, OH, OW) order ...
        xp.copyto(out, grid)
    else:                              # ... and adds the bias on the way
        xp.add(grid, b.reshape(1, o, 1, 1), out=out)
    return out, cols, last


def conv_input_grad(gout, w, geom: Geometry, x_shape: tuple, gt=None, last: bool | None = None):
    """conv_transpose: gx = col2im(wᵀ @ g); ``gt`` is g already in channel-major order, if at hand."""
    n, o, oh, ow = gout.shape
    _, cg, kh, kw = w.shape
    g = geom.groups
    last = batch_last(xp.result_type(gout, w), ow) if last is None else last
    if gt is None:
        gt = by_channel(gout, g, last)
    grid = (oh, ow, n) if last else (n, oh, ow)
    gcols = scratch("gcolsT" if last else "gcols", (cg * g, kh, kw, *grid), xp.result_type(gout, w))
    wt = w.reshape(g, o // g, cg * kh * kw).transpose(0, 2, 1)
    xp.matmul(wt, gt, out=gcols.reshape(g, cg * kh * kw, n * oh * ow))
    return col2im(gcols, geom, x_shape, last)


def conv_weight_grad(x, gout, geom: Geometry, w_shape: tuple, gt=None, cols=None, last: bool | None = None):
    """gw[o, k] = Σ_n,p,q g[n, o, p, q] · cols[k, n, p, q]: one product per group, no batch sum."""
    n, _, oh, ow = gout.shape
    _, cg, kh, kw = w_shape
    g = geom.groups
    last = batch_last(xp.result_type(x, gout), ow) if last is None else last
    if cols is None:
        cols = im2col(x, kh, kw, geom, oh, ow, last)
    if gt is None:
        gt = by_channel(gout, g, last)
    # gt @ colsᵀ: BLAS reads the transposed operand in place (no copy)
    gw = xp.matmul(gt, cols.reshape(g, cg * kh * kw, n * oh * ow).transpose(0, 2, 1))
    return gw.reshape(w_shape)


class Conv(Op):
    """1-D (N, C, L) or 2-D (N, C, H, W); a 1-D conv is a 2-D one of height 1."""

    backward_name = "ConvolutionBackward0"
    formula = "z[n,o,h,w] = Σ_c,i,j w[o,c,i,j]·x[n,c, s·h+d·i-p, s·w+d·j-p] + b[o]"
    local = ("∂L/∂x = conv_transpose(g, w)", "∂L/∂w = correlate(x, g)", "∂L/∂b = Σ_n,h,w g")
    cols = None                    # forward's im2col matrix, kept for the first-order weight gradient
    last = None                    # ... and its layout (batch-last or not)

    @staticmethod
    def kernel(x, w, b, geom):
        return _out(conv_forward(_as4d(x), _as4d(w), b, geom)[0], x.ndim)

    @staticmethod
    def forward(ctx, x, w, b, geom):
        ctx.save_for_backward(x, w)
        ctx.geom = geom
        out, cols, last = conv_forward(_as4d(x), _as4d(w), b, geom)
        if cols.nbytes <= KEEP_COLS_BYTES:
            ctx.cols, ctx.last = cols, last
        return _out(out, x.ndim)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        xp_, geom = ctx.xp, ctx.geom
        if 0 in x.shape[:2]:   # an empty batch or no channels: constant zero gradients (PyTorch: no double backward)
            gx = xp_.zeros_like(x) if ctx.needs(0) else None
            gw = xp_.zeros_like(w) if ctx.needs(1) else None
        else:
            gx = _call(ConvInputGrad, xp_, g, w, geom, tuple(x.shape)) if ctx.needs(0) else None
            gw = _call(ConvWeightGrad, xp_, x, g, geom, tuple(w.shape)) if ctx.needs(1) else None
        gb = xp_.sum(g, axis=(0, 2, 3) if g.ndim == 4 else (0, 2)) if ctx.needs(2) else None
        # PyTorch computes all three in one node that reads x and w: under create_graph the gradients
        # depend on x and w with derivative 0 where PyTorch leaves the term undefined
        gx, gw, gb = (None if t is None else xp_.attach(t, x, w, zeros=False) for t in (gx, gw, gb))
        return gx, gw, gb, None

    @staticmethod
    def backward_array(ctx, g):
        """The first-order kernel: g in channel-major order once for all three gradients, forward's cols reused."""
        x, w = ctx.saved_tensors
        cols, ctx.cols = ctx.cols, None      # used once; a retained graph rebuilds them
        geom, g4 = ctx.geom, _as4d(g)
        last = batch_last(xp.result_type(x, w), g4.shape[3]) if cols is None else ctx.last
        gt = by_channel(g4, geom.groups, last)
        gx = gw = gb = None
        if ctx.needs(0):
            gx = _out(conv_input_grad(g4, _as4d(w), geom, _shape4d(x.shape), gt, last), x.ndim)
        if ctx.needs(1):
            gw = conv_weight_grad(_as4d(x), g4, geom, _shape4d(w.shape), gt, cols, last).reshape(w.shape)
        if ctx.needs(2):
            gb = gt.sum(axis=-1).reshape(-1)
        return gx, gw, gb, None


class ConvInputGrad(Op):
    """The input gradient of conv; linear in g and in w."""

    backward_name = "ConvolutionBackward0"
    formula = "z = conv_transpose(g, w)"
    local = ("∂L/∂g = conv(gg, w)", "∂L/∂w = correlate(gg, g)")

    @staticmethod
    def kernel(g, w, geom, x_shape):
        return _out(conv_input_grad(_as4d(g), _as4d(w), geom, _shape4d(x_shape)), len(x_shape))

    @staticmethod
    def forward(ctx, g, w, geom, x_shape):
        ctx.save_for_backward(g, w)
        ctx.geom = geom
        return ConvInputGrad.kernel(g, w, geom, x_shape)

    @staticmethod
    def backward(ctx, gg):
        g, w = ctx.saved_tensors
        dg = _call(Conv, ctx.xp, gg, w, None, ctx.geom) if ctx.needs(0) else None
        dw = _call(ConvWeightGrad, ctx.xp, gg, g, ctx.geom, tuple(w.shape)) if ctx.needs(1) else None
        return dg, dw, None, None


class ConvWeightGrad(Op):
    """The weight gradient of conv; linear in x and in g."""

    backward_name = "ConvolutionBackward0"
    formula = "z[o,c,i,j] = Σ_n,h,w g[n,o,h,w]·x[n,c, s·h+d·i-p, s·w+d·j-p]"
    local = ("∂L/∂x = conv_transpose(g, gg)", "∂L/∂g = conv(x, gg)")

    @staticmethod
    def kernel(x, g, geom, w_shape):
        return conv_weight_grad(_as4d(x), _as4d(g), geom, _shape4d(w_shape)).reshape(w_shape)

    @staticmethod
    def forward(ctx, x, g, geom, w_shape):
        ctx.save_for_backward(x, g)
        ctx.geom = geom
        return ConvWeightGrad.kernel(x, g, geom, w_shape)

    @staticmethod
    def backward(ctx, gg):
        x, g = ctx.saved_tensors
        dx = _call(ConvInputGrad, ctx.xp, g, gg, ctx.geom, tuple(x.shape)) if ctx.needs(0) else None
        dg = _call(Conv, ctx.xp, x, gg, None, ctx.geom) if ctx.needs(1) else None
        return dx, dg, None, None

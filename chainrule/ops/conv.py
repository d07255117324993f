"""Convolution and pooling as im2col + one matrix product, with adjoint ops for every backward.

A convolution reads, for every output pixel, a window of the (padded) input. Copying all windows
into one matrix ``cols`` (N, groups, Cg·kh·kw, OH·OW) — "im2col", done by one strided copy, no
Python loop over pixels — turns the whole layer into ``w (groups, Og, K) @ cols``, whose result is
already in (N, O, OH, OW) order. Conv is bilinear in (x, w), so its gradients are convolutions too:

    ∂L/∂x = conv_transpose(g, w)   (ConvInputGrad: wᵀ @ g, then add the columns back: col2im)
    ∂L/∂w = correlate(x, g)        (ConvWeightGrad: g @ colsᵀ, summed over the batch)

Each of the three is an Op whose backward calls the other two, so any order of derivative works.
Pooling (``chainrule.ops.pool``) reuses the geometry helpers and the work-array pool below.

Speed comes from memory, not arithmetic: the big work arrays come from ``backend.scratch`` and are
reused once nothing else holds them (fresh multi-MB arrays cost page faults on every step), and
the forward's ``cols`` is kept for the weight gradient instead of being built a second time.
"""

from __future__ import annotations

from typing import NamedTuple

from ..autograd.function import Op
from ..backend import array_math, xp
from ..backend.scratch import scratch

_strided = xp.lib.stride_tricks.as_strided
KEEP_COLS_BYTES = 64 * 2 ** 20  # keep forward's im2col matrix for backward up to this size


class Geometry(NamedTuple):
    """Where windows sit: stride, padding (top, bottom, left, right), dilation, groups."""

    stride: tuple
    padding: tuple
    dilation: tuple
    groups: int = 1


def _call(op, xp_, *args):
    """Run ``op`` raw on the first-order path, as a recorded Op under create_graph."""
    if xp_ is array_math:
        return op.kernel(*args)
    return op.apply(*args)


# --- geometry helpers --------------------------------------------------------------------------
def _as4d(a):
    return a[:, :, None, :] if a.ndim == 3 else a


def _shape4d(shape: tuple) -> tuple:
    return (shape[0], shape[1], 1, shape[2]) if len(shape) == 3 else tuple(shape)


def out_size(n: int, k: int, s: int, p0: int, p1: int, d: int, ceil_mode: bool = False) -> int:
    """Number of window positions along one axis (PyTorch's formula, incl. ceil_mode's rule)."""
    span = n + p0 + p1 - d * (k - 1) - 1
    if not ceil_mode:
        return span // s + 1
    o = -(-span // s) + 1
    if (o - 1) * s >= n + p0:         # the last window must start inside the input or left padding
        o -= 1
    return o


def _pad(x, pads: tuple, fill: float, tag: str):
    """x (N, C, H, W) with (top, bottom, left, right) borders of ``fill``, in a pooled buffer."""
    t, b, left, r = pads
    if not any(pads):
        return x
    n, c, h, w = x.shape
    shape = (n, c, h + t + b, w + left + r)
    # The key holds pads and fill, and only the interior is ever written: the borders stay ``fill``.
    buf = scratch(f"{tag}{pads}{fill}", shape, x.dtype, fill)
    buf[:, :, t:t + h, left:left + w] = x
    return buf


def _offset(a, i: int, j: int, oh: int, ow: int, geom: Geometry):
    """The strided slice of ``a`` read by kernel offset (i, j) for all (oh, ow) window positions."""
    (sh, sw), (dh, dw) = geom.stride, geom.dilation
    return a[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw]


# --- convolution kernels (raw arrays, 4-D) ---------------------------------------------------
# A stride-1 conv uses "wide rows": output row oh is computed for all Wp columns of the padded
# input, not just the OW valid ones. Kernel offset (i, j) then reads ONE contiguous run
# x_flat[i·Wp + j : … + OH·Wp] per plane (memcpy speed instead of OW-long strided pieces), and
# col2im adds contiguous runs back. The Wp − OW extra columns are dropped from the output, and
# their upstream gradient is zero, so they never reach the weight or input gradient.
def _pitch(kh: int, kw: int, geom: Geometry, wp: int, ow: int) -> int:
    """Row length of the column grid: Wp for wide rows (stride 1), else OW."""
    if tuple(geom.stride) != (1, 1) or (kh == kw == 1 and not any(geom.padding)):
        return ow
    return wp


def im2col(x, kh: int, kw: int, geom: Geometry, oh: int, ow: int):
    """(cols, pitch): cols (N, G, Cg·kh·kw, OH·pitch), row (c, i, j) = channel c at offset (i, j)."""
    n, c, h, w = x.shape
    g, cg = geom.groups, c // geom.groups
    (sh, sw), (dh, dw) = geom.stride, geom.dilation
    t, b, left, r = geom.padding
    hp, wp = h + t + b, w + left + r
    pitch = _pitch(kh, kw, geom, wp, ow)
    if kh == kw == 1 and pitch == ow and sh == sw == 1 and not any(geom.padding):
        return x.reshape(n, g, cg, oh * ow), ow        # an unpadded 1×1 conv reads the input as it is
    if pitch == wp:
        plane = hp * wp
        # Zero borders, plus (kw−1)·dw zeros of slack: the last wide row reads that far past the end.
        flat = scratch(f"wide{hp}x{wp}{geom.padding}", (n * c * plane + (kw - 1) * dw,), x.dtype, 0.0)
        flat[:n * c * plane].reshape(n, c, hp, wp)[:, :, t:t + h, left:left + w] = x
        e = flat.itemsize
        windows = _strided(flat, (n, g, cg, kh, kw, oh * wp),
                           (c * plane * e, cg * plane * e, plane * e, dh * wp * e, dw * e, e), writeable=False)
    else:
        xpad = _pad(x, geom.padding, 0.0, "conv")
        st = xpad.strides
        windows = _strided(xpad, (n, g, cg, kh, kw, oh, ow),
                           (st[0], st[1] * cg, st[1], st[2] * dh, st[3] * dw, st[2] * sh, st[3] * sw),
                           writeable=False)
    cols = scratch("cols", (n, g, cg * kh * kw, oh * pitch), x.dtype)
    xp.copyto(cols.reshape(windows.shape), windows)
    return cols, pitch


def _grid(gout, pitch: int):
    """g (N, O, OH, OW) on the column grid (N, O, OH·pitch), zero in the extra wide-row columns."""
    n, o, oh, ow = gout.shape
    if pitch == ow:
        return gout.reshape(n, o, oh * ow)
    buf = scratch(f"grid{ow}", (n, o, oh, pitch), gout.dtype, 0.0)  # only [..., :ow] is ever written
    buf[..., :ow] = gout
    return buf.reshape(n, o, oh * pitch)


def conv_forward(x, w, b, geom: Geometry):
    """(out, cols, pitch) for x (N, C, H, W), w (O, C/groups, kh, kw), bias b (O,) or None."""
    n, _, h, wd = x.shape
    o, cg, kh, kw = w.shape
    t, bottom, left, r = geom.padding
    oh = out_size(h, kh, geom.stride[0], t, bottom, geom.dilation[0])
    ow = out_size(wd, kw, geom.stride[1], left, r, geom.dilation[1])
    cols, pitch = im2col(x, kh, kw, geom, oh, ow)
    g = geom.groups
    grid = xp.matmul(w.reshape(g, o // g, cg * kh * kw), cols).reshape(n, o, oh, pitch)[..., :ow]
    if b is not None:                  # adding the bias also makes the contiguous output
        return xp.add(grid, b.reshape(1, o, 1, 1)), cols, pitch
    return xp.ascontiguousarray(grid), cols, pitch


def conv_input_grad(gout, w, geom: Geometry, x_shape: tuple):
    """conv_transpose: gx = col2im(wᵀ @ g), adding each kernel offset's columns back in place."""
    n, o, oh, ow = gout.shape
    _, cg, kh, kw = w.shape
    g, c = geom.groups, cg * geom.groups
    t, b, left, r = geom.padding
    h, wd = x_shape[2], x_shape[3]
    hp, wp = h + t + b, wd + left + r
    pitch = _pitch(kh, kw, geom, wp, ow)
    wt = w.reshape(g, o // g, cg * kh * kw).transpose(0, 2, 1)
    gcols = scratch("gcols", (n, g, cg * kh * kw, oh * pitch), gout.dtype)
    xp.matmul(wt, _grid(gout, pitch).reshape(n, g, o // g, oh * pitch), out=gcols)
    gx = scratch("gxpad", (n, c, hp, wp), gout.dtype)
    gx.fill(0)
    if pitch == wp:                    # wide rows: one contiguous run per plane and offset
        gc = gcols.reshape(n, c, kh, kw, oh * pitch)
        run, (dh, dw), e = (oh - 1) * wp + ow, geom.dilation, gx.itemsize  # stop at the last valid column
        views = _strided(gx, (kh, kw, n, c, run), (dh * wp * e, dw * e, c * hp * wp * e, hp * wp * e, e))
        for i in range(kh):
            for j in range(kw):
                view = views[i, j]
                view += gc[:, :, i, j, :run]
    else:                              # kh·kw strided adds: windows overlap, so they accumulate
        gc = gcols.reshape(n, c, kh, kw, oh, ow)
        for i in range(kh):
            for j in range(kw):
                view = _offset(gx, i, j, oh, ow, geom)
                view += gc[:, :, i, j]
    return xp.array(gx[:, :, t:t + h, left:left + wd])


def conv_weight_grad_cols(cols, pitch: int, gout, w_shape: tuple, groups: int):
    """gw[o, k] = Σ_n,l g[n, o, l] · cols[n, k, l]: one batched product, summed over the batch."""
    n, o = gout.shape[:2]
    gg = _grid(gout, pitch).reshape(n, groups, o // groups, cols.shape[-1])   # no -1: n may be 0
    # cols @ gᵀ rather than g @ colsᵀ: NumPy copies a transposed *big* operand slice by slice.
    gw_t = xp.matmul(cols, gg.transpose(0, 1, 3, 2))
    return gw_t.sum(axis=0).transpose(0, 2, 1).reshape(w_shape)


def conv_weight_grad(x, gout, geom: Geometry, w_shape: tuple):
    _, _, kh, kw = w_shape
    cols, pitch = im2col(x, kh, kw, geom, gout.shape[2], gout.shape[3])
    return conv_weight_grad_cols(cols, pitch, gout, w_shape, geom.groups)


class Conv(Op):
    """1-D (N, C, L) or 2-D (N, C, H, W); a 1-D conv is a 2-D one of height 1."""

    backward_name = "ConvolutionBackward0"
    formula = "z[n,o,h,w] = Σ_c,i,j w[o,c,i,j]·x[n,c, s·h+d·i-p, s·w+d·j-p] + b[o]"
    local = ("∂L/∂x = conv_transpose(g, w)", "∂L/∂w = correlate(x, g)", "∂L/∂b = Σ_n,h,w g")

    @staticmethod
    def kernel(x, w, b, geom):
        return Conv._run(None, x, w, b, geom)

    @staticmethod
    def _run(ctx, x, w, b, geom):
        out, cols, pitch = conv_forward(_as4d(x), _as4d(w), b, geom)
        if ctx is not None and cols.nbytes <= KEEP_COLS_BYTES and cols.base is None:
            ctx.cols = (cols, pitch)
        return out[:, :, 0] if x.ndim == 3 else out

    @staticmethod
    def forward(ctx, x, w, b, geom):
        ctx.save_for_backward(x, w)
        ctx.geom = geom
        return Conv._run(ctx, x, w, b, geom)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        xp_, geom = ctx.xp, ctx.geom
        cols, ctx.cols = getattr(ctx, "cols", None), None   # used once; a retained graph recomputes
        gx = _call(ConvInputGrad, xp_, g, w, geom, tuple(x.shape)) if ctx.needs(0) else None
        gw = None
        if ctx.needs(1):
            if cols is not None and xp_ is array_math:
                gw = conv_weight_grad_cols(*cols, _as4d(g), _shape4d(w.shape), geom.groups).reshape(w.shape)
            else:
                gw = _call(ConvWeightGrad, xp_, x, g, geom, tuple(w.shape))
        gb = xp_.sum(g, axis=(0, 2, 3) if g.ndim == 4 else (0, 2)) if ctx.needs(2) else None
        if xp_ is not array_math:   # PyTorch computes all three in one node that reads x and w
            # the gradients depend on x and w with derivative 0 where PyTorch leaves the term undefined
            gx, gw, gb = (None if t is None else xp_.attach(t, x, w, zeros=False) for t in (gx, gw, gb))
        return gx, gw, gb, None


class ConvInputGrad(Op):
    """The input gradient of conv; linear in g and in w."""

    backward_name = "ConvolutionBackward0"
    formula = "z = conv_transpose(g, w)"
    local = ("∂L/∂g = conv(gg, w)", "∂L/∂w = correlate(gg, g)")

    @staticmethod
    def kernel(g, w, geom, x_shape):
        gx = conv_input_grad(_as4d(g), _as4d(w), geom, _shape4d(x_shape))
        return gx[:, :, 0] if len(x_shape) == 3 else gx

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

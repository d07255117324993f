"""Window kernels for convolution and pooling on raw arrays: im2col and its adjoint col2im, max-pooling
with the winning offset, and the scatter that is max-pooling's gradient.

Each has a NumPy version (a loop over the kh·kw kernel offsets, never over pixels, each offset one
strided whole-array copy or add) and, when numba is installed, a compiled one-pass version in
``numba_kernels`` that gives the same numbers (``accel`` picks; both are tested against each other).
Max-pooling is compiled only for its common case, 2×2 windows with stride 2 on finite input.

The column matrix is laid out channel-major, ``cols[c, i, j, n, p, q]``: row (c, i, j) holds kernel
offset (i, j) of channel c for every output pixel of every image. A whole convolution is then ONE
matrix product ``w (O, C·kh·kw) @ cols (C·kh·kw, N·OH·OW)`` per group, big enough for BLAS to run
near its peak, instead of one small product per image.

Without numba, a small image (OW < ``SHORT_ROW``) is laid out batch-last, ``cols[c, i, j, p, q, n]``:
NumPy's strided copies and adds then move runs of OW·N numbers instead of OW (8 on LeNet's second
conv), at the price of two transposes of the small input and output (``batch_last`` decides).

>>> import numpy as np
>>> g = Geometry((1, 1), (0, 0, 0, 0), (1, 1))
>>> im2col(np.arange(9.).reshape(1, 1, 3, 3), 2, 2, g, 2, 2).reshape(4, 4)[0]   # offset (0, 0)
array([0., 1., 3., 4.])
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as xp

from . import accel
from .scratch import scratch

_strided = xp.lib.stride_tricks.as_strided


class Geometry(NamedTuple):
    """Where windows sit: stride, padding (top, bottom, left, right), dilation, groups."""

    stride: tuple
    padding: tuple
    dilation: tuple
    groups: int = 1


def out_size(n: int, k: int, s: int, p0: int, p1: int, d: int, ceil_mode: bool = False) -> int:
    """Number of window positions along one axis (PyTorch's formula, incl. ceil_mode's rule).

    >>> out_size(28, 5, 1, 0, 0, 1)
    24
    """
    span = n + p0 + p1 - d * (k - 1) - 1
    if not ceil_mode:
        return span // s + 1
    o = -(-span // s) + 1
    if (o - 1) * s >= n + p0:         # the last window must start inside the input or left padding
        o -= 1
    return o


def pad(x, pads: tuple, fill: float, tag: str):
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


def offset(a, i: int, j: int, oh: int, ow: int, geom: Geometry):
    """The strided slice of ``a`` read by kernel offset (i, j) for all (oh, ow) window positions."""
    (sh, sw), (dh, dw) = geom.stride, geom.dilation
    return a[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw]


def _fast(dtype):
    """The numba kernels for this dtype (float32 and float64 only: numba has no float16), or None."""
    return accel.kernels() if dtype in (xp.float32, xp.float64) else None


def _padded(shape: tuple, geom: Geometry) -> tuple:
    n, c, h, w = shape
    t, b, left, r = geom.padding
    return n, c, h + t + b, w + left + r


def _interior(a, geom: Geometry, x_shape: tuple):
    """The unpadded part of a padded (N, C, Hp, Wp) array, contiguous (a copy unless there is no padding;
    a pooled work array handed out is never reused while anything else holds it)."""
    t, _, left, _ = geom.padding
    return xp.ascontiguousarray(a[:, :, t:t + x_shape[2], left:left + x_shape[3]])


SHORT_ROW = 16   # NumPy path: below this output width, the batch-last layout's long runs win


def batch_last(dtype, ow: int) -> bool:
    """Whether convolution columns for this output width go batch-last (NumPy kernels only).

    >>> batch_last(xp.float16, 8), batch_last(xp.float16, 24)     # no numba kernels for float16
    (True, False)
    """
    return ow < SHORT_ROW and _fast(dtype) is None


def _to_batch_last(a, tag: str):
    """(N, C, H, W) → (C, H, W, N) in a pooled buffer; one plane at a time keeps the reads in cache."""
    n, c, h, w = a.shape
    out = scratch(tag, (c, h, w, n), a.dtype)
    for k in range(c):
        xp.copyto(out[k], a[:, k].transpose(1, 2, 0))
    return out


def im2col(x, kh: int, kw: int, geom: Geometry, oh: int, ow: int, last: bool = False):
    """cols (C, kh, kw, N, OH, OW): cols[c, i, j, n, p, q] is the input under offset (i, j) of window (p, q);
    with ``last`` batch-last, (C, kh, kw, OH, OW, N)."""
    n, c = x.shape[:2]
    xpad = pad(x, geom.padding, 0.0, "conv")
    (sh, sw), (dh, dw) = geom.stride, geom.dilation
    if last:                            # kh·kw copies, each a run of OW·N numbers per row (stride 1)
        cols = scratch("colsT", (c, kh, kw, oh, ow, n), x.dtype)
        xt = _to_batch_last(xpad, "xT")
        for i in range(kh):
            for j in range(kw):
                xp.copyto(cols[:, i, j], xt[:, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                                            j * dw:j * dw + sw * (ow - 1) + 1:sw])
        return cols
    cols = scratch("cols", (c, kh, kw, n, oh, ow), x.dtype)
    fast = _fast(x.dtype)
    if fast is not None:
        return fast.im2col(xp.ascontiguousarray(xpad), cols, sh, sw, dh, dw)
    st = xpad.strides
    windows = _strided(xpad, cols.shape, (st[1], st[2] * dh, st[3] * dw, st[0], st[2] * sh, st[3] * sw),
                       writeable=False)
    xp.copyto(cols, windows)
    return cols


def col2im(gcols, geom: Geometry, x_shape: tuple, last: bool = False):
    """The adjoint of im2col: gx (N, C, H, W), each input position the sum of the columns that read it
    (``gcols`` batch-last with ``last``)."""
    if last:
        n, c, h, w = _padded(x_shape, geom)
        kh, kw, oh, ow = gcols.shape[1:5]
        gxt = scratch("gxT", (c, h, w, n), gcols.dtype)
        gxt.fill(0)
        (sh, sw), (dh, dw) = geom.stride, geom.dilation
        for i in range(kh):
            for j in range(kw):            # windows overlap, so the kh·kw offsets accumulate
                view = gxt[:, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw]
                view += gcols[:, i, j]
        t, _, left, _ = geom.padding
        gx = xp.empty(x_shape, gcols.dtype)
        for k in range(c):                 # back to (N, C, H, W), one plane at a time
            xp.copyto(gx[:, k], gxt[k, t:t + x_shape[2], left:left + x_shape[3]].transpose(2, 0, 1))
        return gx
    padded = any(geom.padding)
    gx = scratch("gxpad", _padded(x_shape, geom), gcols.dtype) if padded else xp.empty(x_shape, gcols.dtype)
    fast = _fast(gcols.dtype)
    if fast is not None:
        (sh, sw), (dh, dw) = geom.stride, geom.dilation
        fast.col2im(gcols, gx, sh, sw, dh, dw)
    else:
        gx.fill(0)
        kh, kw, oh, ow = gcols.shape[1], gcols.shape[2], gcols.shape[4], gcols.shape[5]
        for i in range(kh):
            for j in range(kw):            # windows overlap, so the kh·kw offsets accumulate
                view = offset(gx, i, j, oh, ow, geom)
                view += gcols[:, i, j].transpose(1, 0, 2, 3)
    return _interior(gx, geom, x_shape) if padded else gx


def max_pool(x, k: tuple, geom: Geometry, oh: int, ow: int):
    """(window maxima, index i·kw + j of the winning kernel offset) for x (N, C, H, W).

    Ties go to the first maximum, a NaN wins over numbers (the last NaN), as in PyTorch."""
    n, c = x.shape[:2]
    arg = xp.empty((n, c, oh, ow), xp.uint8 if k[0] * k[1] < 256 else xp.int32)
    # One sum finds NaNs (a NaN sum also comes from +inf and -inf together: then just slower).
    total = x.sum()
    fast = _fast(x.dtype)
    if (fast is not None and xp.isfinite(total) and tuple(k) == tuple(geom.stride) == (2, 2)
            and geom.dilation == (1, 1) and not any(geom.padding) and 2 * oh <= x.shape[2] and 2 * ow <= x.shape[3]):
        # the common MaxPool2d(2) on finite input; numba's general window loop was no faster than NumPy's
        h, w = x.shape[2:]
        out = xp.empty((n, c, oh, ow), x.dtype)
        fast.max_pool_2x2(xp.ascontiguousarray(x).reshape(n * c, h, w), out.reshape(n * c, oh, ow),
                          arg.reshape(n * c, oh, ow))
        return out, arg
    xpad = pad(x, geom.padding, -xp.inf, "maxpool")
    nan_aware = bool(xp.isnan(total))
    # Plain ufuncs only: masked ones (``where=``) are several times slower than arithmetic, so the
    # winner is updated as ``arg += better · (idx − arg)`` (exact, also in uint8's wrap-around).
    out = better = None
    for idx in range(k[0] * k[1]):
        v = offset(xpad, idx // k[1], idx % k[1], oh, ow, geom)
        if out is None:
            out = xp.array(v, order="C")     # contiguous whatever the input's layout, as PyTorch's
            arg.fill(0)
            better = xp.empty(out.shape, bool)
            continue
        xp.greater(v, out, out=better)     # strictly greater: an earlier equal max keeps its place
        if nan_aware:                      # PyTorch lets a NaN win (the last one in the window)
            better |= xp.isnan(v)
        xp.maximum(out, v, out=out)        # NaN-propagating, like PyTorch's values
        arg += better * (arg.dtype.type(idx) - arg)
    return out, arg


def _tiles(k, geom, x_shape, out_shape) -> bool:
    """Whether the windows cover every input position exactly once (no padding, no overlap, no gap)."""
    return (not any(geom.padding) and geom.dilation == (1, 1) and tuple(geom.stride) == tuple(k)
            and x_shape[2] == out_shape[2] * k[0] and x_shape[3] == out_shape[3] * k[1])


def pool_scatter(g, arg, k: tuple, geom: Geometry, x_shape: tuple):
    """gx (N, C, H, W): each window's gradient added at the input position its offset ``arg`` names."""
    fast = _fast(g.dtype)
    if fast is not None:
        padded = any(geom.padding)
        gx = scratch("poolgx", _padded(x_shape, geom), g.dtype) if padded else xp.empty(x_shape, g.dtype)
        idx = xp.arange(k[0] * k[1])
        fast.pool_scatter(xp.ascontiguousarray(g), xp.ascontiguousarray(arg), gx, idx // k[1] * geom.dilation[0],
                          idx % k[1] * geom.dilation[1], *geom.stride)
        return _interior(gx, geom, x_shape) if padded else gx
    gx = scratch("poolgx", _padded(x_shape, geom), g.dtype)
    disjoint = all(s >= d * (kk - 1) + 1 for s, d, kk in zip(geom.stride, geom.dilation, k))
    if not _tiles(k, geom, x_shape, g.shape):
        gx.fill(0)                        # positions no window reads get no gradient
    finite = bool(xp.isfinite(g.sum()))  # g · mask would turn an inf into NaN where mask is 0
    for idx in range(k[0] * k[1]):
        view = offset(gx, idx // k[1], idx % k[1], g.shape[2], g.shape[3], geom)
        if disjoint and finite:           # each position belongs to one window: write, don't add
            xp.multiply(g, arg == idx, out=view)
            continue
        chosen = g * (arg == idx) if finite else xp.where(arg == idx, g, 0)
        if disjoint:
            view[...] = chosen
        else:
            view += chosen
    return _interior(gx, geom, x_shape)

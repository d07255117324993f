"""Compiled (numba) versions of the window kernels in ``conv_kernels``: same results, one pass each.

Imported only through ``accel.kernels()``; importing this module imports numba. The caller pads the
input first (as the NumPy kernels do), so every index here is inside its array: there is no bounds
logic, and indices are computed as unsigned integers, which lets LLVM drop NumPy-style negative-index
wrap-around and vectorize the innermost loop (about 4× faster than signed indices here).

Geometry arguments: stride (sh, sw) and dilation (dh, dw); ``u`` converts an index to unsigned.
"""

from __future__ import annotations

import numba
import numpy as np

_jit = numba.njit(cache=True, nogil=True, boundscheck=False)
u = np.uint64


@_jit
def im2col(xpad, cols, sh, sw, dh, dw):
    """cols[c, i, j, n, p, q] = xpad[n, c, p·sh + i·dh, q·sw + j·dw]."""
    n_img, n_ch = xpad.shape[0], xpad.shape[1]
    kh, kw, oh, ow = cols.shape[1], cols.shape[2], cols.shape[4], cols.shape[5]
    for c in range(n_ch):
        for i in range(kh):
            for j in range(kw):
                for n in range(n_img):
                    for p in range(oh):
                        r = u(p * sh + i * dh)
                        s0 = u(j * dw)
                        if sw == 1:
                            for q in range(ow):
                                cols[c, i, j, n, p, q] = xpad[n, c, r, s0 + u(q)]
                        else:
                            for q in range(ow):
                                cols[c, i, j, n, p, q] = xpad[n, c, r, s0 + u(q * sw)]
    return cols


@_jit
def col2im(gcols, gxpad, sh, sw, dh, dw):
    """The adjoint of im2col: gxpad (overwritten) at each position = Σ of the columns that read it."""
    n_img, n_ch = gxpad.shape[0], gxpad.shape[1]
    kh, kw, oh, ow = gcols.shape[1], gcols.shape[2], gcols.shape[4], gcols.shape[5]
    gxpad[:] = 0
    for n in range(n_img):
        for c in range(n_ch):
            for i in range(kh):
                for j in range(kw):
                    for p in range(oh):
                        r = u(p * sh + i * dh)
                        s0 = u(j * dw)
                        if sw == 1:
                            for q in range(ow):
                                gxpad[n, c, r, s0 + u(q)] += gcols[c, i, j, n, p, q]
                        else:
                            for q in range(ow):
                                gxpad[n, c, r, s0 + u(q * sw)] += gcols[c, i, j, n, p, q]
    return gxpad


@numba.njit(cache=True, nogil=True, boundscheck=False, fastmath=True)
def max_pool_2x2(x, out, arg):
    """2×2 windows, stride 2, on planes x (P, H, W): maxima into ``out``, winning offset into ``arg``.

    Only for finite x (the caller checks): fastmath lets LLVM turn the compares into branch-free
    selects, about 4× faster than the general NumPy passes; the first maximum wins a tie."""
    n_planes = x.shape[0]
    oh, ow = out.shape[1], out.shape[2]
    for k in range(n_planes):
        for p in range(oh):
            for q in range(ow):
                best = x[k, 2 * p, 2 * q]
                won = 0
                v = x[k, 2 * p, 2 * q + 1]
                if v > best:
                    best, won = v, 1
                v = x[k, 2 * p + 1, 2 * q]
                if v > best:
                    best, won = v, 2
                v = x[k, 2 * p + 1, 2 * q + 1]
                if v > best:
                    best, won = v, 3
                out[k, p, q] = best
                arg[k, p, q] = won
    return out


@_jit
def pool_scatter(g, arg, gxpad, rows, cols, sh, sw):
    """gxpad (overwritten) = each window's gradient added at the position its offset ``arg`` names;
    offset k sits ``rows[k]`` rows and ``cols[k]`` columns from its window's corner."""
    n_img, n_ch, oh, ow = g.shape
    gxpad[:] = 0
    for n in range(n_img):
        for c in range(n_ch):
            for p in range(oh):
                for q in range(ow):
                    k = arg[n, c, p, q]
                    gxpad[n, c, u(p * sh + rows[k]), u(q * sw + cols[k])] += g[n, c, p, q]
    return gxpad

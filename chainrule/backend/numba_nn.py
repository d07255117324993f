"""Compiled (numba) float32 kernels for GELU, LayerNorm, attention's softmax and dS, Embedding's row
sums (and a log-softmax): one pass over the data where NumPy needs many.

Imported only through ``accel.kernels("numba_nn")``; importing this module imports numba. The NumPy
versions (``ops/nn.py``, ``ops/fused.py``, ``ops/attention.py``, ``special.erf_float32``) stay the
reference; both are tested against each other and against PyTorch (tests/test_kernels.py). They agree
to float32 rounding, not bit for bit: sums run in another order, and GELU's erf is evaluated in float64.

Two compiler settings make the loops vectorize (8 or 16 floats per instruction):
- ``error_model="numpy"``: a float division by zero gives inf/NaN as in NumPy instead of raising, so
  numba adds no per-element check that would stop LLVM from vectorizing the loop;
- no calls to ``math.exp`` inside loops (numba has no vector ``exp`` without Intel's SVML): ``_exp_neg``
  below is exp on (-∞, 0] from one polynomial times a power of two built from its bits.
NaN propagates: every clamp is written ``a if a > bound else …``, false for NaN.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir as llvm_ir
from numba.extending import intrinsic

from .special import _P32, _Q32

_jit = numba.njit(cache=True, nogil=True, boundscheck=False, error_model="numpy")
# Row reductions may be summed in any order (partial sums per vector lane): the row kernels only.
_jit_sums = numba.njit(cache=True, nogil=True, boundscheck=False, error_model="numpy",
                       fastmath={"reassoc", "contract"})

_f = np.float32
_ZERO, _HALF, _ONE, _FOUR = _f(0.0), _f(0.5), _f(1.0), _f(4.0)
_SQRT_HALF = _f(math.sqrt(0.5))
_INV_SQRT_2PI = _f(1.0 / math.sqrt(2.0 * math.pi))
_TANH_K, _TANH_C = _f(math.sqrt(2.0 / math.pi)), _f(0.044715)
_TANH_D1, _TANH_D0 = _f(6.0 * 0.044715 * math.sqrt(2.0 / math.pi)), _f(2.0 * math.sqrt(2.0 / math.pi))
_P64, _Q64 = tuple(float(c) for c in _P32), tuple(float(c) for c in _Q32)
_SQRT_HALF_64 = math.sqrt(0.5)

# exp(y) = 2^k·e^r, k = round(y/ln 2), r = y - k·ln 2 (ln 2 split in two so k·ln2_hi is exact), |r| ≤ ln2/2;
# e^r by Cephes' expf polynomial (about 1 ulp); 2^k built from its bits: exponent field k + 127.
_LOG2E, _LN2_HI, _LN2_LO = _f(1.4426950408889634), _f(0.693359375), _f(-2.12194440e-4)
_E0, _E1, _E2, _E3, _E4, _E5 = (_f(c) for c in (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3,
                                                  4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1))
_ROUND = _f(12582912.0)           # 1.5·2²³: (v + _ROUND) - _ROUND rounds v to an integer in float32
_UNDER = _f(-87.33)               # below this e^y is under float32's smallest normal number: return 0


@intrinsic
def _float32_from_bits(typingctx, bits):
    """The float32 whose IEEE bits are the int32 ``bits`` (a bit cast; numba has no scalar ``view``)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvm_ir.FloatType())
    return numba.types.float32(numba.types.int32), codegen


@_jit
def _exp_neg(y):
    """e^y for float32 y ≤ 0, within about 1 ulp; 0 below -87.33; NaN stays NaN."""
    under = y < _UNDER
    y = _UNDER if under else y                 # NaN: y stays NaN, and so does the result
    k = (y * _LOG2E + _ROUND) - _ROUND         # -126 ≤ k ≤ 0: 2^k is a normal float32
    r = (y - k * _LN2_HI) - k * _LN2_LO
    p = (((((_E0 * r + _E1) * r + _E2) * r + _E3) * r + _E4) * r + _E5) * (r * r) + r + _ONE
    two_k = _float32_from_bits((np.int32(k) + np.int32(127)) << np.int32(23))
    return _ZERO if under else p * two_k


@_jit
def _cdf_erf(x):
    """Φ(x) = ½(1 + erf(x/√2)) with ``special.erf_float32``'s rational function, evaluated in float64
    and rounded once at the end: within about 1.5 ulps (the NumPy float32 evaluation: about 6)."""
    t = np.float64(x) * _SQRT_HALF_64
    t = 4.0 if t > 4.0 else t   # noqa: FURB136 (a select: NaN falls through)
    t = -4.0 if t < -4.0 else t   # noqa: FURB136 (a select: NaN falls through)
    s = t * t
    num = ((((((s * _P64[6] + _P64[5]) * s + _P64[4]) * s + _P64[3]) * s + _P64[2]) * s + _P64[1]) * s
           + _P64[0]) * t
    den = (((s * _Q64[4] + _Q64[3]) * s + _Q64[2]) * s + _Q64[1]) * s + _Q64[0]
    e = num / den
    e = 1.0 if e > 1.0 else e   # noqa: FURB136 (a select: NaN falls through)
    e = -1.0 if e < -1.0 else e   # noqa: FURB136 (a select: NaN falls through)
    return np.float32((e + 1.0) * 0.5)


@_jit
def _cdf_tanh(x):
    """½(1 + tanh u), u = √(2/π)(x + 0.044715x³), as the logistic 1/(1 + e^(-2u)) from e^(-2|u|) ≤ 1."""
    u = ((x * x * _TANH_C + _ONE) * x) * _TANH_K
    au = u if u > _ZERO else -u
    e = _exp_neg(-(au + au))
    return _ONE / (_ONE + e) if u >= _ZERO else e / (_ONE + e)


@_jit
def gelu_forward(x, z, cdf, tanh):
    """z = x·Φ(x) and Φ(x) (kept for backward), over flat float32 arrays."""
    for i in range(x.size):
        xi = x[i]
        c = _cdf_tanh(xi) if tanh else _cdf_erf(xi)
        cdf[i] = c
        z[i] = xi * c


@_jit
def gelu_backward(x, cdf, g, out, tanh):
    """out = g·(Φ(x) + x·φ(x)) (or the tanh form's derivative, ``ops.nn._gelu_grad``), flat float32."""
    for i in range(x.size):
        xi, c = x[i], cdf[i]
        if tanh:
            d = (((xi * xi) * _TANH_D1 + _TANH_D0) * xi) * c * (_ONE - c)
        else:
            d = (_exp_neg(-_HALF * (xi * xi)) * xi) * _INV_SQRT_2PI
        out[i] = (d + c) * g[i]


@_jit_sums
def layer_norm_forward(x, w, b, eps, z, xhat, rstd):
    """Per row of x (rows, n): x̂ = (x - μ)/√(σ² + ε), rstd = 1/√(σ² + ε), z = x̂·w + b."""
    rows, n = x.shape
    inv_n = np.float32(1.0) / np.float32(n)
    for r in range(rows):
        total = np.float32(0.0)
        for j in range(n):
            total += x[r, j]
        mean = total * inv_n
        sq = np.float32(0.0)
        for j in range(n):
            d = x[r, j] - mean
            xhat[r, j] = d
            sq += d * d
        s = np.float32(1.0) / np.sqrt(sq * inv_n + eps)
        rstd[r] = s
        for j in range(n):
            h = xhat[r, j] * s
            xhat[r, j] = h
            z[r, j] = h * w[j] + b[j]


@_jit_sums
def layer_norm_backward(g, w, xhat, rstd, gx, gw, gb):
    """∂L/∂x = (ĝ - mean(ĝ) - x̂·mean(ĝ·x̂))·rstd with ĝ = g·w per row; gw = Σ g·x̂ and gb = Σ g over
    rows (gw, gb start at zero)."""
    rows, n = g.shape
    inv_n = np.float32(1.0) / np.float32(n)
    for r in range(rows):
        sg = np.float32(0.0)
        sgx = np.float32(0.0)
        for j in range(n):
            gj, hj = g[r, j], xhat[r, j]
            gh = gj * w[j]
            sg += gh
            sgx += gh * hj
            gw[j] += gj * hj
            gb[j] += gj
        s = rstd[r]
        a, c = sg * inv_n * s, sgx * inv_n * s
        for j in range(n):
            gx[r, j] = g[r, j] * w[j] * s - xhat[r, j] * c - a


@_jit_sums
def softmax_rows(a, shift):
    """In place over each row of a (rows, n): a = e^(a - m)/Σ e^(a - m) with m the row's max, kept
    in ``shift`` (the constant backward under create_graph subtracts again). NaN in a row makes the
    row NaN, as in PyTorch."""
    rows, n = a.shape
    for r in range(rows):
        m = a[r, 0]
        for j in range(1, n):
            v = a[r, j]
            m = v if v > m else m   # noqa: FURB136 (NaN is never picked: it reaches the row via e^(NaN - m))
        total = np.float32(0.0)
        for j in range(n):
            e = _exp_neg(a[r, j] - m)
            a[r, j] = e
            total += e
        inv = np.float32(1.0) / total
        for j in range(n):
            a[r, j] *= inv
        shift[r] = m


@_jit_sums
def attention_score_grad(ds, p, g, z, scale):
    """In place on ds = g·vᵀ (N, H, L, S): ds = (ds - Σₑ g⊙z)⊙P·scale, row by row (the dS of
    ``ops/attention.py``); g and z are (N, H, L, E) in any layout."""
    nb, nh, nl, ns = ds.shape
    ne = g.shape[3]
    for a in range(nb):
        for h in range(nh):
            for i in range(nl):
                t = np.float32(0.0)
                for e in range(ne):
                    t += g[a, h, i, e] * z[a, h, i, e]
                for j in range(ns):
                    ds[a, h, i, j] = ((ds[a, h, i, j] - t) * p[a, h, i, j]) * scale


@_jit
def rows_add(out, idx, g):
    """out[idx[i]] += g[i] for each i, repeats accumulating in index order (Embedding's weight
    gradient); out (rows, n) starts at zero, g is (len(idx), n)."""
    n = g.shape[1]
    for i in range(idx.size):
        r = idx[i]
        for j in range(n):
            out[r, j] += g[i, j]

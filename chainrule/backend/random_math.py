"""The floating-point arithmetic of PyTorch's CPU random kernels, reproduced bit for bit.

Two things make a torch random number differ from the textbook formula in its last bits:

* **Fused multiply-add.** PyTorch's AVX2 kernels are compiled with FMA enabled, so ``x * (b - a) + a``
  is computed with *one* rounding, ``fma(x, b - a, a)``. NumPy has no FMA, so ``fma32`` and ``fma64``
  emulate it exactly (error-free transformations plus Boldo & Melquiond's rounding to odd).
* **A polynomial log/sin/cos.** ``torch.randn`` of 16 or more contiguous float32 values runs a
  vectorised Box-Muller transform whose ``log``, ``sin`` and ``cos`` are the Cephes polynomials of
  ``avx_mathfun.h``, evaluated in float32 with the compiler's FMA contractions. ``box_muller_avx2``
  repeats that arithmetic step by step in NumPy float32.

>>> import numpy as np
>>> float(fma64(np.array([0.1]), np.array([10.0]), np.array([-1.0]))[0])   # 0.1*10 - 1 without rounding 0.1*10
5.551115123125783e-17
"""

from __future__ import annotations

import math
import os
import platform

import numpy as np

_F32 = np.float32
_LOW29, _HALF_ULP32 = np.uint64(2 ** 29 - 1), np.uint64(2 ** 28)  # float64 bits below float32's last bit


def _torch_cpu_kernels() -> str:
    """Which build of PyTorch's CPU kernels runs here: "avx2" (also used on AVX-512 machines, where the
    random kernels fall back to their AVX2 build) or "default" (no AVX2/FMA, or ATEN_CPU_CAPABILITY=default).

    The two differ only in floating-point details: the AVX2 build fuses ``a * b + c`` and has the
    vectorised float32 Box-Muller; the default build rounds twice (except in the Box-Muller fill,
    found fused by experiment) and uses libm's logf/sinf/cosf.
    Other platforms (ARM) are treated as "default" without having been checked against PyTorch.
    """
    chosen = os.environ.get("ATEN_CPU_CAPABILITY", "").lower()
    if chosen in ("avx2", "avx512", "default"):
        return "default" if chosen == "default" else "avx2"
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return "default"
    try:
        with open("/proc/cpuinfo") as info:
            flags = next((line.split() for line in info if line.startswith("flags")), [])
    except OSError:
        return "avx2"  # not Linux: every x86-64 CPU of the last decade has AVX2 and FMA
    return "avx2" if "avx2" in flags and "fma" in flags else "default"


TORCH_KERNELS = _torch_cpu_kernels()


def _two_sum(a, b):
    """s + err == a + b exactly, with s = fl(a + b) (Knuth)."""
    s = a + b
    bb = s - a
    err = (a - (s - bb)) + (b - bb)
    return s, err


def _round_to_odd(s, err):
    """Where ``s`` was rounded (``err != 0``) and its last bit is even, step one ulp towards the exact value.

    Rounding to odd keeps enough information for a later, narrower rounding to be correct.
    """
    fix = (err != 0) & ((s.view(np.uint64) & 1) == 0)
    if fix.any():
        s = s.copy()
        s[fix] = np.nextafter(s[fix], np.where(err[fix] > 0, np.inf, -np.inf))
    return s


def fma32(a, b, c) -> np.ndarray:
    """float32 ``a * b + c`` rounded once, as the FMA instruction does (results in float32's normal range).

    The product of two float32 values is exact in float64. The float64 sum can only round wrongly
    twice when it lands exactly halfway between two float32 values; there it is rounded to odd first,
    which makes the final rounding to float32 correct (53 >= 24 + 2 bits).
    """
    s = np.multiply(a, b, dtype=np.float64)
    np.add(s, c, out=s)
    halfway = (s.view(np.uint64) & _LOW29) == _HALF_ULP32
    if halfway.any():
        a, b, c = (np.broadcast_to(np.asarray(v, np.float64), s.shape)[halfway] for v in (a, b, c))
        s_r, err = _two_sum(a * b, c)
        s[halfway] = _round_to_odd(s_r, err)
    return s.astype(_F32)


def _split(a):
    """Veltkamp split: a == hi + lo with both halves holding at most 26 significant bits."""
    t = a * 134217729.0  # 2**27 + 1
    hi = t - (t - a)
    return hi, a - hi


def fma64(a, b, c) -> np.ndarray:
    """float64 ``a * b + c`` rounded once, for inputs below 2**995 in magnitude.

    Boldo & Melquiond (2008): split the product into two exact halves, add exactly, round the
    small tail to odd, then round the sum once.
    """
    a, b, c = np.asarray(a, np.float64), np.asarray(b, np.float64), np.asarray(c, np.float64)
    p = a * b
    a_hi, a_lo = _split(a)
    b_hi, b_lo = _split(b)
    p_err = ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo  # p + p_err == a*b exactly
    s, s_err = _two_sum(c, p)
    tail, tail_err = _two_sum(p_err, s_err)
    return s + _round_to_odd(tail, tail_err)


def _is_power_of_two(x: float) -> bool:
    mantissa, _ = np.frexp(x)
    return x > 0 and mantissa == 0.5


def affine32(x: np.ndarray, scale: float, shift: float, fused: bool | None = None) -> np.ndarray:
    """``x * scale + shift`` in float32, fused into one rounding if ``fused`` (default: as the AVX2 build)."""
    scale, shift = _F32(scale), _F32(shift)
    if fused is None:
        fused = TORCH_KERNELS == "avx2"
    if not fused or _is_power_of_two(float(scale)):
        return x * scale + shift
    return fma32(x, scale, shift)


def affine64(x: np.ndarray, scale: float, shift: float, fused: bool | None = None) -> np.ndarray:
    """``x * scale + shift`` in float64, fused into one rounding if ``fused`` (default: as the AVX2 build)."""
    scale, shift = float(scale), float(shift)
    if fused is None:
        fused = TORCH_KERNELS == "avx2"
    if not fused or _is_power_of_two(scale):
        return x * scale + shift
    if x.size == 0 or max(abs(scale), abs(shift), float(np.abs(x).max())) > 2.0 ** 995:
        return x * scale + shift  # splitting would overflow; PyTorch's values differ in the last bit at most
    out = np.empty_like(x)
    flat_x, flat_out = x.reshape(-1), out.reshape(-1)
    for start in range(0, x.size, 16 * _ROWS):  # blocks small enough to stay in cache
        flat_out[start:start + 16 * _ROWS] = fma64(flat_x[start:start + 16 * _ROWS], scale, shift)
    return out


# --- avx_mathfun.h in float32 ------------------------------------------------------------
# Cephes coefficients as the header spells them (each rounded to float32 once).
_LOG_P = [_F32(v) for v in (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1,
                            1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1,
                            3.3333331174e-1)]
_LOG_Q1, _LOG_Q2, _SQRTHF = _F32(-2.12194440e-4), _F32(0.693359375), _F32(0.707106781186547524)
_DP = [_F32(-0.78515625), _F32(-2.4187564849853515625e-4), _F32(-3.77489497744594108e-8)]
_SIN_P = [_F32(-1.9515295891e-4), _F32(8.3321608736e-3), _F32(-1.6666654611e-1)]
_COS_P = [_F32(2.443315711809948e-005), _F32(-1.388731625493765e-003), _F32(4.166664568298827e-002)]
_FOUR_OVER_PI = _F32(1.27323954473516)
_ONE, _HALF = _F32(1.0), _F32(0.5)
_ROWS = 2048


def log_avx2(x: np.ndarray) -> np.ndarray:
    """``log256_ps`` for positive normal float32 inputs, with GCC's FMA contractions."""
    bits = x.view(np.uint32)
    e = ((bits >> 23).astype(np.int32) - 0x7F).astype(_F32) + _ONE
    m = ((bits & ~np.uint32(0x7F800000)) | _HALF.view(np.uint32)).view(_F32)  # mantissa in [0.5, 1)
    small = m < _SQRTHF  # then use 2m - 1 and one less in the exponent
    e = e - np.where(small, _ONE, _F32(0))
    m = (m - _ONE) + np.where(small, m, _F32(0))
    z = m * m
    y = np.full_like(m, _LOG_P[0])
    for p in _LOG_P[1:]:
        y = fma32(y, m, p)
    y = fma32(y * m, z, e * _LOG_Q1)
    y = y - z * _HALF
    return fma32(e, _LOG_Q2, m + y)


def sincos_avx2(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``sincos256_ps`` for non-negative float32 inputs (range reduction by multiples of pi/4)."""
    j = (x * _FOUR_OVER_PI).astype(np.int32)
    j = (j + 1) & ~1
    y = j.astype(_F32)
    r = fma32(y, _DP[0], x)
    r = fma32(y, _DP[1], r)
    r = fma32(y, _DP[2], r)
    sin_negative = (j & 4) != 0
    cos_negative = (~(j - 2) & 4) != 0
    use_sin_poly = (j & 2) == 0
    z = r * r
    c = fma32(fma32(np.full_like(z, _COS_P[0]), z, _COS_P[1]), z, _COS_P[2]) * z
    c = fma32(c, z, -(z * _HALF)) + _ONE
    s = fma32(fma32(np.full_like(z, _SIN_P[0]), z, _SIN_P[1]), z, _SIN_P[2]) * z
    s = fma32(s, r, r)
    # the header selects with masks and adds +0.0, which turns -0.0 into +0.0
    sin = np.where(use_sin_poly, s, c) + _F32(0)
    cos = np.where(use_sin_poly, c, s) + _F32(0)
    return np.where(sin_negative, -sin, sin), np.where(cos_negative, -cos, cos)


def box_muller_avx2(u: np.ndarray, mean: float, std: float) -> np.ndarray:
    """PyTorch's ``normal_fill_16_AVX2`` on rows of 16 float32 uniforms in [0, 1).

    Each row's first 8 values give the radius, its last 8 the angle; the row becomes
    ``[r cos t, r sin t] * std + mean``.
    """
    out = np.empty_like(u)
    for start in range(0, len(u), _ROWS):  # blocks small enough to stay in cache
        block = u[start:start + _ROWS]
        radius = np.sqrt(_F32(-2.0) * log_avx2(_ONE - block[:, :8]))
        sin, cos = sincos_avx2(_F32(2.0 * np.pi) * block[:, 8:])
        out[start:start + _ROWS, :8] = affine32(radius * cos, std, mean)
        out[start:start + _ROWS, 8:] = affine32(radius * sin, std, mean)
    return out


def box_muller_fill32(u: np.ndarray, mean: float, std: float) -> np.ndarray:
    """``normal_fill_16`` on float32 rows of 16 uniforms: the AVX2 polynomial kernel, or in the default
    build libm's logf/cosf/sinf (correctly rounded, so float64 NumPy rounded to float32 gives the same)."""
    if TORCH_KERNELS == "avx2":
        return box_muller_avx2(u, mean, std)
    radius = np.sqrt(_F32(-2.0) * np.log(_ONE - u[:, :8], dtype=np.float64).astype(_F32))
    theta = ((2.0 * np.pi) * u[:, 8:].astype(np.float64)).astype(_F32)
    cos = np.cos(theta, dtype=np.float64).astype(_F32)
    sin = np.sin(theta, dtype=np.float64).astype(_F32)
    return affine32(np.concatenate([radius * cos, radius * sin], axis=1), std, mean, fused=True)


def libm(fn, a: np.ndarray) -> np.ndarray:
    """``fn`` (a function of Python's ``math``: the C library's, as PyTorch's scalar kernels call) on each
    element of the float64 array ``a``. NumPy's own log/cos/sin differ from it in the last bit on some CPUs
    (its AVX-512 versions), which PyTorch's float64 streams would then not match."""
    return np.fromiter(map(fn, a.ravel().tolist()), np.float64, a.size).reshape(a.shape)


def box_muller_fill64(u: np.ndarray, mean: float, std: float) -> np.ndarray:
    """PyTorch's scalar ``normal_fill_16`` for float64 rows of 16 uniforms (the C library's log/cos/sin)."""
    radius = np.sqrt(-2.0 * libm(math.log, 1.0 - u[:, :8]))
    theta = (2.0 * np.pi) * u[:, 8:]
    return affine64(np.concatenate([radius * libm(math.cos, theta), radius * libm(math.sin, theta)], axis=1), std,
                    mean, fused=True)

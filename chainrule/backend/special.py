"""Special functions on arrays that NumPy lacks (erf), for the ops and for ``array_math``.

float64 uses Cody's algorithm (about 1e-16 relative: the oracle tests compare with PyTorch at that
precision); float32 and narrower use one rational function on the whole range, evaluated in
float32 with in-place ufuncs (no masks, no float64 copy): about 20 passes over the data.
"""

from __future__ import annotations

import numpy as xp

# --- erf: W. J. Cody, "Rational Chebyshev approximations for the error function" (1969) ------------
# Three rational approximations (|x| ≤ 0.46875: erf; ≤ 4: erfc·e^{x²}; > 4: asymptotic erfc),
# accurate to about 1e-16 relative in float64 — the algorithm behind SPECFUN's CALERF.
_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03,
      1.85777706184603153e-1)
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01, 2.98635138197400131e02,
      8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03,
      2.15311535474403846e-8)
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
      3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03)
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2,
      6.58749161529837803e-4, 1.63153871373020978e-2)
_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
      2.33520497626869185e-3)
_SQRPI = 5.6418958354775628695e-1      # 1/√π
_XBIG = 26.543                         # erfc(x) underflows to 0 beyond this


def _erfc_scaled_tail(y, r):
    """erfc(y) = exp(-y²)·r, with y² split as ysq² + del so exp(-y²) keeps full precision."""
    ysq = xp.trunc(y * 16.0) / 16.0
    delta = (y - ysq) * (y + ysq)
    return xp.exp(-ysq * ysq) * xp.exp(-delta) * r


# --- erf in float32: erf(x) = x·P(x²)/Q(x²) for |x| ≤ 4, clamped there (erf(4) rounds to 1 in float32).
# A weighted least-squares fit of erf(x)/x (ours, fitted against mpmath): relative error 7e-8 in exact
# arithmetic; evaluated in float32 it is within 6 ulps of the exact value (PyTorch's: 1 ulp).
_P32 = (1.1283790940810103e00, 2.0714595408749059e-01, 5.1527494068733172e-02, 3.9912561769176007e-03,
        1.4728844366695656e-04, -1.9420154745562514e-06, 1.9105373876547530e-08)
_Q32 = (1.0, 5.169095725906571e-01, 1.1797916735027755e-01, 1.495966351622309e-02, 1.02122895659915e-03)


def _horner_into(s, coefs, out):
    """out = Σ coefs[i]·sⁱ, evaluated in place in s's dtype."""
    dt = s.dtype.type
    xp.multiply(s, dt(coefs[-1]), out=out)
    for c in coefs[-2:0:-1]:
        out += dt(c)
        out *= s
    out += dt(coefs[0])
    return out


def erf_float32(x, scale: float = 1.0):
    """erf(scale·x) for a float32 (or narrower float) array, computed in float32 with no masks.

    >>> import numpy as np
    >>> round(float(erf_float32(np.array([0.5], np.float32))[0]), 6)  # erf(0.5) = 0.5204998778...
    0.5205
    """
    dt = xp.float32
    t = xp.multiply(x, dt(scale), dtype=dt, out=xp.empty(x.shape, dt))   # an array even for 0-d x
    xp.clip(t, -4.0, 4.0, out=t)             # NaN stays NaN through clip
    s = xp.multiply(t, t, out=xp.empty_like(t))
    num = _horner_into(s, _P32, xp.empty_like(s))
    den = _horner_into(s, _Q32, xp.empty_like(s))
    num *= t
    num /= den
    xp.clip(num, -1.0, 1.0, out=num)        # rounding in float32 can overshoot 1 by an ulp near |x| = 4
    return num if x.dtype == dt else num.astype(x.dtype)


def erf(x):
    """erf of an array in x's dtype (float64 by Cody's algorithm; float32 by a rational fit).

    >>> import numpy as np
    >>> float(erf(np.array([0.5]))[0])
    0.5204998778130465
    """
    if x.dtype.kind == "f" and x.dtype.itemsize <= 4:
        return erf_float32(x)
    x64 = x.astype(xp.float64, copy=False)
    y = xp.abs(x64)
    out = xp.full_like(y, xp.nan)           # NaN stays NaN: no branch claims it
    small = y <= 0.46875
    mid = (y > 0.46875) & (y <= 4.0)
    big = y > 4.0
    if small.any():
        ys = y[small]
        z = ys * ys
        num, den = _A[4] * z, z
        for i in range(3):
            num, den = (num + _A[i]) * z, (den + _B[i]) * z
        out[small] = ys * (num + _A[3]) / (den + _B[3])
    if mid.any():
        ym = y[mid]
        num, den = _C[8] * ym, ym
        for i in range(7):
            num, den = (num + _C[i]) * ym, (den + _D[i]) * ym
        out[mid] = 1.0 - _erfc_scaled_tail(ym, (num + _C[7]) / (den + _D[7]))
    if big.any():
        yb = xp.minimum(y[big], _XBIG)       # beyond XBIG erfc is 0 (and the formula would give NaN at inf)
        z = 1.0 / (yb * yb)
        num, den = _P[5] * z, z
        for i in range(4):
            num, den = (num + _P[i]) * z, (den + _Q[i]) * z
        r = (_SQRPI - z * (num + _P[4]) / (den + _Q[4])) / yb
        out[big] = xp.where(yb < _XBIG, 1.0 - _erfc_scaled_tail(yb, r), 1.0)
    return xp.copysign(out, x64).astype(x.dtype, copy=False)



def _erfc_positive(y):
    """erfc(y) for y > 0.46875 (Cody's second and third ranges), to full relative precision."""
    out = xp.empty_like(y)
    mid = y <= 4.0
    if mid.any():
        ym = y[mid]
        num, den = _C[8] * ym, ym
        for i in range(7):
            num, den = (num + _C[i]) * ym, (den + _D[i]) * ym
        out[mid] = _erfc_scaled_tail(ym, (num + _C[7]) / (den + _D[7]))
    big = ~mid
    if big.any():
        yb = xp.minimum(y[big], _XBIG)
        z = 1.0 / (yb * yb)
        num, den = _P[5] * z, z
        for i in range(4):
            num, den = (num + _P[i]) * z, (den + _Q[i]) * z
        r = (_SQRPI - z * (num + _P[4]) / (den + _Q[4])) / yb
        out[big] = xp.where(yb < _XBIG, _erfc_scaled_tail(yb, r), 0.0)
    return out


def erfc(x):
    """erfc(x) = 1 - erf(x), keeping full relative precision in the tail (x > 0.5), in float64."""
    x64 = xp.asarray(x, dtype=xp.float64)
    y = xp.abs(x64)
    far = y > 0.46875
    out = 1.0 - erf(xp.where(far, 0.0, x64))
    if far.any():
        tail = _erfc_positive(y[far])
        out[far] = xp.where(x64[far] < 0, 2.0 - tail, tail)    # erfc(-y) = 2 - erfc(y)
    return out


# --- erfinv: M. Giles, "Approximating the erfinv function" (GPU Computing Gems, 2011) -----------------
# A single-precision polynomial in w = -log(1 - x²) as the first guess, then Newton steps on erf(y) = x
# for |x| <= 0.5, and on log erfc(y) = log(1 - x) beyond, where 1 - x is exact, erf(y) has no digits
# left and the log keeps Newton's step good even where the guess is far off (1 - x below ~1e-8).
_GILES_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                  -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_GILES_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
               -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def _horner(coefs, w):
    p = xp.full_like(w, coefs[0])
    for c in coefs[1:]:
        p = p * w + c
    return p


def erfinv(x):
    """The inverse of erf on (-1, 1): ±inf at ±1 and NaN outside, computed in float64, returned in x's dtype."""
    x64 = x.astype(xp.float64, copy=False)
    a = xp.abs(x64)
    y = xp.where(a == 1.0, xp.inf, xp.nan)
    central = a <= 0.5
    if central.any():
        ac = a[central]
        w = -xp.log((1.0 - ac) * (1.0 + ac)) - 2.5
        yc = _horner(_GILES_CENTRAL, w) * ac
        for _ in range(2):
            yc = yc + (ac - erf(yc)) / ((2.0 * _SQRPI) * xp.exp(-yc * yc))
        y[central] = yc
    tail = (a > 0.5) & (a < 1.0)
    if tail.any():
        c = 1.0 - a[tail]                     # exact for a in [0.5, 1]
        w = -xp.log(c * (2.0 - c))
        yt = xp.where(w < 5.0, _horner(_GILES_CENTRAL, w - 2.5), _horner(_GILES_TAIL, xp.sqrt(w) - 3.0)) * (1 - c)
        for _ in range(3):
            e = _erfc_positive(yt)
            yt = yt + xp.log(e / c) * e / ((2.0 * _SQRPI) * xp.exp(-yt * yt))
        y[tail] = yt
    return xp.copysign(y, x64).astype(x.dtype, copy=False)

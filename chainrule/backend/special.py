"""Special functions on arrays that NumPy lacks (erf), for the ops and for ``array_math``."""

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


def erf(x):
    """erf of an array, computed in float64 and returned in x's dtype."""
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

"""More one-input math: erfinv, log10, the hyperbolic sine and cosine, and the inverse trigonometric
functions. As in ``ops.unary``, each op states z and ∂z/∂x; ``backward`` multiplies by the upstream ``g``
with ``ctx.xp``.
"""

from __future__ import annotations

import math

from ..autograd.function import Op
from ..backend import xp
from ..backend.special import erfinv
from .elementwise import _array


class Erfinv(Op):
    formula = "z = erfinv(x)"
    local = ("√π/2·exp(erfinv(x)²)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)    # x, as PyTorch saves it (its backward computes erfinv(x) again)
        return _array(erfinv(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        z = ctx.xp.erfinv(x)
        return (g * (math.sqrt(math.pi) / 2.0) * ctx.xp.exp(z * z),)


class Log10(Op):
    formula = "z = log10(x)"
    local = ("1/(x·ln10)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        if x.dtype == xp.float32:   # in float64, then rounded: NumPy's AVX-512 float32 log10(100) is 1.9999999
            return xp.log10(x, dtype=xp.float64).astype(xp.float32)
        return xp.log10(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (g / (x * math.log(10.0)),)


class Sinh(Op):
    formula = "z = sinh(x)"
    local = ("cosh(x)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.sinh(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (g * ctx.xp.cosh(x),)


class Cosh(Op):
    formula = "z = cosh(x)"
    local = ("sinh(x)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.cosh(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (g * ctx.xp.sinh(x),)


class Asin(Op):
    formula = "z = asin(x)"
    local = ("1/sqrt(1 - x²)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.arcsin(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (g / ctx.xp.sqrt(1 - x * x),)


class Acos(Op):
    formula = "z = acos(x)"
    local = ("-1/sqrt(1 - x²)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.arccos(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (-g / ctx.xp.sqrt(1 - x * x),)


class Atan(Op):
    formula = "z = atan(x)"
    local = ("1/(1 + x²)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.arctan(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (g / (1 + x * x),)

"""Elementwise math of two tensors with special points: logaddexp, hypot, copysign, xlogy, logit and
heaviside, each with PyTorch's value and gradient where the plain formula breaks down.

As everywhere in ``ops``, each class states its formula and local derivatives, and ``backward`` is
written with ``ctx.xp`` so it is itself differentiable; the engine undoes broadcasting. A Python number
operand arrives as a 0-d array of the tensor's dtype (not an input: it gets no gradient), through a
subclass that carries PyTorch's name for the scalar form (``XlogyBackward2``).
"""

from __future__ import annotations

from ..autograd.function import Op
from ..backend import xp
from .elementwise import _array, _broadcast_error


class Logaddexp(Op):
    """Computed as max(x, y) + log1p(exp(-|x - y|)), so it neither overflows nor underflows; equal
    infinities give themselves. PyTorch's derivatives, NaN where x = y = ±inf."""

    formula = "z = log(exp(x) + exp(y))"
    local = ("1/(1 + exp(y - x))", "1/(1 + exp(x - y))")

    @staticmethod
    def forward(ctx, x, y):
        try:
            z = xp.logaddexp(x, y)
        except ValueError as e:
            _broadcast_error("logaddexp", x, y, e)
        ctx.save_for_backward(x, y)
        return _array(z)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        m = ctx.xp
        gx = g / (1 + m.exp(y - x)) if ctx.needs(0) else None
        gy = g / (1 + m.exp(x - y)) if ctx.needs(1) else None
        return gx, gy


class Hypot(Op):
    """Scaled so that x² + y² never overflows (NumPy's hypot). The derivatives are NaN at x = y = 0,
    as PyTorch's (0/0)."""

    formula = "z = √(x² + y²)"
    local = ("x/z", "y/z")

    @staticmethod
    def forward(ctx, x, y):
        try:
            z = _array(xp.hypot(x, y))
        except ValueError as e:
            _broadcast_error("hypot", x, y, e)
        ctx.save_for_backward(x, y, z)
        return z

    @staticmethod
    def backward(ctx, g):
        x, y, z = ctx.saved_tensors
        gx = g * x / z if ctx.needs(0) else None
        gy = g * y / z if ctx.needs(1) else None
        return gx, gy


class Copysign(Op):
    """The sign bit of y decides (y = -0.0 gives a negative z). As PyTorch: the x-derivative is z/x,
    set to 0 at x = 0 (NaN at x = ±inf), and y's gradient is zeros, not None."""

    formula = "z = |x|·sign(y)"
    local = ("z/x (0 at x = 0)", "0")

    @staticmethod
    def forward(ctx, x, y):
        try:
            z = _array(xp.copysign(x, y))
        except ValueError as e:
            _broadcast_error("copysign", x, y, e)
        ctx.save_for_backward(x, z)
        return z

    @staticmethod
    def backward(ctx, g):
        x, z = ctx.saved_tensors
        m = ctx.xp
        gx = g * m.where(x == 0, 0, z / x) if ctx.needs(0) else None
        gy = m.zeros_like(g) if ctx.needs(1) else None
        return gx, gy


class CopysignScalar(Copysign):
    """For a Python number y."""

    backward_name = "CopysignBackward1"
    op_name = "copysign"


class Xlogy(Op):
    """0 where x = 0, even for y = 0 or inf, but NaN wherever y is NaN. As PyTorch: the x-derivative is
    xlogy(g, y), 0 where x = 0 and y <= 0; the y-derivative x/y is NaN at x = y = 0."""

    formula = "z = x·log(y)"
    local = ("log(y) (0 where x = 0 and y <= 0)", "x/y")

    @staticmethod
    def forward(ctx, x, y):
        try:
            z = xp.where(x == 0, xp.zeros((), x.dtype), x * xp.log(y))
        except ValueError as e:
            _broadcast_error("xlogy", x, y, e)
        ctx.save_for_backward(x, y)
        return _array(xp.where(xp.isnan(y), y, z))

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        m = ctx.xp
        gx = gy = None
        if ctx.needs(0):
            # log(1) = 0 where PyTorch's xlogy(g, y) is 0 (g = 0 with y <= 0 or y = inf) and where its mask
            # zeroes it; g·log(y) elsewhere (NaN y stays NaN), so the derivative in g is log(y) there too
            off = ((x == 0) & (y <= 0)) | ((g == 0) & ((y <= 0) | (y == xp.inf)))
            gx = g * m.log(m.where(off, 1, y))
        if ctx.needs(1):
            gy = g * x / y
        return gx, gy


class XlogyScalarSelf(Xlogy):
    """For a Python number x."""

    backward_name = "XlogyBackward1"
    op_name = "xlogy"


class XlogyScalarOther(Xlogy):
    """For a Python number y."""

    backward_name = "XlogyBackward2"
    op_name = "xlogy"


class Logit(Op):
    """With eps, x is first clamped to [eps, 1 - eps] and the derivative is 0 outside that interval
    (its ends included in it); without eps (or eps < 0, as PyTorch reads it) the derivative is NaN
    outside [0, 1] and ±inf at 0 and 1."""

    formula = "z = log(x/(1 - x))"
    local = ("1/(x(1 - x))",)

    @staticmethod
    def forward(ctx, x, eps):
        ctx.eps = eps
        if eps is not None:
            lo = ctx.lo = xp.asarray(eps, x.dtype)        # both ends in x's dtype, as PyTorch's kernel has them
            hi = ctx.hi = 1 - lo
            x_in = xp.where(x < lo, lo, xp.where(x > hi, hi, x))   # PyTorch's clamp (NaN stays NaN)
        else:
            x_in = x
        ctx.save_for_backward(x)
        return _array(xp.log(x_in / (1 - x_in)))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        m = ctx.xp
        d = g / (x * (1 - x) + 0)     # + 0: at x = -0.0 too, g·inf as PyTorch's first-order kernel (not -g·inf)
        # PyTorch's masks: NaN x selects NaN without eps, but d (NaN) with it, in its first-order kernel
        if ctx.eps is None:
            return m.where((x >= 0) & (x <= 1), d, xp.nan), None
        return m.where((x < ctx.lo) | (x > ctx.hi), 0, d), None


class NotDifferentiable(RuntimeError):
    """Backward reached an op that has no derivative (PyTorch: "derivative for ... is not implemented")."""


class Heaviside(Op):
    """The step function, with ``values`` at x = 0 (NaN x gives 0, as PyTorch). It has no derivative in
    PyTorch: its node (``NotImplemented``) records the op, and backward through it raises."""

    backward_name = "NotImplemented"
    formula = "z = 0 (x < 0), v (x = 0), 1 (x > 0)"
    local = ("none", "none")

    @staticmethod
    def forward(ctx, x, v):
        try:
            return _array(xp.where(x == 0, v, x > 0).astype(x.dtype, copy=False))
        except ValueError as e:
            _broadcast_error("heaviside", x, v, e)

    @staticmethod
    def backward(ctx, g):
        raise NotDifferentiable("heaviside: the derivative for heaviside is not implemented (as in PyTorch: "
                                "the step's derivative is 0 away from x = 0 and undefined at it); use "
                                "heaviside(x, v).detach(), or a smooth surrogate such as sigmoid(k·x)")

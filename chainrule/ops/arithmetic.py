"""Arithmetic ops: + - * / and powers, with tensor or Python-scalar operands on either side.

Each op states its formula and local derivatives. Broadcasting is undone by the engine, so these
return gradients in the output's shape; a Python-scalar operand needs no gradient.
"""

from __future__ import annotations

import math

from ..autograd.function import Op
from ..backend import xp
from .elementwise import _array, _broadcast_error


class Add(Op):
    formula = "z = x + y"
    local = ("1", "1")

    @staticmethod
    def forward(ctx, x, y):
        try:
            return x + y
        except ValueError as e:
            _broadcast_error("add", x, y, e)

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Op):
    formula = "z = x - y"
    local = ("1", "-1")

    @staticmethod
    def forward(ctx, x, y):
        try:
            return x - y
        except ValueError as e:
            _broadcast_error("sub", x, y, e)

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs(1) else None)


class RSub(Op):
    """A Python scalar c minus a tensor."""

    backward_name = "RsubBackward1"
    formula = "z = c - x"
    local = ("-1",)

    @staticmethod
    def forward(ctx, x, c):
        return c - x

    @staticmethod
    def backward(ctx, g):
        return -g, None


class Mul(Op):
    formula = "z = x * y"
    local = ("y", "x")

    @staticmethod
    def forward(ctx, x, y):
        # as PyTorch: x is saved only for y's gradient and y only for x's, so x * c (a constant c, or a
        # Python scalar) lets x change in place afterwards
        ctx.save_for_backward(x if ctx.needs(1) else None, y if ctx.needs(0) else None)
        try:
            return x * y
        except ValueError as e:
            _broadcast_error("mul", x, y, e)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return (g * y if ctx.needs(0) else None), (g * x if ctx.needs(1) else None)


class Div(Op):
    """∂z/∂y is computed as PyTorch rounds it, -(x/y)/y (in float32, -x/(y·y) can leave rounding noise where
    the exact gradient cancels to 0, as in the cosine of two 1-element vectors)."""

    formula = "z = x / y"
    local = ("1/y", "-x/y²")

    @staticmethod
    def forward(ctx, x, y):
        try:
            z = x / y
        except ValueError as e:
            _broadcast_error("div", x, y, e)
        ctx.save_for_backward(x if ctx.needs(1) else None, y)   # x only for y's gradient, as PyTorch
        return z

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gx = g / y if ctx.needs(0) else None
        gy = -g * (x / y / y) if ctx.needs(1) else None
        return gx, gy


class Reciprocal(Op):
    """Saves its output, as PyTorch does; a Python scalar over a tensor, c / x, is c * reciprocal(x)."""

    formula = "z = 1 / x"
    local = ("-z²",)

    @staticmethod
    def forward(ctx, x):
        z = _array(xp.reciprocal(x))      # an array even for 0-d x (saved as the output)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return (-g * (z * z),)


class Neg(Op):
    formula = "z = -x"
    local = ("-1",)

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return (-g,)


def _power(x, p):
    """xᵖ with PyTorch's special cases: small integral and half-integral exponents are products,
    sqrt or reciprocals (NumPy's general power is ~100x slower, and PyTorch does the same)."""
    if x.dtype.kind != "f":
        return x ** p
    if p == 2:
        return x * x
    if p == 3:
        return x * x * x
    if p == 0.5:
        return xp.sqrt(x)
    if p == -1:
        return xp.reciprocal(x)
    if p == -0.5:
        return xp.reciprocal(xp.sqrt(x))
    if p == -2:
        return xp.reciprocal(x * x)
    return x ** p


class Pow(Op):
    """For a scalar exponent p; integral and half powers avoid NumPy's general power."""

    formula = "z = x ** p"
    local = ("p·x^(p-1)",)

    @staticmethod
    def forward(ctx, x, p):
        ctx.save_for_backward(x)
        ctx.p = p
        return _power(x, p)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        p = ctx.p
        if p == 0:
            return ctx.xp.zeros_like(g), None
        if p == 1:
            return ctx.xp.attach(g, x), None     # PyTorch's formula g·1·x⁰ reads x
        if p == 2:
            return g * 2 * x, None
        return g * p * x ** (p - 1), None

    @staticmethod
    def backward_array(ctx, g):
        """The first-order kernel: xᵖ⁻¹ by ``_power`` (integral and half powers without ``np.power``),
        then scaled in place."""
        if ctx.p in (0, 1, 2):
            return Pow.backward(ctx, g)
        (x,) = ctx.saved_tensors
        d = _power(x, ctx.p - 1)
        d *= ctx.p
        d *= g
        return d, None


class PowTensor(Op):
    """For tensor exponents; ∂z/∂y is taken as 0 where x = 0 and y ≥ 0, as PyTorch."""

    backward_name = "PowBackward1"
    op_name = "pow"
    formula = "z = x ** y"
    local = ("y·x^(y-1)", "z·ln(x)")

    @staticmethod
    def forward(ctx, x, y):
        try:
            z = _array(x ** y)
        except ValueError as e:
            _broadcast_error("pow", x, y, e)
        ctx.save_for_backward(x, y, z)
        return z

    @staticmethod
    def backward(ctx, g):
        x, y, z = ctx.saved_tensors
        xp = ctx.xp
        gx = g * y * x ** (y - 1) if ctx.needs(0) else None
        gy = None
        if ctx.needs(1):
            safe = xp.where(x == 0, 1, x)  # 0**y has slope 0 in y for y > 0 (PyTorch's convention)
            gy = xp.where((x == 0) & (y >= 0), 0, g * z * xp.log(safe))
        return gx, gy


class RPow(Op):
    """For a Python scalar base c."""

    backward_name = "PowBackward2"
    formula = "z = c ** x"
    local = ("z·ln(c)",)

    @staticmethod
    def forward(ctx, x, c):
        z = _array(c ** x)
        ctx.save_for_backward(x, z)      # x too, as PyTorch (changing x in place afterwards raises)
        ctx.log_c = math.log(c) if c > 0 else (-math.inf if c == 0 else math.nan)
        return z

    @staticmethod
    def backward(ctx, g):
        _, z = ctx.saved_tensors
        return g * z * ctx.log_c, None

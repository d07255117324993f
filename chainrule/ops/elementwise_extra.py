"""More elementwise ops: atan2, remainder, fmod and nan_to_num; ``OneNode``, the end of a composition
PyTorch computes as one node.

As everywhere in ``ops``, each class states its formula and local derivatives, and ``backward`` is
written with ``ctx.xp`` so it is itself differentiable; the engine undoes broadcasting.
"""

from __future__ import annotations

from ..autograd.function import Op
from ..backend import xp
from ..backend.layout import relayout
from .elementwise import _array, _broadcast_error


class Atan2(Op):
    """The angle of the point (x, y)."""

    formula = "z = atan2(y, x)"
    local = ("x/(x² + y²)", "-y/(x² + y²)")

    @staticmethod
    def forward(ctx, y, x):
        try:
            z = xp.arctan2(y, x)
        except ValueError as e:
            _broadcast_error("atan2", y, x, e)
        ctx.save_for_backward(y, x)
        return z

    @staticmethod
    def backward(ctx, g):
        y, x = ctx.saved_tensors
        r2 = x * x + y * y
        return g * x / r2, -g * y / r2


class IntegerDivisionByZero(RuntimeError, ZeroDivisionError):
    """PyTorch raises ``RuntimeError: ZeroDivisionError``; this is both, so either ``except`` catches it."""


def _divide_check(op: str, x, y):
    """Integer division by zero: PyTorch raises, NumPy would return 0 with a warning."""
    if x.dtype.kind in "iub" and xp.asarray(y).dtype.kind in "iub" and not xp.all(y) and x.size:
        raise IntegerDivisionByZero(f"{op}: ZeroDivisionError (integer division by zero)")


class Remainder(Op):
    """The sign of y, as Python's %."""

    backward_name = "RemainderBackward1"
    formula = "z = x - y·floor(x/y)"
    local = ("1", "-floor(x/y)")
    _f = staticmethod(xp.remainder)
    _q = "floor"                             # the quotient's rounding: ctx.xp.floor

    @classmethod
    def forward(cls, ctx, x, y):
        _divide_check(ctx.op_name, x, y)
        try:
            z = cls._f(x, y)
        except ValueError as e:
            _broadcast_error(ctx.op_name, x, y, e)
        ctx.save_for_backward(x, y)
        return _array(z)

    @classmethod
    def backward(cls, ctx, g):
        x, y = ctx.saved_tensors
        gy = -g * getattr(ctx.xp, cls._q)(x / y) if ctx.needs(1) else None
        return g, gy


class Fmod(Remainder):
    """The sign of x, as C's fmod."""

    backward_name = "FmodBackward1"
    formula = "z = x - y·trunc(x/y)"
    local = ("1", "-trunc(x/y)")
    _f = staticmethod(xp.fmod)
    _q = "trunc"


class RemainderScalar(Op):
    """For a Python number c."""

    backward_name = "RemainderBackward0"
    op_name = "remainder"
    formula = "z = x - c·floor(x/c)"
    local = ("1",)
    _f = staticmethod(xp.remainder)

    @classmethod
    def forward(cls, ctx, x, c):
        _divide_check(ctx.op_name, x, c)
        return _array(cls._f(x, xp.asarray(c, x.dtype)))

    @staticmethod
    def backward(ctx, g):
        return g, None


class FmodScalar(RemainderScalar):
    """For a Python number c."""

    backward_name = "FmodBackward0"
    op_name = "fmod"
    formula = "z = x - c·trunc(x/c)"
    _f = staticmethod(xp.fmod)


class NanToNum(Op):
    """NaN, +inf and -inf replaced by given numbers; the gradient is 0 where x is not finite."""

    formula = "z = nan_to_num(x, nan, posinf, neginf)"
    local = ("1[x finite]",)

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        finite = xp.isfinite(x)
        ctx.save_for_backward(finite, x)    # x as PyTorch saves it: changing it in place afterwards raises
        return relayout(xp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf), x)    # PyTorch's layout

    @staticmethod
    def backward(ctx, g):
        finite = ctx.saved_tensors[0]
        return ctx.xp.where(finite, g, 0), None, None, None


class OneNode(Op):
    """The last node of a composition that PyTorch computes as one op (hardshrink, adaptive max pooling,
    grid sampling …). It passes g on unchanged, but under create_graph makes it depend (with derivative
    0) on the tensors PyTorch's backward reads, so the gradients require grad exactly when PyTorch's do
    (hardshrink's g·1[|x| > λ] does not involve x, yet PyTorch's ``hardshrink_backward`` reads x).
    The node shows PyTorch's name (``HardshrinkBackward0``), given by the caller. ``second``: whether
    that dependence has a (zero) second derivative, as PyTorch's shrink/threshold/pool double backwards
    do, or none at all (grid sampling's); a tuple gives it per read. ``zero``: (k, second) when read k
    gets a zero gradient from this node (nearest grid sampling: the grid's gradient is 0, not None),
    with or without a (zero) second derivative."""

    formula = "z = y"
    local = ("1",)

    n_reads = None      # OneNodeResult: the saved tensors after the reads (its output)

    @staticmethod
    def forward(ctx, y, name, second, zero, *reads):
        ctx.backward_name = name
        ctx.second = second
        ctx.zero = None if zero is None else (*zero, reads[zero[0]].shape, reads[zero[0]].dtype)
        ctx.save_for_backward(*reads)
        return y.view()

    @staticmethod
    def backward(ctx, g):
        reads = ctx.saved_tensors[:ctx.n_reads] if ctx.n_reads is not None else ctx.saved_tensors
        m = ctx.xp
        rest = [None] * len(reads)
        if ctx.zero is not None:
            k, second, shape, dtype = ctx.zero
            rest[k] = m.attach(m.zeros(shape, dtype), reads[k], zeros=second)
        if isinstance(ctx.second, tuple):
            g = m.attach(g, *(r for r, z in zip(reads, ctx.second) if z))
            g = m.attach(g, *(r for r, z in zip(reads, ctx.second) if not z), zeros=False)
        else:
            g = m.attach(g, *reads, zeros=ctx.second)
        return (g, None, None, None, *rest)


class OneNodeResult(OneNode):
    """A ``OneNode`` whose PyTorch backward also reads the op's result (pdist's ``_pdist_backward``): it
    saves its output too, so changing the result in place afterwards makes backward raise."""

    @staticmethod
    def forward(ctx, y, name, second, zero, *reads):
        out = OneNode.forward(ctx, y, name, second, zero, *reads)
        ctx.n_reads = len(reads)
        ctx.save_for_backward(*reads, out)
        return out

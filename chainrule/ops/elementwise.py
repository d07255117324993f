"""Elementwise ops of the shared family: max/min of two tensors, where, dtype casts and copies, plus the
helpers the arithmetic and unary op files use.

Each op states its formula and local derivatives; ``backward`` is that derivative times the
upstream gradient ``g``, written with ``ctx.xp`` so it also runs on Tensors for higher-order
gradients. Broadcasting is undone by the engine, so binary ops return gradients in the output's shape.
"""

from __future__ import annotations

from ..autograd.function import Op
from ..backend import xp
from ..backend.layout import copy_preserve


def contiguous(z):
    """``z`` C-contiguous: PyTorch's reductions, cumulative ops, softmax and masked_fill return contiguous
    results whatever the input's layout (so ``.view`` works on them as in PyTorch); NumPy follows the input."""
    return z if z.flags.c_contiguous else xp.ascontiguousarray(z)


def _array(z):
    """NumPy returns a scalar, not an array, for 0-d inputs. Ops that save their output need the very
    array the output Tensor wraps, so the saved value stays connected to the graph for double backward."""
    return z if type(z) is xp.ndarray else xp.asarray(z)


def broadcast_error(op: str, names: str, *shapes) -> RuntimeError:
    """PyTorch's error (a RuntimeError) for shapes that do not broadcast, naming the op, the first dimension
    (from the right, in the result's numbering) where two sizes differ and neither is 1, and all shapes."""
    shapes = [tuple(s) for s in shapes]
    n = max(map(len, shapes))
    padded = [(1,) * (n - len(s)) + s for s in shapes]
    where = ""
    for d in range(n - 1, -1, -1):
        sizes = [p[d] for p in padded if p[d] != 1]
        if len(set(sizes)) > 1:
            a, b = sizes[0], next(x for x in sizes if x != sizes[0])
            where = (f"The size of tensor a ({a}) must match the size of tensor b ({b}) at non-singleton "
                     f"dimension {d}: ")
            break
    listed = ", ".join(str(s) for s in shapes)
    return RuntimeError(f"{op}: {where}{names} of shapes {listed} cannot be broadcast together (trailing "
                        f"dimensions must match or be 1)")


def broadcast_shape(op: str, names: str, *shapes) -> tuple:
    """The shape ``shapes`` broadcast to, or PyTorch's error (``broadcast_error``) instead of NumPy's."""
    try:
        return tuple(xp.broadcast_shapes(*shapes))
    except ValueError:
        raise broadcast_error(op, names, *shapes) from None


def _broadcast_error(op: str, x, y, err: ValueError):
    ys = getattr(y, "shape", None)
    if ys is None:
        raise err
    raise broadcast_error(op, "operands", x.shape, ys) from None


class Maximum(Op):
    """Ties split the gradient evenly, as PyTorch."""

    formula = "z = maximum(x, y)"
    local = ("1[x>y] (½ at ties)", "1[y>x] (½ at ties)")
    _pick = staticmethod(xp.maximum)

    @classmethod
    def forward(cls, ctx, x, y):
        try:
            z = cls._pick(x, y)
        except ValueError as e:
            _broadcast_error(ctx.op_name, x, y, e)
        ctx.save_for_backward(x, y)
        return z

    @classmethod
    def backward(cls, ctx, g):
        x, y = ctx.saved_tensors
        xp_ = ctx.xp
        x_wins = (x > y) if cls is Maximum else (x < y)
        y_wins = (y > x) if cls is Maximum else (y < x)
        half = g * 0.5
        gx = xp_.where(x_wins, g, xp_.where(y_wins, 0, half))
        gy = xp_.where(y_wins, g, xp_.where(x_wins, 0, half))
        return gx, gy


class Minimum(Maximum):
    """Ties split the gradient evenly, as PyTorch."""

    formula = "z = minimum(x, y)"
    local = ("1[x<y] (½ at ties)", "1[y<x] (½ at ties)")
    _pick = staticmethod(xp.minimum)


class Where(Op):
    formula = "z = where(c, x, y)"
    local = ("1[c]", "1[¬c]")

    @staticmethod
    def forward(ctx, cond, x, y):
        ctx.save_for_backward(cond)
        try:
            return xp.where(cond, x, y)
        except ValueError:
            raise broadcast_error("where", "condition, input and other",
                                  *(getattr(a, "shape", ()) for a in (cond, x, y))) from None

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        xp_ = ctx.xp
        gx = xp_.where(cond, g, 0) if ctx.needs(1) else None
        gy = xp_.where(cond, 0, g) if ctx.needs(2) else None
        return None, gx, gy


class ClampT(Op):
    """clamp with tensor bounds (either may be None). It saves x and both bounds, as PyTorch does, so
    changing any of them in place makes backward raise. A NaN (in x or a bound) propagates with no
    gradient to anything there; where lo > hi every element is hi, and the gradient is hi's."""

    backward_name = "ClampBackward0"
    op_name = "clamp"
    formula = "z = minimum(maximum(x, lo), hi)"
    local = ("1[lo ≤ x ≤ hi]", "1[x < lo < hi]", "1[x > hi or hi < lo]")

    @staticmethod
    def forward(ctx, x, lo, hi):
        z = x
        try:
            if lo is not None:
                z = xp.maximum(z, lo)
            if hi is not None:
                z = xp.minimum(z, hi)
        except ValueError as e:
            _broadcast_error(ctx.op_name, x, lo if hi is None else hi, e)
        ctx.save_for_backward(x, lo, hi)
        return _array(z)

    @staticmethod
    def backward(ctx, g):
        x, lo, hi = ctx.saved_tensors
        w = ctx.xp.where
        if lo is None:
            return w(x <= hi, g, 0), None, w(x > hi, g, 0) if ctx.needs(2) else None
        if hi is None:
            return w(x >= lo, g, 0), w(x < lo, g, 0) if ctx.needs(1) else None, None
        gx = w((x >= lo) & (x <= hi), g, 0)
        glo = w((x < lo) & (lo < hi), g, 0) if ctx.needs(1) else None
        ghi = w((x > hi) | (hi < lo), g, 0) if ctx.needs(2) else None
        return gx, glo, ghi


class Cast(Op):
    """The engine casts the gradient back to the input's dtype."""

    backward_name = "ToCopyBackward0"
    formula = "z = x.to(dtype)"
    local = ("1",)

    @staticmethod
    def forward(ctx, x, dtype, implicit=False):
        ctx.implicit = implicit  # True for type promotion the user did not write (the lint tells)
        if x.flags.c_contiguous:          # the common case inline: this cast is on every promotion's path
            return x.astype(dtype)
        return copy_preserve(x, dtype)   # PyTorch's layout (NumPy's astype orders broadcast dims oddly)

    @staticmethod
    def backward(ctx, g):
        return g, None, None


class Attach(Op):
    """The gradient g, also depending (with derivative 0) on tensors a backward formula reads.

    Only built under ``create_graph=True``: PyTorch's backward formulas read saved inputs (relu reads
    its result, max_pool its input, conv all three), so a first-order gradient requires grad exactly
    when one of them does — and grad(grad(...)) then returns zeros instead of raising."""

    formula = "z = g"
    local = ("1", "0")

    @staticmethod
    def forward(ctx, g, zeros, *deps):
        ctx.deps = [(d.shape, d.dtype) for d in deps] if zeros else [None] * len(deps)
        return g.view()

    @staticmethod
    def backward(ctx, gg):
        # zeros=False: no gradient at all for the deps (PyTorch leaves some double backwards undefined)
        return (gg, None) + tuple(None if d is None else ctx.xp.zeros(*d) for d in ctx.deps)


class FusedGrad(Op):
    """The end of a composite PyTorch computes as one node (batch_norm): it passes g on."""

    backward_name = "NativeBatchNormBackward0"    # PyTorch's name for the node batch_norm ends in
    formula = "z = y"
    local = ("1",)

    @staticmethod
    def forward(ctx, y, *inputs):
        ctx.save_for_backward(*inputs)
        return y.view()

    @staticmethod
    def backward(ctx, g):
        deps = ctx.saved_tensors
        return (ctx.xp.attach(g, *deps, zeros=False),) + (None,) * len(deps)


class Clone(Op):
    """A copy of x."""

    formula = "z = x"
    local = ("1",)

    @staticmethod
    def forward(ctx, x, contiguous=False):
        # PyTorch's preserve_format (a permuted x keeps its strides); contiguous() asks for C order
        return x.copy() if contiguous else copy_preserve(x)

    @staticmethod
    def backward(ctx, g):
        return g, None

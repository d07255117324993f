"""Indexing ops: reading (``x[i]``, gather, index_select) routes the gradient back to the read
positions, adding where a position was read more than once; writing (``x[i] = v``, scatter,
masked_fill) stops the gradient of ``x`` at the overwritten positions and routes it to ``v``.
"""

from __future__ import annotations

from ..autograd.function import Op
from ..backend import array_math, xp
from .elementwise import contiguous


def is_basic(index: tuple) -> bool:
    """Basic indexing (ints, slices, None, Ellipsis) never repeats a position."""
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice)) for i in index)


class Index(Op):
    """Repeated indices accumulate their gradients."""

    formula = "z = x[index]"
    local = ("1 at the indexed positions",)

    @staticmethod
    def forward(ctx, x, index):
        ctx.backward_name = _index_name(index)
        ctx.shape, ctx.index = x.shape, index
        try:
            # basic indexing down to one element: x[1, ...] is a 0-d view where x[1] would be a copy
            if is_basic(index) and not any(i is Ellipsis for i in index):
                return x[index + (Ellipsis,)]
            return x[index]
        except IndexError as e:
            raise IndexError(f"index: {e} (tensor of shape {x.shape}, index {_show(index)})") from None

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.index_add(ctx.shape, ctx.index, g), None


def _index_name(index: tuple) -> str:
    """PyTorch's name: the node of the last step that does something (``:`` and ``...`` do nothing)."""
    if not is_basic(index):
        return "IndexBackward0"
    for i in reversed(index):
        if i is None:
            return "UnsqueezeBackward0"
        if isinstance(i, int):
            return "SelectBackward0"
        if isinstance(i, slice) and i != slice(None):
            return "SliceBackward0"
    return "SliceBackward0"


def _show(index) -> str:
    return "[" + ", ".join(f"array{tuple(i.shape)}" if hasattr(i, "shape") else repr(i) for i in index) + "]"


class IndexAdd(Op):
    """The adjoint of Index: its gradient is g[index]."""

    backward_name = "IndexPutBackward0"
    formula = "z = zeros().index_put_(index, x, accumulate=True)"
    local = ("1 at the indexed positions",)

    @staticmethod
    def forward(ctx, x, shape, index):
        ctx.index = index
        out = xp.zeros(shape, x.dtype)
        xp.add.at(out, index, x)
        return out

    @staticmethod
    def backward(ctx, g):
        return g[ctx.index], None, None


def fit_value(x, index, v):
    """``v`` for ``x[index] = v``: PyTorch broadcasts it to the indexed shape after dropping its extra
    leading 1s (NumPy refuses e.g. a (1, n) value for a boolean mask selecting n elements)."""
    core = xp.asarray(v)
    target = x[index].shape
    while core.ndim > len(target) and core.shape[0] == 1:
        core = core[0]
    if core.ndim > len(target) or xp.broadcast_shapes(core.shape, target) != target:   # (NumPy lets an empty
        raise ValueError("shape mismatch")            # target take e.g. a (2, 0, 3) value; PyTorch does not)
    return core


def writes_whole(index: tuple, shape: tuple) -> bool:
    """Does PyTorch write ``x[index] = v`` straight into x (``fill_``/``copy_``, whose gradient for x is
    a constant zero) rather than through a view? Yes when every part of the key is ``...`` or a slice
    ``start:stop:step`` with start 0 or omitted, step 1 or omitted and stop omitted or past the end
    (PyTorch skips such slices; ``-n:`` is not skipped, although it covers the same elements)."""
    if not all(i is Ellipsis or isinstance(i, slice) for i in index) or sum(i is Ellipsis for i in index) > 1:
        return False
    e = next((k for k, i in enumerate(index) if i is Ellipsis), len(index))
    before, after = index[:e], index[e + 1:]
    dims = list(range(len(before))) + list(range(len(shape) - len(after), len(shape)))
    if len(before) + len(after) > len(shape):
        return False
    for d, i in zip(dims, before + after):
        if i.start not in (None, 0) or i.step not in (None, 1) or not (i.stop is None or i.stop >= shape[d]):
            return False
    return True


class IndexPut(Op):
    """When PyTorch writes into x directly (see ``writes_whole``), the gradient of x is a constant 0."""

    formula = "z = x; z[index] = v"
    local = ("1 where not written", "1 at the written positions")
    direct = True        # may be PyTorch's direct fill_/copy_ (not for CopySlices, always through a view)

    @staticmethod
    def forward(ctx, x, index, v):
        out = x.copy()
        try:
            core = fit_value(out, index, v)
            out[index] = core
        except (ValueError, IndexError) as e:
            vs = getattr(v, "shape", ())
            raise type(e)(f"setitem: cannot assign a value of shape {tuple(vs)} to index {_show(index)} "
                          f"of a tensor of shape {x.shape}: {e}") from None
        written = xp.zeros(x.shape, bool)
        written[index] = True
        ctx.save_for_backward(written)
        ctx.index, ctx.v_shape, ctx.core_shape = index, xp.shape(v), core.shape
        ctx.whole = (x.shape, x.dtype) if ctx.direct and writes_whole(index, x.shape) else None
        return out

    @staticmethod
    def backward(ctx, g):
        (written,) = ctx.saved_tensors
        xp_ = ctx.xp
        gx = None
        if ctx.needs(0):
            gx = xp_.zeros(*ctx.whole) if ctx.whole else xp_.where(written, 0, g)
        gv = None
        if ctx.needs(2):   # g at the written positions, summed back over what v was broadcast along
            gv = xp_.reshape(xp_.sum_to(g[ctx.index], ctx.core_shape), ctx.v_shape)
        return gx, None, gv


class Gather(Op):
    """The gradient is g scattered (added) back to the read positions."""

    formula = "z = gather(x, dim, index)"
    local = ("1 at the gathered positions",)

    @staticmethod
    def forward(ctx, x, axis, index):
        ctx.shape, ctx.axis = x.shape, axis
        ctx.save_for_backward(index, x)     # x only as PyTorch saves it: changing it in place then raises
        return array_math.gather(x, axis, index)

    @staticmethod
    def backward(ctx, g):
        index, _ = ctx.saved_tensors
        return ctx.xp.scatter_add(ctx.shape, ctx.axis, index, g), None, None


class ScatterAdd(Op):
    """The adjoint of Gather: its gradient is gather(g, axis, index)."""

    formula = "z = zeros().scatter_add_(dim, index, x)"
    local = ("1 at the scattered positions",)

    @staticmethod
    def forward(ctx, x, shape, axis, index):
        ctx.axis = axis
        ctx.save_for_backward(index)
        ctx.src_shape = x.shape
        return array_math.scatter_add(shape, axis, index, x)

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        gx = ctx.xp.gather(g, ctx.axis, index)
        if tuple(gx.shape) != tuple(ctx.src_shape):   # src larger than index: the rest was not read
            gx = _pad_zeros(ctx.xp, gx, [(0, s - n) for n, s in zip(gx.shape, ctx.src_shape)])
        return gx, None, None, None


class Scatter(Op):
    formula = "z = x.scatter(dim, index, src)"
    local = ("1 where not written", "1 at the written positions")

    @staticmethod
    def forward(ctx, x, axis, index, src):
        out = x.copy()
        values = src if hasattr(src, "shape") else xp.full(index.shape, src, x.dtype)
        if hasattr(src, "shape"):
            values = src[tuple(slice(0, n) for n in index.shape)]
        where = array_math.along(index, axis)
        out[where] = values
        written = xp.zeros(x.shape, bool)
        written[where] = True
        ctx.save_for_backward(written, index)
        ctx.axis = axis
        if not hasattr(src, "shape"):
            ctx.backward_name = "ScatterBackward1"  # PyTorch's name for scatter with a scalar value
        ctx.src_shape = getattr(src, "shape", None)
        return out

    @staticmethod
    def backward(ctx, g):
        written, index = ctx.saved_tensors
        gx = ctx.xp.where(written, 0, g) if ctx.needs(0) else None
        gs = None
        if ctx.needs(3):
            gs = ctx.xp.gather(g, ctx.axis, index)
            if tuple(gs.shape) != tuple(ctx.src_shape):
                pads = [(0, s - n) for n, s in zip(gs.shape, ctx.src_shape)]
                gs = _pad_zeros(ctx.xp, gs, pads)
        return gx, None, None, gs


def _pad_zeros(xp_, g, pads):
    out_shape = tuple(n + a for n, (_, a) in zip(g.shape, pads))
    return xp_.index_add(out_shape, tuple(slice(0, n) for n in g.shape), g)


class MaskedFill(Op):
    formula = "z = x.masked_fill(mask, value)"
    local = ("1[¬mask]",)

    @staticmethod
    def forward(ctx, x, mask, value):
        ctx.save_for_backward(mask)
        try:
            return contiguous(xp.where(mask, xp.asarray(value, x.dtype), x))
        except ValueError:
            raise RuntimeError(f"masked_fill: mask of shape {mask.shape} cannot be broadcast to the "
                               f"tensor's shape {x.shape}") from None

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        return ctx.xp.where(mask, 0, g), None, None


class IndexSelect(Op):
    """Repeated indices add up."""

    formula = "z = x.index_select(axis, idx)"
    local = ("1 at the selected slices",)

    @staticmethod
    def forward(ctx, x, idx, axis):
        ctx.shape, ctx.where = x.shape, (slice(None),) * axis + (idx,)
        return xp.take(x, idx, axis=axis)

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.index_add(ctx.shape, ctx.where, g), None, None

"""Shape ops: they move or copy elements without changing values, so each backward moves the
gradient back (reshape back, inverse permutation, slice out the part, sum the copies).

Arguments arrive normalised by the tensor layer (non-negative axes, full shapes).
"""

from __future__ import annotations

import itertools

from ..autograd.function import Op
from ..backend import xp
from ..backend.layout import c_order, empty_suggested, relayout, stack_layout


def _check_size(ctx, x, shape) -> None:
    """PyTorch's error for a shape that does not hold x's elements (or has more than one -1)."""
    if list(shape).count(-1) > 1:
        raise RuntimeError(f"{ctx.op_name}: only one dimension can be inferred, got shape {tuple(shape)}")
    known = 1
    for n in shape:
        known *= n if n != -1 else 1
    if any(n < -1 for n in shape) or (-1 in shape and (known == 0 or x.size % known)) or \
            (-1 not in shape and known != x.size):
        raise RuntimeError(f"{ctx.op_name}: shape {tuple(shape)} is invalid for input of "
                           f"shape {x.shape} ({x.size} elements)")


class Reshape(Op):
    """A view of x where its strides allow it, else a copy.

    PyTorch's node name says which: ViewBackward0 (x contiguous), ReshapeAliasBackward0 (a view of a
    non-contiguous x), UnsafeViewBackward0 (a copy)."""

    backward_name = "ViewBackward0"
    formula = "z = x.reshape(shape)"
    local = ("1 (reshaped)",)

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        try:
            z = xp.reshape(x, shape, copy=False)
        except ValueError:
            _check_size(ctx, x, shape)
            ctx.backward_name = "UnsafeViewBackward0"
            return xp.reshape(x, shape)
        if not x.flags.c_contiguous:
            ctx.backward_name = "ReshapeAliasBackward0"
        return z

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.reshape(g, ctx.shape), None


class View(Reshape):
    """``x.view(shape)``: reshape that never copies; an error when x's strides cannot express the shape."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        try:
            return xp.reshape(x, shape, copy=False)
        except ValueError:
            _check_size(ctx, x, shape)
        strides = tuple(s // x.itemsize for s in x.strides)
        raise RuntimeError(f"{ctx.op_name}: view size is not compatible with input tensor's size and stride (at "
                           f"least one dimension spans across two contiguous subspaces): the input of shape "
                           f"{x.shape} with strides {strides} cannot be viewed as shape {tuple(shape)} without "
                           f"copying. Use .reshape(...) instead.")


class Squeeze(View):
    """``x.squeeze()``: drop every size-1 dimension."""


class SqueezeDim(View):
    """``x.squeeze(dim)``: drop the given size-1 dimensions."""

    backward_name = "SqueezeBackward1"
    op_name = "squeeze"


class Unsqueeze(View):
    """``x.unsqueeze(dim)``: insert a size-1 dimension."""


class Permute(Op):
    formula = "z = x.permute(perm)"
    local = ("1 (permuted back)",)

    @staticmethod
    def forward(ctx, x, perm):
        ctx.inverse = tuple(sorted(range(len(perm)), key=perm.__getitem__))
        return xp.transpose(x, perm)

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.transpose(g, ctx.inverse), None


class Transpose(Permute):
    """``x.transpose(a, b)``: swap two axes."""


class TransposeT(Permute):
    """``x.t()``: reverse the axes of a matrix."""

    backward_name = "TBackward0"
    op_name = "t"


class Expand(Op):
    """No copy; the engine sums g over the copies."""

    formula = "z = x.expand(shape)"
    local = ("1 (summed over copies)",)

    @staticmethod
    def forward(ctx, x, shape):
        try:
            z = xp.broadcast_to(x, shape)
        except ValueError:
            raise RuntimeError(f"expand: the expanded size {tuple(shape)} must match the existing size "
                               f"{x.shape} at each non-singleton dimension") from None
        if all(stride or n <= 1 for stride, n in zip(z.strides, z.shape)):
            # no element is repeated (only dims of size 1 were added): a writable view, as in PyTorch,
            # where only a view repeating an element refuses in-place writes
            z = xp.lib.stride_tricks.as_strided(x, z.shape, z.strides)
        return z

    @staticmethod
    def backward(ctx, g):
        return g, None


class Flip(Op):
    formula = "z = flip(x)"
    local = ("1 (flipped)",)

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        # PyTorch's flip copies (writing into z must not change x), in x's preserve_format layout
        return relayout(xp.flip(x, axes), x)

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.flip(g, ctx.axes), None


def is_legacy_empty(x) -> bool:
    """A 1-D tensor of shape (0,): PyTorch's cat accepts it next to tensors of any shape."""
    return x.ndim == 1 and x.shape[0] == 0


class Cat(Op):
    formula = "z = cat(xs)"
    local = ("1 (sliced)",)

    @staticmethod
    def forward(ctx, axis, *xs):
        ctx.axis = axis
        joined = [x for x in xs if not is_legacy_empty(x)] or xs[:1]
        # PyTorch's cat backward gives every 1-D empty input a constant empty gradient (even one that joined)
        ctx.sizes = [None if is_legacy_empty(x) else x.shape[axis] for x in xs]
        ctx.dtype = joined[0].dtype
        try:
            if all(x.flags.c_contiguous for x in joined):
                return xp.concatenate(joined, axis=axis)
            shape = list(joined[0].shape)   # PyTorch's layout: the format all inputs suggest
            shape[axis] = sum(x.shape[axis] for x in joined)
            out = empty_suggested(joined, tuple(shape), xp.result_type(*joined))
            return xp.concatenate(joined, axis=axis, out=out)
        except ValueError:
            shapes = ", ".join(str(tuple(x.shape)) for x in xs)
            raise RuntimeError(f"cat: tensors must have the same shape except in dimension {axis}; "
                               f"got {shapes}") from None

    @staticmethod
    def backward(ctx, g):
        grads = [None]
        start = 0
        lead = (slice(None),) * (ctx.axis % g.ndim)     # (concatenate(xs, -1) from a backward formula)
        for n in ctx.sizes:
            if n is None:                 # a 1-D empty input: a constant empty gradient
                grads.append(ctx.xp.zeros((0,), ctx.dtype))
                continue
            grads.append(g[lead + (slice(start, start + n),)])
            start += n
        return tuple(grads)


class Stack(Op):
    formula = "z = stack(xs)"
    local = ("1 (selected)",)

    @staticmethod
    def forward(ctx, axis, *xs):
        ctx.axis = axis
        ctx.n = len(xs)
        try:
            if all(x.flags.c_contiguous for x in xs) or any(x.shape != xs[0].shape for x in xs):
                return xp.stack(xs, axis=axis)
            return xp.stack(xs, axis=axis, out=stack_layout(xs, axis, xp.result_type(*xs)))
        except ValueError:
            shapes = ", ".join(str(tuple(x.shape)) for x in xs)
            raise RuntimeError(f"stack: expects each tensor to be equal size, but got {shapes}") from None

    @staticmethod
    def backward(ctx, g):
        lead = (slice(None),) * ctx.axis
        return (None,) + tuple(g[lead + (k,)] for k in range(ctx.n))


class Repeat(Op):
    formula = "z = x.repeat(reps)"
    local = ("1 (summed over tiles)",)

    @staticmethod
    def forward(ctx, x, reps):
        ctx.in_shape = (1,) * (len(reps) - x.ndim) + x.shape
        ctx.reps, ctx.dtype = reps, x.dtype
        return c_order(xp.tile(x.reshape(ctx.in_shape), reps))   # (NumPy's tile by 1s keeps x's order)

    @staticmethod
    def backward(ctx, g):
        if 0 in ctx.reps:                 # nothing was copied: a constant zero gradient, as PyTorch's
            return ctx.xp.zeros(ctx.in_shape, ctx.dtype), None
        split = []
        for r, n in zip(ctx.reps, ctx.in_shape):
            split += [r, n]
        folded = ctx.xp.reshape(g, tuple(split))
        return ctx.xp.sum(folded, axis=tuple(range(0, len(split), 2))), None


class Pad(Op):
    backward_name = "ConstantPadNdBackward0"
    formula = "z = pad(x)"
    local = ("1 (interior)",)

    @staticmethod
    def forward(ctx, x, pads, value):
        ctx.pads = pads
        return xp.pad(x, pads, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.pad_back(g, ctx.pads), None, None


class Tri(Op):
    formula = "z = tril(x) / triu(x)"
    local = ("1 inside the triangle, 0 outside",)

    @staticmethod
    def forward(ctx, x, k, lower):
        ctx.backward_name = "TrilBackward0" if lower else "TriuBackward0"
        rows, cols = x.shape[-2:]
        keep = xp.tri(rows, cols, k, dtype=bool)
        ctx.keep = keep if lower else ~xp.tri(rows, cols, k - 1, dtype=bool)
        x = c_order(x)     # PyTorch's result is contiguous whatever x's layout
        return xp.where(ctx.keep, x, xp.zeros((), x.dtype))

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.where(ctx.keep, g, 0), None, None


class Split(Op):
    """One node for all pieces: its backward is one concatenation (unused pieces count as zeros)."""

    formula = "zₖ = x[..., startₖ:endₖ, ...]"
    local = ("1 (joined back)",)

    @staticmethod
    def forward(ctx, x, sizes, axis):
        ctx.axis = axis
        bounds = list(itertools.accumulate(sizes))[:-1]
        return tuple(xp.split(x, bounds, axis=axis))

    @staticmethod
    def backward(ctx, *gs):
        return ctx.xp.concatenate(gs, ctx.axis), None, None


class SplitWithSizes(Split):
    """``x.split([sizes])``: split with a list of sizes, as PyTorch names it."""

    op_name = "split"


class Unbind(Op):
    formula = "zₖ = x.select(axis, k)"
    local = ("1 (stacked back)",)

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return tuple(xp.moveaxis(x, axis, 0))

    @staticmethod
    def backward(ctx, *gs):
        return ctx.xp.stack(gs, ctx.axis), None

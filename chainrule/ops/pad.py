"""Padding by copying the input's own border: ``reflect``, ``replicate`` and ``circular`` (``F.pad`` modes).

Each mode is a rule that says, for every output position along a padded axis, which input position it
copies. So the op is a gather with an index per axis, and its gradient is the matching scatter-add: a
border element that was copied three times receives three gradients.
"""

from __future__ import annotations

from ..autograd.function import Op
from ..backend import xp

_NAMES = {"reflect": "ReflectionPad{n}DBackward0", "replicate": "ReplicationPad{n}DBackward0",
          "circular": "CircularPad{n}DBackward0"}


def source_positions(mode: str, size: int, before: int, after: int):
    """The input position each output position copies along one axis of length ``size``.

    Negative ``before``/``after`` crop instead of pad (as PyTorch's).

    >>> source_positions("reflect", 4, 2, 1).tolist()
    [2, 1, 0, 1, 2, 3, 2]
    >>> source_positions("replicate", 3, 2, 1).tolist()
    [0, 0, 0, 1, 2, 2]
    >>> source_positions("circular", 3, 2, 1).tolist()
    [1, 2, 0, 1, 2, 0]
    """
    if mode == "circular":  # wrap around what is left after cropping (PyTorch crops first, then copies)
        start, kept = max(-before, 0), size - max(-before, 0) - max(-after, 0)
        p = xp.arange(-max(before, 0), kept + max(after, 0))
        return start + p % max(kept, 1)
    p = xp.arange(-before, size + after)
    if mode == "reflect":   # mirror about the first and last element (which are not repeated)
        p = xp.abs(p)
        return xp.where(p > size - 1, 2 * (size - 1) - p, p)
    return xp.clip(p, 0, size - 1)


class BorderPad(Op):
    """Repeated sources add up in the gradient (a border element copied k times gets k gradients)."""

    formula = "z = x[src(i)]"
    local = ("1 for each output position i that copies x (src(i) is the mode's index rule)",)

    @staticmethod
    def forward(ctx, x, mode, pads):
        # ``pads`` is [(before, after)] for the last len(pads) axes, in axis order.
        ctx.backward_name = _NAMES[mode].format(n=len(pads))
        lead = x.ndim - len(pads)
        index = [source_positions(mode, x.shape[lead + k], b, a) for k, (b, a) in enumerate(pads)]
        ctx.shape, ctx.reads_x = x.shape, mode != "circular"
        if ctx.reads_x:   # as PyTorch, whose reflection/replication backward takes x (circular: slice copies)
            ctx.save_for_backward(x)
        ctx.where = (slice(None),) * lead + xp.ix_(*index)
        return xp.ascontiguousarray(x[ctx.where])   # NumPy may lay the gathered axes out first; PyTorch's is contiguous

    @staticmethod
    def backward(ctx, g):
        gx = ctx.xp.index_add(ctx.shape, ctx.where, g)
        if ctx.reads_x:   # then under create_graph the gradient depends on x too (slope 0), as PyTorch's
            gx = ctx.xp.attach(gx, *ctx.saved_tensors)
        return gx, None, None

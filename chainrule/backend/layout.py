"""PyTorch's memory layouts for new arrays: which strides an op's result gets.

NumPy's ``order="K"`` follows the input's strides even for broadcast (stride-0) or sliced inputs,
which gives orders PyTorch never makes (``(24, 1, 12, 3)`` for a broadcast channel). PyTorch's rules:

- ``preserve_format`` (clone, ``to(dtype)``, flip, sort, nan_to_num): a non-overlapping and dense
  input's strides exactly; otherwise dense strides in the input's stride order (``infer_dense_strides``,
  where a stride-0 dim keeps its place: a broadcast input gives a contiguous result).
- cat/stack/roll: the format all inputs suggest (channels_last for a 4-D/5-D input whose strides look
  like it), contiguous when they disagree.

Every helper returns at the first check for a C-contiguous input, so the common case pays one flag read.
"""

from __future__ import annotations

import numpy as xp

__all__ = ["c_order", "copy_preserve", "empty_preserve", "empty_suggested", "relayout", "roll_layout", "stack_layout",
           "suggest_order"]

_CL = {4: ((1, 3, 2, 0), (0, 2, 3, 1)), 5: ((1, 4, 3, 2, 0), (0, 2, 3, 4, 1))}


def _channels_last_like(shape, strides) -> bool:
    """PyTorch's ``is_channels_last_strides_2d/3d`` (element strides; ambiguous cases are NCHW)."""
    dims = _CL.get(len(shape))
    if dims is None or strides[1] == 0:
        return False
    low = 0
    for d in dims[0]:
        if shape[d] == 0 or strides[d] < low or (d == 0 and low == strides[1]):
            return False
        low = strides[d] * shape[d] if shape[d] > 1 else strides[d]
    return True


def _strides(a) -> tuple:
    return tuple(s // a.itemsize for s in a.strides)


def suggest_order(shape, strides):
    """The axis order (outermost first) of PyTorch's ``suggest_memory_format``; None for contiguous."""
    if len(shape) in _CL and _channels_last_like(shape, strides):
        return _CL[len(shape)][1]
    return None


def _dense(shape, strides) -> bool:
    """PyTorch's ``is_non_overlapping_and_dense``: some permutation of the dims is contiguous."""
    need = 1
    for s, n in sorted((s, n) for n, s in zip(shape, strides) if n > 1):
        if s != need:
            return False
        need *= n
    return True


def _infer_dense_order(shape, strides):
    """PyTorch's ``infer_dense_strides`` permutation (innermost first): TensorIterator's insertion
    sort by stride, where a stride-0 dim compares as ambiguous and stays where it is."""
    perm = list(range(len(shape) - 1, -1, -1))
    for i in range(1, len(perm)):
        d1 = i
        for d0 in range(i - 1, -1, -1):
            s0, s1 = strides[perm[d0]], strides[perm[d1]]
            if s0 == 0 or s1 == 0:
                continue
            if s0 < s1:
                break
            if s0 > s1 or shape[perm[d0]] > shape[perm[d1]]:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
    return perm[::-1]


def _empty_in_order(shape, order, dtype):
    if order is None:
        return xp.empty(shape, dtype)
    e = xp.empty(tuple(shape[i] for i in order), dtype)
    return e.transpose(tuple(int(i) for i in xp.argsort(order)))


def empty_preserve(a, dtype=None):
    """An uninitialised array shaped like ``a`` in PyTorch's ``preserve_format`` layout for it (that of
    ``empty_like``): a dense input's strides exactly, else dense strides in the input's stride order."""
    dtype = a.dtype if dtype is None else xp.dtype(dtype)
    if a.flags.c_contiguous:
        return xp.empty(a.shape, dtype)
    shape, strides = a.shape, _strides(a)
    if a.size and min(strides) >= 0 and _dense(shape, strides):
        size = dtype.itemsize
        return xp.ndarray(shape, dtype, buffer=xp.empty(a.size, dtype),
                          strides=tuple(s * size for s in strides))
    return _empty_in_order(shape, _infer_dense_order(shape, strides) if a.ndim > 1 else None, dtype)


def copy_preserve(a, dtype=None):
    """A copy of ``a`` (cast to ``dtype``) in PyTorch's ``preserve_format`` layout."""
    if a.flags.c_contiguous:
        return a.astype(a.dtype if dtype is None else dtype)   # astype always copies
    out = empty_preserve(a, dtype)
    xp.copyto(out, a, casting="unsafe")
    return out


def c_order(a):
    """``a`` if it is C-contiguous, else a row-major copy (unlike ``ascontiguousarray``, a 0-d array
    stays 0-d)."""
    return a if a.flags.c_contiguous else a.copy()


def relayout(z, a):
    """``z`` (shaped like ``a``) in ``a``'s preserve_format layout: z itself (or a C copy of it) for a
    C-contiguous ``a``, else a copy."""
    if a.flags.c_contiguous:
        return c_order(z)
    out = empty_preserve(a, z.dtype)
    out[...] = z
    return out


def _torch_order(a, shape=None, strides=None):
    if shape is None:
        if a.flags.c_contiguous:
            return None
        shape, strides = a.shape, _strides(a)
    return suggest_order(shape, strides)


def empty_suggested(arrays, shape, dtype):
    """An empty array of ``shape`` in the format all ``arrays`` suggest (cat's rule), else contiguous."""
    order = _torch_order(arrays[0])
    if order is not None and all(_torch_order(b) == order for b in arrays[1:]):
        return _empty_in_order(shape, order, dtype)
    return xp.empty(shape, dtype)


def stack_layout(xs, axis, dtype):
    """An empty array for ``stack(xs, axis)`` in PyTorch's layout: ``cat(xs, axis)`` viewed with the
    new dim split off (or, at the end, a cat of ``unsqueeze(-1)`` views, whose new stride is 1)."""
    shape = xs[0].shape
    if axis < len(shape):
        joined = shape[:axis] + (len(xs) * shape[axis],) + shape[axis + 1:]
        return empty_suggested(xs, joined, dtype).reshape(shape[:axis] + (len(xs),) + shape[axis:])
    orders = {_torch_order(x, shape + (1,), _strides(x) + (1,)) for x in xs}
    return _empty_in_order(shape + (len(xs),), orders.pop() if len(orders) == 1 else None, dtype)


def roll_layout(a, shifts, axes):
    """An empty array for ``roll(a, shifts, axes)`` in PyTorch's layout: one dim at a time, each a cat
    of the two pieces (so its format is the pieces' common suggestion)."""
    shifts = (shifts,) if isinstance(shifts, int) else shifts
    axes = (axes,) if isinstance(axes, int) else axes
    for s, ax in zip(shifts, axes):
        n = a.shape[ax]
        start = (n - s) % n if n else 0
        lead = (slice(None),) * ax
        a = empty_suggested([a[lead + (slice(start, n),)], a[lead + (slice(0, start),)]], a.shape, a.dtype)
    return a

"""The vocabulary backward formulas are written in, on raw arrays.

Op backward formulas call ``ctx.xp.<name>``. On the ordinary first-order path ``ctx.xp`` is this
module (plain NumPy, no wrapping); under ``create_graph=True`` it is ``chainrule.tensor.differentiable``,
which offers the same names with the same NumPy signatures but records the graph. Keep the two
in step: a name used by a backward must exist in both.
"""

from __future__ import annotations

import numpy as _np
from numpy import (  # noqa: F401  (re-exported vocabulary)
    abs,
    broadcast_to,
    concatenate,
    cos,
    cumsum,
    exp,
    expand_dims,
    flip,
    log,
    matmul,
    maximum,
    minimum,
    ones_like,
    prod,
    reshape,
    sign,
    sin,
    sqrt,
    stack,
    sum,
    swapaxes,
    take_along_axis,
    transpose,
    where,
    zeros_like,
)

from . import sum_to  # noqa: F401
from .special import erf  # noqa: F401


def zeros(shape, dtype):
    return _np.zeros(shape, dtype)


def index_add(shape, index, values):
    """``zeros(shape)`` with ``values`` added at ``index``; repeated indices accumulate."""
    out = _np.zeros(shape, values.dtype)
    _np.add.at(out, index, values)
    return out


def scatter_add(shape, axis, index, values):
    """``zeros(shape)`` with ``values`` added along ``axis`` at ``index`` (repeats accumulate)."""
    out = _np.zeros(shape, values.dtype)
    idx = list(_np.indices(index.shape, sparse=True))
    idx[axis] = index
    _np.add.at(out, tuple(idx), values)
    return out


def pad_back(g, pads):
    """Undo constant padding: slice the interior back out. ``pads`` is [(before, after)] per axis."""
    return g[tuple(slice(b, g.shape[i] - a) for i, (b, a) in enumerate(pads))]


def astype(x, dtype):
    return x.astype(dtype)

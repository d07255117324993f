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
    cosh,
    exp,
    expand_dims,
    flip,
    floor,
    isfinite,
    log,
    matmul,
    maximum,
    minimum,
    ones_like,
    reshape,
    roll,
    rot90,
    sign,
    sin,
    sinh,
    sqrt,
    stack,
    sum,
    swapaxes,
    take_along_axis,
    transpose,
    trunc,
    where,
    zeros_like,
)
from numpy.linalg import inv  # noqa: F401  (linalg.det / solve backward)

from . import sum_to  # noqa: F401
from .special import erf, erfinv  # noqa: F401


def zeros(shape, dtype):
    return _np.zeros(shape, dtype)


# prod and cumsum call the ufuncs from here rather than np.prod/np.cumsum, whose Python wrappers would
# report an overflow to inf as NumPy's own warning (chainrule silences IEEE warnings of its own modules)
def prod(x, axis=None, keepdims: bool = False):
    return _np.multiply.reduce(x, axis=axis, keepdims=keepdims)


def cumsum(x, axis: int):
    return _np.add.accumulate(x, axis=axis)


def index_add(shape, index, values):
    """``zeros(shape)`` with ``values`` added at ``index``; repeated indices accumulate."""
    out = _np.zeros(shape, values.dtype)
    _np.add.at(out, index, values)
    return out


def along(index, axis: int) -> tuple:
    """The positions gather/scatter address: ``index`` along ``axis``, and on every other axis the
    index's own position — so an index smaller than the tensor reads or writes its leading block
    (PyTorch's rule: ``index.size(d) <= input.size(d)`` for ``d != dim``; no broadcasting)."""
    idx = list(_np.indices(index.shape, sparse=True))
    idx[axis] = index
    return tuple(idx)


def gather(x, axis, index):
    """``out[i][j] = x[i][index[i][j]]`` (axis 1) for every position of ``index``."""
    return x[along(index, axis)]


def scatter_add(shape, axis, index, values):
    """``zeros(shape)`` with ``values`` added along ``axis`` at ``index`` (repeats accumulate)."""
    out = _np.zeros(shape, values.dtype)
    _np.add.at(out, along(index, axis), values[tuple(slice(0, n) for n in index.shape)])
    return out


def constant(x):
    """``x`` itself; under create_graph a constant with x's values (no derivative flows through it)."""
    return x


def attach(g, *inputs, zeros: bool = True):
    """``g`` itself; under create_graph the result also depends on ``inputs`` (see ops.elementwise.Attach)."""
    return g


def pad_back(g, pads):
    """Undo constant padding: slice the interior back out. ``pads`` is [(before, after)] per axis."""
    return g[tuple(slice(b, g.shape[i] - a) for i, (b, a) in enumerate(pads))]


def astype(x, dtype):
    return x.astype(dtype)

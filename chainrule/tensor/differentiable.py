"""The differentiable twin of ``chainrule.backend.array_math``.

Under ``create_graph=True`` the engine hands op backward formulas this namespace as ``ctx.xp``:
the same names and NumPy signatures, but on Tensors, so the backward pass is itself recorded and
can be differentiated again (grad of grad, Hessian-vector products).
"""

from __future__ import annotations

from ..backend import broadcast_axes, xp
from ..backend.array_math import along  # noqa: F401  (an index helper: the same on both paths)
from ..ops import elementwise as E
from ..ops import indexing as I
from ..ops import inverse as LA
from ..ops import reduce as R
from ..ops import shape as S
from ..ops import shape_extra as SX
from ..ops import unary as U
from ..ops import unary_extra as UX
from . import core
from .args import as_tensor_like, where  # noqa: F401  (part of the vocabulary)


def _t(x):
    return x if isinstance(x, core.Tensor) else as_tensor_like(x, None)


def _axes(axis, ndim):
    if axis is None:
        return None
    return (axis,) if isinstance(axis, int) else tuple(axis)


def abs(x):
    return _t(x).abs()


def sign(x):
    return _t(x).sign()


def exp(x):
    return _t(x).exp()


def log(x):
    return _t(x).log()


def erfinv(x):
    return _t(x).erfinv()


def erf(x):
    return U.Erf.apply(_t(x))


def sin(x):
    return _t(x).sin()


def cos(x):
    return _t(x).cos()


def sqrt(x):
    return _t(x).sqrt()


def inv(x):
    return LA.Inv.apply(_t(x))


def floor(x):
    return _t(x).floor()


def trunc(x):
    return _t(x).trunc()


def sinh(x):
    return UX.Sinh.apply(_t(x))


def cosh(x):
    return UX.Cosh.apply(_t(x))


def roll(x, shift, axis=None):
    return SX.Roll.apply(_t(x), shift, axis)


def rot90(x, k, axes):
    return SX.Rot90.apply(_t(x), k, axes)


def maximum(x, y):
    return _t(x).maximum(y)


def minimum(x, y):
    return _t(x).minimum(y)


def matmul(x, y):
    return _t(x).matmul(y)


def swapaxes(x, a, b):
    return _t(x).transpose(a, b)


def transpose(x, axes):
    return _t(x).permute(*axes)


def reshape(x, shape):
    return _t(x).reshape(shape)


def expand_dims(x, axis):
    return _t(x).unsqueeze(axis)


def broadcast_to(x, shape):
    return _t(x).expand(tuple(shape))


def flip(x, axis):
    axes = _axes(axis, None)
    return _t(x).flip(*axes) if axes else S.Flip.apply(_t(x), ())   # nothing to reverse (a 0-d cumsum's)


def cumsum(x, axis):
    return _t(x).cumsum(axis)


def sum(x, axis=None, keepdims=False):
    return _t(x).sum(dim=_axes(axis, None), keepdim=keepdims)


def prod(x, axis=None, keepdims=False):
    return R.Prod.apply(_t(x), _axes(axis, None), keepdims)


def zeros_like(x):   # not x * 0: that is NaN where x is NaN or ±inf
    return core.Tensor._make(xp.zeros_like(_t(x)._data))


def ones_like(x):
    return core.Tensor._make(xp.ones_like(_t(x)._data))


def constant(x):
    return core.Tensor._make(_t(x)._data)


def isfinite(x):
    return _t(x).isfinite()


def attach(g, *inputs, zeros: bool = True):
    deps = [t for t in inputs if isinstance(t, core.Tensor) and t.requires_grad]
    g = _t(g)
    if not deps or g.requires_grad and len(deps) == 1 and deps[0] is g:
        return g
    return E.Attach.apply(g, zeros, *deps)


def zeros(shape, dtype):
    return core.Tensor._make(xp.zeros(shape, dtype))


def sum_to(x, shape):
    """Sum a Tensor down to ``shape`` (undo broadcasting), recording the graph."""
    x = _t(x)
    shape = tuple(shape)
    if tuple(x.shape) == shape:
        return x
    axes = broadcast_axes(tuple(x.shape), shape)
    y = x.sum(dim=axes, keepdim=True) if axes else x
    return y.reshape(shape) if tuple(y.shape) != shape else y


def take_along_axis(x, index, axis):
    idx = index._data if isinstance(index, core.Tensor) else index
    return I.Gather.apply(_t(x), axis % _t(x).ndim, idx)


def gather(x, axis, index):
    return take_along_axis(x, index, axis)


def index_add(shape, index, values):
    return I.IndexAdd.apply(_t(values), tuple(shape), index)


def scatter_add(shape, axis, index, values):
    idx = index._data if isinstance(index, core.Tensor) else index
    return I.ScatterAdd.apply(_t(values), tuple(shape), axis, idx)


def pad_back(g, pads):
    g = _t(g)
    return g[tuple(slice(b, g.shape[i] - a) for i, (b, a) in enumerate(pads))]


def concatenate(xs, axis):
    return S.Cat.apply(axis, *[_t(x) for x in xs])


def stack(xs, axis):
    return S.Stack.apply(axis, *[_t(x) for x in xs])


def astype(x, dtype):
    return _t(x).to(dtype)


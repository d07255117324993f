"""Tensor's reductions (sum, mean, max, softmax, …) and matrix products (a mixin of ``Tensor``)."""

from __future__ import annotations

import math

from .. import backend
from ..backend import xp
from ..ops import linalg as L
from ..ops import reduce as R
from . import core
from .args import (
    _correction,
    _floatify,
    _no_grad_result,
    _ValuesIndices,
    as_tensor_like,
    normalize_dim,
    normalize_dims,
    promote,
)


class ReduceMethods:
    """Reductions along dimensions, and matrix products, of ``Tensor``."""

    __slots__ = ()

    # --- reductions ------------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, dtype=None, axis=None):
        x = self.to(dtype) if dtype is not None else self
        if x._data.dtype.kind == "b":
            x = x.to(backend.int64.np)
        return R.Sum.apply(x, normalize_dims(dim if axis is None else axis, x.ndim, "sum"), keepdim)

    def mean(self, dim=None, keepdim=False, dtype=None, axis=None):
        x = self.to(dtype) if dtype is not None else self
        if x._data.dtype.kind != "f":
            raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a floating "
                               f"point or complex dtype. Got: {x.dtype.name.capitalize()}")
        return R.Mean.apply(x, normalize_dims(dim if axis is None else axis, x.ndim, "mean"), keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, correction=None):
        return R.Var.apply(_floatify(self), normalize_dims(dim, self.ndim, "var"),
                           _correction(unbiased, correction), keepdim)

    def std(self, dim=None, unbiased=None, keepdim=False, correction=None):
        return R.Std.apply(_floatify(self), normalize_dims(dim, self.ndim, "std"),
                           _correction(unbiased, correction), keepdim)

    def prod(self, dim=None, keepdim=False, dtype=None):
        x = self.to(dtype) if dtype is not None else self
        if dim is not None:
            dim = normalize_dim(dim, x.ndim, "prod")
            return R.Prod.apply(x, (dim,) if x.ndim else None, keepdim)
        return R.Prod.apply(x, None, False)

    def _extremum(self, dim, keepdim, largest: bool):
        name = "max" if largest else "min"
        if dim is None:
            return (R.Max if largest else R.Min).apply(self, None, False)
        if isinstance(dim, core.Tensor):
            return self.maximum(dim) if largest else self.minimum(dim)
        d = normalize_dim(dim, self.ndim, name)
        if self.ndim == 0:
            return _ValuesIndices(self, _no_grad_result(xp.asarray(0)))
        values = R.MaxDim.apply(self, d, keepdim, largest)
        indices = (xp.argmax if largest else xp.argmin)(self._data, axis=d, keepdims=keepdim)
        return _ValuesIndices(values, _no_grad_result(indices))

    def max(self, dim=None, keepdim=False):
        return self._extremum(dim, keepdim, True)

    def min(self, dim=None, keepdim=False):
        return self._extremum(dim, keepdim, False)

    def amax(self, dim=(), keepdim=False):
        return R.Amax.apply(self, normalize_dims(dim, self.ndim, "amax"), keepdim)

    def amin(self, dim=(), keepdim=False):
        return R.Amin.apply(self, normalize_dims(dim, self.ndim, "amin"), keepdim)

    def argmax(self, dim=None, keepdim=False):
        if dim is None:
            return _no_grad_result(xp.asarray(xp.argmax(self._data)))
        d = normalize_dim(dim, self.ndim, "argmax")
        return _no_grad_result(xp.argmax(self._data, axis=d, keepdims=keepdim))

    def argmin(self, dim=None, keepdim=False):
        if dim is None:
            return _no_grad_result(xp.asarray(xp.argmin(self._data)))
        d = normalize_dim(dim, self.ndim, "argmin")
        return _no_grad_result(xp.argmin(self._data, axis=d, keepdims=keepdim))

    def logsumexp(self, dim, keepdim=False):
        return R.LogSumExp.apply(_floatify(self), normalize_dims(dim, self.ndim, "logsumexp"), keepdim)

    def norm(self, p="fro", dim=None, keepdim=False):
        if p == "fro" or p is None:
            p = 2
        p = float(p) if p not in (math.inf, -math.inf) else p
        return R.Norm.apply(_floatify(self), p, normalize_dims(dim, self.ndim, "norm"), keepdim)

    def cumsum(self, dim, dtype=None):
        x = self.to(dtype) if dtype is not None else self
        return R.Cumsum.apply(x, normalize_dim(dim, x.ndim, "cumsum"))

    def softmax(self, dim, dtype=None):
        x = _floatify(self.to(dtype) if dtype is not None else self)
        return R.Softmax.apply(x, normalize_dim(dim, x.ndim, "softmax"))

    def log_softmax(self, dim, dtype=None):
        x = _floatify(self.to(dtype) if dtype is not None else self)
        return R.LogSoftmax.apply(x, normalize_dim(dim, x.ndim, "log_softmax"))

    # --- linear algebra --------------------------------------------------------------------
    def matmul(self, other):
        other = as_tensor_like(other, self)
        a, b = promote(self, other) if self._data.dtype is not other._data.dtype else (self, other)
        if a.ndim == 1 and b.ndim == 1:
            return L.Dot.apply(a, b)
        if a.ndim == 2 and b.ndim == 2:
            return L.Mm.apply(a, b)
        return (L.Mv if b.ndim == 1 else L.Bmm).apply(a, b)

    def _checked_matmul(self, other, op: str, ndims: tuple, node):
        if self.ndim != ndims[0] or other.ndim != ndims[1]:
            raise RuntimeError(f"{op}: expected {ndims[0]}-D and {ndims[1]}-D tensors, got shapes "
                               f"{tuple(self.shape)} and {tuple(other.shape)}")
        k1, k2 = self.shape[-1], other.shape[0] if other.ndim == 1 else other.shape[-2]
        if k1 != k2:
            raise RuntimeError(f"{op}: cannot multiply {tuple(self.shape)} by {tuple(other.shape)}: inner "
                               f"dimensions {k1} and {k2} differ")
        a, b = promote(self, other)
        return node.apply(a, b)

    def mm(self, mat2):
        return self._checked_matmul(mat2, "mm", (2, 2), L.Mm)

    def bmm(self, mat2):
        if self.ndim == 3 and mat2.ndim == 3 and self.shape[0] != mat2.shape[0]:
            raise RuntimeError(f"bmm: batch sizes differ: {tuple(self.shape)} and {tuple(mat2.shape)}")
        return self._checked_matmul(mat2, "bmm", (3, 3), L.Bmm)

    def mv(self, vec):
        return self._checked_matmul(vec, "mv", (2, 1), L.Mv)

    def dot(self, other):
        return self._checked_matmul(other, "dot", (1, 1), L.Dot)

    inner = dot

    def outer(self, other):
        if self.ndim != 1 or other.ndim != 1:
            raise RuntimeError(f"outer: expected 1-D tensors, got shapes {tuple(self.shape)} and "
                               f"{tuple(other.shape)}")
        return self.unsqueeze(1) * other.unsqueeze(0)

    ger = outer

"""Tensor's indexing methods, reading and writing (a mixin of ``Tensor``): ``t[i]``, ``t[i] = v``,
gather, scatter, index_select, masked_fill."""
from __future__ import annotations

from ..autograd.grad_mode import state
from ..backend import xp
from ..ops import elementwise as E
from ..ops import indexing as I
from . import core
from .args import (
    _changed,
    _normalize_index,
    _raw,
    normalize_dim,
)


class IndexingMethods:
    """Indexing (read and write) of ``Tensor``."""

    __slots__ = ()

    def __getitem__(self, index):
        index = _normalize_index(index)
        out = I.Index.apply(self, index)
        if I.is_basic(index):
            out._view_of(self)
        return out

    def __setitem__(self, index, value):
        index = _normalize_index(index)
        T = core.Tensor
        if state.enabled and (self.requires_grad or (isinstance(value, T) and value.requires_grad)):
            v = value if isinstance(value, T) else T._make(xp.asarray(value, self._data.dtype))
            self._inplace(lambda old: I.IndexPut.apply(old, index, v.to(old._data.dtype)), "setitem")
            return
        try:
            self._data[index] = _raw(value)
        except (ValueError, IndexError) as e:
            raise type(e)(f"setitem: cannot assign {getattr(_raw(value), 'shape', type(value).__name__)} to "
                          f"index {I._show(index)} of a tensor of shape {tuple(self.shape)}: {e}") from None
        _changed(self, "setitem")

    def gather(self, dim, index):
        d = normalize_dim(dim, self.ndim, "gather")
        idx = _raw(index)
        if idx.dtype.kind not in "iu":
            raise RuntimeError(f"gather: index must be an integer tensor, got {idx.dtype}")
        if idx.ndim != self.ndim:
            raise RuntimeError(f"gather: index ({idx.ndim}-D, shape {idx.shape}) must have the same number "
                               f"of dimensions as input ({self.ndim}-D, shape {tuple(self.shape)})")
        return I.Gather.apply(self, d, idx)

    def scatter(self, dim, index, src=None, value=None):
        d = normalize_dim(dim, self.ndim, "scatter")
        src = value if src is None else src
        if isinstance(src, core.Tensor) and src._data.dtype != self._data.dtype:
            src = src.to(self._data.dtype)
        return I.Scatter.apply(self, d, _raw(index), src)

    def scatter_add(self, dim, index, src):
        d = normalize_dim(dim, self.ndim, "scatter_add")
        return self + I.ScatterAdd.apply(src, self._data.shape, d, _raw(index))

    def index_select(self, dim, index):
        d = normalize_dim(dim, self.ndim, "index_select")
        idx = _raw(index)
        if idx.ndim > 1:
            raise IndexError(f"index_select: index must be 0-D or 1-D, got shape {idx.shape}")
        return I.IndexSelect.apply(self, idx.reshape(-1), d)

    def masked_fill(self, mask, value):
        m = _raw(mask)
        if m.dtype != bool:
            raise RuntimeError(f"masked_fill: expected a boolean mask, got {m.dtype}")
        if isinstance(value, core.Tensor):
            if value.requires_grad:
                return E.Where.apply(m, value.to(self._data.dtype), self)
            value = value.item()
        return I.MaskedFill.apply(self, m, value)

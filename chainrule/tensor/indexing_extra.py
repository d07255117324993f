"""More of Tensor's indexing (a mixin of ``Tensor``): ``take``, ``index_add``, ``index_fill`` and their
in-place forms ``index_add_``/``index_fill_``."""

from __future__ import annotations

from ..autograd.grad_mode import state
from ..backend import xp
from ..ops import elementwise as E
from ..ops import indexing as I
from ..ops import shape_extra as SX
from . import core, views
from .args import _raw, normalize_dim


def _index_along(op: str, t, d: int, index):
    """A 0-d or 1-D integer index into dim ``d`` of ``t``, checked against its size (negatives wrap)."""
    idx = _raw(index)
    idx = xp.asarray(idx)
    if idx.dtype.kind not in "iu":
        raise IndexError(f"{op}: index must be an integer tensor, got {idx.dtype}")
    if idx.ndim > 1:
        raise IndexError(f"{op}: index must be 0-D or 1-D, got shape {idx.shape}")
    n = t._data.shape[d] if t.ndim else 1
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"{op}: index {int(idx.max() if idx.max() >= n else idx.min())} is out of bounds for "
                         f"dimension {d} with size {n} (tensor of shape {tuple(t.shape)})")
    return idx.reshape(-1) % max(n, 1)


class IndexingMoreMethods:
    """take, index_add(_), index_fill(_) of ``Tensor``."""

    __slots__ = ()

    def take(self, index):
        """Elements of the flattened tensor at ``index`` (any shape; negative indices count from the end).

        >>> import chainrule as cr
        >>> cr.tensor([[1, 2], [3, 4]]).take(cr.tensor([0, 3]))
        tensor([1, 4])
        """
        idx = xp.asarray(_raw(index))
        if idx.dtype.kind not in "iu":
            raise IndexError(f"take: index must be an integer tensor, got {idx.dtype}")
        n = self._data.size
        if idx.size and (idx.min() < -n or idx.max() >= n):
            bad = int(idx.max() if idx.max() >= n else idx.min())
            raise IndexError(f"take: out of range: tried to access index {bad} on a tensor of {n} elements "
                             f"(shape {tuple(self.shape)})")
        return SX.Take.apply(self, idx)

    def index_add(self, dim, index, source, *, alpha=1):
        """``self`` with ``alpha * source[i]`` added to slice ``index[i]`` along ``dim`` (repeats accumulate).

        >>> import chainrule as cr
        >>> cr.zeros(3).index_add(0, cr.tensor([0, 0, 2]), cr.tensor([1.0, 2.0, 5.0]))
        tensor([3., 0., 5.])
        """
        d = normalize_dim(dim, self.ndim, "index_add")
        idx = _index_along("index_add", self, d, index)
        src = source if isinstance(source, core.Tensor) else core.Tensor._make(xp.asarray(source))
        want = self._data.shape[:d] + (idx.size,) + self._data.shape[d + 1:] if self.ndim else (idx.size,)
        if tuple(src.shape) != want and not (self.ndim == 0 and src.numel() == idx.size):
            raise RuntimeError(f"index_add: source of shape {tuple(src.shape)} does not match {want}: the input's "
                               f"shape {tuple(self.shape)} with dim {d} replaced by the index length {idx.size}")
        src = src.to(self._data.dtype) * alpha if alpha != 1 else src.to(self._data.dtype)
        if self.ndim == 0:
            return self + I.IndexAdd.apply(src.reshape(-1), (1,), (idx,)).reshape(())
        return self + I.IndexAdd.apply(src, self._data.shape, (slice(None),) * d + (idx,))

    def index_fill(self, dim, index, value):
        """``self`` with the slices ``index`` along ``dim`` set to ``value`` (a number or a 0-d tensor).

        >>> import chainrule as cr
        >>> cr.zeros(2, 3).index_fill(1, cr.tensor([0, 2]), 7.0)
        tensor([[7., 0., 7.],
                [7., 0., 7.]])
        """
        d = normalize_dim(dim, self.ndim, "index_fill")
        idx = _index_along("index_fill", self, d, index)
        if isinstance(value, core.Tensor) and value.ndim != 0:
            raise RuntimeError(f"index_fill: only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.ndim} dimension(s)")
        mask = xp.zeros(self._data.shape, bool)
        mask[(slice(None),) * d + (idx,) if self.ndim else ()] = True
        if isinstance(value, core.Tensor) and value.requires_grad and state.enabled:
            return E.Where.apply(mask, value.to(self._data.dtype), self)
        return I.MaskedFill.apply(self, mask, value.item() if isinstance(value, core.Tensor) else value)

    def index_add_(self, dim, index, source, *, alpha=1):
        """In-place ``index_add``.

        >>> import chainrule as cr
        >>> cr.zeros(3).index_add_(0, cr.tensor([1]), cr.tensor([2.0]))
        tensor([0., 2., 0.])
        """
        method = lambda t: t.index_add(dim, index, source, alpha=alpha)
        if state.enabled and isinstance(source, core.Tensor) and source.requires_grad:
            return self._inplace(method, "index_add_")
        return self._inplace_unary(method, "index_add_")

    def index_fill_(self, dim, index, value):
        """In-place ``index_fill``.

        >>> import chainrule as cr
        >>> cr.zeros(3).index_fill_(0, cr.tensor([2]), 1.0)
        tensor([0., 0., 1.])
        """
        method = lambda t: t.index_fill(dim, index, value)
        positions = views.expanded_positions(self)
        if positions is not None and views.repeats(positions):       # an expand()ed view: PyTorch writes there
            written = core.Tensor._make(xp.zeros(self._data.shape, bool)).index_fill(dim, index, True)._data
            return views.fill_overlapping(self, positions, written, method(core.Tensor._make(self._data))._data,
                                          "index_fill_")
        if state.enabled and isinstance(value, core.Tensor) and value.requires_grad:
            return self._inplace(method, "index_fill_")
        return self._inplace_unary(method, "index_fill_")

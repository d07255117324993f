"""Tensor's order-based methods (a mixin of ``Tensor``): sort, argsort, topk, median, unique, histc.

The order is found here on the raw array (a stable argsort); the differentiable ops in
``chainrule.ops.sorting`` then read the chosen elements, so the gradient flows to where each value
came from. Ties keep their original order (PyTorch's CPU sort is stable too; see ``topk`` for where
PyTorch's tie order is unspecified).
"""

from __future__ import annotations

import math
from collections import namedtuple

from ..backend import xp
from ..backend.layout import relayout
from ..ops import sorting as O
from .args import _no_grad_result, int_arg, keepdim_arg, normalize_dim, require_kind


def argsort_array(a, axis: int, descending: bool):
    """The stable sorting permutation of ``a`` along ``axis``; NaN counts as the largest value.

    Descending order that is still stable (ties in their original order): sort the reversed array
    ascending, reverse the result, and map positions back.
    """
    if a.ndim == 0:
        return xp.zeros((), xp.int64)
    if not descending:
        return xp.argsort(a, axis=axis, kind="stable")
    n = a.shape[axis]
    idx = xp.argsort(xp.flip(a, axis), axis=axis, kind="stable")
    return xp.flip(n - 1 - idx, axis)


def return_type(op: str, fields=("values", "indices")):
    """PyTorch's ``torch.return_types.<op>``: a named tuple, printed as PyTorch prints it (``chainrule.`` for
    ``torch.``, as dtypes and ``Size`` print)."""
    base = namedtuple(op, fields)

    def __repr__(self):
        parts = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"chainrule.return_types.{op}(\n{parts})"
    return type(op, (base,), {"__slots__": (), "__repr__": __repr__})


_SORT, _TOPK, _MEDIAN = return_type("sort"), return_type("topk"), return_type("median")
_HISTOGRAM = return_type("histogram", ("hist", "bin_edges"))


def _check_real(t, op: str):
    if t._data.dtype.kind == "c":
        raise RuntimeError(f"{op}: complex tensors have no order")


class SortingMethods:
    """Sorting, selection, median, unique values and histograms of ``Tensor``."""

    __slots__ = ()

    def sort(self, dim=-1, descending=False, stable=None):
        """Sorted values along ``dim`` and the indices they came from (ties keep their order).

        >>> import chainrule as cr
        >>> cr.tensor([3.0, 1.0, 2.0]).sort()
        chainrule.return_types.sort(
        values=tensor([1., 2., 3.]),
        indices=tensor([1, 2, 0]))
        """
        _check_real(self, "sort")
        d = normalize_dim(dim, self.ndim, "sort")
        idx = relayout(argsort_array(self._data, d, bool(descending)), self._data)   # PyTorch's layout
        node = O.Sort if stable is None else O.SortStable
        values = node.apply(self, d, idx)
        return _SORT(values, _no_grad_result(idx))

    def argsort(self, dim=-1, descending=False, stable=False):
        """The indices that sort the tensor along ``dim`` (stable: ties keep their order).

        >>> import chainrule as cr
        >>> cr.tensor([3.0, 1.0, 2.0]).argsort(descending=True)
        tensor([0, 2, 1])
        """
        _check_real(self, "argsort")
        d = normalize_dim(dim, self.ndim, "argsort")
        return _no_grad_result(relayout(argsort_array(self._data, d, bool(descending)), self._data))

    def msort(self):
        """``sort(dim=0)`` values only."""
        return self.sort(0)[0]

    def kthvalue(self, k: int, dim=-1, keepdim=False):
        """The ``k``-th smallest value along ``dim`` and its index: ``chainrule.kthvalue(self, k, dim, keepdim)``."""
        from .selection import kthvalue  # selection.py builds on this module
        return kthvalue(self, k, dim, keepdim)

    def topk(self, k: int, dim=-1, largest=True, sorted=True):
        """The ``k`` largest (or smallest) values along ``dim`` and their indices, largest first.

        Among equal values the lower index comes first. PyTorch's order among ties is unspecified
        (its CPU kernel uses partial sorts), so with ties the indices may differ from PyTorch's, the
        values never. ``sorted=False`` returns them sorted as well.

        >>> import chainrule as cr
        >>> cr.tensor([1.0, 5.0, 3.0, 4.0]).topk(2).indices
        tensor([1, 3])
        """
        require_kind(self, "topk", "fiu", RuntimeError)   # PyTorch's CPU topk has no bool kernel
        int_arg(k, "topk", "k")
        d = normalize_dim(dim, self.ndim, "topk")
        n = self._data.shape[d] if self.ndim else 1
        if not 0 <= k <= n:
            raise RuntimeError(f"topk: selected index k out of range: k = {k} but dim {dim} has size {n} "
                               f"(tensor of shape {tuple(self.shape)})")
        if self.ndim == 0:
            idx = xp.zeros((), xp.int64)
            return _TOPK(O.Topk.apply(self, d, idx), _no_grad_result(idx))
        idx = xp.take(argsort_array(self._data, d, bool(largest)), xp.arange(k), axis=d)
        return _TOPK(O.Topk.apply(self, d, idx), _no_grad_result(idx))

    def median(self, dim=None, keepdim=False, keepdims=None):
        """The median (the lower of the two middle values for an even count); NaN if any value is NaN.

        Without ``dim`` one value, whose gradient is shared by all elements equal to it. With ``dim``
        the (values, indices) pair; among several elements equal to the median PyTorch's choice of
        index is unspecified, chainrule takes the one a stable sort puts in the middle.

        >>> import chainrule as cr
        >>> cr.tensor([1.0, 4.0, 2.0, 3.0]).median()
        tensor(2.)
        """
        require_kind(self, "median", "fiu")   # PyTorch has no bool kernel
        if dim is None:
            return O.Median.apply(self)
        keepdim = keepdim_arg(keepdim, keepdims, "median")
        d = normalize_dim(dim, self.ndim, "median")
        if self.ndim == 0:
            idx = xp.zeros((), xp.int64)
            return _MEDIAN(O.MedianDim.apply(self, d, idx, keepdim), _no_grad_result(idx))
        a = self._data
        n = a.shape[d]
        if n == 0:
            if math.prod(a.shape[:d] + a.shape[d + 1:]):
                raise IndexError(f"median(): Expected reduction dim {d} to have non-zero size "
                                 f"(tensor of shape {tuple(self.shape)})")
            shape = a.shape[:d] + ((1,) if keepdim else ()) + a.shape[d + 1:]
            return _MEDIAN(self.new_zeros(shape), _no_grad_result(xp.zeros(shape, xp.int64)))
        order = argsort_array(a, d, False)
        idx = xp.take(order, [(n - 1) // 2], axis=d)
        if a.dtype.kind == "f":
            nan = xp.isnan(a)
            idx = xp.where(nan.any(axis=d, keepdims=True), xp.argmax(nan, axis=d, keepdims=True), idx)
        values = O.MedianDim.apply(self, d, idx, keepdim)
        return _MEDIAN(values, _no_grad_result(idx if keepdim else xp.squeeze(idx, d)))

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        """The distinct values (sorted), optionally with each element's position among them
        (``return_inverse``) and how often each occurs (``return_counts``). NaNs are all distinct, as in
        PyTorch. ``sorted=False`` also returns them sorted (PyTorch's CPU result is sorted as well).

        >>> import chainrule as cr
        >>> cr.tensor([3, 1, 3, 2]).unique(return_counts=True)
        (tensor([1, 2, 3]), tensor([1, 1, 2]))
        """
        a = self._data
        if dim is None:
            out, inverse, counts = xp.unique(a.reshape(-1), return_inverse=True, return_counts=True,
                                             equal_nan=False)
            inverse = inverse.reshape(a.shape)
        else:
            d = normalize_dim(dim, self.ndim, "unique")
            if a.shape[d] == 0:
                out, inverse, counts = a, xp.zeros(0, xp.int64), xp.zeros(0, xp.int64)
            else:
                out, inverse, counts = xp.unique(a, return_inverse=True, return_counts=True, axis=d)
            inverse = inverse.reshape(-1)
        result = [_no_grad_result(out)]
        if return_inverse:
            result.append(_no_grad_result(inverse.astype(xp.int64)))
        if return_counts:
            result.append(_no_grad_result(counts.astype(xp.int64)))
        return result[0] if len(result) == 1 else tuple(result)

    def histc(self, bins: int = 100, min=0, max=0):
        """Counts of the elements in ``bins`` equal-width bins over [min, max] (the data's own range when
        min == max); elements outside are ignored, and the top edge belongs to the last bin.

        >>> import chainrule as cr
        >>> cr.tensor([1.0, 2.0, 1.0]).histc(bins=4, min=0, max=3)
        tensor([0., 2., 1., 0.])
        """
        a = self._data
        if a.dtype.kind != "f":
            raise RuntimeError(f"histc: expected a floating-point tensor, got {self.dtype.name} "
                               f"(\"histogram_cpu\" is not implemented for integers)")
        if bins <= 0:
            raise RuntimeError(f"histc: bins must be > 0, but got {bins}")
        if min > max:
            raise RuntimeError(f"histc: max must be larger than min (got min={min}, max={max})")
        lo, hi = a.dtype.type(min), a.dtype.type(max)
        if lo == hi and a.size:
            lo, hi = a.min(), a.max()
        if lo == hi:
            lo, hi = lo - 1, hi + 1
        if not (xp.isfinite(lo) and xp.isfinite(hi)):
            raise RuntimeError(f"histc: range of [{lo}, {hi}] is not finite")
        # PyTorch's histc maps x straight to int((x - lo) * bins / (hi - lo)) in the tensor's dtype, without
        # checking against the edges (torch.histogram does check; see bin_counts)
        x = a.reshape(-1)
        x = x[(x >= lo) & (x <= hi)]
        pos = ((x - lo) * a.dtype.type(bins) / (hi - lo)).astype(xp.int64)
        pos = xp.minimum(pos, bins - 1)
        return _no_grad_result(xp.bincount(pos, minlength=bins).astype(a.dtype))

    def histogram(self, bins=100, *, range=None, weight=None, density=False):
        """``torch.histogram``: (hist, bin_edges) for ``bins`` equal-width bins over ``range`` (default: the
        data's min and max) or for the given increasing edges; ``weight`` adds weights instead of 1s and
        ``density`` divides by the total times the bin width.

        >>> import chainrule as cr
        >>> cr.tensor([1.0, 2.0, 1.0, 4.0]).histogram(3)
        chainrule.return_types.histogram(
        hist=tensor([2., 1., 1.]),
        bin_edges=tensor([1., 2., 3., 4.]))
        """
        a = self._data
        if a.dtype.kind != "f":
            raise NotImplementedError(f"histogram: expected a floating-point tensor, got {self.dtype.name}")
        raw_bins = getattr(bins, "_data", None)
        if raw_bins is not None:
            edges = raw_bins.astype(a.dtype)
            if edges.ndim != 1 or edges.size < 2:
                raise RuntimeError(f"histogram: bins must be a 1-D tensor of at least 2 edges, got shape "
                                   f"{edges.shape}")
        else:
            if int(bins) <= 0:
                raise RuntimeError(f"histogram: bins must be > 0, got {bins}")
            if range is not None:
                lo, hi = a.dtype.type(range[0]), a.dtype.type(range[1])
            elif a.size:
                lo, hi = a.min(), a.max()
            else:
                lo, hi = a.dtype.type(0), a.dtype.type(0)
            if lo > hi:
                raise ValueError(f"histogram: min ({lo}) must be <= max ({hi}) in range")
            if lo == hi:
                lo, hi = lo - a.dtype.type(0.5), hi + a.dtype.type(0.5)
            edges = linspace_array(lo, hi, int(bins) + 1, a.dtype)
        w = None if weight is None else weight._data.reshape(-1)
        hist = bin_counts(a.reshape(-1), edges, w)
        if density:
            hist = hist / (hist.sum() * xp.diff(edges.astype(xp.float64)))
        return _HISTOGRAM(_no_grad_result(hist.astype(a.dtype)), _no_grad_result(edges))


def linspace_array(start, end, steps: int, dtype):
    """PyTorch's CPU linspace in ``dtype``: start + i·step for the first half, end - (n-1-i)·step after,
    so both ends are exact."""
    start, end = dtype.type(start), dtype.type(end)
    if steps == 1:
        return xp.asarray([start], dtype)
    step = (end - start) / dtype.type(steps - 1)
    i = xp.arange(steps)
    half = steps // 2
    first = start + step * i[:half].astype(dtype)
    second = end - step * (steps - 1 - i[half:]).astype(dtype)
    return xp.concatenate([first, second]).astype(dtype)


def bin_counts(values, edges, weight):
    """Per bin, how many of ``values`` (or how much ``weight``) fall in [edge_i, edge_{i+1}); the last bin
    also takes values equal to its upper edge and values outside [edges[0], edges[-1]] are dropped."""
    nbins = edges.size - 1
    inside = (values >= edges[0]) & (values <= edges[-1])
    pos = xp.searchsorted(edges, values[inside], side="right") - 1
    pos = xp.minimum(pos, nbins - 1)
    w = None if weight is None else weight[inside].astype(xp.float64)
    return xp.bincount(pos, weights=w, minlength=nbins).astype(xp.float64)


"""``kthvalue``: the k-th smallest element along an axis, as one node (PyTorch's ``KthvalueBackward0``)."""

from __future__ import annotations

from .sorting import MedianDim


class Kthvalue(MedianDim):
    """The index comes from a stable sort: among equal values the earlier one (PyTorch's choice among
    ties is unspecified; the values always agree)."""

    formula = "z = take_along_axis(x, kth_smallest_index(x), axis)"
    local = ("1 at the k-th smallest element's position",)

"""``chainrule.kthvalue``: the k-th smallest value along a dim and where it is (``torch.kthvalue``)."""

from __future__ import annotations

from ..backend import xp
from ..ops.sorting_extra import Kthvalue
from .args import _no_grad_result, normalize_dim, require_kind
from .core import Tensor
from .sorting import argsort_array, return_type

_KTHVALUE = return_type("kthvalue")


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False):
    """The ``k``-th smallest value along ``dim`` (k from 1) and its index; NaN counts as the largest.

    The gradient goes to the chosen element. Among equal values the index is the one a stable sort puts
    k-th (PyTorch's choice among ties is unspecified; the values agree).

    >>> import chainrule as cr
    >>> cr.kthvalue(cr.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]]), 2)
    chainrule.return_types.kthvalue(
    values=tensor([2., 4.]),
    indices=tensor([2, 2]))
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"kthvalue(): argument 'input' must be a Tensor, not {type(input).__name__}")
    require_kind(input, "kthvalue", "fiu")   # PyTorch has no bool kernel
    d = normalize_dim(dim, input.ndim, "kthvalue")
    a = input._data
    n = a.shape[d] if input.ndim else 1
    if n == 0:
        raise IndexError(f"kthvalue(): Expected reduction dim {d} to have non-zero size (tensor of shape "
                         f"{tuple(input.shape)})")
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}: k = {k} but dim {d} "
                           f"has size {n} (k counts from 1)")
    if input.ndim == 0:
        idx = xp.zeros((), xp.int64)
        return _KTHVALUE(Kthvalue.apply(input, d, idx, keepdim), _no_grad_result(idx))
    idx = xp.take(argsort_array(a, d, False), [k - 1], axis=d)
    values = Kthvalue.apply(input, d, idx, keepdim)
    return _KTHVALUE(values, _no_grad_result(idx if keepdim else xp.squeeze(idx, d)))

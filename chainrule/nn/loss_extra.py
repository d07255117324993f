"""The rest of ``torch.nn``'s losses: margin/ranking, embedding and metric-learning losses, Poisson and
Gaussian negative log-likelihoods, multi-label and multi-class margin losses.

Each is a short composition of core ops written as PyTorch defines it (the same clamps, epsilons and
masks), so autograd differentiates it. Where PyTorch records one node (``SoftMarginLossBackward0``,
``MultiMarginLossBackward0``) chainrule's graph shows the ops it is made of instead.

>>> import chainrule as cr
>>> F = cr.nn.functional
>>> F.margin_ranking_loss(cr.tensor([1.0, 2.0]), cr.tensor([2.0, 0.0]), cr.tensor([1.0, 1.0]))
tensor(0.5000)
"""

from __future__ import annotations

import math

from ..autograd.grad_mode import no_grad
from ..ops.elementwise_extra import OneNode
from ..ops.nn import LogSigmoid
from ..tensor import Tensor
from ..tensor.creation import arange, ones_like, zeros_like
from ..tensor.functions import minimum
from .functional_extra import pairwise_distance
from .loss import _constant, _legacy_reduction, _Loss, _reduce, _WeightedLoss
from .loss_checks import check_broadcast_all, check_reduction, check_tensors

_EPS = 1e-12   # PyTorch's EPSILON in cosine_embedding_loss


def _reduction(size_average, reduce, reduction: str, fn: str) -> str:
    return check_reduction(_legacy_reduction(size_average, reduce, reduction), fn)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, size_average=None,
                        reduce=None, reduction: str = "mean") -> Tensor:
    """max(0, -y·(x1 - x2) + margin): x1 should rank above x2 where y = 1, below where y = -1."""
    reduction = _reduction(size_average, reduce, reduction, "margin_ranking_loss")
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {tuple(input1.shape)}, input2: {tuple(input2.shape)}, target: "
                           f"{tuple(target.shape)}")
    check_broadcast_all("margin_ranking_loss", input1=input1, input2=input2, target=target)
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0), reduction, "margin_ranking_loss")


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """x where y = 1, max(0, margin - x) where y = -1 (x is usually a distance).

    >>> import chainrule as cr
    >>> cr.nn.functional.hinge_embedding_loss(cr.tensor([0.3, 0.3]), cr.tensor([1.0, -1.0]), reduction="none")
    tensor([0.3000, 0.7000])
    """
    reduction = _reduction(size_average, reduce, reduction, "hinge_embedding_loss")
    check_tensors(input, target, "hinge_embedding_loss")
    zeros = zeros_like(input)   # a constant, as PyTorch's (input * 0 would pass NaN·0 back)
    margin_part = (margin - input).clamp_min(0).where(target != 1, zeros)
    self_part = input.where(target != -1, zeros)
    return _reduce(margin_part + self_part, reduction, "hinge_embedding_loss")


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """log(1 + e^(-y·x)) for labels y = ±1, computed as -log σ(y·x), which never overflows (and, unlike
    max(z, 0) + log(1 + e^(-|z|)) differentiated piece by piece, has the slope -y/2 at x = 0)."""
    reduction = _reduction(size_average, reduce, reduction, "soft_margin_loss")
    check_tensors(input, target, "soft_margin_loss")
    _constant(target, "target", "soft_margin_loss")
    loss = -LogSigmoid.apply(input * target)
    if loss.dtype != input.dtype:       # PyTorch's kernel writes into an output of the input's dtype
        loss = loss.to(input.dtype)
    loss = _reduce(loss, reduction, "soft_margin_loss")
    # PyTorch's one node saves input and target: changing either in place afterwards makes backward raise
    return OneNode.apply(loss, "SoftMarginLossBackward0", True, None, input, target) if input.requires_grad else loss


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, size_average=None,
                          reduce=None, reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1."""
    reduction = _reduction(size_average, reduce, reduction, "cosine_embedding_loss")
    if target.ndim > 1:
        raise RuntimeError(f"cosine_embedding_loss: 0D or 1D target tensor expected, multi-target not supported "
                           f"(got target of shape {tuple(target.shape)})")
    want = target.ndim + 1
    if input1.ndim != want or input2.ndim != want:
        raise RuntimeError(f"cosine_embedding_loss: {target.ndim}D target tensor expects {want}D input tensors, but "
                           f"found inputs with sizes {list(input1.shape)} and {list(input2.shape)}.")
    dim = target.ndim
    dot = (input1 * input2).sum(dim)
    norms = (((input1 * input1).sum(dim) + _EPS) * ((input2 * input2).sum(dim) + _EPS)).sqrt()
    cos = dot / norms
    zeros = zeros_like(cos)     # a constant, as PyTorch's (cos * 0 would pass NaN·0 back)
    out = (1 - cos).where(target == 1, zeros) + (cos - margin).clamp_min(0).where(target == -1, zeros)
    return _reduce(out, reduction, "cosine_embedding_loss")


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """max(0, d(a, p) - d(a, n) + margin) with the p-norm distance (Balntas et al.'s ``swap`` optional)."""
    reduction = _reduction(size_average, reduce, reduction, "triplet_margin_loss")
    _same_ndim(anchor, positive, negative, "triplet_margin_loss")
    check_broadcast_all("triplet_margin_loss", anchor=anchor, positive=positive, negative=negative)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), reduction, "triplet_margin_loss")


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function=None, margin: float = 1.0, swap: bool = False,
                                      reduction: str = "mean") -> Tensor:
    """``triplet_margin_loss`` with any ``distance_function(x, y)`` (default: pairwise_distance)."""
    reduction = check_reduction(reduction, "triplet_margin_with_distance_loss")
    if margin <= 0:
        raise ValueError(f"triplet_margin_with_distance_loss: margin must be greater than 0, got {margin}")
    _same_ndim(anchor, positive, negative, "triplet_margin_with_distance_loss")
    dist = distance_function if distance_function is not None else pairwise_distance
    d_pos, d_neg = dist(anchor, positive), dist(anchor, negative)
    if swap:
        d_neg = minimum(d_neg, dist(positive, negative))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), reduction, "triplet_margin_with_distance_loss")


def _same_ndim(a: Tensor, p: Tensor, n: Tensor, fn: str) -> None:
    if not a.ndim == p.ndim == n.ndim:
        raise RuntimeError(f"{fn}: The anchor, positive, and negative tensors are expected to have the same number "
                           f"of dimensions, but got: anchor {a.ndim}D, positive {p.ndim}D, and negative {n.ndim}D "
                           f"inputs")


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False, size_average=None,
                     eps: float = 1e-8, reduce=None, reduction: str = "mean") -> Tensor:
    """e^x - y·x (``log_input``: x is the log-rate), else x - y·log(x + eps); ``full`` adds Stirling's term.

    >>> import chainrule as cr
    >>> cr.nn.functional.poisson_nll_loss(cr.tensor([0.0]), cr.tensor([2.0]))
    tensor(1.)
    """
    reduction = _reduction(size_average, reduce, reduction, "poisson_nll_loss")
    check_tensors(input, target, "poisson_nll_loss")
    check_broadcast_all("poisson_nll_loss", input=input, target=target)
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:   # log(y!) ≈ y·log(y) - y + ½·log(2πy), only where y > 1 (PyTorch's rule)
        stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return _reduce(loss, reduction, "poisson_nll_loss")


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """½(log(max(var, eps)) + (x - y)²/max(var, eps)) (+ ½·log(2π) if ``full``); ``var`` may have one dim
    of size 1 (or lack the last dim): one variance shared along it.

    >>> import chainrule as cr
    >>> cr.nn.functional.gaussian_nll_loss(cr.tensor([1.0]), cr.tensor([3.0]), cr.tensor([1.0]))
    tensor(2.)
    """
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("gaussian_nll_loss: var has negative entry/entries")
        var = var * ones_like(input)
    elif bool((var < 0).any()):
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    if var.shape != input.shape:
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (input.ndim == var.ndim and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError(f"gaussian_nll_loss: var is of incorrect size: {tuple(var.shape)} for input of shape "
                             f"{tuple(input.shape)} (expected the input's shape, or one dim of size 1, or the "
                             f"input's shape without its last dim)")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"gaussian_nll_loss: {reduction} is not valid")
    var = var.clone()
    with no_grad():   # PyTorch clamps in place, untracked: the gradient is that of the unclamped var
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, "gaussian_nll_loss")


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                                reduce=None, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy with logits per class, averaged over the classes (last dim) of each sample."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    loss = -(target * LogSigmoid.apply(input) + (1 - target) * LogSigmoid.apply(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(input.ndim - 1) / input.shape[-1]
    return _reduce(loss, reduction, "multilabel_soft_margin_loss")


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average=None, reduce=None,
                      reduction: str = "mean") -> Tensor:
    """Σ_{j≠y} max(0, margin - x[y] + x[j])^p / C per sample (the multi-class hinge loss), times w[y].

    >>> import chainrule as cr
    >>> cr.nn.functional.multi_margin_loss(cr.tensor([[0.1, 0.2, 0.4, 0.8]]), cr.tensor([3]))
    tensor(0.3250)
    """
    reduction = _reduction(size_average, reduce, reduction, "multi_margin_loss")
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: only p == 1 and p == 2 supported, got p={p}")
    x = input if input.ndim == 2 else input.reshape(1, -1)
    if input.ndim > 2 or target.ndim > 1 or target.numel() != x.shape[0]:
        raise RuntimeError(f"multi_margin_loss: inconsistent target size: got target of shape {tuple(target.shape)} "
                           f"for input of shape {tuple(input.shape)} (expected (N, C) input and (N,) target)")
    n, c = x.shape
    t = target.reshape(n)
    if t.numel() and (bool((t < 0).any()) or bool((t >= c).any())):
        raise RuntimeError(f"multi_margin_loss: target out of range: classes must be in [0, {c}), got "
                           f"{t.tolist()}")
    if weight is not None and weight.numel() != c:
        raise RuntimeError(f"multi_margin_loss: inconsistent weight size, expected {c} but got "
                           f"{list(weight.shape)}")
    x_y = x.gather(1, t.unsqueeze(1))
    z = (margin - x_y + x).relu()        # relu: no gradient where the hinge is exactly 0 (PyTorch: z > 0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight[t].unsqueeze(1)
    z = z.masked_fill(t.unsqueeze(1) == arange(c, dtype=t.dtype).unsqueeze(0), 0)   # the j = y term is not counted
    loss = z.sum(1) / c
    if input.ndim < 2 and reduction == "none":   # one sample: PyTorch's result takes the target's shape
        loss = loss.reshape(target.shape)
    loss = _reduce(loss, reduction, "multi_margin_loss")
    # PyTorch's one node saves input, target and weight: changing one in place makes its backward raise
    reads = (input, target) + ((weight,) if weight is not None else ())
    return OneNode.apply(loss, "MultiMarginLossBackward0", False, None, *reads)


# --- modules ------------------------------------------------------------------------------------
class MarginRankingLoss(_Loss):
    """max(0, -y·(x1 - x2) + margin)."""

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return margin_ranking_loss(input1, input2, target, self.margin, reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """x where y = 1, max(0, margin - x) where y = -1."""

    def __init__(self, margin: float = 1.0, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return hinge_embedding_loss(input, target, self.margin, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """log(1 + e^(-y·x))."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return soft_margin_loss(input, target, reduction=self.reduction)


class CosineEmbeddingLoss(_Loss):
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1."""

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return cosine_embedding_loss(input1, input2, target, self.margin, reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """max(0, d(a, p) - d(a, n) + margin) with the p-norm distance."""

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6, swap: bool = False,
                 size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: Expected margin to be greater than 0, got {margin} instead")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps, self.swap,
                                   reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """``TripletMarginLoss`` with any distance function."""

    def __init__(self, *, distance_function=None, margin: float = 1.0, swap: bool = False,
                 reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: Expected margin to be greater than 0, got {margin} "
                             f"instead")
        self.distance_function, self.margin, self.swap = distance_function, margin, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return triplet_margin_with_distance_loss(anchor, positive, negative, distance_function=self.distance_function,
                                                 margin=self.margin, swap=self.swap, reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    """Negative log-likelihood of a Poisson target (``log_input``: the input is the log-rate)."""

    def __init__(self, log_input: bool = True, full: bool = False, size_average=None, eps: float = 1e-8,
                 reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input: Tensor, target: Tensor) -> Tensor:
        return poisson_nll_loss(log_input, target, self.log_input, self.full, eps=self.eps, reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Negative log-likelihood of a Gaussian target with predicted mean and variance."""

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.full, self.eps = full, eps

    def forward(self, input: Tensor, target: Tensor, var) -> Tensor:
        return gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Per-class binary cross-entropy with logits, averaged over classes."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return multilabel_soft_margin_loss(input, target, weight=self.weight, reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """The multi-class hinge loss."""

    def __init__(self, p: int = 1, margin: float = 1.0, weight: Tensor | None = None, size_average=None,
                 reduce=None, reduction: str = "mean") -> None:
        if p not in (1, 2):
            raise ValueError("MultiMarginLoss: only p == 1 and p == 2 supported")
        super().__init__(weight, size_average, reduce, reduction)
        self.p, self.margin = p, margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return multi_margin_loss(input, target, p=self.p, margin=self.margin, weight=self.weight,
                                 reduction=self.reduction)

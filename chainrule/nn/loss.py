"""Loss functions, in both forms: ``F.cross_entropy(...)`` and ``nn.CrossEntropyLoss()(...)``.

Each functional form computes the per-element loss and hands it to ``_reduce``; the formulas,
including the weighted-mean normalisation and label smoothing, follow PyTorch's exactly. The losses
PyTorch records as one node (``MseLossBackward0``, ``NllLossBackward0``, ``BinaryCrossEntropyBackward0``, ...)
are one op each here too (``chainrule/ops/losses.py``), so ``loss.grad_fn.next_functions`` reads as in
PyTorch; ``l1_loss``, ``kl_div`` and ``cross_entropy`` (LogSoftmax, then NllLoss) stay composites, as there.
"""

from __future__ import annotations

import math
import warnings

from ..autograd.function import notify
from ..autograd.grad_mode import state
from ..ops import losses as L
from ..tensor import Tensor
from ..tensor.functions import broadcast_tensors
from .module import Module

_REDUCTIONS = ("none", "mean", "sum")


def _reduce(loss: Tensor, reduction: str, fn: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{fn}: {reduction!r} is not a valid value for reduction; use one of {_REDUCTIONS}")


def _reduction(reduction: str, fn: str) -> str:
    """Check a reduction that a loss op (``chainrule/ops/losses.py``) applies inside its node."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{fn}: {reduction!r} is not a valid value for reduction; use one of {_REDUCTIONS}")
    return reduction


def _same_shape(input: Tensor, target: Tensor, fn: str):
    """Broadcast input and target to one shape first, as PyTorch does (its graph shows ExpandBackward0),
    with PyTorch's warning: a (N, 1) prediction against an (N,) target silently becomes an N×N loss."""
    if input.shape == target.shape:
        return input, target
    try:
        out = broadcast_tensors(input, target)
    except ValueError:
        raise RuntimeError(f"{fn}: input of shape {tuple(input.shape)} and target of shape {tuple(target.shape)} "
                           f"cannot be broadcast to one shape; they should have the same shape") from None
    _warn_broadcast(input, target, fn)
    return out


def _warn_broadcast(input: Tensor, target: Tensor, fn: str) -> None:
    if input.shape != target.shape:
        warnings.warn(f"{fn}: Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
                      f"Please ensure they have the same size.", UserWarning, stacklevel=3)


def _constant(t: Tensor | None, name: str, fn: str):
    """A weight argument as an array: PyTorch does not differentiate losses with respect to it."""
    if t is None:
        return None
    if t.requires_grad:
        raise RuntimeError(f"The function '{fn}' is not differentiable with respect to argument '{name}'. "
                           f"This input cannot have requires_grad True (pass {name}.detach()).")
    return t._data


def _legacy_reduction(size_average, reduce, reduction: str) -> str:
    """PyTorch's deprecated (size_average, reduce) pair, mapped to a reduction string."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "none" if not reduce else ("mean" if size_average else "sum")


# --- functional forms -------------------------------------------------------------------------
def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """(x - y)², reduced.

    >>> import chainrule as cr
    >>> cr.nn.functional.mse_loss(cr.tensor([1.0, 3.0]), cr.tensor([0.0, 0.0]))
    tensor(5.)
    """
    reduction = _reduction(_legacy_reduction(size_average, reduce, reduction), "mse_loss")
    return L.MseLoss.apply(*_same_shape(input, target, "mse_loss"), reduction)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """|x - y|, reduced."""
    _warn_broadcast(input, target, "l1_loss")
    return _reduce((input - target).abs(), _legacy_reduction(size_average, reduce, reduction), "l1_loss")


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """½d² where |d| < δ, else δ(|d| - ½δ), for d = x - y."""
    return L.HuberLoss.apply(*_same_shape(input, target, "huber_loss"), _reduction(reduction, "huber_loss"),
                               delta)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """½d²/β where |d| < β, else |d| - ½β (Huber divided by β)."""
    reduction = _reduction(_legacy_reduction(size_average, reduce, reduction), "smooth_l1_loss")
    if beta == 0:     # PyTorch then computes the L1 loss (its graph: Mean <- Abs <- Sub)
        return l1_loss(input, target, reduction=reduction)
    return L.SmoothL1Loss.apply(*_same_shape(input, target, "smooth_l1_loss"), reduction, beta)


def _check_class_targets(input: Tensor, target: Tensor, fn: str):
    """Check the dtype and shape of class-index targets (what depends on their values is checked by
    the loss op itself, on every call); return the target array."""
    t = target._data
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"{fn}: expected class-index targets of an integer dtype (int64), got {t.dtype}; "
                           f"for class probabilities pass a float target of the input's shape to cross_entropy")
    batch = input.shape[0] if input.ndim > 1 else None
    expected = (tuple(input.shape[:1]) + tuple(input.shape[2:])) if input.ndim > 1 else ()
    if tuple(t.shape) != expected:
        if batch is not None and t.ndim and t.shape[0] != batch:
            raise ValueError(f"Expected input batch_size ({batch}) to match target batch_size ({t.shape[0]}).")
        raise RuntimeError(f"{fn}: input of shape {tuple(input.shape)} needs a target of shape {expected}, "
                           f"got {tuple(t.shape)}")
    return t


def _class_targets(input: Tensor, target: Tensor, ignore_index: int, fn: str):
    """Check class-index targets; return (safe index array with ignored -> 0, valid mask or None).

    Reads the target values in Python (label smoothing needs the mask): ``chainrule.compile`` is told,
    so a step using it runs eagerly."""
    if state.observed:
        notify("data_read", target, f"{fn}'s target mask")
    t = _check_class_targets(input, target, fn)
    return L.valid_targets(t, input.shape[1] if input.ndim > 1 else input.shape[0], ignore_index, fn)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """-w[y]·x[y] per sample from log-probabilities x; 'mean' divides by Σ w[y] over non-ignored samples."""
    reduction = _reduction(_legacy_reduction(size_average, reduce, reduction), "nll_loss")
    return _nll(input, target, weight, ignore_index, reduction, L.NllLoss)


def _nll(input, target, weight, ignore_index, reduction, node):
    """The NLL op ``node`` (NllLoss, or CrossEntropyNll whose errors say cross_entropy) on checked targets."""
    t = _check_class_targets(input, target, node.op_name)
    w = _constant(weight, "weight", f"{node.op_name}_forward" if node is L.NllLoss else node.op_name)
    if input.ndim not in (1, 2, 4):
        # As PyTorch: (N, C, d1, ...) is viewed as (N, C, 1, d1·...) for its 2-D kernel (NllLoss2DBackward0)
        n, c, rest = input.shape[0], input.shape[1], t[0].size
        out = node.apply(input.reshape(n, c, 1, rest), target.reshape(n, 1, rest), w, ignore_index, reduction)
        return out.reshape(t.shape) if reduction == "none" else out
    return node.apply(input, target, w, ignore_index, reduction)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """log_softmax over the class dim (1, or 0 for unbatched input) followed by the NLL.

    ``target`` holds class indices (shape (N,) or (N, d1, ...)) or, as a float tensor of the
    input's shape, class probabilities. ``label_smoothing`` ε mixes the target with the uniform
    distribution: (1-ε)·NLL + ε·(mean over classes of -log p).

    >>> import chainrule as cr
    >>> logits = cr.tensor([[2.0, 0.0, -1.0]])
    >>> round(cr.nn.functional.cross_entropy(logits, cr.tensor([0])).item(), 4)
    0.1698
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    class_dim = 0 if input.ndim == 1 else 1
    n_classes = input.shape[class_dim]
    logp = input.log_softmax(class_dim)
    wshape = [1] * input.ndim
    wshape[class_dim] = n_classes
    if target._data.dtype.kind == "f":
        return _prob_target_loss(logp, target, weight, reduction, label_smoothing, class_dim, wshape)
    nll = _nll(logp, target, weight, ignore_index, _reduction(reduction, "cross_entropy"), L.CrossEntropyNll)
    if label_smoothing == 0.0:
        return nll
    safe, valid = _class_targets(input, target, ignore_index, "cross_entropy")
    smooth = -(logp * weight.reshape(wshape)).sum(class_dim) if weight is not None else -logp.sum(class_dim)
    if valid is not None:
        smooth = smooth.masked_fill(Tensor._make(~valid), 0.0)
    if reduction == "mean":
        if weight is not None:
            denom = float((weight._data[safe] * (valid if valid is not None else 1)).sum())
        else:
            denom = float(valid.sum()) if valid is not None else smooth.numel()
        smooth = smooth.sum() / denom
    else:
        smooth = _reduce(smooth, reduction, "cross_entropy")
    return (1 - label_smoothing) * nll + smooth * _ieee_div(label_smoothing, n_classes)


def _ieee_div(a: float, b: float) -> float:
    """a / b as PyTorch's C++ computes it: zero classes give inf or NaN (an empty result), not an exception."""
    if b:
        return a / b
    return math.copysign(math.inf, a) if a else math.nan


def _prob_target_loss(logp, target, weight, reduction, label_smoothing, class_dim, wshape):
    if tuple(target.shape) != tuple(logp.shape):
        raise RuntimeError(f"cross_entropy: probability targets must have the input's shape {tuple(logp.shape)}, "
                           f"got {tuple(target.shape)}")
    n_classes = logp.shape[class_dim]
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + _ieee_div(label_smoothing, n_classes)
    terms = logp * target
    if weight is not None:
        terms = terms * weight.reshape(wshape)
    if reduction == "none":
        return -terms.sum(class_dim)
    if reduction == "sum":
        return -terms.sum()
    if reduction == "mean":
        return -terms.sum() / _ieee_div(logp.numel(), n_classes)
    return _reduce(terms, reduction, "cross_entropy")


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """-(y·log x + (1-y)·log(1-x)) for probabilities x, with log clamped at -100 as PyTorch."""
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"binary_cross_entropy: Using a target size {tuple(target.shape)} that is different to "
                         f"the input size {tuple(input.shape)} is deprecated. Please ensure they have the same size.")
    _check_probabilities(input, "input", "; apply sigmoid first, or use binary_cross_entropy_with_logits "
                                         "on raw scores")
    _check_probabilities(target, "target", "")
    reduction = _reduction(_legacy_reduction(size_average, reduce, reduction), "binary_cross_entropy")
    w = _constant(weight, "weight", "binary_cross_entropy")
    return L.BinaryCrossEntropy.apply(input, target.to(input.dtype), w, reduction)


def _check_probabilities(t: Tensor, name: str, hint: str) -> None:
    """PyTorch refuses BCE on values outside [0, 1] (NaN included) instead of returning a number."""
    a = t._data
    inside = (a >= 0) & (a <= 1)
    if not inside.all():
        bad = a[~inside].reshape(-1)[0]
        raise RuntimeError(f"binary_cross_entropy: all elements of {name} should be between 0 and 1, found "
                           f"{bad.item()}{hint}")


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """BCE on raw scores z: (1-y)·z - (1 + (p-1)·y)·log σ(z), stable for any |z|.

    >>> import chainrule as cr
    >>> cr.nn.functional.binary_cross_entropy_with_logits(cr.tensor([1e4, -1e4]), cr.tensor([1.0, 0.0]))
    tensor(0.)
    """
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"binary_cross_entropy_with_logits: Target size {tuple(target.shape)} must be the same "
                         f"as input size {tuple(input.shape)}")
    fn = "binary_cross_entropy_with_logits"
    reduction = _reduction(_legacy_reduction(size_average, reduce, reduction), fn)
    w, pw = _constant(weight, "weight", fn), _constant(pos_weight, "pos_weight", fn)
    return L.BinaryCrossEntropyWithLogits.apply(input, target, w, pw, reduction)


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """Pointwise KL: y·(log y - x) for log-probabilities x (and 0 where y = 0); 'batchmean' divides by N."""
    if log_target:
        loss = target.exp() * (target - input)
    else:
        safe_log = target.where(target._data > 0, 1.0).log()   # y·log y := 0 at y = 0
        loss = target * safe_log - target * input
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction == "mean":   # PyTorch's warning: this is not the KL divergence per sample
        warnings.warn("kl_div: reduction: 'mean' divides the total loss by both the batch size and the support "
                      "size. 'batchmean' divides only by the batch size, and aligns with the KL div math "
                      "definition.", UserWarning, stacklevel=2)
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.ndim else loss.sum()
    return _reduce(loss, reduction, "kl_div")


# --- modules ------------------------------------------------------------------------------------
class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = _legacy_reduction(size_average, reduce, reduction)


class _WeightedLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """Mean squared error. ``nn.MSELoss()(prediction, target)``."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Quadratic for |d| < delta, linear beyond."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (pair with LogSoftmax)."""

    def __init__(self, weight: Tensor | None = None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return nll_loss(input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy on raw logits.

    >>> import chainrule as cr
    >>> loss = cr.nn.CrossEntropyLoss()(cr.zeros(4, 10), cr.tensor([0, 1, 2, 3]))
    >>> round(loss.item(), 4)      # log(10): a uniform guess
    2.3026
    """

    def __init__(self, weight: Tensor | None = None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                             reduction=self.reduction, label_smoothing=self.label_smoothing)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy on probabilities in [0, 1] (after a Sigmoid)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy in one stable step, on raw scores."""

    def __init__(self, weight: Tensor | None = None, size_average=None, reduce=None, reduction: str = "mean",
                 pos_weight: Tensor | None = None) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return binary_cross_entropy_with_logits(input, target, self.weight, reduction=self.reduction,
                                                pos_weight=self.pos_weight)


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence; input holds log-probabilities. Use reduction='batchmean'."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return kl_div(input, target, reduction=self.reduction, log_target=self.log_target)

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
from ..backend import promote_types
from ..ops import losses as L
from ..tensor import Tensor
from . import loss_checks as C
from .module import Module


def _reduce(loss: Tensor, reduction: str, fn: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{fn}: {reduction!r} is not a valid value for reduction; use one of {C.REDUCTIONS}")


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
    reduction = C.check_reduction(_legacy_reduction(size_average, reduce, reduction), "mse_loss")
    return L.MseLoss.apply(*C.same_shape(input, target, "mse_loss", broadcast_first=True), reduction)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """|x - y|, reduced."""
    C.check_tensors(input, target, "l1_loss")
    C.check_broadcast(input, target, "l1_loss")
    C.warn_broadcast(input, target, "l1_loss")
    if input.dtype != target.dtype:   # PyTorch broadcasts first: a 0-d target promotes like any other
        common = promote_types(input.dtype, target.dtype)
        input, target = input.to(common), target.to(common)
    diff = input - target
    return _reduce(diff.abs(), _legacy_reduction(size_average, reduce, reduction), "l1_loss")


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """½d² where |d| < δ, else δ(|d| - ½δ), for d = x - y."""
    C.check_number(delta, "delta", "huber_loss")
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta, got delta={delta}")
    C.check_tensors(input, target, "huber_loss")
    if not input.is_floating_point() and target.is_floating_point():
        raise RuntimeError(f"huber_loss: result type {target.dtype} can't be cast to the desired output type "
                           f"{input.dtype} (the loss has the input's dtype); convert the input with .float()")
    # PyTorch computes in the common dtype but returns the input's, and its backward then refuses a
    # target of another dtype ("Found dtype ... but expected ..."): the op is told both dtypes
    dtypes = (input._data.dtype, target._data.dtype)
    return L.HuberLoss.apply(*C.same_shape(input, target, "huber_loss"), C.check_reduction(reduction, "huber_loss"),
                             delta, dtypes)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """½d²/β where |d| < β, else |d| - ½β (Huber divided by β)."""
    reduction = C.check_reduction(_legacy_reduction(size_average, reduce, reduction), "smooth_l1_loss")
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta, got beta={beta}")
    if beta == 0:     # PyTorch then computes the L1 loss (its graph: Mean <- Abs <- Sub)
        return l1_loss(input, target, reduction=reduction)
    return L.SmoothL1Loss.apply(*C.same_shape(input, target, "smooth_l1_loss", broadcast_first=True), reduction, beta)


def _class_targets(input: Tensor, target: Tensor, ignore_index: int, fn: str):
    """Check class-index targets; return (safe index array with ignored -> 0, valid mask or None).

    Reads the target values in Python (label smoothing needs the mask): ``chainrule.compile`` is told,
    so a step using it runs eagerly."""
    if state.observed:
        notify("data_read", target, f"{fn}'s target mask")
    t = C.check_class_targets(input, target, fn)
    return L.valid_targets(t, input.shape[1] if input.ndim > 1 else input.shape[0], ignore_index, fn)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """-w[y]·x[y] per sample from log-probabilities x; 'mean' divides by Σ w[y] over non-ignored samples."""
    reduction = C.check_reduction(_legacy_reduction(size_average, reduce, reduction), "nll_loss")
    C.check_tensors(input, target, "nll_loss")
    return _nll(input, C.unbatched_target(input, target, "nll_loss"), weight, ignore_index, reduction, L.NllLoss)


def _nll(input, target, weight, ignore_index, reduction, node):
    """The NLL op ``node`` (NllLoss, or CrossEntropyNll whose errors say cross_entropy) on checked targets."""
    t = C.check_class_targets(input, target, node.op_name)
    C.check_class_weight(weight, input.shape[1] if input.ndim > 1 else input.shape[0], node.op_name, input)
    if not isinstance(ignore_index, int):
        raise TypeError(f"{node.op_name}: argument 'ignore_index' must be an int, not "
                        f"{type(ignore_index).__name__}")
    w = _constant(weight, "weight", f"{node.op_name}_forward" if node is L.NllLoss else node.op_name)
    if input.ndim not in (1, 2, 4):
        # As PyTorch: (N, C, d1, ...) is viewed as (N, C, 1, d1·...) for its 2-D kernel (NllLoss2DBackward0)
        n, c, rest = input.shape[0], input.shape[1], math.prod(t.shape[1:])   # t[0] fails when n = 0
        if n and not c and rest:   # PyTorch's view(n, 0, 1, -1) of nothing infers -1 = 0, not rest
            raise RuntimeError(f"{node.op_name}: size mismatch (got input: [{n}, 0, 0, 0] , target: [{n}, 1, "
                               f"{rest}]): an input of shape {tuple(input.shape)} has no classes (dim 1 is 0)")
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
    C.check_tensors(input, target, "cross_entropy")
    target = C.unbatched_target(input, target, "cross_entropy")
    C.check_number(label_smoothing, "label_smoothing", "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    class_dim = 0 if input.ndim == 1 else 1
    n_classes = input.shape[class_dim]
    logp = input.log_softmax(class_dim)
    wshape = [1] * input.ndim
    wshape[class_dim] = n_classes
    if target._data.dtype.kind == "f":
        C.check_class_weight(weight, n_classes, "cross_entropy", input)
        return _prob_target_loss(logp, target, weight, reduction, label_smoothing, class_dim, wshape)
    nll = _nll(logp, target, weight, ignore_index, C.check_reduction(reduction, "cross_entropy"), L.CrossEntropyNll)
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
                           f"got {tuple(target.shape)}; for class indices pass an int64 target (target.long())")
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
    C.check_bce(input, target, weight)
    reduction = C.check_reduction(_legacy_reduction(size_average, reduce, reduction), "binary_cross_entropy")
    w = _constant(weight, "weight", "binary_cross_entropy")
    return L.BinaryCrossEntropy.apply(input, target, w, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """BCE on raw scores z: (1-y)·z - (1 + (p-1)·y)·log σ(z), stable for any |z|.

    >>> import chainrule as cr
    >>> cr.nn.functional.binary_cross_entropy_with_logits(cr.tensor([1e4, -1e4]), cr.tensor([1.0, 0.0]))
    tensor(0.)
    """
    fn = "binary_cross_entropy_with_logits"
    C.check_bce_with_logits(input, target, weight, pos_weight)
    reduction = C.check_reduction(_legacy_reduction(size_average, reduce, reduction), fn)
    _constant(weight, "weight", fn), _constant(pos_weight, "pos_weight", fn)
    # passed as tensors: the op saves them, so changing one in place before backward raises, as in PyTorch
    return L.BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight, reduction)


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """Pointwise KL: y·(log y - x) for log-probabilities x (and 0 where y = 0); 'batchmean' divides by N."""
    C.check_tensors(input, target, "kl_div")
    if not (input.is_floating_point() and target.is_floating_point()):
        raise RuntimeError(f"kl_div: Integral inputs not supported (got input {input.dtype}, target "
                           f"{target.dtype}); pass log-probabilities and probabilities as float tensors")
    C.check_broadcast(input, target, "kl_div")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = L.XLogY.apply(target, target) - target * input   # y·log y := 0 at y = 0, as PyTorch
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

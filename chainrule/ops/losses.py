"""Losses as single nodes, as PyTorch records them: ``MseLossBackward0``, ``NllLossBackward0``, ...

PyTorch computes these losses in one kernel, so ``loss.grad_fn`` is one node whose
``next_functions`` lead straight to the prediction — which the official tutorials print. Here
each is one op too: the pointwise loss ℓ, then the reduction ('mean', 'sum' or 'none') inside
the same node. Backward spreads the upstream g back over the elements (g/n for 'mean') and
multiplies by ∂ℓ/∂x; every formula is written against ``ctx.xp``, so double backward works.

The composite each op stands for is its ``formula``; ``chainrule.nn.functional`` keeps the
composites that PyTorch itself records as several nodes (``l1_loss``: Mean ← Abs ← Sub;
``kl_div``; ``cross_entropy`` = LogSoftmax then ``NllLoss``).
"""

from __future__ import annotations

from ..autograd.function import Op
from ..backend import xp

REDUCTIONS = ("none", "mean", "sum")
_BCE_EPS = float(xp.float32(1e-12))   # PyTorch's BCE backward clamps x(1-x) at the float32 value of 1e-12


def class_targets(t, n_classes: int, ignore_index: int, weight, dtype, op: str):
    """Class-index targets → (safe indices with ignored ones replaced by 0, per-sample weights w[yₙ]
    with 0 where ignored, or None when every weight is 1). Raises for an index out of range.

    Done inside the ops' forward, not in Python before them: what depends on the target *values*
    then runs on every call, also when ``chainrule.compile`` replays a recorded step."""
    safe, valid = valid_targets(t, n_classes, ignore_index, op)
    if weight is None and valid is None:
        return safe, None
    w = (weight[safe] if weight is not None else xp.ones(safe.shape, dtype)).astype(dtype)
    return safe, (w if valid is None else w * valid)


def valid_targets(t, n_classes: int, ignore_index: int, op: str):
    """(class indices with ignored ones replaced by 0, the mask of the non-ignored ones or None when all
    are); raises for an index outside [0, n_classes) that is not ``ignore_index``."""
    if t.size:
        lo, hi = int(t.min()), int(t.max())
        if 0 <= lo and hi < n_classes and not lo <= ignore_index <= hi:
            return t, None              # the common case: two reductions, no mask
    valid = t != ignore_index
    all_valid = bool(valid.all())
    out_of_range = valid & ((t < 0) | (t >= n_classes))    # ignored targets are never looked up, as in PyTorch
    if out_of_range.any():
        bad = int(t[out_of_range].reshape(-1)[0])          # the first bad one, the one PyTorch names
        raise IndexError(f"{op}: Target {bad} is out of bounds: class indices must be in [0, {n_classes}) "
                         f"(or equal ignore_index={ignore_index})")
    safe = t if all_valid else xp.where(valid, t, 0)
    return safe, (None if all_valid else valid)


def _reduce(ctx, loss, reduction: str):
    """Reduce the pointwise loss and remember how many elements a 'mean' divided by."""
    ctx.reduction, ctx.count = reduction, max(loss.size, 1)
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "mean":
        with xp.errstate(invalid="ignore"):   # the mean of nothing is NaN, as in PyTorch
            total = total / loss.size if loss.size else total * xp.nan
    return xp.asarray(total, dtype=loss.dtype)


def _spread(ctx, g):
    """The upstream gradient per element: g/n for 'mean', g for 'sum' (a scalar) and 'none'."""
    return g / ctx.count if ctx.reduction == "mean" else g


class MseLoss(Op):
    """The reduction is 'mean', 'sum' or 'none'."""

    formula = "z = mean((x - y)²)"
    local = ("2(x - y)/n", "-2(x - y)/n")

    @staticmethod
    def forward(ctx, x, y, reduction):
        ctx.save_for_backward(x, y)
        d = x - y
        return _reduce(ctx, d * d, reduction)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gx = _spread(ctx, g) * (2.0 * (x - y))
        return gx, -gx, None


class HuberLoss(Op):
    """huber_δ(d) = ½d² if |d| < δ else δ(|d| - ½δ)."""

    op_name = "huber_loss"
    formula = "z = mean(huber_δ(x - y))"
    local = ("clamp(x - y, -δ, δ)/n", "-clamp(x - y, -δ, δ)/n")

    @staticmethod
    def forward(ctx, x, y, reduction, delta, dtypes=None):
        """``dtypes``: the (input, target) dtypes before promotion; the loss has the input's dtype."""
        ctx.save_for_backward(x, y)
        ctx.delta, ctx.dtypes = delta, dtypes
        d = x - y
        a = xp.abs(d)
        loss = _reduce(ctx, xp.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta)), reduction)
        return loss if dtypes is None else loss.astype(dtypes[0], copy=False)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        xp_, delta = ctx.xp, ctx.delta
        if ctx.dtypes is not None and ctx.dtypes[0] != ctx.dtypes[1]:    # as PyTorch's huber_loss_backward
            raise RuntimeError(f"{ctx.op_name}: Found dtype {ctx.dtypes[1]} but expected {ctx.dtypes[0]}: the "
                               f"backward of huber_loss needs a target of the input's dtype; convert it with "
                               f"target.to(input.dtype)")
        d = x - y
        gx = _spread(ctx, g) * xp_.where(xp_.abs(d) < delta, d, delta * xp_.sign(d))
        return gx, -gx, None, None, None


class SmoothL1Loss(Op):
    """smooth_l1_β(d) = ½d²/β if |d| < β else |d| - ½β, for β > 0."""

    formula = "z = mean(smooth_l1_β(x - y))"
    local = ("clamp((x - y)/β, -1, 1)/n", "-clamp((x - y)/β, -1, 1)/n")

    @staticmethod
    def forward(ctx, x, y, reduction, beta):
        ctx.save_for_backward(x, y)
        ctx.beta = beta
        d = x - y
        a = xp.abs(d)
        return _reduce(ctx, xp.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta), reduction)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        xp_, beta = ctx.xp, ctx.beta
        d = x - y
        gx = _spread(ctx, g) * xp_.where(xp_.abs(d) < beta, d / beta, xp_.sign(d))
        return gx, -gx, None, None


class BinaryCrossEntropy(Op):
    """For probabilities x, with optional weights w. log 0 is clamped to -100, as in PyTorch, and
    ∂ℓ/∂x = (x - t)/max(x(1-x), 1e-12) keeps the gradient finite at x = 0 or 1."""

    formula = "z = mean(-(t·log x + (1-t)·log(1-x)))"
    local = ("(x - t)/(x(1-x))/n", "(log(1-x) - log x)/n")

    @staticmethod
    def forward(ctx, x, t, weight, reduction):
        if x.size and not (x.min() >= 0 and x.max() <= 1):     # NaN fails both comparisons
            raise RuntimeError(f"binary_cross_entropy: all elements of input should be between 0 and 1 "
                               f"(got min {x.min():.4g}, max {x.max():.4g}); use binary_cross_entropy_with_logits "
                               f"for raw scores")
        ctx.save_for_backward(x, t, weight)
        with xp.errstate(divide="ignore"):   # log(0) = -inf is expected; the clamp makes it -100
            log_x = xp.maximum(xp.log(x), -100.0)
            log_1mx = xp.maximum(xp.log1p(-x), -100.0)
        loss = -(t * log_x + (1 - t) * log_1mx)
        if weight is not None:     # PyTorch multiplies in place: the loss keeps the input's dtype
            loss = (loss * weight).astype(x.dtype, copy=False)
        return _reduce(ctx, loss, reduction)

    @staticmethod
    def backward(ctx, g):
        x, t, weight = ctx.saved_tensors
        xp_ = ctx.xp
        g = _spread(ctx, g)
        if weight is not None:
            g = g * weight
        gx = g * (x - t) / xp_.maximum(x * (1 - x), _BCE_EPS) if ctx.needs(0) else None
        gt = None
        if ctx.needs(1):
            with xp.errstate(divide="ignore"):   # -logit(x), unclamped as PyTorch's (±inf at x = 0 or 1)
                gt = g * (xp_.log(1 - x) - xp_.log(x))
        return gx, gt, None, None


class BinaryCrossEntropyWithLogits(Op):
    """For raw scores x, stable for any |x|; with pos_weight p the loss is
    (1-t)·x - (1 + (p-1)·t)·log σ(x)."""

    formula = "z = mean((1-t)·x - log σ(x))"
    local = ("(σ(x) - t)/n", "-x/n")

    @staticmethod
    def forward(ctx, x, t, weight, pos_weight, reduction):
        ctx.save_for_backward(x, t, weight, pos_weight)
        log_sig = xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))     # log σ(x), never overflows
        loss = (1 - t) * x - (log_sig if pos_weight is None else (1 + (pos_weight - 1) * t) * log_sig)
        loss = loss if weight is None else loss * weight
        # PyTorch's result has the target's dtype whatever the others' (its kernel updates 1 - t in place)
        return _reduce(ctx, loss.astype(t.dtype, copy=False), reduction)

    @staticmethod
    def backward(ctx, g):
        x, t, weight, p = ctx.saved_tensors
        xp_ = ctx.xp
        g = _spread(ctx, g)
        if weight is not None:
            g = g * weight
        # e = exp(-|x|) in (0, 1]: σ(x) without overflow. -|x| as a where, so that its derivative at
        # x = 0 is a branch's, not abs's 0 (else the second derivative at 0 comes out 0, not σ(0)σ(-0))
        e = xp_.exp(xp_.where(x >= 0, -x, x))
        sig = xp_.where(x >= 0, 1 / (1 + e), e / (1 + e))
        if p is None:
            gx = g * (sig - t) if ctx.needs(0) else None
            gt = -g * x if ctx.needs(1) else None
            return gx, gt, None, None, None
        gx = g * ((1 + (p - 1) * t) * sig - p * t) if ctx.needs(0) else None
        gt = None
        if ctx.needs(1):
            log_sig = xp_.where(x >= 0, 0, x) - xp_.log(1 + e)      # min(x, 0), one branch at x = 0
            gt = -g * (x + (p - 1) * log_sig)
        return gx, gt, None, None, None


class XLogY(Op):
    """The term t·log t of ``kl_div`` (PyTorch: ``xlogy(target, target)``), 0 where x = 0 even for y = 0.
    Its y-derivative x/y is NaN at x = y = 0, as PyTorch's: t·log t has no derivative there."""

    backward_name = "XlogyBackward0"
    formula = "z = x·log y"
    local = ("log y (0 where x = 0)", "x/y")

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        with xp.errstate(divide="ignore", invalid="ignore"):   # log 0 = -inf and log of a negative = NaN
            return xp.where(x == 0, xp.zeros((), x.dtype), x * xp.log(y))

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        xp_ = ctx.xp
        with xp.errstate(divide="ignore", invalid="ignore"):
            gx = g * xp_.where(x != 0, xp_.log(y), 0.0) if ctx.needs(0) else None
            gy = g * x / y if ctx.needs(1) else None
        return gx, gy


class NllLoss(Op):
    """With class weights w, 'mean' divides by Σ w[yₙ] over the non-ignored samples.

    Arguments: the class-index target array, the class weights (or None) and ``ignore_index``
    (see ``class_targets``). A 4-D input is PyTorch's ``NllLoss2DBackward0``."""

    op_name = "nll_loss"
    formula = "z = mean(-x[n, y[n]])"
    local = ("-w[y]/Σw at the target classes",)

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction):
        ctx.backward_name = "NllLoss2DBackward0" if x.ndim == 4 else "NllLossBackward0"
        safe, w = class_targets(target, x.shape[1] if x.ndim > 1 else x.shape[0], ignore_index, weight,
                                x.dtype, ctx.op_name)
        ctx.shape, ctx.reduction = x.shape, reduction
        if w is None and x.ndim == 2 and x.shape[1] and reduction != "none":   # the common case, fewer passes
            n = x.shape[0]
            total = -xp.add.reduce(x[xp.arange(n), safe])
            coef = xp.empty(n, x.dtype)
            coef.fill(-1.0 / n if reduction == "mean" and n else -1.0)
            if reduction == "mean":
                with xp.errstate(invalid="ignore", divide="ignore"):   # no samples: 0/0 = NaN, as PyTorch
                    total = total / x.dtype.type(n)
            ctx.save_for_backward(x, coef, safe[:, None])
            return xp.asarray(total, dtype=x.dtype)
        x2, s2 = (x[None], safe[None]) if x.ndim == 1 else (x, safe)
        index = s2.reshape(s2.shape[:1] + (1,) + s2.shape[1:])
        if x2.shape[1] == 0:            # no classes: every target is ignored (else it was out of bounds)
            picked = xp.zeros(s2.shape, x.dtype)
        elif x2.ndim == 2:              # x[n, y[n]] by fancy indexing: cheaper than take_along_axis
            picked = x2[xp.arange(x2.shape[0]), s2]
        else:
            picked = xp.take_along_axis(x2, index, axis=1).squeeze(1)
        coef = xp.full(s2.shape, -1, x.dtype) if w is None else -w.astype(x.dtype, copy=False).reshape(s2.shape)
        loss = picked * coef
        ignored = target == ignore_index
        if ignored.any():       # PyTorch skips an ignored target: 0, even where the input is NaN (not NaN·0)
            loss = xp.where(ignored.reshape(loss.shape), 0.0, loss).astype(x.dtype, copy=False)
        if reduction == "none":
            # x: only its shape matters, but PyTorch's backward takes it too (see backward)
            ctx.save_for_backward(x, coef, index)
            return loss.reshape(safe.shape)
        total = loss.sum()
        if reduction == "mean":
            weight_sum = -coef.sum()                                   # Σ w[yₙ]: 0/0 = NaN if all ignored
            with xp.errstate(invalid="ignore", divide="ignore"):
                total = total / weight_sum
            if weight_sum != 0:                                        # else every w is 0: no gradient
                coef = coef / weight_sum
        ctx.save_for_backward(x, coef, index)
        return xp.asarray(total, dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        xp_ = ctx.xp
        x, coef, index = ctx.saved_tensors
        shape2 = (1,) + ctx.shape if len(ctx.shape) == 1 else ctx.shape
        if ctx.reduction == "none":
            g = xp_.reshape(g, coef.shape)
        if shape2[1] == 0:              # no classes, nothing was picked
            return xp_.attach(xp_.zeros_like(x), x, g), None, None, None, None   # torch reads g too
        values = xp_.expand_dims(g * coef, 1)
        gx = xp_.scatter_add(shape2, 1, index, values)
        if len(ctx.shape) == 1:
            gx = xp_.reshape(gx, ctx.shape)
        # Under create_graph PyTorch's gradient is a function of x as well (with derivative 0), so it
        # requires grad even for a constant g and grad(grad, x) gives zeros instead of raising.
        return xp_.attach(gx, x), None, None, None, None

    @staticmethod
    def backward_array(ctx, g):
        """The first-order kernel for (N, C) scores: g·coef written at [n, y[n]] of a zero array (each row
        has one target, so a plain assignment does the scatter-add)."""
        x, coef, index = ctx.saved_tensors
        if x.ndim != 2 or x.shape[1] == 0:
            return NllLoss.backward(ctx, g)
        gx = xp.zeros(x.shape, x.dtype)
        gx[xp.arange(x.shape[0]), index[:, 0]] = (g.reshape(coef.shape) if ctx.reduction == "none" else g) * coef
        return gx, None, None, None, None


class CrossEntropyNll(NllLoss):
    """The NLL step of ``cross_entropy`` (after its log_softmax): PyTorch's NllLossBackward0, with
    errors naming ``cross_entropy``, the function the user called."""

    op_name = "cross_entropy"

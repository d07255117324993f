"""Reductions and the normalisations built on them (softmax, log-softmax, log-sum-exp).

``axis`` arrives normalised by the tensor layer: a tuple of non-negative ints, or None for all.
Backward formulas first restore the reduced axes (``_keep``) so the gradient broadcasts back
over the input's shape.
"""

from __future__ import annotations

import math

from ..autograd.function import Op
from ..backend import array_math, xp
from .elementwise import _array, contiguous


def _keep(g, in_shape, axis, keepdim):
    """Reshape a reduced gradient so it broadcasts against the input (re-insert reduced axes)."""
    if keepdim or axis is None and g.ndim == len(in_shape):
        return g
    if axis is None:
        return g.reshape((1,) * len(in_shape))
    shape = list(in_shape)
    for a in axis:
        shape[a] = 1
    return g.reshape(tuple(shape))


def _count(shape, axis) -> int:
    if axis is None:
        return math.prod(shape)
    return math.prod(shape[a] for a in axis)


# Floating mean/var/std call the ufuncs from here, not np.mean/np.var: those run in NumPy's own Python code,
# so the mean of nothing or a batch of one would warn from NumPy ("Mean of empty slice", "Degrees of freedom
# <= 0") where PyTorch returns nan/inf silently (chainrule's own modules silence IEEE warnings; see backend).
def _divide(s, n: int):
    """``s / n`` as np.mean and np.var divide (in float64, rounded back to ``s``'s dtype): 0/0 is nan."""
    return xp.asarray(s / xp.float64(n)).astype(s.dtype, copy=False)


def _mean(x, axis, keepdim):
    if x.dtype.kind != "f":
        return xp.mean(x, axis=axis, keepdims=keepdim)
    acc = xp.float32 if x.dtype == xp.float16 else None    # NumPy (and PyTorch) sum float16 in float32
    total = xp.add.reduce(x, axis=axis, dtype=acc, keepdims=keepdim)
    return _divide(total, _count(x.shape, axis)).astype(x.dtype, copy=False)


def _centred(m, x, axis, n: int):
    """x − mean(x) along ``axis``, corrected by the mean of that difference (a constant: it is 0 as a function
    of x): equal values give exactly 0, as PyTorch's Welford mean does (Σx/n does not: 0.84·5/5 ≠ 0.84), so
    std's 0/0 guard sees std = 0 there rather than rounding noise that divides to O(1)."""
    c = x - m.sum(x, axis=axis, keepdims=True) / n
    k = m.constant(m.sum(c, axis=axis, keepdims=True) / n)
    return c - m.where(m.isfinite(k), k, 0)      # (an infinite mean, as of 3e38 + 3e38 in float32, stays)


def _var(x, axis, correction, keepdim):
    """``sum((x - mean)²) / max(n - correction, 0)``: inf or nan when ``n <= correction``, as in PyTorch."""
    if x.dtype.kind != "f":
        return xp.var(x, axis=axis, ddof=correction, keepdims=keepdim)
    n = _count(x.shape, axis)
    with xp.errstate(invalid="ignore", over="ignore"):    # an empty mean (n = 0); a sum past float32, inf as torch
        d = _centred(array_math, x, axis, n) if n else x
    return _divide(xp.add.reduce(d * d, axis=axis, keepdims=keepdim), max(n - correction, 0))


class Sum(Op):
    formula = "z = sum(x)"
    local = ("1",)

    @staticmethod
    def forward(ctx, x, axis, keepdim):
        ctx.backward_name = "SumBackward0" if axis is None else "SumBackward1"
        ctx.shape, ctx.axis, ctx.keepdim = x.shape, axis, keepdim
        if x.dtype.kind == "f":          # the ufunc itself: np.sum's Python wrapper costs more than a small sum
            return contiguous(xp.add.reduce(x, axis=axis, keepdims=keepdim))
        return contiguous(xp.sum(x, axis=axis, keepdims=keepdim, dtype=xp.int64))   # integers widen to int64

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.broadcast_to(_keep(g, ctx.shape, ctx.axis, ctx.keepdim), ctx.shape), None, None


class Mean(Op):
    formula = "z = mean(x)"
    local = ("1/n",)

    @staticmethod
    def forward(ctx, x, axis, keepdim):
        ctx.backward_name = "MeanBackward0" if axis is None else "MeanBackward1"
        ctx.shape, ctx.axis, ctx.keepdim = x.shape, axis, keepdim
        ctx.n = max(_count(x.shape, axis), 1)  # an empty input has an empty gradient: avoid 1/0
        return contiguous(_mean(x, axis, keepdim))

    @staticmethod
    def backward(ctx, g):
        g = _keep(g, ctx.shape, ctx.axis, ctx.keepdim) / ctx.n
        return ctx.xp.broadcast_to(g, ctx.shape), None, None


class Var(Op):
    """c is the Bessel correction."""

    formula = "z = var(x)"
    local = ("2(x - mean)/(n - c)",)

    @staticmethod
    def forward(ctx, x, axis, correction, keepdim):
        ctx.save_for_backward(x)
        ctx.shape, ctx.axis, ctx.keepdim, ctx.dtype = x.shape, axis, keepdim, x.dtype
        ctx.dof = _count(x.shape, axis) - correction
        return contiguous(_var(x, axis, correction, keepdim))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if 0 in ctx.shape and ctx.axis is None:  # PyTorch: an empty full reduction's gradient reads g, not x
            return _keep(g, ctx.shape, ctx.axis, ctx.keepdim) * ctx.xp.zeros(ctx.shape, ctx.dtype), None, None, None
        centred = _centred(ctx.xp, x, ctx.axis, _count(ctx.shape, ctx.axis))
        if ctx.dof <= 0 and (ctx.axis is None or not ctx.shape):
            # PyTorch: 2/(n - c) is inf, so g·NaN where x is its mean (inf·0) and g·inf elsewhere, a constant
            # factor (the gradient does not depend on x)
            factor = ctx.xp.where(centred == 0, math.nan, math.inf)
            return _keep(g, ctx.shape, ctx.axis, ctx.keepdim) * factor, None, None, None
        return _keep(g, ctx.shape, ctx.axis, ctx.keepdim) * 2 * centred / ctx.dof, None, None, None


class Std(Op):
    formula = "z = std(x)"
    local = ("(x - mean)/((n - c)·std)",)

    @staticmethod
    def forward(ctx, x, axis, correction, keepdim):
        z = contiguous(xp.asarray(xp.sqrt(_var(x, axis, correction, keepdim))))
        ctx.save_for_backward(x, z)
        ctx.shape, ctx.axis, ctx.keepdim = x.shape, axis, keepdim
        ctx.dof = _count(x.shape, axis) - correction
        return z

    @staticmethod
    def backward(ctx, g):
        x, z = ctx.saved_tensors
        centred = _centred(ctx.xp, x, ctx.axis, _count(ctx.shape, ctx.axis))
        z = _keep(z, ctx.shape, ctx.axis, ctx.keepdim)
        # Where every value is equal z = 0 and the slope is 0/0: PyTorch takes 0 there (std(x + c) = std(x)
        # for any shift, so 0 is the limit along the directions that keep z = 0).
        xp_ = ctx.xp
        flat = z == 0
        g = xp_.where(flat, 0.0, _keep(g, ctx.shape, ctx.axis, ctx.keepdim))   # an inf/NaN g there is masked too
        grad = g * centred / (ctx.dof * xp_.where(flat, 1.0, z))
        return xp_.where(flat, 0.0, grad), None, None, None


class Prod(Op):
    """A zero's slope is the product of the others (z/x would be 0/0)."""

    formula = "z = prod(x)"
    local = ("Π_{j≠i} x_j",)

    @staticmethod
    def forward(ctx, x, axis, keepdim):
        ctx.backward_name = "ProdBackward0" if axis is None else "ProdBackward1"
        if x.dtype.kind == "f":   # the ufunc from here: overflow to inf stays silent, as in PyTorch
            z = contiguous(xp.asarray(xp.multiply.reduce(x, axis=axis, keepdims=keepdim)))
        else:                     # integers widen to int64, as PyTorch's (NumPy: uint8 to uint64)
            z = contiguous(xp.asarray(xp.prod(x, axis=axis, keepdims=keepdim, dtype=xp.int64)))
        ctx.save_for_backward(x, z)
        ctx.shape, ctx.axis, ctx.keepdim = x.shape, axis, keepdim
        return z

    @staticmethod
    def backward(ctx, g):
        x, z = ctx.saved_tensors
        xp_ = ctx.xp
        if not ctx.shape:                 # the product of one number is that number (PyTorch: grad itself)
            return g, None, None
        g = _keep(g, ctx.shape, ctx.axis, ctx.keepdim)
        is_zero = x == 0
        if bool(getattr(is_zero, "_data", is_zero).any()) and _reduced_size(ctx.shape, ctx.axis) == 1:
            return g, None, None          # PyTorch's zeros path passes g on unread for a product of one
        z = _keep(z, ctx.shape, ctx.axis, ctx.keepdim)
        # Dividing z by x would give 0/0 at zeros. With one zero in a slice, that zero's slope is the
        # product of the others (the product with the zero replaced by 1); with two or more, all are 0.
        ones_for_zeros = xp_.where(is_zero, 1.0, x)
        zeros = xp_.sum(xp_.where(is_zero, 1.0, 0.0), axis=ctx.axis, keepdims=True)
        if bool((getattr(zeros, "_data", zeros) > 1).any()):
            # two zeros: each one's slope is 0, but under create_graph its derivative (the product of the
            # rest) is not, so the slopes are built as products of x's own entries
            return g * _products_of_the_others(xp_, x, ctx.axis), None, None
        rest = xp_.prod(ones_for_zeros, axis=ctx.axis, keepdims=True)
        others = xp_.where(is_zero, xp_.where(zeros == 1, rest, 0.0), z / ones_for_zeros)
        return g * others, None, None


def _reduced_size(shape, axis) -> int:
    return math.prod(shape) if axis is None else math.prod(shape[a] for a in axis)


def _products_of_the_others(xp_, x, axis):
    """Π_{j≠i} x_j over the reduced axes, as products of x's own entries (exact and differentiable at
    any number of zeros; O(n²) work, so only for double backward through a slice with two zeros)."""
    axes = tuple(range(x.ndim)) if axis is None else tuple(a % x.ndim for a in axis)
    order = [d for d in range(x.ndim) if d not in axes] + list(axes)
    moved = xp_.transpose(x, order)
    kept = tuple(moved.shape[:x.ndim - len(axes)])
    n = math.prod(moved.shape[x.ndim - len(axes):])
    flat = xp_.reshape(moved, kept + (n,))
    last = len(kept)                   # the axis index itself: Cat's backward slices by a positive axis
    cols = [xp_.prod(xp_.concatenate([flat[..., :k], flat[..., k + 1:]], last), axis=last, keepdims=True)
            for k in range(n)]
    others = xp_.reshape(xp_.concatenate(cols, last), tuple(moved.shape))
    return xp_.transpose(others, [order.index(d) for d in range(x.ndim)])


class Amax(Op):
    """Ties split the gradient evenly, as PyTorch."""

    formula = "z = max(x)"
    local = ("1[x = max]/ties",)
    _reduce = staticmethod(xp.max)

    @classmethod
    def forward(cls, ctx, x, axis, keepdim):
        if x.size == 0 and (axis is None or any(x.shape[a] == 0 for a in axis)):
            raise IndexError(f"{ctx.op_name}: cannot reduce an empty tensor of shape {x.shape} "
                             f"over dimension {axis}")
        z = contiguous(xp.asarray(cls._reduce(x, axis=axis, keepdims=keepdim)))
        ctx.save_for_backward(x, z)
        ctx.shape, ctx.axis, ctx.keepdim = x.shape, axis, keepdim
        return z

    @staticmethod
    def backward(ctx, g):
        x, z = ctx.saved_tensors
        z = _keep(z, ctx.shape, ctx.axis, ctx.keepdim)
        hit = x == z
        count = ctx.xp.sum(ctx.xp.where(hit, 1.0, 0.0), axis=ctx.axis, keepdims=True)
        g = _keep(g, ctx.shape, ctx.axis, ctx.keepdim) / count
        return ctx.xp.where(hit, g, 0), None, None


class Amin(Amax):
    """Ties split the gradient evenly, as PyTorch."""

    formula = "z = min(x)"
    _reduce = staticmethod(xp.min)


class Max(Amax):
    """``x.max()`` over all elements: amax, as PyTorch names it."""

    backward_name = "MaxBackward1"


class Min(Amin):
    """``x.min()`` over all elements: amin, as PyTorch names it."""

    backward_name = "MinBackward1"


class MaxDim(Op):
    """Also returns the index; the gradient goes to the chosen index."""

    formula = "z = max(x, dim)"
    local = ("1[j = argmax]",)

    @staticmethod
    def forward(ctx, x, axis, keepdim, largest):
        ctx.backward_name = "MaxBackward0" if largest else "MinBackward0"
        if x.shape[axis] == 0:
            raise IndexError(f"{'max' if largest else 'min'}: cannot reduce dimension {axis} of size 0 "
                             f"(shape {x.shape})")
        idx = (xp.argmax if largest else xp.argmin)(x, axis=axis, keepdims=True)
        z = xp.take_along_axis(x, idx, axis=axis)
        ctx.save_for_backward(idx)
        ctx.shape, ctx.axis = x.shape, axis
        ctx.indices = idx if keepdim else xp.squeeze(idx, axis)
        return z if keepdim else xp.squeeze(z, axis)

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved_tensors
        g = ctx.xp.expand_dims(g, ctx.axis) if g.ndim < len(ctx.shape) else g
        return ctx.xp.scatter_add(ctx.shape, ctx.axis, idx, g), None, None, None


class LogSumExp(Op):
    """Computed as m + log Σ exp(xᵢ - m), so it never overflows."""

    backward_name = "LogsumexpBackward0"
    formula = "z = logsumexp(x)"
    local = ("softmax(x)",)

    @staticmethod
    def forward(ctx, x, axis, keepdim):
        m = xp.max(x, axis=axis, keepdims=True) if x.size else xp.zeros((1,) * x.ndim, x.dtype)
        m = xp.where(xp.isfinite(m), m, 0)
        z = xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m
        if not keepdim:
            z = z.reshape(()) if axis is None else xp.squeeze(z, axis)
        z = contiguous(_array(z))
        # Save the output itself: under create_graph it then stays connected, so the second
        # derivative sees z depend on x (d exp(x - z)/dx = softmax·(1 - softmax)).
        ctx.save_for_backward(x, z)
        ctx.shape, ctx.axis, ctx.keepdim = x.shape, axis, keepdim
        return z

    @staticmethod
    def backward(ctx, g):
        x, z = ctx.saved_tensors
        z = _keep(z, ctx.shape, ctx.axis, ctx.keepdim)
        return _keep(g, ctx.shape, ctx.axis, ctx.keepdim) * ctx.xp.exp(x - z), None, None


class Softmax(Op):
    """Computed from exp(xᵢ - m), so it never overflows; ∂L/∂x = z ⊙ (g - Σⱼ gⱼzⱼ)."""

    formula = "z = softmax(x)"
    local = ("diag(z) - z zᵀ",)

    @staticmethod
    def forward(ctx, x, axis):
        z = _array(xp.subtract(x, xp.max(x, axis=axis, keepdims=True, initial=-xp.inf), order="C"))  # (initial:
        # empty dims; order: a new C-contiguous array whatever x's layout, as PyTorch's softmax)
        xp.exp(z, out=z)                                  # in place: z is a fresh array
        z /= xp.sum(z, axis=axis, keepdims=True)
        ctx.save_for_backward(z)
        ctx.axis = axis
        return z

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        return z * (g - ctx.xp.sum(g * z, axis=ctx.axis, keepdims=True)), None


class LogSoftmax(Op):
    """∂L/∂x = g - softmax(x)·Σⱼ gⱼ."""

    formula = "z = log_softmax(x)"
    local = ("I - 1·softmax(x)ᵀ",)

    @staticmethod
    def forward(ctx, x, axis):
        # the ufuncs' reduce directly: np.max / np.sum add a Python wrapper per call (on the hot path)
        z = _array(xp.subtract(x, xp.maximum.reduce(x, axis=axis, keepdims=True, initial=-xp.inf), order="C"))
        z -= xp.log(xp.add.reduce(xp.exp(z), axis=axis, keepdims=True))   # in place: z is a fresh array
        ctx.save_for_backward(z)
        ctx.axis = axis
        return z

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        xp_ = ctx.xp
        return g - xp_.exp(z) * xp_.sum(g, axis=ctx.axis, keepdims=True), None


class Norm(Op):
    """The gradient is 0 where z = 0, as PyTorch."""

    backward_name = "LinalgVectorNormBackward0"
    formula = "z = ‖x‖_p"
    local = ("x·|x|^(p-2) / z^(p-1)",)

    @staticmethod
    def forward(ctx, x, p, axis, keepdim):
        a = xp.abs(x)
        if p in (math.inf, -math.inf):      # max|x| (min|x| for -inf): no value for an empty reduction
            if _count(x.shape, axis) == 0:
                raise RuntimeError(f"norm: cannot compute the {p} norm over an empty dimension (input of shape "
                                   f"{x.shape}): max/min of nothing has no value; use p=1 or 2, or check sizes")
            z = (xp.max if p > 0 else xp.min)(a, axis=axis, keepdims=keepdim)
        elif p == 0:                        # the number of nonzero elements (no gradient, as PyTorch's)
            z = xp.sum(a != 0, axis=axis, keepdims=keepdim).astype(x.dtype)
        elif p == 2:
            z = xp.sqrt(xp.sum(x * x, axis=axis, keepdims=keepdim))
        elif p == 1:
            z = xp.sum(a, axis=axis, keepdims=keepdim)
        else:
            z = xp.sum(a ** p, axis=axis, keepdims=keepdim) ** (1.0 / p)
        z = contiguous(xp.asarray(z))
        ctx.save_for_backward(x, z)
        ctx.p, ctx.shape, ctx.axis, ctx.keepdim = p, x.shape, axis, keepdim
        return z

    @staticmethod
    def backward(ctx, g):
        x, z = ctx.saved_tensors
        xp_, p = ctx.xp, ctx.p
        g = _keep(g, ctx.shape, ctx.axis, ctx.keepdim)
        z = _keep(z, ctx.shape, ctx.axis, ctx.keepdim)
        if p == 1:
            return g * xp_.sign(x), None, None, None
        if p == 0:
            return None, None, None, None
        if p in (math.inf, -math.inf):
            a = xp_.abs(x)
            hit = a == z
            count = xp_.sum(xp_.where(hit, 1.0, 0.0), axis=ctx.axis, keepdims=True)
            return xp_.where(hit, g * xp_.sign(x) / count, 0), None, None, None
        safe = xp_.where(z == 0, 1, z)
        if p == 2:
            return xp_.where(z == 0, 0, g * x / safe), None, None, None
        ax = xp_.where(x == 0, 1, xp_.abs(x))   # x·|x|^(p-2) = sign(x)·|x|^(p-1), finite at x = 0 for p < 1
        return xp_.where(z == 0, 0, g * xp_.sign(x) * ax ** (p - 1) / safe ** (p - 1)), None, None, None


class Cumsum(Op):
    """∂L/∂x is a reversed cumulative sum of g."""

    formula = "z = cumsum(x)"
    local = ("1[j ≤ i]",)

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        if x.ndim == 0:                   # NumPy's cumsum flattens a 0-d input to shape (1,)
            return x.copy() if x.dtype.kind == "f" else x.astype(xp.int64)
        if x.dtype.kind == "f":           # the ufunc from here: overflow to inf stays silent, as in PyTorch
            return contiguous(xp.add.accumulate(x, axis=axis))
        return contiguous(xp.cumsum(x, axis=axis, dtype=xp.int64))   # integers widen to int64, as PyTorch's

    @staticmethod
    def backward(ctx, g):
        xp_ = ctx.xp
        if g.ndim == 0:
            return g, None
        return xp_.flip(xp_.cumsum(xp_.flip(g, ctx.axis), axis=ctx.axis), ctx.axis), None

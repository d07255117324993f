"""The ops behind ``chainrule.nn``: layers and losses that are one node each, for a stated reason.

- ``Gelu``: exact GELU through erf, one node with its own derivative.
- ``Linear``: one node instead of transpose + matmul + add on the training hot path.
- ``Embedding``: a row lookup whose gradient is scattered back (``padding_idx`` gets none).
- ``LeakyRelu``, ``Hardtanh``: PyTorch's gradient at the kinks (s at 0; 0 at the bounds), one node.
- ``Elu`` (also selu, celu): PyTorch's derivatives at 0 (first order from the left, second order 0).
- ``Hardswish``: PyTorch's value at -inf and slopes that ignore a NaN upstream gradient outside (-3, 3).
- ``LogSigmoid``: the composite log(sigmoid(x)) overflows and has the wrong gradient at exactly 0.
"""

from __future__ import annotations

import math

from ..autograd.function import Op
from ..backend import accel, xp
from ..backend.special import erf, erf_float32
from .fused import _ones
from .unary import Clamp

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TANH_K, _TANH_C = math.sqrt(2.0 / math.pi), 0.044715


def _normal_cdf(x, approximate: str):
    """Φ(x) = ½(1 + erf(x/√2)), or its tanh approximation ½(1 + tanh(√(2/π)(x + 0.044715x³))),
    as a fresh array in x's dtype, updated in place (no float64 copy of a float32 x)."""
    if approximate == "tanh":
        u = xp.asarray(x * x)     # an array even for a 0-d x (NumPy gives a scalar), for the out= below
        u *= _TANH_C
        u += 1.0
        u *= x
        u *= _TANH_K
        cdf = xp.tanh(u, out=u)
    elif x.dtype == xp.float32:
        cdf = erf_float32(x, _SQRT_HALF)
    else:
        cdf = erf(x * _SQRT_HALF)
    cdf += 1.0
    cdf *= 0.5
    return cdf


class Gelu(Op):
    """Φ(x) = ½(1 + erf(x/√2)), φ(x) = e^(-x²/2)/√(2π). approximate='tanh': Φ(x) ≈ ½(1 + tanh u),
    u = √(2/π)(x + 0.044715x³)."""

    formula = "z = x·Φ(x)"
    local = ("Φ(x) + x·φ(x)",)

    @staticmethod
    def forward(ctx, x, approximate="none"):
        ctx.approximate = approximate
        kernels = _compiled(x)
        if kernels is not None:                        # float32 with numba: one pass for z and Φ
            z, cdf = xp.empty_like(x), xp.empty_like(x)
            kernels.gelu_forward(x.reshape(-1), z.reshape(-1), cdf.reshape(-1), approximate == "tanh")
            ctx.save_for_backward(x, cdf)
            return z
        cdf = _normal_cdf(x, approximate)
        ctx.save_for_backward(x, cdf)                  # Φ(x): for the first-order kernel
        return x * cdf

    @staticmethod
    def backward(ctx, g):
        x = ctx.saved_tensors[0]
        xp_ = ctx.xp
        # Φ is recomputed from x, so under create_graph it is a function of x, not a constant
        if ctx.approximate == "tanh":
            u = (x + _TANH_C * (x * x * x)) * _TANH_K
            # tanh u from exponentials that cannot overflow (exp(2u) would, in float32 from x ≈ 11, and its
            # derivative would then be inf/inf): one term for u > 0, one for u < 0, each 0 on the other side
            e_pos, e_neg = xp_.exp(-2.0 * xp_.maximum(u, 0.0)), xp_.exp(2.0 * xp_.minimum(u, 0.0))
            t = (1.0 - e_pos) / (1.0 + e_pos) - (1.0 - e_neg) / (1.0 + e_neg)
            du = _TANH_K * (1.0 + 3.0 * _TANH_C * (x * x))
            return g * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du), None
        cdf = 0.5 * (1.0 + xp_.erf(x * _SQRT_HALF))
        pdf = xp_.exp(-0.5 * (x * x)) * _INV_SQRT_2PI
        return g * (cdf + x * pdf), None

    @staticmethod
    def backward_array(ctx, g):
        """The first-order kernel: Φ kept from forward, float32 throughout, in place."""
        x, cdf = ctx.saved_tensors
        kernels = _compiled(x, cdf, g)
        if kernels is not None:                        # one compiled pass (exp without SVML: numba_nn)
            out = xp.empty_like(x)
            kernels.gelu_backward(x.reshape(-1), cdf.reshape(-1), g.reshape(-1), out.reshape(-1),
                                  ctx.approximate == "tanh")
            return out, None
        return _gelu_grad(x, cdf, ctx.approximate, g), None


def _compiled(x, *same):
    """The numba kernels (``backend/numba_nn.py``) when x is a C-contiguous float32 array and every
    array in ``same`` is too, in x's shape; None otherwise, or without numba (then NumPy runs)."""
    for a in (x, *same):              # a loop, not any(generator): this runs on every call
        if a.dtype != xp.float32 or a.shape != x.shape or not a.flags.c_contiguous:
            return None
    return accel.kernels("numba_nn")


def _gelu_grad(x, cdf, approximate, g):
    """g·∂z/∂x on arrays, in place on one fresh buffer (the formulas of ``Gelu``)."""
    d = xp.asarray(x * x)         # an array even for a 0-d x (NumPy gives a scalar), for the out= below
    if approximate == "tanh":
        # ½x(1 - tanh²u)·u' with 1 - tanh²u = 4Φ(1 - Φ):  2x·Φ(1 - Φ)·√(2/π)(1 + 3·0.044715x²)
        d *= 6.0 * _TANH_C * _TANH_K
        d += 2.0 * _TANH_K
        d *= x
        d *= cdf
        d *= 1.0 - cdf
    else:
        d *= -0.5
        xp.exp(d, out=d)
        d *= x
        d *= _INV_SQRT_2PI
    d += cdf
    d *= g
    return d


class Linear(Op):
    """The arguments come in PyTorch's addmm order (b, x, W), so ``grad_fn.next_functions`` lists them
    as PyTorch does (the bias first) when a tutorial walks the graph."""

    formula = "z = x @ W.T + b"
    local = ("Σ g", "g·W", "gᵀ·x")

    @staticmethod
    def forward(ctx, b, x, w):
        ctx.backward_name = "AddmmBackward0" if b is not None else "MmBackward0"
        if x.ndim > 2:           # one GEMM over all rows (NumPy would loop over the batch dims)
            rows = math.prod(x.shape[:-1])
            z = (x.reshape(rows, x.shape[-1]) @ w.T).reshape(x.shape[:-1] + (w.shape[0],))
        else:
            z = x @ w.T          # the transposed view costs nothing: BLAS reads it transposed
        if b is not None:
            z += b               # in place: z is a fresh buffer that only we hold
        # as PyTorch's addmm: x only for W's gradient, W only for x's (an in-place change to the other is fine)
        ctx.save_for_backward(x if ctx.needs(2) else None, w if ctx.needs(1) else None)
        ctx.x_shape = x.shape
        return z

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        xp_ = ctx.xp
        gx = None
        if ctx.needs(1):
            if g.ndim > 2:       # one GEMM, as in forward
                g2 = xp_.reshape(g, (math.prod(g.shape[:-1]), g.shape[-1]))
                gx = xp_.reshape(xp_.matmul(g2, w), g.shape[:-1] + (w.shape[1],))
            else:
                gx = xp_.matmul(g, w)
        gw = None
        if ctx.needs(2):
            if x.ndim == 1:
                gw = xp_.expand_dims(g, -1) * x
            else:
                # explicit row counts, not -1: with a zero-size dim the -1 would be ambiguous
                g2 = g if g.ndim == 2 else xp_.reshape(g, (math.prod(g.shape[:-1]), g.shape[-1]))
                x2 = x if x.ndim == 2 else xp_.reshape(x, (math.prod(x.shape[:-1]), x.shape[-1]))
                gw = xp_.matmul(xp_.swapaxes(g2, 0, 1), x2)
        gb = g if ctx.needs(0) else None   # the engine sums the batch dims down to b's shape
        return gb, gx, gw

    @staticmethod
    def backward_array(ctx, g):
        """The first-order kernel: the same products on (rows, features) views, and ∂L/∂b summed
        over the rows here as ones·g (a matrix-vector product is far faster than a NumPy reduce)."""
        x, w = ctx.saved_tensors
        x_shape = ctx.x_shape
        if len(x_shape) == 1:
            return (g if ctx.needs(0) else None, g @ w if ctx.needs(1) else None,
                    g[:, None] * x if ctx.needs(2) else None)
        rows = math.prod(g.shape[:-1])       # explicit counts: with a zero-size dim a -1 would be ambiguous
        g2 = g.reshape(rows, g.shape[-1])
        gb = _ones(rows, g.dtype) @ g2 if ctx.needs(0) else None
        gx = (g2 @ w).reshape(x_shape) if ctx.needs(1) else None
        gw = g2.T @ x.reshape(rows, x_shape[-1]) if ctx.needs(2) else None
        return gb, gx, gw


class Embedding(Op):
    """A row lookup; row padding_idx gets no gradient."""

    formula = "z = W[idx]"
    local = ("1 at the looked-up rows",)

    @staticmethod
    def forward(ctx, w, idx, padding_idx):
        ctx.save_for_backward(idx)        # saved, so it is freed after backward like any op's
        ctx.shape, ctx.padding_idx = w.shape, padding_idx
        return xp.take(w, idx, axis=0)

    @staticmethod
    def backward(ctx, g):
        xp_ = ctx.xp
        (idx,) = ctx.saved_tensors
        idx = getattr(idx, "_data", idx)      # under create_graph saved arrays come back as Tensors
        gw = xp_.index_add(ctx.shape, (idx,), g)
        if ctx.padding_idx is not None:
            pad_row = xp.zeros((ctx.shape[0],) + (1,) * (len(ctx.shape) - 1), bool)
            pad_row[ctx.padding_idx] = True
            gw = xp_.where(pad_row, 0, gw)
        return gw, None, None

    @staticmethod
    def backward_array(ctx, g):
        """The first-order kernel: rows added by ``_rows_add`` (sorted segment sums, no ``np.add.at``)."""
        (idx,) = ctx.saved_tensors
        gw = _rows_add(ctx.shape, idx, g)
        if ctx.padding_idx is not None:
            gw[ctx.padding_idx] = 0
        return gw, None, None


def _rows_add(shape, idx, g):
    """zeros(shape) with the rows of g added at idx (repeats accumulate), without ``np.add.at``'s
    per-element loop: a compiled loop (float32 with numba), else a one-hot matrix product for small
    tables, sort + ``add.reduceat`` otherwise."""
    rows = idx.reshape(-1)
    g2 = g.reshape((rows.size,) + tuple(shape[1:]))
    g2 = g2.reshape(rows.size, -1) if g2.ndim != 2 else g2
    kernels = accel.kernels("numba_nn") if g2.dtype == xp.float32 else None
    if kernels is not None:                          # float32 with numba: one pass over g's rows
        out = xp.zeros((shape[0], g2.shape[1]), g2.dtype)
        kernels.rows_add(out, rows, g2)
        return out.reshape(shape)
    if rows.size * shape[0] <= 131072:                # the one-hot matrix stays small: one GEMM
        onehot = xp.zeros((shape[0], rows.size), g.dtype)
        onehot[rows, xp.arange(rows.size)] = 1
        return (onehot @ g2).reshape(shape)
    order = xp.argsort(rows, kind="stable")
    sorted_rows = rows[order]
    starts = xp.flatnonzero(xp.concatenate(([True], sorted_rows[1:] != sorted_rows[:-1])))
    out = xp.zeros((shape[0], g2.shape[1]), g.dtype)
    out[sorted_rows[starts]] = xp.add.reduceat(g2[order], starts, axis=0)
    return out.reshape(shape)


class LeakyRelu(Op):
    """The slope at the kink is s, as PyTorch."""

    formula = "z = max(x, 0) + s·min(x, 0)"
    local = ("1[x > 0] + s·1[x ≤ 0]",)

    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        return xp.where(x > 0, x, x * slope)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        # PyTorch's leaky_relu_backward reads x: under create_graph the gradient depends on it (slope 0)
        return ctx.xp.attach(ctx.xp.where(x > 0, g, g * ctx.slope), x), None


class Elu(Op):
    """The ELU family as PyTorch writes it: elu (k = 1, a = 1), selu (fixed α, k), celu (a = 1/α).
    At x = 0 the slope is the left one, k·α·a, and the slope of that slope is 0 (PyTorch's
    ``elu_double_backward`` masks x < 0), so the second-order numbers match PyTorch's exactly."""

    formula = "z = k·x if x > 0 else k·α·(exp(a·x) - 1)"
    local = ("k·1[x > 0] + k·α·a·exp(a·x)·1[x ≤ 0]",)

    @staticmethod
    def forward(ctx, x, alpha, scale, input_scale):
        ctx.save_for_backward(x)
        ctx.coef = (alpha, scale, input_scale)
        neg = xp.minimum(x, 0) * input_scale     # clamped: expm1 never overflows in the unused branch
        return xp.where(x > 0, x * scale, xp.expm1(neg) * (alpha * scale)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        alpha, scale, input_scale = ctx.coef
        m = ctx.xp
        c = alpha * scale * input_scale
        below = m.where(x < 0, x, 0)
        left = g * (m.exp(below * input_scale) * c)
        # at exactly 0 the slope is the constant c: it does not depend on x (second order 0)
        return m.where(x > 0, g * scale, m.where(x < 0, left, g * c)), None, None, None


class EluResult(Op):
    """The in-place forms (elu_, selu_, celu_): like PyTorch's EluBackward1 they save the result, not x, so
    changing that result in place again makes backward raise. With z the result and c = k·α, the slope is
    k where z > 0, else a·(z + c); its own slope is 0 at z = 0, as PyTorch's mask z < 0."""

    backward_name = "EluBackward1"
    op_name = "elu_"
    formula = "z = k·x if x > 0 else k·α·(exp(a·x) - 1)"
    local = ("k·1[z > 0] + a·(z + k·α)·1[z ≤ 0]",)

    @staticmethod
    def forward(ctx, x, alpha, scale, input_scale):
        ctx.coef = (alpha, scale, input_scale)
        z = Elu.forward(ctx, x, alpha, scale, input_scale)
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        alpha, scale, input_scale = ctx.coef
        m = ctx.xp
        c = alpha * scale
        left = g * ((m.where(z < 0, z, 0) + c) * input_scale)
        return m.where(z > 0, g * scale, m.where(z < 0, left, g * (c * input_scale))), None, None, None


class CeluResult(EluResult):
    backward_name = "CeluBackward1"
    op_name = "celu_"


class Hardswish(Op):
    """PyTorch's kernel and derivatives: the value x·min(max(x + 3, 0), 6)/6 (NaN at -inf, -0 below -3),
    the slope 0 below -3 and 1 above 3 whatever the upstream gradient (a NaN there does not leak in), the
    slope's own slope 1/3 strictly inside (-3, 3)."""

    formula = "z = x·min(max(x + 3, 0), 6)/6"
    local = ("0 if x ≤ -3, (2x + 3)/6 if x < 3, else 1",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * xp.clip(x + 3.0, 0.0, 6.0) / 6.0

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        m = ctx.xp
        middle = g * (x / 3.0 + 0.5)
        return (m.where(x <= -3.0, 0.0, m.where(x < 3.0, middle, g)),)


class Celu(Elu):
    """celu is elu of x/α (PyTorch records it as its own node)."""


class Hardtanh(Clamp):
    """Clamp's forward, but unlike clamp the slope at the bounds is 0, as PyTorch."""

    formula = "z = min(max(x, lo), hi)"
    local = ("1[lo < x < hi]",)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        inside = (x > ctx.lo) & (x < ctx.hi)
        return ctx.xp.attach(ctx.xp.where(inside, g, 0), x), None, None


class LogSigmoid(Op):
    """Computed as min(x, 0) - log(1 + e^(-|x|)), which never overflows."""

    formula = "z = log(sigmoid(x))"
    local = ("σ(-x)",)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        xp_ = ctx.xp
        # e = exp(-|x|) in (0, 1]: σ(-x) from it without overflow on either side. -|x| is written as a
        # where so that its derivative at x = 0 is one branch's (-1), not abs's 0: else the second
        # derivative at 0 would come out 0 instead of -σ(0)σ(-0) = -1/4.
        e = xp_.exp(xp_.where(x >= 0, -x, x))
        return (g * xp_.where(x >= 0, e / (1 + e), 1 / (1 + e)),)

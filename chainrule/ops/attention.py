"""Scaled dot-product attention as one node: the fused kernel ``F.scaled_dot_product_attention`` runs.

Written out with ordinary ops, attention records six nodes (matmul, transpose, scale, mask, softmax,
matmul) and keeps their intermediates; as one op it keeps only the attention weights P and the
output, and its backward is the closed form below — the same one FlashAttention uses:

    S = s·q kᵀ + bias,  P = softmax(S) (over the keys),  z = P v
    dV = Pᵀ g,   dP = g vᵀ,   dS = P ⊙ (dP - rowsum(g ⊙ z)),   dQ = s·dS k,   dK = s·dSᵀ q

``rowsum(g ⊙ z)`` equals ``rowsum(dP ⊙ P)`` (z = P v): a sum over the value width instead of
over the keys. A query row whose keys are all masked gets weights 0 (and so output and gradient 0)
instead of the NaN of 0/0, as PyTorch's CPU kernel does; the caller passes ``alive`` (1 for rows
that see at least one key, 0 for the others) and a bias whose dead rows are 0.

With grouped-query attention (``groups`` > 1) each key/value head serves ``groups`` consecutive
query heads: the arrays are viewed as (N, Hk, groups, L, E) against (N, Hk, 1, S, E), so the
key/value gradients are summed over their group.
"""

from __future__ import annotations

from ..autograd.function import Op
from ..backend import accel, xp


def _grouped(xp_, q, k, v, groups: int):
    """(N, H, L, E) queries against (N, H/groups, S, E) keys/values, as broadcastable 5-D views."""
    if groups == 1:
        return q, k, v
    return _heads(xp_, q, k.shape[1], groups), xp_.expand_dims(k, 2), xp_.expand_dims(v, 2)


def _heads(xp_, a, hk: int, groups: int):
    """A query-shaped (N, H, L, ·) array as (N, H/groups, groups, L, ·)."""
    return xp_.reshape(a, (a.shape[0], hk, groups) + tuple(a.shape[2:]))


def _ungrouped(xp_, dq, dk, dv, q_shape, groups: int):
    """The gradients of the 5-D views back in the inputs' shapes (keys/values summed over their group)."""
    if groups == 1:
        return dq, dk, dv
    dq = xp_.reshape(dq, tuple(q_shape)) if dq is not None else None
    dk = xp_.sum(dk, axis=2) if dk is not None else None
    dv = xp_.sum(dv, axis=2) if dv is not None else None
    return dq, dk, dv


def _compiled(*arrays):
    """The numba kernels (``backend/numba_nn.py``) when every array is float32; None otherwise, or
    without numba (then NumPy runs)."""
    for a in arrays:
        if a.dtype != xp.float32:
            return None
    return accel.kernels("numba_nn")


def _row_sums(a):
    """Σ over the last axis as a matrix-vector product: BLAS does short rows far faster than a reduce."""
    return xp.matmul(a, xp.ones(a.shape[-1], a.dtype))[..., None]


def _softmax_rows(scores):
    """softmax over the last axis (in place with numba, else a new array); also returns the constant
    subtracted before exp.

    softmax(s) = exp(s - c)/Σ exp(s - c) for any c per row. c = the row's max is the textbook
    choice (no overflow), but a max over rows of 32 is a slow reduce in NumPy; the max over each
    head's whole (L, S) block is as safe against overflow and ~10x cheaper. It only fails if a row
    lies so far below its head's max that all its terms underflow: then (checked on the row sums,
    which the normalisation needs anyway) the rows are shifted by their own max instead.
    """
    kernels = _compiled(scores) if scores.flags.c_contiguous else None
    if kernels is not None and scores.size:        # one compiled pass per row, shifted by the row's max
        shift = xp.empty(scores.shape[:-1] + (1,), scores.dtype)
        kernels.softmax_rows(scores.reshape(-1, scores.shape[-1]), shift.reshape(-1))
        return scores, shift
    shift = xp.max(scores, axis=(-2, -1), keepdims=True)
    e = xp.exp(scores - shift)
    sums = _row_sums(e)
    if sums.size and sums.min() < _SAFE_SUM[e.dtype.char]:
        shift = xp.max(scores, axis=-1, keepdims=True)
        e = xp.exp(scores - shift)
        sums = _row_sums(e)
    e *= 1.0 / sums
    return e, shift


# Row sums at least √tiny: the largest term of the row is then a normal number, and terms lost to
# underflow (below tiny) are below √tiny of the sum, far under the rounding error.
_SAFE_SUM = {c: float(xp.sqrt(xp.finfo(c).tiny)) for c in "efdg"}


class ScaledDotProductAttention(Op):
    """PyTorch's CPU flash-attention node (its grad_fn name) for 4-D (N, H, L, E) inputs: s is the
    scale, ``groups`` query heads share each key/value head; the backward is the closed form in the
    module docstring, P kept from forward for the first-order kernel."""

    backward_name = "ScaledDotProductFlashAttentionForCpuBackward0"
    op_name = "scaled_dot_product_attention"
    formula = "z = softmax(s·q·kᵀ + bias)·v"
    local = ("s·dS·k", "s·dSᵀ·q", "Pᵀ·g")

    @staticmethod
    def forward(ctx, q, k, v, bias, alive, scale, groups):
        q5, k5, v5 = _grouped(xp, q, k, v, groups)
        scores = xp.matmul(q5, xp.swapaxes(k5, -1, -2))
        scores *= scale
        if bias is not None:
            if groups > 1:
                bias = _group_bias(bias, q.shape, groups)
                alive = _group_bias(alive, q.shape, groups) if alive is not None else None
            scores += bias
        p, shift = _softmax_rows(scores)
        if alive is not None:
            p *= alive
        if groups > 1:
            z = xp.matmul(p, v5).reshape(q.shape[:-1] + (v.shape[-1],))
        elif q.strides[1] < q.strides[2]:
            # q is a (N, L, H, E) array seen as (N, H, L, E) (nanoGPT's view + transpose): z gets the same
            # layout, as in PyTorch, so the z.transpose(1, 2).contiguous() that follows copies nothing
            z = xp.empty((q.shape[0], q.shape[2], q.shape[1], v.shape[-1]), q.dtype).transpose(0, 2, 1, 3)
            xp.matmul(p, v5, out=z)
        else:
            z = xp.matmul(p, v5)
        ctx.scale, ctx.groups = scale, groups
        ctx.save_for_backward(q, k, v, z, p, shift, bias, alive)   # p: for the first-order kernel
        return z

    @staticmethod
    def backward(ctx, g):
        q, k, v, z, _, shift, bias, alive = ctx.saved_tensors
        xp_, scale, groups = ctx.xp, ctx.scale, ctx.groups
        q5, k5, v5 = _grouped(xp_, q, k, v, groups)
        g5, z5 = g, z
        if groups > 1:
            g5, z5 = _heads(xp_, g, k.shape[1], groups), _heads(xp_, z, k.shape[1], groups)
        # P as a function of q and k (its second derivative needs that); the shift is a constant
        scores = xp_.matmul(q5, xp_.swapaxes(k5, -1, -2)) * scale
        if bias is not None:
            scores = scores + bias
        e = xp_.exp(scores - shift)
        p = e / xp_.sum(e, axis=-1, keepdims=True)
        if alive is not None:
            p = p * alive
        ds = p * (xp_.matmul(g5, xp_.swapaxes(v5, -1, -2)) - xp_.sum(g5 * z5, axis=-1, keepdims=True))
        dq = xp_.matmul(ds, k5) * scale
        dk = xp_.matmul(xp_.swapaxes(ds, -1, -2), q5) * scale
        dv = xp_.matmul(xp_.swapaxes(p, -1, -2), g5)
        return _ungrouped(xp_, dq, dk, dv, q.shape, groups) + (None, None, None, None)

    @staticmethod
    def backward_array(ctx, g):
        q, k, v, z, p = ctx.saved_tensors[:5]
        scale, groups = ctx.scale, ctx.groups
        q5, k5, v5 = _grouped(xp, q, k, v, groups)
        if groups > 1:
            g, z = _heads(xp, g, k.shape[1], groups), _heads(xp, z, k.shape[1], groups)
        dv = xp.matmul(xp.swapaxes(p, -1, -2), g) if ctx.needs(2) else None
        dq = dk = None
        if ctx.needs(0) or ctx.needs(1):
            ds = xp.matmul(g, xp.swapaxes(v5, -1, -2))
            kernels = _compiled(ds, p, g, z) if groups == 1 else None
            if kernels is not None:                # the four passes below as one compiled pass
                kernels.attention_score_grad(ds, p, g, z, xp.float32(scale))
            else:
                ds -= _row_sums(g * z)
                ds *= p
                ds *= scale
            dq = xp.matmul(ds, k5) if ctx.needs(0) else None
            dk = xp.matmul(xp.swapaxes(ds, -1, -2), q5) if ctx.needs(1) else None
        return _ungrouped(xp, dq, dk, dv, q.shape, groups) + (None, None, None, None)


def _group_bias(b, q_shape, groups: int):
    """A bias (or row mask) broadcastable to (N, H, L, S) laid out for the 5-D grouped views."""
    if b.ndim <= 2:
        return b                         # (L, S) or less broadcasts against (N, Hk, groups, L, S) as it is
    full = xp.broadcast_to(b, tuple(q_shape[:2]) + b.shape[-2:])
    return full.reshape((q_shape[0], q_shape[1] // groups, groups) + b.shape[-2:])

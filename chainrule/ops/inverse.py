"""Matrix inverse, determinant and linear solve (``chainrule.linalg.inv`` / ``det`` / ``solve``).

Each works on a batch of square matrices (the last two dims). The derivatives are the classic
ones: with Z = A⁻¹, dZ = -Z·dA·Z, so ∂L/∂A = -Zᵀ·g·Zᵀ; d(det A) = det A · tr(A⁻¹ dA), so
∂L/∂A = g·det(A)·A⁻ᵀ; for X = A⁻¹B, ∂L/∂B = A⁻ᵀ·g and ∂L/∂A = -(∂L/∂B)·Xᵀ. They use the inverse,
so the gradient of ``det`` at an exactly singular matrix raises (PyTorch goes through an SVD there).
"""

from __future__ import annotations

from ..autograd.function import Op
from ..backend import xp


def _invert(a, op: str):
    """A⁻¹ of each matrix; a matrix holding a NaN is all NaN, as PyTorch's (LAPACK leaves part of it)."""
    nan = xp.isnan(a).any(axis=(-2, -1)) if a.size else None
    if nan is not None and nan.any():
        clean = xp.where(nan[..., None, None], xp.eye(a.shape[-1], dtype=a.dtype), a)
        return xp.where(nan[..., None, None], xp.nan, _invert(clean, op)).astype(a.dtype, copy=False)
    try:
        return xp.linalg.inv(a)
    except xp.linalg.LinAlgError:
        raise RuntimeError(f"{op}: the input matrix is singular (shape {a.shape}), so it has no inverse") from None


def _t(xp_, m):
    return xp_.swapaxes(m, -1, -2)


class Inv(Op):
    """∂L/∂A = -Zᵀ·g·Zᵀ."""

    backward_name = "LinalgInvExBackward0"
    op_name = "linalg.inv"
    formula = "z = inv(x)"
    local = ("-zᵀ·g·zᵀ",)

    @staticmethod
    def forward(ctx, a):
        z = _invert(a, "linalg.inv")
        ctx.save_for_backward(z)
        return z

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        xp_ = ctx.xp
        zt = _t(xp_, z)
        return (-xp_.matmul(xp_.matmul(zt, g), zt),)


class Det(Op):
    """∂L/∂A = g·z·A⁻ᵀ."""

    backward_name = "LinalgDetBackward0"
    op_name = "linalg.det"
    formula = "z = det(x)"
    local = ("z·inv(x)ᵀ",)

    @staticmethod
    def forward(ctx, a):
        z = xp.asarray(xp.linalg.det(a))
        ctx.save_for_backward(a, z)
        ctx.singular = bool((z == 0).any())
        return z

    @staticmethod
    def backward(ctx, g):
        a, z = ctx.saved_tensors
        xp_ = ctx.xp
        if ctx.singular:
            raise RuntimeError("linalg.det: the gradient at a singular matrix (det = 0) is not supported by "
                               "chainrule (it needs an SVD); perturb the matrix or use a nonsingular one")
        scale = xp_.expand_dims(xp_.expand_dims(g * z, -1), -1)
        return (scale * _t(xp_, xp_.inv(a)),)


class Solve(Op):
    """X = A⁻¹·B, B a matrix or a vector per matrix: ∂L/∂B = A⁻ᵀ·g, ∂L/∂A = -(∂L/∂B)·Xᵀ."""

    backward_name = "LinalgSolveExBackward0"
    op_name = "linalg.solve"
    formula = "z = solve(x, y)"
    local = ("-(A⁻ᵀg)·zᵀ", "A⁻ᵀ·g")

    @staticmethod
    def forward(ctx, a, b):
        ctx.vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
        try:
            x = xp.linalg.solve(a, b[..., None] if ctx.vector else b)
        except xp.linalg.LinAlgError:
            raise RuntimeError(f"linalg.solve: the solver failed because the input matrix A (shape {a.shape}) "
                               f"is singular") from None
        if ctx.vector:
            x = x[..., 0]
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        xp_ = ctx.xp
        inv_t = _t(xp_, xp_.inv(a))
        if ctx.vector:
            gb = xp_.matmul(inv_t, xp_.expand_dims(g, -1))                      # (..., n, 1)
            ga = -gb * xp_.expand_dims(x, -2)                                  # outer product
            return ga, xp_.reshape(gb, gb.shape[:-1])
        gb = xp_.matmul(inv_t, g)
        return -xp_.matmul(gb, _t(xp_, x)), gb


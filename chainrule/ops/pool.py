"""Pooling. Max-pooling's kernels are ``backend.conv_kernels.max_pool``/``pool_scatter`` (a loop over
the kh·kw kernel offsets in NumPy, compiled passes with numba where they win); average pooling is a
loop over the kernel offsets (never over pixels), each reading one strided slice of the padded input.

Max-pool remembers which offset won in each window (the first on ties, as PyTorch); its backward
scatters the gradient there (``PoolScatter``), whose backward gathers from there (``PoolGather``),
and so on, so any order of derivative works. Average pooling and its gradient are the same kind of
adjoint pair; adaptive average pooling is two products with fixed averaging matrices.
"""

from __future__ import annotations

from ..autograd.function import Op
from ..backend import xp
from ..backend.conv_kernels import max_pool, offset, pad, pool_scatter
from ..backend.scratch import scratch
from .conv import _call

__all__ = ["AdaptiveAvgPool2d", "AvgPool2d", "AvgPoolGrad", "MaxPool2d", "PoolGather", "PoolScatter",
           "max_pool", "pool_gather", "pool_scatter"]


def _offsets(k: tuple):
    return [(i, j) for i in range(k[0]) for j in range(k[1])]


def pool_gather(x, arg, k, geom):
    """out[n,c,h,w] = x at the window position offset ``arg`` points to (the adjoint of scatter)."""
    xpad = pad(x, geom.padding, 0.0, "gather")
    out = xp.zeros(arg.shape, x.dtype)
    for idx, (i, j) in enumerate(_offsets(k)):
        out += offset(xpad, i, j, arg.shape[2], arg.shape[3], geom) * (arg == idx)
    return out


class MaxPool2d(Op):
    """The gradient goes to the position of each window's max."""

    backward_name = "MaxPool2DWithIndicesBackward0"
    formula = "z[n,c,h,w] = max_i,j x[n,c, s·h+d·i-p, s·w+d·j-p]"
    local = ("1 at the window's (first) max, 0 elsewhere",)

    @staticmethod
    def forward(ctx, x, k, geom, oh, ow):
        out, arg = max_pool(x, k, geom, oh, ow)
        # Saved, not kept on ctx: freed after backward, so a second backward raises like any op's.
        # x is saved as PyTorch saves it (its backward reads it; an in-place change is caught).
        ctx.save_for_backward(x, arg)
        ctx.k, ctx.geom, ctx.x_shape = k, geom, x.shape
        return out

    @staticmethod
    def backward(ctx, g):
        x, arg = ctx.saved_tensors
        gx = _call(PoolScatter, ctx.xp, g, arg, ctx.k, ctx.geom, ctx.x_shape)
        return ctx.xp.attach(gx, x), None, None, None, None


class PoolScatter(Op):
    """Max-pool's input gradient."""

    backward_name = "MaxPool2DWithIndicesBackwardBackward0"
    formula = "z = scatter_add(g at argmax)"
    local = ("1 at the chosen positions",)

    @staticmethod
    def kernel(g, arg, k, geom, x_shape):
        return pool_scatter(g, arg, k, geom, x_shape)

    @staticmethod
    def forward(ctx, g, arg, k, geom, x_shape):
        ctx.save_for_backward(arg)
        ctx.k, ctx.geom = k, geom
        return pool_scatter(g, arg, k, geom, x_shape)

    @staticmethod
    def backward(ctx, gg):
        (arg,) = ctx.saved_tensors
        return _call(PoolGather, ctx.xp, gg, arg, ctx.k, ctx.geom), None, None, None, None


class PoolGather(Op):
    """The adjoint of PoolScatter."""

    backward_name = "MaxPool2DWithIndicesBackward0"
    formula = "z = gather(x at argmax)"
    local = ("1 at the chosen positions",)

    @staticmethod
    def kernel(x, arg, k, geom):
        return pool_gather(x, arg, k, geom)

    @staticmethod
    def forward(ctx, x, arg, k, geom):
        ctx.save_for_backward(arg)
        ctx.k, ctx.geom, ctx.x_shape = k, geom, x.shape
        return pool_gather(x, arg, k, geom)

    @staticmethod
    def backward(ctx, g):
        (arg,) = ctx.saved_tensors
        return _call(PoolScatter, ctx.xp, g, arg, ctx.k, ctx.geom, ctx.x_shape), None, None, None


class AvgPool2d(Op):
    backward_name = "AvgPool2DBackward0"
    formula = "z[n,c,h,w] = Σ_i,j x[n,c, s·h+i-p, s·w+j-p] / divisor[h,w]"
    local = ("1/divisor for each window containing the position",)

    @staticmethod
    def kernel(x, k, geom, divisor):
        xpad = pad(x, geom.padding, 0.0, "avgpool")
        oh, ow = divisor.shape
        out = None
        for i, j in _offsets(k):
            v = offset(xpad, i, j, oh, ow, geom)
            if out is None:
                out = xp.array(v, order="C")     # a copy, contiguous whatever the input's layout (as PyTorch)
            else:
                out += v
        out /= divisor
        return out

    @staticmethod
    def forward(ctx, x, k, geom, divisor):
        ctx.save_for_backward(x)          # as PyTorch: backward reads it (freed after, like any op)
        ctx.k, ctx.geom, ctx.divisor, ctx.x_shape = k, geom, divisor, x.shape
        return AvgPool2d.kernel(x, k, geom, divisor)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        gx = _call(AvgPoolGrad, ctx.xp, g, ctx.k, ctx.geom, ctx.divisor, ctx.x_shape)
        return ctx.xp.attach(gx, x), None, None, None


class AvgPoolGrad(Op):
    """Avg-pool's input gradient."""

    backward_name = "AvgPool2DBackwardBackward0"
    formula = "z = col2im(g / divisor)"
    local = ("1/divisor for each window containing the position",)

    @staticmethod
    def kernel(g, k, geom, divisor, x_shape):
        n, c, h, w = x_shape
        t, b, left, r = geom.padding
        gx = scratch("avggx", (n, c, h + t + b, w + left + r), g.dtype)
        gx.fill(0)
        gd = g / divisor
        for i, j in _offsets(k):
            view = offset(gx, i, j, g.shape[2], g.shape[3], geom)
            view += gd
        return xp.ascontiguousarray(gx[:, :, t:t + h, left:left + w])

    @staticmethod
    def forward(ctx, g, k, geom, divisor, x_shape):
        ctx.k, ctx.geom, ctx.divisor = k, geom, divisor
        return AvgPoolGrad.kernel(g, k, geom, divisor, x_shape)

    @staticmethod
    def backward(ctx, gg):
        return _call(AvgPool2d, ctx.xp, gg, ctx.k, ctx.geom, ctx.divisor), None, None, None, None


def adaptive_matrix(n_in: int, n_out: int, dtype):
    """A (n_out, n_in) averaging matrix: row i averages [⌊i·n/m⌋, ⌈(i+1)·n/m⌉) (PyTorch's windows)."""
    i = xp.arange(n_out)
    start = (i * n_in) // n_out
    end = -(-((i + 1) * n_in) // n_out)
    j = xp.arange(n_in)
    inside = (j >= start[:, None]) & (j < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


class AdaptiveAvgPool2d(Op):
    """A_h and A_w are averaging matrices."""

    backward_name = "AdaptiveAvgPool2DBackward0"
    formula = "z = A_h @ x @ A_wᵀ"
    local = ("A_hᵀ · g · A_w",)

    @staticmethod
    def forward(ctx, x, oh, ow, unbatched=False):
        ah = adaptive_matrix(x.shape[-2], oh, x.dtype)
        aw = adaptive_matrix(x.shape[-1], ow, x.dtype)
        ctx.save_for_backward(x, ah, aw)
        ctx.unbatched = unbatched
        # einsum may hand back a permuted (non-contiguous) array; PyTorch's output is contiguous, so .view works
        return xp.ascontiguousarray(xp.einsum("ah,nchw,bw->ncab", ah, x, aw, optimize=True))

    @staticmethod
    def check_grad_output(ctx, g):
        """PyTorch's backward refuses an empty non-batch dim of grad_output (C of a batched input, oh, ow)."""
        dims = g.shape[2:] if ctx.unbatched else g.shape[1:]
        if 0 in dims:
            shape = tuple(g.shape[1:]) if ctx.unbatched else tuple(g.shape)
            raise RuntimeError(f"adaptive_avg_pool2d_backward(): Expected grad_output to have non-zero size for "
                               f"non-batch dimensions, but grad_output has sizes {list(shape)}: no gradient "
                               f"flows through an empty pooling output")

    @staticmethod
    def backward(ctx, g):
        AdaptiveAvgPool2d.check_grad_output(ctx, g)
        x, ah, aw = ctx.saved_tensors
        gx = ctx.xp.matmul(ctx.xp.matmul(ah.T, g), aw)
        # PyTorch's backward reads x, except for output size 1 (a mean, whose gradient does not)
        return (gx if ah.shape[0] == aw.shape[0] == 1 else ctx.xp.attach(gx, x)), None, None, None

    @staticmethod
    def backward_array(ctx, g):
        """The first-order kernel: both averaging products in one einsum."""
        AdaptiveAvgPool2d.check_grad_output(ctx, g)
        _, ah, aw = ctx.saved_tensors
        return xp.einsum("ah,ncab,bw->nchw", ah, g, aw, optimize=True), None, None, None

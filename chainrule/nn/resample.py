"""Resizing and patch extraction: ``F.interpolate``/``nn.Upsample`` and ``F.unfold``/``F.fold``.

Interpolation is separable and linear in the input: along each spatial axis the output is a fixed
matrix A (out × in) times the input — nearest picks one source per row, linear mixes two neighbours,
bicubic four, area averages a window. So resizing is one matmul per axis (nearest: one index_select),
and autograd's backward is Aᵀ, no special code. The source positions follow PyTorch's rules exactly
(``align_corners``, ``scale_factor`` vs ``size``, its float32 index arithmetic for nearest).

``unfold`` (im2col) is a grouped convolution with a 0/1 "identity" kernel that copies each window
into channels, and ``fold`` (col2im, adding overlaps) is its adjoint, the transposed convolution.
"""

from __future__ import annotations

import math

from ..backend import xp
from ..ops import conv as C
from ..tensor import Tensor
from .functional_conv import _pair
from .module import Module

__all__ = ["Fold", "Unfold", "Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d", "fold", "interpolate",
           "unfold", "upsample"]

_MODES = {"nearest": None, "nearest-exact": None, "area": None, "linear": 3, "bilinear": 4, "bicubic": 4,
          "trilinear": 5}


def _source_linear(out: int, size: int, scale, align_corners: bool, clamp: bool = True):
    """Fractional source coordinate of each output position (PyTorch's area_pixel_compute_source_index)."""
    dst = xp.arange(out, dtype=xp.float64)
    if align_corners:
        ratio = (size - 1) / (out - 1) if out > 1 else 0.0
        return dst * ratio
    ratio = 1.0 / scale if scale is not None and scale > 0 else size / out
    src = ratio * (dst + 0.5) - 0.5
    return xp.maximum(src, 0.0) if clamp else src


def _matrix(mode: str, out: int, size: int, scale, align_corners: bool):
    """The (out, size) matrix that resizes one axis."""
    a = xp.zeros((out, size))
    rows = xp.arange(out)
    if mode == "linear":
        src = _source_linear(out, size, scale, align_corners)
        i0 = xp.floor(src).astype(xp.int64)
        i1 = xp.where(i0 < size - 1, i0 + 1, i0)
        w1 = src - i0
        xp.add.at(a, (rows, i0), 1.0 - w1)
        xp.add.at(a, (rows, i1), w1)
    elif mode == "cubic":
        src = _source_linear(out, size, scale, align_corners, clamp=False)
        i0 = xp.floor(src).astype(xp.int64)
        t = src - i0
        for k, w in zip(range(-1, 3), _cubic_weights(t)):
            xp.add.at(a, (rows, xp.clip(i0 + k, 0, size - 1)), w)
    else:                                    # area: adaptive average pooling windows
        start = (rows * size) // out
        end = -((-(rows + 1) * size) // out)
        cols = xp.arange(size)
        inside = (cols[None, :] >= start[:, None]) & (cols[None, :] < end[:, None])
        a = inside / (end - start)[:, None]
    return a


def _cubic_weights(t):
    """Keys' cubic convolution weights (A = -0.75, PyTorch's) for offsets -1, 0, 1, 2."""
    A = -0.75

    def near(x):       # |x| ≤ 1
        return ((A + 2) * x - (A + 3)) * x * x + 1

    def far(x):        # 1 < |x| < 2
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A
    return far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)


def _nearest_index(out: int, size: int, scale, exact: bool):
    """PyTorch's nearest source index, computed in float32 as its kernels do."""
    if out == size:
        return xp.arange(out)
    if out == 2 * size:
        return xp.arange(out) >> 1
    ratio = xp.float32(1.0 / scale) if scale is not None and scale > 0 else xp.float32(size) / xp.float32(out)
    dst = xp.arange(out, dtype=xp.float32) + (xp.float32(0.5) if exact else xp.float32(0.0))
    return xp.minimum(xp.floor(dst * ratio).astype(xp.int64), size - 1)


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
    """Resize the spatial dims of (N, C, *spatial), as ``torch.nn.functional.interpolate``.

    Modes: 'nearest', 'nearest-exact', 'linear' (3-D), 'bilinear'/'bicubic' (4-D), 'trilinear' (5-D), 'area'.

    >>> import chainrule as cr
    >>> x = cr.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    >>> interpolate(x, scale_factor=2, mode="bilinear")[0, 0, 0].tolist()
    [1.0, 1.25, 1.75, 2.0]
    """
    fn = "interpolate"
    if mode not in _MODES:
        raise NotImplementedError(f"{fn}: mode {mode!r} is not supported; choose one of {', '.join(_MODES)}")
    if antialias:
        raise NotImplementedError(f"{fn}: antialias=True is not supported by chainrule")
    if not isinstance(input, Tensor) or input.ndim < 3:
        raise ValueError(f"{fn}: expected an input of shape (N, C, *spatial) with 1 to 3 spatial dims, got "
                         f"{tuple(getattr(input, 'shape', ())) or type(input).__name__}")
    nd = input.ndim - 2
    if _MODES[mode] is not None and _MODES[mode] != input.ndim:
        raise NotImplementedError(f"{fn}: got {input.ndim}D input, but {mode} mode needs {_MODES[mode]}D input")
    if align_corners is not None and mode in ("nearest", "nearest-exact", "area"):
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | "
                         "bicubic | trilinear")
    align_corners = bool(align_corners)
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: either size or scale_factor should be defined" if size is None
                         else "interpolate: only one of size or scale_factor should be defined")
    spatial = tuple(input.shape[2:])
    if size is not None:
        out = tuple(size) if isinstance(size, (tuple, list)) else (size,) * nd
        if len(out) != nd:
            raise ValueError(f"{fn}: Input and output must have the same number of spatial dimensions, but got "
                             f"input with spatial dimensions of {list(spatial)} and output size of {list(out)}.")
        scales = (None,) * nd
    else:
        scales = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * nd
        if len(scales) != nd:
            raise ValueError(f"{fn}: scale_factor has {len(scales)} values for {nd} spatial dims")
        out = tuple(math.floor(float(s) * float(n)) for s, n in zip(scales, spatial))
        if recompute_scale_factor:
            scales = (None,) * nd
    if any(o <= 0 for o in out):
        raise ValueError(f"{fn}: output size {out} must be positive (input spatial size {spatial})")
    kind = {"linear": "linear", "bilinear": "linear", "trilinear": "linear", "bicubic": "cubic"}.get(mode, mode)
    if mode == "area":
        scales = (None,) * nd
    y = input
    for d in range(nd):
        axis = 2 + d
        if kind in ("nearest", "nearest-exact"):
            if out[d] != spatial[d]:
                idx = _nearest_index(out[d], spatial[d], scales[d], kind == "nearest-exact")
                y = y.index_select(axis, Tensor._make(idx))
            continue
        if kind == "area" and out[d] == spatial[d]:
            continue
        a = _matrix(kind, out[d], spatial[d], scales[d], align_corners).T.astype(input._data.dtype)
        y = y.transpose(axis, -1).matmul(Tensor._make(xp.ascontiguousarray(a))).transpose(axis, -1)
    return y


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners=None) -> Tensor:
    """The old name of ``interpolate``."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def _identity_kernel(channels: int, kernel: tuple, dtype):
    """(C·kh·kw, 1, kh, kw) weights that copy window offset (i, j) of channel c into channel c·kh·kw + i·kw + j."""
    kk = kernel[0] * kernel[1]
    eye = xp.eye(kk, dtype=dtype).reshape(kk, 1, *kernel)
    return xp.ascontiguousarray(xp.tile(eye, (channels, 1, 1, 1)))


def _window_args(fn: str, kernel_size, dilation, padding, stride):
    k = _pair(kernel_size, "kernel_size", fn)
    d, p, s = _pair(dilation, "dilation", fn), _pair(padding, "padding", fn), _pair(stride, "stride", fn)
    if min(k + d + s) < 1 or min(p) < 0:
        raise ValueError(f"{fn}: kernel_size {k}, dilation {d} and stride {s} must be positive and padding {p} "
                         f"non-negative")
    return k, C.Geometry(s, (p[0], p[0], p[1], p[1]), d, 1)


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Extract sliding windows: (N, C, H, W) -> (N, C·kh·kw, L), L the number of window positions.

    >>> import chainrule as cr
    >>> unfold(cr.arange(16.0).reshape(1, 1, 4, 4), kernel_size=2, stride=2)[0, :, 0].tolist()
    [0.0, 1.0, 4.0, 5.0]
    """
    fn = "unfold"
    if not isinstance(input, Tensor) or input.ndim not in (3, 4):
        raise NotImplementedError(f"{fn}: Input Error: Only 3D or 4D input Tensors are supported (got "
                                  f"{getattr(input, 'ndim', type(input).__name__)}D)")
    if input.ndim == 3:
        return unfold(input.unsqueeze(0), kernel_size, dilation, padding, stride).squeeze(0)
    k, geom = _window_args(fn, kernel_size, dilation, padding, stride)
    n, c, h, w = input.shape
    oh = C.out_size(h, k[0], geom.stride[0], geom.padding[0], geom.padding[1], geom.dilation[0])
    ow = C.out_size(w, k[1], geom.stride[1], geom.padding[2], geom.padding[3], geom.dilation[1])
    if oh < 1 or ow < 1:
        raise RuntimeError(f"{fn}: input of shape {tuple(input.shape)} is too small for kernel_size {k} with "
                           f"padding {geom.padding[::2]} and dilation {geom.dilation}")
    weight = Tensor._make(_identity_kernel(c, k, input._data.dtype))
    cols = C.Conv.apply(input, weight, None, geom._replace(groups=c))
    return cols.reshape(n, c * k[0] * k[1], oh * ow)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sum sliding windows back into an image: (N, C·kh·kw, L) -> (N, C, H, W), the adjoint of ``unfold``.

    >>> import chainrule as cr
    >>> fold(cr.ones(1, 4, 4), output_size=3, kernel_size=2)[0, 0].tolist()
    [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """
    fn = "fold"
    if not isinstance(input, Tensor) or input.ndim not in (2, 3):
        raise NotImplementedError(f"{fn}: Input Error: Only unbatched (2D) or batched (3D) input Tensors are "
                                  f"supported (got {getattr(input, 'ndim', type(input).__name__)}D)")
    if input.ndim == 2:
        return fold(input.unsqueeze(0), output_size, kernel_size, dilation, padding, stride).squeeze(0)
    k, geom = _window_args(fn, kernel_size, dilation, padding, stride)
    h, w = _pair(output_size, "output_size", fn)
    n, ckk, length = input.shape
    if ckk % (k[0] * k[1]):
        raise RuntimeError(f"{fn}: expected size of input's dimension 1 to be divisible by the product of "
                           f"kernel_size, but got input.size(1)={ckk} and kernel_size={k}")
    oh = C.out_size(h, k[0], geom.stride[0], geom.padding[0], geom.padding[1], geom.dilation[0])
    ow = C.out_size(w, k[1], geom.stride[1], geom.padding[2], geom.padding[3], geom.dilation[1])
    if oh * ow != length:
        raise RuntimeError(f"{fn}: Given output_size={(h, w)}, kernel_size={k}, dilation={geom.dilation}, "
                           f"padding={geom.padding[::2]}, stride={geom.stride}, expected size of input's dimension "
                           f"2 to match the calculated number of sliding blocks {oh} * {ow} = {oh * ow}, but got "
                           f"input.size(2)={length}.")
    c = ckk // (k[0] * k[1])
    weight = Tensor._make(_identity_kernel(c, k, input._data.dtype))
    return C.ConvInputGrad.apply(input.reshape(n, ckk, oh, ow), weight, geom._replace(groups=c), (n, c, h, w))


class Upsample(Module):
    """Resize by ``size`` or ``scale_factor`` with ``mode`` (see ``F.interpolate``).

    >>> import chainrule as cr
    >>> cr.nn.Upsample(scale_factor=2)(cr.zeros(1, 3, 4, 4)).shape
    chainrule.Size([1, 3, 8, 8])
    """

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, (int, float)) else scale_factor
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return f"{info}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """``Upsample(mode='nearest')`` for 4-D input."""

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(mode='bilinear', align_corners=True)`` for 4-D input."""

    def __init__(self, size=None, scale_factor=None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class Unfold(Module):
    """``F.unfold`` as a module: (N, C, H, W) -> (N, C·∏kernel, L)."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    """``F.fold`` as a module: (N, C·∏kernel, L) -> (N, C, *output_size), overlaps added."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")

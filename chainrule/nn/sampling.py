"""``F.affine_grid`` and ``F.grid_sample`` on 2-D images (the spatial transformer network's two halves).

``affine_grid`` maps every output pixel's normalised position (x, y, 1) through θ (N, 2, 3).
``grid_sample`` reads the input at those positions: bilinear weights of the four neighbours (or the
nearest one), with PyTorch's coordinate rules for ``align_corners`` and ``padding_mode``. Both are
compositions of core ops: the gradient reaches the input through a gather and the grid through the
bilinear weights.

>>> import chainrule as cr
>>> theta = cr.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])      # the identity transform
>>> img = cr.arange(4.0).reshape(1, 1, 2, 2)
>>> F = cr.nn.functional
>>> F.grid_sample(img, F.affine_grid(theta, (1, 1, 2, 2), align_corners=False), align_corners=False)
tensor([[[[0., 1.],
          [2., 3.]]]])
"""

from __future__ import annotations

import warnings

from ..ops.elementwise_extra import OneNode
from ..tensor import Tensor
from ..tensor.creation import linspace, ones, tensor
from ..tensor.functions import stack

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                  "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                  "grid_sample for details.")


def _steps(n: int, align_corners: bool, like: Tensor) -> Tensor:
    """The normalised positions of n pixels in [-1, 1]: their centres, or their corners (align_corners)."""
    if n <= 1:
        return tensor([0.0] * n, dtype=like.dtype)
    r = linspace(-1.0, 1.0, n, dtype=like.dtype)
    return r if align_corners else r * (n - 1) / n


def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    """The sampling grid (N, H, W, 2) of the 2-D affine maps θ (N, 2, 3) for an output of ``size`` (N, C, H, W).

    >>> import chainrule as cr
    >>> affine_grid(cr.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]), (1, 1, 1, 2), align_corners=False)
    tensor([[[[-0.5000,  0.0000],
              [ 0.5000,  0.0000]]]])
    """
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"affine_grid: Expected theta to have floating point type, but got {theta.dtype}")
    size = tuple(int(s) for s in size)
    if len(size) == 5:
        raise NotImplementedError("affine_grid: 3-D (5-D size) affine grids are not supported by chainrule; "
                                  "only 4-D sizes (N, C, H, W) with theta of shape (N, 2, 3)")
    if len(size) != 4:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    if theta.ndim != 3 or tuple(theta.shape[1:]) != (2, 3) or theta.shape[0] != size[0]:
        raise ValueError(f"affine_grid: Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. "
                         f"Got {tuple(theta.shape)}.")
    if align_corners and min(size[2:]) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the documentation "
                      "of affine_grid for details.", stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"affine_grid: Expected non-zero, positive output size. Got {size}")
    n, _, h, w = size
    xs = _steps(w, align_corners, theta).reshape(1, w).expand(h, w)
    ys = _steps(h, align_corners, theta).reshape(h, 1).expand(h, w)
    base = stack([xs, ys, ones(h, w, dtype=theta.dtype)], -1).reshape(1, h * w, 3)
    return base.matmul(theta.transpose(1, 2)).reshape(n, h, w, 2)


def _source(coord: Tensor, size: int, padding_mode: str, align_corners: bool) -> Tensor:
    """Pixel coordinates from normalised ones, with the padding mode's rule (PyTorch's compute_source_index)."""
    coord = (coord + 1) / 2 * (size - 1) if align_corners else ((coord + 1) * size - 1) / 2
    if padding_mode == "reflection":
        low, high = (0.0, 2.0 * (size - 1)) if align_corners else (-1.0, 2.0 * size - 1)
        if low == high:
            coord = coord * 0
        else:
            lo, span = low / 2, (high - low) / 2
            d = (coord - lo).abs()
            extra, flips = d.fmod(span), (d / span).floor()
            coord = (extra + lo).where(flips.remainder(2) == 0, span - extra + lo)
    if padding_mode in ("border", "reflection"):
        # clip, with PyTorch's zero gradient at and beyond the edges
        coord = coord.masked_fill(coord <= 0, 0.0).masked_fill(coord >= size - 1, float(size - 1))
    return coord


def _read(flat: Tensor, ix: Tensor, iy: Tensor, h: int, w: int, padding_mode: str) -> Tensor:
    """input[n, :, iy, ix] for integer positions (N, Ho, Wo); positions outside the image read 0."""
    n, c = flat.shape[:2]
    inside = (ix >= 0) & (ix < w) & (iy >= 0) & (iy < h)
    m = ix.shape[1] * ix.shape[2]    # output positions per sample (not -1: n may be 0)
    index = (iy.clamp(0, h - 1) * w + ix.clamp(0, w - 1)).reshape(n, 1, m).expand(n, c, m)
    values = flat.gather(2, index).reshape(n, c, *ix.shape[1:])
    return values if padding_mode != "zeros" else values.masked_fill(~inside.unsqueeze(1), 0.0)


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """Sample ``input`` (N, C, H, W) at ``grid`` (N, Ho, Wo, 2) normalised (x, y) positions → (N, C, Ho, Wo).

    ``mode`` 'bilinear' or 'nearest'; ``padding_mode`` 'zeros', 'border' or 'reflection' says what lies
    outside the image. 3-D (5-D input) sampling and 'bicubic' are not supported.
    """
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"grid_sample: nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or "
                         f"'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"grid_sample: nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', "
                         f"or 'reflection', but got: '{padding_mode}'")
    if mode == "bicubic" or input.ndim == 5:
        raise NotImplementedError(f"grid_sample: {'bicubic interpolation' if mode == 'bicubic' else '5-D input'} is "
                                  f"not supported by chainrule (2-D bilinear or nearest sampling only)")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if input.ndim != 4 or grid.ndim != 4 or grid.shape[-1] != 2 or grid.shape[0] != input.shape[0]:
        raise RuntimeError(f"grid_sample: expected input (N, C, H, W) and grid (N, H_out, W_out, 2) with the same "
                           f"N, got input {tuple(input.shape)} and grid {tuple(grid.shape)}")
    if 0 in tuple(input.shape[2:]):
        raise RuntimeError(f"grid_sample: grid_sampler(): expected input to have non-empty spatial dimensions, but "
                           f"input has sizes {list(input.shape)} with dimension 2 or 3 being empty")
    if input.dtype != grid.dtype and not input.numel():   # PyTorch computes nothing and checks no dtype:
        grid = grid.to(input.dtype)                      # the output has the input's
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sample: expected input and grid to have the same dtype, but input has "
                           f"{input.dtype} and grid has {grid.dtype}")
    n, c, h, w = input.shape
    x = _source(grid[..., 0], w, padding_mode, align_corners)
    y = _source(grid[..., 1], h, padding_mode, align_corners)
    flat = input.reshape(n, c, h * w)
    if mode == "nearest":   # round half to even, as PyTorch's nearbyint; the grid gets a zero gradient
        out = _read(flat, x.detach().round().long(), y.detach().round().long(), h, w, padding_mode)
        # the grid's gradient is 0, with no second derivative; the input's has a (zero) one by the grid
        # only (PyTorch's double backward differentiates the input's gradient, not the grid's, by the grid)
        return OneNode.apply(out, "GridSampler2DBackward0", (False, True), (1, False), input, grid)
    x0, y0 = x.detach().floor(), y.detach().floor()
    wx, wy = (x - x0).unsqueeze(1), (y - y0).unsqueeze(1)      # the weights carry the grid's gradient
    ix, iy = x0.long(), y0.long()
    out = _read(flat, ix, iy, h, w, padding_mode) * (1 - wx) * (1 - wy)
    out = out + _read(flat, ix + 1, iy, h, w, padding_mode) * wx * (1 - wy)
    out = out + _read(flat, ix, iy + 1, h, w, padding_mode) * (1 - wx) * wy
    out = out + _read(flat, ix + 1, iy + 1, h, w, padding_mode) * wx * wy
    # one node as PyTorch's, whose backward reads input and grid (so its gradients require grad under
    # create_graph when either does)
    return OneNode.apply(out, "GridSampler2DBackward0", False, None, input, grid)

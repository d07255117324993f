"""More of ``torch.nn.functional``: prelu, the pixel/channel shuffles, instance and RMS norm, the shrink
activations and threshold. All but ``prelu`` (one ``Prelu`` node, as PyTorch's) are short compositions of
core ops, so autograd differentiates them (twice, under ``create_graph``) for free.
"""

from __future__ import annotations

import math

from ..autograd.grad_mode import no_grad
from ..backend import xp
from ..ops.elementwise_extra import OneNode
from ..ops.nn_extra import Prelu
from ..tensor import Tensor
from ..tensor.args import require_kind
from ..tensor.core import _warn_once
from . import functional as F


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x where x > 0, else w·x, with one learned slope w in all (weight of 1 element) or one per channel (dim 1).

    >>> import chainrule as cr
    >>> prelu(cr.tensor([-2.0, 3.0]), cr.tensor([0.25]))
    tensor([-0.5000,  3.0000])
    """
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.ndim} "
                           f"(shape {tuple(weight.shape)})")
    if input.dtype != weight.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got input {input.dtype} and weight {weight.dtype}")
    require_kind(input, "prelu")
    n = weight.numel()
    if n == 1:
        return Prelu.apply(input, weight.reshape(()))
    if input.ndim == 0:
        raise RuntimeError(f"prelu: Not allow zero-dim input tensor with {n} weights (one weight needed)")
    channels = input.shape[1] if input.ndim >= 2 else 1
    if n != channels:
        raise RuntimeError(f"prelu: Mismatch of parameter numbers and input channel size. Found parameter "
                           f"numbers = {n} and channel size = {channels} (input of shape {tuple(input.shape)})")
    return Prelu.apply(input, weight.reshape((n,) + (1,) * (input.ndim - 2)))


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C·r², H, W) → (*, C, H·r, W·r): move blocks of channels into space (sub-pixel convolution).

    >>> import chainrule as cr
    >>> pixel_shuffle(cr.arange(4.0).reshape(1, 4, 1, 1), 2).tolist()
    [[[[0.0, 1.0], [2.0, 3.0]]]]
    """
    r = int(upscale_factor)
    _check_shuffle("pixel_shuffle", input, r)
    *batch, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square "
                           f"of upscale_factor, but input.size(-3)={c} is not divisible by {r * r} (input of shape "
                           f"{tuple(input.shape)})")
    k = len(batch)
    x = input.reshape(*batch, c // (r * r), r, r, h, w)
    x = x.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)        # (*, C, H, r, W, r)
    return _new(x.reshape(*batch, c // (r * r), h * r, w * r))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H·r, W·r) → (*, C·r², H, W): the inverse of ``pixel_shuffle``.

    >>> import chainrule as cr
    >>> pixel_unshuffle(cr.arange(4.0).reshape(1, 1, 2, 2), 2).flatten().tolist()
    [0.0, 1.0, 2.0, 3.0]
    """
    r = int(downscale_factor)
    _check_shuffle("pixel_unshuffle", input, r)
    *batch, c, h, w = input.shape
    for name, size in (("height", h), ("width", w)):
        if size % r:
            raise RuntimeError(f"pixel_unshuffle expects {name} to be divisible by downscale_factor, but input."
                               f"size({-2 if name == 'height' else -1})={size} is not divisible by {r} (input of "
                               f"shape {tuple(input.shape)})")
    k = len(batch)
    x = input.reshape(*batch, c, h // r, r, w // r, r)
    x = x.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)        # (*, C, r, r, H, W)
    return _new(x.reshape(*batch, c * r * r, h // r, w // r))


def _check_shuffle(fn: str, input: Tensor, r: int) -> None:
    if input.ndim < 3:
        raise RuntimeError(f"{fn} expects input to have at least 3 dimensions, but got input with {input.ndim} "
                           f"dimension(s) (shape {tuple(input.shape)})")
    if r <= 0:
        which = "upscale_factor" if fn == "pixel_shuffle" else "downscale_factor"
        raise RuntimeError(f"{fn} expects a positive {which}, but got {r}")


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Interleave the channels (dim 1) of ``groups`` groups (ShuffleNet): (N, g·k, *) → (N, k·g, *).

    >>> import chainrule as cr
    >>> channel_shuffle(cr.arange(4.0).reshape(1, 4, 1), 2).flatten().tolist()
    [0.0, 2.0, 1.0, 3.0]
    """
    if input.ndim < 3:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input of shape "
                           f"{tuple(input.shape)}")
    if groups <= 0:
        raise RuntimeError(f"channel_shuffle: number of groups to divide channels in must be positive. Value of "
                           f"groups: {groups}")
    if input.shape[1] % groups:
        raise RuntimeError(f"channel_shuffle: number of channels must be divisible by groups. Got {input.shape[1]} "
                           f"channels and {groups} groups (input of shape {tuple(input.shape)})")
    n, c, *rest = input.shape
    return _new(input.reshape(n, groups, c // groups, *rest).transpose(1, 2).reshape(n, c, *rest))


def _new(y: Tensor) -> Tensor:
    """The shuffles return a new tensor, never a view of the input (as PyTorch's: an in-place change of the
    result then leaves the input alone, and works on the result of a leaf)."""
    return y if y._base is None else y.clone(memory_format="contiguous_format")    # a copy in row-major order


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each sample's channels over their own spatial dims (Ulyanov et al., 2016).

    As PyTorch, this is batch norm on the input seen as one sample of N·C channels; running stats (if
    given) are updated with the average over the batch.

    >>> import chainrule as cr
    >>> y = instance_norm(cr.randn(2, 3, 5))
    >>> round(float(y[1, 2].mean()), 4) + 0.0
    0.0
    """
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected an input of shape (N, C, *) with at least one spatial dim, got "
                         f"{tuple(input.shape)}")
    n, c = input.shape[:2]
    if use_input_stats and math.prod(input.shape[2:]) == 1:
        raise ValueError(f"instance_norm: Expected more than 1 spatial element when training, got input size "
                         f"{tuple(input.shape)}")
    repeat = [None if t is None else t.repeat(n) for t in (running_mean, running_var, weight, bias)]
    # PyTorch's instance_norm takes running statistics of any float dtype (they are copies, cast back on update)
    repeat[:2] = [t if t is None or t.dtype == input.dtype or not t.is_floating_point() else t.to(input.dtype)
                  for t in repeat[:2]]
    y = F.batch_norm(input.reshape(1, n * c, *input.shape[2:]), repeat[0], repeat[1], repeat[2], repeat[3],
                     use_input_stats, momentum, eps)
    if use_input_stats:
        with no_grad():     # fold the per-sample statistics back: their mean over the batch
            for stats, updated in ((running_mean, repeat[0]), (running_var, repeat[1])):
                if stats is not None:
                    stats.copy_(updated.reshape(n, c).mean(0))
    return y.reshape(input.shape)


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    """x / sqrt(mean(x²) + eps) over the last dims ``normalized_shape``, times ``weight`` (Zhang & Sennrich).

    ``eps`` defaults to the dtype's machine epsilon, as PyTorch's.

    >>> import chainrule as cr
    >>> rms_norm(cr.tensor([[3.0, 4.0]]), (2,), eps=0.0)
    tensor([[0.8485, 1.1314]])
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or tuple(input.shape[input.ndim - k:]) != shape or input.ndim < k:
        raise RuntimeError(f"rms_norm: the last dims of the input {tuple(input.shape)} must equal normalized_shape "
                           f"{shape}")
    if weight is not None and tuple(weight.shape) != shape:
        raise RuntimeError(f"rms_norm: expected weight of shape {shape}, got {tuple(weight.shape)}")
    require_kind(input, "rms_norm")
    if eps is None:
        eps = float(xp.finfo(input._data.dtype).eps)
    dims = tuple(range(input.ndim - k, input.ndim))
    y = input * (input * input).mean(dims, keepdim=True).add(eps).rsqrt()
    if weight is None:
        return y
    if weight.dtype != input.dtype:     # PyTorch: warned once, and the result in the input's dtype
        _warn_once("rms_norm dtype", f"Mismatch dtype between input and weight: input dtype = "
                   f"{_C_NAMES.get(input.dtype.name, input.dtype.name)}, weight dtype = "
                   f"{_C_NAMES.get(weight.dtype.name, weight.dtype.name)}, Cannot dispatch to fused implementation.")
        return (y * weight).to(input.dtype)
    return y * weight


_C_NAMES = {"float64": "double", "float32": "float", "float16": "c10::Half", "bfloat16": "c10::BFloat16"}


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > λ, else 0.

    >>> import chainrule as cr
    >>> hardshrink(cr.tensor([-1.0, 0.2, 0.7]))
    tensor([-1.0000,  0.0000,  0.7000])
    """
    require_kind(input, "hardshrink")
    return OneNode.apply(input.masked_fill(input.abs() <= lambd, 0.0), "HardshrinkBackward0", True, None, input)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - λ where x > λ, x + λ where x < -λ, else 0 (x minus its clamp to [-λ, λ]).

    >>> import chainrule as cr
    >>> softshrink(cr.tensor([-1.0, 0.2, 0.7]))
    tensor([-0.5000,  0.0000,  0.2000])
    """
    require_kind(input, "softshrink")
    if lambd < 0:
        raise RuntimeError(f"softshrink: lambda must be in range [0, inf) for input dtype {input.dtype}, but "
                           f"found {lambd}")
    return OneNode.apply(input - input.clamp(-lambd, lambd), "SoftshrinkBackward0", True, None, input)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x).

    >>> import chainrule as cr
    >>> tanhshrink(cr.tensor([0.0]))
    tensor([0.])
    """
    require_kind(input, "tanhshrink", "fiu", RuntimeError)   # integers give float32; a bool cannot be subtracted
    return input - input.tanh()


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else ``value``.

    >>> import chainrule as cr
    >>> threshold(cr.tensor([0.5, 2.0]), 1.0, -3.0)
    tensor([-3.,  2.])
    """
    require_kind(input, "threshold", "fiu")   # integers keep their dtype, as in PyTorch; bool has no kernel
    # in place: computed from a copy, so the node's saved input is not the tensor copy_ changes
    source = input.clone() if inplace else input
    out = OneNode.apply(source.masked_fill(source <= threshold, value), "ThresholdBackward0", True, None, source)
    return input.copy_(out) if inplace else out


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """x / (k + α·mean of x² over ``size`` neighbouring channels)^β (AlexNet's normalisation).

    >>> import chainrule as cr
    >>> local_response_norm(cr.ones(1, 3, 1), 2, alpha=1.0, beta=1.0, k=0.0)
    tensor([[[2.],
             [1.],
             [1.]]])
    """
    if input.ndim < 3:
        raise ValueError(f"local_response_norm: Expected 3D or higher dimensionality input (got {input.ndim} "
                         f"dimensions, shape {tuple(input.shape)})")
    if input.numel() == 0:
        return input
    n, c = input.shape[:2]
    # the mean over a window of channels is an average pool over C of (N, 1, C, rest), padded as PyTorch
    sq = (input * input).reshape(n, 1, c, -1)
    sq = F.pad(sq, (0, 0, size // 2, (size - 1) // 2))
    div = F.avg_pool2d(sq, (size, 1), stride=1).reshape(input.shape)
    return input / div.mul(alpha).add(k).pow(beta)


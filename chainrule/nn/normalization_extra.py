"""``InstanceNorm1d/2d/3d`` (statistics over each sample's own spatial dims, per channel), ``BatchNorm3d``,
``RMSNorm`` (scale by the root mean square over the last dims, as in LLaMA-style transformers) and
``LocalResponseNorm``."""

from __future__ import annotations

import warnings

from ..tensor import Tensor
from ..tensor.device import require_cpu
from . import functional_more as FM
from .module import Module
from .normalization import _affine, _BatchNorm, _reset_affine, normalized_shape_arg


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of (N, C, D, H, W) volumes, per channel C.

    >>> import chainrule as cr
    >>> cr.nn.BatchNorm3d(4)
    BatchNorm3d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    """

    _expected_dims = (5,)
    _dims_text = "5D"


class _InstanceNorm(_BatchNorm):
    _no_batch_dim = 2

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, affine: bool = False,
                 track_running_stats: bool = False, device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, input: Tensor) -> Tensor:
        name, k = type(self).__name__, self._no_batch_dim
        if input.ndim not in (k, k + 1):
            raise ValueError(f"{name}: expected {k}D or {k + 1}D input (got {input.ndim}D input of shape "
                             f"{tuple(input.shape)})")
        feature_dim = input.ndim - k
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"{name}: expected input's size at dim={feature_dim} to match num_features "
                                 f"({self.num_features}), but got: {input.shape[feature_dim]} (input of shape "
                                 f"{tuple(input.shape)})")
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. You can silence this "
                          f"warning by not passing in num_features, which is not used because affine=False",
                          stacklevel=2)
        batched = input.ndim == k + 1
        x = input if batched else input.unsqueeze(0)
        y = FM.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                             self.training or not self.track_running_stats,
                             self.momentum if self.momentum is not None else 0.0, self.eps)
        return y if batched else y.squeeze(0)


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or (C, L) inputs: each sample and channel over its own L.

    >>> import chainrule as cr
    >>> cr.nn.InstanceNorm1d(3)
    InstanceNorm1d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)
    """
    _no_batch_dim = 2


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or (C, H, W) images (style transfer, GAN generators)."""
    _no_batch_dim = 3


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of (N, C, D, H, W) or (C, D, H, W) volumes."""
    _no_batch_dim = 4


class RMSNorm(Module):
    """x / sqrt(mean(x²) + eps) over the last dims ``normalized_shape``, times a learned weight (ones at first).

    >>> import chainrule as cr
    >>> cr.nn.RMSNorm(4)
    RMSNorm((4,), eps=None, elementwise_affine=True)
    """

    def __init__(self, normalized_shape, eps: float | None = None, elementwise_affine: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__()
        require_cpu(device, "RMSNorm")
        self.normalized_shape = normalized_shape_arg(normalized_shape, "RMSNorm")
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _affine(self, self.normalized_shape, elementwise_affine, False, dtype)

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        return FM.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class LocalResponseNorm(Module):
    """Normalise each channel by the activity of its ``size`` neighbouring channels (AlexNet).

    >>> import chainrule as cr
    >>> cr.nn.LocalResponseNorm(2)
    LocalResponseNorm(2, alpha=0.0001, beta=0.75, k=1.0)
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        return FM.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


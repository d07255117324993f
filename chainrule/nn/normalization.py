"""Normalisation layers: ``BatchNorm1d``/``BatchNorm2d`` (statistics over the batch, per channel,
with running averages for eval) and ``LayerNorm`` (statistics over each sample's last dims)."""

from __future__ import annotations

import numbers

from .. import backend
from ..autograd.grad_mode import no_grad
from ..backend import xp
from ..tensor import Tensor
from ..tensor.device import require_cpu
from . import functional as F
from . import init
from .linear import layer_sizes
from .module import Module
from .parameter import Parameter


def _filled(n, value: float, dtype) -> Tensor:
    return Tensor._make(xp.full(n, value, backend.to_dtype(dtype or backend.default_float).np))


class _BatchNorm(Module):
    _expected_dims: tuple = ()
    _dims_text = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        require_cpu(device, type(self).__name__)
        layer_sizes(type(self).__name__, num_features=num_features)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(_filled(num_features, 1.0, dtype))
            if bias:
                self.bias = Parameter(_filled(num_features, 0.0, dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", _filled(num_features, 0.0, dtype))
            self.register_buffer("running_var", _filled(num_features, 1.0, dtype))
            self.register_buffer("num_batches_tracked", Tensor._make(xp.asarray(0, xp.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in self._expected_dims:
            raise ValueError(f"{type(self).__name__}: expected {self._dims_text} input (got {input.ndim}D input "
                             f"of shape {tuple(input.shape)})")
        if input.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}({self.num_features}): input of shape {tuple(input.shape)} has "
                             f"{input.shape[1]} channels in dim 1, expected {self.num_features}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:   # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked._data)
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        keep_stats = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if keep_stats else None,
                            self.running_var if keep_stats else None, self.weight, self.bias,
                            use_batch_stats, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, per channel C.

    >>> import chainrule as cr
    >>> bn = cr.nn.BatchNorm1d(3)
    >>> y = bn(cr.randn(8, 3))
    >>> [round(v, 4) + 0.0 for v in y.mean(0).tolist()]
    [0.0, 0.0, 0.0]
    """

    _expected_dims = (2, 3)
    _dims_text = "2D or 3D"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) images, per channel C."""

    _expected_dims = (4,)
    _dims_text = "4D"


class LayerNorm(Module):
    """Normalise each sample over its last dims ``normalized_shape``, then scale and shift.

    >>> import chainrule as cr
    >>> cr.nn.LayerNorm(4)
    LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True)
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        require_cpu(device, type(self).__name__)
        self.normalized_shape = normalized_shape_arg(normalized_shape, "LayerNorm")
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _affine(self, self.normalized_shape, elementwise_affine, bias, dtype)

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """Normalise each sample over groups of channels (Wu & He, 2018), then scale/shift per channel.

    >>> import chainrule as cr
    >>> cr.nn.GroupNorm(2, 4)
    GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        require_cpu(device, type(self).__name__)
        layer_sizes("GroupNorm", num_channels=num_channels)
        if not isinstance(num_groups, numbers.Real) or isinstance(num_groups, bool):   # (PyTorch takes 2.0)
            raise TypeError(f"GroupNorm: num_groups must be an int, got {type(num_groups).__name__} "
                            f"({num_groups!r})")
        if num_groups == 0:
            raise ZeroDivisionError(f"GroupNorm: num_groups must be positive, got 0 (num_channels={num_channels} "
                                    f"is split into num_groups groups)")
        if num_channels % num_groups != 0:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _affine(self, num_channels, affine, bias, dtype)

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


def normalized_shape_arg(normalized_shape, layer: str) -> tuple:
    """LayerNorm/RMSNorm's ``normalized_shape``, as PyTorch reads it: an int or a list/tuple of ints, the
    sizes of the last dimensions to normalise over; anything else is a TypeError naming the layer.

    >>> normalized_shape_arg(4, "LayerNorm")
    (4,)
    """
    if isinstance(normalized_shape, numbers.Integral) and not isinstance(normalized_shape, bool):
        normalized_shape = (normalized_shape,)
    expected = "an int or a tuple of ints (the sizes of the last dimensions to normalise over)"
    if not isinstance(normalized_shape, list | tuple):
        raise TypeError(f"{layer}: normalized_shape must be {expected}, got {type(normalized_shape).__name__} "
                        f"({normalized_shape!r})")
    for pos, size in enumerate(normalized_shape):
        if not isinstance(size, numbers.Integral) or isinstance(size, bool):
            raise TypeError(f"{layer}: normalized_shape must be {expected}, but found element of type "
                            f"{type(size).__name__} at pos {pos}: {normalized_shape!r}")
        if size < 0:
            raise RuntimeError(f"{layer}: Trying to create tensor with negative dimension {size}: "
                               f"normalized_shape={list(normalized_shape)}")
    return tuple(int(size) for size in normalized_shape)


def _affine(module: Module, shape, affine: bool, bias: bool, dtype) -> None:
    """The per-feature scale (ones) and shift (zeros) of LayerNorm/GroupNorm, or None where switched off."""
    module.register_parameter("weight", Parameter(_filled(shape, 1.0, dtype)) if affine else None)
    module.register_parameter("bias", Parameter(_filled(shape, 0.0, dtype)) if affine and bias else None)


def _reset_affine(module: Module) -> None:
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)

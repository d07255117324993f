"""Channel-wise dropout (``dropout1d/2d/3d``: whole feature maps are zeroed) and alpha dropout (keeps a SELU
network's mean and variance), functional forms and layers, as in ``torch.nn``.

The masks are PyTorch's: ``bernoulli_(1 - p)`` from the default generator, one draw per (sample,
channel) for the channel-wise forms, so after the same ``manual_seed`` the same channels are dropped.

>>> import chainrule as cr
>>> cr.nn.functional.dropout2d(cr.ones(1, 2, 2, 2), 0.5, training=False).sum()
tensor(8.)
"""

from __future__ import annotations

import math
import warnings

from ..backend import default_generator, random, xp
from ..tensor import Tensor
from .dropout import _DropoutNd

_ALPHA = 1.7580993408473766     # SELU's -scale·alpha: the value a dropped SELU unit saturates to


def _noise(input: Tensor, p: float, feature: bool, alpha: bool, inplace: bool, training: bool) -> Tensor:
    """PyTorch's ``_dropout_impl``: input·mask (+ b for alpha dropout), the mask drawn per element or per
    (sample, channel)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0 or input.numel() == 0:
        return input
    dtype = input._data.dtype
    if p == 1.0:   # PyTorch draws nothing here
        mask = Tensor._make(xp.zeros((), dtype))
        return input.mul_(mask) if inplace else input * mask
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2) if feature else tuple(input.shape)
    keep = random.bernoulli_(xp.empty(shape, dtype), 1.0 - p, default_generator)
    if not alpha:
        mask = Tensor._make(keep / dtype.type(1.0 - p))
        return input.mul_(mask) if inplace else input * mask
    a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
    b = Tensor._make(((keep - 1) * (_ALPHA * a) + _ALPHA * a * p).astype(dtype))
    mask = Tensor._make((keep * a).astype(dtype))
    return input.mul_(mask).add_(b) if inplace else input * mask + b


def _unbatched_channels(input: Tensor, p: float, training: bool, inplace: bool) -> Tensor:
    """Channel dropout of one unbatched sample: as a batch of one (PyTorch's own route), written back if inplace."""
    out = _noise(input.unsqueeze(0), p, True, False, False, training).squeeze(0)
    return input.copy_(out) if inplace and out is not input else out


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) with probability p; scale the rest by 1/(1-p).

    >>> import chainrule as cr
    >>> _ = cr.manual_seed(0)
    >>> dropout1d(cr.ones(4, 2), 0.5)
    tensor([[0., 0.],
            [0., 0.],
            [2., 2.],
            [0., 0.]])
    """
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
                           f"dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, "
                           f"a channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    if input.ndim == 3:
        return _noise(input, p, True, False, inplace, training)
    return _unbatched_channels(input, p, training, inplace)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole feature maps of (N, C, H, W) with probability p; scale the rest by 1/(1-p)."""
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and will "
                      f"result in an error in a future release. To retain the behavior and silence this warning, "
                      f"please use dropout instead. Note that dropout2d exists to provide channel-wise dropout on "
                      f"inputs with 2 spatial dimensions, a channel dimension, and an optional batch dimension "
                      f"(i.e. 3D or 4D inputs).", stacklevel=2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
                      "This behavior will change in a future release to interpret the input as one without a "
                      "batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, "
                      "please switch to using dropout1d instead.", stacklevel=2)
    return _noise(input, p, True, False, inplace, training)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) with probability p; scale the rest by 1/(1-p)."""
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated and will "
                      f"result in an error in a future release. To retain the behavior and silence this warning, "
                      f"please use dropout instead. Note that dropout3d exists to provide channel-wise dropout on "
                      f"inputs with 3 spatial dimensions, a channel dimension, and an optional batch dimension "
                      f"(i.e. 4D or 5D inputs).", stacklevel=2)
    if input.ndim != 4:
        return _noise(input, p, True, False, inplace, training)
    return _unbatched_channels(input, p, training, inplace)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: dropped units go to SELU's saturation value, then an affine map restores
    mean 0 and variance 1 (Klambauer et al., 2017)."""
    return _noise(input, p, False, True, inplace, training)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels."""
    return _noise(input, p, True, True, inplace, training)


class _FunctionDropout(_DropoutNd):
    """A dropout module that calls ``_fn``."""
    _fn = staticmethod(dropout1d)

    def forward(self, input: Tensor) -> Tensor:
        return self._fn(input, self.p, self.training, self.inplace)


class Dropout1d(_FunctionDropout):
    """Channel-wise dropout of (N, C, L) or (C, L) inputs in training; identity in eval."""
    _fn = staticmethod(dropout1d)


class Dropout2d(_FunctionDropout):
    """Channel-wise dropout of (N, C, H, W) inputs in training; identity in eval.

    >>> import chainrule as cr
    >>> cr.nn.Dropout2d(0.25)
    Dropout2d(p=0.25, inplace=False)
    """
    _fn = staticmethod(dropout2d)


class Dropout3d(_FunctionDropout):
    """Channel-wise dropout of (N, C, D, H, W) or (C, D, H, W) inputs in training; identity in eval."""
    _fn = staticmethod(dropout3d)


class AlphaDropout(_FunctionDropout):
    """Alpha dropout for SELU networks in training; identity in eval."""
    _fn = staticmethod(alpha_dropout)


class FeatureAlphaDropout(_FunctionDropout):
    """Channel-wise alpha dropout in training; identity in eval."""
    _fn = staticmethod(feature_alpha_dropout)

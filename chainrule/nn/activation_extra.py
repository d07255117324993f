"""More layers without (or with one) parameter, as in ``torch.nn``: ``PReLU``, the shrinks, ``Threshold``,
``Softmax2d`` and the pixel/channel shuffles. The math is in ``functional_more``."""

from __future__ import annotations

from .. import backend
from ..backend import xp
from ..tensor import Tensor
from ..tensor.device import require_cpu
from . import functional as F
from . import functional_more as FM
from .init import constant_
from .module import Module
from .parameter import Parameter


class PReLU(Module):
    """x for x > 0, a·x otherwise, with the slope a learned: one for all channels or one per channel.

    >>> import chainrule as cr
    >>> cr.nn.PReLU()(cr.tensor([-4.0, 1.0]))
    tensor([-1.,  1.], grad_fn=<PreluKernelBackward0>)
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None) -> None:
        super().__init__()
        require_cpu(device, "PReLU")
        self.num_parameters = num_parameters
        self.init = init
        np_dtype = backend.to_dtype(dtype or backend.default_float).np
        self.weight = Parameter(Tensor._make(xp.full(num_parameters, init, np_dtype)))

    def reset_parameters(self) -> None:
        constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:
        return FM.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class Hardshrink(Module):
    """x where |x| > λ, else 0."""

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:
        return FM.hardshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(Module):
    """x - λ·sign(x) where |x| > λ, else 0."""

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:
        return FM.softshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Tanhshrink(Module):
    """x - tanh(x)."""

    def forward(self, input: Tensor) -> Tensor:
        return FM.tanhshrink(input)


class Threshold(Module):
    """x where x > threshold, else ``value``.

    >>> import chainrule as cr
    >>> cr.nn.Threshold(0.1, 20.0)(cr.tensor([0.0, 1.0]))
    tensor([20.,  1.])
    """

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return FM.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}{', inplace=True' if self.inplace else ''}"


class Softmax2d(Module):
    """Softmax over the channels (dim -3) at every pixel of a (C, H, W) or (N, C, H, W) input."""

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D instead (shape "
                             f"{tuple(input.shape)})")
        return F.softmax(input, -3)


class PixelShuffle(Module):
    """(*, C·r², H, W) → (*, C, H·r, W·r).

    >>> import chainrule as cr
    >>> cr.nn.PixelShuffle(3)(cr.zeros(1, 9, 4, 4)).shape
    chainrule.Size([1, 1, 12, 12])
    """

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return FM.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H·r, W·r) → (*, C·r², H, W), the inverse of ``PixelShuffle``."""

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return FM.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """Interleave the channels of ``groups`` groups (ShuffleNet)."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:
        return FM.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


class CosineSimilarity(Module):
    """Σ x1·x2 / (‖x1‖·‖x2‖) along ``dim``, each norm at least ``eps``.

    >>> import chainrule as cr
    >>> cr.nn.CosineSimilarity(dim=0)(cr.tensor([1.0, 0.0]), cr.tensor([1.0, 1.0]))
    tensor(0.7071)
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """‖x1 - x2 + eps‖_p along the last dim."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)

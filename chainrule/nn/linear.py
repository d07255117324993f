"""``Linear`` (y = x Wᵀ + b), ``Bilinear`` and ``Identity``."""

from __future__ import annotations

import math
import numbers

from .. import backend
from ..backend import xp
from ..tensor import Tensor
from ..tensor.device import require_cpu
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


def layer_sizes(layer: str, *, only_types: bool = False, **sizes) -> None:
    """PyTorch's checks of a layer's sizes (``in_features``, ``num_embeddings``, ``hidden_size`` …): each an
    int (``Linear(2.0, 2)`` is a TypeError, not a NumPy message), none negative (a RuntimeError; a layer
    with its own range checks passes ``only_types=True``).

    >>> layer_sizes("Linear", in_features=3, out_features=2.0)
    Traceback (most recent call last):
    TypeError: Linear: out_features must be an int, got float (2.0)
    """
    for name, value in sizes.items():
        if not isinstance(value, numbers.Integral):
            raise TypeError(f"{layer}: {name} must be an int, got {type(value).__name__} ({value!r})")
    for name, value in () if only_types else sizes.items():
        if value < 0:
            raise RuntimeError(f"{layer}: Trying to create a weight with negative dimension {value}: {name}="
                               f"{value} (sizes must be >= 0)")


def _empty(*shape, dtype=None) -> Parameter:
    if min(shape) < 0:   # e.g. a size computed as n - k that went negative
        raise RuntimeError(f"Linear: Trying to create a weight with negative dimension {min(shape)}: "
                           f"{list(shape)} (in_features and out_features must be >= 0)")
    return Parameter(Tensor._make(xp.empty(shape, backend.to_dtype(dtype or backend.default_float).np)))


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. to remove a layer); ignores any arguments."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x Wᵀ + b with W of shape (out_features, in_features), initialised like PyTorch:
    W ~ kaiming_uniform(a=√5) = U(±1/√in_features), b ~ U(±1/√in_features).

    >>> import chainrule as cr
    >>> fc = cr.nn.Linear(3, 2)
    >>> fc(cr.ones(5, 3)).shape
    chainrule.Size([5, 2])
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        require_cpu(device, type(self).__name__)
        layer_sizes(type(self).__name__, in_features=in_features, out_features=out_features)
        self.in_features = in_features
        self.out_features = out_features
        self.weight = _empty(out_features, in_features, dtype=dtype)
        if bias:
            self.bias = _empty(out_features, dtype=dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init._default_layer_init_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    """y_k = x1ᵀ A_k x2 + b_k with A of shape (out_features, in1_features, in2_features)."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        require_cpu(device, type(self).__name__)
        layer_sizes(type(self).__name__, in1_features=in1_features, in2_features=in2_features,
                    out_features=out_features)
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = _empty(out_features, in1_features, in2_features, dtype=dtype)
        if bias:
            self.bias = _empty(out_features, dtype=dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")

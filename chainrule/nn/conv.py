"""``Conv1d`` and ``Conv2d``: learned filters slid over the input (see ``chainrule.ops.conv``)."""

from __future__ import annotations

from .. import backend
from ..backend import xp
from ..tensor import Tensor
from ..tensor.device import require_cpu
from . import init
from .functional_conv import _pair, conv1d, conv2d
from .linear import layer_sizes
from .module import Module
from .parameter import Parameter


class _ConvNd(Module):
    """Shared parameters, initialisation and printing of Conv1d / Conv2d (PyTorch's ``_ConvNd``)."""

    _nd = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        super().__init__()
        require_cpu(device, type(self).__name__)
        cls, n = type(self).__name__, self._nd
        layer_sizes(cls, in_channels=in_channels, out_channels=out_channels, groups=groups)
        if groups <= 0:
            raise ValueError(f"{cls}: groups must be a positive integer, got {groups}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{cls}: in_channels ({in_channels}) and out_channels ({out_channels}) must "
                             f"both be divisible by groups ({groups})")
        if padding_mode != "zeros":
            raise ValueError(f"{cls}: padding_mode={padding_mode!r} is not supported by chainrule; "
                             f"only 'zeros' is (pad the input yourself for reflect/replicate/circular)")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _pair(kernel_size, "kernel_size", cls, n)
        if min(self.kernel_size) < 0:
            raise RuntimeError(f"{cls}: Trying to create a weight with negative dimension {min(self.kernel_size)}: "
                               f"kernel_size={self.kernel_size} (sizes must be >= 0)")
        self.stride = _pair(stride, "stride", cls, n)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{cls}: invalid padding string {padding!r}, expected 'same' or 'valid'")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{cls}: padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _pair(padding, "padding", cls, n)
        self.dilation = _pair(dilation, "dilation", cls, n)
        self.transposed = False
        self.output_padding = (0,) * n
        self.groups = groups
        self.padding_mode = padding_mode
        np_dtype = backend.to_dtype(dtype or backend.default_float).np
        shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(Tensor._make(xp.empty(shape, np_dtype)))
        if bias:
            self.bias = Parameter(Tensor._make(xp.empty((out_channels,), np_dtype)))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init._default_layer_init_(self.weight, self.bias)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) inputs, as ``torch.nn.Conv1d``.

    >>> import chainrule as cr
    >>> cr.nn.Conv1d(2, 4, 3, padding=1)(cr.zeros(8, 2, 10)).shape
    chainrule.Size([8, 4, 10])
    """

    _nd = 1

    def forward(self, input: Tensor) -> Tensor:
        return conv1d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W) inputs, as ``torch.nn.Conv2d``.

    >>> import chainrule as cr
    >>> cr.nn.Conv2d(1, 6, 5)(cr.zeros(64, 1, 28, 28)).shape
    chainrule.Size([64, 6, 24, 24])
    """

    _nd = 2

    def forward(self, input: Tensor) -> Tensor:
        return conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

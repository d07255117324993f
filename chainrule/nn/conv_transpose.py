"""Transposed convolution: ``F.conv_transpose1d/2d`` and ``nn.ConvTranspose1d/2d``, as in PyTorch.

A transposed convolution is the adjoint of a convolution: where conv reads a window of the input
for each output pixel, conv_transpose *writes* each input pixel, times the kernel, into a window of
the output (adding where windows overlap). It is exactly the input gradient of a convolution, so
it reuses that op (``chainrule.ops.conv.ConvInputGrad``), whose own backward is conv and correlate:

    y = conv_transpose(x, w)  ⇒  ∂L/∂x = conv(g, w),  ∂L/∂w = correlate(g, x)

Output size per axis: (in - 1)·stride - 2·padding + dilation·(k - 1) + output_padding + 1.
"""

from __future__ import annotations

import math

from .. import backend
from ..backend import xp
from ..ops import conv as C
from ..tensor import Tensor
from ..tensor.device import require_cpu
from . import functional as F
from . import init
from .conv import _ConvNd
from .functional_conv import _check_positive, _pair
from .linear import layer_sizes
from .module import Module
from .parameter import Parameter

__all__ = ["ConvTranspose1d", "ConvTranspose2d", "conv_transpose1d", "conv_transpose2d"]


def _conv_transpose(fn: str, nd: int, input, weight, bias, stride, padding, output_padding, groups, dilation):
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{fn}: input and weight must be Tensors, got {type(input).__name__} and "
                        f"{type(weight).__name__}")
    if input.ndim == nd + 1:                       # unbatched: add and later drop N
        out = _conv_transpose(fn, nd, input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups,
                              dilation)
        return out.squeeze(0)
    if input.ndim != nd + 2 or weight.ndim != nd + 2:
        raise RuntimeError(f"{fn}: expected a {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input and a "
                           f"{nd + 2}-D weight (in_channels, out_channels/groups, *kernel), got input of shape "
                           f"{tuple(input.shape)} and weight of shape {tuple(weight.shape)}")
    if input.numel() == 0:     # PyTorch computes nothing and checks no dtypes: the output has the input's
        weight = weight if weight.dtype == input.dtype else weight.to(input.dtype)
        bias = bias if bias is None or bias.dtype == input.dtype else bias.to(input.dtype)
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != input.dtype):
        raise RuntimeError(f"{fn}: input ({input.dtype}), weight ({weight.dtype})"
                           + (f" and bias ({bias.dtype})" if bias is not None else "") + " must have the same dtype")
    if not input.is_floating_point():
        raise RuntimeError(f"{fn}: expected a floating point input, got {input.dtype}")
    stride, dilation = _pair(stride, "stride", fn, nd), _pair(dilation, "dilation", fn, nd)
    padding, output_padding = _pair(padding, "padding", fn, nd), _pair(output_padding, "output_padding", fn, nd)
    _check_positive(stride, "stride", fn)
    _check_positive(dilation, "dilation", fn)
    _check_positive(padding, "padding", fn, minimum=0)
    _check_positive(output_padding, "output_padding", fn, minimum=0)
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(f"{fn}: output padding must be smaller than either stride or dilation, but got "
                           f"output_padding={output_padding}, stride={stride}, dilation={dilation}")
    if not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{fn}: groups must be a positive int, got {groups!r}")
    n, c_in = input.shape[:2]
    if weight.shape[0] != c_in or c_in % groups:
        raise RuntimeError(f"{fn}: input of shape {tuple(input.shape)} has {c_in} channels, but weight of shape "
                           f"{tuple(weight.shape)} expects {weight.shape[0]} (weight is (in_channels, "
                           f"out_channels/groups, *kernel)), with groups={groups}")
    kernel = weight.shape[2:]
    out = [(i - 1) * s - 2 * p + d * (k - 1) + op + 1
           for i, s, p, d, k, op in zip(input.shape[2:], stride, padding, dilation, kernel, output_padding)]
    if any(o < 1 for o in out):
        raise RuntimeError(f"{fn}: the output size {tuple(out)} computed from input {tuple(input.shape)} is too "
                           f"small (stride={stride}, padding={padding}, kernel={tuple(kernel)})")
    # The output_padding rows/columns lie past the last window: nothing is written there. When it is
    # smaller than the stride the op's own geometry covers them; otherwise pad zeros afterwards.
    late_pad = tuple(op if op >= s else 0 for op, s in zip(output_padding, stride))
    out_shape = (n, weight.shape[1] * groups, *(o - lp for o, lp in zip(out, late_pad)))
    if nd == 1:
        stride, padding, dilation = (1, *stride), (0, *padding), (1, *dilation)
    geom = C.Geometry(tuple(stride), tuple(v for p in padding for v in (p, p)), tuple(dilation), groups)
    y = C.ConvInputGrad.apply(input, weight, geom, out_shape)
    if any(late_pad):
        y = F.pad(y, tuple(v for lp in reversed(late_pad) for v in (0, lp)))
    if bias is not None:
        y = y + bias.reshape((-1,) + (1,) * nd)
    return y


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 1-D convolution over (N, C_in, L), weight (C_in, C_out/groups, k).

    >>> import chainrule as cr
    >>> conv_transpose1d(cr.ones(1, 1, 3), cr.ones(1, 1, 2)).tolist()
    [[[1.0, 2.0, 2.0, 1.0]]]
    """
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 2-D convolution ("deconvolution") over (N, C_in, H, W), weight (C_in, C_out/groups, kh, kw).

    >>> import chainrule as cr
    >>> conv_transpose2d(cr.ones(1, 1, 2, 2), cr.ones(1, 3, 2, 2), stride=2).shape
    chainrule.Size([1, 3, 4, 4])
    """
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


class _ConvTransposeNd(Module):
    _nd = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros", device=None,
                 dtype=None) -> None:
        super().__init__()
        require_cpu(device, type(self).__name__)
        cls, n = type(self).__name__, self._nd
        layer_sizes(cls, in_channels=in_channels, out_channels=out_channels, groups=groups)
        if groups <= 0 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{cls}: in_channels ({in_channels}) and out_channels ({out_channels}) must both be "
                             f"divisible by groups ({groups})")
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {cls}')
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _pair(kernel_size, "kernel_size", cls, n)
        if min(self.kernel_size) < 0:
            raise RuntimeError(f"{cls}: Trying to create a weight with negative dimension {min(self.kernel_size)}: "
                               f"kernel_size={self.kernel_size} (sizes must be >= 0)")
        self.stride = _pair(stride, "stride", cls, n)
        self.padding = _pair(padding, "padding", cls, n)
        self.dilation = _pair(dilation, "dilation", cls, n)
        self.output_padding = _pair(output_padding, "output_padding", cls, n)
        self.transposed = True
        self.groups = groups
        self.padding_mode = padding_mode
        np_dtype = backend.to_dtype(dtype or backend.default_float).np
        self.weight = Parameter(Tensor._make(xp.empty((in_channels, out_channels // groups, *self.kernel_size),
                                                      np_dtype)))
        if bias:
            self.bias = Parameter(Tensor._make(xp.empty((out_channels,), np_dtype)))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # PyTorch's fan_in reads dim 1 of the weight, which here is out_channels/groups.
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def _output_padding(self, input: Tensor, output_size) -> tuple:
        if output_size is None:
            return self.output_padding
        n = self._nd
        output_size = tuple(output_size)[-n:]
        if len(output_size) != n:
            raise ValueError(f"{type(self).__name__}: output_size must have {n} or {n + 2} elements "
                             f"(got {len(output_size)})")
        extra = []
        for d in range(n):
            smallest = ((input.shape[d - n] - 1) * self.stride[d] - 2 * self.padding[d]
                        + self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            if not smallest <= output_size[d] < smallest + self.stride[d]:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes range from "
                                 f"{smallest} to {smallest + self.stride[d] - 1} (for an input of "
                                 f"{tuple(input.shape[-n:])})")
            extra.append(output_size[d] - smallest)
        return tuple(extra)

    extra_repr = _ConvNd.extra_repr   # the same fields, printed as PyTorch prints them


class ConvTranspose1d(_ConvTransposeNd):
    """Learned upsampling over (N, C, L): the adjoint of Conv1d.

    >>> import chainrule as cr
    >>> cr.nn.ConvTranspose1d(2, 3, 4, stride=2)(cr.zeros(1, 2, 5)).shape
    chainrule.Size([1, 3, 12])
    """

    _nd = 1

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        return conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups, self.dilation)


class ConvTranspose2d(_ConvTransposeNd):
    """Learned upsampling over (N, C, H, W): the adjoint of Conv2d (as in DCGAN generators and U-Nets).

    >>> import chainrule as cr
    >>> cr.nn.ConvTranspose2d(4, 2, kernel_size=4, stride=2, padding=1)(cr.zeros(1, 4, 8, 8)).shape
    chainrule.Size([1, 2, 16, 16])
    """

    _nd = 2

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        return conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups, self.dilation)

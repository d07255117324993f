"""Small forms of ``torch.nn.functional`` that programs still call: the in-place activations (``F.relu_`` …),
the ``*_with_indices`` pools, the deprecated ``upsample_nearest``/``upsample_bilinear`` and ``pdist``.
Each is a line over a function defined elsewhere.

>>> import chainrule as cr
>>> x = cr.tensor([-1.0, 2.0])
>>> cr.nn.functional.relu_(x) is x, x
(True, tensor([0., 2.]))
"""

from __future__ import annotations

import warnings

from ..backend import xp
from ..ops.elementwise_extra import OneNodeResult
from ..tensor import Tensor
from ..tensor.creation import tensor
from . import functional as F
from . import functional_more as FM
from . import pooling_extra as P


def relu_(input: Tensor) -> Tensor:
    """``relu`` in place."""
    return F.relu(input, inplace=True)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """``elu`` in place."""
    return F.elu(input, alpha, inplace=True)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """``leaky_relu`` in place."""
    return F.leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """``hardtanh`` in place."""
    return F.hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """``threshold`` in place."""
    return FM.threshold(input, threshold, value, inplace=True)


def selu_(input: Tensor) -> Tensor:
    """``selu`` in place."""
    return F.selu(input, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """``celu`` in place."""
    return F.celu(input, alpha, inplace=True)


def max_pool1d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    """``max_pool1d(..., return_indices=True)``."""
    return P.max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    """``max_pool2d(..., return_indices=True)``."""
    return F.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input: Tensor, output_size, return_indices=True):
    """``adaptive_max_pool1d(..., return_indices=True)``."""
    return P.adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input: Tensor, output_size, return_indices=True):
    """``adaptive_max_pool2d(..., return_indices=True)``."""
    return P.adaptive_max_pool2d(input, output_size, True)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Deprecated (as in PyTorch): ``interpolate(..., mode='nearest')``."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return F.interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Deprecated (as in PyTorch): ``interpolate(..., mode='bilinear', align_corners=True)``."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return F.interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def pdist(input: Tensor, p: float = 2) -> Tensor:
    """The p-norm distance of every pair of rows i < j of (N, M), in the order (0,1), (0,2), …, (N-2,N-1).

    >>> import chainrule as cr
    >>> pdist(cr.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]]))
    tensor([5.0000, 1.0000, 4.2426])
    """
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D (shape {tuple(input.shape)})")
    if p < 0:
        raise RuntimeError(f"pdist only supports non-negative p values, got p={p}")
    i, j = xp.triu_indices(input.shape[0], 1)
    diff = input[tensor(i)] - input[tensor(j)]
    if p == 0:   # the number of differing coordinates (its gradient is 0, as PyTorch's one node reads input)
        out, zero = (diff != 0).sum(1).to(input.dtype), (0, False)
    elif input.shape[1] == 0:   # no coordinates: every distance is 0 (an empty max would raise for p = inf)
        out, zero = diff.abs().sum(1), None
    elif p == float("inf"):     # PyTorch's pdist gives every coordinate tied for the largest the whole slope
        d = diff.abs()          # (norm would split it among the ties): the value max|d|, the slope by the mask
        top = d.detach().amax(1, keepdim=True)
        out, zero = top.squeeze(1) + ((d - d.detach()) * (d.detach() == top)).sum(1), None
    else:
        out, zero = diff.norm(p, dim=1), None
    # PyTorch's one node saves the input and the result: changing either in place afterwards makes backward raise
    return OneNodeResult.apply(out, "PdistBackward0", False, zero, input) if input.requires_grad else out


def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10, dim: int = -1) -> Tensor:
    """softmax((logits + g) / τ) with Gumbel(0, 1) noise g = -log(Exp(1)) from the default generator (PyTorch's
    draws); ``hard``: the one-hot of its argmax in value, the soft sample's gradient (straight-through).

    >>> import chainrule as cr
    >>> y = gumbel_softmax(cr.zeros(2, 3), hard=True)
    >>> y.sum(-1).tolist()
    [1.0, 1.0]
    """
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    gumbels = -logits.detach().new_empty(tuple(logits.shape)).exponential_().log()
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = logits.new_zeros(tuple(logits.shape)).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


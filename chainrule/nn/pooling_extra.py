"""1-D pooling, adaptive max pooling and power-average (LP) pooling, functional forms and layers.

As in PyTorch, a 1-D pool is the 2-D pool of the input seen with a height of 1 (its graph ends in a
squeeze); adaptive max pooling takes the max of each of PyTorch's adaptive windows; LP pooling is
(Σ x^p)^(1/p) over each window, from an average pool of x^p.

>>> import chainrule as cr
>>> cr.nn.functional.max_pool1d(cr.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2)
tensor([[[3., 2.]]])
"""

from __future__ import annotations

from ..ops.elementwise_extra import OneNode
from ..tensor import Tensor
from ..tensor.functions import stack
from .functional_conv import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from .module import Module


def _one(value, name: str, fn: str) -> int:
    """An int or a 1-tuple (PyTorch's rule for 1-D pooling arguments)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise RuntimeError(f"{fn}() {name} must be an int, list of ints or tuple of ints of size 1 but got size "
                               f"{len(value)}")
        value = value[0]
    return int(value)


def _as_2d(input, fn: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"{fn}: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, "
                           f"but got: {list(input.shape)}")
    return input.unsqueeze(-2)


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """Max over each window of the last dim of (N, C, L) or (C, L); ties give the first max.

    >>> import chainrule as cr
    >>> max_pool1d(cr.arange(6.0).reshape(1, 6), 3, return_indices=True)
    (tensor([[2., 5.]]), tensor([[2, 5]]))
    """
    fn = "max_pool1d"
    k = _one(kernel_size, "kernel_size", fn)
    s = k if stride is None or stride == () or stride == [] else _one(stride, "stride", fn)
    p, d = _one(padding, "padding", fn), _one(dilation, "dilation", fn)
    _check_1d(fn, input, k, s, p, d, ceil_mode)
    out = max_pool2d(_as_2d(input, fn), (1, k), (1, s), (0, p), (1, d), ceil_mode, return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Mean over each window of the last dim of (N, C, L) or (C, L).

    >>> import chainrule as cr
    >>> avg_pool1d(cr.tensor([[1.0, 3.0, 2.0, 4.0]]), 2)
    tensor([[2., 3.]])
    """
    fn = "avg_pool1d"
    k = _one(kernel_size, "kernel_size", fn)
    s = k if stride is None or stride == () or stride == [] else _one(stride, "stride", fn)
    p = _one(padding, "padding", fn)
    _check_1d(fn, input, k, s, p, 1, ceil_mode)
    return avg_pool2d(_as_2d(input, fn), (1, k), (1, s), (0, p), ceil_mode, count_include_pad).squeeze(-2)


def _check_1d(fn: str, input, k: int, s: int, p: int, d: int, ceil_mode: bool) -> None:
    """PyTorch's 1-D pooling errors, in 1-D terms (the 2-D pool would report a (1, k) kernel)."""
    for name, v, low in (("kernel_size", k, 1), ("stride", s, 1), ("dilation", d, 1), ("padding", p, 0)):
        if v < low:
            raise RuntimeError(f"{fn}() {name} must be {'positive' if low else 'non-negative'}, but got {name}={v}")
    if p > k // 2:
        raise RuntimeError(f"{fn}() padding should be at most half of kernel size, but got padding={p} and "
                           f"kernel_size={k}")
    if isinstance(input, Tensor) and input.ndim in (2, 3):
        span = input.shape[-1] + 2 * p - d * (k - 1) - 1
        out = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (out - 1) * s >= input.shape[-1] + p:
            out -= 1
        if out < 1:
            raise RuntimeError(f"{fn}() Invalid computed output size: {out} (input of shape {tuple(input.shape)}, "
                               f"kernel_size={k}, stride={s}, padding={p}, dilation={d})")


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Average pooling of the last dim to ``output_size`` positions whatever its length.

    >>> import chainrule as cr
    >>> adaptive_avg_pool1d(cr.tensor([[1.0, 2.0, 3.0, 4.0]]), 2)
    tensor([[1.5000, 3.5000]])
    """
    n = _one(output_size, "output_size", "adaptive_avg_pool1d")
    return adaptive_avg_pool2d(_as_2d(input, "adaptive_avg_pool1d"), (1, n)).squeeze(-2)


def _windows(size: int, n: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive windows: the i-th covers [⌊i·size/n⌋, ⌈(i+1)·size/n⌉)."""
    return [((i * size) // n, -(-((i + 1) * size) // n)) for i in range(n)]


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Max over each adaptive window of the last 2 dims ((N, C, H, W) or (C, H, W)); ``None`` keeps a size.

    Indices (``return_indices``) are flat positions h·W + w in each plane, as PyTorch's.

    >>> import chainrule as cr
    >>> adaptive_max_pool2d(cr.arange(16.0).reshape(1, 4, 4), 1)
    tensor([[[15.]]])
    """
    fn = "adaptive_max_pool2d"
    if not isinstance(input, Tensor) or input.ndim not in (3, 4):
        raise RuntimeError(f"{fn}: expected a 3-D or 4-D Tensor input, got "
                           f"{tuple(getattr(input, 'shape', ())) or type(input).__name__}")
    if output_size is None:   # None keeps a size only inside a pair, as PyTorch's
        raise TypeError(f"{fn}: output_size must be an int or a pair (an entry may be None to keep that size), "
                        f"got None")
    size = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
    if len(size) != 2:
        raise ValueError(f"{fn}: output_size must be an int or a pair, got {output_size!r}")
    h, w = input.shape[-2:]
    oh, ow = (h if size[0] is None else size[0]), (w if size[1] is None else size[1])
    if oh < 1 or ow < 1 or h < 1 or w < 1:
        raise RuntimeError(f"{fn}: output size ({oh}, {ow}) and input spatial size ({h}, {w}) must be positive")
    rows, values, indices = _windows(h, oh), [], []
    for r0, r1 in rows:
        for c0, c1 in _windows(w, ow):
            best, where = input[..., r0:r1, c0:c1].flatten(-2).max(-1)   # ties: the first max, as PyTorch
            values.append(best)
            indices.append((where // (c1 - c0) + r0) * w + where % (c1 - c0) + c0)
    out = OneNode.apply(stack(values, -1).unflatten(-1, (oh, ow)), "AdaptiveMaxPool2DBackward0", True, None, input)
    if not return_indices:
        return out
    return out, stack(indices, -1).unflatten(-1, (oh, ow))


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    """Max over each adaptive window of the last dim of (N, C, L) or (C, L).

    >>> import chainrule as cr
    >>> adaptive_max_pool1d(cr.tensor([[1.0, 5.0, 2.0, 4.0]]), 2)
    tensor([[5., 4.]])
    """
    n = _one(output_size, "output_size", "adaptive_max_pool1d")
    out = adaptive_max_pool2d(_as_2d(input, "adaptive_max_pool1d"), (1, n), return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False) -> Tensor:
    """(Σ x^p)^(1/p) over each window (p = ``norm_type``; p = 1 is sum pooling, large p tends to max).

    >>> import chainrule as cr
    >>> lp_pool2d(cr.full((1, 1, 2, 2), 2.0), 2, 2)
    tensor([[[[4.]]]])
    """
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    if norm_type in (float("inf"), -float("inf")):     # PyTorch: the max (or min) of |x| over each window
        return _lp_extreme(max_pool2d, input, norm_type, (kh, kw), stride, ceil_mode)
    out = avg_pool2d(input.pow(norm_type), (kh, kw), stride, 0, ceil_mode)
    return _lp_root(out, kh * kw, norm_type)


def _lp_root(out: Tensor, k: int, p: float) -> Tensor:
    """(k·out)^(1/p), where out is the window mean of x^p. PyTorch writes out as sign(out)·relu(|out|), the same
    value, whose derivative at out = 0 its autograd takes as 0 (at |x|'s kink). For p = 1 the function is linear,
    k·out, with derivative k everywhere; there the formula is left out, so a window summing to exactly 0 gets
    the right gradient (torch's own rounding of such a sum to ±1e-17 gives it too, by luck)."""
    if p == 1:
        return out.mul(k)
    return (out.sign() * out.abs().relu()).mul(k).pow(1.0 / p)


def _lp_extreme(pool, input: Tensor, p: float, k, stride, ceil_mode) -> Tensor:
    return pool(input.abs(), k, stride, 0, 1, ceil_mode) if p > 0 else -pool(-input.abs(), k, stride, 0, 1, ceil_mode)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False) -> Tensor:
    """(Σ x^p)^(1/p) over each window of the last dim.

    >>> import chainrule as cr
    >>> lp_pool1d(cr.tensor([[3.0, 4.0]]), 2, 2)
    tensor([[5.]])
    """
    k = _one(kernel_size, "kernel_size", "lp_pool1d")
    if norm_type in (float("inf"), -float("inf")):
        return _lp_extreme(max_pool1d, input, norm_type, k, stride, ceil_mode)
    out = avg_pool1d(input.pow(norm_type), k, stride, 0, ceil_mode)
    return _lp_root(out, k, norm_type)


def _unpool_size(fn: str, input: Tensor, k: tuple, s: tuple, p: tuple, output_size) -> list[int]:
    """PyTorch's _unpool_output_size: the pooled input's size by default, or ``output_size`` within a stride."""
    default = [(input.shape[-len(k) + d] - 1) * s[d] + k[d] - 2 * p[d] for d in range(len(k))]
    if output_size is None:
        return default
    size = list(output_size)
    if len(size) == len(k) + 2:
        size = size[2:]
    if len(size) != len(k):
        raise ValueError(f"{fn}: output_size should be a sequence containing {len(k)} or {len(k) + 2} elements, "
                         f"but it has a length of '{len(size)}'")
    for d in range(len(k)):
        if not default[d] - s[d] < size[d] < default[d] + s[d]:
            raise ValueError(f'{fn}: invalid output_size "{list(output_size)}" (dim {d} must be between '
                             f"{default[d] - s[d]} and {default[d] + s[d]})")
    return size


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """The inverse of ``max_pool2d(..., return_indices=True)``: each value back at its index, zeros elsewhere.

    >>> import chainrule as cr
    >>> y, i = cr.nn.functional.max_pool2d(cr.tensor([[[[1.0, 2.0], [4.0, 3.0]]]]), 2, return_indices=True)
    >>> max_unpool2d(y, i, 2)
    tensor([[[[0., 0.],
              [4., 0.]]]])
    """
    k = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    st = k if stride is None else ((stride, stride) if isinstance(stride, int) else tuple(stride))
    pd = (padding, padding) if isinstance(padding, int) else tuple(padding)
    if input.ndim not in (3, 4) or tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"max_unpool2d: expected a 3-D or 4-D input and indices of the same shape, got input "
                           f"{tuple(input.shape)} and indices {tuple(indices.shape)}")
    h, w = _unpool_size("max_unpool2d", input, k, st, pd, output_size)
    x, idx = input.flatten(-2), indices.flatten(-2)
    if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= h * w):
        raise RuntimeError(f"max_unpool2d: Found an invalid max index: {int(idx.max())} (output volumes are of "
                           f"size {h}x{w})")
    out = x.new_zeros(*x.shape[:-1], h * w).scatter(-1, idx, x)
    return out.unflatten(-1, (h, w))


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """The inverse of ``max_pool1d(..., return_indices=True)``.

    >>> import chainrule as cr
    >>> max_unpool1d(cr.tensor([[[5.0]]]), cr.tensor([[[1]]]), 2)
    tensor([[[0., 5.]]])
    """
    k = _one(kernel_size, "kernel_size", "max_unpool1d")
    st = k if stride is None else _one(stride, "stride", "max_unpool1d")
    pd = _one(padding, "padding", "max_unpool1d")
    (length,) = _unpool_size("max_unpool1d", input, (k,), (st,), (pd,), output_size)
    return max_unpool2d(input.unsqueeze(-2), indices.unsqueeze(-2), (1, k), (1, st), (0, pd),
                        (1, length)).squeeze(-2)


# --- layers -------------------------------------------------------------------------------------
class MaxPool1d(Module):
    """The maximum of each window of the last dim; ``stride`` defaults to ``kernel_size``.

    >>> import chainrule as cr
    >>> cr.nn.MaxPool1d(2)(cr.zeros(4, 8, 10)).shape
    chainrule.Size([4, 8, 5])
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input: Tensor):
        return max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


def _single(v) -> tuple:
    return tuple(v) if isinstance(v, (tuple, list)) else (v,)


class AvgPool1d(Module):
    """The mean of each window of the last dim; ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _Adaptive(Module):
    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_Adaptive):
    """Average pooling of the last dim to a fixed ``output_size``."""

    def __init__(self, output_size) -> None:
        super().__init__(output_size)
        del self.return_indices

    def forward(self, input: Tensor) -> Tensor:
        return adaptive_avg_pool1d(input, self.output_size)


class AdaptiveMaxPool1d(_Adaptive):
    """Max pooling of the last dim to a fixed ``output_size``."""

    def forward(self, input: Tensor):
        return adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_Adaptive):
    """Max pooling of the last 2 dims to a fixed ``output_size`` (``None`` keeps that size).

    >>> import chainrule as cr
    >>> cr.nn.AdaptiveMaxPool2d((1, 1))(cr.ones(2, 8, 7, 7)).shape
    chainrule.Size([2, 8, 1, 1])
    """

    def forward(self, input: Tensor):
        return adaptive_max_pool2d(input, self.output_size, self.return_indices)


class _LPPool(Module):
    def __init__(self, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = norm_type, kernel_size, stride, ceil_mode

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPool):
    """(Σ x^p)^(1/p) over each window of the last dim."""

    def forward(self, input: Tensor) -> Tensor:
        return lp_pool1d(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)


class LPPool2d(_LPPool):
    """(Σ x^p)^(1/p) over each window of the last 2 dims."""

    def forward(self, input: Tensor) -> Tensor:
        return lp_pool2d(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)


class _MaxUnpool(Module):
    _n = 2

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        def tup(v):   # PyTorch stores these as tuples
            return tuple(v) if isinstance(v, (tuple, list)) else (v,) * self._n
        self.kernel_size = tup(kernel_size)
        self.stride = tup(stride if stride is not None else kernel_size)
        self.padding = tup(padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpool):
    """Put each max back where ``MaxPool1d(return_indices=True)`` found it; zeros elsewhere."""

    _n = 1

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:
        return max_unpool1d(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class MaxUnpool2d(_MaxUnpool):
    """Put each max back where ``MaxPool2d(return_indices=True)`` found it (SegNet's decoder); zeros elsewhere."""

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:
        return max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding, output_size)


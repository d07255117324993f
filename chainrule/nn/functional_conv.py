"""Convolution and pooling functions with PyTorch's signatures (``torch.nn.functional.conv2d`` …).

These check arguments and shapes (errors name the function, the shapes and what was expected),
turn ints into per-axis tuples and call the ops in ``chainrule.ops.conv``, which do the work.
"""

from __future__ import annotations

import numbers

from .. import backend
from ..backend import xp
from ..ops import conv as C
from ..ops import pool as P
from ..tensor import Tensor
from ..tensor.core import _warn_once
from .padding import pad as pad_input

__all__ = ["adaptive_avg_pool2d", "avg_pool2d", "conv1d", "conv2d", "max_pool2d"]


def _pair(value, name: str, fn: str, n: int = 2) -> tuple:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return (int(value),) * n
    if not isinstance(value, tuple | list):
        raise TypeError(f"{fn}(): argument '{name}' must be an int or a tuple of {n} ints, not "
                        f"{type(value).__name__} ({value!r})")
    value = tuple(int(v) if isinstance(v, numbers.Integral) and not isinstance(v, bool) else v for v in value)
    if len(value) == 1 and n > 1:
        value = value * n
    if len(value) != n or not all(isinstance(v, int) for v in value):
        raise ValueError(f"{fn}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    return value


def _check_positive(values: tuple, name: str, fn: str, minimum: int = 1) -> None:
    if any(v < minimum for v in values):
        what = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{fn}: {name} must be {what}, got {values}")


def _empty_dtypes(input, weight, bias):
    """PyTorch's dtypes for a convolution of an empty input, where it computes nothing: the weight may have
    another dtype. The output has the input's (with a batch but no channels, the promoted one); the operands are
    cast to it, and the casts are recorded, so each gradient comes back in its operand's dtype."""
    x, w = input._data, weight._data
    dtype = xp.result_type(x, w) if x.shape[0] and not x.shape[1] else x.dtype
    cast = (lambda t: t if t is None or t._data.dtype == dtype else t.to(dtype))
    return cast(input), cast(weight), cast(bias)


def _mkldnn_path(fn: str, x, w, stride, dilation, groups, nd: int) -> bool:
    """Whether PyTorch 2.13 runs this convolution with oneDNN (its ``use_mkldnn`` rule): that path checks
    the bias's dtype even with string padding, where the native one adds a bias of any dtype."""
    if x.dtype != xp.float32 or x.size == 0 or x.ndim != w.ndim:
        return False
    xs, ws = (x.shape[:2] + (1,) + x.shape[2:], w.shape[:2] + (1,) + w.shape[2:]) if nd == 1 else (x.shape, w.shape)
    spread = any(s != 1 for s in _pair(stride, "stride", fn, nd)) or \
        any(d != 1 for d in _pair(dilation, "dilation", fn, nd))
    worth = spread or xs[0] >= 16 or ws[-1] != 1 or ws[-2] != 1 or backend.intra_op_threads() > 1
    return worth and (groups > 1 or (ws[-1] > 3 and ws[-2] > 3) or xs[0] > 1 or xs[0] * xs[1] * xs[2] * xs[3] > 20480)


def _conv(fn: str, nd: int, input, weight, bias, stride, padding, dilation, groups):
    T = Tensor
    if not isinstance(input, T) or not isinstance(weight, T):
        raise TypeError(f"{fn}: input and weight must be Tensors, got {type(input).__name__} and "
                        f"{type(weight).__name__}")
    if input.ndim == nd + 1:                       # unbatched input: add and later drop N
        out = _conv(fn, nd, input.unsqueeze(0), weight, bias, stride, padding, dilation, groups)
        return out.squeeze(0)
    x, w = input._data, weight._data
    if x.ndim != nd + 2 or w.ndim != nd + 2:
        raise RuntimeError(f"{fn}: expected a {nd + 1}-D (unbatched) or {nd + 2}-D (batched) input and a "
                           f"{nd + 2}-D weight, got input of shape {tuple(x.shape)} and weight of shape "
                           f"{tuple(w.shape)}")
    if bias is not None and bias._data.dtype != x.dtype and isinstance(padding, str) and \
            not _mkldnn_path(fn, x, w, stride, dilation, groups, nd):
        bias = bias.to(input.dtype)    # PyTorch's path for string padding adds a bias of any dtype
    if x.size == 0 and x.dtype != w.dtype and (bias is None or bias._data.dtype == x.dtype):
        input, weight, bias = _empty_dtypes(input, weight, bias)
        x, w = input._data, weight._data
    if x.dtype != w.dtype or (bias is not None and bias._data.dtype != x.dtype):
        raise RuntimeError(f"{fn}: input ({x.dtype}), weight ({w.dtype})"
                           + (f" and bias ({bias._data.dtype})" if bias is not None else "")
                           + " must have the same dtype")
    if x.dtype.kind != "f":
        raise RuntimeError(f"{fn}: expected a floating point input, got {x.dtype}")
    stride = _pair(stride, "stride", fn, nd)
    dilation = _pair(dilation, "dilation", fn, nd)
    _check_positive(stride, "stride", fn)
    _check_positive(dilation, "dilation", fn)
    kernel = w.shape[2:]
    if isinstance(padding, str):
        if padding == "valid":
            pads = (0,) * (2 * nd)
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{fn}: padding='same' is not supported for strided convolutions "
                                 f"(stride={stride})")
            pads = ()
            for k, d in zip(kernel, dilation):    # an even kernel pads one more at the end, as PyTorch
                total = d * (k - 1)
                pads += (total // 2, total - total // 2)
            if any(pads[i] != pads[i + 1] for i in range(0, len(pads), 2)):
                _warn_once("conv same", "Using padding='same' with even kernel lengths and odd dilation may "
                           "require a zero-padded copy of the input be created", stacklevel=4)
                # as PyTorch: the extra element at the end is a padded copy of the input, which the convolution
                # then saves (so changing the input in place afterwards does not make backward raise)
                extra = tuple(v for a in reversed(range(nd)) for v in (0, pads[2 * a + 1] - pads[2 * a]))
                input = pad_input(input, extra)
                x = input._data
                pads = tuple(pads[2 * a] for a in range(nd) for _ in (0, 1))
        else:
            raise ValueError(f"{fn}: invalid padding string {padding!r}, expected 'same' or 'valid'")
    else:
        p = _pair(padding, "padding", fn, nd)
        _check_positive(p, "padding", fn, minimum=0)
        pads = tuple(v for q in p for v in (q, q))
    if not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{fn}: groups must be a positive int, got {groups!r}")
    c = x.shape[1]
    o, cg = w.shape[:2]
    if c != cg * groups:
        raise RuntimeError(f"{fn}: input of shape {tuple(x.shape)} has {c} channels, but weight of shape "
                           f"{tuple(w.shape)} with groups={groups} expects {cg * groups} input channels")
    if o < groups:
        raise RuntimeError(f"{fn}: Given groups={groups}, expected weight to be at least {groups} at dimension 0, "
                           f"but got weight of size {list(w.shape)} instead (it needs out_channels >= groups)")
    if o % groups:
        raise RuntimeError(f"{fn}: weight of shape {tuple(w.shape)} has {o} output channels, which is not "
                           f"divisible by groups={groups}")
    if bias is not None and tuple(bias._data.shape) != (o,):
        raise RuntimeError(f"{fn}: bias of shape {tuple(bias._data.shape)} does not match the {o} output "
                           f"channels of weight {tuple(w.shape)}; expected shape ({o},)")
    for axis, (k, d) in enumerate(zip(kernel, dilation)):
        size = x.shape[2 + axis] + pads[2 * axis] + pads[2 * axis + 1]
        if d * (k - 1) + 1 > size:
            raise RuntimeError(
                f"{fn}: kernel size {tuple(kernel)} (dilated to {tuple(dd * (kk - 1) + 1 for kk, dd in zip(kernel, dilation))}) "
                f"is larger than the padded input {tuple(x.shape[2:])} + padding = "
                f"{tuple(x.shape[2 + a] + pads[2 * a] + pads[2 * a + 1] for a in range(nd))} "
                f"for input of shape {tuple(x.shape)}")
    if x.size == 0 and x.shape[0] and c:
        raise RuntimeError(f"{fn}: Only zero batch or zero channel inputs are supported, but got input shape: "
                           f"{list(x.shape)} (an empty spatial size with a batch of {x.shape[0]} and {c} channels)")
    if nd == 1:
        geom = C.Geometry((1,) + stride, (0, 0) + pads, (1,) + dilation, groups)
    else:
        geom = C.Geometry(stride, pads, dilation, groups)
    out = C.Conv.apply(input, weight, bias, geom)
    # PyTorch: an input with no channels gives an output with no channels (whatever the weight's out_channels),
    # and the weight and bias still get (zero) gradients of their shapes
    return out[:, :0] if c == 0 else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation) over (N, C, L), as ``torch.nn.functional.conv1d``.

    >>> import chainrule as cr
    >>> conv1d(cr.ones(1, 1, 5), cr.ones(1, 1, 3)).tolist()
    [[[3.0, 3.0, 3.0]]]
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) over (N, C, H, W), as ``torch.nn.functional.conv2d``.

    ``padding`` is an int, a pair, 'valid' (none) or 'same' (output size = input size, stride 1).

    >>> import chainrule as cr
    >>> conv2d(cr.ones(1, 1, 4, 4), cr.ones(2, 1, 3, 3), padding=1).shape
    chainrule.Size([1, 2, 4, 4])
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def _pool_args(fn: str, input, kernel_size, stride, padding, dilation, ceil_mode):
    """Validate a pooling call; return (batched input, unbatched?, kernel, Geometry, OH, OW)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (3, 4) or 0 in input.shape[-3:]:     # only the batch may be empty, as in PyTorch
        raise RuntimeError(f"{fn}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input with non-zero C, H and W "
                           f"(only the batch N may be 0), got shape {tuple(input.shape)}")
    unbatched = input.ndim == 3
    if unbatched:
        input = input.unsqueeze(0)
    k = _pair(kernel_size, "kernel_size", fn)
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else _pair(stride, "stride", fn)
    p = _pair(padding, "padding", fn)
    d = _pair(dilation, "dilation", fn)
    _check_positive(k, "kernel_size", fn)
    _check_positive(s, "stride", fn)
    _check_positive(d, "dilation", fn)
    _check_positive(p, "padding", fn, minimum=0)
    if any(pp > (dd * (kk - 1) + 1) // 2 for pp, kk, dd in zip(p, k, d)):
        raise RuntimeError(f"{fn}: padding {p} should be at most half of the (dilated) kernel size {k}")
    h, w = input.shape[2:]
    oh = C.out_size(h, k[0], s[0], p[0], p[0], d[0], ceil_mode)
    ow = C.out_size(w, k[1], s[1], p[1], p[1], d[1], ceil_mode)
    if oh < 1 or ow < 1:
        raise RuntimeError(f"{fn}: input of shape {tuple(input.shape)} is too small for kernel_size {k}, "
                           f"stride {s}, padding {p}, dilation {d}: output size would be ({oh}, {ow})")
    # Under ceil_mode the last window may run past the padding: pad far enough to hold it.
    bottom = max(p[0], (oh - 1) * s[0] + d[0] * (k[0] - 1) + 1 - h - p[0])
    right = max(p[1], (ow - 1) * s[1] + d[1] * (k[1] - 1) + 1 - w - p[1])
    return input, unbatched, k, C.Geometry(s, (p[0], bottom, p[1], right), d), oh, ow


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over each kernel window, as ``torch.nn.functional.max_pool2d`` (ties: the first max).

    With ``return_indices`` also returns, per output, the flat index h·W + w of the max in its plane.

    >>> import chainrule as cr
    >>> max_pool2d(cr.arange(16.).reshape(1, 1, 4, 4), 2).tolist()
    [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    x, unbatched, k, geom, oh, ow = _pool_args("max_pool2d", input, kernel_size, stride, padding,
                                                dilation, ceil_mode)
    out = P.MaxPool2d.apply(x, k, geom, oh, ow)
    indices = None
    if return_indices:
        indices = _flat_indices(out, x, k, geom)
    if unbatched:
        out = out.squeeze(0)
        indices = indices.squeeze(0) if indices is not None else None
    return (out, indices) if return_indices else out


def _flat_indices(out, x, k, geom):
    """PyTorch's max-pool indices (h·W + w within each plane) from the winning kernel offsets."""
    node = out.grad_fn
    if isinstance(node, P.MaxPool2d):
        arg = node.saved_tensors[1]           # the winners' kernel offsets, saved for backward
    else:                                     # no graph was recorded: find the winners again
        arg = P.max_pool(x._data, k, geom, out.shape[2], out.shape[3])[1]
    oh, ow = out.shape[2], out.shape[3]
    ki, kj = arg // k[1], arg % k[1]
    top = xp.arange(oh)[:, None] * geom.stride[0] - geom.padding[0]
    left = xp.arange(ow)[None, :] * geom.stride[1] - geom.padding[2]
    rows, cols = top + ki * geom.dilation[0], left + kj * geom.dilation[1]
    # A window whose max is padding (it holds only -inf, or nothing): PyTorch's index is the window's first
    # position inside the input on the dilation grid (past the end if there is none)
    pad = (rows < 0) | (rows >= x.shape[2]) | (cols < 0) | (cols >= x.shape[3])
    first_row = top + geom.dilation[0] * (-(top // geom.dilation[0])).clip(0)
    first_col = left + geom.dilation[1] * (-(left // geom.dilation[1])).clip(0)
    rows, cols = xp.where(pad, first_row, rows), xp.where(pad, first_col, cols)
    return Tensor._make((rows * x.shape[3] + cols).astype(xp.int64))


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over each kernel window, as ``torch.nn.functional.avg_pool2d``.

    >>> import chainrule as cr
    >>> avg_pool2d(cr.arange(16.).reshape(1, 1, 4, 4), 2).tolist()
    [[[[2.5, 4.5], [10.5, 12.5]]]]
    """
    x, unbatched, k, geom, oh, ow = _pool_args("avg_pool2d", input, kernel_size, stride, padding, 1,
                                                ceil_mode)
    h, w = x.shape[2:]
    if divisor_override is not None:
        if divisor_override == 0:
            raise ValueError("avg_pool2d: divisor_override must be non-zero")
        divisor = xp.full((oh, ow), float(divisor_override), x._data.dtype)
    else:
        dh = _window_counts(h, oh, k[0], geom.stride[0], geom.padding[0], count_include_pad)
        dw = _window_counts(w, ow, k[1], geom.stride[1], geom.padding[2], count_include_pad)
        divisor = (dh[:, None] * dw[None, :]).astype(x._data.dtype)
    out = P.AvgPool2d.apply(x, k, geom, divisor)
    return out.squeeze(0) if unbatched else out


def _window_counts(n: int, n_out: int, k: int, s: int, p: int, include_pad: bool):
    """Per output position, how many positions the window averages over (PyTorch's divisor rule)."""
    start = xp.arange(n_out) * s - p
    end = xp.minimum(start + k, n + p)          # windows are clipped to the padded input…
    if include_pad:
        return end - start
    return xp.minimum(end, n) - xp.maximum(start, 0)   # …or to the real input without padding


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size, as ``torch.nn.functional.adaptive_avg_pool2d``.

    ``output_size`` is an int or a pair; ``None`` in the pair keeps that input size.

    >>> import chainrule as cr
    >>> adaptive_avg_pool2d(cr.ones(2, 3, 7, 5), (2, 3)).shape
    chainrule.Size([2, 3, 2, 3])
    """
    if not isinstance(input, Tensor) or input.ndim < 2:
        raise RuntimeError(f"adaptive_avg_pool2d: expected a 3-D or 4-D Tensor input, got "
                           f"{tuple(getattr(input, 'shape', ())) or type(input).__name__}")
    size = (output_size, output_size) if isinstance(output_size, int) or output_size is None else tuple(output_size)
    if len(size) != 2:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be an int or a pair, got {output_size!r}")
    if not isinstance(output_size, int) and input.ndim <= 2:   # PyTorch reads a pair against the input's dims
        raise ValueError(f"adaptive_avg_pool2d: Input dimension should be at least 3, got shape {tuple(input.shape)}")
    oh = input.shape[-2] if size[0] is None else size[0]
    ow = input.shape[-1] if size[1] is None else size[1]
    if oh < 0 or ow < 0:
        raise RuntimeError(f"adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 "
                           f"but received {{{oh}, {ow}}}")
    if oh == ow == 1:
        # PyTorch takes the mean over the last two dims here (MeanBackward1), with none of the checks below:
        # an empty plane gives NaN, and the graph does not hold on to the input
        return input.mean((-1, -2), keepdim=True)
    if input.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d: expected a 3-D or 4-D Tensor input, got {tuple(input.shape)}")
    if input.shape[-2] < 1 or input.shape[-1] < 1:
        raise RuntimeError(f"adaptive_avg_pool2d: Expected input to have non-zero size for non-batch dimensions, "
                           f"but input has sizes {list(input.shape)}: the spatial size must be positive")
    unbatched = input.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    out = P.AdaptiveAvgPool2d.apply(x, oh, ow, unbatched)
    return out.squeeze(0) if unbatched else out

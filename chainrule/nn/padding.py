"""``F.pad`` with all four modes, and the padding layers (``nn.ReflectionPad2d``, ``nn.ZeroPad2d`` …).

``constant`` fills with a value (one ``Pad`` node; negative widths crop first); ``reflect``,
``replicate`` and ``circular`` copy the input's own border (one ``BorderPad`` node, ops/pad.py).

>>> import chainrule as cr
>>> cr.nn.functional.pad(cr.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode="reflect")
tensor([[3., 2., 1., 2., 3., 2.]])
"""

from __future__ import annotations

import builtins

from ..ops.pad import BorderPad
from ..ops.shape import Pad
from ..tensor import Tensor
from .module import Module

_MODES = ("constant", "reflect", "replicate", "circular")


def _widths(pad) -> list[int]:
    widths = list(pad) if isinstance(pad, (tuple, list)) else None
    if widths is None or not builtins.all(isinstance(w, int) or hasattr(w, "__index__") for w in widths):
        got = type(pad).__name__ if widths is None else [type(w).__name__ for w in widths]
        raise TypeError(f"pad: argument 'pad' must be a tuple of ints (left, right, top, bottom, ...), got {got}")
    return [int(w) for w in widths]


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last dims by ``pad = (left, right, top, bottom, front, back)`` (last dim first, as PyTorch).

    ``mode``: ``'constant'`` (fill with ``value``, default 0), ``'reflect'`` (mirror without repeating
    the edge), ``'replicate'`` (repeat the edge), ``'circular'`` (wrap around). Negative widths crop.

    >>> import chainrule as cr
    >>> pad(cr.tensor([[1.0, 2.0]]), (1, 2), mode="replicate")
    tensor([[1., 1., 2., 2., 2.]])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pad: argument 'input' must be a Tensor, not {type(input).__name__}")
    widths = _widths(pad)
    if mode not in _MODES:
        raise NotImplementedError(f"pad: unrecognised padding mode {mode!r} (expected one of {', '.join(_MODES)})")
    if len(widths) % 2:
        raise RuntimeError(f"pad: padding length must be even (pairs of before, after), got {len(widths)}: {tuple(widths)}")
    if len(widths) // 2 > input.ndim:
        raise RuntimeError(f"pad: padding length should be less than or equal to two times the input dimension "
                           f"but got padding length {len(widths)} and input of dimension {input.ndim}")
    # pairs[k] = (before, after) for axis lead + k, in axis order (the argument lists the last axis first)
    pairs = [(widths[2 * i], widths[2 * i + 1]) for i in range(len(widths) // 2)][::-1]
    lead = input.ndim - len(pairs)
    for k, (b, a) in enumerate(pairs):
        size = input.shape[lead + k]
        # reflect and replicate may crop past the input, as PyTorch's (their index rules handle it)
        if size + b + a < 0 or mode in ("constant", "circular") and max(-b, 0) + max(-a, 0) > size:
            raise RuntimeError(f"pad: the input size {size}, plus negative padding {b} and {a} resulted in a "
                               f"negative output size, which is invalid (dimension {lead + k} of input of shape "
                               f"{tuple(input.shape)})")
    if mode == "constant":
        return _constant(input, pairs, 0.0 if value is None else value)
    if value is not None and value != 0:   # PyTorch rejects a value only when it would be ignored silently
        raise RuntimeError(f"pad: padding mode {mode!r} doesn't take in value argument (got value={value})")
    _check_border(input, mode, pairs)
    return BorderPad.apply(input, mode, pairs)


def _constant(input: Tensor, pairs: list, value: float) -> Tensor:
    lead = input.ndim - len(pairs)
    if builtins.any(b < 0 or a < 0 for b, a in pairs):   # crop first: negative widths cut the border off
        keep = [slice(max(-b, 0), input.shape[lead + k] - max(-a, 0)) for k, (b, a) in enumerate(pairs)]
        input = input[(slice(None),) * lead + tuple(keep)]
        pairs = [(max(b, 0), max(a, 0)) for b, a in pairs]
    return Pad.apply(input, [(0, 0)] * lead + pairs, value)


def _check_border(input: Tensor, mode: str, pairs: list) -> None:
    """PyTorch's rules for the border modes: which ranks each padding length takes, and how far it reaches."""
    n = len(pairs)
    shape = tuple(input.shape)
    if n not in (1, 2, 3) or input.ndim not in (n + 1, n + 2):
        raise NotImplementedError(
            f"pad: padding size {2 * n} is not supported for {input.ndim}D input tensor in mode {mode!r} (shape "
            f"{shape}). Supported combinations for non-constant padding: 2D or 3D input with padding size 2 (pads "
            f"the last dimension), 3D or 4D input with size 4 (last 2 dimensions), 4D or 5D input with size 6 "
            f"(last 3 dimensions)")
    if mode != "circular" and 0 in shape[-(n + 1):]:
        raise RuntimeError(f"pad: expected {n + 1}D or {n + 2}D (batch mode) tensor with possibly 0 batch size and "
                           f"other non-zero dimensions for input in mode {mode!r}, but got: {list(shape)}")
    lead = input.ndim - n
    for k, (b, a) in enumerate(pairs):
        size = shape[lead + k]
        if mode == "reflect" and (b >= size or a >= size):
            raise RuntimeError(f"pad: in mode 'reflect' padding size should be less than the corresponding input "
                               f"dimension, but got: padding ({b}, {a}) at dimension {lead + k} of input {list(shape)}")
        kept = size - max(-b, 0) - max(-a, 0)   # circular wraps around what is left after cropping
        if mode == "circular" and (b > kept or a > kept):
            raise RuntimeError(f"pad: in mode 'circular' padding ({b}, {a}) at dimension {lead + k} of input "
                               f"{list(shape)} causes wrapping around more than once (at most {kept} allowed)")
    outs = [size + b + a for size, (b, a) in zip(shape[lead:], pairs)]
    if mode != "circular" and builtins.all(o < 1 for o in outs):
        # PyTorch's rule: in 2-D and 3-D a padded dim may come out empty if another one does not
        raise RuntimeError(f"pad: input {list(shape)} is too small for padding {tuple(pairs)} (before, after per "
                           f"padded dim) in mode {mode!r}: calculated output sizes {outs}, at least one must be "
                           f"positive")


class _PadNd(Module):
    _n = 1
    _mode = "constant"

    def __init__(self, padding) -> None:
        super().__init__()
        if isinstance(padding, int):
            padding = (padding,) * (2 * self._n)
        padding = tuple(int(p) for p in padding)
        if len(padding) != 2 * self._n:
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of {2 * self._n} ints, "
                             f"got {padding}")
        self.padding = padding

    def forward(self, input: Tensor) -> Tensor:
        return pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    """Mirror the last dim about its edges (the edge itself is not repeated).

    >>> import chainrule as cr
    >>> cr.nn.ReflectionPad1d(2)(cr.arange(4.0).reshape(1, 1, 4))
    tensor([[[2., 1., 0., 1., 2., 3., 2., 1.]]])
    """
    _n, _mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Mirror the last 2 dims; ``padding`` is an int or (left, right, top, bottom)."""
    _n, _mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    """Mirror the last 3 dims; ``padding`` is an int or 6 ints (last dim first)."""
    _n, _mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Repeat the edge values of the last dim.

    >>> import chainrule as cr
    >>> cr.nn.ReplicationPad1d((1, 2))(cr.tensor([[[1.0, 2.0]]]))
    tensor([[[1., 1., 2., 2., 2.]]])
    """
    _n, _mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Repeat the edge values of the last 2 dims."""
    _n, _mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    """Repeat the edge values of the last 3 dims."""
    _n, _mode = 3, "replicate"


class CircularPad1d(_PadNd):
    """Wrap the last dim around (periodic boundary).

    >>> import chainrule as cr
    >>> cr.nn.CircularPad1d(1)(cr.tensor([[[1.0, 2.0, 3.0]]]))
    tensor([[[3., 1., 2., 3., 1.]]])
    """
    _n, _mode = 1, "circular"


class CircularPad2d(_PadNd):
    """Wrap the last 2 dims around."""
    _n, _mode = 2, "circular"


class CircularPad3d(_PadNd):
    """Wrap the last 3 dims around."""
    _n, _mode = 3, "circular"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with ``value``.

    >>> import chainrule as cr
    >>> cr.nn.ConstantPad1d((0, 2), 9.0)(cr.tensor([[1.0]]))
    tensor([[1., 9., 9.]])
    """
    _n = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last 2 dims with ``value``."""
    _n = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last 3 dims with ``value``."""
    _n = 3


class ZeroPad1d(_ZeroPadNd):
    """Pad the last dim with zeros."""
    _n = 1


class ZeroPad2d(_ZeroPadNd):
    """Pad the last 2 dims with zeros; ``padding`` is an int or (left, right, top, bottom).

    >>> import chainrule as cr
    >>> cr.nn.ZeroPad2d((1, 0, 0, 1))(cr.ones(1, 1, 1)).tolist()
    [[[0.0, 1.0], [0.0, 0.0]]]
    """
    _n = 2


class ZeroPad3d(_ZeroPadNd):
    """Pad the last 3 dims with zeros."""
    _n = 3

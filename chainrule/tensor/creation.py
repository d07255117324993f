"""Creating tensors: from data, filled, ranges, ``*_like``; the random draws (``randn``, ``manual_seed`` …) are in
``random``."""

from __future__ import annotations

import math
import numbers
import warnings

from .. import backend
from ..backend import xp
from .args import (
    _finish,
    _np_dtype,
    _size,
    dtype_arg,
    holds_tensors,
    int_arg,
    numbers_of,
    overflow_is_an_error,
)
from .core import Tensor
from .device import require_cpu
from .scalars import float_value_fits


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (Python floats become float32, ints int64).

    >>> import chainrule as cr
    >>> cr.tensor([[1, 2], [3, 4]])
    tensor([[1, 2],
            [3, 4]])
    """
    require_cpu(device, "tensor")
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() "
                      "or sourceTensor.detach().clone().requires_grad_(True), rather than torch.tensor("
                      "sourceTensor).", UserWarning, stacklevel=2)
        data = data._data
    elif isinstance(data, list | tuple) and holds_tensors(data):
        data = numbers_of(data)
    with overflow_is_an_error("tensor", dtype):
        array = backend.to_array(data, dtype_arg(dtype, "tensor"))
    return _finish(array, requires_grad, "tensor")


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array or Tensor when no conversion is needed."""
    require_cpu(device, "as_tensor")
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, xp.ndarray) and (dtype is None or _np_dtype(dtype, op="as_tensor") == data.dtype):
        backend.from_np_dtype(data.dtype)
        return Tensor._make(data)
    return tensor(data, dtype)


def from_numpy(array) -> Tensor:
    """A tensor sharing memory with a NumPy array (changes to one show in the other)."""
    if not isinstance(array, xp.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"from_numpy: can't convert np.ndarray of type {array.dtype} (an array of "
                        f"{array.dtype.type.__name__}); only numbers and bools convert to a tensor")
    backend.from_np_dtype(array.dtype)
    return Tensor._make(array)


def from_dlpack(obj) -> Tensor:
    return Tensor._make(xp.from_dlpack(obj))


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    require_cpu(device, "zeros")
    return _finish(xp.zeros(_size(size, "zeros"), _np_dtype(dtype, op="zeros")), requires_grad, "zeros")


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    require_cpu(device, "ones")
    return _finish(xp.ones(_size(size, "ones"), _np_dtype(dtype, op="ones")), requires_grad, "ones")


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    require_cpu(device, "empty")
    return _finish(xp.empty(_size(size, "empty"), _np_dtype(dtype, op="empty")), requires_grad, "empty")


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    require_cpu(device, "full")
    if not isinstance(size, tuple | list):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not {type(size).__name__} "
                        f"({size!r}); write full(({size!r},), {fill_value!r})")
    if isinstance(fill_value, xp.generic):   # a NumPy scalar counts as the Python number it holds
        fill_value = fill_value.item()
    if isinstance(fill_value, Tensor) and fill_value.ndim == 0:   # PyTorch reads a 0-d tensor as its number
        fill_value = fill_value.item()
    if not isinstance(fill_value, numbers.Number):
        raise TypeError(f"full(): argument 'fill_value' must be a number, not {type(fill_value).__name__} "
                        f"({fill_value!r}); for a tensor of one value, write full(size, t.item())")
    if dtype is None:
        dtype = backend.bool_ if isinstance(fill_value, bool) else \
            backend.int64 if isinstance(fill_value, int) else backend.default_float
    np_dtype = _np_dtype(dtype, op="full")
    if np_dtype.kind == "f" and isinstance(fill_value, float) and math.isfinite(fill_value) \
            and abs(fill_value) > xp.finfo(np_dtype).max:   # PyTorch refuses where NumPy would warn and store inf
        raise RuntimeError(f"full: value cannot be converted to type {backend.from_np_dtype(np_dtype)} without "
                           f"overflow: {fill_value} (pass dtype=chainrule.float64, or float('inf') for inf)")
    with overflow_is_an_error("full", dtype):
        array = xp.full(_size((size,), "full"), fill_value, np_dtype)
    return _finish(array, requires_grad, "full")


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    require_cpu(device, "eye")
    int_arg(n, "eye", "n")
    if m is not None:
        int_arg(m, "eye", "m")
    for name, v in (("n", n), ("m", m)):
        if v is not None and v < 0:
            raise RuntimeError(f"eye: {name} must be greater or equal to 0, got {v}")
    return _finish(xp.eye(n, m, dtype=_np_dtype(dtype, op="eye")), requires_grad, "eye")


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    require_cpu(device, "arange")
    start, end, step = (v.item() if isinstance(v, Tensor) and v.ndim == 0 else v for v in (start, end, step))
    if end is None:
        start, end = 0, start
    for name, v in (("start", start), ("end", end), ("step", step)):
        if not isinstance(v, numbers.Real):
            raise TypeError(f"arange(): argument '{name}' must be Number, not {type(v).__name__} ({v!r})")
    if dtype is None:
        is_int = all(isinstance(v, int) for v in (start, end, step))
        dtype = backend.int64 if is_int else backend.default_float
    if step == 0:
        raise RuntimeError(f"arange: step must be nonzero (arange({start}, {end}, step={step}))")
    if not all(math.isfinite(v) for v in (start, end, step)):
        raise RuntimeError(f"arange: unsupported range: {start} -> {end} with step {step} (every bound and the "
                           f"step must be finite)")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange: upper bound and lower bound inconsistent with step sign: from {start} to "
                           f"{end} with step {step} (to count down, pass a negative step)")
    with overflow_is_an_error("arange", dtype):
        array = xp.arange(start, end, step, dtype=_np_dtype(dtype, op="arange"))
    return _finish(array, requires_grad, "arange")


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    require_cpu(device, "linspace")
    int_arg(steps, "linspace", "steps")
    for name, v in (("start", start), ("end", end)):
        if not isinstance(v, numbers.Real | Tensor):
            raise TypeError(f"linspace(): argument '{name}' must be Number or Tensor, not {type(v).__name__} "
                            f"({v!r})")
    if steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got steps={steps}")
    np_dtype = _np_dtype(dtype, op="linspace")
    for v in (start, end):
        float_value_fits(v, np_dtype, "linspace")
    array = xp.linspace(start, end, steps, dtype=np_dtype)
    return _finish(array, requires_grad, "linspace")


def _like(t: Tensor, dtype, op: str):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(t).__name__} "
                        f"({op} copies the shape and dtype of a tensor)")
    return t._data.dtype if dtype is None else _np_dtype(dtype, op=op)


def zeros_like(input: Tensor, dtype=None, requires_grad: bool = False, **_) -> Tensor:
    dtype = _like(input, dtype, "zeros_like")
    return _finish(xp.zeros(input._data.shape, dtype), requires_grad, "zeros_like")


def ones_like(input: Tensor, dtype=None, requires_grad: bool = False, **_) -> Tensor:
    dtype = _like(input, dtype, "ones_like")
    return _finish(xp.ones(input._data.shape, dtype), requires_grad, "ones_like")


def empty_like(input: Tensor, dtype=None, requires_grad: bool = False, **_) -> Tensor:
    dtype = _like(input, dtype, "empty_like")
    return _finish(xp.empty(input._data.shape, dtype), requires_grad, "empty_like")


def full_like(input: Tensor, fill_value, dtype=None, requires_grad: bool = False, **_) -> Tensor:
    dtype = _like(input, dtype, "full_like")
    array = xp.full(input._data.shape, fill_value, dtype)
    return _finish(array, requires_grad, "full_like")


__all__ = [
    "arange",
    "as_tensor",
    "empty",
    "empty_like",
    "eye",
    "from_dlpack",
    "from_numpy",
    "full",
    "full_like",
    "linspace",
    "ones",
    "ones_like",
    "tensor",
    "zeros",
    "zeros_like",
]

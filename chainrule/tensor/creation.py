"""Creating tensors: from data, filled, ranges and random draws (seeded by ``manual_seed``)."""

from __future__ import annotations

from .. import backend
from ..backend import Generator, default_generator, xp
from .args import shape_arg
from .core import Tensor


def _finish(array, requires_grad: bool) -> Tensor:
    t = Tensor._make(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _np_dtype(dtype, default=None):
    if dtype is None:
        return (default or backend.default_float).np
    return backend.to_dtype(dtype).np


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (Python floats become float32, ints int64).

    >>> import chainrule as cr
    >>> cr.tensor([[1, 2], [3, 4]])
    tensor([[1, 2],
            [3, 4]])
    """
    if isinstance(data, Tensor):
        data = data._data
    return _finish(backend.to_array(data, dtype), requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array or Tensor when no conversion is needed."""
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, xp.ndarray) and (dtype is None or backend.to_dtype(dtype).np == data.dtype):
        backend.from_np_dtype(data.dtype)
        return Tensor._make(data)
    return tensor(data, dtype)


def from_numpy(array) -> Tensor:
    """A tensor sharing memory with a NumPy array (changes to one show in the other)."""
    if not isinstance(array, xp.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    backend.from_np_dtype(array.dtype)
    return Tensor._make(array)


def from_dlpack(obj) -> Tensor:
    return Tensor._make(xp.from_dlpack(obj))


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _finish(xp.zeros(shape_arg(size), _np_dtype(dtype)), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _finish(xp.ones(shape_arg(size), _np_dtype(dtype)), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _finish(xp.empty(shape_arg(size), _np_dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    if dtype is None:
        dtype = backend.bool_ if isinstance(fill_value, bool) else \
            backend.int64 if isinstance(fill_value, int) else backend.default_float
    return _finish(xp.full(shape_arg((size,)), fill_value, _np_dtype(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _finish(xp.eye(n, m, dtype=_np_dtype(dtype)), requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, int) for v in (start, end, step))
        dtype = backend.int64 if is_int else backend.default_float
    return _finish(xp.arange(start, end, step, dtype=_np_dtype(dtype)), requires_grad)


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _finish(xp.linspace(start, end, steps, dtype=_np_dtype(dtype)), requires_grad)


def _like(t: Tensor, dtype):
    return t._data.dtype if dtype is None else _np_dtype(dtype)


def zeros_like(input: Tensor, dtype=None, requires_grad: bool = False, **_) -> Tensor:
    return _finish(xp.zeros(input._data.shape, _like(input, dtype)), requires_grad)


def ones_like(input: Tensor, dtype=None, requires_grad: bool = False, **_) -> Tensor:
    return _finish(xp.ones(input._data.shape, _like(input, dtype)), requires_grad)


def empty_like(input: Tensor, dtype=None, requires_grad: bool = False, **_) -> Tensor:
    return _finish(xp.empty(input._data.shape, _like(input, dtype)), requires_grad)


def full_like(input: Tensor, fill_value, dtype=None, requires_grad: bool = False, **_) -> Tensor:
    return _finish(xp.full(input._data.shape, fill_value, _like(input, dtype)), requires_grad)


# --- random --------------------------------------------------------------------------------

def manual_seed(seed: int) -> Generator:
    """Seed the default generator so ``rand``/``randn``/initialisation/shuffling are reproducible."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> dict:
    return default_generator.get_state()


def set_rng_state(state: dict) -> None:
    default_generator.set_state(state)


def _rng(generator):
    return (generator or default_generator).rng


def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples from [0, 1)."""
    return _finish(_rng(generator).random(shape_arg(size)).astype(_np_dtype(dtype)), requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    return _finish(_rng(generator).standard_normal(shape_arg(size)).astype(_np_dtype(dtype)), requires_grad)


def randint(low, high=None, size=(), generator=None, dtype=None, device=None,
            requires_grad: bool = False) -> Tensor:
    if high is None:
        low, high = 0, low
    data = _rng(generator).integers(low, high, size=shape_arg((size,)))
    return _finish(data.astype(_np_dtype(dtype, backend.int64)), requires_grad)


def randperm(n: int, generator=None, dtype=None, device=None) -> Tensor:
    return Tensor._make(_rng(generator).permutation(n).astype(_np_dtype(dtype, backend.int64)))


def normal(mean=0.0, std=1.0, size=None, generator=None, dtype=None, requires_grad: bool = False) -> Tensor:
    """Normal samples; ``mean``/``std`` may be tensors (then the shape follows them)."""
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    shape = shape_arg((size,)) if size is not None else xp.broadcast_shapes(xp.shape(m), xp.shape(s))
    dt = mean.dtype if isinstance(mean, Tensor) else dtype
    return _finish(_rng(generator).normal(m, s, shape).astype(_np_dtype(dt)), requires_grad)


def rand_like(input: Tensor, dtype=None, generator=None, requires_grad: bool = False) -> Tensor:
    return rand(*input.shape, generator=generator, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randn_like(input: Tensor, dtype=None, generator=None, requires_grad: bool = False) -> Tensor:
    return randn(*input.shape, generator=generator, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randint_like(input: Tensor, low, high=None, dtype=None, generator=None) -> Tensor:
    return randint(low, high, tuple(input.shape), generator=generator, dtype=dtype or input.dtype)


def bernoulli(input: Tensor, generator=None) -> Tensor:
    return Tensor._make((_rng(generator).random(input._data.shape) < input._data).astype(input._data.dtype))


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, generator=None) -> Tensor:
    p = input._data / input._data.sum(axis=-1, keepdims=True)
    rng = _rng(generator)
    rows = p.reshape(-1, p.shape[-1])
    out = xp.stack([rng.choice(p.shape[-1], num_samples, replace=replacement, p=r) for r in rows])
    return Tensor._make(out.reshape(p.shape[:-1] + (num_samples,)).astype(xp.int64))

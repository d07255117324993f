"""Creating tensors: from data, filled, ranges and random draws (seeded by ``manual_seed``)."""

from __future__ import annotations

import math
import numbers
import warnings

from .. import backend
from ..autograd.function import notify
from ..autograd.grad_mode import state
from ..backend import Generator, default_generator, random, xp
from .args import bool_arg, dtype_arg, holds_tensors, int_arg, numbers_of, overflow_is_an_error, shape_arg
from .core import Tensor
from .device import require_cpu


def _finish(array, requires_grad: bool, op: str) -> Tensor:
    t = Tensor._make(array)
    if state.observed:
        notify("constant_made", t)
    if requires_grad:   # True, or a truthy non-bool such as 'yes', which PyTorch refuses
        bool_arg(requires_grad, op, "requires_grad")
        t.requires_grad_(True)
    return t


def _size(size, op: str) -> tuple:
    """The shape from ``f(2, 3)`` or ``f((2, 3))``; a negative size is PyTorch's error, named for ``op``."""
    try:
        shape = shape_arg(size, op)
    except (TypeError, ValueError):
        raise TypeError(f"{op}(): argument 'size' must be a tuple of ints or ints, got {size!r} (write "
                        f"{op}(2, 3) or {op}((2, 3)))") from None
    bad = [d for d in shape if d < 0]
    if bad:
        raise RuntimeError(f"{op}: Trying to create tensor with negative dimension {bad[0]}: {list(shape)} "
                           f"(every size must be >= 0)")
    return shape


def _np_dtype(dtype, default=None, op: str = "tensor"):
    if dtype is None:
        return (default or backend.default_float).np
    return dtype_arg(dtype, op).np


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
    array = xp.linspace(start, end, steps, dtype=_np_dtype(dtype, op="linspace"))
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


# --- random --------------------------------------------------------------------------------
# Every draw reproduces PyTorch's CPU generator: same seed, same calls, same values
# (chainrule.backend.random explains how each sampler uses the Mersenne Twister's words).

def manual_seed(seed: int) -> Generator:
    """Seed the default generator: ``rand``/``randn``/initialisation/dropout then repeat PyTorch's numbers.

    >>> import chainrule as cr
    >>> _ = cr.manual_seed(0)
    >>> cr.rand(2)   # torch.manual_seed(0); torch.rand(2) prints the same
    tensor([0.4963, 0.7682])
    """
    try:   # as torch.manual_seed, which calls int(seed): '42' and 42.0 are accepted (Generator's is strict)
        seed = int(seed)
    except (TypeError, ValueError) as e:
        raise type(e)(f"manual_seed: the seed must be an integer, got {seed!r}") from None
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator from the operating system's entropy; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the default generator was last seeded with."""
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The default generator's state: the same 5056 bytes (uint8) as ``torch.get_rng_state()``."""
    return Tensor._make(default_generator.get_state())


def set_rng_state(new_state) -> None:
    """Restore a state from ``get_rng_state()`` (chainrule's or PyTorch's)."""
    default_generator.set_state(new_state)


def _generator(generator, op: str) -> Generator:
    """The ``generator=`` argument: a Generator, or None for the default one (``generator=0`` is a mistake)."""
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"{op}(): argument 'generator' must be a chainrule.Generator, not "
                        f"{type(generator).__name__} ({generator!r}); for a seed, pass Generator().manual_seed(seed)")
    return generator or default_generator


def _gen(generator, op: str = "random") -> Generator:
    _generator(generator, op)
    if state.observed:
        notify("random_draw", generator or default_generator)
    return generator or default_generator


def _drawn(op: str, draw, gen: Generator, requires_grad: bool) -> Tensor:
    """The tensor of ``draw()``, a function of no arguments (shape, dtype and the generator ``gen`` are
    fixed) that draws the numbers. Observers get ``draw`` itself: ``chainrule.compile`` calls it again on
    every replay, so a replayed step draws from the same generator, in the same order, as eager does."""
    t = Tensor._make(draw())
    if state.observed:
        notify("random_made", t, op, draw, gen)
    if requires_grad:
        bool_arg(requires_grad, op, "requires_grad")
        t.requires_grad_(True)
    return t


def _empty(size, dtype, default=None, op: str = "empty"):
    return xp.empty(_size(size, op), _np_dtype(dtype, default, op))


def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples from [0, 1) (float32: 24 random bits each, float64: 53).

    >>> import chainrule as cr
    >>> cr.rand(3, generator=cr.Generator().manual_seed(2147483647))
    tensor([0.7081, 0.3542, 0.1054])
    """
    require_cpu(device, "rand")
    out, gen = _empty(size, dtype, op="rand"), _generator(generator, "rand")
    return _drawn("rand", lambda: random.uniform_(xp.empty_like(out), 0.0, 1.0, gen), gen, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples (Box-Muller, exactly as PyTorch: see ``chainrule.backend.random``).

    >>> import chainrule as cr
    >>> cr.randn(2, generator=cr.Generator().manual_seed(2147483647))
    tensor([-0.9800, -1.6578])
    """
    require_cpu(device, "randn")
    out, gen = _empty(size, dtype, op="randn"), _generator(generator, "randn")
    return _drawn("randn", lambda: random.normal_(xp.empty_like(out), 0.0, 1.0, gen), gen, requires_grad)


def randint(low, high=None, size=None, generator=None, dtype=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """Integers drawn uniformly from [low, high).

    >>> import chainrule as cr
    >>> cr.randint(0, 10, (5,), generator=cr.Generator().manual_seed(0))
    tensor([4, 9, 3, 0, 3])
    >>> cr.randint(5, (3,)).shape         # PyTorch's randint(high, size): low is 0
    chainrule.Size([3])
    """
    require_cpu(device, "randint")
    if isinstance(high, (tuple, list)):   # randint(high, size), the two-argument form
        if size is not None:
            raise TypeError(f"randint: got two sizes, {high!r} and {size!r}; call randint(high, size) or "
                            f"randint(low, high, size)")
        low, high, size = 0, low, tuple(high)
    elif size is None:   # PyTorch has no default size: randint(10) or randint(0, 10) is an error there
        raise TypeError("randint: missing the argument 'size' (a tuple of ints): call randint(high, size) or "
                        "randint(low, high, size), e.g. randint(0, 10, (3,)); for one number, size=()")
    elif high is None:
        low, high = 0, low
    if not isinstance(size, tuple | list):   # randint(0, 10, 3): PyTorch wants a tuple of ints
        raise TypeError(f"randint(): argument 'size' must be a tuple of ints, not {type(size).__name__} "
                        f"({size!r}); write randint({low}, {high}, ({size!r},))")
    int_arg(low, "randint", "low")
    int_arg(high, "randint", "high")
    if int(high) <= int(low):
        raise RuntimeError(f"randint: expects low < high, but got low={low} and high={high} "
                           f"(randint(high, size) draws from [0, high))")
    out, gen = _empty((size,), dtype, backend.int64, "randint"), _generator(generator, "randint")
    return _drawn("randint", lambda: random.random_(xp.empty_like(out), low, high, gen), gen, requires_grad)


def randperm(n: int, generator=None, dtype=None, device=None) -> Tensor:
    """A random permutation of ``0 … n-1`` (PyTorch's Fisher-Yates shuffle).

    >>> import chainrule as cr
    >>> cr.randperm(5, generator=cr.Generator().manual_seed(0))
    tensor([4, 0, 1, 3, 2])
    """
    require_cpu(device, "randperm")
    int_arg(n, "randperm", "n")
    if n < 0:
        raise RuntimeError(f"randperm: n must be a non-negative integer, got {n!r}")
    return Tensor._make(random.randperm(n, _gen(generator, "randperm")).astype(_np_dtype(dtype, backend.int64, "randperm")))


def normal(mean=0.0, std=1.0, size=None, generator=None, dtype=None, requires_grad: bool = False) -> Tensor:
    """Normal samples; ``mean``/``std`` may be tensors (then the shape follows them, as in PyTorch:
    standard normals scaled by ``std`` and shifted by ``mean`` in the tensor's dtype).

    >>> import chainrule as cr
    >>> cr.normal(2.0, 0.5, (2,), generator=cr.Generator().manual_seed(2147483647))
    tensor([1.5100, 1.1711])
    """
    gen = _gen(generator, "normal")
    if isinstance(std, Tensor) and std.numel() and not (std._data >= 0).all():
        raise RuntimeError("normal expects all elements of std >= 0.0")
    if isinstance(mean, Tensor) and not isinstance(std, Tensor):
        out = random.normal_(xp.empty(mean.shape, mean._data.dtype), 0.0, std, gen) + mean._data
    elif isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        m = mean._data if isinstance(mean, Tensor) else ref._data.dtype.type(mean)
        try:
            shape = xp.broadcast_shapes(xp.shape(m), std.shape)
        except ValueError:
            raise RuntimeError(f"normal: the shapes of mean {tuple(xp.shape(m))} and std {tuple(std.shape)} "
                               f"do not broadcast") from None
        out = random.normal_(xp.empty(shape, ref._data.dtype), 0.0, 1.0, gen) * std._data + m
    else:
        if size is None:
            raise TypeError("normal: with float mean and std, give the output size")
        out = random.normal_(_empty((size,), dtype), mean, std, gen)
    return _finish(out, requires_grad, "normal")


def rand_like(input: Tensor, dtype=None, generator=None, requires_grad: bool = False) -> Tensor:
    return rand(*input.shape, generator=generator, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randn_like(input: Tensor, dtype=None, generator=None, requires_grad: bool = False) -> Tensor:
    return randn(*input.shape, generator=generator, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randint_like(input: Tensor, low, high=None, dtype=None, generator=None) -> Tensor:
    return randint(low, high, tuple(input.shape), generator=generator, dtype=dtype or input.dtype)


def bernoulli(input: Tensor, p=None, generator=None) -> Tensor:
    """0/1 draws: 1 with probability ``input`` (elementwise), or with probability ``p`` if given.

    >>> import chainrule as cr
    >>> cr.bernoulli(cr.tensor([0.0, 1.0, 0.5]), generator=cr.Generator().manual_seed(1))
    tensor([0., 1., 1.])
    """
    probs = input._data if p is None else p
    return Tensor._make(random.bernoulli_(xp.empty_like(input._data), probs, _gen(generator, "bernoulli")))


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, generator=None) -> Tensor:
    """Category indices drawn with probabilities proportional to each row of ``input``.

    >>> import chainrule as cr
    >>> cr.multinomial(cr.tensor([0.1, 0.0, 0.9]), 4, replacement=True, generator=cr.Generator().manual_seed(0))
    tensor([2, 2, 2, 2])
    """
    return Tensor._make(random.multinomial(input._data, num_samples, replacement, _gen(generator, "multinomial")))
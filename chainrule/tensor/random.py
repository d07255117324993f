"""Random tensors: ``rand``, ``randn``, ``randint``, ``randperm``, ``normal``, ``bernoulli``, ``multinomial``,
the ``*_like`` forms, and the default generator's seed and state (``manual_seed`` …). Every draw reproduces
PyTorch's CPU generator: same seed, same calls, same values (``chainrule.backend.random`` explains how each
sampler uses the Mersenne Twister's words). ``chainrule.tensor.creation`` re-exports all of them.
"""

from __future__ import annotations

from .. import backend
from ..autograd.function import notify
from ..autograd.grad_mode import state
from ..backend import Generator, default_generator, random, xp
from .args import _finish, _np_dtype, _size, bool_arg, int_arg
from .core import Tensor
from .device import require_cpu


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
"""Samplers: the order in which a DataLoader visits a dataset's indices (``torch.utils.data``).

A sampler is an iterable of indices; :class:`BatchSampler` groups any sampler's indices into
lists of ``batch_size``. Random samplers draw from a :class:`chainrule.Generator` (the default one
unless given), so ``chainrule.manual_seed`` or a seeded generator makes every epoch reproducible;
each new ``iter()`` draws a fresh order. They make the same calls on the generator as PyTorch's
samplers (``randperm``, ``randint`` in chunks of 32, ``multinomial``), so a seeded run visits the
data in PyTorch's order.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Sequence

from chainrule.backend import Generator, default_generator, random, xp

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler", "SubsetRandomSampler",
           "WeightedRandomSampler"]


class Sampler:
    """Base class: subclasses define ``__iter__`` (yielding indices) and usually ``__len__``.

    >>> class Evens(Sampler):
    ...     def __iter__(self): return iter(range(0, 6, 2))
    >>> list(Evens())
    [0, 2, 4]
    """

    def __init__(self, data_source=None):
        pass

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__()")

    def _index_array(self):
        """This epoch's indices as one integer array, or None if the sampler cannot say at once.
        The DataLoader's fast path slices batches from it instead of looping per sample."""
        return


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order.

    >>> list(SequentialSampler(range(3)))
    [0, 1, 2]
    """

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)

    def _index_array(self):
        return xp.arange(len(self.data_source))


def _check_count(cls: str, name: str, value) -> int:
    try:
        n = operator.index(value)
    except TypeError:
        n = None
    if n is None or isinstance(value, bool) or n <= 0:
        raise ValueError(f"{cls}: {name} should be a positive integer, got {name}={value!r}")
    return n


_LAZY = 1 << 20   # above this many draws with replacement, indices are drawn as iteration reaches them


class RandomSampler(Sampler):
    """A random permutation of the indices each epoch; with ``replacement=True``, ``num_samples``
    independent uniform draws instead, made lazily in chunks of 32 as PyTorch does (so
    ``num_samples=10**10``, an "endless" sampler, costs nothing up front).

    >>> import chainrule as cr
    >>> sorted(RandomSampler(range(5), generator=cr.Generator(0)))
    [0, 1, 2, 3, 4]
    """

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None,
                 generator: Generator | None = None):
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement should be a boolean, got {replacement!r}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if num_samples is not None:
            _check_count("RandomSampler", "num_samples", num_samples)
        elif not hasattr(data_source, "__len__"):   # a generator: fail here, as PyTorch, not at the first epoch
            raise TypeError(f"RandomSampler: object of type {type(data_source).__name__!r} has no len(); "
                            f"shuffling needs a dataset that knows its size (a list or a Dataset with __len__)")

    @property
    def num_samples(self) -> int:
        # Read lazily: the dataset may grow between construction and iteration.
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _generator(self) -> Generator:
        if self.generator is not None:
            return self.generator
        # PyTorch seeds a fresh generator from one draw of the default one each epoch
        seed = int(random.random_bits_(xp.empty((), xp.int64), default_generator))
        return Generator().manual_seed(seed)

    def _draws(self):
        """This epoch's indices as arrays, drawn as they are consumed."""
        n, total, gen = len(self.data_source), self.num_samples, self._generator()
        if n == 0:
            return
        if self.replacement:
            for _ in range(total // 32):
                yield random.random_(xp.empty(32, xp.int64), 0, n, gen)
            yield random.random_(xp.empty(total % 32, xp.int64), 0, n, gen)
            return
        # Without replacement, num_samples > n takes several full permutations (the last one is
        # drawn even when it contributes nothing, as in PyTorch).
        for _ in range(total // n):
            yield random.randperm(n, gen)
        yield random.randperm(n, gen)[:total % n]

    def _index_array(self):
        if self.replacement and self.num_samples > _LAZY:
            return None
        return xp.concatenate(list(self._draws()))

    def __iter__(self) -> Iterator[int]:
        for part in self._draws():
            yield from part.tolist()

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order each epoch (e.g. a validation split of one dataset).

    >>> import chainrule as cr
    >>> sorted(SubsetRandomSampler([7, 3, 5], generator=cr.Generator(0)))
    [3, 5, 7]
    """

    def __init__(self, indices: Sequence[int], generator: Generator | None = None):
        self.indices = indices
        self.generator = generator

    def _index_array(self):
        order = random.randperm(len(self.indices), self.generator or default_generator)
        return xp.asarray(self.indices, dtype=xp.int64).reshape(-1)[order]

    def __iter__(self) -> Iterator[int]:
        return iter(self._index_array().tolist())

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probability proportional to ``weights``.

    >>> import chainrule as cr
    >>> list(WeightedRandomSampler([0.0, 1.0, 0.0], 3, generator=cr.Generator(0)))
    [1, 1, 1]
    """

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator: Generator | None = None):
        w = xp.asarray(weights, dtype=xp.float64)
        if w.ndim != 1:
            raise ValueError(f"WeightedRandomSampler: weights should be a 1d sequence but given weights have "
                             f"shape {tuple(w.shape)} (one weight per sample)")
        if w.size == 0 or not xp.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise ValueError("WeightedRandomSampler: weights must be finite, non-negative and not all zero, "
                             f"got {w.size} values")
        self.weights = w
        self.num_samples = _check_count("WeightedRandomSampler", "num_samples", num_samples)
        if not replacement and self.num_samples > int((w > 0).sum()):
            raise ValueError(f"WeightedRandomSampler: cannot draw {self.num_samples} samples without "
                             f"replacement from {int((w > 0).sum())} non-zero weights")
        self.replacement = replacement
        self.generator = generator

    def _index_array(self):
        return random.multinomial(self.weights, self.num_samples, self.replacement,
                                  self.generator or default_generator)

    def __iter__(self) -> Iterator[int]:
        return iter(self._index_array().tolist())

    def __len__(self) -> int:
        return self.num_samples


def _iter_matches_index_array(sampler) -> bool:
    # A subclass that overrides __iter__ but inherits _index_array would get the wrong order
    # from the fast path: trust _index_array only when the same class defines both.
    def owner(name):
        return next((c for c in type(sampler).__mro__ if name in vars(c)), None)
    return owner("_index_array") not in (None, Sampler) and owner("_index_array") is owner("__iter__")


class BatchSampler(Sampler):
    """Group another sampler's indices into lists of ``batch_size``; ``drop_last`` drops a short
    final batch.

    >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
    [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool):
        self.sampler = sampler
        self.batch_size = _check_count("BatchSampler", "batch_size", batch_size)
        if not isinstance(drop_last, bool):
            raise TypeError(f"BatchSampler: drop_last should be a boolean value, got drop_last={drop_last!r}")
        self.drop_last = drop_last

    def _array_batches(self):
        """Batches as integer arrays sliced from the sampler's index array, or None."""
        if not _iter_matches_index_array(self.sampler):
            return None
        indices = self.sampler._index_array()
        if indices is None:
            return None
        n, b = len(indices), self.batch_size
        stop = n - n % b if self.drop_last else n
        return (indices[i:i + b] for i in range(0, stop, b))

    def __iter__(self) -> Iterator[list[int]]:
        batch = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

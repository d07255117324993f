"""Datasets: what a DataLoader draws samples from (PyTorch's ``torch.utils.data`` classes).

A map-style :class:`Dataset` answers ``len(ds)`` and ``ds[i]``; an :class:`IterableDataset` is a
stream with ``iter(ds)``. :class:`TensorDataset` is the workhorse: sample ``i`` is row ``i`` of each
of its tensors, which lets the DataLoader fetch a whole batch with one indexing operation.
"""

from __future__ import annotations

import bisect
import math
import operator
from collections.abc import Sequence

from chainrule.backend import Generator, default_generator, random
from chainrule.tensor import Tensor

__all__ = ["ConcatDataset", "Dataset", "IterableDataset", "Subset", "TensorDataset", "random_split"]


class Dataset:
    """A map-style dataset: subclasses define ``__getitem__(index)`` and usually ``__len__()``.

    ``a + b`` concatenates two datasets.

    >>> class Squares(Dataset):
    ...     def __len__(self): return 4
    ...     def __getitem__(self, i): return i * i
    >>> [Squares()[i] for i in range(4)]
    [0, 1, 4, 9]
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index)")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is a stream: subclasses define ``__iter__()``. The DataLoader batches the
    stream in order; samplers and ``shuffle`` do not apply (there is no index to shuffle).

    >>> class Count(IterableDataset):
    ...     def __iter__(self): return iter(range(3))
    >>> list(Count())
    [0, 1, 2]
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__()")

    def __add__(self, other):
        raise TypeError("IterableDataset does not support '+': ConcatDataset needs indexable datasets")


class TensorDataset(Dataset):
    """Sample ``i`` is ``tuple(t[i] for t in tensors)``; all tensors share their first dimension.

    >>> import chainrule as cr
    >>> ds = TensorDataset(cr.arange(6).reshape(3, 2), cr.tensor([0, 1, 0]))
    >>> len(ds), ds[1]
    (3, (tensor([2, 3]), tensor(1)))
    """

    def __init__(self, *tensors: Tensor):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: argument {i} is a {type(t).__name__}, expected a Tensor "
                                "(wrap arrays with chainrule.tensor(...) or chainrule.from_numpy(...))")
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {i} is 0-dimensional; each tensor needs a first "
                                 "dimension that indexes the samples")
        sizes = [t.shape[0] for t in tensors]
        if len(set(sizes)) != 1:
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise ValueError(f"TensorDataset: size mismatch between tensors: first dimensions {sizes} "
                             f"(shapes {shapes}) must all be equal")
        self.tensors = tuple(tensors)

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class ConcatDataset(Dataset):
    """Several map-style datasets one after the other.

    >>> ds = ConcatDataset([[1, 2], [3, 4, 5]])
    >>> len(ds), ds[2], ds[-1]
    (5, 3, 5)
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for i, d in enumerate(self.datasets):
            if isinstance(d, IterableDataset):
                raise TypeError(f"ConcatDataset: dataset {i} is an IterableDataset; only indexable "
                                "datasets can be concatenated")
        # cumulative_sizes[k] = number of samples in datasets[0..k]; bisect finds the owner of index i.
        self.cumulative_sizes = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int):
        n = len(self)
        if index < 0:
            if -index > n:
                raise IndexError(f"ConcatDataset: index {index} is out of range for {n} samples")
            index += n
        if index >= n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for {n} samples")
        k = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[k - 1] if k > 0 else 0
        return self.datasets[k][index - start]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    >>> s = Subset([10, 20, 30, 40], [3, 0])
    >>> len(s), s[0], s[1]
    (2, 40, 10)
    """

    def __init__(self, dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: list[int]) -> list:
        # Lets a DataLoader fetch a batch through the parent's own __getitems__ when it has one.
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)


def _lengths_from_fractions(fractions: Sequence[float], n: int) -> list[int]:
    # PyTorch's rule: floor every share, then hand the leftover samples out one by one,
    # starting with the first split.
    lengths = [math.floor(n * f) for f in fractions]
    for i in range(n - sum(lengths)):
        lengths[i % len(lengths)] += 1
    return lengths


def random_split(dataset, lengths: Sequence[int | float], generator: Generator | None = None) -> list[Subset]:
    """Split a dataset into non-overlapping random subsets of the given ``lengths``.

    ``lengths`` are sample counts summing to ``len(dataset)``, or fractions summing to 1 (each split
    gets ``floor(n * fraction)`` samples and the remainder is dealt out round-robin, as in PyTorch).

    >>> import chainrule as cr
    >>> train, val = random_split(range(10), [0.8, 0.2], generator=cr.Generator().manual_seed(0))
    >>> len(train), len(val), sorted(list(train) + list(val)) == list(range(10))
    (8, 2, True)
    """
    n = len(dataset)
    if not hasattr(lengths, "__len__") or isinstance(lengths, str):
        raise TypeError(f"random_split: lengths must be a list of sample counts or of fractions, got "
                        f"{type(lengths).__name__} ({lengths!r}); e.g. random_split(data, [0.8, 0.2])")
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths must not be empty")
    # PyTorch's test: lengths summing to 1 are fractions (unless they could be counts of a
    # dataset with fewer samples, where both readings give the same split anyway).
    if math.isclose(sum(lengths), 1.0) and sum(lengths) <= n:
        if any(not 0.0 <= f <= 1.0 for f in lengths):
            raise ValueError(f"random_split: fractions {lengths} must each lie in [0, 1]")
        lengths = _lengths_from_fractions(lengths, n)
    else:
        try:
            lengths = [operator.index(x) for x in lengths]
        except TypeError:
            raise ValueError(f"random_split: lengths {lengths} must be sample counts summing to "
                             f"len(dataset) = {n}, or fractions summing to 1 (they sum to "
                             f"{sum(lengths):g})") from None
        if any(x < 0 for x in lengths):
            raise ValueError(f"random_split: lengths must be >= 0, got {lengths}")
        if sum(lengths) != n:
            raise ValueError(f"random_split: sum of input lengths {lengths} is {sum(lengths)}, which does not "
                             f"equal the length of the input dataset ({n})")
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"random_split: generator must be a chainrule.Generator, not {type(generator).__name__} "
                        f"({generator!r}); for a seed, pass Generator().manual_seed(seed)")
    perm = random.randperm(n, generator or default_generator).tolist()   # torch's randperm: the same split
    subsets, start = [], 0
    for length in lengths:
        subsets.append(Subset(dataset, perm[start:start + length]))
        start += length
    return subsets

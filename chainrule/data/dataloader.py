"""DataLoader: turn a dataset into an iterable of mini-batches (PyTorch's ``torch.utils.data``).

A sampler chooses the indices, a batch sampler groups them, the dataset is read at those
indices and ``collate_fn`` merges the samples into one batch. The hot path of training — a
:class:`TensorDataset` (possibly inside :class:`Subset`\\ s) with the default collate — skips the
per-sample work: each batch is one fancy-indexing operation per tensor.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping, Sequence

from chainrule.backend import Generator, default_generator, float64, from_np_dtype, random, xp
from chainrule.tensor import Tensor
from chainrule.tensor.creation import tensor
from chainrule.tensor.functions import stack

from .dataset import IterableDataset, Subset, TensorDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "default_convert"]


# ----------------------------------------------------------------------------------- collation

def _stack_tensors(batch: Sequence[Tensor]) -> Tensor:
    shape = batch[0].shape
    for i, t in enumerate(batch):
        if not isinstance(t, Tensor):
            raise TypeError(f"default_collate: sample 0 is a Tensor but sample {i} is a {type(t).__module__}."
                            f"{type(t).__name__}; return the same kind of value from every __getitem__ "
                            f"(e.g. chainrule.tensor(...) for all of them)")
        if t.shape != shape:
            raise RuntimeError(f"default_collate: cannot stack samples into a batch: sample 0 has shape "
                               f"{tuple(shape)} but sample {i} has shape {tuple(t.shape)}. Samples must have "
                               "equal shapes; pass a collate_fn that pads or keeps them as a list.")
    if any(t.requires_grad for t in batch):
        return stack(batch)  # keep the graph, as torch.stack would
    dtypes = {t._data.dtype for t in batch}
    if len(dtypes) == 1:  # the usual case: one array op, no autograd bookkeeping
        return Tensor._make(xp.stack([t._data for t in batch]))
    return stack(batch)  # mixed dtypes: stack applies PyTorch's type promotion


def default_collate(batch: list):
    """Merge a list of samples into a batch, as PyTorch does: tensors and NumPy arrays are stacked
    along a new first dimension, Python floats become a float64 tensor and ints an int64 tensor,
    strings stay a list, and dicts, tuples and lists are collated field by field (a tuple of fields
    comes back as a list, like PyTorch).

    >>> import chainrule as cr
    >>> default_collate([(cr.tensor([1.0, 2.0]), 0), (cr.tensor([3.0, 4.0]), 1)])
    [tensor([[1., 2.],
            [3., 4.]]), tensor([0, 1])]
    """
    if not isinstance(batch, Sequence) or isinstance(batch, (str, bytes)) or len(batch) == 0:
        raise TypeError(f"default_collate: expected a non-empty list of samples, got {type(batch).__name__}")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack_tensors(batch)
    if isinstance(elem, xp.ndarray):
        if elem.dtype.kind in "USO":
            raise TypeError(f"default_collate: cannot collate NumPy arrays of dtype {elem.dtype}; batches can "
                            "hold tensors, numeric arrays, numbers, strings, dicts, tuples or lists")
        return _stack_tensors([Tensor._make(xp.asarray(a)) for a in batch])
    if isinstance(elem, xp.generic):  # NumPy scalars keep their dtype (np.float32 -> float32)
        from_np_dtype(elem.dtype)
        return Tensor._make(xp.asarray(batch, dtype=elem.dtype))
    if isinstance(elem, float):
        return tensor(batch, dtype=float64)
    if isinstance(elem, int):  # bool is an int: a list of bools becomes a bool tensor
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch  # as PyTorch: a list from the loader, a tuple when it is a field of tuples
    if isinstance(elem, Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple: keep the type
        return type(elem)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(elem, Sequence):
        size = len(elem)
        for i, sample in enumerate(batch):
            if len(sample) != size:
                raise RuntimeError(f"default_collate: each element in list of batch should be of equal size: "
                                   f"sample 0 has {size} fields, sample {i} has {len(sample)}")
        return [default_collate(field) for field in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, NumPy arrays, numbers, strings, dicts, "
                    f"tuples or lists; found {type(elem).__name__}")


def default_convert(data):
    """What a DataLoader with ``batch_size=None`` does to each sample: NumPy arrays and scalars
    become tensors, containers are converted element by element, everything else is unchanged.

    >>> import numpy as np  # doctest: +SKIP
    >>> default_convert({"x": np.ones(2)})  # doctest: +SKIP
    {'x': tensor([1., 1.], dtype=chainrule.float64)}
    """
    if isinstance(data, xp.ndarray) and data.dtype.kind not in "USO":
        return Tensor._make(data)
    if isinstance(data, xp.generic) and data.dtype.kind not in "USO":
        return Tensor._make(xp.asarray(data))
    if isinstance(data, Mapping):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (list, tuple)):
        return type(data)(default_convert(d) for d in data)
    return data


# --------------------------------------------------------------------------------------- loader

def _tensor_source(dataset):
    """``(tensors, index_map)`` when every sample of ``dataset`` is a row of some tensors — a
    TensorDataset, possibly inside Subsets — else None. ``index_map[i]`` is the row of sample i
    (None means the identity)."""
    index_map = None
    while isinstance(dataset, Subset):
        indices = xp.asarray(dataset.indices, dtype=xp.int64).reshape(-1)
        index_map = indices if index_map is None else indices[index_map]
        dataset = dataset.dataset
    if type(dataset) is not TensorDataset:  # a subclass may override __getitem__
        return None
    return dataset.tensors, index_map


def _check_worker_options(num_workers: int, timeout, prefetch_factor, persistent_workers) -> None:
    """PyTorch's checks of the worker options, kept although chainrule starts no workers: code that
    passes them is refused by PyTorch, so it must be refused here too."""
    if timeout < 0:
        raise ValueError(f"DataLoader: timeout option should be non-negative, got timeout={timeout}")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError("DataLoader: prefetch_factor option could only be specified in multiprocessing; "
                         "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None")
    if persistent_workers and num_workers == 0:
        raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")


class DataLoader:
    """Iterate over ``dataset`` in mini-batches, with PyTorch's arguments and semantics.

    ``shuffle=True`` draws a new order every epoch from ``generator`` (a seeded
    :class:`chainrule.Generator` makes it reproducible; default: the global generator).
    ``batch_size=None`` turns batching off and yields single samples.

    Note: chainrule loads data in the main process. ``num_workers`` (and ``pin_memory``,
    ``prefetch_factor``, ``persistent_workers``, ``timeout``, ``worker_init_fn``) are accepted so
    PyTorch code runs unchanged, but no worker processes are started; batches are identical.

    >>> import chainrule as cr
    >>> ds = TensorDataset(cr.arange(10).float(), cr.arange(10) % 2)
    >>> [len(x) for x, y in DataLoader(ds, batch_size=4)]
    [4, 4, 2]
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | Sequence[int] | None = None, batch_sampler=None, num_workers: int = 0,
                 collate_fn: Callable | None = None, pin_memory: bool = False, drop_last: bool = False,
                 timeout: float = 0, worker_init_fn: Callable | None = None, multiprocessing_context=None,
                 generator: Generator | None = None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, pin_memory_device: str = "", in_order: bool = True):
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers option should be a non-negative integer, got "
                             f"{num_workers!r} (chainrule always loads in the main process)")
        if generator is not None and not isinstance(generator, Generator):
            raise TypeError(f"DataLoader: generator must be a chainrule.Generator, got {type(generator).__name__}")
        _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers)
        self.dataset = dataset
        self.num_workers = num_workers
        self.generator = generator
        self.drop_last = drop_last
        self._iterable = isinstance(dataset, IterableDataset)

        if self._iterable:
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle} (a stream has no indices to shuffle; shuffle inside "
                                 "the dataset's __iter__)")
            if sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler and "
                                 "batch_sampler options (a stream is read in its own order)")
        else:
            if sampler is not None and shuffle:
                raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
            if batch_sampler is not None:
                if batch_size != 1 or shuffle or sampler is not None or drop_last:
                    raise ValueError("DataLoader: batch_sampler option is mutually exclusive with batch_size, "
                                     "shuffle, sampler, and drop_last")
                batch_size, drop_last = None, False
            elif batch_size is None and drop_last:
                raise ValueError("DataLoader: batch_size=None option disables auto-batching and is mutually "
                                 "exclusive with drop_last")
            if sampler is None:
                sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
            if batch_size is not None and batch_sampler is None:
                batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        if batch_size is not None:
            batch_size = operator.index(batch_size)
            if batch_size <= 0:
                raise ValueError(f"DataLoader: batch_size should be a positive integer, got {batch_size}")

        self.batch_size = batch_size
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self._auto_collation = batch_sampler is not None or (self._iterable and batch_size is not None)
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)  # TypeError if the stream has no length, as in PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)

    def __iter__(self) -> Iterator:
        # PyTorch's iterator draws a base seed for worker processes from the loader's generator each
        # epoch; drawing it too keeps a seeded script's random stream in step with PyTorch's.
        random.random_bits_(xp.empty((), xp.int64), self.generator or default_generator)
        if self._iterable:
            return self._iter_stream()
        if self.batch_sampler is None:
            return (self.collate_fn(self.dataset[i]) for i in self.sampler)
        source = _tensor_source(self.dataset) if self.collate_fn is default_collate else None
        if source is not None:
            return self._iter_tensor_batches(*source)
        return (self.collate_fn(self._fetch(batch)) for batch in self.batch_sampler)

    def _fetch(self, indices: list) -> list:
        getitems = getattr(self.dataset, "__getitems__", None)
        if callable(getitems):
            return getitems(list(indices))
        return [self.dataset[i] for i in indices]

    def _iter_tensor_batches(self, tensors: tuple[Tensor, ...], index_map) -> Iterator[list[Tensor]]:
        batches = None
        if type(self.batch_sampler) is BatchSampler:
            batches = self.batch_sampler._array_batches()
        if batches is None:
            batches = (xp.asarray(b, dtype=xp.int64) for b in self.batch_sampler)
        for idx in batches:
            rows = idx if index_map is None else index_map[idx]
            # One gather per tensor instead of len(idx) __getitem__ calls and a stack.
            yield [t[Tensor._make(rows)] if t.requires_grad else Tensor._make(t._data[rows]) for t in tensors]

    def _iter_stream(self) -> Iterator:
        if self.batch_size is None:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

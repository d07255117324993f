"""DistributedSampler: each of N processes visits its own 1/N of the dataset every epoch
(PyTorch's ``torch.utils.data.distributed``).

The epoch's index list (shuffled, or 0 … n-1) is padded by repeating its start until its length
divides by ``num_replicas`` (or, with ``drop_last=True``, cut down to that length); rank r then
takes every ``num_replicas``-th index starting at r. The shards are disjoint and together cover
the (padded) epoch.

The shuffled order is ``randperm`` from a :class:`chainrule.Generator` seeded with
``seed + epoch``: the same on every rank (so the shards stay disjoint), new each epoch after
:meth:`DistributedSampler.set_epoch`, and — chainrule's generator being PyTorch's — exactly the
shards PyTorch's sampler gives, shuffled or not.

>>> [list(DistributedSampler(range(5), num_replicas=2, rank=r, shuffle=False)) for r in (0, 1)]
[[0, 2, 4], [1, 3, 0]]
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterator

from chainrule import distributed as dist
from chainrule.backend import Generator, random, xp

from .sampler import Sampler

__all__ = ["DistributedSampler"]


def _int_arg(name: str, value) -> int:
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"DistributedSampler: {name} must be an integer, got {value!r}") from None


class DistributedSampler(Sampler):
    """Restrict a DataLoader to this process's shard of the dataset; call :meth:`set_epoch` at the
    start of each epoch so that shuffling differs between epochs.

    ``num_replicas`` and ``rank`` default to the process group's world size and rank.

    >>> s = DistributedSampler(range(10), num_replicas=3, rank=2, shuffle=False, drop_last=True)
    >>> list(s), len(s)
    ([2, 5, 8], 3)
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False):
        if num_replicas is None or rank is None:
            if not dist.is_available():
                raise RuntimeError("DistributedSampler: Requires distributed package to be available "
                                   '(pip install "chainrule[mpi]"), or pass num_replicas and rank')
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        num_replicas, rank = _int_arg("num_replicas", num_replicas), _int_arg("rank", rank)
        if num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas should be a positive integer, "
                             f"got {num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"DistributedSampler: Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = bool(drop_last)
        n = len(dataset)
        if self.drop_last and n % num_replicas != 0:
            # The largest multiple of num_replicas not above n, per replica (PyTorch's formula).
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = bool(shuffle)
        self.seed = _int_arg("seed", seed)

    def _index_array(self):
        n = len(self.dataset)
        if self.shuffle:
            indices = random.randperm(n, Generator(self.seed + self.epoch))   # torch.randperm's order
        else:
            indices = xp.arange(n)
        if self.total_size > n:
            # Pad with the start of the list, repeated as often as needed (n may be < num_replicas).
            indices = xp.resize(indices, self.total_size) if n else indices
        else:
            indices = indices[:self.total_size]
        return indices[self.rank:self.total_size:self.num_replicas]

    def __iter__(self) -> Iterator[int]:
        return iter(self._index_array().tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use epoch ``epoch``'s order from the next ``iter()`` on (needed for a new shuffle each epoch).

        >>> s = DistributedSampler(range(4), num_replicas=2, rank=0, seed=1)
        >>> s.set_epoch(3); s.epoch
        3
        """
        self.epoch = _int_arg("epoch", epoch)

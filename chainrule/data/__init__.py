"""Data pipeline, as in PyTorch's ``torch.utils.data``: datasets, samplers and the DataLoader,
plus ready-made datasets (:mod:`chainrule.data.datasets`) and array loaders (:mod:`chainrule.data.sources`).

>>> import chainrule as cr
>>> from chainrule.data import DataLoader, TensorDataset
>>> loader = DataLoader(TensorDataset(cr.randn(10, 3), cr.arange(10)), batch_size=4, shuffle=True)
>>> [tuple(x.shape) for x, y in loader]
[(4, 3), (4, 3), (2, 3)]
"""

from . import datasets, sources
from .dataloader import DataLoader, default_collate, default_convert
from .dataset import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from .distributed import DistributedSampler
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler", "IterableDataset",
    "RandomSampler", "Sampler",
    "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler",
    "datasets", "default_collate", "default_convert", "random_split", "sources",
]

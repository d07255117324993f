"""Ready-made datasets as :class:`TensorDataset`\\ s: the bundled digits, MNIST and the notes' toy sets.

Images come as float32 tensors of shape (N, 1, H, W) scaled to [0, 1], labels as int64, so a
batch goes straight into a ``Conv2d`` and ``CrossEntropyLoss``. The arrays come from
:mod:`chainrule.data.sources`.
"""

from __future__ import annotations

import os

from chainrule.backend import xp
from chainrule.tensor import Tensor

from . import sources
from .dataset import TensorDataset

__all__ = ["circles", "digits", "linear", "mnist", "moons", "spirals", "xor"]


def _dataset(x, y) -> TensorDataset:
    return TensorDataset(Tensor._make(xp.ascontiguousarray(x)), Tensor._make(xp.ascontiguousarray(y)))


def digits(train: bool = True, split_seed: int = 0, test_fraction: float = 0.2) -> TensorDataset:
    """The bundled 8x8 handwritten digits: images (N, 1, 8, 8) float32 in [0, 1], int64 labels 0..9.

    ``train=True`` gives the training part, ``train=False`` the held-out part of the fixed stratified
    split :func:`chainrule.data.sources.digits_split` (1,438 / 359 images for the defaults); the two
    never overlap, so test accuracy measures generalisation.

    >>> ds = digits(train=False)
    >>> len(ds), tuple(ds.tensors[0].shape), ds.tensors[1].dtype
    (359, (359, 1, 8, 8), chainrule.int64)
    """
    x_train, y_train, x_test, y_test = sources.digits_split(test_fraction, seed=split_seed)
    x, y = (x_train, y_train) if train else (x_test, y_test)
    # Pixel counts are 0..16 (the number of set bits in a 4x4 block of the original 32x32 bitmap).
    return _dataset((x / 16.0).astype(xp.float32)[:, None], y)


def mnist(root: str | os.PathLike | None = None, train: bool = True, download: bool = False) -> TensorDataset:
    """MNIST: images (N, 1, 28, 28) float32 in [0, 1], int64 labels; 60,000 train / 10,000 test.

    Reads the four IDX files from ``root`` (default ``$CHAINRULE_DATA/mnist`` or
    ``~/.cache/chainrule/mnist``); ``download=True`` fetches missing files. Raises FileNotFoundError
    explaining where to put the files when they are absent.

    >>> ds = mnist(train=False, download=True)  # doctest: +SKIP
    >>> len(ds)  # doctest: +SKIP
    10000
    """
    x, y = sources.load_mnist(root, train=train, download=download)
    return _dataset((x / xp.float32(255.0)).astype(xp.float32)[:, None], y)


def xor(n_samples: int = 4, *, noise: float = 0.0, seed: int = 0) -> TensorDataset:
    """The XOR truth table (plus optional noise): float32 points (N, 2), int64 labels.

    >>> xor().tensors[1].tolist()
    [0, 1, 1, 0]
    """
    return _dataset(*sources.make_xor(n_samples, noise=noise, seed=seed))


def circles(n_samples: int = 200, *, radius: float = 1.0, noise: float = 0.0, seed: int = 0) -> TensorDataset:
    """A disc (class 1) inside a ring (class 0): float32 points (N, 2), int64 labels.

    >>> len(circles(100))
    100
    """
    return _dataset(*sources.make_circles(n_samples, radius=radius, noise=noise, seed=seed))


def moons(n_samples: int = 200, *, noise: float = 0.0, seed: int = 0) -> TensorDataset:
    """Two interleaving half circles: float32 points (N, 2), int64 labels.

    >>> tuple(moons(10).tensors[0].shape)
    (10, 2)
    """
    return _dataset(*sources.make_moons(n_samples, noise=noise, seed=seed))


def spirals(n_samples: int = 200, *, noise: float = 0.0, turns: float = 1.5, seed: int = 0) -> TensorDataset:
    """Two interleaved spirals: float32 points (N, 2), int64 labels.

    >>> int(spirals(200).tensors[1].sum())
    100
    """
    return _dataset(*sources.make_spirals(n_samples, noise=noise, turns=turns, seed=seed))


def linear(n_samples: int = 200, *, w: tuple[float, float] = (1.0, 1.0), b: float = 0.0, margin: float = 0.1,
           noise: float = 0.0, seed: int = 0) -> TensorDataset:
    """Two linearly separable classes (``w . x + b > 0`` is class 1): float32 (N, 2), int64 labels.

    >>> len(linear(50))
    50
    """
    return _dataset(*sources.make_linear(n_samples, w=w, b=b, margin=margin, noise=noise, seed=seed))

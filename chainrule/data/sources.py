"""Array-level data sources: the bundled digits, MNIST's IDX files and the lecture notes' toy sets.

Everything here returns plain ``xp`` (NumPy) arrays, never Tensors, so this layer can be tested
and reused without the autograd engine; the Dataset layer above wraps the arrays.

Toy generators put the sample of row ``i`` in class ``i % n_classes``: the classes are balanced
(to within one sample) and any prefix of the rows is balanced too, so no shuffle is needed to
take a smaller subset.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import operator
import os
import urllib.error
import urllib.request
import zlib
from importlib import resources
from pathlib import Path

from chainrule.backend import Generator, xp
from chainrule.backend.files import write_atomically

__all__ = [
    "digits_split", "load_digits", "load_mnist", "make_circles", "make_linear", "make_linear_regression",
    "make_moons", "make_spirals", "make_xor", "mnist_cache_dir", "read_idx",
]


# ----------------------------------------------------------------------------------- validation

def _check_n(func: str, n_samples) -> int:
    # operator.index accepts NumPy integers but not floats; bool is refused explicitly because
    # make_moons(True) is a bug, not a request for one sample.
    try:
        n = operator.index(n_samples)
    except TypeError:
        n = None
    if n is None or isinstance(n_samples, bool) or n <= 0:
        raise ValueError(f"{func}: n_samples must be a positive integer, got {n_samples!r}")
    return n


def _check_noise(func: str, noise) -> float:
    try:
        value = float(noise)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{func}: noise must be a finite number >= 0, got {noise!r}")
    return value


def _check_fraction(func: str, name: str, value) -> float:
    value = float(value)
    if not 0.0 < value < 1.0:
        raise ValueError(f"{func}: {name} must be strictly between 0 and 1, got {value!r}")
    return value


# ---------------------------------------------------------------------------------------- digits

def load_digits() -> tuple[xp.ndarray, xp.ndarray]:
    """The UCI handwritten digits bundled with chainrule: 1,797 8x8 images, 10 classes.

    Returns ``(images, labels)``: float32 images of shape (1797, 8, 8) holding the raw pixel
    counts 0..16 (divide by 16 to scale to [0, 1]) and int64 labels of shape (1797,).
    Reads the packaged file, so it works offline and from an installed wheel.
    See ``chainrule/data/files/DIGITS_LICENSE.txt`` for attribution (CC BY 4.0).

    >>> images, labels = load_digits()
    >>> images.shape, images.dtype, labels[:3]
    ((1797, 8, 8), dtype('float32'), array([0, 1, 2]))
    """
    # importlib.resources rather than __file__: it also works when the package is zipped.
    ref = resources.files("chainrule.data") / "files" / "digits.csv.gz"
    with ref.open("rb") as raw, gzip.open(raw, "rt", encoding="ascii") as f:
        table = xp.loadtxt(f, delimiter=",", dtype=xp.int64)
    # Each row: 64 pixels in row-major order, then the label.
    images = table[:, :64].reshape(-1, 8, 8).astype(xp.float32)
    labels = xp.ascontiguousarray(table[:, 64])
    return images, labels


def digits_split(test_fraction: float = 0.2, seed: int = 0
                 ) -> tuple[xp.ndarray, xp.ndarray, xp.ndarray, xp.ndarray]:
    """A fixed, stratified train/test split of :func:`load_digits`.

    Returns ``(x_train, y_train, x_test, y_test)`` in the same formats as ``load_digits``. Each class
    contributes ``round(count * test_fraction)`` images (at least one, and never all of them) to the
    test set, so the class proportions match. The split depends only on ``test_fraction`` and
    ``seed``; both parts keep the file's original row order.

    >>> x_tr, y_tr, x_te, y_te = digits_split(0.2, seed=0)
    >>> len(x_tr), len(x_te)
    (1438, 359)
    """
    test_fraction = _check_fraction("digits_split", "test_fraction", test_fraction)
    images, labels = load_digits()
    rng = Generator(seed).rng
    is_test = xp.zeros(len(labels), dtype=bool)
    for c in xp.unique(labels):  # sorted, so the draws happen in a fixed order
        idx = xp.flatnonzero(labels == c)
        k = min(max(round(len(idx) * test_fraction), 1), len(idx) - 1)
        is_test[rng.choice(idx, size=k, replace=False)] = True
    return images[~is_test], labels[~is_test], images[is_test], labels[is_test]


# ------------------------------------------------------------------------------------------- IDX

# IDX type codes (third magic byte) -> big-endian element types.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> xp.ndarray:
    """Read an IDX file (the MNIST format), gzip-compressed or not.

    The format: two zero bytes, a type code, the number of dimensions, one big-endian uint32 per
    dimension, then the big-endian data. Returns an array in native byte order with those
    dimensions. Raises ValueError naming the file for a bad header or wrong data size.

    >>> labels = read_idx("mnist/t10k-labels-idx1-ubyte.gz")  # doctest: +SKIP
    >>> labels.shape, labels.dtype  # doctest: +SKIP
    ((10000,), dtype('uint8'))
    """
    path = Path(path)
    data = path.read_bytes()
    # Sniff the gzip magic instead of trusting the suffix: files get renamed and re-compressed.
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise ValueError(f"read_idx: {path} is a corrupt or truncated gzip file ({e})") from e
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"read_idx: {path} is not an IDX file: bad magic number {data[:4].hex()!r} "
                         "(expected two zero bytes, a type code and a dimension count)")
    code, ndim = data[2], data[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"read_idx: {path} has bad magic number {data[:4].hex()!r}: unknown type code "
                         f"0x{code:02x} (known: {', '.join(f'0x{c:02x}' for c in _IDX_DTYPES)})")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"read_idx: {path} is truncated: its header needs {header} bytes, "
                         f"the file has {len(data)}")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = xp.dtype(_IDX_DTYPES[code])
    expected = math.prod(shape) * dtype.itemsize
    if len(data) - header != expected:
        problem = "truncated" if len(data) - header < expected else "longer than its header says"
        raise ValueError(f"read_idx: {path} is {problem}: size mismatch, shape {shape} needs {expected} "
                         f"data bytes, found {len(data) - header}")
    # frombuffer gives a read-only view of `data`; astype copies into a writable native array.
    return xp.frombuffer(data, dtype=dtype, offset=header).astype(dtype.newbyteorder("=")).reshape(shape)


# ----------------------------------------------------------------------------------------- MNIST

_MNIST_MIRROR = "https://ossci-datasets.s3.amazonaws.com/mnist/"
_MNIST_FILES = {  # name without .gz -> MD5 of the .gz file on the mirror
    "train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c",
}


def mnist_cache_dir() -> Path:
    """Where MNIST is cached: ``$CHAINRULE_DATA/mnist`` if that variable is set, else
    ``~/.cache/chainrule/mnist``.

    >>> mnist_cache_dir().name
    'mnist'
    """
    base = os.environ.get("CHAINRULE_DATA")
    return (Path(base).expanduser() if base else Path.home() / ".cache" / "chainrule") / "mnist"


def _find(root: Path, name: str) -> Path | None:
    for candidate in (root / name, root / (name + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def _md5(data: bytes) -> str:
    # usedforsecurity=False: this is an integrity check, and it keeps FIPS-mode Pythons happy.
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _download(root: Path, name: str, md5: str) -> None:
    dest = root / (name + ".gz")
    url = _MNIST_MIRROR + dest.name
    fix = (f"Download the MNIST files by other means and place them (gzipped or not) in {root}, "
           f"then call load_mnist again.")
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            data = response.read()
    except OSError as e:  # URLError, HTTPError and socket timeouts are all OSErrors
        raise RuntimeError(f"load_mnist: could not download {dest.name} from {url} ({e}). "
                           f"Are you offline? {fix}") from e
    got = _md5(data)
    if got != md5:
        raise RuntimeError(f"load_mnist: checksum mismatch for {dest.name} downloaded from {url}: "
                           f"MD5 {got}, expected {md5}; the file was not saved. {fix}")
    root.mkdir(parents=True, exist_ok=True)
    write_atomically(dest, data)   # an interrupted run never leaves a half file that looks complete


def load_mnist(root: str | os.PathLike | None = None, train: bool = True, download: bool = False
               ) -> tuple[xp.ndarray, xp.ndarray]:
    """Load MNIST from its four standard IDX files in ``root`` (default :func:`mnist_cache_dir`).

    Returns ``(images, labels)``: uint8 images (60000 or 10000, 28, 28) with values 0..255 (kept
    as uint8 to save memory; convert per batch) and int64 labels. Each file may be plain or
    ``.gz``. With ``download=True`` any missing file is fetched from the ossci-datasets mirror,
    MD5-checked and saved (gzipped) in ``root``; files already there are reused.

    >>> x, y = load_mnist(train=False, download=True)  # doctest: +SKIP
    >>> x.shape, x.dtype, y.shape  # doctest: +SKIP
    ((10000, 28, 28), dtype('uint8'), (10000,))
    """
    root = mnist_cache_dir() if root is None else Path(root).expanduser()
    if download:
        for name, md5 in _MNIST_FILES.items():
            found = _find(root, name)
            # A .gz with the wrong checksum is a broken earlier download: fetch it again.
            if found is None or (found.suffix == ".gz" and _md5(found.read_bytes()) != md5):
                _download(root, name, md5)
    prefix = "train" if train else "t10k"
    names = (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte")
    paths = [_find(root, n) for n in names]
    if None in paths:
        missing = ", ".join(str(root / n) + "(.gz)" for n, p in zip(names, paths) if p is None)
        raise FileNotFoundError(
            f"load_mnist: MNIST {'training' if train else 'test'} files not found. Expected "
            f"{names[0]}(.gz) and {names[1]}(.gz) in {root}; missing: {missing}. Pass download=True "
            f"to fetch them from {_MNIST_MIRROR}, or place the files there manually.")
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(f"load_mnist: {paths[0]} (shape {images.shape}) and {paths[1]} (shape "
                         f"{labels.shape}) do not form an MNIST split: expected (N, H, W) images "
                         "and N labels")
    return images.astype(xp.uint8, copy=False), labels.astype(xp.int64)


# ------------------------------------------------------------------------------------ toy sets

def _labels(n: int, n_classes: int = 2) -> xp.ndarray:
    return xp.arange(n, dtype=xp.int64) % n_classes


def _finish(X, y, noise: float, rng) -> tuple[xp.ndarray, xp.ndarray]:
    if noise > 0:
        X = X + rng.normal(0.0, noise, size=X.shape)
    return X.astype(xp.float32), y


def make_xor(n_samples: int = 4, *, noise: float = 0.0, seed: int = 0) -> tuple[xp.ndarray, xp.ndarray]:
    """The XOR problem: points at the corners of the unit square, labelled ``x1 XOR x2``.

    Row ``i`` sits at corner ``i % 4`` in truth-table order (0,0), (0,1), (1,0), (1,1), plus
    Gaussian noise of standard deviation ``noise``; so ``make_xor()`` is exactly the truth table.

    >>> X, y = make_xor()
    >>> X.tolist(), y.tolist()
    ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0])
    """
    n = _check_n("make_xor", n_samples)
    noise = _check_noise("make_xor", noise)
    corners = xp.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=xp.float64)
    corner = xp.arange(n) % 4
    y = (corners[corner, 0] != corners[corner, 1]).astype(xp.int64)
    return _finish(corners[corner], y, noise, Generator(seed).rng)


def make_circles(n_samples: int = 200, *, radius: float = 1.0, center: tuple[float, float] = (0.0, 0.0),
                 noise: float = 0.0, seed: int = 0) -> tuple[xp.ndarray, xp.ndarray]:
    """Class 1 inside a circle, class 0 in a ring around it: the notes' circular boundary.

    A point is class 1 exactly when ``(x1-c1)^2 + (x2-c2)^2 - radius^2 < 0`` (before noise), the
    boundary a model with features ``x1^2, x2^2, x1, x2`` can learn. Class 1 fills the disc
    uniformly, class 0 the ring between ``radius`` and ``2 * radius``.

    >>> X, y = make_circles(100, radius=2.0, seed=1)
    >>> bool(((((X ** 2).sum(1)) < 4.0) == (y == 1)).all())
    True
    """
    n = _check_n("make_circles", n_samples)
    noise = _check_noise("make_circles", noise)
    if not (math.isfinite(radius) and radius > 0):
        raise ValueError(f"make_circles: radius must be a finite number > 0, got {radius!r}")
    rng = Generator(seed).rng
    y = _labels(n)
    u = rng.uniform(0.0, 1.0, size=n)  # in [0, 1)
    # sqrt of a uniform variable gives uniform density over the area, not crowding at the centre.
    # Inner: rho in [0, r). Outer: rho in (r, 2r], strictly outside even with rounding luck.
    rho = xp.where(y == 1, radius * xp.sqrt(u), radius * xp.sqrt(4.0 - 3.0 * u))
    theta = rng.uniform(0.0, 2 * math.pi, size=n)
    X = xp.stack([rho * xp.cos(theta), rho * xp.sin(theta)], axis=1) + xp.asarray(center, dtype=xp.float64)
    return _finish(X, y, noise, rng)


def make_moons(n_samples: int = 200, *, noise: float = 0.0, seed: int = 0) -> tuple[xp.ndarray, xp.ndarray]:
    """Two interleaving half circles: class 0 is the upper arc ``(cos t, sin t)``, class 1 the
    lower arc ``(1 - cos t, 0.5 - sin t)``, ``t`` uniform in [0, pi].

    >>> X, y = make_moons(6, noise=0.1, seed=0)
    >>> X.shape, y.tolist()
    ((6, 2), [0, 1, 0, 1, 0, 1])
    """
    n = _check_n("make_moons", n_samples)
    noise = _check_noise("make_moons", noise)
    rng = Generator(seed).rng
    y = _labels(n)
    t = rng.uniform(0.0, math.pi, size=n)
    x1 = xp.where(y == 0, xp.cos(t), 1.0 - xp.cos(t))
    x2 = xp.where(y == 0, xp.sin(t), 0.5 - xp.sin(t))
    return _finish(xp.stack([x1, x2], axis=1), y, noise, rng)


def make_spirals(n_samples: int = 200, *, noise: float = 0.0, turns: float = 1.5,
                 seed: int = 0) -> tuple[xp.ndarray, xp.ndarray]:
    """Two interleaved spirals around the origin, radius growing from 0 to 1 over ``turns`` turns;
    class 1 is class 0 rotated by half a turn. Not linearly separable in any simple features.

    >>> X, y = make_spirals(200, noise=0.05, seed=0)
    >>> X.shape, int(y.sum())
    ((200, 2), 100)
    """
    n = _check_n("make_spirals", n_samples)
    noise = _check_noise("make_spirals", noise)
    if not (math.isfinite(turns) and turns > 0):
        raise ValueError(f"make_spirals: turns must be a finite number > 0, got {turns!r}")
    rng = Generator(seed).rng
    y = _labels(n)
    # sqrt spreads points evenly along the arm; plain uniform t would crowd them at the centre.
    t = xp.sqrt(rng.uniform(0.0, 1.0, size=n))
    theta = 2 * math.pi * turns * t + math.pi * y
    X = xp.stack([t * xp.cos(theta), t * xp.sin(theta)], axis=1)
    return _finish(X, y, noise, rng)


def make_linear(n_samples: int = 200, *, w: tuple[float, float] = (1.0, 1.0), b: float = 0.0,
                margin: float = 0.1, noise: float = 0.0, seed: int = 0) -> tuple[xp.ndarray, xp.ndarray]:
    """Linearly separable classes: class 1 where ``w . x + b > 0``, class 0 on the other side.

    Points lie at a distance between ``margin`` and ``margin + 1`` from the line (and within 2 of
    its foot point along it), so with ``noise=0`` a perceptron is guaranteed to converge.

    >>> X, y = make_linear(50, w=(2.0, -1.0), b=0.5, seed=3)
    >>> bool((((X @ [2.0, -1.0] + 0.5) > 0) == (y == 1)).all())
    True
    """
    n = _check_n("make_linear", n_samples)
    noise = _check_noise("make_linear", noise)
    w_arr = xp.asarray(w, dtype=xp.float64)
    norm = float(xp.linalg.norm(w_arr)) if w_arr.shape == (2,) else 0.0
    if not (norm > 0 and math.isfinite(norm)):
        raise ValueError(f"make_linear: w must be two finite numbers, not both zero, got {w!r}")
    if not (math.isfinite(margin) and margin >= 0):
        raise ValueError(f"make_linear: margin must be a finite number >= 0, got {margin!r}")
    rng = Generator(seed).rng
    y = _labels(n)
    normal = w_arr / norm
    along = xp.array([-normal[1], normal[0]])
    foot = -b * w_arr / norm ** 2  # the point of the line w . x + b = 0 nearest the origin
    dist = rng.uniform(margin, margin + 1.0, size=n) * xp.where(y == 1, 1.0, -1.0)
    pos = rng.uniform(-2.0, 2.0, size=n)
    X = foot + dist[:, None] * normal + pos[:, None] * along
    return _finish(X, y, noise, rng)


def make_linear_regression(n_samples: int = 100, w=(2.0, -3.4), b: float = 4.2, noise: float = 0.01,
                           seed: int = 0) -> tuple[xp.ndarray, xp.ndarray]:
    """Regression data ``y = X @ w + b + noise * N(0, 1)`` with ``X ~ N(0, 1)`` of shape (n, len(w)).

    Returns float32 ``X`` (n, d) and float32 ``y`` of shape (n,) (reshape to (n, 1) to compare it
    with a ``Linear(d, 1)`` output).

    >>> X, y = make_linear_regression(1000, w=[2.0, -3.4], b=4.2, noise=0.0)
    >>> bool(abs(y - (X @ [2.0, -3.4] + 4.2)).max() < 1e-5)
    True
    """
    n = _check_n("make_linear_regression", n_samples)
    noise = _check_noise("make_linear_regression", noise)
    w_arr = xp.asarray(w, dtype=xp.float64).reshape(-1)
    if w_arr.size == 0 or not xp.isfinite(w_arr).all():
        raise ValueError(f"make_linear_regression: w must be a non-empty sequence of finite numbers, "
                         f"got {w!r}")
    rng = Generator(seed).rng
    X = rng.normal(0.0, 1.0, size=(n, w_arr.size))
    y = X @ w_arr + float(b)
    if noise > 0:
        y = y + rng.normal(0.0, noise, size=n)
    return X.astype(xp.float32), y.astype(xp.float32)

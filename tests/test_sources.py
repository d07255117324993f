"""Tests for chainrule.data.sources: bundled digits, IDX/MNIST reading and download, toy generators."""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import struct
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from chainrule.backend import Generator, xp
from chainrule.data import sources
from chainrule.data.sources import (
    digits_split,
    load_digits,
    load_mnist,
    make_circles,
    make_linear,
    make_linear_regression,
    make_moons,
    make_spirals,
    make_xor,
    mnist_cache_dir,
    read_idx,
)

PACKAGE_DIR = Path(sources.__file__).resolve().parents[1]  # .../chainrule
MIRROR = "https://ossci-datasets.s3.amazonaws.com/mnist/"


# ---------------------------------------------------------------------------------------- digits

def test_digits_shape_dtype_and_range():
    images, labels = load_digits()
    assert images.shape == (1797, 8, 8) and images.dtype == xp.float32
    assert labels.shape == (1797,) and labels.dtype == xp.int64
    assert images.min() == 0 and images.max() == 16
    assert (images == xp.round(images)).all()  # raw pixel counts, not rescaled
    counts = xp.bincount(labels, minlength=10)
    assert counts.shape == (10,) and counts.sum() == 1797
    assert counts.min() >= 170 and counts.max() <= 190, counts
    assert labels[:10].tolist() == list(range(10))  # the file's known first rows


def test_digits_license_shipped():
    text = (PACKAGE_DIR / "data" / "files" / "DIGITS_LICENSE.txt").read_text()
    assert "10.24432/C50P49" in text and "CC BY 4.0" in text and "scikit-learn" in text


def test_digits_file_is_the_recorded_copy():
    # The licence file records the SHA-256 of the copy taken unchanged from scikit-learn (checked
    # against sklearn.datasets.load_digits when the file was added); the shipped file must still be it.
    import hashlib
    files = PACKAGE_DIR / "data" / "files"
    recorded = [line.split(":", 1)[1].strip() for line in (files / "DIGITS_LICENSE.txt").read_text().splitlines()
                if line.startswith("SHA-256:")]
    assert recorded and hashlib.sha256((files / "digits.csv.gz").read_bytes()).hexdigest() == recorded[0]


def _rows(x, y):
    # Sort image+label rows so two collections can be compared as multisets.
    table = xp.concatenate([x.reshape(len(x), -1), y[:, None].astype(xp.float32)], axis=1)
    return table[xp.lexsort(table.T[::-1])]


def test_digits_split_deterministic_stratified_disjoint():
    images, labels = load_digits()
    x_tr, y_tr, x_te, y_te = digits_split(0.2, seed=0)
    again = digits_split(0.2, seed=0)
    for a, b in zip((x_tr, y_tr, x_te, y_te), again):
        assert xp.array_equal(a, b)
    assert x_tr.shape[1:] == (8, 8) and x_tr.dtype == xp.float32 and y_tr.dtype == xp.int64
    assert len(x_tr) == len(y_tr) and len(x_te) == len(y_te) and len(x_tr) + len(x_te) == 1797
    # Stratified: each class gives round(count * 0.2) images to the test set.
    full, test = xp.bincount(labels, minlength=10), xp.bincount(y_te, minlength=10)
    assert test.tolist() == [round(c * 0.2) for c in full.tolist()]
    # Disjoint and complete: train + test is exactly the dataset, as a multiset of rows.
    assert xp.array_equal(_rows(xp.concatenate([x_tr, x_te]), xp.concatenate([y_tr, y_te])),
                          _rows(images, labels))
    # A different seed picks a different test set of the same size.
    other = digits_split(0.2, seed=1)
    assert len(other[2]) == len(x_te) and not xp.array_equal(other[2], x_te)


@pytest.mark.parametrize("bad", [0, 1, -0.1, 1.5])
def test_digits_split_bad_fraction(bad):
    with pytest.raises(ValueError, match=rf"digits_split: test_fraction .*{re.escape(repr(float(bad)))}"):
        digits_split(bad)


# ------------------------------------------------------------------------------------------- IDX

_CODES = {"uint8": 0x08, "int8": 0x09, "int16": 0x0B, "int32": 0x0C, "float32": 0x0D, "float64": 0x0E}


def write_idx(path: Path, array, gz: bool = False) -> Path:
    """A minimal IDX writer, independent of the reader under test."""
    header = bytes([0, 0, _CODES[array.dtype.name], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


def _images(n=5, h=3, w=4, seed=0):
    return Generator(seed).rng.integers(0, 256, size=(n, h, w)).astype(xp.uint8)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_round_trip(tmp_path, gz):
    images = _images()
    labels = xp.array([3, 1, 4, 1, 5], dtype=xp.uint8)
    suffix = ".gz" if gz else ""
    got_images = read_idx(write_idx(tmp_path / f"img{suffix}", images, gz))
    got_labels = read_idx(write_idx(tmp_path / f"lab{suffix}", labels, gz))
    assert got_images.dtype == xp.uint8 and got_images.shape == (5, 3, 4)
    assert xp.array_equal(got_images, images)
    assert got_labels.dtype == xp.uint8 and got_labels.tolist() == [3, 1, 4, 1, 5]


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "float32", "float64"])
def test_idx_other_dtypes_are_big_endian(tmp_path, dtype):
    array = (xp.arange(24).reshape(2, 3, 4) - 7).astype(dtype)
    got = read_idx(write_idx(tmp_path / "a.idx", array))
    assert got.dtype == xp.dtype(dtype) and got.dtype.isnative and xp.array_equal(got, array)
    got[0, 0, 0] = 1  # writable, not a view of the file's bytes


def test_idx_gzip_detected_without_suffix(tmp_path):
    labels = xp.arange(7, dtype=xp.uint8)
    assert xp.array_equal(read_idx(write_idx(tmp_path / "labels-no-suffix", labels, gz=True)), labels)


def test_idx_truncated(tmp_path):
    path = write_idx(tmp_path / "img", _images())
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(ValueError, match=r"read_idx: .*img is truncated: size mismatch, shape \(5, 3, 4\)"):
        read_idx(path)


def test_idx_truncated_header(tmp_path):
    path = write_idx(tmp_path / "img", _images())
    path.write_bytes(path.read_bytes()[:9])
    with pytest.raises(ValueError, match="truncated"):
        read_idx(path)


def test_idx_too_long(tmp_path):
    path = write_idx(tmp_path / "img", _images())
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(ValueError, match="size mismatch"):
        read_idx(path)


def test_idx_truncated_gzip(tmp_path):
    path = write_idx(tmp_path / "img.gz", _images(), gz=True)
    path.write_bytes(path.read_bytes()[:-12])
    with pytest.raises(ValueError, match=r"img\.gz is a corrupt or truncated gzip"):
        read_idx(path)


def test_idx_bad_magic(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello, this is not an IDX file")
    with pytest.raises(ValueError, match=r"read_idx: .*notes\.txt is not an IDX file: bad magic number"):
        read_idx(path)
    path.write_bytes(bytes([0, 0, 0x42, 1, 0, 0, 0, 0]))  # unknown type code
    with pytest.raises(ValueError, match=r"bad magic number.*unknown type code 0x42"):
        read_idx(path)


# ----------------------------------------------------------------------------------------- MNIST

def _fake_mnist(root: Path, gz: bool) -> dict[str, bytes]:
    """Write tiny train/test IDX files into root; return {file name: bytes written}."""
    root.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": _images(6, 28, 28, seed=1),
        "train-labels-idx1-ubyte": xp.arange(6, dtype=xp.uint8),
        "t10k-images-idx3-ubyte": _images(2, 28, 28, seed=2),
        "t10k-labels-idx1-ubyte": xp.array([7, 2], dtype=xp.uint8),
    }
    out = {}
    for name, array in arrays.items():
        path = write_idx(root / (name + (".gz" if gz else "")), array, gz)
        out[path.name] = path.read_bytes()
    return out


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_from_files(tmp_path, gz):
    _fake_mnist(tmp_path, gz)
    x, y = load_mnist(tmp_path, train=True)
    assert x.shape == (6, 28, 28) and x.dtype == xp.uint8
    assert y.dtype == xp.int64 and y.tolist() == list(range(6))
    assert xp.array_equal(x, _images(6, 28, 28, seed=1))
    x, y = load_mnist(str(tmp_path), train=False)
    assert x.shape == (2, 28, 28) and y.tolist() == [7, 2]


def test_load_mnist_missing_files_names_paths(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(tmp_path, train=True)
    message = str(info.value)
    assert str(tmp_path / "train-images-idx3-ubyte") in message
    assert str(tmp_path / "train-labels-idx1-ubyte") in message
    assert "download=True" in message
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        load_mnist(tmp_path, train=False)


def test_load_mnist_mismatched_counts(tmp_path):
    _fake_mnist(tmp_path, gz=False)
    write_idx(tmp_path / "train-labels-idx1-ubyte", xp.arange(5, dtype=xp.uint8))
    with pytest.raises(ValueError, match="do not form an MNIST split"):
        load_mnist(tmp_path)


def test_cache_dir_env_var(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAINRULE_DATA", str(tmp_path))
    assert mnist_cache_dir() == tmp_path / "mnist"
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "mnist"))):
        load_mnist()
    monkeypatch.delenv("CHAINRULE_DATA")
    assert mnist_cache_dir() == Path.home() / ".cache" / "chainrule" / "mnist"


def test_download_offline_names_url(tmp_path, monkeypatch):
    def offline(url, *args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(RuntimeError) as info:
        load_mnist(tmp_path, download=True)
    message = str(info.value)
    assert MIRROR + "train-images-idx3-ubyte.gz" in message
    assert "train-images-idx3-ubyte.gz" in message and str(tmp_path) in message
    assert "place them" in message  # tells the user what to do
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_download_checksum_mismatch(tmp_path, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, *a, **k: io.BytesIO(b"<html>403</html>"))
    with pytest.raises(RuntimeError, match=r"checksum mismatch for train-images-idx3-ubyte\.gz") as info:
        load_mnist(tmp_path, download=True)
    assert MIRROR + "train-images-idx3-ubyte.gz" in str(info.value)
    assert not list(tmp_path.glob("*.gz"))


def test_download_success_then_cached(tmp_path, monkeypatch):
    served = _fake_mnist(tmp_path / "server", gz=True)
    # Our fake files have their own checksums; point the table at them for this test.
    monkeypatch.setattr(sources, "_MNIST_FILES",
                        {name[:-3]: hashlib.md5(data).hexdigest() for name, data in served.items()})
    requested = []

    def serve(url, *args, **kwargs):
        requested.append(url)
        assert url.startswith(MIRROR)
        return io.BytesIO(served[url[len(MIRROR):]])

    monkeypatch.setattr(urllib.request, "urlopen", serve)
    root = tmp_path / "cache" / "mnist"  # created on demand
    x, y = load_mnist(root, train=False, download=True)
    assert len(requested) == 4 and y.tolist() == [7, 2]
    assert sorted(p.name for p in root.iterdir()) == sorted(served)
    # Second call: everything is cached, so the network must not be touched.
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("network used"))
    x, y = load_mnist(root, train=True, download=True)
    assert x.shape == (6, 28, 28)


# ------------------------------------------------------------------------------------ toy sets

GENERATORS = [make_xor, make_circles, make_moons, make_spirals, make_linear]


@pytest.mark.parametrize("make", GENERATORS)
def test_generator_shapes_determinism_balance(make):
    X, y = make(101, noise=0.1, seed=7)
    assert X.shape == (101, 2) and X.dtype == xp.float32
    assert y.shape == (101,) and y.dtype == xp.int64
    X2, y2 = make(101, noise=0.1, seed=7)
    assert xp.array_equal(X, X2) and xp.array_equal(y, y2)
    X3, _ = make(101, noise=0.1, seed=8)
    assert not xp.allclose(X, X3)
    assert xp.isfinite(X).all()
    counts = xp.bincount(y)
    assert counts.tolist() == [51, 50]
    assert xp.bincount(y[:20]).tolist() == [10, 10]  # any prefix is balanced too


@pytest.mark.parametrize("make", GENERATORS)
@pytest.mark.parametrize("kwargs, arg", [({"n_samples": 0}, "n_samples"), ({"n_samples": -3}, "n_samples"),
                                         ({"n_samples": 2.5}, "n_samples"), ({"n_samples": True}, "n_samples"),
                                         ({"n_samples": 10, "noise": "lots"}, "noise"),
                                         ({"n_samples": 10, "noise": -0.1}, "noise")])
def test_generator_bad_arguments(make, kwargs, arg):
    with pytest.raises(ValueError, match=rf"{make.__name__}: {arg} .*got {re.escape(repr(kwargs[arg]))}"):
        make(**kwargs)


def test_xor_truth_table():
    X, y = make_xor(4, noise=0.0)
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert y.tolist() == [0, 1, 1, 0]
    X, y = make_xor(xp.int64(400), noise=0.1, seed=0)  # NumPy integers are accepted
    assert xp.bincount(y).tolist() == [200, 200]
    # Noisy points still cluster around their own corner.
    corner = xp.round(X).clip(0, 1)
    assert ((corner[:, 0] != corner[:, 1]) == (y == 1)).mean() > 0.95


@pytest.mark.parametrize("radius, center", [(1.0, (0.0, 0.0)), (0.5, (2.0, -1.0))])
def test_circles_radius_rule(radius, center):
    X, y = make_circles(500, radius=radius, center=center, noise=0.0, seed=3)
    X = X.astype(xp.float64)
    score = (X[:, 0] - center[0]) ** 2 + (X[:, 1] - center[1]) ** 2 - radius ** 2
    assert ((score < 0) == (y == 1)).all()
    assert xp.sqrt(score + radius ** 2).max() <= 2 * radius + 1e-5


def test_circles_bad_radius():
    with pytest.raises(ValueError, match="make_circles: radius"):
        make_circles(10, radius=0)


def test_moons_on_arcs_without_noise():
    X, y = make_moons(200, noise=0.0, seed=0)
    X = X.astype(xp.float64)
    top = X[y == 0]
    bottom = X[y == 1]
    assert xp.allclose(xp.hypot(top[:, 0], top[:, 1]), 1.0, atol=1e-6) and (top[:, 1] >= -1e-7).all()
    assert xp.allclose(xp.hypot(1 - bottom[:, 0], 0.5 - bottom[:, 1]), 1.0, atol=1e-6)


def test_spirals_interleave():
    X, y = make_spirals(200, noise=0.0, turns=1.5, seed=0)
    X = X.astype(xp.float64)
    r = xp.hypot(X[:, 0], X[:, 1])
    assert r.max() <= 1.0 + 1e-6
    # Each point sits on its arm: angle 2*pi*turns*r, plus half a turn for class 1.
    theta = 2 * xp.pi * 1.5 * r + xp.pi * y
    assert xp.allclose(X, r[:, None] * xp.stack([xp.cos(theta), xp.sin(theta)], axis=1), atol=1e-5)
    with pytest.raises(ValueError, match="make_spirals: turns"):
        make_spirals(10, turns=-1)


def test_linear_separable_with_margin():
    w, b = (2.0, -1.0), 0.5
    X, y = make_linear(300, w=w, b=b, margin=0.2, noise=0.0, seed=4)
    dist = (X.astype(xp.float64) @ xp.array(w) + b) / xp.hypot(*w)
    assert ((dist > 0) == (y == 1)).all()
    assert xp.abs(dist).min() >= 0.2 - 1e-5
    with pytest.raises(ValueError, match="make_linear: w"):
        make_linear(10, w=(0.0, 0.0))


def test_linear_regression():
    w, b = [2.0, -3.4, 0.5], 4.2
    X, y = make_linear_regression(500, w, b, 0.0, 0)
    assert X.shape == (500, 3) and y.shape == (500,) and X.dtype == y.dtype == xp.float32
    assert xp.allclose(y, X @ xp.array(w, dtype=xp.float32) + b, atol=1e-4)
    X, y = make_linear_regression(2000, w, b, noise=0.1, seed=1)
    design = xp.concatenate([X, xp.ones((len(X), 1), dtype=xp.float32)], axis=1)
    coef = xp.linalg.lstsq(design.astype(xp.float64), y.astype(xp.float64), rcond=None)[0]
    assert xp.allclose(coef, w + [b], atol=0.02)
    residual = y - X @ xp.array(w, dtype=xp.float32) - b
    assert 0.08 < residual.std() < 0.12
    X2, y2 = make_linear_regression(2000, w, b, noise=0.1, seed=1)
    assert xp.array_equal(X, X2) and xp.array_equal(y, y2)
    with pytest.raises(ValueError, match=r"make_linear_regression: noise .*-1\.0"):
        make_linear_regression(10, w, b, noise=-1.0)
    with pytest.raises(ValueError, match=r"make_linear_regression: n_samples .*got 0"):
        make_linear_regression(0, w, b)


# ------------------------------------------------------------------------------------ layering

def test_numpy_imported_only_in_backend():
    pattern = re.compile(r"^\s*(import numpy|from numpy)", re.MULTILINE)
    backend = PACKAGE_DIR / "backend"
    offenders = [str(p.relative_to(PACKAGE_DIR)) for p in sorted(PACKAGE_DIR.rglob("*.py"))
                 if backend not in p.parents and pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == [], f"NumPy imported outside chainrule/backend/: {offenders}"
    assert (PACKAGE_DIR / "data" / "sources.py").exists()  # the scan really covers the package

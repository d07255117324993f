"""The optional numba kernels (chainrule.backend.accel) against the NumPy kernels and against PyTorch.

Both paths must give the same numbers: im2col bit for bit, col2im and the pooling scatter up to the
order of additions, max-pooling's values and winning offsets exactly. numba is a test dependency:
under CI (``CI=true``) a missing numba fails these tests instead of skipping them.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule.backend import accel
from chainrule.backend import conv_kernels as K
from chainrule.nn import functional_conv as F


@pytest.fixture(scope="module")
def numba():
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        import numba
        return numba
    return pytest.importorskip("numba")


@contextlib.contextmanager
def kernels(flag: bool):
    previous = accel.use(flag)
    try:
        yield
    finally:
        accel.use(previous)


GEOMETRIES = [  # (x shape, kernel, stride, padding (t, b, l, r), dilation)
    ((2, 3, 9, 8), (3, 3), (1, 1), (0, 0, 0, 0), (1, 1)),
    ((2, 3, 9, 8), (3, 2), (2, 1), (1, 1, 2, 2), (1, 1)),
    ((1, 2, 10, 11), (3, 3), (1, 2), (1, 2, 0, 1), (2, 3)),
    ((3, 1, 28, 28), (5, 5), (1, 1), (0, 0, 0, 0), (1, 1)),
    ((2, 4, 5, 5), (1, 1), (2, 2), (0, 0, 0, 0), (1, 1)),
    ((0, 2, 6, 6), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1)),     # an empty batch
]


def _sizes(xs, k, s, p, d):
    return (K.out_size(xs[2], k[0], s[0], p[0], p[1], d[0]), K.out_size(xs[3], k[1], s[1], p[2], p[3], d[1]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("xs, k, s, p, d", GEOMETRIES)
def test_im2col_and_col2im_agree_with_numpy(numba, xs, k, s, p, d, dtype):
    rng = np.random.default_rng(0)
    geom = K.Geometry(s, p, d)
    oh, ow = _sizes(xs, k, s, p, d)
    x = rng.standard_normal(xs).astype(dtype)
    gcols = rng.standard_normal((xs[1], k[0], k[1], xs[0], oh, ow)).astype(dtype)
    results = {}
    for flag in (False, True):
        with kernels(flag):
            assert accel.available() is flag
            cols = K.im2col(x, k[0], k[1], geom, oh, ow).copy()
            gx = K.col2im(gcols, geom, xs)
        results[flag] = cols, gx
    np.testing.assert_array_equal(results[True][0], results[False][0])
    assert results[True][1].dtype == dtype and results[True][1].shape == xs
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(results[True][1], results[False][1], rtol=tol, atol=tol)
    # the adjoint identity <im2col(x), gcols> = <x, col2im(gcols)> ties the pair together
    np.testing.assert_allclose(np.vdot(results[True][0], gcols), np.vdot(x, results[True][1]), rtol=1e-4)


@pytest.mark.parametrize("flag", [False, True])
@pytest.mark.parametrize("kw", [{}, {"stride": 2, "padding": 1}, {"dilation": 2, "groups": 2, "padding": (2, 1)}])
def test_conv2d_float32_matches_torch_on_both_paths(numba, torch, flag, kw):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 4, 12, 11)).astype(np.float32)
    w = rng.standard_normal((6, 4 // kw.get("groups", 1), 3, 3)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    ours = [cr.tensor(a, requires_grad=True) for a in (x, w, b)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    with kernels(flag):
        y = F.conv2d(*ours, **kw)
        g = rng.standard_normal(tuple(y.shape)).astype(np.float32)
        y.backward(cr.tensor(g))
    yt = torch.nn.functional.conv2d(*theirs, **kw)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-4)
    for mine, ref in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad.numpy(), ref.grad.numpy(), rtol=1e-4, atol=1e-3)


def _pool_both(x, kernel_size, **kw):
    """(values, PyTorch indices, input gradient) from max_pool2d on each path."""
    out = {}
    for flag in (False, True):
        t = cr.tensor(x, requires_grad=True)
        with kernels(flag):
            y = F.max_pool2d(t, kernel_size, **kw)
            upstream = np.random.default_rng(2).standard_normal(tuple(y.shape)).astype(x.dtype)
            y.backward(cr.tensor(upstream))
            # indices from an input without grad: return_indices on a recorded graph reads a
            # ``node.arg`` that MaxPool2d no longer keeps (a bug in nn/functional_conv.py, reported)
            _, idx = F.max_pool2d(cr.tensor(x), kernel_size, return_indices=True, **kw)
        out[flag] = y.detach().numpy(), idx.numpy(), t.grad.numpy()
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("xs, kernel_size, kw", [
    ((3, 5, 24, 24), 2, {}),                       # MaxPool2d(2): the compiled 2×2 kernel
    ((2, 3, 9, 7), 2, {}),                         # odd sizes: the last row/column is not read
    ((2, 3, 9, 7), 2, {"ceil_mode": True}),        # partial windows: the NumPy path
    ((2, 3, 10, 10), 3, {"stride": 2, "padding": 1}),
])
def test_max_pool_agrees_with_numpy_and_torch(numba, torch, xs, kernel_size, kw, dtype):
    # small integers: many ties, which must go to the first maximum on both paths and in PyTorch
    x = np.random.default_rng(3).integers(-3, 4, xs).astype(dtype)
    res = _pool_both(x, kernel_size, **kw)
    np.testing.assert_array_equal(res[True][0], res[False][0])
    np.testing.assert_array_equal(res[True][1], res[False][1])
    # overlapping windows add into one position in another order: equal up to rounding
    np.testing.assert_allclose(res[True][2], res[False][2], rtol=1e-6, atol=1e-6)
    yt, it = torch.nn.functional.max_pool2d(torch.tensor(x), kernel_size, return_indices=True, **kw)
    np.testing.assert_array_equal(res[True][0], yt.numpy())
    np.testing.assert_array_equal(res[True][1], it.numpy())


def test_max_pool_nan_and_inf_take_the_exact_path(numba, torch):
    x = np.random.default_rng(4).standard_normal((2, 2, 6, 6)).astype(np.float32)
    x[0, 0, 0, 1] = np.nan
    x[0, 1, 2, 2] = np.inf
    x[1, 0, 3, 3] = -np.inf
    res = _pool_both(x, 2)
    yt, it = torch.nn.functional.max_pool2d(torch.tensor(x), 2, return_indices=True)
    for flag in (False, True):
        np.testing.assert_array_equal(res[flag][0], yt.numpy())     # NaN == NaN for assert_array_equal
        np.testing.assert_array_equal(res[flag][1], it.numpy())


def test_pool_scatter_agrees_with_numpy(numba):
    rng = np.random.default_rng(5)
    geom = K.Geometry((1, 2), (1, 0, 1, 1), (2, 1))       # overlapping windows, padding, dilation
    xs, k = (2, 3, 8, 9), (2, 3)
    oh, ow = _sizes(xs, k, geom.stride, geom.padding, geom.dilation)
    g = rng.standard_normal((2, 3, oh, ow))
    arg = rng.integers(0, 6, (2, 3, oh, ow)).astype(np.uint8)
    with kernels(True):
        fast = K.pool_scatter(g, arg, k, geom, xs)
    with kernels(False):
        slow = K.pool_scatter(g, arg, k, geom, xs)
    np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)
    assert np.abs(fast).sum() > 0


def _run(code: str, **env) -> str:
    base = {k: v for k, v in os.environ.items() if k != "CHAINRULE_NUMBA"}   # the probe sets it itself
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**base, **env}).stdout.strip()


def test_numba_is_not_imported_until_a_kernel_needs_it_and_can_be_switched_off(numba):
    probe = ("import sys, chainrule as cr; a = 'numba' in sys.modules; "
             "cr.nn.functional.conv2d(cr.ones(1, 1, 4, 4), cr.ones(1, 1, 2, 2)); "
             "from chainrule.backend import accel; print(a, 'numba' in sys.modules, accel.available())")
    assert _run(probe) == "False True True"
    assert _run(probe, CHAINRULE_NUMBA="0") == "False False False"


def test_float16_falls_back_to_numpy_kernels(numba):
    """numba has no float16: a half-precision conv and pool run the NumPy kernels, same numbers."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 2, 10, 10)).astype(np.float16)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float16)
    results = []
    for flag in (True, False):
        with kernels(flag):
            t = cr.tensor(x, requires_grad=True)
            y = F.max_pool2d(F.conv2d(t, cr.tensor(w), padding=1), 2)
            y.sum().backward()
        assert y.dtype == cr.float16 and t.grad.dtype == cr.float16
        results.append((y.detach().numpy(), t.grad.numpy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])

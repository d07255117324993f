"""float32 checks for the kernels written for speed (issue 11): the oracle rows in op_specs.py run in
float64; these run the float32 paths (their own erf, in-place updates, fused ops) against PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.backend.special import erf

F = cr.nn.functional
RNG = np.random.default_rng(11)


def _pair(torch, a):
    return cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _close(got, want, rtol=2e-6, atol=2e-6, what=""):
    got = got.detach().numpy() if hasattr(got, "detach") else np.asarray(got)
    want = want.detach().numpy() if hasattr(want, "detach") else np.asarray(want)
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} vs torch {want.dtype}"
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=what)


def test_float32_erf_is_within_a_few_ulps_everywhere(torch):
    x = np.concatenate([np.linspace(-6, 6, 20001), np.logspace(-30, 0.7, 500), -np.logspace(-30, 0.7, 500)])
    x = x.astype(np.float32)
    exact = torch.erf(torch.tensor(x, dtype=torch.float64)).numpy()
    got = erf(x)
    assert got.dtype == np.float32
    ulps = np.abs(got - exact.astype(np.float32)) / np.spacing(np.abs(exact).astype(np.float32))
    assert ulps.max() <= 8, f"float32 erf is off by {ulps.max()} ulps"
    assert np.abs(got).max() <= 1.0
    special = erf(np.array([0.0, -0.0, np.inf, -np.inf, np.nan], np.float32))
    assert special[:4].tolist() == [0.0, 0.0, 1.0, -1.0] and np.signbit(special[1]) and np.isnan(special[4])
    assert erf(np.array(0.5, np.float32)).shape == ()


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("shape", [(), (7,), (3, 64, 33)])
def test_gelu_float32_forward_and_backward(torch, approximate, shape):
    a = (RNG.standard_normal(shape) * 3).astype(np.float32)
    g = RNG.standard_normal(shape).astype(np.float32)
    x, xt = _pair(torch, a)
    y, yt = F.gelu(x, approximate=approximate), torch.nn.functional.gelu(xt, approximate=approximate)
    _close(y, yt, what="gelu forward")
    y.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    # tanh form: 1 + tanh(u) cancels for x << 0 in both libraries (float32 noise of ~1e-6 there)
    _close(x.grad, xt.grad, atol=2e-6 if approximate == "none" else 1e-5, what="gelu backward")


def test_gelu_float32_saturates_without_nan(torch):
    a = np.array([-1e30, -50.0, 50.0, 1e30, np.inf, -np.inf], np.float32)
    x, xt = _pair(torch, a)
    y = F.gelu(x)
    y.sum().backward()
    yt = torch.nn.functional.gelu(xt)
    yt.sum().backward()
    # torch's vectorised float32 erf gives NaN at +inf on AVX-512 CPUs (its scalar path and float64 give inf,
    # as on AVX2): the float64 result is the reference there
    _close(y, torch.nn.functional.gelu(xt.detach().double()).float(), what="gelu forward at the extremes")
    _close(x.grad[:4], xt.grad[:4], what="gelu backward at the extremes")


@pytest.mark.parametrize("p", [2, 3, 3.0, 0.5, -1, -0.5, -2.0, 1.7])
def test_scalar_powers_float32(torch, p):
    a = RNG.uniform(0.5, 2.0, (4, 50)).astype(np.float32)
    x, xt = _pair(torch, a)
    y, yt = x ** p, xt ** p
    _close(y, yt, rtol=1e-6, what=f"x ** {p}")
    y.sum().backward()
    yt.sum().backward()
    _close(x.grad, xt.grad, rtol=1e-6, what=f"d(x ** {p})")


def test_nd_matmul_by_matrix_float32_is_one_gemm_and_matches(torch):
    a = RNG.standard_normal((4, 3, 5, 16)).astype(np.float32)
    b = RNG.standard_normal((16, 8)).astype(np.float32)
    x, xt = _pair(torch, a)
    w, wt = _pair(torch, b)
    y, yt = x @ w, xt @ wt
    _close(y, yt, rtol=1e-5, atol=1e-5, what="matmul")
    g = RNG.standard_normal(y.shape).astype(np.float32)
    y.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    _close(x.grad, xt.grad, rtol=1e-5, atol=1e-5, what="matmul grad x")
    _close(w.grad, wt.grad, rtol=1e-5, atol=1e-4, what="matmul grad w")
    # a transposed (non-contiguous) left operand takes the same path
    xt2 = torch.tensor(a).transpose(1, 2)
    _close(cr.tensor(a).transpose(1, 2) @ cr.tensor(b), xt2 @ torch.tensor(b), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_float32(torch, affine):
    a = (RNG.standard_normal((6, 5, 32)) * 4 + 3).astype(np.float32)
    x, xt = _pair(torch, a)
    w = b = wt = bt = None
    if affine:
        w, wt = _pair(torch, RNG.standard_normal(32).astype(np.float32))
        b, bt = _pair(torch, RNG.standard_normal(32).astype(np.float32))
    y, yt = F.layer_norm(x, (32,), w, b), torch.nn.functional.layer_norm(xt, (32,), wt, bt)
    assert y.grad_fn.name() == yt.grad_fn.name()
    _close(y, yt, rtol=1e-5, atol=1e-5, what="layer_norm")
    g = RNG.standard_normal(y.shape).astype(np.float32)
    y.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    _close(x.grad, xt.grad, rtol=1e-4, atol=1e-4, what="layer_norm grad x")
    if affine:
        _close(w.grad, wt.grad, rtol=1e-4, atol=1e-4, what="layer_norm grad w")
        _close(b.grad, bt.grad, rtol=1e-5, atol=1e-5, what="layer_norm grad b")


def test_layer_norm_checks_weight_shape():
    with pytest.raises(RuntimeError, match=r"layer_norm: expected weight of shape .*\(4,\).*\(3,\)"):
        F.layer_norm(cr.ones(2, 4), (4,), cr.ones(3))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_float32_with_ignore_and_weight(torch, reduction):
    a = (RNG.standard_normal((64, 65)) * 5).astype(np.float32)
    t = RNG.integers(0, 65, 64)
    t[:5] = -100
    wv = RNG.uniform(0.5, 2, 65).astype(np.float32)
    x, xt = _pair(torch, a)
    y = F.cross_entropy(x, cr.tensor(t), cr.tensor(wv), reduction=reduction)
    yt = torch.nn.functional.cross_entropy(xt, torch.tensor(t), torch.tensor(wv), reduction=reduction)
    _close(y, yt, rtol=1e-5, atol=1e-6, what="cross_entropy")
    g = np.ones(y.shape, np.float32) * 0.5
    y.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    _close(x.grad, xt.grad, rtol=1e-5, atol=1e-7, what="cross_entropy grad")


def test_cross_entropy_huge_logits_stay_finite():
    x = cr.tensor([[1e4, -1e4, 0.0], [-3e38, 3e38, 0.0]], requires_grad=True)
    loss = F.cross_entropy(x, cr.tensor([1, 1]))
    loss.backward()
    assert math.isfinite(loss.item()) and bool(x.grad.isfinite().all())


@pytest.mark.parametrize("compiled", [True, False], ids=["numba", "numpy"])
@pytest.mark.parametrize("rows, index_shape, padding_idx", [(65, (8, 32), None), (27, (32, 3), 0), (3000, (64, 50), 7)])
def test_embedding_backward_both_paths(torch, rows, index_shape, padding_idx, compiled):
    """Small tables take a one-hot product, big ones sort + reduceat (with numba: one compiled loop);
    all must equal torch's sum."""
    from chainrule.backend import accel
    w = RNG.standard_normal((rows, 16)).astype(np.float32)
    idx = RNG.integers(0, min(rows, 40), index_shape)       # few distinct rows: many repeats
    x, xt = _pair(torch, w)
    yt = torch.nn.functional.embedding(torch.tensor(idx), xt, padding_idx=padding_idx)
    g = RNG.standard_normal(yt.shape).astype(np.float32)
    yt.backward(torch.tensor(g))
    previous = accel.use(compiled)
    try:
        F.embedding(cr.tensor(idx), x, padding_idx=padding_idx).backward(cr.tensor(g))
    finally:
        accel.use(previous)
    _close(x.grad, xt.grad, rtol=1e-5, atol=1e-5, what="embedding grad")


@pytest.mark.parametrize("xs, ws, stride, padding, dilation, groups", [
    ((5, 4, 12, 12), (6, 4, 5, 5), (1, 1), (0, 0, 0, 0), (1, 1), 1),      # LeNet's second conv, smaller batch
    ((3, 4, 9, 11), (6, 2, 3, 2), (2, 1), (1, 2, 0, 1), (1, 2), 2),       # stride, uneven padding, dilation, groups
    ((2, 3, 7, 7), (4, 3, 1, 1), (1, 1), (0, 0, 0, 0), (1, 1), 1),
])
def test_conv_batch_last_columns_agree_with_channel_major(torch, xs, ws, stride, padding, dilation, groups):
    """The NumPy path's batch-last layout (small images) and the channel-major one give the same forward,
    input gradient and weight gradient, both equal to torch's (float64)."""
    from chainrule.backend import accel
    from chainrule.backend.conv_kernels import Geometry
    from chainrule.ops.conv import by_channel, conv_forward, conv_input_grad, conv_weight_grad

    x, w, b = RNG.standard_normal(xs), RNG.standard_normal(ws), RNG.standard_normal(ws[0])
    geom = Geometry(stride, padding, dilation, groups)
    results = {}
    previous = accel.use(False)
    try:
        for last in (False, True):
            out, cols, used = conv_forward(x, w, b, geom, last)
            assert used is last and cols.shape[-1] == (xs[0] if last else out.shape[-1])
            g = np.arange(out.size, dtype=float).reshape(out.shape) % 7 - 3
            gt = by_channel(g, groups, last)
            results[last] = (out.copy(), conv_input_grad(g, w, geom, xs, gt, last).copy(),
                             conv_weight_grad(x, g, geom, ws, gt, cols.copy(), last).copy(), g)
    finally:
        accel.use(previous)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    t, bot, left, r = padding
    yt = torch.nn.functional.conv2d(torch.nn.functional.pad(xt, (left, r, t, bot)), wt, torch.tensor(b),
                                    stride, 0, dilation, groups)
    yt.backward(torch.tensor(results[True][3]))
    for last, (out, gx, gw, _) in results.items():
        np.testing.assert_allclose(out, yt.detach().numpy(), rtol=1e-12, atol=1e-12, err_msg=f"forward {last}")
        np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=1e-12, atol=1e-12, err_msg=f"input grad {last}")
        np.testing.assert_allclose(gw, wt.grad.numpy(), rtol=1e-12, atol=1e-11, err_msg=f"weight grad {last}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_2x2_max_pool_picks_the_first_max_and_scatters_back(dtype):
    """NumPy's 2×2 max-pool (a tournament of pairs) against a brute-force first-argmax, on tie-heavy input
    with odd sizes (the last row/column is left out), and its gradient scatter."""
    from chainrule.backend import accel
    from chainrule.backend import conv_kernels as K

    x = RNG.integers(-2, 3, (3, 2, 9, 7)).astype(dtype)
    windows = x[:, :, :8, :6].reshape(3, 2, 4, 2, 3, 2).transpose(0, 1, 2, 4, 3, 5).reshape(3, 2, 4, 3, 4)
    geom = K.Geometry((2, 2), (0, 0, 0, 0), (1, 1))
    g = RNG.standard_normal((3, 2, 4, 3)).astype(dtype)
    previous = accel.use(False)
    try:
        out, arg = K.max_pool(x, (2, 2), geom, 4, 3)
        gx = K.pool_scatter(g, arg, (2, 2), geom, x.shape).copy()
    finally:
        accel.use(previous)
    np.testing.assert_array_equal(arg, windows.argmax(-1))
    np.testing.assert_array_equal(out, windows.max(-1))
    want = np.zeros_like(x)
    n, c, p, q = np.indices(arg.shape)
    want[n, c, 2 * p + arg // 2, 2 * q + arg % 2] = g
    np.testing.assert_array_equal(gx, want)


# --- the numba kernels of backend/numba_nn.py (GELU, LayerNorm, softmax, attention's dS) against the
# NumPy kernels and PyTorch; numba is a test dependency: under CI a missing numba fails, never skips.
@pytest.fixture(scope="module")
def numba_nn():
    import os
    if os.environ.get("CI", "").lower() not in ("1", "true", "yes"):
        pytest.importorskip("numba")
    from chainrule.backend import numba_nn
    return numba_nn


def _both_paths(fn):
    """fn() with the numba kernels, then with the NumPy ones: ((numba results), (numpy results))."""
    from chainrule.backend import accel
    out = []
    for flag in (True, False):
        previous = accel.use(flag)
        try:
            out.append(fn())
        finally:
            accel.use(previous)
    return out


_EXTREMES = [0.0, -0.0, 1e-30, -1e-30, 5.0, -5.0, 13.0, -13.0, 50.0, -50.0, 1e30, -1e30, np.inf, -np.inf, np.nan]


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_numba_gelu_agrees_with_numpy_and_torch(numba_nn, torch, approximate):
    a = np.concatenate([np.linspace(-12, 12, 48001), RNG.standard_normal(5000) * 3, _EXTREMES]).astype(np.float32)
    g = RNG.standard_normal(a.shape).astype(np.float32)

    def run():
        x = cr.tensor(a, requires_grad=True)
        y = F.gelu(x, approximate=approximate)
        y.backward(cr.tensor(g))
        return y.detach().numpy(), x.grad.numpy()

    (y1, g1), (y0, g0) = _both_paths(run)
    # exact form: the same rational erf, evaluated in float64 by the kernel (about 1.6 ulps) and in
    # float32 by NumPy (about 6.5 ulps); tanh form: NumPy's (and PyTorch's) 1 + tanh u cancels for x << 0 (float32 noise of a few 1e-6 there);
    # the compiled kernel's logistic 1/(1 + e^(-2u)) does not
    atol = 2e-6 if approximate == "none" else 6e-6
    np.testing.assert_allclose(y1, y0, rtol=2e-6, atol=atol, equal_nan=True)
    np.testing.assert_allclose(g1, g0, rtol=2e-6, atol=atol, equal_nan=True)
    xt = torch.tensor(a, requires_grad=True)
    yt = torch.nn.functional.gelu(xt, approximate=approximate)
    yt.backward(torch.tensor(g))
    want = yt.detach().numpy()
    vector_nan = np.isnan(want) & (a == np.inf)   # torch's vectorised float32 erf on AVX-512 (see above)
    want = np.where(vector_nan, torch.nn.functional.gelu(torch.tensor(a, dtype=torch.float64),
                                                         approximate=approximate).float().numpy(), want)
    np.testing.assert_allclose(y1, want, rtol=2e-6, atol=atol, equal_nan=True)
    fin = np.abs(a) < 1e20          # tanh form at ±1e30: x³ overflows, NaN or 0 in either library
    np.testing.assert_allclose(g1[fin], xt.grad.numpy()[fin], rtol=1e-5, atol=atol)
    x64 = torch.tensor(a[fin].astype(np.float64))
    exact = torch.nn.functional.gelu(x64, approximate=approximate).numpy()
    ours, theirs = np.abs(y1[fin] - exact).max(), np.abs(yt.detach().numpy()[fin] - exact).max()
    assert ours <= 2 * theirs, f"gelu float32 error {ours:.3g}, PyTorch's {theirs:.3g}"


def test_numba_exp_is_within_an_ulp(numba_nn):
    y = -np.concatenate([np.linspace(0, 87.3, 3001), np.logspace(-30, 1.94, 1000)]).astype(np.float32)
    got = np.array([numba_nn._exp_neg(v) for v in y], np.float32)
    want = np.exp(y.astype(np.float64))
    ulps = np.abs(got - want) / np.spacing(want.astype(np.float32))
    assert ulps.max() <= 1.5, f"exp is off by {ulps.max()} ulps at {y[ulps.argmax()]}"
    assert numba_nn._exp_neg(np.float32(0.0)) == 1.0
    assert numba_nn._exp_neg(np.float32(-88.0)) == 0.0 and numba_nn._exp_neg(np.float32(-np.inf)) == 0.0
    assert np.isnan(numba_nn._exp_neg(np.float32(np.nan)))


@pytest.mark.parametrize("affine", [True, False])
def test_numba_layer_norm_agrees_with_numpy_and_torch(numba_nn, torch, affine):
    a = (RNG.standard_normal((4, 33, 48)) * 3 + 5).astype(np.float32)
    w, b = RNG.standard_normal(48).astype(np.float32), RNG.standard_normal(48).astype(np.float32)
    g = RNG.standard_normal(a.shape).astype(np.float32)

    def run(lib=cr):
        ts = [lib.tensor(v, requires_grad=True) for v in ((a, w, b) if affine else (a,))]
        y = lib.nn.functional.layer_norm(ts[0], (48,), *ts[1:])
        y.backward(lib.tensor(g))
        return [y.detach().numpy()] + [t.grad.numpy() for t in ts]

    fast, slow = _both_paths(run)
    for what, f, s, t in zip(["forward", "grad x", "grad w", "grad b"], fast, slow, run(torch)):
        np.testing.assert_allclose(f, s, rtol=1e-5, atol=1e-5, err_msg=f"numba vs numpy: {what}")
        np.testing.assert_allclose(f, t, rtol=1e-4, atol=1e-4, err_msg=f"numba vs torch: {what}")


def test_numba_softmax_rows_is_a_softmax(numba_nn):
    a = (RNG.standard_normal((40, 33)) * 30).astype(np.float32)
    a[3, 5:] = -np.inf                       # a masked row keeps its first five keys
    a[7, 2] = np.nan                         # NaN makes its row NaN, as in PyTorch
    p, shift = a.copy(), np.empty(40, np.float32)
    numba_nn.softmax_rows(p, shift)
    e = np.exp(a.astype(np.float64) - a.max(axis=1, keepdims=True))
    want = e / e.sum(axis=1, keepdims=True)
    ok = np.arange(40) != 7
    np.testing.assert_allclose(p[ok], want[ok], rtol=1e-5, atol=1e-30)   # a - max rounds in float32
    assert np.isnan(p[7]).all() and (p[3, 5:] == 0).all()
    np.testing.assert_array_equal(shift[ok], a[ok].max(axis=1))


def test_numba_attention_on_nanogpt_layout(numba_nn, torch):
    """q, k, v as nanoGPT makes them (a (B, T, 3C) projection split and viewed as heads): the transposed
    layouts reach the compiled softmax and dS kernels; numba, NumPy and torch agree."""
    qkv = RNG.standard_normal((3, 10, 3 * 32)).astype(np.float32)
    g = RNG.standard_normal((3, 4, 10, 8)).astype(np.float32)

    def run(lib=cr):
        x = lib.tensor(qkv, requires_grad=True)
        q, k, v = (t.view(3, 10, 4, 8).transpose(1, 2) for t in x.split(32, dim=2))
        y = lib.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        y.backward(lib.tensor(g))
        return y.detach().numpy(), x.grad.numpy()

    (y1, g1), (y0, g0) = _both_paths(run)
    yt, gt = run(torch)
    np.testing.assert_allclose(y1, y0, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g1, g0, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(y1, yt, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g1, gt, rtol=1e-4, atol=1e-5)

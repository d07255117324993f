"""F.scaled_dot_product_attention as one node (ops/attention.py), beyond the float64 oracle rows in
tests/op_specs.py: float32 against PyTorch's flash kernel, when the one node runs and when the composite
does (as PyTorch dispatches), the output's memory layout, and the softmax shift's fallback."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.backend import accel

F = cr.nn.functional
RNG = np.random.default_rng(0)
FLASH = "ScaledDotProductFlashAttentionForCpuBackward0"


def _pair(torch, a, grad=True):
    return cr.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad)


def _both(torch, fn, arrays, g, grads=(True, True, True)):
    """fn(lib, *tensors) in both libraries; returns (outputs, gradients) of each."""
    out = []
    for lib in (cr, torch):
        ts = [lib.tensor(a, requires_grad=r) for a, r in zip(arrays, grads)]
        y = fn(lib, *ts)
        y.backward(lib.tensor(g))
        out.append((y, [t.grad for t, r in zip(ts, grads) if r]))
    return out


@pytest.fixture(params=[True, False], ids=["numba", "numpy"])
def kernels(request):
    """Each float32 test twice: with the numba kernels (backend/numba_nn.py; NumPy when numba is
    missing) and with the NumPy ones."""
    previous = accel.use(request.param)
    yield request.param
    accel.use(previous)


@pytest.mark.parametrize("case", ["plain", "causal", "bool_mask", "float_mask", "gqa", "cross"])
def test_float32_matches_torch_flash_kernel(torch, case, kernels):
    N, H, L, S, E = 2, 4, 7, 7, 8
    Hk = 2 if case == "gqa" else H
    if case == "cross":
        L, S = 3, 9
    q = RNG.standard_normal((N, H, L, E)).astype(np.float32)
    k = RNG.standard_normal((N, Hk, S, E)).astype(np.float32)
    v = RNG.standard_normal((N, Hk, S, E)).astype(np.float32)
    kw = {"is_causal": case in ("causal", "gqa", "cross"), "enable_gqa": case == "gqa"}
    mask = None
    if case == "bool_mask":
        mask = RNG.random((N, 1, L, S)) < 0.7
        mask[0, 0, 2] = False                        # a row that sees nothing: output and gradient 0
    elif case == "float_mask":
        mask = RNG.standard_normal((L, S)).astype(np.float32)

    def fn(lib, q, k, v):
        m = {} if mask is None else {"attn_mask": lib.tensor(mask)}
        return lib.nn.functional.scaled_dot_product_attention(q, k, v, **kw, **m)

    g = RNG.standard_normal((N, H, L, E)).astype(np.float32)
    (y, grads), (yt, grads_t) = _both(torch, fn, [q, k, v], g)
    assert y.grad_fn.name() == type(yt.grad_fn).__name__ == FLASH
    assert y.dtype == cr.float32
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    for a, b in zip(grads, grads_t):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shapes, kw", [
    (((2, 5, 4), (2, 6, 4), (2, 6, 4)), {}),                                 # 3-D: PyTorch's math path
    (((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 2)), {}),                        # value width differs
    (((2, 3, 5, 4), (1, 3, 6, 4), (1, 3, 6, 4)), {}),                        # broadcast batch
    (((1, 2, 3, 5, 4), (1, 2, 3, 6, 4), (1, 2, 3, 6, 4)), {"is_causal": True}),   # 5-D
])
def test_composite_where_pytorch_records_one(torch, shapes, kw):
    """Where PyTorch's CPU dispatch takes its math path, chainrule records the composite too, and the
    grad_fn at the top has PyTorch's name."""
    arrays = [RNG.standard_normal(s) for s in shapes]
    g = RNG.standard_normal(shapes[0][:-1] + (shapes[2][-1],))

    def fn(lib, q, k, v):
        return lib.nn.functional.scaled_dot_product_attention(q, k, v, **kw)

    (y, grads), (yt, grads_t) = _both(torch, fn, arrays, g)
    assert y.grad_fn.name() != FLASH and type(yt.grad_fn).__name__ != FLASH
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    for a, b in zip(grads, grads_t):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


def test_mismatched_heads_name_the_problem_and_one_shared_head_broadcasts(torch):
    q, k = cr.randn(2, 4, 3, 5), cr.randn(2, 2, 3, 5)
    with pytest.raises(RuntimeError, match=r"scaled_dot_product_attention: .*\(2, 2, 3, 5\).*enable_gqa=True"):
        F.scaled_dot_product_attention(q, k, k)
    with pytest.raises(RuntimeError):
        torch.nn.functional.scaled_dot_product_attention(torch.randn(2, 4, 3, 5), *(torch.randn(2, 2, 3, 5),) * 2)
    k1 = cr.randn(2, 1, 3, 5, requires_grad=True)      # one key/value head broadcast over 4: PyTorch's math path
    y = F.scaled_dot_product_attention(q, k1, k1)
    assert y.shape == (2, 4, 3, 5) and y.grad_fn.name() != FLASH


def test_learned_mask_and_dropout_take_the_composite():
    q = cr.randn(1, 2, 3, 4, requires_grad=True)
    bias = cr.zeros(3, 3, requires_grad=True)
    y = F.scaled_dot_product_attention(q, q, q, attn_mask=bias)
    y.sum().backward()
    assert y.grad_fn.name() != FLASH and bias.grad is not None
    assert F.scaled_dot_product_attention(q, q, q, dropout_p=0.5).grad_fn.name() != FLASH
    assert F.scaled_dot_product_attention(q, q, q, dropout_p=0.0).grad_fn.name() == FLASH


def test_output_layout_follows_the_query_like_pytorch(torch):
    """nanoGPT's q = x.view(B, T, H, E).transpose(1, 2): PyTorch's output has the same (B, T, H, E)
    memory layout, so y.transpose(1, 2).contiguous() copies nothing (no Clone node)."""
    a = RNG.standard_normal((2, 5, 3, 4)).astype(np.float32)
    q, qt = _pair(torch, a)
    y = F.scaled_dot_product_attention(*(q.transpose(1, 2),) * 3, is_causal=True)
    yt = torch.nn.functional.scaled_dot_product_attention(*(qt.transpose(1, 2),) * 3, is_causal=True)
    assert y.stride() == yt.stride() and y.is_contiguous() == yt.is_contiguous() is False
    merged = y.transpose(1, 2).contiguous()
    assert merged.grad_fn.name() == "TransposeBackward0"        # contiguous() was a no-op, as in torch
    merged.view(2, 5, 12).pow(2).sum().backward()
    yt.transpose(1, 2).contiguous().view(2, 5, 12).pow(2).sum().backward()
    np.testing.assert_allclose(q.grad.numpy(), qt.grad.numpy(), rtol=1e-4, atol=1e-5)
    c = F.scaled_dot_product_attention(q.transpose(1, 2).contiguous(), q.transpose(1, 2), q.transpose(1, 2))
    assert c.is_contiguous()                                    # a contiguous query: a contiguous output


def test_rows_far_below_their_heads_max_fall_back_to_a_row_shift(torch, kernels):
    """The softmax subtracts one max per head; a row whose scores all lie ~1600 below that max would
    underflow to 0/0, so those rows are shifted by their own max instead: finite, and PyTorch's values."""
    q = np.zeros((1, 1, 3, 2))
    q[0, 0, 0] = [40.0, 0.0]           # row 0 reaches 40·40 = 1600; row 2 stays at or under 0.5
    q[0, 0, 2] = [-40.0, 0.5]
    k = np.array([[[[40.0, 0.0], [39.0, 1.0], [0.0, 1.0]]]])
    v = RNG.standard_normal((1, 1, 3, 2))
    for dtype in (np.float32, np.float64):
        arrays = [a.astype(dtype) for a in (q, k, v)]
        g = np.ones((1, 1, 3, 2), dtype)

        def fn(lib, q, k, v):
            return lib.nn.functional.scaled_dot_product_attention(q, k, v, scale=1.0)

        (y, grads), (yt, grads_t) = _both(torch, fn, arrays, g)
        assert np.isfinite(y.detach().numpy()).all()
        np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
        for a, b in zip(grads, grads_t):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-4)


def test_no_grad_and_inputs_without_grad():
    q = cr.randn(2, 2, 4, 3)
    with cr.no_grad():
        y = F.scaled_dot_product_attention(q, q, q, is_causal=True)
    assert y.grad_fn is None and not y.requires_grad
    v = cr.randn(2, 2, 4, 3, requires_grad=True)
    y = F.scaled_dot_product_attention(q, q, v)
    (gv,) = cr.autograd.grad(y.sum(), v)
    # Σ over outputs of P v: each key row j of v gets Σ_i P[i, j], and every row of P sums to 1
    assert gv.shape == v.shape and np.allclose(gv.numpy().sum(axis=-2), 4.0)
    assert [f for f, _ in y.grad_fn.next_functions][:2] == [None, None]


def test_a_second_backward_raises_and_in_place_changes_are_caught():
    q = cr.randn(1, 2, 3, 4, requires_grad=True)
    y = F.scaled_dot_product_attention(q, q, q)
    y.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()
    y = F.scaled_dot_product_attention(q, q, q)
    y.mul_(2)                                    # the output is saved for backward: PyTorch raises too
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()

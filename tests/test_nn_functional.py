"""nn.functional against PyTorch: values and gradients in float64 with the same inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F

RNG = np.random.default_rng(0)


def check(torch, cr_fn, torch_fn, *arrays, rtol=1e-10, atol=1e-12, double=False):
    """Run both functions on float64 copies of ``arrays``; compare outputs and input gradients."""
    xs = [cr.tensor(a, dtype=cr.float64, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    y, yt = cr_fn(*xs), torch_fn(*ts)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=rtol, atol=atol)
    g = RNG.standard_normal(tuple(yt.shape))
    if double:   # gradient of <grad, v>: exercises the backward's own derivative
        gs = cr.autograd.grad(y, xs, cr.tensor(g), create_graph=True)
        gts = torch.autograd.grad(yt, ts, torch.tensor(g), create_graph=True)
        for a, b in zip(gs, gts):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol)
        sum(gg.sum() for gg in gs).backward()
        sum(gg.sum() for gg in gts).backward()
    else:
        y.backward(cr.tensor(g))
        yt.backward(torch.tensor(g))
    for x, t in zip(xs, ts):
        if t.grad is None:   # e.g. a bias after double backward: no second-order dependence
            assert x.grad is None
            continue
        assert np.isfinite(x.grad.numpy()).all()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol)
    return y


# Values that hit the kinks (0), the stable-formula edges (±20, ±1e4) and ordinary points.
EDGES = np.array([-1e4, -50.0, -20.0, -1.5, -1e-3, 0.0, 1e-3, 0.7, 19.9, 20.0, 20.1, 50.0, 1e4])


@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4)])
@pytest.mark.parametrize("name,args", [
    ("relu", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {"alpha": 1.5}), ("gelu", {}),
    ("gelu", {"approximate": "tanh"}), ("silu", {}), ("sigmoid", {}), ("tanh", {}), ("logsigmoid", {}),
    ("softplus", {}), ("softplus", {"beta": 2.0, "threshold": 5.0}), ("hardtanh", {"min_val": -0.5}),
])
def test_activations_match_torch(torch, shape, name, args):
    x = RNG.standard_normal(shape) * 3
    check(torch, lambda t: getattr(F, name)(t, **args),
          lambda t: getattr(torch.nn.functional, name)(t, **args), x)


@pytest.mark.parametrize("name,args", [
    ("relu", {}), ("leaky_relu", {}), ("elu", {}), ("gelu", {}), ("gelu", {"approximate": "tanh"}),
    ("silu", {}), ("sigmoid", {}), ("logsigmoid", {}), ("softplus", {}), ("softplus", {"beta": 0.5}),
])
def test_activations_at_edges_are_finite_and_match(torch, name, args):
    check(torch, lambda t: getattr(F, name)(t, **args),
          lambda t: getattr(torch.nn.functional, name)(t, **args), EDGES)


@pytest.mark.parametrize("name", ["gelu", "elu", "softplus", "logsigmoid", "silu"])
def test_activation_double_backward(torch, name):
    x = RNG.standard_normal((4, 3)) * 2
    check(torch, getattr(F, name), getattr(torch.nn.functional, name), x, double=True)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_and_log_softmax(torch, dim):
    x = RNG.standard_normal((3, 4, 5)) * 10
    check(torch, lambda t: F.softmax(t, dim), lambda t: torch.nn.functional.softmax(t, dim), x)
    check(torch, lambda t: F.log_softmax(t, dim), lambda t: torch.nn.functional.log_softmax(t, dim), x)


def test_erf_is_accurate_over_the_whole_range(torch):
    x = np.concatenate([np.linspace(-8, 8, 40001), [0.0, 0.46875, -0.46875, 4.0, -4.0, 26.0, 27.0, 1e-300]])
    y = F.erf(cr.tensor(x, dtype=cr.float64)).numpy()
    ref = torch.erf(torch.tensor(x)).numpy()
    np.testing.assert_allclose(y, ref, rtol=2e-15, atol=1e-300)
    assert np.array_equal(F.erf(cr.tensor([math.inf, -math.inf], dtype=cr.float64)).numpy(), [1.0, -1.0])
    assert np.isnan(F.erf(cr.tensor([math.nan], dtype=cr.float64)).numpy()).all()
    assert F.erf(cr.tensor([0.5])).dtype == cr.float32
    check(torch, F.erf, torch.erf, RNG.standard_normal(20) * 2, double=True)


@pytest.mark.parametrize("xshape", [(4,), (5, 4), (2, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(torch, xshape, bias):
    x, w, b = RNG.standard_normal(xshape), RNG.standard_normal((3, 4)), RNG.standard_normal(3)
    if bias:
        check(torch, F.linear, torch.nn.functional.linear, x, w, b)
        check(torch, F.linear, torch.nn.functional.linear, x, w, b, double=True)
    else:
        check(torch, F.linear, torch.nn.functional.linear, x, w)


def test_linear_errors_name_shapes_and_dtypes():
    with pytest.raises(RuntimeError, match=r"linear: input of shape \(5, 3\) has 3 features.*\(4, 2\)"):
        F.linear(cr.zeros(5, 3), cr.zeros(4, 2))
    with pytest.raises(RuntimeError, match="same dtype"):
        F.linear(cr.zeros(5, 2), cr.zeros(4, 2, dtype=cr.float64))


def test_bilinear(torch):
    x1, x2 = RNG.standard_normal((5, 3)), RNG.standard_normal((5, 2))
    w, b = RNG.standard_normal((4, 3, 2)), RNG.standard_normal(4)
    check(torch, F.bilinear, torch.nn.functional.bilinear, x1, x2, w, b)


def test_dropout_scales_survivors_and_routes_gradient():
    cr.manual_seed(0)
    x = cr.ones(200, 50, dtype=cr.float64, requires_grad=True)
    y = F.dropout(x, p=0.3, training=True)
    values = set(np.unique(y.detach().numpy()).tolist())
    assert values == {0.0, 1.0 / 0.7}
    kept = (y.detach().numpy() != 0).mean()
    assert abs(kept - 0.7) < 0.02
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())
    cr.manual_seed(0)
    assert np.array_equal(F.dropout(x, 0.3).detach().numpy(), y.detach().numpy())   # seeded: reproducible


def test_dropout_eval_p0_p1_and_bad_p():
    x = cr.randn(4, 4)
    assert F.dropout(x, 0.5, training=False) is x
    assert np.array_equal(F.dropout(x, 1.0).numpy(), np.zeros((4, 4), np.float32))
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        F.dropout(x, 1.5)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 4)])
def test_batch_norm_training_and_running_stats(torch, shape):
    x = RNG.standard_normal(shape) * 2 + 1
    w, b = RNG.standard_normal(3), RNG.standard_normal(3)
    rm, rv = cr.zeros(3, dtype=cr.float64), cr.ones(3, dtype=cr.float64)
    trm, trv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    check(torch, lambda x_, w_, b_: F.batch_norm(x_, rm, rv, w_, b_, training=True, momentum=0.2),
          lambda x_, w_, b_: torch.nn.functional.batch_norm(x_, trm, trv, w_, b_, training=True, momentum=0.2),
          x, w, b)
    np.testing.assert_allclose(rm.numpy(), trm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(rv.numpy(), trv.numpy(), rtol=1e-12)
    check(torch, lambda x_: F.batch_norm(x_, rm, rv, training=False),
          lambda x_: torch.nn.functional.batch_norm(x_, trm, trv, training=False), x)


def test_batch_norm_needs_more_than_one_value_per_channel():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(cr.zeros(1, 3), None, None, training=True)


@pytest.mark.parametrize("shape,norm", [((4, 6), (6,)), ((2, 3, 4), (4,)), ((2, 3, 4), (3, 4))])
def test_layer_norm(torch, shape, norm):
    x = RNG.standard_normal(shape) * 3
    w, b = RNG.standard_normal(norm), RNG.standard_normal(norm)
    check(torch, lambda x_, w_, b_: F.layer_norm(x_, norm, w_, b_),
          lambda x_, w_, b_: torch.nn.functional.layer_norm(x_, norm, w_, b_), x, w, b)
    check(torch, lambda x_: F.layer_norm(x_, norm), lambda x_: torch.nn.functional.layer_norm(x_, norm), x,
          double=True)


@pytest.mark.parametrize("padding_idx", [None, 0, -1])
def test_embedding_gradients_accumulate_and_skip_padding(torch, padding_idx):
    idx = np.array([[0, 2, 2, 4], [4, 1, 0, 2]])
    w = RNG.standard_normal((5, 3))
    check(torch, lambda w_: F.embedding(cr.tensor(idx), w_, padding_idx),
          lambda w_: torch.nn.functional.embedding(torch.tensor(idx), w_, padding_idx), w)


def test_embedding_errors():
    with pytest.raises(IndexError, match="index 7 is out of range for a table of 5 rows"):
        F.embedding(cr.tensor([1, 7]), cr.zeros(5, 2))
    with pytest.raises(RuntimeError, match="integer"):
        F.embedding(cr.tensor([1.0]), cr.zeros(5, 2))


def test_one_hot_and_normalize(torch):
    t = np.array([[0, 3], [2, 1]])
    assert np.array_equal(F.one_hot(cr.tensor(t)).numpy(), torch.nn.functional.one_hot(torch.tensor(t)).numpy())
    assert F.one_hot(cr.tensor(t), 6).shape == (2, 2, 6)
    check(torch, lambda x: F.normalize(x, dim=1), lambda x: torch.nn.functional.normalize(x, dim=1),
          RNG.standard_normal((3, 4)))


def test_conv_functions_are_reexported():
    for name in ("conv1d", "conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "pad"):
        assert callable(getattr(F, name))

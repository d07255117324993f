"""nn.init: PyTorch's gains and fans exactly, distributions by their defining bounds and moments
(large tensors, fixed seeds), reproducibility through ``generator=``."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import init


@pytest.mark.parametrize("name,param", [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                                        ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                                        ("leaky_relu", math.sqrt(5)), ("selu", None)])
def test_calculate_gain_matches_torch(torch, name, param):
    assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param), rel=1e-15)


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="Unsupported nonlinearity swish"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("shape", [(3, 4), (8, 3, 5), (16, 3, 3, 3)])
def test_fans_match_torch(torch, shape):
    ours = init._calculate_fan_in_and_fan_out(cr.empty(*shape))
    assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


def test_fan_needs_two_dims():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(cr.empty(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(cr.empty(2, 2), mode="fan_avg")


def _stats(fn, shape=(300, 200), **kw):
    t = cr.empty(*shape)
    fn(t, generator=cr.Generator(0), **kw)
    return t.numpy().astype(np.float64)


def test_uniform_schemes_hit_their_bounds():
    fan_in, fan_out = 200, 300
    cases = [
        (init.xavier_uniform_, {"gain": 2.0}, 2.0 * math.sqrt(6.0 / (fan_in + fan_out))),
        (init.kaiming_uniform_, {}, math.sqrt(2.0) * math.sqrt(3.0 / fan_in)),   # a=0: leaky slope 0
        (init.kaiming_uniform_, {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2.0) * math.sqrt(3.0 / fan_out)),
        (init.uniform_, {"a": -0.3, "b": 0.3}, 0.3),
    ]
    for fn, kw, bound in cases:
        v = _stats(fn, **kw)
        assert np.abs(v).max() <= bound * (1 + 1e-6)
        assert np.abs(v).max() > 0.99 * bound
        assert abs(v.std() - bound / math.sqrt(3)) < 0.02 * bound


def test_normal_schemes_have_their_std():
    fan_in, fan_out = 200, 300
    cases = [
        (init.xavier_normal_, {}, math.sqrt(2.0 / (fan_in + fan_out))),
        (init.kaiming_normal_, {"nonlinearity": "relu"}, math.sqrt(2.0 / fan_in)),
        (init.normal_, {"mean": 0.0, "std": 0.5}, 0.5),
    ]
    for fn, kw, std in cases:
        v = _stats(fn, **kw)
        assert abs(v.std() - std) < 0.01 * std
        assert abs(v.mean()) < 0.01 * std


def test_trunc_normal_respects_bounds():
    v = _stats(init.trunc_normal_, std=1.0, a=-0.5, b=1.0)
    assert v.min() >= -0.5 and v.max() <= 1.0 and v.min() < -0.49 and v.max() > 0.99


def test_constant_ones_zeros_eye():
    t = cr.empty(3, 4)
    assert np.array_equal(init.constant_(t, 2.5).numpy(), np.full((3, 4), 2.5, np.float32))
    assert np.array_equal(init.ones_(t).numpy(), np.ones((3, 4), np.float32))
    assert np.array_equal(init.zeros_(t).numpy(), np.zeros((3, 4), np.float32))
    assert np.array_equal(init.eye_(t).numpy(), np.eye(3, 4, dtype=np.float32))
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(cr.empty(2, 2, 2))


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 2, 3)])
def test_orthogonal(shape):
    t = init.orthogonal_(cr.empty(*shape, dtype=cr.float64), gain=2.0, generator=cr.Generator(1))
    m = t.numpy().reshape(shape[0], -1)
    small = min(m.shape)
    gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-12)


def test_generator_makes_init_reproducible_and_parameters_stay_leaves():
    w = cr.nn.Parameter(cr.empty(4, 4))
    init.kaiming_uniform_(w, generator=cr.Generator(7))
    first = w.detach().numpy().copy()
    init.kaiming_uniform_(w, generator=cr.Generator(7))
    assert np.array_equal(first, w.detach().numpy())
    assert w.is_leaf and w.requires_grad and w.grad_fn is None
    cr.manual_seed(5)
    a = init.normal_(cr.empty(3)).numpy().copy()
    cr.manual_seed(5)
    assert np.array_equal(a, init.normal_(cr.empty(3)).numpy())

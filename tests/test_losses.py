"""Losses against PyTorch (float64, same inputs): values and gradients, every reduction, the edges."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

RNG = np.random.default_rng(1)
pytestmark = pytest.mark.filterwarnings("ignore:.*(size_average|batchmean).*:UserWarning")
REDUCTIONS = ["mean", "sum", "none"]


def both(torch, a, grad=True):
    return (cr.tensor(a, dtype=cr.float64, requires_grad=grad),
            torch.tensor(a, dtype=torch.float64, requires_grad=grad))


def compare(torch, loss, loss_t, inputs, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(loss.detach().numpy(), loss_t.detach().numpy(), rtol=rtol, atol=atol)
    g = RNG.standard_normal(tuple(loss_t.shape))
    loss.backward(cr.tensor(g))
    loss_t.backward(torch.tensor(g))
    for x, t in inputs:
        assert np.isfinite(x.grad.numpy()).all()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol)


def long(torch, a):
    return cr.tensor(a), torch.tensor(a)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kwargs", [("mse_loss", {}), ("l1_loss", {}), ("huber_loss", {"delta": 0.7}),
                                         ("smooth_l1_loss", {"beta": 0.5})])
def test_regression_losses(torch, reduction, name, kwargs):
    (x, xt), (y, yt) = both(torch, RNG.standard_normal((4, 3))), both(torch, RNG.standard_normal((4, 3)))
    compare(torch, getattr(F, name)(x, y, reduction=reduction, **kwargs),
            getattr(torch.nn.functional, name)(xt, yt, reduction=reduction, **kwargs), [(x, xt), (y, yt)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("shape", [(6, 5), (3, 5, 4), (5,)])
def test_cross_entropy_class_indices(torch, reduction, weighted, smoothing, shape):
    x, xt = both(torch, RNG.standard_normal(shape) * 3)
    tshape = () if len(shape) == 1 else shape[:1] + shape[2:]
    target = RNG.integers(0, 5, tshape)
    if len(shape) > 1:
        target.flat[0] = -100   # one ignored position
    w = RNG.uniform(0.5, 2.0, 5) if weighted else None
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    loss = F.cross_entropy(x, cr.tensor(target), None if w is None else cr.tensor(w, dtype=cr.float64), **kw)
    loss_t = torch.nn.functional.cross_entropy(xt, torch.tensor(target),
                                               None if w is None else torch.tensor(w), **kw)
    compare(torch, loss, loss_t, [(x, xt)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_probability_targets(torch, reduction, weighted):
    (x, xt), (p, pt) = both(torch, RNG.standard_normal((4, 3, 2))), both(torch, RNG.dirichlet([1] * 3, (4, 2)))
    p = cr.tensor(np.moveaxis(p.detach().numpy(), -1, 1).copy(), dtype=cr.float64, requires_grad=True)
    pt = torch.tensor(p.detach().numpy(), requires_grad=True)
    w = cr.tensor([0.5, 1.0, 2.0], dtype=cr.float64) if weighted else None
    wt = torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64) if weighted else None
    compare(torch, F.cross_entropy(x, p, w, reduction=reduction, label_smoothing=0.1),
            torch.nn.functional.cross_entropy(xt, pt, wt, reduction=reduction, label_smoothing=0.1),
            [(x, xt), (p, pt)])


def test_cross_entropy_extreme_logits_stay_finite(torch):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [0.0, 0.0, 0.0]])
    (x, xt) = both(torch, logits)
    target = np.array([1, 2, 0])
    compare(torch, F.cross_entropy(x, cr.tensor(target)), torch.nn.functional.cross_entropy(xt, torch.tensor(target)),
            [(x, xt)])
    assert np.isfinite(F.cross_entropy(cr.tensor(logits), cr.tensor(target), label_smoothing=0.1).item())


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_with_weight_and_ignore_index(torch, reduction):
    x, xt = both(torch, RNG.standard_normal((6, 4)))
    target = np.array([0, 3, 1, 7, 3, 2])
    w = np.array([1.0, 2.0, 0.5, 3.0])
    compare(torch, F.nll_loss(x, cr.tensor(target), cr.tensor(w, dtype=cr.float64), ignore_index=7,
                              reduction=reduction),
            torch.nn.functional.nll_loss(xt, torch.tensor(target), torch.tensor(w), ignore_index=7,
                                         reduction=reduction), [(x, xt)])


def test_class_target_errors_teach():
    x = cr.zeros(3, 4)
    with pytest.raises(IndexError, match="Target 4 is out of bounds"):
        F.cross_entropy(x, cr.tensor([0, 4, 1]))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target batch_size \(2\)"):
        F.cross_entropy(x, cr.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="integer dtype"):
        F.nll_loss(x, cr.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="'avg' is not a valid value for reduction"):
        F.mse_loss(x, x, reduction="avg")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_matches_including_saturated_probabilities(torch, reduction):
    p = np.array([[0.0, 1.0, 0.3], [0.999, 1e-8, 0.5]])
    y = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.25]])
    w = np.array([1.0, 2.0, 0.5])
    (x, xt), (t, tt) = both(torch, p), both(torch, y, grad=False)   # input grads stay finite at 0 and 1
    compare(torch, F.binary_cross_entropy(x, t, cr.tensor(w, dtype=cr.float64), reduction=reduction),
            torch.nn.functional.binary_cross_entropy(xt, tt, torch.tensor(w), reduction=reduction),
            [(x, xt)])
    (x, xt), (t, tt) = both(torch, np.clip(p, 0.1, 0.9)), both(torch, y)    # target grad: -logit(x)
    compare(torch, F.binary_cross_entropy(x, t, reduction=reduction),
            torch.nn.functional.binary_cross_entropy(xt, tt, reduction=reduction), [(x, xt), (t, tt)])


def test_bce_rejects_values_outside_0_1():
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(cr.tensor([1.5]), cr.tensor([1.0]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("pos_weight", [None, [0.5, 2.0, 3.0]])
def test_bce_with_logits(torch, reduction, pos_weight):
    z = np.array([[1e4, -1e4, 0.0], [-30.0, 30.0, 0.7], [2.0, -2.0, 1e-3]])
    y = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.5], [1.0, 0.0, 0.0]])
    (x, xt), (t, tt) = both(torch, z), both(torch, y)
    w = np.array([[1.0], [2.0], [0.5]])
    pw = None if pos_weight is None else cr.tensor(pos_weight, dtype=cr.float64)
    pwt = None if pos_weight is None else torch.tensor(pos_weight, dtype=torch.float64)
    compare(torch, F.binary_cross_entropy_with_logits(x, t, cr.tensor(w, dtype=cr.float64), reduction=reduction,
                                                      pos_weight=pw),
            torch.nn.functional.binary_cross_entropy_with_logits(xt, tt, torch.tensor(w), reduction=reduction,
                                                                 pos_weight=pwt), [(x, xt), (t, tt)])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(torch, reduction, log_target):
    logq = np.log(RNG.dirichlet([1] * 4, 3))
    p = RNG.dirichlet([1] * 4, 3)
    p[0, 0] = 0.0   # a zero-probability target: contributes 0, not NaN
    target = np.log(p + 1e-3) if log_target else p
    (x, xt), (t, tt) = both(torch, logq), both(torch, target, grad=False)
    compare(torch, F.kl_div(x, t, reduction=reduction, log_target=log_target),
            torch.nn.functional.kl_div(xt, tt, reduction=reduction, log_target=log_target), [(x, xt)])


def test_loss_modules_match_functional_and_torch(torch):
    x, xt = both(torch, RNG.standard_normal((5, 3)))
    target = np.array([0, 2, 1, 1, 0])
    w = np.array([1.0, 0.5, 2.0])
    m = nn.CrossEntropyLoss(weight=cr.tensor(w, dtype=cr.float64), label_smoothing=0.1, ignore_index=1)
    mt = torch.nn.CrossEntropyLoss(weight=torch.tensor(w), label_smoothing=0.1, ignore_index=1)
    compare(torch, m(x, cr.tensor(target)), mt(xt, torch.tensor(target)), [(x, xt)])
    assert list(m.state_dict()) == list(mt.state_dict()) == ["weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == list(torch.nn.CrossEntropyLoss().state_dict())
    pairs = [(nn.MSELoss(reduction="sum"), torch.nn.MSELoss(reduction="sum")), (nn.L1Loss(), torch.nn.L1Loss()),
             (nn.HuberLoss(delta=0.5), torch.nn.HuberLoss(delta=0.5)), (nn.SmoothL1Loss(), torch.nn.SmoothL1Loss())]
    y = RNG.standard_normal((5, 3))
    for ours, theirs in pairs:
        (a, at) = both(torch, x.detach().numpy())
        compare(torch, ours(a, cr.tensor(y, dtype=cr.float64)), theirs(at, torch.tensor(y)), [(a, at)])
    (a, at) = both(torch, x.detach().numpy())
    compare(torch, nn.NLLLoss()(a.log_softmax(1), cr.tensor(target)),
            torch.nn.NLLLoss()(at.log_softmax(1), torch.tensor(target)), [(a, at)])
    (a, at) = both(torch, x.detach().numpy())
    yb = (y > 0).astype(np.float64)
    pw = np.array([1.0, 2.0, 3.0])
    compare(torch, nn.BCEWithLogitsLoss(pos_weight=cr.tensor(pw, dtype=cr.float64))(a, cr.tensor(yb)),
            torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pw))(at, torch.tensor(yb)), [(a, at)])
    (a, at) = both(torch, x.detach().numpy())
    compare(torch, nn.BCELoss()(a.sigmoid(), cr.tensor(yb)), torch.nn.BCELoss()(at.sigmoid(), torch.tensor(yb)),
            [(a, at)])
    (a, at) = both(torch, x.detach().numpy())
    q = np.exp(y) / np.exp(y).sum(1, keepdims=True)
    compare(torch, nn.KLDivLoss(reduction="batchmean")(a.log_softmax(1), cr.tensor(q)),
            torch.nn.KLDivLoss(reduction="batchmean")(at.log_softmax(1), torch.tensor(q)), [(a, at)])


def test_legacy_size_average_and_reduce(torch):
    x, y = RNG.standard_normal(4), RNG.standard_normal(4)
    for kw in ({"size_average": False}, {"reduce": False}):
        ours = nn.MSELoss(**kw)(cr.tensor(x), cr.tensor(y)).numpy()
        theirs = torch.nn.MSELoss(**kw)(torch.tensor(x), torch.tensor(y)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)

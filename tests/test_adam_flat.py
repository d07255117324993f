"""Adam/AdamW update all of a group's parameters at once, on flat moment arrays (optim/adam.py
_FlatMoments): the same numbers as the per-parameter loop, PyTorch's results and state_dict layout,
also when the set of parameters with a gradient changes or a state_dict is loaded mid-run."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import chainrule as cr
from chainrule.optim.adam import Adam

RNG = np.random.default_rng(0)
SHAPES = [(3, 4), (4,), (2, 3, 2), (1,)]


def _params(lib, arrays):
    return [lib.tensor(a.copy(), requires_grad=True) for a in arrays]


def _grads(n_steps):
    return [[RNG.standard_normal(s) for s in SHAPES] for _ in range(n_steps)]


@pytest.mark.parametrize("kw", [{}, {"weight_decay": 0.1}, {"maximize": True}, {"decoupled_weight_decay": True,
                                                                                  "weight_decay": 0.05}])
def test_flat_update_equals_the_per_parameter_loop(monkeypatch, kw):
    arrays = [RNG.standard_normal(s) for s in SHAPES]
    flat_ps, loop_ps = _params(cr, arrays), _params(cr, arrays)
    flat_opt, loop_opt = Adam(flat_ps, lr=0.01, **kw), Adam(loop_ps, lr=0.01, **kw)
    real_flat = Adam._flat
    monkeypatch.setattr(Adam, "_flat", lambda self, group, items: None if self is loop_opt
                        else real_flat(self, group, items))
    for step in _grads(5):
        for ps, opt in ((flat_ps, flat_opt), (loop_ps, loop_opt)):
            for p, g in zip(ps, step):
                p.grad = cr.tensor(g)
            opt.step()
    uses_flat = "weight_decay" not in kw or kw.get("decoupled_weight_decay")
    assert bool(flat_opt.__dict__.get("_flat_moments")) == bool(uses_flat)
    for a, b in zip(flat_ps, loop_ps):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())     # bit for bit


def test_adamw_matches_torch_when_grads_come_and_go_and_state_is_reloaded(torch):
    arrays = [RNG.standard_normal(s).astype(np.float32) for s in SHAPES]
    cps, tps = _params(cr, arrays), _params(torch, arrays)
    copt = cr.optim.AdamW(cps, lr=0.02, weight_decay=0.1)
    topt = torch.optim.AdamW(tps, lr=0.02, weight_decay=0.1)
    for i, step in enumerate(_grads(8)):
        for ps, lib in ((cps, cr), (tps, torch)):
            for k, (p, g) in enumerate(zip(ps, step)):
                # parameter 1 has no gradient on steps 2 and 3: the flat layout is rebuilt around it
                p.grad = None if (k == 1 and i in (2, 3)) else lib.tensor(g.astype(np.float32))
        copt.step()
        topt.step()
        if i == 1:
            snapshot_c, snapshot_t = copy.deepcopy(copt.state_dict()), copy.deepcopy(topt.state_dict())
        if i == 4:   # back to step 1's state in the same optimizers: the loaded copies are laid out flat again
            copt.load_state_dict(snapshot_c)
            topt.load_state_dict(snapshot_t)
        if i == 5:   # a state tensor replaced by hand: the flat moments must take the new one
            copt.state[cps[0]]["exp_avg"] = cr.zeros(*SHAPES[0])
            topt.state[tps[0]]["exp_avg"] = torch.zeros(*SHAPES[0])
        if i == 6:   # and into fresh ones
            saved_c, saved_t = copt.state_dict(), topt.state_dict()
            copt = cr.optim.AdamW(cps, lr=0.02, weight_decay=0.1)
            topt = torch.optim.AdamW(tps, lr=0.02, weight_decay=0.1)
            copt.load_state_dict(saved_c)
            topt.load_state_dict(saved_t)
    for a, b in zip(cps, tps):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-7)
    cs, ts = copt.state_dict()["state"], topt.state_dict()["state"]
    for k in ts:
        for name in ("exp_avg", "exp_avg_sq"):
            assert cs[k][name].shape == tuple(ts[k][name].shape)
            np.testing.assert_allclose(cs[k][name].numpy(), ts[k][name].numpy(), rtol=1e-6, atol=1e-9)
        assert float(cs[k]["step"]) == float(ts[k]["step"])


def test_state_tensors_are_live_views_of_the_flat_moments():
    p = cr.zeros(3, requires_grad=True)
    opt = cr.optim.AdamW([p], lr=0.1)
    p.grad = cr.ones(3)
    opt.step()
    exp_avg = opt.state_dict()["state"][0]["exp_avg"]           # a reference, as in PyTorch
    before = exp_avg.numpy().copy()
    opt.step()
    assert not np.array_equal(before, exp_avg.numpy())           # it saw the second step's update
    np.testing.assert_allclose(exp_avg.numpy(), 0.19)            # 0.9·0.1 + 0.1·1

"""NAdam, RAdam, Adamax, Adadelta and LBFGS against PyTorch (same start, N steps, float64, to ~1e-10),
and the extra learning-rate schedulers' lr sequences against torch.optim.lr_scheduler."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

RNG = np.random.default_rng(5)


def quadratic_problem(lib, w0, b0, target):
    """A small least-squares + tanh problem, the same in both libraries."""
    w = lib.tensor(w0.copy(), dtype=lib.float64, requires_grad=True)
    b = lib.tensor(b0.copy(), dtype=lib.float64, requires_grad=True)
    x = lib.tensor(target[0], dtype=lib.float64)
    y = lib.tensor(target[1], dtype=lib.float64)

    def loss_fn():
        pred = (x.matmul(w) + b).tanh()
        return ((pred - y) ** 2).mean() + 0.1 * (w ** 2).sum()
    return [w, b], loss_fn


def run(lib, opt_name, kwargs, steps, data):
    params, loss_fn = quadratic_problem(lib, *data)
    opt = getattr(lib.optim, opt_name)(params, **kwargs)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return [p.detach().numpy().copy() for p in params], losses, opt


def problem_data():
    return (RNG.standard_normal((4, 3)), RNG.standard_normal(3),
            (RNG.standard_normal((8, 4)), RNG.standard_normal((8, 3))))


OPTIMIZERS = [
    ("NAdam", {"lr": 0.05}), ("NAdam", {"lr": 0.05, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True, "momentum_decay": 0.01}),
    ("NAdam", {"lr": 0.05, "maximize": True}),
    ("RAdam", {"lr": 0.05}), ("RAdam", {"lr": 0.05, "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True, "betas": (0.8, 0.9)}),
    ("Adamax", {"lr": 0.05}), ("Adamax", {"lr": 0.05, "weight_decay": 0.1, "maximize": True}),
    ("Adadelta", {}), ("Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1}),
    ("Adadelta", {"maximize": True}),
]


@pytest.mark.parametrize(("name", "kwargs"), OPTIMIZERS)
def test_optimizer_trajectory_matches_torch(torch, name, kwargs):
    data = problem_data()
    ours, losses, opt = run(cr, name, kwargs, 25, data)
    theirs, losses_t, opt_t = run(torch, name, kwargs, 25, data)
    np.testing.assert_allclose(losses, losses_t, rtol=1e-10, atol=1e-10)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)
    state, state_t = opt.state_dict()["state"][0], opt_t.state_dict()["state"][0]
    assert list(state) == list(state_t)
    for key in state:
        np.testing.assert_allclose(np.asarray(state[key].numpy(), np.float64),
                                   np.asarray(state_t[key].numpy(), np.float64), rtol=1e-7, atol=1e-12)


def test_optimizer_defaults_and_errors_match_torch(torch):
    w = cr.zeros(2, requires_grad=True)
    wt = torch.zeros(2, requires_grad=True)
    for name in ("NAdam", "RAdam", "Adamax", "Adadelta", "LBFGS"):
        ours, theirs = getattr(cr.optim, name)([w]), getattr(torch.optim, name)([wt])
        theirs_defaults = {k: v for k, v in theirs.defaults.items()
                           if k not in ("foreach", "capturable", "differentiable", "fused")}
        assert ours.defaults == theirs_defaults, name
    with pytest.raises(ValueError, match="Invalid learning rate"):
        cr.optim.NAdam([w], lr=-1)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1"):
        cr.optim.RAdam([w], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Invalid rho value"):
        cr.optim.Adadelta([w], rho=1.5)
    with pytest.raises(ValueError, match="Invalid momentum_decay value"):
        cr.optim.NAdam([w], momentum_decay=-1)
    with pytest.raises(ValueError, match="parameter groups"):
        cr.optim.LBFGS([{"params": [w]}, {"params": [cr.zeros(1, requires_grad=True)]}])


def rosenbrock_run(lib, kwargs, steps):
    xy = lib.tensor([-1.5, 2.0], dtype=lib.float64, requires_grad=True)
    opt = lib.optim.LBFGS([xy], **kwargs)
    calls = []

    def closure():
        opt.zero_grad()
        loss = (1 - xy[0]) ** 2 + 100 * (xy[1] - xy[0] ** 2) ** 2
        loss.backward()
        calls.append(float(loss.detach()))
        return loss
    returned = [float(opt.step(closure).detach()) for _ in range(steps)]
    return xy.detach().numpy(), calls, returned, opt


@pytest.mark.parametrize("kwargs", [
    {}, {"lr": 0.5, "max_iter": 5}, {"line_search_fn": "strong_wolfe"},
    {"line_search_fn": "strong_wolfe", "history_size": 3, "max_iter": 7},
])
def test_lbfgs_takes_torchs_steps(torch, kwargs):
    # Rosenbrock's valley is ill-conditioned: rounding differences (1e-16) grow by ~10x per few
    # evaluations, so compare the first step (20-25 closure calls) where they are still ≤ 1e-10.
    ours, calls, returned, opt = rosenbrock_run(cr, kwargs, 1)
    theirs, calls_t, returned_t, opt_t = rosenbrock_run(torch, kwargs, 1)
    assert len(calls) == len(calls_t) >= 5        # the same number of closure evaluations
    np.testing.assert_allclose(calls, calls_t, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(returned, returned_t, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    state, state_t = opt.state[next(iter(opt.state))], opt_t.state[next(iter(opt_t.state))]
    assert state["func_evals"] == state_t["func_evals"] and state["n_iter"] == state_t["n_iter"]
    assert isinstance(state["d"], cr.Tensor) and all(isinstance(y, cr.Tensor) for y in state["old_dirs"])
    np.testing.assert_allclose(state["d"].numpy(), state_t["d"].numpy(), rtol=1e-8, atol=1e-12)


def test_lbfgs_on_a_model_with_several_parameters(torch):
    data = problem_data()
    results = []
    for lib in (cr, torch):
        params, loss_fn = quadratic_problem(lib, *data)
        opt = lib.optim.LBFGS(params, line_search_fn="strong_wolfe", max_iter=10)

        def closure(opt=opt, loss_fn=loss_fn):
            opt.zero_grad()
            loss = loss_fn()
            loss.backward()
            return loss
        for _ in range(3):
            opt.step(closure)
        results.append([p.detach().numpy().copy() for p in params])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


def test_lbfgs_needs_a_closure_and_knows_only_strong_wolfe():
    w = cr.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="closure"):
        cr.optim.LBFGS([w]).step(None)
    opt = cr.optim.LBFGS([w], line_search_fn="backtracking")

    def closure():
        opt.zero_grad()
        loss = ((w - 1) ** 2).sum()
        loss.backward()
        return loss
    with pytest.raises(RuntimeError, match="strong_wolfe"):
        opt.step(closure)


# --- schedulers -----------------------------------------------------------------------------------
def lr_sequence(lib, make, steps=25, opt_name="SGD", opt_kwargs=None, groups=1):
    params = [{"params": [lib.zeros(1, requires_grad=True)], "lr": 0.1 * (i + 1)} for i in range(groups)]
    opt = getattr(lib.optim, opt_name)(params, lr=0.1, **(opt_kwargs or {}))
    sched = make(lib.optim.lr_scheduler, opt)
    seq = []
    for _ in range(steps):
        seq.append(list(sched.get_last_lr()) + [g.get("momentum", g.get("betas", (0,))[0]) for g in opt.param_groups])
        opt.step()
        sched.step()
    return seq


SCHEDULERS = {
    "MultiplicativeLR": lambda S, o: S.MultiplicativeLR(o, lambda e: 0.95),
    "ConstantLR": lambda S, o: S.ConstantLR(o, factor=0.25, total_iters=4),
    "LinearLR": lambda S, o: S.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=7),
    "PolynomialLR": lambda S, o: S.PolynomialLR(o, total_iters=10, power=2.0),
    "CosineAnnealingWarmRestarts": lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.01),
    "CyclicLR": lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3, step_size_down=5),
    "CyclicLR2": lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=4, mode="triangular2"),
    "CyclicLRexp": lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=2, mode="exp_range",
                                           gamma=0.9, cycle_momentum=False),
    "SequentialLR": lambda S, o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.2, total_iters=4),
                                                    S.ExponentialLR(o, gamma=0.9),
                                                    S.CosineAnnealingLR(o, T_max=5)], milestones=[5, 12]),
    "ChainedScheduler": lambda S, o: S.ChainedScheduler([S.ConstantLR(o, factor=0.5, total_iters=3),
                                                         S.ExponentialLR(o, gamma=0.9),
                                                         S.MultiplicativeLR(o, lambda e: 0.99)]),
}


@pytest.mark.parametrize(("name", "groups"), [(n, g) for n in SCHEDULERS for g in (1, 2)
                                               if not (n == "CyclicLR2" and g == 1)])   # a max_lr list needs 2
def test_scheduler_lr_sequence_matches_torch(torch, name, groups):
    make = SCHEDULERS[name]
    opt_kwargs = {"momentum": 0.9}
    ours = lr_sequence(cr, make, opt_kwargs=opt_kwargs, groups=groups)
    theirs = lr_sequence(torch, make, opt_kwargs=opt_kwargs, groups=groups)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_cyclic_lr_cycles_adams_beta1(torch):
    make = SCHEDULERS["CyclicLR"]
    ours = lr_sequence(cr, make, opt_name="Adam")
    theirs = lr_sequence(torch, make, opt_name="Adam")
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_every_torch_scheduler_name_exists(torch):
    missing = [n for n in torch.optim.lr_scheduler.__all__ if not hasattr(cr.optim.lr_scheduler, n)]
    assert missing == []


def test_scheduler_errors():
    opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=0.1)
    S = cr.optim.lr_scheduler
    with pytest.raises(ValueError, match="between 0 and 1"):
        S.ConstantLR(opt, factor=2)
    with pytest.raises(ValueError, match="one more than the number of milestone"):
        S.SequentialLR(opt, [S.ExponentialLR(opt, 0.9)], milestones=[3])
    with pytest.raises(ValueError, match="T_0"):
        S.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        S.ChainedScheduler([S.ReduceLROnPlateau(opt)])


def test_step_state_dtype_follows_the_default_dtype_as_pytorch(torch):
    import chainrule as cr
    for lib in (cr, torch):
        for default in (lib.float32, lib.float64):
            lib.set_default_dtype(default)
            try:
                w = lib.ones(2, requires_grad=True)
                opt = lib.optim.NAdam([w])
                (w * w).sum().backward()
                opt.step()
                assert str(opt.state[w]["step"].dtype).split(".")[-1] == str(default).split(".")[-1]
                assert str(opt.state[w]["mu_product"].dtype).split(".")[-1] == str(default).split(".")[-1]
            finally:
                lib.set_default_dtype(lib.float32)

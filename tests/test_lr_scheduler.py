"""chainrule.optim.lr_scheduler against PyTorch: the same lr (and momentum) sequence over 30 steps."""

from __future__ import annotations

import math
import warnings

import pytest

import chainrule as cr

STEPS = 30

SCHEDULERS = [
    ("StepLR", {"step_size": 7, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [3, 8, 8, 20], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 10}),  # 30 steps go down, up and down again: the recursive branches
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.01}),
    ("LambdaLR", {"lr_lambda": lambda epoch: 1.0 / (1 + epoch) + 0.01 * epoch}),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": STEPS}),
    ("OneCycleLR", {"max_lr": [1.0, 0.5], "total_steps": STEPS, "anneal_strategy": "linear", "pct_start": 0.4}),
    ("OneCycleLR", {"max_lr": 2.0, "epochs": 3, "steps_per_epoch": 10, "three_phase": True,
                    "base_momentum": 0.8, "max_momentum": 0.9, "div_factor": 10.0, "final_div_factor": 100.0}),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": STEPS, "cycle_momentum": False}),
]


def _optimizer(lib, name: str = "SGD", **kwargs):
    a, b = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
    kwargs = {"lr": 0.1, "momentum": 0.9, **kwargs} if name == "SGD" else {"lr": 0.1, **kwargs}
    return getattr(lib.optim, name)([{"params": [a]}, {"params": [b], "lr": 0.05}], **kwargs)


def _run(lib, opt, sched, steps: int) -> list:
    """Per step: the lrs and the momentum (or Adam's beta1) of each group, read the way training would."""
    seen = []
    for _ in range(steps):
        opt.step()
        momentum = [g.get("momentum", g.get("betas", (None,))[0]) for g in opt.param_groups]
        seen.append((list(sched.get_last_lr()), [g["lr"] for g in opt.param_groups], momentum))
        sched.step()
    return seen


@pytest.mark.parametrize("name,kwargs", SCHEDULERS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SCHEDULERS)])
def test_lr_sequence_matches_torch(torch, name, kwargs):
    steps = STEPS if name != "OneCycleLR" else STEPS - 1  # OneCycleLR refuses to step past total_steps
    topt, copt = _optimizer(torch), _optimizer(cr)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    csched = getattr(cr.optim.lr_scheduler, name)(copt, **kwargs)
    expected, got = _run(torch, topt, tsched, steps), _run(cr, copt, csched, steps)
    assert got == expected  # exact: the same Python float arithmetic in the same order
    assert len({tuple(lrs) for lrs, _, _ in got}) > 3  # the schedule really moved


def test_one_cycle_cycles_adam_beta1_like_torch(torch):
    topt, copt = _optimizer(torch, "Adam", betas=(0.9, 0.99)), _optimizer(cr, "Adam", betas=(0.9, 0.99))
    kwargs = {"max_lr": 0.01, "total_steps": 20}
    tsched = torch.optim.lr_scheduler.OneCycleLR(topt, **kwargs)
    csched = cr.optim.lr_scheduler.OneCycleLR(copt, **kwargs)
    assert _run(cr, copt, csched, 19) == _run(torch, topt, tsched, 19)
    assert copt.param_groups[0]["betas"][1] == 0.99
    with pytest.raises(ValueError, match="Tried to step 21 times"):
        csched.step(), csched.step()


def test_cosine_matches_closed_form_and_torch_when_resumed(torch):
    """Resuming with last_epoch >= 0 takes the closed-form branch on the first step, as in PyTorch."""
    topt, copt = _optimizer(torch), _optimizer(cr)
    for opt in (topt, copt):
        for g in opt.param_groups:
            g["initial_lr"] = g["lr"]
    tsched = torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=10, last_epoch=4)
    csched = cr.optim.lr_scheduler.CosineAnnealingLR(copt, T_max=10, last_epoch=4)
    assert _run(cr, copt, csched, 10) == _run(torch, topt, tsched, 10)
    # the recursive values stay within rounding of the closed form
    fresh = _optimizer(cr)
    sched = cr.optim.lr_scheduler.CosineAnnealingLR(fresh, T_max=10, eta_min=0.001)
    for epoch in range(1, 25):
        fresh.step(); sched.step()
        closed = 0.001 + (0.1 - 0.001) * (1 + math.cos(math.pi * epoch / 10)) / 2
        assert abs(sched.get_last_lr()[0] - closed) < 1e-12


@pytest.mark.parametrize("kwargs", [
    {},
    {"mode": "max", "factor": 0.5, "patience": 2, "threshold": 0.1, "threshold_mode": "abs"},
    {"patience": 1, "cooldown": 2, "min_lr": [0.02, 0.0], "factor": 0.3},
    {"patience": 0, "threshold": 0.05, "eps": 0.02, "factor": 0.5},
])
def test_reduce_lr_on_plateau_matches_torch(torch, kwargs):
    losses = [1.0, 0.9, 0.95, 0.95, 0.89, 0.9, 0.91, 0.92, 0.93, 0.5, 0.5, 0.5, 0.5, 0.5, 0.49,
              0.6, 0.7, 0.3, 0.31, 0.32, 0.33, 0.34, 0.35, 0.36, 0.37, 0.38, 0.39, 0.4, 0.41, 0.42]
    if kwargs.get("mode") == "max":
        losses = [-x for x in losses]
    topt, copt = _optimizer(torch), _optimizer(cr)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    csched = cr.optim.lr_scheduler.ReduceLROnPlateau(copt, **kwargs)
    expected, got = [], []
    for loss in losses:
        tsched.step(loss)
        csched.step(cr.tensor(loss, dtype=cr.float64))  # a 0-dim tensor is accepted, as in PyTorch
        expected.append((tsched.get_last_lr(), tsched.num_bad_epochs, tsched.cooldown_counter))
        got.append((csched.get_last_lr(), csched.num_bad_epochs, csched.cooldown_counter))
    assert got == expected
    assert got[-1][0] != got[0][0]  # the lr was reduced at least once


@pytest.mark.parametrize("name,kwargs", [("StepLR", {"step_size": 3, "gamma": 0.5}),
                                         ("CosineAnnealingLR", {"T_max": 6}),
                                         ("OneCycleLR", {"max_lr": 1.0, "total_steps": 25}),
                                         ("ReduceLROnPlateau", {"patience": 1})])
def test_state_dict_round_trip(name, kwargs):
    def make():
        opt = _optimizer(cr)
        return opt, getattr(cr.optim.lr_scheduler, name)(opt, **kwargs)

    def advance(opt, sched, epochs):
        for epoch in range(epochs):
            opt.step()
            sched.step(1.0) if name == "ReduceLROnPlateau" else sched.step()
        return sched.get_last_lr()

    opt, sched = make()
    straight = [advance(opt, sched, 1) for _ in range(20)]

    opt, sched = make()
    first = [advance(opt, sched, 1) for _ in range(10)]
    saved_opt, saved_sched = opt.state_dict(), sched.state_dict()
    assert "optimizer" not in saved_sched
    opt2, sched2 = make()   # a fresh run: build the scheduler first, then load both (PyTorch's order)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    resumed = first + [advance(opt2, sched2, 1) for _ in range(10)]
    assert resumed == straight


def test_lambda_lr_state_dict_saves_callable_objects_only():
    class Warmup:
        def __init__(self):
            self.factor = 2.0

        def __call__(self, epoch):
            return self.factor * epoch

    opt = _optimizer(cr)
    sched = cr.optim.lr_scheduler.LambdaLR(opt, [Warmup(), lambda e: 1.0])
    sched.lr_lambdas[0].factor = 3.0
    saved = sched.state_dict()
    assert saved["lr_lambdas"] == [{"factor": 3.0}, None]
    other = cr.optim.lr_scheduler.LambdaLR(_optimizer(cr), [Warmup(), lambda e: 1.0])
    other.load_state_dict(saved)
    assert other.lr_lambdas[0].factor == 3.0


def test_warns_when_scheduler_steps_before_optimizer():
    opt = _optimizer(cr)
    sched = cr.optim.lr_scheduler.StepLR(opt, step_size=1)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    opt2 = _optimizer(cr)
    sched2 = cr.optim.lr_scheduler.StepLR(opt2, step_size=1)
    opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched2.step()


def test_bad_arguments():
    opt = _optimizer(cr)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        cr.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="mode maximum is unknown"):
        cr.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="maximum")
    with pytest.raises(ValueError, match="either total_steps OR"):
        cr.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="positive integer total_steps"):
        cr.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=0)
    with pytest.raises(ValueError, match="max_lr must have the same length"):
        cr.optim.lr_scheduler.OneCycleLR(opt, max_lr=[1.0], total_steps=10)
    with pytest.raises(ValueError, match="must support momentum or beta1"):
        cr.optim.lr_scheduler.OneCycleLR(_optimizer(cr, "Adagrad"), max_lr=1.0, total_steps=10)
    with pytest.raises(KeyError, match="initial_lr"):
        cr.optim.lr_scheduler.StepLR(_optimizer(cr), step_size=2, last_epoch=3)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        cr.optim.lr_scheduler.StepLR("sgd", step_size=2)

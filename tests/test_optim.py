"""chainrule.optim against PyTorch: same float64 weights, same data, 20 steps, same parameters to 1e-10."""

from __future__ import annotations

import tracemalloc

import pytest

import chainrule as cr

STEPS = 20
TOL = 1e-10

# (optimizer name, keyword arguments): each option that changes the update rule appears at least once
CONFIGS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "weight_decay": 0.1, "maximize": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "nesterov": True, "weight_decay": 0.1, "maximize": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1, "maximize": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.5, "amsgrad": True}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.5, "maximize": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.8}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-6, "maximize": True}),
]


def _problem(torch, seed: int = 0):
    """Weights of a 3-4-2 tanh MLP and a batch of data, as nested lists (so both libraries load them alike)."""
    g = torch.Generator().manual_seed(seed)
    shapes = {"W1": (4, 3), "b1": (4,), "W2": (2, 4), "b2": (2,), "X": (8, 3), "Y": (8, 2)}
    return {k: torch.randn(*s, generator=g, dtype=torch.float64).tolist() for k, s in shapes.items()}


def _params(lib, values):
    return [lib.tensor(values[k], dtype=lib.float64, requires_grad=True) for k in ("W1", "b1", "W2", "b2")]


def _loss(lib, params, values):
    W1, b1, W2, b2 = params
    X = lib.tensor(values["X"], dtype=lib.float64)
    Y = lib.tensor(values["Y"], dtype=lib.float64)
    out = lib.tanh(X @ W1.T + b1) @ W2.T + b2
    return ((out - Y) ** 2).mean()


def _train(lib, opt, params, values, steps: int):
    for _ in range(steps):
        opt.zero_grad()
        _loss(lib, params, values).backward()
        opt.step()


def _assert_same(cr_tensors, torch_tensors, what: str):
    for i, (a, b) in enumerate(zip(cr_tensors, torch_tensors)):
        expected = b.detach().tolist()
        got = a.detach().tolist()
        diff = max(abs(x - y) for x, y in zip(_flat(got), _flat(expected)))
        assert diff < TOL, f"{what}[{i}]: max |chainrule - torch| = {diff:.3e}"


def _flat(x):
    if isinstance(x, list):
        for item in x:
            yield from _flat(item)
    else:
        yield x


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=[f"{n}-{'-'.join(k)}" for n, k in CONFIGS])
def test_matches_torch_after_20_steps(torch, name, kwargs):
    values = _problem(torch)
    tp, cp = _params(torch, values), _params(cr, values)
    topt = getattr(torch.optim, name)(tp, **kwargs)
    copt = getattr(cr.optim, name)(cp, **kwargs)
    _train(torch, topt, tp, values, STEPS)
    _train(cr, copt, cp, values, STEPS)
    _assert_same(cp, tp, f"{name} param")
    # the state has PyTorch's keys and values too
    for p_cr, p_t in zip(cp, tp):
        t_state, c_state = topt.state[p_t], copt.state[p_cr]
        assert sorted(c_state) == sorted(t_state)
        _assert_same([c_state[k] for k in sorted(c_state)], [t_state[k] for k in sorted(t_state)], f"{name} state")


def test_param_groups_with_own_hyperparameters_match_torch(torch):
    values = _problem(torch, seed=1)
    tp, cp = _params(torch, values), _params(cr, values)

    def groups(p):
        return [{"params": p[:2]}, {"params": p[2:], "lr": 0.02, "momentum": 0.5}]
    topt = torch.optim.SGD(groups(tp), lr=0.1, momentum=0.9)
    copt = cr.optim.SGD(groups(cp), lr=0.1, momentum=0.9)
    assert copt.param_groups[1]["lr"] == 0.02 and copt.param_groups[0]["momentum"] == 0.9
    _train(torch, topt, tp, values, STEPS)
    _train(cr, copt, cp, values, STEPS)
    _assert_same(cp, tp, "param")


@pytest.mark.parametrize("name,kwargs", [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"lr": 0.01, "amsgrad": True}),
                                         ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}),
                                         ("Adagrad", {"lr": 0.1, "lr_decay": 0.01})])
def test_state_dict_round_trip_continues_like_uninterrupted(torch, name, kwargs):
    values = _problem(torch, seed=2)
    straight = _params(cr, values)
    opt = getattr(cr.optim, name)(straight, **kwargs)
    _train(cr, opt, straight, values, 20)

    first = _params(cr, values)
    opt1 = getattr(cr.optim, name)(first, **kwargs)
    _train(cr, opt1, first, values, 10)
    saved = opt1.state_dict()
    assert sorted(saved["state"]) == [0, 1, 2, 3]
    assert saved["param_groups"][0]["params"] == [0, 1, 2, 3]
    assert all(isinstance(v, cr.Tensor) for s in saved["state"].values() for v in s.values())
    # a fresh model holding the same weights and a fresh optimizer loaded from the saved state
    resumed = [cr.tensor(p.tolist(), dtype=cr.float64, requires_grad=True) for p in first]
    opt2 = getattr(cr.optim, name)(resumed, lr=123.0)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == kwargs["lr"]
    _train(cr, opt2, resumed, values, 10)
    for a, b in zip(resumed, straight):
        assert a.tolist() == b.tolist()
    # loading copied the buffers: training the resumed optimizer left the saved state untouched
    assert opt1.state[first[0]] is not opt2.state[resumed[0]]
    for key, value in opt1.state[first[0]].items():
        assert value._data is not opt2.state[resumed[0]][key]._data


def test_state_dict_layout_matches_torch(torch):
    values = _problem(torch)
    tp, cp = _params(torch, values), _params(cr, values)
    topt = torch.optim.Adam([{"params": tp[:3]}, {"params": tp[3:], "lr": 0.5}], lr=0.01)
    copt = cr.optim.Adam([{"params": cp[:3]}, {"params": cp[3:], "lr": 0.5}], lr=0.01)
    _train(torch, topt, tp, values, 2)
    _train(cr, copt, cp, values, 2)
    t_sd, c_sd = topt.state_dict(), copt.state_dict()
    assert [g["params"] for g in c_sd["param_groups"]] == [g["params"] for g in t_sd["param_groups"]]
    assert sorted(c_sd["state"]) == sorted(t_sd["state"])
    for k in t_sd["state"]:
        assert float(c_sd["state"][k]["step"]) == float(t_sd["state"][k]["step"]) == 2.0
        assert c_sd["state"][k]["step"].dtype == cr.float32
    for key in ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"):
        assert [g[key] for g in c_sd["param_groups"]] == [g[key] for g in t_sd["param_groups"]]


def test_load_state_dict_checks_group_sizes():
    a, b = cr.zeros(2, requires_grad=True), cr.zeros(2, requires_grad=True)
    saved = cr.optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="doesn't match the size"):
        cr.optim.SGD([a], lr=0.1).load_state_dict(saved)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        cr.optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(saved)


def test_step_bumps_version_once_and_updates_in_place():
    for make in (lambda p: cr.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
                 lambda p: cr.optim.Adam(p, amsgrad=True), lambda p: cr.optim.AdamW(p),
                 lambda p: cr.optim.RMSprop(p, centered=True, momentum=0.5), lambda p: cr.optim.Adagrad(p)):
        w = cr.randn(3, 2, requires_grad=True)
        array = w._data
        opt = make([w])
        for step in range(1, 4):
            (w * w).sum().backward()
            before = w._version
            opt.step()
            assert w._version == before + 1, type(opt).__name__
            assert w._data is array  # same memory: the update is in place
            opt.zero_grad()


def test_update_to_saved_tensor_is_caught_by_version_counter():
    w = cr.ones(3, requires_grad=True)
    opt = cr.optim.SGD([w], lr=0.1)
    y = (w * w).sum()   # saves w for backward
    y.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError):
        y.backward()


@pytest.mark.parametrize("make", [lambda p: cr.optim.SGD(p, lr=0.1),
                                  lambda p: cr.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
                                  lambda p: cr.optim.Adam(p, weight_decay=0.1, amsgrad=True, maximize=True),
                                  lambda p: cr.optim.RMSprop(p, centered=True, momentum=0.9),
                                  lambda p: cr.optim.Adagrad(p, weight_decay=0.1)],
                         ids=["sgd", "sgd-nesterov", "adam", "rmsprop", "adagrad"])
def test_step_allocates_no_parameter_sized_memory_once_warm(make):
    w = cr.zeros(500, 500, dtype=cr.float64, requires_grad=True)  # 2 MB
    w.grad = cr.ones(500, 500, dtype=cr.float64)
    opt = make([w])
    opt.step()  # the first step creates the state and the work arrays
    tracemalloc.start()
    try:
        opt.step()
        opt.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100_000, f"{type(opt).__name__}.step allocated {peak} bytes at peak"


def test_zero_grad():
    w = cr.ones(2, requires_grad=True)
    opt = cr.optim.SGD([w], lr=0.1)
    w.sum().backward()
    grad = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is grad and w.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert w.grad is None


def test_params_without_grad_are_skipped_and_closure_loss_returned():
    w, frozen = cr.ones(2, requires_grad=True), cr.ones(2, requires_grad=True)
    opt = cr.optim.Adam([w, frozen], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss
    loss = opt.step(closure)
    assert loss.item() == 2.0
    assert frozen.tolist() == [1.0, 1.0] and frozen not in opt.state
    assert w.tolist() != [1.0, 1.0]


def test_add_param_group_and_defaults():
    a, b = cr.zeros(1, requires_grad=True), cr.zeros(1, requires_grad=True)
    opt = cr.optim.Adam([a])
    opt.add_param_group({"params": b, "betas": (0.5, 0.6)})
    assert opt.param_groups[1]["betas"] == (0.5, 0.6) and opt.param_groups[1]["lr"] == 1e-3
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    named = cr.optim.SGD([("w", a)], lr=0.1)
    assert named.param_groups[0]["param_names"] == ["w"]
    assert "Parameter Group 0" in repr(opt) and "betas: (0.5, 0.6)" in repr(opt)


def test_bad_arguments_raise_pytorch_messages():
    w = cr.zeros(1, requires_grad=True)
    cases = [
        (lambda: cr.optim.SGD([w], lr=-1), "Invalid learning rate: -1"),
        (lambda: cr.optim.SGD([w], lr=0.1, momentum=-0.5), "Invalid momentum value: -0.5"),
        (lambda: cr.optim.SGD([w], lr=0.1, nesterov=True), "Nesterov momentum requires a momentum"),
        (lambda: cr.optim.Adam([w], betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
        (lambda: cr.optim.Adam([w], eps=-1e-8), "Invalid epsilon value: -1e-08"),
        (lambda: cr.optim.AdamW([w], weight_decay=-1), "Invalid weight_decay value: -1"),
        (lambda: cr.optim.RMSprop([w], alpha=-0.1), "Invalid alpha value: -0.1"),
        (lambda: cr.optim.Adagrad([w], lr_decay=-1), "Invalid lr_decay value: -1"),
        (lambda: cr.optim.Adagrad([w], initial_accumulator_value=-1), "Invalid initial_accumulator_value"),
        (lambda: cr.optim.SGD([], lr=0.1), "empty parameter list"),
        (lambda: cr.optim.SGD([w * 2], lr=0.1), "can't optimize a non-leaf Tensor"),
    ]
    for make, message in cases:
        with pytest.raises(ValueError, match=message):
            make()
    with pytest.raises(TypeError, match="iterable of Tensors"):
        cr.optim.SGD(w, lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        cr.optim.SGD({w}, lr=0.1)

"""``chainrule.compile``: a replayed step is bit-identical to eager, guards re-route to eager, and
every step that cannot be replayed exactly runs eagerly with its reason."""

from __future__ import annotations

import copy

import pytest

import chainrule as cr

F = cr.nn.functional


def _mlp():
    return cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.Tanh(), cr.nn.Linear(8, 3))


def _cnn():
    return cr.nn.Sequential(cr.nn.Conv2d(1, 4, 3, padding=1), cr.nn.ReLU(), cr.nn.MaxPool2d(2),
                            cr.nn.Conv2d(4, 4, 3, stride=2, padding=1), cr.nn.ReLU(), cr.nn.Flatten(),
                            cr.nn.Linear(16, 3))


def _ln_gelu():
    return cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.LayerNorm(8), cr.nn.GELU(), cr.nn.Linear(8, 3))


def _embedding():
    return cr.nn.Sequential(cr.nn.Embedding(10, 4), cr.nn.Flatten(), cr.nn.Linear(12, 3))


def _trainer(model, make_opt, loss_fn, scheduler=None):
    opt = make_opt(model.parameters())
    sched = scheduler(opt) if scheduler else None

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        return loss
    return step


def _data(kind: str, i: int, dtype):
    g = cr.Generator().manual_seed(100 + i)
    if kind == "image":
        return cr.randn(6, 1, 8, 8, generator=g, dtype=dtype), cr.randint(0, 3, (6,), generator=g)
    if kind == "tokens":
        return cr.randint(0, 10, (6, 3), generator=g), cr.randint(0, 3, (6,), generator=g)
    return cr.randn(6, 4, generator=g, dtype=dtype), cr.randint(0, 3, (6,), generator=g)


def _compare(make_model, kind, make_opt, dtype=cr.float32, loss_fn=F.cross_entropy, scheduler=None, steps=6):
    cr.manual_seed(0)
    eager_model = make_model().to(dtype)
    compiled_model = copy.deepcopy(eager_model)
    eager = _trainer(eager_model, make_opt, loss_fn, scheduler)
    compiled = cr.compile(_trainer(compiled_model, make_opt, loss_fn, scheduler))
    for i in range(steps):          # new data every step
        x, y = _data(kind, i, dtype)
        a, b = eager(x, y), compiled(x, y)
        assert a.dtype == b.dtype and a.item() == b.item(), f"step {i}: {a.item()!r} vs {b.item()!r}"
        assert i == 0 or not b.requires_grad     # replayed results are detached
    assert compiled.fallback_reason is None, compiled.fallback_reason
    assert compiled.replays == steps - 1
    for (name, p), q in zip(eager_model.state_dict().items(), compiled_model.state_dict().values(), strict=True):
        assert p.dtype == q.dtype and (p._data == q._data).all(), f"{name} differs after {steps} steps"
    return compiled


OPTIMIZERS = {
    "sgd": lambda p: cr.optim.SGD(p, lr=0.1),
    "sgd_momentum_nesterov_wd": lambda p: cr.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "adam": lambda p: cr.optim.Adam(p, lr=0.01),
    "adam_amsgrad": lambda p: cr.optim.Adam(p, lr=0.01, amsgrad=True),
    "adamw": lambda p: cr.optim.AdamW(p, lr=0.01),
    "rmsprop": lambda p: cr.optim.RMSprop(p, lr=0.01, momentum=0.5),
    "adagrad": lambda p: cr.optim.Adagrad(p, lr=0.1),
}


@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
@pytest.mark.parametrize("dtype", [cr.float32, cr.float64], ids=["float32", "float64"])
def test_mlp_is_bit_identical_for_every_optimizer(opt, dtype):
    _compare(_mlp, "vector", OPTIMIZERS[opt], dtype)


@pytest.mark.parametrize("make_model,kind", [(_cnn, "image"), (_ln_gelu, "vector"), (_embedding, "tokens")],
                         ids=["cnn", "layernorm_gelu", "embedding"])
@pytest.mark.parametrize("dtype", [cr.float32, cr.float64], ids=["float32", "float64"])
def test_model_zoo_is_bit_identical(make_model, kind, dtype):
    _compare(make_model, kind, OPTIMIZERS["adam"], dtype)


def test_losses_are_bit_identical():
    def target(y):      # a float target made from the labels by ops (comparisons are not ops yet)
        return (y.float().unsqueeze(1) / 2).expand(-1, 3)
    for loss_fn in (lambda out, y: F.mse_loss(out, target(y)),
                    lambda out, y: F.nll_loss(F.log_softmax(out, 1), y),
                    lambda out, y: F.binary_cross_entropy_with_logits(out, target(y)),
                    lambda out, y: F.l1_loss(out.softmax(1), target(y)),
                    lambda out, y: F.smooth_l1_loss(out, target(y))):
        _compare(_mlp, "vector", OPTIMIZERS["sgd"], loss_fn=loss_fn)


def test_scheduler_inside_the_step_runs_live():
    compiled = _compare(_mlp, "vector", OPTIMIZERS["sgd"],
                        scheduler=lambda opt: cr.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5))
    assert "StepLR.step()" in compiled.code()


def test_learning_rate_is_read_live():
    cr.manual_seed(0)
    a, b = _mlp(), None
    b = copy.deepcopy(a)
    opt_a, opt_b = cr.optim.SGD(a.parameters(), lr=0.1), cr.optim.SGD(b.parameters(), lr=0.1)

    def make(model, opt):
        def step(x, y):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
        return step
    eager, compiled = make(a, opt_a), cr.compile(make(b, opt_b))
    for i in range(4):
        if i == 2:
            opt_a.param_groups[0]["lr"] = opt_b.param_groups[0]["lr"] = 0.01
        x, y = _data("vector", i, cr.float32)
        eager(x, y)
        compiled(x, y)
    assert compiled.replays == 3
    assert all((p._data == q._data).all() for p, q in zip(a.parameters(), b.parameters()))


def test_gradient_accumulation_across_calls_matches_eager():
    """Without zero_grad inside, .grad accumulates over calls (assign on the first, add later)."""
    cr.manual_seed(0)
    a = _mlp()
    b = copy.deepcopy(a)

    def make(model):
        def step(x, y):
            F.cross_entropy(model(x), y).backward()
        return step
    eager, compiled = make(a), cr.compile(make(b))
    for i in range(4):
        x, y = _data("vector", i, cr.float32)
        eager(x, y)
        compiled(x, y)
    assert compiled.replays == 3
    assert all((p.grad._data == q.grad._data).all() for p, q in zip(a.parameters(), b.parameters()))


def test_input_that_requires_grad_gets_its_gradient():
    w = cr.tensor([1.0, -2.0, 0.5], requires_grad=True)

    @cr.compile
    def step(x):
        loss = (x * w).tanh().sum()
        loss.backward()
        return loss
    for i in range(3):
        x = cr.tensor([0.1 * i, 0.2, 0.3], requires_grad=True)
        step(x)
        want = (1 - (x.detach() * w.detach()).tanh() ** 2) * w.detach()
        assert (x.grad._data == want._data).all() or cr.allclose(x.grad, want)
    assert step.replays == 2


# --- guards --------------------------------------------------------------------------------------
def _simple():
    cr.manual_seed(0)
    model = _mlp()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)

    @cr.compile
    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return model, step


def test_new_input_shape_records_a_new_program():
    model, step = _simple()
    step(*_data("vector", 0, cr.float32))
    step(*_data("vector", 1, cr.float32))
    step(cr.randn(3, 4), cr.randint(0, 3, (3,)))
    assert step.fallback_reason == "recorded on this call (it ran eagerly)"
    step(cr.randn(3, 4), cr.randint(0, 3, (3,)))
    assert step.fallback_reason is None and len(step.programs) == 2


def test_eval_mode_and_replaced_layers_and_hooks_run_eagerly():
    model, step = _simple()
    x, y = _data("vector", 0, cr.float32)
    step(x, y)
    step(x, y)
    assert step.fallback_reason is None
    model.eval()
    step(x, y)
    assert "train() and eval()" in step.fallback_reason
    model.train()
    model[2] = cr.nn.Linear(8, 3)
    step(x, y)
    assert "replaced" in step.fallback_reason
    model, step = _simple()
    step(x, y)
    model[0].weight.register_hook(lambda g: g * 2)
    step(x, y)
    assert "hook" in step.fallback_reason


def test_grad_mode_off_runs_eagerly():
    model, step = _simple()
    x, y = _data("vector", 0, cr.float32)
    step(x, y)
    with cr.no_grad(), pytest.raises(RuntimeError):   # eager: backward without a graph raises
        step(x, y)
    assert step.fallback_reason == "grad mode is off"


# --- steps that cannot be replayed exactly ---------------------------------------------------------
@pytest.mark.parametrize("body,reason", [
    (lambda m, x, y: (F.cross_entropy(m(x), y).backward(), F.cross_entropy(m(x), y).item()), "reads a tensor's value"),
    (lambda m, x, y: F.mse_loss(F.dropout(m(x), 0.5), F.one_hot(y, 3).float()).backward(), "random numbers"),
    (lambda m, x, y: cr.autograd.grad(F.cross_entropy(m(x), y), list(m.parameters())), "autograd.grad"),
    (lambda m, x, y: F.cross_entropy(m(x), y).backward(retain_graph=True), "retain_graph"),
    (lambda m, x, y: F.cross_entropy(m(x), y), "no backward"),
    (lambda m, x, y: F.mse_loss(m(x), F.one_hot(y, 3).float()).backward(), "made inside the step from tensor data"),
])
def test_unreplayable_steps_run_eagerly_with_a_reason(body, reason):
    cr.manual_seed(0)
    model = _mlp()
    step = cr.compile(lambda x, y: body(model, x, y), explain=False)
    for i in range(3):
        step(*_data("vector", i, cr.float32))
        assert reason in step.fallback_reason
    assert step.replays == 0


def test_manual_sgd_and_batchnorm_statistics_run_eagerly():
    cr.manual_seed(0)
    w = cr.randn(4, 3, requires_grad=True)

    @cr.compile
    def manual(x, y):
        loss = F.cross_entropy(x @ w, y)
        loss.backward()
        with cr.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad = None
    for i in range(3):
        manual(*_data("vector", i, cr.float32))
    assert "in-place" in manual.fallback_reason and manual.replays == 0

    model = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.BatchNorm1d(8), cr.nn.Linear(8, 3))
    eager_model = copy.deepcopy(model)
    step = cr.compile(_trainer(model, OPTIMIZERS["sgd"], F.cross_entropy))
    eager = _trainer(eager_model, OPTIMIZERS["sgd"], F.cross_entropy)
    for i in range(3):
        x, y = _data("vector", i, cr.float32)
        assert step(x, y).item() == eager(x, y).item()
    assert "in-place" in step.fallback_reason
    assert (model[1].running_mean._data == eager_model[1].running_mean._data).all()


def test_explain_warns_with_the_reason():
    model = _mlp()
    step = cr.compile(lambda x: model(x).sum().item(), explain=True)
    with pytest.warns(UserWarning, match="reads a tensor's value"):
        step(cr.randn(2, 4))


def test_code_reads_as_the_chain_rule_unrolled():
    model, step = _simple()
    step(*_data("vector", 0, cr.float32))
    code = step.code()
    assert "Linear(param" in code and ", input0, param" in code and "Tanh(" in code
    assert "# backward from" in code and "∂" in code and "SGD.step()" in code


@pytest.mark.parametrize("loss_fn", [F.cross_entropy, lambda out, y: F.nll_loss(F.log_softmax(out, 1), y)],
                         ids=["cross_entropy", "nll_loss"])
def test_target_values_are_checked_on_every_replay(loss_fn):
    """Ignored targets and out-of-range targets are handled by the loss op itself, so a replay
    recorded on an ordinary batch still ignores -100 and still refuses a class index out of range."""
    cr.manual_seed(0)
    a = _mlp()
    b = copy.deepcopy(a)
    eager = _trainer(a, OPTIMIZERS["sgd"], loss_fn)
    compiled = cr.compile(_trainer(b, OPTIMIZERS["sgd"], loss_fn))
    x = cr.randn(6, 4)
    for y in (cr.tensor([0, 1, 2, 0, 1, 2]), cr.tensor([0, -100, 2, -100, 1, 2]), cr.tensor([1, 1, 1, 1, 1, 1])):
        assert eager(x, y).item() == compiled(x, y).item()
    assert compiled.replays == 2
    assert all((p._data == q._data).all() for p, q in zip(a.parameters(), b.parameters()))
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        compiled(x, cr.tensor([0, 1, 2, 7, 1, 2]))

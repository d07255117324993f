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
    _, step = _simple()
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
    _, step = _simple()
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
    _, step = _simple()
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


# --- the generated program: routes, multi-output nodes, several backwards, live optimizer calls ----
def _run_both(make_step, steps=4, dtype=cr.float32):
    """Build the same step twice from one seed, run one eagerly and one compiled on the same new data
    every call, and require bit-identical results, gradients and parameters."""
    cr.manual_seed(0)
    eager_step, eager_params = make_step()
    cr.manual_seed(0)
    compiled_step, compiled_params = make_step()
    compiled = cr.compile(compiled_step)
    for i in range(steps):
        x, y = _data("vector", i, dtype)
        a, b = eager_step(x, y=y), compiled(x, y=y)           # a keyword tensor argument too
        if a is None:
            assert b is None
            continue
        for u, v in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,), strict=True):
            assert u.dtype == v.dtype and (u._data == v._data).all(), f"call {i}: results differ"
    assert compiled.fallback_reason is None, compiled.fallback_reason
    assert compiled.replays == steps - 1
    for p, q in zip(eager_params, compiled_params, strict=True):
        assert (p._data == q._data).all()
        assert (p.grad is None) == (q.grad is None)
        assert p.grad is None or (p.grad._data == q.grad._data).all()
    return compiled


@pytest.mark.parametrize("dtype", [cr.float32, cr.float64], ids=["float32", "float64"])
def test_routes_that_meet_are_added_in_the_engines_order(dtype):
    """A residual connection and a tensor used three times: gradients from several routes are summed."""
    def make():
        lin1, lin2 = cr.nn.Linear(4, 8).to(dtype), cr.nn.Linear(8, 8).to(dtype)
        head = cr.nn.Linear(8, 3).to(dtype)
        params = [*lin1.parameters(), *lin2.parameters(), *head.parameters()]
        opt = cr.optim.Adam(params, lr=0.01)

        def step(x, y):
            opt.zero_grad()
            h = lin1(x)
            out = head(lin2(h).tanh() + h * h + h)
            loss = F.cross_entropy(out, y)
            loss.backward()
            opt.step()
            return loss, out
        return step, params
    _run_both(make, dtype=dtype)


def test_multi_output_ops_and_unused_pieces():
    """chunk/unbind are one node with several outputs; an unused piece gets PyTorch's zero gradient."""
    def make():
        lin, head = cr.nn.Linear(4, 12), cr.nn.Linear(4, 3)
        params = [*lin.parameters(), *head.parameters()]
        opt = cr.optim.SGD(params, lr=0.1, momentum=0.9)

        def step(x, y):
            opt.zero_grad()
            a, b, _unused = lin(x).chunk(3, dim=1)
            rows = (a * b.sigmoid()).unbind(0)
            loss = F.cross_entropy(head(cr.stack(rows[::-1])), y)
            loss.backward()
            opt.step()
            return loss
        return step, params
    _run_both(make)


def test_two_backward_passes_in_one_step_accumulate():
    """Two losses, two backward() calls: the second adds to the .grad the first assigned."""
    def make():
        model = _mlp()
        opt = cr.optim.RMSprop(model.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            (model(x * 2) ** 2).mean().backward()
            opt.step()
            return model(x).sum()
        return step, list(model.parameters())
    _run_both(make)


def test_optimizer_with_its_own_step_is_called_live():
    """A subclass that overrides step() is called through it (the fused update is only for the base
    Optimizer.step); hyperparameters of every group, and groups added later, are read at each call."""
    calls = []

    class CountingSGD(cr.optim.SGD):
        def step(self, closure=None):
            calls.append(1)
            return super().step(closure)

    def make(opt_class):
        def build():
            model = _mlp()
            opt = opt_class([{"params": model[0].parameters()}, {"params": model[2].parameters(), "lr": 0.05}],
                            lr=0.1)

            def step(x, y):
                opt.zero_grad()
                F.cross_entropy(model(x), y).backward()
                opt.step()
            return step, list(model.parameters())
        return build
    compiled = _run_both(make(CountingSGD))
    assert len(calls) == 2 * 4 and "CountingSGD.step()" in compiled.code()

    cr.manual_seed(0)
    eager_model, compiled_model = _mlp(), None
    compiled_model = copy.deepcopy(eager_model)
    opts = [cr.optim.SGD([{"params": m[0].parameters()}, {"params": m[2].parameters()}], lr=0.1, momentum=0.5)
            for m in (eager_model, compiled_model)]

    def trainer(model, opt):
        def step(x, y):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
        return step
    eager, compiled = trainer(eager_model, opts[0]), cr.compile(trainer(compiled_model, opts[1]))
    for i in range(6):
        if i == 3:                          # change one group's hyperparameters between calls
            for opt in opts:
                opt.param_groups[1].update(lr=0.01, momentum=0.9, nesterov=True)
        x, y = _data("vector", i, cr.float32)
        eager(x, y)
        compiled(x, y)
    assert compiled.replays == 5
    assert all((p._data == q._data).all() for p, q in zip(eager_model.parameters(), compiled_model.parameters()))


def test_zero_grad_to_zeros_then_accumulate():
    """zero_grad(set_to_none=False) keeps the .grad arrays: backward adds into them in place."""
    def make():
        model = _mlp()
        opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)

        def step(x, y):
            opt.zero_grad(set_to_none=False)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss
        return step, list(model.parameters())
    _run_both(make)


def test_a_registered_buffer_is_a_changed_module():
    model, step = _simple()
    x, y = _data("vector", 0, cr.float32)
    step(x, y)
    step(x, y)
    assert step.fallback_reason is None
    model[1].register_buffer("scale", cr.ones(1))
    step(x, y)
    assert "replaced" in step.fallback_reason


def test_the_generated_program_is_straight_line_python():
    """The replay is one generated function: guards, then one line per forward op, then the backward."""
    from chainrule.compile.replay import source
    _, step = _simple()
    step(*_data("vector", 0, cr.float32))
    text = step.source()
    assert text == source(step._last)
    assert text.startswith("def replay(flat):") and "return _R_changed" in text
    assert "for " not in text.split("# backward")[0].split("_state.enabled = False", 1)[1]   # no loop in forward
    assert text.count("_new(") == 5        # Linear, Tanh, Linear, LogSoftmax, NllLoss (cross-entropy)
    compile(text, "<test>", "exec")

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


def _same_parameters(a, b) -> bool:
    """Two models' (or two lists of) parameters bit for bit, and as many of them."""
    a = a.parameters() if hasattr(a, "parameters") else a
    b = b.parameters() if hasattr(b, "parameters") else b
    return all((p._data == q._data).all() for p, q in zip(a, b, strict=True))


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
        assert i <= 1 or not b.requires_grad     # replayed results are detached
    assert compiled.fallback_reason is None, compiled.fallback_reason
    assert compiled.replays == steps - 2     # recorded on the first two calls (see test_constants_...)
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
    assert compiled.replays == 2
    assert _same_parameters(a, b)


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
    assert compiled.replays == 2
    assert all((p.grad._data == q.grad._data).all() for p, q in zip(a.parameters(), b.parameters()))


def test_input_that_requires_grad_gets_its_gradient():
    w = cr.tensor([1.0, -2.0, 0.5], requires_grad=True)

    @cr.compile
    def step(x):
        loss = (x * w).tanh().sum()
        loss.backward()
        return loss
    for i in range(4):
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
    assert step.fallback_reason.startswith("recorded on this call (it ran eagerly); the next call records again")
    step(cr.randn(3, 4), cr.randint(0, 3, (3,)))
    assert step.fallback_reason == "recorded on this call (it ran eagerly)"
    step(cr.randn(3, 4), cr.randint(0, 3, (3,)))
    assert step.fallback_reason is None and len(step.programs) == 2


def test_eval_mode_and_replaced_layers_and_hooks_run_eagerly():
    model, step = _simple()
    x, y = _data("vector", 0, cr.float32)
    step(x, y)
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
    (lambda m, x, y: F.cross_entropy(m(x) * cr.bernoulli(cr.full((6, 3), 0.5)), y).backward(), "random numbers"),
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
    for y in (cr.tensor([0, 1, 2, 0, 1, 2]), cr.tensor([2, 1, 0, 0, 1, 2]), cr.tensor([0, -100, 2, -100, 1, 2]),
              cr.tensor([1, 1, 1, 1, 1, 1])):
        assert eager(x, y).item() == compiled(x, y).item()
    assert compiled.replays == 2
    assert _same_parameters(a, b)
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
    assert compiled.replays == steps - 2
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
    assert compiled.replays == 4
    assert _same_parameters(eager_model, compiled_model)


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


# --- real models: a small GPT and a character-level language model -------------------------------
def _gpt(vocab=11, block=8, width=16, heads=2, layers=2, manual=False):
    """A pre-LN GPT as nanoGPT writes it: token + position embeddings (positions from ``arange`` inside
    the step), fused qkv split, view/transpose/contiguous, ``scaled_dot_product_attention(is_causal=True)``
    (``manual``: q·kᵀ/√d, ``masked_fill`` from a registered bool buffer, softmax, ·v), LayerNorm, exact
    GELU, cross-entropy on the next token."""
    nn = cr.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(width), nn.LayerNorm(width)
            self.qkv, self.proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
            self.fc, self.out = nn.Linear(width, 4 * width), nn.Linear(4 * width, width)
            self.register_buffer("future", cr.ones(block, block, dtype=cr.bool).triu(1))

        def attend(self, x):
            B, T, C = x.shape
            q, k, v = self.qkv(x).split(width, dim=2)
            q, k, v = (t.view(B, T, heads, C // heads).transpose(1, 2) for t in (q, k, v))
            if manual:
                att = (q @ k.transpose(-2, -1)) * (1.0 / (C // heads) ** 0.5)
                y = F.softmax(att.masked_fill(self.future[:T, :T], float("-inf")), dim=-1) @ v
            else:
                y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.proj(y.transpose(1, 2).contiguous().view(B, T, C))

        def forward(self, x):
            x = x + self.attend(self.ln1(x))
            return x + self.out(F.gelu(self.fc(self.ln2(x))))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok, self.pos = nn.Embedding(vocab, width), nn.Embedding(block, width)
            self.blocks = nn.ModuleList([Block() for _ in range(layers)])
            self.ln_f, self.head = nn.LayerNorm(width), nn.Linear(width, vocab)

        def forward(self, idx, targets):
            x = self.tok(idx) + self.pos(cr.arange(idx.shape[1]))
            for layer in self.blocks:
                x = layer(x)
            logits = self.head(self.ln_f(x))
            return F.cross_entropy(logits.view(-1, vocab), targets.view(-1))

    return GPT()


def _char_lm(vocab=27, context=3, embed=10, hidden=32):
    """makemore's MLP: the previous 3 characters' embeddings concatenated, a tanh layer, 27 logits."""
    nn = cr.nn

    class CharMLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(vocab, embed)
            self.hidden, self.out = nn.Linear(context * embed, hidden), nn.Linear(hidden, vocab)

        def forward(self, idx, targets):
            x = self.emb(idx).view(idx.shape[0], context * embed)
            return F.cross_entropy(self.out(cr.tanh(self.hidden(x))), targets)

    return CharMLP()


def _lm_trainer(model, opt, sched=None):
    def step(x, y):
        opt.zero_grad()
        loss = model(x, y)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        return loss
    return step


def _lm_compare(make_model, make_opt, x_shape, y_shape, vocab, dtype, steps=8, sched=None):
    cr.manual_seed(0)
    eager_model = make_model().to(dtype)
    compiled_model = copy.deepcopy(eager_model)
    opts = [make_opt(m.parameters()) for m in (eager_model, compiled_model)]
    scheds = [sched(o) if sched else None for o in opts]
    eager = _lm_trainer(eager_model, opts[0], scheds[0])
    compiled = cr.compile(_lm_trainer(compiled_model, opts[1], scheds[1]))
    g = cr.Generator().manual_seed(7)
    for i in range(steps):          # a new batch every step
        x, y = cr.randint(0, vocab, x_shape, generator=g), cr.randint(0, vocab, y_shape, generator=g)
        a, b = eager(x, y), compiled(x, y)
        assert a.dtype == b.dtype == dtype and a.item() == b.item(), f"step {i}: {a.item()!r} vs {b.item()!r}"
    assert compiled.fallback_reason is None, compiled.fallback_reason
    assert compiled.replays == steps - 2
    for (name, p), q in zip(eager_model.state_dict().items(), compiled_model.state_dict().values(), strict=True):
        assert (p._data == q._data).all(), f"{name} differs after {steps} steps"
    return compiled


@pytest.mark.parametrize("dtype", [cr.float32, cr.float64], ids=["float32", "float64"])
def test_small_gpt_step_is_bit_identical(dtype):
    compiled = _lm_compare(_gpt, lambda p: cr.optim.AdamW(p, lr=1e-2), (2, 8), (2, 8), 11, dtype,
                           sched=lambda o: cr.optim.lr_scheduler.CosineAnnealingLR(o, T_max=5))
    code = compiled.code()
    assert "ScaledDotProductAttention(" in code and "Embedding(param2[11, 16], input0, None)" in code
    assert "Embedding(param4[8, 16], const5, None)" in code     # positions (arange) are a constant of the program


def test_gpt_with_manual_attention_and_a_mask_buffer_is_bit_identical():
    _lm_compare(lambda: _gpt(manual=True), lambda p: cr.optim.AdamW(p, lr=1e-2), (2, 8), (2, 8), 11, cr.float32,
                steps=5)


def test_gpt_with_tied_embedding_weights_is_bit_identical():
    """nanoGPT ties the output layer to the token embedding: one parameter read by two ops, its
    gradient the sum of both routes."""
    def tied():
        model = _gpt()
        model.head.weight = model.tok.weight
        return model
    _lm_compare(tied, lambda p: cr.optim.AdamW(p, lr=1e-2), (2, 8), (2, 8), 11, cr.float32, steps=5)


@pytest.mark.parametrize("dtype", [cr.float32, cr.float64], ids=["float32", "float64"])
def test_char_lm_step_is_bit_identical(dtype):
    _lm_compare(_char_lm, lambda p: cr.optim.SGD(p, lr=0.1), (16, 3), (16,), 27, dtype)


def test_a_batch_captured_from_outside_runs_eagerly():
    """A batch picked by Python code from a list is not an argument: replay would reuse the recorded
    one. The two recordings read different tensors, so the step runs eagerly and says to pass it as an
    argument. (A captured tensor that stays the same object, a fixed full batch, replays.)"""
    cr.manual_seed(0)
    model = _mlp()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    batches = [_data("vector", i, cr.float32) for i in range(3)]
    at = {"i": 0}

    @cr.compile
    def step():
        x, y = batches[at["i"] % 3]
        at["i"] += 1
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    for _ in range(4):
        step()
    assert "different captured tensor" in step.fallback_reason and "pass it as an argument" in step.fallback_reason
    assert step.replays == 0


def test_manual_causal_mask_from_a_buffer_runs_eagerly_with_a_reason():
    """nanoGPT's manual attention, ``att.masked_fill(self.mask[..., :T, :T] == 0, -inf)``: the comparison
    is not an op, so the mask cannot be recomputed at replay and the step runs eagerly, saying so."""
    cr.manual_seed(0)

    class Masked(cr.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = cr.nn.Linear(4, 4)
            self.register_buffer("mask", cr.tril(cr.ones(4, 4)).view(1, 4, 4))

        def forward(self, x):
            att = self.lin(x).masked_fill(self.mask[:, :4, :4] == 0, float("-inf"))
            return F.softmax(att, dim=-1).sum()
    model = Masked()
    step = cr.compile(lambda x: model(x).backward())
    for i in range(2):
        step(cr.randn(2, 4, 4))
        assert "maskedfill" in step.fallback_reason and "computed outside" in step.fallback_reason


@pytest.mark.parametrize("seeded", [False, True], ids=["default_generator", "own_generator"])
def test_random_factories_are_drawn_again_on_replay(seeded):
    """Noise from randn_like/rand/randint inside the step (a VAE's reparametrisation, noise injection) is
    drawn again on every replay from the same generator: after the same seed, compiled == eager."""
    def run(compiled: bool):
        cr.manual_seed(0)
        model = _mlp()
        opt = cr.optim.Adam(model.parameters(), lr=0.01)
        g = cr.Generator().manual_seed(3) if seeded else None
        cr.manual_seed(5)

        def step(x, y):
            opt.zero_grad()
            h = model(x)
            noisy = h + 0.1 * cr.randn_like(h, generator=g) * cr.rand(1, generator=g)
            pick = cr.randint(0, 2, (1,), generator=g)
            loss = F.cross_entropy(noisy, y) + 0.0 * pick.float().sum()
            loss.backward()
            opt.step()
            return loss
        fn = cr.compile(step) if compiled else step
        losses = [fn(*_data("vector", i, cr.float32)).item() for i in range(5)]
        return losses, model, fn, cr.rand(1).item()
    want, eager_model, _, eager_next = run(False)
    got, compiled_model, step, compiled_next = run(True)
    assert got == want and step.replays == 3 and step.fallback_reason is None
    assert compiled_next == eager_next          # the default generator ends where eager leaves it
    assert _same_parameters(eager_model, compiled_model)
    assert "randn(...)" in step.code() and "# randn" in step.source()


def test_constants_from_python_state_run_eagerly():
    """Values the step computes in Python are baked into the program, so the first two calls are both
    recorded and must agree: a loss weight from a step counter (KL annealing) makes the step eager."""
    cr.manual_seed(0)
    a = _mlp()
    b = copy.deepcopy(a)

    def make(m, o):
        def step(x, y, counter):
            counter["n"] += 1
            o.zero_grad()
            loss = F.cross_entropy(m(x), y) * min(1.0, counter["n"] / 10)     # a Python float that changes
            loss.backward()
            o.step()
            return loss
        return step
    opt_a, opt_b = cr.optim.SGD(a.parameters(), lr=0.1), cr.optim.SGD(b.parameters(), lr=0.1)
    eager, compiled = make(a, opt_a), cr.compile(make(b, opt_b))
    ca, cb = {"n": 0}, {"n": 0}
    for i in range(4):
        x, y = _data("vector", i, cr.float32)
        assert eager(x, y, ca).item() == compiled(x, y, cb).item()
    assert compiled.replays == 0 and "different constants" in compiled.fallback_reason
    assert _same_parameters(a, b)

    w, calls = cr.tensor([1.0, 2.0], requires_grad=True), {"n": 0}
    step = cr.compile(lambda x: (x * w * cr.tensor(calls["n"])).sum().backward())   # a factory of Python state
    for _ in range(3):
        calls["n"] += 1
        step(cr.ones(2))
    assert step.replays == 0 and "different constants" in step.fallback_reason


def test_char_lm_with_the_loss_written_by_hand_is_bit_identical():
    """makemore's hand-written loss, ``-logprobs[arange(n), Y].mean()``: an index holding a constant made
    in the step and an input is rebuilt on every replay."""
    def make():
        model = _char_lm()
        opt = cr.optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            h = cr.tanh(model.hidden(model.emb(x).view(x.shape[0], -1)))
            logprobs = F.log_softmax(model.out(h), dim=1)
            loss = -logprobs[cr.arange(x.shape[0]), y].mean()
            loss.backward()
            opt.step()
            return loss
        return step, list(model.parameters())
    cr.manual_seed(0)
    eager, eager_params = make()
    cr.manual_seed(0)
    compiled_step, compiled_params = make()
    compiled = cr.compile(compiled_step)
    g = cr.Generator().manual_seed(1)
    for i in range(6):
        x, y = cr.randint(0, 27, (16, 3), generator=g), cr.randint(0, 27, (16,), generator=g)
        assert eager(x, y).item() == compiled(x, y).item(), f"step {i}"
    assert compiled.replays == 4 and compiled.fallback_reason is None
    assert _same_parameters(eager_params, compiled_params)
    assert "Index(" in compiled.code()


@pytest.mark.parametrize("bad", [10, -1])
def test_embedding_ids_out_of_range_raise_on_replay(bad):
    """F.embedding checks the ids in Python before its op; a replay guards them, so an id out of range
    (NumPy would wrap -1 silently) runs the call eagerly, which raises chainrule's error."""
    cr.manual_seed(0)
    step = cr.compile(_trainer(_embedding(), OPTIMIZERS["sgd"], F.cross_entropy))
    for i in range(3):
        step(*_data("tokens", i, cr.float32))
    assert step.fallback_reason is None
    x = cr.tensor([[0, 1, bad]] * 6)
    with pytest.raises(IndexError, match=f"embedding: index {bad} is out of range for a table of 10 rows"):
        step(x, cr.randint(0, 3, (6,)))
    assert "embedding id is out of range" in step.fallback_reason


def test_dropout_draws_a_new_mask_on_every_replay():
    """F.dropout / nn.Dropout draw their mask through the recorder: the replayed step draws a new mask
    from the default generator each call, so after the same seed compiled == eager, bit for bit."""
    def run(compiled: bool):
        cr.manual_seed(0)
        model = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.Tanh(), cr.nn.Dropout(0.3), cr.nn.Linear(8, 3))
        opt = cr.optim.SGD(model.parameters(), lr=0.1)
        cr.manual_seed(7)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(F.dropout(model(x), 0.2), y)
            loss.backward()
            opt.step()
            return loss
        fn = cr.compile(step) if compiled else step
        losses = [fn(*_data("vector", i, cr.float32)).item() for i in range(6)]
        return losses, model, fn, cr.rand(1).item()
    want, eager_model, _, eager_next = run(False)
    got, compiled_model, step, compiled_next = run(True)
    assert got == want and compiled_next == eager_next     # same masks, same generator state after
    assert step.fallback_reason is None and step.replays == 4
    assert _same_parameters(eager_model, compiled_model)

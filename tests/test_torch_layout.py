"""PyTorch's module layout and CPU-build answers (issue 10): torch.cuda / accelerator / backends / amp,
devices, torch.utils.data, torch.utils.tensorboard, torch.linalg and torch.distributions — each checked
against the installed PyTorch (a CPU build, which is what chainrule imitates)."""

from __future__ import annotations

import importlib
import math
import warnings

import pytest

import chainrule as cr
from chainrule.backend import xp

# --- devices ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [("cpu",), ("cuda",), ("cuda:1",), ("cuda", 0), ("cpu", 0), ("mps",), ("meta",)])
def test_device_objects_match_torch(torch, args):
    d, t = cr.device(*args), torch.device(*args)
    assert (repr(d), str(d), d.type, d.index) == (repr(t), str(t), t.type, t.index)
    assert cr.device(d) == d and hash(cr.device(d)) == hash(d)


def test_device_equality_and_errors_match_torch(torch):
    assert (cr.device("cuda") == cr.device("cuda", 0)) == (torch.device("cuda") == torch.device("cuda", 0))
    assert (cr.device("cpu") == "cpu") == (torch.device("cpu") == "cpu")
    for bad in ("gpu", "cuda:x"):
        with pytest.raises(RuntimeError) as want:
            torch.device(bad)
        with pytest.raises(RuntimeError) as got:
            cr.device(bad)
        assert str(got.value) == str(want.value)
    with pytest.raises(RuntimeError, match="must not be negative"):
        cr.device("cpu", -1)


@pytest.mark.parametrize("move", ["x.cuda()", "x.to('cuda')", "x.to(device='cuda:0')", "x.to(m.device('cuda'))",
                                  "m.nn.Linear(2, 2).cuda()", "m.nn.Linear(2, 2).to('cuda')",
                                  "m.set_default_device('cuda')"])
def test_moving_to_cuda_raises_pytorchs_error(torch, move):
    with pytest.raises(AssertionError) as want:
        x = torch.ones(2)
        eval(move, {"m": torch, "x": x})
        if move.startswith("m.set_default_device"):      # PyTorch raises at the next tensor made
            torch.ones(1)
    torch.set_default_device(None)
    with pytest.raises(AssertionError) as got:            # also a RuntimeError in chainrule
        eval(move, {"m": cr, "x": cr.ones(2)})
    assert str(got.value).startswith(str(want.value)) and "CPU" in str(got.value)
    assert isinstance(got.value, RuntimeError)


def test_cpu_moves_are_no_ops():
    x = cr.ones(2)
    assert x.to("cpu") is x and x.to(cr.device("cpu")) is x and x.cpu() is x
    cr.set_default_device("cpu")
    assert cr.get_default_device() == cr.device("cpu") and x.device == cr.device("cpu")
    with pytest.raises(RuntimeError, match="mps"):
        x.to("mps")


# --- torch.cuda, accelerator, backends, amp ---------------------------------------------------------------

def test_cuda_queries_match_a_cpu_build(torch):
    for name in ("is_available", "device_count", "is_bf16_supported", "is_initialized"):
        assert getattr(cr.cuda, name)() == getattr(torch.cuda, name)(), name
    for name in ("manual_seed", "manual_seed_all"):
        assert getattr(cr.cuda, name)(3) is None
    assert cr.cuda.seed() is None and cr.cuda.empty_cache() is None and cr.cuda.memory_allocated() == 0
    for name in ("synchronize", "current_device", "get_device_name"):
        with pytest.raises(AssertionError, match="not compiled with CUDA"):
            getattr(cr.cuda, name)()
    assert (cr.accelerator.is_available(), cr.accelerator.current_accelerator()) == \
        (torch.accelerator.is_available(), torch.accelerator.current_accelerator())


def test_backend_flags_have_pytorchs_defaults_and_can_be_set(torch):
    b, t = cr.backends, torch.backends
    assert (b.cudnn.enabled, b.cudnn.benchmark, b.cudnn.deterministic, b.cudnn.allow_tf32) == \
        (t.cudnn.enabled, t.cudnn.benchmark, t.cudnn.deterministic, t.cudnn.allow_tf32)
    assert (b.cudnn.is_available(), b.mps.is_available(), b.mps.is_built(), b.cuda.is_built()) == \
        (t.cudnn.is_available(), t.mps.is_available(), t.mps.is_built(), t.cuda.is_built())
    assert b.cuda.matmul.allow_tf32 == t.cuda.matmul.allow_tf32
    b.cudnn.benchmark = True
    try:
        assert cr.backends.cudnn.benchmark is True
    finally:
        b.cudnn.benchmark = False


def test_autocast_is_a_no_op_context_and_decorator():
    x = cr.ones(2, 3)
    with pytest.warns(UserWarning, match="CUDA is not available"):
        ctx = cr.autocast(device_type="cuda")
    with ctx:
        y = x @ x.T
    assert y.dtype == cr.float32 and cr.autocast is cr.amp.autocast

    @cr.amp.autocast("cpu", enabled=False)
    def f(a):
        return a * 2
    assert f(x).dtype == cr.float32
    with pytest.raises(TypeError, match="device_type"):
        cr.amp.autocast(0)


def test_disabled_grad_scalers_pass_through(torch):
    w = cr.tensor([1.0], requires_grad=True)
    opt = cr.optim.SGD([w], lr=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scalers = [cr.cuda.amp.GradScaler(enabled=False), cr.amp.GradScaler("cuda"), cr.amp.GradScaler(enabled=False)]
        want = torch.cuda.amp.GradScaler(enabled=False)
    for s in scalers:
        loss = (w * w).sum()
        assert s.scale(loss) is loss and not s.is_enabled() and s.get_scale() == want.get_scale() == 1.0
        assert s.state_dict() == want.state_dict() == {}
    loss.backward()
    scalers[0].step(opt)
    scalers[0].update()
    assert w.item() == 0.0


def test_cpu_grad_scaler_matches_torch(torch):
    """torch.amp.GradScaler('cpu') really scales; a step with an inf gradient is skipped and backs off."""
    results = []
    for m in (torch, cr):
        w = m.tensor([1.0, -2.0], requires_grad=True)
        opt = m.optim.SGD([w], lr=0.1)
        s = m.amp.GradScaler("cpu", init_scale=1024.0, growth_interval=2)
        trace = []
        for step in range(4):
            opt.zero_grad()
            loss = (w * w).sum() * (float("inf") if step == 1 else 1.0)
            s.scale(loss).backward()
            s.step(opt)
            s.update()
            trace.append((s.get_scale(), [round(v, 6) for v in w.tolist()]))
        results.append((trace, s.state_dict()))
    assert results[0] == results[1]


# --- torch.utils.data, torch.utils.tensorboard -------------------------------------------------------------

def test_utils_data_is_chainrule_data():
    import chainrule.utils.data as ud
    import chainrule.utils.data.sampler as us
    assert ud is cr.data and us is cr.data.sampler and ud.DataLoader is cr.data.DataLoader
    assert importlib.import_module("chainrule.utils.data.dataloader") is cr.data.dataloader
    assert {"DataLoader", "Dataset", "TensorDataset", "RandomSampler", "random_split"} <= set(dir(cr.utils.data))


def test_tensorboard_import_names_the_alternative():
    with pytest.raises(ImportError, match="chainrule.plot.training_curves"):
        importlib.import_module("chainrule.utils.tensorboard")
    with pytest.raises(ImportError, match="metrics.json"):
        from chainrule.utils.tensorboard import SummaryWriter  # noqa: F401


def test_random_sampler_with_replacement_is_lazy_and_matches_torch(torch):
    """minGPT's endless sampler: num_samples=10**10 draws in chunks as iteration reaches them."""
    got, want = [], []
    for m, out in ((cr, got), (torch, want)):
        s = m.utils.data.RandomSampler(range(7), replacement=True, num_samples=10 ** 10,
                                       generator=m.Generator().manual_seed(3))
        it = iter(s)
        out.extend(next(it) for _ in range(70))
        assert len(s) == 10 ** 10
    assert got == want
    loader = cr.utils.data.DataLoader(cr.utils.data.TensorDataset(cr.arange(7)), batch_size=4, sampler=cr.utils.data
                                      .RandomSampler(range(7), replacement=True, num_samples=10 ** 10))
    first = next(iter(loader))[0]
    assert first.shape == (4,) and bool((first < 7).all())


@pytest.mark.parametrize("shuffle_seed", [0, 5])
def test_shuffled_loader_visits_pytorchs_order(torch, shuffle_seed):
    orders = []
    for m in (torch, cr):
        m.manual_seed(shuffle_seed)
        ds = m.utils.data.TensorDataset(m.arange(11))
        loader = m.utils.data.DataLoader(ds, batch_size=3, shuffle=True)
        epochs = [[b[0].tolist() for b in loader] for _ in range(2)]
        orders.append((epochs, m.randn(2).tolist()))   # and the global stream afterwards
    assert orders[0] == orders[1]


def test_other_samplers_match_torch(torch):
    got = []
    for m in (torch, cr):
        g = m.Generator().manual_seed(4)
        got.append((list(m.utils.data.SubsetRandomSampler([3, 9, 4, 8], generator=g)),
                    list(m.utils.data.WeightedRandomSampler([0.1, 0.6, 0.3], 8, generator=g)),
                    list(m.utils.data.RandomSampler(range(5), num_samples=12, generator=g))))
    assert got[0] == got[1]


# --- torch.linalg ------------------------------------------------------------------------------------------

NORMS = [("vector_norm", (), {}), ("vector_norm", (), {"ord": 1, "dim": 1}), ("vector_norm", (), {"ord": 3.5}),
         ("vector_norm", (), {"ord": float("inf"), "dim": (0, 1), "keepdim": True}),
         ("matrix_norm", (), {}), ("matrix_norm", (), {"ord": 1}), ("matrix_norm", (), {"ord": -1}),
         ("matrix_norm", (), {"ord": float("inf")}), ("matrix_norm", (), {"ord": -float("inf"), "keepdim": True}),
         ("matrix_norm", (), {"ord": 1, "dim": (2, 0)}), ("norm", (), {}), ("norm", (), {"dim": 2}),
         ("norm", (), {"ord": 2, "dim": -1})]


@pytest.mark.parametrize("name,args,kwargs", NORMS)
def test_linalg_norms_match_torch(torch, name, args, kwargs):
    a = xp.random.default_rng(len(repr(kwargs))).standard_normal((2, 3, 4))
    x, t = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, u = getattr(cr.linalg, name)(x, *args, **kwargs), getattr(torch.linalg, name)(t, *args, **kwargs)
    assert xp.allclose(y.detach().numpy(), u.detach().numpy(), rtol=1e-12, atol=1e-12)
    up = xp.random.default_rng(1).standard_normal(tuple(u.shape))
    (y * cr.tensor(up)).sum().backward()
    (u * torch.tensor(up)).sum().backward()
    assert xp.allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert y.grad_fn.name() == type(u.grad_fn).__name__


def test_linalg_refuses_what_it_cannot_do():
    with pytest.raises(NotImplementedError, match="SVD"):
        cr.linalg.matrix_norm(cr.ones(2, 2), ord=2)
    with pytest.raises(TypeError, match="'ord' must be a number"):
        cr.linalg.vector_norm(cr.ones(2), ord="fro")
    with pytest.raises(RuntimeError, match="floating point"):
        cr.linalg.vector_norm(cr.ones(2, dtype=cr.int64))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        cr.linalg.matrix_norm(cr.ones(2))


@pytest.mark.parametrize("call,match", [("inv(m.zeros(2, 2))", "singular"), ("solve(m.zeros(2, 2), m.ones(2))", "singular"),
                                        ("inv(m.zeros(2, 3))", "square"), ("det(m.ones(3))", "2 dimensions"),
                                        ("solve(m.eye(2), m.ones(3))", "2 rows")])
def test_linalg_inverse_ops_reject_what_torch_rejects(torch, call, match):
    with pytest.raises(RuntimeError):
        eval("m.linalg." + call, {"m": torch})
    with pytest.raises(RuntimeError, match=match) as e:
        eval("m.linalg." + call, {"m": cr})
    assert "linalg." in str(e.value)


def test_det_of_a_singular_matrix_and_its_gradient():
    a = cr.zeros(2, 2, requires_grad=True)
    d = cr.linalg.det(a)
    assert d.item() == 0.0
    with pytest.raises(RuntimeError, match="singular"):
        d.backward()


# --- torch.distributions -------------------------------------------------------------------------------------

def _both(torch, fn):
    return fn(cr), fn(torch)


def _close(a, b):
    return xp.allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-7, equal_nan=True)


@pytest.mark.parametrize("kind", ["probs", "logits"])
def test_categorical_matches_torch(torch, kind):
    raw = [[0.2, 0.3, 0.5, 0.0], [1.0, 1.0, 2.0, 4.0]] if kind == "probs" else [[0.5, -1.0, 2.0, 0.0], [3.0, 0, 0, 1]]
    (d, e) = _both(torch, lambda m: m.distributions.Categorical(**{kind: m.tensor(raw)}))
    assert tuple(d.batch_shape) == tuple(e.batch_shape) and tuple(d.event_shape) == tuple(e.event_shape)
    for attr in ("probs", "logits", "mode"):
        assert _close(getattr(d, attr), getattr(e, attr)), attr
    assert _close(d.entropy(), e.entropy())
    assert _close(d.log_prob(cr.tensor([2, 3])), e.log_prob(torch.tensor([2, 3])))
    assert _close(d.log_prob(cr.tensor([[1], [0]])), e.log_prob(torch.tensor([[1], [0]])))
    cr.manual_seed(11)
    torch.manual_seed(11)
    assert d.sample((5, 3)).tolist() == e.sample((5, 3)).tolist()
    assert d.sample().tolist() == e.sample().tolist()


def test_categorical_gradients_match_torch(torch):
    logits = xp.array([[0.5, -1.0, 2.0], [0.1, 0.2, 0.3]])
    grads = []
    for m in (cr, torch):
        z = m.tensor(logits, requires_grad=True)
        d = m.distributions.Categorical(logits=z)
        (d.log_prob(m.tensor([2, 0])).sum() + d.entropy().sum()).backward()
        grads.append(z.grad.numpy())
    assert xp.allclose(grads[0], grads[1], rtol=1e-10)


def test_normal_matches_torch(torch):
    (d, e) = _both(torch, lambda m: m.distributions.Normal(m.tensor([0.0, 1.0, -2.0]), m.tensor([1.0, 0.5, 3.0])))
    v = [[0.3, 1.2, 0.0]]
    assert _close(d.log_prob(cr.tensor(v)), e.log_prob(torch.tensor(v))) and _close(d.entropy(), e.entropy())
    assert _close(d.variance, e.variance) and _close(d.stddev, e.stddev) and _close(d.mean, e.mean)
    cr.manual_seed(5)
    torch.manual_seed(5)
    assert _close(d.sample((4,)), e.sample((4,))) and _close(d.rsample((2, 1)), e.rsample((2, 1)))
    (s, t) = _both(torch, lambda m: m.distributions.Normal(0.0, 2.0))
    assert repr(s) == repr(t) and _close(s.log_prob(cr.tensor(0.5)), t.log_prob(torch.tensor(0.5)))


def test_normal_rsample_is_differentiable_like_torch(torch):
    grads = []
    for m in (cr, torch):
        m.manual_seed(2)
        loc, scale = m.tensor([0.5, -1.0], requires_grad=True), m.tensor([1.5, 0.2], requires_grad=True)
        d = m.distributions.Normal(loc, scale)
        (d.rsample((3,)) ** 2).sum().add(d.log_prob(m.tensor([0.0, 0.0])).sum()).backward()
        grads.append((loc.grad.tolist(), scale.grad.tolist()))
    assert xp.allclose(grads[0], grads[1], rtol=1e-5)
    assert not cr.distributions.Normal(cr.zeros(1, requires_grad=True), 1.0).sample().requires_grad


def test_distribution_arguments_are_validated_as_in_torch(torch):
    for bad in (lambda m: m.distributions.Normal(m.tensor(0.0), m.tensor(-1.0)),
                lambda m: m.distributions.Categorical(probs=m.tensor([-0.2, 0.3])),
                lambda m: m.distributions.Categorical(),
                lambda m: m.distributions.Categorical(probs=m.tensor([0.5, 0.5])).log_prob(m.tensor(2))):
        with pytest.raises(ValueError) as want:
            bad(torch)
        with pytest.raises(ValueError) as got:
            bad(cr)
        assert str(got.value).split("(")[0] == str(want.value).split("(")[0]


# --- chainrule.save of plain Python objects and NumPy arrays ----------------------------------------------------

def test_save_round_trips_numpy_arrays_and_plain_values(tmp_path):
    ckpt = {"model": cr.nn.Linear(2, 1).state_dict(), "split": xp.arange(6, dtype=xp.int64).reshape(2, 3),
            "mask": xp.array([True, False]), "config": {"lr": 0.1, "layers": [2, 1], "name": "mlp", "seed": None},
            "epoch": 3, "best": xp.float32(0.25)}
    cr.save(ckpt, tmp_path / "c.safetensors")
    back = cr.load(tmp_path / "c.safetensors")
    assert isinstance(back["split"], xp.ndarray) and back["split"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert back["split"].dtype == xp.int64 and back["mask"].tolist() == [True, False]
    assert back["config"] == ckpt["config"] and back["epoch"] == 3 and back["best"] == 0.25
    assert isinstance(back["model"]["weight"], cr.Tensor)


@pytest.mark.parametrize("value,hint", [({1, 2}, "sorted"), (xp.array(["a"], dtype=object), "dtype object"),
                                        ("module", "state_dict"), ("namespace", "vars(obj)"), ("path", "str(path)")])
def test_save_refuses_pickle_and_says_what_to_store(tmp_path, value, hint):
    import argparse
    import pathlib
    value = {"module": cr.nn.Linear(2, 2), "namespace": argparse.Namespace(lr=0.1),
             "path": pathlib.Path("/tmp")}.get(value, value) if isinstance(value, str) else value
    with pytest.raises(TypeError) as e:
        cr.save({"a": [value]}, tmp_path / "x.safetensors")
    assert "'a.0'" in str(e.value) and "never pickled" in str(e.value) and hint in str(e.value)
    assert not (tmp_path / "x.safetensors").exists()


# --- the torch alias (chainrule run) ---------------------------------------------------------------------------

def test_torch_alias_refuses_a_real_torch_and_blocks_torch_libraries(torch):
    from chainrule.torch_alias import torch_aliased
    with pytest.raises(RuntimeError, match="real torch is already imported"), torch_aliased():
        pass
    with torch_aliased(set_aside_real_torch=True):
        t = importlib.import_module("torch")
        assert t is cr and importlib.import_module("torch.optim.lr_scheduler") is cr.optim.lr_scheduler
        with pytest.raises(ImportError, match="built on the real PyTorch"):
            importlib.import_module("torchvision")
        with pytest.raises(ImportError, match="chainrule.utils.checkpoint"):
            importlib.import_module("torch.utils.checkpoint")
    assert importlib.import_module("torch") is torch


def test_creation_functions_refuse_cuda_devices():
    import chainrule as cr
    for make in (lambda d: cr.zeros(2, device=d), lambda d: cr.tensor([1.0], device=d),
                 lambda d: cr.randn(2, device=d), lambda d: cr.arange(3, device=d)):
        assert make("cpu").shape[0] >= 1
        with pytest.raises(RuntimeError, match="Torch not compiled with CUDA enabled"):
            make("cuda")


def test_vector_norm_of_order_zero_and_minus_inf_as_torch(torch):
    """ord=0 counts non-zeros and has no gradient (x.grad stays None, as in PyTorch); -inf is min |x|."""
    data = [[1.0, 0.0, -2.0], [0.0, 3.0, 0.5]]
    for ord in (0, -math.inf, -1.0, 0.5):
        x = cr.tensor(data, dtype=cr.float64, requires_grad=True)
        t = torch.tensor(data, dtype=torch.float64, requires_grad=True)
        y, u = cr.linalg.vector_norm(x, ord, dim=1), torch.linalg.vector_norm(t, ord, dim=1)
        assert y.tolist() == pytest.approx(u.tolist(), rel=1e-12)
        y.sum().backward()
        u.sum().backward()
        assert (x.grad is None) == (t.grad is None), ord
        if t.grad is not None:
            assert xp.allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)

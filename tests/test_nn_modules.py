"""nn.Module machinery and layers against PyTorch: same weights (via state_dict) give the same
outputs and gradients; state_dict keys, reprs and load_state_dict errors are PyTorch's."""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

RNG = np.random.default_rng(2)


def copy_weights(ours, theirs) -> None:
    """Load the torch module's state into ours (float64), through our load_state_dict."""
    ours.double()
    theirs.double()
    ours.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})


def run_both(torch, ours, theirs, x, rtol=1e-10, atol=1e-12):
    """Forward and backward through both modules; compare output, input grad and parameter grads."""
    xc = cr.tensor(x, dtype=cr.float64, requires_grad=True)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y, yt = ours(xc), theirs(xt)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=rtol, atol=atol)
    g = RNG.standard_normal(tuple(yt.shape))
    y.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=rtol, atol=atol)
    tparams = dict(theirs.named_parameters())
    names = [n for n, _ in ours.named_parameters()]
    assert names == list(tparams)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tparams[name].grad.numpy(), rtol=rtol, atol=atol)


def make_mlp(lib):
    nn_ = lib.nn
    return nn_.Sequential(nn_.Linear(4, 8), nn_.BatchNorm1d(8), nn_.ReLU(), nn_.Dropout(0.1), nn_.Linear(8, 3),
                          nn_.LayerNorm(3), nn_.GELU())


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.Linear(4, 3), lambda lib: lib.nn.Linear(4, 3, bias=False),
    lambda lib: lib.nn.Sequential(lib.nn.Linear(4, 5), lib.nn.Tanh(), lib.nn.Linear(5, 2)),
    lambda lib: lib.nn.LayerNorm(4), lambda lib: lib.nn.LayerNorm(4, elementwise_affine=False),
    lambda lib: lib.nn.Sequential(lib.nn.Unflatten(1, (2, 2)), lib.nn.Flatten()),
    lambda lib: lib.nn.Identity(),
])
def test_layer_parity(torch, make):
    ours, theirs = make(cr), make(torch)
    copy_weights(ours, theirs)
    for shape in [(5, 4), (2, 3, 4)]:
        if isinstance(ours, nn.Sequential) and isinstance(ours[0], nn.Unflatten) and len(shape) == 3:
            continue
        ours.zero_grad()
        theirs.zero_grad()
        run_both(torch, ours, theirs, RNG.standard_normal(shape))


@pytest.mark.parametrize("name,kwargs", [
    ("ReLU", {}), ("LeakyReLU", {"negative_slope": 0.3}), ("ELU", {"alpha": 0.5}), ("GELU", {}),
    ("GELU", {"approximate": "tanh"}), ("SiLU", {}), ("Sigmoid", {}), ("Tanh", {}), ("Softmax", {"dim": 1}),
    ("LogSoftmax", {"dim": -1}), ("Softplus", {"beta": 2.0}), ("LogSigmoid", {}), ("Hardtanh", {}),
])
def test_activation_modules(torch, name, kwargs):
    ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(ours) == repr(theirs)
    run_both(torch, ours, theirs, RNG.standard_normal((3, 5)) * 3)


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)),
                                       ("BatchNorm2d", (4, 3, 2, 2))])
@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"affine": False}, {"track_running_stats": False},
                                    {"momentum": 0.3, "eps": 1e-3}])
def test_batchnorm_train_steps_then_eval(torch, cls, shape, kwargs):
    ours, theirs = getattr(nn, cls)(3, **kwargs), getattr(torch.nn, cls)(3, **kwargs)
    if kwargs.get("affine", True):
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 2.0)
            theirs.bias.uniform_(-1.0, 1.0)
    copy_weights(ours, theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    for _ in range(3):
        if kwargs.get("affine", True):
            ours.zero_grad()
            theirs.zero_grad()
        x = RNG.standard_normal(shape) * 2 + 0.5
        if kwargs.get("affine", True):
            run_both(torch, ours, theirs, x)
        else:
            y, yt = ours(cr.tensor(x)), theirs(torch.tensor(x))
            np.testing.assert_allclose(y.numpy(), yt.numpy(), rtol=1e-10, atol=1e-12)
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[k].numpy(), v.numpy(), rtol=1e-12, err_msg=k)
    ours.eval()
    theirs.eval()
    x = RNG.standard_normal(shape)
    if kwargs.get("affine", True):
        ours.zero_grad()
        theirs.zero_grad()
        run_both(torch, ours, theirs, x)


def test_batchnorm_checks_input():
    with pytest.raises(ValueError, match=r"expected 4D input \(got 2D input"):
        nn.BatchNorm2d(3)(cr.zeros(2, 3))
    with pytest.raises(ValueError, match="has 4 channels in dim 1, expected 3"):
        nn.BatchNorm1d(3)(cr.zeros(2, 4))


def test_embedding_module(torch):
    ours, theirs = nn.Embedding(6, 3, padding_idx=2), torch.nn.Embedding(6, 3, padding_idx=2)
    assert repr(ours) == repr(theirs)
    assert np.array_equal(ours.weight.detach().numpy()[2], np.zeros(3))
    copy_weights(ours, theirs)
    idx = np.array([[1, 2, 2], [5, 1, 0]])
    y, yt = ours(cr.tensor(idx)), theirs(torch.tensor(idx))
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy())
    g = RNG.standard_normal(tuple(yt.shape))
    y.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-12)
    frozen = nn.Embedding.from_pretrained(cr.ones(3, 2))
    assert not frozen.weight.requires_grad and frozen(cr.tensor([1])).shape == (1, 2)


def test_dropout_module_train_and_eval():
    d = nn.Dropout(0.5)
    cr.manual_seed(3)
    y = d(cr.ones(1000))
    assert set(np.unique(y.numpy()).tolist()) == {0.0, 2.0}
    d.eval()
    x = cr.ones(10)
    assert d(x) is x
    assert repr(d) == "Dropout(p=0.5, inplace=False)"


def test_state_dict_keys_and_repr_match_torch(torch):
    ours, theirs = make_mlp(cr), make_mlp(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    copy_weights(ours, theirs)
    ours.eval()
    theirs.eval()
    run_both(torch, ours, theirs, RNG.standard_normal((5, 4)))


def test_nested_module_names_and_reprs(torch):
    def build(lib):
        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = lib.nn.Embedding(10, 4)
                self.blocks = lib.nn.ModuleList([lib.nn.Linear(4, 4) for _ in range(3)] + [lib.nn.Linear(4, 2)])
                self.heads = lib.nn.ModuleDict({"a": lib.nn.Linear(2, 1), "b": lib.nn.Sequential(
                    lib.nn.Flatten(0), lib.nn.Unflatten(0, (1, -1)), lib.nn.Softmax(dim=None))})
                self.register_buffer("steps", lib.zeros(1))
                self.register_buffer("cache", lib.zeros(2), persistent=False)
                self.loss = lib.nn.CrossEntropyLoss(label_smoothing=0.1)
        return Net()

    ours, theirs = build(cr), build(torch)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert len(list(ours.modules())) == len(list(theirs.modules()))
    assert ours.get_submodule("blocks.3") is ours.blocks[3]


def test_load_state_dict_errors_are_torchs(torch):
    ours, theirs = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    bad = {"weight": np.zeros((2, 3)), "extra": np.zeros(1)}

    def message(module, sd, wrap, **kw):
        with pytest.raises(RuntimeError) as err:
            module.load_state_dict({k: wrap(v) for k, v in sd.items()}, **kw)
        return str(err.value)

    assert message(ours, bad, cr.tensor) == message(theirs, bad, torch.tensor)
    wrong = {"weight": np.zeros((3, 3)), "bias": np.zeros(2)}
    assert message(ours, wrong, cr.tensor) == message(theirs, wrong, torch.tensor).replace("torch.Size",
                                                                                            "chainrule.Size")
    result, result_t = ours.load_state_dict({k: cr.tensor(v) for k, v in bad.items()}, strict=False), \
        theirs.load_state_dict({k: torch.tensor(v) for k, v in bad.items()}, strict=False)
    assert result.missing_keys == result_t.missing_keys == ["bias"]
    assert result.unexpected_keys == result_t.unexpected_keys == ["extra"]
    assert repr(ours.load_state_dict(ours.state_dict())) == "<All keys matched successfully>"


def test_state_dict_round_trip_shares_nothing_and_keeps_parameter_objects():
    a, b = make_mlp(cr), make_mlp(cr)
    w = b[0].weight
    b.load_state_dict(a.state_dict())
    assert b[0].weight is w and isinstance(w, nn.Parameter)
    for (k, v), (_, u) in zip(a.state_dict().items(), b.state_dict().items()):
        assert np.array_equal(v.numpy(), u.numpy()), k
    b[0].weight.data.mul_(0)
    assert not np.array_equal(a[0].weight.detach().numpy(), b[0].weight.detach().numpy())


def test_parameter_basics(torch):
    p = nn.Parameter(cr.tensor([1.0, 2.0]))
    assert p.requires_grad and p.is_leaf and isinstance(p, cr.Tensor)
    assert repr(p) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.0]))).replace("torch", "chainrule")
    assert not nn.Parameter(cr.ones(1), requires_grad=False).requires_grad
    q = copy.deepcopy(p)
    assert isinstance(q, nn.Parameter) and q is not p and np.array_equal(q.detach().numpy(), [1.0, 2.0])
    (p * p).sum().backward()
    assert np.array_equal(p.grad.numpy(), [2.0, 4.0])


def test_registration_rules_and_errors():
    m = nn.Module()
    m.w = nn.Parameter(cr.ones(2))
    m.sub = nn.Linear(2, 2)
    m.register_buffer("b", cr.zeros(1))
    m.plain = cr.ones(1)   # a plain tensor attribute is not registered
    assert [n for n, _ in m.named_parameters()] == ["w", "sub.weight", "sub.bias"]
    assert list(m.state_dict()) == ["w", "b", "sub.weight", "sub.bias"]
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'w'"):
        m.w = cr.ones(2)
    with pytest.raises(TypeError, match="cannot assign 'int' as child module 'sub'"):
        m.sub = 3
    with pytest.raises(KeyError, match="attribute 'plain' already exists"):
        m.register_buffer("plain", cr.ones(1))
    with pytest.raises(KeyError, match="contain"):
        m.register_parameter("a.b", None)
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'nope'"):
        m.nope  # noqa: B018
    m.w = None
    assert "w" not in dict(m.named_parameters())
    del m.sub
    assert list(m.state_dict()) == ["b"]

    class Early(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)
    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def test_shared_parameters_are_listed_once():
    fc = nn.Linear(2, 2)
    net = nn.Sequential(fc, nn.ReLU(), fc)
    assert len(list(net.parameters())) == 2
    assert [n for n, _ in net.named_parameters()] == ["0.weight", "0.bias"]


def test_train_eval_zero_grad_apply_requires_grad():
    net = make_mlp(cr)
    net.eval()
    assert all(not m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net(cr.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(not p.grad.numpy().any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Sequential" and seen[0] == "Linear"
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    with pytest.raises(ValueError, match="boolean"):
        net.train("yes")


def test_to_double_keeps_parameter_objects():
    net = make_mlp(cr)
    w = net[0].weight
    net.to(cr.float64)
    assert net[0].weight is w and w.dtype == cr.float64
    assert net[1].running_mean.dtype == cr.float64 and net[1].num_batches_tracked.dtype == cr.int64
    assert net(cr.randn(3, 4, dtype=cr.float64)).dtype == cr.float64
    net.float()
    assert w.dtype == cr.float32
    with pytest.raises(RuntimeError, match="CPU"):
        net.to("cuda")


def test_forward_hooks_and_pre_hooks():
    fc = nn.Linear(2, 2)
    calls = []
    h1 = fc.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = fc.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1)
    y = fc(cr.ones(3, 2))
    np.testing.assert_allclose(y.detach().numpy(), np.broadcast_to(fc.bias.detach().numpy() + 1, (3, 2)), rtol=1e-6)
    assert calls == [(3, 2)]
    with h1, h2:
        pass   # leaving the block removes both hooks
    np.testing.assert_allclose(fc(cr.zeros(1, 2)).detach().numpy()[0], fc.bias.detach().numpy())
    assert calls == [(3, 2)]
    h = fc.register_forward_pre_hook(lambda m, args, kwargs: ((args[0] + 1,), kwargs), with_kwargs=True)
    np.testing.assert_allclose(fc(cr.zeros(1, 2) - 1).detach().numpy()[0], fc.bias.detach().numpy())
    h.remove()


def test_forward_missing():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)


def test_sequential_container_ops(torch):
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear)
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is seq[0]
    seq.append(nn.Sigmoid())
    assert list(seq._modules) == ["0", "1", "2", "3"]
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2"] and isinstance(seq[1], nn.Linear)
    seq.insert(1, nn.Tanh())
    assert [type(m).__name__ for m in seq] == ["Linear", "Tanh", "Linear", "Sigmoid"]
    seq[1] = nn.ReLU()
    assert isinstance(seq[1], nn.ReLU)
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    tnamed = torch.nn.Sequential(OrderedDict([("fc", torch.nn.Linear(2, 2)), ("act", torch.nn.ReLU())]))
    assert repr(named) == repr(tnamed) and list(named.state_dict()) == ["fc.weight", "fc.bias"]
    with pytest.raises(IndexError, match="out of range"):
        seq[10]


def test_module_list_and_dict_ops(torch):
    ml = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    ml += [nn.Tanh()]
    ml.insert(0, nn.Identity())
    assert [type(m).__name__ for m in ml] == ["Identity", "Linear", "ReLU", "Tanh"]
    del ml[0]
    assert list(ml._modules) == ["0", "1", "2"] and len(ml[1:]) == 2
    tl = torch.nn.ModuleList([torch.nn.Linear(2, 2), torch.nn.Linear(2, 2), torch.nn.ReLU(), torch.nn.ReLU()])
    ol = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU(), nn.ReLU()])
    assert repr(ol) == repr(tl)
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList())
    md = nn.ModuleDict({"a": nn.ReLU()})
    md["b"] = nn.Tanh()
    assert list(md) == ["a", "b"] and "b" in md and len(md) == 2
    assert isinstance(md.pop("a"), nn.ReLU) and list(md.keys()) == ["b"]


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.Linear(3, 4, bias=False), lambda lib: lib.nn.Bilinear(2, 3, 4),
    lambda lib: lib.nn.BatchNorm2d(5, affine=False), lambda lib: lib.nn.LayerNorm((2, 3), bias=False),
    lambda lib: lib.nn.Embedding(5, 2), lambda lib: lib.nn.Flatten(0, 2), lambda lib: lib.nn.Unflatten(1, (2, 5)),
    lambda lib: lib.nn.Identity(), lambda lib: lib.nn.ReLU(inplace=True), lambda lib: lib.nn.LeakyReLU(0.2, True),
    lambda lib: lib.nn.Softmax(), lambda lib: lib.nn.MSELoss(), lambda lib: lib.nn.BCEWithLogitsLoss(),
    lambda lib: lib.nn.KLDivLoss(reduction="batchmean"), lambda lib: lib.nn.Dropout(0.25, inplace=True),
])
def test_reprs_match_torch(torch, make):
    assert repr(make(cr)) == repr(make(torch))


def test_bilinear_module(torch):
    ours, theirs = nn.Bilinear(3, 2, 4), torch.nn.Bilinear(3, 2, 4)
    copy_weights(ours, theirs)
    x1, x2 = RNG.standard_normal((5, 3)), RNG.standard_normal((5, 2))
    y = ours(cr.tensor(x1), cr.tensor(x2))
    np.testing.assert_allclose(y.detach().numpy(), theirs(torch.tensor(x1), torch.tensor(x2)).detach().numpy(),
                               rtol=1e-10)


def test_linear_default_init_bounds():
    cr.manual_seed(0)
    fc = nn.Linear(400, 300)
    bound = 1 / np.sqrt(400)
    w, b = fc.weight.detach().numpy(), fc.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.01 * bound   # U(-a, a) has std a/√3
    assert np.abs(b).max() <= bound and fc.weight.dtype == cr.float32


def test_nn_utils_match_torch(torch):
    def grads(lib, ps):
        for p, g in zip(ps, [np.array([3.0, -4.0]), np.array([[1.0, 2.0], [-2.0, 0.5]])]):
            p.grad = lib.tensor(g)

    for norm_type in (2.0, 1.0, float("inf")):
        ps = [nn.Parameter(cr.zeros(2, dtype=cr.float64)), nn.Parameter(cr.zeros(2, 2, dtype=cr.float64))]
        ts = [torch.nn.Parameter(torch.zeros(2, dtype=torch.float64)),
              torch.nn.Parameter(torch.zeros(2, 2, dtype=torch.float64))]
        grads(cr, ps)
        grads(torch, ts)
        n = nn.utils.clip_grad_norm_(ps, 1.5, norm_type)
        nt = torch.nn.utils.clip_grad_norm_(ts, 1.5, norm_type)
        np.testing.assert_allclose(n.item(), nt.item(), rtol=1e-12)
        for p, t in zip(ps, ts):
            np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-12)
    nn.utils.clip_grad_value_(ps, 0.1)
    torch.nn.utils.clip_grad_value_(ts, 0.1)
    for p, t in zip(ps, ts):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy())
    net = nn.Linear(3, 2)
    vec = nn.utils.parameters_to_vector(net.parameters())
    assert vec.shape == (8,)
    nn.utils.vector_to_parameters(vec * 0 + cr.arange(8.0), net.parameters())
    assert np.array_equal(net.bias.detach().numpy(), [6.0, 7.0])
    with pytest.raises(TypeError, match="expected chainrule.Tensor"):
        nn.utils.vector_to_parameters([1.0], net.parameters())

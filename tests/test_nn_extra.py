"""The remaining nn pieces of issue 10 against PyTorch (float64 forward and backward, same weights):
activations, cosine_similarity, GroupNorm, ConvTranspose, interpolate/Upsample, unfold/fold,
ParameterList/ParameterDict, nn.utils.rnn.pad_sequence, gradient clipping and module hooks."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

RNG = np.random.default_rng(3)
TOL = {"rtol": 1e-10, "atol": 1e-12}


def pair(torch, shape_or_array):
    a = RNG.standard_normal(shape_or_array) if isinstance(shape_or_array, tuple) else shape_or_array
    return cr.tensor(a, dtype=cr.float64, requires_grad=True), torch.tensor(a, requires_grad=True)


def both_ways(torch, ours_fn, theirs_fn, *arrays, tol=TOL, double=True):
    """Forward, backward with a random upstream gradient, and double backward; compare all."""
    ins = [pair(torch, a) for a in arrays]
    y = ours_fn(*[a for a, _ in ins])
    yt = theirs_fn(*[b for _, b in ins])
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), **tol)
    g = RNG.standard_normal(tuple(yt.shape))
    grads = cr.autograd.grad(y, [a for a, _ in ins], cr.tensor(g), create_graph=True)
    grads_t = torch.autograd.grad(yt, [b for _, b in ins], torch.tensor(g), create_graph=True)
    for a, b in zip(grads, grads_t):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **tol)
    # double backward: d/dx of Σ (∂L/∂x)² (skipped where the function is piecewise linear)
    if double and all(b.requires_grad for b in grads_t) and all(a.requires_grad for a in grads):
        s = sum((a * a).sum() for a in grads)
        st = sum((b * b).sum() for b in grads_t)
        gg = cr.autograd.grad(s, [a for a, _ in ins], allow_unused=True)
        gg_t = torch.autograd.grad(st, [b for _, b in ins], allow_unused=True)
        for a, b in zip(gg, gg_t):
            if b is not None and a is not None:
                np.testing.assert_allclose(a.numpy(), b.numpy(), **tol)


# --- activations ------------------------------------------------------------------------------------
ACTS = ["relu6", "selu", "celu", "mish", "hardswish", "hardsigmoid", "softsign"]


@pytest.mark.parametrize("name", ACTS)
def test_activation_functions_match_torch(torch, name):
    smooth = np.linspace(-8.05, 25, 47)
    kinks = np.array([-3.0, 3.0, 0.0, 6.0, 1e-3])
    tol = {"rtol": 1e-7, "atol": 1e-9} if name == "hardsigmoid" else TOL   # torch's float32 1/6 in backward
    # torch 2.13 has no double backward for hardsigmoid (it raises); chainrule's is 0 (piecewise linear)
    both_ways(torch, getattr(F, name), getattr(torch.nn.functional, name), smooth, tol=tol,
              double=name != "hardsigmoid")
    # at the kinks first derivatives must match PyTorch's one-sided choices (second ones are conventions)
    both_ways(torch, getattr(F, name), getattr(torch.nn.functional, name), kinks, tol=tol, double=False)


@pytest.mark.parametrize(("name", "args"), [("ReLU6", ()), ("SELU", ()), ("CELU", (0.7,)), ("Mish", ()),
                                            ("Hardswish", ()), ("Hardsigmoid", ()), ("Softsign", ()),
                                            ("Softmin", (1,)), ("GLU", (1,)), ("GLU", ())])
def test_activation_modules_match_torch(torch, name, args):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    x = RNG.standard_normal((3, 4, 2)) * 4
    # PyTorch's backward uses float32-rounded constants for these two (1/6; 1/float32(alpha))
    tol = {"rtol": 1e-6, "atol": 1e-9} if name in ("Hardsigmoid", "CELU") else TOL
    both_ways(torch, ours, theirs, x, tol=tol, double=name != "Hardsigmoid")


def test_inplace_activations_and_glu_error(torch):
    x = cr.tensor([-1.0, 2.0, 7.0])
    assert F.relu6(x, inplace=True) is x and x.tolist() == [0.0, 2.0, 6.0]
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 is size 3"):
        F.glu(cr.zeros(2, 3), 1)
    both_ways(torch, lambda t: F.softmin(t, dim=0), lambda t: torch.nn.functional.softmin(t, dim=0), (4, 3))


# --- cosine similarity, pairwise distance, group norm -------------------------------------------------
@pytest.mark.parametrize(("s1", "s2", "dim"), [((4, 5), (4, 5), 1), ((3, 1, 6), (1, 4, 6), -1), ((5,), (5,), 0)])
def test_cosine_similarity_matches_torch(torch, s1, s2, dim):
    both_ways(torch, lambda a, b: F.cosine_similarity(a, b, dim),
              lambda a, b: torch.nn.functional.cosine_similarity(a, b, dim), s1, s2)


def test_cosine_similarity_of_a_zero_vector_is_finite_like_torch(torch):
    z = np.zeros((2, 3))
    z[1] = 1.0
    a, at = pair(torch, z)
    b, bt = pair(torch, (2, 3))
    y, yt = F.cosine_similarity(a, b), torch.nn.functional.cosine_similarity(at, bt)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), **TOL)
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), bt.grad.numpy(), **TOL)


def test_pairwise_distance_matches_torch(torch):
    both_ways(torch, F.pairwise_distance, torch.nn.functional.pairwise_distance, (4, 6), (4, 6))


@pytest.mark.parametrize(("groups", "shape", "affine"), [(2, (3, 4, 5, 6), True), (1, (2, 6, 7), False),
                                                         (6, (2, 6), True)])
def test_group_norm_matches_torch(torch, groups, shape, affine):
    theirs, ours = torch.nn.GroupNorm(groups, shape[1], affine=affine).double(), nn.GroupNorm(groups, shape[1],
                                                                                              affine=affine)
    if affine:
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 1.5)
            theirs.bias.uniform_(-0.5, 0.5)
    ours.double().load_state_dict({k: cr.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    assert repr(ours) == repr(theirs)
    x, xt = pair(torch, shape)
    y, yt = ours(x), theirs(xt)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), **TOL)
    g = RNG.standard_normal(shape)
    y.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), **TOL)
    for (n, p), (_, pt) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), pt.grad.numpy(), err_msg=n, **TOL)
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(4, 6)


# --- transposed convolution ---------------------------------------------------------------------------
CT_CASES = [{}, {"stride": 2}, {"stride": 2, "padding": 1, "output_padding": 1},
            {"stride": (2, 3), "padding": (0, 1), "dilation": 2}, {"groups": 2, "stride": 2},
            {"dilation": 2, "output_padding": 1}]


@pytest.mark.parametrize("kw", CT_CASES)
def test_conv_transpose2d_function_matches_torch(torch, kw):
    g = kw.get("groups", 1)
    both_ways(torch, lambda x, w, b: F.conv_transpose2d(x, w, b, **kw),
              lambda x, w, b: torch.nn.functional.conv_transpose2d(x, w, b, **kw),
              (2, 4, 5, 4), (4, 6 // g, 3, 2), (6,))


def test_conv_transpose1d_and_unbatched(torch):
    both_ways(torch, lambda x, w: F.conv_transpose1d(x, w, stride=2, padding=1, output_padding=1),
              lambda x, w: torch.nn.functional.conv_transpose1d(x, w, stride=2, padding=1, output_padding=1),
              (2, 3, 5), (3, 2, 4))
    both_ways(torch, lambda x, w: F.conv_transpose2d(x, w, stride=2),
              lambda x, w: torch.nn.functional.conv_transpose2d(x, w, stride=2), (3, 4, 4), (3, 2, 3, 3))


@pytest.mark.parametrize("kw", [{"stride": 2, "padding": 1}, {"groups": 2, "bias": False}])
def test_conv_transpose2d_module_matches_torch(torch, kw):
    theirs, ours = torch.nn.ConvTranspose2d(4, 6, 3, **kw).double(), nn.ConvTranspose2d(4, 6, 3, **kw)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    bound = 1 / np.sqrt(theirs.weight.shape[1] * 9)          # PyTorch's fan_in reads dim 1
    assert np.abs(ours.weight.detach().numpy()).max() <= bound
    ours.double().load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    x, xt = pair(torch, (2, 4, 5, 5))
    y, yt = ours(x), theirs(xt)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), **TOL)
    y.pow(2).sum().backward()
    yt.pow(2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), **TOL)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), **TOL)
    if "stride" in kw:   # output_size picks the output padding
        assert ours(x, output_size=(10, 10)).shape == theirs(xt, output_size=(10, 10)).shape


def test_conv_transpose_errors():
    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        F.conv_transpose2d(cr.zeros(1, 2, 3, 3), cr.zeros(2, 2, 3, 3), output_padding=1)
    with pytest.raises(RuntimeError, match="expects 3"):
        F.conv_transpose2d(cr.zeros(1, 2, 3, 3), cr.zeros(3, 2, 3, 3))


# --- interpolate / Upsample ------------------------------------------------------------------------
INTERP = [("nearest", None), ("nearest-exact", None), ("bilinear", False), ("bilinear", True), ("bicubic", False),
          ("bicubic", True), ("area", None)]
SIZES = [{"scale_factor": 2}, {"scale_factor": 1.7}, {"size": (5, 3)}, {"size": (2, 9)},
         {"scale_factor": (0.5, 3)}, {"scale_factor": 0.3}]


@pytest.mark.parametrize(("mode", "align"), INTERP)
@pytest.mark.parametrize("size", SIZES)
def test_interpolate_2d_matches_torch(torch, mode, align, size):
    kw = dict(size, mode=mode, align_corners=align)
    x, xt = pair(torch, (2, 3, 6, 5))
    y, yt = F.interpolate(x, **kw), torch.nn.functional.interpolate(xt, **kw)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), **TOL)
    g = RNG.standard_normal(tuple(yt.shape))
    y.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), **TOL)


@pytest.mark.parametrize(("mode", "shape"), [("linear", (2, 3, 6)), ("nearest", (2, 3, 6)),
                                             ("trilinear", (1, 2, 3, 4, 5)), ("nearest", (1, 2, 3, 4, 5))])
@pytest.mark.parametrize("size", [{"scale_factor": 2}, {"size": 7}, {"scale_factor": 0.6}])
def test_interpolate_1d_3d_matches_torch(torch, mode, shape, size):
    both_ways(torch, lambda x: F.interpolate(x, mode=mode, **size),
              lambda x: torch.nn.functional.interpolate(x, mode=mode, **size), shape)


def test_upsample_modules_and_errors(torch):
    for ours, theirs in [(nn.Upsample(scale_factor=2, mode="bilinear"), torch.nn.Upsample(scale_factor=2,
                                                                                          mode="bilinear")),
                         (nn.Upsample(size=(3, 4)), torch.nn.Upsample(size=(3, 4))),
                         (nn.UpsamplingNearest2d(scale_factor=3), torch.nn.UpsamplingNearest2d(scale_factor=3)),
                         (nn.UpsamplingBilinear2d(size=7), torch.nn.UpsamplingBilinear2d(size=7))]:
        assert repr(ours) == repr(theirs)
        both_ways(torch, ours, theirs, (1, 2, 4, 5))
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(cr.zeros(1, 1, 2, 2), scale_factor=2, align_corners=True)
    with pytest.raises(NotImplementedError, match="bilinear mode needs 4D input"):
        F.interpolate(cr.zeros(1, 1, 2), scale_factor=2, mode="bilinear")
    with pytest.raises(ValueError, match="either size or scale_factor"):
        F.interpolate(cr.zeros(1, 1, 2))


# --- unfold / fold ---------------------------------------------------------------------------------
WINDOWS = [{"kernel_size": 2}, {"kernel_size": (2, 3), "stride": 2, "padding": 1},
           {"kernel_size": 3, "dilation": 2, "padding": 2, "stride": (1, 2)}]


@pytest.mark.parametrize("kw", WINDOWS)
def test_unfold_matches_torch(torch, kw):
    both_ways(torch, lambda x: F.unfold(x, **kw), lambda x: torch.nn.functional.unfold(x, **kw), (2, 3, 7, 8))
    both_ways(torch, nn.Unfold(**kw), torch.nn.Unfold(**kw), (3, 7, 8))
    assert repr(nn.Unfold(**kw)) == repr(torch.nn.Unfold(**kw))


@pytest.mark.parametrize("kw", WINDOWS)
def test_fold_matches_torch(torch, kw):
    out = (7, 8)
    blocks = torch.nn.functional.unfold(torch.zeros(1, 2, *out), **kw).shape[1:]
    both_ways(torch, lambda x: F.fold(x, out, **kw), lambda x: torch.nn.functional.fold(x, out, **kw),
              (2, *blocks))
    both_ways(torch, nn.Fold(out, **kw), torch.nn.Fold(out, **kw), tuple(blocks))
    assert repr(nn.Fold(out, **kw)) == repr(torch.nn.Fold(out, **kw))


def test_fold_checks_the_number_of_blocks():
    with pytest.raises(RuntimeError, match="calculated number of sliding blocks 2 \\* 2 = 4"):
        F.fold(cr.zeros(1, 4, 5), (3, 3), 2)


# --- ParameterList / ParameterDict -------------------------------------------------------------------------
def test_parameter_list_registers_and_indexes():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.ws = nn.ParameterList([nn.Parameter(cr.ones(2, 3)), cr.zeros(3)])

        def forward(self, x):
            return x.matmul(self.ws[0]) + self.ws[-1]

    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["ws.0", "ws.1"]
    assert isinstance(net.ws[1], nn.Parameter) and net.ws[1].requires_grad
    net.ws.append(cr.ones(1))
    assert len(net.ws) == 3 and list(net.state_dict()) == ["ws.0", "ws.1", "ws.2"]
    net(cr.ones(4, 2)).sum().backward()
    assert net.ws[0].grad.tolist() == [[4.0] * 3] * 2
    assert len(net.ws[:2]) == 2
    assert repr(nn.ParameterList([nn.Parameter(cr.ones(2, 3))])) == (
        "ParameterList(\n    (0): Parameter containing: [chainrule.float32 of size 2x3]\n)")
    with pytest.raises(IndexError):
        net.ws[5]


def test_parameter_dict_registers_by_key():
    pd = nn.ParameterDict({"a": cr.ones(2), "b": nn.Parameter(cr.zeros(1))})
    assert list(pd.keys()) == ["a", "b"] and list(pd.state_dict()) == ["a", "b"]
    pd["c"] = cr.ones(3)
    pd.update([("d", cr.ones(1))])
    assert "c" in pd and len(pd) == 4 and isinstance(pd["c"], nn.Parameter)
    del pd["a"]
    assert [n for n, _ in pd.named_parameters()] == ["b", "c", "d"]
    assert pd.pop("b").shape == (1,) and "b" not in pd


# --- nn.utils ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("batch_first", "side"), [(False, "right"), (True, "right"), (True, "left")])
def test_pad_sequence_matches_torch(torch, batch_first, side):
    arrays = [RNG.standard_normal((n, 3)) for n in (4, 1, 3)]
    ours = [cr.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = nn.utils.rnn.pad_sequence(ours, batch_first=batch_first, padding_value=-1.0, padding_side=side)
    yt = torch.nn.utils.rnn.pad_sequence(theirs, batch_first=batch_first, padding_value=-1.0, padding_side=side)
    np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())
    g = RNG.standard_normal(tuple(yt.shape))
    y.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
    back = nn.utils.rnn.unpad_sequence(y, [4, 1, 3], batch_first=batch_first) if side == "right" else []
    for a, b in zip(back, ours):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_clip_grad_norm_and_value_match_torch(torch, norm_type):
    grads = [RNG.standard_normal((3, 4)), RNG.standard_normal(5)]
    ours = [nn.Parameter(cr.zeros(*g.shape, dtype=cr.float64)) for g in grads]
    theirs = [torch.nn.Parameter(torch.zeros(*g.shape, dtype=torch.float64)) for g in grads]
    for p, pt, g in zip(ours, theirs, grads):
        p.grad, pt.grad = cr.tensor(g), torch.tensor(g)
    total = nn.utils.clip_grad_norm_(ours, 1.5, norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(theirs, 1.5, norm_type)
    np.testing.assert_allclose(total.item(), total_t.item(), rtol=1e-12)
    for p, pt in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), pt.grad.numpy(), rtol=1e-12)
    nn.utils.clip_grad_value_(ours, 0.1)
    torch.nn.utils.clip_grad_value_(theirs, 0.1)
    for p, pt in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), pt.grad.numpy(), rtol=1e-14)
    norm = nn.utils.get_total_norm([p.grad for p in ours], norm_type)
    np.testing.assert_allclose(norm.item(), torch.nn.utils.get_total_norm([p.grad for p in theirs],
                                                                           norm_type).item(), rtol=1e-12)


# --- module hooks ------------------------------------------------------------------------------------
def _hooked_pair(torch):
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    ours = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    ours.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def test_full_backward_hooks_see_and_replace_gradients_like_torch(torch):
    ours, theirs = _hooked_pair(torch)
    logs = {"ours": [], "theirs": []}

    def make_hooks(key):
        def pre(module, grad_output):
            logs[key].append(("pre", grad_output[0].detach().numpy().copy()))
            return (grad_output[0] * 2,)

        def full(module, grad_input, grad_output):
            logs[key].append(("full", grad_input[0].detach().numpy().copy(), grad_output[0].detach().numpy().copy()))
            return (grad_input[0] + 1,)
        return pre, full

    handles = []
    for key, model in (("ours", ours), ("theirs", theirs)):
        pre, full = make_hooks(key)
        handles.append(model[2].register_full_backward_pre_hook(pre))
        handles.append(model[1].register_full_backward_hook(full))
    x, xt = pair(torch, (5, 3))
    ours(x).sum().backward()
    theirs(xt).sum().backward()
    assert [e[0] for e in logs["ours"]] == [e[0] for e in logs["theirs"]] == ["pre", "full"]
    for a, b in zip(logs["ours"], logs["theirs"]):
        for u, v in zip(a[1:], b[1:]):
            np.testing.assert_allclose(u, v, **TOL)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), **TOL)
    np.testing.assert_allclose(ours[0].weight.grad.numpy(), theirs[0].weight.grad.numpy(), **TOL)
    for h in handles:
        h.remove()
    x.grad = None
    ours(x).sum().backward()
    assert len(logs["ours"]) == 2                 # removed hooks no longer run


def test_backward_hook_when_no_input_requires_grad(torch):
    ours, _ = _hooked_pair(torch)
    seen = []
    ours[0].register_full_backward_hook(lambda m, gin, gout: seen.append((gin, gout[0].shape)))
    with pytest.warns(UserWarning, match="no inputs require gradients"):
        ours(cr.ones(2, 3, dtype=cr.float64)).sum().backward()
    assert seen == [((None,), (2, 4))]


def test_forward_hooks_and_pre_hooks_with_handles():
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append(out.shape))
    y = lin(cr.ones(3, 2))
    np.testing.assert_allclose(y.detach().numpy(), np.broadcast_to(lin.bias.detach().numpy(), (3, 2)))
    assert calls == [(3, 2)]
    h1.remove()
    h2.remove()
    lin(cr.ones(3, 2))
    assert calls == [(3, 2)]


def test_backward_hook_on_a_module_with_two_inputs(torch):
    seen = {}
    for lib in (torch, cr):
        bil = lib.nn.Bilinear(2, 3, 1).double()
        if lib is cr:
            bil.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in seen["state"].items()})
        else:
            seen["state"] = bil.state_dict()
        seen[lib.__name__] = []
        bil.register_full_backward_hook(lambda m, gin, gout, key=lib.__name__: seen[key].append(gin))
        a = lib.tensor(np.ones((4, 2)), requires_grad=True)
        b = lib.tensor(np.ones((4, 3)))          # needs no gradient: PyTorch passes zeros in its slot
        bil(a, b).sum().backward()
    (ours,), (theirs,) = seen["chainrule"], seen["torch"]
    assert len(ours) == len(theirs) == 2
    for u, v in zip(ours, theirs):
        np.testing.assert_allclose(u.numpy(), v.numpy(), **TOL)

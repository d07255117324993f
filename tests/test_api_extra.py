"""Brief D's missing APIs against PyTorch (float64; forward, backward and double backward; modules with the
same weights): F.pad's border modes and the padding layers, prelu/PReLU, pixel/channel shuffles, instance
and RMS norm, the shrinks and threshold, 1-D / adaptive-max / LP pooling, and the extra losses."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

TOL = {"rtol": 1e-10, "atol": 1e-12}


def _pair(torch, a):
    return cr.tensor(a, dtype=cr.float64, requires_grad=True), torch.tensor(a, requires_grad=True)


def both_ways(torch, ours_fn, theirs_fn, *arrays, rng, tol=TOL, double=True, consts=()):
    """Forward, backward for a random upstream gradient, and double backward (d/dx Σ(∂L/∂x)²); compare.

    ``consts`` are extra non-differentiable arrays passed after the differentiable ones."""
    ins = [_pair(torch, a) for a in arrays]
    cs = [(cr.tensor(c), torch.tensor(c)) for c in consts]
    y = ours_fn(*[a for a, _ in ins], *[c for c, _ in cs])
    yt = theirs_fn(*[b for _, b in ins], *[c for _, c in cs])
    assert tuple(y.shape) == tuple(yt.shape)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), **tol)
    g = rng.standard_normal(tuple(yt.shape))
    grads = cr.autograd.grad(y, [a for a, _ in ins], cr.tensor(g), create_graph=True)
    grads_t = torch.autograd.grad(yt, [b for _, b in ins], torch.tensor(g), create_graph=True)
    for a, b in zip(grads, grads_t):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **tol)
    if not double:
        return
    s = sum((a * a).sum() for a in grads)
    st = sum((b * b).sum() for b in grads_t)
    xs, xs_t = [a for a, _ in ins], [b for _, b in ins]
    gg = cr.autograd.grad(s, xs, allow_unused=True) if s.requires_grad else [None] * len(xs)
    gg_t = torch.autograd.grad(st, xs_t, allow_unused=True) if st.requires_grad else [None] * len(xs)
    for a, b, x in zip(gg, gg_t, arrays):    # None (not reached) counts as zeros
        a = np.zeros(np.shape(x)) if a is None else a.numpy()
        b = np.zeros(np.shape(x)) if b is None else b.numpy(force=True)   # force: torch's ZeroTensors
        np.testing.assert_allclose(a, b, **tol)


@pytest.fixture
def rng():
    return np.random.default_rng(2026)


# --- F.pad and the padding layers ------------------------------------------------------------------------
PADS = [((2, 3, 5), (2, 1), "reflect"), ((3, 5), (-1, 2), "reflect"), ((2, 3, 4, 5), (1, 2, 3, 0), "reflect"),
        ((1, 2, 3, 4, 5), (1, 2, 0, 1, 2, 1), "reflect"), ((2, 3, 5), (3, 4), "replicate"),
        ((2, 3, 4, 5), (1, -2, 3, 0), "replicate"), ((2, 2, 3, 4, 5), (1, 2, 2, 1, 0, 3), "replicate"),
        ((2, 3, 5), (5, 2), "circular"), ((2, 3, 4, 5), (-1, 2, 3, 4), "circular"), ((0, 3, 5), (1, 1), "circular"),
        ((2, 3, 5), (-1, -2), "constant"), ((2, 3, 5), (2, -2, 1, 1), "constant")]


@pytest.mark.parametrize(("shape", "pad", "mode"), PADS)
def test_pad_modes_match_torch(torch, rng, shape, pad, mode):
    both_ways(torch, lambda x: F.pad(x, pad, mode=mode), lambda x: torch.nn.functional.pad(x, pad, mode=mode),
              rng.standard_normal(shape), rng=rng)


def test_pad_grad_fn_names_are_torchs(torch):
    x = cr.zeros(1, 2, 3, 4, requires_grad=True)
    assert F.pad(x[0], (1, 1), mode="reflect").grad_fn.name() == "ReflectionPad1DBackward0"
    assert F.pad(x, (1, 1, 1, 1), mode="reflect").grad_fn.name() == "ReflectionPad2DBackward0"
    assert F.pad(x, (1, 1, 1, 1, 1, 1), mode="replicate").grad_fn.name() == "ReplicationPad3DBackward0"


BAD_PADS = [((2, 3, 5), (5, 1), "reflect", None), ((1, 5), (1, 1, 1, 1), "reflect", None),
            ((5,), (1, 1), "replicate", None), ((2, 3, 5), (6, 1), "circular", None),
            ((2, 3, 5), (1, 1, 1), "constant", None), ((2, 5), (1, 1, 1, 1, 1, 1), "constant", None),
            ((2, 3, 5), (1, 1), "bogus", None), ((2, 3, 5), (1, 1), "reflect", 2.0),
            ((1, 0, 3), (1, 1), "reflect", None), ((1, 2, 3), (-3, 0), "replicate", None),
            ((2, 5), (-6, 1), "constant", None)]


@pytest.mark.parametrize(("shape", "pad", "mode", "value"), BAD_PADS)
def test_pad_rejects_what_torch_rejects(torch, shape, pad, mode, value):
    with pytest.raises((RuntimeError, NotImplementedError)):
        torch.nn.functional.pad(torch.zeros(shape), pad, mode=mode, value=value)
    with pytest.raises((RuntimeError, NotImplementedError), match=r"^pad: "):
        F.pad(cr.zeros(shape), pad, mode=mode, value=value)


LAYERS = [("ReflectionPad1d", 2, (2, 3, 5)), ("ReflectionPad2d", (1, 0, 2, 1), (2, 3, 4, 5)),
          ("ReflectionPad3d", 1, (1, 2, 3, 4, 5)), ("ReplicationPad1d", (0, 3), (3, 5)),
          ("ReplicationPad2d", 2, (3, 4, 5)), ("ReplicationPad3d", (1, 0, 0, 1, 2, 0), (2, 3, 4, 5)),
          ("CircularPad1d", 1, (2, 3, 5)), ("CircularPad2d", (1, 2, 0, 1), (1, 3, 4, 5)),
          ("CircularPad3d", 1, (1, 1, 2, 3, 4)), ("ZeroPad1d", (1, 2), (2, 5)), ("ZeroPad2d", 1, (2, 3, 4)),
          ("ZeroPad3d", (0, 1, 1, 0, 2, 2), (1, 2, 3, 4))]


@pytest.mark.parametrize(("name", "padding", "shape"), LAYERS)
def test_padding_layers_match_torch(torch, rng, name, padding, shape):
    ours, theirs = getattr(nn, name)(padding), getattr(torch.nn, name)(padding)
    assert repr(ours) == repr(theirs)
    both_ways(torch, ours, theirs, rng.standard_normal(shape), rng=rng)


def test_constant_pad_layers(torch, rng):
    for name, shape in (("ConstantPad1d", (2, 4)), ("ConstantPad2d", (1, 2, 3)), ("ConstantPad3d", (1, 2, 2, 2))):
        ours, theirs = getattr(nn, name)((1, 2) * int(name[-2]), 3.5), getattr(torch.nn, name)((1, 2) * int(name[-2]), 3.5)
        assert repr(ours) == repr(theirs)
        both_ways(torch, ours, theirs, rng.standard_normal(shape), rng=rng)


# --- prelu, shuffles, shrinks ---------------------------------------------------------------------------
@pytest.mark.parametrize(("shape", "n"), [((3, 4, 5), 4), ((3, 4, 5), 1), ((6,), 1), ((2, 3), 3), ((), 1)])
def test_prelu_matches_torch(torch, rng, shape, n):
    x, w = rng.standard_normal(shape), rng.uniform(0.1, 0.5, n)
    both_ways(torch, F.prelu, torch.nn.functional.prelu, x, w, rng=rng)
    x.flat[:1] = 0.0   # the kink: PyTorch's first derivatives take the negative branch there (its second
    both_ways(torch, F.prelu, torch.nn.functional.prelu, x, w, rng=rng, double=False)   # ones the positive)


def test_prelu_errors_and_module(torch, rng):
    x = cr.zeros(3, 4, 5)
    for w in (cr.zeros(3), cr.zeros(2, 2)):
        with pytest.raises(RuntimeError, match="^prelu: "):
            F.prelu(x, w)
    with pytest.raises(RuntimeError, match="^prelu: "):
        F.prelu(x, cr.zeros(4, dtype=cr.float64))
    ours, theirs = nn.PReLU(4, init=0.3).double(), torch.nn.PReLU(4, init=0.3).double()
    assert repr(ours) == repr(theirs)
    a = rng.standard_normal((2, 4, 3))
    y, yt = ours(cr.tensor(a)), theirs(torch.tensor(a))
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), **TOL)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), **TOL)
    assert y.grad_fn.name() == yt.grad_fn.name() == "PreluKernelBackward0"


@pytest.mark.parametrize(("fn", "arg", "shape"), [("pixel_shuffle", 2, (2, 8, 3, 4)), ("pixel_shuffle", 3, (9, 2, 2)),
                                                  ("pixel_unshuffle", 2, (2, 3, 4, 6)),
                                                  ("pixel_unshuffle", 3, (2, 1, 2, 3, 6)),
                                                  ("channel_shuffle", 2, (2, 4, 3)),
                                                  ("channel_shuffle", 3, (1, 6, 2, 2))])
def test_shuffles_match_torch(torch, rng, fn, arg, shape):
    both_ways(torch, lambda x: getattr(F, fn)(x, arg), lambda x: getattr(torch.nn.functional, fn)(x, arg),
              rng.standard_normal(shape), rng=rng)


@pytest.mark.parametrize(("fn", "args"), [("pixel_shuffle", ((4, 3), 2)), ("pixel_shuffle", ((5, 3, 3), 2)),
                                          ("pixel_unshuffle", ((5, 3, 3), 2)), ("pixel_shuffle", ((4, 3, 3), 0)),
                                          ("channel_shuffle", ((1, 4), 2)), ("channel_shuffle", ((1, 4, 3), 3))])
def test_shuffles_reject_what_torch_rejects(torch, fn, args):
    shape, r = args
    with pytest.raises(RuntimeError):
        getattr(torch.nn.functional, fn)(torch.zeros(shape), r)
    with pytest.raises(RuntimeError, match=fn):
        getattr(F, fn)(cr.zeros(shape), r)


def test_shuffle_modules(torch):
    for name, arg in (("PixelShuffle", 2), ("PixelUnshuffle", 3), ("ChannelShuffle", 2)):
        assert repr(getattr(nn, name)(arg)) == repr(getattr(torch.nn, name)(arg))


@pytest.mark.parametrize(("fn", "args"), [("hardshrink", ()), ("hardshrink", (0.3,)), ("softshrink", (0.3,)),
                                          ("tanhshrink", ()), ("threshold", (0.2, -4.0))])
def test_shrinks_and_threshold_match_torch(torch, rng, fn, args):
    x = np.concatenate([rng.standard_normal(20), [0.5, -0.5, 0.3, -0.3, 0.2, 0.0]])  # kinks included
    both_ways(torch, lambda t: getattr(F, fn)(t, *args), lambda t: getattr(torch.nn.functional, fn)(t, *args),
              x, rng=rng)


def test_activation_modules_match_torch(torch, rng):
    x = rng.standard_normal((2, 3, 4, 5))
    for name, args in (("Hardshrink", ()), ("Softshrink", (0.2,)), ("Tanhshrink", ()), ("Threshold", (0.1, 20.0)),
                       ("Softmax2d", ())):
        ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
        assert repr(ours) == repr(theirs)
        both_ways(torch, ours, theirs, x, rng=rng)


# --- instance norm, RMS norm -------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 3, 4, 5), (1, 2, 2, 3, 2)])
def test_instance_norm_function_matches_torch(torch, rng, shape):
    c = shape[1]
    both_ways(torch, lambda x, w, b: F.instance_norm(x, weight=w, bias=b, eps=1e-3),
              lambda x, w, b: torch.nn.functional.instance_norm(x, weight=w, bias=b, eps=1e-3),
              rng.standard_normal(shape), rng.uniform(0.5, 2, c), rng.standard_normal(c), rng=rng)


@pytest.mark.parametrize(("name", "shape"), [("InstanceNorm1d", (4, 3, 6)), ("InstanceNorm1d", (3, 6)),
                                             ("InstanceNorm2d", (2, 3, 4, 5)), ("InstanceNorm3d", (2, 3, 2, 3, 2))])
@pytest.mark.parametrize("kw", [{}, {"affine": True}, {"affine": True, "track_running_stats": True, "momentum": 0.3}])
def test_instance_norm_modules_match_torch(torch, rng, name, shape, kw):
    ours, theirs = getattr(nn, name)(3, **kw).double(), getattr(torch.nn, name)(3, **kw).double()
    assert repr(ours) == repr(theirs)
    if kw.get("affine"):
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 2.0)
            theirs.bias.normal_()
        ours.load_state_dict({k: cr.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    for _ in range(2):
        both_ways(torch, ours, theirs, rng.standard_normal(shape), rng=rng)
    for k, v in theirs.state_dict().items():   # running statistics (if tracked) updated the same way
        np.testing.assert_allclose(ours.state_dict()[k].numpy(), v.numpy(), **TOL)
    ours.eval()
    theirs.eval()
    both_ways(torch, ours, theirs, rng.standard_normal(shape), rng=rng)


def test_instance_norm_errors(torch):
    with pytest.raises(ValueError, match="InstanceNorm2d"):
        nn.InstanceNorm2d(3)(cr.zeros(2, 3))
    with pytest.raises(ValueError, match="num_features"):
        nn.InstanceNorm1d(3, affine=True)(cr.zeros(2, 4, 5))
    with pytest.warns(UserWarning, match="num_features"):
        nn.InstanceNorm1d(3)(cr.zeros(2, 4, 5))


@pytest.mark.parametrize(("shape", "norm", "eps"), [((2, 3, 4), (4,), None), ((2, 3, 4), (3, 4), 1e-3),
                                                   ((5,), 5, 0.1)])
def test_rms_norm_matches_torch(torch, rng, shape, norm, eps):
    wshape = (norm,) if isinstance(norm, int) else norm
    both_ways(torch, lambda x, w: F.rms_norm(x, norm, w, eps), lambda x, w: torch.nn.functional.rms_norm(x, wshape, w, eps),
              rng.standard_normal(shape), rng.uniform(0.5, 2, wshape), rng=rng)
    ours, theirs = nn.RMSNorm(norm, eps=eps).double(), torch.nn.RMSNorm(norm, eps=eps).double()
    assert repr(ours) == repr(theirs)
    both_ways(torch, ours, theirs, rng.standard_normal(shape), rng=rng)


def test_rms_norm_default_eps_is_the_dtypes(torch):
    x = np.full((1, 4), 1e-5, dtype=np.float32)
    ours = F.rms_norm(cr.tensor(x), (4,)).numpy()
    np.testing.assert_allclose(ours, torch.nn.functional.rms_norm(torch.tensor(x), (4,)).numpy(), rtol=1e-6)


# --- pooling -------------------------------------------------------------------------------------------
POOLS = [("max_pool1d", (3,), {}), ("max_pool1d", (3,), {"stride": 2, "padding": 1, "dilation": 2}),
         ("max_pool1d", (2,), {"ceil_mode": True}), ("avg_pool1d", (3,), {"stride": 2, "padding": 1}),
         ("avg_pool1d", (4,), {"ceil_mode": True, "count_include_pad": False}), ("adaptive_avg_pool1d", (4,), {}),
         ("adaptive_max_pool1d", (4,), {}), ("adaptive_max_pool1d", (3,), {})]


@pytest.mark.parametrize(("fn", "args", "kw"), POOLS)
@pytest.mark.parametrize("shape", [(2, 3, 11), (3, 10)])
def test_pool1d_matches_torch(torch, rng, fn, args, kw, shape):
    x = rng.permutation(np.prod(shape)).reshape(shape) * 0.1   # distinct values: no ties for max
    both_ways(torch, lambda t: getattr(F, fn)(t, *args, **kw), lambda t: getattr(torch.nn.functional, fn)(t, *args, **kw),
              x, rng=rng)


@pytest.mark.parametrize(("size", "shape"), [(1, (2, 3, 5, 7)), ((3, 2), (2, 3, 5, 7)), ((2, None), (3, 5, 6)),
                                             (4, (1, 2, 4, 4))])
def test_adaptive_max_pool2d_matches_torch(torch, rng, size, shape):
    x = rng.permutation(np.prod(shape)).reshape(shape) * 0.1
    both_ways(torch, lambda t: F.adaptive_max_pool2d(t, size), lambda t: torch.nn.functional.adaptive_max_pool2d(t, size),
              x, rng=rng)
    _, idx = F.adaptive_max_pool2d(cr.tensor(x), size, return_indices=True)
    _, idx_t = torch.nn.functional.adaptive_max_pool2d(torch.tensor(x), size, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), idx_t.numpy())


def test_pool1d_indices_and_lp_pool(torch, rng):
    x = rng.permutation(30).reshape(2, 3, 5) * 0.1
    _, idx = F.max_pool1d(cr.tensor(x), 2, 1, return_indices=True)
    _, idx_t = torch.nn.functional.max_pool1d(torch.tensor(x), 2, 1, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), idx_t.numpy())
    pos = rng.uniform(0.5, 2, (2, 3, 6, 6))
    both_ways(torch, lambda t: F.lp_pool2d(t, 2, 3), lambda t: torch.nn.functional.lp_pool2d(t, 2, 3), pos, rng=rng)
    both_ways(torch, lambda t: F.lp_pool1d(t, 3, 2, 1), lambda t: torch.nn.functional.lp_pool1d(t, 3, 2, 1),
              pos[0], rng=rng)


def test_pool_modules_match_torch(torch, rng):
    x = rng.permutation(2 * 3 * 12).reshape(2, 3, 12) * 0.1
    for name, args in (("MaxPool1d", (3,)), ("AvgPool1d", (3, 2, 1)), ("AdaptiveAvgPool1d", (5,)),
                       ("AdaptiveMaxPool1d", (5,)), ("LPPool1d", (2, 3))):
        ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
        assert repr(ours) == repr(theirs)
        both_ways(torch, ours, theirs, np.abs(x) + 0.5, rng=rng)
    ours, theirs = nn.AdaptiveMaxPool2d((2, None)), torch.nn.AdaptiveMaxPool2d((2, None))
    assert repr(ours) == repr(theirs)
    both_ways(torch, ours, theirs, x.reshape(2, 3, 3, 4), rng=rng)


@pytest.mark.parametrize(("fn", "args"), [("max_pool1d", ((2, 3, 5), (3, 3))), ("max_pool1d", ((10,), 3)),
                                          ("max_pool1d", ((2, 3, 10), 3, None, 2)), ("max_pool1d", ((2, 3, 5), 20)),
                                          ("avg_pool1d", ((2, 3, 5), 3, 0))])
def test_pool1d_rejects_what_torch_rejects(torch, fn, args):
    shape, *rest = args
    with pytest.raises(RuntimeError):
        getattr(torch.nn.functional, fn)(torch.zeros(shape), *rest)
    with pytest.raises(RuntimeError, match=fn):
        getattr(F, fn)(cr.zeros(shape), *rest)


# --- losses ------------------------------------------------------------------------------------------
def _signs(rng, shape):
    return np.where(rng.random(shape) < 0.5, -1.0, 1.0)


LOSSES = {   # name: (differentiable input arrays, constant arrays, keyword args)
    "margin_ranking_loss": (lambda r: [r.standard_normal(6), r.standard_normal(6)], lambda r: [_signs(r, 6)],
                            {"margin": 0.3}),
    "hinge_embedding_loss": (lambda r: [r.standard_normal((3, 4))], lambda r: [_signs(r, (3, 4))], {"margin": 0.8}),
    "soft_margin_loss": (lambda r: [r.standard_normal((3, 4)) * 30], lambda r: [_signs(r, (3, 4))], {}),
    "cosine_embedding_loss": (lambda r: [r.standard_normal((5, 4)), r.standard_normal((5, 4))],
                              lambda r: [_signs(r, 5)], {"margin": -0.2}),
    "triplet_margin_loss": (lambda r: [r.standard_normal((4, 3)) for _ in range(3)], lambda r: [], {}),
    "poisson_nll_loss": (lambda r: [r.uniform(0.1, 2, (3, 4))], lambda r: [r.uniform(0, 4, (3, 4))], {}),
    "gaussian_nll_loss": (lambda r: [r.standard_normal((3, 4)), r.uniform(0.5, 2, (3, 4))],
                          lambda r: [r.standard_normal((3, 4))], {}),
    "multilabel_soft_margin_loss": (lambda r: [r.standard_normal((3, 5))],
                                    lambda r: [(r.random((3, 5)) < 0.5).astype(float)], {}),
}
VARIANTS = {
    "triplet_margin_loss": [{"p": 1.0, "margin": 0.5}, {"swap": True}],
    "poisson_nll_loss": [{"full": True}, {"log_input": False}],
    "gaussian_nll_loss": [{"full": True}],
    "cosine_embedding_loss": [{"margin": 0.5}],
}
LOSS_CASES = [(name, kw) for name, (_, _, kw) in LOSSES.items() for kw in [kw] + VARIANTS.get(name, [])]


def _call(m, name, ins, consts, kw, reduction):
    fn = getattr(m.nn.functional, name)
    if name == "gaussian_nll_loss":
        (x, var), (y,) = ins, consts
        return fn(x, y, var, reduction=reduction, **kw)
    if name in ("margin_ranking_loss", "cosine_embedding_loss"):
        return fn(*ins, *consts, reduction=reduction, **kw)
    if name == "triplet_margin_loss":
        return fn(*ins, reduction=reduction, **kw)
    return fn(*ins, *consts, reduction=reduction, **kw)


@pytest.mark.parametrize(("name", "kw"), LOSS_CASES, ids=[f"{n}-{kw}" for n, kw in LOSS_CASES])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_match_torch(torch, rng, name, kw, reduction):
    ins_fn, consts_fn, _ = LOSSES[name]
    ins, consts = ins_fn(rng), consts_fn(rng)
    n = len(ins)
    both_ways(torch, lambda *a: _call(cr, name, a[:n], a[n:], kw, reduction),
              lambda *a: _call(torch, name, a[:n], a[n:], kw, reduction), *ins, rng=rng, consts=consts)


@pytest.mark.parametrize("kw", [{}, {"p": 2, "margin": 0.7}, {"weight": [0.5, 2.0, 1.0, 1.5]}])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_multi_margin_loss_matches_torch(torch, rng, kw, reduction):
    x = rng.standard_normal((5, 4))
    t = np.array([0, 3, 1, 1, 2])
    def run(m, x):
        extra = {k: (m.tensor(v, dtype=m.float64) if k == "weight" else v) for k, v in kw.items()}
        return m.nn.functional.multi_margin_loss(x, m.tensor(t), reduction=reduction, **extra)
    # torch has no double backward for multi_margin_loss ("derivative ... not implemented")
    both_ways(torch, lambda x: run(cr, x), lambda x: run(torch, x), x, rng=rng, double=False)
    both_ways(torch, lambda x: F.multi_margin_loss(x, cr.tensor(2)),
              lambda x: torch.nn.functional.multi_margin_loss(x, torch.tensor(2)), x[0], rng=rng, double=False)


def test_multi_margin_and_cosine_errors(torch):
    with pytest.raises(ValueError, match="multi_margin_loss"):
        F.multi_margin_loss(cr.zeros(3, 4), cr.tensor([0, 1, 3]), p=3)
    with pytest.raises(RuntimeError, match="target out of range"):
        F.multi_margin_loss(cr.zeros(3, 4), cr.tensor([0, 1, 4]))
    with pytest.raises(RuntimeError, match="weight"):
        F.multi_margin_loss(cr.zeros(3, 4), cr.tensor([0, 1, 3]), weight=cr.ones(3))
    with pytest.raises(RuntimeError, match="multi-target not supported"):
        F.cosine_embedding_loss(cr.zeros(3, 4), cr.zeros(3, 4), cr.ones(3, 1))
    with pytest.raises(RuntimeError, match="expects 2D input"):
        F.cosine_embedding_loss(cr.zeros(2, 3, 4), cr.zeros(2, 3, 4), cr.ones(3))
    with pytest.raises(RuntimeError, match="same dimension"):
        F.margin_ranking_loss(cr.zeros(3), cr.zeros(3, 1), cr.ones(3))
    with pytest.raises(ValueError, match="negative"):
        F.gaussian_nll_loss(cr.zeros(3), cr.zeros(3), cr.tensor([1.0, -1.0, 1.0]))
    with pytest.raises(ValueError, match="incorrect size"):
        F.gaussian_nll_loss(cr.zeros(3, 4), cr.zeros(3, 4), cr.ones(2, 2))


def test_gaussian_nll_shared_variance_matches_torch(torch, rng):
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    for var in (rng.uniform(0.5, 2, 3), rng.uniform(0.5, 2, (3, 1)), rng.uniform(1e-9, 1e-8, (3, 4))):
        both_ways(torch, lambda a, v: F.gaussian_nll_loss(a, cr.tensor(y), v),
                  lambda a, v: torch.nn.functional.gaussian_nll_loss(a, torch.tensor(y), v), x, var, rng=rng)
    np.testing.assert_allclose(F.gaussian_nll_loss(cr.tensor(x), cr.tensor(y), 0.7).numpy(),
                               torch.nn.functional.gaussian_nll_loss(torch.tensor(x), torch.tensor(y), 0.7).numpy(),
                               **TOL)


def test_loss_modules_match_torch(torch, rng):
    a, b, c = (rng.standard_normal((4, 3)) for _ in range(3))
    s = _signs(rng, 4)
    cases = [("MarginRankingLoss", {"margin": 0.2}, (a[:, 0], b[:, 0], s)), ("HingeEmbeddingLoss", {}, (a, _signs(rng, (4, 3)))),
             ("SoftMarginLoss", {}, (a, _signs(rng, (4, 3)))), ("CosineEmbeddingLoss", {"margin": 0.1}, (a, b, s)),
             ("TripletMarginLoss", {"margin": 0.5}, (a, b, c)), ("PoissonNLLLoss", {}, (a, np.abs(b))),
             ("GaussianNLLLoss", {}, (a, b, np.abs(c) + 0.1)), ("MultiLabelSoftMarginLoss", {}, (a, (b > 0) * 1.0)),
             ("MultiMarginLoss", {"margin": 0.5}, (a, np.array([0, 2, 1, 1]))),
             ("TripletMarginWithDistanceLoss", {"margin": 0.5}, (a, b, c))]
    for name, kw, arrays in cases:
        ours, theirs = getattr(nn, name)(**kw), getattr(torch.nn, name)(**kw)
        for reduction in ("mean", "sum"):
            ours.reduction = theirs.reduction = reduction
            x, xt = _pair(torch, arrays[0])
            y = ours(x, *[cr.tensor(v) for v in arrays[1:]])
            yt = theirs(xt, *[torch.tensor(v) for v in arrays[1:]])
            y.backward()
            yt.backward()
            np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), **TOL, err_msg=name)
            np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), **TOL, err_msg=name)


@pytest.mark.parametrize(("kw", "size", "out"), [({"kernel_size": 2}, (6, 6), None),
                                                 ({"kernel_size": 3, "stride": 2, "padding": 1}, (5, 7), None),
                                                 ({"kernel_size": 2}, (6, 6), (7, 7)),
                                                 ({"kernel_size": 2}, (6, 6), (2, 3, 6, 7))])
def test_max_unpool2d_matches_torch(torch, rng, kw, size, out):
    a = rng.permutation(2 * 3 * size[0] * size[1]).reshape(2, 3, *size) * 0.1
    y, idx = torch.nn.functional.max_pool2d(torch.tensor(a), return_indices=True, **kw)
    i = cr.tensor(idx.numpy())
    both_ways(torch, lambda x: F.max_unpool2d(x, i, output_size=out, **kw),
              lambda x: torch.nn.functional.max_unpool2d(x, idx, output_size=out, **kw), y.numpy(), rng=rng)
    ours, theirs = nn.MaxUnpool2d(**kw), torch.nn.MaxUnpool2d(**kw)
    assert repr(ours) == repr(theirs)


def test_max_unpool1d_and_errors(torch, rng):
    b = rng.permutation(2 * 3 * 9).reshape(2, 3, 9) * 0.1
    y, idx = torch.nn.functional.max_pool1d(torch.tensor(b), 3, 2, 1, return_indices=True)
    i = cr.tensor(idx.numpy())
    both_ways(torch, lambda x: nn.MaxUnpool1d(3, 2, 1)(x, i), lambda x: torch.nn.MaxUnpool1d(3, 2, 1)(x, idx),
              y.numpy(), rng=rng)
    assert repr(nn.MaxUnpool1d(3, 2, 1)) == repr(torch.nn.MaxUnpool1d(3, 2, 1))
    with pytest.raises(ValueError, match="invalid output_size"):
        F.max_unpool2d(cr.ones(1, 1, 2, 2), cr.zeros(1, 1, 2, 2, dtype=cr.int64), 2, output_size=(9, 9))
    with pytest.raises(RuntimeError, match="invalid max index"):
        F.max_unpool2d(cr.ones(1, 1, 2, 2), cr.full((1, 1, 2, 2), 100, dtype=cr.int64), 2)

"""More of brief D's missing APIs against PyTorch: channel-wise and alpha dropout (the same masks after the
same seed), EmbeddingBag (all modes, offsets, padding, per-sample weights; values and gradients),
kthvalue, and the CosineSimilarity/PairwiseDistance layers."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

TOL = {"rtol": 1e-10, "atol": 1e-12}


@pytest.mark.parametrize(("fn", "shape"), [("dropout1d", (4, 6, 3)), ("dropout1d", (6, 3)), ("dropout2d", (2, 5, 3, 3)),
                                           ("dropout2d", (2, 5, 3)), ("dropout3d", (2, 3, 2, 2, 2)),
                                           ("dropout3d", (3, 2, 2, 2)), ("alpha_dropout", (4, 5)),
                                           ("feature_alpha_dropout", (3, 4, 2))])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dropout_variants_draw_torchs_masks(torch, fn, shape, dtype):
    a = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # dropout2d's 3-D input warning (both libraries warn)
        torch.manual_seed(5)
        cr.manual_seed(5)
        xt = torch.tensor(a, requires_grad=True)
        x = cr.tensor(a, requires_grad=True)
        yt = getattr(torch.nn.functional, fn)(xt, 0.3, training=True)
        y = getattr(F, fn)(x, 0.3, training=True)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-7)
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-7)
    assert y.dtype == x.dtype


def test_dropout_layers(torch):
    for name, shape in (("Dropout1d", (2, 3, 4)), ("Dropout2d", (2, 3, 4, 4)), ("Dropout3d", (2, 3, 2, 2, 2)),
                        ("AlphaDropout", (2, 3)), ("FeatureAlphaDropout", (2, 3, 4))):
        ours, theirs = getattr(nn, name)(0.2), getattr(torch.nn, name)(0.2)
        assert repr(ours) == repr(theirs)
        x = cr.randn(*shape)
        assert ours.eval()(x) is x       # identity in eval
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input"):
        F.dropout1d(cr.zeros(2, 3, 4, 5))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(1.5)
    with pytest.warns(UserWarning, match="dropout2d: Received a 3D input"):
        F.dropout2d(cr.zeros(2, 3, 4))


BAGS = [{"mode": m, "padding_idx": p, "weights": w, "last": last}
        for m in ("sum", "mean", "max") for p in (None, 4) for w in (False, True) for last in (False, True)
        if not (w and m != "sum")]


@pytest.mark.parametrize("case", BAGS, ids=[str(c) for c in BAGS])
def test_embedding_bag_matches_torch(torch, case):
    rng = np.random.default_rng(1)
    W = rng.standard_normal((7, 3))
    ids = [1, 2, 4, 5, 4, 3, 2, 6]
    offsets = [0, 3, 3, 5] + ([8] if case["last"] else [])    # bag 1 is empty
    psw = rng.standard_normal(8) if case["weights"] else None
    w, wt = cr.tensor(W, requires_grad=True), torch.tensor(W, requires_grad=True)
    kw = {"mode": case["mode"], "padding_idx": case["padding_idx"], "include_last_offset": case["last"]}
    y = F.embedding_bag(cr.tensor(ids), w, cr.tensor(offsets), per_sample_weights=None if psw is None
                        else cr.tensor(psw), **kw)
    yt = torch.nn.functional.embedding_bag(torch.tensor(ids), wt, torch.tensor(offsets), per_sample_weights=None
                                           if psw is None else torch.tensor(psw), **kw)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), **TOL)
    g = rng.standard_normal(tuple(yt.shape))
    y.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), **TOL)


def test_embedding_bag_module_2d_input_and_errors(torch):
    theirs = torch.nn.EmbeddingBag(10, 3, mode="max", padding_idx=0).double()
    ours = nn.EmbeddingBag(10, 3, mode="max", padding_idx=0).double()
    assert repr(ours) == repr(theirs)
    ours.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    ids = np.array([[1, 2, 0], [4, 4, 9]])
    y, yt = ours(cr.tensor(ids)), theirs(torch.tensor(ids))
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), **TOL)
    with pytest.raises(ValueError, match="offsets has to be None"):
        ours(cr.tensor(ids), cr.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="offsets\\[0\\] has to be 0"):
        ours(cr.tensor([1, 2, 3]), cr.tensor([1, 2]))
    with pytest.raises(NotImplementedError, match="per_sample_weights"):
        F.embedding_bag(cr.tensor([1, 2]), cr.randn(4, 2), cr.tensor([0]), per_sample_weights=cr.ones(2))
    frozen = nn.EmbeddingBag.from_pretrained(cr.randn(4, 2), mode="sum")
    assert not frozen.weight.requires_grad and frozen(cr.tensor([[1, 2]])).shape == (1, 2)


def test_kthvalue_matches_torch_and_rejects_bad_k(torch):
    a = np.array([[3.0, 1.0, 2.0, float("nan")], [0.0, 5.0, 4.0, -1.0]])
    for k, dim, keepdim in ((1, -1, False), (2, 0, True), (3, 1, False)):
        got, want = cr.kthvalue(cr.tensor(a), k, dim, keepdim), torch.kthvalue(torch.tensor(a), k, dim, keepdim)
        np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
        np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
    with pytest.raises(RuntimeError, match="kthvalue\\(\\): selected number k out of range"):
        cr.kthvalue(cr.zeros(2, 3), 4)
    with pytest.raises(RuntimeError, match="out of range"):
        cr.kthvalue(cr.zeros(2, 3), 0)
    with pytest.raises(IndexError, match="non-zero size"):
        cr.kthvalue(cr.zeros(2, 0), 1)


def test_distance_layers_match_torch(torch):
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    for name, kw in (("CosineSimilarity", {}), ("CosineSimilarity", {"dim": 0, "eps": 1e-3}),
                     ("PairwiseDistance", {}), ("PairwiseDistance", {"p": 1.0, "keepdim": True})):
        ours, theirs = getattr(nn, name)(**kw), getattr(torch.nn, name)(**kw)
        assert repr(ours) == repr(theirs)
        x, xt = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y, yt = ours(x, cr.tensor(b)), theirs(xt, torch.tensor(b))
        np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), **TOL)
        y.sum().backward()
        yt.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), **TOL)


@pytest.mark.parametrize(("shape", "size"), [((2, 5, 3), 3), ((2, 6, 3, 4), 4), ((1, 4, 2, 2, 3), 5), ((2, 3, 4), 1)])
def test_local_response_norm_matches_torch(torch, shape, size):
    a = np.random.default_rng(3).standard_normal(shape)
    ours, theirs = nn.LocalResponseNorm(size, 0.3, 0.6, 2.0), torch.nn.LocalResponseNorm(size, 0.3, 0.6, 2.0)
    assert repr(ours) == repr(theirs)
    x, xt = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, yt = ours(x), theirs(xt)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), **TOL)
    (y * y).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), **TOL)


@pytest.mark.filterwarnings("ignore:Since version 1.3.0, affine_grid")   # both warn for a unit-size grid
@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_matches_torch(torch, align_corners):
    th = np.random.default_rng(4).standard_normal((2, 2, 3)) * 0.5 + np.array([[1.0, 0, 0], [0, 1, 0]])
    t, tt = cr.tensor(th, requires_grad=True), torch.tensor(th, requires_grad=True)
    for size in ((2, 3, 4, 5), (2, 1, 1, 3)):
        g = F.affine_grid(t, size, align_corners=align_corners)
        gt = torch.nn.functional.affine_grid(tt, size, align_corners=align_corners)
        np.testing.assert_allclose(g.detach().numpy(), gt.detach().numpy(), **TOL)
        (g * g).sum().backward()
        (gt * gt).sum().backward()
        np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), **TOL)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_matches_torch(torch, mode, padding_mode, align_corners):
    rng = np.random.default_rng(5)
    a, grid = rng.standard_normal((2, 3, 4, 5)), rng.uniform(-1.4, 1.4, (2, 6, 7, 2))   # some points outside
    x, xt = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    g, gt = cr.tensor(grid, requires_grad=True), torch.tensor(grid, requires_grad=True)
    y = F.grid_sample(x, g, mode, padding_mode, align_corners)
    yt = torch.nn.functional.grid_sample(xt, gt, mode, padding_mode, align_corners)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), **TOL)
    up = rng.standard_normal(tuple(yt.shape))
    y.backward(cr.tensor(up))
    yt.backward(torch.tensor(up))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), **TOL)
    np.testing.assert_allclose(g.grad.numpy(), gt.grad.numpy(), rtol=1e-9, atol=1e-11)


def test_grid_sample_errors():
    x, g = cr.zeros(1, 1, 2, 2), cr.zeros(1, 2, 2, 2)
    with pytest.raises(NotImplementedError, match="bicubic"):
        F.grid_sample(x, g, "bicubic", align_corners=False)
    with pytest.raises(ValueError, match="padding_mode"):
        F.grid_sample(x, g, padding_mode="wrap", align_corners=False)
    with pytest.raises(RuntimeError, match="same N"):
        F.grid_sample(x, cr.zeros(2, 2, 2, 2), align_corners=False)
    with pytest.warns(UserWarning, match="align_corners"):
        F.grid_sample(x, g)
    with pytest.warns(UserWarning, match="unit-size grids"):
        F.affine_grid(cr.zeros(1, 2, 3), (1, 1, 1, 4), align_corners=True)


def test_an_image_to_image_network_trains_like_torch(torch):
    """A CycleGAN-style residual block and an ESPCN-style upsampler, built only from this brief's layers plus
    Conv2d: the same weights give the same outputs, parameter gradients and one SGD step as PyTorch."""
    def build(m):
        m.manual_seed(0)
        return m.nn.Sequential(
            m.nn.ReflectionPad2d(1), m.nn.Conv2d(3, 8, 3), m.nn.InstanceNorm2d(8, affine=True), m.nn.PReLU(8),
            m.nn.ReplicationPad2d((1, 0, 1, 0)), m.nn.Conv2d(8, 12, 2), m.nn.PixelShuffle(2),
            m.nn.ZeroPad2d(1), m.nn.Conv2d(3, 4, 3), m.nn.PixelUnshuffle(2), m.nn.Dropout2d(0.0),
            m.nn.AdaptiveMaxPool2d((2, 3))).double()
    theirs, ours = build(torch), build(cr)
    ours.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    a = np.random.default_rng(6).standard_normal((2, 3, 6, 7))
    opt, opt_t = cr.optim.SGD(ours.parameters(), lr=0.1), torch.optim.SGD(theirs.parameters(), lr=0.1)
    for _ in range(2):
        y, yt = ours(cr.tensor(a)), theirs(torch.tensor(a))
        np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-9, atol=1e-11)
        for net, o, out in ((ours, opt, y), (theirs, opt_t, yt)):
            o.zero_grad()
            (out * out).mean().backward()
            o.step()
        for (k, p), (_, pt) in zip(ours.named_parameters(), theirs.named_parameters()):
            np.testing.assert_allclose(p.detach().numpy(), pt.detach().numpy(), rtol=1e-9, atol=1e-11, err_msg=k)


@pytest.mark.filterwarnings("ignore:`torch.nn.utils.weight_norm` is deprecated:FutureWarning")
@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_matches_torch(torch, dim):
    theirs = torch.nn.Conv2d(3, 4, 3).double()
    ours = nn.Conv2d(3, 4, 3).double()
    ours.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    theirs, ours = torch.nn.utils.weight_norm(theirs, dim=dim), nn.utils.weight_norm(ours, dim=dim)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict()) == ["bias", "weight_g", "weight_v"]
    a = np.random.default_rng(0).standard_normal((2, 3, 5, 5))
    y, yt = ours(cr.tensor(a)), theirs(torch.tensor(a))
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), **TOL)
    (y * y).sum().backward()
    (yt * yt).sum().backward()
    for name in ("weight_g", "weight_v", "bias"):
        np.testing.assert_allclose(getattr(ours, name).grad.numpy(), getattr(theirs, name).grad.numpy(), **TOL)
    nn.utils.remove_weight_norm(ours)
    torch.nn.utils.remove_weight_norm(theirs)
    assert sorted(ours.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), **TOL)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(ours)


@pytest.mark.parametrize("kind", ["Linear", "ConvTranspose2d"])
def test_spectral_norm_matches_torch(torch, kind):
    args, shape = ((5, 4), (2, 5)) if kind == "Linear" else ((3, 4, 3), (2, 3, 4, 4))
    theirs, ours = getattr(torch.nn, kind)(*args).double(), getattr(nn, kind)(*args).double()
    ours.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    torch.manual_seed(2)
    cr.manual_seed(2)     # u and v start from the same normal draws
    theirs, ours = torch.nn.utils.spectral_norm(theirs), nn.utils.spectral_norm(ours)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    a = np.random.default_rng(0).standard_normal(shape)
    for _ in range(3):    # each training call takes one power-iteration step
        y, yt = ours(cr.tensor(a)), theirs(torch.tensor(a))
        np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), **TOL)
        (y * y).sum().backward()
        (yt * yt).sum().backward()
        np.testing.assert_allclose(ours.weight_orig.grad.numpy(), theirs.weight_orig.grad.numpy(), **TOL)
        np.testing.assert_allclose(ours.weight_u.numpy(), theirs.weight_u.numpy(), **TOL)
    ours.eval()
    theirs.eval()
    np.testing.assert_allclose(ours(cr.tensor(a)).detach().numpy(), theirs(torch.tensor(a)).detach().numpy(), **TOL)
    nn.utils.remove_spectral_norm(ours)
    torch.nn.utils.remove_spectral_norm(theirs)
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), **TOL)
    with pytest.raises(RuntimeError, match="two spectral_norm hooks"):
        nn.utils.spectral_norm(nn.utils.spectral_norm(nn.Linear(2, 2)))


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, float("inf"), 0.0])
def test_pdist_matches_torch(torch, p):
    a = np.random.default_rng(8).standard_normal((5, 3))
    a[1] = a[0]          # a zero distance
    x, xt = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, yt = F.pdist(x, p), torch.nn.functional.pdist(xt, p)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), **TOL)
    g = np.arange(len(yt), dtype=float)
    y.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), **TOL)


def test_inplace_and_alias_forms_match_torch(torch):
    a = np.array([[-2.0, -0.5, 0.0, 0.7, 3.0]])
    for name, args in (("relu_", ()), ("elu_", (0.5,)), ("leaky_relu_", (0.2,)), ("hardtanh_", (-1.0, 2.0)),
                       ("threshold_", (0.5, -9.0)), ("selu_", ()), ("celu_", (0.7,))):
        x, xt = cr.tensor(a), torch.tensor(a)
        assert getattr(F, name)(x, *args) is x
        getattr(torch.nn.functional, name)(xt, *args)
        np.testing.assert_allclose(x.numpy(), xt.numpy(), **TOL, err_msg=name)
    img = np.random.default_rng(9).permutation(2 * 16).reshape(1, 2, 4, 4) * 1.0
    for name, args in (("max_pool2d_with_indices", (2,)), ("adaptive_max_pool2d_with_indices", (3,))):
        (y, i), (yt, it) = getattr(F, name)(cr.tensor(img), *args), getattr(torch.nn.functional, name)(torch.tensor(img), *args)
        np.testing.assert_array_equal(y.numpy(), yt.numpy())
        np.testing.assert_array_equal(i.numpy(), it.numpy())
    for name in ("upsample_nearest", "upsample_bilinear"):
        with pytest.warns(UserWarning, match="deprecated"):
            y = getattr(F, name)(cr.tensor(img), scale_factor=2)
        with pytest.warns(UserWarning, match="deprecated"):
            yt = getattr(torch.nn.functional, name)(torch.tensor(img), scale_factor=2)
        np.testing.assert_allclose(y.numpy(), yt.numpy(), **TOL)


@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gumbel_softmax_draws_torchs_noise(torch, hard, dtype):
    a = np.random.default_rng(0).standard_normal((4, 5)).astype(dtype)
    torch.manual_seed(3)
    cr.manual_seed(3)
    x, xt = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, yt = F.gumbel_softmax(x, 0.7, hard), torch.nn.functional.gumbel_softmax(xt, 0.7, hard)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    g = np.random.default_rng(1).standard_normal((4, 5)).astype(dtype)
    y.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_batch_norm3d_matches_torch(torch):
    theirs, ours = torch.nn.BatchNorm3d(3).double(), nn.BatchNorm3d(3).double()
    assert repr(ours) == repr(theirs)
    a = np.random.default_rng(10).standard_normal((2, 3, 2, 3, 2))
    for _ in range(2):
        x, xt = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y, yt = ours(x), theirs(xt)
        np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), **TOL)
        (y * y * y).sum().backward()
        (yt * yt * yt).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-11)
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[k].numpy(), v.numpy(), **TOL)
    with pytest.raises(ValueError, match="expected 5D input"):
        ours(cr.zeros(2, 3, 4))

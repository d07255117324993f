"""Convolution and pooling against PyTorch (float64): forward, backward, double backward, errors."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import functional_conv as F


def _pair(torch, shape, rng, requires_grad=True):
    a = rng.standard_normal(shape)
    return (cr.tensor(a, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


def _close(ours, theirs, tol=1e-9):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=tol, atol=tol)


def _check(torch, our_fn, torch_fn, shapes, seed=0, tol=1e-9):
    """Same inputs, same upstream gradient: outputs and every input gradient must match."""
    rng = np.random.default_rng(seed)
    pairs = [_pair(torch, s, rng) if s is not None else (None, None) for s in shapes]
    ours = our_fn(*[p[0] for p in pairs])
    theirs = torch_fn(*[p[1] for p in pairs])
    assert tuple(ours.shape) == tuple(theirs.shape)
    _close(ours, theirs, tol)
    g = rng.standard_normal(tuple(theirs.shape))
    ours.backward(cr.tensor(g))
    theirs.backward(torch.tensor(g))
    for mine, ref in pairs:
        if mine is not None:
            _close(mine.grad, ref.grad, tol)


CONV2D_CASES = [
    # (input shape, weight shape, bias?, kwargs)
    ((2, 3, 7, 6), (4, 3, 3, 3), True, {}),
    ((1, 3, 7, 6), (4, 3, 3, 2), False, {"stride": 2}),
    ((2, 2, 8, 9), (3, 2, 3, 3), True, {"stride": (2, 1), "padding": (1, 2)}),
    ((2, 2, 8, 9), (3, 2, 2, 4), True, {"padding": "same"}),
    ((2, 2, 8, 9), (3, 2, 3, 3), True, {"padding": "same", "dilation": 2}),
    ((2, 2, 8, 9), (3, 2, 3, 3), False, {"padding": "valid"}),
    ((2, 2, 9, 9), (3, 2, 3, 2), True, {"dilation": (2, 3), "padding": 1}),
    ((2, 4, 6, 5), (6, 2, 3, 3), True, {"groups": 2, "padding": 1}),
    ((3, 6, 5, 5), (6, 1, 3, 3), False, {"groups": 6, "stride": 2, "padding": 1}),  # depthwise
    ((2, 4, 5, 5), (8, 4, 1, 1), True, {}),                                        # 1x1 fast path
    ((1, 1, 28, 28), (6, 1, 5, 5), True, {}),
]


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
@pytest.mark.parametrize("xs, ws, bias, kw", CONV2D_CASES)
def test_conv2d_matches_torch(torch, xs, ws, bias, kw):
    _check(torch, lambda x, w, b: F.conv2d(x, w, b, **kw),
           lambda x, w, b: torch.nn.functional.conv2d(x, w, b, **kw),
           [xs, ws, (ws[0],) if bias else None])


CONV1D_CASES = [
    ((2, 3, 10), (4, 3, 3), True, {}),
    ((1, 3, 11), (4, 3, 4), False, {"stride": 3, "padding": 2}),
    ((2, 4, 9), (4, 2, 2), True, {"padding": "same", "groups": 2}),
    ((2, 2, 12), (3, 2, 3), True, {"dilation": 2, "padding": (1,)}),
]


@pytest.mark.parametrize("xs, ws, bias, kw", CONV1D_CASES)
def test_conv1d_matches_torch(torch, xs, ws, bias, kw):
    _check(torch, lambda x, w, b: F.conv1d(x, w, b, **kw),
           lambda x, w, b: torch.nn.functional.conv1d(x, w, b, **kw),
           [xs, ws, (ws[0],) if bias else None])


def test_conv2d_unbatched_input(torch):
    _check(torch, lambda x, w: F.conv2d(x, w, padding=1),
           lambda x, w: torch.nn.functional.conv2d(x, w, padding=1), [(3, 5, 5), (2, 3, 3, 3)])


def test_conv_float32_forward_is_close(torch):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((4, 3, 12, 12)).astype(np.float32), rng.standard_normal((5, 3, 3, 3)).astype(np.float32)
    ours = F.conv2d(cr.tensor(x), cr.tensor(w), padding=1)
    theirs = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1)
    assert ours.dtype == cr.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kw", [{}, {"stride": 2, "padding": 1}, {"groups": 2, "dilation": 2}])
def test_conv2d_double_backward_matches_torch(torch, kw):
    """grad of (grad · v) w.r.t. x, w and the upstream gradient, as a Hessian-vector product needs."""
    rng = np.random.default_rng(2)
    results = []
    for lib in (cr, torch):
        rng = np.random.default_rng(2)
        x = lib.tensor(rng.standard_normal((2, 4, 7, 7)), requires_grad=True)
        w = lib.tensor(rng.standard_normal((6, 2 if "groups" in kw else 4, 3, 3)), requires_grad=True)
        conv = F.conv2d if lib is cr else torch.nn.functional.conv2d
        y = conv(x, w, **kw)
        g = lib.tensor(rng.standard_normal(tuple(y.shape)), requires_grad=True)
        gx, gw = (cr.autograd.grad if lib is cr else torch.autograd.grad)(y, (x, w), g, create_graph=True)
        vx = lib.tensor(rng.standard_normal(tuple(gx.shape)))
        vw = lib.tensor(rng.standard_normal(tuple(gw.shape)))
        second = (gx * vx).sum() + (gw * vw * gw).sum()   # nonlinear in gw: w's second derivative is used
        grads = (cr.autograd.grad if lib is cr else torch.autograd.grad)(second, (x, w, g))
        results.append([t.detach().numpy() for t in (gx, gw, *grads)])
    for mine, ref in zip(*results):
        np.testing.assert_allclose(mine, ref, rtol=1e-9, atol=1e-9)


def test_conv_cols_reused_after_inplace_change_raises():
    x = cr.randn(1, 2, 5, 5, requires_grad=True)
    w = cr.randn(3, 2, 3, 3, requires_grad=True)
    h = x * 1
    y = F.conv2d(h, w)
    h.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_conv_retain_graph_gives_same_grads_twice():
    x = cr.randn(2, 2, 6, 6, requires_grad=True)
    w = cr.randn(3, 2, 3, 3, requires_grad=True)
    y = F.conv2d(x, w, padding=1).sum()
    y.backward(retain_graph=True)
    first = w.grad.numpy().copy()
    y.backward()          # second pass recomputes im2col (the kept one was used once)
    np.testing.assert_allclose(w.grad.numpy(), 2 * first, rtol=1e-5, atol=1e-5)


def test_work_buffers_never_alias_live_outputs():
    """Two forwards alive at once (no backward in between) must not share their work arrays."""
    rng = np.random.default_rng(3)
    xa, xb = rng.standard_normal((2, 3, 8, 8)), rng.standard_normal((2, 3, 8, 8))
    w = cr.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    ya = F.conv2d(cr.tensor(xa), w, padding=1)
    yb = F.conv2d(cr.tensor(xb), w, padding=1)
    ya.sum().backward()
    ga = w.grad.numpy().copy()
    w.grad = None
    wa = cr.tensor(w.detach().numpy(), requires_grad=True)
    F.conv2d(cr.tensor(xa), wa, padding=1).sum().backward()
    np.testing.assert_allclose(ga, wa.grad.numpy(), rtol=1e-12)
    yb.sum().backward()
    wb = cr.tensor(w.detach().numpy(), requires_grad=True)
    F.conv2d(cr.tensor(xb), wb, padding=1).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), wb.grad.numpy(), rtol=1e-12)


# --- pooling -------------------------------------------------------------------------------------
MAXPOOL_CASES = [
    ((2, 3, 8, 8), {"kernel_size": 2}),
    ((2, 3, 9, 7), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ((1, 2, 7, 9), {"kernel_size": (2, 3), "stride": (1, 2)}),
    ((2, 2, 9, 9), {"kernel_size": 3, "stride": 2, "dilation": 2, "padding": 1}),
    ((2, 2, 8, 7), {"kernel_size": 3, "stride": 2, "ceil_mode": True}),
    ((2, 2, 10, 10), {"kernel_size": 3, "stride": 1}),  # overlapping windows share positions
]


@pytest.mark.parametrize("xs, kw", MAXPOOL_CASES)
def test_max_pool2d_matches_torch(torch, xs, kw):
    _check(torch, lambda x: F.max_pool2d(x, **kw), lambda x: torch.nn.functional.max_pool2d(x, **kw), [xs])


@pytest.mark.parametrize("xs, kw", MAXPOOL_CASES)
def test_max_pool2d_indices_match_torch(torch, xs, kw):
    a = np.random.default_rng(4).standard_normal(xs)
    _, ours = F.max_pool2d(cr.tensor(a), return_indices=True, **kw)
    _, theirs = torch.nn.functional.max_pool2d(torch.tensor(a), return_indices=True, **kw)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_max_pool2d_ties_pick_first_max_like_torch(torch):
    a = np.array([[[[1., 1., 2., 0.], [1., 1., 2., 2.], [3., 0., 0., 0.], [0., 3., 0., 0.]]]])
    for kw in ({"kernel_size": 2}, {"kernel_size": 2, "stride": 1}):
        x, tx = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        F.max_pool2d(x, **kw).sum().backward()
        torch.nn.functional.max_pool2d(tx, **kw).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_max_pool2d_nan_propagates_like_torch(torch):
    a = np.arange(16.).reshape(1, 1, 4, 4)
    a[0, 0, 1, 1] = np.nan
    ours = F.max_pool2d(cr.tensor(a), 2, return_indices=True)
    theirs = torch.nn.functional.max_pool2d(torch.tensor(a), 2, return_indices=True)
    np.testing.assert_array_equal(ours[0].numpy(), theirs[0].numpy())
    np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())


def test_max_pool2d_double_backward_matches_torch(torch):
    results = []
    for lib in (cr, torch):
        rng = np.random.default_rng(5)
        x = lib.tensor(rng.standard_normal((2, 2, 6, 6)), requires_grad=True)
        pool = F.max_pool2d if lib is cr else torch.nn.functional.max_pool2d
        y = pool(x, 3, stride=2, padding=1)
        g = lib.tensor(rng.standard_normal(tuple(y.shape)), requires_grad=True)
        grad = cr.autograd.grad if lib is cr else torch.autograd.grad
        (gx,) = grad(y, x, g, create_graph=True)
        v = lib.tensor(rng.standard_normal(tuple(gx.shape)))
        (gg,) = grad((gx * v).sum(), g)
        results.append((gx.detach().numpy(), gg.numpy()))
    for mine, ref in zip(*results):
        np.testing.assert_allclose(mine, ref, rtol=1e-12)


AVGPOOL_CASES = [
    ((2, 3, 8, 8), {"kernel_size": 2}),
    ((2, 3, 9, 7), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ((2, 3, 9, 7), {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}),
    ((1, 2, 8, 7), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ((1, 2, 8, 7), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}),
    ((2, 2, 7, 9), {"kernel_size": (2, 3), "stride": (1, 2), "divisor_override": 5}),
]


@pytest.mark.parametrize("xs, kw", AVGPOOL_CASES)
def test_avg_pool2d_matches_torch(torch, xs, kw):
    _check(torch, lambda x: F.avg_pool2d(x, **kw), lambda x: torch.nn.functional.avg_pool2d(x, **kw), [xs])


@pytest.mark.parametrize("xs, size", [((2, 3, 8, 8), (4, 4)), ((2, 3, 7, 9), (3, 4)), ((1, 2, 5, 5), 1),
                                      ((2, 2, 10, 7), (None, 3)), ((2, 5, 6), (4, 5))])
def test_adaptive_avg_pool2d_matches_torch(torch, xs, size):
    _check(torch, lambda x: F.adaptive_avg_pool2d(x, size),
           lambda x: torch.nn.functional.adaptive_avg_pool2d(x, size), [xs])


def test_pool_double_backward_avg_and_adaptive(torch):
    for name, kw in (("avg_pool2d", {"kernel_size": 3, "stride": 2, "padding": 1}),
                     ("adaptive_avg_pool2d", {"output_size": (3, 2)})):
        results = []
        for lib in (cr, torch):
            rng = np.random.default_rng(6)
            x = lib.tensor(rng.standard_normal((2, 2, 7, 6)), requires_grad=True)
            fn = getattr(F if lib is cr else torch.nn.functional, name)
            y = fn(x, **kw)
            g = lib.tensor(rng.standard_normal(tuple(y.shape)), requires_grad=True)
            grad = cr.autograd.grad if lib is cr else torch.autograd.grad
            (gx,) = grad(y, x, g, create_graph=True)
            (gg,) = grad((gx * gx).sum(), g)
            results.append((gx.detach().numpy(), gg.numpy()))
        for mine, ref in zip(*results):
            np.testing.assert_allclose(mine, ref, rtol=1e-10, atol=1e-12)


def test_grad_fn_names_match_torch(torch):
    x = cr.randn(1, 1, 6, 6, requires_grad=True)
    tx = torch.randn(1, 1, 6, 6, requires_grad=True)
    tf = torch.nn.functional
    pairs = [(F.conv2d(x, cr.randn(2, 1, 3, 3)), tf.conv2d(tx, torch.randn(2, 1, 3, 3))),
             (F.max_pool2d(x, 2), tf.max_pool2d(tx, 2)),
             (F.avg_pool2d(x, 2), tf.avg_pool2d(tx, 2)),
             (F.adaptive_avg_pool2d(x, 3), tf.adaptive_avg_pool2d(tx, 3))]
    for ours, theirs in pairs:
        assert ours.grad_fn.name() == theirs.grad_fn.name()


# --- errors teach ---------------------------------------------------------------------------------
@pytest.mark.parametrize("call, match", [
    (lambda: F.conv2d(cr.randn(1, 3, 8, 8), cr.randn(4, 2, 3, 3)),
     r"conv2d: input of shape \(1, 3, 8, 8\) has 3 channels, but weight of shape \(4, 2, 3, 3\)"),
    (lambda: F.conv2d(cr.randn(1, 3, 4, 4), cr.randn(4, 3, 5, 5), padding=0),
     r"conv2d: kernel size \(5, 5\).*larger than the padded input"),
    (lambda: F.conv2d(cr.randn(3, 8, 8, 8, 1), cr.randn(4, 3, 3, 3)), r"conv2d: expected a 3-D"),
    (lambda: F.conv2d(cr.randn(1, 4, 8, 8), cr.randn(6, 2, 3, 3), groups=4),
     r"conv2d: input of shape \(1, 4, 8, 8\) has 4 channels, but weight .* groups=4 expects 8"),
    (lambda: F.conv2d(cr.randn(1, 4, 8, 8), cr.randn(6, 2, 3, 3), cr.randn(5), groups=2),
     r"conv2d: bias of shape \(5,\) does not match the 6 output channels"),
    (lambda: F.conv2d(cr.randn(1, 2, 8, 8), cr.randn(3, 2, 3, 3), stride=2, padding="same"),
     r"padding='same' is not supported for strided convolutions"),
    (lambda: F.conv2d(cr.randn(1, 2, 8, 8), cr.randn(3, 2, 3, 3, dtype=cr.float64)),
     r"conv2d: input \(float32\), weight \(float64\)"),
    (lambda: F.conv1d(cr.randn(1, 2, 8), cr.randn(3, 2, 3), stride=0), r"conv1d: stride must be positive"),
    (lambda: F.max_pool2d(cr.randn(1, 1, 4, 4), 2, padding=2), r"max_pool2d: padding \(2, 2\) should be at most half"),
    (lambda: F.max_pool2d(cr.randn(1, 1, 2, 2), 3), r"max_pool2d: input of shape \(1, 1, 2, 2\) is too small"),
    (lambda: F.avg_pool2d(cr.randn(4, 4), 2), r"avg_pool2d: expected a 3-D \(C, H, W\) or 4-D"),
])
def test_errors_name_the_op_and_shapes(call, match):
    with pytest.raises((RuntimeError, ValueError), match=match):
        call()


# --- modules --------------------------------------------------------------------------------------
MODULES = [
    ("Conv2d", (1, 6, 5), {}),
    ("Conv2d", (3, 6, (3, 5)), {"stride": 2, "padding": 1, "dilation": 2, "groups": 3, "bias": False}),
    ("Conv2d", (2, 4, 3), {"padding": "same"}),
    ("Conv1d", (2, 4, 3), {"stride": 2}),
    ("Conv1d", (4, 4, 2), {"padding": 1, "groups": 2}),
    ("MaxPool2d", (2,), {}),
    ("MaxPool2d", ((2, 3),), {"stride": 1, "padding": 1, "ceil_mode": True}),
    ("AvgPool2d", (2,), {}),
    ("AvgPool2d", (3, 2, 1), {"count_include_pad": False}),
    ("AdaptiveAvgPool2d", ((None, 3),), {}),
    ("AdaptiveAvgPool2d", (1,), {}),
]


def _our_module(name):
    from chainrule.nn import conv, pooling
    return getattr(conv, name, None) or getattr(pooling, name)


@pytest.mark.parametrize("name, args, kw", MODULES)
def test_module_repr_matches_torch(torch, name, args, kw):
    assert repr(_our_module(name)(*args, **kw)) == repr(getattr(torch.nn, name)(*args, **kw))


@pytest.mark.parametrize("name, args, kw", [m for m in MODULES if m[0].startswith("Conv")])
def test_conv_module_forward_and_parameters_match_torch(torch, name, args, kw):
    ours = _our_module(name)(*args, **kw).double()
    theirs = getattr(torch.nn, name)(*args, **kw).double()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    for (_, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert tuple(p.shape) == tuple(q.shape)
        bound = 1 / np.sqrt(np.prod(theirs.weight.shape[1:]))   # PyTorch's U(±1/√fan_in) init
        assert np.abs(p.detach().numpy()).max() <= bound
        with torch.no_grad():
            q.copy_(torch.tensor(p.detach().numpy()))
    shape = (2, args[0]) + (9,) * (1 if name == "Conv1d" else 2)
    x = np.random.default_rng(7).standard_normal(shape)
    y, ty = ours(cr.tensor(x)), theirs(torch.tensor(x))
    _close(y, ty)
    y.sum().backward()
    ty.sum().backward()
    _close(ours.weight.grad, theirs.weight.grad)


def test_conv_module_rejects_unsupported_padding_mode():
    from chainrule.nn.conv import Conv2d
    with pytest.raises(ValueError, match="padding_mode='reflect' is not supported"):
        Conv2d(1, 2, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match=r"Conv2d: in_channels \(3\) and out_channels \(4\) must both be "
                                         r"divisible by groups \(2\)"):
        Conv2d(3, 4, 3, groups=2)


def test_max_pool2d_backward_with_infinite_upstream_gradient_matches_torch(torch):
    """An inf upstream gradient must reach only the max's position (inf · 0 would make NaN elsewhere)."""
    a = np.random.default_rng(8).standard_normal((1, 2, 4, 4))
    g = np.ones((1, 2, 2, 2))
    g[0, 1, 0, 1] = np.inf
    x, tx = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    F.max_pool2d(x, 2).backward(cr.tensor(g))
    torch.nn.functional.max_pool2d(tx, 2).backward(torch.tensor(g))
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_max_pool_indices_of_an_input_that_requires_grad_match_torch():
    import torch

    import chainrule.nn.functional as F
    x = cr.randn(2, 3, 6, 6, requires_grad=True)
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    _, t_idx = torch.nn.functional.max_pool2d(torch.tensor(x.detach().numpy()), 2, return_indices=True)
    assert (idx.numpy() == t_idx.numpy()).all()
    out.sum().backward()
    assert x.grad.sum().item() == out.numel()

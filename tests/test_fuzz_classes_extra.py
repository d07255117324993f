"""The classes of differences from PyTorch the fuzzer found in the APIs added later (tests/fuzz/ops_extra.py):
padding modes, embedding bags, grid sampling, the piecewise activations and pools PyTorch computes as one
node, in-place activations, multi-margin loss. Each is tested as a class: the same source runs in both
libraries (``m`` is torch or chainrule) and must end the same way, over the family of inputs the class covers.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from test_fuzz_classes_nn import leaf, same_as_torch

import chainrule as cr

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")


# --- F.pad: reflect and replicate may crop past the input; an empty padded dim is fine next to a full one --
def _pad_cases(mode: str):
    """Inputs padded on 1-3 dims with widths from -3 to 2, in PyTorch's valid region and around it (circular
    only where PyTorch's result is defined: no wrapping around the part left after cropping)."""
    for shape in [(1, 3), (2, 2, 2), (1, 1, 3), (2, 1, 1, 2), (1, 1, 2, 1, 2)]:
        n = {2: 1, 3: 2, 4: 3, 5: 3}[len(shape)]
        for widths in itertools.product(range(-3, 3), repeat=2 * n):
            pairs = list(zip(widths[::2], widths[1::2]))[::-1]
            kept = [s - max(-b, 0) - max(-a, 0) for s, (b, a) in zip(shape[-n:], pairs)]
            if mode == "circular" and any(k < 0 or b > k or a > k for k, (b, a) in zip(kept, pairs)):
                continue
            outs = [s + b + a for s, (b, a) in zip(shape[-n:], pairs)]
            if mode == "reflect" and n == 3 and 0 in outs:
                continue          # torch 2.13 leaves that gradient uninitialised (see _test_ below)
            yield shape, widths


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular", "constant"])
def test_pad_modes_crop_and_empty_outputs_as_torch(torch, mode):
    """Seeds 800010, 800019, 800030: replicate (and reflect) accept cropping past the input and one empty
    padded dim when another is not empty (PyTorch's rule); values and gradients as torch's."""
    cases = list(_pad_cases(mode))
    rng = np.random.default_rng(5)
    for k in rng.choice(len(cases), size=min(len(cases), 300), replace=False):
        shape, widths = cases[k]
        same_as_torch(torch, f"x = {leaf(shape)}\nout = F.pad(x, {widths!r}, mode={mode!r})", op="pad")


def test_circular_pad_that_would_wrap_twice_raises():
    """torch 2.13 returns uninitialised memory there (generate.KNOWN_OPEN circular_pad_wraps); chainrule says why."""
    with pytest.raises(RuntimeError, match=r"^pad: in mode 'circular' padding \(-2, 2\) .* wrapping around"):
        cr.nn.functional.pad(cr.ones(2, 3), (-2, 2), mode="circular")


def test_reflect_pad3d_with_an_empty_output_has_a_zero_gradient(torch):
    """torch 2.13 leaves this gradient uninitialised (KNOWN_OPEN reflect_pad3d_empty): chainrule's is 0."""
    x = cr.ones(2, 1, 1, 2, dtype=cr.float64, requires_grad=True)
    y = cr.nn.functional.pad(x, (-2, 0, -1, 0, 0, 0), mode="reflect")
    assert tuple(y.shape) == tuple(torch.nn.functional.pad(torch.ones(2, 1, 1, 2), (-2, 0, -1, 0, 0, 0),
                                                            mode="reflect").shape)
    (g,) = cr.autograd.grad(y.sum(), x)
    assert g.tolist() == [[[[0.0, 0.0]]], [[[0.0, 0.0]]]]


# --- embedding_bag -----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_last_offset_and_empty_bags(torch, mode):
    """Seeds 800009, 800033: with include_last_offset the last bag runs to the end of the input whatever
    the last offset says (PyTorch only checks it against the length); empty bags give zeros that still
    require grad (max mode too); 2-D input with no rows gives (0, dim)."""
    w = leaf((4, 2))
    ids = "m.tensor([0, 1, 2, 3, 1])"
    for offsets in [[0, 2, 4], [0, 2, 5], [0, 5, 5], [0, 2, 2], [0, 0], [0, 3], [0, 4, 2], [0, 2, 7]]:
        same_as_torch(torch, f"w = {w}\nout = F.embedding_bag({ids}, w, m.tensor({offsets}), mode={mode!r}, "
                             f"include_last_offset=True)", op="embedding_bag")
    for offsets in [[0, 0, 2], [0, 2, 2], [0, 0]]:
        same_as_torch(torch, f"w = {w}\nout = F.embedding_bag(m.tensor([1, 2]), w, m.tensor({offsets}), "
                             f"mode={mode!r})")
    same_as_torch(torch, f"w = {w}\nout = F.embedding_bag(m.zeros((0,), dtype=m.int64), w, m.tensor([0, 0]), "
                         f"mode={mode!r})")
    same_as_torch(torch, f"w = {w}\nout = F.embedding_bag(m.zeros((0, 3), dtype=m.int64), w, mode={mode!r})")


def test_embedding_bag_without_any_bag_is_an_empty_batch():
    """torch 2.13 crashes (segfault) on offsets that close no bag; chainrule returns no bags."""
    w = cr.ones(4, 2, requires_grad=True)
    for offsets, last in (([0], True), ([], False)):
        out = cr.nn.functional.embedding_bag(cr.tensor([0, 1]), w, cr.tensor(offsets, dtype=cr.int64),
                                             include_last_offset=last)
        assert tuple(out.shape) == (0, 2)


# --- grid_sample with an empty batch ----------------------------------------------------------------
@pytest.mark.parametrize("mode, padding_mode", list(itertools.product(["bilinear", "nearest"],
                                                                      ["zeros", "border", "reflection"])))
def test_grid_sample_empty_batch(torch, mode, padding_mode):
    """Seed 800038: no samples (N = 0) or no output positions: empty results and gradients, no reshape error."""
    for x, g in [((0, 2, 3, 1), (0, 1, 2, 2)), ((0, 1, 1, 1), (0, 0, 2, 2)), ((1, 2, 2, 3), (1, 0, 2, 2))]:
        same_as_torch(torch, f"x = {leaf(x)}\ng = {leaf(g)}\nout = F.grid_sample(x, g, mode={mode!r}, "
                             f"padding_mode={padding_mode!r}, align_corners=False)")


# --- one node in PyTorch: under create_graph the gradient requires grad as PyTorch's ------------------
def second_order(m, src: str):
    """``src`` defines leaves and ``out``: (requires_grad of each first-order gradient under create_graph, the
    second-order gradients of Σ <grad, R> (None where a library gives none), or the error torch raises)."""
    env = {"m": m, "F": m.nn.functional, "DT": m.float64}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(src, env)  # noqa: S102 - test sources written in this file
    out = env["out"]
    leaves = [v for k, v in env.items() if isinstance(v, m.Tensor) and v.requires_grad and v.is_leaf]
    up = m.tensor(np.linspace(-1.0, 1.5, out.numel()).reshape(tuple(out.shape)), dtype=out.dtype)
    grads = m.autograd.grad(out, leaves, up, create_graph=True, allow_unused=True)
    rg = [None if g is None else g.requires_grad for g in grads]
    terms = [(g * m.tensor(np.linspace(0.5, -2.0, g.numel()).reshape(tuple(g.shape)), dtype=g.dtype)).sum()
             for g in grads if g is not None and g.requires_grad]
    if not terms:
        return rg, None
    try:
        second = m.autograd.grad(sum(terms[1:], terms[0]), leaves, allow_unused=True)
    except (RuntimeError, NotImplementedError) as e:
        return rg, f"raises: {e}"
    return rg, [None if g is None else g.detach().numpy().copy() for g in second]


ONE_NODE = ["F.hardshrink(x)", "F.softshrink(x, 0.5)", "F.threshold(x, 0.5, -1.0)", "F.relu6(x * 4)", "F.adaptive_max_pool2d(x.reshape(1, 2, 3), (1, 2))",
            "F.adaptive_max_pool1d(x.reshape(2, 3), 2)", "F.adaptive_max_pool2d(x.reshape(2, 3, 1), (None, 1))",
            "F.threshold(x * 1.0, 0.5, -1.0, inplace=True)", "F.relu6(x * 4, inplace=True)"]
GRIDS = ["g", "g.detach()"]


@pytest.mark.parametrize("code", ONE_NODE + [
    f"F.grid_sample({x}, {g} / 3, mode={mode!r}, align_corners=False)"
    for x, g, mode in itertools.product(["x.reshape(1, 1, 2, 3)", "x.reshape(1, 1, 2, 3).detach()",
                                         "m.ceil(x).reshape(1, 1, 2, 3)"], GRIDS,
                                        ["bilinear", "nearest"]) if not (x.endswith("detach()") and g == "g.detach()")])
def test_create_graph_gradient_requires_grad_as_torch(torch, code):
    """Seeds 800064, 800070, 800175: hardshrink, softshrink, threshold, relu6, adaptive max
    pooling and grid_sample are one node in PyTorch whose backward reads the input (and the grid), so their
    first-order gradients require grad under create_graph; the second-order gradient is then 0 where
    PyTorch's is, and None where PyTorch's is None (grid sampling's input). Seed 734391: nearest sampling's
    grid gradient has no second derivative; the input's has a zero one by the grid (the ceil() input sends
    the input's gradient nowhere, so only the grid's reaches the sum)."""
    src = (f"x = m.tensor([1.26, -0.3, 0.7, -2.0, 0.2, 1.9], dtype=DT, requires_grad=True)\n"
           f"g = m.tensor([[[[0.3, -1.2], [1.3, 0.1]]]], dtype=DT, requires_grad=True)\nout = {code}")
    (want_rg, want), (got_rg, got) = second_order(torch, src), second_order(cr, src)
    assert got_rg == want_rg, f"{code}: requires_grad chainrule {got_rg}, torch {want_rg}"
    assert (got is None) == (want is None), f"{code}: second order chainrule {got}, torch {want}"
    for g, w in zip(got or [], want or []):
        assert (g is None) == (w is None), f"{code}: second order chainrule {got}, torch {want}"
        if w is not None:
            np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12, err_msg=code)


def test_adaptive_max_pool_output_size_none(torch):
    """None keeps a size only inside a pair; a bare None raises TypeError, as PyTorch's."""
    for size in ["None", "(None, 2)", "(1, None)", "(None, None)"]:
        same_as_torch(torch, f"x = {leaf((2, 3, 4))}\nout = F.adaptive_max_pool2d(x, {size})")


def test_one_node_shows_pytorchs_name(torch):
    x = cr.tensor([1.0, -0.2], requires_grad=True)
    F = cr.nn.functional
    assert F.hardshrink(x).grad_fn.name() == "HardshrinkBackward0"
    assert F.threshold(x, 0.0, 1.0).grad_fn.name() == "ThresholdBackward0"
    assert F.relu6(x).grad_fn.name() == torch.nn.functional.relu6(torch.ones(1, requires_grad=True)).grad_fn.name()


@pytest.mark.parametrize("code", ["F.threshold(x * 1.0, 0.5, -1.0, inplace=True)", "F.threshold_(x * 1.0, 0.5, 2.0)",
                                  "F.hardsigmoid(x * 3, inplace=True)", "F.relu6(x * 4, inplace=True)",
                                  "F.hardswish(x * 3, inplace=True)", "F.mish(x * 1.0, True)",
                                  "F.selu(x * 1.0, inplace=True)", "F.celu(x * 1.0, 2.0, True)"])
def test_inplace_activation_backward(torch, code):
    """An activation written into its input (inplace=True) differentiates as PyTorch's, which keeps the
    original for its backward: it must not raise that a saved tensor was modified in place. On a leaf that
    requires grad both raise at once."""
    # (hardsigmoid: torch's backward multiplies by 1/6 in float32, hence float32's tolerance for it)
    note = "  # float32 slope in torch" if "hardsigmoid" in code else ""
    same_as_torch(torch, f"x = {leaf((2, 3))}\nout = {code}{note}")
    on_leaf = code.replace("x * 1.0", "x").replace("x * 3", "x").replace("x * 4", "x")
    same_as_torch(torch, f"x = {leaf((2, 3))}\nout = {on_leaf}")


# --- multi_margin_loss of one sample -------------------------------------------------------------------
@pytest.mark.parametrize("target", ["m.tensor([2])", "m.tensor(1)"])
def test_multi_margin_loss_of_one_sample_has_the_targets_shape(torch, target):
    """Seed 800196: a 1-D input with reduction='none' gives a result of the target's shape ((1,) or ())."""
    for extra in ["", ", p=2", ", margin=0.5, reduction='none'", ", reduction='none'", ", reduction='sum'"]:
        same_as_torch(torch, f"x = {leaf((3,))}\nout = F.multi_margin_loss(x, {target}{extra})")


# --- cosine_similarity of 0-d inputs -------------------------------------------------------------------
@pytest.mark.parametrize("a, b", [((), ()), ((), (1,)), ((1,), ()), ((3,), ()), ((), (3,)), ((2, 3), ()), ((0,), ()),
                                  ((0,), (1,)), ((2, 0), ()), ((2, 0), (1, 1)), ((0, 3), (3,)), ((1, 0), (2, 1))])
def test_cosine_similarity_with_0d_and_empty_inputs(torch, a, b):
    """Seed 20261134: 0-d tensors broadcast (to a 0-d shape) and a size 0 broadcasts against 1 to 0; no
    expand error."""
    for dim in (0, -1):
        same_as_torch(torch, f"x = {leaf(a)}\ny = {leaf(b)}\nout = F.cosine_similarity(x, y, dim={dim})")


# --- group_norm's weight gradient under create_graph ------------------------------------------------------
@pytest.mark.parametrize("grads", list(itertools.product([False, True], repeat=3)))
def test_group_norm_create_graph_requires_grad_as_torch(torch, grads):
    """Seed 800345: PyTorch's group norm is one node reading the weight, so the weight's gradient requires
    grad under create_graph even when the input does not (its second derivative is None)."""
    x, w, b = (leaf(s, grad=gr) for s, gr in zip([(2, 4, 3), (4,), (4,)], grads))
    src = f"x = {x}\nw = {w}\nb = {b}\nout = F.group_norm(x, 2, w, b)"
    if not any(grads):
        return
    (want_rg, want), (got_rg, got) = second_order(torch, src), second_order(cr, src)
    assert got_rg == want_rg
    assert (got is None) == (want is None)
    for g, w_ in zip(got or [], want or []):
        assert (g is None) == (w_ is None)
        if w_ is not None:
            np.testing.assert_allclose(g, w_, rtol=1e-9, atol=1e-12)


# --- the shuffles return a new tensor ---------------------------------------------------------------------
@pytest.mark.parametrize("code", ["F.pixel_shuffle(x, 1)", "F.pixel_unshuffle(x, 1)", "F.channel_shuffle(x, 1)",
                                  "F.channel_shuffle(x.reshape(2, 2, 2, 1), 2)", "F.pixel_shuffle(x.reshape(2, 4, 1, 1), 2)"])
def test_shuffles_are_not_views(torch, code):
    """Seed 800307: pixel/channel shuffles give a new tensor, never a view of their input (an in-place
    change of the result of a leaf works, and leaves the leaf alone)."""
    same_as_torch(torch, f"x = {leaf((2, 1, 2, 2))}\ny = {code}\ny.mul_(2.0)\nout = y * 1.0")


# --- soft_margin_loss at y·x = 0 -------------------------------------------------------------------------
def test_soft_margin_loss_slope_at_zero(torch):
    """Seed 800504: log(1 + e^(-y·x)) has the slope -y/2 at x = 0 (±0.0 included), and its second
    derivative 1/4 there; a piecewise max(z, 0) + log1p(e^(-|z|)) gave -y instead."""
    x = "m.tensor([[0.0, -0.0, 0.5], [-2.0, 30.0, -0.0]], dtype=DT, requires_grad=True)"
    t = "m.tensor([[-1.0, 1.0, 1.0], [1.0, -1.0, -1.0]], dtype=DT)"
    for red in ("none", "sum", "mean"):
        src = f"x = {x}\nt = {t}\nout = F.soft_margin_loss(x, t, reduction={red!r})"
        same_as_torch(torch, src)
        (want_rg, want), (got_rg, got) = second_order(torch, src), second_order(cr, src)
        assert got_rg == want_rg
        np.testing.assert_allclose(got[0], want[0], rtol=1e-12, atol=1e-14)


def test_group_and_instance_norm_with_a_bias_only_are_differentiable():
    """torch 2.13 cannot differentiate these (group_norm: 'tensor does not have a device'; instance_norm's
    double backward: 'Expected a proper Tensor but got None'), so the fuzzer steers around them
    (KNOWN_OPEN); chainrule's gradients are checked against central differences instead."""
    x = cr.tensor([[[0.3, -1.2, 0.5], [1.1, 0.2, -0.7]], [[-0.4, 0.9, 1.3], [0.6, -1.5, 0.1]]],
                  dtype=cr.float64, requires_grad=True)
    b = cr.tensor([0.25, -0.5], dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(lambda x, b: cr.nn.functional.group_norm(x, 1, None, b), (x, b))
    assert cr.autograd.gradgradcheck(lambda x, b: cr.nn.functional.instance_norm(x, bias=b), (x, b))


@pytest.mark.parametrize("then", ["", "w.masked_fill_(w > 0, 0.0)", "x.mul_(2)", "t.add_(0)"])
def test_multi_margin_loss_saves_input_target_and_weight(torch, then):
    """PyTorch's MultiMarginLossBackward0 saves input, target and weight: changing one in place afterwards
    makes backward raise (fuzz seed 731430)."""
    seen = []
    for m in (torch, cr):
        x0 = m.tensor([[0.45, 0.2], [0.47, 0.9], [0.23, -0.1]], dtype=m.float64, requires_grad=True)
        x, w, t = x0 * 1, m.tensor([1.07, 0.5], dtype=m.float64), m.tensor([0, 1, 0])
        y = m.nn.functional.multi_margin_loss(x, t, margin=0.5, weight=w, reduction="sum")
        exec(then, {"x": x, "w": w, "t": t})  # noqa: S102 - the parametrized line above
        try:
            y.backward()
            seen.append((y.grad_fn.name(), np.round(x0.grad.numpy(), 12).tolist()))
        except RuntimeError as e:
            seen.append("modified by an inplace operation" in str(e))
    assert seen[1] == seen[0]

"""Classes of differences from PyTorch found by the campaigns of session 7 (issue 8), continued from
tests/test_fuzz_classes_late.py: std over equal values, retain_grad and in-place ops, views of the same shape,
layouts of results, promotion and in-place changes. Each runs the same source in both libraries (``m`` is
torch or chainrule) over the family of inputs its class covers.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from test_fuzz_classes_nn import same_as_torch

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")


@pytest.mark.parametrize("value", [0.84, 0.1, 1e10 + 0.3, -7.3])
@pytest.mark.parametrize("n", [2, 5, 7])
def test_std_of_equal_values_is_exactly_0_with_a_masked_gradient(value, n):
    """Seed 833269: std over a conv's padding (all equal to the bias) was rounding noise (Σx/n ≠ x: 1e-17), so
    its gradient (x − mean)/(n·std) was O(1/n), where torch's kernel gave exactly 0 and masked it (std_backward's
    result == 0 rule). The mean is now taken of x shifted by one of its values: equal values give exactly 0."""
    import chainrule as cr
    x = cr.full((n, 3), value, dtype=cr.float64, requires_grad=True)
    s = x.std(0)
    s.sum().backward()
    assert s.tolist() == [0.0] * 3 and x.grad.abs().max().item() == 0.0
    assert x.var(0, correction=0).tolist() == [0.0] * 3


def test_std_over_a_convolutions_padding_as_torch(torch):
    """The campaign's program: the bias's gradient through std over padded rows is 0 (a shift of every value)."""
    src = ("x = m.tensor([[[-0.34, 0.15, -1.2]]], dtype=DT, requires_grad=True)\n"
           "w = m.tensor([[[[-0.93, 1.76]]], [[[-0.78, 0.04]]]], dtype=DT, requires_grad=True)\n"
           "b = m.tensor([0.54, 0.84], dtype=DT, requires_grad=True)\n"
           "y = F.conv2d(x, w, b, padding=2)\n"
           "out = m.stack([y, y, y], 2).std(1, correction=0)")
    got = same_as_torch(torch, src)
    assert abs(got["grads"]["b"][1]).max() < 1e-12


@pytest.mark.parametrize("change", ["y.pow_(2)", "y.mul_(5)", "y[:1].mul_(5)", "y.add_(y)", "y.copy_(y * 3)",
                                    "y.sigmoid_()", "y[0] = 7.0"])
def test_retain_grad_moves_with_an_in_place_change_as_torch(torch, change):
    """Seed 834221: after ``y.retain_grad()`` and an in-place op on y, torch's y.grad is the gradient with
    respect to y's new value (retain_grad moves to the new node; hooks registered before stay with the old
    value). chainrule kept the gradient of the old value."""
    import chainrule as cr

    def run(m):
        x = m.tensor([2.0, 3.0], dtype=m.float64, requires_grad=True)
        y = x * 1
        seen = []
        y.register_hook(lambda g: seen.append(g.tolist()))
        y.retain_grad()
        exec(change, {"y": y})  # noqa: S102 - the changes written above
        (y * m.tensor([1.0, 10.0], dtype=m.float64)).sum().backward()
        return y.grad.tolist(), y.retains_grad, x.grad.tolist(), seen
    got, want = run(cr), run(torch)
    assert got[:2] == want[:2]
    np.testing.assert_allclose(got[2], want[2], rtol=1e-12)
    np.testing.assert_allclose(np.array(got[3]), np.array(want[3]), rtol=1e-12)


@pytest.mark.parametrize("index", ["x[::-1]", "x[:, ::-2]", "x[::0]", "x[::2]", "x[1:0:1]", "x[..., ::-1]"])
def test_negative_slice_steps_are_refused_as_torch(torch, index):
    """Found by a probe: NumPy reverses with a negative step, torch refuses it (ValueError; flip() reverses)."""
    import chainrule as cr

    def run(m):
        x = m.arange(6.0).reshape(2, 3)
        try:
            return eval(index, {"x": x}).tolist()     # the indexing written above
        except ValueError:
            return "ValueError"
    assert run(cr) == run(torch)


@pytest.mark.parametrize("shape", [(2, 0, 2, 1), (0, 1, 2, 2), (1, 1, 2, 2), (2, 1, 0, 2)])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_of_an_empty_input_checks_no_dtype_as_torch(torch, shape, mode):
    """Seed 853051: grid_sample of an input with no channels (or no batch) and a grid of another dtype runs in
    torch (output in the input's dtype, each gradient in its operand's); empty spatial dims raise first."""
    for xd, gd in itertools.product(["float32", "float64"], repeat=2):
        same_as_torch(torch, f"x = m.zeros({shape}, dtype=m.{xd}, requires_grad=True)\n"
                             f"g = m.zeros(({shape[0]}, 2, 2, 2), dtype=m.{gd}, requires_grad=True)\n"
                             f"out = F.grid_sample(x, g, mode={mode!r}, align_corners=True)")


@pytest.mark.parametrize("op", ["*", "+", "/", "-", "m.maximum", "m.atan2"])
def test_promoted_operand_changed_in_place_makes_backward_raise_as_torch(torch, op):
    """Seed 852550: ``x64 * y32`` saves y32 itself in torch (promotion happens inside its kernel), so changing
    y32 in place afterwards makes backward raise; chainrule saved the promoted copy and did not notice."""
    import chainrule as cr

    def run(m):
        x = m.tensor([0.67, 0.93], dtype=m.float64, requires_grad=True)
        y = m.tensor([1.5, 2.5], dtype=m.float32)
        z = eval(f"{op}(x, y)" if op.startswith("m.") else f"x {op} y", {"m": m, "x": x, "y": y})
        y.zero_()
        try:
            z.sum().backward()
        except RuntimeError:
            return "raises"
        return "runs"
    assert run(cr) == run(torch)


@pytest.mark.parametrize(("fn", "xs", "ws", "dilation"), [
    ("conv2d", (1, 2, 3, 4), (3, 2, 2, 2), 1), ("conv2d", (1, 2, 3, 4), (3, 2, 2, 3), 1), ("conv1d", (1, 2, 5), (3, 2, 2), 1),
    ("conv1d", (1, 2, 5), (3, 2, 4), 1), ("conv2d", (2, 3, 4), (1, 2, 2, 2), 1), ("conv1d", (1, 2, 5), (3, 2, 3), 2)])
def test_conv_same_padding_saves_a_padded_copy_as_torch(torch, fn, xs, ws, dilation):
    """Campaign seed 872642: with padding='same' and an even kernel, torch pads a copy of the input for the
    extra element and convolves that copy, so changing the input in place afterwards does not make backward
    raise (with an odd kernel it does, in both)."""
    import chainrule as cr

    def run(m):
        x0 = m.arange(float(np.prod(xs)), dtype=m.float64).reshape(xs).requires_grad_()
        x = x0 * 1
        w = m.linspace(-1, 1, int(np.prod(ws)), dtype=m.float64).reshape(ws).requires_grad_()
        y = getattr(m.nn.functional, fn)(x, w, padding="same", dilation=dilation)
        x.mul_(2)
        try:
            (y * y).sum().backward()
        except RuntimeError:
            return "raises"
        return x0.grad.numpy(), w.grad.numpy()
    got, want = run(cr), run(torch)
    assert (got == "raises") == (want == "raises")
    if want != "raises":
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-12)


@pytest.mark.parametrize("view", ["x[..., :1]", "x[0]", "x.transpose(0, 1)", "m.nn.functional.avg_pool1d(x, 1, stride=2)"])
@pytest.mark.parametrize("other", ["m.ones(1, 2, 2, 1, dtype=m.float64)", "m.ones(2, 2, 3, dtype=m.float64)"])
def test_in_place_through_a_view_cannot_broadcast_it_larger_as_torch(torch, view, other):
    """Campaign seed 874367: an in-place op through a view whose other operand broadcasts to a larger shape
    raises at once in torch; chainrule wrote it and only failed at backward."""
    import chainrule as cr

    def run(m):
        x = m.ones(2, 2, 2, dtype=m.float64, requires_grad=True) * 1
        v = eval(view, {"m": m, "x": x})        # the views written above
        try:
            v.add_(eval(other, {"m": m}))
        except (RuntimeError, ValueError):     # (shapes that do not broadcast at all: chainrule's ValueError)
            return "raises", x.tolist()
        return tuple(v.shape), x.tolist()
    assert run(cr) == run(torch)


@pytest.mark.parametrize("code", ["y.transpose(-1, -1)", "y.reshape(y.shape)", "y.expand_as(y)", "y.broadcast_to(y.shape)",
                                  "y.swapaxes(0, 0)", "y.flatten()", "y.view(y.shape)", "m.broadcast_tensors(y, y)[0]"])
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (0,)])
def test_a_view_of_the_same_shape_is_a_new_tensor_or_self_as_torch(torch, code, shape):
    """Campaign seed 874732: ``y.transpose(-1, -1)`` was y itself in chainrule (a new view in torch), so
    retain_grad on it retained y's gradient. Which of these give a new view and which self is torch's."""
    import chainrule as cr

    def run(m):
        x = m.ones(shape, dtype=m.float64, requires_grad=True)
        y = x * 2
        try:
            v = eval(code, {"m": m, "y": y})         # the expressions written above
        except (RuntimeError, IndexError):
            return "raises"
        v.retain_grad()
        (y * 3).sum().backward()
        return v is y, v._base is not None, v.grad is None
    assert run(cr) == run(torch)


@pytest.mark.parametrize("code", ["x.softmax(1)", "x.log_softmax(1)", "x.sum(1)", "x.cumsum(1)", "x.logsumexp(1)",
                                  "x.masked_fill(x > 5, 0.0)", "x.cumprod(1)", "x.mean(1)", "x.amax(1)", "x.var(1)",
                                  "x.std(1)", "x.prod(1)", "x.norm(dim=1)", "x.max(1)[0]", "x * 2", "x.exp()"])
def test_layout_of_results_of_a_permuted_input_as_torch(torch, code):
    """Campaign seed 883233: torch's softmax (and its reductions, cumulative ops, masked_fill) of a permuted
    input are contiguous, so ``.view`` works on them; elementwise ops keep the permuted layout in both."""
    import chainrule as cr

    def run(m):
        x = m.arange(36.0).reshape(4, 3, 3).permute(1, 2, 0)
        return eval(code, {"m": m, "x": x}).is_contiguous()     # the expressions written above
    assert run(cr) == run(torch)


@pytest.mark.parametrize("ids", ["m.zeros((0, 1), dtype=m.int64)", "m.tensor([[0, 3], [2, 2]])",
                                 "m.tensor([1, 0, 3])"])
@pytest.mark.parametrize("w_grad", [False, True])
@pytest.mark.parametrize("change", ["", "w.mul_(2)", "p.mul_(2)"])
def test_embedding_bag_per_sample_weights_saves_weight_as_torch(torch, ids, w_grad, change):
    """Seed 890349: with per_sample_weights that require grad, torch's embedding_bag saves the weight (p's
    gradient reads the looked-up rows), so changing it in place afterwards makes backward raise, empty input
    included. chainrule multiplied a copy of the rows and did not raise."""
    offsets = ", m.tensor([0, 2])" if ids.endswith("3])") else ""
    shape = "(3,)" if offsets else "(0, 1)" if "zeros" in ids else "(2, 2)"
    src = (f"w = m.tensor(np.arange(12.0).reshape(4, 3) - 5, dtype=DT, requires_grad={w_grad})\n"
           f"p = (m.arange(1.0, 1 + np.prod({shape}), dtype=DT).reshape({shape}) / 4).requires_grad_()\n"
           f"out = F.embedding_bag({ids}, w{offsets}, mode='sum', per_sample_weights=p * 1)\n"
           f"with m.no_grad():\n    {change or 'pass'}\n")
    same_as_torch(torch, src.replace("np.", "__import__('numpy')."))


def test_embedding_bag_per_sample_weights_dtype_and_second_order(torch):
    """per_sample_weights of another dtype than the weight raise in both; the second order (which torch 2.13
    does not implement) matches central differences."""
    import chainrule as cr
    same_as_torch(torch, "out = F.embedding_bag(m.tensor([[0, 1]]), m.ones(3, 2, dtype=DT), mode='sum', "
                         "per_sample_weights=m.ones(1, 2))", op="embedding_bag")
    w = cr.tensor(np.arange(8.0).reshape(4, 2) / 3, dtype=cr.float64, requires_grad=True)
    p = cr.tensor([[0.5, -1.5, 2.0]], dtype=cr.float64, requires_grad=True)
    ids = cr.tensor([[0, 3, 0]])
    assert cr.autograd.gradgradcheck(
        lambda w, p: cr.nn.functional.embedding_bag(ids, w, mode="sum", per_sample_weights=p) ** 2, (w, p))


@pytest.mark.parametrize("view", ["p", "m.broadcast_to(p, (3,))", "p.view(1)", "p[:1]", "p[:1].expand(2)",
                                  "p.unsqueeze(0).t()"])
@pytest.mark.parametrize("change", ["x.detach().sigmoid_()", "x.detach()[0].zero_()", "x.mul_(2)"])
@pytest.mark.parametrize("record", [True, False])
def test_a_view_of_a_piece_of_unbind_after_its_base_changed_as_torch(torch, view, change, record):
    """Seed 890684: a view of a piece of unbind/split (its own node has one output) may not be used once the
    base changed in place, even through detach() or under no_grad: torch raises when it is used. chainrule
    checked only the pieces themselves."""
    base = "x = l * 1" if record else "x = l"
    src = (f"l = m.tensor([[0.58], [-0.48]], dtype=DT, requires_grad=True)\n{base}\n"
           f"p = x.unbind(0)[0]\ny = {view}\n"
           f"with m.no_grad():\n    {change}\n"
           f"out = y * 2")
    if not record and change == "x.mul_(2)":
        return       # changing the leaf under no_grad: covered by the detach() rows
    same_as_torch(torch, src)


@pytest.mark.parametrize("change", ["v.fill_(0.5)", "v.zero_()", "v[:, :1].fill_(2.0)", "v.masked_fill_(v > 0, 0.0)",
                                    "v.masked_fill_(m.tensor([True, False, False, True]), m.tensor(2.0, dtype=DT))",
                                    "v.index_fill_(1, m.tensor([2]), -1.0)", "v[v > 0] = 7.0",
                                    "v[m.tensor([0, 2])] = m.ones(2, 4, dtype=DT)", "v[:, m.tensor([1])] = 3.0",
                                    "v[0] = 1.0", "v.fill_(m.tensor(1.0, dtype=DT))", "v.mul_(2)", "v.copy_(v)",
                                    "v.copy_(v.clone())", "v.copy_(y)"])
@pytest.mark.parametrize("loss", ["y", "y * v.sum()", "l * 2", "v"])
@pytest.mark.parametrize("record", [True, False])
def test_fill_through_an_expanded_view_as_torch(torch, change, loss, record):
    """Seeds 892225 and 900271: fill_/zero_/masked_fill_/index_fill_ and index puts through an expand()ed view
    (its elements repeat) are written, as in torch (and copy_ of the view into itself, seed 920746); while the graph is recorded, a backward pass that reaches
    that change raises (torch's CopySlices cannot differentiate it) and one that does not reach it runs.
    chainrule refused the change itself. A basic-index setitem, a tensor's value in fill_ and arithmetic
    raise in both at once."""
    src = (f"l = m.tensor([[0.2], [0.36], [-1.5]], dtype=DT, requires_grad={record})\ny = 3 - l\n"
           f"v = y.expand(3, 4)\n{change}\nout = {loss}")
    same_as_torch(torch, src)


@pytest.mark.parametrize("fill", ["normal_()", "uniform_()", "bernoulli_()", "exponential_()", "random_(3)",
                                  "fill_(m.tensor(2.0))", "fill_(2.0)", "zero_()"])
@pytest.mark.parametrize("expand", ["(2, 3)", "(2, 1)"])
def test_fills_of_an_expanded_view_as_torch(torch, fill, expand):
    """Random fills of an expand()ed view that repeats elements raise torch's error (a raw NumPy 'read-only'
    error escaped); one that repeats nothing is written through its base (the same values as torch's)."""
    src = f"m.manual_seed(3)\na = m.zeros(2, 1, dtype=DT)\nv = a.expand{expand}\nv.{fill}\nout = a * 1"
    same_as_torch(torch, src)


@pytest.mark.parametrize("threads", [1, 2])
def test_conv_string_padding_checks_the_bias_dtype_where_torch_does(torch, threads):
    """Seed 891828: with string padding, torch's native convolution adds a bias of any dtype, but its oneDNN path
    (chosen for float32 by ``use_mkldnn``: batch > 1, groups > 1, kernels above 3×3, large inputs, and not for
    1×1 kernels on one thread) refuses one of another dtype. chainrule accepted any bias with string padding."""
    import chainrule as cr
    before = (torch.get_num_threads(), cr.backend.intra_op_threads())
    torch.set_num_threads(threads)
    cr.set_num_threads(threads)
    try:
        for nd, k, groups, n, stride, dilation, dt in itertools.product(
                [1, 2], [1, 2, 4], [1, 2], [0, 1, 2], [1, 2], [1, 2], ["float32", "float64"]):
            padding = "'same'" if stride == 1 else "'valid'"
            src = (f"x = m.ones((n, 2) + (7,) * {nd}, dtype=m.{dt})\nw = m.ones((2, 2 // {groups}) + ({k},) * {nd}, "
                   f"dtype=m.{dt})\nb = m.ones(2, dtype=m.{'float32' if dt == 'float64' else 'float64'})\n"
                   f"out = F.conv{nd}d(x, w, b, padding={padding}, groups={groups}, stride={stride}, "
                   f"dilation={dilation})").replace("(n,", f"({n},")
            same_as_torch(torch, src)
    finally:
        torch.set_num_threads(before[0])
        cr.set_num_threads(before[1])


@pytest.mark.parametrize("code", ["F.avg_pool2d(x, 2)", "F.avg_pool2d(x, 1)", "F.avg_pool2d(x, 2, padding=1)",
                                  "F.avg_pool1d(x[0], 2)", "F.max_pool2d(x, 2)", "F.lp_pool2d(x, 2, 2)"])
def test_pooling_of_a_broadcast_input_is_contiguous_as_torch(torch, code):
    """Discovery seed 900438: avg_pool2d of a broadcast_to()ed input kept NumPy's order of the broadcast strides,
    so ``.view`` of the result failed where torch's (contiguous) result views."""
    import chainrule as cr

    def run(m):
        x = m.broadcast_to(m.tensor([[[-1.31, 1.25, 1.85, -0.08]]], dtype=m.float64), (1, 2, 2, 4))
        y = eval(code, {"m": m, "x": x, "F": m.nn.functional})      # the expressions written above
        return tuple(y.stride()), y.is_contiguous()
    assert run(cr) == run(torch)


@pytest.mark.parametrize("make", ["w", "w * 2"])
@pytest.mark.parametrize("use", ["out = v * 3", "out = v.view(-1) ** 2", "v.mul_(2)\nout = v", "v.fill_(1.0)\nout = v",
                                 "v.normal_()\nout = v", "out = v.detach() + w",
                                 "v.register_hook(lambda g: g * 0)\nout = (v * w[:2]).sum()"])
def test_a_view_made_under_no_grad_as_torch(torch, make, use):
    """A view of a tensor that requires grad, made under no_grad: in torch it requires grad and is a leaf, but ops
    on it record an edge to nothing (its gradient goes nowhere) and changing it in place with grad enabled raises.
    chainrule's did not require grad, so ``backward`` raised where torch's ran."""
    src = (f"w = m.tensor([1.0, 2.0, 3.0], dtype=DT, requires_grad=True)\nb = {make}\n"
           f"with m.no_grad():\n    v = b[:2]\n{use}")
    got = same_as_torch(torch, src)
    import chainrule as cr
    env = {"m": cr, "F": cr.nn.functional, "DT": cr.float64}
    exec(src.split("\n", 1)[0] + f"\nb = {make}\nwith m.no_grad():\n    v = b[:2]", env)  # noqa: S102
    assert (env["v"].requires_grad, env["v"].is_leaf, env["v"].grad_fn) == (True, True, None)
    assert "error" in got or got["requires_grad"] or "detach" in use


@pytest.mark.parametrize("p", [1, 2, float("inf"), -float("inf")])
@pytest.mark.parametrize("fn, x", [("lp_pool2d", [[[[1.0, -2.0, 0.5], [3.0, -4.0, 0.1]]]]),
                                   ("lp_pool1d", [[1.0, -2.0, 0.75, -0.5]])])
def test_lp_pool_as_torch_and_linear_for_p_1(torch, p, fn, x):
    """Discovery seed 903351: for p = 1, lp_pool is k·(window mean), linear, but PyTorch's formula
    sign(out)·relu(|out|) has a zero derivative where a window sums to exactly 0. torch's vectorised sinh
    rounded such a sum to -1e-17 (gradient k), chainrule's was exactly 0 (gradient 0); chainrule now takes the
    linear function's derivative everywhere. p = ±inf is the max (min) of |x|, as in torch (it raised)."""
    src = f"x = m.tensor({x!r}, dtype=DT, requires_grad=True)\nout = F.{fn}(x, {p!r}, 2, stride=1)"
    same_as_torch(torch, src.replace("inf", "float('inf')"))
    import chainrule as cr
    t = cr.tensor([[0.5, -0.5, 2.0]], dtype=cr.float64, requires_grad=True)     # a window summing to exactly 0
    (g,) = cr.autograd.grad(cr.nn.functional.lp_pool1d(t, 1, 2, stride=1).sum(), t)
    assert g.tolist() == [[1.0, 2.0, 1.0]]      # d/dx of Σ windows of x (torch 2.13: [[1.0, 1.0, 1.0]])


@pytest.mark.parametrize("use", [False, True])
@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("float64", "float32")])
@pytest.mark.parametrize("affine", [False, True])
def test_instance_norm_takes_running_stats_of_another_dtype_as_torch(torch, use, dtypes, affine):
    """Campaign seed 911754: torch's instance_norm takes running statistics of any float dtype (it works on
    repeated copies and casts back when it updates them); chainrule's batch_norm refused them. A weight of
    another dtype is still refused, as in torch."""
    x, stats = dtypes
    w = f", weight=m.ones(2, dtype=m.{x}), bias=m.zeros(2, dtype=m.{x})" if affine else ""
    src = (f"x = m.tensor([[[0.3, 1.0, -2.0], [1.5, 0.5, 0.0]], [[0.5, 0.25, 4.0], [2.0, -1.0, 1.0]]], dtype=m.{x})\n"
           f"rm = m.tensor([0.8774, -0.5], dtype=m.{stats})\nrv = m.tensor([1.9532, 0.5], dtype=m.{stats})\n"
           f"y = F.instance_norm(x, rm, rv, use_input_stats={use}{w})\nout = m.cat([y.flatten(), rm.to(y.dtype), "
           f"rv.to(y.dtype)])")
    same_as_torch(torch, src)
    bad = src.replace(f"weight=m.ones(2, dtype=m.{x})", f"weight=m.ones(2, dtype=m.{stats})")
    if affine:
        same_as_torch(torch, bad)


def test_copy_into_an_expanded_view_that_repeats_nothing_as_torch(torch):
    """copy_ into an expand()ed view of the same size (read-only in NumPy, but no element repeats) writes through
    its base, as in torch; chainrule said the source could not be broadcast."""
    same_as_torch(torch, "a = m.zeros(2, 3, dtype=DT)\nv = a[:, :1].expand(2, 1)\nv.copy_(m.tensor([[5.0], [6.0]], "
                         "dtype=DT))\nout = a * 1")

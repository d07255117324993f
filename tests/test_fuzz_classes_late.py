"""Classes of differences from PyTorch found by the last fuzz campaigns (issue 8), each tested as a class:
the same source runs in both libraries (``m`` is torch or chainrule) and must end the same way, over the
family of inputs the class covers.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from test_fuzz_classes_nn import same_as_torch

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")


# --- convolutions of an empty input compute nothing, and PyTorch checks fewer dtypes there ---------------
_CONV = [("conv1d", (0, 2, 3), (1, 2, 2)), ("conv2d", (0, 2, 3, 3), (1, 2, 2, 2)),
         ("conv2d", (2, 0, 3, 3), (1, 0, 2, 2)), ("conv1d", (0, 3), (1, 0, 2)), ("conv1d", (1, 2, 3), (1, 2, 2))]


@pytest.mark.parametrize(("fn", "xs", "ws"), _CONV)
@pytest.mark.parametrize("padding", [0, "'valid'"])
def test_conv_of_an_empty_input_with_other_dtypes_as_torch(torch, fn, xs, ws, padding):
    """Seed 811094: conv2d of an empty float32 batch with a float64 weight and bias runs in torch. The weight's
    dtype is not checked there, nor the bias's with string padding; the output has the input's dtype (with a
    batch but no channels, the promoted one), and each gradient its operand's. A non-empty input still raises."""
    for xd, wd, bd in itertools.product(["float32", "float64"], ["float32", "float64"], [None, "float32", "float64"]):
        bias = "" if bd is None else f", m.ones({ws[0]}, dtype=m.{bd}, requires_grad=True)"
        same_as_torch(torch, f"x = m.zeros({xs}, dtype=m.{xd}, requires_grad=True)\n"
                             f"w = m.ones({ws}, dtype=m.{wd}, requires_grad=True)\n"
                             f"out = F.{fn}(x, w{bias}, padding={padding})")


@pytest.mark.parametrize("fn", ["conv_transpose1d", "conv_transpose2d"])
def test_conv_transpose_of_an_empty_batch_checks_no_dtypes_as_torch(torch, fn):
    """An empty batch: torch's transposed convolution checks no dtypes and returns the input's."""
    nd = int(fn[-2])
    for xd, wd, bd in itertools.product(["float32", "float64"], ["float32", "float64"], [None, "float32", "float64"]):
        bias = "" if bd is None else f", m.ones(1, dtype=m.{bd}, requires_grad=True)"
        same_as_torch(torch, f"x = m.zeros({(0, 2) + (3,) * nd}, dtype=m.{xd}, requires_grad=True)\n"
                             f"w = m.ones({(2, 1) + (2,) * nd}, dtype=m.{wd}, requires_grad=True)\n"
                             f"out = F.{fn}(x, w{bias})")


# --- an empty view changed in place: its gradient to the base has no history ----------------------------
_VIEWS = ["y.t()", "y.view(1, *y.shape)", "y[:, :0]", "y[:1]", "y.view(-1)", "y.unsqueeze(0)[0]"]


def _first_order_requires_grad(m, shape, view, use):
    x = m.ones(shape, dtype=m.float64, requires_grad=True)
    c = m.ones((), dtype=m.float64, requires_grad=True)
    y = x + 1
    v = eval(view, {"y": y})     # the view expressions written above
    v.mul_(2)
    out = {"view": (v * c).sum(), "base": (y * c).sum(), "both": (v * c).sum() + (y * c).sum()}[use]
    (g,) = m.autograd.grad(out, [x], create_graph=True)
    return g.requires_grad, tuple(g.shape)


@pytest.mark.parametrize("shape", [(2, 0), (0, 3), (2, 3)])
@pytest.mark.parametrize("view", _VIEWS)
def test_empty_view_changed_in_place_passes_no_history_to_its_base_as_torch(torch, shape, view):
    """Seed 810685: after an in-place op through a view, torch reads the view through AsStridedBackward0, whose
    gradient for an empty view is a new zero tensor: under create_graph the base's gradient from that path does
    not require grad (so a bias behind ``F.linear(...)`` with no outputs gets a first-order gradient with no
    history, and its second-order gradient is None)."""
    import chainrule as cr
    for use in ("view", "base", "both"):
        assert _first_order_requires_grad(cr, shape, view, use) == _first_order_requires_grad(torch, shape, view, use)


def test_linear_without_outputs_changed_in_place_has_no_second_order_bias_gradient(torch):
    """The campaign's program, shrunk: the bias gradient's second order is None in both libraries."""
    import chainrule as cr

    def run(m):
        x = m.ones((1, 2, 2), dtype=m.float64, requires_grad=True)
        w = m.zeros((0, 2), dtype=m.float64, requires_grad=True)
        b = m.zeros((0,), dtype=m.float64, requires_grad=True)
        y = m.nn.functional.linear(x, w, b)
        y *= 2
        z = m.zeros((1, 0, 0), dtype=m.float64, requires_grad=True)
        grads = m.autograd.grad((y @ z).sum(), [x, w, b, z], create_graph=True)
        return [g.requires_grad for g in grads]
    assert run(cr) == run(torch) == [True, True, False, True]


@pytest.mark.parametrize("args", [(0, 0, 3), (0, 3, 0), (0, -1, 1), (0, -3, 1), (1, 1, -1), (2, 0, 1), (0, 0.5, 1),
                                  (-3, 0, 1), (1, 3, 0)])
def test_narrow_raises_torchs_error_types(torch, args):
    """Found by the probe of 810685's repro: a slice past the end is a RuntimeError in torch, a start out of
    range an IndexError, a float start a TypeError; chainrule's errors name narrow and have those types."""
    import chainrule as cr

    def run(m):
        try:
            return tuple(m.ones(2, 3).narrow(*args).shape)
        except (RuntimeError, IndexError, TypeError) as e:
            return type(e).__name__
    assert run(cr) == run(torch)


@pytest.mark.parametrize("b", [0.0229, -0.5245, 0.3, 1.5168, 7.0])
def test_division_rounds_its_divisor_gradient_as_torch(torch, b):
    """Seed 814850: the cosine of two 1-element vectors is ±1, so its gradient cancels to 0 exactly in torch's
    float32, which computes a divisor's gradient as -g·((x/y)/y). chainrule computed -g·x/(y·y), which left
    rounding noise (-3.8e-6 at b = 0.0229)."""
    import chainrule as cr

    def grad(m):
        x1 = m.tensor([[1.0]], dtype=m.float32)
        x2 = m.tensor([[b]], dtype=m.float32, requires_grad=True)
        out = m.nn.functional.cosine_embedding_loss(x1, x2, m.tensor([-1.0]), reduction="sum")
        return m.autograd.grad(out, [x2])[0].numpy().tolist()
    assert grad(cr) == grad(torch)


@pytest.mark.parametrize("target", [1.0, -1.0])
@pytest.mark.parametrize("other", ["zeros", "values"])
def test_cosine_of_zero_vectors_second_order_in_float32_as_torch(torch, target, other):
    """Seed 746952: at all-zero vectors the cosine's denominator is 1e-12, and its second-order gradient in
    float32 is about 1.5e12 in torch; chainrule's was NaN while it squared the divisor (1e-24 and beyond)."""
    import chainrule as cr

    def second(m):
        a = m.zeros((2, 3), dtype=m.float32, requires_grad=True)
        b = (m.zeros((2, 3), dtype=m.float32) if other == "zeros"
             else m.tensor([[0.5, -1.0, 2.0], [1.0, 1.0, 1.0]], dtype=m.float32)).requires_grad_()
        out = m.nn.functional.cosine_embedding_loss(a, b, m.tensor([target, target]), reduction="sum")
        ga, gb = m.autograd.grad(out, [a, b], create_graph=True)
        s = (ga * m.tensor([[1.0, 2.0, 3.0], [0.5, 0.1, 0.2]])).sum() + (gb * 1.5).sum()
        return [g.numpy() for g in m.autograd.grad(s, [a, b])]
    for g, w in zip(second(cr), second(torch)):
        np.testing.assert_allclose(g, w, rtol=1e-6)


# --- which tensors an op's backward reads: changing one in place afterwards makes backward raise ------------
_SAVES = {
    "relu": "F.relu(x)", "elu": "F.elu(x)", "selu": "F.selu(x)", "gelu": "F.gelu(x)", "silu": "F.silu(x)",
    "mish": "F.mish(x)", "softplus": "F.softplus(x)", "hardswish": "F.hardswish(x)", "hardtanh": "F.hardtanh(x)",
    "logsigmoid": "F.logsigmoid(x)", "softshrink": "F.softshrink(x)", "threshold": "F.threshold(x, 0.1, 2.0)",
    "glu": "F.glu(x, 0)", "log_softmax": "F.log_softmax(x, 1)", "normalize": "F.normalize(x)",
    "layer_norm": "F.layer_norm(x, (3,))", "sigmoid": "m.sigmoid(x)", "tanh": "m.tanh(x)", "abs": "x.abs()",
    "mse_loss": "F.mse_loss(x, t)", "smooth_l1_loss": "F.smooth_l1_loss(x, t)", "huber_loss": "F.huber_loss(x, t)",
    "soft_margin_loss": "F.soft_margin_loss(x, t)", "soft_margin_loss_none": "F.soft_margin_loss(x, t, reduction='none')",
    "bce_with_logits": "F.binary_cross_entropy_with_logits(x, (t + 1) / 2)",
    "hinge_embedding_loss": "F.hinge_embedding_loss(x, t)", "poisson_nll_loss": "F.poisson_nll_loss(x, t.abs())",
    "margin_ranking_loss": "F.margin_ranking_loss(x[0], x[1], t[0])",
    "multilabel_soft_margin_loss": "F.multilabel_soft_margin_loss(x, (t + 1) / 2)",
    "cross_entropy": "F.cross_entropy(x, m.tensor([0, 2]))", "multi_margin_loss": "F.multi_margin_loss(x, m.tensor([0, 2]))",
    "cosine_similarity": "F.cosine_similarity(x, t)", "pairwise_distance": "F.pairwise_distance(x, t)",
    "logsumexp": "x.logsumexp(1)", "std": "x.std(1)", "prod": "x.prod(1)", "cumprod": "x.cumprod(1)",
    "topk": "x.topk(2, 1)[0]", "pow": "x ** 2", "div": "t / x", "clamp": "x.clamp(-0.5, 0.5)",
    "atan2": "m.atan2(x, t)", "pdist": "F.pdist(x)", "group_norm": "F.group_norm(x, 1)",
    "batch_norm": "F.batch_norm(x, None, None, training=True)", "max_pool1d": "F.max_pool1d(x.unsqueeze(0), 2)",
    "prelu": "F.prelu(x, m.tensor([0.25], dtype=m.float64))",
}


def _after_inplace(m, code, which, target_requires_grad):
    x = m.tensor([[0.3, -1.2, 0.7], [1.5, 0.2, -0.4]], dtype=m.float64, requires_grad=True) * 1
    t0 = m.tensor([[1.0, -1.0, 1.0], [-1.0, 1.0, 1.0]], dtype=m.float64, requires_grad=target_requires_grad)
    t = t0 * 1 if target_requires_grad else t0.clone()
    try:
        y = eval(code, {"m": m, "F": m.nn.functional, "x": x, "t": t})     # the sources written above
    except RuntimeError:
        return "forward"
    {"input": x, "target": t, "output": y}[which].add_(1)
    try:
        y.sum().backward()
    except RuntimeError:
        return "backward"
    return "ok"


@pytest.mark.parametrize("name", sorted(_SAVES))
def test_in_place_change_after_an_op_raises_where_torch_does(torch, name):
    """Seed 830713: torch's soft_margin_loss is one node that saves input and target, so changing either in
    place afterwards makes backward raise (and a target that requires grad raises at once). chainrule's
    composition saved neither. Every op here: changing its input, target or output in place afterwards ends as
    in torch."""
    import chainrule as cr
    for which in ("input", "target", "output"):
        for target_rg in (False, True):
            want = _after_inplace(torch, _SAVES[name], which, target_rg)
            assert _after_inplace(cr, _SAVES[name], which, target_rg) == want, (which, target_rg, want)


# --- comparisons with what is not a tensor or a number; shape errors of tril/triu -----------------------------
_OTHERS = ["'a'", "None", "[1.0, 1.0]", "(1.0, 1.0)", "object()", "1", "1.5", "True", "m.ones(1)"]


@pytest.mark.parametrize("other", _OTHERS)
@pytest.mark.parametrize("op", ["==", "!=", "<", ">=", ".eq", ".lt"])
def test_comparison_with_any_operand_ends_as_torch(torch, other, op):
    """Found by a probe: ``x == 'a'`` let a raw NumPy UFuncTypeError escape, and ``x == [1.0, 1.0]`` compared
    elementwise. In torch, == and != with what is not a tensor or a number fall back to Python's identity
    (False/True), the orderings raise TypeError, and the named methods raise TypeError."""
    import chainrule as cr

    def run(m):
        x = m.ones(2)
        code = f"x {op} {other}" if op[0] != "." else f"x{op}({other})"
        try:
            r = eval(code, {"m": m, "x": x})      # the operands written above
        except TypeError:
            return "TypeError"
        return r.tolist() if hasattr(r, "tolist") else r
    assert run(cr) == run(torch)


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 0, 3)])
def test_tril_triu_need_a_matrix_as_torch(torch, shape):
    import chainrule as cr
    for op in ("tril", "triu"):
        def run(m, op=op):
            try:
                return getattr(m.ones(shape), op)().tolist()
            except RuntimeError as e:
                return "RuntimeError" if str(e).startswith(op) or m is torch else str(e)
        assert run(cr) == run(torch)


@pytest.mark.parametrize("length", [1, 2, 3])
@pytest.mark.parametrize("kernel", [2, 3])
@pytest.mark.parametrize("padding", [0, 1])
@pytest.mark.parametrize("dilation", [1, 2, 3])
def test_max_pool_index_of_a_window_of_padding_or_minus_inf_as_torch(torch, length, kernel, padding, dilation):
    """Seed 831419: a window that holds only padding (or only -inf) has the value -inf, and torch's index is
    its first position inside the input on the dilation grid (chainrule said -1, the padding it picked)."""
    import chainrule as cr
    if padding > kernel // 2:
        pytest.skip("torch requires padding <= kernel_size / 2")
    ninf = float("-inf")
    for stride in (1, 2):
        for values in ([ninf] * length, [0.5] * length, [ninf] + [1.0] * (length - 1)):
            def run(m, values=values, stride=stride):
                x = m.tensor([values], dtype=m.float64)
                try:
                    out, index = m.nn.functional.max_pool1d(x, kernel, stride=stride, padding=padding,
                                                            dilation=dilation, return_indices=True)
                except RuntimeError:
                    return "RuntimeError"
                return out.tolist(), index.tolist()
            assert run(cr) == run(torch), (values, stride)


@pytest.mark.parametrize("shape", [(2, 3), (3, 3), (2, 3, 4), (0, 3), (3, 1)])
@pytest.mark.parametrize("offset", [-2, 0, 1, 3])
def test_diagonal_is_a_view_as_torch(torch, shape, offset):
    """Found by a probe of which ops return views: torch's diagonal is a view, so writing into it changes the
    base, and an in-place op through it is recorded on the base (chainrule returned a copy)."""
    import chainrule as cr

    def run(m):
        n = int(np.prod(shape))
        x = m.arange(float(n)).reshape(shape)
        x.diagonal(offset, 0, 1).add_(100)
        leaf = m.arange(float(n)).reshape(shape).requires_grad_()
        y = leaf * 2
        y.diagonal(offset, 0, 1).mul_(3)
        (y * m.arange(float(n)).reshape(shape)).sum().backward()
        return x.tolist(), leaf.grad.tolist()
    assert run(cr) == run(torch)


@pytest.mark.parametrize("op", ["gather", "scatter", "scatter_add"])
def test_gather_and_scatter_of_a_0d_tensor_return_new_tensors_as_torch(torch, op):
    """Seed 831161: gather of a 0-d tensor returned a view of an intermediate, so a later fill_ went through
    CopySlices and the leaf's first-order gradient required grad (torch: a constant 0)."""
    import chainrule as cr

    def run(m):
        x = m.tensor(-0.15, dtype=m.float64, requires_grad=True)
        i = m.tensor(0)
        y = {"gather": lambda: x.gather(-1, i), "scatter": lambda: x.scatter(0, i, x * 2),
             "scatter_add": lambda: x.scatter_add(0, i, x * 2)}[op]()
        y.fill_(0.5)
        w = m.tensor(-0.0, dtype=m.float64, requires_grad=True)
        grads = m.autograd.grad((y ** w).sum(), [x, w], create_graph=True)
        return [(g.tolist(), g.requires_grad) for g in grads]
    assert run(cr) == run(torch)


_SAVES_METHODS = {"erfinv": "x.erfinv()", "median": "x.median()", "take": "x.take(m.tensor([0, 4]))",
                  "nan_to_num": "x.nan_to_num()", "cdist": "m.cdist(x, t)", "median_dim": "x.median(1)[0]",
                  "kthvalue": "x.kthvalue(2)[0]", "logsumexp": "x.logsumexp(1)", "norm_inf": "x.norm(float('inf'))",
                  "cumsum": "x.cumsum(1)", "sort": "x.sort(1)[0]", "index_select": "x.index_select(1, m.tensor([0, 2]))",
                  "masked_select": "x[x > 0]", "fmod": "m.fmod(x, 0.7)", "expm1": "x.expm1()", "rsqrt": "x.exp().rsqrt()"}


@pytest.mark.parametrize("name", sorted(_SAVES_METHODS))
def test_in_place_change_after_a_method_raises_where_torch_does(torch, name):
    """A probe of what each op's backward reads: torch's erfinv saves its input (chainrule saved the result),
    median() its input and result, take its input, nan_to_num its input, cdist its inputs and result."""
    import chainrule as cr
    for which in ("input", "output"):
        want = _after_inplace(torch, _SAVES_METHODS[name], which, False)
        assert _after_inplace(cr, _SAVES_METHODS[name], which, False) == want, (which, want)

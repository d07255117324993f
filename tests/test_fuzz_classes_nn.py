"""The classes of differences from PyTorch the fuzzer found in conv, pooling, losses and matrix products
(issue 8), each tested as a class: the same source runs in both libraries (``m`` is torch or chainrule)
and must end the same way — the same forward values, dtype and shape, the same gradients, or an error
at the same stage (forward or backward) — over the whole family of inputs the class covers.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import chainrule as cr

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")
RNG = np.random.default_rng(8)


def leaf(shape, dtype="DT", grad=True) -> str:
    """Source for a leaf tensor of ``shape`` with fixed random values (the same in both libraries)."""
    if 0 in shape:
        return f"m.zeros({tuple(shape)!r}, dtype={dtype}, requires_grad={grad})"
    values = np.round(RNG.standard_normal(shape), 2).tolist()
    return f"m.tensor({values!r}, dtype={dtype}, requires_grad={grad})"


def outcome(m, src: str) -> dict:
    """Run ``src`` (it defines leaves and ``out``) in library ``m``: the stage of the first error, or the
    forward result and the gradients of every leaf that requires grad (one fixed upstream gradient)."""
    env = {"m": m, "F": m.nn.functional, "DT": m.float64}
    try:
        exec(src, env)  # noqa: S102 - test sources written in this file
    except Exception as e:  # noqa: BLE001 - the stage and type are compared with the other library's
        return {"error": "forward", "type": type(e).__name__, "message": str(e)}
    out = env["out"]
    got = {"shape": tuple(out.shape), "dtype": str(out.dtype).split(".")[-1], "requires_grad": out.requires_grad,
           "value": out.detach().numpy().copy()}
    if not out.requires_grad:
        return got
    leaves = [k for k, v in env.items() if isinstance(v, m.Tensor) and v.requires_grad and v.is_leaf]
    assert leaves, "name the leaves that require grad in the source"
    upstream = np.linspace(-1.0, 1.5, num=max(out.numel(), 1))[: out.numel()].reshape(tuple(out.shape))
    try:
        grads = m.autograd.grad(out, [env[k] for k in leaves], m.tensor(upstream, dtype=out.dtype),
                                allow_unused=True)
    except Exception as e:  # noqa: BLE001
        return {"error": "backward", "type": type(e).__name__, "message": str(e), **got}
    got["grads"] = {k: None if g is None else (str(g.dtype).split(".")[-1], g.numpy().copy())
                    for k, g in zip(leaves, grads)}
    return got


def same_as_torch(torch, src: str, op: str | None = None) -> dict:
    """Assert that chainrule ends ``src`` as torch does; ``op``: the name chainrule's error must start with."""
    want, got = outcome(torch, src), outcome(cr, src)
    where = f"\n{src}\ntorch: {want.get('error')} {want.get('message', '')[:200]}\nchainrule: {got.get('error')} " \
            f"{got.get('message', '')[:200]}"
    assert got.get("error") == want.get("error"), "raises at a different stage" + where
    if "error" in got and op is not None:
        assert got["message"].startswith(op), f"the error must name {op}" + where
    if got.get("error") == "forward":
        return got
    for key in ("shape", "dtype", "requires_grad"):
        assert got[key] == want[key], f"{key}: {got[key]}, torch {want[key]}" + where
    # float32 anywhere: float32 rounding (a float64 loss of a float32 input reads float32 intermediates)
    tol = {"rtol": 1e-5, "atol": 1e-6} if "float32" in src else {"rtol": 1e-10, "atol": 1e-12}
    np.testing.assert_allclose(got["value"], want["value"], equal_nan=True, err_msg="forward value" + where, **tol)
    if "grads" in want:
        assert got["grads"].keys() == want["grads"].keys()
        for k, w in want["grads"].items():
            g = got["grads"][k]
            assert (g is None) == (w is None), f"gradient of {k}: {g}, torch {w}" + where
            if w is not None:
                assert g[0] == w[0], f"dtype of the gradient of {k}: {g[0]}, torch {w[0]}" + where
                assert g[1].shape == w[1].shape, f"shape of the gradient of {k}" + where
                np.testing.assert_allclose(g[1], w[1], equal_nan=True, err_msg=f"gradient of {k}" + where, **tol)
    return got


# --- class targets (nll_loss, cross_entropy) ----------------------------------------------------------
def _target(shape, values) -> str:
    return f"m.tensor({np.asarray(values, dtype=np.int64).reshape(shape).tolist()!r}, dtype=m.int64)"


def _class_cases():
    """Inputs with no classes (C = 0) or no samples, with every target ignored, in range or out of range."""
    for shape in [(0,), (2, 0), (0, 0), (0, 3), (3, 0, 2), (2, 0, 0), (0, 0, 2), (2, 0, 2, 2), (2, 3, 0), (3,), (2, 3)]:
        c = shape[0] if len(shape) == 1 else shape[1]
        tshape = () if len(shape) == 1 else (shape[0],) + shape[2:]
        n = int(np.prod(tshape, dtype=np.int64))
        fills = {"ignored": [-100] * n, "first class": [0] * n, "mixed": ([-100, 0, c, c + 1] * n)[:n]}
        for what, values in fills.items():
            if what != "ignored" and not n:
                continue
            yield pytest.param(shape, _target(tshape, values), id=f"{shape}-{what}")


@pytest.mark.parametrize("fn", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("shape, target", list(_class_cases()))
def test_class_targets_with_empty_inputs(torch, fn, shape, target):
    """Ignored targets are never looked up (an input with no classes is fine when every target is ignored);
    a target outside [0, C) raises at forward; an (N, 0, d…) input raises torch's size mismatch."""
    for extra in ["reduction='none'", "reduction='sum'", "reduction='mean'", "label_smoothing=0.1"]:
        if extra.startswith("label") and fn == "nll_loss":
            continue
        same_as_torch(torch, f"x = {leaf(shape)}\nout = F.{fn}(x, {target}, {extra})", op=fn)


def test_out_of_bounds_target_names_the_first_bad_one():
    with pytest.raises(IndexError, match=r"nll_loss: Target 7 is out of bounds"):
        cr.nn.functional.nll_loss(cr.zeros(3, 4), cr.tensor([1, 7, -3]))


# --- loss dtypes -----------------------------------------------------------------------------------------
DTYPES = ["m.float32", "m.float64", "m.int64"]


@pytest.mark.parametrize("fn", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div",
                                "binary_cross_entropy_with_logits"])
@pytest.mark.parametrize("x_dtype, t_dtype", list(itertools.product(DTYPES[:2], DTYPES)))
def test_loss_result_dtype_and_backward_with_mixed_dtypes(torch, fn, x_dtype, t_dtype):
    """huber_loss has the input's dtype and its backward refuses a target of another dtype; kl_div refuses
    integer tensors; the others promote (each as PyTorch)."""
    for grads in [(True, False), (False, True), (True, True)]:
        if grads[1] and t_dtype == "m.int64":
            continue
        src = (f"x = {leaf((3,), x_dtype, grads[0])}\ny = ({leaf((3,), 'm.float64', False)} * 2).to({t_dtype})\n"
               f"y.requires_grad_({grads[1]})\n")
        for red in ("mean", "none"):
            same_as_torch(torch, src + f"out = F.{fn}(x, y, reduction='{red}')")


@pytest.mark.parametrize("x_dtype, w_dtype", list(itertools.product(DTYPES[:2], DTYPES[:2])))
def test_weighted_loss_dtypes(torch, x_dtype, w_dtype):
    """A class or element weight of another dtype: BCE keeps the input's dtype (PyTorch multiplies in place)."""
    x = f"x0 = {leaf((2, 3), x_dtype)}\nx = x0.sigmoid()\n"
    t = "t = m.tensor([[0.2, 0.5, 1.0], [0.0, 0.3, 0.9]], dtype=x.dtype)\n"
    w = f"w = m.tensor([0.5, 2.0, 1.0], dtype={w_dtype})\n"
    for red in ("mean", "none"):
        same_as_torch(torch, x + t + w + f"out = F.binary_cross_entropy(x, t, w, reduction='{red}')")
        same_as_torch(torch, x + t + w + f"out = F.binary_cross_entropy_with_logits(x, t, w, reduction='{red}', "
                                          f"pos_weight=w)")
        same_as_torch(torch, x + w + f"out = F.cross_entropy(x, m.tensor([0, 2]), w, reduction='{red}')")


# --- convolution ---------------------------------------------------------------------------------------------
def _conv_cases():
    """Empty batch, no input channels, no output channels, an empty spatial size, with stride, padding,
    dilation, groups, bias, batched and unbatched, in 1-D and 2-D."""
    for nd, (n, c, o, side), k, opts in itertools.product(
            (1, 2), [(2, 2, 2, 3), (0, 2, 2, 3), (2, 0, 2, 3), (2, 0, 0, 3), (2, 2, 0, 3), (0, 0, 1, 3), (2, 2, 2, 0),
                     (0, 2, 2, 0), (2, 0, 3, 0), (None, 0, 2, 1), (None, 2, 2, 0), (None, 2, 1, 3)],
            (1, 2), ["", ", stride=2, padding=1", ", padding='same'", ", dilation=2, padding=2", ", groups=2"]):
        if "groups" in opts and c % 2:
            continue
        x = ((n,) if n is not None else ()) + (c,) + (side,) * nd
        w = (o, c // (2 if "groups" in opts else 1)) + (k,) * nd
        yield pytest.param(nd, x, w, opts, id=f"conv{nd}d-x{x}-w{w}{opts}")


@pytest.mark.parametrize("nd, x, w, opts", list(_conv_cases()))
def test_conv_with_empty_dims(torch, nd, x, w, opts):
    """PyTorch: no input channels → an output with no channels (zero gradients for weight and bias); fewer
    output channels than groups → error; an empty spatial size with a batch and channels → error."""
    for bias in ("", f", {leaf((w[0],))}"):
        same_as_torch(torch, f"x = {leaf(x)}\nw = {leaf(w)}\nout = F.conv{nd}d(x, w{bias}{opts})", op=f"conv{nd}d")


# --- pooling ------------------------------------------------------------------------------------------------------
POOL_SHAPES = [(2, 3, 4, 4), (0, 2, 3, 3), (2, 0, 3, 3), (2, 2, 0, 3), (2, 2, 3, 0), (0, 3, 3), (2, 0, 3), (3, 4, 4),
               (4, 4), (1, 2, 3, 4, 4)]


@pytest.mark.parametrize("shape", POOL_SHAPES)
def test_adaptive_avg_pool2d_sizes(torch, shape):
    """Output size 1 is a mean over the last two dims (any input, NaN for an empty plane); output size 0
    is allowed in forward and refused by backward, as an empty channel dim of a batched input is."""
    for size in ["1", "(1, 1)", "2", "0", "(0, 2)", "(2, 0)", "(None, 2)", "(3, None)", "-1"]:
        same_as_torch(torch, f"x = {leaf(shape)}\nout = F.adaptive_avg_pool2d(x, {size})")


@pytest.mark.parametrize("shape", POOL_SHAPES)
@pytest.mark.parametrize("fn", ["max_pool2d", "avg_pool2d"])
def test_pool_with_empty_dims(torch, shape, fn):
    """Only the batch may be empty (a 3-D input has none: all three dims must be non-zero)."""
    for args in ["2", "1", "3, stride=2, padding=1, ceil_mode=True", "(1, 2), stride=1"]:
        same_as_torch(torch, f"x = {leaf(shape)}\nout = F.{fn}(x, {args})", op=fn)


# --- what an op saves for backward: where an in-place change makes backward raise -------------------------------------
SAVED_CASES = [
    # (shapes of a and b, the product)
    (((2, 3), (4, 3), (4,)), "F.linear(a, b, c)"),
    (((3,), (4, 3), (4,)), "F.linear(a, b, c)"),
    (((2, 2, 3), (4, 3), None), "F.linear(a, b)"),
    (((2, 3), (3, 4), None), "a @ b"),
    (((2, 3), (3, 4), None), "m.mm(a, b)"),
    (((2, 2, 3), (2, 3, 4), None), "m.bmm(a, b)"),
    (((2, 2, 3), (3, 4), None), "m.matmul(a, b)"),
    (((2, 3), (3,), None), "m.mv(a, b)"),
    (((3,), (3,), None), "m.dot(a, b)"),
    (((3,), (3, 2), None), "a @ b"),
]


@pytest.mark.parametrize("shapes, product", SAVED_CASES)
def test_products_save_only_the_factor_a_gradient_needs(torch, shapes, product):
    """x·y saves x only for y's gradient and y only for x's: changing in place the factor no gradient
    needs is fine, changing the other makes backward raise (PyTorch's addmm/mm/bmm/mv/dot)."""
    sa, sb, sc = shapes
    for grads, changed in itertools.product([(True, False), (False, True), (True, True)], "ab"):
        src = (f"a0 = {leaf(sa, grad=grads[0])}\nb0 = {leaf(sb, grad=grads[1])}\n"
               f"a = a0 * 1.0\nb = b0 * 1.0\n" + (f"c = {leaf(sc)}\n" if sc else "")
               + f"out = {product}\n{changed}.mul_(2.0)\n")
        same_as_torch(torch, src)


@pytest.mark.parametrize("size", ["1", "(1, 1)", "2", "(None, 1)"])
def test_adaptive_avg_pool2d_saves_its_input_unless_a_mean(torch, size):
    """Pooling to 1×1 is a mean (nothing saved); any other size saves the input."""
    same_as_torch(torch, f"x0 = {leaf((2, 3, 4, 4))}\nx = x0 * 1.0\nout = F.adaptive_avg_pool2d(x, {size})\n"
                         f"x.add_(1.0)\n")


@pytest.mark.parametrize("shape", [(4, 3, 2), (4, 2), (2,), (2, 2, 3, 2)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_output_changed_in_place(torch, shape, bias):
    """A contiguous input of any rank but 2 with bias goes through addmm on a 2-D view in PyTorch (grad_fn
    ViewBackward0), so
    an in-place change to the result passes the upstream gradient through CopySlices: under create_graph the
    bias gradient then requires grad exactly when PyTorch's does."""
    results = []
    for m in (torch, cr):
        x = m.tensor(np.linspace(-1, 1, int(np.prod(shape))).reshape(shape), requires_grad=True)
        w = m.tensor(np.linspace(-1, 2, 3 * shape[-1]).reshape(3, shape[-1]), requires_grad=True)
        b = m.tensor([0.5, -0.5, 1.0], dtype=m.float64, requires_grad=True) if bias else None
        z = m.nn.functional.linear(x, w, b)
        name = z.grad_fn.name()
        z.zero_()
        out = (z * z.detach()).sum() + (z ** 2).sum()     # an upstream gradient that requires grad
        grads = m.autograd.grad(out, [t for t in (x, w, b) if t is not None], create_graph=True)
        results.append(([g.requires_grad for g in grads], [g.detach().numpy() for g in grads], name))
    (rg_t, g_t, name_t), (rg_c, g_c, name_c) = results
    assert rg_c == rg_t
    for a, e in zip(g_c, g_t):
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-12)
    if len(shape) != 2 and bias:
        assert name_c == name_t == "ViewBackward0"


@pytest.mark.parametrize("reduction", ["none", "sum", "batchmean"])
def test_kl_div_at_zero_and_negative_targets(torch, reduction):
    """y·log y is PyTorch's xlogy(y, y): 0 at y = 0 in forward, but its y-gradient there is NaN (t·log t has
    no derivative at 0), and a negative target gives NaN; the input's gradient stays -y."""
    for values in ([0.0, 0.3, 0.7], [0.0, 0.0, 1.0], [-0.5, 0.2, 0.0], [0.25, 0.25, 0.5]):
        for grads in ("True, False", "False, True", "True, True"):
            gx, gy = grads.split(", ")
            same_as_torch(torch, f"x = {leaf((3,), grad=gx)}\ny = m.tensor({values!r}, dtype=DT, requires_grad={gy})\n"
                                 f"out = F.kl_div(x, y, reduction='{reduction}')")


# --- batched products of mixed dtypes with nothing to multiply (seeds 601030, 603693) ---------------------
_BATCHED = [((1, 2, 0), (1, 0, 3)), ((0, 2, 2), (0, 2, 3)), ((2, 3, 2), (2, 2, 0)), ((2, 0, 2), (2, 2, 3)),
            ((2, 2, 2), (2, 2, 3))]


@pytest.mark.parametrize("fn,a,b", [("m.bmm", a, b) for a, b in _BATCHED] + [("m.matmul", a, b) for a, b in
                                    _BATCHED + [((2, 1, 2, 0), (2, 0, 3)), ((2, 2, 0), (0, 3))]])
def test_batched_products_of_mixed_dtypes(torch, fn, a, b):
    """PyTorch's batched product skips its dtype check when the result is empty or the inner size is 0
    (returning the second operand's dtype) and raises otherwise; chainrule ends each case the same way."""
    src = f"x = {leaf(a, 'm.float32')}\ny = {leaf(b)}\nout = {fn}(x, y)"
    same_as_torch(torch, src)


def test_zero_gradient_of_an_overwritten_value_stays_zero_next_to_inf(torch):
    """fill_'s backward under create_graph passes exact zeros (seed 611043): they were made as g * 0,
    which is NaN where the upstream gradient is ±inf or NaN."""
    src = ("x = m.tensor([1.0, 2.0], dtype=DT, requires_grad=True)\ny = x * 1.0\ny.fill_(0.5)\n"
           "z = (y * m.tensor([float('inf'), float('nan')], dtype=DT)).sum() + (x * x).sum()\n"
           "out, = m.autograd.grad(z, x, create_graph=True)")
    same_as_torch(torch, src)


@pytest.mark.parametrize("shape", [(0, 3), (2, 3, 0), (0, 3, 2, 2)])
@pytest.mark.parametrize("affine,training", [(True, True), (False, True), (True, False)])
def test_batch_norm_of_an_empty_input(torch, shape, affine, training):
    """An input with no elements: PyTorch computes no statistics and returns input.clone() · weight[0] +
    bias[0] (so under create_graph the weight's zero gradient requires grad; the bias's does not)."""
    wb = f"w = {leaf((3,))}\nb = {leaf((3,))}\n" if affine else "w = b = None\n"
    src = (f"x = {leaf(shape)}\n{wb}rm = m.zeros(3, dtype=DT)\nrv = m.ones(3, dtype=DT)\n"
           f"y = F.batch_norm(x, rm, rv, w, b, training={training})\n"
           f"g = m.autograd.grad(y.sum(), [t for t in (x, w, b) if t is not None], create_graph=True)\n"
           f"out = m.cat([t.reshape(-1) for t in g] + [rm, rv])\n")
    same_as_torch(torch, src)
    flags = []
    for m in (torch, cr):
        env = {"m": m, "F": m.nn.functional, "DT": m.float64}
        exec(src, env)  # noqa: S102 - test source written above
        flags.append([t.requires_grad for t in env["g"]])
    assert flags[1] == flags[0], f"requires_grad of the create_graph gradients: chainrule {flags[1]}, torch {flags[0]}"


@pytest.mark.parametrize("arg", ["weight", "pos_weight"])
def test_bce_with_logits_saves_its_weights(torch, arg):
    """PyTorch's BCE-with-logits node saves weight and pos_weight: changing one in place before backward
    raises there (seed 710480); without the change, backward runs."""
    for change in ("w.copy_(m.tensor([0.8], dtype=DT))\n", ""):
        src = (f"x = {leaf((1, 3, 1))}\nt = m.tensor([[[0.1], [0.88], [0.45]]], dtype=DT)\n"
               f"w = m.tensor([1.82], dtype=DT)\nout = F.binary_cross_entropy_with_logits(x, t, {arg}=w)\n{change}")
        got = same_as_torch(torch, src)
        assert (got.get("error") == "backward") == bool(change), got.get("error")


@pytest.mark.parametrize("shape,conv", [((0, 1, 3, 1), "conv2d"), ((0, 1, 4), "conv1d")])
def test_conv_of_an_empty_batch_has_no_second_derivative(torch, shape, conv):
    """Under create_graph the gradients of a conv over an empty batch are zeros that require grad, and their
    own gradients are None for input, weight and bias, as PyTorch's (seed 710104)."""
    w = (2, 1, 2, 1) if conv == "conv2d" else (2, 1, 2)
    src = (f"x = {leaf(shape)}\nw = {leaf(w)}\nb = {leaf((2,))}\ny = F.{conv}(x, w, b, padding=1, dilation=2)\n"
           f"g = m.autograd.grad(y.sum(), [x, w, b], create_graph=True)\n"
           f"s = sum((t * m.ones_like(t)).sum() for t in g)\n"
           f"second = m.autograd.grad(s, [x, w, b], allow_unused=True, retain_graph=True)\n"
           f"out = m.cat([t.reshape(-1) for t in g])\n")
    same_as_torch(torch, src)
    for m in (torch, cr):
        env = {"m": m, "F": m.nn.functional, "DT": m.float64}
        exec(src, env)  # noqa: S102 - test source written above
        assert [t.requires_grad for t in env["g"]] == [True, True, True]
        assert env["second"] == (None, None, None), (m.__name__, env["second"])


@pytest.mark.parametrize("shape,size", [((3, 2, 4, 4), 2), ((3, 2, 5, 3), (2, 1)), ((2, 4, 4), 2)])
def test_adaptive_avg_pool2d_output_can_be_viewed(torch, shape, size):
    """PyTorch's adaptive_avg_pool2d returns a contiguous tensor, so .view of it works (seed 714899)."""
    src = f"x = {leaf(shape)}\ny = F.adaptive_avg_pool2d(x, {size!r})\nout = y.view(-1)\n"
    same_as_torch(torch, src)


def test_prelu_weight_gradient_next_to_an_infinite_upstream_gradient(torch):
    """Where x > 0 the slope gets an exact 0, not 0·g (NaN where g is ±inf, summed into the whole slope)."""
    src = ("x = m.tensor([1.0, -2.0, 3.0], dtype=DT, requires_grad=True)\n"
           "w = m.tensor([0.25], dtype=DT, requires_grad=True)\n"
           "y = F.prelu(x, w)\n"
           "out = m.cat(m.autograd.grad(y, [x, w], m.tensor([float('inf'), 1.0, -float('inf')], dtype=DT)))\n")
    got = same_as_torch(torch, src)
    assert not np.isnan(got["value"]).any()

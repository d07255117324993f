"""logaddexp, hypot, copysign, xlogy, heaviside, addcmul, addcdiv, logit, nansum and dist against PyTorch,
beyond the op oracle (tests/op_specs.py checks float64 values, gradients and double backward on random and
fixed inputs): special values in float32 and float64 with PyTorch's first-order gradients there, upstream
gradients of 0, result dtypes, 0-d/empty/broadcast shapes, the in-place forms, errors for bad input, and
no NumPy warning reaching the user. Each test runs the same code in torch and in chainrule.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest

import chainrule as cr
from chainrule.backend import xp

# IEEE results on purpose; under pytest chainrule's own RuntimeWarnings would show (pytest resets the filters):
# test_no_numpy_runtime_warning_reaches_the_user checks what a user sees, in a fresh interpreter
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

INF, NAN = math.inf, math.nan
ERRORS = (RuntimeError, ValueError, TypeError, IndexError, NotImplementedError)


def _np(t):
    return xp.asarray(t.detach().numpy(force=True))   # force: torch's zero gradients may be ZeroTensors


def _name(dtype) -> str:
    return str(dtype).split(".")[-1]


def _close(got, want, what: str, rtol: float) -> None:
    g, w = _np(got), _np(want)
    assert g.shape == w.shape, f"{what}: shape {g.shape}, torch {w.shape}"
    if w.dtype.kind in "biu":
        assert xp.array_equal(g, w), f"{what}: {g} != torch's {w}"
        return
    assert xp.array_equal(xp.isnan(g), xp.isnan(w)), f"{what}: NaN at other places\n{g}\n{w}"
    assert xp.allclose(g, w, rtol=rtol, atol=0, equal_nan=True), f"{what}:\nchainrule {g}\ntorch     {w}"


def _same(got, want, what: str, rtol: float = 0.0) -> None:
    assert _name(got.dtype) == _name(want.dtype), f"{what}: dtype {got.dtype}, torch {want.dtype}"
    _close(got, want, what, rtol)


def _outputs(m, fn, arrays, dtype: str, grad: bool):
    """fn applied to tensors of ``arrays`` (float lists in ``dtype``); with ``grad``, also the first-order
    gradients (the plain path: PyTorch's first-order kernels) for upstream values 0.5, -1.5, 2.5, …"""
    xs = [m.tensor(a, dtype=getattr(m, dtype), requires_grad=grad) for a in arrays]
    out = fn(m, *xs)
    if not grad:
        return out, None
    up = m.tensor(xp.resize(xp.array([0.5, -1.5, 2.5]), out.shape), dtype=out.dtype)
    return out, m.autograd.grad(out, xs, up, allow_unused=True)


SPECIAL = [
    ("logaddexp", lambda m, x, y: m.logaddexp(x, y),
     [INF, -INF, INF, -INF, 1000.0, -1000.0, 0.0, NAN, 88.0, 1e-30], [INF, -INF, -INF, 0.0, 0.0, -999.0, 0.0, 1.0,
                                                                     88.0, -1e-30]),
    ("hypot", lambda m, x, y: x.hypot(y), [0.0, -0.0, 3.0, INF, NAN, INF, 3e38, 1e-40, 1e300],
     [0.0, 0.0, -4.0, NAN, INF, 1.0, 3e38, 1e-40, 1.0]),
    ("copysign", lambda m, x, y: m.copysign(x, y), [0.0, -0.0, 0.0, 2.0, -2.0, INF, NAN, 3.0, -INF],
     [-1.0, 1.0, -0.0, -0.0, 0.0, -1.0, -1.0, NAN, 2.0]),
    ("copysign_scalar", lambda m, x: x.copysign(-0.0), [0.0, -0.0, 2.0, -INF, NAN]),
    ("xlogy", lambda m, x, y: m.xlogy(x, y), [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0, -2.0, 1.0, 0.0, 3.0, 0.0],
     [0.0, INF, NAN, -1.0, -INF, 0.0, -1.0, 0.5, INF, 2.0, NAN, 1e-45]),
    ("xlogy_scalar_other_0", lambda m, x: x.xlogy(0.0), [0.0, 1.5, -2.0, NAN]),
    ("xlogy_scalar_other_inf", lambda m, x: m.xlogy(x, INF), [0.0, 1.5, -2.0]),
    ("xlogy_scalar_self_0", lambda m, y: m.xlogy(0.0, y), [0.0, 1.5, INF, NAN, -1.0]),
    ("xlogy_scalar_self", lambda m, y: m.xlogy(2, y), [0.0, 1.5, INF, NAN, -1.0]),
    ("logit", lambda m, x: x.logit(), [0.0, 1.0, 0.5, -0.1, 1.1, NAN, 1e-30, 0.9999999, -0.0]),
    ("logit_eps", lambda m, x: m.logit(x, 0.25), [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0, -2.0, NAN]),
    ("logit_eps_0", lambda m, x: x.logit(eps=0), [0.0, 1.0, 0.5, -0.1, 1.1, NAN]),
    ("logit_eps_negative", lambda m, x: x.logit(-0.1), [0.0, 1.0, 0.5, -0.1, 1.1, NAN]),
    ("logit_eps_above_half", lambda m, x: x.logit(0.7), [0.0, 1.0, 0.5, -0.1, 0.7, NAN]),
    ("logit_eps_1e-6", lambda m, x: x.logit(1e-6), [0.0, 1.0, 1e-6, 1 - 1e-6, 0.5]),
    ("nansum", lambda m, x: m.nansum(x), [1.0, NAN, INF, -2.0]),
    ("nansum_all_nan", lambda m, x: x.nansum(), [NAN, NAN]),
    ("nansum_inf_minus_inf", lambda m, x: x.nansum(0), [INF, -INF, NAN]),
    ("dist_equal", lambda m, x, y: m.dist(x, y), [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]),
    ("dist_p1_equal", lambda m, x, y: m.dist(x, y, 1), [1.0, 2.0, 3.0], [1.0, 0.0, 3.0]),
    ("dist_inf_ties", lambda m, x, y: x.dist(y, INF), [1.0, 2.0, 3.0], [1.0, 0.0, 5.0]),
    ("dist_inf_equal", lambda m, x, y: x.dist(y, p=INF), [1.0, 2.0], [1.0, 2.0]),
    ("dist_minus_inf", lambda m, x, y: x.dist(y, -INF), [1.0, 2.0, 3.0], [1.0, 0.0, 5.0]),
    ("dist_half_with_0", lambda m, x, y: m.dist(x, y, 0.5), [1.0, 2.0, 3.0], [1.0, 0.0, 4.0]),
    ("dist_minus_1_with_0", lambda m, x, y: m.dist(x, y, -1), [1.0, 2.0, 3.0], [1.0, 0.0, 4.0]),
    ("dist_inf_input", lambda m, x, y: m.dist(x, y), [INF, 1.0], [0.0, 1.0]),
    ("dist_big", lambda m, x, y: m.dist(x, y), [1e30, 1e30], [0.0, 0.0]),
    ("addcmul_inf_times_0", lambda m, x, a, b: m.addcmul(x, a, b, value=0.5), [1.0, 1.0, NAN],
     [INF, 0.0, 1.0], [0.0, 2.0, 1.0]),
    ("addcmul_value_0", lambda m, x, a, b: x.addcmul(a, b, value=0), [1.0, 1.0], [INF, 3.0], [1.0, 2.0]),
    ("addcdiv_0_by_0", lambda m, x, a, b: m.addcdiv(x, a, b), [1.0, 1.0, 1.0], [0.0, 1.0, -1.0], [0.0, 0.0, 0.0]),
    ("addcdiv_value", lambda m, x, a, b: x.addcdiv(a, b, value=-2.5), [1.0, 2.0], [3.0, INF], [4.0, 2.0]),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", SPECIAL, ids=[c[0] for c in SPECIAL])
def test_special_values_and_their_gradients(torch, dtype, case):
    name, fn, *arrays = case
    rtol = 2e-6 if dtype == "float32" else 1e-13
    want, want_grads = _outputs(torch, fn, arrays, dtype, grad=True)
    got, got_grads = _outputs(cr, fn, arrays, dtype, grad=True)
    _same(got, want, f"{name} forward", rtol)
    for i, (g, w) in enumerate(zip(got_grads, want_grads)):
        assert (g is None) == (w is None), f"{name}: gradient of input {i} is {g}, torch's {w}"
        if w is not None:
            _same(g, w, f"{name} gradient of input {i}", rtol)


def test_heaviside_values_and_no_derivative(torch):
    x, v = [-1.0, 0.0, -0.0, 2.0, NAN, INF, -INF], [0.5]
    for dtype in ("float32", "float64"):
        _same(_outputs(cr, lambda m, a, b: m.heaviside(a, b), [x, v], dtype, False)[0],
              _outputs(torch, lambda m, a, b: m.heaviside(a, b), [x, v], dtype, False)[0], "heaviside")
    for m in (torch, cr):      # the output requires grad (a NotImplemented node); backward through it raises
        a = m.tensor(x, requires_grad=True)
        h = m.heaviside(a, m.tensor(0.5))
        assert h.requires_grad
        assert (type(h.grad_fn).__name__ if m is torch else h.grad_fn.name()) == "NotImplemented"
        with pytest.raises(RuntimeError, match="derivative for .*heaviside is not implemented"):
            h.sum().backward()
        (a * h.detach()).sum().backward()    # used as a mask it is fine
        assert a.grad.tolist()[:4] == [0.0, 0.5, 0.5, 1.0]


def test_dist_p0_gradient(torch):
    """A count of nonzeros has no gradient: both leave x.grad None (as for ``norm(x, 0)``). When ``other``
    requires grad too, torch 2.13's DistBackward0 raises (it negates an undefined gradient); chainrule
    leaves both gradients None."""
    for both in (False, True):
        for m in (torch, cr):
            x, y = m.tensor([1.0, 2.0, 3.0], requires_grad=True), m.tensor([1.0, 0.0, 4.0], requires_grad=both)
            d = m.dist(x, y, 0)
            assert d.item() == 2.0 and d.requires_grad
            if m is torch and both:
                with pytest.raises(RuntimeError, match="undefined Tensor"):
                    d.backward()
                continue
            d.backward()
            assert x.grad is None and y.grad is None


def test_xlogy_gradients_where_the_upstream_gradient_is_0(torch):
    """PyTorch's x-gradient is xlogy(g, y): 0 where g = 0 even for y = 0, -1 or inf (not 0·log y = NaN); under
    create_graph its derivative in g is log(y) there (0 where the mask holds)."""
    xs, ys = [1.0, 2.0, -1.0, 0.0, 3.0, 0.0, 2.0], [0.0, -1.0, INF, 0.0, 2.0, 5.0, NAN]
    g0 = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    results = []
    for m in (torch, cr):
        x, y = m.tensor(xs, requires_grad=True), m.tensor(ys, requires_grad=True)
        g = m.tensor(g0, requires_grad=True)
        gx, gy = m.autograd.grad(m.xlogy(x, y), (x, y), g, create_graph=True)
        (dg,) = m.autograd.grad(gx.sum(), g)
        results.append((gx, gy, dg))
    (gx, gy, dg), (wx, wy, wg) = results[1], results[0]
    _same(gx, wx, "x-gradient")
    _same(gy, wy, "y-gradient")
    # torch's xlogy(g, y) has derivative log(inf) = inf in g at y = inf; chainrule's formula gives 0 there
    keep = [i for i, y in enumerate(ys) if y != INF]
    _same(dg[keep], wg[keep], "derivative of the x-gradient in the upstream gradient")


DTYPES = {"i64": ("int64", [1, 2]), "i32": ("int32", [2, 1]), "b": ("bool", [True, False]),
          "f16": ("float16", [0.25, 2.0]), "f32": ("float32", [0.5, 1.0]), "f64": ("float64", [1.5, 0.25])}
PAIRS = [("i64", "i64"), ("i32", "f32"), ("b", "b"), ("f32", "f64"), ("f16", "f16"), ("f16", "i64"),
         ("i64", "f64", "0d"), ("f32", "f64", "0d"), ("i32", "i64"), ("b", "i32")]
FUNCTIONS = {
    "logaddexp": lambda m, a, b: m.logaddexp(a, b), "hypot": lambda m, a, b: m.hypot(a, b),
    "copysign": lambda m, a, b: m.copysign(a, b), "xlogy": lambda m, a, b: m.xlogy(a, b),
    "heaviside": lambda m, a, b: m.heaviside(a, b), "addcmul": lambda m, a, b: m.addcmul(a, a, b),
    "addcmul_b": lambda m, a, b: m.addcmul(b, a, b, value=2.5), "addcdiv": lambda m, a, b: m.addcdiv(a, b, b),
    "addcdiv_a": lambda m, a, b: a.addcdiv(a, b, value=2), "dist": lambda m, a, b: m.dist(a, b),
    "nansum": lambda m, a, b: m.nansum(a), "nansum_dtype": lambda m, a, b: a.nansum(0, dtype=m.float64),
    "logit": lambda m, a, b: a.logit(), "logit_eps": lambda m, a, b: m.logit(b, eps=0.1),
    "xlogy_number": lambda m, a, b: a.xlogy(2), "xlogy_number_self": lambda m, a, b: m.xlogy(2.5, b),
    "xlogy_bool": lambda m, a, b: m.xlogy(True, a), "copysign_number": lambda m, a, b: a.copysign(-2.5),
    "copysign_int": lambda m, a, b: m.copysign(b, -2),
}


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "-".join(p))
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_result_dtypes(torch, name, pair):
    results = []
    for m in (torch, cr):
        (da, va), (db, vb) = DTYPES[pair[0]], DTYPES[pair[1]]
        a, b = m.tensor(va, dtype=getattr(m, da)), m.tensor(vb, dtype=getattr(m, db))
        if len(pair) == 3:
            b = b[0]
        try:
            results.append(FUNCTIONS[name](m, a, b))
        except ERRORS as e:
            results.append(type(e))
    want, got = results
    if isinstance(want, type):
        assert isinstance(got, type), f"{name}{pair}: torch raises {want.__name__}, chainrule gives {got}"
        assert issubclass(got, ERRORS)
        return
    assert not isinstance(got, type), f"{name}{pair}: chainrule raises {got.__name__}, torch gives {want}"
    _same(got, want, f"{name}{pair}", rtol=1e-3 if "f16" in pair else 1e-6)


SHAPES = [((), ()), ((0, 3), (1, 3)), ((2, 1), (3,)), ((), (2, 0)), ((4, 1, 3), (2, 1)), ((1,), ())]
SHAPED = {
    "logaddexp": lambda m, a, b: m.logaddexp(a, b), "hypot": lambda m, a, b: a.hypot(b),
    "copysign": lambda m, a, b: m.copysign(a, b), "xlogy": lambda m, a, b: m.xlogy(a, b.exp()),
    "addcmul": lambda m, a, b: m.addcmul(a, b, b), "addcdiv": lambda m, a, b: m.addcdiv(b, a, b.exp()),
    "dist": lambda m, a, b: m.dist(a, b, 3), "logit": lambda m, a, b: (a * b).sigmoid().logit(0.1),
    "nansum": lambda m, a, b: (a * b).nansum(-1), "heaviside_mask": lambda m, a, b: a * m.heaviside(a, b).detach(),
}


@pytest.mark.parametrize("shapes", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name", sorted(SHAPED))
def test_zero_dim_empty_and_broadcast_shapes(torch, name, shapes):
    rng = xp.random.default_rng(len(name))
    arrays = [rng.standard_normal(s) for s in shapes]
    want, want_grads = _outputs(torch, lambda m, a, b: SHAPED[name](m, a, b), arrays, "float64", grad=True)
    got, got_grads = _outputs(cr, lambda m, a, b: SHAPED[name](m, a, b), arrays, "float64", grad=True)
    _same(got, want, name, 1e-12)
    for g, w in zip(got_grads, want_grads):
        assert (g is None) == (w is None)
        if w is not None:
            _same(g, w, f"{name} gradient", 1e-12)


INPLACE = [
    ("hypot_", lambda m, x, y: x.hypot_(y)), ("copysign_", lambda m, x, y: x.copysign_(y)),
    ("copysign_number", lambda m, x, y: x.copysign_(-1)), ("xlogy_", lambda m, x, y: x.xlogy_(y.abs())),
    ("xlogy_number", lambda m, x, y: m.xlogy_(x, 3)), ("logit_", lambda m, x, y: x.mul_(0.1).add_(0.5).logit_(0.45)),
    ("torch.logit_", lambda m, x, y: m.logit_(x.mul_(0.1).add_(0.5))), ("heaviside_", lambda m, x, y: x.heaviside_(y)),
    ("addcmul_", lambda m, x, y: x.addcmul_(y, y, value=0.5)), ("addcdiv_", lambda m, x, y: x.addcdiv_(y, y.exp())),
]


@pytest.mark.parametrize("name, fn", INPLACE, ids=[c[0] for c in INPLACE])
def test_inplace_forms(torch, name, fn):
    rng = xp.random.default_rng(3)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal(3)
    a[0, 0] = b[0] = 0.0
    outs = []
    for m in (torch, cr):
        x, y = m.tensor(a), m.tensor(b)
        out = fn(m, x, y)
        assert out is x
        outs.append(x)
        if name == "heaviside_":
            continue
        # recorded on a non-leaf: the gradient flows through the update to both leaves
        leaf, y = m.tensor(a, requires_grad=True), m.tensor(b, requires_grad=True)
        x = leaf * 1.0
        fn(m, x, y)
        outs.append(m.autograd.grad(x, (leaf, y), m.ones_like(x), allow_unused=True))
        with pytest.raises(RuntimeError, match="leaf"):    # a leaf that requires grad may not change in place
            fn(m, m.tensor(a, requires_grad=True), y)
        with pytest.raises(RuntimeError):                   # the result cannot be stored in an int tensor
            fn(m, m.tensor([[1, 2, 3]]), m.tensor(b))
    _same(outs[len(outs) // 2], outs[0], name, 1e-12)
    if name != "heaviside_":
        for g, w in zip(outs[-1], outs[1]):
            assert (g is None) == (w is None), name
            if w is not None:
                _same(g, w, f"{name} gradient", 1e-12)


BAD = [
    ("logaddexp", lambda m: m.logaddexp(m.ones(2), m.ones(3)), RuntimeError, r"logaddexp: .*operands of shapes \(2,\), \(3,\)"),
    ("hypot", lambda m: m.ones(2, 3).hypot(m.ones(2)), RuntimeError, r"hypot: .*operands of shapes \(2, 3\), \(2,\)"),
    ("copysign", lambda m: m.copysign(m.ones(2), m.ones(3)), RuntimeError, r"copysign: .*operands of shapes \(2,\), \(3,\)"),
    ("xlogy", lambda m: m.xlogy(m.ones(4, 2), m.ones(3, 1, 3)), RuntimeError, r"xlogy: .*operands of shapes"),
    ("heaviside", lambda m: m.heaviside(m.ones(3), m.ones(2)), RuntimeError, r"heaviside: .*operands of shapes \(3,\), \(2,\)"),
    ("addcmul", lambda m: m.addcmul(m.ones(3), m.ones(2), m.ones(3)), RuntimeError,
     r"addcmul: .*input, tensor1 and tensor2 of shapes \(3,\), \(2,\), \(3,\)"),
    ("addcdiv", lambda m: m.addcdiv(m.ones(3), m.ones(3), m.ones(2, 2)), RuntimeError, r"addcdiv: .*input, tensor1"),
    ("dist", lambda m: m.dist(m.ones(2, 3), m.ones(2)), RuntimeError, r"dist: .*input and other of shapes"),
    ("logaddexp number", lambda m: m.logaddexp(m.ones(2), 2.0), TypeError, r"logaddexp\(\): argument 'other'"),
    ("hypot number", lambda m: m.ones(2).hypot(1), TypeError, r"hypot\(\): argument 'other'.*not int"),
    ("hypot number input", lambda m: m.hypot(1.0, m.ones(2)), TypeError, r"hypot\(\): argument 'input'"),
    ("logaddexp ints", lambda m: m.logaddexp(m.tensor([1]), m.tensor([2])), NotImplementedError,
     r"logaddexp: not implemented for int64"),
    ("hypot bools", lambda m: m.hypot(m.tensor([True]), m.tensor([False])), NotImplementedError, "hypot: .*bool"),
    ("copysign list", lambda m: m.copysign(m.ones(2), [1, 2]), TypeError, r"copysign\(\): argument 'other'"),
    ("xlogy None", lambda m: m.xlogy(m.ones(2), None), TypeError, r"xlogy\(\): argument 'other'"),
    ("xlogy two numbers", lambda m: m.xlogy(2, 3), TypeError, r"xlogy\(\)"),
    ("heaviside number", lambda m: m.heaviside(m.ones(2), 0.5), TypeError, r"heaviside\(\): argument 'values'"),
    ("heaviside dtypes", lambda m: m.heaviside(m.ones(2), m.ones(2, dtype=m.float64)), RuntimeError,
     r"heaviside: .*same dtype, got float32 and float64"),
    ("addcmul tensor1", lambda m: m.addcmul(m.ones(2), 2, m.ones(2)), TypeError, r"addcmul\(\): argument 'tensor1'"),
    ("addcmul value str", lambda m: m.addcmul(m.ones(2), m.ones(2), m.ones(2), value="a"), TypeError,
     r"addcmul\(\): argument 'value' must be Number"),
    ("addcmul value 1-d", lambda m: m.addcmul(m.ones(2), m.ones(2), m.ones(2), value=m.ones(1)), TypeError,
     r"argument 'value'"),
    ("addcmul value overflow", lambda m: m.addcmul(m.ones(2), m.ones(2), m.ones(2), value=1e300), RuntimeError,
     r"addcmul: value cannot be converted to type .*float32 without overflow"),
    ("addcmul int value inf", lambda m: m.ones(2, dtype=m.int32).addcmul(m.ones(2, dtype=m.int32),
                                                                           m.ones(2, dtype=m.int32), value=INF),
     RuntimeError, r"addcmul: value cannot be converted to type .*int32"),
    ("addcmul bools", lambda m: m.addcmul(m.tensor([True]), m.tensor([True]), m.tensor([True])), NotImplementedError,
     "addcmul: not implemented for bool"),
    ("addcdiv ints", lambda m: m.addcdiv(m.ones(2), m.tensor([1, 2]), m.tensor([True, False])), RuntimeError,
     r"addcdiv: integer division .*int64.*bool"),
    ("logit eps str", lambda m: m.ones(2).logit("a"), TypeError, r"logit\(\): argument 'eps'.*must be float"),
    ("nansum dtype str", lambda m: m.ones(2).nansum(dtype="float64"), TypeError, r"nansum\(\): argument 'dtype'"),
    ("nansum dim", lambda m: m.ones(2, 3).nansum(2), IndexError, r"Dimension out of range"),
    ("dist number", lambda m: m.dist(m.ones(2), 2), TypeError, r"dist\(\): argument 'other'"),
    ("dist p str", lambda m: m.dist(m.ones(2), m.ones(2), "fro"), TypeError, r"dist\(\): argument 'p'.*Number"),
    ("dist ints", lambda m: m.dist(m.tensor([1]), m.tensor([2])), RuntimeError, r"dist: expected floating"),
    ("dist empty inf", lambda m: m.dist(m.ones(0), m.ones(0), INF), RuntimeError, r"dist: cannot compute the inf"),
    ("hypot_ shape", lambda m: m.ones(2).hypot_(m.ones(3, 2)), RuntimeError, r"hypot_: output with shape"),
]


@pytest.mark.parametrize("name, fn, kind, message", BAD, ids=[c[0] for c in BAD])
def test_bad_input_is_refused_naming_the_op(torch, name, fn, kind, message):
    with pytest.raises(ERRORS):
        fn(torch)
    with pytest.raises(kind, match=message):
        fn(cr)


def test_no_numpy_runtime_warning_reaches_the_user():
    """Every special-value case, forward and backward in float32, in a fresh interpreter with Python's default
    warning filters (pytest's would hide what a user sees): no NumPy RuntimeWarning may get through."""
    codes = [f"SPECIAL[{i}]" for i in range(len(SPECIAL))]
    probe = ("import sys, warnings\nsys.path.insert(0, 'tests')\nimport chainrule as m\n"
             "from test_math_more import SPECIAL, _outputs\n"
             f"for code in {codes!r}:\n"
             "    name, fn, *arrays = eval(code)\n"
             "    with warnings.catch_warnings(record=True) as caught:\n"
             "        _outputs(m, fn, arrays, 'float32', grad=True)\n"
             "        xs = [m.tensor(a, dtype=m.float64, requires_grad=True) for a in arrays]\n"
             "        g = m.autograd.grad(fn(m, *xs).sum(), xs, create_graph=True, allow_unused=True)\n"
             "        terms = [t.sum() for t in g if t is not None and t.requires_grad]\n"
             "        if terms:\n"
             "            m.autograd.grad(terms, xs, allow_unused=True)\n"
             "    for w in caught:\n"
             "        if issubclass(w.category, RuntimeWarning):\n"
             "            print(f'{name}: {w.message} ({w.filename}:{w.lineno})')\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=root, check=True)
    assert run.stdout == "", f"NumPy warnings leak:\n{run.stdout}"

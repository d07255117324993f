"""Issue 10's tensor functions without a gradient (or beyond the op oracle), checked against PyTorch:
argsort/unique/searchsorted/bucketize/histc/histogram forward parity, new_* factories, stride(),
keepdims=, set_default_dtype and the bfloat16 name, cdist's double backward (numerically, since torch
has none) and the errors for bad input.
"""

from __future__ import annotations

import pytest

import chainrule as cr
from chainrule.backend import xp

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")   # NaN/inf inputs on purpose


def _same(got, want):
    g, w = xp.asarray(got.numpy()), xp.asarray(want.numpy())
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1], (got.dtype, want.dtype)
    assert g.shape == w.shape, (g.shape, w.shape)
    assert xp.array_equal(g, w, equal_nan=g.dtype.kind == "f"), f"{g} != {w}"


def _both(torch, fn, *arrays):
    return fn(cr, *[cr.tensor(a) for a in arrays]), fn(torch, *[torch.tensor(a) for a in arrays])


TIES = xp.array([3.0, 1.0, 2.0, 1.0, 3.0, xp.nan, 2.0, -0.0, 0.0])
INTS = xp.array([[3, 1, 2], [1, 3, 3], [0, 0, 7]])


@pytest.mark.parametrize("case", [
    lambda m, x: m.argsort(x), lambda m, x: x.argsort(descending=True), lambda m, x: x.sort(stable=True)[1],
    lambda m, x: x.sort(descending=True)[1], lambda m, x: x.msort(),
])
def test_argsort_is_stable_with_nan_and_ties(torch, case):
    _same(*_both(torch, case, TIES))
    _same(*_both(torch, case, INTS.astype(xp.int64)))


def test_topk_values_and_tie_indices(torch):
    x = xp.array([[3.0, 1.0, 2.0, 1.0, 3.0, 2.0, 3.0, 1.0], [0.5, 0.25, 4.0, 2.0, 1.0, 8.0, 3.0, 1.5]])
    for k, largest in [(3, True), (2, False), (8, True)]:
        (gv, gi), (wv, wi) = _both(torch, lambda m, t, k=k, largest=largest: t.topk(k, largest=largest), x)
        _same(gv, wv)
        _same(gi[1], wi[1])                                    # no ties in row 1: indices equal torch's
        picked = xp.take_along_axis(x, gi.numpy(), 1)          # row 0 has ties: indices point at the values
        assert xp.array_equal(picked, wv.numpy())


def test_median_lower_middle_nan_and_int(torch):
    for x in (xp.array([1.0, 4.0, 2.0, 3.0]), xp.array([[1.0, xp.nan, 2.0], [3.0, 1.0, 2.0]]), INTS):
        _same(*_both(torch, lambda m, t: t.median(), x))
        if x.ndim == 2:
            (gv, gi), (wv, wi) = _both(torch, lambda m, t: t.median(1), x)
            _same(gv, wv)
            _same(gi, wi)


@pytest.mark.parametrize("kwargs", [{}, {"return_inverse": True}, {"return_counts": True},
                                    {"return_inverse": True, "return_counts": True, "sorted": False}])
def test_unique(torch, kwargs):
    for x in (INTS, xp.array([1.0, xp.nan, xp.nan, 1.0, -2.0]), xp.array(5), xp.zeros(0), xp.array([True, False])):
        got, want = _both(torch, lambda m, t: m.unique(t, **kwargs), x)
        for g, w in zip(got if isinstance(got, tuple) else [got], want if isinstance(want, tuple) else [want]):
            _same(g, w)
    for dim in (0, 1):
        got, want = _both(torch, lambda m, t, dim=dim: t.unique(dim=dim, return_inverse=True, return_counts=True), INTS)
        for g, w in zip(got, want):
            _same(g, w)


def test_searchsorted_and_bucketize(torch):
    seq, vals = xp.array([1, 3, 5, 7, 9]), xp.array([[3, 6], [9, 0]])
    for kw in ({}, {"right": True}, {"side": "right"}, {"out_int32": True}):
        _same(*_both(torch, lambda m, s, v, kw=kw: m.searchsorted(s, v, **kw), seq, vals))
    _same(*_both(torch, lambda m, s, v: m.searchsorted(s, v), xp.array([[1.0, 3, 5], [2, 4, 6]]),
                 xp.array([[3.0, 6], [1, 7]])))
    _same(*_both(torch, lambda m, s, v, o: m.searchsorted(s, v, sorter=o), xp.array([5, 1, 3]),
                 xp.array([2, 4]), xp.array([1, 2, 0])))
    _same(*_both(torch, lambda m, s: m.searchsorted(s, 5), seq))
    _same(*_both(torch, lambda m, v, b: m.bucketize(v, b, right=True), xp.array([3.0, 6.0, 9.0]), seq * 1.0))
    with pytest.raises(RuntimeError, match="opposites"):
        cr.searchsorted(cr.tensor(seq), cr.tensor(vals), right=True, side="left")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_histc_and_histogram(torch, dtype):
    rng = xp.random.default_rng(0)
    data = [xp.array([0.0, 1.0, 1.0, 2.0, 2.5, 3.0, 4.0, 10.0]), rng.standard_normal(1000), xp.array([1.0, 1.0]),
            xp.arange(30.0) / 7]
    for x in (d.astype(dtype) for d in data):
        for kw in ({}, {"bins": 4}, {"bins": 7, "min": -1, "max": 2}, {"bins": 3, "min": 1, "max": 1}):
            _same(*_both(torch, lambda m, t, kw=kw: m.histc(t, **kw), x))
        for bins, kw in ((4, {}), (3, {"range": (0.0, 3.0), "density": True}), (2, {"weight": True})):
            def hist(m, t, bins=bins, kw=kw):
                w = {"weight": t * 0 + 2} if kw.get("weight") else {}
                return m.histogram(t, bins, **{**{k: v for k, v in kw.items() if k != "weight"}, **w})
            got, want = _both(torch, hist, x)
            _same(got.bin_edges, want.bin_edges)
            assert xp.allclose(got.hist.numpy(), want.hist.numpy(), rtol=1e-6)
    edges = xp.array([0.0, 1.0, 5.0, 10.0])
    got, want = _both(torch, lambda m, t, e: m.histogram(t, bins=e), data[0], edges)
    _same(got.hist, want.hist)
    with pytest.raises(RuntimeError, match="histc"):
        cr.histc(cr.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="max must be larger than min"):
        cr.histc(cr.tensor([1.0]), bins=3, min=3, max=1)


def test_remainder_fmod_signs_and_dtypes(torch):
    a, b = xp.array([-3.0, 3.0, -3.0, 3.0, 5.5]), xp.array([2.0, -2.0, -2.0, 2.0, 0.0])
    for fn in (lambda m, x, y: m.remainder(x, y), lambda m, x, y: m.fmod(x, y), lambda m, x, y: x % y):
        _same(*_both(torch, fn, a, b))
    ints = xp.array([-7, 7, 5], dtype=xp.int32)
    for fn in (lambda m, x: x % 3, lambda m, x: m.fmod(x, -3), lambda m, x: x.remainder(2.5), lambda m, x: 5 % x):
        _same(*_both(torch, fn, ints))
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        cr.tensor([1, 2]) % cr.tensor([1, 0])


def test_elementwise_int_inputs_and_special_values(torch):
    for fn in (lambda m, x: x.sinh(), lambda m, x: x.erfinv(), lambda m, x: x.log10(), lambda m, x: x.erf(),
               lambda m, x: m.atan2(x, x + 1), lambda m, x: m.nan_to_num(x), lambda m, x: x.acos()):
        got, want = _both(torch, fn, xp.array([0, 1, 2]))
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
        assert xp.allclose(got.numpy(), want.numpy(), rtol=1e-6, equal_nan=True)   # float32: erf may differ by 1 ulp
    x = xp.array([-1.0, 1.0, 1.5, -0.0, xp.nan, 0.999999999])
    got, want = _both(torch, lambda m, t: t.erfinv(), x)
    assert xp.allclose(got.numpy(), want.numpy(), rtol=1e-12, equal_nan=True)
    _same(*_both(torch, lambda m, t: t.nan_to_num(), xp.array([xp.nan, xp.inf, -xp.inf], dtype=xp.float32)))


def test_shape_functions_forward(torch):
    x = xp.arange(24).reshape(2, 3, 4)
    for fn in (lambda m, t: t.roll(1), lambda m, t: m.rot90(t, 2, (1, 2)), lambda m, t: t.diagonal(0, 1, 2),
               lambda m, t: m.diff(t, dim=1), lambda m, t: t.repeat_interleave(2, dim=0),
               lambda m, t: m.repeat_interleave(m.tensor([2, 0, 1])), lambda m, t: t.movedim(-1, 0),
               lambda m, t: m.take(t, m.tensor([[0, -1], [5, 23]])), lambda m, t: t.narrow(1, -2, 2),
               lambda m, t: m.cumprod(t % 3 + 1, 2), lambda m, t: m.kron(t[0], t[1, :2]),
               lambda m, t: m.tensordot(t, t, ([0, 2], [0, 2])), lambda m, t: (t > 5).diff(),
               lambda m, t: t.index_fill(2, m.tensor([1, 3]), -1), lambda m, t: m.einsum("ijk->kj", t),
               lambda m, t: t.index_add(1, m.tensor([0, 0]), t[:, :2] * 10)):
        _same(*_both(torch, fn, x))


def test_inplace_scatter_and_index_updates(torch):
    def updates(m, t):
        y = t.clone()
        y.index_add_(0, m.tensor([1, 1]), m.ones(2, 3, dtype=m.float64), alpha=2)
        y.index_fill_(1, m.tensor([2]), -1.0)
        y.scatter_(1, m.tensor([[0], [1], [2]]), 7.0)
        y.scatter_add_(0, m.tensor([[0, 1, 2]]), m.ones(1, 3, dtype=m.float64))
        return y
    _same(*_both(torch, updates, xp.zeros((3, 3))))


def test_new_factories_and_stride(torch):
    x = xp.arange(6, dtype=xp.int32).reshape(2, 3)
    for fn in (lambda m, t: t.new_zeros(2, 3), lambda m, t: t.new_ones((2,)), lambda m, t: t.new_full((2,), 7.9),
               lambda m, t: t.new_tensor([1.5, 2.5]), lambda m, t: t.new_ones(2, dtype=m.float64),
               lambda m, t: t.new_empty(0, 2)):
        _same(*_both(torch, fn, x))
    got, want = _both(torch, lambda m, t: t.new_zeros(2, requires_grad=True), xp.zeros(1))
    assert got.requires_grad and want.requires_grad
    for fn in (lambda m, t: t.stride(), lambda m, t: t.t().stride(), lambda m, t: t[:, ::2].stride(),
               lambda m, t: t.expand(2, 2, 3).stride(), lambda m, t: t.stride(-1), lambda m, t: t.t().is_contiguous(),
               lambda m, t: t.t().contiguous().stride(), lambda m, t: t.permute(1, 0).contiguous().is_contiguous()):
        got, want = _both(torch, fn, x)
        assert got == want


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "amax", "amin", "argmax", "argmin", "logsumexp", "var",
                                  "std", "median", "any", "all"])
def test_keepdims_is_keepdim(torch, name):
    x = xp.arange(1.0, 7.0).reshape(2, 3)
    got, want = _both(torch, lambda m, t: getattr(t > 2 if name in ("any", "all") else t, name)(1, keepdims=True), x)
    got, want = (got[0], want[0]) if name == "median" else (got, want)
    assert tuple(got.shape) == tuple(want.shape) == (2, 1)
    with pytest.raises(TypeError, match="keepdim"):
        getattr(cr.tensor(x), name if name not in ("any", "all") else "sum")(1, keepdim=True, keepdims=True)
    for fn in (lambda m, t: m.max(t, 1, keepdims=True)[0], lambda m, t: m.min(t, 0, keepdims=True)[0],
               lambda m, t: m.sum(t, 0, keepdims=True)):
        _same(*_both(torch, fn, x))


def test_set_default_dtype(torch):
    assert cr.get_default_dtype() is cr.float32
    try:
        for d in ("float64", "float16", "float32"):
            cr.set_default_dtype(getattr(cr, d))
            torch.set_default_dtype(getattr(torch, d))
            for fn in (lambda m: m.tensor([1.5]), lambda m: m.Tensor([1, 2]), lambda m: m.zeros(2),
                       lambda m: m.arange(0.0, 2.0), lambda m: m.tensor([1, 2]) / 2, lambda m: m.tensor([1]).exp(),
                       lambda m: m.tensor([1]) * 0.5, lambda m: m.rand(2), lambda m: m.nn.Linear(2, 2).weight):
                assert str(fn(cr).dtype).split(".")[-1] == str(fn(torch).dtype).split(".")[-1]
            assert str(cr.get_default_dtype()) == str(torch.get_default_dtype()).replace("torch", "chainrule")
            for fn in (lambda m: m.tensor([1.5, 2.0]), lambda m: m.tensor([1.5], dtype=m.float32),
                       lambda m: m.zeros(0), lambda m: m.zeros(0, dtype=m.float64), lambda m: m.tensor([1.0]).sort()):
                assert repr(fn(cr)) == repr(fn(torch)).replace("torch.", "chainrule.")   # printing names the dtype
    finally:
        cr.set_default_dtype(cr.float32)
        torch.set_default_dtype(torch.float32)
    with pytest.raises(TypeError, match="floating-point"):
        cr.set_default_dtype(cr.int64)
    with pytest.raises(TypeError, match="bfloat16"):
        cr.set_default_dtype(cr.bfloat16)
    assert cr.get_default_dtype() is cr.float32


def test_bfloat16_is_a_name_that_refuses_storage():
    assert repr(cr.bfloat16) == "chainrule.bfloat16" and cr.bfloat16.is_floating_point
    assert cr.bfloat16.itemsize == 2 and cr.bfloat16 != cr.float32
    assert {cr.float32: "f", cr.bfloat16: "bf"}[cr.bfloat16] == "bf"
    for make in (lambda: cr.zeros(2, dtype=cr.bfloat16), lambda: cr.ones(2).to(cr.bfloat16),
                 lambda: cr.tensor([1.0], dtype="bfloat16")):
        with pytest.raises(TypeError, match="bfloat16 is a name only"):
            make()


def test_cdist_double_backward_numerically():
    """torch has no double backward for cdist; chainrule's composite gets gradgradcheck instead."""
    rng = xp.random.default_rng(3)
    a = cr.tensor(rng.standard_normal((3, 4)), dtype=cr.float64, requires_grad=True)
    b = cr.tensor(rng.standard_normal((2, 4)), dtype=cr.float64, requires_grad=True)
    for p in (2.0, 1.5):
        assert cr.autograd.gradgradcheck(lambda x, y, p=p: cr.cdist(x, y, p=p), (a, b))


@pytest.mark.parametrize("bad, match", [
    (lambda t: t.topk(4), "selected index k out of range"),
    (lambda t: t.narrow(0, 2, 2), "exceeds dimension size"),
    (lambda t: t.rot90(1, (0, 0)), "rotation dims to be different"),
    (lambda t: t.diagonal(0, 1, 1), "cannot be identical"),
    (lambda t: t.take(cr.tensor([9])), "out of range"),
    (lambda t: t.roll((1, 2), 0), "must align"),
    (lambda t: t.repeat_interleave(cr.tensor([1, 2])), "same size"),
    (lambda t: t.index_add(0, cr.tensor([0]), cr.ones(2, 3)), "does not match"),
    (lambda t: cr.einsum("ij,jk->ik", t, cr.ones(2, 2)), "einsum"),
    (lambda t: cr.einsum("ijk->i", t), "number of subscripts"),
    (lambda t: cr.tensordot(t, t, ([0], [1])), "contracted dimensions"),
    (lambda t: cr.cdist(t, cr.ones(2, 2)), "same number of columns"),
    (lambda t: cr.zeros(2, 0).median(1), "non-zero size"),
])
def test_bad_input_names_the_op(bad, match):
    t = cr.ones(3, 3) if match != "same size" else cr.ones(3)
    if match == "contracted dimensions":
        t = cr.ones(2, 3)
    with pytest.raises((RuntimeError, IndexError, ValueError, TypeError), match=match):
        bad(t)

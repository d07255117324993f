"""Every registry row (tests/op_specs.py) checked against PyTorch, in float64:

* forward values, shapes and dtypes equal torch's;
* first-order gradients equal torch's for a random upstream gradient, both on the plain path and
  under ``create_graph=True`` (two different code paths in chainrule);
* double backward: the gradient of <grad, w> with respect to the inputs and the upstream gradient
  equals torch's (this proves each backward formula is itself differentiable);
* central differences agree with the analytic gradient (needs no torch);
* grad_fn names equal torch's, except where a row documents a deliberate difference.

Elementwise, broadcasting and reduction rows are also run on hypothesis-drawn shapes.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_specs import ALL, REDUCTIONS, STABILITY, Spec, make_inputs

import chainrule as cr
from chainrule.backend import xp

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::UserWarning")

RTOL, ATOL = 1e-10, 1e-12
ERRORS = (RuntimeError, ValueError, IndexError, TypeError, NotImplementedError)  # how both reject input
CASES = [pytest.param(spec, shapes, id=f"{spec.name}-{'x'.join(map(str, shapes)) or 'fixed'}")
         for spec in ALL for shapes in (spec.shapes if spec.domain != "fixed" else ((),))]
FEW = settings(max_examples=10, deadline=None)


def _seed(spec: Spec, shapes) -> int:
    return sum(map(ord, spec.name + repr(shapes))) * 7919


def _case(spec: Spec, shapes):
    rng = xp.random.default_rng(_seed(spec, shapes))
    arrays = make_inputs(spec, shapes, rng)
    aux = spec.aux(rng, shapes) if spec.aux else []
    return arrays, aux, rng


def _as_list(out) -> list:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _np(t):
    return xp.asarray(t.detach().numpy(force=True))  # force: torch's zero gradients are ZeroTensors


def _differentiable(spec: Spec, n: int) -> list:
    return list(spec.grads) if spec.grads is not None else [True] * n


def run(m, spec: Spec, arrays, aux, upstream=None, create_graph=True):
    """Apply the row in module ``m``; return forward values and first/second-order gradients.

    ``upstream(shapes)`` gives the upstream gradients (one per differentiable output), so both
    libraries see the same ones.
    """
    needs = _differentiable(spec, len(arrays))
    xs = [m.tensor(a, dtype=m.float64, requires_grad=g) for a, g in zip(arrays, needs)]
    extra = [m.tensor(a) for a in aux]
    outs = _as_list(spec.apply(m, *xs, *extra))
    result = {"values": [_np(o) for o in outs], "dtypes": [str(o.dtype).split(".")[-1] for o in outs],
              "requires_grad": [bool(o.requires_grad) for o in outs],
              "names": [type(o.grad_fn).__name__ if m.__name__ == "torch" else o.grad_fn.name()
                        for o in outs if o.grad_fn is not None]}
    diff_outs = [o for o in outs if o.requires_grad]
    inputs = [x for x, g in zip(xs, needs) if g]
    if not diff_outs or not inputs or upstream is None:
        return result
    vs = [m.tensor(v, dtype=m.float64, requires_grad=True) for v in upstream([tuple(o.shape) for o in diff_outs])]
    grads = m.autograd.grad(diff_outs, inputs, grad_outputs=vs, create_graph=create_graph, allow_unused=True)
    result["grads"] = [_np(g) if g is not None else xp.zeros(x.shape) for g, x in zip(grads, inputs)]
    if not create_graph:
        return result
    result["grads_rg"] = [g is not None and bool(g.requires_grad) for g in grads]
    # the same with a constant upstream gradient (loss.backward(create_graph=True) passes ones)
    fixed = [m.tensor(v, dtype=m.float64) for v in upstream([tuple(o.shape) for o in diff_outs])]
    const = m.autograd.grad(diff_outs, inputs, grad_outputs=fixed, create_graph=True, allow_unused=True)
    result["grads_rg"] += [g is not None and bool(g.requires_grad) for g in const]
    rng = xp.random.default_rng(len(arrays))
    terms = [(g * m.tensor(rng.standard_normal(tuple(g.shape)), dtype=m.float64)).sum()
             for g in grads if g is not None and g.requires_grad]
    targets = inputs + vs
    if terms:
        s = terms[0]
        for t in terms[1:]:
            s = s + t
        second = m.autograd.grad(s, targets, allow_unused=True)
    else:
        second = [None] * len(targets)
    result["second"] = [_np(g) if g is not None else xp.zeros(tuple(t.shape)) for g, t in zip(second, targets)]
    return result


def _upstream(seed: int):
    def draw(shapes):
        rng = xp.random.default_rng(seed)
        return [rng.standard_normal(s) for s in shapes]
    return draw


def assert_close(got, want, what: str, rtol=RTOL, atol=ATOL):
    got, want = xp.asarray(got), xp.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, torch gives {want.shape}"
    if want.dtype.kind in "biu":
        assert xp.array_equal(got, want), f"{what}: {got} != torch's {want}"
        return
    ok = xp.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
    if not ok:
        err = xp.nanmax(xp.abs(got - want)) if got.size else 0
        raise AssertionError(f"{what}: max abs difference {err}\nchainrule: {got}\ntorch:     {want}")


def compare_with_torch(torch, spec: Spec, arrays, aux, seed: int):
    """The whole oracle check for one row and one set of inputs."""
    if spec.torch_raises:
        with pytest.raises(ERRORS):
            run(torch, spec, arrays, aux, _upstream(seed))
        run(cr, spec, arrays, aux, _upstream(seed))
        return "torch raises"
    try:
        want = run(torch, spec, arrays, aux, _upstream(seed), create_graph=not spec.double)
    except ERRORS as e:  # torch rejects the inputs: chainrule must reject them too
        with pytest.raises(ERRORS):
            run(cr, spec, arrays, aux, _upstream(seed))
        return f"both raise ({type(e).__name__})"
    got = run(cr, spec, arrays, aux, _upstream(seed), create_graph=not spec.double)
    plain = run(cr, spec, arrays, aux, _upstream(seed), create_graph=False)
    assert len(got["values"]) == len(want["values"]), f"{spec.name}: number of outputs"
    for i, (g, w) in enumerate(zip(got["values"], want["values"])):
        assert_close(g, w, f"{spec.name}: forward output {i}")
    assert got["dtypes"] == want["dtypes"], f"{spec.name}: dtypes {got['dtypes']} vs torch {want['dtypes']}"
    assert got["requires_grad"] == want["requires_grad"], f"{spec.name}: requires_grad of outputs"
    assert ("grads" in got) == ("grads" in want), f"{spec.name}: one library produced no gradient"
    if "grads" not in want:
        return "forward only"
    for i, (g, p, w) in enumerate(zip(got["grads"], plain["grads"], want["grads"])):
        assert_close(p, w, f"{spec.name}: gradient of input {i}")
        assert_close(g, w, f"{spec.name}: gradient of input {i} under create_graph=True")
    if spec.double:
        return "first order"
    # under create_graph=True a gradient must require grad exactly when torch's does (else grad(grad)
    # raises in one library and returns zeros in the other)
    assert got["grads_rg"] == want["grads_rg"], \
        f"{spec.name}: requires_grad of first-order gradients {got['grads_rg']}, torch {want['grads_rg']}"
    for i, (g, w) in enumerate(zip(got["second"], want["second"])):
        what = f"input {i}" if i < len(got["grads"]) else f"upstream gradient {i - len(got['grads'])}"
        if all(a.size == 0 for a in arrays) and xp.isnan(w).any():
            # An empty input has an empty gradient, so <grad, w> is a sum over nothing: its derivative
            # is exactly 0. torch 2.13's var/std double backward gives NaN there instead.
            assert not xp.any(g), f"{spec.name}: double backward over an empty input must be 0, got {g}"
            continue
        assert_close(g, w, f"{spec.name}: double backward w.r.t. {what}", rtol=1e-9, atol=1e-10)
    return "checked"


@pytest.mark.parametrize("spec, shapes", CASES)
def test_matches_torch(torch, spec, shapes):
    arrays, aux, _ = _case(spec, shapes)
    compare_with_torch(torch, spec, arrays, aux, _seed(spec, shapes))


def numerical_gradients(spec: Spec, arrays, aux, upstream, eps=1e-6) -> list:
    """Central differences of f(x) = Σ <op(x), v> for each differentiable input."""
    extra = [cr.tensor(a) for a in aux]

    def f(values) -> float:
        with cr.no_grad():
            outs = _as_list(spec.apply(cr, *[cr.tensor(a, dtype=cr.float64) for a in values], *extra))
            floats = [o for o in outs if o.is_floating_point()]
            return sum(float((o._data * v).sum()) for o, v in zip(floats, upstream([o.shape for o in floats])))

    grads = []
    for k, (a, needed) in enumerate(zip(arrays, _differentiable(spec, len(arrays)))):
        if not needed:
            continue
        g = xp.zeros(a.shape)
        for idx in xp.ndindex(*a.shape):
            plus = [b.copy() for b in arrays]
            minus = [b.copy() for b in arrays]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            g[idx] = (f(plus) - f(minus)) / (2 * eps)
        grads.append(g)
    return grads


NUMERIC = [c for c in CASES if c.values[0].numeric]


@pytest.mark.parametrize("spec, shapes", NUMERIC)
def test_numerical_gradient(spec, shapes):
    arrays, aux, _ = _case(spec, shapes)
    seed = _seed(spec, shapes)
    analytic = run(cr, spec, arrays, aux, _upstream(seed), create_graph=False)
    if "grads" not in analytic:
        assert not any(analytic["requires_grad"]), f"{spec.name}: an output requires grad but got none"
        return
    numeric = numerical_gradients(spec, arrays, aux, _upstream(seed))
    for i, (a, n) in enumerate(zip(analytic["grads"], numeric)):
        assert_close(a, n, f"{spec.name}: analytic vs numerical gradient of input {i}", rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("spec, shapes", [c for c in CASES if not c.values[0].name_differs])
def test_grad_fn_names(torch, spec, shapes):
    arrays, aux, _ = _case(spec, shapes)
    try:
        want = run(torch, spec, arrays, aux)["names"]
    except ERRORS:
        return  # rejected inputs are covered by test_matches_torch
    got = run(cr, spec, arrays, aux)["names"]
    assert got == want, f"{spec.name}: grad_fn {got}, torch has {want}"


@pytest.mark.parametrize("spec", STABILITY, ids=lambda s: s.name)
def test_stable_at_huge_logits(spec):
    x = cr.tensor(spec.values[0], dtype=cr.float64, requires_grad=True)
    out = spec.apply(cr, x)
    (g,) = cr.autograd.grad(out, x, grad_outputs=cr.ones_like(out))
    assert bool(out.isfinite().all()), f"{spec.name}: forward has NaN/inf: {out}"
    assert bool(g.isfinite().all()), f"{spec.name}: gradient has NaN/inf: {g}"


# --- hypothesis: elementwise/broadcast and reduction families on drawn shapes -----------------------

SHAPE = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
UNARY_ROWS = [s for s in ALL if s.family == "unary"]
BINARY_ROWS = [s for s in ALL if s.family == "binary"]


@pytest.mark.parametrize("spec", UNARY_ROWS, ids=lambda s: s.name)
@FEW
@given(shape=SHAPE)
def test_unary_any_shape(torch, spec, shape):
    arrays, aux, _ = _case(spec, (shape,))
    compare_with_torch(torch, spec, arrays, aux, _seed(spec, (shape,)))


@pytest.mark.parametrize("spec", BINARY_ROWS, ids=lambda s: s.name)
@FEW
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=0, max_side=3))
def test_binary_broadcasting(torch, spec, shapes):
    arrays, aux, _ = _case(spec, shapes.input_shapes)
    compare_with_torch(torch, spec, arrays, aux, _seed(spec, shapes.input_shapes))


@st.composite
def shape_and_dims(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4))
    n = len(shape)
    dims = draw(st.one_of(st.none(), st.lists(st.integers(-n, n - 1), min_size=1, max_size=n,
                                               unique_by=lambda d: d % n).map(tuple)))
    return shape, dims, draw(st.booleans())


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@FEW
@given(case=shape_and_dims())
def test_reduction_any_shape(torch, name, case):
    shape, dims, keepdim = case
    fn, domain = REDUCTIONS[name]
    spec = Spec(f"{name}(dim={dims}, keepdim={keepdim})", lambda m, x: fn(m, x, dims, keepdim), domain=domain)
    arrays, aux, _ = _case(spec, (shape,))
    compare_with_torch(torch, spec, arrays, aux, _seed(spec, (shape,)))


def test_registry_covers_issue_ops():
    """The ops issue 2 lists all have a row (guards against a row silently disappearing)."""
    names = {s.name for s in ALL}
    required = str.split("add sub mul div pow_tensor rsub_scalar rdiv_scalar rpow_scalar neg abs matmul mm bmm mv dot outer "
                "exp log log1p expm1 log2 sqrt rsqrt sin cos tan tanh sigmoid relu sign floor ceil round clamp "
                "clip minimum maximum where sum mean var std prod max min amax amin argmax argmin logsumexp "
                "norm cumsum reshape view flatten unflatten squeeze unsqueeze permute transpose t expand "
                "broadcast_to repeat tile flip cat stack split chunk pad gather scatter index_select "
                "masked_fill tril triu eq lt logical_and softmax log_softmax index_int index_slice index_none "
                "index_ellipsis index_bool_mask index_int_array index_repeated setitem")
    missing = [r for r in required if r not in names]
    assert not missing, f"registry rows missing: {missing}"

"""Tensor methods that must behave exactly as PyTorch's: ``view`` (shapes and dtypes), ``reshape`` (view or
copy), the named pairs of ``max(dim)``/``min(dim)``, ``type()`` and ``inner`` — each case run in both
libraries and compared.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


def _dtype(m, name: str):
    return getattr(m, name)


def _make(m, shape, dtype="float32", requires_grad=False):
    """arange(n) in ``shape`` (distinct values, so a moved element shows)."""
    n = int(np.prod(shape))
    x = m.arange(n).reshape(shape).to(_dtype(m, dtype))
    return x.requires_grad_() if requires_grad else x


# --- view(shape) ------------------------------------------------------------------------------------
# (name, how to build a possibly non-contiguous tensor from a contiguous one, the target shape)
VIEW_CASES = [
    ("contiguous", (2, 3), lambda x: x, (3, 2)),
    ("contiguous_infer", (2, 3, 4), lambda x: x, (4, -1)),
    ("t_flatten", (2, 3), lambda x: x.t(), (6,)),
    ("t_split_dim", (2, 3), lambda x: x.t(), (3, 1, 2)),
    ("t_same_shape", (2, 3), lambda x: x.t(), (3, 2)),
    ("slice_cols_flatten", (4, 6), lambda x: x[:, :3], (12,)),
    ("slice_cols_split_rows", (4, 6), lambda x: x[:, :3], (2, 2, 3)),
    ("slice_cols_unsqueeze", (4, 6), lambda x: x[:, :3], (4, 3, 1)),
    ("slice_rows_flatten", (4, 6), lambda x: x[1:3], (12,)),
    ("step_slice", (8,), lambda x: x[::2], (2, 2)),
    ("step_slice_flatten", (4, 2), lambda x: x[::2], (4,)),
    ("permute_merge", (2, 3, 4), lambda x: x.permute(2, 0, 1), (4, 6)),
    ("permute_split", (2, 3, 4), lambda x: x.permute(2, 0, 1), (2, 2, 2, 3)),
    ("permute_merge_last", (2, 3, 4), lambda x: x.permute(1, 0, 2), (3, 8)),
    ("expand_flatten", (3, 1), lambda x: x.expand(3, 4), (12,)),
    ("expand_split", (1, 4), lambda x: x.expand(3, 4), (3, 2, 2)),
    ("empty_t", (0, 3), lambda x: x.t(), (0,)),
]


@pytest.mark.parametrize("name,shape,build,target", VIEW_CASES, ids=[c[0] for c in VIEW_CASES])
def test_view_shape_matches_torch(torch, name, shape, build, target):
    tx = build(_make(torch, shape))
    cx = build(_make(cr, shape))
    try:
        tv = tx.view(target)
    except RuntimeError as e:
        assert "view size is not compatible with input tensor's size and stride" in str(e)
        with pytest.raises(RuntimeError) as err:
            cx.view(target)
        msg = str(err.value)
        assert msg.startswith("view: view size is not compatible with input tensor's size and stride")
        assert str(tuple(cx.shape)) in msg and str(tuple(target)) in msg and str(cx.stride()) in msg
        assert "Use .reshape(...) instead." in msg
        return
    cv = cx.view(target)
    assert tuple(cv.shape) == tuple(tv.shape)
    assert cv.stride() == tv.stride()
    np.testing.assert_array_equal(cv.numpy(), tv.numpy())
    if name.startswith("expand"):
        return      # chainrule's expanded tensors are read-only (NumPy's broadcast views); PyTorch's are not
    # a true view: a write through it shows in the base, and the two share one version counter
    before = cx._version
    tv.fill_(-1.0)
    cv.fill_(-1.0)
    np.testing.assert_array_equal(cx.numpy(), tx.numpy())
    assert cx._version == before + 1 and cv._version == cx._version


def test_view_grad_and_errors_match_torch(torch):
    tx, cx = _make(torch, (2, 3), "float64", True), _make(cr, (2, 3), "float64", True)
    tv, cv = tx.t().view(3, 1, 2), cx.t().view(3, 1, 2)
    assert cv.grad_fn.name() == type(tv.grad_fn).__name__ == "ViewBackward0"
    w = np.arange(6.0).reshape(3, 1, 2)
    (tv * torch.tensor(w)).sum().backward()
    (cv * cr.tensor(w)).sum().backward()
    np.testing.assert_array_equal(cx.grad.numpy(), tx.grad.numpy())
    for bad in [(4,), (-1, -1), (4, -1)]:
        with pytest.raises(RuntimeError):
            torch.zeros(2, 3).view(bad)
        with pytest.raises(RuntimeError, match=r"^view: "):
            cr.zeros(2, 3).view(bad)


# --- reshape: a view when possible, a copy otherwise ------------------------------------------------
RESHAPE_CASES = [c for c in VIEW_CASES if c[0] not in ("t_same_shape", "empty_t")]


@pytest.mark.parametrize("name,shape,build,target", RESHAPE_CASES, ids=[c[0] for c in RESHAPE_CASES])
def test_reshape_view_or_copy_matches_torch(torch, name, shape, build, target):
    tbase, cbase = _make(torch, shape), _make(cr, shape)
    tx, cx = build(tbase), build(cbase)
    tr, cr_ = tx.reshape(target), cx.reshape(target)
    assert tuple(cr_.shape) == tuple(tr.shape)
    np.testing.assert_array_equal(cr_.numpy(), tr.numpy())
    is_view = tr.untyped_storage().data_ptr() == tbase.untyped_storage().data_ptr()
    try:
        tx.view(target)
        assert is_view
    except RuntimeError:
        assert not is_view
    if name.startswith("expand"):
        return      # chainrule's expanded tensors are read-only (NumPy's broadcast views); PyTorch's are not
    before = cbase._version
    tr.fill_(-1.0)
    cr_.fill_(-1.0)
    np.testing.assert_array_equal(cbase.numpy(), tbase.numpy())     # the write reached the base iff a view
    assert (cbase._version == before + 1) == is_view == (tbase._version == 1)

    # the grad_fn says which: ViewBackward0, ReshapeAliasBackward0 (a view of a non-contiguous tensor) or
    # UnsafeViewBackward0 (a copy); the gradient is the same either way
    tg, cg = build(_make(torch, shape, "float64", True)), build(_make(cr, shape, "float64", True))
    to, co = tg.reshape(target), cg.reshape(target)
    assert co.grad_fn.name() == type(to.grad_fn).__name__
    w = np.arange(1.0, 1.0 + co.numel()).reshape(tuple(co.shape))
    tleaf, cleaf = tg if tg.is_leaf else tg._base, cg if cg.is_leaf else cg._base
    (to * torch.tensor(w)).sum().backward()
    (co * cr.tensor(w)).sum().backward()
    np.testing.assert_array_equal(cleaf.grad.numpy(), tleaf.grad.numpy())


# --- view(dtype): the same bytes read as another type -------------------------------------------------
DTYPE_CASES = [
    ("f32_as_i32", (2, 3), "float32", lambda x: x, "int32"),
    ("f32_as_i32_0d", (), "float32", lambda x: x, "int32"),
    ("f32_as_i32_transposed", (2, 3), "float32", lambda x: x.t(), "int32"),
    ("f32_as_f16", (2, 3), "float32", lambda x: x, "float16"),
    ("f32_as_u8", (2, 3), "float32", lambda x: x, "uint8"),
    ("f32_as_bool", (2,), "float32", lambda x: x + 1, "bool"),
    ("f32_as_i64", (2, 4), "float32", lambda x: x, "int64"),
    ("f32_as_f64_odd_last", (2, 3), "float32", lambda x: x, "float64"),
    ("f32_as_i64_0d", (), "float32", lambda x: x, "int64"),
    ("f32_as_f16_0d", (), "float32", lambda x: x, "float16"),
    ("f32_as_f16_transposed", (2, 3), "float32", lambda x: x.t(), "float16"),
    ("f32_as_i64_offset", (2, 6), "float32", lambda x: x[:, 1:5], "int64"),
    ("f32_as_i64_offset_even", (2, 6), "float32", lambda x: x[:, 2:6], "int64"),
    ("f32_as_i64_odd_stride", (3, 5), "float32", lambda x: x[:, :4], "int64"),
    ("f64_as_f32", (2, 2), "float64", lambda x: x, "float32"),
    ("f64_as_i64", (3,), "float64", lambda x: x, "int64"),
    ("i64_as_f64", (3,), "int64", lambda x: x, "float64"),
    ("i64_as_i32_step", (4,), "int64", lambda x: x[::2], "int32"),
    ("u8_as_bool", (4,), "uint8", lambda x: x % 2, "bool"),
    ("bool_as_u8", (4,), "bool", lambda x: x, "uint8"),
    ("u8_as_i32", (2, 8), "uint8", lambda x: x, "int32"),
    ("f16_as_f32", (2, 4), "float16", lambda x: x, "float32"),
]


@pytest.mark.parametrize("name,shape,src,build,dst", DTYPE_CASES, ids=[c[0] for c in DTYPE_CASES])
def test_view_dtype_matches_torch(torch, name, shape, src, build, dst):
    tx, cx = build(_make(torch, shape, src)), build(_make(cr, shape, src))
    try:
        tv = tx.view(_dtype(torch, dst))
    except RuntimeError as e:
        with pytest.raises(RuntimeError) as err:
            cx.view(_dtype(cr, dst))
        assert str(err.value).startswith("view: ") and str(e) in str(err.value)
        return
    cv = cx.view(_dtype(cr, dst))
    assert cv.dtype == _dtype(cr, dst)
    assert tuple(cv.shape) == tuple(tv.shape) and cv.stride() == tv.stride()
    assert cv.numpy().tobytes() == tv.numpy().tobytes()      # bit for bit, not converted values
    # memory and version counter are shared with the source
    before = cx._version
    tv.zero_()
    cv.zero_()
    assert cx.numpy().tobytes() == tx.numpy().tobytes()
    assert cx._version == cv._version == before + 1


def test_view_dtype_is_not_differentiable_like_torch(torch):
    assert torch.tensor([1.0]).view(torch.int32).item() == cr.tensor([1.0]).view(cr.int32).item() == 1065353216
    for make in (lambda m: m.tensor([1.0, 2.0], requires_grad=True),
                 lambda m: m.tensor([1.0, 2.0], requires_grad=True) * 2):
        tx, cx = make(torch), make(cr)
        for name in ("float32", "int32", "float16"):
            tv, cv = tx.view(_dtype(torch, name)), cx.view(_dtype(cr, name))
            assert cv.requires_grad is tv.requires_grad is False
            assert cv.grad_fn is None and tv.grad_fn is None
            assert cv._base is None and tv._base is None
    with pytest.raises(RuntimeError):
        torch.tensor([1.0], requires_grad=True).view(torch.float16).sum().backward()
    with pytest.raises(RuntimeError):
        cr.tensor([1.0], requires_grad=True).view(cr.float16).sum().backward()
    # keyword form
    assert cr.zeros(2).view(dtype=cr.int32).dtype == cr.int32


# --- max(dim)/min(dim): PyTorch's named pairs ----------------------------------------------------------
@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("case", ["dim", "keepdim", "scalar", "function"])
def test_max_min_return_types_match_torch(torch, op, case):
    data = [[1.0, 5.0, 2.0], [3.0, 2.0, 4.0]]

    def run(m):
        x = m.tensor(data)
        if case == "dim":
            return getattr(x, op)(1)
        if case == "keepdim":
            return getattr(x, op)(0, keepdim=True)
        if case == "scalar":
            return getattr(m.tensor(3.5), op)(0)
        return getattr(m, op)(x, dim=-1)

    t, c = run(torch), run(cr)
    assert repr(c) == repr(t).replace("torch.", "chainrule.")
    assert type(c).__name__ == type(t).__name__ == op
    values, indices = c
    assert values is c.values and indices is c.indices and c[0] is c.values
    np.testing.assert_array_equal(c.values.numpy(), t.values.numpy())
    np.testing.assert_array_equal(c.indices.numpy(), t.indices.numpy())
    assert c.indices.dtype == cr.int64


def test_median_dim_return_type_matches_torch(torch):
    t, c = torch.tensor([[1.0, 4.0, 2.0]]).median(1), cr.tensor([[1.0, 4.0, 2.0]]).median(1)
    assert repr(c) == repr(t).replace("torch.", "chainrule.")


# --- type() --------------------------------------------------------------------------------------------
DTYPES = ["float16", "float32", "float64", "int32", "int64", "uint8", "bool"]


@pytest.mark.parametrize("name", DTYPES)
def test_type_names_match_torch(torch, name):
    t, c = torch.zeros(2, dtype=_dtype(torch, name)), cr.zeros(2, dtype=_dtype(cr, name))
    assert c.type() == t.type().replace("torch.", "chainrule.")


@pytest.mark.parametrize("name", DTYPES)
def test_type_converts_like_torch(torch, name):
    t, c = torch.tensor([1.7, -2.2, 0.0]), cr.tensor([1.7, -2.2, 0.0])
    type_name = torch.zeros(1, dtype=_dtype(torch, name)).type()        # "torch.FloatTensor" ...
    for arg_t, arg_c in [(_dtype(torch, name), _dtype(cr, name)), (type_name, type_name),
                         (type_name, type_name.replace("torch.", "chainrule."))]:
        tt, cc = t.type(arg_t), c.type(arg_c)
        assert cc.dtype == _dtype(cr, name) and str(tt.dtype) == str(cc.dtype).replace("chainrule.", "torch.")
        np.testing.assert_array_equal(cc.numpy(), tt.numpy())
        assert (cc is c) == (tt is t)


def test_type_errors_like_torch(torch):
    t, c = torch.zeros(1), cr.zeros(1)
    for bad in ["FloatTensor", "torch.float32", "torch.NoSuchTensor"]:
        with pytest.raises(ValueError):
            t.type(bad)
        with pytest.raises(ValueError, match="^type: invalid type"):
            c.type(bad)
    with pytest.raises(TypeError):
        t.type(3)
    with pytest.raises(TypeError, match="^type: "):
        c.type(3)
    with pytest.raises(RuntimeError):
        c.type("torch.cuda.FloatTensor")      # chainrule has no CUDA (its error, as for .to("cuda"))
    y = cr.tensor([1.0], requires_grad=True)
    assert y.type(cr.float64).requires_grad and y.type(cr.float64).grad_fn is not None


# --- inner ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3, 4), (5, 4)), ((2, 0), (3, 0)), ((), (2, 3))])
def test_inner_integers_and_empty_match_torch(torch, sa, sb):
    a = np.arange(int(np.prod(sa))).reshape(sa) - 2
    b = np.arange(int(np.prod(sb))).reshape(sb) + 1
    t, c = torch.inner(torch.tensor(a), torch.tensor(b)), cr.inner(cr.tensor(a), cr.tensor(b))
    assert tuple(c.shape) == tuple(t.shape) and c.dtype == cr.int64
    np.testing.assert_array_equal(c.numpy(), t.numpy())


def test_inner_errors_like_torch(torch):
    for a, b in [((2, 3), (2,)), ((3,), (4, 2))]:
        with pytest.raises(RuntimeError, match="inner.. the last dimension must match"):
            torch.inner(torch.ones(a), torch.ones(b))
        with pytest.raises(RuntimeError, match=r"^inner: the last dimension must match .*\(2, 3\)|\(4, 2\)"):
            cr.inner(cr.ones(a), cr.ones(b))
    with pytest.raises(RuntimeError, match="same dtype"):
        torch.inner(torch.ones(3), torch.ones(3, dtype=torch.int64))
    with pytest.raises(RuntimeError, match="^inner: both inputs should have the same dtype"):
        cr.inner(cr.ones(3), cr.ones(3, dtype=cr.int64))

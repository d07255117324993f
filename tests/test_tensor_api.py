"""The Tensor API against PyTorch: creation and dtypes, type promotion, printing, conversions,
copies and views, in-place ops with and without grad, setitem, and seeded randomness."""

from __future__ import annotations

import pytest

import chainrule as cr
from chainrule.backend import xp


def _torch_dtype_name(d) -> str:
    return str(d).replace("torch.", "")


def _name(d) -> str:
    return str(d).replace("chainrule.", "")


# --- creation ---------------------------------------------------------------------------------

CREATIONS = {
    "tensor_floats": lambda m: m.tensor([1.0, 2.0]),
    "tensor_ints": lambda m: m.tensor([[1, 2], [3, 4]]),
    "tensor_bools": lambda m: m.tensor([True, False]),
    "tensor_scalar": lambda m: m.tensor(3.5),
    "tensor_dtype": lambda m: m.tensor([1, 2], dtype=m.float64),
    "zeros": lambda m: m.zeros(2, 3),
    "zeros_tuple": lambda m: m.zeros((2, 3), dtype=m.int64),
    "ones": lambda m: m.ones(4),
    "full_int": lambda m: m.full((2,), 3),
    "full_float": lambda m: m.full((2, 2), 1.5),
    "full_bool": lambda m: m.full((2,), True),
    "eye": lambda m: m.eye(2, 3),
    "arange_int": lambda m: m.arange(5),
    "arange_float": lambda m: m.arange(0, 1, 0.25),
    "arange_start": lambda m: m.arange(2, 8, 2),
    "linspace": lambda m: m.linspace(0, 1, 5),
    "zeros_like_int": lambda m: m.zeros_like(m.tensor([1, 2])),
    "ones_like_dtype": lambda m: m.ones_like(m.tensor([1, 2]), dtype=m.float64),
    "full_like": lambda m: m.full_like(m.tensor([1.0, 2.0]), 7),
    "empty_shape": lambda m: m.empty(2, 0),
}


@pytest.mark.parametrize("name", sorted(CREATIONS))
def test_creation_values_and_dtypes(torch, name):
    got, want = CREATIONS[name](cr), CREATIONS[name](torch)
    assert _name(got.dtype) == _torch_dtype_name(want.dtype), name
    assert tuple(got.shape) == tuple(want.shape), name
    if want.numel():
        assert xp.array_equal(got.numpy(), want.numpy()), name


@pytest.mark.parametrize("fn, dtype", [
    (lambda m: m.rand(3), "float32"), (lambda m: m.randn(2, 2, dtype=m.float64), "float64"),
    (lambda m: m.randint(0, 5, (3,)), "int64"), (lambda m: m.randperm(4), "int64"),
])
def test_random_creation_dtypes(torch, fn, dtype):
    assert _name(fn(cr).dtype) == _torch_dtype_name(fn(torch).dtype) == dtype


def test_manual_seed_reproducible():
    cr.manual_seed(7)
    a = (cr.rand(3), cr.randn(2, 2), cr.randint(0, 10, (4,)), cr.randperm(5))
    cr.manual_seed(7)
    b = (cr.rand(3), cr.randn(2, 2), cr.randint(0, 10, (4,)), cr.randperm(5))
    for x, y in zip(a, b):
        assert xp.array_equal(x.numpy(), y.numpy())
    cr.manual_seed(8)
    assert not xp.array_equal(cr.rand(3).numpy(), a[0].numpy())
    g1, g2 = cr.Generator().manual_seed(3), cr.Generator().manual_seed(3)
    assert xp.array_equal(cr.rand(4, generator=g1).numpy(), cr.rand(4, generator=g2).numpy())


def test_initialisers_are_seeded():
    w = cr.empty(3, 3)
    cr.manual_seed(0)
    w.uniform_(-1, 1)
    first = w.numpy().copy()
    cr.manual_seed(0)
    w.uniform_(-1, 1)
    assert xp.array_equal(first, w.numpy())
    assert (first >= -1).all() and (first < 1).all()


# --- type promotion ---------------------------------------------------------------------------

PROMOTIONS = {
    "f32*pyfloat": lambda m: m.ones(2) * 2.5,
    "f32*pyint": lambda m: m.ones(2) * 2,
    "i64+f32": lambda m: m.ones(2, dtype=m.int64) + m.ones(2),
    "i64/i64": lambda m: m.ones(2, dtype=m.int64) / m.ones(2, dtype=m.int64),
    "i64/pyint": lambda m: m.tensor([3]) / 2,
    "f32+0d_f64": lambda m: m.ones(2) + m.tensor(1.0, dtype=m.float64),
    "0d_i64+0d_f64": lambda m: m.tensor(1) + m.tensor(1.0, dtype=m.float64),
    "i64+0d_f64": lambda m: m.tensor([1]) + m.tensor(1.0, dtype=m.float64),
    "bool+i64": lambda m: m.tensor([True]) + m.tensor([1]),
    "bool+pyint": lambda m: m.tensor([True]) + 1,
    "bool+pyfloat": lambda m: m.tensor([True]) + 1.5,
    "i64*pyfloat": lambda m: m.tensor([1]) * 2.5,
    "i32+i64": lambda m: m.tensor([1], dtype=m.int32) + m.tensor([1]),
    "i32+0d_i64": lambda m: m.tensor([1], dtype=m.int32) + m.tensor(1),
    "u8+i32": lambda m: m.tensor([1], dtype=m.uint8) + m.tensor([1], dtype=m.int32),
    "f16+i64": lambda m: m.tensor([1.0], dtype=m.float16) + m.tensor([1]),
    "f32+f64": lambda m: m.ones(2) + m.ones(2, dtype=m.float64),
    "i64**2": lambda m: m.tensor([3]) ** 2,
    "2**i64": lambda m: 2 ** m.tensor([3]),
    "2.0**i64": lambda m: 2.0 ** m.tensor([3]),
    "i64//2": lambda m: m.tensor([5]) // 2,
    "i64%2": lambda m: m.tensor([5]) % 2,
    "cmp": lambda m: m.tensor([1.0, 2.0]) > 1,
    "sum_int": lambda m: m.tensor([1, 2]).sum(),
    "sum_bool": lambda m: m.tensor([True, True]).sum(),
    "mean_dtype": lambda m: m.tensor([1.0, 2.0]).mean(dtype=m.float64),
    "int_exp": lambda m: m.tensor([1, 2]).exp(),
    "int_abs": lambda m: m.tensor([-1, 2]).abs(),
    "cat_mixed": lambda m: m.cat([m.tensor([1]), m.tensor([1.5])]),
    "where_scalar": lambda m: m.where(m.tensor([True, False]), m.tensor([1, 2]), 0),
    "matmul_int": lambda m: m.tensor([[1, 2], [3, 4]]) @ m.tensor([[1, 0], [0, 1]]),
}


@pytest.mark.parametrize("name", sorted(PROMOTIONS))
def test_promotion_like_torch(torch, name):
    got, want = PROMOTIONS[name](cr), PROMOTIONS[name](torch)
    assert _name(got.dtype) == _torch_dtype_name(want.dtype), f"{name}: {got.dtype} vs torch {want.dtype}"
    assert xp.allclose(got.numpy().astype(float), want.numpy().astype(float)), name


@pytest.mark.parametrize("a, b", [
    (lambda m: m.ones(2), 2.5), (lambda m: m.ones(2, dtype=m.int64), 2.5), (lambda m: m.ones(2, dtype=m.int64), 2),
    (lambda m: m.tensor([True]), 1), (lambda m: m.ones(2), lambda m: m.tensor(1.0, dtype=m.float64)),
    (lambda m: m.ones(2, dtype=m.int32), lambda m: m.ones(2, dtype=m.int64)),
    (lambda m: m.ones(2, dtype=m.int64), lambda m: m.tensor(1.0, dtype=m.float64)),
])
def test_result_type(torch, a, b):
    def result(m):
        return m.result_type(a(m), b(m) if callable(b) else b)
    assert _name(result(cr)) == _torch_dtype_name(result(torch))


# --- printing ---------------------------------------------------------------------------------

REPRS = {
    "floats_grad": lambda m: m.tensor([1.0, 2.0], requires_grad=True),
    "grad_fn": lambda m: m.tensor([1.0, 2.0], requires_grad=True) + 1,
    "sum_grad_fn": lambda m: m.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True).sum(),
    "four_decimals": lambda m: m.tensor([1.5, 2.25, -3.0]),
    "ints": lambda m: m.tensor([1, -2, 30]),
    "int_matrix": lambda m: m.tensor([[1, 2], [3, 40]]),
    "bools": lambda m: m.tensor([True, False]),
    "float64": lambda m: m.tensor([1.0, 2.5], dtype=m.float64),
    "int32": lambda m: m.tensor([1, 2], dtype=m.int32),
    "float64_grad": lambda m: m.tensor(2.0, dtype=m.float64, requires_grad=True) * 2,
    "scalar": lambda m: m.tensor(3.5),
    "int_scalar": lambda m: m.tensor(3),
    "sci_small": lambda m: m.tensor([1e-5, 1.0]),
    "sci_big": lambda m: m.tensor([1e10, 1.0]),
    "sci_ratio": lambda m: m.tensor([[1e-3, 1.0], [100.0, 2.5]]),
    "nan_inf": lambda m: m.tensor([float("nan"), float("inf"), 1.0]),
    "nan_frac": lambda m: m.tensor([float("nan"), -1.5]),
    "zeros_float": lambda m: m.zeros(2, 2),
    "neg_zero": lambda m: m.tensor([-0.0, 0.0]),
    "empty": lambda m: m.zeros(0),
    "empty_2d": lambda m: m.zeros(2, 0),
    "empty_int": lambda m: m.zeros(0, dtype=m.int64),
    "3d": lambda m: m.arange(24).reshape(2, 3, 4),
    "3d_float": lambda m: m.arange(12.0).reshape(2, 3, 2) / 7,
    "wrap": lambda m: m.arange(30.0) / 3,
    "summarised": lambda m: m.arange(2000.0),
    "summarised_2d": lambda m: m.arange(3000).reshape(100, 30),
    "long_suffix": lambda m: (m.arange(14.0, dtype=m.float64) / 3).requires_grad_(),
    "uint8": lambda m: m.tensor([1, 254], dtype=m.uint8),
}


@pytest.mark.parametrize("name", sorted(REPRS))
def test_repr_like_torch(torch, name):
    want = str(REPRS[name](torch)).replace("torch.", "chainrule.")
    assert repr(REPRS[name](cr)) == want


def test_size_and_dtype_reprs():
    assert repr(cr.zeros(2, 3).shape) == "chainrule.Size([2, 3])"
    assert repr(cr.float64) == "chainrule.float64"


# --- conversions ------------------------------------------------------------------------------

def test_python_conversions():
    t = cr.tensor([[1, 2], [3, 4]])
    assert t.tolist() == [[1, 2], [3, 4]] and cr.tensor(2.5).item() == 2.5
    assert len(t) == 2 and [row.tolist() for row in t] == [[1, 2], [3, 4]]
    assert float(cr.tensor([2.5])) == 2.5 and int(cr.tensor(3.7)) == 3
    assert bool(cr.tensor([1.0])) and not bool(cr.tensor(0))
    assert isinstance(cr.tensor(2).item(), int) and isinstance(cr.tensor(2.0).item(), float)
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(cr.tensor([1, 2]))
    with pytest.raises(TypeError, match="0-d"):
        len(cr.tensor(1.0))


def test_numpy_array_and_dlpack_share_memory():
    t = cr.tensor([1.0, 2.0, 3.0])
    assert xp.asarray(t).dtype == xp.float32
    assert xp.array(t, dtype=xp.float64).dtype == xp.float64
    n = t.numpy()
    n[0] = 10.0
    assert t[0].item() == 10.0
    d = xp.from_dlpack(t)
    d[1] = 20.0
    assert t[1].item() == 20.0  # zero-copy
    back = cr.from_dlpack(d)
    assert xp.shares_memory(back.numpy(), t.numpy())
    with pytest.raises(RuntimeError, match="detach"):
        cr.tensor([1.0], requires_grad=True).numpy()


def test_dtype_conversions(torch):
    for fn in (lambda m, t: t.to(m.float64), lambda m, t: t.to(dtype=m.int32), lambda m, t: t.float(),
               lambda m, t: t.double(), lambda m, t: t.long(), lambda m, t: t.int(), lambda m, t: t.bool()):
        got, want = fn(cr, cr.tensor([1.7, -2.7, 0.0])), fn(torch, torch.tensor([1.7, -2.7, 0.0]))
        assert _name(got.dtype) == _torch_dtype_name(want.dtype)
        assert xp.allclose(got.numpy().astype(float), want.numpy().astype(float))
    x = cr.tensor([1.0, 2.0])
    assert x.to(cr.float32) is x  # no conversion, no copy (as PyTorch)
    y = cr.tensor([1.0, 2.0], requires_grad=True)
    (y.double() * 3).sum().backward()
    assert y.grad.dtype == cr.float32 and y.grad.tolist() == [3.0, 3.0]


def test_clone_copies_detach_shares():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.grad_fn.name() == "CloneBackward0" and not xp.shares_memory(c.numpy(force=True), x.numpy(force=True))
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None
    assert xp.shares_memory(d.numpy(), x.numpy(force=True))
    d[0] = 5.0  # detach shares memory: the change shows in x, as in PyTorch
    assert x[0].item() == 5.0
    assert x.data.numpy() is not None and not x.data.requires_grad


# --- in-place ops -----------------------------------------------------------------------------

INPLACE = {
    "add_": lambda t: t.add_(2.0), "add_alpha": lambda t: t.add_(1.0, alpha=3),
    "sub_": lambda t: t.sub_(0.5), "mul_": lambda t: t.mul_(3.0), "div_": lambda t: t.div_(4.0),
    "zero_": lambda t: t.zero_(), "fill_": lambda t: t.fill_(7.0), "clamp_": lambda t: t.clamp_(-0.5, 0.5),
    "copy_": lambda t: t.copy_(t.detach() * 0 + 9.0), "iadd": lambda t: t.__iadd__(1.0),
    "imul_tensor": lambda t: t.__imul__(t.detach() - 1),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_without_grad(torch, name):
    values = [[-1.0, 0.25], [2.0, 3.0]]
    a, b = cr.tensor(values), torch.tensor(values)
    ra, rb = INPLACE[name](a), INPLACE[name](b)
    assert ra is a and rb is b
    assert xp.allclose(a.numpy(), b.numpy()), f"{name}: {a} vs {b}"
    assert a._version == b._version, f"{name}: version {a._version} vs torch {b._version}"


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_with_grad(torch, name):
    values = [[-1.0, 0.25], [2.0, 3.0]]
    results = []
    for m in (cr, torch):
        w = m.tensor(values, dtype=m.float64, requires_grad=True)
        y = w * 2  # a non-leaf: in-place on it is recorded
        out = INPLACE[name](y)
        assert out is y
        (y * y).sum().backward()
        results.append((y.detach().numpy(), w.grad.numpy(), y.grad_fn is not None))
    (ya, ga, fa), (yb, gb, fb) = results
    assert xp.allclose(ya, yb) and xp.allclose(ga, gb), f"{name}: grad {ga} vs torch {gb}"
    assert fa == fb


def test_inplace_on_leaf_under_no_grad():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    with cr.no_grad():
        w -= 0.1 * w.grad
    assert w.is_leaf and w.requires_grad
    assert xp.allclose(w.detach().numpy(), [0.8, 1.6])


def test_setitem_with_grad(torch):
    results = []
    for m in (cr, torch):
        x = m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=m.float64, requires_grad=True)
        v = m.tensor([10.0, 20.0], dtype=m.float64, requires_grad=True)
        y = x * 1.0
        y[:, 1] = v
        y[0, 0] = 0.5
        (y * m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=m.float64)).sum().backward()
        results.append((y.detach().numpy(), x.grad.numpy(), v.grad.numpy()))
    for a, b in zip(*results):
        assert xp.allclose(a, b)


def test_setitem_without_grad_and_views():
    x = cr.zeros(2, 3)
    x[1] = cr.tensor([1.0, 2.0, 3.0])
    x[0, x[1] > 1.5] = -1.0
    assert x.tolist() == [[0.0, -1.0, -1.0], [1.0, 2.0, 3.0]]
    row = x[1]
    row[0] = 7.0  # basic indexing is a view, as in PyTorch
    assert x[1, 0].item() == 7.0 and x._version == row._version


def test_flip_returns_a_copy_as_pytorch(torch):
    """Writing into flip's result must not change the input (PyTorch's flip copies)."""
    for m in (cr, torch):
        x = m.arange(4.0)
        y = x.flip(0)
        y[0] = 100.0
        assert x.tolist() == [0.0, 1.0, 2.0, 3.0]

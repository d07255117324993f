"""ravel, diag/diag_embed, unfold, atleast_Nd, tensor_split/hsplit/vsplit/dsplit, select, the real-tensor
identities (positive, conj, real …) and cummax/cummin: each case is one function run on ``torch`` and on
``chainrule``, and everything it returns must agree: values, dtypes, shapes, whether results are views
(``_base is not None``), what writes through a view did to its base, and gradients. Bad input must raise
the same exception type in both, with chainrule's message naming the op.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")   # no NumPy warning may reach the user
NAN = float("nan")


def _same(got, want, what="result"):
    if isinstance(want, torch.Tensor):
        assert isinstance(got, cr.Tensor), f"{what}: {type(got).__name__}, torch gives a Tensor"
        assert tuple(got.shape) == tuple(want.shape), f"{what}: shape {tuple(got.shape)} vs {tuple(want.shape)}"
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1], f"{what}: dtype {got.dtype}"
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12, err_msg=what)
        assert np.array_equal(np.signbit(got.detach().numpy()), np.signbit(want.detach().numpy())), what
    elif isinstance(want, tuple | list):
        assert type(got).__name__ == type(want).__name__, f"{what}: {type(got).__name__} vs {type(want).__name__}"
        for field in getattr(got, "_fields", ()):      # a named pair: torch's has the same names (values, indices)
            _same(getattr(got, field), getattr(want, field), f"{what}.{field}")
        assert len(got) == len(want), f"{what}: {len(got)} items, torch gives {len(want)}"
        for i, (g, w) in enumerate(zip(got, want)):
            _same(g, w, f"{what}[{i}]")
    else:
        assert got == want, f"{what}: {got!r}, torch gives {want!r}"


def both(case):
    _same(case(cr), case(torch), case.__name__)


def raises_like(case, op: str):
    """torch raises; chainrule raises the same exception type, naming ``op``."""
    with pytest.raises(Exception) as want:
        case(torch)
    with pytest.raises(type(want.value)) as got:
        case(cr)
    assert op in str(got.value), f"chainrule's error does not name {op!r}: {got.value}"


def _x(m, *shape, grad=False):
    n = int(np.prod(shape))
    return (m.arange(n, dtype=m.float64) * 0.5 - 1).reshape(shape).requires_grad_(grad)


# --- ravel -------------------------------------------------------------------------------------------
def test_ravel_views_a_contiguous_tensor_and_copies_otherwise():
    def case(m):
        x, t = _x(m, 2, 3), _x(m, 2, 3).t()
        r, rt = x.ravel(), m.ravel(t)
        r[0] = 9.0                   # a view: changes x
        rt[1] = 7.0                  # a view of a contiguous copy: t is untouched
        s = m.tensor(5.0).ravel()
        return r, x, rt, t, r._base is x, rt._base is not None, rt._base is t, s, s._base is not None, \
            m.zeros(0, 3).t().ravel()
    both(case)


def test_ravel_gradient():
    def case(m):
        x = _x(m, 2, 3, grad=True)
        (x.t().ravel() * m.arange(6.0, dtype=m.float64)).sum().backward()
        return x.grad
    both(case)


# --- diag, diag_embed ------------------------------------------------------------------------------
def test_diag_builds_from_a_vector_and_copies_out_of_a_matrix():
    def case(m):
        v, a = m.tensor([1, 2, 3]), m.arange(12).reshape(3, 4)
        d = a.diag(1)
        d[0] = 100                   # a new tensor, unlike diagonal(): a is untouched
        return (m.diag(v), v.diag(2), m.diag(v, -1), m.diag(m.zeros(0), 1), d, a, d._base is None,
                m.diag(a, -1), a.diag(5), a.diag(-3), m.diag(m.tensor([True, False])))
    both(case)


def test_diag_and_diag_embed_gradients():
    def case(m):
        v, a, b = _x(m, 3, grad=True), _x(m, 3, 4, grad=True), _x(m, 2, 3, grad=True)
        out = (m.diag(v, 1) * m.arange(16.0, dtype=m.float64).reshape(4, 4)).sum() + (a.diag(-1) ** 2).sum()
        out = out + (b.diag_embed(1, 0, 2) * m.arange(32.0, dtype=m.float64).reshape(4, 2, 4)).sum()
        out.backward()
        return v.grad, a.grad, b.grad
    both(case)


def test_diag_embed_dims_and_dtypes():
    def case(m):
        x = m.arange(6).reshape(2, 3)
        return (m.diag_embed(x), x.diag_embed(-1), m.diag_embed(x, 2, 0, -1), x.diag_embed(dim1=2, dim2=0),
                m.diag_embed(m.tensor([1.5, -2.0])), m.diag_embed(m.zeros(0, 2)))
    both(case)


@pytest.mark.parametrize("case, op", [
    (lambda m: m.diag(m.tensor(1.0)), "diag"),
    (lambda m: m.zeros(2, 2, 2).diag(), "diag"),
    (lambda m: m.diag(m.zeros(3), 1.5), "diag"),
    (lambda m: m.diag_embed(m.tensor(1.0)), "diag_embed"),
    (lambda m: m.diag_embed(m.zeros(2), 0, 0, 0), "diag_embed"),
    (lambda m: m.diag_embed(m.zeros(2), 0, 0, 3), "diag_embed"),
    (lambda m: m.diag([1.0, 2.0]), "diag"),
])
def test_diag_errors(case, op):
    raises_like(case, op)


# --- unfold ----------------------------------------------------------------------------------------
def test_unfold_is_a_view_of_windows():
    def case(m):
        x = m.arange(7.0)
        u, w = x.unfold(0, 3, 2), x.unfold(-1, 2, 3)
        w[1, 0] = 30.0               # windows that do not overlap: a write changes x once
        s = m.tensor(5.0)
        y = m.arange(24).reshape(2, 3, 4)
        return (u, u.stride(), u._base is x, w, x, s.unfold(0, 1, 1), s.unfold(-1, 1, 3), s.unfold(0, 0, 1),
                s.unfold(0, 1, 1)._base is s, y.unfold(1, 2, 1), y.unfold(-1, 4, 1).stride(), x.unfold(0, 0, 2),
                m.zeros(3, 0).unfold(1, 0, 1), m.zeros(0).unfold(0, 0, 1), y.unfold(0, 1, 1).unfold(1, 2, 1))
    both(case)


def test_unfold_gradient_sums_overlapping_windows():
    def case(m):
        x, y = _x(m, 12, grad=True), _x(m, 3, 4, grad=True)
        (x.unfold(0, 3, 2) * m.arange(15.0, dtype=m.float64).reshape(5, 3)).sum().backward()
        y.unfold(1, 2, 1).unfold(0, 2, 2).sum().backward()
        s = m.tensor(2.0, dtype=m.float64, requires_grad=True)
        (s.unfold(0, 1, 1) * 3).sum().backward()
        return x.grad, y.grad, s.grad
    both(case)


def test_inplace_through_unfold_is_recorded_on_the_base():
    def case(m):
        a = _x(m, 6, grad=True)
        b = a * 1
        u = b.unfold(0, 2, 3)
        u.mul_(a[:4].reshape(2, 2))
        (b * b).sum().backward()
        return b, a.grad, u
    both(case)


def test_inplace_through_overlapping_windows_with_a_graph_raises():
    # torch 2.13 runs mul_ over each window in turn, so a shared element is multiplied twice (undefined by
    # its docs; values not compared). chainrule cannot record a write to one element from two places.
    b = _x(cr, 6, grad=True) * 1
    with pytest.raises(RuntimeError, match="more than one element"):
        b.unfold(0, 2, 1).mul_(10)


@pytest.mark.parametrize("case, op", [
    (lambda m: m.tensor(5.0).unfold(0, 2, 1), "unfold"),
    (lambda m: m.tensor(5.0).unfold(1, 1, 1), "unfold"),
    (lambda m: m.arange(7.0).unfold(0, 8, 1), "unfold"),
    (lambda m: m.arange(7.0).unfold(0, -1, 1), "unfold"),
    (lambda m: m.arange(7.0).unfold(0, 2, 0), "unfold"),
    (lambda m: m.arange(7.0).unfold(0, 2, -1), "unfold"),
    (lambda m: m.arange(7.0).unfold(-2, 2, 1), "unfold"),
    (lambda m: m.arange(7.0).unfold(0, 2.0, 1), "unfold"),
    (lambda m: m.arange(7.0).unfold(0, 2, 1.0), "unfold"),
    (lambda m: m.zeros(0).unfold(0, 1, 1), "unfold"),
])
def test_unfold_errors(case, op):
    raises_like(case, op)


# --- atleast_1d/2d/3d ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["atleast_1d", "atleast_2d", "atleast_3d"])
def test_atleast(name):
    def case(m):
        f = getattr(m, name)
        ts = [m.tensor(1.0), m.arange(3), m.zeros(2, 3), m.zeros(2, 3, 4), m.zeros(1, 2, 3, 4), m.zeros(0)]
        out = [f(t) for t in ts]
        return (out, [o is t for o, t in zip(out, ts)], [o._base is t for o, t in zip(out, ts)], f(*ts[:2]),
                f(ts[:3]), f(tuple(ts[1:2])), f(), f([]))
    both(case)


def test_atleast_gradient_and_writes():
    def case(m):
        x = _x(m, 3, grad=True)
        y = m.atleast_3d(x)
        (y * m.tensor([[[1.0], [2.0], [3.0]]], dtype=m.float64)).sum().backward()
        z = m.zeros(2)
        m.atleast_2d(z)[0, 1] = 4.0
        return y, x.grad, z
    both(case)


@pytest.mark.parametrize("case, op", [
    (lambda m: m.atleast_1d(1.0), "atleast_1d"),
    (lambda m: m.atleast_2d([1.0, 2.0]), "atleast_2d"),
    (lambda m: m.atleast_3d(m.zeros(2), 1.0), "atleast_3d"),
])
def test_atleast_errors(case, op):
    raises_like(case, op)


# --- tensor_split, hsplit, vsplit, dsplit ----------------------------------------------------------
def test_tensor_split_forms():
    def case(m):
        x, y = m.arange(7), m.arange(24).reshape(2, 3, 4)
        return (m.tensor_split(x, 3), x.tensor_split([1, 5]), m.tensor_split(x, (5, 1)), x.tensor_split([-2, 9]),
                x.tensor_split([]), x.tensor_split(10), m.tensor_split(x, m.tensor(3)), x.tensor_split(m.tensor([2, 4])),
                m.tensor_split(y, 2, -1), y.tensor_split(sections=2, dim=1), m.tensor_split(y, indices=[1], dim=-2),
                y.tensor_split(tensor_indices_or_sections=m.tensor([1]), dim=0), m.tensor_split(m.zeros(0, 2), 3),
                y.tensor_split(2, 1)[0]._base is y)
    both(case)


def test_hsplit_vsplit_dsplit_forms():
    def case(m):
        y = m.arange(48).reshape(4, 6, 2)
        return (m.hsplit(y, 2), y.hsplit([1, 4]), m.hsplit(m.arange(6), 3), y.hsplit(sections=3),
                m.hsplit(y, m.tensor(2)), y.hsplit(m.tensor([2])), m.vsplit(y, 2), y.vsplit(indices=[1]),
                m.dsplit(y, 2), y.dsplit((1,)), m.vsplit(m.zeros(0, 2), 3))
    both(case)


def test_split_pieces_are_views_that_write_through_and_record():
    def case(m):
        a = _x(m, 2, 6, grad=True)
        b = a * 1
        p, q = b.hsplit(2)
        q.mul_(a[:, :3])             # an ordinary view (SliceBackward0), unlike split's pieces: allowed
        r = m.tensor_split(b, [1], 0)[1]
        r.add_(1.0)
        (b * b).sum().backward()
        z = m.zeros(4)
        m.vsplit(z.reshape(2, 2), 2)[1][0, 0] = 3.0
        return b, a.grad, [t._base is not None for t in (p, q, r)], z
    both(case)


@pytest.mark.parametrize("case, op", [
    (lambda m: m.tensor_split(m.arange(7), 0), "tensor_split"),
    (lambda m: m.arange(7).tensor_split(-1), "tensor_split"),
    (lambda m: m.tensor_split(m.tensor(1.0), 2), "tensor_split"),
    (lambda m: m.tensor_split(m.arange(7), 2, dim=1), "tensor_split"),
    (lambda m: m.tensor_split(m.arange(7), m.tensor([[1, 5]])), "tensor_split"),
    (lambda m: m.tensor_split(m.arange(7), m.tensor([1.0, 5.0])), "tensor_split"),
    (lambda m: m.tensor_split(m.arange(7), m.tensor([2], dtype=m.int32)), "tensor_split"),
    (lambda m: m.tensor_split(m.arange(7), 2.0), "tensor_split"),
    (lambda m: m.tensor_split(m.arange(7), [1.0]), "tensor_split"),
    (lambda m: m.tensor_split(m.arange(7), True), "tensor_split"),
    (lambda m: m.tensor_split(m.arange(7)), "tensor_split"),
    (lambda m: m.tensor_split(m.arange(7), sections=2, indices=[1]), "tensor_split"),
    (lambda m: m.tensor_split(m.arange(7), indices_or_sections=2), "tensor_split"),
    (lambda m: m.hsplit(m.zeros(4, 6), 4), "hsplit"),
    (lambda m: m.hsplit(m.zeros(4, 6), 0), "hsplit"),
    (lambda m: m.hsplit(m.zeros(4, 6), -2), "hsplit"),
    (lambda m: m.hsplit(m.tensor(1.0), 1), "hsplit"),
    (lambda m: m.zeros(4, 6).hsplit(2.0), "hsplit"),
    (lambda m: m.vsplit(m.zeros(6), 3), "vsplit"),
    (lambda m: m.vsplit(m.zeros(4, 2), 3), "vsplit"),
    (lambda m: m.dsplit(m.zeros(2, 2), 2), "dsplit"),
])
def test_split_errors(case, op):
    raises_like(case, op)


# --- select ----------------------------------------------------------------------------------------
def test_select_is_a_view():
    def case(m):
        a = _x(m, 2, 3, grad=True)
        b = a * 1
        s, t = m.select(b, 1, -1), b.select(0, 1)
        s.mul_(10.0)                 # through the view: recorded on b
        (b * b).sum().backward()
        x = m.arange(6).reshape(2, 3)
        m.select(x, dim=1, index=0).fill_(7)
        return (b, a.grad, s, t, s._base is not None, x, m.select(x, 1, m.tensor(2)),
                m.select(m.zeros(2, 0, 3), -1, 1))
    both(case)


@pytest.mark.parametrize("case, op", [
    (lambda m: m.select(m.zeros(2, 3), 2, 0), "select"),
    (lambda m: m.select(m.zeros(2, 3), 1, 3), "select"),
    (lambda m: m.zeros(2, 3).select(1, -4), "select"),
    (lambda m: m.select(m.tensor(1.0), 0, 0), "select"),
    (lambda m: m.select(m.zeros(2, 3), 1, 1.0), "select"),
    (lambda m: m.select(m.zeros(2, 3), 1.0, 1), "select"),
    (lambda m: m.select(m.zeros(0, 3), 0, 0), "select"),
])
def test_select_errors(case, op):
    raises_like(case, op)


# --- the identities of a real tensor ---------------------------------------------------------------
def test_real_tensor_identities_return_self():
    def case(m):
        out = []
        for x in (m.arange(3.0), m.arange(3), m.tensor(2.0), m.tensor([True])):
            same = [x.conj(), x.resolve_conj(), x.resolve_neg(), m.conj(x), m.resolve_conj(x), m.resolve_neg(x),
                    x.real, m.real(x)]
            if x.dtype != m.bool:
                same += [x.positive(), m.positive(x)]
            out.append([y is x for y in same] + [x.is_conj(), x.is_neg(), m.is_conj(x), m.is_neg(x)])
        x = m.zeros(2)
        x.real[0] = 3.0              # the same tensor: writes change x
        y = m.zeros(2, dtype=m.float64)
        y.real = m.tensor([1.5, 2.5], dtype=m.float64)
        return out, x, y
    both(case)


def test_identities_keep_the_graph():
    def case(m):
        x = _x(m, 3, grad=True)
        y = x * 2
        (y.positive().conj().real * y.resolve_neg()).sum().backward()
        return x.grad
    both(case)


@pytest.mark.parametrize("case, op", [
    (lambda m: m.tensor([True]).positive(), "positive"),
    (lambda m: m.positive(m.tensor([True])), "positive"),
    (lambda m: m.zeros(2).imag, "imag"),
    (lambda m: m.positive(1.0), "positive"),
    (lambda m: m.conj([1.0]), "conj"),
    (lambda m: m.real(1.0), "real"),
    (lambda m: m.is_conj(1.0), "is_conj"),
])
def test_identity_errors(case, op):
    raises_like(case, op)


# --- cummax, cummin --------------------------------------------------------------------------------
def test_cummax_cummin_ties_nan_and_dtypes():
    def case(m):
        x = m.tensor([1.0, 3.0, 2.0, 3.0, NAN, 0.0, NAN, 5.0])
        t = m.tensor([2.0, 1.0, 2.0, 1.0, 1.0])
        i = m.tensor([3, 1, 4, 1, 5])
        return (m.cummax(x, 0), m.cummin(x, 0), t.cummax(0), t.cummin(dim=0), i.cummax(0),
                m.cummin(i.to(m.uint8), 0), m.cummax(i.to(m.int32), 0), m.cummax(m.tensor([True, False, True]), 0),
                m.cummin(m.tensor([1.0, 0.5], dtype=m.float16), 0), m.cummax(m.tensor([-0.0, 0.0, -0.0]), 0),
                m.cummin(m.tensor([-0.0, 0.0, -0.0]), 0), m.cummax(m.tensor([float("inf"), -float("inf")]), 0),
                m.cummax(m.tensor(3.0), 0), m.cummin(m.tensor(3.0), -1), m.cummax(m.zeros(0, 3), 0),
                m.cummax(m.arange(12.0).reshape(3, 4).flip(1), -1), m.cummin(m.arange(12.0).reshape(3, 4), -2))
    both(case)


def test_cummax_cummin_gradient_goes_to_the_chosen_positions():
    def case(m):
        x = m.tensor([[1.0, 3.0, 2.0, 3.0, 0.5], [2.0, NAN, 1.0, NAN, 5.0]], dtype=m.float64, requires_grad=True)
        w = m.arange(10.0, dtype=m.float64).reshape(2, 5)
        v, i = m.cummax(x, 1)
        (v.nan_to_num() * w).sum().backward()
        g1 = x.grad.clone()
        x.grad = None
        (x.cummin(0).values * w).sum().backward()
        s = m.tensor(2.0, requires_grad=True)
        s.cummax(0).values.backward()
        return v, i, i.requires_grad, v.requires_grad, g1, x.grad, s.grad
    both(case)


@pytest.mark.parametrize("case, op", [
    (lambda m: m.cummax(m.tensor(3.0), 1), "cummax"),
    (lambda m: m.cummin(m.zeros(2, 3), 2), "cummin"),
    (lambda m: m.zeros(2, 3).cummax(dim=1.0), "cummax"),
    (lambda m: m.cummax([1.0, 2.0], 0), "cummax"),
])
def test_cummax_errors(case, op):
    raises_like(case, op)


def test_cummax_needs_a_dim():
    for m in (torch, cr):
        with pytest.raises(TypeError):
            m.cummax(m.zeros(2))

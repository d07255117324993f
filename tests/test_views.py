"""In-place changes through views (PyTorch's CopySlices), run from the same source in both libraries.

A view shares memory with its base, so changing one in place changes the other; the graph must
follow, or gradients come out silently wrong. Each case returns values and gradients, which must
equal PyTorch's (float64, so the comparison is exact up to rounding).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def _slice_mul(m):
    a = m.tensor([1., 2., 3., 4.], dtype=m.float64, requires_grad=True)
    b = a.clone()
    b[1:3].mul_(a[0:2])
    (b * m.tensor([1., 10., 100., 1000.], dtype=m.float64)).sum().backward()
    return b, a.grad


def _setitem_iadd(m):
    a = m.tensor([1., 2., 3., 4.], dtype=m.float64, requires_grad=True)
    w = m.tensor([5., 6.], dtype=m.float64, requires_grad=True)
    b = a * 1
    b[m.tensor(2)] += w[0]                 # a 0-d integer tensor indexes like an int: a view
    b[1:3] += w
    (b * b).sum().backward()
    return b, a.grad, w.grad


def _transpose_add(m):
    a = m.tensor([[1., 2.], [3., 4.]], dtype=m.float64, requires_grad=True)
    b = a.clone()
    b.t().add_(a * a)
    (b * m.tensor([[1., 2.], [3., 4.]], dtype=m.float64)).sum().backward()
    return b, a.grad


def _int_view(m):
    a = m.tensor([1., 2., 3.], dtype=m.float64, requires_grad=True)
    b = a.clone()
    b[1].mul_(3)                           # b[1] is a view: b changes too
    b[m.tensor(0)].add_(b[2])
    (b * b).sum().backward()
    return b, a.grad


def _other_view_after_change(m):
    a = m.tensor([1., 2., 3., 4.], dtype=m.float64, requires_grad=True)
    b = a * 1
    v1, v2 = b[0:2], b[1:3]
    v1.mul_(m.tensor([10., 10.], dtype=m.float64))      # v2 overlaps v1: its history must follow
    (v2 * m.tensor([1., 100.], dtype=m.float64)).sum().backward()
    return v2, a.grad


def _view_after_base_change(m):
    a = m.tensor([1., 2., 3., 4.], dtype=m.float64, requires_grad=True)
    b = a * 1
    v = b[0:2]
    b.mul_(2)
    v.sum().backward()
    return v, a.grad


def _nested_views(m):
    a = m.arange(12., dtype=m.float64).reshape(3, 4).requires_grad_()
    b = a * 1
    b[1][1:3].mul_(m.tensor([5., 6.], dtype=m.float64))
    b.view(12)[::5].add_(1)
    b[:, 0].exp_()
    (b * b).sum().backward()
    return b, a.grad


def _plain_base_gets_history(m):
    w = m.tensor([2., 3.], dtype=m.float64, requires_grad=True)
    b = m.zeros(4, dtype=m.float64)
    b[1:3] += w
    (b * b).sum().backward()
    return b, w.grad


def _second_order(m):
    a = m.tensor([0.5, -1.0, 2.0], dtype=m.float64, requires_grad=True)
    b = a * 1
    b[1:].mul_(a[:2])
    g, = m.autograd.grad((b ** 3).sum(), a, create_graph=True)
    gg, = m.autograd.grad(g.sum(), a)
    return g, gg


def _zero_d_base(m):
    x = m.tensor(2., dtype=m.float64, requires_grad=True)
    b = x * 1
    b.view(1).mul_(3)
    b[...].add_(x)
    (b * b).sum().backward()
    return b, x.grad


CASES = [_zero_d_base, _slice_mul, _setitem_iadd, _transpose_add, _int_view, _other_view_after_change,
         _view_after_base_change, _nested_views, _plain_base_gets_history, _second_order]


@pytest.mark.parametrize("case", CASES, ids=lambda f: f.__name__.strip("_"))
def test_inplace_through_views_matches_torch(case):
    ours, theirs = case(cr), case(torch)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_history_names_are_pytorchs():
    a = cr.tensor([1., 2., 3.], requires_grad=True)
    b = a * 1
    v = b[1:]
    v.mul_(2)
    assert b.grad_fn.name() == "CopySlices"
    assert v.grad_fn.name() == "AsStridedBackward0"


@pytest.mark.parametrize("code, words", [
    ("a = m.tensor([1., 2.], requires_grad=True); a[0].mul_(2)", ["mul_", "view of a leaf"]),
    ("a = m.tensor([1.], requires_grad=True); (a * 1).expand(3).mul_(2)", ["mul_", "single memory location"]),
    ("a = m.tensor([1., 2., 3.], requires_grad=True); z = (a * 1).sigmoid(); z[1:].mul_(2); z.sum().backward()",
     ["SigmoidBackward0", "modified by an inplace operation"]),
])
def test_bad_inplace_through_views_raise_as_pytorch(code, words):
    with pytest.raises(RuntimeError):
        exec(code, {"m": torch})  # noqa: S102 - a fixed snippet from this file, run in both libraries
    with pytest.raises(RuntimeError) as e:
        exec(code, {"m": cr})  # noqa: S102
    assert all(w in str(e.value) for w in words), str(e.value)


def test_a_0d_integer_tensor_indexes_like_an_int():
    for m in (torch, cr):
        a = m.arange(24.).reshape(2, 3, 4)
        assert tuple(a[m.tensor(1), :, m.tensor([0, 2])].shape) == (3, 2)     # the int goes first, as select
        assert tuple(a[1, :, m.tensor([0, 2])].shape) == (3, 2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert tuple(a[m.tensor(1, dtype=m.uint8)].shape) == (1, 2, 3, 4)    # a uint8 tensor is a mask
        assert m is torch or any("uint8" in str(w.message) for w in caught)     # torch warns once per process


def test_the_graph_picture_names_what_copyslices_reads_and_writes():
    # (rendered and looked at in headless Chromium during review; here the labels' text)
    a = cr.tensor([1., 2., 3.], requires_grad=True)
    b = a * 2
    b[1:].mul_(a[:2])
    svg = cr.inspect.graph(b.sum())._repr_mimebundle_()["image/svg+xml"]
    assert "t3 = t1.flatten()[positions]" in svg and "b = t1; b.flatten()[positions] = t4" in svg

"""Bad input gives errors that teach: the op's name, the shapes involved and what was expected."""

from __future__ import annotations

import re

import pytest

import chainrule as cr


def _raises(exc, fn, *fragments: str) -> str:
    """Run ``fn``, expect ``exc`` and every fragment (literal text) in its message."""
    with pytest.raises(exc) as info:
        fn()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from: {message}"
    return message


def test_matmul_inner_dimension_mismatch():
    _raises(RuntimeError, lambda: cr.ones(2, 3) @ cr.ones(4, 2), "matmul", "(2, 3)", "(4, 2)", "3 and 4")
    _raises(RuntimeError, lambda: cr.ones(2, 3).mm(cr.ones(4, 2)), "mm", "(2, 3)", "(4, 2)")
    _raises(RuntimeError, lambda: cr.ones(3).dot(cr.ones(4)), "dot", "(3,)", "(4,)")
    _raises(RuntimeError, lambda: cr.ones(2, 3, 4) @ cr.ones(3, 4, 3), "matmul", "batch", "(2, 3, 4)", "(3, 4, 3)")
    _raises(RuntimeError, lambda: cr.ones(2, 3).bmm(cr.ones(2, 3, 3)), "bmm", "3-D", "(2, 3)")
    _raises(RuntimeError, lambda: cr.ones(2, 3, 4).bmm(cr.ones(3, 4, 3)), "bmm", "batch", "(2, 3, 4)", "(3, 4, 3)")


@pytest.mark.parametrize("op, fn", [
    ("add", lambda a, b: a + b), ("sub", lambda a, b: a - b), ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / b), ("maximum", lambda a, b: a.maximum(b)),
])
def test_broadcasting_failure_names_op_and_shapes(op, fn):
    _raises(RuntimeError, lambda: fn(cr.ones(2, 3), cr.ones(4)), f"{op}:", "(2, 3)", "(4,)", "broadcast")


def test_where_and_masked_fill_shapes():
    _raises(RuntimeError, lambda: cr.where(cr.tensor([True, False, True]), cr.ones(2), cr.ones(2)),
            "where", "(3,)", "(2,)")
    _raises(RuntimeError, lambda: cr.ones(2, 3).masked_fill(cr.tensor([True, False]), 0.0),
            "masked_fill", "(2,)", "(2, 3)")


def test_reshape_to_impossible_shape():
    _raises(RuntimeError, lambda: cr.ones(2, 3).reshape(4, 2), "(4, 2)", "(2, 3)", "6 elements")
    _raises(RuntimeError, lambda: cr.ones(2, 3).view(5, -1), "(5, -1)", "(2, 3)")
    _raises(RuntimeError, lambda: cr.ones(3).expand(2, 4), "expand", "(2, 4)", "(3,)")
    _raises(RuntimeError, lambda: cr.ones(3, 1).expand(-1, 2, 1), "expand", "-1", "leading")
    _raises(RuntimeError, lambda: cr.ones(6).unflatten(0, (4, 2)), "unflatten", "(4, 2)", "6")


def test_cat_and_stack_mismatched_shapes():
    _raises(RuntimeError, lambda: cr.cat([cr.ones(2, 3), cr.ones(3, 2)]), "cat", "(2, 3)", "(3, 2)", "dimension 0")
    _raises(RuntimeError, lambda: cr.cat([cr.ones(2, 3), cr.ones(3)]), "cat", "dimensions", "(2, 3)", "(3,)")
    _raises(RuntimeError, lambda: cr.stack([cr.ones(2), cr.ones(3)]), "stack", "(2,)", "(3,)")


@pytest.mark.parametrize("op, fn", [
    ("sum", lambda t: t.sum(2)), ("mean", lambda t: t.mean(-3)), ("softmax", lambda t: t.softmax(2)),
    ("transpose", lambda t: t.transpose(0, 2)), ("squeeze", lambda t: t.squeeze(3)),
    ("unsqueeze", lambda t: t.unsqueeze(4)), ("cumsum", lambda t: t.cumsum(5)), ("max", lambda t: t.max(2)),
    ("gather", lambda t: t.gather(2, cr.zeros(2, 3, dtype=cr.int64))),
])
def test_out_of_range_dim(op, fn):
    message = _raises(IndexError, lambda: fn(cr.ones(2, 3)), f"{op}:", "Dimension out of range")
    assert re.search(r"\[-\d, \d\]", message), message


def test_gather_index_dims_and_dtype():
    _raises(RuntimeError, lambda: cr.ones(2, 3).gather(1, cr.tensor([0, 1])), "gather", "1-D", "(2,)", "(2, 3)")
    _raises(RuntimeError, lambda: cr.ones(2, 3).gather(1, cr.zeros(2, 1)), "gather", "integer", "float32")
    _raises(IndexError, lambda: cr.ones(2, 3).index_select(1, cr.tensor([[0]])), "index_select", "(1, 1)")
    _raises(IndexError, lambda: cr.ones(2, 3)[2], "index", "(2, 3)", "out of bounds")


def test_backward_on_non_scalar_without_gradient():
    y = cr.ones(2, 3, requires_grad=True) * 2
    _raises(RuntimeError, y.backward, "implicitly created only for scalar outputs", "(2, 3)")
    _raises(RuntimeError, lambda: y.backward(cr.ones(3)), "shape", "(3,)", "(2, 3)")


def test_backward_without_grad():
    _raises(RuntimeError, lambda: cr.ones(2).sum().backward(), "does not require grad")
    _raises(RuntimeError, lambda: cr.tensor([1, 2], requires_grad=True), "floating point", "int64")


def test_inplace_on_leaf_requiring_grad():
    w = cr.ones(2, requires_grad=True)
    for fn, op in [(lambda: w.add_(1), "add_"), (lambda: w.mul_(2), "mul_"), (lambda: w.zero_(), "zero_"),
                   (lambda: w.__isub__(1.0), "sub_")]:
        _raises(RuntimeError, fn, op, "leaf", "requires grad", "no_grad")


def test_second_backward_through_freed_graph(torch):
    messages = []
    for m in (cr, torch):
        x = m.ones(2, requires_grad=True)
        y = (x.exp() * x).sum()
        y.backward()
        with pytest.raises(RuntimeError) as info:
            y.backward()
        messages.append(str(info.value))
    assert messages[0] == messages[1]  # PyTorch's own words, which name the fix (retain_graph=True)
    x = cr.ones(2, requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == pytest.approx([2 * 2 * 2.718281828, 2 * 2 * 2.718281828])


def test_saved_tensor_modified_in_place():
    x = cr.ones(2, requires_grad=True)
    y = x * 2
    z = y * y  # saves y
    y.mul_(2)
    _raises(RuntimeError, lambda: z.sum().backward(), "MulBackward0", "modified by an inplace operation",
            "version 1", "expected version 0", "(2,)")
    a = cr.ones(2, requires_grad=True) * 1.0
    b = a.log()  # saves its input
    a[0] = 3.0
    _raises(RuntimeError, lambda: b.sum().backward(), "LogBackward0", "version")


def test_saved_output_modified_in_place():
    x = cr.ones(2, requires_grad=True)
    y = x.exp()  # saves its output
    y.add_(1)
    _raises(RuntimeError, lambda: y.sum().backward(), "ExpBackward0", "output", "version")


def test_conversions_that_need_one_element():
    _raises(RuntimeError, lambda: cr.ones(2, 3).item(), "item", "6 elements", "(2, 3)")
    _raises(RuntimeError, lambda: bool(cr.ones(2)), "ambiguous", "(2,)")
    _raises(RuntimeError, lambda: cr.ones(2, requires_grad=True).numpy(), "detach")


# Mistakes where PyTorch raises a class outside the usual three (a file that is not there, a method a
# subclass must write); chainrule raises the same class, naming what is missing
SAME_CLASS_AS_TORCH = [
    ("m.load('/nonexistent_dir/model.pt')", FileNotFoundError, ["/nonexistent_dir/model.pt"]),
    ("m.load('/')", IsADirectoryError, ["/", "directory"]),
    ("class D(m.utils.data.Dataset):\n    def __len__(self):\n        return 2\nD()[0]", NotImplementedError,
     ["__getitem__"]),
    ("class Net(m.nn.Module):\n    pass\nNet()(m.ones(2))", NotImplementedError, ["Net", "forward"]),
]


@pytest.mark.parametrize("code, exc, words", SAME_CLASS_AS_TORCH, ids=[c for c, _, _ in SAME_CLASS_AS_TORCH])
def test_same_error_class_as_torch(torch, code, exc, words):
    for m in (torch, cr):
        with pytest.raises(exc) as info:
            exec(compile(code, "<row>", "exec"), {"m": m})   # noqa: S102 (this file's own rows)
    message = str(info.value)   # chainrule's
    assert all(w in message for w in words), message


@pytest.mark.parametrize("code", ["m.ones(2, 3) + m.ones(4)", "m.ones(2, 3) * m.ones(2)", "m.ones(2) ** m.ones(3)",
                                  "m.ones(2) / m.ones(3)", "m.ones(2) - m.ones(3)", "m.where(m.ones(2) > 0, m.ones(3), 0.0)",
                                  "m.maximum(m.ones(2), m.ones(3))", "m.ones(2) < m.ones(3)",
                                  "m.ones(2, dtype=m.float64) == m.ones(3)", "m.atan2(m.ones(2), m.ones(3))",
                                  "m.lerp(m.ones(2), m.ones(3), 0.5)", "m.addcmul(m.ones(2), m.ones(3), m.ones(2))",
                                  "m.ones(2).clamp(m.ones(3))", "m.hypot(m.ones(4, 2, 2), m.ones(3, 2))"])
def test_shapes_that_do_not_broadcast_raise_torchs_error_naming_the_op(torch, code):
    """Shapes that do not broadcast: a RuntimeError as in PyTorch (chainrule raised ValueError, and a
    comparison let NumPy's own error escape), with PyTorch's words, the op as written and every shape."""
    with pytest.raises(RuntimeError) as want:
        eval(code, {"m": torch})
    with pytest.raises(RuntimeError) as got:
        eval(code, {"m": cr})
    op = re.match(r"m\.(\w+)\(", code)
    message = str(got.value)
    sizes = re.search(r"size of tensor a \(\d+\) must match the size of tensor b \(\d+\)", str(want.value))
    assert sizes and sizes.group(0) in message, (message, str(want.value))
    assert op is None or message.startswith(op.group(1) if op.group(1) != "ones" else ""), message
    assert "cannot be broadcast together" in message


@pytest.mark.parametrize("code", ["m.broadcast_shapes((2, 3), (4,))", "m.broadcast_tensors(m.ones(2), m.ones(3))",
                                  "m.dist(m.ones(2, 3), m.ones(2))"])
def test_functions_that_broadcast_shapes_raise_torchs_error_type(torch, code):
    """The functions that only compute a common shape raise PyTorch's RuntimeError too, naming themselves."""
    with pytest.raises(RuntimeError):
        eval(code, {"m": torch})
    with pytest.raises(RuntimeError) as got:
        eval(code, {"m": cr})
    assert str(got.value).startswith(re.match(r"m\.(\w+)\(", code).group(1) + ":"), str(got.value)
    assert "cannot be broadcast together" in str(got.value)

"""Backward explanations: the notes' routes example word for word, the 3-4-3 network's intermediate
gradients against the independent NumPy reference, and totals = autograd on random graphs."""

# The tools name tensors after the caller's variables, so unpacked names that look unused are read.
# ruff: noqa: RUF059

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from seed_reference import seed001_regression_net, seed004_graph_derivatives

import chainrule as cr
import chainrule.inspect as ins

GOLDEN_ROUTES = """\
How d depends on its inputs (forward pass)
  a = 4
  b = 3
  c = a + b = 7
  d = a * c = 28
Local derivatives (one per edge)
  ∂c/∂a = 1
  ∂c/∂b = 1
  ∂d/∂a = c = 7
  ∂d/∂c = a = 4
∂d/∂a: multiply along each route, add the routes
  route 1 (d → a): ∂d/∂a = 7
  route 2 (d → c → a): ∂d/∂c · ∂c/∂a = 4 · 1 = 4
  total: ∂d/∂a = 7 + 4 = 11   (autograd: 11)
∂d/∂b: multiply along each route, add the routes
  route 1 (d → c → b): ∂d/∂c · ∂c/∂b = 4 · 1 = 4
  total: ∂d/∂b = 4   (autograd: 4)
"""


def seed004():
    a = cr.tensor(4.0, requires_grad=True)
    b = cr.tensor(3.0, requires_grad=True)
    c = a + b
    d = a * c
    return a, b, c, d


def test_seed004_routes_golden_text():
    a, b, c, d = seed004()
    ex = ins.explain(d, inputs=[a, b])
    assert ex.mode == "routes"
    assert ex.text() == GOLDEN_ROUTES
    ref = seed004_graph_derivatives()
    assert ex.totals == {"a": ref["dd_da"], "b": ref["dd_db"]} == ex.autograd
    assert ex.data["inputs"][0][1][0][1] == ref["route_direct"]
    assert ex.data["inputs"][0][1][1][1] == ref["route_via_c"]


def test_seed004_markdown_and_latex():
    a, b, c, d = seed004()
    ex = ins.explain(d, inputs=[a, b])
    md = ex.markdown()  # Markdown with $...$ math: what Jupyter shows (MathJax/KaTeX typeset the math)
    assert r"### $\frac{\partial d}{\partial a}$: multiply along each route, add the routes" in md
    assert (r"- route 2 ($d \to c \to a$): $\frac{\partial d}{\partial c} \cdot \frac{\partial c}{\partial a} "
            r"= 4 \cdot 1 = 4$") in md
    assert ex._repr_markdown_() == md
    tex = ex.latex()  # math mode only (MathJax cannot typeset \paragraph or itemize): one array
    assert tex.startswith("$$\n\\begin{array}{l}\n") and tex.endswith("\\end{array}\n$$\n")
    assert r"\quad\bullet\; \text{total: }\frac{\partial d}{\partial a} = 7 + 4 = 11" in tex
    assert "paragraph" not in tex and "itemize" not in tex and ex._repr_latex_() == tex
    # the rendering itself is checked in a browser: tests/test_stepper_browser.py


def test_power_in_latex_is_a_superscript():
    t3 = cr.tensor([1.0, 2.0], requires_grad=True)
    ex = ins.explain((t3 ** 2).sum())
    assert r"\mathrm{t1} = \mathrm{t3}^{2}" in ex.latex() and r"\cdot \cdot" not in ex.latex()
    assert r"2 \cdot \mathrm{t3}^{2-1}" in ex.markdown()


def test_seed004_steps_show_where_two_paths_are_added():
    a, b, c, d = seed004()
    text = ins.explain(d, mode="steps").text()
    assert "∂d/∂a (this path's part) = 7" in text and "∂d/∂a (this path's part) = 4" in text
    assert "  ∂d/∂a = 7 + 4 = 11   (sum of 2 paths)" in text


def _seed001_graph(ref):
    x = cr.tensor(ref["x"])
    y = cr.tensor(ref["y"])
    W1 = cr.tensor(ref["W1"], requires_grad=True)
    b1 = cr.tensor(ref["b1"], requires_grad=True)
    W2 = cr.tensor(ref["W2"], requires_grad=True)
    b2 = cr.tensor(ref["b2"], requires_grad=True)
    with ins.record():
        h1bar = W1 @ x + b1
        h1 = h1bar.relu()
        h2 = W2 @ h1 + b2
        l = ((y - h2) ** 2).sum().sqrt()  # the notes' name for the loss
    names = {x: "x", y: "y", W1: "W1", b1: "b1", W2: "W2", b2: "b2", h1bar: "h1bar", h1: "h1", h2: "h2", l: "l"}
    return l, (W1, b1, W2, b2), names


def test_seed001_network_steps_have_the_correct_intermediate_gradients():
    ref = seed001_regression_net()
    l, params, names = _seed001_graph(ref)
    ex = ins.explain(l, names=names)
    assert ex.mode == "steps"
    sent = {}
    for step in ex.data["steps"]:
        for name, _rule, grad, _note, _jac in step["results"]:
            sent.setdefault(name, grad)
    # The quantities the notes derive, with the sign the notes get wrong (errata seed 001 item 1).
    for name, key in [("h2", "dl_dh2"), ("W2", "dl_dW2"), ("b2", "dl_db2"), ("h1", "dl_dh1"),
                      ("h1bar", "dl_dh1bar"), ("W1", "dl_dW1"), ("b1", "dl_db1")]:
        np.testing.assert_allclose(sent[name], ref[key], rtol=1e-12, atol=1e-12, err_msg=name)
    for name in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(ex.totals[name], ex.autograd[name], rtol=1e-12)
    text = ex.text()
    assert "    ∂l/∂h2 = [0.9205, 0.3616, -0.1479]" in text
    assert "    ∂l/∂h1 = [1.529, 0.7726, 1.134, -0.4109]" in text
    assert "    ∂l/∂h1bar = [1.529, 0.7726, 0, -0.4109]" in text
    assert "  rule: ∂l/∂W2 = g·h1ᵀ" in text
    assert "  rule: ∂l/∂W1 = g·xᵀ" in text
    assert "step 9: MvBackward0   t1 = W1 @ x" in text
    assert ins.explain(l, names=names, digits=2).text().count("[0.92, 0.36, -0.15]") >= 3


def test_jacobian_of_y_equals_Wx_is_W():
    W = cr.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=cr.float64, requires_grad=True)
    x = cr.tensor([1.0, -1.0, 2.0], dtype=cr.float64, requires_grad=True)
    y = W @ x
    loss = (y * y).sum()
    ex = ins.explain(loss, jacobians=True)
    mv = next(st for st in ex.data["steps"] if st["op"] == "MvBackward0")
    jac = {name: j for name, _rule, _g, _note, j in mv["results"]}
    np.testing.assert_array_equal(jac["x"], W.detach().numpy())          # ∂y/∂x = W (numerator layout)
    np.testing.assert_array_equal(jac["W"], [[1, -1, 2, 0, 0, 0], [0, 0, 0, 1, -1, 2]])  # ∂yᵢ/∂W_kj = xⱼ·[i=k]
    assert "Jacobian ∂y/∂x (2×3) = [[1, 2, 3], [4, 5, 6]]" in ex.text()
    g = 2 * (W @ x).detach().numpy()
    np.testing.assert_allclose(g @ jac["x"], ex.totals["x"])  # the VJP autograd computes is gᵀ·J


def test_broadcast_summing_is_reported():
    x = cr.ones(4, 3)
    b = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    loss = (x * b).sum()
    text = ins.explain(loss, inputs=[b]).text()
    assert "summed over broadcast dimensions: (4, 3) → (3,)" in text
    assert "∂loss/∂b = [4, 4, 4]" in text


def test_explain_leaves_grads_untouched_and_graph_usable():
    a, b, c, d = seed004()
    ins.explain(d)
    assert a.grad is None
    d.backward()
    assert a.grad.item() == 11.0


def test_explain_errors_teach():
    a, b, c, d = seed004()
    d.backward()
    with pytest.raises(RuntimeError, match=r"already freed.*not recorded.*before backward\(\).*retain_graph=True"
                                           r".*start_recording\(\)"):
        ins.explain(d)
    v = cr.ones(3, requires_grad=True) * 2
    with pytest.raises(ValueError, match=r"single number.*shape \(3,\)"):
        ins.explain(v)
    with pytest.raises(ValueError, match="mode must be"):
        ins.explain(v.sum(), mode="fast")
    with pytest.raises(ValueError, match=r"has shape \(3,\); use mode='steps'"):
        ins.explain(v.sum(), mode="routes")


def test_explain_and_stepper_after_backward_read_the_recorded_run():
    # The notebook order: compute, backward, look at .grad, then ask why. backward() still frees the graph
    # exactly as PyTorch does (a second backward raises); explain reads what the engine recorded.
    ins.start_recording()
    try:
        a, b, c, d = seed004()
        d.backward()
    finally:
        ins.stop_recording()
    assert a.grad.item() == 11.0
    ex = ins.explain(d)
    assert ex.text() == GOLDEN_ROUTES
    assert ins.stepper(d).steps[-1]["lines"][0]["text"] == "∂d/∂a = 7 + 4 = 11"
    with pytest.raises(RuntimeError, match="second time"):
        d.backward()
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    with ins.record():
        loss = (x * x).sum()
        loss.backward()
    steps = ins.explain(loss)
    assert steps.mode == "steps" and steps.totals["x"].tolist() == [[2.0, 4.0], [6.0, 8.0]]


def test_non_leaf_inputs():
    a, b, c, d = seed004()
    ex = ins.explain(d, inputs=[c, a])
    assert ex.totals == ex.autograd == {"c": 4.0, "a": 11.0}


UNARY = ["exp", "tanh", "sigmoid", "sin", "neg"]
BINARY = ["add", "sub", "mul", "div"]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(UNARY + BINARY), st.integers(0, 10), st.integers(0, 10)),
                min_size=1, max_size=7),
       st.lists(st.floats(-1.5, 1.5), min_size=3, max_size=3))
def test_route_totals_equal_autograd_on_random_scalar_graphs(program, start):
    leaves = [cr.tensor(v, dtype=cr.float64, requires_grad=True) for v in start]
    values = list(leaves)
    for op, i, j in program:
        x, y = values[i % len(values)], values[j % len(values)]
        if op in UNARY:
            values.append(getattr(x, op)())
        elif op == "div":
            values.append(x / (y * y + 1.0))
        else:
            values.append(getattr(x, "__" + op + "__")(y))
    out = values[-1] if values[-1].grad_fn is not None else values[-1] * 1.0
    ex = ins.explain(out, inputs=leaves, mode="routes", max_routes=10_000)
    expected = cr.autograd.grad(out, leaves, allow_unused=True, materialize_grads=True)
    for k, (name, total) in enumerate(ex.totals.items()):
        assert total == pytest.approx(expected[k].item(), rel=1e-9, abs=1e-12), name

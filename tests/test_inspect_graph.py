"""Graph drawing: golden text and DOT for the notes' c = a + b, d = a·c; labels; record(); modules."""

# The tools name tensors after the caller's variables, so unpacked names that look unused are read.
# ruff: noqa: RUF059

from __future__ import annotations

import gc
import weakref

import pytest

import chainrule as cr
import chainrule.inspect as ins


def seed004():
    a = cr.tensor(4.0, requires_grad=True)
    b = cr.tensor(3.0, requires_grad=True)
    c = a + b
    d = a * c
    return a, b, c, d


GOLDEN_TREE = """\
d = a * c  [MulBackward0]  () float32  value 28
├── a  (leaf)  () float32  value 4
└── c = a + b  [AddBackward0]  () float32  value 7
    ├── a  (see above)
    └── b  (leaf)  () float32  value 3"""

GOLDEN_DOT = """\
digraph chainrule {
  node [fontname="Helvetica", fontsize=11];
  edge [fontname="Helvetica", fontsize=9];
  n1 [label="a\\n() float32  value 4  grad 11", shape=box, style="rounded,filled", fillcolor="#cfe2f3"];
  n2 [label="b\\n() float32  value 3  grad 4", shape=box, style="rounded,filled", fillcolor="#cfe2f3"];
  n3 [label="AddBackward0\\nc = a + b", shape=ellipse, style=filled, fillcolor="#eeeeee"];
  n4 [label="c\\n() float32  value 7  grad 4", shape=box, style="rounded"];
  n5 [label="MulBackward0\\nd = a * c", shape=ellipse, style=filled, fillcolor="#eeeeee"];
  n6 [label="d\\n() float32  value 28  grad 1", shape=box, style="rounded,filled", fillcolor="#d9ead3"];
  n1 -> n3 [label="grad 4"];
  n2 -> n3 [label="grad 4"];
  n3 -> n4;
  n1 -> n5 [label="grad 7"];
  n4 -> n5 [label="grad 4"];
  n5 -> n6;
}
"""


def test_tree_golden_uses_caller_variable_names():
    a, b, c, d = seed004()
    assert ins.graph(d).tree() == GOLDEN_TREE
    assert str(ins.graph(d)) == GOLDEN_TREE


def test_dot_golden_with_recorded_gradients_on_edges():
    with ins.record():
        a, b, c, d = seed004()
        d.backward()
    assert ins.graph(d).dot() == GOLDEN_DOT


def test_without_record_only_known_gradients_are_shown():
    a, b, c, d = seed004()
    d.backward()
    g = ins.graph(d)
    leaf_a = next(box for box in g.boxes if box.title == "a")
    assert leaf_a.lines == ["() float32  value 4  grad 11"]
    assert all(label == "" for _, _, label in g.edges)  # per-edge gradients need record()


def test_explicit_label_wins_over_variable_name():
    a, b, c, d = seed004()
    ins.label(a, "α")
    ins.label(c, "γ")
    assert ins.graph(d).tree().splitlines()[0] == "d = α * γ  [MulBackward0]  () float32  value 28"


def test_neither_labels_nor_the_graph_object_keep_tensors_alive():
    # Built in a function that returns: reading a frame's variables (for names) snapshots them
    # in that frame until it exits, so the check is made from outside it.
    def build():
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        y = (x * 2).exp()
        ins.label(y, "y")
        return ins.graph(y), weakref.ref(x), weakref.ref(y)

    g, x_ref, y_ref = build()
    gc.collect()
    assert x_ref() is None and y_ref() is None
    assert len(g.boxes) == 5 and g.tree().startswith("y = exp(t1)")


def test_without_dot_the_picture_is_drawn_by_chainrule(monkeypatch, tmp_path):
    monkeypatch.setattr("shutil.which", lambda name: None)  # a plain pip install: no Graphviz
    with ins.record():
        a, b, c, d = seed004()
        d.backward()
    g = ins.graph(d)
    svg = g.render(tmp_path / "g.svg").decode()
    assert (tmp_path / "g.svg").read_text() == svg and svg.startswith("<svg") and 'class="cr-graph"' in svg
    for text in ("MulBackward0", "d = a * c", "value 4", "grad 11", "grad 7"):  # boxes and edge labels
        assert text in svg, text
    assert svg.count('class="cr-node') == len(g.boxes) and svg.count('class="cr-edge"') == len(g.edges)
    png = g.render(tmp_path / "g.png", format="png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and (tmp_path / "g.png").read_bytes() == png
    # Jupyter: one picture and the text tree; nothing a front-end would prefer to the picture
    bundle = g._repr_mimebundle_()
    assert sorted(bundle) == ["image/svg+xml", "text/plain"] and bundle["text/plain"] == GOLDEN_TREE.replace(
        "value 28", "value 28  grad 1").replace("value 4", "value 4  grad 11").replace(
        "value 7", "value 7  grad 4").replace("value 3", "value 3  grad 4")
    for name in ("_repr_markdown_", "_repr_html_", "_repr_svg_", "_repr_latex_"):
        assert not hasattr(g, name)
    with pytest.raises(RuntimeError, match="Graphviz 'dot' program was not found.*apt install graphviz"):
        g.render(engine="dot")
    with pytest.raises(ValueError, match="format must be 'svg' or 'png', got 'pdf'"):
        g.render(format="pdf")


def test_large_tensors_are_summarised_not_hidden():
    w = cr.arange(12.0).reshape(3, 4).requires_grad_()
    tree = ins.graph((w * 2).sum()).tree()
    assert "w  (leaf)  (3, 4) float32  value [0, 1, 2, …] norm 22.49" in tree


def test_collapse_keeps_both_edges_of_a_square():
    # t8 * t8 after a collapsed module: its two identical edges are the two routes that add up; both stay.
    nn = pytest.importorskip("chainrule.nn")
    model = nn.Sequential(nn.Linear(2, 2), nn.Tanh())
    inp = cr.randn(4, 2)
    with ins.record(model):
        t8 = model(inp)
        loss = (t8 * t8).sum()
    g = ins.graph(loss, collapse=model)
    square = next(b.id for b in g.boxes if b.title == "MulBackward0")
    into_square = [src for src, dst, _ in g.edges if dst == square]
    assert into_square == ["m_2", "m_2"]  # the Tanh box, twice
    assert g.dot().count(f"m_2 -> {square};") == 2
    assert len(ins.draw.layout(g.boxes, g.edges).paths) == len(g.edges)


def test_no_graph_error_teaches():
    with pytest.raises(ValueError, match="requires_grad=False and no grad_fn"):
        ins.graph(cr.ones(2))


def test_long_chain_is_walked_iteratively():
    x = cr.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0
    g = ins.graph(y)
    assert len(g.tree().splitlines()) == 3001
    assert g.dot().count("->") == 6000


def test_recorded_constant_inputs_and_scalar_parameters():
    x = cr.tensor([1.0, 2.0])
    w = cr.tensor([0.5, -1.0], requires_grad=True)
    with ins.record():
        s = ((w * x) ** 2).sum()
    lines = ins.graph(s).tree().splitlines()
    assert lines[1].startswith("└── t2 = t1 ** 2  [PowBackward0]")
    assert lines[2].startswith("    └── t1 = w * x  [MulBackward0]")


def test_module_parameter_names_and_collapse():
    nn = pytest.importorskip("chainrule.nn")
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    inp = cr.randn(4, 2)
    with ins.record(model):
        out = model(inp).sum()
    text = ins.graph(out, modules=model).tree()
    assert "0.weight  (leaf)  (3, 2) float32" in text
    assert "2.bias  (leaf)  (1,) float32" in text
    dot = ins.graph(out, modules=model, collapse=model).dot()
    assert 'label="0 (Linear)", shape=box3d' in dot and 'label="1 (ReLU)"' in dot
    assert "weight" not in dot  # the parameters are inside the module boxes
    assert dot.count("->") == 5  # inp -> 0 -> 1 -> 2 -> SumBackward0 -> out


def test_collapse_without_record_explains_what_to_do():
    nn = pytest.importorskip("chainrule.nn")
    model = nn.Sequential(nn.Linear(2, 1))
    out = model(cr.randn(3, 2)).sum()
    with pytest.raises(ValueError, match=r"record\(model\)"):
        ins.graph(out, collapse=model)


def test_a_graph_too_big_to_draw_says_so_in_the_picture():
    x = cr.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(250):
        y = y * 1.0
    bundle = ins.graph(y)._repr_mimebundle_()
    assert sorted(bundle) == ["image/svg+xml", "text/plain"]
    assert "too many to draw here" in bundle["image/svg+xml"] and "collapse=model" in bundle["image/svg+xml"]

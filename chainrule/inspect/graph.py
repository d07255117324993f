"""Draw the computational graph behind a tensor: as a picture (SVG/PNG, inline in Jupyter), DOT text or a text tree.

Tensor boxes show a name, shape, dtype, the value of small tensors and, after ``backward()``, the
gradient; op boxes show PyTorch's ``grad_fn`` name and the op's formula written with those names.
Edges run in data-flow order (inputs to outputs). Which values are known:

- leaves (parameters, inputs with ``requires_grad=True``) and the tensor you pass: always;
- intermediate tensors the caller still holds in a variable: their value (and ``.grad`` if they
  called ``retain_grad()``);
- every intermediate value and gradient, and the gradient on every edge: when the forward and
  backward passes ran inside ``with chainrule.inspect.record():``.

Small tensors show their values; larger ones a summary (shape, first values, norm). Pictures are
drawn by Graphviz's ``dot`` when it is installed, otherwise by chainrule itself (``draw.py``: a
layered layout by the pure-Python grandalf package), so they work after a plain ``pip install``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from ..autograd.function import _NOT_TENSOR, AccumulateGrad
from ..backend.files import write_atomically
from . import draw
from . import recording as rec
from .fmt import array, extra_letters, number, substitute, summary
from .labels import Namer, name_nodes
from .walk import collect, out_dtype_name, out_shape, root_node, tensor_edges

NO_DOT_MESSAGE = (
    "graph.render(engine='dot'): the Graphviz 'dot' program was not found on PATH. Install it (Debian/Ubuntu: "
    "apt install graphviz; macOS: brew install graphviz; conda: conda install graphviz), or use "
    "engine='auto' (the default), which draws without it.")


DOT_SECONDS = 20  # the longest render() waits for Graphviz before drawing with grandalf instead


class Box:
    """One drawn node: a tensor (``kind='tensor'``), an op (``'op'``) or a collapsed module (``'module'``)."""

    def __init__(self, ident: str, kind: str, title: str, lines: list, role: str = ""):
        self.id = ident
        self.kind = kind
        self.title = title
        self.lines = lines
        self.role = role  # 'leaf', 'output', 'const' or '' (styling)

    def text(self) -> str:
        return "\n".join([self.title] + self.lines)


class Graph:
    """A drawn graph: ``boxes`` in data-flow order and ``edges`` ``(src id, dst id, label)``.

    >>> import chainrule as cr
    >>> a = cr.tensor(4.0, requires_grad=True); b = cr.tensor(3.0, requires_grad=True)
    >>> c = a + b; d = a * c
    >>> print(cr.inspect.graph(d))
    d = a * c  [MulBackward0]  () float32  value 28
    ├── a  (leaf)  () float32  value 4
    └── c = a + b  [AddBackward0]  () float32  value 7
        ├── a  (see above)
        └── b  (leaf)  () float32  value 3
    """

    def __init__(self, boxes: list, edges: list, tree_text: str, namer=None, edge_index=None, op_box=None):
        self.boxes = boxes
        self.edges = edges
        self._tree = tree_text
        self.namer = namer
        self.edge_index = edge_index or {}  # (op node, forward index) -> index into edges
        self.op_box = op_box or {}          # op node -> id of its op box

    def tree(self) -> str:
        """A plain-text drawing, output at the top, inputs indented below (for terminals, doctests)."""
        return self._tree

    __str__ = tree

    def __repr__(self) -> str:
        return f"<chainrule.inspect.Graph: {len(self.boxes)} boxes, {len(self.edges)} edges>"

    def dot(self) -> str:
        """The graph as Graphviz DOT text (no dependency needed to produce it)."""
        styles = {"leaf": 'shape=box, style="rounded,filled", fillcolor="#cfe2f3"',
                  "output": 'shape=box, style="rounded,filled", fillcolor="#d9ead3"',
                  "const": 'shape=box, style="rounded,dashed"',
                  "": 'shape=box, style="rounded"',
                  "op": 'shape=ellipse, style=filled, fillcolor="#eeeeee"',
                  "module": 'shape=box3d, style=filled, fillcolor="#fff2cc"'}
        out = ["digraph chainrule {", '  node [fontname="Helvetica", fontsize=11];',
               '  edge [fontname="Helvetica", fontsize=9];']
        for b in self.boxes:
            style = styles["op"] if b.kind == "op" else styles["module"] if b.kind == "module" else styles[b.role]
            out.append(f'  {b.id} [label="{_escape(b.text())}", {style}];')
        for src, dst, lab in self.edges:
            extra = f' [label="{_escape(lab)}"]' if lab else ""
            out.append(f"  {src} -> {dst}{extra};")
        out.append("}")
        return "\n".join(out) + "\n"

    def render(self, path: str | os.PathLike | None = None, format: str = "svg", engine: str = "auto") -> bytes:
        """The picture as SVG or PNG bytes; with ``path`` also written there (atomically).

        ``engine``: ``"dot"`` (Graphviz, must be installed), ``"chainrule"`` (grandalf's layout drawn by
        chainrule, no system package needed) or ``"auto"``: dot when it is on PATH, else chainrule.

        >>> import chainrule as cr
        >>> x = cr.tensor(2.0, requires_grad=True)
        >>> cr.inspect.graph(x * x).render(engine="chainrule")[:4]
        b'<svg'
        """
        if format not in ("svg", "png"):
            raise ValueError(f"graph.render: format must be 'svg' or 'png', got {format!r}")
        if engine not in ("auto", "dot", "chainrule"):
            raise ValueError(f"graph.render: engine must be 'auto', 'dot' or 'chainrule', got {engine!r}")
        dot = shutil.which("dot")
        if engine == "dot" and dot is None:
            raise RuntimeError(NO_DOT_MESSAGE)
        data = None
        if engine != "chainrule" and dot is not None:
            try:  # dot can take minutes on a big graph with long edges; grandalf is then the quicker one
                data = subprocess.run([dot, f"-T{format}"], input=self.dot().encode("utf-8"), capture_output=True,
                                      check=True, timeout=DOT_SECONDS).stdout
            except (subprocess.TimeoutExpired, subprocess.CalledProcessError) as e:
                if engine == "dot":
                    raise RuntimeError(f"graph.render: Graphviz's dot failed or took over {DOT_SECONDS} s "
                                       f"({type(e).__name__}); try engine='chainrule'") from None
        if data is None:
            lay = draw.layout(self.boxes, self.edges)
            data = draw.svg(lay).encode("utf-8") if format == "svg" else draw.png(lay)
        if path is not None:
            write_atomically(path, data)
        return data

    # Jupyter (and VS Code, nbconvert): one picture and the text tree, nothing a front-end would
    # prefer to the picture (JupyterLab and nbconvert rank HTML and Markdown above images).
    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        if len(self.boxes) > draw.MAX_BOXES:  # too many to draw: say so in the picture's place
            picture = draw.message_svg(f"graph: {len(self.boxes)} boxes are too many to draw here (at most "
                                       f"{draw.MAX_BOXES}); collapse modules with graph(..., collapse=model) "
                                       f"after record(model), draw a part, or print(graph) for the text tree")
        else:
            picture = self.render(format="svg").decode("utf-8")
        return {"image/svg+xml": picture, "text/plain": self._tree}




def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def graph(tensor, show_grad: bool = True, modules=None, collapse=None, digits: int = 4,
          max_numel: int = 6, names: dict | None = None) -> Graph:
    """The computational graph that produced ``tensor``, ready to print, draw or export as DOT.

    ``show_grad`` adds gradients once known (``.grad`` of leaves; every gradient and the gradient on
    each edge if recorded with ``chainrule.inspect.record()``). ``modules`` names parameters after a
    module's ``named_parameters()``; ``collapse`` (a module recorded with ``record(model)``, or a list
    of submodule names like ``["fc1"]``) draws each submodule as one box. ``names`` maps tensors to
    names explicitly (as ``label`` does). Values are printed for tensors with at most ``max_numel``
    elements, with ``digits`` significant digits, and summarised (shape, first values, norm) above that.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> print(cr.inspect.graph((x * x).sum()).tree())
    t2 = sum(t1)  [SumBackward0]  () float32  value 5
    └── t1 = x * x  [MulBackward0]  (2,) float32
        ├── x  (leaf)  (2,) float32  value [1, 2]
        └── x  (see above)
    """
    root = root_node(tensor, "graph")
    nodes = collect([root])
    namer, frame_values = name_nodes(nodes, modules, names)

    def value(node):
        return rec.known_value(node, root, tensor, frame_values)

    def grad(node):
        if not show_grad:
            return None
        if type(node) is AccumulateGrad:
            t = node.variable
            return None if t is None or t.grad is None else t.grad._data
        held = tensor if node is root else frame_values.get(id(node))
        if held is not None and held.retains_grad and held.grad is not None:
            return held.grad._data
        return rec.grads.get(node)

    def describe(node) -> str:
        parts = [f"{tuple(out_shape(node))} {out_dtype_name(node)}"]
        v = value(node)
        if v is not None:
            parts.append(f"value {summary(v, digits, max_numel, shape=False)}")
        g = grad(node)
        if g is not None:
            parts.append(f"grad {summary(g, digits, max_numel, shape=False)}")
        return "  ".join(parts)

    boxes, edges, box_of, edge_index = _build_boxes(nodes, root, namer, describe, show_grad, digits, max_numel)
    tree_text = _tree(root, namer, describe)
    op_box = {b.node: b.id for b in boxes if b.kind == "op"}
    if collapse is not None:
        boxes, edges = _collapse(boxes, edges, box_of, nodes, collapse)
        edge_index, op_box = {}, {}
    return Graph(boxes, edges, tree_text, namer, edge_index, op_box)


def symbols(node, namer: Namer) -> dict:
    """What the letters of an op's formula stand for here: z the output, x and y its first two tensor
    inputs (by name; ``const`` for an unnamed constant), p, c, n the op's scalar parameters."""
    mapping = {"z": namer.node(node)}
    formula = getattr(type(node), "formula", None) or getattr(node, "formula", None) or ""
    letters = ["x", "y"] if re.search(r"(?<![A-Za-z0-9_.])y(?![A-Za-z0-9_])", formula) else ["x"]
    letters += extra_letters(formula)
    for k, i, nxt in tensor_edges(node):
        if k >= len(letters):
            break
        if nxt is not None:
            mapping[letters[k]] = namer.node(nxt)
        else:
            const = rec.recorded_argument(node, i)
            mapping[letters[k]] = (namer.tensor_name(const) if const is not None else None) or "const"
    for pos, letter in enumerate(letters[:2]):  # a Python number in x's or y's place (a * 3)
        if letter not in mapping and letter in formula:
            v = rec.recorded_argument(node, pos)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                mapping[letter] = number(v)
            elif pos < len(node._edges) and node._edges[pos] is _NOT_TENSOR:
                mapping[letter] = "const"  # a Python number, not recorded: its value is not kept
    for letter in "pcn":
        v = node.__dict__.get(letter)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            mapping[letter] = number(v)
    return mapping


def rule_of(node, k: int, namer: Namer):
    """The local rule of ``node`` for its k-th tensor input with this graph's names, as ``(kind, text)``:
    kind ``"local"`` for a local derivative (``c`` for ∂(a·c)/∂a), ``"vjp"`` when the rule already
    includes the upstream gradient g (``g·yᵀ``); None if the op states no rule."""
    syms = getattr(type(node), "local", ()) or ()
    sym = syms[k] if k < len(syms) else None
    if not sym:
        return None
    uses_g = substitute(sym, {"g": "\0"}) != sym
    return ("vjp" if uses_g else "local", substitute(sym, symbols(node, namer)))


def formula_of(node, namer: Namer) -> str:
    """The op's formula with its inputs' and output's names, e.g. ``d = a * c``."""
    text = getattr(type(node), "formula", None) or getattr(node, "formula", None)
    if not text:
        return f"{namer.node(node)} = {node.name()}(...)"
    return substitute(text, symbols(node, namer))


def _build_boxes(nodes, root, namer, describe, show_grad, digits, max_numel):
    boxes, edges = [], []
    box_of = {}  # node -> id of the box holding the tensor it stands for
    edge_index = {}  # (op node, forward index of the input) -> index into edges
    counter = [0]

    def new_id() -> str:
        counter[0] += 1
        return f"n{counter[0]}"

    for node in nodes:
        role = "output" if node is root else ""
        if type(node) is AccumulateGrad:
            b = Box(new_id(), "tensor", namer.node(node), [describe(node)], "leaf" if node is not root else role)
            b.node = node
            boxes.append(b)
            box_of[node] = b.id
            continue
        op = Box(new_id(), "op", node.name(), [formula_of(node, namer)])
        boxes.append(op)
        sent = rec.edge_grads.get(node, {}) if show_grad else {}
        for k, i, nxt in tensor_edges(node):
            if nxt is None:
                const = rec.recorded_argument(node, i)
                if const is None:
                    continue
                cname = namer.tensor_name(const) or "const"
                lines = [f"{tuple(const.shape)} {const.dtype.name}"]
                if const.numel() <= max_numel:
                    lines[0] += f"  value {array(const._data, digits)}"
                c = Box(new_id(), "tensor", cname, lines, "const")
                boxes.append(c)
                edges.append((c.id, op.id, ""))
                continue
            g = sent.get(i)
            label = f"grad {array(g, digits)}" if g is not None and g.size <= max_numel else ""
            edge_index[(node, i)] = len(edges)
            edges.append((box_of[nxt], op.id, label))
        out = Box(new_id(), "tensor", namer.node(node), [describe(node)], role)
        boxes.append(out)
        edges.append((op.id, out.id, ""))
        box_of[node] = out.id
        op.node = node
        out.node = node
    return boxes, edges, box_of, edge_index


def _tree(root, namer: Namer, describe) -> str:
    lines = []
    shown = set()
    stack = [(root, "", "", True)]  # node, prefix for its line, prefix for its children, is root
    while stack:
        node, head, indent, _ = stack.pop()
        name = namer.node(node)
        if node in shown:
            lines.append(f"{head}{name}  (see above)")
            continue
        shown.add(node)
        if type(node) is AccumulateGrad:
            lines.append(f"{head}{name}  (leaf)  {describe(node)}")
            continue
        lines.append(f"{head}{formula_of(node, namer)}  [{node.name()}]  {describe(node)}")
        kids = [nxt for _, _, nxt in tensor_edges(node) if nxt is not None]
        for j in range(len(kids) - 1, -1, -1):  # push in reverse so the first input prints first
            last = j == len(kids) - 1
            stack.append((kids[j], indent + ("└── " if last else "├── "),
                          indent + ("    " if last else "│   "), False))
    return "\n".join(lines)


def _collapse(boxes, edges, box_of, nodes, collapse):
    """Merge the boxes of each submodule (recorded by ``record(model)``) into one module box."""
    if hasattr(collapse, "named_children"):
        wanted = [name for name, _ in collapse.named_children()]
        kinds = {name: type(m).__name__ for name, m in collapse.named_children()}
        params = {id(p): name for name, p in collapse.named_parameters()}
    else:
        wanted = list(collapse)
        kinds, params = {}, {}
    group_of_box = {}
    for node in nodes:
        group = None
        if type(node) is AccumulateGrad:
            pname = params.get(id(node.variable))
            if pname is not None and "." in pname and pname.rsplit(".", 1)[0] in wanted:
                group = pname.rsplit(".", 1)[0]
        else:
            path = rec.module_of.get(node, ())
            group = next((p for p in path if p in wanted), None)
        if group is None:
            continue
        for b in boxes:
            if getattr(b, "node", None) is node or b.id == box_of.get(node):
                group_of_box[b.id] = group
    if not any(rec.module_of.get(node) for node in nodes):
        raise ValueError("graph(collapse=...): no op was tagged with a module. Run the forward pass inside "
                         "`with chainrule.inspect.record(model):` so the ops know which module made them.")
    group_ids = {}
    new_boxes = []
    for b in boxes:
        g = group_of_box.get(b.id)
        if g is None:
            new_boxes.append(b)
            continue
        if g not in group_ids:
            group_ids[g] = f"m_{len(group_ids) + 1}"
            kind = f" ({kinds[g]})" if g in kinds else ""
            new_boxes.append(Box(group_ids[g], "module", g + kind, []))
    new_edges = []
    origins: dict = {}  # drawn edge -> the original (src, dst) pairs behind it
    for src, dst, lab in edges:
        s = group_ids.get(group_of_box.get(src), src)
        d = group_ids.get(group_of_box.get(dst), dst)
        if s == d:
            continue
        # Different edges that collapsing made identical (a tensor feeding two ops inside one module) are
        # drawn once; an edge that was already repeated (t8 * t8: the two routes that add up) stays repeated.
        seen = origins.setdefault((s, d, lab), set())
        if seen and (src, dst) not in seen:
            continue
        seen.add((src, dst))
        new_edges.append((s, d, lab))
    return new_boxes, new_edges

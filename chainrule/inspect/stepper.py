"""Step through a backward pass: the graph, with Prev/Next, one engine step at a time.

``stepper(loss)`` runs the backward pass once with the same engine observer as ``explain`` (so every
number shown is what the engine computed, not a recomputation) and turns it into steps:

0. the start: ∂loss/∂loss = 1 at the output;
1. one step per op, in the engine's order: the op is highlighted, the gradient arriving at it (and,
   where two routes meet, the sum that made it), its local derivative (formula and numbers) and the
   gradient it sends along each input edge (written on the edge);
2. one step per leaf: its ``.grad`` filled in, as the sum of the routes that reach it;
3. a summary: every input's gradient as the sum of its routes (``∂d/∂a = 7 + 4 = 11``).

In Jupyter the result shows itself (HTML with a small script; no network); ``.save("steps.html")``
writes a standalone page for the browser; ``print(stepper(loss))`` prints the steps as text.
Keyboard: Tab to the buttons, or focus the widget and use ← → (Home, End).
"""

from __future__ import annotations

import html
import itertools
import json
import os
from importlib import resources

from ..autograd.function import AccumulateGrad
from . import draw
from . import recording as rec
from .explain import broadcast_note, jacobian
from .fmt import array, number, summary
from .graph import Box, formula_of, graph, rule_of, write_atomically
from .observe import is_freed, unit_backward
from .walk import out_shape, root_node, tensor_edges

_ids = itertools.count(1)


def _asset(name: str) -> str:
    return resources.files("chainrule.inspect").joinpath("static", name).read_text(encoding="utf-8")


def _numel(node) -> int:
    n = 1
    for s in out_shape(node):
        n *= s
    return n


class Stepper:
    """The steps of one backward pass and the graph they are drawn on (see ``stepper``).

    ``steps`` is a list of dicts: ``title``, ``lines`` (``[{"text": ..., "sum": bool}]``), ``focus``
    (box ids to highlight), ``edges`` ({edge index: gradient label}), ``grads`` ({box id: text}).
    """

    def __init__(self, out_name: str, steps: list, svg: str):
        self.out_name = out_name
        self.steps = steps
        self.svg = svg

    def __len__(self) -> int:
        return len(self.steps)

    def text(self) -> str:
        """All steps as plain text (for a terminal)."""
        out = []
        for k, st in enumerate(self.steps):
            out.append(f"[{k}] {st['title']}")
            out.extend("    " + line["text"] for line in st["lines"])
        return "\n".join(out)

    __str__ = text

    def __repr__(self) -> str:
        return f"<chainrule.inspect.Stepper: backward pass of {self.out_name} in {len(self.steps) - 1} steps>"

    def html(self, standalone: bool = False) -> str:
        """The stepper as an HTML fragment (for a notebook) or, ``standalone=True``, a whole page."""
        ident = f"cr-stepper-{next(_ids)}-{os.getpid()}"
        data = json.dumps({"steps": self.steps}, ensure_ascii=False).replace("</", "<\\/")
        static = ["<ol class='cr-static'>"]  # what shows if scripts are off: every step, one after another
        for k, st in enumerate(self.steps):
            static.append(f"<li class='cr-step-title'>{k}. {html.escape(st['title'])}</li>")
            static.extend(f"<li>{html.escape(line['text'])}</li>" for line in st["lines"])
        static.append("</ol>")
        part = (f'<div class="cr-stepper" id="{ident}" tabindex="0" role="group" '
                f'aria-label="backward pass of {html.escape(self.out_name)}, step by step">'
                f"<style>{_asset('stepper.css')}</style>"
                f'<div class="cr-controls" hidden><button type="button" class="cr-prev" '
                f'aria-label="previous step">&#9664; Prev</button>'
                f'<span class="cr-count" aria-live="polite"></span>'
                f'<button type="button" class="cr-next" aria-label="next step">Next &#9654;</button>'
                f'<span class="cr-hint">keys: &larr; &rarr; Home End</span></div>'
                f'<div class="cr-body"><div class="cr-pic">{self.svg}</div>'
                f'<div class="cr-text" aria-live="polite">{"".join(static)}</div></div>'
                f'<script type="application/json" class="cr-data">{data}</script>'
                f"<script>{_asset('stepper.js').replace('__CR_ID__', ident)}</script></div>")
        if not standalone:
            return part
        return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>backward pass of '
                f'{html.escape(self.out_name)}</title></head><body>{part}</body></html>\n')

    def save(self, path: str | os.PathLike) -> str:
        """Write the standalone page to ``path`` (atomically); returns the path."""
        write_atomically(path, self.html(standalone=True).encode("utf-8"))
        return path

    def _repr_html_(self) -> str:
        return self.html()


def _local(node) -> dict:
    """The op's local derivatives (its own backward at g = 1), or those recorded before backward() freed it."""
    try:
        return unit_backward(node)
    except RuntimeError as e:
        if not is_freed(e):
            raise
        return rec.local.get(node, {})


def stepper(output, inputs=None, digits: int = 4, max_numel: int = 6, modules=None,
            names: dict | None = None) -> Stepper:
    """A step-by-step view of ``output.backward()`` (``output`` a single number, e.g. a loss).

    The backward pass runs once through the engine with an observer (like ``explain``: ``.grad`` is not
    touched and the graph stays usable); names come from labels, ``names=``, ``modules=`` or your variables.

    >>> import chainrule as cr
    >>> a = cr.tensor(4.0, requires_grad=True); b = cr.tensor(3.0, requires_grad=True)
    >>> c = a + b; d = a * c
    >>> s = cr.inspect.stepper(d)
    >>> [line["text"] for line in s.steps[-1]["lines"]]
    ['∂d/∂a = 7 + 4 = 11', '∂d/∂b = 4']
    """
    root = root_node(output, "stepper")
    if output.numel() != 1:
        raise ValueError(f"stepper: the output must be a single number (a loss), got shape "
                         f"{tuple(output.shape)}; step through output.sum() or one element")
    g = graph(output, show_grad=False, modules=modules, digits=digits, max_numel=max_numel, names=names)
    namer = g.namer
    if inputs is None:
        leaves = [b.node for b in g.boxes if type(getattr(b, "node", None)) is AccumulateGrad]
        inputs = [n.variable for n in leaves if n.variable is not None]
    inputs = [inputs] if hasattr(inputs, "shape") else list(inputs)
    run = rec.backward_run(output, inputs, "stepper")
    out = namer.node(root)
    scalar = all(_numel(b.node) == 1 for b in g.boxes if getattr(b, "node", None) is not None)

    def num(v) -> str:
        return number(float(v.reshape(()))) if v.size == 1 else summary(v, digits, max_numel)

    def short(v) -> str:  # for the picture: a few numbers fit on a box or an edge, a summary beyond that
        return number(float(v.reshape(()))) if v.size == 1 else summary(v, digits, 4, shape=False)

    def frac(z, x) -> str:
        return f"∂{z}/∂{x}"

    boxes = [Box(b.id, b.kind, b.title, list(b.lines), b.role) for b in g.boxes]
    tensor_box = {}  # node -> its tensor box
    for old, new in zip(g.boxes, boxes):
        if old.kind == "tensor" and getattr(old, "node", None) is not None:
            tensor_box[old.node] = new
    for b in tensor_box.values():  # a line for the gradient, filled in as the pass goes
        b.lines.append("grad ?")
        b.grad_slot = len(b.lines)

    steps = [{"title": f"start: the gradient of {out} with respect to itself is 1",
              "lines": [{"text": f"{frac(out, out)} = 1", "sum": False},
                        {"text": "backward visits each op once all the routes into it have arrived", "sum": False}],
              "focus": [tensor_box[root].id], "edges": {}, "grads": {tensor_box[root].id: "grad 1"}}]
    arrived = {}  # node -> [(from name, gradient)]: the routes summed so far
    for node, upstream, sent in run.steps:
        name = namer.node(node)
        lines = []
        parts = arrived.get(node, [])
        if len(parts) > 1:
            lines.append({"text": f"routes meet at {name}: {frac(out, name)} = "
                                  f"{' + '.join(num(v) for _, v in parts)} = {num(upstream)}", "sum": True})
        lines.append({"text": f"arriving: g = {frac(out, name)} = {num(upstream)}", "sum": False})
        edges = {}
        local = _local(node) if scalar else {}
        for k, i, nxt in tensor_edges(node):
            if nxt is None or i not in sent:
                continue
            to = namer.node(nxt)
            gi = sent[i]
            rule = rule_of(node, k, namer)
            if rule is not None and rule[0] == "vjp":
                lines.append({"text": f"to {to}: rule {frac(out, to)} = {rule[1]}", "sum": False})
            elif rule is not None:
                loc = f" = {number(float(local[i].reshape(())), digits)}" if i in local else ""
                loc = "" if loc == f" = {rule[1]}" else loc
                lines.append({"text": f"to {to}: local {frac(name, to)} = {rule[1]}{loc}", "sum": False})
                if i in local:
                    lines.append({"text": f"    {frac(out, to)} = g · {frac(name, to)} = {num(upstream)} · "
                                          f"{number(float(local[i].reshape(())), digits)} = {num(gi)}",
                                  "sum": False})
            sent_text = f"    sends {frac(out, to)} = {num(gi)}"
            if not (rule is not None and rule[0] != "vjp" and i in local):
                lines.append({"text": sent_text, "sum": False})
            note = broadcast_note(out_shape(node), tuple(gi.shape))
            if note:
                lines.append({"text": "    " + note, "sum": False})
            jac = jacobian(node, i, out_shape(nxt)) if not scalar else None
            if jac is not None and jac.size <= 16:
                lines.append({"text": f"    (Jacobian {frac(name, to)} = {array(jac, digits)}; autograd "
                                      f"computes gᵀ·J without building it)", "sum": False})
            edges[str(g.edge_index[(node, i)])] = f"{frac(out, to)} = {short(gi)}"
            arrived.setdefault(nxt, []).append((name, gi))
        focus = [b for b in (g.op_box.get(node), tensor_box[node].id) if b is not None]
        steps.append({"title": f"{node.name()}:  {formula_of(node, namer)}", "lines": lines, "focus": focus,
                      "edges": edges, "grads": {tensor_box[node].id: f"grad {short(upstream)}"}})
    summary_lines = []
    for t in inputs:
        node = root_node(t, "stepper")
        name = namer.node(node)
        parts = arrived.get(node, [])
        total = run.grads.get(node)
        if total is None:
            text = f"{frac(out, name)} = 0 (no route from {out} to {name})"
        elif len(parts) > 1:
            text = f"{frac(out, name)} = {' + '.join(num(v) for _, v in parts)} = {num(total)}"
        else:
            text = f"{frac(out, name)} = {num(total)}"
        summary_lines.append({"text": text, "sum": True})
        if node in tensor_box and total is not None:
            steps.append({"title": f"leaf {name}: {name}.grad is filled in",
                          "lines": [{"text": f"{name}.grad = {text.split(' = ', 1)[1]}", "sum": len(parts) > 1}],
                          "focus": [tensor_box[node].id], "edges": {},
                          "grads": {tensor_box[node].id: f"grad {short(total)}"}})
    steps.append({"title": f"done: every input's gradient is the sum of its routes from {out}",
                  "lines": summary_lines, "focus": [tensor_box[root_node(t, 'stepper')].id for t in inputs
                                                    if root_node(t, "stepper") in tensor_box],
                  "edges": {}, "grads": {}})
    # draw last, leaving room for the longest gradient each box and edge will show
    for st in steps:
        for box_id, text in st["grads"].items():
            box = next(b for b in boxes if b.id == box_id)
            box.min_chars = max(getattr(box, "min_chars", 0), len(text))
    longest = max((len(text) for st in steps for text in st["edges"].values()), default=0)
    svg = draw.svg(draw.layout(boxes, g.edges, label_chars=longest), slots=True)
    return Stepper(out, steps, svg)

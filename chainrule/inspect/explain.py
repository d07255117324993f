"""Explain a backward pass: the chain rule, with the numbers of this graph.

Two ways to read the same computation:

- **routes** (scalar graphs, like the notes' c = a + b, d = a·c): every route from the output to
  each input, the local derivative on each edge, their product along the route and the sum over
  routes. Local derivatives are exact: each op's own ``backward`` is run with a unit upstream
  gradient (no finite differences).
- **steps** (tensor graphs): the backward pass in the engine's order: the gradient arriving at each
  op, the op's local rule, the gradient sent to each input, where broadcasting was summed away and
  where two paths were added.

``explain`` runs ``autograd.grad(..., retain_graph=True)`` with an engine observer attached, so it
never touches ``.grad`` and leaves the graph usable; its totals are checked against autograd's.
After ``backward()`` has freed the graph it reads the steps the engine ran instead, if they were
recorded (``chainrule.inspect.start_recording()`` or ``with record():``; see ``recording.py``).

In Jupyter an explanation shows itself as Markdown with LaTeX math (MathJax/KaTeX render it);
``.latex()`` is the same as one LaTeX ``aligned`` block, ``.text()`` plain Unicode.
"""

from __future__ import annotations

from ..autograd.function import AccumulateGrad
from ..backend import xp
from ..tensor import Tensor
from . import recording as rec
from .fmt import number, substitute
from .graph import formula_of, symbols
from .labels import name_nodes
from .observe import is_freed, unit_backward
from .recording import backward_run, known_value
from .render import Style
from .walk import collect, out_shape, root_node, tensor_edges


class Explanation:
    """The result of ``explain``: render it with ``.text()``, ``.markdown()`` or ``.latex()``.

    ``totals`` maps each input's name to the gradient the explanation adds up (a float in route
    mode, an array in step mode); ``autograd`` holds autograd's own result for the same inputs.
    """

    def __init__(self, mode: str, out_name: str, data: dict, totals: dict, autograd: dict, digits: int):
        self.mode = mode
        self.out_name = out_name
        self.data = data
        self.totals = totals
        self.autograd = autograd
        self.digits = digits

    def text(self) -> str:
        return _render(self, Style("text"))

    def markdown(self) -> str:
        return _render(self, Style("markdown"))

    def latex(self) -> str:
        return _render(self, Style("latex"))

    __str__ = text

    # Jupyter: Markdown with $...$ math (what JupyterLab, Notebook 7, VS Code and nbconvert show; MathJax
    # or KaTeX typesets it), LaTeX for front-ends without Markdown, plain text for terminals.
    def _repr_markdown_(self) -> str:
        return self.markdown()

    def _repr_latex_(self) -> str:
        return self.latex()

    def __repr__(self) -> str:
        return f"<chainrule.inspect.Explanation ({self.mode}) of {self.out_name}: {len(self.totals)} inputs>"


def jacobian(node, i: int, in_shape: tuple, max_size: int = 36):
    """The full Jacobian ∂out/∂input_i of one op (out elements × input elements), built row by row from
    the op's backward with one-hot upstream gradients; None if it would have more than ``max_size`` entries."""
    shape = out_shape(node)
    m = _numel(node)
    n = 1
    for s_ in in_shape:
        n *= s_
    if m * n > max_size or node._num_outputs > 1:
        return None
    rows = []
    for r in range(m):
        onehot = xp.zeros(m, dtype=node._out_dtype)
        onehot[r] = 1
        try:
            local = unit_backward(node, onehot.reshape(shape))
        except RuntimeError as e:  # freed by backward(): an explanation from records has no Jacobians
            if is_freed(e):
                return None
            raise
        rows.append(local[i].reshape(-1) if i in local else xp.zeros(n, dtype=node._out_dtype))
    return xp.stack(rows)


def explain(output, inputs=None, mode: str = "auto", digits: int = 4, modules=None, names: dict | None = None,
            max_routes: int = 64, jacobians: bool = False) -> Explanation:
    """Explain how autograd computes d(output)/d(inputs) for a scalar ``output``.

    ``inputs`` defaults to every leaf that requires grad; ``mode`` is ``"routes"``, ``"steps"`` or
    ``"auto"`` (routes when every tensor in the graph is a single number). Names come from
    ``chainrule.inspect.label``, ``names={tensor: "name"}``, ``modules``' parameter names or the caller's
    variables. Numbers are rounded to ``digits`` significant digits. ``jacobians=True`` adds, in step
    mode, the full Jacobian of each small op next to the vector-Jacobian product autograd computes.

    >>> import chainrule as cr
    >>> a = cr.tensor(4.0, requires_grad=True); b = cr.tensor(3.0, requires_grad=True)
    >>> c = a + b; d = a * c
    >>> print(cr.inspect.explain(d, inputs=[a]).text().splitlines()[-2])
      route 2 (d → c → a): ∂d/∂c · ∂c/∂a = 4 · 1 = 4
    """
    root = root_node(output, "explain")
    if output.numel() != 1:
        raise ValueError(f"explain: the output must be a single number (a loss), got shape {tuple(output.shape)}; "
                         f"explain output.sum() or a chosen element, as backward() would need gradient=")
    if mode not in ("auto", "routes", "steps"):
        raise ValueError(f"explain: mode must be 'auto', 'routes' or 'steps', got {mode!r}")
    nodes = collect([root])
    namer, frame_values = name_nodes(nodes, modules, names)
    if inputs is None:
        inputs = [n.variable for n in nodes if type(n) is AccumulateGrad and n.variable is not None]
    elif isinstance(inputs, Tensor):
        inputs = [inputs]
    inputs = list(inputs)
    targets = [root_node(t, "explain") for t in inputs]
    scalar = all(_numel(n) == 1 for n in nodes)
    if mode == "auto":
        mode = "routes" if scalar and _count_routes(root, targets, max_routes) <= max_routes else "steps"
    elif mode == "routes" and not scalar:
        big = next(n for n in nodes if _numel(n) != 1)
        raise ValueError(f"explain(mode='routes'): routes multiply single-number local derivatives, but "
                         f"{namer.node(big)} has shape {out_shape(big)}; use mode='steps' for tensor graphs")

    local = {}
    if mode == "routes":
        try:
            for node in nodes:
                if type(node) is not AccumulateGrad:
                    local[node] = unit_backward(node)
        except RuntimeError as e:  # freed by backward(): the local derivatives recorded while it ran
            if not is_freed(e):
                raise
            local = {n: rec.local[n] for n in nodes if n in rec.local}
    run = backward_run(output, inputs, "explain")
    if mode == "routes" and any(n not in local for n in nodes if type(n) is not AccumulateGrad):
        mode = "steps"  # recorded, but some op's local derivatives were not: explain the steps instead
    autograd = {}
    for node in targets:
        g = run.grads.get(node)
        autograd[namer.node(node)] = _plain(g) if g is not None else 0.0
    if mode == "routes":
        data, totals = _routes(root, targets, nodes, local, namer, max_routes)
    else:
        data, totals = _steps(root, targets, run.steps, namer, jacobians)
    data["forward"] = [(formula_of(n, namer), known_value(n, root, output, frame_values)) for n in nodes
                       if type(n) is not AccumulateGrad]
    data["leaves"] = [(namer.node(n), n.variable._data) for n in nodes
                      if type(n) is AccumulateGrad and n.variable is not None]
    return Explanation(mode, namer.node(root), data, totals, autograd, digits)


def _numel(node) -> int:
    n = 1
    for s in out_shape(node):
        n *= s
    return n


def _plain(a):
    return float(a.reshape(())) if a.size == 1 else a


def _routes_from(root, target, limit):
    """All routes root → target as lists of (node, forward index, next node); at most ``limit``+1."""
    routes = []
    stack = [(root, [])]
    while stack and len(routes) <= limit:
        node, path = stack.pop()
        if node is target:
            routes.append(path)
            continue
        if type(node) is AccumulateGrad:
            continue
        for _, i, nxt in reversed(tensor_edges(node)):
            if nxt is not None:
                stack.append((nxt, path + [(node, i, nxt)]))
    return routes


def _count_routes(root, targets, limit) -> int:
    return max((len(_routes_from(root, t, limit)) for t in targets), default=0)


def _routes(root, targets, nodes, local, namer, max_routes):
    edges = []  # every edge once, in data-flow order, with its local derivative
    for node in nodes:
        if type(node) is AccumulateGrad:
            continue
        syms = getattr(type(node), "local", ()) or ()
        for k, i, nxt in tensor_edges(node):
            if nxt is None or i not in local[node]:
                continue
            sym = syms[k] if k < len(syms) else None
            edges.append((node, i, nxt, _symbol(node, sym, namer), float(local[node][i].reshape(()))))
    per_input = []
    totals = {}
    for target in targets:
        routes = _routes_from(root, target, max_routes)
        described = []
        for path in routes:
            factors = [(namer.node(n), namer.node(nxt), float(local[n][i].reshape(()))) for n, i, nxt in path]
            product = 1.0
            for f in factors:
                product *= f[2]
            described.append((factors, product))
        total = sum(p for _, p in described)
        totals[namer.node(target)] = total
        per_input.append((namer.node(target), described, total))
    return {"edges": [(namer.node(n), namer.node(nxt), sym, v) for n, _, nxt, sym, v in edges],
            "inputs": per_input}, totals


def _symbol(node, sym, namer):
    """The local derivative's formula with this graph's names, or None when it needs the upstream g."""
    if not sym or substitute(sym, {"g": "\0"}) != sym:  # a vector-Jacobian rule (g·yᵀ): no scalar form
        return None
    return substitute(sym, symbols(node, namer))


def broadcast_note(out: tuple, shape: tuple):
    """Say so when an input was broadcast up to the op's output (the engine summed its gradient back)."""
    if out is None or shape == out or len(shape) > len(out):
        return None
    padded = (1,) * (len(out) - len(shape)) + shape
    if all(s in (1, o) for s, o in zip(padded, out)):
        return f"summed over broadcast dimensions: {out} → {shape}"
    return None


def _steps(root, targets, steps, namer, jacobians=False):
    arrivals = {}  # node -> [(from op formula, gradient)], to show where paths were added
    out_steps = []
    for node, g, sent in steps:
        syms = getattr(type(node), "local", ()) or ()
        results = []
        for k, i, nxt in tensor_edges(node):
            if nxt is None or i not in sent:
                continue
            gi = sent[i]
            note = broadcast_note(out_shape(node), tuple(gi.shape))
            sym = syms[k] if k < len(syms) else None
            rule = _rule(node, sym, namer)
            jac = jacobian(node, i, out_shape(nxt)) if jacobians else None
            results.append((namer.node(nxt), rule, gi, note, jac))
            arrivals.setdefault(nxt, []).append((namer.node(node), gi))
        merged = arrivals.get(node, [])
        out_steps.append({"op": node.name(), "formula": formula_of(node, namer), "out": namer.node(node),
                          "upstream": g, "results": results, "merged": merged if len(merged) > 1 else None})
    totals = {}
    leaves = []
    for target in targets:
        parts = arrivals.get(target, [])
        total = None
        for _, gi in parts:
            total = gi if total is None else total + gi
        name = namer.node(target)
        totals[name] = _plain(total) if total is not None else 0.0
        leaves.append((name, parts))
    multi = {namer.node(n) for n, parts in arrivals.items() if len(parts) > 1}
    return {"steps": out_steps, "targets": leaves, "multi": multi}, totals


def _rule(node, sym, namer):
    """(kind, text): kind 'vjp' when the rule already includes the upstream g (∂L/∂x = g·yᵀ)."""
    if not sym:
        return None
    uses_g = substitute(sym, {"g": "\0"}) != sym
    return ("vjp" if uses_g else "local", substitute(sym, symbols(node, namer)))


def _render(ex: Explanation, s: Style) -> str:
    d = ex.digits
    out = ex.out_name
    lines = []
    if ex.mode == "routes":
        lines.append(s.heading(f"How {s.name(out)} depends on its inputs (forward pass)"))
        for name, v in ex.data["leaves"]:
            lines.append(s.item(f"{s.name(name)} = {s.num(v, d)}"))
        for formula, v in ex.data["forward"]:
            tail = f" = {s.num(v, d)}" if v is not None else ""
            lines.append(s.item(s.formula(formula) + tail))
        lines.append(s.heading("Local derivatives (one per edge)"))
        for z, x, sym, v in ex.data["edges"]:
            mid = f" = {s.formula(sym)}" if sym is not None and sym != number(v, d) else ""
            lines.append(s.item(f"{s.frac(z, x)}{mid} = {s.num(v, d)}"))
        for name, routes, total in ex.data["inputs"]:
            lines.append(s.heading(f"{s.frac(out, name)}: multiply along each route, add the routes"))
            for r, (factors, product) in enumerate(routes, 1):
                path = s.arrow().join(s.name(n) for n in [out] + [f[1] for f in factors])
                symbolic = s.dot().join(s.frac(z, x) for z, x, _ in factors)
                nums = s.dot().join(s.num(v, d) for _, _, v in factors)
                expr = f"{symbolic} = {nums} = {s.num(product, d)}" if len(factors) > 1 else \
                    f"{symbolic} = {s.num(product, d)}"
                lines.append(s.item(f"route {r} ({path}): {expr}"))
            if not routes:
                lines.append(s.item(f"no route: {s.name(out)} does not depend on {s.name(name)}"))
            sums = " + ".join(s.num(p, d) for _, p in routes)
            sums = f"{sums} = " if len(routes) > 1 else ""
            check = s.num(ex.autograd.get(name, 0.0), d)
            lines.append(s.item(f"total: {s.frac(out, name)} = {sums}{s.num(total, d)}   (autograd: {check})"))
        return s.finish(lines)

    lines.append(s.heading(f"Backward pass of {s.name(out)}, step by step in the engine's order"))
    lines.append(s.text_line(f"{s.name('g')} is the gradient arriving at an op's output, "
                             f"{s.frac(out, 'output')}; it starts as {s.frac(out, out)} = {s.num(1.0, d)}."))
    for n, st in enumerate(ex.data["steps"], 1):
        lines.append(s.heading(f"step {n}: {st['op']}   {s.formula(st['formula'])}", level=3))
        if st["merged"]:
            parts = " + ".join(s.num(v, d) for _, v in st["merged"])
            lines.append(s.item(f"two paths meet: {s.frac(out, st['out'])} = {parts} "
                                f"(from {', '.join(s.name(src) for src, _ in st['merged'])})"))
        lines.append(s.item(f"upstream {s.name('g')} = {s.frac(out, st['out'])} = {s.num(st['upstream'], d)}"))
        for name, rule, gi, note, jac in st["results"]:
            if rule is not None and (rule[0] == "vjp" or st["out"] == out):  # already ∂out/∂input
                lines.append(s.item(f"rule: {s.frac(out, name)} = {s.formula(rule[1])}"))
            elif rule is not None:
                lines.append(s.item(f"rule: {s.frac(out, name)} = {s.name('g')}{s.dot()}{s.frac(st['out'], name)}, "
                                    f"{s.frac(st['out'], name)} = {s.formula(rule[1])}"))
            part = " (this path's part)" if name in ex.data["multi"] else ""
            lines.append(s.item(f"{s.frac(out, name)}{part} = {s.num(gi, d)}", level=2))
            if note:
                lines.append(s.item(note, level=2))
            if jac is not None:
                lines.append(s.item(f"Jacobian {s.frac(st['out'], name)} ({jac.shape[0]}×{jac.shape[1]}) = "
                                    f"{s.num(jac, d, 64)}; autograd never builds it: it computes gᵀ·J "
                                    f"directly", level=2))
    lines.append(s.heading("Gradients of the inputs"))
    for name, parts in ex.data["targets"]:
        total = ex.totals[name]
        if len(parts) > 1:
            add = " + ".join(s.num(v, d) for _, v in parts)
            lines.append(s.item(f"{s.frac(out, name)} = {add} = {s.num(total, d)}   (sum of {len(parts)} paths)"))
        else:
            lines.append(s.item(f"{s.frac(out, name)} = {s.num(total, d)}"))
    return s.finish(lines)

"""Draw a graph without Graphviz: a layered layout by grandalf, then SVG (or a PNG through matplotlib).

grandalf (pure Python, on PyPI) places the boxes in layers, inputs at the top and the output at the
bottom, the way Graphviz's ``dot`` does, and routes the edges; this module only measures the boxes
and draws them. Text is set in a monospace font, so a box's width follows from its longest line.

Every box is an SVG group ``<g class="cr-node ..." data-box="n3">``: the stepper highlights boxes
by that id, and edges carry ``data-src``/``data-dst``.
"""

from __future__ import annotations

import itertools
import os
import textwrap
from html import escape

FONT = 12            # px
CHAR = 0.61 * FONT   # width of one monospace character
LINE = 16            # px between text lines
PAD_X, PAD_Y = 9, 6
MAX_BOXES = 400      # beyond this a drawing is unreadable and the layout slow: collapse modules instead

FILL = {"leaf": "#cfe2f3", "output": "#d9ead3", "const": "#ffffff", "": "#ffffff", "op": "#eeeeee",
        "module": "#fff2cc"}
FONTS = "DejaVu Sans Mono, Menlo, Consolas, monospace"
_marker_ids = itertools.count(1)  # one arrow-head id per picture: a page (a notebook) holds many,
_run = os.urandom(3).hex()        # some of them from earlier kernel sessions


class Placed:
    """A box with its centre (x, y) and size (w, h), in pixels."""

    def __init__(self, box, x: float, y: float, w: float, h: float):
        self.box, self.x, self.y, self.w, self.h = box, x, y, w, h


class Layout:
    """Where each box and edge goes: ``placed`` {box id: Placed}, ``paths`` [(src, dst, label, points)]."""

    def __init__(self, placed: dict, paths: list, width: float, height: float):
        self.placed, self.paths, self.width, self.height = placed, paths, width, height


def box_size(box) -> tuple:
    """(width, height) in pixels; ``box.min_chars`` (if set) reserves room for text filled in later."""
    lines = [box.title] + list(box.lines)
    chars = max(max(len(s) for s in lines), getattr(box, "min_chars", 0))
    return chars * CHAR + 2 * PAD_X, len(lines) * LINE + 2 * PAD_Y


def layout(boxes: list, edges: list, label_chars: int = 0) -> Layout:
    """Layered layout of ``boxes`` and ``edges`` ((src id, dst id, label)) with grandalf; ``label_chars``
    reserves room on the right for edge labels filled in later (the stepper's)."""
    try:
        from grandalf.graphs import Edge, Graph, Vertex
        from grandalf.layouts import SugiyamaLayout
        from grandalf.routing import EdgeViewer, route_with_lines
    except ImportError:  # a dependency of chainrule; only missing in a broken install
        raise RuntimeError("graph drawing needs the 'grandalf' package: pip install grandalf") from None
    if len(boxes) > MAX_BOXES:
        raise ValueError(f"graph: {len(boxes)} boxes are too many to draw (at most {MAX_BOXES}); draw a part "
                         f"(graph of an intermediate tensor), collapse modules with graph(..., collapse=model) "
                         f"after record(model), or print graph.tree()")

    class View:
        def __init__(self, w, h):
            self.w, self.h, self.xy = w, h, (0.0, 0.0)

    vertex = {}
    for b in boxes:
        v = Vertex(b.id)
        v.view = View(*box_size(b))
        vertex[b.id] = v
    pairs = []  # one layout edge per (src, dst): a repeated edge (x * x) is drawn twice but laid out once
    for src, dst, _ in edges:
        if (src, dst) not in pairs:
            pairs.append((src, dst))
    graph = Graph([vertex[b.id] for b in boxes], [Edge(vertex[s], vertex[d]) for s, d in pairs])
    routes = {}
    components = []
    for comp in graph.C:
        for e in comp.sE:
            e.view = EdgeViewer()
        sug = SugiyamaLayout(comp)
        sug.xspace, sug.yspace = 28, 34
        sug.route_edge = route_with_lines
        sug.init_all(roots=[v for v in comp.sV if not v.e_in()])
        sug.draw()
        components.append(comp)
        for e in comp.sE:
            routes[(e.v[0].data, e.v[1].data)] = [tuple(p) for p in e.view._pts]
    # place the components side by side, each shifted so its left/top edge is at the margin
    placed, shift, margin, height = {}, {}, 12.0, 0.0
    left = margin
    for comp in components:
        xs0 = min(v.view.xy[0] - v.view.w / 2 for v in comp.sV)
        xs1 = max(v.view.xy[0] + v.view.w / 2 for v in comp.sV)
        ys0 = min(v.view.xy[1] - v.view.h / 2 for v in comp.sV)
        dx, dy = left - xs0, margin - ys0
        for v in comp.sV:
            shift[v.data] = (dx, dy)
            placed[v.data] = Placed(None, v.view.xy[0] + dx, v.view.xy[1] + dy, v.view.w, v.view.h)
            height = max(height, v.view.xy[1] + dy + v.view.h / 2)
        left += xs1 - xs0 + 3 * margin
    for b in boxes:
        placed[b.id].box = b
    paths = []
    for src, dst, label in edges:
        dx, dy = shift[src]
        paths.append((src, dst, label, [(x + dx, y + dy) for x, y in routes[(src, dst)]]))
    label_room = max([len(lab) for _, _, lab in edges] + [label_chars]) * CHAR * 0.9
    return Layout(placed, paths, left - 2 * margin + label_room, height + margin)


def _repeats(paths: list) -> list:
    """For each path, (k, n): it is the k-th of n edges between the same two boxes."""
    count, seen, out = {}, {}, []
    for src, dst, _, _ in paths:
        count[(src, dst)] = count.get((src, dst), 0) + 1
    for src, dst, _, _ in paths:
        k = seen.get((src, dst), 0)
        seen[(src, dst)] = k + 1
        out.append((k, count[(src, dst)]))
    return out


def _bend(points: list, k: int, n: int) -> list:
    """Points of the k-th of n parallel edges: the middle pushed sideways so each one shows."""
    if n == 1:
        return points
    (x0, y0), (x1, y1) = points[0], points[-1]
    off = (k - (n - 1) / 2) * 34
    return [(x0 + off / 2, y0), ((x0 + x1) / 2 + off, (y0 + y1) / 2), (x1 + off / 2, y1)]


def _mid(points: list) -> tuple:
    if len(points) % 2 == 1:
        return points[len(points) // 2]
    (x0, y0), (x1, y1) = points[len(points) // 2 - 1], points[len(points) // 2]
    return (x0 + x1) / 2, (y0 + y1) / 2


def svg(lay: Layout, slots: bool = False) -> str:
    """The drawing as an SVG document (a string), standalone or to embed in HTML.

    ``slots=True`` (for the stepper) gives every edge an empty label to fill in, and marks the line
    ``box.grad_slot`` of a box as the place for its gradient."""
    w, h = lay.width, lay.height
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="cr-graph" width="{w:.0f}" height="{h:.0f}" '
            f'viewBox="0 0 {w:.0f} {h:.0f}" font-family="{FONTS}" font-size="{FONT}">')
    marker = f"cr-arrow-{_run}-{next(_marker_ids)}"
    arrow = (f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>')
    out = [head, arrow, f'<rect width="{w:.0f}" height="{h:.0f}" fill="white"/>']
    for i, ((src, dst, label, pts), (k, n)) in enumerate(zip(lay.paths, _repeats(lay.paths))):
        pts = _bend(pts, k, n)
        if len(pts) == 3 and n > 1:
            d = f"M{pts[0][0]:.1f},{pts[0][1]:.1f} Q{2 * pts[1][0] - (pts[0][0] + pts[2][0]) / 2:.1f}," \
                f"{2 * pts[1][1] - (pts[0][1] + pts[2][1]) / 2:.1f} {pts[2][0]:.1f},{pts[2][1]:.1f}"
        else:
            d = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        out.append(f'<g class="cr-edge" data-i="{i}" data-src="{src}" data-dst="{dst}">'
                   f'<path d="{d}" fill="none" stroke="#555" stroke-width="1.2" marker-end="url(#{marker})"/>')
        if label or slots:
            x, y = _mid(pts)
            out.append(f'<text class="cr-elabel" x="{x + 5:.1f}" y="{y + 4:.1f}" font-size="{FONT - 1}" '
                       f'fill="#1a5fb4">{escape(label)}</text>')
        out.append("</g>")
    for p in lay.placed.values():
        b = p.box
        kind = "op" if b.kind == "op" else "module" if b.kind == "module" else b.role or "tensor"
        x0, y0 = p.x - p.w / 2, p.y - p.h / 2
        radius = p.h / 2 if b.kind == "op" else 6
        dash = ' stroke-dasharray="4 3"' if b.role == "const" else ""
        fill = FILL["op"] if b.kind == "op" else FILL["module"] if b.kind == "module" else FILL[b.role]
        out.append(f'<g class="cr-node cr-{kind}" data-box="{b.id}">'
                   f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{p.w:.1f}" height="{p.h:.1f}" rx="{radius:.1f}" '
                   f'fill="{fill}" stroke="#333" stroke-width="1"{dash}/>')
        slot = getattr(b, "grad_slot", None) if slots else None
        for j, line in enumerate([b.title] + list(b.lines)):
            extra = ' font-weight="bold"' if j == 0 else ""
            if j == slot:
                extra = f' class="cr-grad" data-empty="{escape(line)}" fill="#a51d2d"'
            y = y0 + PAD_Y + (j + 0.75) * LINE
            text = escape(line).replace("  ", " \u00a0")  # keep double spaces (SVG collapses them)
            out.append(f'<text x="{p.x:.1f}" y="{y:.1f}" text-anchor="middle"{extra}>{text}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def message_svg(text: str, width: int = 110) -> str:
    """A small SVG that says ``text`` (wrapped): shown in a picture's place when there is none to draw."""
    lines = textwrap.wrap(text, width)
    w, h = width * CHAR + 2 * PAD_X, len(lines) * LINE + 2 * PAD_Y
    body = "".join(f'<text x="{PAD_X}" y="{PAD_Y + (j + 0.8) * LINE:.1f}">{escape(t)}</text>'
                   for j, t in enumerate(lines))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="cr-graph" width="{w:.0f}" height="{h:.0f}" '
            f'font-family="{FONTS}" font-size="{FONT}"><rect width="{w:.0f}" height="{h:.0f}" fill="#fff8e1" '
            f'stroke="#c9a227"/>{body}</svg>')


def png(lay: Layout, dpi: int = 100) -> bytes:
    """The same drawing rasterised by matplotlib (Agg), as PNG bytes."""
    import io

    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
    from matplotlib.path import Path

    fig = Figure(figsize=(lay.width / 100, lay.height / 100), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, lay.width)
    ax.set_ylim(lay.height, 0)
    ax.axis("off")
    size = FONT * 0.72  # one layout unit is 1/100 inch at any dpi: 12 units = 0.12 in = 8.64 pt
    for (_, _, label, pts), (k, n) in zip(lay.paths, _repeats(lay.paths)):
        pts = _bend(pts, k, n)
        if len(pts) == 3 and n > 1:
            ctrl = (2 * pts[1][0] - (pts[0][0] + pts[2][0]) / 2, 2 * pts[1][1] - (pts[0][1] + pts[2][1]) / 2)
            path = Path([pts[0], ctrl, pts[2]], [Path.MOVETO, Path.CURVE3, Path.CURVE3])
        else:
            path = Path(pts)
        ax.add_patch(FancyArrowPatch(path=path, arrowstyle="-|>", mutation_scale=10, color="#555", lw=1.2))
        if label:
            x, y = _mid(pts)
            ax.text(x + 5, y + 4, label, fontsize=size * 0.92, color="#1a5fb4", family="monospace")
    for p in lay.placed.values():
        b = p.box
        fill = FILL["op"] if b.kind == "op" else FILL["module"] if b.kind == "module" else FILL[b.role]
        pad = min(p.h / 2, 6) if b.kind != "op" else p.h / 2 - 1
        ax.add_patch(FancyBboxPatch((p.x - p.w / 2 + pad, p.y - p.h / 2 + pad), p.w - 2 * pad, p.h - 2 * pad,
                                    boxstyle=f"round,pad={pad}", fc=fill, ec="#333", lw=1,
                                    ls="--" if b.role == "const" else "-"))
        for j, line in enumerate([b.title] + list(b.lines)):
            y = p.y - p.h / 2 + PAD_Y + (j + 0.5) * LINE
            ax.text(p.x, y, line, ha="center", va="center", fontsize=size, family="monospace",
                    weight="bold" if j == 0 else "normal")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()

"""The lecture notebooks (examples/*.ipynb) run headless, and what they display is a picture in every front-end.

Each notebook is executed in a real Jupyter kernel (nbclient), with Graphviz's ``dot`` hidden from the
kernel's PATH (a plain ``pip install chainrule``); the notebook with the most pictures runs once more
with ``dot`` visible. Then every display is checked the way a front-end picks what to show: JupyterLab
and Notebook 7 by their renderers' ranks, nbconvert's HTML by its ``display_data_priority``. A graph
must come out as an image (SVG or PNG), a plot as ``image/png``, the stepper as HTML with its script.
The notebooks' own last cell asserts the numbers the notes derive; an error anywhere fails the test.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
from pathlib import Path

import pytest

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
if CI:
    import nbclient
    import nbformat
    from nbconvert import HTMLExporter
else:
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    HTMLExporter = pytest.importorskip("nbconvert").HTMLExporter

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("seed*.ipynb"))

# @jupyterlab/rendermime's default renderer ranks (lower wins); Notebook 7 is built on the same renderers.
JUPYTERLAB_RANK = {"application/vnd.jupyter.widget-view+json": 10, "text/html": 50, "text/markdown": 60,
                   "text/latex": 70, "image/svg+xml": 80, "image/bmp": 90, "image/png": 90, "image/jpeg": 90,
                   "image/gif": 90, "image/webp": 90, "application/javascript": 110, "text/plain": 120}
NBCONVERT_PRIORITY = HTMLExporter().default_config["NbConvertBase"]["display_data_priority"]


def jupyterlab_choice(data: dict) -> str:
    return min((m for m in data if m in JUPYTERLAB_RANK), key=JUPYTERLAB_RANK.__getitem__)


def nbconvert_choice(data: dict) -> str:
    return next(m for m in NBCONVERT_PRIORITY if m in data)


def path_without_dot() -> str:
    return os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if p and not os.path.exists(os.path.join(p, "dot")))


def execute(path: Path, monkeypatch, tmp_path, dot: bool, until: str | None = None):
    """Run the notebook in a fresh kernel (only the cells before the Markdown heading ``until``, if given)."""
    nb = nbformat.read(path, as_version=4)
    if until is not None:
        end = next(k for k, c in enumerate(nb.cells) if c.cell_type == "markdown" and c.source.startswith(until))
        nb.cells = nb.cells[:end]
    if not dot:
        monkeypatch.setenv("PATH", path_without_dot())  # the kernel inherits this environment
    monkeypatch.setenv("MPLBACKEND", "agg")  # what a headless kernel would pick anyway; chainrule sets none
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    return nb


def displays(nb) -> list:
    """``(kind, data)`` for every rich output; kind from the last line of the cell that made it."""
    found = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        last = cell.source.strip().splitlines()[-1]
        kind = "stepper" if "stepper(" in last else "graph" if "inspect.graph(" in last else \
            "explain" if "explain(" in last else "figure" if "chainrule.plot." in cell.source else None
        for out in cell.outputs:
            if out.output_type in ("display_data", "execute_result"):
                found.append((kind, dict(out.data)))
    return found


def check_displays(nb, name: str, dot: bool) -> dict:
    seen = {}
    for kind, data in displays(nb):
        seen[kind] = seen.get(kind, 0) + 1
        lab, html = jupyterlab_choice(data), nbconvert_choice(data)
        if kind == "graph":
            assert "text/markdown" not in data and "text/html" not in data, (name, sorted(data))
            assert lab == html == "image/svg+xml", (name, lab, html)
            svg = data["image/svg+xml"]
            assert "<svg" in svg and "</svg>" in svg
            if not dot:
                assert 'class="cr-graph"' in svg  # drawn by chainrule (grandalf layout), not by dot
        elif kind == "figure":
            assert lab == html == "image/png", (name, sorted(data))
            import base64
            assert base64.b64decode(data["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
        elif kind == "stepper":
            assert lab == html == "text/html", (name, sorted(data))
            assert 'class="cr-stepper"' in data["text/html"] and "<script>" in data["text/html"]
            assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//|url\(\s*["']?https?:""",
                                 data["text/html"]), "the stepper must work offline: nothing loaded from a network"
        elif kind == "explain":
            assert lab == html == "text/markdown", (name, sorted(data))
            assert "\\paragraph" not in data["text/markdown"] and "itemize" not in data["text/markdown"]
    return seen


def _code(line: str) -> str:
    line = line.strip()
    return line if line.startswith("#") else line.split("  # ")[0].strip()  # without a trailing comment


def test_notebooks_are_the_scripts():
    # every line of a notebook's code (outside the cells tagged notebook-only) is a line of its script
    assert len(NOTEBOOKS) == len(list(EXAMPLES.glob("seed*.py"))) >= 5
    for path in NOTEBOOKS:
        script = {_code(line) for line in path.with_suffix(".py").read_text().splitlines()}
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            assert not cell.get("outputs"), f"{path.name}: commit notebooks without outputs"
            if "notebook-only" in cell.metadata.get("tags", []):
                continue
            ast.parse(cell.source)
            for line in cell.source.splitlines():
                assert not _code(line) or _code(line) in script, (path.name, line)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_without_dot_and_shows_pictures(path, monkeypatch, tmp_path):
    nb = execute(path, monkeypatch, tmp_path, dot=False)
    seen = check_displays(nb, path.name, dot=False)
    assert seen.get("graph", 0) >= 1 and seen.get("stepper", 0) >= 1, seen
    texts = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "all checks passed" in texts


def test_graphs_are_pictures_with_dot_too(monkeypatch, tmp_path):
    if shutil.which("dot") is None:
        if CI:
            pytest.fail("Graphviz's dot is missing: .ci/run installs it so that both cases are tested")
        pytest.skip("Graphviz's dot is not installed")
    # the seed-004 notebook up to its graph section (parts 1-3: the graph, the stepper, explain after backward)
    path = EXAMPLES / "seed004_xor_graph_circle_twolayer.ipynb"
    nb = execute(path, monkeypatch, tmp_path, dot=True, until="## 4.")
    seen = check_displays(nb, path.name, dot=True)
    assert {k: v for k, v in seen.items() if k} == {"graph": 2, "stepper": 1, "explain": 1}, seen
    graphs = [data["image/svg+xml"] for kind, data in displays(nb) if kind == "graph"]
    assert all('class="cr-graph"' not in svg and "Generated by graphviz" in svg for svg in graphs)  # dot drew them

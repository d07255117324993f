"""A Matplotlib Figure that shows itself in a notebook, with no ``%matplotlib`` magic and no backend change.

Jupyter displays the last value of a cell through its ``_repr_png_``/``_repr_mimebundle_`` methods.
A plain ``matplotlib.figure.Figure`` has none unless pyplot's inline backend was switched on, so a
plot returned by chainrule would print as ``<Figure size 600x500 with 2 Axes>``. This subclass adds
the PNG itself (rendered by the Agg canvas, as ``savefig`` does) and changes nothing else: scripts
save it with ``fig.savefig(path)`` as before, and chainrule never calls ``matplotlib.use``.
"""

from __future__ import annotations

import io

from matplotlib.figure import Figure as _Figure

__all__ = ["Figure"]


class Figure(_Figure):
    """``matplotlib.figure.Figure`` plus its own PNG for Jupyter.

    >>> fig = Figure(figsize=(2, 1))
    >>> fig._repr_png_()[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=100, bbox_inches="tight")
        return buf.getvalue()

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        # one picture and a text fallback; no HTML or Markdown that a front-end could prefer to the image
        return {"image/png": self._repr_png_(), "text/plain": repr(self)}

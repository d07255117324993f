"""PyTorch-style printing: ``tensor([1.0000, 2.5000], requires_grad=True)``.

The layout follows ``torch/_tensor_str.py`` with its default print options (4 digits, 80 columns,
summarising past 1000 elements with 3 edge items), so the same values print the same way: one
formatter per tensor decides integer / fixed / scientific notation and the column width, every
element is right-aligned to that width, and rows wrap at 80 columns.

>>> import chainrule as cr
>>> cr.tensor([1.5, -3.0])
tensor([ 1.5000, -3.0000])
"""

from __future__ import annotations

import math

from .. import backend
from ..backend import xp

PRECISION, LINEWIDTH, THRESHOLD, EDGEITEMS = 4, 80, 1000, 3


class _Formatter:
    """Chooses the notation and column width from the values, as PyTorch's ``_Formatter``."""

    def __init__(self, a):
        self.floating = a.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.max_width = True, False, 1
        values = a.reshape(-1)
        if not self.floating:
            for v in values.tolist():
                self.max_width = max(self.max_width, len(str(v)))
            return
        values = values.astype(xp.float64)
        finite = values[xp.isfinite(values) & (values != 0)]
        if finite.size == 0:
            return
        big, small = float(xp.abs(finite).max()), float(xp.abs(finite).min())
        self.int_mode = bool(xp.all(finite == xp.ceil(finite)))
        # Scientific notation when the magnitudes span more than 3 decades or are huge/tiny.
        self.sci_mode = big / small > 1000.0 or big > 1.0e8 or (not self.int_mode and small < 1.0e-4)
        for v in finite.tolist():
            if self.sci_mode:
                width = len(f"{v:.{PRECISION}e}")
            elif self.int_mode:
                width = len(f"{v:.0f}") + 1  # the trailing "." that marks a float
            else:
                width = len(f"{v:.{PRECISION}f}")
            self.max_width = max(self.max_width, width)

    def format(self, v) -> str:
        if not self.floating:
            s = str(v)
        elif self.sci_mode:
            s = f"{v:{self.max_width}.{PRECISION}e}"
        elif self.int_mode:
            s = f"{v:.0f}" + ("" if math.isinf(v) or math.isnan(v) else ".")
        else:
            s = f"{v:.{PRECISION}f}"
        return " " * (self.max_width - len(s)) + s


def _summarized(a):
    """Only the edge items of each dimension: what a summarised print shows (and formats by)."""
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        return xp.concatenate([a[:EDGEITEMS], a[-EDGEITEMS:]]) if a.shape[0] > 2 * EDGEITEMS else a
    rows = range(a.shape[0])
    if a.shape[0] > 2 * EDGEITEMS:
        rows = list(range(EDGEITEMS)) + list(range(a.shape[0] - EDGEITEMS, a.shape[0]))
    return xp.stack([_summarized(a[i]) for i in rows])


def _layout(a, indent: int, summarize: bool, fmt: _Formatter) -> str:
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        per_line = max(1, (LINEWIDTH - indent) // (fmt.max_width + 2))
        if summarize and a.shape[0] > 2 * EDGEITEMS:
            items = [fmt.format(v) for v in a[:EDGEITEMS].tolist()] + [" ..."] + \
                    [fmt.format(v) for v in a[-EDGEITEMS:].tolist()]
        else:
            items = [fmt.format(v) for v in a.tolist()]
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    n = a.shape[0]
    if summarize and n > 2 * EDGEITEMS:
        parts = [_layout(a[i], indent + 1, summarize, fmt) for i in range(EDGEITEMS)] + ["..."] + \
                [_layout(a[i], indent + 1, summarize, fmt) for i in range(n - EDGEITEMS, n)]
    else:
        parts = [_layout(a[i], indent + 1, summarize, fmt) for i in range(n)]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def format_array(a, indent: int = len("tensor(")) -> str:
    """The bracketed body of a tensor's repr, laid out as PyTorch does."""
    if a.size == 0:
        return "[]"
    summarize = a.size > THRESHOLD
    return _layout(a, indent, summarize, _Formatter(_summarized(a) if summarize else a))


def format_tensor(t) -> str:
    a = t._data
    suffixes = []
    name = t.dtype.name
    if a.size == 0 and a.ndim != 1:
        suffixes.append(f"size={tuple(a.shape)}")
    default = backend.default_float.name        # set_default_dtype changes which float type goes unnamed
    if name not in (default, "int64", "bool") or (a.size == 0 and name != default):
        suffixes.append(f"dtype=chainrule.{name}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    prefix = "tensor("
    out = prefix + format_array(a, len(prefix))
    # Suffixes go on the last line while it fits in 80 columns, else on a new indented line.
    last = len(out) - out.rfind("\n") + 1
    for s in suffixes:
        if last + len(s) + 2 > LINEWIDTH:
            out += ",\n" + " " * len(prefix) + s
            last = len(prefix) + len(s)
        else:
            out += ", " + s
            last += len(s) + 2
    return out + ")"

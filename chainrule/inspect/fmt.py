"""Number and formula formatting shared by the graph drawing and the explainer."""

from __future__ import annotations

import math
import re

from ..backend import xp

# A one-letter variable: not part of a longer word, and not an attribute (the T of W.T).
_LETTER = re.compile(r"(?<![A-Za-z0-9_.])([A-Za-z])(?![A-Za-z0-9_])")
_RESERVED = set("xyzgpcnT")


def number(v, digits: int = 4) -> str:
    """``v`` with ``digits`` significant digits, without a trailing '.0' or a '-0'.

    >>> number(11.0), number(0.0821917, 3), number(-0.0)
    ('11', '0.0822', '0')
    """
    v = float(v)
    if math.isnan(v):
        return "nan"
    text = f"{v:.{digits}g}"
    if text in ("-0", "-0.0"):
        return "0"
    return text


def array(a, digits: int = 4, max_numel: int = 16) -> str:
    """A small array as nested lists of rounded numbers; a big one as its shape only."""
    a = xp.asarray(a)
    if a.size == 1:
        return number(a.reshape(()), digits)
    if a.size > max_numel:
        return f"<{a.dtype} tensor of shape {tuple(a.shape)}>"

    def rows(x) -> str:
        if x.ndim == 1:
            return "[" + ", ".join(number(v, digits) for v in x) + "]"
        return "[" + ", ".join(rows(r) for r in x) + "]"

    return rows(a)


def summary(a, digits: int = 4, max_numel: int = 6, shape: bool = True) -> str:
    """A small array in full; a larger one as its shape, its first values and its norm.

    >>> summary(xp.arange(12.0).reshape(3, 4))
    '(3, 4) [0, 1, 2, …] norm 22.49'
    >>> summary(xp.array([1.0, 2.0]))
    '[1, 2]'
    """
    a = xp.asarray(a)
    if a.size <= max_numel:
        return array(a, digits, max_numel)
    flat = a.reshape(-1)
    first = ", ".join(number(v, digits) for v in flat[:3])
    with xp.errstate(over="ignore", invalid="ignore"):
        norm = float(xp.sqrt((flat.astype(xp.float64) ** 2).sum()))
    return (f"{tuple(a.shape)} " if shape else "") + f"[{first}, …] norm {number(norm, digits)}"


def substitute(text: str, names: dict) -> str:
    """Replace the one-letter variables of an op's formula by names (those in ``names``), all at once.

    >>> substitute("y·x^(y-1)", {"x": "a", "y": "c"})
    'c·a^(c-1)'
    """
    return _LETTER.sub(lambda m: names.get(m.group(1), m.group(1)), text)


def extra_letters(formula: str) -> list:
    """One-letter variables of a formula beyond the conventional x, y, z (e.g. W and b in x @ W.T + b),
    in order of appearance: they name the op's further tensor arguments."""
    rhs = formula.split("=", 1)[-1]
    found = []
    for m in _LETTER.finditer(rhs):
        letter = m.group(1)
        if letter not in _RESERVED and letter not in found:
            found.append(letter)
    return found

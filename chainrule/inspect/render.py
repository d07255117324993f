"""One explanation, three notations: plain text, Markdown with LaTeX math, and LaTeX.

The explainer builds every line from a few pieces (a name, a partial derivative, a number, an op
formula), so the three outputs say exactly the same thing. What each is for:

- ``text``: Unicode for terminals (``∂d/∂a = 7 + 4 = 11``);
- ``markdown``: headings and bullet lists with ``$...$`` math, what Jupyter shows (JupyterLab,
  Notebook 7, VS Code and nbconvert render the math with MathJax or KaTeX);
- ``latex``: the same as a single ``$$\\begin{array}{l} ... \\end{array}$$`` block: only math-mode
  LaTeX, which is all MathJax/KaTeX can typeset (no ``\\paragraph`` or ``itemize``).

``tex`` turns an op's formula as chainrule writes it (``z = x ** 2``, ``y·x^(y-1)``, ``1 at the
chosen positions``) into TeX.
"""

from __future__ import annotations

import re

from .fmt import array, summary

_FUNCS = {"sin", "cos", "tan", "exp", "log", "ln", "tanh", "max", "min"}          # TeX has \sin, \max, …
_OPERATORS = {"sqrt", "sum", "mean", "prod", "sigmoid", "softmax", "relu", "abs", "sign", "erf", "argmax",
              "logsumexp", "softplus", "gelu", "norm"}                               # \operatorname{…}
_SYMBOLS = {"·": r"\cdot", "*": r"\cdot", "ᵀ": r"^\top", "²": "^2", "³": "^3", "σ": r"\sigma", "≤": r"\le",
            "≥": r"\ge", "≠": r"\ne", "¬": r"\neg", "Σ": r"\sum", "Π": r"\prod", "∂": r"\partial",
            "→": r"\to", "⊙": r"\odot", "@": r"\mathbin{@}", "%": r"\%", "#": r"\#", "&": r"\&",
            "‖": r"\|", "…": r"\ldots", "−": "-", "∇": r"\nabla", "≈": r"\approx", "×": r"\times"}
_TOKEN = re.compile(r"\*\*|[A-Za-z_][A-Za-z0-9_.]*|\d+(?:\.\d+)?(?:e[-+]?\d+)?|\s+|.", re.DOTALL)
_WORD = re.compile(r"[A-Za-z][A-Za-z]+")


def tex_name(n: str) -> str:
    """A tensor's name in TeX: ``a``, ``A_{h}``, ``\\mathrm{fc1.weight}``, ``\\mathrm{y\\_hat}``."""
    if len(n) == 1:
        return n
    m = re.fullmatch(r"([A-Za-z])_([A-Za-z0-9])", n)
    if m:
        return f"{m.group(1)}_{{{m.group(2)}}}"
    if not n.isascii():
        return n
    return r"\mathrm{" + n.replace("_", r"\_") + "}"


def _is_word(t: str) -> bool:
    return bool(_WORD.fullmatch(t)) and t not in _FUNCS and t not in _OPERATORS


def _operand(toks: list, j: int) -> tuple:
    """The operand starting at toks[j]: a parenthesised group or one token; returns (text, next j)."""
    if toks[j] != "(":
        return toks[j], j + 1
    depth, k = 0, j
    while k < len(toks):
        depth += toks[k] == "("
        depth -= toks[k] == ")"
        k += 1
        if depth == 0:
            break
    return "".join(toks[j:k]), k


def tex(text: str) -> str:
    """A chainrule formula in TeX (math mode).

    >>> tex("t3 ** 2"), tex("y·x^(y-1)"), tex("1 at the chosen positions")
    ('\\\\mathrm{t3}^{2}', 'y \\\\cdot x^{y-1}', '1 \\\\text{ at the chosen positions}')
    """
    toks = _TOKEN.findall(text)
    out: list = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if _is_word(t):  # two or more plain words in a row are English ("at the chosen positions")
            j = i
            while j + 2 < len(toks) and toks[j + 1] == " " and _is_word(toks[j + 2]):
                j += 2
            if j > i:
                out.append(r"\text{" + (" " if out else "") + "".join(toks[i:j + 1]) + "}")
                i = j + 1
                continue
        if t == "**" or (t == "^" and i + 1 < len(toks) and toks[i + 1] == "("):  # x ** 2, x^(p-1)
            j = i + 1
            while j < len(toks) and toks[j].isspace():
                j += 1
            if j < len(toks):
                exponent, i = _operand(toks, j)
                if exponent.startswith("(") and exponent.endswith(")"):
                    exponent = exponent[1:-1]
                while out and out[-1].isspace():
                    out.pop()
                out.append("^{" + tex(exponent) + "}")
                continue
        if t in _FUNCS:
            out.append("\\" + t)
        elif t in _OPERATORS:
            out.append(r"\operatorname{" + t + "}")
        elif t[0].isalpha() or t[0] == "_":
            out.append(tex_name(t))
        elif t in _SYMBOLS:
            out.append(" " + _SYMBOLS[t] + " ")
        else:
            out.append(t)
        i += 1
    return re.sub(r" {2,}", " ", "".join(out)).strip()


def _tex_number(v, digits: int, max_numel: int) -> str:
    text = array(v, digits, max_numel) if getattr(v, "size", 1) <= max_numel else None
    if text is None:
        return r"\text{" + _text_escape(summary(v, digits, max_numel)) + "}"
    if not text.startswith("["):
        return text
    if text.startswith("[["):
        rows = text[2:-2].split("], [")
        return r"\begin{bmatrix}" + r" \\ ".join(r.replace(", ", " & ") for r in rows) + r"\end{bmatrix}"
    return r"\begin{bmatrix}" + text[1:-1].replace(", ", " & ") + r"\end{bmatrix}"


def _text_escape(s: str) -> str:
    for a, b in (("\\", r"\backslash "), ("{", r"\{"), ("}", r"\}"), ("_", r"\_"), ("%", r"\%"),
                 ("$", r"\$"), ("#", r"\#"), ("&", r"\&"), ("^", r"\hat{}"), ("~", r"\sim ")):
        s = s.replace(a, b)
    return s


_JOIN = re.compile(r"\$( ?(?:=|\+|\\cdot|\\to|,)? ?)\$")  # '$a$ = $4$' -> '$a = 4$'


class Style:
    """How to write the pieces of an explanation: ``"text"``, ``"markdown"`` or ``"latex"``."""

    def __init__(self, kind: str):
        if kind not in ("text", "markdown", "latex"):
            raise ValueError(f"Style: kind must be 'text', 'markdown' or 'latex', got {kind!r}")
        self.kind = kind
        self.math = kind != "text"

    # math pieces ------------------------------------------------------------------------------
    def name(self, n: str) -> str:
        return f"${tex_name(n)}$" if self.math else n

    def frac(self, num: str, den: str) -> str:
        if self.math:
            return rf"$\frac{{\partial {tex_name(num)}}}{{\partial {tex_name(den)}}}$"
        return f"∂{num}/∂{den}"

    def num(self, v, digits: int, max_numel: int = 16) -> str:
        if v is None:
            return "?"
        if self.math:
            return f"${_tex_number(v, digits, max_numel)}$"
        return summary(v, digits, max_numel)

    def formula(self, text: str) -> str:
        return f"${tex(text)}$" if self.math else text

    def arrow(self) -> str:
        return r"$ \to $" if self.math else " → "

    def dot(self) -> str:
        return r"$ \cdot $" if self.math else " · "

    # layout -----------------------------------------------------------------------------------
    def heading(self, text: str, level: int = 2) -> tuple:
        return ("h", level, text)

    def item(self, text: str, level: int = 1) -> tuple:
        return ("i", level, text)

    def text_line(self, text: str) -> tuple:
        return ("p", 0, text)

    def finish(self, lines: list) -> str:
        if self.kind == "latex":
            return _latex(lines)
        out = []
        for kind, level, text in lines:
            if self.kind == "markdown":
                text = _merge(text)
                if kind == "h":
                    out.extend(["", "#" * (level + 1) + " " + text, ""])
                elif kind == "i":
                    out.append("  " * (level - 1) + "- " + text)
                else:
                    out.extend(["", text, ""])
            else:
                out.append(text if kind != "i" else "  " * level + text)
        return "\n".join(out).strip("\n") + "\n"


def _merge(text: str) -> str:
    """Join neighbouring inline formulas, so each equation is one piece of math."""
    while True:
        merged = _JOIN.sub(lambda m: m.group(1), text)
        if merged == text:
            return text
        text = merged


def _latex(lines: list) -> str:
    """All lines as rows of one math-mode array: words in \\text{}, math as it is."""
    out = ""
    for kind, level, text in lines:
        parts = _merge(text).split("$")
        pieces = []
        for k, part in enumerate(parts):
            if k % 2 == 1:
                pieces.append(part)
            elif part:
                pieces.append((r"\textbf{" if kind == "h" else r"\text{") + _text_escape(part) + "}")
        row = "".join(pieces)
        if kind == "i":
            row = (r"\quad\bullet\; " if level == 1 else r"\qquad\circ\; ") + row
        if out:
            out += (" \\\\[6pt]\n" if kind == "h" else " \\\\\n")
        out += row
    return "$$\n\\begin{array}{l}\n" + out + "\n\\end{array}\n$$\n"

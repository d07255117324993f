"""One explanation, three notations: plain text, Markdown and LaTeX.

The explainer builds every line from these few pieces (a name, a partial derivative, a number,
an op formula), so the three outputs say exactly the same thing.
"""

from __future__ import annotations

import re

from .fmt import array

_TEX = [("·", r" \cdot "), ("ᵀ", r"^\top "), ("²", "^2"), ("³", "^3"), ("σ", r"\sigma "), ("≤", r"\le "),
        ("≠", r"\ne "), ("¬", r"\neg "), ("Σ", r"\sum "), ("Π", r"\prod "), ("∂", r"\partial "),
        ("→", r"\to "), ("⊙", r"\odot "), ("*", r"\cdot "), ("@", r"\,")]
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


class Style:
    def __init__(self, kind: str):
        if kind not in ("text", "markdown", "latex"):
            raise ValueError(f"Style: kind must be 'text', 'markdown' or 'latex', got {kind!r}")
        self.kind = kind

    # math pieces ------------------------------------------------------------------------------
    def name(self, n: str) -> str:
        return f"${_tex_name(n)}$" if self.kind == "latex" else n

    def frac(self, num: str, den: str) -> str:
        if self.kind == "latex":
            return rf"$\frac{{\partial {_tex_name(num)}}}{{\partial {_tex_name(den)}}}$"
        return f"∂{num}/∂{den}"

    def num(self, v, digits: int, max_numel: int = 16) -> str:
        if v is None:
            return "?"
        if self.kind == "latex":
            return f"${_tex_array(v, digits, max_numel)}$"
        text = array(v, digits, max_numel)
        return f"`{text}`" if self.kind == "markdown" and text.startswith(("[", "<")) else text

    def formula(self, text: str) -> str:
        if self.kind != "latex":
            return text
        words = _WORD.sub(lambda m: _tex_name(m.group(0)) if len(m.group(0)) > 1 else m.group(0), text)
        for u, t in _TEX:
            words = words.replace(u, t)
        return f"${words}$"

    def arrow(self) -> str:
        return r" \to " if self.kind == "latex" else " → "

    def dot(self) -> str:
        return r" \cdot " if self.kind == "latex" else " · "

    # layout -----------------------------------------------------------------------------------
    def heading(self, text: str, level: int = 2) -> tuple:
        return ("h", level, text)

    def item(self, text: str, level: int = 1) -> tuple:
        return ("i", level, text)

    def text_line(self, text: str) -> tuple:
        return ("p", 0, text)

    def finish(self, lines: list) -> str:
        out = []
        in_list = 0
        for kind, level, text in lines:
            if self.kind == "latex":
                text = _merge_math(text)
                if kind == "i":
                    while in_list < level:
                        out.append("  " * in_list + r"\begin{itemize}")
                        in_list += 1
                    while in_list > level:
                        in_list -= 1
                        out.append("  " * in_list + r"\end{itemize}")
                    out.append("  " * level + r"\item " + text)
                    continue
                while in_list:
                    in_list -= 1
                    out.append("  " * in_list + r"\end{itemize}")
                out.append((r"\paragraph{" + text + "}") if kind == "h" else text)
            elif self.kind == "markdown":
                if kind == "h":
                    out.extend(["", "#" * (level + 1) + " " + text, ""])
                elif kind == "i":
                    out.append("  " * (level - 1) + "- " + text)
                else:
                    out.extend(["", text, ""])
            else:
                out.append(text if kind != "i" else "  " * level + text)
        while in_list:
            in_list -= 1
            out.append("  " * in_list + r"\end{itemize}")
        return "\n".join(out).strip("\n") + "\n"


def _tex_name(n: str) -> str:
    if len(n) == 1 or not n.isascii():
        return n
    return r"\mathrm{" + n.replace("_", r"\_") + "}"


def _tex_array(v, digits: int, max_numel: int = 16) -> str:
    text = array(v, digits, max_numel)
    if not text.startswith("["):
        return text.replace("<", r"\langle ").replace(">", r"\rangle ")
    if text.startswith("[["):
        rows = text[2:-2].split("], [")
        return r"\begin{bmatrix}" + r" \\ ".join(r.replace(", ", " & ") for r in rows) + r"\end{bmatrix}"
    return r"\begin{bmatrix}" + text[1:-1].replace(", ", " & ") + r"\end{bmatrix}"


def _merge_math(text: str) -> str:
    """Join neighbouring inline formulas: '$a$ = $b$' becomes '$a = b$'."""
    for op in (" = ", " + ", r" \cdot ", r" \to "):
        text = text.replace("$" + op + "$", op)
    return text

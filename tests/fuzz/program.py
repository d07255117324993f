"""A random program: straight-line Python statements over tensors, the same text for both libraries.

A program is a list of :class:`Stmt`. Each statement is one line of Python written against a module
``m`` (``torch`` or ``chainrule``), ``F`` (``m.nn.functional``), ``np`` and ``DT`` (the float dtype of
the run), so the very same text runs in both libraries and prints as a runnable reproduction::

    v0 = m.tensor([[0.5, -1.2]], dtype=DT, requires_grad=True)
    v1 = m.exp(v0).sum(1, keepdim=True)

The loss is Σ <v, W_v> over chosen float values ``v`` (``W_v`` fixed weights, printed as literals), so
every gradient compared is the gradient of one scalar.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np


@dataclass(frozen=True)
class Stmt:
    code: str                      # one line of Python (may hold ``;``-separated parts)
    defines: str | None = None     # the variable it creates (None: it mutates or annotates)
    uses: tuple[str, ...] = ()     # variables it reads
    leaf: bool = False             # a leaf tensor that requires grad (a gradient target)
    op: str = ""                   # the generator's name for it (for statistics and reports)


@dataclass(frozen=True)
class Program:
    stmts: tuple[Stmt, ...]
    loss: tuple[tuple[str, str], ...] = ()       # (variable, weight literal)
    second: tuple[tuple[str, str], ...] = ()     # (leaf, weight literal) for the second-order scalar
    seed: int = 0
    notes: dict = field(default_factory=dict, compare=False)

    @property
    def leaves(self) -> list[str]:
        return [s.defines for s in self.stmts if s.leaf]

    def without(self, index: int) -> Program:
        """The program minus statement ``index`` and everything that (transitively) reads what it defines."""
        gone = set()
        keep = []
        for i, s in enumerate(self.stmts):
            if i == index or gone.intersection(s.uses):
                if s.defines:
                    gone.add(s.defines)
                continue
            keep.append(s)
        return replace(self, stmts=tuple(keep), loss=tuple(t for t in self.loss if t[0] not in gone),
                       second=tuple(t for t in self.second if t[0] not in gone))

    def without_loss_term(self, index: int) -> Program:
        return replace(self, loss=self.loss[:index] + self.loss[index + 1:])

    def loss_code(self) -> str:
        terms = [f"({v} * m.tensor({w}, dtype=DT)).sum()" for v, w in self.loss]
        return "loss = " + (" + ".join(terms) if terms else "None")

    def second_code(self, names: list[str]) -> str:
        weights = dict(self.second)
        terms = [f"(g{k} * m.tensor({weights[v]}, dtype=DT)).sum()" for k, v in enumerate(names)]
        return " + ".join(terms)

    def render(self, lib: str = "torch", dtype: str = "float64", mode: str = "grad") -> str:
        """The program as a runnable Python script (``lib``: ``torch`` or ``chainrule``)."""
        lines = ["import numpy as np", f"import {lib} as m", "F = m.nn.functional", f"DT = m.{dtype}", ""]
        lines += [s.code for s in self.stmts]
        if not self.loss:
            return "\n".join(lines) + "\n"
        lines.append(self.loss_code())
        leaves = ", ".join(self.leaves)
        if mode == "backward":
            lines += ["loss.backward()", f"print([t.grad for t in [{leaves}]])"]
            return "\n".join(lines) + "\n"
        create = mode == "second"
        lines.append(f"grads = m.autograd.grad(loss, [{leaves}], create_graph={create}, allow_unused=True)")
        lines.append("print(grads)")
        if create:
            lines.append("print([g is not None and g.requires_grad for g in grads])")
            terms = [f"(grads[{k}] * m.tensor({w}, dtype=DT)).sum()" for k, (_, w) in enumerate(self.second)]
            lines.append("s = " + " + ".join(terms))
            lines.append(f"print(m.autograd.grad(s, [{leaves}], allow_unused=True))")
        return "\n".join(lines) + "\n"


def literal(array) -> str:
    """Python source for a small array (floats rounded so reproductions stay readable)."""
    a = np.asarray(array)
    if a.ndim == 0:
        return repr(a.item())
    if a.size == 0:      # a nested list loses the dims after the first 0 ((2, 0, 5) would read as (2, 0))
        return f"np.zeros({tuple(a.shape)!r})"
    return repr(a.tolist())


def float_leaf(name: str, values, requires_grad: bool = True) -> Stmt:
    a = np.asarray(values)
    if a.size == 0:
        code = f"{name} = m.zeros({tuple(a.shape)!r}, dtype=DT, requires_grad={requires_grad})"
    else:
        code = f"{name} = m.tensor({literal(a)}, dtype=DT, requires_grad={requires_grad})"
    return Stmt(code, name, (), leaf=requires_grad, op="leaf")


def int_const(values, dtype: str = "int64") -> str:
    """Source for a constant integer (or bool) tensor, empty ones included."""
    a = np.asarray(values)
    if a.size == 0 or a.ndim == 0 and dtype == "bool":
        return f"m.zeros({tuple(a.shape)!r}, dtype=m.{dtype})" if a.size == 0 else f"m.tensor({literal(a)})"
    return f"m.tensor({literal(a)}, dtype=m.{dtype})"

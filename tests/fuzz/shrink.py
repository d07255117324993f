"""Shrink a failing program to a minimal one that fails the same way.

Greedy deletion: drop one statement (with everything that reads what it defines) or one loss term,
keep the change if the difference is still of the same kind, repeat until nothing more can go.
"""

from __future__ import annotations

import re

from .program import Program
from .run import check


def kind(diff: str) -> str:
    """What a difference is, without the details that change as a program shrinks (input indices,
    messages)."""
    return re.sub(r"\(.*|: .*| of input \d+", "", diff).strip()


def shrink(program: Program, failure: tuple[str, str, str], budget: int = 400) -> tuple[Program, tuple]:
    """The smallest program found that still fails like ``failure`` (dtype, mode, difference)."""
    dtype, mode, diff = failure
    want = kind(diff)

    def still_fails(p: Program):
        got = check(p, dtypes=(dtype,), modes=(mode,))
        return got if got and kind(got[2]) == want else None

    best, best_failure = program, failure
    tries = 0
    changed = True
    while changed and tries < budget:
        changed = False
        for i in reversed(range(len(best.stmts))):
            if i >= len(best.stmts):
                continue
            candidate = best.without(i)
            tries += 1
            got = still_fails(candidate)
            if got:
                best, best_failure, changed = candidate, got, True
        for i in reversed(range(len(best.loss))):
            candidate = best.without_loss_term(i)
            tries += 1
            got = still_fails(candidate)
            if got:
                best, best_failure, changed = candidate, got, True
    return best, best_failure


def report(program: Program, failure: tuple[str, str, str]) -> str:
    """A failure as text: what differs, and the program as a runnable PyTorch script (swap the import
    for ``import chainrule as m`` to run it in chainrule)."""
    dtype, mode, diff = failure
    head = f"# seed {program.seed}: {diff}\n# dtype {dtype}, mode {mode}\n"
    return head + program.render("torch", dtype, mode)

"""A campaign: many random programs, each failure shrunk and grouped by kind."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from .arbiter import arbitrate
from .generate import generate
from .run import check
from .shrink import kind, report, shrink


@dataclass
class Result:
    seed: int
    cases: int
    failures: dict = field(default_factory=lambda: defaultdict(list))   # kind -> [report text]
    torch_wrong: dict = field(default_factory=lambda: defaultdict(list))  # kind -> [report text]
    ops: Counter = field(default_factory=Counter)
    torch_errors: int = 0
    unsupported: Counter = field(default_factory=Counter)   # documented chainrule limitations hit
    undecidable: Counter = field(default_factory=Counter)   # differences the arbiter cannot decide, by kind

    def summary(self, show: int = 3) -> str:
        head = (f"seeds {self.seed}..{self.seed + self.cases - 1}: {self.cases} programs, "
                f"{sum(self.ops.values())} op statements, {self.torch_errors} ending in an error torch raises; "
                f"{sum(map(len, self.failures.values()))} differ from torch in {len(self.failures)} kinds, "
                f"{sum(map(len, self.torch_wrong.values()))} where central differences side with chainrule")
        lines = [head]
        for title, table in (("DIFFERENCE", self.failures), ("TORCH IS WRONG (central differences)", self.torch_wrong)):
            for k, reports in sorted(table.items(), key=lambda kv: -len(kv[1])):
                lines.append(f"\n=== {title} x{len(reports)}: {k}")
                lines += reports[:show]
        if self.undecidable:
            lines.append("\nundecidable by differences (counted among the differences above): " + "; ".join(
                f"{k} x{v}" for k, v in self.undecidable.most_common()))
        if self.unsupported:
            lines.append("\nskipped (documented chainrule limitations): " + "; ".join(
                f"{k} x{v}" for k, v in self.unsupported.most_common()))
        lines.append("\nop statements drawn: " + ", ".join(f"{k} {v}" for k, v in self.ops.most_common()))
        return "\n".join(lines)


def campaign(seed: int, cases: int, shrink_failures: bool = True, progress=None,
             include_known: bool = False) -> Result:
    """Generate and check ``cases`` programs on seeds ``seed, seed + 1, ...``."""
    result = Result(seed, cases)
    for k in range(cases):
        program = generate(seed + k, include_known=include_known)
        result.ops.update(s.op for s in program.stmts if s.op not in ("leaf", "const", "copy"))
        result.torch_errors += "torch_error" in program.notes
        failure = check(program, skipped=result.unsupported)
        if failure:
            small, small_failure = shrink(program, failure) if shrink_failures else (program, failure)
            verdict = arbitrate(small, small_failure)
            if verdict and verdict.startswith("undecidable") and small is not program:
                # shrinking can leave a degenerate program (a loss NaN at the point itself, 883686) that the
                # original was not: the original's verdict, when it is one, decides
                whole = arbitrate(program, failure)
                if whole and not whole.startswith("undecidable"):
                    verdict = f"{whole} (decided on the program before shrinking; the shrunk one: {verdict})"
            table = result.torch_wrong if verdict and verdict.startswith("chainrule") else result.failures
            text = report(small, small_failure)
            if verdict and verdict.startswith("chainrule ("):
                text += f"# the arbiter sides with: {verdict}\n"
            elif verdict:
                text += f"# central differences (float64) agree with: {verdict}\n"
            table[kind(small_failure[2])].append(text)
            if verdict and verdict.startswith("undecidable"):
                result.undecidable[kind(small_failure[2])] += 1
        if progress:
            progress(1)
    return result

"""Shared helpers for the training benchmarks: interleaved timing and the printed table.

The machine may be busy (other processes, CPU frequency changes), so the variants are timed in
interleaved rounds — a block of steps of each in turn — and the median per-step time is reported:
a slow spell hits every variant alike instead of whichever happened to run during it.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

# BENCH_CLOCK=cpu times each step by this process's CPU time instead of wall time: on a machine
# shared with other jobs it does not count the time spent waiting for a core (use with 1 thread).
CLOCK = time.process_time if os.environ.get("BENCH_CLOCK") == "cpu" else time.perf_counter


def interleaved_ms(variants: dict[str, Callable[[], None]], rounds: int, steps_per_round: int,
                   warmup: int = 20, before: dict[str, Callable[[], None]] | None = None) -> dict[str, float]:
    """Median milliseconds per call of each variant, timed in interleaved rounds.

    ``before[name]`` (optional) runs before each block of that variant, untimed — e.g. to set the
    torch thread count.

    >>> interleaved_ms({"noop": lambda: None}, rounds=2, steps_per_round=3, warmup=1)["noop"] < 1.0
    True
    """
    before = before or {}
    for name, fn in variants.items():
        if name in before:
            before[name]()
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in variants}
    clock = CLOCK
    for _ in range(rounds):
        for name, fn in variants.items():
            if name in before:
                before[name]()
            block = samples[name]
            for _ in range(steps_per_round):
                t0 = clock()
                fn()
                block.append(clock() - t0)
    return {name: 1000.0 * statistics.median(times) for name, times in samples.items()}


def print_table(title: str, ms: dict[str, float], baselines: list[str], subject: str = "chainrule") -> None:
    """Print ms/step for every variant and the ratio subject / baseline for each baseline."""
    print(title)
    width = max(len(name) for name in ms)
    for name, value in ms.items():
        print(f"  {name:<{width}}  {value:8.3f} ms/step")
    for base in baselines:
        print(f"  ratio {subject} / {base}: {ms[subject] / ms[base]:.2f}")


def check_same_losses(ours: Callable[[], object], theirs: Callable[[], object], tol: float, steps: int = 3) -> None:
    """Run a few steps of both (same weights, same batches) and stop unless the losses agree: a wrong
    model is not a fast model."""
    for i in range(steps):
        lc, lt = ours().item(), theirs().item()
        print(f"step {i} loss: chainrule {lc:.6f}  torch {lt:.6f}")
        if abs(lc - lt) > tol:
            raise SystemExit("chainrule and torch disagree: not benchmarking a wrong model")


def profile(fn: Callable[[], None], calls: int, rows: int = 25) -> None:
    """cProfile ``calls`` calls of ``fn`` and print the top ``rows`` by own time."""
    import cProfile
    import pstats
    prof = cProfile.Profile()
    prof.runcall(lambda: [fn() for _ in range(calls)])
    pstats.Stats(prof).sort_stats("tottime").print_stats(rows)

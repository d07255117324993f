"""Every training benchmark in bench/, in every configuration, as one markdown table.

Each benchmark script runs as its own subprocess per configuration (OpenBLAS reads OPENBLAS_CORETYPE
only when it loads, so a configuration is a fresh process): at 1 and 2 threads, and with the BLAS
environment as is and changed — OPENBLAS_CORETYPE=Haswell when the environment sets no OpenBLAS
variable (as here), or both OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset when it sets one (as on the
machines of issue 11). The ratios each script prints are collected into one table: a row per workload
and measure with issue 11's target, a column per configuration. Ratio = chainrule time / PyTorch eager
time in the same process (lower is better); "floor" = the hand-written NumPy step / PyTorch.

Threads: OMP_NUM_THREADS and OPENBLAS_NUM_THREADS are set to the count, and each script is told it
its own way (``--threads N``, or the script times torch at 1 and 2 threads and the matching ratio is
taken). BENCH_CLOCK=cpu (time by this process's CPU time) is set at 1 thread only.

    python bench/report.py [--quick] [--only tiny,gpt] [--threads 1,2] [--blas asis,haswell] [--out r.md]

A full run takes a long while (7 scripts × 4 configurations); progress goes to stderr, Ctrl-C reports
the runs done so far, ``--save-output DIR`` keeps each run's output. On a machine shared with other jobs
the 2-thread wall times are unreliable (a thread that waits for a core stalls the step): the header gives
the load average.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")
BLAS_LABELS = {"asis": "BLAS as is", "haswell": "OPENBLAS_CORETYPE=Haswell", "unset": "OpenBLAS vars unset"}

# ---------------------------------------------------------------------------------------------- parsing
Values = dict[tuple[str, str], float]          # (workload, measure) -> ratio
_TIME = re.compile(r"^\s+(?P<name>\S.*?)\s+(?P<value>\d+(?:\.\d+)?)\s+(?:ms/step|us/op)\b")
_CNN_ROW = re.compile(r"^\s*(\d+)" + r"\s+(\d+(?:\.\d+)?)" * 6 + r"\s*$")


def sections(text: str) -> list[tuple[str, dict[str, float]]]:
    """The (title, {variant: time}) blocks of a benchmark's output: a title line, then indented times.

    >>> sections("tiny\\n  chainrule  0.5 ms/step\\n  torch  1.0 ms/step\\n  ratio chainrule / torch: 0.5")
    [('tiny', {'chainrule': 0.5, 'torch': 1.0})]
    """
    found: list[tuple[str, dict[str, float]]] = []
    for line in text.splitlines():
        if line.strip() and not line[0].isspace():
            found.append((line.strip(), {}))
        elif (m := _TIME.match(line)) and found:
            found[-1][1][m["name"]] = float(m["value"])
    return [(title, times) for title, times in found if times]


def _ratios(workload: str, times: dict[str, float], torch_key: str = "torch") -> Values:
    """eager, compiled and floor ratios over ``times[torch_key]``, for whichever variants were printed."""
    out: Values = {}
    base = times.get(torch_key)
    if not base:
        return out
    for measure, variant in (("eager", "chainrule"), ("compiled", "compiled"), ("floor", "numpy")):
        if variant in times:
            out[workload, measure] = times[variant] / base
    return out


def parse_overhead(text: str, threads: int, cpu_clock: bool) -> Values:
    """overhead.py prints µs/op of torch, chainrule and numpy for the per-op chain."""
    return next((_ratios("per-op", t) for _, t in sections(text) if "chainrule" in t), {})


def parse_both_threads(workload: str) -> Callable[[str, int, bool], Values]:
    """train_tiny.py / train_mlp.py time torch at 1 and 2 threads in one run: take the matching one."""
    def parse(text: str, threads: int, cpu_clock: bool) -> Values:
        key = "torch 1 thread" if threads == 1 else f"torch {threads} threads"
        return next((_ratios(workload, t, key) for _, t in sections(text) if key in t), {})
    return parse


def parse_single(workload: str) -> Callable[[str, int, bool], Values]:
    """train_gpt.py / train_charlm.py print one table of chainrule and torch."""
    def parse(text: str, threads: int, cpu_clock: bool) -> Values:
        return next((_ratios(workload, t) for _, t in sections(text) if "chainrule" in t), {})
    return parse


def parse_compiled(text: str, threads: int, cpu_clock: bool) -> Values:
    """compiled.py prints a table per workload (eager, compiled, torch, and numpy where it has one)."""
    out: Values = {}
    for title, times in sections(text):
        first = title.split()[0].lower()
        workload = {"per-op": "per-op", "tiny": "tiny", "mlp": "mlp", "cnn": "cnn", "gpt": "gpt",
                    "char-lm": "char-LM"}.get(first)
        if workload:
            out.update(_ratios(workload, times))
    return out


def parse_cnn(text: str, threads: int, cpu_clock: bool) -> Values:
    """train_cnn.py prints a row per thread count: wall ms (chainrule, torch, ratio), then CPU ms."""
    for line in text.splitlines():
        if (m := _CNN_ROW.match(line)) and int(m[1]) == threads:
            ours, theirs = (float(m[5]), float(m[6])) if cpu_clock else (float(m[2]), float(m[3]))
            return {("cnn", "eager"): ours / theirs}
    return {}


# ------------------------------------------------------------------------------------ scripts and rows
@dataclass(frozen=True)
class Script:
    name: str                     # file stem in bench/
    parse: Callable[[str, int, bool], Values]
    quick: tuple[str, ...]        # arguments for a smoke run (few rounds)
    full: tuple[str, ...] = ()    # arguments for a full run (the script's defaults otherwise)
    threads_inside: bool = False  # times torch at 1 and 2 threads itself (no --threads option)

    @property
    def path(self) -> Path:
        return HERE / f"{self.name}.py"

    def thread_args(self, threads: int) -> list[str] | None:
        """How to tell the script its thread count; None if it cannot run at ``threads``."""
        if self.threads_inside:
            return []
        if '"--threads"' in self.path.read_text(encoding="utf-8"):
            return ["--threads", str(threads)]
        return [] if threads == 1 else None


SCRIPTS = [
    Script("overhead", parse_overhead, ("--repeats", "50")),
    Script("train_tiny", parse_both_threads("tiny"), ("--rounds", "3", "--steps", "20"), threads_inside=True),
    Script("train_mlp", parse_both_threads("mlp"), ("--rounds", "2", "--steps", "5"), threads_inside=True),
    Script("train_cnn", parse_cnn, ("--steps", "20")),
    Script("train_gpt", parse_single("gpt"), ("--rounds", "2", "--steps", "3")),
    Script("train_charlm", parse_single("char-LM"), ("--rounds", "3", "--steps", "10")),
    Script("compiled", parse_compiled, ("--rounds", "3", "--steps", "10", "--models"),
           ("--models", "--lm")),
]

WORKLOADS = {   # issue 11's table: what each workload is, and the NumPy floor it measured
    "per-op": ("per-op: 100 add/mul/tanh on float32 (16,), fwd+bwd", "0.19"),
    "tiny": ("tiny: 2-16-16-1 tanh MLP, batch 32, MSE, SGD", "0.24"),
    "mlp": ("mlp: 784-256-128-10 ReLU, batch 128, CE, SGD", "0.53"),
    "cnn": ("cnn: LeNet-5, batch 64 of 1×28×28, CE, SGD", "0.5–0.95"),
    "gpt": ("gpt: 2 pre-LN blocks, 4 heads, width 64, 32 tokens, batch 8, GELU, AdamW", "—"),
    "char-LM": ("char-LM: 3-char context, embedding, 200 tanh, CE, SGD", "—"),
}
TARGETS = {("per-op", "eager"): 0.8, ("per-op", "compiled"): 0.3, ("tiny", "eager"): 0.7,
           ("tiny", "compiled"): 0.3, ("mlp", "eager"): 0.6, ("mlp", "compiled"): 0.6,
           ("cnn", "eager"): 0.8, ("cnn", "compiled"): 0.8, ("gpt", "eager"): 1.0, ("char-LM", "eager"): 0.8}
ROWS = [   # (workload, measure, script) in table order
    ("per-op", "eager", "overhead"), ("per-op", "floor", "overhead"), ("per-op", "eager", "compiled"),
    ("per-op", "compiled", "compiled"), ("per-op", "floor", "compiled"),
    ("tiny", "eager", "train_tiny"), ("tiny", "floor", "train_tiny"), ("tiny", "eager", "compiled"),
    ("tiny", "compiled", "compiled"), ("tiny", "floor", "compiled"),
    ("mlp", "eager", "train_mlp"), ("mlp", "floor", "train_mlp"), ("mlp", "eager", "compiled"),
    ("mlp", "compiled", "compiled"), ("mlp", "floor", "compiled"),
    ("cnn", "eager", "train_cnn"), ("cnn", "eager", "compiled"), ("cnn", "compiled", "compiled"),
    ("gpt", "eager", "train_gpt"), ("gpt", "eager", "compiled"), ("gpt", "compiled", "compiled"),
    ("char-LM", "eager", "train_charlm"), ("char-LM", "eager", "compiled"), ("char-LM", "compiled", "compiled"),
]


def select(only: str | None) -> list[Script]:
    """The scripts named in ``--only`` (file stems, ``train_`` optional), all of them without it."""
    if not only:
        return list(SCRIPTS)
    by_name = {s.name: s for s in SCRIPTS} | {s.name.removeprefix("train_"): s for s in SCRIPTS}
    unknown = [n for n in only.split(",") if n.strip() not in by_name]
    if unknown:
        raise ValueError(f"--only: unknown benchmark {', '.join(unknown)}; expected some of "
                         f"{', '.join(s.name.removeprefix('train_') for s in SCRIPTS)}")
    picked = {by_name[n.strip()].name for n in only.split(",")}
    return [s for s in SCRIPTS if s.name in picked]


# ------------------------------------------------------------------------------------- configurations
@dataclass(frozen=True)
class Config:
    threads: int
    blas: str                     # "asis", "haswell" or "unset"

    @property
    def label(self) -> str:
        return f"{self.threads} thread{'s' if self.threads > 1 else ''}, {BLAS_LABELS[self.blas]}"

    def env(self, base: dict[str, str]) -> dict[str, str]:
        """The child's environment: ``base`` with this configuration's thread, clock and BLAS variables."""
        env = dict(base)
        env.update({var: str(self.threads) for var in THREAD_VARS})
        env.pop("BENCH_CLOCK", None)
        if self.threads == 1:
            env["BENCH_CLOCK"] = "cpu"
        if self.blas == "unset":
            for var in OPENBLAS_VARS:
                env.pop(var, None)
        elif self.blas == "haswell":
            env["OPENBLAS_CORETYPE"] = "Haswell"
        return env


def default_blas(base: dict[str, str]) -> list[str]:
    """As is, and the other side: Haswell set if the environment sets no OpenBLAS variable, else unset."""
    return ["asis", "unset" if any(var in base for var in OPENBLAS_VARS) else "haswell"]


def describe(env: dict[str, str]) -> str:
    """The benchmark-relevant variables of an environment, set or not."""
    return ", ".join(f"{var}={env[var]}" if var in env else f"{var} unset"
                     for var in (*THREAD_VARS, "BENCH_CLOCK", *OPENBLAS_VARS))


# -------------------------------------------------------------------------------------------- running
@dataclass
class Run:
    script: Script
    config: Config
    returncode: int | None = None   # None: not run (the script cannot run at this thread count)
    stdout: str = ""
    stderr: str = ""
    seconds: float = 0.0
    values: Values | None = None
    command: str = ""               # the environment variables that matter and the command line


def subprocess_runner(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    done = subprocess.run(argv, env=env, cwd=HERE.parent, capture_output=True, text=True, check=False)
    return done.returncode, done.stdout, done.stderr


def run_all(scripts: list[Script], configs: list[Config], quick: bool, base: dict[str, str],
            runner: Callable[[list[str], dict[str, str]], tuple[int, str, str]] = subprocess_runner,
            progress: bool = True) -> list[Run]:
    """Run every script in every configuration (one at a time: they time themselves) and parse each.

    Ctrl-C stops early: the runs done so far are returned (and reported).
    """
    from tqdm import tqdm
    planned = [Run(s, c) for s in scripts for c in configs]
    done: list[Run] = []
    bar = tqdm(planned, desc="bench", unit="run", file=sys.stderr, disable=not progress)
    try:
        for run in bar:
            bar.set_postfix_str(f"{run.script.name} · {run.config.label}")
            extra = run.script.thread_args(run.config.threads)
            if extra is not None:
                rounds = run.script.quick if quick else run.script.full
                argv = [sys.executable, str(run.script.path), *rounds, *extra]
                env = run.config.env(base)
                run.command = f"{describe(env)}\n$ {' '.join(argv)}"
                t0 = time.perf_counter()
                run.returncode, run.stdout, run.stderr = runner(argv, env)
                run.seconds = time.perf_counter() - t0
                if run.returncode == 0:
                    run.values = run.script.parse(run.stdout, run.config.threads, run.config.threads == 1)
            done.append(run)
    except KeyboardInterrupt:
        bar.close()
        print("interrupted: reporting the runs done so far", file=sys.stderr)
    return done


# ------------------------------------------------------------------------------------------ rendering
def _cell(run: Run | None, key: tuple[str, str], notes: list[str]) -> str:
    if run is None:
        return "not run²"
    if run.returncode is None:
        return "n/a¹"
    if run.returncode != 0:
        tail = (run.stderr.strip().splitlines() or ["(no output)"])[-1]
        note = f"`{run.script.name}.py` failed at {run.config.label} (exit {run.returncode}): {tail}"
        if note not in notes:
            notes.append(note)
        return "failed"
    value = (run.values or {}).get(key)
    if value is None:
        note = f"`{run.script.name}.py` at {run.config.label}: no {key[1]} ratio for {key[0]} in its output"
        notes.append(note)
        return "?"
    target = TARGETS.get(key)
    return f"{value:.2f}" + (" ✓" if target is not None and value <= target else "")


def render(runs: list[Run], configs: list[Config], base: dict[str, str], quick: bool) -> str:
    """The report: a header, the table (rows of the scripts that ran), the configurations, notes."""
    by = {(r.script.name, r.config): r for r in runs}
    ran = {r.script.name for r in runs}
    notes: list[str] = []
    head = " | ".join(c.label for c in configs)
    lines = [f"| workload | measure | script | {head} | target (issue 11) |",
             "|---|---|---|" + "---|" * len(configs) + "---|"]
    shown = set()
    for workload, measure, script in ROWS:
        if script not in ran:
            continue
        cells = [_cell(by.get((script, c)), (workload, measure), notes) for c in configs]
        target = TARGETS.get((workload, measure))
        goal = f"≤ {target}" if target is not None else f"— (issue's floor: {WORKLOADS[workload][1]})"
        name = workload if workload in shown else WORKLOADS[workload][0]   # described on its first row
        shown.add(workload)
        lines.append(f"| {name} | {measure} | `{script}.py` | " + " | ".join(cells) + f" | {goal} |")
    total = sum(r.seconds for r in runs)
    kind = "quick smoke run: few rounds, noisy" if quick else "full run"
    out = [f"## chainrule / PyTorch, every training benchmark ({kind})",
           "", f"{_machine()}; {total / 60:.1f} min of runs.", "",
           ("Ratio = chainrule time / PyTorch eager time in the same process (lower is better; ✓ meets "
            "issue 11's target); eager = chainrule as is, compiled = `chainrule.compile`, floor = "
            "hand-written NumPy / PyTorch. `compiled.py`'s per-op chain also runs an SGD update of its "
            "input."),
           "", *lines, ""]
    out.append("Configurations (environment of each run):")
    out += [f"- {c.label}: {describe(c.env(base))}" for c in configs]
    if any(r.returncode is None for r in runs):
        out.append("\n¹ n/a: the script runs at 1 thread only (it has no `--threads` option).")
    if "not run²" in "".join(lines):
        out.append("\n² not run: the report was interrupted (Ctrl-C) before this run.")
    if notes:
        out += ["", "Notes:", *[f"- {n}" for n in notes]]
    return "\n".join(out) + "\n"


def save_outputs(runs: list[Run], folder: Path) -> None:
    """Each run's output as ``<script>-<threads>t-<blas>.txt``, to check a figure against its source."""
    folder.mkdir(parents=True, exist_ok=True)
    for run in runs:
        if run.returncode is not None:
            name = f"{run.script.name}-{run.config.threads}t-{run.config.blas}.txt"
            text = f"{run.command}\n{run.stdout}\n--- stderr (exit {run.returncode}) ---\n{run.stderr}"
            (folder / name).write_text(text, encoding="utf-8")


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass

    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = ""
    if hasattr(os, "getloadavg"):   # a busy machine makes 2-thread wall times unreliable: say how busy
        load = ", load average {:.1f} {:.1f} {:.1f} (1, 5, 15 min) at the end".format(*os.getloadavg())
    return (f"{when}, {cpu}, {os.cpu_count()} cores{load}, Python {platform.python_version()}, "
            f"NumPy {version('numpy')}, PyTorch {version('torch')}, numba {version('numba')}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="bench/report.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="few rounds: a smoke test, not a measurement")
    ap.add_argument("--only", help="comma-separated benchmarks: " + ",".join(s.name for s in SCRIPTS))
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    ap.add_argument("--blas", help="comma-separated of asis, haswell, unset (default: asis + the other)")
    ap.add_argument("--out", help="also write the report to this markdown file")
    ap.add_argument("--save-output", metavar="DIR", help="write each run's stdout and stderr into DIR")
    args = ap.parse_args(argv)
    base = dict(os.environ)
    try:
        scripts = select(args.only)
    except ValueError as err:
        ap.error(str(err))
    counts = [n.strip() for n in args.threads.split(",")]
    if not all(n.isdigit() and int(n) > 0 for n in counts):
        ap.error(f"--threads: expected comma-separated positive counts such as 1,2; got {args.threads!r}")
    threads = [int(n) for n in counts]
    blas = args.blas.split(",") if args.blas else default_blas(base)
    if bad := [b for b in blas if b not in BLAS_LABELS]:
        ap.error(f"--blas: unknown {', '.join(bad)}; expected some of {', '.join(BLAS_LABELS)}")
    configs = [Config(n, b) for n in threads for b in blas]
    runs = run_all(scripts, configs, args.quick, base)
    if args.save_output:
        save_outputs(runs, Path(args.save_output))
    report = render(runs, configs, base, args.quick)
    print(report, end="")
    if args.out:
        Path(args.out).write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()

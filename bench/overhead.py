"""Per-op overhead, chainrule vs PyTorch, in one run.

A chain of 100 elementwise ops (alternating add, mul, tanh) on a float32 tensor of shape (16,),
forward + backward; the median over many repeats, in microseconds per op, and the ratio
chainrule / torch (lower is better; issue 11's target for eager is <= 0.8). A hand-written NumPy
version of the same computation is shown as the floor a Python engine can approach.

    python bench/overhead.py [--repeats 300] [--threads 1] [--budget] [--instructions]

``--budget`` splits chainrule's time per node into the four buckets of issue 11: the NumPy work,
the Tensor method + ``Function.apply`` + wrapping (forward under ``no_grad`` minus NumPy's forward),
recording (forward with grad minus forward under ``no_grad``) and the engine (backward minus NumPy's
backward). ``--instructions`` gives the same four buckets in CPU instructions per node, counted by
valgrind's callgrind around the timed calls only: slow (a few minutes) but the same on an idle and
on a busy machine, so it shows a change of a few percent that timings on a shared machine hide.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

import chainrule

sys.path.insert(0, os.path.dirname(__file__))
from common import CLOCK, interleaved_ms

N_OPS = 100


def chain(lib, x, c):
    y = x
    for i in range(N_OPS):
        k = i % 3
        if k == 0:
            y = y + c
        elif k == 1:
            y = y * c
        else:
            y = lib.tanh(y)
    return y.sum()


def step(lib, x, c):
    x.grad = None
    chain(lib, x, c).backward()


def numpy_step(x, c):
    # forward keeping what backward needs, then the reverse sweep
    saved = []
    y = x
    for i in range(N_OPS):
        k = i % 3
        if k == 0:
            y = y + c
        elif k == 1:
            y = y * c
        else:
            y = np.tanh(y)
            saved.append(y)
    g = np.ones_like(y)
    for i in reversed(range(N_OPS)):
        k = i % 3
        if k == 1:
            g = g * c
        elif k == 2:
            t = saved.pop()
            g = g * (1 - t * t)
    return g


def numpy_forward(x, c):
    return chain(np, x, c)      # the same chain on plain arrays (np.tanh, ndarray.sum)


def budget(repeats: int) -> None:
    """Median microseconds per node of each part of a chainrule step (see the module docstring)."""
    data = np.random.default_rng(0).standard_normal(16).astype(np.float32)
    x = chainrule.tensor(data, requires_grad=True)
    graphs = []

    def backward():
        y = graphs.pop()
        t0 = CLOCK()
        y.backward()
        return CLOCK() - t0

    parts = _parts(x, data)
    del parts["fwd+bwd"]            # timed as forward, then backward alone
    samples = {name: [] for name in [*parts, "backward"]}
    for _ in range(max(1, repeats // 25)):          # interleaved blocks, as interleaved_ms does
        for name, fn in parts.items():
            for _ in range(25):
                t0 = CLOCK()
                fn()
                samples[name].append(CLOCK() - t0)
        graphs = [chain(chainrule, x, 0.5) for _ in range(25)]
        samples["backward"] += [backward() for _ in range(25)]
    us = {name: 1e6 * sorted(v)[len(v) // 2] / N_OPS for name, v in samples.items()}
    numpy_bwd = us["numpy fwd+bwd"] - us["numpy fwd"]
    rows = [("NumPy work (forward + backward)", us["numpy fwd+bwd"]),
            ("Tensor method + apply + wrapping", us["no_grad fwd"] - us["numpy fwd"]),
            ("recording", us["recorded fwd"] - us["no_grad fwd"]),
            ("engine (backward minus NumPy's)", us["backward"] - numpy_bwd)]
    print(f"chainrule per node of the {N_OPS}-op chain, median of {repeats} (us):")
    for name, value in rows:
        print(f"  {name:<34} {value:5.2f}")
    print(f"  {'total':<34} {sum(v for _, v in rows):5.2f}")


def _parts(x, data):
    """The calls measured by ``--budget`` and ``--instructions``, by name."""
    c = np.float32(0.5)

    def forward_no_grad():
        with chainrule.no_grad():
            chain(chainrule, x, 0.5)

    return {"numpy fwd": lambda: numpy_forward(data, c), "numpy fwd+bwd": lambda: numpy_step(data, c),
            "no_grad fwd": forward_no_grad, "recorded fwd": lambda: chain(chainrule, x, 0.5),
            "fwd+bwd": lambda: step(chainrule, x, 0.5)}


def _count_child(part: str, calls: int) -> None:
    """Run ``calls`` calls of one part with callgrind's instrumentation switched on around them only."""
    import subprocess
    data = np.random.default_rng(0).standard_normal(16).astype(np.float32)
    fn = _parts(chainrule.tensor(data, requires_grad=True), data)[part]
    for _ in range(5):
        fn()
    control = ["callgrind_control", "-i"]
    subprocess.run([*control, "on", str(os.getpid())], capture_output=True, check=True)
    for _ in range(calls):
        fn()
    subprocess.run([*control, "off", str(os.getpid())], capture_output=True, check=True)


def instructions(calls: int) -> None:
    """Instructions per node of each bucket of ``budget``, from callgrind (see the module docstring)."""
    import re
    import shutil
    import subprocess
    import tempfile
    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")

    def count(part: str, n: int) -> int:
        with tempfile.TemporaryDirectory() as tmp:
            run = subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no",
                                  f"--callgrind-out-file={tmp}/out", sys.executable, __file__,
                                  "--count-child", part, str(n)], capture_output=True, text=True, check=False)
        found = re.search(r"Collected : (\d+)", run.stderr)
        if run.returncode or not found:
            raise SystemExit(f"valgrind failed on {part!r}:\n{run.stderr[-2000:]}")
        return int(found.group(1))

    base = count("fwd+bwd", 0)      # switching the instrumentation on and off
    per = {part: (count(part, calls) - base) / calls / N_OPS
           for part in ("numpy fwd", "numpy fwd+bwd", "no_grad fwd", "recorded fwd", "fwd+bwd")}
    numpy_bwd = per["numpy fwd+bwd"] - per["numpy fwd"]
    rows = [("NumPy work (forward + backward)", per["numpy fwd+bwd"]),
            ("Tensor method + apply + wrapping", per["no_grad fwd"] - per["numpy fwd"]),
            ("recording", per["recorded fwd"] - per["no_grad fwd"]),
            ("engine (backward minus NumPy's)", per["fwd+bwd"] - per["recorded fwd"] - numpy_bwd)]
    print(f"chainrule per node of the {N_OPS}-op chain, CPU instructions (callgrind, {calls} calls):")
    for name, value in rows:
        print(f"  {name:<34} {value:8.0f}")
    print(f"  {'total':<34} {per['fwd+bwd']:8.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=300)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--budget", action="store_true", help="chainrule's time per node, in four parts")
    ap.add_argument("--instructions", action="store_true",
                    help="the same four parts in CPU instructions (needs valgrind; a few minutes)")
    ap.add_argument("--count-child", nargs=2, metavar=("PART", "CALLS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.count_child:
        _count_child(args.count_child[0], int(args.count_child[1]))
        return
    if args.instructions:
        instructions(max(1, args.repeats // 10))
        return
    if args.budget:
        budget(args.repeats)
        return
    import torch
    torch.set_num_threads(args.threads)

    data = np.random.default_rng(0).standard_normal(16).astype(np.float32)
    tx = torch.tensor(data, requires_grad=True)
    cx = chainrule.tensor(data, requires_grad=True)
    block = 25  # alternate blocks: fair under a shared machine's load, caches warm within a block
    ms = interleaved_ms({
        "torch": lambda: step(torch, tx, 0.5),
        "chainrule": lambda: step(chainrule, cx, 0.5),
        "numpy": lambda: numpy_step(data, np.float32(0.5)),
    }, rounds=max(1, args.repeats // block), steps_per_round=block)
    t, c, n = (ms[k] * 1e3 / N_OPS for k in ("torch", "chainrule", "numpy"))
    print(f"chain of {N_OPS} elementwise ops on float32 (16,), forward + backward, "
          f"median of {args.repeats}, torch threads={args.threads}")
    print(f"  torch      {t:6.2f} us/op")
    print(f"  chainrule  {c:6.2f} us/op")
    print(f"  numpy      {n:6.2f} us/op  (hand-written floor)")
    print(f"  ratio chainrule/torch = {c / t:.2f}  (target <= 0.8)")


if __name__ == "__main__":
    main()

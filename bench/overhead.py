"""Per-op overhead, chainrule vs PyTorch, in one run.

A chain of 100 elementwise ops (alternating add, mul, tanh) on a float32 tensor of shape (16,),
forward + backward; the median over many repeats, in microseconds per op, and the ratio
chainrule / torch (lower is better; issue 11's target for eager is <= 0.8). A hand-written NumPy
version of the same computation is shown as the floor a Python engine can approach.

    python bench/overhead.py [--repeats 300] [--threads 1] [--budget]

``--budget`` splits chainrule's time per node into the four buckets of issue 11: the NumPy work,
the Tensor method + ``Function.apply`` + wrapping (forward under ``no_grad`` minus NumPy's forward),
recording (forward with grad minus forward under ``no_grad``) and the engine (backward minus NumPy's
backward).
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
    c = np.float32(0.5)

    def forward_no_grad():
        with chainrule.no_grad():
            chain(chainrule, x, 0.5)

    graphs = []

    def backward():
        y = graphs.pop()
        t0 = CLOCK()
        y.backward()
        return CLOCK() - t0

    parts = {"numpy fwd": lambda: numpy_forward(data, c), "numpy fwd+bwd": lambda: numpy_step(data, c),
             "no_grad fwd": forward_no_grad, "recorded fwd": lambda: chain(chainrule, x, 0.5)}
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=300)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--budget", action="store_true", help="chainrule's time per node, in four parts")
    args = ap.parse_args()
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

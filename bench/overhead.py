"""Per-op overhead, chainrule vs PyTorch, in one run.

A chain of 100 elementwise ops (alternating add, mul, tanh) on a float32 tensor of shape (16,),
forward + backward; the median over many repeats, in microseconds per op, and the ratio
chainrule / torch (lower is better; the target is <= 0.5). A hand-written NumPy version of the same
computation is shown as the floor a Python engine can approach.

    python bench/overhead.py [--repeats 300] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

import chainrule

sys.path.insert(0, os.path.dirname(__file__))
from common import interleaved_ms

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=300)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
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
    print(f"  ratio chainrule/torch = {c / t:.2f}  (target <= 0.5)")


if __name__ == "__main__":
    main()

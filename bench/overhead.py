"""Per-op overhead, chainrule vs PyTorch, in one run.

A chain of 100 elementwise ops (alternating add, mul, tanh) on a float32 tensor of shape (16,),
forward + backward; the median over many repeats, in microseconds per op, and the ratio
chainrule / torch (lower is better; the target is <= 0.5). A hand-written NumPy version of the same
computation is shown as the floor a Python engine can approach.

    python bench/overhead.py [--repeats 300] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import chainrule

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


def interleaved_medians(fns: dict, repeats: int, block: int = 25) -> dict:
    """Median seconds per call of each fn, timed in alternating blocks of ``block`` calls.

    Alternating keeps a shared, noisy machine fair to every contender; blocks (rather than single
    calls) keep each library's caches warm, as in real use where one library runs at a time.
    """
    for fn in fns.values():
        for _ in range(20):
            fn()
    times = {name: [] for name in fns}
    for _ in range(max(1, repeats // block)):
        for name, fn in fns.items():
            for _ in range(block):
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


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
    med = interleaved_medians({
        "torch": lambda: step(torch, tx, 0.5),
        "chainrule": lambda: step(chainrule, cx, 0.5),
        "numpy": lambda: numpy_step(data, np.float32(0.5)),
    }, args.repeats)
    t, c, n = (med[k] * 1e6 / N_OPS for k in ("torch", "chainrule", "numpy"))
    print(f"chain of {N_OPS} elementwise ops on float32 (16,), forward + backward, "
          f"median of {args.repeats}, torch threads={args.threads}")
    print(f"  torch      {t:6.2f} us/op")
    print(f"  chainrule  {c:6.2f} us/op")
    print(f"  numpy      {n:6.2f} us/op  (hand-written floor)")
    print(f"  ratio chainrule/torch = {c / t:.2f}  (target <= 0.5)")


if __name__ == "__main__":
    main()

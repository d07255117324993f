"""LeNet-5 training step, chainrule vs PyTorch, in one run.

conv 1→6 5×5, ReLU, max-pool 2, conv 6→16 5×5, ReLU, max-pool 2, 256→120→84→10, cross-entropy,
plain SGD step, on batches of 64 random 1×28×28 float32 images. Both libraries start from the
same weights and see the same batches; we report the median ms/step of each and the ratio
chainrule / torch (lower is better; issue 11's target is ≤ 0.8) with torch at 1 and 2 threads. NumPy's
BLAS (OpenBLAS) thread count is set to the same number with threadpoolctl when it is installed.
The conv/pool window kernels are numba's when it is installed; CHAINRULE_NUMBA=0 runs the NumPy ones.

    python bench/train_cnn.py [--steps 200] [--threads 1 2] [--profile]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import chainrule as cr
from chainrule.backend import accel
from chainrule.nn.conv import Conv2d
from chainrule.nn.pooling import MaxPool2d

LR = 0.01


def lenet(nn, Conv2d, MaxPool2d):
    """The same LeNet-5 for either library (``nn`` is ``torch.nn`` or ``chainrule.nn``)."""
    return nn.Sequential(
        Conv2d(1, 6, 5), nn.ReLU(), MaxPool2d(2),
        Conv2d(6, 16, 5), nn.ReLU(), MaxPool2d(2),
        nn.Flatten(), nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def make_step(lib, model):
    """One training step as a user writes it: forward, cross-entropy, backward, SGD update."""
    opt = lib.optim.SGD(model.parameters(), lr=LR)
    cross_entropy = lib.nn.functional.cross_entropy

    def step(x, y):
        opt.zero_grad()
        loss = cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def blas_limits(threads: int):
    """A context that sets NumPy's BLAS threads (a no-op context if threadpoolctl is missing)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        import contextlib
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads, user_api="blas")


def timed(steps_by_name: dict, batches: dict, steps: int, threads: int) -> dict:
    """Median (wall ms, CPU ms) per step for each library.

    The libraries take turns step by step, so a busy machine slows both alike. CPU time (all of
    this process's threads) is also reported: on a shared machine it is the steadier measure of the
    work done, because it does not count the time the process waited for a core.
    """
    wall = {name: [] for name in steps_by_name}
    cpu = {name: [] for name in steps_by_name}
    with blas_limits(threads):     # entered once: threadpoolctl scans the loaded libraries each time
        for i in range(steps):
            for name, step in steps_by_name.items():
                x, y = batches[name][i % len(batches[name])]
                t0, c0 = time.perf_counter(), time.process_time()
                step(x, y)
                wall[name].append(time.perf_counter() - t0)
                cpu[name].append(time.process_time() - c0)
    skip = steps // 10             # warm-up steps
    return {name: (statistics.median(wall[name][skip:]) * 1e3, statistics.median(cpu[name][skip:]) * 1e3)
            for name in steps_by_name}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--profile", action="store_true", help="cProfile the chainrule step (1 thread)")
    args = ap.parse_args()
    import torch

    rng = np.random.default_rng(1)
    data = [(rng.standard_normal((64, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 64))
            for _ in range(8)]
    torch.manual_seed(0)
    theirs = lenet(torch.nn, torch.nn.Conv2d, torch.nn.MaxPool2d)
    ours = lenet(cr.nn, Conv2d, MaxPool2d)
    ours.load_state_dict({k: cr.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    cr_batches = [(cr.tensor(x), cr.tensor(y)) for x, y in data]
    th_batches = [(torch.tensor(x), torch.tensor(y)) for x, y in data]
    ours_step, theirs_step = make_step(cr, ours), make_step(torch, theirs)

    # Same weights, same batches: the losses must agree (a wrong model is not a fast model).
    for i in range(3):
        l_ours, l_theirs = ours_step(*cr_batches[i]).item(), theirs_step(*th_batches[i]).item()
        print(f"step {i} loss: chainrule {l_ours:.6f}  torch {l_theirs:.6f}")
        if abs(l_ours - l_theirs) > 1e-4:
            raise SystemExit("chainrule and torch disagree: not benchmarking a wrong model")

    if args.profile:
        import cProfile
        import pstats
        torch.set_num_threads(1)
        prof = cProfile.Profile(time.process_time)   # CPU time: steadier on a shared machine
        prof.runcall(timed, {"chainrule": ours_step}, {"chainrule": cr_batches}, args.steps, 1)
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        return

    print(f"LeNet-5, batch 64, float32, median of {args.steps} steps (ms/step; ratio = chainrule / torch); "
          f"conv/pool kernels: {'numba' if accel.available() else 'NumPy'}")
    print(f"{'threads':>8} {'chainrule':>10} {'torch':>8} {'ratio':>7}   {'cpu: chainrule':>15} {'torch':>8} "
          f"{'ratio':>7}")
    for n in args.threads:
        torch.set_num_threads(n)
        ms = timed({"chainrule": ours_step, "torch": theirs_step},
                   {"chainrule": cr_batches, "torch": th_batches}, args.steps, n)
        (w_ours, c_ours), (w_theirs, c_theirs) = ms["chainrule"], ms["torch"]
        print(f"{n:>8} {w_ours:>10.2f} {w_theirs:>8.2f} {w_ours / w_theirs:>7.2f}   {c_ours:>15.2f} "
              f"{c_theirs:>8.2f} {c_ours / c_theirs:>7.2f}")


if __name__ == "__main__":
    main()

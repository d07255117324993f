"""LeNet-5 training step, chainrule vs PyTorch, in one run.

conv 1→6 5×5, ReLU, max-pool 2, conv 6→16 5×5, ReLU, max-pool 2, 256→120→84→10, cross-entropy,
plain SGD step, on batches of 64 random 1×28×28 float32 images. Both libraries start from the
same weights and see the same batches; we report the median ms/step of each and the ratio
chainrule / torch (lower is better; the target is ≤ 1.5) with torch at 1 and 2 threads. NumPy's
BLAS (OpenBLAS) thread count is set to the same number with threadpoolctl when it is installed.

    python bench/train_cnn.py [--steps 200] [--threads 1 2] [--profile]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import chainrule as cr
from chainrule.nn import functional_conv as F

SHAPES = {"c1.w": (6, 1, 5, 5), "c1.b": (6,), "c2.w": (16, 6, 5, 5), "c2.b": (16,),
          "f1.w": (120, 256), "f1.b": (120,), "f2.w": (84, 120), "f2.b": (84,),
          "f3.w": (10, 84), "f3.b": (10,)}
LR = 0.01


def init_weights(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    weights = {}
    for name, shape in SHAPES.items():
        fan_in = int(np.prod(SHAPES[name.replace(".b", ".w")][1:]))
        weights[name] = (rng.uniform(-1, 1, shape) / np.sqrt(fan_in)).astype(np.float32)
    return weights


def chainrule_step(p: dict, x, y):
    """One forward/backward/SGD step written with chainrule's PyTorch-style API."""
    h = F.max_pool2d(F.conv2d(x, p["c1.w"], p["c1.b"]).relu(), 2)
    h = F.max_pool2d(F.conv2d(h, p["c2.w"], p["c2.b"]).relu(), 2)
    h = h.flatten(1)
    h = (h @ p["f1.w"].T + p["f1.b"]).relu()
    h = (h @ p["f2.w"].T + p["f2.b"]).relu()
    logits = h @ p["f3.w"].T + p["f3.b"]
    loss = -logits.log_softmax(1).gather(1, y.unsqueeze(1)).mean()
    for t in p.values():
        t.grad = None
    loss.backward()
    with cr.no_grad():
        for t in p.values():
            t.sub_(t.grad, alpha=LR)
    return loss


def torch_step(torch, p: dict, x, y):
    tf = torch.nn.functional
    h = tf.max_pool2d(tf.relu(tf.conv2d(x, p["c1.w"], p["c1.b"])), 2)
    h = tf.max_pool2d(tf.relu(tf.conv2d(h, p["c2.w"], p["c2.b"])), 2)
    h = h.flatten(1)
    h = tf.relu(tf.linear(h, p["f1.w"], p["f1.b"]))
    h = tf.relu(tf.linear(h, p["f2.w"], p["f2.b"]))
    loss = tf.cross_entropy(tf.linear(h, p["f3.w"], p["f3.b"]), y)
    for t in p.values():
        t.grad = None
    loss.backward()
    with torch.no_grad():
        for t in p.values():
            t.sub_(t.grad, alpha=LR)
    return loss


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
    w0 = init_weights()
    ours = {k: cr.tensor(v, requires_grad=True) for k, v in w0.items()}
    theirs = {k: torch.tensor(v, requires_grad=True) for k, v in w0.items()}
    cr_batches = [(cr.tensor(x), cr.tensor(y)) for x, y in data]
    th_batches = [(torch.tensor(x), torch.tensor(y)) for x, y in data]

    # Same weights, same batch: the first losses must agree (a wrong model is not a fast model).
    l_ours = chainrule_step(ours, *cr_batches[0]).item()
    l_theirs = torch_step(torch, theirs, *th_batches[0]).item()
    print(f"first-step loss: chainrule {l_ours:.6f}  torch {l_theirs:.6f}")

    ours_step = lambda x, y: chainrule_step(ours, x, y)
    theirs_step = lambda x, y: torch_step(torch, theirs, x, y)
    if args.profile:
        import cProfile
        import pstats
        torch.set_num_threads(1)
        prof = cProfile.Profile()
        prof.runcall(timed, {"chainrule": ours_step}, {"chainrule": cr_batches}, args.steps, 1)
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        return

    print(f"LeNet-5, batch 64, float32, median of {args.steps} steps (ms/step; ratio = chainrule / torch)")
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

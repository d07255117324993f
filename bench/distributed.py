"""Data-parallel training speed: steps/s on 1 and 2 MPI processes, and the scaling efficiency.

Two models, float32, Adam, one BLAS thread per process:
  cnn  the digits ConvNet of ``chainrule train`` (38k parameters), global batch 64
  mlp  the 784-256-128-10 ReLU MLP (235k parameters), global batch 128 of random data

For each, these runs take turns (``--rounds`` times; the median is reported):
  1 proc             plain model, whole global batch                       (the baseline)
  1 proc, DDP        the same through DDP on a 1-process group             (DDP's own bookkeeping)
  1 proc, half batch plain model, half the global batch: the compute of one rank in "strong" below,
                     so its steps/s bound what 2 processes can reach
  2 procs, strong    DDP, each process half the global batch                (same training, faster?)
  2 procs, weak      DDP, each process the whole global batch (2x samples)  (more data per second?)
  2, strong, 0.1MiB  as "strong" with 0.1 MiB buckets: both models fit PyTorch's 1 MiB first bucket,
                     so by default nothing overlaps backward; small buckets show what overlap buys
Efficiency = throughput on N processes / (N x throughput on 1). Where the time goes: per step,
the time backward spends blocked waiting for the all-reduce (``comm wait``), the time of one
blocking all-reduce of all gradients on its own, and the DDP bookkeeping measured on 1 process.

    python bench/distributed.py [--rounds 3] [--steps 150]
    (the machine needs 2 free cores for the 2-process figures to mean anything)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import chainrule as cr
from chainrule import nn, optim
from chainrule.backend import set_num_threads
from chainrule.distributed import launch


def build(kind: str) -> tuple[nn.Module, tuple[int, ...]]:
    from chainrule.train import build_model
    if kind == "cnn":
        return build_model("cnn", (1, 8, 8), 10), (1, 8, 8)
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                         nn.Linear(128, 10)), (784,)


def worker(kind: str, batch: int, steps: int, use_ddp: bool, bucket_cap_mb: float | None) -> None:
    """One process of a run: time ``steps`` training steps, report from rank 0 as one JSON line."""
    import chainrule.distributed as dist
    from chainrule.nn.parallel import DistributedDataParallel
    set_num_threads(1)
    dist.init_process_group("mpi")
    rank, size = dist.get_rank(), dist.get_world_size()
    cr.manual_seed(0)
    model, shape = build(kind)
    net = DistributedDataParallel(model, bucket_cap_mb=bucket_cap_mb) if use_ddp else model
    opt = optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    g = cr.Generator(rank)
    data = [(cr.randn(batch, *shape, generator=g), cr.randint(0, 10, (batch,), generator=g))
            for _ in range(8)]

    def step(i):
        x, y = data[i % len(data)]
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        opt.step()

    for i in range(max(10, steps // 10)):
        step(i)
    if use_ddp:
        net.reducer.wait_seconds = 0.0
    dist.barrier()
    t0 = time.perf_counter()
    for i in range(steps):
        step(i)
    elapsed = cr.tensor([time.perf_counter() - t0], dtype=cr.float64)
    dist.all_reduce(elapsed, op=dist.ReduceOp.MAX)       # the job is as fast as its slowest rank
    waited = net.reducer.wait_seconds if use_ddp else 0.0

    # one blocking all-reduce of every gradient, alone: the communication a step cannot avoid
    flat = cr.zeros(sum(p.numel() for p in model.parameters()))
    for _ in range(5):
        dist.all_reduce(flat)
    t1 = time.perf_counter()
    for _ in range(50):
        dist.all_reduce(flat)
    allreduce_ms = (time.perf_counter() - t1) / 50 * 1e3
    if rank == 0:
        print(json.dumps({"steps_per_s": steps / elapsed.item(), "wait_ms": waited / steps * 1e3,
                          "allreduce_ms": allreduce_ms, "size": size,
                          "params": sum(p.numel() for p in model.parameters())}), flush=True)
    dist.destroy_process_group()


def run(kind: str, nproc: int, batch: int, steps: int, use_ddp: bool, bucket_cap_mb: float | None) -> dict:
    worker_args = [kind, str(batch), str(steps), str(int(use_ddp)), str(bucket_cap_mb)]
    cmd = launch.mpiexec_command(nproc, [__file__, "--worker", *worker_args])
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed (exit {out.returncode}):\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        kind, batch, steps, use_ddp, cap = args.worker
        worker(kind, int(batch), int(steps), use_ddp == "1", None if cap == "None" else float(cap))
        return

    print(f"chainrule data-parallel over MPI ({launch.mpiexec_path()}), {os.cpu_count()} cores, "
          f"median of {args.rounds} rounds of {args.steps} steps")
    for kind, batch in (("cnn", 64), ("mlp", 128)):
        runs = {"1 proc": (1, batch, False, None), "1 proc, DDP": (1, batch, True, None),
                "1 proc, half batch": (1, batch // 2, False, None),
                "2 procs, strong": (2, batch // 2, True, None), "2 procs, weak": (2, batch, True, None),
                "2, strong, 0.1MiB": (2, batch // 2, True, 0.1)}
        results: dict[str, list[dict]] = {name: [] for name in runs}
        for _ in range(args.rounds):                   # interleaved: a busy spell hits every run alike
            for name, (n, b, ddp, cap) in runs.items():
                results[name].append(run(kind, n, b, args.steps, ddp, cap))
        keys = ("steps_per_s", "wait_ms", "allreduce_ms")
        med = {name: {k: statistics.median(r[k] for r in rs) for k in keys} for name, rs in results.items()}
        base = med["1 proc"]["steps_per_s"] * batch
        print(f"\n{kind}: {results['1 proc'][0]['params']:,} parameters, global batch {batch}")
        print(f"  {'run':<18} {'steps/s':>8} {'samples/s':>10} {'efficiency':>10} {'comm wait':>10} "
              f"{'all-reduce':>10}")
        for name, (n, b, _, _) in runs.items():
            m = med[name]
            samples = m["steps_per_s"] * b * n
            eff = samples / (n * base)
            print(f"  {name:<18} {m['steps_per_s']:>8.1f} {samples:>10.0f} {eff:>10.0%} "
                  f"{m['wait_ms']:>7.2f} ms {m['allreduce_ms']:>7.3f} ms")


if __name__ == "__main__":
    sys.exit(main())

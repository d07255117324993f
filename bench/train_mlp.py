"""One SGD training step of an MNIST-sized MLP: chainrule vs PyTorch, in one run.

A 784-256-128-10 ReLU MLP, batch 128 of random data, cross-entropy, SGD (lr 0.01), float32; both
libraries start from the same weights. Here the matrix products dominate, so the question is
whether chainrule adds anything on top of NumPy's BLAS; the same step hand-written in NumPy is
shown as that floor. NumPy's BLAS picks its own thread count: set OPENBLAS_NUM_THREADS=1 to compare
with torch at 1 thread. Target: chainrule / torch <= 1.0.

    python bench/train_mlp.py [--rounds 10] [--steps 20] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys

import torch

import chainrule as cr
from chainrule.backend import xp

sys.path.insert(0, os.path.dirname(__file__))
from common import interleaved_ms, print_table

BATCH, LR = 128, 0.01


def make_models(seed: int = 0):
    """The torch model and a chainrule model holding the same float32 weights."""
    torch.manual_seed(seed)
    t_model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                                  torch.nn.ReLU(), torch.nn.Linear(128, 10))
    c_model = cr.nn.Sequential(cr.nn.Linear(784, 256), cr.nn.ReLU(), cr.nn.Linear(256, 128), cr.nn.ReLU(),
                               cr.nn.Linear(128, 10))
    with cr.no_grad():
        for c_p, t_p in zip(c_model.parameters(), t_model.parameters(), strict=True):
            c_p.copy_(cr.tensor(t_p.detach().numpy()))
    return t_model, c_model


def trainer(lib, model, x, y):
    """A closure doing one step: zero_grad, forward, loss, backward, update."""
    opt = lib.optim.SGD(model.parameters(), lr=LR)
    loss_fn = lib.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return step


def numpy_trainer(t_model, x, y):
    """The same step by hand in NumPy (the floor): forward, softmax cross-entropy, backward, update."""
    params = [p.detach().numpy().copy() for p in t_model.parameters()]
    W1, b1, W2, b2, W3, b3 = params
    x, y = x.numpy(), y.numpy()
    rows = xp.arange(len(y))

    def step():
        a1 = x @ W1.T + b1
        h1 = xp.maximum(a1, 0)
        a2 = h1 @ W2.T + b2
        h2 = xp.maximum(a2, 0)
        logits = h2 @ W3.T + b3
        shifted = logits - logits.max(1, keepdims=True)          # log-sum-exp without overflow
        p = xp.exp(shifted)
        p /= p.sum(1, keepdims=True)
        p[rows, y] -= 1.0                                         # d CE / d logits = softmax - onehot
        g3 = p / len(y)
        g_a2 = (g3 @ W3) * (a2 > 0)
        g_a1 = (g_a2 @ W2) * (a1 > 0)
        grads = (g_a1.T @ x, g_a1.sum(0), g_a2.T @ h1, g_a2.sum(0), g3.T @ h2, g3.sum(0))
        for w, g in zip(params, grads):
            w -= LR * g
    return step, params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--steps", type=int, default=20, help="steps per variant per round")
    parser.add_argument("--profile", action="store_true", help="cProfile 200 chainrule steps")
    args = parser.parse_args()

    t_model, c_model = make_models()
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(BATCH, 784, generator=g), torch.randint(0, 10, (BATCH,), generator=g)
    cx, cy = cr.tensor(x.numpy()), cr.tensor(y.numpy())
    t_step, c_step = trainer(torch, t_model, x, y), trainer(cr, c_model, cx, cy)
    n_step, n_params = numpy_trainer(t_model, x, y)

    # the libraries must be computing the same thing: 10 steps each from the same start
    for _ in range(10):
        t_step(), c_step(), n_step()
    diff = max(float(abs(c_p.detach().numpy() - t_p.detach().numpy()).max())
               for c_p, t_p in zip(c_model.parameters(), t_model.parameters()))
    diff_np = max(float(abs(n_p - t_p.detach().numpy()).max()) for n_p, t_p in zip(n_params, t_model.parameters()))
    print(f"after 10 steps: max |chainrule - torch| = {diff:.2e}, max |numpy - torch| = {diff_np:.2e}")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(200):
            c_step()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
        return

    ms = interleaved_ms({"chainrule": c_step, "torch 1 thread": t_step, "torch 2 threads": t_step, "numpy": n_step},
                        rounds=args.rounds, steps_per_round=args.steps, warmup=5,
                        before={"torch 1 thread": lambda: torch.set_num_threads(1),
                                "torch 2 threads": lambda: torch.set_num_threads(2)})
    print_table(f"784-256-128-10 ReLU MLP, batch {BATCH}, cross-entropy, SGD step, float32 (median of "
                f"{args.rounds * args.steps} steps each; target chainrule/torch <= 1.0)",
                ms, ["torch 1 thread", "torch 2 threads", "numpy"])


if __name__ == "__main__":
    main()

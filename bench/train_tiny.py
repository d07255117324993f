"""One SGD training step of a tiny MLP: chainrule vs PyTorch vs hand-written NumPy, in one run.

A 2-16-16-1 tanh MLP, batch 32, MSE loss, SGD (lr 0.1), float32. Both libraries start from the
same weights and see the same batch. This is the regime where per-op overhead is everything:
the arrays are so small that the arithmetic costs less than the Python around it. The NumPy
version — the same forward, backward and update written by hand — is the floor an engine on NumPy
can approach. Target: chainrule / torch <= 0.3.

    python bench/train_tiny.py [--rounds 30] [--steps 100] [--profile]
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

BATCH, LR = 32, 0.1


def make_models(seed: int = 0):
    """The torch model and a chainrule model holding the same float32 weights."""
    torch.manual_seed(seed)
    t_model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16),
                                  torch.nn.Tanh(), torch.nn.Linear(16, 1))
    c_model = cr.nn.Sequential(cr.nn.Linear(2, 16), cr.nn.Tanh(), cr.nn.Linear(16, 16), cr.nn.Tanh(),
                               cr.nn.Linear(16, 1))
    with cr.no_grad():
        for c_p, t_p in zip(c_model.parameters(), t_model.parameters(), strict=True):
            c_p.copy_(cr.tensor(t_p.detach().numpy()))
    return t_model, c_model


def make_data(seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(BATCH, 2, generator=g) * 4 - 2
    y = torch.sin(x[:, :1]) * torch.cos(x[:, 1:])
    return x, y


def trainer(lib, model, x, y):
    """A closure doing one step: zero_grad, forward, loss, backward, update."""
    opt = lib.optim.SGD(model.parameters(), lr=LR)
    loss_fn = lib.nn.MSELoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def numpy_trainer(t_model, x, y):
    """The same step by hand: forward keeping activations, the backward sweep, the SGD update."""
    W1, b1, W2, b2, W3, b3 = [p.detach().numpy().copy() for p in t_model.parameters()]
    x, y = x.numpy(), y.numpy()
    params = [W1, b1, W2, b2, W3, b3]

    def step():
        h1 = xp.tanh(x @ W1.T + b1)
        h2 = xp.tanh(h1 @ W2.T + b2)
        out = h2 @ W3.T + b3
        g_out = (2.0 / out.size) * (out - y)            # d mean((out - y)^2) / d out
        g_W3, g_b3 = g_out.T @ h2, g_out.sum(0)
        g_a2 = (g_out @ W3) * (1 - h2 * h2)             # tanh' = 1 - tanh^2
        g_W2, g_b2 = g_a2.T @ h1, g_a2.sum(0)
        g_a1 = (g_a2 @ W2) * (1 - h1 * h1)
        g_W1, g_b1 = g_a1.T @ x, g_a1.sum(0)
        for p, g in zip(params, (g_W1, g_b1, g_W2, g_b2, g_W3, g_b3)):
            p -= LR * g
    return step, params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--steps", type=int, default=100, help="steps per variant per round")
    parser.add_argument("--profile", action="store_true", help="cProfile 2000 chainrule steps")
    args = parser.parse_args()

    t_model, c_model = make_models()
    x, y = make_data()
    cx, cy = cr.tensor(x.numpy()), cr.tensor(y.numpy())
    t_step, c_step = trainer(torch, t_model, x, y), trainer(cr, c_model, cx, cy)
    n_step, n_params = numpy_trainer(t_model, x, y)

    # the two libraries must be computing the same thing: 50 steps each from the same start
    for _ in range(50):
        t_step(), c_step(), n_step()
    diff = max(float(abs(c_p.detach().numpy() - t_p.detach().numpy()).max())
               for c_p, t_p in zip(c_model.parameters(), t_model.parameters()))
    diff_np = max(float(abs(n_p - t_p.detach().numpy()).max()) for n_p, t_p in zip(n_params, t_model.parameters()))
    print(f"after 50 steps: max |chainrule - torch| = {diff:.2e}, max |numpy - torch| = {diff_np:.2e}")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(2000):
            c_step()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(18)
        return

    ms = interleaved_ms({"chainrule": c_step, "torch 1 thread": t_step, "torch 2 threads": t_step, "numpy": n_step},
                        rounds=args.rounds, steps_per_round=args.steps,
                        before={"torch 1 thread": lambda: torch.set_num_threads(1),
                                "torch 2 threads": lambda: torch.set_num_threads(2)})
    print_table(f"2-16-16-1 tanh MLP, batch {BATCH}, MSE, SGD step, float32 (median of "
                f"{args.rounds * args.steps} steps each; target chainrule/torch <= 0.3)",
                ms, ["torch 1 thread", "torch 2 threads", "numpy"])


if __name__ == "__main__":
    main()

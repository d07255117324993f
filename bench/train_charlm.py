"""One SGD step of a character-level language model (Bengio et al. 2003, as in makemore's MLP).

The previous 3 characters are looked up in an embedding table (27 × 10), concatenated (30), fed to
a 200-unit tanh layer and a 27-way output; cross-entropy on the next character, SGD (lr 0.1),
batch 32, float32. The model is written once (``build(lib)``) for both libraries; both start from
the same weights and see the same batches (random indices: the cost of a step does not depend on
the text). Both run at 1 thread, or ``--threads N`` (torch and NumPy's BLAS).

    python bench/train_charlm.py [--rounds 20] [--steps 50] [--profile]
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch

import chainrule as cr

sys.path.insert(0, os.path.dirname(__file__))
from common import check_same_losses, interleaved_ms, print_table, profile

VOCAB, CONTEXT, EMBED, HIDDEN, BATCH, LR = 27, 3, 10, 200, 32, 0.1


def build(lib):
    """The model class for ``lib`` (torch or chainrule): one source for both libraries."""
    nn, F = lib.nn, lib.nn.functional

    class CharMLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(VOCAB, EMBED)
            self.hidden = nn.Linear(CONTEXT * EMBED, HIDDEN)
            self.out = nn.Linear(HIDDEN, VOCAB)

        def forward(self, idx, targets):
            x = self.emb(idx).view(idx.shape[0], CONTEXT * EMBED)
            logits = self.out(lib.tanh(self.hidden(x)))
            return F.cross_entropy(logits, targets)

    return CharMLP


def make_batches(n: int = 16, seed: int = 1):
    rng = np.random.default_rng(seed)
    return [(rng.integers(0, VOCAB, (BATCH, CONTEXT)), rng.integers(0, VOCAB, BATCH)) for _ in range(n)]


def trainer(lib, model, batches):
    opt = lib.optim.SGD(model.parameters(), lr=LR)
    tensors = [(lib.tensor(x), lib.tensor(y)) for x, y in batches]
    state = {"i": 0}

    def step():
        x, y = tensors[state["i"] % len(tensors)]
        state["i"] += 1
        opt.zero_grad()
        loss = model(x, y)
        loss.backward()
        opt.step()
        return loss
    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--steps", type=int, default=50, help="steps per variant per round")
    parser.add_argument("--profile", action="store_true", help="cProfile 2000 chainrule steps")
    parser.add_argument("--threads", type=int, default=1, help="torch and NumPy BLAS threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cr.set_num_threads(args.threads)

    torch.manual_seed(0)
    t_model = build(torch)()
    c_model = build(cr)()
    c_model.load_state_dict({k: cr.tensor(v.numpy()) for k, v in t_model.state_dict().items()})
    batches = make_batches()
    t_step, c_step = trainer(torch, t_model, batches), trainer(cr, c_model, batches)
    check_same_losses(c_step, t_step, tol=1e-4)
    if args.profile:
        profile(c_step, 2000, 25)
        return

    ms = interleaved_ms({"chainrule": c_step, "torch": t_step}, rounds=args.rounds, steps_per_round=args.steps)
    print_table(f"char-LM: {CONTEXT}-char context, embedding {VOCAB}x{EMBED}, {HIDDEN} tanh, CE, SGD, batch {BATCH}, "
                f"{args.threads} thread(s) (median of {args.rounds * args.steps} steps; target <= 0.8)", ms, ["torch"])


if __name__ == "__main__":
    main()

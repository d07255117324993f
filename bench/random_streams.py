"""Random sampling: chainrule's torch-identical streams vs PyTorch itself, interleaved in one run.

Each line draws the same thing from both libraries (float32 unless named): the ratio is
chainrule / torch per call. chainrule draws PyTorch's Mersenne Twister words in bulk with NumPy and
repeats each kernel's arithmetic vectorised; the float32 randn of >= 16 values is the expensive one
(PyTorch's AVX2 log/sin/cos polynomials, with exactly emulated fused multiply-adds).

    python bench/random_streams.py [--rounds 7] [--steps 3]
"""

from __future__ import annotations

import argparse
import os
import sys

import torch

import chainrule as cr

sys.path.insert(0, os.path.dirname(__file__))
from common import interleaved_ms

N = 1_000_000


def cases(g: cr.Generator, t: torch.Generator) -> dict[str, tuple]:
    probs = torch.rand(1000, 27)
    probs_cr = cr.tensor(probs.numpy())
    linear_w, linear_t = cr.empty(512, 512), torch.empty(512, 512)
    return {
        "rand 1e6": (lambda: cr.rand(N, generator=g), lambda: torch.rand(N, generator=t)),
        "randn 1e6": (lambda: cr.randn(N, generator=g), lambda: torch.randn(N, generator=t)),
        "randn 1e6 float64": (lambda: cr.randn(N, generator=g, dtype=cr.float64),
                              lambda: torch.randn(N, generator=t, dtype=torch.float64)),
        "randn 3x3 (scalar path)": (lambda: cr.randn(3, 3, generator=g), lambda: torch.randn(3, 3, generator=t)),
        "uniform_(-a, a) 1e6": (lambda: cr.empty(N).uniform_(-0.1, 0.1, generator=g),
                                lambda: torch.empty(N).uniform_(-0.1, 0.1, generator=t)),
        "randint 1e6": (lambda: cr.randint(0, 10, (N,), generator=g), lambda: torch.randint(0, 10, (N,), generator=t)),
        "randperm 1e5": (lambda: cr.randperm(100_000, generator=g), lambda: torch.randperm(100_000, generator=t)),
        "bernoulli_(0.5) 1e6": (lambda: cr.empty(N).bernoulli_(0.5, generator=g),
                                lambda: torch.empty(N).bernoulli_(0.5, generator=t)),
        "multinomial 1000x27, 1 each": (lambda: cr.multinomial(probs_cr, 1, True, generator=g),
                                        lambda: torch.multinomial(probs, 1, True, generator=t)),
        "kaiming_uniform_ 512x512": (lambda: cr.nn.init.kaiming_uniform_(linear_w, a=5 ** 0.5, generator=g),
                                     lambda: torch.nn.init.kaiming_uniform_(linear_t, a=5 ** 0.5, generator=t)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    g, t = cr.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    print(f"{'':30s} {'chainrule':>11s} {'torch':>11s}   ratio")
    for name, (ours, theirs) in cases(g, t).items():
        ms = interleaved_ms({"chainrule": ours, "torch": theirs}, rounds=args.rounds, steps_per_round=args.steps,
                            warmup=2)
        print(f"{name:30s} {ms['chainrule']:8.3f} ms {ms['torch']:8.3f} ms  {ms['chainrule'] / ms['torch']:6.1f}")


if __name__ == "__main__":
    main()

"""``chainrule.compile`` against eager chainrule, PyTorch and the NumPy floor, interleaved in one process.

Workloads: the per-op chain (100 add/mul/tanh on float32 (16,), forward + backward + an SGD update
of the input) and the tiny MLP step (2-16-16-1 tanh, batch 32, MSE, SGD); with ``--models`` also
the MLP (784-256-128-10 ReLU, batch 128, cross-entropy, SGD) and the LeNet-5 CNN (batch 64,
cross-entropy, SGD) that ``chainrule train``-sized jobs look like. Each is run eagerly, compiled
(recorded once, replayed) and in PyTorch eager, all at 1 thread (or ``--threads N``); "numpy" is the
same step written by hand in NumPy (the floor a Python engine on NumPy can approach). Ratios are
chainrule / torch (lower is better; issue 11's targets: compiled <= 0.3 for the chain and tiny). Each
compiled step is checked to be bit-identical to eager before timing. Set BENCH_CLOCK=cpu on a busy machine.

    python bench/compiled.py [--rounds 20] [--steps 50] [--models] [--threads 1]
"""

from __future__ import annotations

import argparse
import copy
import os
import sys

import torch

import chainrule as cr
from chainrule.backend import xp

sys.path.insert(0, os.path.dirname(__file__))
import train_mlp
import train_tiny
from common import interleaved_ms, print_table
from train_cnn import lenet

N_OPS = 100


def chain_step(lib, x, opt):
    def step():
        opt.zero_grad()
        y = x
        for i in range(N_OPS):
            k = i % 3
            y = y + 0.5 if k == 0 else (y * 0.9 if k == 1 else y.tanh())
        loss = y.sum()
        loss.backward()
        opt.step()
        return loss
    return step


def numpy_chain(x0):
    """The chain by hand: forward keeping each tanh output, backward through the 100 local derivatives."""
    x = x0.copy()

    def step():
        nonlocal x
        y, saved = x, []
        for i in range(N_OPS):
            k = i % 3
            y = y + xp.float32(0.5) if k == 0 else (y * xp.float32(0.9) if k == 1 else xp.tanh(y))
            if k == 2:
                saved.append(y)
        g = xp.ones_like(y)
        for i in reversed(range(N_OPS)):
            k = i % 3
            if k == 1:
                g = g * xp.float32(0.9)
            elif k == 2:
                z = saved.pop()
                g = g * (1 - z * z)
        x -= xp.float32(1e-3) * g
    return step


def tiny_models():
    return train_tiny.make_models()


def check_exact(eager, compiled, params_e, params_c, steps: int = 5) -> None:
    for _ in range(steps):
        a, b = eager(), compiled()
        assert a.item() == b.item(), "compiled loss differs from eager"
    for p, q in zip(params_e, params_c, strict=True):
        assert (p._data == q._data).all(), "compiled parameters differ from eager"
    assert compiled.fallback_reason is None, compiled.fallback_reason


def compare(title: str, make_step, t_model, c_model, t_args, c_args, numpy_step, args) -> None:
    """Time eager, compiled, torch (and the NumPy floor) on one workload and print the table."""
    c_model2 = copy.deepcopy(c_model)
    eager = make_step(cr, c_model, *c_args)
    compiled = cr.compile(make_step(cr, c_model2, *c_args))
    check_exact(eager, compiled, list(c_model.parameters()), list(c_model2.parameters()))
    variants = {"chainrule": eager, "compiled": compiled, "torch": make_step(torch, t_model, *t_args)}
    if numpy_step is not None:
        variants["numpy"] = numpy_step
    ms = interleaved_ms(variants, rounds=args.rounds, steps_per_round=args.steps)
    print_table(title, ms, ["torch"])
    print(f"  ratio compiled / torch: {ms['compiled'] / ms['torch']:.2f}")
    if numpy_step is not None:
        print(f"  ratio numpy / torch (the floor): {ms['numpy'] / ms['torch']:.2f}")


def ce_step(lib, model, x, y, lr=0.01):
    opt = lib.optim.SGD(model.parameters(), lr=lr)

    def step():
        opt.zero_grad()
        loss = lib.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--models", action="store_true", help="also the MLP and LeNet-5 CNN steps")
    ap.add_argument("--threads", type=int, default=1, help="torch and NumPy BLAS threads")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cr.set_num_threads(args.threads)

    # per-op chain: the "model" is the input x itself, updated by SGD
    xt = torch.rand(16, requires_grad=True)
    xe = cr.tensor(xt.detach().numpy(), requires_grad=True)
    xc = cr.tensor(xt.detach().numpy(), requires_grad=True)
    eager = chain_step(cr, xe, cr.optim.SGD([xe], lr=1e-3))
    compiled = cr.compile(chain_step(cr, xc, cr.optim.SGD([xc], lr=1e-3)))
    check_exact(eager, compiled, [xe], [xc])
    ms = interleaved_ms({"chainrule": eager, "compiled": compiled,
                         "torch": chain_step(torch, xt, torch.optim.SGD([xt], lr=1e-3)),
                         "numpy": numpy_chain(xt.detach().numpy())},
                        rounds=args.rounds, steps_per_round=args.steps)
    print_table(f"per-op chain ({N_OPS} ops, fwd+bwd+SGD), ms/step", ms, ["torch"])
    print(f"  ratio compiled / torch: {ms['compiled'] / ms['torch']:.2f}")
    print(f"  ratio numpy / torch (the floor): {ms['numpy'] / ms['torch']:.2f}")

    t_model, c_model = tiny_models()
    x, y = train_tiny.make_data()
    compare("tiny MLP 2-16-16-1, batch 32, MSE, SGD, ms/step", train_tiny.trainer, t_model, c_model, (x, y),
            (cr.tensor(x.numpy()), cr.tensor(y.numpy())), train_tiny.numpy_trainer(t_model, x, y)[0], args)
    if not args.models:
        return

    t_model, c_model = train_mlp.make_models()
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(128, 784, generator=g), torch.randint(0, 10, (128,), generator=g)
    compare("mlp 784-256-128-10 ReLU, batch 128, CE, SGD, ms/step", ce_step, t_model, c_model, (x, y),
            (cr.tensor(x.numpy()), cr.tensor(y.numpy())), train_mlp.numpy_trainer(t_model, x, y)[0], args)

    torch.manual_seed(0)
    t_model = lenet(torch.nn, torch.nn.Conv2d, torch.nn.MaxPool2d)
    c_model = lenet(cr.nn, cr.nn.Conv2d, cr.nn.MaxPool2d)
    with cr.no_grad():
        for c_p, t_p in zip(c_model.parameters(), t_model.parameters(), strict=True):
            c_p.copy_(cr.tensor(t_p.detach().numpy()))
    x, y = torch.randn(64, 1, 28, 28, generator=g), torch.randint(0, 10, (64,), generator=g)
    compare("cnn LeNet-5, batch 64, CE, SGD, ms/step", ce_step, t_model, c_model, (x, y),
            (cr.tensor(x.numpy()), cr.tensor(y.numpy())), None, args)


if __name__ == "__main__":
    main()

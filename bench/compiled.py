"""``chainrule.compile`` against eager chainrule and PyTorch, interleaved in one process.

Workloads: the per-op chain (100 add/mul/tanh on float32 (16,), forward + backward + an SGD update
of the input) and the tiny MLP step (2-16-16-1 tanh, batch 32, MSE, SGD). Each is run eagerly,
compiled (recorded once, replayed) and in PyTorch eager; ratios are chainrule / torch (lower is
better; issue targets: compiled <= 0.3 for both). The compiled step's result is checked to be
bit-identical to eager before timing.

    python bench/compiled.py [--rounds 20] [--steps 50]
"""

from __future__ import annotations

import argparse
import copy
import os
import sys

import torch

import chainrule as cr

sys.path.insert(0, os.path.dirname(__file__))
from common import interleaved_ms, print_table

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


def tiny_step(lib, model, x, y):
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = lib.nn.MSELoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def tiny_models():
    torch.manual_seed(0)
    t = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16), torch.nn.Tanh(),
                            torch.nn.Linear(16, 1))
    c = cr.nn.Sequential(cr.nn.Linear(2, 16), cr.nn.Tanh(), cr.nn.Linear(16, 16), cr.nn.Tanh(), cr.nn.Linear(16, 1))
    with cr.no_grad():
        for cp, tp in zip(c.parameters(), t.parameters(), strict=True):
            cp.copy_(cr.tensor(tp.detach().numpy()))
    return t, c


def check_exact(eager, compiled, params_e, params_c, steps: int = 5) -> None:
    for _ in range(steps):
        a, b = eager(), compiled()
        assert a.item() == b.item(), "compiled loss differs from eager"
    for p, q in zip(params_e, params_c, strict=True):
        assert (p._data == q._data).all(), "compiled parameters differ from eager"
    assert compiled.fallback_reason is None, compiled.fallback_reason


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--steps", type=int, default=50)
    args = ap.parse_args()
    torch.set_num_threads(1)
    cr.set_num_threads(1)

    # per-op chain
    xt = torch.rand(16, requires_grad=True)
    xe = cr.tensor(xt.detach().numpy(), requires_grad=True)
    xc = cr.tensor(xt.detach().numpy(), requires_grad=True)
    eager = chain_step(cr, xe, cr.optim.SGD([xe], lr=1e-3))
    compiled = cr.compile(chain_step(cr, xc, cr.optim.SGD([xc], lr=1e-3)))
    check_exact(eager, compiled, [xe], [xc])
    ms = interleaved_ms({"chainrule": eager, "compiled": compiled,
                         "torch": chain_step(torch, xt, torch.optim.SGD([xt], lr=1e-3))},
                        rounds=args.rounds, steps_per_round=args.steps)
    print_table(f"per-op chain ({N_OPS} ops, fwd+bwd+SGD), ms/step", ms, ["torch"])
    print(f"  ratio compiled / torch: {ms['compiled'] / ms['torch']:.2f}")

    # tiny MLP
    t_model, c_model = tiny_models()
    c_model2 = copy.deepcopy(c_model)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(32, 2, generator=g) * 4 - 2
    y = torch.sin(x[:, :1]) * torch.cos(x[:, 1:])
    cx, cy = cr.tensor(x.numpy()), cr.tensor(y.numpy())
    eager = tiny_step(cr, c_model, cx, cy)
    compiled = cr.compile(tiny_step(cr, c_model2, cx, cy))
    check_exact(eager, compiled, list(c_model.parameters()), list(c_model2.parameters()))
    ms = interleaved_ms({"chainrule": eager, "compiled": compiled, "torch": tiny_step(torch, t_model, x, y)},
                        rounds=args.rounds, steps_per_round=args.steps)
    print_table("tiny MLP 2-16-16-1, batch 32, MSE, SGD, ms/step", ms, ["torch"])
    print(f"  ratio compiled / torch: {ms['compiled'] / ms['torch']:.2f}")


if __name__ == "__main__":
    main()

"""``chainrule.compile`` against eager chainrule, PyTorch and the NumPy floor, interleaved in one process.

Workloads: the per-op chain (100 add/mul/tanh on float32 (16,), forward + backward + an SGD update
of the input) and the tiny MLP step (2-16-16-1 tanh, batch 32, MSE, SGD); with ``--models`` also
the MLP (784-256-128-10 ReLU, batch 128, cross-entropy, SGD) and the LeNet-5 CNN (batch 64,
cross-entropy, SGD) that ``chainrule train``-sized jobs look like; with ``--lm`` the language models:
the GPT of ``train_gpt.py`` (2 pre-LN blocks, sdpa attention, AdamW) and the char-LM of
``train_charlm.py`` (3-char context, embedding, 200 tanh, CE, SGD), each step taking the batch as its
arguments (a new batch every call, cycling through 8 or 16); ``--only-lm`` runs just those two.
``--train`` times only the step ``chainrule train`` runs by default, eager against compiled.
Each is run eagerly, compiled
(recorded once, replayed) and in PyTorch eager, all at 1 thread (or ``--threads N``); "numpy" is the
same step written by hand in NumPy (the floor a Python engine on NumPy can approach). Ratios are
chainrule / torch (lower is better; issue 11's targets: compiled <= 0.3 for the chain and tiny). Each
compiled step is checked to be bit-identical to eager before timing. Set BENCH_CLOCK=cpu on a busy machine.

    python bench/compiled.py [--rounds 20] [--steps 50] [--models] [--lm | --only-lm | --train] [--threads 1]
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
import train_charlm
import train_gpt
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


def lm_step(lib, model, opt):
    """One training step of a language model whose forward returns the loss; the batch is an argument."""
    def step(x, y):
        opt.zero_grad()
        loss = model(x, y)
        loss.backward()
        opt.step()
        return loss
    return step


def cycling(step, batches):
    """A zero-argument step that feeds ``step`` the next of ``batches`` on every call."""
    at = [0]

    def run():
        x, y = batches[at[0] % len(batches)]
        at[0] += 1
        return step(x, y)
    return run


def compare_lm(title: str, module, t_model, make_opt, rounds: int, steps: int, warmup: int) -> None:
    """Eager chainrule, compiled chainrule and torch on one language model: the compiled step is first
    checked to be bit-identical to eager (losses and every parameter) over two passes of the batches."""
    c_models = []
    for _ in range(2):
        c = module.build(cr, **({"sdpa": True} if module is train_gpt else {}))()
        c.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in t_model.state_dict().items()})
        c_models.append(c)
    batches = module.make_batches()
    c_batches = [(cr.tensor(x), cr.tensor(y)) for x, y in batches]
    eager = cycling(lm_step(cr, c_models[0], make_opt(cr, c_models[0])), c_batches)
    compiled_step = cr.compile(lm_step(cr, c_models[1], make_opt(cr, c_models[1])))
    compiled = cycling(compiled_step, c_batches)
    for _ in range(2 * len(batches)):
        assert eager().item() == compiled().item(), "compiled loss differs from eager"
    for p, q in zip(c_models[0].parameters(), c_models[1].parameters(), strict=True):
        assert (p._data == q._data).all(), "compiled parameters differ from eager"
    assert compiled_step.fallback_reason is None, compiled_step.fallback_reason
    t_batches = [(torch.tensor(x), torch.tensor(y)) for x, y in batches]
    t_step = cycling(lm_step(torch, t_model, make_opt(torch, t_model)), t_batches)
    ms = interleaved_ms({"chainrule": eager, "compiled": compiled, "torch": t_step}, rounds=rounds,
                        steps_per_round=steps, warmup=warmup)
    print_table(title, ms, ["torch"])
    print(f"  ratio compiled / torch: {ms['compiled'] / ms['torch']:.2f}   "
          f"compiled / eager: {ms['compiled'] / ms['chainrule']:.2f}")


def language_models(args) -> None:
    torch.manual_seed(0)
    t_gpt = train_gpt.build(torch, sdpa=True)()
    compare_lm(f"gpt {train_gpt.LAYERS} pre-LN blocks, {train_gpt.HEADS} heads, width {train_gpt.WIDTH}, "
               f"{train_gpt.BLOCK} tokens, batch {train_gpt.BATCH}, GELU, sdpa, AdamW, ms/step", train_gpt, t_gpt,
               lambda lib, m: lib.optim.AdamW(m.parameters(), lr=train_gpt.LR),
               args.rounds, max(1, args.steps // 5), warmup=5)
    torch.manual_seed(0)
    t_lm = train_charlm.build(torch)()
    compare_lm(f"char-LM {train_charlm.CONTEXT}-char context, embedding {train_charlm.VOCAB}x{train_charlm.EMBED}, "
               f"{train_charlm.HIDDEN} tanh, CE, SGD, batch {train_charlm.BATCH}, ms/step", train_charlm, t_lm,
               lambda lib, m: lib.optim.SGD(m.parameters(), lr=train_charlm.LR), args.rounds, args.steps, warmup=20)


def train_default(args) -> None:
    """The step ``chainrule train`` runs by default (digits, its CNN, Adam, cosine schedule, CE, batch 32),
    eager and compiled, the batches drawn as the job draws them; the loss returned every step, as there."""
    from chainrule.train import TrainConfig, _optimizer, build_model, load_data
    cfg = TrainConfig()
    train_set, _ = load_data(cfg.dataset)
    batches = list(cr.utils.data.DataLoader(train_set, batch_size=cfg.batch_size, shuffle=True,
                                            generator=cr.Generator(cfg.seed)))
    steps = {}
    for name in ("chainrule", "compiled"):
        cr.manual_seed(cfg.seed)
        model = build_model("cnn", tuple(train_set.tensors[0].shape[1:]), 10)
        opt = _optimizer(cfg, model)
        sched = cr.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs * len(batches))
        loss_fn = cr.nn.CrossEntropyLoss()

        def step(x, y, model=model, opt=opt, sched=sched, loss_fn=loss_fn):
            loss = loss_fn(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            return loss
        steps[name] = cycling(cr.compile(step) if name == "compiled" else step, batches)
    for _ in range(len(batches) + 1):
        assert steps["chainrule"]().item() == steps["compiled"]().item(), "compiled loss differs from eager"
    ms = interleaved_ms(steps, rounds=args.rounds, steps_per_round=args.steps)
    print_table(f"chainrule train's default step (digits 1x8x8, cnn, Adam, cosine, batch {cfg.batch_size}), ms/step",
                ms, ["chainrule"], subject="compiled")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--models", action="store_true", help="also the MLP and LeNet-5 CNN steps")
    ap.add_argument("--lm", action="store_true", help="also the GPT and char-LM steps")
    ap.add_argument("--only-lm", action="store_true", help="only the GPT and char-LM steps")
    ap.add_argument("--train", action="store_true", help="only chainrule train's default step, eager vs compiled")
    ap.add_argument("--threads", type=int, default=1, help="torch and NumPy BLAS threads")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cr.set_num_threads(args.threads)
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, {args.threads} thread(s), "
          f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if args.train:
        train_default(args)
        return
    if args.only_lm:
        language_models(args)
        return

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
    if args.lm:
        language_models(args)
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

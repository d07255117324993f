"""One AdamW training step of a small GPT: chainrule vs PyTorch, the same model source, in one run.

2 pre-LN transformer blocks (4 heads, width 64, MLP 256 with exact GELU), token + position
embeddings, 32 tokens, batch 8, vocabulary 65, cross-entropy on the next token, AdamW (lr 1e-3).
The model is written once (``build(lib)``) with plain ops that both libraries share, so
``lib`` = ``torch`` or ``chainrule`` runs the identical program; both start from the same weights
and see the same batches. Attention uses ``F.scaled_dot_product_attention`` when both libraries
have it (as nanoGPT does), or with ``--manual`` the explicit form (q·kᵀ/√d, causal mask, softmax,
·v) that nanoGPT falls back to. Both run at 1 thread, or ``--threads N`` (torch and NumPy's BLAS).

    python bench/train_gpt.py [--rounds 10] [--steps 10] [--manual] [--profile] [--ops] [--numpy-kernels]

``--profile`` prints chainrule's cProfile (tottime); ``--ops`` prints a per-op table of one step
for both libraries (chainrule: time per Op class forward and backward; torch: torch.profiler).
``--numpy-kernels`` also times chainrule with the numba kernels switched off (``accel.use(False)``:
GELU, LayerNorm and attention on their NumPy kernels), interleaved with the other two.
"""

from __future__ import annotations

import argparse
import math
import os
import sys

import numpy as np
import torch

import chainrule as cr

sys.path.insert(0, os.path.dirname(__file__))
from common import CLOCK, check_same_losses, interleaved_ms, print_table, profile

VOCAB, BLOCK, WIDTH, HEADS, LAYERS, BATCH, LR = 65, 32, 64, 4, 2, 8, 1e-3


def build(lib, sdpa: bool = False):
    """The GPT model class for ``lib`` (torch or chainrule): one source for both libraries."""
    nn, F = lib.nn, lib.nn.functional
    use_sdpa = sdpa and hasattr(F, "scaled_dot_product_attention")

    class SelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(WIDTH, 3 * WIDTH)
            self.proj = nn.Linear(WIDTH, WIDTH)
            self.register_buffer("mask", lib.tril(lib.ones(BLOCK, BLOCK)).view(1, 1, BLOCK, BLOCK))

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = self.qkv(x).split(WIDTH, dim=2)
            q = q.view(B, T, HEADS, C // HEADS).transpose(1, 2)
            k = k.view(B, T, HEADS, C // HEADS).transpose(1, 2)
            v = v.view(B, T, HEADS, C // HEADS).transpose(1, 2)
            if use_sdpa:
                y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            else:
                att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // HEADS))
                att = att.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf"))
                att = F.softmax(att, dim=-1)
                y = att @ v
            y = y.transpose(1, 2).contiguous().view(B, T, C)
            return self.proj(y)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(WIDTH)
            self.attn = SelfAttention()
            self.ln2 = nn.LayerNorm(WIDTH)
            self.fc = nn.Linear(WIDTH, 4 * WIDTH)
            self.out = nn.Linear(4 * WIDTH, WIDTH)

        def forward(self, x):
            x = x + self.attn(self.ln1(x))
            return x + self.out(F.gelu(self.fc(self.ln2(x))))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(VOCAB, WIDTH)
            self.pos = nn.Embedding(BLOCK, WIDTH)
            self.blocks = nn.ModuleList([Block() for _ in range(LAYERS)])
            self.ln_f = nn.LayerNorm(WIDTH)
            self.head = nn.Linear(WIDTH, VOCAB)

        def forward(self, idx, targets):
            x = self.tok(idx) + self.pos(lib.arange(idx.shape[1]))
            for block in self.blocks:
                x = block(x)
            logits = self.head(self.ln_f(x))
            return F.cross_entropy(logits.view(-1, VOCAB), targets.view(-1))

    return GPT


def make_models(sdpa: bool, seed: int = 0):
    torch.manual_seed(seed)
    t_model = build(torch, sdpa)()
    c_model = build(cr, sdpa)()
    c_model.load_state_dict({k: cr.tensor(v.numpy()) for k, v in t_model.state_dict().items()})
    return t_model, c_model


def make_batches(n: int = 8, seed: int = 1):
    rng = np.random.default_rng(seed)
    data = rng.integers(0, VOCAB, (n, BATCH, BLOCK + 1))
    return [(d[:, :-1].copy(), d[:, 1:].copy()) for d in data]


def trainer(lib, model, batches):
    opt = lib.optim.AdamW(model.parameters(), lr=LR)
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


def per_op_table(c_step, t_step, steps: int = 20) -> None:
    """Time each chainrule Op class (forward and backward) and torch's ops (torch.profiler) per step."""
    from collections import defaultdict

    from chainrule.autograd.function import Op
    fwd, bwd = defaultdict(float), defaultdict(float)
    patched = []
    for cls in _all_subclasses(Op):
        if "forward" in cls.__dict__:
            patched.append((cls, "forward", cls.__dict__["forward"]))
        for kind in ("backward", "backward_array"):   # the engine runs backward_array on the first-order path
            if kind in cls.__dict__:
                patched.append((cls, kind, cls.__dict__[kind]))

    def wrap(cls, kind, orig):
        fn = orig.__func__ if isinstance(orig, (staticmethod, classmethod)) else orig
        table = fwd if kind == "forward" else bwd
        is_cls = isinstance(orig, classmethod)

        def timed(*a, **k):
            t0 = CLOCK()
            try:
                return fn(*a, **k)
            finally:
                table[type(a[1]).__name__ if is_cls else type(a[0]).__name__] += CLOCK() - t0
        return classmethod(timed) if is_cls else staticmethod(timed)

    for cls, kind, orig in patched:
        setattr(cls, kind, wrap(cls, kind, orig))
    try:
        t0 = CLOCK()
        for _ in range(steps):
            c_step()
        total = (CLOCK() - t0) / steps
    finally:
        for cls, kind, orig in patched:
            setattr(cls, kind, orig)
    print(f"chainrule: {total * 1e3:.2f} ms/step with timers; per op class (ms/step, forward / backward):")
    rows = sorted(set(fwd) | set(bwd), key=lambda n: -(fwd[n] + bwd[n]))
    for name in rows:
        print(f"  {name:<22} {fwd[name] / steps * 1e3:7.3f} {bwd[name] / steps * 1e3:7.3f}")
    print(f"  {'(sum of kernels)':<22} {sum(fwd.values()) / steps * 1e3:7.3f} {sum(bwd.values()) / steps * 1e3:7.3f}")

    from torch.profiler import ProfilerActivity, profile
    for _ in range(3):
        t_step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            t_step()
    print("torch (torch.profiler, self CPU time, ms/step):")
    events = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)[:25]
    for e in events:
        print(f"  {e.key:<40} {e.self_cpu_time_total / steps / 1e3:7.3f}  ({e.count // steps} calls)")


def _all_subclasses(cls):
    out = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_all_subclasses(sub))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--steps", type=int, default=10, help="steps per variant per round")
    parser.add_argument("--manual", action="store_true", help="manual attention instead of F.scaled_dot_product_attention")
    parser.add_argument("--profile", action="store_true", help="cProfile 100 chainrule steps")
    parser.add_argument("--ops", action="store_true", help="per-op table for both libraries")
    parser.add_argument("--threads", type=int, default=1, help="torch and NumPy BLAS threads")
    parser.add_argument("--numpy-kernels", action="store_true",
                        help="also time chainrule with the numba kernels off (A/B in one process)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cr.set_num_threads(args.threads)

    sdpa = not args.manual and hasattr(cr.nn.functional, "scaled_dot_product_attention")
    t_model, c_model = make_models(sdpa)
    batches = make_batches()
    t_step, c_step = trainer(torch, t_model, batches), trainer(cr, c_model, batches)
    check_same_losses(c_step, t_step, tol=1e-3)
    if args.profile:
        profile(c_step, 100, 30)
        return
    if args.ops:
        per_op_table(c_step, t_step)
        return

    variants, before = {"chainrule": c_step, "torch": t_step}, {}
    if args.numpy_kernels:
        from chainrule.backend import accel
        variants["chainrule, numpy kernels"] = trainer(cr, make_models(sdpa)[1], batches)
        before = {"chainrule": lambda: accel.use(True), "chainrule, numpy kernels": lambda: accel.use(False)}
    ms = interleaved_ms(variants, rounds=args.rounds, steps_per_round=args.steps, warmup=5, before=before)
    print_table(f"GPT {LAYERS} pre-LN blocks, {HEADS} heads, width {WIDTH}, {BLOCK} tokens, batch {BATCH}, "
                f"GELU, AdamW, {'sdpa' if sdpa else 'manual'} attention, {args.threads} thread(s) (median of {args.rounds * args.steps} steps; target <= 1.0)",
                ms, ["torch"])
    if args.numpy_kernels:
        print(f"  ratio chainrule, numpy kernels / torch: {ms['chainrule, numpy kernels'] / ms['torch']:.2f}")


if __name__ == "__main__":
    main()

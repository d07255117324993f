"""Index ops (every legal index-tensor shape), in-place ops and grad-mode statements for the fuzzer."""

from __future__ import annotations

import numpy as np

from .ops import ANY, NONZERO, SMALL, _has, domain
from .program import int_const


def _index_shape(g, shape: tuple, dim: int, along: int | None = None) -> tuple:
    """A legal index shape for gather/scatter: ``size(d) <= shape[d]`` for ``d != dim``, any size along dim."""
    out = []
    for k, n in enumerate(shape):
        if k == dim % max(len(shape), 1):
            out.append(int(g.r.integers(0, 4)) if along is None else along)
        else:
            out.append(int(g.r.integers(0, n + 1)) if g.coin(0.6) else n)
    return tuple(out)


def _unique_along(g, ishape: tuple, dim: int, n: int):
    """Index values in [0, n) distinct along ``dim`` within each slice (scatter is deterministic only then)."""
    idx = np.zeros(ishape, dtype=np.int64)
    if not idx.size:
        return idx
    moved = np.moveaxis(idx, dim, -1)
    flat = moved.reshape(-1, moved.shape[-1])
    for row in flat:
        row[:] = g.r.permutation(n)[: len(row)]
    return np.moveaxis(flat.reshape(moved.shape), -1, dim)


def gather(g) -> bool:
    a = g.pick("f")
    if a is None:
        return False
    shape = g.shape_of(a)
    nd = len(shape)
    if nd == 0:
        idx, d = g.const(int_const(np.zeros(g.choice([(), (1,)]), dtype=np.int64))), g.choice([0, -1])
    else:
        d = g.dim(nd)
        ishape = _index_shape(g, shape, d)
        high = shape[d]
        if high == 0 and int(np.prod(ishape)) > 0:
            ishape = ishape[:d % nd] + (0,) + ishape[d % nd + 1:]
        idx = g.const(int_const(g.ints(high, ishape) - (high if g.coin(0.0) else 0)))
    code = g.choice([f"m.gather({a}, {d}, {idx})", f"{a}.gather({d}, {idx})", f"m.gather({a}, dim={d}, index={idx})"])
    return g.propose("gather", code, (a, idx))


def scatter(g) -> bool:
    a = g.pick("f")
    if a is None:
        return False
    shape = g.shape_of(a)
    nd = len(shape)
    kind = g.choice(["scatter", "scatter_value", "scatter_add", "scatter_", "scatter_add_"])
    if not _has(g, "{a}." + kind):
        return False
    if nd == 0:
        d, ishape, n = 0, g.choice([(), (1,)]), 1
    else:
        d = g.dim(nd)
        n = shape[d]
        along = int(g.r.integers(0, n + 1)) if "add" not in kind else int(g.r.integers(0, 4))
        ishape = _index_shape(g, shape, d, along)
        if n == 0:
            ishape = ishape[:d % nd] + (0,) + ishape[d % nd + 1:]
    values = g.ints(n, ishape) if "add" in kind else _unique_along(g, ishape, d % max(nd, 1), n) if nd else \
        np.zeros(ishape, dtype=np.int64)
    idx = g.const(int_const(values))
    larger = "add" not in kind and not g.avoid("scatter_src_larger")
    sshape = tuple(k + (int(g.coin(0.1)) if larger else 0) for k in ishape)
    src = g.partner(sshape)
    if kind == "scatter":
        code, uses = f"{a}.scatter({d}, {idx}, {src})", (a, idx, src)
    elif kind == "scatter_value":
        code, uses = f"m.scatter({a}, {d}, {idx}, {g.choice(['0.25', '-1.0'])})", (a, idx)
    elif kind == "scatter_add":
        code, uses = g.choice([f"{a}.scatter_add({d}, {idx}, {src})", f"m.scatter_add({a}, {d}, {idx}, {src})"]), \
            (a, idx, src)
    else:
        code, uses = f"{{out}} = {a}.clone(); {{out}}.{kind}({d}, {idx}, {src})", (a, idx, src)
    return g.propose(kind, code, uses)


def index_select(g) -> bool:
    a = g.pick("f", lambda mt: mt.ndim >= 1)
    if a is None:
        return False
    shape = g.shape_of(a)
    d = g.dim(len(shape))
    idx = g.const(int_const(g.ints(shape[d], (int(g.r.integers(0, 5)),))))
    return g.propose("index_select", f"m.index_select({a}, {d}, {idx})", (a, idx))


def advanced_index(g) -> bool:
    a = g.pick("f", lambda mt: mt.ndim >= 1)
    if a is None:
        return False
    shape = g.shape_of(a)
    roll = g.r.random()
    if roll < 0.35:
        n = shape[0]
        idx = g.const(int_const(g.ints(n, g.shape(int(g.r.integers(0, 3)))) - (n if g.coin(0.3) else 0)))
        code, uses = f"{a}[{idx}]", (a, idx)
    elif roll < 0.55 and len(shape) >= 2:
        i = g.const(int_const(g.ints(shape[0], (3,))))
        j = g.const(int_const(g.ints(shape[1], g.choice([(3,), (1,), ()]))))
        code, uses = g.choice([f"{a}[{i}, {j}]", f"{a}[{i}, :, ...]", f"{a}[1:, {j}]" if shape[0] else f"{a}[:, {j}]"]), \
            (a, i, j)
    elif roll < 0.8:
        k = int(g.r.integers(1, len(shape) + 1))
        mask = g.const(int_const(g.r.random(shape[:k]) < 0.5, "bool"))
        code, uses = f"{a}[{mask}]", (a, mask)
    else:
        mask = g.const(int_const(g.r.random(g.broadcast_shape(shape)) < 0.5, "bool"))
        value = g.choice(["-1.5", "0.0", "m.tensor(2.0)"])
        code, uses = g.choice([f"{a}.masked_fill({mask}, {value})", f"m.masked_fill({a}, {mask}, {value})"]), (a, mask)
    return g.propose("index", code, uses)


def setitem(g) -> bool:
    a = g.pick("f", lambda mt: mt.ndim >= 1)
    if a is None:
        return False
    shape = g.shape_of(a)
    roll = g.r.random()
    if roll < 0.5:
        key = _slice_key(g, shape)
    elif roll < 0.75:
        key = g.const(int_const(g.r.random(shape) < 0.5, "bool"))
    else:
        # distinct rows: with a repeated one, which write wins is unspecified in torch (and its gradient
        # goes to every copy, the overwritten one included)
        key = g.const(int_const(g.r.permutation(shape[0])[:int(g.r.integers(0, 3))]))
    import torch
    with torch.no_grad():
        target = g.env[a][g.env[key] if key in g.env else eval(f"np.s_[{key}]")].shape
    val = g.partner(g.broadcast_shape(tuple(target))) if g.coin(0.8) else None
    rhs = val or g.choice(["0.5", "np.float64(-1.0)"])
    uses = (a,) + ((key,) if key in g.env else ()) + ((val,) if val else ())
    return g.propose("setitem", f"{{out}} = {a} * 1.0; {{out}}[{key}] = {rhs}", uses)


def _slice_key(g, shape: tuple) -> str:
    n = shape[0]
    return g.choice([f"{int(g.r.integers(0, n))}" if n else "0:0", "1:", ":, 0" if len(shape) > 1 and shape[1] else ":",
                     "..., -1" if shape[-1] else "...", "::2"])


INPLACE = [("{a}.add_({b})", ANY), ("{a}.mul_({b})", ANY), ("{a}.sub_({b}, alpha=2)", ANY), ("{a}.div_({b})", NONZERO),
           ("{a}.clamp_(-0.5, 0.5)", None), ("{a}.relu_()", None), ("{a}.exp_()", None), ("{a}.sigmoid_()", None),
           ("{a}.tanh_()", None), ("{a}.neg_()", None), ("{a}.fill_(0.5)", None), ("{a}.zero_()", None),
           ("{a}.copy_({b})", ANY), ("{a} += {b}", ANY), ("{a} *= 2", None), ("{a}.pow_(2)", None),
           ("{a}.masked_fill_({a} > 0, 0.0)", None), ("{a}.clamp_(min=0.1)", None), ("{a}.abs_()", None)]


def inplace(g) -> bool:
    """In-place ops on existing values: on a fresh non-leaf, on a value another op saved (backward must
    then raise in both), on a view, or on a leaf (both must raise at once)."""
    code, db = INPLACE[g.r.integers(len(INPLACE))]
    a = g.pick("f", domain(SMALL) if "exp_" in code else None)
    if a is None:
        return False
    if g.coin(0.5):                       # mostly on a fresh copy, so the program goes on
        a = g.derived(f"{a} * 1.0", (a,))
    uses = (a,)
    if db is not None:
        lo, hi = (0.5, 2.0) if db == NONZERO else (None, None)
        b = g.partner(g.broadcast_shape(g.shape_of(a)) if g.coin(0.7) else g.shape_of(a), lo, hi)
        uses = (a, b)
        code = code.format(a=a, b=b)
    else:
        code = code.format(a=a)
    return g.propose("inplace", code, uses, define=False)


def grad_mode(g) -> bool:
    a = g.pick("f")
    if a is None:
        return False
    code = g.choice(["with m.no_grad(): {out} = {a} * 2", "{out} = {a}.detach().requires_grad_()",
                     "{a}.retain_grad()", "with m.enable_grad(): {out} = {a}.exp() if False else {a} + 1",
                     "with m.set_grad_enabled(False): {out} = {a}.sum()"])
    if "{out}" not in code:
        return g.propose("retain_grad", code.format(a=a), (a,), define=False)
    return g.propose("grad_mode", code.replace("{a}", a), (a,))

"""Matmul, the nn functional ops and the losses, as fuzzer proposals."""

from __future__ import annotations

from .ops import DISTINCT, PROB, _at_gap, domain
from .program import int_const


def matmul(g) -> bool:
    a = g.pick("f", lambda mt: mt.ndim >= 1)
    if a is None:
        return False
    shape = g.shape_of(a)
    k = shape[-1]
    n = g.choice([0, 1, 2, 3])
    form = g.choice(["@", "matmul", "mm", "bmm", "mv", "dot", "outer", "rmatmul"])
    if form in ("@", "matmul"):
        other = g.choice([(k,), (k, n), (g.choice([1, 2]), k, n)])
        b = g.partner(other)
        code = f"{a} @ {b}" if form == "@" else f"m.matmul({a}, {b})"
    elif form == "rmatmul":
        b = g.partner(g.choice([(k,), (n, k)]) if len(shape) == 1 else (n, shape[-2]))
        code = f"{b} @ {a}"
    elif form == "mm":
        b = g.partner((k, n))
        code = f"m.mm({a}, {b})"
    elif form == "bmm":
        b = g.partner((shape[0], k, n))
        code = f"m.bmm({a}, {b})"
    elif form == "mv":
        b = g.partner((k,))
        code = f"m.mv({a}, {b})"
    else:
        b = g.partner((k,) if form == "dot" else (n,))
        code = f"m.{form}({a}, {b})"
    return g.propose(form, code, (a, b))


def _input(g, ndims: tuple, min_side: int = 0) -> str:
    a = g.pick("f", lambda mt: mt.ndim in ndims and all(s >= min_side for s in mt.shape))
    if a is None or g.coin(0.3):
        nd = g.choice(ndims)
        a = g.leaf(tuple(max(g.size(), min_side) for _ in range(nd)))
    return a


def linear(g) -> bool:
    a = _input(g, (1, 2, 3))
    n_in = g.shape_of(a)[-1]
    w = g.partner((g.choice([0, 1, 2, 3]), n_in))
    out = g.shape_of(w)[0]
    b = g.partner((out,)) if g.coin(0.6) else None
    code = f"F.linear({a}, {w}, {b})" if b else f"F.linear({a}, {w})"
    return g.propose("linear", code, (a, w) + ((b,) if b else ()))


def conv(g) -> bool:
    two = g.coin(0.7)
    a = _input(g, (3, 4) if two else (2, 3), min_side=0)
    shape = g.shape_of(a)
    batched = len(shape) == (4 if two else 3)
    c = shape[1] if batched else shape[0]
    groups = g.choice([d for d in (1, 2, 3) if c % d == 0] or [1])
    out = groups * g.choice([1, 2])
    k = g.choice([1, 1, 2, 3])
    ks = (k, g.choice([1, 2, 3])) if two else (k,)
    w = g.partner((out, c // groups) + ks)
    b = g.partner((out,)) if g.coin(0.5) else None
    args = []
    if g.coin(0.4):
        args.append(f"stride={g.choice([1, 2, (1, 2)] if two else [1, 2])}")
    pad = g.choice(["", "padding=1", "padding=2", "padding='same'", "padding='valid'", "padding=(0, 1)" if two else ""])
    if pad:
        args.append(pad)
    if g.coin(0.25):
        args.append("dilation=2")
    if groups > 1:
        args.append(f"groups={groups}")
    fn = "conv2d" if two else "conv1d"
    extra = "".join(", " + x for x in args)
    code = f"F.{fn}({a}, {w}{', ' + b if b else ''}{extra})"
    return g.propose(fn, code, (a, w) + ((b,) if b else ()))


def pool(g) -> bool:
    a = _input(g, (3, 4), min_side=1)
    kind = g.choice(["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d"])
    if kind == "max_pool2d" and not domain(DISTINCT)(g.meta[a]):
        return False
    k = g.choice([1, 2, 3, (1, 2)])
    if kind == "adaptive_avg_pool2d":
        code = f"F.adaptive_avg_pool2d({a}, {g.choice([1, 2, 3, (1, 2)])})"
    else:
        args = [str(k)]
        if g.coin(0.5):
            args.append(f"stride={g.choice([1, 2])}")
        if g.coin(0.3):
            args.append("padding=1")
        if g.coin(0.3):
            args.append("ceil_mode=True")
        if kind == "max_pool2d" and g.coin(0.2):
            args.append("dilation=2")
        if kind == "avg_pool2d" and g.coin(0.3):
            args.append("count_include_pad=False")
        code = f"F.{kind}({a}, {', '.join(args)})"
    return g.propose(kind, code, (a,))


def embedding(g) -> bool:
    num, dim = g.choice([1, 2, 4]), g.choice([0, 1, 3])
    w = g.partner((num, dim))
    idx = g.const(int_const(g.ints(num, g.shape(int(g.r.integers(0, 3))))))
    if g.coin(0.3):
        return g.propose("one_hot", f"F.one_hot({idx}, {num}).to(DT) * 1.5", (idx,))
    pad = f", padding_idx={g.choice([0, -1])}" if g.coin(0.3) else ""
    return g.propose("embedding", f"F.embedding({idx}, {w}{pad})", (idx, w))


def norm(g) -> bool:
    kind = g.choice(["layer_norm", "batch_norm", "normalize"])
    a = _input(g, (2, 3, 4) if kind != "normalize" else (1, 2, 3))
    shape = g.shape_of(a)
    if kind == "layer_norm":
        k = int(g.r.integers(1, len(shape) + 1))
        ns = tuple(shape[-k:])
        if 0 in ns and g.avoid("layer_norm_empty"):
            return False
        w = g.partner(ns) if g.coin(0.6) else None
        b = g.partner(ns) if w and g.coin(0.6) else None
        extra = (f", {w}" if w else "") + (f", {b}" if b else "")
        return g.propose(kind, f"F.layer_norm({a}, {ns!r}{extra})", (a,) + tuple(x for x in (w, b) if x))
    if kind == "batch_norm":
        c = shape[1]
        w = g.partner((c,)) if g.coin(0.6) else None
        b = g.partner((c,)) if g.coin(0.6) and (w or not g.avoid("batch_norm_bias_only")) else None
        return g.propose(kind, f"F.batch_norm({a}, None, None, {w}, {b}, training=True)",
                         (a,) + tuple(x for x in (w, b) if x))
    d = g.dim(len(shape))
    if g.env[a].detach().norm(dim=d).lt(1e-3).any():
        g.drop_pending()
        return False    # a zero vector: normalize's second derivative does not exist there (torch: NaN)
    return g.propose(kind, f"F.normalize({a}, dim={d})", (a,))


def loss(g) -> bool:
    kind = g.choice(["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
                     "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div"])
    red = g.choice(["", ", reduction='sum'", ", reduction='none'", ", reduction='mean'"])
    if kind in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"):
        a = g.pick("f")
        if a is None:
            return False
        t = g.partner(g.shape_of(a) if g.coin(0.85) else g.broadcast_shape(g.shape_of(a)))
        extra = {"smooth_l1_loss": ", beta=0.5", "huber_loss": ", delta=0.7"}.get(kind, "")
        # a computed input within rounding of its target (or, for the second order, |input - target| within
        # rounding of beta/delta) is at the loss's kink: the libraries' last bits pick the slope (seed 912307:
        # a layer_norm output equal to its bias, which a literal target repeated)
        edge = {"l1_loss": 0.0, "smooth_l1_loss": 0.5, "huber_loss": 0.7}.get(kind)
        if edge is not None and not (g.meta[a].exact and g.meta[t].exact) and _at_gap(g, a, t, edge):
            g.drop_pending()
            return False
        return g.propose(kind, f"F.{kind}({a}, {t}{extra}{red})", (a, t))
    if kind in ("cross_entropy", "nll_loss"):
        a = _input(g, (1, 2, 3))
        shape = g.shape_of(a)
        c = shape[0] if len(shape) == 1 else shape[1]
        tshape = () if len(shape) == 1 else (shape[0],) + tuple(shape[2:])
        if kind == "cross_entropy" and g.coin(0.25):
            t = g.const(f"m.tensor({g.values(shape, 0.0, 1.0).tolist()!r}, dtype=DT)" if shape and all(shape)
                        else f"m.zeros({shape!r}, dtype=DT)")
        else:
            vals = g.ints(c, tshape)
            if g.coin(0.2) and vals.size:
                vals.flat[0] = -100
            t = g.const(int_const(vals))
        extra = ", label_smoothing=0.1" if kind == "cross_entropy" and g.coin(0.2) else ""
        src = f"F.log_softmax({a}, {0 if len(shape) == 1 else 1})" if kind == "nll_loss" and g.coin(0.5) else a
        return g.propose(kind, f"F.{kind}({src}, {t}{extra}{red})", (a, t))
    if kind == "binary_cross_entropy":
        a = g.pick("f", domain(PROB))
        if a is None:
            return False
        t = g.const(f"m.tensor({g.values(g.shape_of(a), 0.0, 1.0).tolist()!r}, dtype=DT)"
                    if g.meta[a].numel else f"m.zeros({g.shape_of(a)!r}, dtype=DT)")
        return g.propose(kind, f"F.binary_cross_entropy({a}, {t}{red})", (a, t))
    a = g.pick("f")
    if a is None:
        return False
    t = g.partner(g.shape_of(a), 0.0, 1.0)
    if kind == "kl_div":
        red = g.choice([red, ", reduction='batchmean'"])
        # a target that requires grad stays off 0, where t·log t has no derivative (torch's NaN gradient there
        # then spreads through other ops' double backwards by NaN·0, each library's own way); a constant one
        # may hold exact zeros
        t = g.partner(g.shape_of(a), 0.01, 1.0) if g.coin(0.7) else g.const(
            f"m.tensor({g.values(g.shape_of(a), 0.0, 1.0).tolist()!r}, dtype=DT)" if g.meta[a].numel
            else f"m.zeros({g.shape_of(a)!r}, dtype=DT)")
        return g.propose(kind, f"F.kl_div({a}, {t}{red})", (a, t))
    # pos_weight without grad: torch 2.13 refuses to differentiate w.r.t. it (chainrule can)
    pw = f", pos_weight={g.leaf(g.shape_of(a)[-1:], 0.5, 2.0, grad=False)}" if g.coin(0.2) else ""
    uses = (a, t) + ((pw.split("=")[1],) if pw else ())
    return g.propose(kind, f"F.binary_cross_entropy_with_logits({a}, {t}{pw}{red})", uses)

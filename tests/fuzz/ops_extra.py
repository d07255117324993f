"""Fuzzer proposals for the PyTorch APIs added later: padding modes, more activations, shuffles, more
norms and pools, the metric-learning and likelihood losses, grid sampling, bags and distances, kthvalue.

Same rules as ops_nn.py: PyTorch runs each proposal first (a rejected one is dropped), values stay where
both libraries must agree (a kink is only hit by a leaf's exact value, never by a computed one whose last
bits may differ), and edge shapes (size 0, size 1, unbatched inputs) and every reduction mode are drawn.
"""

from __future__ import annotations

import numpy as np

from .ops import ANY, POS, SMALL, STEP, _has, domain
from .ops_nn import _input
from .program import int_const

REDUCTIONS = ["", ", reduction='none'", ", reduction='sum'", ", reduction='mean'"]


def _kink_safe(g, ndims=None, dom=ANY) -> str | None:
    """A float value whose kinks (at multiples of 0.5) are either absent or a leaf's exact values: a
    computed value may sit a last bit away from the kink in one library and on it in the other."""
    base = domain(dom)
    names = g.names("f", lambda mt: (ndims is None or mt.ndim in ndims) and (base is None or base(mt)))
    leaves = {s.defines for s in g.stmts if s.op == "leaf"}
    ok = [n for n in names if n in leaves or domain(STEP)(g.meta[n])]
    if not ok or g.coin(0.15):
        nd = g.choice(ndims) if ndims else int(g.r.choice(4))
        lo, hi = {ANY: (None, None), POS: (0.4, 3.0), SMALL: (-3.5, 3.5)}[dom]
        return g.leaf(g.shape(nd), lo, hi)
    w = np.arange(1, len(ok) + 1, dtype=float) ** 1.5
    return ok[g.r.choice(len(ok), p=w / w.sum())]


def _fconst(g, values, shape=None) -> str:
    """A float constant (targets, labels) in the program's float dtype."""
    a = np.asarray(values, dtype=float)
    if a.size == 0:
        return g.const(f"m.zeros({tuple(a.shape) if shape is None else shape!r}, dtype=DT)")
    return g.const(f"m.tensor({a.tolist()!r}, dtype=DT)")


def _signs(g, shape) -> str:
    return _fconst(g, g.r.choice([-1.0, 1.0], size=shape))


# -- padding --------------------------------------------------------------------------------------
def pad_modes(g) -> bool:
    """F.pad in every mode, with negative widths (crops), on 1-3 padded dims, batched or not."""
    mode = g.choice(["reflect", "replicate", "circular", "constant"])
    n = g.choice([1, 1, 2, 2, 3])
    a = _input(g, (n + 1, n + 2) if g.coin(0.9) else (n, n + 3), min_side=0 if g.coin(0.2) else 1)
    widths = tuple(int(x) for x in g.r.choice([-2, -1, 0, 0, 1, 1, 2, 3], size=2 * n))
    shape = g.shape_of(a)
    if len(shape) >= n:
        pairs = list(zip(widths[::2], widths[1::2]))[::-1]
        sizes = shape[len(shape) - n:]
        kept = [s - max(-b, 0) - max(-e, 0) for s, (b, e) in zip(sizes, pairs)]
        if mode == "circular" and any(k < 0 or b > k or e > k for k, (b, e) in zip(kept, pairs)) \
                and g.avoid("circular_pad_wraps"):
            return False
        if mode == "reflect" and n == 3 and any(s + b + e == 0 for s, (b, e) in zip(sizes, pairs)) \
                and g.avoid("reflect_pad3d_empty"):
            return False
    extra = ""
    if mode == "constant":
        extra = g.choice(["", ", value=0.5", ", mode='constant'"])
    else:
        extra = f", mode={mode!r}" if g.coin(0.8) else f", {mode!r}"
        if g.coin(0.05):
            extra += ", value=1.0"
    return g.propose("pad_" + mode, f"F.pad({a}, {widths!r}{extra})", (a,))


# -- activations ----------------------------------------------------------------------------------
# name: (code with {a}, domain); kinks at multiples of 0.5 use _kink_safe values
ACTIVATIONS = {
    "hardshrink": ("F.hardshrink({a})", "kink"), "hardshrink_1": ("F.hardshrink({a}, 1.0)", "kink"),
    "softshrink": ("F.softshrink({a})", "kink"), "softshrink_1": ("F.softshrink({a}, lambd=1.0)", "kink"),
    "tanhshrink": ("F.tanhshrink({a})", ANY), "threshold": ("F.threshold({a}, 0.5, -1.0)", "kink"),
    "threshold_0": ("F.threshold({a}, 0.0, 2.0)", "kink"), "mish": ("F.mish({a})", ANY),
    "hardswish": ("F.hardswish({a})", "kink"), "hardsigmoid": ("F.hardsigmoid({a})", "kink"),
    "selu": ("F.selu({a})", "kink"), "celu": ("F.celu({a})", "kink"), "celu_2": ("F.celu({a}, alpha=2.0)", "kink"),
    "softsign": ("F.softsign({a})", "kink"), "relu6": ("F.relu6({a})", "kink"),
    "logit": ("m.logit({a})", "prob"), "logit_eps": ("{a}.logit(0.25)", "kink"),
    "rrelu_eval": ("F.rrelu({a}, training=False)", "kink"),
    # in place on a fresh copy (a leaf that requires grad must raise in both)
    "hardswish_": ("F.hardswish({a} * 1.0, inplace=True)", "kink"), "mish_": ("F.mish({a} * 1.0, True)", ANY),
    "hardsigmoid_": ("F.hardsigmoid({a} * 1.0, inplace=True)", "kink"),
    "selu_": ("F.selu({a} * 1.0, inplace=True)", "kink"), "celu_": ("F.celu({a} * 1.0, 2.0, True)", "kink"),
    "relu6_": ("F.relu6({a} * 1.0, inplace=True)", "kink"), "threshold_": ("F.threshold_({a} * 1.0, 0.5, 2.0)", "kink"),
}


def activation(g) -> bool:
    name = g.choice(list(ACTIVATIONS) + ["prelu", "prelu", "glu", "softmin"])
    if name == "prelu":
        a = _kink_safe(g, (0, 1, 2, 3, 4))
        shape = g.shape_of(a)
        c = shape[1] if len(shape) >= 2 else 1
        w = g.partner(g.choice([(1,), (c,), ()]), 0.05, 0.5)
        return g.propose("prelu", f"F.prelu({a}, {w})", (a, w))
    if name == "glu":
        a = g.pick("f", lambda mt: mt.ndim >= 1 and any(s % 2 == 0 for s in mt.shape))
        if a is None:
            return False
        shape = g.shape_of(a)
        d = g.choice([k for k, s in enumerate(shape) if s % 2 == 0] + [-1])
        return g.propose("glu", f"F.glu({a}, {d})" if g.coin(0.7) else f"F.glu({a})", (a,))
    if name == "softmin":
        a = g.pick("f")
        if a is None:
            return False
        return g.propose("softmin", f"F.softmin({a}, dim={g.dim(g.meta[a].ndim)})", (a,))
    code, dom = ACTIVATIONS[name]
    if not _has(g, code) or "hardsigmoid" in name and g.avoid("hardsigmoid_float32_slope"):
        return False
    if dom == "prob":
        a = g.pick("f", lambda mt: 0.05 < mt.lo and mt.hi < 0.95)
    else:
        a = _kink_safe(g) if dom == "kink" else g.pick("f", domain(dom))
    return a is not None and g.propose(name, code.format(a=a), (a,))


# -- shuffles -------------------------------------------------------------------------------------
def shuffle(g) -> bool:
    kind = g.choice(["pixel_shuffle", "pixel_unshuffle", "channel_shuffle"])
    r = g.choice([1, 2, 2, 3])
    batch = tuple(g.choice([0, 1, 2]) for _ in range(g.choice([0, 1, 1, 2])))
    if kind == "pixel_shuffle":
        shape = batch + (g.choice([0, 1, 2]) * r * r, g.choice([1, 2]), g.choice([0, 1, 2]))
    elif kind == "pixel_unshuffle":
        shape = batch + (g.choice([1, 2]), g.choice([0, 1, 2]) * r, g.choice([1, 2]) * r)
    else:
        shape = (g.choice([0, 1, 2]), r * g.choice([1, 2])) + tuple(g.choice([1, 2]) for _ in range(g.choice([1, 2])))
    if kind != "channel_shuffle" and 0 in shape and g.avoid("pixel_unshuffle_empty"):
        return False
    same = g.names("f", lambda mt: mt.shape == shape)
    a = g.choice(same) if same and g.coin(0.5) else g.leaf(shape)
    arg = f"groups={r}" if kind == "channel_shuffle" and g.coin(0.5) else str(r)
    return g.propose(kind, f"F.{kind}({a}, {arg})", (a,))


# -- norms ----------------------------------------------------------------------------------------
def norm_extra(g) -> bool:
    kind = g.choice(["instance_norm", "rms_norm", "rms_norm", "local_response_norm", "group_norm"])
    if kind == "rms_norm":
        a = _input(g, (1, 2, 3))
        shape = g.shape_of(a)
        ns = tuple(shape[-int(g.r.integers(1, len(shape) + 1)):])
        w = g.partner(ns) if g.coin(0.5) else None
        eps = g.choice(["", ", eps=1e-5", ", eps=0.1"])
        return g.propose(kind, f"F.rms_norm({a}, {ns!r}{', ' + w if w else ''}{eps})", (a,) + ((w,) if w else ()))
    if kind == "local_response_norm":
        a = _input(g, (3, 4))
        size = g.choice([1, 2, 3, 4])
        args = g.choice(["", ", alpha=0.5, beta=0.75, k=1.0", ", alpha=2.0, beta=0.5, k=0.5"])
        return g.propose(kind, f"F.local_response_norm({a}, {size}{args})", (a,))
    a = _input(g, (3, 4) if kind == "instance_norm" else (2, 3, 4))
    shape = g.shape_of(a)
    c = shape[1]
    w = g.partner((c,)) if g.coin(0.5) else None
    known = "group_norm_bias_only" if kind == "group_norm" else "batch_norm_bias_only"   # instance_norm's is
    b = g.partner((c,)) if g.coin(0.5) and (w or not g.avoid(known)) else None            # batch_norm's
    uses = (a,) + tuple(x for x in (w, b) if x)
    if kind == "group_norm":
        groups = g.choice([d for d in (1, 2, 3) if c % d == 0] or [1])
        wb = (f", {w}" if w else (", None" if b else "")) + (f", {b}" if b else "")
        return g.propose(kind, f"F.group_norm({a}, {groups}{wb}{g.choice(['', ', eps=0.01'])})", uses)
    stats = ""
    if g.coin(0.3):
        rm = _fconst(g, g.values((c,)))
        rv = _fconst(g, g.values((c,), 0.5, 2.0))
        stats = f"running_mean={rm}, running_var={rv}, "
        if g.coin(0.5):
            stats += "use_input_stats=False, "
    return g.propose(kind, f"F.instance_norm({a}, {stats}weight={w}, bias={b})", uses)


# -- pools ----------------------------------------------------------------------------------------
def pool_extra(g) -> bool:
    kind = g.choice(["max_pool1d", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d",
                     "adaptive_max_pool2d", "lp_pool1d", "lp_pool2d"])
    two = kind.endswith("2d")
    a = _input(g, (3, 4) if two else (2, 3), min_side=0 if g.coin(0.1) else 1)
    if kind.startswith("adaptive"):
        size = g.choice([1, 2, 3] + ([(1, 2), (None, 2), (2, None)] if two else [(2,)]))
        ind = ", return_indices=True" if "max" in kind and g.coin(0.4) else ""
        part = g.choice(["[0]", "[1]"]) if ind else ""
        return g.propose(kind, f"F.{kind}({a}, {size!r}{ind}){part}", (a,))
    k = g.choice([1, 2, 3] + ([(1, 2), (2, 1)] if two else []))
    args = [str(k)]
    if kind.startswith("lp_pool"):
        p = g.choice([1, 2, 2, 3, 1.5])
        if p in (3, 1.5):
            a = g.pick("f", lambda mt: mt.ndim in ((3, 4) if two else (2, 3)) and mt.lo > 0.3 and min(mt.shape) >= 1)
            if a is None:
                a = g.leaf(tuple(g.choice([1, 2, 3]) for _ in range(4 if two else 3)), 0.4, 2.0)
        args.insert(0, str(p))
        if g.coin(0.5):
            args.append(f"stride={g.choice([1, 2])}")
        if g.coin(0.3):
            args.append("ceil_mode=True")
        return g.propose(kind, f"F.{kind}({a}, {', '.join(args)})", (a,))
    if g.coin(0.5):
        args.append(f"stride={g.choice([1, 2, (2,)])}")
    if g.coin(0.3):
        args.append(f"padding={g.choice([1, 0])}")
    if g.coin(0.3):
        args.append("ceil_mode=True")
    part = ""
    if kind == "max_pool1d":
        if g.coin(0.2):
            args.append("dilation=2")
        if g.coin(0.3):
            args.append("return_indices=True")
            part = g.choice(["[0]", "[1]"])
    elif g.coin(0.3):
        args.append("count_include_pad=False")
    return g.propose(kind, f"F.{kind}({a}, {', '.join(args)}){part}", (a,))


# -- losses ---------------------------------------------------------------------------------------
def loss_extra(g) -> bool:
    kind = g.choice(["margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss", "cosine_embedding_loss",
                     "triplet_margin_loss", "poisson_nll_loss", "gaussian_nll_loss", "multilabel_soft_margin_loss",
                     "multi_margin_loss"])
    red = g.choice(REDUCTIONS)
    if kind in ("margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss"):
        a = _kink_safe(g, (0, 1, 2, 3))
        shape = g.shape_of(a)
        y = _signs(g, shape)
        if kind == "margin_ranking_loss":
            b = g.partner(shape)
            margin = g.choice(["", ", margin=0.5", ", margin=1.0"])
            return g.propose(kind, f"F.margin_ranking_loss({a}, {b}, {y}{margin}{red})", (a, b, y))
        margin = g.choice(["", ", margin=0.5"]) if kind == "hinge_embedding_loss" else ""
        return g.propose(kind, f"F.{kind}({a}, {y}{margin}{red})", (a, y))
    if kind in ("cosine_embedding_loss", "triplet_margin_loss"):
        a = _input(g, (1, 2))
        shape = g.shape_of(a)
        b = g.partner(shape)
        if kind == "cosine_embedding_loss":
            y = _signs(g, shape[:-1])
            margin = g.choice(["", ", margin=0.5", ", margin=-0.25"])
            return g.propose(kind, f"F.cosine_embedding_loss({a}, {b}, {y}{margin}{red})", (a, b, y))
        c = g.partner(shape)
        extra = g.choice(["", ", margin=0.5", ", p=1", ", swap=True", ", p=3, eps=1e-3", ", margin=2.0, swap=True"])
        return g.propose(kind, f"F.triplet_margin_loss({a}, {b}, {c}{extra}{red})", (a, b, c))
    if kind == "poisson_nll_loss":
        log_input = g.coin(0.6)
        a = g.pick("f", domain(SMALL if log_input else POS))
        if a is None:
            return False
        t = _fconst(g, np.round(g.r.uniform(0, 3, g.shape_of(a)), 1))
        extra = ("" if log_input else ", log_input=False") + g.choice(["", ", full=True"])
        return g.propose(kind, f"F.poisson_nll_loss({a}, {t}{extra}{red})", (a, t))
    if kind == "gaussian_nll_loss":
        a = g.pick("f")
        if a is None:
            return False
        shape = g.shape_of(a)
        t = g.partner(shape)
        roll = g.r.random()
        if roll < 0.15:
            var = g.choice(["0.5", "2.0"])
            uses = (a, t)
        else:
            vshape = shape if roll < 0.6 or not shape else (shape[:-1] if roll < 0.8 else shape[:-1] + (1,))
            var = g.partner(vshape, 0.1, 2.0)
            uses = (a, t, var)
        extra = g.choice(["", ", full=True", ", eps=0.2"])
        return g.propose(kind, f"F.gaussian_nll_loss({a}, {t}, {var}{extra}{red})", uses)
    a = _input(g, (1, 2))
    shape = g.shape_of(a)
    c = shape[-1]
    w = g.partner((c,), 0.2, 2.0) if g.coin(0.3) else None
    wa = f", weight={w}" if w else ""
    uses = (a,) + ((w,) if w else ())
    if kind == "multilabel_soft_margin_loss":
        t = _fconst(g, g.r.choice([0.0, 1.0, 0.25], size=shape))
        return g.propose(kind, f"F.multilabel_soft_margin_loss({a}, {t}{wa}{red})", uses + (t,))
    if 0 in shape and "none" not in red and g.avoid("multi_margin_loss_empty"):
        return False
    t = g.const(int_const(g.ints(c, shape[:-1] if len(shape) == 2 else g.choice([(1,), ()]))))
    extra = g.choice(["", ", p=2", ", margin=0.5", ", p=2, margin=2.0"])
    if w:   # a weight without grad: torch 2.13 refuses to differentiate w.r.t. it (chainrule can)
        w = g.leaf((c,), 0.2, 2.0, grad=False)
        wa, uses = f", weight={w}", (a, w)
    return g.propose(kind, f"F.multi_margin_loss({a}, {t}{extra}{wa}{red})", uses + (t,))


# -- sampling -------------------------------------------------------------------------------------
def sampling(g) -> bool:
    """affine_grid, grid_sample (from an affine grid or a free one), every mode and padding mode."""
    n, c = g.choice([0, 1, 2]), g.choice([1, 2])
    h, w = g.choice([1, 2, 3]), g.choice([1, 2, 3])
    ac = g.choice([", align_corners=False", ", align_corners=True", ""])
    if g.coin(0.35):
        theta = g.partner((n, 2, 3), -1.2, 1.2)
        size = (n, c, g.choice([1, 2, 3]), g.choice([1, 2, 3]))
        return g.propose("affine_grid", f"F.affine_grid({theta}, {size!r}{ac})", (theta,))
    a = g.pick("f", lambda mt: mt.ndim == 4)
    if a is None or g.coin(0.5):
        a = g.leaf((n, c, h, w))
    n = g.shape_of(a)[0]
    if g.coin(0.4):
        theta = g.partner((n, 2, 3), -1.2, 1.2)
        grid = g.derived(f"F.affine_grid({theta}, {(n, 1, g.choice([1, 2, 3]), g.choice([1, 2]))!r}, "
                         f"align_corners=False)", (theta,))
    else:
        grid = g.partner((n, g.choice([0, 1, 2]), g.choice([1, 2, 3]), 2), -1.3, 1.3)
    mode = g.choice(["", ", mode='bilinear'", ", mode='nearest'"])
    pad = g.choice(["", ", padding_mode='zeros'", ", padding_mode='border'", ", padding_mode='reflection'"])
    return g.propose("grid_sample", f"F.grid_sample({a}, {grid}{mode}{pad}{ac})", (a, grid))


# -- bags, distances, kthvalue --------------------------------------------------------------------
def bag(g) -> bool:
    num, dim = g.choice([1, 2, 4]), g.choice([0, 1, 3])
    w = g.partner((num, dim))
    mode = g.choice(["sum", "mean", "max"]) if g.coin(0.8) else None
    args = [f"mode={mode!r}"] if mode else []
    if dim == 0 and mode != "max" and g.avoid("embedding_bag_dim0_float32"):
        return False
    if g.coin(0.5):
        cols = g.choice([1, 2, 3] if g.avoid("embedding_bag_2d_no_columns") else [0, 1, 2, 3])
        ids = g.const(int_const(g.ints(num, (g.choice([0, 1, 2, 3]), cols))))
        ishape = g.shape_of(ids)
    else:
        length = g.choice([0, 1, 3, 5])
        ids = g.const(int_const(g.ints(num, (length,))))
        ishape = (length,)
        cuts = sorted(int(x) for x in g.ints(length + 1, (g.choice([1, 2, 3]),)))
        cuts[0] = 0
        # include_last_offset with a single offset (no bag) segfaults in torch 2.13: never generated. Its last
        # offset is the input's length (the documented contract: torch does not check it, and its float32 and
        # float64 kernels read a shorter one differently, fuzz seed 732652)
        last = len(cuts) > 1 and g.coin(0.3)
        if last:
            cuts[-1] = length
        offsets = g.const(int_const(np.array(cuts, dtype=np.int64)))
        args.insert(0, f"offsets={offsets}")
        if last:
            args.append("include_last_offset=True")
    if mode == "sum" and g.coin(0.3):
        args.append(f"per_sample_weights={g.partner(ishape)}")
    if g.coin(0.2):
        args.append(f"padding_idx={g.choice([0, -1])}")
    uses = tuple(x.split("=")[1] for x in args if x.startswith(("offsets=", "per_sample_weights=")))
    return g.propose("embedding_bag", f"F.embedding_bag({ids}, {w}{''.join(', ' + x for x in args)})",
                     (ids, w) + uses)


def distance(g) -> bool:
    kind = g.choice(["pdist", "pdist", "cosine_similarity", "pairwise_distance"])
    if kind == "pdist":
        import torch
        a = _input(g, (2,))
        if g.shape_of(a)[0] == 0 and g.shape_of(a)[1]:   # torch 2.13's backward dies of SIGFPE: never generated
            return False
        x = g.env[a].detach()
        apart = (x[:, None] - x[None]).abs()[~torch.eye(x.shape[0], dtype=torch.bool)]
        if apart.numel() and float(apart.min()) < 0.01:
            g.drop_pending()
            return False    # two rows tie (or nearly) in a coordinate: a kink of |x_ik - x_jk|^p, whose second
                            # derivative torch cannot give and differences cannot decide
        p = g.choice(["", ", p=1", ", p=3", ", p=0", ", p=float('inf')", ", 1.5"])
        if "inf" in p and apart.numel() and x.shape[1] > 1:
            top2 = apart.topk(2, dim=-1).values
            if float((top2[:, 0] - top2[:, 1]).min()) < 0.01:    # the largest coordinate nearly ties: max's kink
                p = ""
        return g.propose(kind, f"F.pdist({a}{p})", (a,))
    a = _input(g, (1, 2, 3))
    shape = g.shape_of(a)
    b = g.partner(shape if g.coin(0.7) else g.broadcast_shape(shape))
    if kind == "cosine_similarity":
        extra = g.choice(["", f", dim={g.dim(len(shape))}", ", eps=0.1", ", dim=-1"])
        if _near_clamped_norm(g, (a, b), int(extra.split("dim=")[1]) if "dim=" in extra else 1,
                              0.1 if "eps" in extra else 0.0):
            g.drop_pending()
            return False    # a (nearly) zero vector, or a norm at eps: |x|'s kink, whose second derivative
                            # neither library can justify (torch: NaN)
        return g.propose(kind, f"F.cosine_similarity({a}, {b}{extra})", (a, b))
    extra = g.choice(["", ", p=1.0", ", p=3.0", ", keepdim=True", ", eps=0.0"])
    return g.propose(kind, f"F.pairwise_distance({a}, {b}{extra})", (a, b))


def _near_clamped_norm(g, names, dim: int, eps: float) -> bool:
    for name in names:
        x = g.env[name].detach()
        try:
            n = x.norm(dim=dim) if x.ndim else x.abs()
        except (IndexError, RuntimeError):
            continue            # a dim the op rejects: torch drops the proposal itself
        if n.numel() and (float(n.min()) < 1e-3 or bool(((n - eps).abs() < 1e-3).any())):
            return True
    return False


def kthvalue(g) -> bool:
    """kthvalue on values distinct along the dim (PyTorch's index among equal values is unspecified)."""
    a = g.pick("f")
    if a is None:
        return False
    nd = g.meta[a].ndim
    d = g.dim(nd) if nd else g.choice([0, -1])
    import torch
    t = g.env[a].detach()
    if nd:
        s = t.sort(d).values.diff(dim=d) if t.shape[d] > 1 else torch.ones(1)
        if s.numel() and float(s.abs().min()) < 1e-6 * max(1.0, float(t.abs().max())):
            return False
    n = t.shape[d] if nd else 1
    k = int(g.r.integers(1, max(n, 1) + 1)) if g.coin(0.95) else n + 1
    keep = ", keepdim=True" if g.coin(0.3) else ""
    part = g.choice([".values", "[0]", ".indices", "[1]", ""])
    code = g.choice([f"m.kthvalue({a}, {k}, {d}{keep}){part}", f"{a}.kthvalue({k}, dim={d}{keep}){part}"])
    if not part:
        code = f"m.kthvalue({a}, {k}{', ' + str(d) if nd else ''})[0]"
    return g.propose("kthvalue", code, (a,))


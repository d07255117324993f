"""Op proposals for the fuzzer: each picks inputs and arguments and calls ``g.propose``.

They cover the op registry (tests/op_specs.py) family by family — elementwise with scalars (Python
and NumPy) and broadcasting partners, reductions with every dim form, views and shape ops, every
legal index-tensor shape for gather/scatter/index ops, in-place ops (on fresh copies, on values
other ops saved, on views and leaves), matmul, and the nn functional ops and losses. A proposal
needs no shape rule: PyTorch runs it first and a rejected one is dropped (see generate.py).
"""

from __future__ import annotations

import numpy as np

from .program import int_const

ANY, POS, NONZERO, UNIT, SMALL, PROB, STEP, DISTINCT, KINK = "any", "pos", "nonzero", "unit", "small", "prob", \
    "step", "distinct", "kink"


def domain(kind: str):
    return {
        ANY: None,
        POS: lambda mt: mt.lo > 0.3,
        NONZERO: lambda mt: mt.absmin > 0.3,
        UNIT: lambda mt: -0.9 < mt.lo and mt.hi < 0.9,
        SMALL: lambda mt: -4 < mt.lo and mt.hi < 4,
        PROB: lambda mt: 0.01 < mt.lo and mt.hi < 0.99,
        # a step function (floor, round, sign …) of a value within rounding of its jump: the libraries'
        # last bits differ (e.g. a batch-normalised sum is ±1e-16 for 0), and so would the step
        STEP: lambda mt: mt.offgrid > 1e-9,
        # a selection (max, argmin, sort …) among computed values of which two are within rounding of each
        # other (or equal, where the other library's last bits may differ): which one wins is not defined
        DISTINCT: lambda mt: mt.tiegap > 1e-9,
        # a kink (relu, abs, clamp … at a multiple of 0.5, -0.3 or 0.4) of a computed value within rounding
        # of it (relu of an instance_norm equal to its running mean is 0 in one library, 1e-17 in the other):
        # the slope taken differs; a literal sits on the kink exactly in both (the op oracle checks those)
        KINK: lambda mt: mt.exact or mt.kinkgap > 1e-6,
    }[kind]


# name: (code with {a}, domain)
UNARY = {
    "neg": ("-{a}", ANY), "abs": ("{a}.abs()", KINK), "exp": ("m.exp({a})", SMALL), "log": ("m.log({a})", POS),
    "log1p": ("{a}.log1p()", UNIT), "expm1": ("m.expm1({a})", SMALL), "log2": ("m.log2({a})", POS),
    "sqrt": ("{a}.sqrt()", POS), "rsqrt": ("m.rsqrt({a})", POS), "sin": ("m.sin({a})", ANY),
    "cos": ("{a}.cos()", ANY), "tan": ("m.tan({a})", UNIT), "tanh": ("{a}.tanh()", ANY),
    "sigmoid": ("m.sigmoid({a})", ANY), "relu": ("{a}.relu()", KINK), "sign": ("m.sign({a})", STEP),
    "floor": ("{a}.floor()", STEP), "ceil": ("m.ceil({a})", STEP), "round": ("{a}.round()", STEP),
    "clamp": ("m.clamp({a}, -0.5, 0.5)", KINK), "clamp_min": ("{a}.clamp(min=-0.3)", KINK),
    "clamp_max": ("{a}.clamp(max=0.4)", KINK), "reciprocal": ("{a}.reciprocal()", NONZERO),
    "square": ("m.square({a})", ANY), "erf": ("m.erf({a})", ANY), "sinh": ("m.sinh({a})", SMALL),
    "cosh": ("m.cosh({a})", SMALL), "atan": ("m.atan({a})", ANY), "asin": ("m.asin({a})", UNIT),
    "acos": ("m.acos({a})", UNIT), "trunc": ("m.trunc({a})", STEP), "log10": ("m.log10({a})", POS),
    "gelu": ("F.gelu({a})", ANY), "gelu_tanh": ("F.gelu({a}, approximate='tanh')", ANY),
    "silu": ("F.silu({a})", ANY), "softplus": ("F.softplus({a})", ANY), "elu": ("F.elu({a})", SMALL),
    "leaky_relu": ("F.leaky_relu({a}, 0.1)", KINK), "logsigmoid": ("F.logsigmoid({a})", ANY),
    "hardtanh": ("F.hardtanh({a})", KINK), "relu_f": ("F.relu({a})", KINK),
    "dropout_eval": ("F.dropout({a}, 0.5, training=False)", ANY), "dropout_p0": ("F.dropout({a}, 0.0)", ANY),
    "clone": ("{a}.clone()", ANY), "detach": ("{a}.detach()", ANY), "contiguous": ("{a}.contiguous()", ANY),
}
UNARY_API = {"erf", "sinh", "cosh", "atan", "asin", "acos", "trunc", "log10", "square", "reciprocal"}

SCALARS = ["0.5", "-1.5", "2", "3", "np.float64(0.5)", "np.float32(2.0)", "np.int64(3)", "True"]
SCALAR_FORMS = [("{a} + {s}", ANY), ("{s} + {a}", ANY), ("{a} - {s}", ANY), ("{s} - {a}", ANY),
                ("{a} * {s}", ANY), ("{s} * {a}", ANY), ("{a} / {s}", ANY), ("{s} / {a}", NONZERO),
                ("{a} ** 2", ANY), ("{a} ** 3", SMALL), ("{a} ** 0", ANY), ("{a} ** 1", ANY),
                ("{a} ** -1", NONZERO), ("{a} ** 0.5", POS), ("{a} ** 1.5", POS), ("2.5 ** {a}", SMALL),
                ("{a} ** np.float64(2.0)", ANY), ("m.add({a}, {s}, alpha=2)", ANY)]
BINARY = [("{a} + {b}", ANY, ANY), ("{a} - {b}", ANY, ANY), ("{a} * {b}", ANY, ANY),
          ("{a} / {b}", ANY, NONZERO), ("{a} ** {b}", POS, SMALL), ("m.maximum({a}, {b})", ANY, ANY),
          ("m.minimum({a}, {b})", ANY, ANY), ("m.where({a} > {b}, {a}, {b})", ANY, ANY),
          ("m.add({a}, {b}, alpha=-0.5)", ANY, ANY), ("m.sub({a}, {b})", ANY, ANY),
          ("{a}.clamp(min={b})", ANY, ANY), ("m.atan2({a}, {b})", ANY, NONZERO)]
API = {"m.atan2": "atan2"}


def _has(g, code: str) -> bool:
    """Whether chainrule has the function ``code`` calls (other helpers add ops as we go)."""
    import chainrule as cr
    for prefix, mod in (("m.", cr), ("F.", cr.nn.functional)):
        if code.startswith(prefix):
            return hasattr(mod, code[2:].split("(")[0])
    if code.startswith(("{a}.", "{i}.")):
        return hasattr(cr.Tensor, code[4:].split("(")[0])
    return True


def unary(g) -> bool:
    name = g.choice(list(UNARY))
    code, dom = UNARY[name]
    if not _has(g, code):
        return False
    a = g.pick("f", domain(dom))
    return a is not None and g.propose(name, code.format(a=a), (a,))


def scalar(g) -> bool:
    code, dom = SCALAR_FORMS[g.r.integers(len(SCALAR_FORMS))]
    a = g.pick("f", domain(dom))
    if a is None:
        return False
    return g.propose("scalar", code.format(a=a, s=g.choice(SCALARS)), (a,))


def binary(g) -> bool:
    code, da, db = BINARY[g.r.integers(len(BINARY))]
    if not _has(g, code):
        return False
    a = g.pick("f", domain(da))
    if a is None:
        return False
    shape = g.broadcast_shape(g.shape_of(a))
    lo, hi = {ANY: (None, None), NONZERO: (0.5, 2.0), SMALL: (-2.0, 2.0)}[db]
    b = g.partner(shape, lo, hi)
    if g.coin(0.5):
        a, b = (b, a) if da == db else (a, b)
    if any(k in code for k in KINKED) and not (g.meta[a].exact and g.meta[b].exact) and _close(g, a, b):
        g.drop_pending()
        return False
    return g.propose("binary", code.format(a=a, b=b), (a, b))


KINKED = ("maximum", "minimum", "where", "clamp")   # binary ops with a kink where a = b


def _close(g, a: str, b: str, gap: float = 0.01) -> bool:
    """Whether computed ``a`` and ``b`` come within ``gap`` of each other somewhere: at a kink of max(a, b)
    the libraries' last bits pick the side, and differences (with steps of 1e-3) cannot decide."""
    x, y = g.env[a].detach(), g.env[b].detach()
    try:
        d = (x - y).abs()
    except RuntimeError:      # shapes that do not broadcast: torch rejects the proposal itself
        return False
    return bool(d.numel()) and float(d.min()) < gap


def _at_gap(g, a: str, b: str, gap: float, within: float = 1e-9) -> bool:
    """Whether |a - b| comes within ``within`` of ``gap`` somewhere (a loss's kink: l1 at 0, huber at delta)."""
    x, y = g.env[a].detach(), g.env[b].detach()
    try:
        d = ((x - y).abs() - gap).abs()
    except RuntimeError:      # shapes that do not broadcast: torch rejects the proposal itself
        return False
    return bool(d.numel()) and float(d.min()) < within


def compare(g) -> bool:
    a = g.pick("f")
    if a is None:
        return False
    b = g.partner(g.broadcast_shape(g.shape_of(a)))
    code = g.choice(["{a} > {b}", "{a} <= {b}", "{a} == {a}", "{a} != {b}", "m.logical_and({a} > 0, {b} < 0)",
                     "~({a} > {b})", "({a} > 0) | ({b} > 0)", "m.logical_not({a} > 0)", "{a}.isfinite()"])
    # computed values within rounding of each other (or of 0) compare as the libraries' last bits say (a
    # group_norm of one value is exactly 0 in one, 1e-17 in the other)
    if " {b}" in code and not (g.meta[a].exact and g.meta[b].exact) and _close(g, a, b, 1e-9) \
            or any(f"{{{v}}} > 0" in code or f"{{{v}}} < 0" in code for v, n in (("a", a), ("b", b))
                   if not g.meta[n].exact and _close_to_zero(g, n)):
        g.drop_pending()
        return False
    return g.propose("compare", code.format(a=a, b=b), (a, b))


def _close_to_zero(g, a: str, gap: float = 1e-9) -> bool:
    x = g.env[a].detach().abs()
    return bool(x.numel()) and float(x.min()) < gap


def to_float(g) -> bool:
    a = g.pick("b") if g.coin() else g.pick("i", lambda mt: True)
    if a is None:
        return False
    return g.propose("to_float", g.choice(["{a}.to(DT)", "{a}.float()", "{a}.double()", "{a} * 1.5",
                                           "m.where({a}, 1.0, -2.0)" if g.meta[a].kind == "b" else "{a} / 2"])
                     .format(a=a), (a,))


def integer(g) -> bool:
    """Integer arithmetic, including the division by zero that must raise ZeroDivisionError."""
    a = g.pick("i")
    if a is None:
        a = g.const(int_const(g.ints(7, g.shape(), -3)))
    k = g.choice(["2", "3", "-2", "0"] if g.coin(0.9) else ["0"])
    code = g.choice(["{a} // {k}", "{a} % {k}", "{a} + {k}", "{a} * {k}", "{a}.sum()", "{a}.max()"])
    return g.propose("integer", code.format(a=a, k=k), (a,))


# -- reductions --------------------------------------------------------------------------------------
def _dim_arg(g, ndim: int, multi: bool = True) -> str:
    roll = g.r.random()
    if roll < 0.2:
        return ""
    if multi and roll < 0.45:
        return repr(g.dims(ndim))
    return str(g.dim(ndim))


REDUCE = ["sum", "mean", "prod", "amax", "amin", "logsumexp", "norm", "var", "std", "max", "min",
          "softmax", "log_softmax", "cumsum", "argmax", "argmin"]


SELECT = {"amax", "amin", "max", "min", "argmax", "argmin", "norm"}   # norm: p = inf picks the largest


def reduce(g) -> bool:
    name = g.choice(REDUCE)
    a = g.pick("f", domain(SMALL) if name == "prod" else domain(DISTINCT) if name in SELECT else None)
    if a is None:
        return False
    nd = g.meta[a].ndim
    keep = ", keepdim=True" if g.coin(0.4) else ""
    d = _dim_arg(g, nd, multi=name in ("sum", "mean", "amax", "amin", "logsumexp", "var", "std", "norm"))
    if name in ("softmax", "log_softmax", "cumsum"):
        d, keep = d if d and not d.startswith("(") else str(g.dim(nd)), ""
        code = g.choice([f"{{a}}.{name}({d})", f"m.{name}({{a}}, {d})", f"m.{name}({{a}}, dim={d})"])
        if name != "cumsum" and g.coin(0.3):
            code = f"F.{name}({{a}}, dim={d})"
    elif name in ("max", "min") and d and not d.startswith("("):
        part = g.choice([".values", "[0]", ".indices", "[1]"])
        code = f"{{a}}.{name}({d}{keep}){part}"
    elif name in ("max", "min", "argmax", "argmin"):
        code = f"{{a}}.{name}()" if name in ("max", "min") else f"{{a}}.{name}({d}{keep if d else ''})"
    elif name == "logsumexp":
        code = f"m.logsumexp({{a}}, {d or tuple(range(nd))}{keep})"
    elif name == "norm":
        if _zero_slice(g, a, d):
            g.drop_pending()
            return False    # a slice of zeros: |x|'s kink, whose second derivative neither library can justify
        p = g.choice(["", "p=1, ", "p=3, ", "p=float('inf'), "])
        code = f"{{a}}.norm({p}dim={d or None}{keep})"
        if d.startswith("(") and len(eval(d)) > 2:
            return False
    elif name in ("var", "std"):
        if name == "std" and _equal_slice(g, a, d):
            return False
        corr = g.choice(["", "correction=0", "unbiased=False"])
        args = ", ".join(x for x in (d, corr) if x)
        code = f"{{a}}.{name}({args}{keep if d else ''})"
    else:
        code = f"{{a}}.{name}({d}{keep if d else ''})" if g.coin() else f"m.{name}({{a}}{', ' + d if d else ''}{keep if d else ''})"
    return g.propose(name, code.format(a=a), (a,))


def _zero_slice(g, a: str, d: str) -> bool:
    """Whether some slice that norm reduces is (nearly) all zeros."""
    x = g.env[a].detach()
    if not x.numel():
        return False
    dims = tuple(range(x.ndim)) if not d else eval(d)     # the fuzzer's own dim argument
    return bool((x.abs().amax(dim=dims) < 1e-3).any()) if x.ndim else float(x.abs()) < 1e-3


def _equal_slice(g, a: str, d: str) -> bool:
    """Whether some slice that std reduces holds equal values (within rounding): std is 0 there, a kink, and the
    libraries' last bits decide between 0 (its gradient masked) and 1e-16 (a gradient of size 1/n)."""
    x = g.env[a].detach()
    dims = tuple(range(x.ndim)) if not d else eval(d)     # the fuzzer's own dim argument
    dims = (dims,) if isinstance(dims, int) else dims
    if not x.ndim or not x.numel() or int(np.prod([x.shape[k] for k in dims])) <= 1:
        return False
    spread = x.amax(dim=dims) - x.amin(dim=dims)
    return bool((spread <= 1e-9 * max(1.0, float(x.abs().max()))).any()) or bool(spread.isnan().any())


# -- shapes and views -----------------------------------------------------------------------------
def _factor(g, n: int) -> tuple:
    if n == 0:
        return g.choice([(0,), (2, 0), (0, -1), (0, 3, 1)])
    dims = []
    rest = n
    while rest > 1 and len(dims) < 3:
        divs = [d for d in range(1, rest + 1) if rest % d == 0]
        d = g.choice(divs)
        dims.append(d)
        rest //= d
    dims.append(rest)
    if g.coin(0.3):
        dims.insert(int(g.r.integers(0, len(dims) + 1)), 1)
    if g.coin(0.3):
        dims[int(g.r.integers(len(dims)))] = -1
    return tuple(dims)


def shape_op(g) -> bool:
    a = g.pick("f")
    if a is None:
        return False
    shape = g.shape_of(a)
    nd = len(shape)
    name = g.choice(["reshape", "view", "flatten", "unflatten", "squeeze", "squeeze_dim", "unsqueeze", "permute",
                     "transpose", "t", "T", "mT", "expand", "broadcast_to", "repeat", "tile", "flip", "split",
                     "chunk", "unbind", "pad", "tril", "triu", "narrow", "movedim", "index_view"])
    if name in ("reshape", "view"):
        code = f"{{a}}.{name}{_factor(g, g.meta[a].numel)!r}"
    elif name == "flatten":
        code = "{a}.flatten()" if g.coin() or nd < 2 else f"m.flatten({{a}}, {g.dim(nd)}, -1)"
    elif name == "unflatten":
        d = g.dim(nd)
        code = f"{{a}}.unflatten({d}, {_factor(g, shape[d] if nd else 1)!r})"
    elif name == "squeeze":
        code = "{a}.squeeze()"
    elif name == "squeeze_dim":
        code = f"m.squeeze({{a}}, {g.dim(nd)})"
    elif name == "unsqueeze":
        code = f"{{a}}.unsqueeze({int(g.r.integers(-nd - 1, nd + 1))})"
    elif name == "permute":
        if nd == 0:               # torch requires dims; chainrule's permute() of a 0-d tensor is lenient
            return False
        code = f"{{a}}.permute{tuple(int(i) for i in g.r.permutation(nd))!r}" if nd != 1 else "{a}.permute(0)"
    elif name == "transpose":
        code = f"{{a}}.transpose({g.dim(nd)}, {g.dim(nd)})"
    elif name in ("t", "T", "mT"):
        code = {"t": "m.t({a})", "T": "{a}.T", "mT": "{a}.mT"}[name]
    elif name in ("expand", "broadcast_to"):
        target = tuple(g.choice([2, 3]) if d == 1 else d for d in shape)
        if g.coin(0.4):
            target = (g.choice([0, 1, 2]),) + target
        if name == "expand" and g.coin(0.3) and target:
            target = target[:1] + tuple(-1 for _ in target[1:])
        code = f"{{a}}.expand{target!r}" if name == "expand" else f"m.broadcast_to({{a}}, {target!r})"
    elif name in ("repeat", "tile"):
        reps = tuple(int(x) for x in g.r.integers(0 if g.coin(0.1) else 1, 3, nd + int(g.r.integers(0, 2))))
        code = f"{{a}}.repeat{reps!r}" if name == "repeat" else f"m.tile({{a}}, {reps!r})"
    elif name == "flip":
        code = f"{{a}}.flip{g.dims(nd)!r}"
    elif name in ("split", "chunk", "unbind"):
        d = g.dim(nd)
        k = int(g.r.integers(0, 2))        # piece k > 0 saved by a later op: fixed in autograd/function.py
        n = shape[d] if nd else 0
        step = g.choice([1, 2, 3])
        pieces = {"split": -(-n // step), "chunk": -(-n // max(1, -(-n // 2))), "unbind": n}[name]
        code = {"split": f"m.split({{a}}, {step}, {d})[{k}]", "chunk": f"{{a}}.chunk(2, {d})[{k}]",
                "unbind": f"{{a}}.unbind({d})[{k}]"}[name]
        if name == "split" and g.coin(0.3) and nd:
            first = int(g.r.integers(0, n + 1))
            code = f"{{a}}.split([{first}, {n - first}], {d})[{k}]"
            pieces = 2
        del pieces           # (a single piece used to break the engine; fixed in autograd/function.py)
    elif name == "pad":
        if not nd:
            return False
        pads = tuple(int(x) for x in g.r.integers(0, 3, 2 * int(g.r.integers(1, min(nd, 2) + 1))))
        code = f"F.pad({{a}}, {pads!r}, value={g.choice([0.0, 0.5])})"
    elif name in ("tril", "triu"):
        code = f"{{a}}.{name}({int(g.r.integers(-1, 2))})" if g.coin() else f"m.{name}({{a}})"
    elif name == "narrow":
        d = g.dim(nd)
        n = shape[d] if nd else 0
        start = int(g.r.integers(0, n + 1))
        code = f"{{a}}.narrow({d}, {start}, {int(g.r.integers(0, n - start + 1))})"
    elif name == "movedim":
        code = f"m.movedim({{a}}, {g.dim(nd)}, {g.dim(nd)})"
    else:
        code = "{a}" + _basic_index(g, shape)
    if not _has(g, code):
        return False
    return g.propose(name, code.format(a=a), (a,))


def _basic_index(g, shape: tuple) -> str:
    parts = []
    for n in shape[: int(g.r.integers(0, len(shape) + 1))]:
        roll = g.r.random()
        if roll < 0.3 and n:
            parts.append(str(int(g.r.integers(-n, n))))
        elif roll < 0.75:
            lo = int(g.r.integers(-n - 1, n + 1)) if g.coin() else ""
            step = g.choice(["", ":2", ":3"])
            parts.append(f"{lo}:{step}" if step else f"{lo}:")
        elif roll < 0.85:
            parts.append("None")
        else:
            parts.append(":")
    if g.coin(0.2):
        parts.insert(int(g.r.integers(0, len(parts) + 1)), "...")
    if g.coin(0.15):
        parts.append("None")
    return "[" + (", ".join(parts) if parts else "...") + "]"


def join(g) -> bool:
    """cat/stack of two or three values, with empty ones (including PyTorch's legacy 1-D (0,))."""
    a = g.pick("f")
    if a is None:
        return False
    shape = g.shape_of(a)
    nd = len(shape)
    stack = g.coin(0.3)
    d = int(g.r.integers(-nd - 1, nd + 1)) if stack else g.dim(nd)
    others = []
    for _ in range(int(g.r.integers(1, 3))):
        if g.coin(0.15):
            others.append(g.leaf((0,), grad=g.coin()))
            continue
        s = list(shape)
        if not stack and nd:
            s[d] = g.choice([0, 1, 2])
        others.append(g.partner(tuple(s)))
    parts = [a] + others
    order = list(g.r.permutation(len(parts)))
    items = ", ".join(parts[i] for i in order)
    fn = "stack" if stack else g.choice(["cat", "concat", "concatenate"])
    code = f"m.{fn}([{items}], {d})" if g.coin(0.7) else f"m.{fn}(({items},), dim={d})"
    return _has(g, code) and g.propose(fn, code, tuple(parts))

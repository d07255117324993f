"""Random DAG programs over chainrule's ops, built by running each candidate line in PyTorch.

The generator keeps a live PyTorch namespace: every statement it proposes is executed at once in
float64, so it knows each value's shape, dtype, range and ``requires_grad`` without a shape rule per
op; a proposal PyTorch rejects is dropped (or, rarely, kept as the program's last line, so the two
libraries must then both raise). Op proposals live in :mod:`fuzz.ops`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .program import Program, Stmt, float_leaf, literal

KEEP_ERROR = 0.04     # how often a proposal PyTorch rejects ends the program (error parity)

# Known, reported differences the generator steers around (so a campaign finds *new* classes); run
# ``python -m tests.fuzz --include-known`` to generate them too. Each names where the fix belongs.
KNOWN_OPEN = {
    "scatter_src_larger": "torch 2.13's ScatterBackward0 returns an index-shaped gradient for a larger src and "
                          "then rejects it (a torch bug, also in tests/op_specs.py; chainrule pads it)",
    "batch_norm_bias_only": "torch 2.13's batch_norm double backward with bias but no weight raises "
                            "'Expected a proper Tensor but got None' (a torch bug)",
    "group_norm_bias_only": "torch 2.13's group_norm with a bias but no weight raises 'tensor does not have a "
                            "device' in backward (a torch bug; chainrule differentiates it)",
    "multi_margin_loss_empty": "torch 2.13's multi_margin_loss of an empty batch with reduction 'mean'/'sum' "
                               "returns uninitialised memory (e.g. 6.9e-310; chainrule: nan for mean, 0 for sum)",
    "layer_norm_empty": "torch 2.13 raises in the double backward of layer_norm over an empty normalized "
                        "shape (a torch bug; chainrule returns empty gradients)",
    "circular_pad_wraps": "torch 2.13's F.pad(mode='circular') accepts widths that wrap around the part "
                          "left after cropping (or crop more than the input) and returns uninitialised memory "
                          "and wrong gradients; chainrule raises (tests/test_fuzz_classes_extra.py)",
    "reflect_pad3d_empty": "torch 2.13's reflection_pad3d backward leaves the input gradient uninitialised when "
                           "the padded output is empty (chainrule: zeros)",
    "embedding_bag_dim0_float32": "torch 2.13's float32 embedding_bag in sum/mean mode with embedding_dim 0 "
                                  "fails an internal assert ('Expected i < index_size'); float64 works",
    "embedding_bag_2d_no_columns": "torch 2.13's embedding_bag of a 2-D input with 0 columns raises 'step must be "
                                   "nonzero' (an internal arange); chainrule gives empty bags (zeros)",
    "hardsigmoid_float32_slope": "torch 2.13's hardsigmoid backward multiplies by 1/6 rounded to float32 (3e-8 "
                                 "relative): a float64 gradient that cancels exceeds the comparison's tolerance "
                                 "(chainrule's slope is exact; tests/test_nn_extra.py)",
    "pixel_unshuffle_empty": "torch 2.13's pixel_unshuffle returns an empty input unchanged (wrong shape), so "
                             "pixel_shuffle's backward of an empty input raises too (chainrule: the right shapes)",
}


@dataclass
class Meta:
    shape: tuple
    kind: str            # "f" float, "i" integer, "b" bool
    grad: bool
    lo: float = 0.0
    hi: float = 0.0
    absmin: float = 1.0
    view: bool = False
    leaf: bool = True
    offgrid: float = 0.5     # how far the values keep from a multiple of 0.5 (floor/round/sign jump there)
    tiegap: float = np.inf   # the smallest gap between two of the values (relative to max(1, |value|));
                             # inf for a literal, whose ties are exact in both libraries
    kinkgap: float = np.inf  # how far the values keep from the fuzzer's kinks (multiples of 0.5, -0.3, 0.4)
    exact: bool = False      # a literal: it sits on a kink (or ties) exactly in both libraries

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def numel(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))


def meta_of(t) -> Meta:
    import torch
    kind = "f" if t.is_floating_point() else ("b" if t.dtype == torch.bool else "i")
    m = Meta(tuple(t.shape), kind, bool(t.requires_grad), view=t._base is not None, leaf=t.is_leaf)
    if t.numel():
        a = t.detach().double()
        if not bool(a.isfinite().all()):
            m.lo, m.hi, m.absmin = -np.inf, np.inf, 0.0
        else:
            m.lo, m.hi, m.absmin = float(a.min()), float(a.max()), float(a.abs().min())
            m.offgrid = float((2 * a - (2 * a).round()).abs().min()) / 2
            m.kinkgap = min(m.offgrid, float((a + 0.3).abs().min()), float((a - 0.4).abs().min()))
            if a.numel() > 1:
                gaps = a.flatten().sort().values.diff()
                m.tiegap = float(gaps.min()) / max(1.0, float(a.abs().max()))
    return m


class Gen:
    """The state of one program being generated (rng, live torch namespace, statements)."""

    def __init__(self, seed: int, include_known: bool = False, fine: bool = False):
        import torch
        self.torch = torch
        self.r = np.random.default_rng(seed)
        self.seed = seed
        self.env = {"m": torch, "F": torch.nn.functional, "np": np, "DT": torch.float64}
        self.stmts: list[Stmt] = []
        self.pending: list[Stmt] = []
        self.meta: dict[str, Meta] = {}
        self.count = 0
        self.include_known = include_known
        self.decimals = 4 if fine else 2

    def avoid(self, known: str) -> bool:
        """Steer around a known, reported difference (see KNOWN_OPEN) unless asked to include them."""
        assert known in KNOWN_OPEN
        return not self.include_known

    # -- names and values -------------------------------------------------------------------------
    def fresh(self) -> str:
        self.count += 1
        return f"v{self.count - 1}"

    def names(self, kind: str = "f", pred=None) -> list[str]:
        out = []
        for n, mt in self.meta.items():
            if mt.kind != kind:
                continue
            if kind == "f" and not (-1e3 <= mt.lo and mt.hi <= 1e3):
                continue
            if pred is None or pred(mt):
                out.append(n)
        return out

    def pick(self, kind: str = "f", pred=None) -> str | None:
        names = self.names(kind, pred)
        if not names:
            return None
        # prefer recent values, so programs grow deep as well as wide
        w = np.arange(1, len(names) + 1, dtype=float) ** 1.5
        return names[self.r.choice(len(names), p=w / w.sum())]

    def shape_of(self, name: str) -> tuple:
        return self.meta[name].shape

    # -- random parts -----------------------------------------------------------------------------
    def coin(self, p: float = 0.5) -> bool:
        return bool(self.r.random() < p)

    def choice(self, seq):
        return seq[self.r.integers(len(seq))]

    def size(self) -> int:
        return int(self.r.choice([0, 1, 1, 2, 2, 3, 3, 4], p=[.06, .2, .0, .25, .0, .29, .0, .2]))

    def shape(self, ndim: int | None = None) -> tuple:
        if ndim is None:
            ndim = int(self.r.choice(5, p=[.12, .22, .3, .22, .14]))
        return tuple(self.size() for _ in range(ndim))

    def dim(self, ndim: int) -> int:
        n = max(ndim, 1)
        return int(self.r.integers(-n, n))

    def dims(self, ndim: int) -> tuple:
        k = int(self.r.integers(1, max(ndim, 1) + 1))
        picked = self.r.permutation(max(ndim, 1))[:k]
        return tuple(int(d) - (ndim if self.coin(0.3) and ndim else 0) for d in picked)

    def values(self, shape, lo=None, hi=None):
        if lo is not None:
            return np.round(self.r.uniform(lo, hi, shape), self.decimals)
        return np.round(self.r.standard_normal(shape), self.decimals)

    def ints(self, high: int, shape, low: int = 0):
        return self.r.integers(low, max(high, low + 1), shape)

    # -- statements -------------------------------------------------------------------------------
    def leaf(self, shape, lo=None, hi=None, grad: bool = True) -> str:
        """A new float leaf (pending until the statement that needs it is accepted)."""
        name = self.fresh()
        stmt = float_leaf(name, self.values(shape, lo, hi), grad)
        self._run(stmt)
        self.meta[name].tiegap = np.inf        # a literal: its ties are exact in both libraries
        self.meta[name].exact = True
        self.pending.append(stmt)
        return name

    def const(self, code: str, op: str = "const") -> str:
        """A new non-float constant (an index tensor or mask) defined by ``code``."""
        name = self.fresh()
        stmt = Stmt(f"{name} = {code}", name, (), op=op)
        self._run(stmt)
        self.pending.append(stmt)
        return name

    def derived(self, code: str, uses: tuple) -> str:
        """A new pending value ``code`` (e.g. a fresh copy to mutate)."""
        name = self.fresh()
        stmt = Stmt(f"{name} = {code}", name, uses, op="copy")
        self._run(stmt)
        self.pending.append(stmt)
        return name

    def partner(self, shape: tuple, lo=None, hi=None) -> str:
        """A float value of exactly ``shape``: an existing one or a new leaf."""
        same = self.names("f", lambda mt: mt.shape == shape and (lo is None or (lo <= mt.lo and mt.hi <= hi)))
        if same and self.coin(0.4):
            return self.choice(same)
        return self.leaf(shape, lo, hi, grad=self.coin(0.85))

    def broadcast_shape(self, shape: tuple) -> tuple:
        """A shape that broadcasts with ``shape`` (same, fewer/more dims, some dims 1, or 0-d)."""
        s = list(shape)
        roll = self.r.random()
        if roll < 0.3:
            return tuple(s)
        if roll < 0.4:
            return ()
        if roll < 0.6 and s:
            return tuple(s[int(self.r.integers(0, len(s) + 1)):])
        if roll < 0.8:
            return tuple(1 if self.coin(0.4) else d for d in s)
        return (self.choice([1, 2]),) + tuple(s)

    def drop_pending(self):
        for p in self.pending:
            self.env.pop(p.defines, None)
            self.meta.pop(p.defines, None)
        self.pending = []

    def _run(self, stmt: Stmt):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(stmt.code, self.env)  # noqa: S102 - the fuzzer runs the programs it writes
        for name in self._touched(stmt):
            self.meta[name] = meta_of(self.env[name])

    def _touched(self, stmt: Stmt) -> list[str]:
        if stmt.defines:
            return [stmt.defines]
        return [n for n in self.meta if n in self.env]     # a mutation may reach through views

    def propose(self, op: str, code: str, uses: tuple, define: bool = True) -> bool:
        """Try one statement (an expression, or a mutating line when ``define`` is False); keep it
        if PyTorch accepts it."""
        name = self.fresh() if define else None
        if "{out}" in code:
            text = code.replace("{out}", name)
        else:
            text = f"{name} = {code}" if define else code
        stmt = Stmt(text, name, tuple(dict.fromkeys(uses)), op=op)
        try:
            self._run(stmt)
        except Exception as e:  # noqa: BLE001 - PyTorch rejected the proposal
            if self.coin(KEEP_ERROR):
                self.stmts += self.pending + [stmt]
                self.pending = []
                self.error = f"{type(e).__name__}: {e}"
                return True
            self.drop_pending()
            return False
        self.stmts += self.pending + [stmt]
        self.pending = []
        return True

# ops torch 2.13 cannot differentiate twice: a second-order run is decided by central differences, which
# cannot decide at a tie or kink of the literals (0.15 twice in one column of pdist's input): programs with
# them get literals with 4 decimals, so such a coincidence is a hundred times rarer
NO_TORCH_SECOND = {"pdist", "embedding_bag", "multi_margin_loss"}


def generate(seed: int, n_ops: int | None = None, include_known: bool = False, fine: bool = False) -> Program:
    """The random program for ``seed`` (5-30 op statements unless ``n_ops`` says otherwise)."""
    program = _generate(seed, n_ops, include_known, fine)
    if not fine and any(s.op in NO_TORCH_SECOND for s in program.stmts):
        return _generate(seed, n_ops, include_known, fine=True)
    return program


def _generate(seed: int, n_ops: int | None, include_known: bool, fine: bool) -> Program:
    from .table import OPS, WEIGHTS
    g = Gen(seed, include_known, fine)
    g.error = None
    if n_ops is None:
        n_ops = int(g.r.integers(5, 31))
    for _ in range(int(g.r.integers(1, 4))):
        g.stmts.append(float_leaf(name := g.fresh(), g.values(g.shape()), True))
        g._run(g.stmts[-1])
        g.meta[name].tiegap = np.inf
        g.meta[name].exact = True
        del name
    ops = 0
    attempts = 0
    names = list(OPS)
    p = np.array([WEIGHTS.get(n, 1.0) for n in names])
    p = p / p.sum()
    while ops < n_ops and attempts < 20 * n_ops and g.error is None:
        attempts += 1
        name = names[g.r.choice(len(names), p=p)]
        try:
            accepted = OPS[name](g)
        except Exception:  # noqa: BLE001 - a proposal that could not even be formed (e.g. an index
            accepted = False  # out of range while choosing arguments) is dropped like a rejected one
            g.drop_pending()
        ops += bool(accepted)
    return finish(g)


def finish(g: Gen) -> Program:
    """Choose the loss terms and second-order weights for the generated statements."""
    used = set()
    for s in g.stmts:
        used.update(s.uses)
    floats = [n for n, mt in g.meta.items() if mt.kind == "f" and mt.grad and n in g.env
              and all(np.isfinite([mt.lo, mt.hi]))]
    sinks = [n for n in floats if n not in used]
    others = [n for n in floats if n in used and g.coin(0.3)]
    loss = tuple((n, literal(g.values(g.meta[n].shape))) for n in sinks + others)
    second = tuple((n, literal(g.values(g.meta[n].shape))) for n in (s.defines for s in g.stmts if s.leaf))
    notes = {"torch_error": g.error} if g.error else {}
    return Program(tuple(g.stmts), loss, second, g.seed, notes)

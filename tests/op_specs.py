"""The op registry: one row per op, run identically in chainrule and in PyTorch (the oracle).

A row says how to apply the op given a module ``m`` (``chainrule`` or ``torch``) and its inputs,
which input shapes to try (broadcasting pairs, size-1 and size-0 dims), where the inputs may live
(``domain``) and which inputs are differentiable. ``tests/test_ops_oracle.py`` turns every row into
forward, backward, double-backward and numerical-gradient checks — the early-tinygrad one-line op
test, generated for every shape as Chainer does.

Domains (see ``make_inputs``):
  real      standard normal
  positive  uniform in [0.5, 2]  (log, sqrt, rsqrt, pow with a real exponent, division)
  unit      uniform in [-0.9, 0.9]  (tan, log1p stay far from their poles)
  distinct  shuffled values 0.3·j + 0.075 + 0.1·k for input k: ≥ 0.1 apart within and across inputs
            and ≥ 0.025 from every multiple of ½, so no ties and no kinks (abs, relu, sign, floor,
            round, max, clamp bounds ±0.5)
  fixed     the row's ``values`` are used as given (tie and stability rows)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chainrule.backend import xp

UNARY = (((),), ((5,),), ((2, 3),), ((2, 1, 3),), ((0, 3),))
BINARY = (((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3)), ((2, 3), ()),
          ((4, 1, 3), (2, 1)), ((0, 3), (1, 3)))
MATRIX = (((3, 4),), ((2, 3, 4),), ((1, 4),))       # at least 2-D
ND = (((2, 3, 4),), ((2, 1, 4),), ((2, 0, 4),))      # 3-D, with size-1 and size-0 dims


@dataclass(frozen=True)
class Spec:
    name: str
    fn: Callable                       # fn(m, *inputs, *aux) -> Tensor or a sequence of Tensors
    shapes: tuple = UNARY              # cases; each case is a tuple of input shapes
    domain: str = "real"
    grads: tuple | None = None         # per input: differentiable? (None: all)
    torch_fn: Callable | None = None   # when PyTorch spells it differently
    family: str = "misc"               # "unary"/"binary" rows also get hypothesis-drawn shapes
    aux: Callable | None = None        # aux(rng, shapes) -> extra non-float inputs (indices, masks)
    values: tuple | None = None        # fixed inputs (domain "fixed")
    numeric: bool = True               # central differences are valid (no kink/tie at the inputs)
    name_differs: str = ""             # why chainrule's grad_fn name deliberately differs from torch's
    double: str = ""                   # why double backward is not compared with torch (when it isn't)
    torch_raises: str = ""             # a PyTorch bug for this row: torch must raise, chainrule is
                                       # then checked by central differences only

    def apply(self, m, *args):
        fn = self.torch_fn if (self.torch_fn is not None and m.__name__ == "torch") else self.fn
        return fn(m, *args)


def make_inputs(spec: Spec, shapes: tuple, rng) -> list:
    """Float64 arrays for one case of ``spec``, drawn from its domain."""
    if spec.domain == "fixed":
        return [xp.array(v, dtype=xp.float64) for v in spec.values]
    out = []
    for k, shape in enumerate(shapes):
        if spec.domain == "positive":
            a = rng.uniform(0.5, 2.0, shape)
        elif spec.domain == "unit":
            a = rng.uniform(-0.9, 0.9, shape)
        elif spec.domain == "distinct":
            n = int(xp.prod(shape, dtype=xp.int64))
            a = ((rng.permutation(n) - n // 2) * 0.3 + 0.075 + 0.1 * k).reshape(shape)
        else:
            a = rng.standard_normal(shape)
        out.append(xp.asarray(a, dtype=xp.float64))
    return out


def _index(high: int, shape: tuple):
    return lambda rng, shapes: [rng.integers(0, high, shape)]


def _mask(rng, shapes):
    return [rng.random(shapes[0]) < 0.5]


def _pad(m, x):
    return m.pad(x, (1, 2, 0, 1), value=0.5)


def _torch_pad(m, x):
    return m.nn.functional.pad(x, (1, 2, 0, 1), value=0.5)


def _setitem(m, x, v):
    y = x * 1.0                     # a non-leaf copy, so writing into it is allowed with grad
    y[1, 1:3] = v
    return y


def _inplace_through_view(m, x, v):
    y = x * 1.0
    y[1:, ::2].mul_(v)              # changes y through a view: CopySlices on y
    return y


def _inplace_through_transpose(m, x, v):
    y = x * 1.0
    y.t().add_(v * v)
    return y


def _view_after_inplace(m, x, v):
    y = x * 1.0
    row = y[0]
    row.mul_(v)                     # the view now reads from the new y (AsStridedBackward0)
    return row * y


def _setitem_mask(m, x, v, mask):
    y = x * 1.0
    y[mask] = v.sum()
    return y


ELEMENTWISE = [
    Spec("add", lambda m, x, y: x + y, BINARY, family="binary"),
    Spec("add_alpha", lambda m, x, y: m.add(x, y, alpha=2.5), BINARY[:3]),
    Spec("sub", lambda m, x, y: x - y, BINARY, family="binary"),
    Spec("mul", lambda m, x, y: x * y, BINARY, family="binary"),
    Spec("div", lambda m, x, y: x / y, BINARY, "positive", family="binary"),
    Spec("pow_tensor", lambda m, x, y: x ** y, BINARY, "positive", family="binary"),
    Spec("add_scalar", lambda m, x: x + 2.5, family="unary"),
    Spec("radd_scalar", lambda m, x: 2 + x, family="unary"),
    Spec("sub_scalar", lambda m, x: x - 1.5, family="unary"),
    Spec("rsub_scalar", lambda m, x: 1.5 - x, family="unary"),
    Spec("mul_scalar", lambda m, x: x * -3, family="unary"),
    Spec("rmul_scalar", lambda m, x: 0.5 * x, family="unary"),
    Spec("div_scalar", lambda m, x: x / 4.0, family="unary"),
    Spec("rdiv_scalar", lambda m, x: 3.0 / x, domain="positive", family="unary"),
    Spec("reciprocal", lambda m, x: x.reciprocal(), domain="positive", family="unary"),
    Spec("pow_2", lambda m, x: x ** 2, family="unary"),
    Spec("pow_3", lambda m, x: x ** 3, family="unary"),
    Spec("pow_0", lambda m, x: x ** 0, family="unary"),
    Spec("pow_1", lambda m, x: x ** 1, family="unary"),
    Spec("pow_half", lambda m, x: x ** 0.5, domain="positive", family="unary"),
    Spec("pow_neg", lambda m, x: x ** -1.5, domain="positive", family="unary"),
    Spec("pow_neg1", lambda m, x: x ** -1, domain="positive", family="unary"),
    Spec("pow_neg_half", lambda m, x: m.pow(x, -0.5), domain="positive", family="unary"),
    Spec("pow_neg2", lambda m, x: x ** -2.0, domain="positive", family="unary"),
    Spec("pow_3_float", lambda m, x: m.pow(x, 3.0), family="unary"),
    Spec("rpow_scalar", lambda m, x: 2.5 ** x, family="unary"),
    Spec("neg", lambda m, x: -x, family="unary"),
    Spec("abs", lambda m, x: x.abs(), domain="distinct", family="unary"),
    Spec("exp", lambda m, x: m.exp(x), family="unary"),
    Spec("log", lambda m, x: m.log(x), domain="positive", family="unary"),
    Spec("log1p", lambda m, x: m.log1p(x), domain="unit", family="unary"),
    Spec("expm1", lambda m, x: m.expm1(x), family="unary"),
    Spec("log2", lambda m, x: m.log2(x), domain="positive", family="unary"),
    Spec("sqrt", lambda m, x: m.sqrt(x), domain="positive", family="unary"),
    Spec("rsqrt", lambda m, x: m.rsqrt(x), domain="positive", family="unary"),
    Spec("sin", lambda m, x: m.sin(x), family="unary"),
    Spec("cos", lambda m, x: m.cos(x), family="unary"),
    Spec("tan", lambda m, x: m.tan(x), domain="unit", family="unary"),
    Spec("tanh", lambda m, x: m.tanh(x), family="unary"),
    Spec("sigmoid", lambda m, x: m.sigmoid(x), family="unary"),
    Spec("relu", lambda m, x: m.relu(x), domain="distinct", family="unary"),
    Spec("sign", lambda m, x: m.sign(x), domain="distinct", family="unary"),
    Spec("floor", lambda m, x: m.floor(x), domain="distinct", family="unary"),
    Spec("ceil", lambda m, x: m.ceil(x), domain="distinct", family="unary"),
    Spec("round", lambda m, x: m.round(x), domain="distinct", family="unary"),
    Spec("clamp", lambda m, x: m.clamp(x, -0.5, 0.5), domain="distinct", family="unary"),
    Spec("clamp_min", lambda m, x: x.clamp(min=-0.5), domain="distinct", family="unary"),
    Spec("clamp_max", lambda m, x: x.clamp(max=0.5), domain="distinct", family="unary"),
    Spec("clip", lambda m, x: m.clip(x, -0.5, 0.5), domain="distinct", family="unary"),
    Spec("clamp_tensor", lambda m, x, lo: x.clamp(min=lo), BINARY[:3], "distinct",
         name_differs="chainrule composes tensor bounds from maximum/minimum (MaximumBackward0)"),
    Spec("maximum", lambda m, x, y: m.maximum(x, y), BINARY, "distinct", family="binary"),
    Spec("minimum", lambda m, x, y: m.minimum(x, y), BINARY, "distinct", family="binary"),
    Spec("where", lambda m, x, y, c: m.where(c, x, y), BINARY[:5], aux=_mask),
    Spec("where_scalar", lambda m, x, c: m.where(c, x, 0.5), aux=_mask),
]

# Comparisons and logic: forward only; their outputs never require grad.
COMPARISONS = [
    Spec(name, fn, BINARY, "distinct", family="binary") for name, fn in [
        ("eq", lambda m, x, y: x == y), ("ne", lambda m, x, y: x != y), ("lt", lambda m, x, y: x < y),
        ("le", lambda m, x, y: x <= y), ("gt", lambda m, x, y: x > y), ("ge", lambda m, x, y: x >= y),
        ("logical_and", lambda m, x, y: m.logical_and(x > 0, y > 0)),
        ("logical_or", lambda m, x, y: m.logical_or(x > 0, y > 0)),
        ("logical_xor", lambda m, x, y: m.logical_xor(x > 0, y > 0)),
        ("logical_not", lambda m, x, y: m.logical_not(x > y)),
        ("and_or_invert", lambda m, x, y: ~((x > 0) & (y < 0)) | (x > y)),
    ]
]

MATMUL = [
    Spec("matmul", lambda m, x, y: x @ y,
         (((3,), (3,)), ((2, 3), (3, 4)), ((3,), (3, 4)), ((2, 3), (3,)), ((5, 2, 3), (5, 3, 4)),
          ((5, 2, 3), (3, 4)), ((2, 3, 2, 3), (3, 4)), ((2, 1, 2, 3), (5, 3, 4)), ((3,), (5, 3, 4)), ((5, 2, 3), (3,)),
          ((0, 3), (3, 2)), ((2, 0), (0, 3))),
         name_differs="torch records batched/1-D-by-matrix matmul through its internal reshapes "
                      "(UnsafeViewBackward0, SqueezeBackward4); chainrule records one matmul node"),
    Spec("matmul_fn", lambda m, x, y: m.matmul(x, y), (((2, 3), (3, 4)),)),
    Spec("mm", lambda m, x, y: m.mm(x, y), (((2, 3), (3, 4)), ((1, 1), (1, 5)))),
    Spec("bmm", lambda m, x, y: m.bmm(x, y), (((5, 2, 3), (5, 3, 4)),)),
    Spec("mv", lambda m, x, y: m.mv(x, y), (((2, 3), (3,)),)),
    Spec("dot", lambda m, x, y: m.dot(x, y), (((3,), (3,)),)),
    Spec("outer", lambda m, x, y: m.outer(x, y), (((3,), (4,)),)),
    Spec("inner", lambda m, x, y: m.inner(x, y),
         (((3,), (3,)), ((2, 3, 4), (5, 4)), ((4,), (2, 4)), ((2, 4), (3, 1, 4)), ((), (2, 3)), ((0, 3), (2, 3)))),
]

REDUCE = [
    Spec("sum", lambda m, x: x.sum(), ND + UNARY),
    Spec("sum_dim", lambda m, x: x.sum(1), ND),
    Spec("sum_dims_keepdim", lambda m, x: m.sum(x, (0, -1), keepdim=True), ND),
    Spec("mean", lambda m, x: x.mean(), ND[:2] + UNARY[:4]),
    Spec("mean_dim", lambda m, x: x.mean(-1, keepdim=True), ND),
    Spec("var", lambda m, x: x.var(), ND[:2] + UNARY[1:4]),
    Spec("var_dim", lambda m, x: m.var(x, 2, keepdim=True), ND[:2]),
    Spec("var_correction0", lambda m, x: x.var((0, 1), correction=0), ND[:2]),
    Spec("std", lambda m, x: x.std(), ND[:2] + UNARY[1:4]),
    Spec("std_dim", lambda m, x: x.std(0), ND[:2]),
    Spec("prod", lambda m, x: x.prod(), UNARY[:4], "positive"),
    Spec("prod_dim", lambda m, x: m.prod(x, 1, keepdim=True), ND, "positive"),
    Spec("max", lambda m, x: x.max(), UNARY[:4], "distinct"),
    Spec("max_dim", lambda m, x: x.max(1), ND[:2], "distinct"),
    Spec("max_dim_keepdim", lambda m, x: m.max(x, -1, keepdim=True), ND[:2], "distinct"),
    Spec("min", lambda m, x: x.min(), UNARY[:4], "distinct"),
    Spec("min_dim", lambda m, x: x.min(0), ND[:2], "distinct"),
    Spec("amax", lambda m, x: m.amax(x, (0, 2)), ND[:2], "distinct"),
    Spec("amin", lambda m, x: x.amin(1, keepdim=True), ND[:2], "distinct"),
    Spec("argmax", lambda m, x: (x.argmax(), x.argmax(1), x.argmax(-1, keepdim=True)), ND[:2], "distinct"),
    Spec("argmin", lambda m, x: (x.argmin(), m.argmin(x, 0)), ND[:2], "distinct"),
    Spec("logsumexp", lambda m, x: m.logsumexp(x, 1), ND),
    Spec("logsumexp_dims", lambda m, x: x.logsumexp((0, 2), keepdim=True), ND),
    Spec("norm", lambda m, x: x.norm(), ND[:2] + UNARY[1:4]),
    Spec("norm_dim", lambda m, x: m.norm(x, dim=1, keepdim=True), ND),
    Spec("norm_p1", lambda m, x: x.norm(p=1, dim=-1), ND[:2], "distinct"),
    Spec("norm_p3", lambda m, x: x.norm(p=3), ND[:2], "distinct"),
    Spec("norm_inf", lambda m, x: x.norm(p=float("inf"), dim=0), ND[:2], "distinct"),
    Spec("norm_minus_inf", lambda m, x: x.norm(p=float("-inf"), dim=-1), ND[:2], "distinct"),
    Spec("norm_minus_1", lambda m, x: m.linalg.vector_norm(x, -1, dim=0), ND[:2], "distinct"),
    Spec("cumsum", lambda m, x: m.cumsum(x, 1), ND),
    Spec("cumsum_last", lambda m, x: x.cumsum(-1), ND + UNARY[1:3]),
    Spec("softmax", lambda m, x: m.softmax(x, 1), ND),
    Spec("softmax_last", lambda m, x: x.softmax(-1), UNARY[1:4]),
    Spec("log_softmax", lambda m, x: m.log_softmax(x, -1), ND),
    Spec("log_softmax_dim0", lambda m, x: x.log_softmax(0), UNARY[1:4]),
]

SHAPE = [
    Spec("reshape", lambda m, x: x.reshape(4, -1), ND[:2]),
    Spec("reshape_fn", lambda m, x: m.reshape(x, (-1,)), ND + UNARY),
    Spec("view", lambda m, x: x.view(2, 2, -1), ND[:2]),
    Spec("flatten", lambda m, x: x.flatten(), ND),
    Spec("flatten_range", lambda m, x: m.flatten(x, 1, 2), ND),
    Spec("unflatten", lambda m, x: x.unflatten(2, (2, 2)), ND),
    Spec("squeeze", lambda m, x: x.squeeze(), ND[1:2] + (((1, 3, 1),),)),
    Spec("squeeze_dim", lambda m, x: m.squeeze(x, 1), ND),
    Spec("unsqueeze", lambda m, x: x.unsqueeze(-1), ND + UNARY),
    Spec("permute", lambda m, x: x.permute(2, 0, 1), ND),
    Spec("permute_fn", lambda m, x: m.permute(x, (1, 2, 0)), ND[:1]),
    Spec("transpose", lambda m, x: x.transpose(0, -1), ND),
    Spec("t", lambda m, x: m.t(x), (((3, 4),), ((5,),))),
    Spec("T", lambda m, x: x.T, (((3, 4),),)),
    Spec("expand", lambda m, x: x.expand(2, 3, 4), (((3, 1),), ((1,),), ((),))),
    Spec("expand_keep", lambda m, x: x.expand(2, -1, 4), (((3, 1),), ((2, 3, 1),))),
    Spec("broadcast_to", lambda m, x: m.broadcast_to(x, (2, 3, 4)), (((3, 1),), ((4,),), ((1, 3, 4),))),
    Spec("repeat", lambda m, x: x.repeat(2, 1, 3), (((2, 3),), ((3,),), ((2, 0),))),
    Spec("tile", lambda m, x: m.tile(x, (2, 2)), (((2, 3),), ((3,),), ((2, 1, 3),))),
    Spec("flip", lambda m, x: x.flip(0, 2), ND),
    Spec("cat", lambda m, x, y: m.cat([x, y], 1), (((2, 3, 4), (2, 1, 4)), ((2, 0, 4), (2, 2, 4)))),
    Spec("cat_three", lambda m, x, y, z: m.cat((x, y, z), -1), (((2, 3), (2, 1), (2, 2)),)),
    Spec("cat_empty", lambda m, x, y: m.cat([x, y]), (((0,), (3,)),)),
    Spec("stack", lambda m, x, y: m.stack([x, y], 1), (((2, 3), (2, 3)), ((0, 2), (0, 2)))),
    Spec("stack_scalars", lambda m, x, y, z: m.stack((x, y, z)), (((), (), ()),)),
    Spec("split", lambda m, x: m.split(x, 2, 1), ND[:2]),
    Spec("split_sizes", lambda m, x: x.split([1, 3], -1), ND),
    Spec("chunk", lambda m, x: x.chunk(2, 2), ND),
    Spec("unbind", lambda m, x: x.unbind(1), ND[:2]),
    Spec("pad", _pad, MATRIX, torch_fn=_torch_pad),
    Spec("tril", lambda m, x: m.tril(x), MATRIX),
    Spec("triu", lambda m, x: x.triu(1), MATRIX),
    Spec("tril_neg", lambda m, x: x.tril(-1), MATRIX),
]

SETITEM = "torch records x[i] = v as CopySlices; chainrule as an out-of-place IndexPutBackward0 node"
INDEXING = [
    Spec("index_int", lambda m, x: x[1], ND[:2]),
    Spec("index_ints", lambda m, x: x[1, 0, -1], ND[:2]),
    Spec("index_slice", lambda m, x: x[:, 1:, ::2], ND),
    Spec("index_neg_slice", lambda m, x: x[-1:, :-1], ND),
    Spec("index_none", lambda m, x: x[None, :, None], ND),
    Spec("index_ellipsis", lambda m, x: x[..., 1], ND),
    Spec("index_ellipsis_none", lambda m, x: x[0, ..., None], ND),
    Spec("index_bool_mask", lambda m, x, mask: x[mask], ND, aux=_mask),
    Spec("index_int_array", lambda m, x, i: x[i], ND[:2], aux=_index(2, (5,))),
    Spec("index_repeated", lambda m, x: x[m.tensor([0, 0, 1, 0])], ND[:2]),
    Spec("index_two_arrays", lambda m, x: x[m.tensor([0, 1, 1]), :, m.tensor([3, 3, 0])], ND[:2]),
    Spec("index_mixed", lambda m, x: x[1:, m.tensor([0, 0])], ND[:2]),
    Spec("gather", lambda m, x, i: m.gather(x, 1, i), (((3, 4),),), aux=_index(4, (3, 6))),
    Spec("gather_dim0", lambda m, x, i: x.gather(0, i), (((3, 4),),), aux=_index(3, (2, 4))),
    Spec("scatter", lambda m, x, src: x.scatter(1, m.tensor([[0, 2], [1, 3], [3, 0]]), src),
         (((3, 4), (3, 2)),)),
    Spec("scatter_src_larger", lambda m, x, src: x.scatter(1, m.tensor([[0, 2], [1, 3], [3, 0]]), src),
         (((3, 4), (3, 3)),), torch_raises="torch 2.13's ScatterBackward0 returns a (3, 2) gradient for a "
                                           "(3, 3) src and then rejects it"),
    Spec("scatter_value", lambda m, x: x.scatter(0, m.tensor([[2, 0, 1, 2]]), 0.25), (((3, 4),),)),
    Spec("scatter_add", lambda m, x, src: x.scatter_add(1, m.tensor([[0, 0], [1, 3], [3, 3]]), src),
         (((3, 4), (3, 2)),), name_differs="chainrule's scatter_add is x + scatter_add(zeros) (AddBackward0)"),
    Spec("index_select", lambda m, x, i: m.index_select(x, 1, i), (((2, 3, 4),), ((3, 2),)), aux=_index(2, (5,))),
    Spec("masked_fill", lambda m, x, mask: x.masked_fill(mask, -1.5), ND, aux=_mask),
    Spec("masked_fill_broadcast", lambda m, x: m.masked_fill(x, m.tensor([True, False, True, False]), 2.0),
         ND),
    Spec("setitem", _setitem, (((3, 4), (2,)), ((2, 4), ())), name_differs=SETITEM),
    Spec("setitem_mask", _setitem_mask, (((3, 4), (2,)),), aux=_mask, name_differs=SETITEM),
    Spec("inplace_through_view", _inplace_through_view, (((3, 4), (2, 2)), ((3, 4), (2, 1)), ((3, 2), ()))),
    Spec("inplace_through_transpose", _inplace_through_transpose, (((3, 4), (4, 3)), ((2, 2), (1,)))),
    Spec("view_after_inplace", _view_after_inplace, (((3, 4), (4,)), ((2, 3), ()))),
]

# Kinks and ties: these rows check PyTorch's choice of (sub)gradient, so no numerical check.
TIES = [
    Spec("relu_at_0", lambda m, x: x.relu(), domain="fixed", values=([-1.0, 0.0, 2.0],), numeric=False),
    Spec("abs_at_0", lambda m, x: x.abs(), domain="fixed", values=([-1.0, 0.0, 2.0],), numeric=False),
    # the ELU family at 0: first derivative from the left, second derivative 0 (PyTorch's mask x < 0)
    Spec("elu_at_0", lambda m, x: m.nn.functional.elu(x, 1.3), domain="fixed", values=([-1.0, 0.0, 2.0],),
         numeric=False),
    Spec("selu_at_0", lambda m, x: m.nn.functional.selu(x), domain="fixed", values=([-1.0, 0.0, 2.0],),
         numeric=False),
    Spec("celu_at_0", lambda m, x: m.nn.functional.celu(x, 0.5), domain="fixed", values=([-1.0, 0.0, 2.0],),
         numeric=False),
    Spec("hardswish_at_kinks", lambda m, x: m.nn.functional.hardswish(x), domain="fixed",
         values=([-5.0, -3.0, -1.0, 0.0, 3.0, 5.0],), numeric=False),
    Spec("max_ties", lambda m, x: x.max(), domain="fixed", values=([[1.0, 3.0, 3.0], [3.0, 2.0, 0.0]],),
         numeric=False),
    Spec("min_ties", lambda m, x: x.min(), domain="fixed", values=([[1.0, 0.0, 3.0], [0.0, 2.0, 0.0]],),
         numeric=False),
    Spec("amax_ties", lambda m, x: x.amax(1), domain="fixed", values=([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]],),
         numeric=False),
    Spec("amin_ties", lambda m, x: x.amin(0), domain="fixed", values=([[1.0, 3.0, 2.0], [1.0, 2.0, 2.0]],),
         numeric=False),
    Spec("maximum_ties", lambda m, x, y: m.maximum(x, y), domain="fixed",
         values=([1.0, 2.0, 3.0], [1.0, 5.0, 3.0]), numeric=False),
    Spec("minimum_ties", lambda m, x, y: m.minimum(x, y), domain="fixed",
         values=([1.0, 2.0, 3.0], [1.0, 5.0, 3.0]), numeric=False),
    Spec("clamp_at_bounds", lambda m, x: x.clamp(-0.5, 0.5), domain="fixed",
         values=([-1.0, -0.5, 0.0, 0.5, 1.0],), numeric=False),
    Spec("clamp_min_at_bound", lambda m, x: x.clamp(min=0.0), domain="fixed", values=([-1.0, 0.0, 1.0],),
         numeric=False),
    Spec("norm_at_0", lambda m, x: x.norm(), domain="fixed", values=([0.0, 0.0],), numeric=False,
         double="torch's second derivative of the norm at 0 is NaN; chainrule's guarded formula gives 0"),
    Spec("prod_with_zero", lambda m, x: x.prod(1), domain="fixed",
         values=([[1.0, 0.0, 3.0], [2.0, 4.0, 0.5], [0.0, 5.0, 2.0]],), numeric=False),
    Spec("prod_two_zeros", lambda m, x: x.prod(), domain="fixed", values=([[1.0, 0.0, 3.0], [0.0, 4.0, 0.5]],),
         numeric=False, double="chainrule raises NotImplementedError for double backward through a product "
                               "with two or more zeros in one slice"),
    Spec("pow_tensor_zero_base", lambda m, x, y: x ** y, domain="fixed", values=([0.0, 0.0, 2.0], [2.0, 3.0, 0.5]),
         numeric=False, double="torch's second derivative w.r.t. x at x = 0 is NaN (0·log 0); chainrule's is finite"),
    Spec("sqrt_of_sum_at_1", lambda m, x: x.sqrt(), domain="fixed", values=([1.0, 4.0],)),
]

# Logits of ±1e4: finite outputs and gradients, equal to PyTorch's.
BIG = [[1e4, -1e4, 0.0, 3.0], [-1e4, -1e4, -1e4, -1e4], [1e4, 1e4, -2.0, 1e4]]
STABILITY = [
    Spec("softmax_big", lambda m, x: x.softmax(-1), domain="fixed", values=(BIG,), numeric=False),
    Spec("log_softmax_big", lambda m, x: x.log_softmax(-1), domain="fixed", values=(BIG,), numeric=False),
    Spec("logsumexp_big", lambda m, x: x.logsumexp(-1), domain="fixed", values=(BIG,), numeric=False),
    Spec("sigmoid_big", lambda m, x: x.sigmoid(), domain="fixed", values=(BIG,), numeric=False),
]

# The ops behind nn (ops/nn.py, ops/conv.py, ops/pool.py) and the remaining single ops. Double backward of
# conv and pooling reaches their adjoint ops (ConvInputGrad, ConvWeightGrad, PoolScatter, AvgPoolGrad, …).
def _conv2d(m, x, w, b):
    return m.nn.functional.conv2d(x, w, b, padding=1)


def _conv2d_groups(m, x, w):
    return m.nn.functional.conv2d(x, w, None, stride=2, padding=(1, 0), dilation=(1, 2), groups=2)


def _bce(m, a, t):
    return m.nn.functional.binary_cross_entropy(a.sigmoid(), t.sigmoid(), reduction="none")


def _sdpa(m, q, k, v, *mask, **kw):
    if mask:
        kw["attn_mask"] = mask[0]
    return m.nn.functional.scaled_dot_product_attention(q, k, v, **kw)


def _sdpa_math(m, *args, **kw):
    """PyTorch's math backend of sdpa: the composite, which (unlike its flash kernel) has a double backward."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    with sdpa_kernel([SDPBackend.MATH]):
        return _sdpa(m, *args, **kw)


def _dead_row_mask(rng, shapes):
    """A bool mask (True = may attend) in which query row 1 sees no key: its output and gradients are 0."""
    mask = rng.random((shapes[0][-2], shapes[1][-2])) < 0.6
    mask[:, 0] = True
    mask[1] = False
    return [mask]


SDPA = (((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 5)),)
SDPA_GQA = (((2, 4, 4, 5), (2, 2, 6, 5), (2, 2, 6, 5), (4, 6)),)
FLASH_DOUBLE = ("torch's CPU flash-attention kernel has no double backward ('derivative for "
                "_scaled_dot_product_flash_attention_for_cpu_backward is not implemented'): the sdpa_math rows "
                "check chainrule's against torch's math backend")
MATH_NAME = ("torch's math backend records a composite (UnsafeViewBackward0 …); chainrule's one node has the "
             "name of torch's default flash kernel (checked by the sdpa rows)")
SCALED = "the input is scaled first (MulBackward0 under the op): a wider range of x"
NN = [
    Spec("sdpa", _sdpa, SDPA, double=FLASH_DOUBLE),
    Spec("sdpa_causal_scale", lambda m, q, k, v: _sdpa(m, q, k, v, is_causal=True, scale=0.7), SDPA,
         double=FLASH_DOUBLE),
    Spec("sdpa_float_mask", _sdpa, ((SDPA[0] + ((4, 6),)),), grads=(True, True, True, False), double=FLASH_DOUBLE),
    Spec("sdpa_bool_mask_dead_row", _sdpa, SDPA, aux=_dead_row_mask, double=FLASH_DOUBLE),
    Spec("sdpa_gqa", lambda m, q, k, v, b: _sdpa(m, q, k, v, b, enable_gqa=True), SDPA_GQA,
         grads=(True, True, True, False), double=FLASH_DOUBLE),
    Spec("sdpa_math_causal", lambda m, q, k, v: _sdpa(m, q, k, v, is_causal=True), SDPA,
         torch_fn=lambda m, q, k, v: _sdpa_math(m, q, k, v, is_causal=True), name_differs=MATH_NAME),
    Spec("sdpa_math_dead_row", _sdpa, SDPA, aux=_dead_row_mask, torch_fn=_sdpa_math, name_differs=MATH_NAME),
    Spec("sdpa_math_gqa", lambda m, q, k, v, b: _sdpa(m, q, k, v, b, enable_gqa=True), SDPA_GQA,
         grads=(True, True, True, False), torch_fn=lambda m, q, k, v, b: _sdpa_math(m, q, k, v, b, enable_gqa=True),
         name_differs=MATH_NAME),
    Spec("linear", lambda m, x, w, b: m.nn.functional.linear(x, w, b), (((4, 3), (5, 3), (5,)),)),
    Spec("linear_nd", lambda m, x, w, b: m.nn.functional.linear(x, w, b), (((2, 4, 3), (5, 3), (5,)), ((3,), (5, 3), (5,)))),
    Spec("linear_no_bias", lambda m, x, w: m.nn.functional.linear(x, w), (((4, 3), (5, 3)),)),
    Spec("conv2d", _conv2d, (((2, 3, 5, 5), (4, 3, 3, 3), (4,)),)),
    Spec("conv2d_groups_stride_dilation", _conv2d_groups, (((2, 4, 6, 7), (6, 2, 3, 2)),)),
    Spec("conv1d", lambda m, x, w, b: m.nn.functional.conv1d(x, w, b, padding=1), (((2, 3, 7), (4, 3, 3), (4,)),)),
    Spec("max_pool2d", lambda m, x: m.nn.functional.max_pool2d(x, 2), (((2, 3, 4, 6),),), domain="distinct"),
    Spec("avg_pool2d", lambda m, x: m.nn.functional.avg_pool2d(x, 3, stride=2, padding=1), (((2, 3, 5, 6),),)),
    Spec("adaptive_avg_pool2d", lambda m, x: m.nn.functional.adaptive_avg_pool2d(x, (2, 3)), (((2, 3, 4, 6),),)),
    Spec("gelu", lambda m, x: m.nn.functional.gelu(x)),
    # the in-place ELU family saves its result (EluBackward1 / CeluBackward1)
    Spec("elu_inplace", lambda m, x: m.nn.functional.elu(x * 1.0, 1.3, inplace=True)),
    Spec("selu_inplace", lambda m, x: m.nn.functional.selu(x * 1.0, inplace=True)),
    Spec("celu_inplace", lambda m, x: m.nn.functional.celu(x * 0.5, 0.5, inplace=True)),
    Spec("gelu_tanh", lambda m, x: m.nn.functional.gelu(x, approximate="tanh")),
    Spec("gelu_wide", lambda m, x: m.nn.functional.gelu(x * 4.0), name_differs=SCALED),
    Spec("layer_norm", lambda m, x, w, b: m.nn.functional.layer_norm(x, (4,), w, b),
         (((2, 3, 4), (4,), (4,)), ((4,), (4,), (4,)), ((0, 4), (4,), (4,)))),
    Spec("layer_norm_2dims", lambda m, x, w, b: m.nn.functional.layer_norm(x, (3, 4), w, b, eps=1e-3),
         (((2, 3, 4), (3, 4), (3, 4)),)),
    Spec("layer_norm_no_affine", lambda m, x: m.nn.functional.layer_norm(x, (4,)), (((2, 3, 4),), ((1, 4),))),
    Spec("erf", lambda m, x: m.nn.functional.erf(x), torch_fn=lambda m, x: m.erf(x)),
    Spec("logsigmoid", lambda m, x: m.nn.functional.logsigmoid(x)),
    Spec("leaky_relu", lambda m, x: m.nn.functional.leaky_relu(x, 0.1), domain="distinct"),
    Spec("hardtanh", lambda m, x: m.nn.functional.hardtanh(x, -0.5, 0.5), domain="distinct"),
    Spec("batch_norm_training", lambda m, x, w, b: m.nn.functional.batch_norm(x, None, None, w, b, training=True),
         (((4, 3), (3,), (3,)), ((2, 3, 5), (3,), (3,)))),
    Spec("embedding", lambda m, w, i: m.nn.functional.embedding(i, w), (((5, 3),),), aux=_index(5, (2, 4))),
    Spec("embedding_bag_weighted", lambda m, w, p, i: m.nn.functional.embedding_bag(i, w, mode="sum", per_sample_weights=p),
         (((5, 3), (2, 4)),), aux=_index(5, (2, 4)), name_differs="one node for the weighted lookup "
         "(WeightedEmbeddingBackward0), then the sum per bag; PyTorch's whole embedding_bag is one node",
         double="PyTorch 2.13 has no double backward for embedding_bag's per_sample_weights"),
    Spec("binary_cross_entropy", _bce, BINARY[:1]),
    Spec("to_float32", lambda m, x: x.to(m.float32), numeric=False),   # float32 values: too coarse for differences
    Spec("clone", lambda m, x: x.clone()),
    Spec("trunc", lambda m, x: x.trunc(), domain="distinct"),
    Spec("diag_from_vector", lambda m, x: m.diag(x, 1), (((4,),),)),   # DiagEmbedBackward0 in both (shape_more)
]

# Issue 10's tensor functions: more elementwise math, sorting/selection, moving elements, contractions.
SQUARE = (((3, 3),), ((2, 3, 4),), ((4, 2),))
NON_TORCH_NAME = "a composite of chainrule's ops; PyTorch records it through other internal nodes"
CDIST_DOUBLE = ("torch 2.13 raises 'the derivative for _cdist_backward is not implemented'; chainrule's "
                "composite has a double backward (checked by tests/test_tensor_api_extra.py)")
EXTRA = [
    Spec("erf_method", lambda m, x: x.erf(), family="unary"),
    Spec("erfinv", lambda m, x: m.erfinv(x), domain="unit", family="unary"),
    Spec("log10", lambda m, x: m.log10(x), domain="positive", family="unary"),
    Spec("sinh", lambda m, x: m.sinh(x), family="unary"),
    Spec("cosh", lambda m, x: x.cosh(), family="unary"),
    Spec("asin", lambda m, x: m.asin(x), domain="unit", family="unary"),
    Spec("acos", lambda m, x: x.acos(), domain="unit", family="unary"),
    Spec("atan", lambda m, x: m.atan(x), family="unary"),
    Spec("atan2", lambda m, x, y: m.atan2(x, y), BINARY, family="binary"),
    Spec("remainder", lambda m, x, y: m.remainder(x, y), BINARY, "positive", family="binary"),
    Spec("remainder_scalar", lambda m, x: x % 0.7, family="unary"),
    Spec("fmod", lambda m, x, y: m.fmod(x, y * 0.3), BINARY, family="binary"),
    Spec("fmod_scalar", lambda m, x: m.fmod(x, -0.7), family="unary"),
    Spec("nan_to_num", lambda m, x: m.nan_to_num(x, posinf=3.0), domain="fixed", numeric=False,
         values=([float("nan"), float("inf"), -float("inf"), 1.5, -2.0],)),
    Spec("cumprod", lambda m, x: m.cumprod(x, 1), ND),
    Spec("cumprod_last", lambda m, x: x.cumprod(-1), UNARY[:4]),
    Spec("cumprod_zeros", lambda m, x: x.cumprod(1), domain="fixed",
         values=([[1.5, 0.0, 2.0, 3.0], [0.0, 2.0, 0.0, -1.0], [2.0, -1.0, 0.5, 0.0]],)),
    Spec("roll", lambda m, x: x.roll(1, 2), ND),
    Spec("roll_dims", lambda m, x: m.roll(x, (2, -1), (0, 2)), ND),
    Spec("roll_flat", lambda m, x: x.roll(-4), ND + UNARY[1:3]),
    Spec("rot90", lambda m, x: x.rot90(), MATRIX),
    Spec("rot90_k", lambda m, x: m.rot90(x, -3, (2, 0)), ND),
    Spec("diagonal", lambda m, x: x.diagonal(), SQUARE),
    Spec("diagonal_offset", lambda m, x: m.diagonal(x, -1, 2, 0), ND),
    Spec("take", lambda m, x, i: m.take(x, i), (((3, 4),), ((2, 3, 4),)), aux=_index(12, (2, 5))),
    Spec("narrow", lambda m, x: x.narrow(2, 1, 2), ND),
    Spec("narrow_fn", lambda m, x: m.narrow(x, -1, -3, 2), ND[:2]),
    Spec("repeat_interleave", lambda m, x: x.repeat_interleave(2, 1), ND),
    Spec("repeat_interleave_flat", lambda m, x: m.repeat_interleave(x, 3), UNARY[:4]),
    Spec("repeat_interleave_counts", lambda m, x: x.repeat_interleave(m.tensor([1, 0, 2]), 0), (((3, 4),),)),
    Spec("diff", lambda m, x: x.diff(), ND + UNARY[1:3]),
    Spec("diff_n_dim", lambda m, x, y: m.diff(x, n=2, dim=0, append=y), (((3, 4), (2, 4)),)),
    Spec("moveaxis", lambda m, x: m.moveaxis(x, 0, -1), ND),
    Spec("movedim", lambda m, x: x.movedim((0, 1), (2, 0)), ND),
    Spec("sort", lambda m, x: x.sort(1), ND, "distinct"),
    Spec("sort_descending", lambda m, x: m.sort(x, descending=True), ND + UNARY[:2], "distinct"),
    Spec("sort_stable", lambda m, x: x.sort(dim=0, stable=True), domain="fixed", numeric=False,
         values=([[1.0, 2.0, 1.0], [1.0, 0.0, 1.0], [0.5, 2.0, 1.0]],)),
    Spec("sort_ties_descending", lambda m, x: x.sort(descending=True), domain="fixed", numeric=False,
         values=([3.0, 1.0, 2.0, 1.0, 3.0, float("nan"), 2.0],)),
    Spec("argsort", lambda m, x: (m.argsort(x, 1), x.argsort(descending=True)), ND[:2], "distinct"),
    Spec("topk", lambda m, x: x.topk(2), ND[:2] + UNARY[1:3], "distinct"),
    Spec("topk_smallest", lambda m, x: m.topk(x, 3, dim=0, largest=False), (((4, 3),),), "distinct"),
    Spec("median", lambda m, x: x.median(), UNARY[:4], "distinct"),
    Spec("median_ties", lambda m, x: x.median(), domain="fixed", numeric=False,
         values=([[1.0, 2.0, 2.0, 3.0, 2.0], [5.0, 5.0, 1.0, 1.0, 0.0]],)),
    Spec("median_dim", lambda m, x: x.median(1), ND[:2], "distinct"),
    Spec("median_dim_keepdims", lambda m, x: m.median(x, -1, keepdims=True), ND[:2], "distinct"),
    Spec("index_add", lambda m, x, y: x.index_add(1, m.tensor([0, 2, 0]), y, alpha=2.0), (((2, 4), (2, 3)),),
         name_differs="chainrule's index_add is x + IndexAdd(source) (AddBackward0)"),
    Spec("index_fill", lambda m, x: m.index_fill(x, 0, m.tensor([1]), -1.5), ND[:2],
         name_differs="chainrule's index_fill is a masked_fill (MaskedFillBackward0)"),
    Spec("index_add_", lambda m, x, y: (x * 1).index_add_(0, m.tensor([1, 1]), y), (((3, 2), (2, 2)),),
         name_differs="chainrule records an in-place op on its new node (AddBackward0)"),
    Spec("index_fill_", lambda m, x: (x * 1).index_fill_(1, m.tensor([0]), 2.0), (((3, 2),),),
         name_differs="chainrule records an in-place op on its new node (MaskedFillBackward0)"),
    Spec("fill_", lambda m, x: (x * 2).fill_(0.5), ND[:2]),
    Spec("zero_", lambda m, x: (x * 2).zero_(), ND[:2]),
    Spec("copy_", lambda m, x, y: (x * 2).copy_(y), (((2, 3), (3,)), ((2, 3), (2, 3)), ((), ()))),
    Spec("einsum_matmul", lambda m, x, y: m.einsum("ij,jk->ik", x, y), (((2, 3), (3, 4)),),
         name_differs=NON_TORCH_NAME),
    Spec("einsum_batch", lambda m, x, y: m.einsum("bhqd,bhkd->bhqk", x, y), (((2, 2, 3, 4), (2, 2, 5, 4)),),
         name_differs=NON_TORCH_NAME),
    Spec("einsum_trace_sum", lambda m, x: m.einsum("ii", x), (((3, 3),),), name_differs=NON_TORCH_NAME),
    Spec("einsum_ellipsis_three", lambda m, x, y, z: m.einsum("...ij,jk,k->...i", x, y, z),
         (((2, 3, 4), (4, 5), (5,)),), name_differs=NON_TORCH_NAME),
    Spec("einsum_broadcast_outer", lambda m, x, y: m.einsum("ij,ik->ijk", x, y), (((1, 3), (2, 4)),),
         name_differs=NON_TORCH_NAME),
    Spec("tensordot", lambda m, x, y: m.tensordot(x, y, dims=([1, 0], [0, 2])), (((3, 2, 4), (2, 5, 3)),),
         name_differs=NON_TORCH_NAME),
    Spec("tensordot_int", lambda m, x, y: m.tensordot(x, y, 1), (((2, 3), (3, 4)),), name_differs=NON_TORCH_NAME),
    Spec("kron", lambda m, x, y: m.kron(x, y), (((2, 3), (3, 2)), ((3,), (2, 2)), ((2, 1, 2), (2, 3))),
         name_differs=NON_TORCH_NAME),
    Spec("cdist", lambda m, x, y: m.cdist(x, y), (((3, 4), (5, 4)), ((2, 3, 4), (2, 2, 4))),
         name_differs="chainrule composes cdist from a difference and norm (NormBackward1)",
         double=CDIST_DOUBLE),
    Spec("cdist_p1", lambda m, x, y: m.cdist(x, y, p=1.0), (((3, 4), (5, 4)),), "distinct",
         name_differs="chainrule composes cdist from a difference and norm (NormBackward1)", double=CDIST_DOUBLE),
]

# The losses PyTorch records as one node (chainrule/ops/losses.py): each reduction, weights, and the
# NLL's ignore_index and 2-D form. Probabilities come from a sigmoid so they stay inside (0, 1).
def _f(m):
    return m.nn.functional




def _targets(high: int, shape: tuple, ignored: int = 0):
    """Class indices in [0, high), the first ``ignored`` of them set to ignore_index (-100)."""
    def draw(rng, shapes):
        t = rng.integers(0, high, shape)
        t.flat[:ignored] = -100
        return [t]
    return draw


def _w(m, values):
    return m.tensor(values, dtype=m.float64)


PAIR = (((2, 3), (2, 3)), ((5,), (5,)), ((0, 3), (0, 3)))
LOSSES = [
    Spec("mse_loss", lambda m, x, y: _f(m).mse_loss(x, y), PAIR),
    Spec("mse_loss_sum", lambda m, x, y: _f(m).mse_loss(x, y, reduction="sum"), PAIR[:2]),
    Spec("mse_loss_none", lambda m, x, y: _f(m).mse_loss(x, y, reduction="none"), PAIR[:2]),
    Spec("huber_loss", lambda m, x, y: _f(m).huber_loss(x, y, delta=0.7), PAIR),
    Spec("huber_loss_none", lambda m, x, y: _f(m).huber_loss(x, y, reduction="none", delta=1.3), PAIR[:1]),
    Spec("smooth_l1_loss", lambda m, x, y: _f(m).smooth_l1_loss(x, y, beta=0.5), PAIR),
    Spec("smooth_l1_loss_sum", lambda m, x, y: _f(m).smooth_l1_loss(x, y, reduction="sum"), PAIR[:1]),
    Spec("bce_mean", lambda m, a, t: _f(m).binary_cross_entropy(a.sigmoid(), t.sigmoid()), PAIR[:2]),
    Spec("bce_weighted_sum", lambda m, a, t: _f(m).binary_cross_entropy(
        a.sigmoid(), t.sigmoid(), _w(m, [0.5, 2.0, 1.0]), reduction="sum"), PAIR[:1]),
    Spec("bce_with_logits", lambda m, x, t: _f(m).binary_cross_entropy_with_logits(x, t), PAIR),
    Spec("bce_with_logits_weights", lambda m, x, t: _f(m).binary_cross_entropy_with_logits(
        x, t.sigmoid(), _w(m, [0.5, 2.0, 1.0]), pos_weight=_w(m, [3.0, 0.5, 1.0])), PAIR[:1]),
    Spec("bce_with_logits_none", lambda m, x, t: _f(m).binary_cross_entropy_with_logits(
        x, t, reduction="none", pos_weight=_w(m, [3.0, 0.5, 1.0])), PAIR[:1]),
    Spec("nll_loss", lambda m, x, t: _f(m).nll_loss(x, t), (((4, 3),),), aux=_targets(3, (4,))),
    Spec("nll_loss_ignore_weight", lambda m, x, t: _f(m).nll_loss(x, t, _w(m, [0.5, 2.0, 1.0])), (((4, 3),),),
         aux=_targets(3, (4,), ignored=1)),
    Spec("nll_loss_none", lambda m, x, t: _f(m).nll_loss(x, t, reduction="none"), (((4, 3),),),
         aux=_targets(3, (4,), ignored=1)),
    Spec("nll_loss_sum_1d", lambda m, x, t: _f(m).nll_loss(x, t, reduction="sum"), (((3,),),), aux=_targets(3, ())),
    Spec("nll_loss_2d", lambda m, x, t: _f(m).nll_loss(x, t), (((2, 3, 2, 2),),), aux=_targets(3, (2, 2, 2))),
    Spec("nll_loss_3d_input", lambda m, x, t: _f(m).nll_loss(x, t, reduction="none"), (((2, 3, 4),),),
         aux=_targets(3, (2, 4))),
    Spec("cross_entropy", lambda m, x, t: _f(m).cross_entropy(x, t), (((4, 5),),), aux=_targets(5, (4,))),
    Spec("cross_entropy_sum", lambda m, x, t: _f(m).cross_entropy(x, t, reduction="sum"), (((4, 5),),),
         aux=_targets(5, (4,))),
    Spec("cross_entropy_none_ignore", lambda m, x, t: _f(m).cross_entropy(x, t, reduction="none"), (((4, 5),),),
         aux=_targets(5, (4,), ignored=1)),
    Spec("cross_entropy_weight_ignore", lambda m, x, t: _f(m).cross_entropy(x, t, _w(m, [1.0, 2.0, 0.5])),
         (((4, 3),),), aux=_targets(3, (4,), ignored=2)),
    Spec("cross_entropy_one_sample", lambda m, x, t: _f(m).cross_entropy(x, t), (((5,),),), aux=_targets(5, ())),
    Spec("cross_entropy_weighted", lambda m, x, t: _f(m).cross_entropy(x, t, _w(m, [1.0, 2.0, 0.5])),
         (((2, 3, 4),),), aux=_targets(3, (2, 4), ignored=2)),
    # kl_div's y·log y term is PyTorch's xlogy(target, target) (ops/losses.py XLogY)
    Spec("kl_div_batchmean", lambda m, x, t: _f(m).kl_div(x, t.sigmoid(), reduction="batchmean"), PAIR[:2]),
    Spec("kl_div_none_zero_target", lambda m, x, t: _f(m).kl_div(x, t.sigmoid() * (t > 0), reduction="none"),
         PAIR[:2], numeric=False),
]

# chainrule.linalg's inverse ops (ops/inverse.py). 3·I is added so every matrix is well away from singular.
def _well(m, a):
    return a + 3 * m.eye(a.shape[-1], dtype=m.float64)


LINALG = [
    Spec("linalg_inv", lambda m, a: m.linalg.inv(_well(m, a)), (((3, 3),), ((2, 3, 3),), ((1, 1),))),
    Spec("linalg_det", lambda m, a: m.linalg.det(_well(m, a)), (((3, 3),), ((2, 3, 3),), ((2, 2),))),
    Spec("linalg_solve", lambda m, a, b: m.linalg.solve(_well(m, a), b),
         (((3, 3), (3, 2)), ((3, 3), (3,)), ((2, 3, 3), (2, 3)), ((2, 3, 3), (3,)), ((2, 3, 3), (3, 4)))),
]

# Brief D's ops: F.pad's border modes (one gather node; repeated sources add up), prelu and kthvalue.
CIRCULAR_NAME = "torch builds circular padding from slice copies (CopySlices); chainrule's one node gathers"
BORDER_PAD = [
    Spec("pad_reflect", lambda m, x: m.nn.functional.pad(x, (2, 1), mode="reflect"), (((2, 3, 4),), ((3, 3),))),
    Spec("pad_reflect_2d_crop", lambda m, x: m.nn.functional.pad(x, (1, -1, 2, 0), mode="reflect"),
         (((2, 3, 4),), ((1, 2, 3, 4),))),
    Spec("pad_replicate", lambda m, x: m.nn.functional.pad(x, (3, 1, 0, 2), mode="replicate"),
         (((2, 3, 4),), ((0, 2, 3, 4),))),
    Spec("pad_replicate_3d", lambda m, x: m.nn.functional.pad(x, (1, 0, 0, 1, 2, 1), mode="replicate"),
         (((1, 2, 3, 2, 2),),)),
    Spec("pad_circular", lambda m, x: m.nn.functional.pad(x, (2, 1, -1, 2), mode="circular"), (((2, 3, 4),),),
         name_differs=CIRCULAR_NAME),
    Spec("prelu", lambda m, x, w: m.nn.functional.prelu(x, w), (((2, 3, 4), (3,)), ((5,), (1,)), ((0, 3), (3,)))),
    Spec("prelu_shared", lambda m, x, w: m.nn.functional.prelu(x, w), (((2, 3, 4), (1,)), ((), (1,)))),
    # at x = 0: the gradient is w·g, but its own derivatives take x = 0 as positive (fuzz seed 746369)
    Spec("prelu_at_0", lambda m, x, w: m.nn.functional.prelu(x, w), domain="fixed", numeric=False,
         values=([[-1.0, 0.0, 2.0], [0.0, -0.0, -0.5]], [0.44, -1.3, 0.7])),
    Spec("prelu_at_0_squared", lambda m, x, w: m.nn.functional.prelu(x, w) ** 2, domain="fixed", numeric=False,
         values=([[-1.0, 0.0, 2.0], [0.0, -0.0, -0.5]], [0.44])),
    Spec("kthvalue", lambda m, x: m.kthvalue(x, 2), ND[:2] + UNARY[1:3], "distinct"),
    Spec("kthvalue_dim_keepdim", lambda m, x: m.kthvalue(x, 3, 0, keepdim=True), (((4, 3),), ((3,),)), "distinct"),
    Spec("kthvalue_scalar", lambda m, x: m.kthvalue(x, 1), UNARY[:1], "distinct"),
    Spec("kthvalue_method", lambda m, x: x.kthvalue(2, dim=0).values, (((4, 3),),), "distinct"),
]

# Compositions PyTorch computes as one node (ops.elementwise_extra.OneNode): under create_graph their
# gradients require grad as PyTorch's do, whose backward reads the input (and the grid).
ONE_NODE = [
    Spec("hardshrink", lambda m, x: m.nn.functional.hardshrink(x), ND[:2] + UNARY[:3]),
    # pdist: one node saving input and result (OneNodeResult); torch 2.13 has no double backward for it
    Spec("pdist", lambda m, x: m.nn.functional.pdist(x), (((4, 3),), ((2, 5),)),
         double="torch 2.13 has no double backward for pdist (NotImplementedError); chainrule's is checked by "
                "central differences"),
    Spec("pdist_inf", lambda m, x: m.nn.functional.pdist(x, p=float("inf")), (((4, 3),),),
         double="torch 2.13 has no double backward for pdist (NotImplementedError); chainrule's is checked by "
                "central differences"),
    Spec("softshrink", lambda m, x: m.nn.functional.softshrink(x, 0.3), ND[:2]),
    Spec("threshold", lambda m, x: m.nn.functional.threshold(x, 0.1, -2.0), ND[:2]),
    Spec("adaptive_max_pool2d", lambda m, x: m.nn.functional.adaptive_max_pool2d(x, (2, 1)),
         (((2, 3, 4),), ((1, 2, 5, 3),)), "distinct"),
    Spec("grid_sample", lambda m, x, g: m.nn.functional.grid_sample(x, g.tanh(), align_corners=False),
         (((2, 2, 3, 4), (2, 3, 2, 2)),)),
    Spec("grid_sample_nearest", lambda m, x, g: m.nn.functional.grid_sample(x, g.tanh(), "nearest",
                                                                            align_corners=True),
         (((1, 2, 3, 4), (1, 2, 2, 2)),)),
]

# Elementwise math with special points (ops/binary_math.py) and its compositions (tensor/math_more.py). The
# "_at_" rows pin PyTorch's conventions where the plain formula breaks down (0/0, log 0, ±inf, clamp ends).
INF, NAN = float("inf"), float("nan")
COMPOSED = "chainrule composes {} from existing ops ({}); torch records one {} node"
THREE = (((2, 3), (2, 3), (2, 3)), ((2, 1), (3,), (4, 1, 1)), ((), (2, 3), (3,)), ((0, 3), (1, 3), (3,)))
NORM_AT_0 = "torch's second derivative of the norm at 0 is NaN; chainrule's guarded formula gives 0 (norm_at_0)"
MATH_MORE = [
    Spec("logaddexp", lambda m, x, y: m.logaddexp(x, y), BINARY, family="binary"),
    Spec("logaddexp_at_inf", lambda m, x, y: x.logaddexp(y), domain="fixed", numeric=False,
         values=([INF, -INF, INF, 1000.0, -1000.0, 0.0, NAN], [INF, -INF, -INF, 0.0, -999.0, 0.0, 1.0])),
    Spec("hypot", lambda m, x, y: m.hypot(x, y), BINARY, family="binary"),
    Spec("hypot_at_0", lambda m, x, y: x.hypot(y), domain="fixed", numeric=False,
         values=([0.0, -0.0, 3.0, 1e300, 3e-300, INF], [0.0, 0.0, -4.0, 1e300, 4e-300, 1.0])),
    Spec("copysign", lambda m, x, y: m.copysign(x, y), BINARY, "distinct", family="binary"),
    Spec("copysign_scalar", lambda m, x: x.copysign(-0.0), family="unary"),
    Spec("copysign_at_0", lambda m, x, y: m.copysign(x, y), domain="fixed", numeric=False,
         values=([0.0, -0.0, 0.0, 2.0, -2.0, INF, NAN], [-1.0, 1.0, -0.0, -0.0, 0.0, -1.0, 1.0])),
    Spec("xlogy", lambda m, x, y: m.xlogy(x, y), BINARY, "positive", family="binary"),
    Spec("xlogy_scalar_other", lambda m, x: x.xlogy(2.5), family="unary"),
    Spec("xlogy_scalar_self", lambda m, x: m.xlogy(1.5, x), domain="positive", family="unary"),
    Spec("xlogy_at_0", lambda m, x, y: m.xlogy(x, y), domain="fixed", numeric=False,
         values=([0.0, 0.0, 0.0, 0.0, 0.0, 1.0, -2.0, 0.0, 1.0], [0.0, INF, 2.0, -1.0, -INF, 0.0, -1.0, NAN, INF])),
    Spec("xlogy_scalar_self_at_0", lambda m, y: m.xlogy(0.0, y), domain="fixed", numeric=False,
         values=([0.0, 1.5, INF, NAN],)),
    Spec("xlogy_scalar_other_at_0", lambda m, x: m.xlogy(x, 0.0), domain="fixed", numeric=False,
         values=([0.0, 1.5, -2.0],)),
    Spec("logit", lambda m, x: m.logit(x.sigmoid()), family="unary"),
    Spec("logit_eps", lambda m, x: (x * 0.4).logit(eps=0.1), domain="positive", family="unary"),
    Spec("logit_at_bounds", lambda m, x: x.logit(), domain="fixed", numeric=False,
         values=([0.0, 1.0, 0.5, -0.1, 1.1, NAN],)),
    Spec("logit_eps_at_bounds", lambda m, x: m.logit(x, 0.25), domain="fixed", numeric=False,
         values=([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0, -2.0],)),
    # heaviside has no derivative (its backward raises, as torch's): used as a detached mask
    Spec("heaviside_mask", lambda m, x, v: x * m.heaviside(x, v).detach(), BINARY, "distinct"),
    Spec("heaviside_mask_at_0", lambda m, x, v: x * m.heaviside(x, v).detach(), domain="fixed", numeric=False,
         values=([-1.0, 0.0, -0.0, 2.0, NAN], [0.25])),
    Spec("addcmul", lambda m, x, a, b: m.addcmul(x, a, b, value=0.5), THREE,
         name_differs=COMPOSED.format("addcmul", "AddBackward0", "AddcmulBackward0")),
    Spec("addcmul_method", lambda m, x, a, b: x.addcmul(a, b), THREE[:2],
         name_differs=COMPOSED.format("addcmul", "AddBackward0", "AddcmulBackward0")),
    Spec("addcdiv", lambda m, x, a, b: m.addcdiv(x, a, b, value=-2), THREE, "positive",
         name_differs=COMPOSED.format("addcdiv", "AddBackward0", "AddcdivBackward0")),
    Spec("addcdiv_method", lambda m, x, a, b: x.addcdiv(a, b), THREE[:2], "positive",
         name_differs=COMPOSED.format("addcdiv", "AddBackward0", "AddcdivBackward0")),
    Spec("nansum", lambda m, x: m.nansum(x), ND + UNARY,
         name_differs=COMPOSED.format("nansum", "where and sum", "NansumBackward0")),
    Spec("nansum_dim_keepdim", lambda m, x: x.nansum((0, -1), keepdim=True), ND,
         name_differs=COMPOSED.format("nansum", "where and sum", "NansumBackward0")),
    Spec("nansum_with_nan", lambda m, x: x.nansum(1), domain="fixed",
         values=([[1.0, NAN, 2.0], [NAN, NAN, NAN], [3.0, -1.5, 0.5]],),
         name_differs=COMPOSED.format("nansum", "where and sum", "NansumBackward0")),
]
DIST = COMPOSED.format("dist", "a difference and a norm", "DistBackward0")
MATH_MORE += [
    Spec("dist", lambda m, x, y: m.dist(x, y), BINARY, name_differs=DIST),
    Spec("dist_p1", lambda m, x, y: x.dist(y, 1), BINARY[:4], "distinct", name_differs=DIST),
    Spec("dist_p3", lambda m, x, y: m.dist(x, y, p=3), BINARY[:4], "distinct", name_differs=DIST),
    Spec("dist_inf", lambda m, x, y: m.dist(x, y, INF), BINARY[:4], "distinct", name_differs=DIST),
    # broadcasting the distinct values repeats differences: the min would tie, where differences cannot tell
    Spec("dist_minus_inf", lambda m, x, y: m.dist(x, y, -INF), BINARY[:1] + BINARY[3:4], "distinct",
         name_differs=DIST),
    Spec("dist_p0", lambda m, x, y: m.dist(x, y, 0), BINARY[:3], "distinct", name_differs=DIST,
         torch_raises="torch 2.13's DistBackward0 for p=0 negates an undefined gradient when other requires "
                      "grad and raises ('Expected a proper Tensor but got None'); chainrule's gradients are None, "
                      "as the norm's for p=0"),
    Spec("dist_at_equal", lambda m, x, y: m.dist(x, y), domain="fixed", numeric=False, name_differs=DIST,
         values=([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]), double=NORM_AT_0),
    Spec("dist_p1_at_equal", lambda m, x, y: m.dist(x, y, 1), domain="fixed", numeric=False, name_differs=DIST,
         values=([1.0, 2.0, 3.0], [1.0, 0.0, 3.0])),
    Spec("dist_inf_ties", lambda m, x, y: m.dist(x, y, INF), domain="fixed", numeric=False, name_differs=DIST,
         values=([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]], [1.0, 0.0, 5.0])),
    Spec("dist_inf_at_equal", lambda m, x, y: m.dist(x, y, INF), domain="fixed", numeric=False,
         name_differs=DIST, values=([1.0, 2.0], [1.0, 2.0])),
]

ALL = (ELEMENTWISE + COMPARISONS + MATMUL + REDUCE + SHAPE + INDEXING + TIES + STABILITY + NN + EXTRA + LOSSES
       + LINALG + BORDER_PAD + ONE_NODE + MATH_MORE)

# shape_more (ops/shape_more.py, tensor/shape_more.py): sliding windows, diagonals built and copied out, running
# extremes (ties go to the later index; a NaN is the extreme from there on), and the views built from slices.
SHAPE_MORE = [
    Spec("unfold", lambda m, x: x.unfold(-1, 2, 1), ND),
    Spec("unfold_gaps", lambda m, x: x.unfold(0, 2, 3), (((7,),), ((5, 3),), ((2, 0),))),
    Spec("unfold_whole_and_empty", lambda m, x: (x.unfold(1, 3, 2), x.unfold(0, 0, 1)), (((2, 3),), ((0, 3),))),
    Spec("unfold_scalar", lambda m, x: (x.unfold(0, 1, 1), x.unfold(-1, 0, 2)), UNARY[:1]),
    Spec("unfold_twice", lambda m, x: x.unfold(0, 2, 1).unfold(1, 2, 1) * 1.5, (((4, 3),), ((3, 5, 2),))),
    Spec("diag_vector", lambda m, x: (m.diag(x, 1), x.diag(-2), x.diag()), (((3,),), ((1,),), ((0,),))),
    Spec("diag_matrix", lambda m, x: (m.diag(x), x.diag(2), x.diag(-5)), (((3, 4),), ((4, 2),), ((0, 3),))),
    Spec("diag_embed", lambda m, x: m.diag_embed(x), (((2, 3),), ((3,),), ((0, 2),), ((2, 3, 1),))),
    Spec("diag_embed_dims", lambda m, x: (x.diag_embed(-1, 0, 2), m.diag_embed(x, 2, -1, 1)), (((2, 3),), ((3, 0),))),
    Spec("cummax", lambda m, x: m.cummax(x, 1), ND, "distinct"),
    Spec("cummin", lambda m, x: x.cummin(-1), ND + UNARY[:3], "distinct"),
    Spec("cummax_ties_nan", lambda m, x: m.cummax(x, 1) + x.cummin(0), domain="fixed", numeric=False,
         values=([[1.0, 3.0, 3.0, 2.0, 3.0, -1.0], [2.0, float("nan"), 1.0, float("nan"), 5.0, 2.0],
                  [-0.0, 0.0, -0.0, 0.0, 1.0, 1.0]],)),
    Spec("ravel", lambda m, x: (m.ravel(x), x.transpose(0, -1).ravel()), ND + UNARY),
    Spec("select", lambda m, x: (m.select(x, 1, -1), x.select(0, 1)), ND[:2]),
    Spec("tensor_split", lambda m, x: m.tensor_split(x, 3, dim=-1) + x.tensor_split([1, -1, 1], 0), ND),
    Spec("hsplit_vsplit_dsplit", lambda m, x: m.hsplit(x, [2]) + x.vsplit(2) + m.dsplit(x, 2), ND[:2]),
    Spec("atleast_3d", lambda m, x: m.atleast_3d(x, x * 2.0) + (m.atleast_2d(x),), UNARY),
]
ALL += SHAPE_MORE


# Reductions over a hypothesis-drawn shape, dim and keepdim: fn(m, x, dim, keepdim).
REDUCTIONS = {
    "sum": (lambda m, x, d, k: x.sum(d, keepdim=k), "real"),
    "mean": (lambda m, x, d, k: x.mean(d, keepdim=k), "real"),
    "var": (lambda m, x, d, k: x.var(d, keepdim=k, correction=0), "real"),
    "std": (lambda m, x, d, k: x.std(d, keepdim=k), "real"),
    "prod": (lambda m, x, d, k: x.prod(d[0], keepdim=k) if d else x.prod(), "positive"),
    "amax": (lambda m, x, d, k: x.amax(d if d else (), keepdim=k), "distinct"),
    "amin": (lambda m, x, d, k: x.amin(d if d else (), keepdim=k), "distinct"),
    "max_dim": (lambda m, x, d, k: x.max(d[0], keepdim=k) if d else x.max(), "distinct"),
    "logsumexp": (lambda m, x, d, k: x.logsumexp(d if d else tuple(range(x.ndim)), keepdim=k), "real"),
    # torch.norm takes 3+ dims as a (rejected) matrix norm, so draw at most 2
    "norm": (lambda m, x, d, k: x.norm(dim=d if d is None or len(d) <= 2 else d[:2], keepdim=k), "real"),
    "softmax": (lambda m, x, d, k: x.softmax(d[0] if d else -1), "real"),
    "log_softmax": (lambda m, x, d, k: x.log_softmax(d[0] if d else 0), "real"),
    "cumsum": (lambda m, x, d, k: x.cumsum(d[0] if d else 0), "real"),
}

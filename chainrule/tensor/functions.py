"""The ``chainrule.<op>(tensor, ...)`` forms of Tensor methods, plus ops over several tensors
(``cat``, ``stack``, ``where``, …), as in the ``torch`` namespace."""

from __future__ import annotations

import builtins

from .. import backend
from ..backend import xp
from ..ops import shape as S
from ..ops.indexing import IndexAdd
from ..ops.shape import Pad
from .args import as_tensor_like, keepdim_arg, normalize_dim, promote, py_scalar, where
from .contract import bucketize, cdist, einsum, kron, searchsorted, tensordot
from .core import Tensor
from .selection import kthvalue  # defined there: this module is already long


def _tensors(tensors, op: str, dim=0) -> list:
    if isinstance(tensors, Tensor) or isinstance(dim, Tensor):
        raise TypeError(f"{op}(): argument 'tensors' must be a list or tuple of Tensors, got a Tensor"
                        f"{' and a Tensor as dim' if isinstance(dim, Tensor) else ''}; write {op}([a, b], dim=0)")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    ts = list(tensors)
    if not ts:
        raise RuntimeError(f"{op}: expected a non-empty list of Tensors")
    dtype = ts[0]
    for t in ts[1:]:
        dtype, _ = promote(dtype, t)
    target = dtype._data.dtype
    return [t if t._data.dtype == target else t.to(target) for t in ts]


def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension."""
    ts = _tensors(tensors, "cat", dim)
    # PyTorch lets a 1-D empty tensor join anything (it adds nothing); it stays an input of the node,
    # so its gradient is an empty tensor, not "unused".
    joined = [t for t in ts if not S.is_legacy_empty(t._data)] or ts[:1]
    d = normalize_dim(dim, joined[0].ndim, "cat")
    for t in joined:
        if t.ndim != joined[0].ndim:
            first = next(i for i, u in enumerate(ts) if u is joined[0])
            this = next(i for i, u in enumerate(ts) if u is t)
            raise RuntimeError(f"cat: tensor {first} has {joined[0].ndim} dimensions but tensor {this} has "
                               f"{t.ndim} (shapes {tuple(joined[0].shape)} and {tuple(t.shape)})")
    return S.Cat.apply(d, *ts)


concat = concatenate = cat


def stack(tensors, dim: int = 0) -> Tensor:
    """Join tensors of equal shape along a new dimension."""
    ts = _tensors(tensors, "stack", dim)
    return S.Stack.apply(normalize_dim(dim, ts[0].ndim + 1, "stack"), *ts)


def hstack(tensors) -> Tensor:
    ts = [as_tensor_like(t, None) for t in tensors]
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    return cat([t if t.ndim > 1 else t.unsqueeze(0) for t in (as_tensor_like(t, None) for t in tensors)], 0)


def pad(input: Tensor, pad: tuple, mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad the last dims: ``pad=(left, right, top, bottom, ...)`` as in ``torch.nn.functional.pad``."""
    if mode != "constant":
        raise NotImplementedError(f"pad: mode {mode!r} is not supported (only 'constant')")
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise RuntimeError(f"pad: padding length {len(pad)} must be even and at most 2 * {input.ndim}")
    pads = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        pads[input.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    if builtins.any(b < 0 or a < 0 for b, a in pads):  # builtins: this module defines any()
        raise NotImplementedError("pad: negative padding (cropping) is not supported")
    return Pad.apply(input, pads, value)


def broadcast_tensors(*tensors):
    shape = _broadcast_shape("broadcast_tensors", [tuple(t.shape) for t in tensors])
    return tuple(t.expand(shape) for t in tensors)


def broadcast_shapes(*shapes):
    return _broadcast_shape("broadcast_shapes", [(s,) if isinstance(s, int) else tuple(s) for s in shapes])


def _broadcast_shape(fn: str, shapes: list) -> tuple:
    """The common shape, or PyTorch's error (RuntimeError) naming the shapes instead of NumPy's ValueError."""
    try:
        return tuple(xp.broadcast_shapes(*shapes))
    except ValueError:
        listed = ", ".join(str(s) for s in shapes)
        raise RuntimeError(f"{fn}: shapes {listed} cannot be broadcast to a single shape (trailing dimensions "
                           f"must match or be 1)") from None


def meshgrid(*tensors, indexing: str = "ij"):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    n = len(tensors)
    out = []
    for i, t in enumerate(tensors):
        shape = [1] * n
        shape[i] = t.shape[0]
        out.append(t.reshape(shape))
    if indexing == "xy" and n >= 2:
        out[0], out[1] = out[0].transpose(0, 1), out[1].transpose(0, 1)
    return broadcast_tensors(*out)


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return a.allclose(b, rtol, atol, equal_nan)


def equal(a, b) -> bool:
    return a.equal(b)


def numel(t) -> int:
    return (t if isinstance(t, Tensor) else _input(t, "numel", ())).numel()


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def clamp(input, min=None, max=None):
    if not isinstance(input, Tensor):
        input = _input(input, "clamp", ())
    return input.clamp(min, max)


clip = clamp


def max(input, dim=None, keepdim=False, *, keepdims=None):
    if not isinstance(input, Tensor):
        input = _input(input, "max", ())
    if isinstance(dim, Tensor):
        return input.maximum(dim)
    return input.max(dim, keepdim, keepdims=keepdims)


def min(input, dim=None, keepdim=False, *, keepdims=None):
    if not isinstance(input, Tensor):
        input = _input(input, "min", ())
    if isinstance(dim, Tensor):
        return input.minimum(dim)
    return input.min(dim, keepdim, keepdims=keepdims)


# The functions PyTorch also gives a Python number as ``input``: ``torch.add(2, 3)``, ``torch.pow(2, x)``
# (pow and remainder only with a Tensor second argument)
_NUMBER_INPUT = frozenset({"add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide"})
_NUMBER_INPUT_TENSOR_OTHER = frozenset({"pow", "remainder"})


def _input(input, name: str, args):
    """A function's ``input`` as PyTorch takes it: a Tensor, or a Python number for the arithmetic
    functions above (``torch.exp(3)`` and ``torch.sum([1, 2])`` are TypeErrors in PyTorch too).
    Called only when ``input`` is not a Tensor, so a Tensor argument pays nothing."""
    number = isinstance(py_scalar(input), int | float)   # a NumPy scalar counts as its number (np.float32(2))
    if number and (name in _NUMBER_INPUT or (name in _NUMBER_INPUT_TENSOR_OTHER and args
                                             and isinstance(args[0], Tensor))):
        return as_tensor_like(input, None)
    kind = type(input).__name__
    if type(input).__module__ == "numpy":
        kind = f"numpy.{kind}"
        hint = "; make it a tensor first: chainrule.from_numpy(array) or chainrule.tensor(value)"
    elif number or isinstance(input, list | tuple):
        hint = f"; make it a tensor first: chainrule.tensor({input!r})"
    else:
        hint = ""
    raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {kind}{hint}")


def _method(name: str):
    """``chainrule.<name>(t, ...)``: the Tensor method ``t.<name>(...)`` as a function (bound once: these
    wrappers are on the hot path, e.g. ``cr.tanh(x)``)."""
    method = getattr(Tensor, name)

    def f(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            input = _input(input, name, args)
        return method(input, *args, **kwargs)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"``chainrule.{name}(t, ...)`` is ``t.{name}(...)``."
    return f


# The remaining torch.* functions are exactly their Tensor methods: ``chainrule.tanh(t)`` is ``t.tanh()``.
add = _method("add")
sub = _method("sub")
subtract = _method("subtract")
mul = _method("mul")
multiply = _method("multiply")
div = _method("div")
divide = _method("divide")
true_divide = _method("true_divide")
pow = _method("pow")
neg = _method("neg")
negative = _method("negative")
abs = _method("abs")
absolute = _method("absolute")
reciprocal = _method("reciprocal")
square = _method("square")
exp = _method("exp")
log = _method("log")
log2 = _method("log2")
log1p = _method("log1p")
expm1 = _method("expm1")
sqrt = _method("sqrt")
rsqrt = _method("rsqrt")
sin = _method("sin")
cos = _method("cos")
tan = _method("tan")
tanh = _method("tanh")
sigmoid = _method("sigmoid")
relu = _method("relu")
sign = _method("sign")
floor = _method("floor")
ceil = _method("ceil")
round = _method("round")
trunc = _method("trunc")
clamp_min = _method("clamp_min")
clamp_max = _method("clamp_max")
maximum = _method("maximum")
minimum = _method("minimum")
sum = _method("sum")
mean = _method("mean")
var = _method("var")
std = _method("std")
prod = _method("prod")
amax = _method("amax")
amin = _method("amin")
argmax = _method("argmax")
argmin = _method("argmin")
logsumexp = _method("logsumexp")
norm = _method("norm")
cumsum = _method("cumsum")
softmax = _method("softmax")
log_softmax = _method("log_softmax")
matmul = _method("matmul")
mm = _method("mm")
bmm = _method("bmm")
mv = _method("mv")
dot = _method("dot")
inner = _method("inner")
outer = _method("outer")
ger = _method("ger")
reshape = _method("reshape")
flatten = _method("flatten")
unflatten = _method("unflatten")
squeeze = _method("squeeze")
unsqueeze = _method("unsqueeze")
permute = _method("permute")
transpose = _method("transpose")
swapaxes = _method("swapaxes")
swapdims = _method("swapdims")
t = _method("t")
broadcast_to = _method("broadcast_to")
tile = _method("tile")
flip = _method("flip")
fliplr = _method("fliplr")
flipud = _method("flipud")
split = _method("split")
chunk = _method("chunk")
unbind = _method("unbind")
gather = _method("gather")
scatter = _method("scatter")
scatter_add = _method("scatter_add")
index_select = _method("index_select")
masked_fill = _method("masked_fill")
tril = _method("tril")
triu = _method("triu")
eq = _method("eq")
ne = _method("ne")
lt = _method("lt")
le = _method("le")
gt = _method("gt")
ge = _method("ge")
greater = _method("greater")
less = _method("less")
greater_equal = _method("greater_equal")
less_equal = _method("less_equal")
not_equal = _method("not_equal")
logical_and = _method("logical_and")
logical_or = _method("logical_or")
logical_xor = _method("logical_xor")
logical_not = _method("logical_not")
isnan = _method("isnan")
isinf = _method("isinf")
isfinite = _method("isfinite")
any = _method("any")
all = _method("all")
isclose = _method("isclose")
nonzero = _method("nonzero")
count_nonzero = _method("count_nonzero")
lerp = _method("lerp")
clone = _method("clone")
detach = _method("detach")
erf = _method("erf")
erfinv = _method("erfinv")
log10 = _method("log10")
sinh = _method("sinh")
cosh = _method("cosh")
asin = _method("asin")
arcsin = _method("arcsin")
acos = _method("acos")
arccos = _method("arccos")
atan = _method("atan")
arctan = _method("arctan")
atan2 = _method("atan2")
arctan2 = _method("arctan2")
remainder = _method("remainder")
fmod = _method("fmod")
nan_to_num = _method("nan_to_num")
cumprod = _method("cumprod")
sort = _method("sort")
argsort = _method("argsort")
msort = _method("msort")
topk = _method("topk")
median = _method("median")
unique = _method("unique")
histc = _method("histc")
histogram = _method("histogram")
narrow = _method("narrow")
roll = _method("roll")
rot90 = _method("rot90")
diagonal = _method("diagonal")
movedim = _method("movedim")
moveaxis = _method("moveaxis")
diff = _method("diff")
take = _method("take")
index_add = _method("index_add")
index_fill = _method("index_fill")


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """``input.repeat_interleave(repeats, dim)``; with one tensor argument, each index ``i`` repeated
    ``input[i]`` times.

    >>> import chainrule as cr
    >>> cr.repeat_interleave(cr.tensor([2, 1]))
    tensor([0, 0, 1])
    """
    if repeats is None:
        return Tensor._make(xp.arange(input.numel())).repeat_interleave(input, 0)
    return as_tensor_like(input, None).repeat_interleave(repeats, dim, output_size=output_size)


__all__ = [
    "abs",
    "absolute",
    "acos",
    "add",
    "all",
    "allclose",
    "amax",
    "amin",
    "any",
    "arccos",
    "arcsin",
    "arctan",
    "arctan2",
    "argmax",
    "argmin",
    "argsort",
    "asin",
    "atan",
    "atan2",
    "bmm",
    "broadcast_shapes",
    "broadcast_tensors",
    "broadcast_to",
    "bucketize",
    "cat",
    "cdist",
    "ceil",
    "chunk",
    "clamp",
    "clamp_max",
    "clamp_min",
    "clip",
    "clone",
    "concat",
    "concatenate",
    "cos",
    "cosh",
    "count_nonzero",
    "cumprod",
    "cumsum",
    "detach",
    "diag",
    "diagonal",
    "diff",
    "div",
    "divide",
    "dot",
    "einsum",
    "eq",
    "equal",
    "erf",
    "erfinv",
    "exp",
    "expm1",
    "flatten",
    "flip",
    "fliplr",
    "flipud",
    "floor",
    "fmod",
    "gather",
    "ge",
    "ger",
    "greater",
    "greater_equal",
    "gt",
    "histc",
    "histogram",
    "hstack",
    "index_add",
    "index_fill",
    "index_select",
    "inner",
    "is_floating_point",
    "is_tensor",
    "isclose",
    "isfinite",
    "isinf",
    "isnan",
    "kron",
    "kthvalue",
    "le",
    "lerp",
    "less",
    "less_equal",
    "log",
    "log1p",
    "log2",
    "log10",
    "log_softmax",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "logsumexp",
    "lt",
    "masked_fill",
    "matmul",
    "max",
    "maximum",
    "mean",
    "median",
    "meshgrid",
    "min",
    "minimum",
    "mm",
    "moveaxis",
    "movedim",
    "msort",
    "mul",
    "multiply",
    "mv",
    "nan_to_num",
    "narrow",
    "ne",
    "neg",
    "negative",
    "nonzero",
    "norm",
    "not_equal",
    "numel",
    "outer",
    "pad",
    "permute",
    "pow",
    "prod",
    "reciprocal",
    "relu",
    "remainder",
    "repeat_interleave",
    "reshape",
    "result_type",
    "roll",
    "rot90",
    "round",
    "rsqrt",
    "scatter",
    "scatter_add",
    "searchsorted",
    "sigmoid",
    "sign",
    "sin",
    "sinh",
    "softmax",
    "sort",
    "split",
    "sqrt",
    "square",
    "squeeze",
    "stack",
    "std",
    "std_mean",
    "sub",
    "subtract",
    "sum",
    "swapaxes",
    "swapdims",
    "t",
    "take",
    "tan",
    "tanh",
    "tensordot",
    "tile",
    "topk",
    "trace",
    "transpose",
    "tril",
    "triu",
    "true_divide",
    "trunc",
    "unbind",
    "unflatten",
    "unique",
    "unsqueeze",
    "var",
    "var_mean",
    "vstack",
    "where",
]


def var_mean(input, dim=None, unbiased=None, keepdim=False, correction=None, *, keepdims=None):
    keepdim = keepdim_arg(keepdim, keepdims, "var_mean")
    return input.var(dim, unbiased, keepdim, correction), input.mean(dim, keepdim=keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, correction=None, *, keepdims=None):
    keepdim = keepdim_arg(keepdim, keepdims, "std_mean")
    return input.std(dim, unbiased, keepdim, correction), input.mean(dim, keepdim=keepdim)


def diag(input, diagonal: int = 0):
    if input.ndim == 1:
        n = input.shape[0] + builtins.abs(diagonal)
        idx = xp.arange(input.shape[0])
        rows, cols = (idx, idx + diagonal) if diagonal >= 0 else (idx - diagonal, idx)
        return IndexAdd.apply(input, (n, n), (rows, cols))
    rows = xp.arange(builtins.min(input.shape[0], input.shape[1] - diagonal) if diagonal >= 0
                     else builtins.min(input.shape[0] + diagonal, input.shape[1]))
    return input[(rows, rows + diagonal)] if diagonal >= 0 else input[(rows - diagonal, rows)]


def trace(input):
    return diag(input).sum()


def is_floating_point(t) -> bool:
    return t.is_floating_point()


def result_type(a, b):
    ta = a.dtype if isinstance(a, Tensor) else None
    tb = b.dtype if isinstance(b, Tensor) else None
    if ta is None:
        return backend.result_dtype(tb, b.ndim, None, 0, a)
    return backend.result_dtype(ta, a.ndim, tb, b.ndim if tb else 0, b if tb is None else None)


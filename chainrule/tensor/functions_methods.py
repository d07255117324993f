"""The ``chainrule.<op>(t, ...)`` functions that are exactly a Tensor method: ``chainrule.tanh(t)`` is
``t.tanh()``, each bound once by ``_method`` (these wrappers are on the hot path). ``chainrule.tensor.functions``
re-exports them with the functions over several tensors (``cat``, ``stack``, ``where`` …).
"""

from __future__ import annotations

from .args import as_tensor_like, py_scalar
from .core import Tensor
from .math_more import xlogy  # either argument may be a number: not exactly the method

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
logaddexp = _method("logaddexp")
hypot = _method("hypot")
copysign = _method("copysign")
xlogy_ = _method("xlogy_")
heaviside = _method("heaviside")
addcmul = _method("addcmul")
addcdiv = _method("addcdiv")
logit = _method("logit")
logit_ = _method("logit_")
nansum = _method("nansum")
dist = _method("dist")


__all__ = [
    "abs",
    "absolute",
    "acos",
    "add",
    "addcdiv",
    "addcmul",
    "all",
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
    "broadcast_to",
    "ceil",
    "chunk",
    "clamp_max",
    "clamp_min",
    "clone",
    "copysign",
    "cos",
    "cosh",
    "count_nonzero",
    "cumprod",
    "cumsum",
    "detach",
    "diagonal",
    "diff",
    "dist",
    "div",
    "divide",
    "dot",
    "eq",
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
    "heaviside",
    "histc",
    "histogram",
    "hypot",
    "index_add",
    "index_fill",
    "index_select",
    "inner",
    "isclose",
    "isfinite",
    "isinf",
    "isnan",
    "le",
    "lerp",
    "less",
    "less_equal",
    "log",
    "log1p",
    "log2",
    "log10",
    "log_softmax",
    "logaddexp",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "logit",
    "logit_",
    "logsumexp",
    "lt",
    "masked_fill",
    "matmul",
    "maximum",
    "mean",
    "median",
    "minimum",
    "mm",
    "moveaxis",
    "movedim",
    "msort",
    "mul",
    "multiply",
    "mv",
    "nan_to_num",
    "nansum",
    "narrow",
    "ne",
    "neg",
    "negative",
    "nonzero",
    "norm",
    "not_equal",
    "outer",
    "permute",
    "pow",
    "prod",
    "reciprocal",
    "relu",
    "remainder",
    "reshape",
    "roll",
    "rot90",
    "round",
    "rsqrt",
    "scatter",
    "scatter_add",
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
    "std",
    "sub",
    "subtract",
    "sum",
    "swapaxes",
    "swapdims",
    "t",
    "take",
    "tan",
    "tanh",
    "tile",
    "topk",
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
    "xlogy",
    "xlogy_",
]

# shape_more: the methods of chainrule/tensor/shape_more.py as functions (atleast_1d/2d/3d and real are defined
# there: they are not exactly a method)
from .shape_more import atleast_1d, atleast_2d, atleast_3d, real

ravel, diag, diag_embed, select = _method("ravel"), _method("diag"), _method("diag_embed"), _method("select")
tensor_split, hsplit, vsplit, dsplit = _method("tensor_split"), _method("hsplit"), _method("vsplit"), _method("dsplit")
cummax, cummin, positive, conj = _method("cummax"), _method("cummin"), _method("positive"), _method("conj")
resolve_conj, resolve_neg = _method("resolve_conj"), _method("resolve_neg")
is_conj, is_neg = _method("is_conj"), _method("is_neg")
__all__ += ["atleast_1d", "atleast_2d", "atleast_3d", "conj", "cummax", "cummin", "diag", "diag_embed", "dsplit",
            "hsplit", "is_conj", "is_neg", "positive", "ravel", "real", "resolve_conj", "resolve_neg", "select",
            "tensor_split", "vsplit"]

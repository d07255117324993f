"""Integer and bool tensors end every op as in PyTorch: where PyTorch has no kernel for the dtype it raises
(NotImplementedError for most activations and softmax, RuntimeError for relu/hardtanh/neg of bool, norm,
argmax of bool …) and chainrule raises the same type, naming the op and the dtype; where PyTorch runs, the
result has its dtype and values (relu6/hardtanh/threshold keep an integer dtype, uint8 sums widen to int64,
a bool squares to int64).

Each case runs with the same code in both libraries (``m`` is torch or chainrule) over int64, int32,
uint8 and bool inputs holding negative, zero and positive values (wrapped into uint8, 0/1 for bool), and
over float32, whose path the checks must leave as it was.
"""

from __future__ import annotations

import traceback
import warnings

import numpy as np
import pytest

import chainrule as cr

DTYPES = ["int64", "int32", "uint8", "bool", "float32"]   # float32: the checks leave the float path alone
VALUES = [[3, -2, 0, 5], [1, 1, -7, 2]]


def F(m):
    return m.nn.functional


# (label, the op's name an error must contain, the call with m = torch or chainrule)
ACTIVATIONS = [
    ("F.relu", "relu", lambda m, x: F(m).relu(x)),
    ("F.relu6", "relu6", lambda m, x: F(m).relu6(x)),
    ("F.elu", "elu", lambda m, x: F(m).elu(x)),
    ("F.selu", "selu", lambda m, x: F(m).selu(x)),
    ("F.celu", "celu", lambda m, x: F(m).celu(x)),
    ("F.gelu", "gelu", lambda m, x: F(m).gelu(x)),
    ("F.gelu(tanh)", "gelu", lambda m, x: F(m).gelu(x, approximate="tanh")),
    ("F.silu", "silu", lambda m, x: F(m).silu(x)),
    ("F.mish", "mish", lambda m, x: F(m).mish(x)),
    ("F.softplus", "softplus", lambda m, x: F(m).softplus(x)),
    ("F.softplus(beta=2)", "softplus", lambda m, x: F(m).softplus(x, beta=2)),
    ("F.softsign", "softsign", lambda m, x: F(m).softsign(x)),
    ("F.hardswish", "hardswish", lambda m, x: F(m).hardswish(x)),
    ("F.hardsigmoid", "hardsigmoid", lambda m, x: F(m).hardsigmoid(x)),
    ("F.hardtanh", "hardtanh", lambda m, x: F(m).hardtanh(x)),
    ("F.hardtanh(-1.5,1.5)", "hardtanh", lambda m, x: F(m).hardtanh(x, -1.5, 1.5)),
    ("F.hardtanh(-0.5,2)", "hardtanh", lambda m, x: F(m).hardtanh(x, -0.5, 2.0)),
    ("F.hardtanh(0.5,2.7)", "hardtanh", lambda m, x: F(m).hardtanh(x, 0.5, 2.7)),
    ("F.leaky_relu", "leaky_relu", lambda m, x: F(m).leaky_relu(x)),
    ("F.leaky_relu(0.2)", "leaky_relu", lambda m, x: F(m).leaky_relu(x, 0.2)),
    ("F.logsigmoid", "logsigmoid", lambda m, x: F(m).logsigmoid(x)),
    ("F.tanhshrink", "tanhshrink", lambda m, x: F(m).tanhshrink(x)),
    ("F.softshrink", "softshrink", lambda m, x: F(m).softshrink(x)),
    ("F.hardshrink", "hardshrink", lambda m, x: F(m).hardshrink(x)),
    ("F.sigmoid", "sigmoid", lambda m, x: F(m).sigmoid(x)),
    ("F.tanh", "tanh", lambda m, x: F(m).tanh(x)),
    ("F.glu", "glu", lambda m, x: F(m).glu(x)),
    ("F.threshold", "threshold", lambda m, x: F(m).threshold(x, 0.1, 2.0)),
    ("F.threshold(1.5,9)", "threshold", lambda m, x: F(m).threshold(x, 1.5, 9)),
    ("F.softmax", "softmax", lambda m, x: F(m).softmax(x, dim=1)),
    ("F.log_softmax", "log_softmax", lambda m, x: F(m).log_softmax(x, dim=1)),
    ("F.softmin", "softmin", lambda m, x: F(m).softmin(x, dim=1)),
    ("F.softmin(dtype)", "softmin", lambda m, x: F(m).softmin(x, dim=1, dtype=m.float64)),
    ("F.prelu", "prelu", lambda m, x: F(m).prelu(x, m.tensor([1]).to(x.dtype))),
    ("F.normalize", "normalize", lambda m, x: F(m).normalize(x)),
    ("F.normalize(p=1)", "normalize", lambda m, x: F(m).normalize(x, p=1)),
    ("F.cosine_similarity", "cosine_similarity", lambda m, x: F(m).cosine_similarity(x, x)),
    ("F.pairwise_distance", "pairwise_distance", lambda m, x: F(m).pairwise_distance(x, x)),
    ("F.layer_norm", "layer_norm", lambda m, x: F(m).layer_norm(x, (4,))),
    ("F.group_norm", "group_norm", lambda m, x: F(m).group_norm(x, 2)),
    ("F.batch_norm", "batch_norm", lambda m, x: F(m).batch_norm(x, None, None, training=True)),
    ("F.instance_norm", "batch_norm", lambda m, x: F(m).instance_norm(x.unsqueeze(0))),
    ("F.rms_norm", "rms_norm", lambda m, x: F(m).rms_norm(x, (4,))),
    ("F.dropout", "dropout", lambda m, x: F(m).dropout(x, 0.5)),
    ("F.dropout(eval)", "dropout", lambda m, x: F(m).dropout(x, 0.5, training=False)),
]

# in place: each writes into a copy of x, so the next case sees the original values
INPLACE = [(f"F.{name}(inplace)", name, lambda m, x, name=name: getattr(F(m), name)(x.clone(), inplace=True))
           for name in ("relu", "relu6", "elu", "selu", "celu", "silu", "mish", "hardswish", "hardsigmoid",
                        "hardtanh", "leaky_relu")]
INPLACE += [
    ("F.threshold(inplace)", "threshold", lambda m, x: F(m).threshold(x.clone(), 0.1, 2.0, inplace=True)),
    ("F.relu_", "relu", lambda m, x: F(m).relu_(x.clone())),
    ("F.elu_", "elu", lambda m, x: F(m).elu_(x.clone())),
    ("F.selu_", "selu", lambda m, x: F(m).selu_(x.clone())),
    ("F.celu_", "celu", lambda m, x: F(m).celu_(x.clone())),
    ("F.leaky_relu_", "leaky_relu", lambda m, x: F(m).leaky_relu_(x.clone())),
    ("F.hardtanh_", "hardtanh", lambda m, x: F(m).hardtanh_(x.clone())),
    ("F.threshold_", "threshold", lambda m, x: F(m).threshold_(x.clone(), 0.1, 2.0)),
    ("x.relu_", "relu", lambda m, x: x.clone().relu_()),
    ("x.abs_", "abs", lambda m, x: x.clone().abs_()),
    ("x.neg_", "neg", lambda m, x: x.clone().neg_()),
]

MODULES = [(f"nn.{cls}", word, lambda m, x, cls=cls, kw=kw: getattr(m.nn, cls)(**kw)(x))
           for cls, word, kw in [("ReLU", "relu", {}), ("ReLU6", "relu6", {}), ("ELU", "elu", {}),
                                 ("GELU", "gelu", {}), ("SiLU", "silu", {}), ("Hardtanh", "hardtanh", {}),
                                 ("LeakyReLU", "leaky_relu", {}), ("Hardshrink", "hardshrink", {}),
                                 ("Softsign", "softsign", {}), ("Softmax", "softmax", {"dim": 1}),
                                 ("Softmin", "softmin", {"dim": 1}), ("Threshold", "threshold",
                                                                      {"threshold": 0.1, "value": 2.0})]]

# Tensor methods called without arguments
UNARY = ["exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "abs", "absolute", "neg", "negative", "sign",
         "floor", "ceil", "round", "trunc", "reciprocal", "rsqrt", "erf", "erfinv", "log1p", "expm1", "log2",
         "log10", "sinh", "cosh", "asin", "acos", "atan", "square", "relu", "sum", "mean", "prod", "std", "var",
         "norm", "max", "min", "amax", "argmax", "argmin", "median", "isnan", "nan_to_num", "t"]
METHODS = [(f"x.{name}", name.replace("absolute", "abs").replace("negative", "neg"),
            lambda m, x, name=name: getattr(x, name)()) for name in UNARY]
METHODS += [
    ("-x", "neg", lambda m, x: -x),
    ("abs(x)", "abs", lambda m, x: abs(x)),
    ("x.round(decimals=1)", "round", lambda m, x: x.round(decimals=1)),
    ("x.round(decimals=0)", "round", lambda m, x: x.round(decimals=0)),
    ("x.cumsum", "cumsum", lambda m, x: x.cumsum(1)),
    ("x.cumprod", "cumprod", lambda m, x: x.cumprod(1)),
    ("x.cumsum(0-d)", "cumsum", lambda m, x: x[0, 0].cumsum(0)),
    ("x.sum(0)", "sum", lambda m, x: x.sum(0)),
    ("x.prod(1)", "prod", lambda m, x: x.prod(1)),
    ("x.sum(dtype=int32)", "sum", lambda m, x: x.sum(dtype=m.int32)),
    ("x.sum(0,dtype=uint8)", "sum", lambda m, x: x.sum(0, dtype=m.uint8)),
    ("x.sum(dtype=bool)", "sum", lambda m, x: x.sum(dtype=m.bool)),
    ("x.prod(0,dtype=int32)", "prod", lambda m, x: x.prod(0, dtype=m.int32)),
    ("x.cumsum(dtype=int32)", "cumsum", lambda m, x: x.cumsum(1, dtype=m.int32)),
    ("x.cumprod(dtype=uint8)", "cumprod", lambda m, x: x.cumprod(1, dtype=m.uint8)),
    ("x.logsumexp", "logsumexp", lambda m, x: x.logsumexp(1)),
    ("x.norm(1)", "norm", lambda m, x: x.norm(1)),
    ("x.norm(dim=1)", "norm", lambda m, x: x.norm(dim=1)),
    ("x.max(1)", "max", lambda m, x: x.max(1)),
    ("x.argmax(1)", "argmax", lambda m, x: x.argmax(1)),
    ("x.argmin(1)", "argmin", lambda m, x: x.argmin(1)),
    ("x.median(1)", "median", lambda m, x: x.median(1)),
    ("x.topk", "topk", lambda m, x: x.topk(2)),
    ("x.kthvalue", "kthvalue", lambda m, x: x.kthvalue(2)),
    ("x.sort", "sort", lambda m, x: x.sort(1)),
    ("x.argsort", "argsort", lambda m, x: x.argsort(1)),
    ("x.softmax", "softmax", lambda m, x: x.softmax(1)),
    ("x.log_softmax", "log_softmax", lambda m, x: x.log_softmax(1)),
    ("x.clamp(0,1)", "clamp", lambda m, x: x.clamp(0, 1)),
]

# the function namespace (chainrule.abs …) reaches the same methods
FUNCTIONS = [(f"m.{name}", name, lambda m, x, name=name: getattr(m, name)(x))
             for name in ("abs", "neg", "sign", "round", "relu", "square", "argmax", "norm", "median", "sum")]
FUNCTIONS += [("m.softmax", "softmax", lambda m, x: m.softmax(x, 1))]

CASES = ACTIVATIONS + INPLACE + MODULES + METHODS + FUNCTIONS


def _outcome(m, fn, dtype: str):
    """(exception, None) or (None, result): ``fn`` on VALUES as ``dtype`` in library ``m``."""
    x = m.tensor(VALUES).to(getattr(m, dtype))
    m.manual_seed(0)   # dropout's mask: the same draws in both
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = fn(m, x)
    except Exception as e:   # noqa: BLE001 (the outcome compared is the exception itself)
        return e, None
    return None, out[0] if isinstance(out, tuple) else out


def test_cases_are_distinct_and_cover_the_class():
    labels = [label for label, _, _ in CASES]
    assert len(set(labels)) == len(labels)
    assert len(CASES) >= 150


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("label, word, fn", CASES, ids=[label for label, _, _ in CASES])
def test_integer_and_bool_inputs_end_as_in_torch(torch, label, word, fn, dtype):
    t_err, t_out = _outcome(torch, fn, dtype)
    c_err, c_out = _outcome(cr, fn, dtype)
    if t_err is not None:
        assert c_err is not None, f"{label} on {dtype}: torch raises {type(t_err).__name__} ({t_err}), " \
                                  f"chainrule returns a {c_out.dtype} result"
        assert type(c_err).__name__ == type(t_err).__name__, \
            f"{label} on {dtype}: torch raises {type(t_err).__name__}, chainrule {type(c_err).__name__}: {c_err}"
        inner = traceback.extract_tb(c_err.__traceback__)[-1].filename
        assert "/numpy/" not in inner, f"{label} on {dtype}: a raw NumPy error escaped: {c_err}"
        message = str(c_err).lower()
        assert word in message and dtype in message, \
            f"{label} on {dtype}: the error does not name the op {word!r} and the dtype: {c_err}"
        return
    assert c_err is None, f"{label} on {dtype}: torch returns {t_out.dtype}, chainrule raises " \
                          f"{type(c_err).__name__}: {c_err}"
    assert str(c_out.dtype).split(".")[-1] == str(t_out.dtype).split(".")[-1], \
        f"{label} on {dtype}: torch returns {t_out.dtype}, chainrule {c_out.dtype}"
    got, want = np.asarray(c_out.tolist()), np.asarray(t_out.tolist())
    assert got.shape == want.shape, f"{label} on {dtype}: shape {got.shape}, torch {want.shape}"
    if want.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=f"{label} on {dtype}")
    else:
        np.testing.assert_array_equal(got, want, err_msg=f"{label} on {dtype}")


@pytest.mark.parametrize("dtype", ["int64", "uint8", "bool"])
def test_the_error_says_what_the_op_needs(dtype):
    x = cr.tensor(VALUES).to(getattr(cr, dtype))
    with pytest.raises(NotImplementedError, match=f"silu: not implemented for {dtype} inputs: it needs a "
                                                  r"floating point tensor; convert with \.float\(\)"):
        cr.nn.functional.silu(x)
    with pytest.raises(RuntimeError, match="norm: .*floating point"):
        x.norm()

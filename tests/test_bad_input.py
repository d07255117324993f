"""Bad input gets an error that teaches, never a number: the mistakes students make, one row each.

Every row runs in PyTorch too (where PyTorch raises, chainrule must raise), and chainrule's error
must name the op and what was expected (the row's words), and must not be a raw NumPy error (the
innermost frame of the traceback is not inside NumPy).
"""

from __future__ import annotations

import traceback
import warnings

import numpy as np
import pytest

import chainrule as cr

ERRORS = (RuntimeError, ValueError, TypeError, IndexError, ZeroDivisionError)

# (code run with m = torch or chainrule, words chainrule's message must contain)
MISTAKES = [
    ("F.binary_cross_entropy(m.tensor([1.5]), m.tensor([1.]))", ["binary_cross_entropy", "input", "0 and 1"]),
    ("F.binary_cross_entropy(m.tensor([-0.1, 0.5]), m.tensor([0., 1.]))", ["binary_cross_entropy", "input"]),
    ("F.binary_cross_entropy(m.tensor([float('nan')]), m.tensor([1.]))", ["binary_cross_entropy", "input"]),
    ("F.binary_cross_entropy(m.tensor([0.5]), m.tensor([1.5]))", ["binary_cross_entropy", "target", "0 and 1"]),
    ("m.nn.BCELoss()(m.tensor([0.5]), m.tensor([-2.]))", ["binary_cross_entropy", "target"]),
    ("m.tensor([3, 4]) // 0", ["division by zero"]),
    ("m.tensor([3, 4]) % 0", ["division by zero"]),
    ("m.tensor([3, 4]) // m.tensor([1, 0])", ["division by zero"]),
    ("m.tensor([3, 4]) % m.tensor([1, 0])", ["division by zero"]),
    ("m.tensor([3]).div(0, rounding_mode='floor')", ["division by zero"]),
    ("m.tensor([3]).div(m.tensor([0]), rounding_mode='trunc')", ["division by zero"]),
    ("m.tensor([[1, 2], [3]])", ["tensor", "length"]),
    ("m.tensor([[1.0, 2.0], 3.0])", ["tensor"]),
    ("m.ones(-1)", ["ones", "-1"]),
    ("m.zeros(2, -3)", ["zeros", "-3"]),
    ("m.empty((-2,))", ["empty", "-2"]),
    ("m.randn(-1, 2)", ["randn", "-1"]),
    ("m.full((-1,), 2.0)", ["full", "-1"]),
    ("m.nn.Linear(3, 2).load_state_dict({0: m.ones(2, 3)})", ["load_state_dict", "0"]),
    ("m.nn.Linear(3, 2)(np.ones((1, 3), dtype=np.float32))", ["linear", "Tensor", "ndarray"]),
    ("F.mse_loss(m.ones(2), m.ones(3))", ["mse_loss", "2", "3"]),
    ("F.binary_cross_entropy(m.ones(3, 1) / 2, m.ones(3))", ["binary_cross_entropy", "(3,)", "(3, 1)"]),
    ("F.binary_cross_entropy_with_logits(m.ones(3, 1), m.ones(3))", ["binary_cross_entropy_with_logits", "size"]),
    ("F.cross_entropy(m.ones(2, 3), m.tensor([0, 3]))", ["cross_entropy", "3"]),
    ("F.cross_entropy(m.ones(2, 3), m.tensor([0, -1]))", ["cross_entropy", "-1"]),
    ("F.nll_loss(m.ones(2, 3), m.tensor([[0], [1]]))", ["nll_loss"]),
    ("m.ones(2, 3) @ m.ones(2, 3)", ["matmul", "(2, 3)"]),
    ("m.ones(2, 3) + m.ones(4)", ["add", "3", "4"]),
    ("m.nn.Linear(3, 4)(m.ones(2, 5))", ["linear", "5", "3"]),
    ("m.nn.Conv2d(3, 8, 3)(m.ones(2, 1, 5, 5))", ["conv2d", "3", "1"]),
    ("m.nn.Conv2d(3, 8, 3)(m.ones(1, 3, 2, 2))", ["conv2d", "kernel"]),
    ("m.nn.Conv2d(3, 8, 3)(m.ones(5, 5))", ["conv2d"]),
    ("F.max_pool2d(m.ones(1, 1, 2, 2), 3)", ["max_pool2d"]),
    ("F.embedding(m.tensor([5]), m.ones(3, 2))", ["embedding", "5"]),
    ("F.embedding(m.tensor([0.5]), m.ones(3, 2))", ["embedding"]),
    ("m.nn.BatchNorm1d(3)(m.ones(1, 3))", ["batch_norm", "1"]),
    ("m.ones(2, 3).index_select(0, m.tensor([-1]))", ["index_select", "-1"]),
    ("m.ones(2, 3).sum(dim=2)", ["sum", "2"]),
    ("m.ones(2, 3).transpose(0, 2)", ["transpose", "2"]),
    ("m.ones(2, 3).permute(0, 0)", ["permute"]),
    ("m.ones(2, 3).expand(3, 3)", ["expand"]),
    ("m.ones(3)[5]", ["5", "3"]),
    ("m.ones(2, 3)[:, 4]", ["4", "3"]),
    ("m.cat([])", ["cat"]),
    ("m.cat([m.ones(2, 3), m.ones(2, 4)])", ["cat", "3", "4"]),
    ("m.stack([m.ones(2), m.ones(3)])", ["stack", "(2,)", "(3,)"]),
    ("m.tensor([1, 2]).mean()", ["mean", "float"]),
    ("m.ones(2).item()", ["item", "2"]),
    ("m.ones(2, requires_grad=True).numpy()", ["numpy", "requires grad"]),
    ("m.ones(2, dtype=m.int64, requires_grad=True)", ["float"]),
    ("m.ones(2, requires_grad=True).sum().backward() or m.ones(2, requires_grad=True).backward()", ["scalar"]),
    ("m.ones(2).sum().backward()", ["grad"]),
    ("m.optim.SGD([], lr=0.1)", ["empty"]),
    ("m.optim.SGD(m.nn.Linear(2, 2).parameters(), lr=-1)", ["learning rate", "-1"]),
    ("m.optim.Adam(m.nn.Linear(2, 2).parameters(), betas=(1.5, 0.9))", ["beta", "1.5"]),
    ("m.ones(2).to('cuda:0')", ["cuda"]),
    ("m.ones(2, 3).gather(1, m.tensor([[0, 5]]))", ["gather", "5"]),
    ("m.ones(2, 3).gather(1, m.tensor([0, 1]))", ["gather", "dimensions"]),
    ("m.ones(2, 3).gather(1, m.tensor([[0], [1], [2]]))", ["gather", "index"]),
    ("m.ones(2, 3).scatter(1, m.tensor([[0, 5]]), 1.0)", ["scatter", "5"]),
    ("m.ones(2, 3).index_select(0, m.tensor([2]))", ["index_select", "2"]),
    ("F.one_hot(m.tensor([3]), 2)", ["one_hot"]),
    ("F.linear(m.ones(2, 3), m.ones(3, 3, dtype=m.float64))", ["linear", "float64"]),
    ("m.ones(2, 3).masked_fill(m.ones(2, 3), 0.0)", ["masked_fill", "bool"]),
    ("m.where(m.ones(2) > 0, m.ones(3), m.ones(2))", ["where", "3"]),
]


def _run(m, code: str):
    return eval(code, {"m": m, "F": m.nn.functional, "np": np})


@pytest.mark.parametrize("code, words", MISTAKES, ids=[c for c, _ in MISTAKES])
def test_mistake_raises_a_teaching_error(torch, code, words):
    with pytest.raises(ERRORS + (AttributeError, AssertionError)):   # a real mistake: PyTorch refuses it too
        _run(torch, code)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            _run(cr, code)
        except ERRORS as e:
            err = e
        else:
            pytest.fail(f"{code}: chainrule returns a value where torch raises")
    inner = traceback.extract_tb(err.__traceback__)[-1].filename
    assert "/numpy/" not in inner, f"{code}: a raw NumPy error escaped: {type(err).__name__}: {err}"
    message = str(err)
    missing = [w for w in words if w.lower() not in message.lower()]
    assert not missing, f"{code}: the error does not mention {missing}: {type(err).__name__}: {message}"


@pytest.mark.parametrize("code", ["m.tensor([3, 4]) // 0", "m.tensor([3, 4]) % m.tensor([1, 0])",
                                  "m.tensor(5) // m.tensor(0)", "m.remainder(m.tensor([3]), 0)"])
def test_integer_division_by_zero_raises_zero_division_error(code):
    """PyTorch raises (RuntimeError: ZeroDivisionError); chainrule raises an error that is both."""
    with pytest.raises(ZeroDivisionError):
        _run(cr, code)
    with pytest.raises(RuntimeError):
        _run(cr, code)


def test_float_division_by_zero_is_not_an_error():
    assert _run(cr, "m.tensor([3.0, -1.0]) // 0").tolist() == [float("inf"), float("-inf")]


WARNS = [
    ("F.mse_loss(m.ones(3, 1), m.ones(3))", "target size"),
    ("F.l1_loss(m.ones(3, 1), m.ones(3))", "target size"),
    ("F.smooth_l1_loss(m.ones(3, 1), m.ones(3))", "target size"),
    ("F.huber_loss(m.ones(3, 1), m.ones(3))", "target size"),
    ("m.nn.MSELoss()(m.ones(2, 1), m.ones(1, 2))", "target size"),
    ("F.softmax(m.ones(2, 3))", "dim"),
    ("F.log_softmax(m.ones(2, 3))", "dim"),
    ("m.nn.Softmax()(m.ones(2, 3))", "dim"),
    ("m.nn.LogSoftmax()(m.ones(2, 3))", "dim"),
]


@pytest.mark.parametrize("code, word", WARNS, ids=[c for c, _ in WARNS])
def test_warns_where_torch_warns(torch, code, word):
    for m in (torch, cr):
        with pytest.warns(UserWarning, match=f"(?i){word}"):
            _run(m, code)


@pytest.mark.parametrize("code", ["F.mse_loss(m.ones(3), m.ones(3))", "F.softmax(m.ones(2, 3), dim=1)",
                                  "F.l1_loss(m.ones(2, 3), m.ones(2, 3))", "m.nn.Softmax(dim=0)(m.ones(2))"])
def test_no_warning_when_shapes_and_dims_are_given(code):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _run(cr, code)

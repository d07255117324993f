"""Anomaly detection: the first NaN/inf is reported with its op, the user's line and a hint."""

from __future__ import annotations

import math

import pytest

import chainrule as cr
from chainrule.autograd import engine, function

# NumPy's own "divide by zero" RuntimeWarnings are expected here: these tests make NaNs on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def test_planted_log_of_zero_in_a_bce_on_probabilities_is_caught():
    p = cr.tensor([0.9, 0.0, 0.3], requires_grad=True)  # a probability that hit exactly 0
    y = cr.tensor([1.0, 1.0, 0.0])
    with pytest.raises(RuntimeError) as err, cr.autograd.detect_anomaly():
        loss = -(y * p.log() + (1 - y) * (1 - p).log()).mean()  # noqa: F841
    msg = str(err.value)
    assert msg.startswith("Function 'LogBackward0' produced inf values in its forward output")
    assert "test_anomaly.py:" in msg and "p.log()" in msg
    assert "BCEWithLogitsLoss" in msg


def test_nan_in_backward_names_the_op_and_its_forward_site():
    x = cr.tensor([4.0, 0.0], requires_grad=True)
    with cr.autograd.detect_anomaly():
        r = x.sqrt().sum()   # forward is finite; d sqrt/dx = inf at 0
        with pytest.raises(RuntimeError, match="Function 'SqrtBackward0' returned inf values in its 0th output"
                           ) as err:
            r.backward()
    assert "test_anomaly.py:" in str(err.value) and "x.sqrt()" in str(err.value)
    assert "sqrt(x + eps)" in str(err.value)


def test_division_by_zero_hint_and_metadata():
    a = cr.tensor([1.0], requires_grad=True)
    with cr.autograd.detect_anomaly():
        b = a * 2
        assert "test_anomaly.py" in b.grad_fn.metadata["created_at"]
        assert b.grad_fn.metadata["traceback_"]
        with pytest.raises(RuntimeError, match="division by zero"):
            _ = b / cr.tensor([0.0])


def test_deliberate_infinities_are_not_flagged():
    scores = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    mask = cr.tensor([False, True, False])
    with cr.autograd.detect_anomaly():
        probs = scores.masked_fill(mask, float("-inf")).softmax(dim=0)
        probs[0].backward()
    assert probs[1].item() == 0.0 and scores.grad is not None


def test_switching_on_and_off_leaves_no_observers():
    before = (list(engine.observers), list(function.forward_observers))
    assert not cr.autograd.is_anomaly_enabled()
    with cr.autograd.detect_anomaly():
        assert cr.autograd.is_anomaly_enabled()
    cr.autograd.set_detect_anomaly(True)
    assert cr.autograd.is_anomaly_enabled()
    cr.autograd.set_detect_anomaly(False)
    assert not cr.autograd.is_anomaly_enabled()
    with cr.autograd.set_detect_anomaly(True):
        assert cr.autograd.is_anomaly_enabled()
    assert not cr.autograd.is_anomaly_enabled()
    assert (list(engine.observers), list(function.forward_observers)) == before
    x = cr.tensor([0.0], requires_grad=True)
    assert math.isnan((x.log() * 0).sum().item())  # -inf * 0 = nan: no error when anomaly mode is off

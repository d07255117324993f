"""The teaching lint: each mistake warns once, says what to do, and correct loops stay silent."""

from __future__ import annotations

import importlib
import warnings

import pytest

import chainrule as cr
import chainrule.inspect as ins
from chainrule.autograd import engine, function

lint_module = importlib.import_module("chainrule.inspect.lint")  # the name `lint` is the context manager


def run(fn):
    with warnings.catch_warnings(record=True) as caught, ins.lint():
        warnings.simplefilter("always")
        fn()
    return [str(w.message) for w in caught if w.category is ins.ChainruleLintWarning]


def sgd_loop(zero: bool, log_with_item: bool, steps: int = 3):
    cr.manual_seed(0)
    w = cr.randn(3, requires_grad=True)
    x = cr.randn(3)
    total = 0.0
    for _ in range(steps):
        if zero:
            w.grad = None
        loss = ((w * x).sum() - 1.0) ** 2
        loss.backward()
        total = total + (loss.item() if log_with_item else loss)
        with cr.no_grad():
            w -= 0.1 * w.grad
    return total


def test_forgotten_zero_grad_warns_once_with_the_fix():
    msgs = run(lambda: sgd_loop(zero=False, log_with_item=True))
    assert len(msgs) == 1
    assert "adds a new gradient onto the old .grad" in msgs[0] and "optimizer.zero_grad()" in msgs[0]
    assert "test_lint.py" in msgs[0]


def test_summing_losses_with_their_graphs_warns():
    msgs = run(lambda: sgd_loop(zero=True, log_with_item=False))
    assert len(msgs) == 1 and "total += loss.item()" in msgs[0]


def test_correct_loop_is_silent():
    assert run(lambda: sgd_loop(zero=True, log_with_item=True, steps=4)) == []

    def zeroed_in_place():  # .grad.zero_() instead of None is fine too
        w = cr.ones(2, requires_grad=True)
        for _ in range(3):
            if w.grad is not None:
                w.grad.zero_()
            (w * w).sum().backward()
            with cr.no_grad():
                w -= 0.1 * w.grad
    assert run(zeroed_in_place) == []


def test_float64_promotion_warns():
    def mixed():
        w = cr.ones(3, requires_grad=True)
        return w * cr.tensor([1.0, 2.0, 3.0], dtype=cr.float64)
    msgs = run(mixed)
    assert len(msgs) == 1 and "mixed a float32 and a float64" in msgs[0] and "dtype=chainrule.float32" in msgs[0]
    assert "test_lint.py" in msgs[0]
    assert run(lambda: cr.ones(3, requires_grad=True).double() * 2) == []  # explicit: no warning


def test_inplace_change_of_a_saved_tensor_names_both_lines():
    def bad():
        a = cr.ones(3, requires_grad=True)
        b = a * 2
        c = b * b  # noqa: F841  (MulBackward0 saves b)
        b.mul_(3)
    msgs = run(bad)
    assert len(msgs) == 1
    assert "mul_ at " in msgs[0] and "(b.mul_(3))" in msgs[0] and "saved for backward at " in msgs[0] and "(c = b * b" in msgs[0]
    assert "clone()" in msgs[0]


def test_enable_disable_and_no_cost_when_off():
    before = (list(engine.observers), list(function.forward_observers))
    ins.enable_lint()
    assert len(engine.observers) == len(before[0]) + 1
    ins.disable_lint()
    assert (list(engine.observers), list(function.forward_observers)) == before
    with warnings.catch_warnings():
        warnings.simplefilter("error", ins.ChainruleLintWarning)
        sgd_loop(zero=False, log_with_item=False)  # lint is off: no warning


def test_lint_keeps_nothing_from_dead_graphs():
    def loop():
        w = cr.ones(4, requires_grad=True)
        for _ in range(50):
            w.grad = None
            (w * w).sum().backward()
    with ins.lint():
        loop()
        (watcher,) = lint_module._enabled
        assert watcher.saved == {}  # MulBackward0 saved w 50 times; each record left with its graph


@pytest.mark.parametrize("steps", [5])
def test_each_warning_only_once(steps):
    msgs = run(lambda: sgd_loop(zero=False, log_with_item=False, steps=steps))
    assert len(msgs) == 2

"""Grad mode is per thread, as in PyTorch: two threads can train two models at once.

A ``no_grad`` block in one thread (``optimizer.step()`` runs in one) must not switch recording off
in another, and two models trained in two threads must end bit-identical to training them one
after the other.
"""

from __future__ import annotations

import threading

import chainrule as cr
from chainrule import nn, optim


def _in_thread(fn):
    out = {}

    def run():
        try:
            out["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - re-raised in the main thread
            out["error"] = e

    t = threading.Thread(target=run)
    t.start()
    t.join(timeout=60)
    if "error" in out:
        raise out["error"]
    return out["value"]


def test_no_grad_in_one_thread_does_not_reach_another():
    inside, done = threading.Event(), threading.Event()

    def hold_no_grad():
        with cr.no_grad():
            inside.set()
            done.wait(timeout=30)
            return cr.is_grad_enabled()

    holder = threading.Thread(target=hold_no_grad)
    holder.start()
    assert inside.wait(timeout=30)
    try:
        x = cr.ones(3, requires_grad=True)
        y = x * 2                              # recorded here although the other thread is in no_grad
        assert cr.is_grad_enabled() and y.requires_grad and y.grad_fn is not None
    finally:
        done.set()
        holder.join(timeout=30)


def test_each_thread_starts_with_grad_enabled():
    with cr.no_grad():
        assert _in_thread(cr.is_grad_enabled) is True
        with cr.set_grad_enabled(True):
            pass
        assert not cr.is_grad_enabled()
    with cr.inference_mode():
        assert _in_thread(cr.is_inference_mode_enabled) is False


def test_set_grad_enabled_and_inference_mode_are_per_thread():
    def other():
        cr.set_grad_enabled(False)             # the function form, left switched off in that thread
        with cr.inference_mode():
            return cr.is_grad_enabled(), cr.is_inference_mode_enabled()

    assert _in_thread(other) == (False, True)
    assert cr.is_grad_enabled() and not cr.is_inference_mode_enabled()


def _setup(seed: int):
    cr.manual_seed(seed)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 3))
    data = cr.randn(64, 8)
    target = cr.randint(0, 3, (64,))
    return model, data, target


def _train(model, data, target, steps: int, barrier=None):
    opt = optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    for step in range(steps):
        if barrier is not None:
            barrier.wait(timeout=60)           # lockstep: one thread's step() overlaps the other's forward
        for i in range(0, 64, 16):
            opt.zero_grad()
            loss = loss_fn(model(data[i:i + 16]), target[i:i + 16])
            loss.backward()
            opt.step()
    return [p.detach().numpy().copy() for p in model.parameters()]


def test_two_threads_train_two_models_bit_identical_to_sequential():
    steps = 15
    sequential = [_train(*_setup(seed), steps) for seed in (1, 2)]
    setups = [_setup(seed) for seed in (1, 2)]   # made in this thread: the global RNG is not raced for
    barrier = threading.Barrier(2)
    results, errors = [None, None], []

    def worker(k):
        try:
            results[k] = _train(*setups[k], steps, barrier)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    for k in (0, 1):
        for p_thread, p_seq in zip(results[k], sequential[k]):
            assert (p_thread == p_seq).all(), f"model {k}: threaded training differs from sequential"

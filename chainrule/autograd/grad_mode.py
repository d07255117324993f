"""Grad mode: whether new operations are recorded into the graph.

``no_grad``, ``enable_grad``, ``set_grad_enabled`` and ``inference_mode`` work as context
managers and as decorators, like PyTorch's. The flags live on one module-level object so the
per-op check is a single attribute read.

As in PyTorch, grad mode is per thread: a ``no_grad`` block in one thread (an ``optimizer.step()``)
never switches recording off in another, and every new thread starts with grad mode on. The object
is a ``threading.local``, so the per-op read stays one attribute read (a per-thread dict lookup).
"""

from __future__ import annotations

import functools
import threading


class _State(threading.local):
    """The current thread's flags; ``__init__`` runs once in each thread that reads them."""

    def __init__(self):
        self.enabled = True
        self.inference = False
        self.observed = False  # some forward observer (anomaly mode, teaching lint) is active here


state = _State()


def is_grad_enabled() -> bool:
    return state.enabled


def is_inference_mode_enabled() -> bool:
    return state.inference


class _DecoratorContext:
    """A context manager that can also decorate a function (PyTorch's ``_DecoratorContextManager``)."""

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args()):
                return func(*args, **kwargs)
        return wrapper

    def _args(self) -> tuple:
        return ()


class no_grad(_DecoratorContext):
    """Disable graph recording inside the block: results have ``requires_grad=False``.

    >>> import chainrule as cr
    >>> w = cr.ones(2, requires_grad=True)
    >>> with cr.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """

    def __enter__(self):
        self.prev = state.enabled
        state.enabled = False

    def __exit__(self, *exc):
        state.enabled = self.prev


class enable_grad(_DecoratorContext):
    """Re-enable graph recording inside a ``no_grad`` block."""

    def __enter__(self):
        self.prev = state.enabled
        state.enabled = True

    def __exit__(self, *exc):
        state.enabled = self.prev


class set_grad_enabled(_DecoratorContext):
    """Set grad mode on or off; takes effect immediately (as a function) or for a block."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self.prev = state.enabled
        state.enabled = self.mode

    def _args(self) -> tuple:
        return (self.mode,)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        state.enabled = self.prev


class inference_mode(_DecoratorContext):
    """Like ``no_grad`` (chainrule has no separate inference tensors; the speed gain is the same)."""

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)

    def _args(self) -> tuple:
        return (self.mode,)

    def __enter__(self):
        self.prev = (state.enabled, state.inference)
        if self.mode:
            state.enabled, state.inference = False, True

    def __exit__(self, *exc):
        state.enabled, state.inference = self.prev

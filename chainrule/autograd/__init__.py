"""Reverse-mode automatic differentiation: ``backward``, ``grad``, ``Function`` and grad modes.

``backward()`` and ``grad()`` are thin layers over one engine (``engine.run_backward``): the
first accumulates into leaves' ``.grad``, the second returns the gradients.
"""

from __future__ import annotations

from ..backend import xp
from . import engine
from .function import AccumulateGrad, Function, Node, hooks
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)

__all__ = [
    "Function",
    "Node",
    "backward",
    "enable_grad",
    "grad",
    "inference_mode",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "no_grad",
    "set_grad_enabled",
]


def _as_tuple(x) -> tuple:
    if x is None:
        return ()
    if isinstance(x, (tuple, list)):
        return tuple(x)
    return (x,)


def _root_edge(t, i: int):
    if not t.requires_grad:
        raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
    if t.grad_fn is None:
        return t._accumulator(), 0
    return t.grad_fn, t._output_nr


def _root_grad(t, g, i: int, create_graph: bool):
    T = hooks.Tensor
    if g is None:
        if t._data.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs (output {i} has "
                               f"shape {tuple(t.shape)}); pass gradient= with that shape")
        g = T._make(xp.ones_like(t._data))
    elif not isinstance(g, T):
        raise TypeError(f"gradients can be either Tensors or None, but got {type(g).__name__} (gradient {i} "
                        f"for an output of shape {tuple(t.shape)}); pass chainrule.tensor(...) of that shape")
    if tuple(g.shape) != tuple(t.shape):
        raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {tuple(g.shape)} and "
                           f"output[{i}] has a shape of {tuple(t.shape)}.")
    if g._data.dtype != t._data.dtype:
        g = g.to(t._data.dtype)
    return g if create_graph else g._data


def _capture(inputs) -> dict:
    capture = {}
    for slot, t in enumerate(inputs):
        if not isinstance(t, hooks.Tensor):
            raise TypeError(f"inputs[{slot}] must be a Tensor, got {type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (input {slot}) does not require grad")
        node = t.grad_fn if t.grad_fn is not None else t._accumulator()
        capture.setdefault(node, []).append((slot, t._output_nr))
    return capture


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph: bool = False, inputs=None) -> None:
    """Accumulate d(tensors)/d(leaf) into every leaf's ``.grad`` (or only into ``inputs``)."""
    tensors = _as_tuple(tensors)
    grads = _as_tuple(grad_tensors) or (None,) * len(tensors)
    if len(grads) != len(tensors):
        raise RuntimeError(f"got {len(grads)} gradients for {len(tensors)} tensors")
    if retain_graph is None:
        retain_graph = create_graph
    roots = [_root_edge(t, i) for i, t in enumerate(tensors)]
    root_grads = [_root_grad(t, g, i, create_graph) for i, (t, g) in enumerate(zip(tensors, grads))]
    if inputs is None:
        engine.run_backward(roots, root_grads, retain_graph, create_graph)
        return
    inputs = _as_tuple(inputs)
    captured = engine.run_backward(roots, root_grads, retain_graph, create_graph,
                                   capture=_capture(inputs), accumulate=False)
    T = hooks.Tensor
    for t, g in zip(inputs, captured):
        if g is None:
            continue
        g = g if isinstance(g, T) else T._make(g.copy())
        t._grad = g if t._grad is None else t._grad + g


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False,
         allow_unused: bool = False, materialize_grads: bool = False):
    """Return d(outputs)/d(inputs) without touching any ``.grad``.

    >>> import chainrule as cr
    >>> x = cr.tensor(3.0, requires_grad=True)
    >>> (dx,) = cr.autograd.grad(x ** 2, x, create_graph=True)
    >>> dx, cr.autograd.grad(dx, x)[0]
    (tensor(6., grad_fn=<MulBackward0>), tensor(2.))
    """
    T = hooks.Tensor
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    grads = _as_tuple(grad_outputs) or (None,) * len(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    roots = [_root_edge(t, i) for i, t in enumerate(outputs)]
    root_grads = [_root_grad(t, g, i, create_graph) for i, (t, g) in enumerate(zip(outputs, grads))]
    captured = engine.run_backward(roots, root_grads, retain_graph, create_graph,
                                   capture=_capture(inputs), accumulate=False)
    result = []
    for i, (t, g) in enumerate(zip(inputs, captured)):
        if g is None:
            if materialize_grads:
                result.append(T._make(t._data * 0))
                continue
            if not allow_unused:
                raise RuntimeError(f"One of the differentiated Tensors (input {i}, shape {tuple(t.shape)}) "
                                   f"appears to not have been used in the graph. Set allow_unused=True if "
                                   f"this is the desired behavior.")
            result.append(None)
        else:
            result.append(g if isinstance(g, T) else T._make(g))
    return tuple(result)


# functional needs grad() above; imported here so that `import chainrule` is enough to use it
from . import functional
from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

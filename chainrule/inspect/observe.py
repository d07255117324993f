"""How the inspect tools watch the engine: a step recorder, one observed backward run, local derivatives.

Nothing here computes a gradient of its own. ``live_run`` runs ``autograd.grad`` with an engine
observer attached and keeps what the engine handed it at each step; ``unit_backward`` asks the
engine's own ``run_node`` for an op's local derivatives (its backward at upstream gradient 1).
``explain`` and ``stepper`` both read these, so they show the same numbers as training does.
"""

from __future__ import annotations

from ..autograd import engine
from ..autograd import grad as autograd_grad
from ..autograd.engine import run_node
from ..autograd.function import FREED_MESSAGE
from ..backend import xp
from ..tensor import Tensor
from .walk import out_shape, root_node, tensor_edges


class StepRecorder:
    """Engine observer: copies what arrives at and leaves each op during one backward pass."""

    def __init__(self):
        self.steps = []

    def node_done(self, node, grad_output, grad_inputs) -> None:
        # the engine hands over each input's gradient already summed to that input's shape
        sent = {}
        for _, i, nxt in tensor_edges(node):
            gi = grad_inputs[i]
            if nxt is None or gi is None:
                continue
            sent[i] = xp.array(gi._data if isinstance(gi, Tensor) else gi, copy=True)
        g = grad_output._data if isinstance(grad_output, Tensor) else grad_output
        self.steps.append((node, xp.array(g, copy=True), sent))

    def leaf_done(self, tensor, grad) -> None:
        pass


class BackwardRun:
    """One observed backward pass: ``steps`` [(op node, gradient arriving, {forward index: gradient sent,
    summed to that input's shape})] in the engine's order, and ``grads`` {input node: its gradient}."""

    def __init__(self, steps: list, grads: dict):
        self.steps = steps
        self.grads = grads


def live_run(output, inputs: list) -> BackwardRun:
    """``autograd.grad(output, inputs, retain_graph=True)`` with a ``StepRecorder`` attached. ``.grad`` is
    not touched and the graph stays usable. Raises the engine's RuntimeError if the graph was freed."""
    recorder = StepRecorder()
    engine.observers.append(recorder)
    try:
        grads = autograd_grad(output, inputs, retain_graph=True, allow_unused=True)
    finally:
        engine.observers.remove(recorder)
    targets = [root_node(t) for t in inputs]
    return BackwardRun(recorder.steps, {n: g._data for n, g in zip(targets, grads) if g is not None})


def is_freed(error: BaseException) -> bool:
    """Is this the engine's 'saved values were freed' error (a second backward without retain_graph)?"""
    return isinstance(error, RuntimeError) and str(error) == FREED_MESSAGE


def unit_backward(node, g=None) -> dict:
    """``{forward index: gradient}`` from running ``node``'s own backward with upstream ``g`` (default 1,
    which for a one-element output gives the exact local derivatives ∂out/∂input), summed to each
    input's shape."""
    if g is None:
        g = xp.ones(out_shape(node), dtype=node._out_dtype)
    if node._num_outputs > 1:
        raise ValueError(f"explain: {node.name()} has {node._num_outputs} outputs; route explanations "
                         f"and Jacobians support single-output ops only (use mode='steps')")
    out = run_node(node, g)     # the engine's own step, so explanations and training agree
    return {i: xp.asarray(out[i]) for _, i, nxt in tensor_edges(node) if nxt is not None and out[i] is not None}

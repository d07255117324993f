"""Recording intermediate values and gradients while a ``with record():`` block runs.

A graph holds no tensors (only what backward needs), so after the forward pass the values of
unnamed intermediate tensors are gone. Inside ``with chainrule.inspect.record():`` a forward
observer copies each new op's output (small tensors only, see ``max_numel``) and remembers its
arguments weakly, and an engine observer copies the gradient arriving at each op and the
gradient it sends along each edge. Drawings and explanations made later read these records.
Outside the block nothing is recorded and nothing is paid.

Records are keyed weakly by node: they disappear together with the graph.

Recording is what lets ``explain`` and ``stepper`` work *after* ``backward()`` has freed the graph's
saved values (the order of a notebook: compute, backward, look at ``.grad``, ask why): they then read
the engine's recorded steps instead of running backward again. In a notebook, where forward,
backward and explanation sit in different cells, ``start_recording()`` turns recording on until
``stop_recording()``. Without recording, backward frees the graph exactly as PyTorch does.

``record(model)`` also tags each op with the module whose ``forward`` created it (through the
module's forward pre-/post-hooks), so ``graph(..., collapse=model)`` can draw a module as one box.
"""

from __future__ import annotations

import contextlib
import itertools
import weakref

from ..autograd import engine
from ..autograd.function import AccumulateGrad, add_forward_observer, remove_forward_observer
from ..tensor import Tensor
from .observe import BackwardRun, is_freed, live_run, unit_backward
from .walk import collect, out_shape, root_node, tensor_edges

values: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()      # node -> output array copy
arguments: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # node -> (weakref | number getter | None, ...)
grads: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()       # node -> gradient at its output
edge_grads: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # node -> {forward index: grad}
module_of: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # node -> ("fc1", ...) module path
order: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()       # node -> when the engine ran it
local: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()       # one-number op -> {index: ∂out/∂input}
_clock = itertools.count()


def _copy(a, max_numel):
    a = a._data if isinstance(a, Tensor) else a
    if a is None or getattr(a, "size", max_numel + 1) > max_numel:
        return None
    return a.copy()


class _Recorder:
    def __init__(self, max_numel: int):
        self.max_numel = max_numel
        self.module_stack: list = []

    # forward observer
    def node_created(self, node, args, result) -> None:
        first = result[0] if isinstance(result, tuple) else result
        v = _copy(first, self.max_numel)
        if v is not None:
            values[node] = v
        T = Tensor
        arguments[node] = tuple(weakref.ref(a) if isinstance(a, T) else
                                (lambda v=a: v) if isinstance(a, (int, float)) else None for a in args)
        if self.module_stack:
            module_of[node] = tuple(self.module_stack)

    def inplace(self, tensor, op_name) -> None:
        pass

    # engine observer
    def node_done(self, node, grad_output, grad_inputs) -> None:
        g = _copy(grad_output, self.max_numel)
        if g is not None:
            grads[node] = g
        sent = {}
        for _, i, nxt in tensor_edges(node):
            gi = grad_inputs[i]           # already summed to the input's shape by the engine
            if nxt is None or gi is None:
                continue
            gi = _copy(gi, self.max_numel)
            if gi is not None:
                sent[i] = gi
        edge_grads[node] = sent
        order[node] = next(_clock)
        if node._num_outputs == 1 and _size(node) == 1:
            # while the saved values still exist: the op's local derivatives, from its own backward
            local[node] = {i: v.copy() for i, v in unit_backward(node).items()}

    def leaf_done(self, tensor, grad) -> None:
        pass


def _module_hooks(recorder, modules) -> list:
    """Forward pre/post hooks that keep ``recorder.module_stack`` = the module path being run."""
    handles = []
    if modules is None:
        return handles
    for top in modules if isinstance(modules, (list, tuple)) else [modules]:
        if not hasattr(top, "named_modules") or not hasattr(top, "register_forward_pre_hook"):
            raise TypeError(f"record: expected nn.Module objects (with named_modules() and forward hooks), "
                            f"got {type(top).__name__}")
        for name, m in top.named_modules():
            if not name:
                continue

            def pre(module, inputs, _name=name):
                recorder.module_stack.append(_name)

            def post(module, inputs, output):
                if recorder.module_stack:
                    recorder.module_stack.pop()

            handles.append(m.register_forward_pre_hook(pre))
            handles.append(m.register_forward_hook(post))
    return handles


def _size(node) -> int:
    n = 1
    for s in out_shape(node):
        n *= s
    return n


def _start(modules, max_numel):
    recorder = _Recorder(max_numel)
    recorder.handles = _module_hooks(recorder, modules)
    add_forward_observer(recorder)
    engine.observers.append(recorder)
    return recorder


def _stop(recorder) -> None:
    remove_forward_observer(recorder)
    if recorder in engine.observers:
        engine.observers.remove(recorder)
    for h in recorder.handles:
        h.remove()


_session: list = []  # the recorder started by start_recording(), if any


def start_recording(modules=None, max_numel: int = 10_000) -> None:
    """Record (as ``record()`` does) from now until ``stop_recording()``: for notebooks, where the forward
    pass, ``backward()`` and ``explain()`` are in different cells. Calling it again restarts it.

    >>> import chainrule as cr
    >>> cr.inspect.start_recording()
    >>> a = cr.tensor(4.0, requires_grad=True); b = cr.tensor(3.0, requires_grad=True)
    >>> c = a + b; d = a * c
    >>> d.backward()                      # frees the graph's saved values, as in PyTorch
    >>> cr.inspect.explain(d).totals      # still explained, from the engine's recorded steps
    {'a': 11.0, 'b': 4.0}
    >>> cr.inspect.stop_recording()
    """
    stop_recording()
    _session.append(_start(modules, max_numel))


def stop_recording() -> None:
    """Stop what ``start_recording()`` started (records already made stay until their graph is freed)."""
    while _session:
        _stop(_session.pop())


@contextlib.contextmanager
def record(modules=None, max_numel: int = 10_000):
    """Record intermediate values and gradients (for ``graph``/``explain``) while the block runs.

    Tensors with more than ``max_numel`` elements are not copied (their shapes still show).

    >>> import chainrule as cr
    >>> a = cr.tensor(2.0, requires_grad=True)
    >>> with cr.inspect.record():
    ...     y = (a * 3).exp()
    ...     y.backward()
    >>> print(cr.inspect.graph(y).tree().splitlines()[1].strip())
    └── t1 = a * 3  [MulBackward0]  () float32  value 6  grad 403.4
    """
    recorder = _start(modules, max_numel)
    try:
        yield recorder
    finally:
        _stop(recorder)


def recorded_run(root, targets: list):
    """The backward pass of ``root``'s graph as recorded (a ``BackwardRun``), or None if some op of it
    was not recorded (no recording on, or a gradient larger than ``max_numel``)."""
    ops = [n for n in collect([root]) if type(n) is not AccumulateGrad]
    if any(n not in order or n not in grads or len(edge_grads.get(n, {})) < _inputs_sent(n) for n in ops):
        return None
    ops.sort(key=order.__getitem__)
    steps = [(n, grads[n], edge_grads[n]) for n in ops]
    totals = {}
    for n, _, sent in steps:
        for _, i, nxt in tensor_edges(n):
            if nxt in targets and i in sent:
                totals[nxt] = sent[i] if nxt not in totals else totals[nxt] + sent[i]
    return BackwardRun(steps, totals)


def _inputs_sent(node) -> int:
    return sum(1 for _, _, nxt in tensor_edges(node) if nxt is not None)


def backward_run(output, inputs: list, who: str) -> BackwardRun:
    """The engine's steps for ``output``'s backward pass: a fresh observed run while the graph's saved
    values exist, else the run recorded by ``record()``/``start_recording()``, else a teaching error."""
    try:
        return live_run(output, inputs)
    except RuntimeError as e:
        if not is_freed(e):
            raise
    run = recorded_run(root_node(output, who), [root_node(t, who) for t in inputs])
    if run is None:
        raise RuntimeError(
            f"{who}: backward() has already freed this graph's saved values, and its backward pass was not "
            f"recorded. Either call {who}() before backward() (or use backward(retain_graph=True)), or record "
            f"the passes: run chainrule.inspect.start_recording() first (in a notebook: once, at the top), or "
            f"put the forward pass and backward() inside `with chainrule.inspect.record():`.") from None
    return run


def known_value(node, root, output, frame_values: dict):
    """The value of the tensor ``node`` stands for, if known (see the module docstring), else None."""
    if type(node) is AccumulateGrad:
        t = node.variable
        return None if t is None else t._data
    if node is root:
        return output._data
    held = frame_values.get(id(node))
    if held is not None:
        return held._data
    return values.get(node)


def recorded_argument(node, i: int):
    """The i-th forward argument of ``node`` (a Tensor or a Python number) if recorded and still alive."""
    refs = arguments.get(node)
    if refs is None or i >= len(refs) or refs[i] is None:
        return None
    return refs[i]()

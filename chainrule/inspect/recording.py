"""Recording intermediate values and gradients while a ``with record():`` block runs.

A graph holds no tensors (only what backward needs), so after the forward pass the values of
unnamed intermediate tensors are gone. Inside ``with chainrule.inspect.record():`` a forward
observer copies each new op's output (small tensors only, see ``max_numel``) and remembers its
arguments weakly, and an engine observer copies the gradient arriving at each op and the
gradient it sends along each edge. Drawings and explanations made later read these records.
Outside the block nothing is recorded and nothing is paid.

Records are keyed weakly by node: they disappear together with the graph.

``record(model)`` also tags each op with the module whose ``forward`` created it (through the
module's forward pre-/post-hooks), so ``graph(..., collapse=model)`` can draw a module as one box.
"""

from __future__ import annotations

import contextlib
import weakref

from ..autograd import engine
from ..autograd.function import AccumulateGrad, add_forward_observer, remove_forward_observer
from ..tensor import Tensor
from .walk import tensor_edges

values: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()      # node -> output array copy
arguments: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # node -> (weakref | number getter | None, ...)
grads: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()       # node -> gradient at its output
edge_grads: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # node -> {forward index: grad}
module_of: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # node -> ("fc1", ...) module path


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
    recorder = _Recorder(max_numel)
    handles = _module_hooks(recorder, modules)
    add_forward_observer(recorder)
    engine.observers.append(recorder)
    try:
        yield recorder
    finally:
        remove_forward_observer(recorder)
        if recorder in engine.observers:
            engine.observers.remove(recorder)
        for h in handles:
            h.remove()


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

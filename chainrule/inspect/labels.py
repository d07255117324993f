"""Names for the tensors of a graph, so drawings and explanations read like the math.

A name comes from, in order:

1. an explicit label: ``chainrule.inspect.label(W1, "W¹")``;
2. a module's parameter names (``fc1.weight``) when a module is passed as ``modules=``;
3. the caller's variable names, found by identity in the caller's frame (``a``, ``c``, ``loss``);
4. a made-up name ``t1``, ``t2``, … in creation order.

Labels live in weak registries here, never on the Tensor: labelling a tensor does not keep it
(or its graph) alive. A non-leaf is labelled through its ``grad_fn`` node, because a graph walk
meets nodes, not tensors.
"""

from __future__ import annotations

import os
import sys
import weakref

from ..autograd.function import AccumulateGrad
from ..tensor import Tensor


class TensorMap:
    """A dict keyed weakly by Tensor identity. (``WeakKeyDictionary`` compares keys with ``==``, which
    for Tensors is elementwise, so it cannot hold Tensors.)"""

    def __init__(self):
        self._items: dict = {}

    def __setitem__(self, t, value) -> None:
        key = id(t)
        self._items[key] = (weakref.ref(t, lambda _, k=key: self._items.pop(k, None)), value)

    def get(self, t, default=None):
        entry = self._items.get(id(t))
        if entry is None or entry[0]() is not t:
            return default
        return entry[1]


_tensor_labels = TensorMap()
_node_labels: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def label(tensor, name: str):
    """Give ``tensor`` a display name for graph drawings and explanations; returns the tensor.

    >>> import chainrule as cr
    >>> w = cr.inspect.label(cr.tensor(2.0, requires_grad=True), "w")
    >>> cr.inspect.labels.name_of_tensor(w)
    'w'
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"label: expected a Tensor to label {name!r}, got {type(tensor).__name__}")
    if not isinstance(name, str) or not name:
        raise TypeError(f"label: the name must be a non-empty string, got {name!r}")
    _tensor_labels[tensor] = name
    if tensor.grad_fn is not None:
        _node_labels[tensor.grad_fn] = name
    return tensor


def name_of_tensor(tensor) -> str | None:
    """The explicit label of ``tensor`` (or of its grad_fn node), if any."""
    name = _tensor_labels.get(tensor)
    if name is None and tensor.grad_fn is not None:
        name = _node_labels.get(tensor.grad_fn)
    return name


_HERE = os.path.dirname(os.path.abspath(__file__))


def caller_frame():
    """The first frame outside chainrule's inspect package (the user's code)."""
    frame = sys._getframe(1)
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _HERE:
        frame = frame.f_back
    return frame


def frame_tensors(frame) -> tuple[dict, dict]:
    """Scan ``frame`` for Tensors bound to names (locals win over globals).

    Returns ``({id(tensor or node): name}, {id(node): tensor})``; the second lets a drawing show
    the values of intermediate tensors the caller still holds.
    """
    names: dict = {}
    tensors: dict = {}
    if frame is None:
        return names, tensors
    T = Tensor
    for scope in (frame.f_locals, frame.f_globals):
        for name, value in list(scope.items()):
            if not isinstance(value, T) or name.startswith("_"):
                continue
            names.setdefault(id(value), name)
            if value.grad_fn is not None:
                names.setdefault(id(value.grad_fn), name)
                tensors.setdefault(id(value.grad_fn), value)
    return names, tensors


def module_names(modules) -> dict:
    """``{id(parameter): "fc1.weight"}`` from one module or a list of modules (``named_parameters()``)."""
    found: dict = {}
    if modules is None:
        return found
    if not isinstance(modules, (list, tuple)):
        modules = [modules]
    for m in modules:
        if not hasattr(m, "named_parameters"):
            raise TypeError(f"modules=: expected nn.Module objects with named_parameters(), got "
                            f"{type(m).__name__}")
        for name, p in m.named_parameters():
            found.setdefault(id(p), name)
    return found


class Namer:
    """Resolves display names for the nodes of one graph (explicit > module > frame > ``tN``).

    A node stands for the tensor it produced: an ``AccumulateGrad`` for its leaf, an op node for its
    output. ``extra`` maps ids of tensors or nodes to names (the caller's variables, module params).
    """

    def __init__(self, extra: dict | None = None):
        self.extra = extra or {}
        self.names: dict = {}
        self.counter = 0
        self.taken: set = set(self.extra.values())

    def tensor_name(self, t) -> str | None:
        """The name of a tensor that need not be in the graph (e.g. a constant input)."""
        if t is None:
            return None
        return name_of_tensor(t) or self.extra.get(id(t))

    def node(self, node) -> str:
        """The name of the tensor ``node`` stands for."""
        name = self.names.get(node)
        if name is not None:
            return name
        if type(node) is AccumulateGrad:
            t = node.variable
            name = self.tensor_name(t) if t is not None else None
        else:
            name = _node_labels.get(node) or self.extra.get(id(node))
        if name is None:
            self.counter += 1
            while f"t{self.counter}" in self.taken:
                self.counter += 1
            name = f"t{self.counter}"
        self.names[node] = name
        self.taken.add(name)
        return name


def name_nodes(nodes, modules=None, names: dict | None = None) -> tuple:
    """A ``Namer`` holding a name for every node, and the caller's ``{id(node): tensor}``.

    Names come from, in order: ``names`` (``{tensor: "W1"}``), the modules' parameter names, the
    caller's variable names, then ``t1``, ``t2``, ….
    """
    frame_names, frame_values = frame_tensors(caller_frame())
    extra = dict(frame_names)
    extra.update(module_names(modules))
    for t, n in (names or {}).items():
        extra[id(t)] = n
        if t.grad_fn is not None:
            extra[id(t.grad_fn)] = n
    namer = Namer(extra)
    for node in nodes:
        namer.node(node)
    return namer, frame_values

"""Graph nodes and the ``Function`` contract shared by built-in ops and user-defined ones.

A node is PyTorch's ``grad_fn``: it is also the ``ctx`` its ``forward`` and ``backward`` receive.
It keeps only what backward needs: the edges to the nodes that produced its inputs, the arrays
saved with ``ctx.save_for_backward`` and the output's shape and dtype. It never holds a Tensor,
so a graph is freed by reference counting as soon as its last output goes.

Built-in ops (``Op``) work on raw arrays so the first-order path wraps nothing. When the engine
runs with ``create_graph=True`` it hands the same ``backward`` Tensors instead and sets
``ctx.xp`` to a namespace of differentiable functions, so one formula serves both orders.
"""

from __future__ import annotations

import inspect
import itertools
import weakref

from ..backend import array_math, ndarray
from .grad_mode import state
from .stale import stale_message

_sequence = itertools.count()
_next_seq = _sequence.__next__
_FREED = object()

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward.")


class _Hooks:
    """Set by the tensor layer: the Tensor class and the differentiable namespace (no import cycle)."""

    Tensor = None
    tensor_math = None


hooks = _Hooks()

# Objects notified of every recorded op (``node_created(node, args, result)``) and every in-place
# change (``inplace(tensor, op_name)``). Used by anomaly detection and the teaching lint; when the
# list is empty the per-op cost is one flag test.
forward_observers: list = []


def add_forward_observer(observer) -> None:
    forward_observers.append(observer)
    state.observed = True


def remove_forward_observer(observer) -> None:
    if observer in forward_observers:
        forward_observers.remove(observer)
    state.observed = bool(forward_observers)


def notify_inplace(tensor, op: str) -> None:
    for obs in forward_observers:
        obs.inplace(tensor, op)


def notify(event: str, *args) -> None:
    """Tell the forward observers that have a method ``event`` about something other than a node:
    an op run without recording (``untracked_op``), a tensor value read in Python (``data_read``),
    a tensor made from constants (``constant_made``), random draws (``random_draw``), a module
    called (``module_call``), a call of an optimizer/scheduler method (``call_begin``/``call_end``).
    ``chainrule.compile`` records a training step from these."""
    for obs in forward_observers:
        method = getattr(obs, event, None)
        if method is not None:
            method(*args)


def observed_method(method):
    """Wrap a method whose effect is not an op (``optimizer.step``, ``zero_grad``, ``scheduler.step``)
    so observers see the call as one event. One flag test when nothing observes."""
    def wrapper(self, *args, **kwargs):
        if not state.observed:
            return method(self, *args, **kwargs)
        notify("call_begin", self, method.__name__, args, kwargs)
        try:
            return method(self, *args, **kwargs)
        finally:
            notify("call_end", self, method.__name__)
    wrapper.__name__, wrapper.__qualname__, wrapper.__doc__ = method.__name__, method.__qualname__, method.__doc__
    wrapper.__wrapped__ = method
    return wrapper


class Node:
    """A node of the backward graph. Class-level defaults keep per-op construction cheap."""

    xp = array_math          # the namespace backward formulas use; see module docstring
    _saved = None            # arrays from save_for_backward, or _FREED after backward
    _saved_slots = ()        # per saved array: input index, -1 for the output, None for a constant
    _saved_versions = ()     # (version box, version at save time, index into _saved) per saved tensor
    _edges = ()              # per forward argument: the node its gradient flows to, or None
    _edge_outputs = None     # {argument index: output number} for edges into multi-output nodes
    _tensor_hooks = None     # hooks registered on the output tensor
    _retained = None         # weakref to the output that called retain_grad() ({output nr: weakref} if several)
    _watched = False         # set with either of the two above: the engine tests this one flag per node
    metadata = None          # free for observers (e.g. anomaly mode stores the forward stack here)
    _seq = 0
    _num_outputs = 1
    _out_shape = ()
    _out_dtype = None
    backward_name = None     # PyTorch's grad_fn name; built-in ops derive it (see Op.__init_subclass__)
    op_name = None           # the name the user wrote (``max``, ``reshape``), for error messages

    def name(self) -> str:
        """PyTorch's name for this node (``MulBackward0``); a custom Function is ``<Class>Backward``."""
        return self.backward_name or type(self).__name__ + "Backward"

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"

    @property
    def next_functions(self) -> tuple:
        """PyTorch's view of the edges: ``((node, 0), ...)`` with ``(None, 0)`` for inputs without grad."""
        nrs = self._edge_outputs or {}
        return tuple((e, nrs.get(i, 0)) for i, e in enumerate(self._edges) if e is not _NOT_TENSOR)

    def needs(self, i: int) -> bool:
        """Whether forward argument ``i`` needs a gradient (a fast ``needs_input_grad[i]``)."""
        e = self._edges[i]
        return e is not None and e is not _NOT_TENSOR

    @property
    def needs_input_grad(self) -> tuple:
        return tuple(e is not None and e is not _NOT_TENSOR for e in self._edges)

    def register_hook(self, hook):
        raise NotImplementedError("hooks on grad_fn nodes are not supported; use Tensor.register_hook")

    # --- saved tensors -----------------------------------------------------------------------
    def save_for_backward(self, *items) -> None:
        if self._raw:  # built-in ops already hold raw arrays
            self._saved = items
            return
        T = hooks.Tensor
        self._saved = tuple(x._data if isinstance(x, T) else x for x in items)

    @property
    def saved_tensors(self) -> tuple:
        saved = self._saved
        if saved is _FREED:
            raise RuntimeError(FREED_MESSAGE)
        if saved is None:
            return ()
        for box, version, k in self._saved_versions:
            if box[0] != version:
                self._raise_modified(self._saved_slots[k], box[0], version, saved[k])
        if self.xp is array_math and self._raw:
            return saved
        return tuple(self._unpack(a, s) for a, s in zip(saved, self._saved_slots))

    def _unpack(self, array, slot):
        """A saved array as a Tensor: graph-connected under create_graph, detached otherwise."""
        T = hooks.Tensor
        if not isinstance(array, ndarray):
            return array  # a Python scalar argument stays a scalar
        if self.xp is array_math or slot is None:
            return T._make(array)
        if slot == -1:
            return T._make(array, self)
        edge = self._edges[slot]
        if edge is None or edge is _NOT_TENSOR:
            return T._make(array)
        # an input that is output k of a multi-output node (a split piece) is reconnected as output k
        return T._make(array, edge, self._edge_outputs.get(slot, 0) if self._edge_outputs else 0)

    def _raise_modified(self, slot, now, expected, array):
        what = "the output" if slot == -1 else f"input {slot}"
        raise RuntimeError(
            f"{self.name()}: one of the variables needed for gradient computation has been modified by "
            f"an inplace operation: {what} of {self.name()} (a {array.dtype} tensor of shape "
            f"{tuple(array.shape)}) is at version {now}; expected version "
            f"{expected} instead. Hint: an in-place op (add_, mul_, +=, x[...] = ...) changed a tensor "
            f"after it was saved for backward; use the out-of-place form (x = x * 2) or clone() first.")


_NOT_TENSOR = object()  # edge marker for a forward argument that is not a tensor (e.g. dim=1)


class AccumulateGrad(Node):
    """The sink for a leaf tensor's gradient. Holds the leaf weakly: the leaf owns it, not vice versa."""

    backward_name = "torch::autograd::AccumulateGrad"

    def __init__(self, tensor):
        self._var = weakref.ref(tensor)
        self._seq = _next_seq()

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {hex(id(self))}>"

    @property
    def variable(self):
        return self._var()

    @property
    def _out_shape(self):
        t = self._var()
        return t._data.shape if t is not None else None

    @property
    def _out_dtype(self):
        t = self._var()
        return t._data.dtype if t is not None else None


class Function(Node):
    """Base for differentiable operations: ``forward(ctx, *args)`` and ``backward(ctx, *grads)``.

    Subclass it for your own op and call ``MyOp.apply(x, ...)``; ``forward`` receives Tensors (run
    without recording) and ``backward`` receives the gradient of each output and returns one
    gradient per ``forward`` argument (None for non-tensors), as in PyTorch.

    >>> import chainrule as cr
    >>> class Cube(cr.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         (x,) = ctx.saved_tensors
    ...         return g * 3 * x ** 2
    >>> x = cr.tensor(2.0, requires_grad=True)
    >>> Cube.apply(x).backward(); x.grad
    tensor(12.)
    """

    _raw = False              # built-in ops (Op) see raw arrays instead of Tensors
    _non_differentiable = None

    def mark_non_differentiable(self, *outputs) -> None:
        self._non_differentiable = {id(o._data if isinstance(o, hooks.Tensor) else o) for o in outputs}

    def mark_dirty(self, *tensors) -> None:
        raise NotImplementedError("in-place custom Functions (mark_dirty) are not supported")

    def set_materialize_grads(self, value: bool) -> None:
        self._materialize = bool(value)

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args):
        """Run forward and, if any input requires grad while grad mode is on, record this node.

        The one recording path, for built-in ops and user Functions alike."""
        T = hooks.Tensor
        ctx = _new(cls)
        # One pass: unwrap arrays and, if recording, collect each argument's edge.
        recording = state.enabled
        needs_graph = False
        values = []
        edges = []
        for a in args:
            if isinstance(a, T):
                values.append(a._data)
                if recording and a._requires_grad:
                    fn = a.grad_fn
                    if fn is None:
                        fn = a._acc or a._accumulator()     # None for a view made under no_grad
                    elif fn._num_outputs > 1 or a._multi_view is not None:
                        _remember_output(ctx, len(edges), a)
                    edges.append(fn)
                    needs_graph = True
                else:
                    edges.append(None)
            else:
                values.append(a)
                edges.append(_NOT_TENSOR)
        ctx._edges = edges      # before forward, so ctx.needs(i) tells it what to save (as PyTorch's ops)
        if not cls._raw:
            out = _forward_on_tensors(cls, ctx, args)
        elif len(values) == 1:    # spelled out: a call with *values is not inlined by the interpreter
            out = cls.forward(ctx, values[0])
        elif len(values) == 2:
            out = cls.forward(ctx, values[0], values[1])
        else:
            out = cls.forward(ctx, *values)
        if not needs_graph:
            result = tuple(T._make(o) for o in out) if type(out) is tuple else T._make(out)
            if forward_observers and state.observed:    # the list first: cheaper than the thread-local
                notify("untracked_op", ctx, args, result)
            return result
        ctx._seq = _next_seq()
        if type(out) is tuple:
            result = _connect_outputs(ctx, out)
            first = result[0]
        else:
            ctx._out_shape = out.shape
            ctx._out_dtype = out.dtype
            result = first = T._make(out, ctx)
        if ctx._saved is not None:
            _record_saved(ctx, args, values, edges, first)
        if forward_observers and state.observed:
            for obs in forward_observers:
                obs.node_created(ctx, args, result)
        return result


_new = object.__new__


def _remember_output(ctx, index: int, tensor) -> None:
    """An edge into a multi-output node must remember which of its outputs the tensor is. A piece of
    split/unbind, or a view of one, whose memory changed since that node made it may not be used
    (PyTorch raises too, even when the change was not recorded: through ``detach()`` or under no_grad)."""
    multi = tensor._multi_view
    if multi is not None and tensor._version_box[0] != multi[2]:
        raise RuntimeError(stale_message(tensor))
    if tensor.grad_fn._num_outputs == 1:     # a view of a piece: its own node has one output
        return
    if ctx._edge_outputs is None:
        ctx._edge_outputs = {}
    ctx._edge_outputs[index] = tensor._output_nr


def _forward_on_tensors(cls, ctx, args):
    """A user-defined Function's forward sees Tensors and runs without recording, as in PyTorch;
    its outputs are unwrapped so the rest of ``apply`` treats them like a built-in op's."""
    prev = state.enabled
    state.enabled = False
    try:
        out = cls.forward(ctx, *args)
    finally:
        state.enabled = prev
    return _to_arrays(out)


def _to_arrays(out):
    T = hooks.Tensor
    if isinstance(out, tuple):
        return tuple(o._data if isinstance(o, T) else o for o in out)
    if isinstance(out, T):
        return out._data
    raise TypeError(f"Function.forward must return a Tensor or a tuple of Tensors, got {type(out).__name__}")


def _connect_outputs(ctx, outs):
    T = hooks.Tensor
    nondiff = ctx._non_differentiable or ()
    ctx._num_outputs = len(outs)
    if len(outs) == 1:      # a 1-tuple: one output, recorded like a single result (the tuple is kept)
        ctx._out_shape, ctx._out_dtype = outs[0].shape, outs[0].dtype
    else:
        ctx._out_shape = [o.shape for o in outs]
        ctx._out_dtype = [o.dtype for o in outs]
    results = []
    for i, o in enumerate(outs):
        if id(o) in nondiff or o.dtype.kind not in "fc":
            results.append(T._make(o))
        else:
            results.append(T._make(o, ctx, i))
    return tuple(results)


_OUTPUT_SLOT = (-1,)


def _record_saved(ctx, args, values, edges, first) -> None:
    """Map each saved array to the input it is (by index), the output (-1) or a constant (None), and
    remember each saved input's/output's version so backward can tell if it was changed in place.

    Arrays are matched by identity: ``save_for_backward`` keeps the very arrays forward received.
    When several inputs share one array (``x * x.detach()``), a saved array in its argument's position
    is that argument; others are matched in argument order, each input once, so each keeps its own
    connection to the graph."""
    saved = ctx._saved
    out = first._data
    if len(saved) == 1 and saved[0] is out:     # only the output (tanh, exp, sigmoid): the common case
        ctx._saved_slots = _OUTPUT_SLOT
        ctx._saved_versions = ((first._version_box, 0, 0),)
        return
    slots = []
    used = 0                 # bit i set: input i already matched (cheaper than a set on this hot path)
    versions = []            # (version box, version now, index into ctx._saved)
    for k, array in enumerate(saved):
        if array.__class__ is not ndarray:      # a Python scalar or other constant
            slots.append(None)
        elif array is out:
            versions.append((first._version_box, 0, k))
            slots.append(-1)
        elif k < len(values) and values[k] is array and edges[k] is not _NOT_TENSOR and not used >> k & 1:
            slot = k         # saved in its argument's position (x * x.detach() saving only the detached y)
            used |= 1 << k
            box = args[k]._version_box
            versions.append((box, box[0], k))
            slots.append(k)
        else:
            slot = None
            for i in range(len(values)):
                if values[i] is array and edges[i] is not _NOT_TENSOR:
                    slot = i
                    if not used >> i & 1:
                        break
            if slot is None:
                slots.append(None)
            else:
                used |= 1 << slot
                box = args[slot]._version_box
                versions.append((box, box[0], k))
                slots.append(slot)
    ctx._saved_slots = slots
    ctx._saved_versions = versions


class Op(Function):
    """Base of chainrule's built-in ops: forward and backward see raw arrays (see module docstring).

    Names are data, declared once per class: ``backward_name`` (PyTorch's grad_fn name) defaults to
    ``<Class>Backward0`` and ``op_name`` (what errors call the op) to the class name in lower case;
    a class sets either only where PyTorch's name differs. An op whose PyTorch name depends on its
    arguments (``sum`` with or without ``dim``) sets ``ctx.backward_name`` in ``forward``.

    Formulas are written once. ``formula`` (``"z = exp(x)"``) and ``local`` (one local derivative
    per input, ``("exp(x)",)``) are what ``chainrule.inspect`` and ``compile``'s listing show, and
    the class docstring is built from them followed by the class's own prose, which adds only what
    the formula does not say. ``backward`` is the formula that serves both orders. An op may add
    ``backward_array``, a faster kernel for the first-order path only (raw arrays, same numbers);
    the engine runs it instead of ``backward`` there, and the op oracle checks the two agree.
    """

    _raw = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        own = cls.__dict__
        if "backward_name" not in own:
            cls.backward_name = cls.__name__ + "Backward0"
        if "op_name" not in own:
            cls.op_name = cls.__name__.lower()
        if "backward" in own and "backward_array" not in own:
            cls.backward_array = own["backward"]     # no kernel of its own: the formula runs both orders
        if own.get("formula"):
            cls.__doc__ = _document(own["formula"], own.get("local", ()), own.get("__doc__"))


def _document(formula: str, local, prose) -> str:
    """An op's docstring, built from its formula: ``z = x * y;  local derivatives: y | x`` + prose."""
    local = tuple(local)
    head = formula
    if local:
        head += ";  local derivative" + ("s (one per input): " if len(local) > 1 else ": ") + " | ".join(local)
    return head if not prose else f"{head}\n\n{inspect.cleandoc(prose)}"

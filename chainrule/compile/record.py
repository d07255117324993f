"""Recording a step: an observer of the forward ops, the engine's backward steps and the optimizer calls,
which turns one eager run into a ``Program`` (or into the reason it cannot be replayed exactly)."""

from __future__ import annotations

import weakref

from ..autograd.function import _NOT_TENSOR, AccumulateGrad
from ..backend import xp
from ..ops.nn import Embedding
from ..tensor import Tensor


class _Edge:
    """What a replayed node's edge must tell ``engine.run_node``: the shape and dtype its gradient is summed
    and cast to (and, by not being None, that ``ctx.needs(i)``). The recorded graph node itself is not kept."""

    __slots__ = ("_out_dtype", "_out_shape")
    _num_outputs = 1

    def __init__(self, shape, dtype):
        self._out_shape, self._out_dtype = shape, dtype


_TABLES = ("_parameters", "_buffers", "_modules")


def _contents(module) -> tuple:
    """What a module's forward reads besides its inputs: its own parameters, buffers and submodules
    (by identity, per table; None for a table the module does not have)."""
    d = module.__dict__
    return tuple(tuple(map(id, d[k].values())) if k in d else None for k in _TABLES)


class _Program:
    """One recorded step: where every array comes from, the forward ops, the backward schedule."""

    def __init__(self):
        self.slots = []           # per slot: ("input", position) | ("live", weakref) | ("const", array) | ("op", k, nr)
        #                           | ("draw", factory name, draw function): random numbers drawn again on replay
        self.ops = []             # (Op class, [argument source], edge pattern, number of outputs, output slots)
        self.tuple_out = []       # per op: did its forward return a tuple (a 1-tuple is one output)
        self.events = []          # ("op", k) | ("call", weakref, method, kwargs) | ("backward", b) | ("draw", slot)
        self.backwards = []       # per backward: (root slot, schedule)
        self.root_like = []       # per backward: the loss's shape and dtype (its gradient is ones like it)
        self.returned = None      # structure of the return value, with slot numbers for tensors
        self.live_guards = []     # (weakref, shape, dtype, requires_grad)
        self.module_guards = []   # (weakref, training, contents: see _contents)
        self.index_guards = []    # (input position, rows): an embedding's ids that eager checks in Python


class _Recorder:
    """Forward and engine observer that turns one eager run into a ``_Program`` (or a fallback reason)."""

    def __init__(self, inputs: list):
        self.prog = _Program()
        self.slot_of = {}                 # id(array) -> slot, for every array the program knows
        self.keep = []                    # keeps recorded arrays/tensors alive so ids stay unique
        self.op_of_node = {}              # id(ctx) -> op index
        self.constants = set()            # id(tensor) of tensors made from constants in the step
        self.constant_arrays = set()      # id(array) of those tensors' arrays (ops such as embedding take arrays)
        self.depth = 0                    # inside an optimizer/scheduler call: its ops are its own
        self.reason = None
        self.backward = None              # the backward pass being recorded
        self.draws = []                   # (draw function, generator) of random factories, in the order they ran
        for pos, t in inputs:
            self._new_slot(t._data, ("input", pos))

    # --- helpers ------------------------------------------------------------------------------
    def fail(self, why: str) -> None:
        if self.reason is None:
            self.reason = why

    def _new_slot(self, array, source) -> int:
        k = len(self.prog.slots)
        self.prog.slots.append(source)
        self.slot_of[id(array)] = k
        self.keep.append(array)
        return k

    def _source(self, arg, op_name: str):
        """Where an op argument comes from at replay time."""
        if isinstance(arg, Tensor):
            k = self.slot_of.get(id(arg._data))
            if k is not None:
                return ("slot", k)
            if id(arg) in self.constants:
                return ("slot", self._new_slot(arg._data, ("const", arg._data)))
            # a tensor from before the step (a parameter, a buffer, a captured constant): read live.
            # Held weakly: if it dies with the step, it was made inside from tensor data (see finish()).
            self.prog.live_guards.append((weakref.ref(arg), arg._data.shape, arg._data.dtype, arg.requires_grad))
            return ("slot", self._new_slot(arg._data, ("live", weakref.ref(arg))))
        if isinstance(arg, xp.ndarray):
            k = self.slot_of.get(id(arg))
            if k is None and (id(arg) in self.constant_arrays or (arg.flags.owndata and not arg.flags.writeable)):
                # a factory's result, or a read-only array owning its memory: a constant the library
                # caches by shape (the causal mask's bias), and shapes are guarded
                return ("slot", self._new_slot(arg, ("const", arg)))
            if k is None:
                self.fail(f"an array argument of {op_name} (shape {arg.shape}) was computed outside the "
                          f"recorded ops, so a replay could not recompute it")
                return ("const", arg)
            return ("slot", k)
        if isinstance(arg, (list, tuple)) and _holds_arrays(arg):
            if type(arg) not in (list, tuple):
                self.fail(f"{op_name} received a {type(arg).__name__} holding arrays; replay supports arrays "
                          f"as arguments or in plain tuples and lists")
            # an index such as x[arange(n), targets]: each item found like an argument
            return ("seq", (type(arg), [self._source(a, op_name) for a in arg]))
        return ("const", arg)

    # --- forward observer ---------------------------------------------------------------------
    def node_created(self, ctx, args, result) -> None:
        self._op(ctx, args, result)

    def untracked_op(self, ctx, args, result) -> None:
        self._op(ctx, args, result)

    def _op(self, ctx, args, result) -> None:
        if self.depth or self.reason:
            return
        cls = type(ctx)
        name = cls.op_name or cls.__name__
        if not getattr(cls, "_raw", False):
            self.fail(f"the custom autograd.Function {cls.__name__} is replayed only by running it")
            return
        sources = [self._source(a, name) for a in args]
        if cls is Embedding and sources[1][0] == "slot" and self.prog.slots[sources[1][1]][0] == "input":
            # F.embedding checks the ids' range before the op: an id out of range sends the call to eager
            self.prog.index_guards.append((self.prog.slots[sources[1][1]][1], args[0].shape[0]))
        edges = tuple(_edge(ctx, i) for i in range(len(ctx._edges))) if ctx._edges else \
            tuple(None if isinstance(a, Tensor) else _NOT_TENSOR for a in args)
        outs = result if isinstance(result, tuple) else (result,)
        k = len(self.prog.ops)
        out_slots = [self._new_slot(o._data, ("op", k, nr)) for nr, o in enumerate(outs)]
        self.keep.extend(outs)
        self.prog.ops.append((cls, sources, edges, len(outs), out_slots))
        self.prog.tuple_out.append(isinstance(result, tuple))
        self.prog.events.append(("op", k))
        self.op_of_node[id(ctx)] = k
        self.keep.append(ctx)

    def inplace(self, tensor, op_name) -> None:
        if not self.depth:
            self.fail(f"the in-place op {op_name} changes a tensor outside the optimizer; replay would skip it")

    def data_read(self, tensor, how) -> None:
        if not self.depth:
            self.fail(f"the step reads a tensor's value in Python ({how}); the code depending on it would "
                      f"not run again on replay (return the tensor instead)")

    def constant_made(self, tensor) -> None:
        if not self.depth:
            self.constants.add(id(tensor))
            self.constant_arrays.add(id(tensor._data))
            self.keep.append(tensor)

    def random_made(self, tensor, op: str, draw, generator) -> None:
        """rand/randn/randint inside the step: the program draws again (same generator, same order)."""
        if not self.depth:
            k = self._new_slot(tensor._data, ("draw", op, draw))
            self.prog.events.append(("draw", k))
            self.draws.append((draw, generator))
            self.keep.append(tensor)

    def random_draw(self, generator) -> None:
        if not self.depth:
            self.fail("the step draws random numbers (dropout, randn, ...); a replay would reuse them")

    def module_call(self, module) -> None:
        if not self.depth:
            self.prog.module_guards.append((weakref.ref(module), module.training, _contents(module)))

    def call_begin(self, obj, method, args, kwargs) -> None:
        if self.depth == 0:
            if args or any(k != "set_to_none" for k in kwargs):
                self.fail(f"{type(obj).__name__}.{method} is called with arguments (a closure, a metric); "
                          f"replay supports argument-free optimizer and scheduler calls")
            self.prog.events.append(("call", weakref.ref(obj), method, kwargs))
            self.keep.append(obj)
        self.depth += 1

    def call_end(self, obj, method) -> None:
        self.depth -= 1

    # --- engine observer ----------------------------------------------------------------------
    def backward_started(self, roots, grads, retain_graph, create_graph, capture, accumulate) -> None:
        if self.depth:
            return
        if capture or not accumulate:
            return self.fail("autograd.grad inside the step is not replayed; use loss.backward()")
        if retain_graph or create_graph:
            return self.fail("backward with retain_graph or create_graph is not replayed")
        if len(roots) != 1:
            return self.fail("backward from several roots at once is not replayed")
        (node, _), g = roots[0], grads[0]
        g = g._data if isinstance(g, Tensor) else g
        k = self.op_of_node.get(id(node))
        if k is None or node._num_outputs != 1 or g.size != 1 or float(g.reshape(())) != 1.0:
            return self.fail("backward must start from a scalar loss computed inside the step")
        self.backward = []
        self.prog.backwards.append((self.prog.ops[k][4][0], self.backward))
        self.prog.root_like.append((node._out_shape, node._out_dtype))
        self.prog.events.append(("backward", len(self.prog.backwards) - 1))

    def node_done(self, node, grad_output, grad_inputs) -> None:
        if self.depth or self.backward is None or self.reason:
            return
        if node._tensor_hooks or node._retained is not None:
            return self.fail("tensor hooks or retain_grad inside the step are not replayed")
        k = self.op_of_node.get(id(node))
        if k is None:
            return self.fail(f"backward reaches {node.name()}, which was computed before the step")
        targets = []
        for i, nxt in enumerate(node._edges):
            if nxt is None or nxt is _NOT_TENSOR:
                continue
            if type(nxt) is AccumulateGrad:
                leaf = nxt.variable
                if leaf is None:
                    continue
                if leaf._acc is not nxt or nxt._tensor_hooks:
                    return self.fail("hooks on a leaf tensor inside the step are not replayed")
                targets.append((i, "leaf", self._leaf(leaf), 0))
                continue
            j = self.op_of_node.get(id(nxt))
            if j is None:
                return self.fail(f"backward reaches {nxt.name()}, which was computed before the step")
            targets.append((i, "op", j, node._edge_outputs[i] if nxt._num_outputs > 1 else 0))
        self.backward.append(("node", k, targets))

    def leaf_done(self, tensor, grad) -> None:
        if self.depth or self.backward is None or self.reason:
            return
        self.backward.append(("leaf", self._leaf(tensor)))

    def _leaf(self, tensor):
        """How replay finds a leaf: the step's input at a position, or a live tensor (a parameter)."""
        k = self.slot_of.get(id(tensor._data))
        if k is not None and self.prog.slots[k][0] == "input":
            return ("input", self.prog.slots[k][1])
        return ("live", weakref.ref(tensor))

    def finish(self) -> None:
        """After the step returned: a 'live' tensor that is gone was a temporary made inside the step."""
        for ref, shape, _, _ in self.prog.live_guards:
            if ref() is None:
                self.fail(f"an op argument of shape {shape} was made inside the step from tensor data "
                          f"outside the recorded ops, so a replay could not recompute it")
                return


def _holds_arrays(seq) -> bool:
    return any(isinstance(a, (Tensor, xp.ndarray)) or (isinstance(a, (list, tuple)) and _holds_arrays(a))
               for a in seq)


def _fingerprint(prog: _Program) -> list:
    """What the step decided in Python and the program bakes in: the op sequence, each op's constant
    arguments (Python values, and arrays made inside the step by their bytes), which captured tensors
    it reads (by identity), the random draws and the optimizer calls. Two recordings of one signature
    must agree on it; if not, the step depends on Python state that a replay does not read (a step
    counter, a changing loss weight, a batch picked from a list)."""
    out = []
    for cls, sources, _, _, _ in prog.ops:
        out.append(cls)
        out.extend(_frozen_source(prog, kind, v) for kind, v in sources)
    for event in prog.events:
        out.append((event[0], event[2], tuple(event[3].items())) if event[0] == "call" else event[0])
    return out


def _frozen_source(prog: _Program, kind: str, v):
    if kind == "const":
        return _frozen(v)
    if kind == "seq":
        return (v[0], tuple(_frozen_source(prog, k, u) for k, u in v[1]))
    return _frozen_slot(prog, v)


def _frozen_slot(prog: _Program, k: int):
    src = prog.slots[k]
    if src[0] == "const":
        return ("const", _frozen(src[1]))
    if src[0] == "live":
        return ("live", k, id(src[1]()))
    return (src[0], k) + ((src[1],) if src[0] == "draw" else ())


def _frozen(value):
    """A value in a form that compares by content (arrays by bytes, floats bit for bit, NaN too)."""
    if isinstance(value, xp.ndarray):
        return ("array", value.shape, value.dtype.str, value.tobytes())
    if isinstance(value, float):
        return ("float", value.hex())
    if isinstance(value, (list, tuple)):
        return (type(value), tuple(_frozen(v) for v in value))
    return value


def _edge(ctx, i: int):
    """Edge ``i`` of a recorded node, as replay needs it (see ``_Edge``)."""
    edge = ctx._edges[i]
    if edge is _NOT_TENSOR or edge is None:
        return edge
    if edge._num_outputs > 1:
        nr = ctx._edge_outputs[i]
        return _Edge(edge._out_shape[nr], edge._out_dtype[nr])
    return _Edge(edge._out_shape, edge._out_dtype)


def _structure(value, rec: _Recorder):
    """The return value with tensors replaced by their slots (None if it cannot be replayed)."""
    if isinstance(value, Tensor):
        k = rec.slot_of.get(id(value._data))
        if k is None:
            rec.fail("the step returns a tensor that no recorded op produced")
        return ("tensor", k)
    if isinstance(value, (tuple, list)):
        return (type(value), [_structure(v, rec) for v in value])
    if value is None or isinstance(value, (bool, int, float, str)):
        return ("value", value)
    rec.fail(f"the step returns a {type(value).__name__}; replay returns tensors, tuples, lists and scalars")
    return None

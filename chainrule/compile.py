"""``chainrule.compile``: record a training step once, then replay it as a straight-line program.

The first call of ``step = chainrule.compile(fn)`` runs ``fn`` eagerly while a recorder watches:
every op (the same ``Op`` classes, so their forward and backward formulas stay the single source
of truth), the backward pass in the engine's order with its shape reductions and route sums, and
the optimizer / scheduler calls. Later calls with the same signature replay that program on the
new inputs: each op's ``forward`` and ``backward`` run on raw arrays, with no Tensors, graph nodes,
dependency counts or heap; ``optimizer.step()`` and friends run live, so hyperparameters such as
the learning rate are read at every call and schedulers work. Results are bit-identical to eager.

A call replays only when its **guards** hold: the same input shapes, dtypes and ``requires_grad``
(other arguments equal), the same parameters (objects, shapes, dtypes, ``requires_grad``), the
same train/eval mode of every module called, grad mode on, and no observers (anomaly mode,
teaching lint, inspect). Otherwise the call runs eagerly and, for a new signature, is recorded.

Some steps cannot be replayed exactly; they always run eagerly, with the reason in
``step.fallback_reason`` (and a warning when ``explain=True``):

- reading tensor values in Python (``.item()``, ``bool(t)``, ``.numpy()``, ``.tolist()``):
  the Python code that depends on them would not run again; return the tensor instead;
- random numbers drawn inside the step (dropout, ``randn``): a replay would reuse them;
- in-place changes outside the optimizer (``p -= lr * p.grad``, BatchNorm's running statistics);
- ``autograd.grad``, ``retain_graph``, ``create_graph``, tensor hooks, custom ``autograd.Function``s;
- an op argument that is neither an input, a parameter, an op's result nor a constant made
  inside the step (an array computed from tensor data outside the ops).

Python side effects other than these (``print``, appending to a list) happen only on the calls
that run eagerly, as with ``jax.jit``. Returned tensors are detached: the step already ran backward.

>>> import chainrule as cr
>>> _ = cr.manual_seed(0)
>>> model = cr.nn.Linear(3, 1)
>>> opt = cr.optim.SGD(model.parameters(), lr=0.1)
>>> @cr.compile
... def step(x, y):
...     opt.zero_grad()
...     loss = ((model(x) - y) ** 2).mean()
...     loss.backward()
...     opt.step()
...     return loss
>>> x, y = cr.ones(4, 3), cr.zeros(4, 1)
>>> losses = [round(step(x, y).item(), 6) for _ in range(3)]   # the 2nd and 3rd calls replay
>>> step.replays, step.fallback_reason
(2, None)
"""

from __future__ import annotations

import functools
import warnings
import weakref

from .autograd import engine
from .autograd.function import _NOT_TENSOR, AccumulateGrad, add_forward_observer, remove_forward_observer
from .autograd.grad_mode import state
from .backend import array_math, default_generator, xp
from .tensor import Tensor

__all__ = ["CompiledStep", "compile"]

_NEEDS = object()          # an edge marker: this argument needs a gradient (what ctx.needs(i) reads)
_MAX_PROGRAMS = 8          # recorded signatures kept per function


class _Fallback(Exception):
    """Raised inside the recorder: this step cannot be replayed exactly (the message says why)."""


class _Program:
    """One recorded step: where every array comes from, the forward ops, the backward schedule."""

    def __init__(self):
        self.slots = []           # per slot: ("input", position) | ("live", weakref) | ("const", array) | ("op", k, nr)
        self.ops = []             # (Op class, [argument source], edge pattern, number of outputs, output slots)
        self.events = []          # ("op", k) | ("call", weakref to object, method, args, kwargs) | ("backward", b)
        self.backwards = []       # per backward: (root slot, schedule)
        self.returned = None      # structure of the return value, with slot numbers for tensors
        self.live_guards = []     # (weakref, shape, dtype, requires_grad)
        self.module_guards = []   # (weakref, training)


class _Recorder:
    """Forward and engine observer that turns one eager run into a ``_Program`` (or a fallback reason)."""

    def __init__(self, inputs: list):
        self.prog = _Program()
        self.slot_of = {}                 # id(array) -> slot, for every array the program knows
        self.keep = []                    # keeps recorded arrays/tensors alive so ids stay unique
        self.op_of_node = {}              # id(ctx) -> op index
        self.constants = set()            # id(tensor) of tensors made from constants in the step
        self.depth = 0                    # inside an optimizer/scheduler call: its ops are its own
        self.reason = None
        self.backward = None              # the backward pass being recorded
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
            if k is None:
                self.fail(f"an array argument of {op_name} (shape {arg.shape}) was computed outside the "
                          f"recorded ops, so a replay could not recompute it")
                return ("const", arg)
            return ("slot", k)
        if isinstance(arg, (list, tuple)) and any(isinstance(a, (Tensor, xp.ndarray)) for a in arg):
            self.fail(f"{op_name} received a sequence holding arrays; replay supports arrays as direct arguments")
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
        edges = tuple(_pattern(e) for e in ctx._edges) if ctx._edges else \
            tuple(None if isinstance(a, Tensor) else _NOT_TENSOR for a in args)
        outs = result if isinstance(result, tuple) else (result,)
        k = len(self.prog.ops)
        out_slots = [self._new_slot(o._data, ("op", k, nr)) for nr, o in enumerate(outs)]
        self.keep.extend(outs)
        self.prog.ops.append((cls, sources, edges, len(outs), out_slots))
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
                targets.append((i, "leaf", self._leaf(leaf), 0, nxt._out_shape, nxt._out_dtype))
                continue
            j = self.op_of_node.get(id(nxt))
            if j is None:
                return self.fail(f"backward reaches {nxt.name()}, which was computed before the step")
            nr = node._edge_outputs[i] if nxt._num_outputs > 1 else 0
            shape = nxt._out_shape[nr] if nxt._num_outputs > 1 else nxt._out_shape
            dtype = nxt._out_dtype[nr] if nxt._num_outputs > 1 else nxt._out_dtype
            targets.append((i, "op", j, nr, shape, dtype))
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


def _pattern(edge):
    """What ``ctx.needs(i)`` must answer at replay: the recorded edge reduced to a marker."""
    if edge is _NOT_TENSOR or edge is None:
        return edge
    return _NEEDS


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


def _signature(args: tuple, kwargs: dict):
    """The guard key of a call: tensors by (shape, dtype, requires_grad), other values by themselves."""
    key = []
    for a in list(args) + [kwargs[k] for k in sorted(kwargs)]:
        if isinstance(a, Tensor):
            key.append(("T", a._data.shape, a._data.dtype.str, a.requires_grad))
        else:
            try:
                hash(a)
                key.append(("V", type(a), a))
            except TypeError:
                key.append(("I", id(a)))
    return tuple(key) + tuple(sorted(kwargs))


class CompiledStep:
    """A function that replays its recorded program when the guards hold (see the module docstring)."""

    def __init__(self, fn, explain: bool = False):
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.explain = explain
        self.programs: dict = {}
        self.eager_only: dict = {}      # signature -> why it cannot be replayed
        self.replays = 0
        self.fallback_reason = None     # why the last call ran eagerly (None if it replayed)
        self._last = None

    # --- calling ------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        why = self._unguarded()
        if why is not None:
            return self._eager(why, args, kwargs)
        key = _signature(args, kwargs)
        prog = self.programs.get(key)
        if prog is not None:
            why = _guards_fail(prog)
            if why is None:
                self.fallback_reason = None
                self.replays += 1
                self._last = prog
                return _replay(prog, args, kwargs)
            return self._eager(why, args, kwargs)
        if key in self.eager_only:
            return self._eager(self.eager_only[key], args, kwargs)
        return self._record(key, args, kwargs)

    def _unguarded(self):
        if not state.enabled:
            return "grad mode is off"
        if state.observed or engine.observers:
            return "an observer is active (anomaly mode, teaching lint or inspect)"
        return None

    def _eager(self, why: str, args, kwargs):
        self.fallback_reason = why
        if self.explain:
            warnings.warn(f"chainrule.compile: {self.__name__} ran eagerly: {why}", stacklevel=3)
        return self.fn(*args, **kwargs)

    def _record(self, key, args, kwargs):
        inputs = [(i, a) for i, a in enumerate(list(args) + [kwargs[k] for k in sorted(kwargs)])
                  if isinstance(a, Tensor)]
        rec = _Recorder(inputs)
        rng_before = default_generator.get_state()
        add_forward_observer(rec)
        engine.observers.append(rec)
        try:
            result = self.fn(*args, **kwargs)
        finally:
            remove_forward_observer(rec)
            engine.observers.remove(rec)
        if not xp.array_equal(xp.asarray(rng_before), xp.asarray(default_generator.get_state())):
            rec.fail("the step draws random numbers (dropout, randn, ...); a replay would reuse them")
        rec.prog.returned = _structure(result, rec)
        rec.finish()
        if not rec.prog.backwards and rec.reason is None:
            rec.fail("the step has no backward(); compile a whole training step (forward-only functions "
                     "run eagerly)")
        if rec.reason is not None:
            self.eager_only[key] = rec.reason
            self.fallback_reason = rec.reason
            if self.explain:
                warnings.warn(f"chainrule.compile: {self.__name__} will run eagerly: {rec.reason}", stacklevel=2)
            return result
        prog = rec.prog
        prog.plans = [_plan(prog, root, schedule) for root, schedule in prog.backwards]
        prog.backwards_roots = {id(plan): root for plan, (root, _) in zip(prog.plans, prog.backwards)}
        if len(self.programs) >= _MAX_PROGRAMS:
            self.programs.pop(next(iter(self.programs)))
        self.programs[key] = rec.prog
        self._last = rec.prog
        self.fallback_reason = "recorded on this call (it ran eagerly)"
        return result

    # --- teaching -----------------------------------------------------------------------------
    def code(self) -> str:
        """The last recorded program as readable code: the training step as the chain rule unrolled."""
        prog = self._last or next(iter(self.programs.values()), None)
        if prog is None:
            return f"# {self.__name__}: nothing recorded ({self.fallback_reason or 'not called yet'})"
        return _listing(prog)


def compile(fn=None, *, explain: bool = False, **_options):
    """Record ``fn`` (a training step) once and replay it: PyTorch's ``torch.compile`` name.

    Usable as ``step = chainrule.compile(step)`` or as a decorator (``@chainrule.compile`` or
    ``@chainrule.compile(explain=True)``). Other keyword arguments of ``torch.compile`` (``mode``,
    ``fullgraph``, ``backend`` …) are accepted and ignored. See the module docstring for what replays.
    """
    if fn is None:
        return lambda f: CompiledStep(f, explain)
    return CompiledStep(fn, explain)


# --- replay ---------------------------------------------------------------------------------
def _guards_fail(prog: _Program):
    for ref, shape, dtype, requires_grad in prog.live_guards:
        t = ref()
        if t is None:
            return "a parameter or captured tensor of the recorded step no longer exists"
        if t._data.shape != shape or t._data.dtype != dtype or t.requires_grad != requires_grad:
            return "a parameter changed shape, dtype or requires_grad since the step was recorded"
        acc = t._acc
        if acc is not None and acc._tensor_hooks:
            return "a hook was added to a parameter"
    for ref, training, contents in prog.module_guards:
        m = ref()
        if m is None or m.training != training:
            return "a module switched between train() and eval() (or no longer exists)"
        if _contents(m) != contents:
            return "a module's parameters, buffers or submodules were replaced since the step was recorded"
        if m._forward_pre_hooks or m._forward_hooks or m._backward_hooks or m._backward_pre_hooks:
            return "a module hook was added"
    return None


_new = object.__new__


def _contents(module) -> tuple:
    """What a module's forward reads besides its inputs: its own parameters, buffers and submodules."""
    d = module.__dict__
    return tuple(tuple(map(id, d[k].values())) for k in ("_parameters", "_buffers", "_modules") if k in d)


def _replay(prog: _Program, args, kwargs):
    flat = list(args) + [kwargs[k] for k in sorted(kwargs)]
    vals = [None] * len(prog.slots)
    for k, src in enumerate(prog.slots):
        kind = src[0]
        if kind == "input":
            vals[k] = flat[src[1]]._data
        elif kind == "const":
            vals[k] = src[1]
    ctxs = [None] * len(prog.ops)
    prev = state.enabled
    state.enabled = False               # optimizer calls run as they would eagerly (they use no_grad)
    try:
        for event in prog.events:
            if event[0] == "op":
                k = event[1]
                cls, sources, edges, n_out, out_slots = prog.ops[k]
                values = []
                for kind, v in sources:
                    if kind == "slot":
                        a = vals[v]
                        if a is None:           # a live tensor: read its array now
                            a = vals[v] = prog.slots[v][1]()._data
                        values.append(a)
                    else:
                        values.append(v)
                ctx = _new(cls)
                ctx._edges = edges
                out = cls.forward(ctx, *values)
                if n_out == 1:
                    if type(out) is tuple:
                        out = out[0]
                    vals[out_slots[0]] = out
                    ctx._out_shape, ctx._out_dtype = out.shape, out.dtype
                else:
                    for s, o in zip(out_slots, out):
                        vals[s] = o
                    ctx._num_outputs = n_out
                    ctx._out_shape = [o.shape for o in out]
                    ctx._out_dtype = [o.dtype for o in out]
                ctxs[k] = ctx
            elif event[0] == "call":
                _, ref, method, kw = event
                state.enabled = prev
                getattr(ref(), method)(**kw)
                state.enabled = False
                _refresh_live(prog, vals)
            else:
                _replay_backward(prog, prog.plans[event[1]], vals, ctxs, flat)
    finally:
        state.enabled = prev
    return _rebuild(prog.returned, vals)


def _refresh_live(prog, vals) -> None:
    """After an optimizer call, live arrays are read again (an update may rebind ``p._data``)."""
    for k, src in enumerate(prog.slots):
        if src[0] == "live":
            vals[k] = None


def _find_leaf(where, flat):
    return flat[where[1]] if where[0] == "input" else where[1]()


def _plan(prog: _Program, root_slot: int, schedule: list) -> tuple:
    """Turn a recorded backward schedule into integer-indexed steps: every gradient buffer (an op's
    output, a leaf) gets a number, so replay is list indexing with no dictionaries or hashing."""
    buf_of, leaf_of, leaves = {}, {}, []

    def buf(key):
        if key not in buf_of:
            buf_of[key] = len(buf_of)
        return buf_of[key]

    def leaf(where):
        key = where if where[0] == "input" else ("live", id(where[1]()))
        if key not in leaf_of:
            leaf_of[key] = len(leaves)
            leaves.append(where)
        return leaf_of[key]

    root_buf = buf(prog.slots[root_slot][1:])
    steps = []
    for step in schedule:
        if step[0] == "leaf":
            j = leaf(step[1])
            steps.append((True, j, buf(("leaf", j))))
            continue
        _, k, targets = step
        n_out = prog.ops[k][3]
        ins = [buf((k, nr)) for nr in range(n_out)]
        outs = []
        for i, kind, target, nr, shape, dtype in targets:
            b = buf(("leaf", leaf(target))) if kind == "leaf" else buf((target, nr))
            outs.append((i, b, shape, dtype))
        steps.append((False, k, ins, outs))
    return root_buf, len(buf_of), leaves, steps


def _replay_backward(prog, plan, vals, ctxs, flat) -> None:
    root_buf, n_bufs, leaf_where, steps = plan
    bufs = [None] * n_bufs
    root_slot = prog.backwards_roots[id(plan)]
    bufs[root_buf] = xp.ones_like(vals[root_slot])
    leaves = [_find_leaf(w, flat) for w in leaf_where]
    sum_to, accumulate = array_math.sum_to, engine._accumulate
    for step in steps:
        if step[0]:                                     # a leaf: its summed gradient goes into .grad
            _, j, b = step
            g, bufs[b] = bufs[b], None
            if g is not None and leaves[j] is not None:
                accumulate(leaves[j]._accumulator(), g, False, None)
            continue
        _, k, ins, outs = step
        ctx = ctxs[k]
        if len(ins) == 1:
            g, bufs[ins[0]] = bufs[ins[0]], None
            grads = ctx.backward(ctx, g)
            if type(grads) is not tuple:
                grads = (grads,)
        else:
            g = [bufs[b] for b in ins]
            grads = engine._call_backward(ctx, g, array_math)
        n = len(grads)
        for i, b, shape, dtype in outs:
            gi = grads[i] if i < n else None
            if gi is None:
                continue
            if shape is not None and gi.shape != shape:
                gi = sum_to(gi, shape)
            if dtype is not None and gi.dtype != dtype:
                gi = gi.astype(dtype)
            old = bufs[b]
            bufs[b] = gi if old is None else old + gi
        ctxs[k] = None                    # free what the node saved, as the engine does
        grads = gi = g = None


def _rebuild(structure, vals):
    kind = structure[0]
    if kind == "tensor":
        return Tensor._make(vals[structure[1]])
    if kind == "value":
        return structure[1]
    seq_type, items = structure
    return seq_type(_rebuild(s, vals) for s in items)


# --- the program as code --------------------------------------------------------------------
def _listing(prog: _Program) -> str:
    def name(k):
        src = prog.slots[k]
        if src[0] == "input":
            return f"input{src[1]}"
        if src[0] == "live":
            t = src[1]()
            return f"param{k}" + (f"{list(t.shape)}" if t is not None else "")
        if src[0] == "const":
            return f"const{k}"
        return f"t{k}"

    lines = ["# forward: one line per op (its formula on the right)"]
    for event in prog.events:
        if event[0] == "op":
            cls, sources, _, _, outs = prog.ops[event[1]]
            args = ", ".join(name(v) if kind == "slot" else repr(v) if not isinstance(v, xp.ndarray)
                             else f"<array {v.shape}>" for kind, v in sources)
            formula = getattr(cls, "formula", "") or ""
            lines.append(f"{', '.join(name(s) for s in outs)} = {cls.__name__}({args})"
                         + (f"    # {formula}" if formula else ""))
        elif event[0] == "call":
            obj = event[1]()
            lines.append(f"{type(obj).__name__}.{event[2]}()    # runs live: reads lr and state now")
        else:
            root_slot, schedule = prog.backwards[event[1]]
            lines.append(f"# backward from {name(root_slot)}: the chain rule, unrolled (g_x = ∂loss/∂x)")
            lines.append(f"g_{name(root_slot)} = 1")
            for step in schedule:
                if step[0] == "leaf":
                    t = step[1][1]() if step[1][0] == "live" else None
                    lines.append(f"    accumulate into .grad of a leaf of shape {list(t.shape) if t is not None else '?'}")
                    continue
                _, k, targets = step
                cls, sources, _, _, outs = prog.ops[k]
                local = getattr(cls, "local", ()) or ()
                for i, kind, _, _, shape, _ in targets:
                    src = sources[i]
                    who = name(src[1]) if src[0] == "slot" else "?"
                    rule = local[i] if i < len(local) else "its backward"
                    lines.append(f"g_{who} += g_{name(outs[0])} · ∂{name(outs[0])}/∂{who}"
                                 f"    # {cls.backward_name}: {rule}")
    return "\n".join(lines)

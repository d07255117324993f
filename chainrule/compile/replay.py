"""A recorded step as one generated Python function: guards, forward, backward, optimizer calls.

Replaying a ``_Program`` by interpreting its event list costs, per op, a loop iteration, a list of
argument values, slot look-ups and a per-edge loop. Here the program is written out once as Python
source — one line per forward op, a few per backward node — with every array a local variable and
every class, kernel and constant bound by name, and compiled with ``compile()``. What each line does
is exactly what eager execution does, in the same order:

- forward: a fresh ``ctx`` per op (``_new(cls)``, its edges) and the op's own ``forward``;
- backward: the op's own backward kernel (``backward_array`` where the op has one, as the engine
  calls it, else ``backward``), then ``engine.run_node``'s per-edge rule unrolled for this node's
  known edges — sum down to the input's shape, cast to its dtype — and the routes into each
  gradient added in the engine's order; leaves go through the engine's own ``_accumulate``;
  multi-output nodes run through ``engine.run_node`` itself;
- optimizer and scheduler calls run live (hyperparameters, state and schedulers read now). Where
  ``step()`` is the base ``Optimizer.step`` (every built-in optimizer but LBFGS), the program calls
  what it calls — ``_update_group`` for each of ``param_groups`` — directly: recording is already
  off, so its ``no_grad`` and the observer wrapper have nothing to do.

The guards come first and return a ``Fallback`` (with the documented reason) instead of running.
``source(prog)`` (``step.source()``) gives the generated text, to read:

>>> import chainrule as cr
>>> w = cr.tensor([1.0, 2.0], requires_grad=True)
>>> opt = cr.optim.SGD([w], lr=0.1)
>>> @cr.compile
... def step():
...     opt.zero_grad()
...     (w * w).sum().backward()
...     opt.step()
>>> step(); step(); w
tensor([0.6400, 1.2800], requires_grad=True)
>>> text = step.source()
>>> text.splitlines()[0], text.count("_new(")       # one ctx per forward op: w * w, sum
('def replay(flat):', 2)
"""

from __future__ import annotations

from ..autograd import engine
from ..autograd.grad_mode import state
from ..backend import array_math, xp
from ..optim.optimizer import Optimizer
from ..tensor import Tensor
from .record import _TABLES, _Program


class Fallback:
    """Returned by a generated replay whose guards failed: why the call must run eagerly."""

    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason


_REASONS = {
    "gone": "a parameter or captured tensor of the recorded step no longer exists",
    "changed": "a parameter changed shape, dtype or requires_grad since the step was recorded",
    "hook": "a hook was added to a parameter",
    "mode": "a module switched between train() and eval() (or no longer exists)",
    "contents": "a module's parameters, buffers or submodules were replaced since the step was recorded",
    "module_hook": "a module hook was added",
    "index": "an embedding id is out of range (the eager call raises the error)",
}


class _Writer:
    """Accumulates source lines and the names they refer to (bound as the function's globals)."""

    def __init__(self):
        self.lines: list[str] = []
        self.env: dict = {"_new": object.__new__, "_state": state, "_make": Tensor._make,
                          "_sum_to": array_math.sum_to, "_run_node": engine.run_node,
                          "_accumulate": engine._accumulate, "_ones_like": xp.ones_like,
                          "_Fallback": Fallback, "_NO_TABLE": {}}
        self.env.update({f"_R_{k}": Fallback(v) for k, v in _REASONS.items()})
        self._ids: dict = {}

    def bind(self, prefix: str, value) -> str:
        """A global name for ``value``: the same object (for shapes and dtypes, the same value)
        always gets the same name."""
        key = (prefix, value if prefix in "SD" else id(value))
        name = self._ids.get(key)
        if name is None:
            name = self._ids[key] = f"{prefix}{len(self._ids)}"
            self.env[name] = value
        return name

    def emit(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)


def build(prog: _Program):
    """Compile ``prog`` into ``run(flat) -> result | Fallback`` (``flat``: the call's arguments)."""
    text, env = source(prog, with_env=True)
    code = compile(text, f"<chainrule.compile program {id(prog):#x}>", "exec")
    exec(code, env)     # noqa: S102 - our own generated source, bound to our own objects
    return env["replay"]


def source(prog: _Program, with_env: bool = False):
    """The Python source of the replay of ``prog`` (and its globals when ``with_env``)."""
    w = _Writer()
    w.emit(0, "def replay(flat):")
    live = _guards(prog, w)
    w.emit(1, "_prev = _state.enabled")
    w.emit(1, "_state.enabled = False      # the step's own code runs without recording, as replay needs")
    w.emit(1, "try:")
    _body(prog, w, live)
    w.emit(1, "finally:")
    w.emit(2, "_state.enabled = _prev")
    w.emit(1, f"return {_returned(prog.returned, w)}")
    text = "\n".join(w.lines) + "\n"
    return (text, w.env) if with_env else text


def _guards(prog: _Program, w: _Writer) -> dict:
    """Guard lines; returns {live slot: name of the local holding its tensor}."""
    tensors = {}
    for j, (ref, shape, dtype, requires_grad) in enumerate(prog.live_guards):
        t = f"T{j}"
        tensors[j] = t
        w.emit(1, f"{t} = {w.bind('W', ref)}()")
        w.emit(1, f"if {t} is None: return _R_gone")
        w.emit(1, f"if {t}._data.shape != {w.bind('S', shape)} or {t}._data.dtype != {w.bind('D', dtype)} "
                  f"or {t}.requires_grad != {requires_grad}: return _R_changed")
        w.emit(1, f"if {t}._acc and {t}._acc._tensor_hooks: return _R_hook")
    for ref, training, contents in prog.module_guards:
        w.emit(1, f"m = {w.bind('M', ref)}()")
        w.emit(1, f"if m is None or m.training != {training}: return _R_mode")
        w.emit(1, "d = m.__dict__")
        w.emit(1, f"if {' or '.join(_table_changed(k, ids, w) for k, ids in zip(_TABLES, contents))}: "
                  "return _R_contents")
        w.emit(1, "if m._forward_pre_hooks or m._forward_hooks or m._backward_hooks or m._backward_pre_hooks: "
                  "return _R_module_hook")
    if prog.module_guards:
        w.emit(1, "m = d = None")
    for pos, rows in prog.index_guards:
        w.emit(1, f"a = flat[{pos}]._data")
        w.emit(1, f"if a.size and (a.min() < 0 or a.max() >= {rows}): return _R_index")
    if prog.index_guards:
        w.emit(1, "a = None")
    live, j = {}, 0
    for k, src in enumerate(prog.slots):
        if src[0] == "live":
            live[k] = tensors[j]
            j += 1
    assert j == len(prog.live_guards), "each live slot has one guard"
    return live


def _table_changed(table: str, ids, w: _Writer) -> str:
    """A test that is true when a module's table (its parameters, buffers or submodules) is not the
    recorded one: other objects, other names' count, or a table that appeared or went."""
    if ids is None:
        return f"{table!r} in d"
    if not ids:
        return f"d.get({table!r})"
    return f"tuple(map(id, d.get({table!r}, _NO_TABLE).values())) != {w.bind('C', ids)}"


def _body(prog: _Program, w: _Writer, live: dict) -> None:
    loaded = set()          # live slots whose array is read since the last optimizer call

    def arg(kind, v) -> str:
        if kind == "seq":               # a tuple or list holding arrays (an index): built on each call
            seq_type, items = v
            inner = "".join(f"{arg(k, u)}, " for k, u in items)
            return f"({inner})" if seq_type is tuple else f"[{inner}]"
        if kind != "slot":
            return w.bind("K", v) if v is not None else "None"
        src = prog.slots[v]
        if src[0] == "const":
            return w.bind("K", src[1])
        if src[0] == "live" and v not in loaded:
            w.emit(2, f"v{v} = {live[v]}._data")
            loaded.add(v)
        return f"v{v}"

    for k, src in enumerate(prog.slots):
        if src[0] == "input":
            w.emit(2, f"v{k} = flat[{src[1]}]._data")
    for event in prog.events:
        if event[0] == "op":
            k = event[1]
            cls, sources, edges, n_out, out_slots = prog.ops[k]
            args = ", ".join(arg(kind, v) for kind, v in sources)
            c = f"c{k}"
            w.emit(2, f"{c} = _new({w.bind('O', cls)}); {c}._edges = {w.bind('E', edges)}")
            call = f"{w.bind('F', cls.forward)}({c}, {args})"
            if n_out == 1 and not prog.tuple_out[k]:
                w.emit(2, f"v{out_slots[0]} = {call}")
            else:
                outs = "".join(f"v{s}, " for s in out_slots)
                w.emit(2, f"{outs}= {call}")
                if n_out > 1:      # what the engine's generic path reads from a multi-output node
                    w.emit(2, f"{c}._num_outputs = {n_out}")
                    w.emit(2, f"{c}._out_shape = [{', '.join(f'v{s}.shape' for s in out_slots)}]")
                    w.emit(2, f"{c}._out_dtype = [{', '.join(f'v{s}.dtype' for s in out_slots)}]")
        elif event[0] == "draw":       # rand/randn/randint: drawn again, from the live generator
            k = event[1]
            w.emit(2, f"v{k} = {w.bind('R', prog.slots[k][2])}()    # {prog.slots[k][1]}")
        elif event[0] == "call":
            _, ref, method, kwargs = event
            kw = ", ".join(f"{name}={value!r}" for name, value in kwargs.items())
            if method == "step" and _plain_step(ref()):
                # Optimizer.step() itself: each group's update, without recording (already off here)
                w.emit(2, f"o = {w.bind('U', ref)}()")
                w.emit(2, "for group in o.param_groups: o._update_group(group)")
                w.emit(2, "o = group = None")
            else:
                w.emit(2, "_state.enabled = _prev")
                w.emit(2, f"{w.bind('U', ref)}().{method}({kw})")
                w.emit(2, "_state.enabled = False")
            loaded.clear()        # an update may rebind p._data: read live arrays again
        else:
            _backward(prog, event[1], w)


def _plain_step(obj) -> bool:
    """Is ``obj.step()`` the base ``Optimizer.step``: ``_update_group`` per group under ``no_grad``?"""
    return isinstance(obj, Optimizer) and type(obj).step is Optimizer.step and "step" not in vars(obj)


def _backward(prog: _Program, b: int, w: _Writer) -> None:
    """One backward pass, as the engine ran it: gradient buffers are locals ``g<b>_<n>``."""
    root_slot, schedule = prog.backwards[b]
    names: dict = {}

    def buf(key) -> str:
        if key not in names:
            names[key] = f"g{b}_{len(names)}"
        return names[key]

    def leaf_key(where):
        return where if where[0] == "input" else ("live", id(where[1]()))

    lines: list[tuple[int, str]] = []
    written = set()

    def add(target: str) -> None:
        """Route sum of a gradient ``a`` that is not None: the first to arrive (in program order, which
        is the engine's order) is taken, later ones are added to it."""
        if target in written:
            lines.append((4, f"{target} = a if {target} is None else {target} + a"))
        else:
            lines.append((4, f"{target} = a"))
            written.add(target)

    root = buf(("op", prog.slots[root_slot][1], prog.slots[root_slot][2]))
    for step in schedule:
        if step[0] == "leaf":
            g = buf(("leaf", leaf_key(step[1])))
            t = f"flat[{step[1][1]}]" if step[1][0] == "input" else f"{w.bind('W', step[1][1])}()"
            lines.append((2, "r = a = None       # so .grad may take the array without a copy (engine._owned)"))
            lines.append((2, f"if {g} is not None:"))
            lines.append((3, f"t = {t}"))
            lines.append((3, f"if t is not None: _accumulate(t._accumulator(), {g}, False, None)"))
            lines.append((3, f"t = {g} = None"))
            continue
        _, k, targets = step
        cls, _, edges, n_out, _ = prog.ops[k]
        ins = [buf(("op", k, nr)) for nr in range(n_out)]
        c = f"c{k}"
        if n_out == 1:
            kernel = getattr(cls, "backward_array", None) or cls.backward
            lines.append((2, f"if {ins[0]} is not None:"))
            lines.append((3, f"r = {w.bind('B', kernel)}({c}, {ins[0]}); {c} = {ins[0]} = None"))
            if [t[0] for t in targets] != [0]:
                lines.append((3, "if type(r) is not tuple: r = (r,)"))
            for i, kind, target, nr in targets:
                out = buf(("leaf", leaf_key(target))) if kind == "leaf" else buf(("op", target, nr))
                if [t[0] for t in targets] == [0]:
                    lines.append((3, "a = r[0] if type(r) is tuple else r"))
                else:
                    lines.append((3, "a = r[0]" if i == 0 else f"a = r[{i}] if len(r) > {i} else None"))
                lines.append((3, "if a is not None:"))
                edge = edges[i]
                if edge._out_shape is not None:
                    shape = w.bind('S', edge._out_shape)
                    lines.append((4, f"if a.shape != {shape}: a = _sum_to(a, {shape})"))
                if edge._out_dtype is not None:
                    d = w.bind('D', edge._out_dtype)    # `is` first: the usual case, and cheaper than !=
                    lines.append((4, f"if a.dtype is not {d} and a.dtype != {d}: a = a.astype({d})"))
                add(out)
        else:       # several outputs: the engine's general path (zeros for unused outputs)
            lines.append((2, f"if {' or '.join(f'{g} is not None' for g in ins)}:"))
            lines.append((3, f"r = _run_node({c}, [{', '.join(ins)}]); {c} = None"))
            lines.append((3, f"{' = '.join(ins)} = None"))
            for i, kind, target, nr in targets:
                out = buf(("leaf", leaf_key(target))) if kind == "leaf" else buf(("op", target, nr))
                lines.append((3, f"a = r[{i}]"))
                lines.append((3, "if a is not None:"))
                add(out)
    lines.append((2, "r = a = None"))
    w.emit(2, f"# backward {b}: the chain rule, in the engine's order")
    w.emit(2, f"{' = '.join(names.values())} = None")
    # a fresh array of ones each call, as Tensor.backward makes: a C-level copy of one made now instead
    # of NumPy's Python-level ones_like (which stays for a loss whose shape or dtype is not the recorded one)
    ones = w.bind("K", xp.ones(*prog.root_like[b]))
    v = f"v{root_slot}"
    w.emit(2, f"{root} = {ones}.copy() if {v}.shape == {ones}.shape and {v}.dtype == {ones}.dtype "
              f"else _ones_like({v})")
    for indent, text in lines:
        w.emit(indent, text)


def _returned(structure, w: _Writer) -> str:
    kind = structure[0]
    if kind == "tensor":
        return f"_make(v{structure[1]})"
    if kind == "value":
        return repr(structure[1]) if structure[1] is None or type(structure[1]) in (bool, int) \
            else w.bind("K", structure[1])
    seq_type, items = structure
    inner = "".join(f"{_returned(s, w)}, " for s in items)
    if seq_type is tuple:
        return f"({inner})"
    if seq_type is list:
        return f"[{inner}]"
    return f"{w.bind('Q', seq_type)}(iter([{inner}]))"


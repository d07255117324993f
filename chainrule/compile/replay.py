"""Replaying a recorded step: guards, then each op's forward and backward on arrays, in the recorded order."""

from __future__ import annotations

from ..autograd import engine
from ..autograd.grad_mode import state
from ..backend import xp
from ..tensor import Tensor
from .record import _contents, _Program


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
        for i, kind, target, nr in targets:
            b = buf(("leaf", leaf(target))) if kind == "leaf" else buf((target, nr))
            outs.append((i, b))
        steps.append((False, k, ins, outs))
    return root_buf, len(buf_of), leaves, steps


def _replay_backward(prog, plan, vals, ctxs, flat) -> None:
    root_buf, n_bufs, leaf_where, steps = plan
    bufs = [None] * n_bufs
    root_slot = prog.backwards_roots[id(plan)]
    bufs[root_buf] = xp.ones_like(vals[root_slot])
    leaves = [_find_leaf(w, flat) for w in leaf_where]
    run_node, accumulate = engine.run_node, engine._accumulate
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
        else:
            g = [bufs[b] for b in ins]
        grads = run_node(ctx, g)     # the engine's own step: backward, then each gradient summed to its input
        for i, b in outs:
            gi = grads[i]
            if gi is None:
                continue
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

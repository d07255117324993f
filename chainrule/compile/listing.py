"""A recorded step as readable code: the training step as the chain rule unrolled."""

from __future__ import annotations

from ..backend import xp
from .record import _Program


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
        if src[0] == "draw":
            return f"random{k}"
        return f"t{k}"

    def show(kind, v):
        if kind == "slot":
            return name(v)
        if kind == "seq":
            inner = ", ".join(show(k, u) for k, u in v[1])
            return f"[{inner}]" if v[0] is list else f"({inner})"
        return f"<array {v.shape}>" if isinstance(v, xp.ndarray) else repr(v)

    lines = ["# forward: one line per op (its formula on the right)"]
    for event in prog.events:
        if event[0] == "op":
            cls, sources, _, _, outs = prog.ops[event[1]]
            args = ", ".join(show(kind, v) for kind, v in sources)
            formula = getattr(cls, "formula", "") or ""
            lines.append(f"{', '.join(name(s) for s in outs)} = {cls.__name__}({args})"
                         + (f"    # {formula}" if formula else ""))
        elif event[0] == "draw":
            lines.append(f"{name(event[1])} = {prog.slots[event[1]][1]}(...)    # drawn again on every replay")
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
                for i, _kind, _target, _nr in targets:
                    src = sources[i]
                    who = name(src[1]) if src[0] == "slot" else "?"
                    rule = local[i] if i < len(local) else "its backward"
                    lines.append(f"g_{who} += g_{name(outs[0])} · ∂{name(outs[0])}/∂{who}"
                                 f"    # {cls.backward_name}: {rule}")
    return "\n".join(lines)

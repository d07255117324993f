"""Run a program in one library, and compare two runs.

A run executes the program's lines one by one (so an error names its line), then the loss, then one
of three gradient modes: ``backward`` (``loss.backward()``, the leaves' ``.grad`` and retained
gradients), ``grad`` (``autograd.grad``, plain) and ``second`` (``create_graph=True``, the
``requires_grad`` of each first-order gradient, then the gradient of Σ <grad, R> — second order).
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import traceback
import warnings

import numpy as np

from .program import Program

MODES = ("backward", "grad", "second")
TOL = {"float64": (1e-7, 1e-9), "float32": (2e-3, 2e-4)}   # (rtol, atol relative to the largest value)


def module(lib: str):
    if lib == "torch":
        import torch
        return torch
    import chainrule
    return chainrule


def _array(t):
    if t is None:
        return None
    if hasattr(t, "numpy"):
        d = t.detach()
        if "torch" in type(t).__module__:
            # clone first: numpy(force=True) of some of torch 2.13's second-order ZeroTensors segfaults
            return np.array(d.clone().numpy(force=True))
        return np.array(d.numpy())
    return np.asarray(t)


def _error(where, e: BaseException) -> dict:
    frames = traceback.extract_tb(e.__traceback__)
    raw = bool(frames) and "/numpy/" in frames[-1].filename and type(e).__module__ != "torch"
    return {"where": where, "type": type(e).__name__, "message": str(e).split("\n")[0][:300], "numpy": raw}


def run(program: Program, lib: str, dtype: str, mode: str, jitter: int | None = None) -> dict:
    """Execute ``program`` in ``lib`` ('torch' or 'chainrule') with float dtype ``dtype``. ``jitter``: a seed;
    each float leaf is then moved by one unit in the last place, up or down at random (``float32_noise``)."""
    m = module(lib)
    env = {"m": m, "F": m.nn.functional, "np": np, "DT": getattr(m, dtype)}
    out: dict = {"warned": []}
    if lib == "chainrule":      # its warn-once warnings as in a new process (torch's: fresh_torch_warnings)
        from chainrule.tensor import core
        core.warned_once.clear()
    for i, stmt in enumerate(program.stmts):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                exec(stmt.code, env)  # noqa: S102 - the fuzzer runs the programs it writes
                if jitter is not None and stmt.leaf:
                    _nudge(m, env[stmt.defines], np.random.default_rng(jitter * 1000 + i))
            except Exception as e:  # noqa: BLE001 - compared with the other library's behaviour
                out["error"] = _error(i, e)
                return out
        if any(issubclass(w.category, UserWarning) and not issubclass(w.category, DeprecationWarning)
               for w in caught):
            out["warned"].append(i)
    values = {}
    for s in program.stmts:
        t = env.get(s.defines) if s.defines else None
        if t is not None and hasattr(t, "requires_grad"):
            values[s.defines] = (_array(t), str(t.dtype).split(".")[-1], bool(t.requires_grad))
    out["values"] = values
    leaves = [env[n] for n in program.leaves]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(program.loss_code(), env)  # noqa: S102 - the fuzzer runs the programs it writes
            loss = env["loss"]
            if loss is None or not leaves or not loss.requires_grad:
                return out
            _gradients(m, env, program, loss, leaves, mode, out)
    except Exception as e:  # noqa: BLE001
        out["error"] = _error(mode, e)
    return out


def _nudge(m, t, rng) -> None:
    """Move each element of the float leaf ``t`` one unit in the last place, up or down at random."""
    if not t.is_floating_point() or not t.numel():
        return
    a = t.detach().numpy()
    away = np.where(rng.random(a.shape) < 0.5, -np.inf, np.inf).astype(a.dtype)
    with m.no_grad():
        t.copy_(m.from_numpy(np.nextafter(a, away)))


def float32_noise(program: Program, mode: str, want: dict, runs: int = 6, dtype: str = "float32") -> dict | None:
    """How far torch's own results (float32, or ``dtype``) move when every leaf moves by one unit in the last
    place (the largest change over ``runs`` random nudges), per value and gradient of ``want``; None if a
    nudged run ends differently. A result that is mostly cancellation (terms of 1e3 summing to 1e-5, or a
    float64 gradient of 1e-5 left from terms of 1e8) moves by about its terms' rounding error: two libraries
    that round differently can differ by that much."""
    noise: dict = {}
    for k in range(runs):
        other = run(program, "torch", dtype, mode, jitter=k + 1)
        if "error" in other or other.keys() != want.keys():
            return None
        for name, (w, _, _) in want["values"].items():
            o = other["values"].get(name, (None,))[0]
            if o is None or o.shape != w.shape or w.dtype.kind != "f":
                continue
            d = np.nan_to_num(np.abs(o.astype(np.float64) - w), nan=0.0, posinf=0.0)
            noise[name] = d if name not in noise else np.maximum(noise[name], d)
        for key in ("grads", "second"):
            for i, (w, o) in enumerate(zip(want.get(key) or [], other.get(key) or [])):
                if w is None or o is None or o.shape != w.shape:
                    continue
                d = np.nan_to_num(np.abs(o.astype(np.float64) - w), nan=0.0, posinf=0.0)
                noise[key, i] = d if (key, i) not in noise else np.maximum(noise[key, i], d)
    return noise


def _gradients(m, env, program, loss, leaves, mode, out):
    if mode == "backward":
        loss.backward()
        retained = [s.uses[0] for s in program.stmts if s.op == "retain_grad"]
        out["grads"] = [_array(t.grad) for t in leaves] + [_array(env[n].grad) for n in retained]
        return
    grads = m.autograd.grad(loss, leaves, create_graph=mode == "second", allow_unused=True)
    out["grads"] = [_array(g) for g in grads]
    if mode != "second":
        return
    out["grads_rg"] = [g is not None and bool(g.requires_grad) for g in grads]
    weights = dict(program.second)
    terms = [(g * m.tensor(eval(weights[n]), dtype=env["DT"])).sum()
             for g, n in zip(grads, program.leaves) if g is not None and g.requires_grad]
    if not terms:
        return
    s = terms[0]
    for t in terms[1:]:
        s = s + t
    out["second"] = [_array(g) for g in m.autograd.grad(s, leaves, allow_unused=True)]


def close(got, want, dtype: str, through: float = 0.0) -> bool:
    """Whether ``got`` matches ``want`` to the precision of ``dtype``. ``through`` is the largest magnitude
    the computation passed through: in float32 the absolute tolerance is relative to it, not only to the
    result, because a sum that cancels keeps the rounding error of its terms (e.g. a second-order
    gradient that is 1e-13 in float64 is 3e-4 in float32 after terms of size 10 cancel)."""
    if got is None or want is None:
        return got is None and want is None
    if got.shape != want.shape:
        return False
    if want.dtype.kind in "biu" or got.dtype.kind in "biu":
        return np.array_equal(got, want)
    if not got.size:
        return True
    # the values' own precision decides (an int tensor times 1.5 is float32 even in a float64 run)
    rtol, atol = TOL["float32" if np.float32 in (got.dtype, want.dtype) or dtype == "float32" else "float64"]
    if np.float16 in (got.dtype, want.dtype):
        rtol, atol = 1e-2, 1e-3
    w = want.astype(np.float64)
    g = got.astype(np.float64)
    finite = np.isfinite(w)
    scale = max(1.0, float(np.abs(w[finite]).max())) if finite.any() else 1.0
    if rtol > TOL["float64"][0]:
        scale = max(scale, through)
    # NaN where torch has NaN, the same infinities where it has infinities, finite where it is finite
    if not np.array_equal(g[~finite], w[~finite], equal_nan=True) or not np.isfinite(g[finite]).all():
        return False
    return bool(np.all(np.abs(g[finite] - w[finite]) <= atol * scale + rtol * np.abs(w[finite])))


def as_accurate(got, want, ref, through: float = 0.0, noise=None) -> bool:
    """Float32 values ``got`` (chainrule's) as accurate as torch's (``want``), measured against ``ref``, torch's
    float64 run of the same program: no element further from it than 4 times torch's own float32 error there
    (plus the float32 tolerance). Where a float32 result is all cancellation (a second-order gradient that is
    1e-11 in float64 and 5e-4 in torch's float32), each library's rounding is its own; being within a small
    factor of torch's is all float32 can promise. ``noise`` (``float32_noise``): how far torch's own result
    moves when the leaves move by one unit in the last place; 4 times that is allowed as well."""
    if got is None or want is None or ref is None or got.shape != want.shape or want.shape != ref.shape \
            or ref.dtype.kind != "f":
        return False
    g, w, r = (a.astype(np.float64) for a in (got, want, ref))
    if not (np.isfinite(g) == np.isfinite(w)).all() or not np.array_equal(g[~np.isfinite(g)], w[~np.isfinite(w)],
                                                                          equal_nan=True):
        return False
    finite = np.isfinite(r) & np.isfinite(g) & np.isfinite(w)
    rtol, atol = TOL["float32"]
    scale = max(1.0, float(np.abs(r[finite]).max()) if finite.any() else 1.0, through)
    bound = 4 * np.abs(w - r) + atol * scale + rtol * np.abs(r)
    if noise is not None and noise.shape == bound.shape:
        bound = bound + 4 * float(noise.max(initial=0.0))
    return bool(np.all(np.abs(g - r)[finite] <= bound[finite]))


def compare(program: Program, got: dict, want: dict, dtype: str, mode: str, ref: dict | None = None,
            noise: dict | None = None) -> str | None:
    """The first difference between chainrule's run (``got``) and torch's (``want``), or None. ``ref``: torch's
    float64 run of a float32 program, for values that differ by more than the tolerance (``as_accurate``);
    ``noise``: torch's float32 sensitivity to its inputs' last bits (``float32_noise``)."""
    noise = noise or {}
    ge, we = got.get("error"), want.get("error")
    op = (lambda i: program.stmts[i].op if isinstance(i, int) else i)
    if ge and ge["numpy"]:
        return f"raw NumPy error escapes at {op(ge['where'])}: {ge['type']}: {ge['message']}"
    if ge or we:
        if not ge:
            return f"torch raises at {op(we['where'])} ({we['type']}: {we['message']}), chainrule does not"
        if not we:
            return f"chainrule raises at {op(ge['where'])} ({ge['type']}: {ge['message']}), torch does not"
        if ge["where"] != we["where"]:
            return f"both raise, chainrule at {op(ge['where'])}, torch at {op(we['where'])}: {ge['message']}"
        return None
    if got["warned"] != want["warned"]:
        return f"warnings differ: chainrule warns at {[op(i) for i in got['warned']]}, " \
               f"torch at {[op(i) for i in want['warned']]}"
    ops = {s.defines: s.op for s in program.stmts if s.defines}
    # A value is only as precise as the values it came from: in a float64 run a float32 intermediate (an
    # int or bool tensor made .float()) rounds what follows to float32, in both libraries, differently
    lowered = any(wdt in ("float32", "float16") for _, wdt, _ in want["values"].values())
    precision = "float32" if lowered else dtype
    for name, (w, wdt, wrg) in want["values"].items():
        g, gdt, grg = got["values"].get(name, (None, None, None))
        if g is None or g.shape != w.shape:
            return f"forward shape of {ops[name]}: chainrule {None if g is None else g.shape}, torch {w.shape}"
        if gdt != wdt:
            return f"forward dtype of {ops[name]}: chainrule {gdt}, torch {wdt}"
        if grg != wrg:
            return f"requires_grad of {ops[name]}: chainrule {grg}, torch {wrg}"
        if not close(g, w, precision) and not (ref and as_accurate(g, w, ref["values"].get(name, (None,))[0],
                                                                    noise=noise.get(name))) \
                and not within_noise(g, w, noise.get(name)):
            return f"forward value of {ops[name]}"
    through = _largest(w for w, _, _ in want["values"].values())
    for key, what in (("grads", f"{mode} gradient"), ("grads_rg", "requires_grad of create_graph gradient"),
                      ("second", "second-order gradient")):
        gs, ws = got.get(key), want.get(key)
        if (gs is None) != (ws is None):
            return f"{what}: chainrule {'computes none' if gs is None else 'computes one'}, torch the opposite"
        for k, (g, w) in enumerate(zip(gs or [], ws or [])):
            if key == "grads_rg":
                if g != w:
                    return f"{what} of input {k}: chainrule {g}, torch {w}"
            elif (g is None) != (w is None):
                return f"{what} of input {k}: chainrule {'None' if g is None else 'a tensor'}, torch the other"
            elif g is not None and g.dtype != w.dtype:
                return f"{what} dtype of input {k}: chainrule {g.dtype}, torch {w.dtype}"
            elif not close(g, w, precision, through) and not (
                    ref and k < len(ref.get(key) or []) and as_accurate(g, w, ref[key][k], through,
                                                                        noise.get((key, k)))) \
                    and not within_noise(g, w, noise.get((key, k))):
                return f"{what} value of input {k}"
        if key == "grads":      # second order passes through the first-order gradients as well
            through = max(through, _largest(ws or []))
    return None


def within_noise(got, want, noise) -> bool:
    """Whether ``got`` differs from torch's ``want`` by no more than 4 times ``noise`` (``float32_noise``: how far
    torch's own result moves, anywhere in the array, when its inputs move by one unit in the last place),
    with the same non-finite values."""
    if noise is None or got is None or want is None or got.shape != want.shape or noise.shape != want.shape \
            or want.dtype.kind != "f":
        return False
    g, w = got.astype(np.float64), want.astype(np.float64)
    if not np.array_equal(np.isfinite(g), np.isfinite(w)) or not np.array_equal(g[~np.isfinite(g)],
                                                                              w[~np.isfinite(w)], equal_nan=True):
        return False
    finite = np.isfinite(w)
    # the largest move anywhere in the array: cancellation noise lands on whichever elements it lands on
    return bool(np.all(np.abs(g - w)[finite] <= 4 * float(noise.max(initial=0.0)) + 1e-12 * np.abs(w[finite])))


def _largest(arrays) -> float:
    """The largest finite magnitude among float ``arrays`` (0.0 if none)."""
    out = 0.0
    for a in arrays:
        if a is not None and a.size and a.dtype.kind == "f":
            finite = a[np.isfinite(a)]
            if finite.size:
                out = max(out, float(np.abs(finite).max()))
    return out


def fresh_torch_warnings(program: Program, dtype: str) -> list:
    """The statements at which torch warns when the program runs in a new interpreter (torch warns
    some things once per process, so a long campaign would otherwise see them only once)."""
    return _fresh_torch_warnings(tuple(s.code for s in program.stmts), dtype)


@functools.lru_cache(maxsize=256)
def _fresh_torch_warnings(codes: tuple, dtype: str) -> list:   # one interpreter per program and dtype
    script = "\n".join([
        "import json, warnings", "import numpy as np", "import torch as m", "F = m.nn.functional",
        f"DT = m.{dtype}", "warned = []", "env = dict(globals())",
        f"for i, code in enumerate({list(codes)!r}):",
        "    with warnings.catch_warnings(record=True) as caught:",
        "        warnings.simplefilter('always')",
        "        try:",
        "            exec(code, env)",
        "        except Exception:",
        "            break",
        "    if any(issubclass(w.category, UserWarning) and not issubclass(w.category, DeprecationWarning) "
        + "for w in caught):",
        "        warned.append(i)",
        "print(json.dumps(warned))"])
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          check=False)
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return None


# chainrule's documented limitations: raising this (and nothing else) where torch runs is not a bug
UNSUPPORTED = ("in-place modification of a view of a tensor that requires grad is not supported by chainrule",)


def check(program: Program, dtypes=("float64", "float32"), modes=MODES, skipped=None) -> tuple[str, str, str] | None:
    """Run both libraries; return (dtype, mode, difference) for the first difference, else None.

    A program that hits a documented limitation of chainrule counts in ``skipped`` instead."""
    for dtype in dtypes:
        for mode in modes:
            want = run(program, "torch", dtype, mode)
            got = run(program, "chainrule", dtype, mode)
            limit = [u for u in UNSUPPORTED if u in got.get("error", {}).get("message", "")]
            if limit:
                if skipped is not None:
                    skipped[limit[0]] += 1
                return None
            diff = compare(program, got, want, dtype, mode)
            if diff and diff.startswith("warnings differ") and fresh_torch_warnings(program, dtype) == got["warned"]:
                # torch warned in a fresh process: its warn-once (a C++ TORCH_WARN_ONCE, e.g. x.T on 3-D)
                # had already fired in this one; compare the rest as if the warnings agreed
                want = dict(want, warned=got["warned"])
                diff = compare(program, got, want, dtype, mode)
            ref = None
            if diff and dtype == "float32" and " value" in diff:     # as accurate as float32 allows?
                ref = run(program, "torch", "float64", mode)
                ref = None if "error" in ref else ref
                if ref is not None:
                    diff = compare(program, got, want, dtype, mode, ref)
            if diff and " value" in diff and (ref is not None or dtype == "float64"):   # within torch's own
                noise = float32_noise(program, mode, want, dtype=dtype)             # sensitivity to rounding?
                if noise is not None:
                    diff = compare(program, got, want, dtype, mode, ref, noise)
            if diff:
                return dtype, mode, diff
    return None

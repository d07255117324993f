"""Who is right when chainrule's and PyTorch's gradients differ: finite differences in float64.

First order: the derivative of the loss with respect to every leaf element. Second order: the
derivative of s(x) = Σ <∂loss/∂x_k, R_k> (PyTorch's plain first-order gradients, which agreed).
Each element gets a central difference, its Richardson extrapolation over two larger steps, and
the two one-sided differences. A side is taken only where the derivative exists: where the
one-sided differences disagree (a kink, e.g. elu's second derivative at 0) or the loss is not
finite beside the point, the verdict is "undecidable: ..." and the case stays a difference.
"""

from __future__ import annotations

import warnings

import numpy as np

from .program import Program
from .run import _largest, close, module, run

EPS = 1e-6
MAX_ELEMENTS = 400


CUTS = ("no_grad()", "set_grad_enabled(False)", ".detach()")   # statements whose value autograd treats as constant


def frozen_values(program: Program, arrays: dict) -> dict:
    """The values of the statements that cut the graph (computed under no_grad, or detached), at the point:
    autograd treats them as constants, so the differences must too (they hold them fixed while a leaf
    moves; otherwise they would see the leaf's effect through them, which neither library differentiates)."""
    env = _execute(program, arrays, {})
    return {s.defines: env[s.defines].detach().clone() for s in program.stmts
            if s.defines and not s.leaf and any(c in s.code for c in CUTS) and s.defines in env}


def _execute(program: Program, arrays: dict, frozen: dict) -> dict:
    m = module("torch")
    env = {"m": m, "F": m.nn.functional, "np": np, "DT": m.float64}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for s in program.stmts:
            if s.leaf:
                env[s.defines] = m.tensor(arrays[s.defines], dtype=m.float64, requires_grad=True)
            else:
                exec(s.code, env)  # noqa: S102 - the fuzzer runs the programs it writes
                if s.defines in frozen:
                    t = env[s.defines]
                    env[s.defines] = frozen[s.defines].clone().requires_grad_(t.requires_grad)
        exec(program.loss_code(), env)  # noqa: S102 - the fuzzer runs the programs it writes
    return env


def _scalar(program: Program, arrays: dict, second: bool, frozen: dict) -> float:
    m = module("torch")
    env = _execute(program, arrays, frozen)
    leaves = [env[n] for n in program.leaves]
    if not second:
        return float(env["loss"])
    grads = m.autograd.grad(env["loss"], leaves, allow_unused=True)
    weights = dict(program.second)
    return float(sum(float((g * m.tensor(eval(weights[n]), dtype=m.float64)).sum())
                     for g, n in zip(grads, program.leaves) if g is not None))


STEPS = (1e-3, 5e-4)   # Richardson: (4·D(h/2) − D(h))/3 cancels the h² error of central differences


def _estimates(f, a, idx, f0: float) -> tuple[float, float, float, float]:
    """At element ``idx`` of array ``a``: the central difference at EPS, its Richardson extrapolation
    from STEPS, and the one-sided (left, right) differences at EPS (they differ at a kink)."""
    keep = a[idx]

    def at(x):
        a[idx] = x
        try:
            return f()
        finally:
            a[idx] = keep

    plus, minus = at(keep + EPS), at(keep - EPS)
    d1, d2 = ((at(keep + h) - at(keep - h)) / (2 * h) for h in STEPS)
    return (plus - minus) / (2 * EPS), (4 * d2 - d1) / 3, (f0 - minus) / EPS, (plus - f0) / EPS


def numerical(program: Program, second: bool, detail: bool = False) -> list:
    """The derivative of the loss (``second``: of Σ <∂loss/∂x, R>) by each leaf element, by central
    differences in float64. With ``detail``, each leaf gives a dict of arrays: ``central``,
    ``richardson``, ``left``, ``right`` (one-sided) differences."""
    env = {"m": module("torch"), "np": np, "DT": module("torch").float64}
    arrays = {}
    for s in program.stmts:
        if s.leaf:
            exec(s.code, env)  # noqa: S102 - the fuzzer runs the programs it writes
            arrays[s.defines] = env[s.defines].detach().numpy().astype(np.float64)

    frozen = frozen_values(program, arrays)

    def f():
        return _scalar(program, arrays, second, frozen)

    f0 = f()
    out = []
    for name in program.leaves:
        a = arrays[name]
        est = {k: np.zeros(a.shape) for k in ("central", "richardson", "left", "right")}
        for idx in np.ndindex(*a.shape):
            for k, v in zip(est, _estimates(f, a, idx, f0)):
                est[k][idx] = v
        out.append(est if detail else est["central"])
    return out


def _agree(g, n) -> np.ndarray:
    """Elementwise: does a library's gradient ``g`` agree with the differences ``n`` (float32-like
    tolerance, scaled by the largest difference, as ``run.close``)?"""
    finite = np.isfinite(n)
    scale = max(1.0, float(np.abs(n[finite]).max())) if finite.any() else 1.0
    with np.errstate(invalid="ignore"):
        return finite & np.isfinite(g) & (np.abs(g - n) <= 2e-4 * scale + 2e-3 * np.abs(n))


# torch errors that are its semantics (chainrule must raise them too), never a bug of torch's double backward
SEMANTIC_ERRORS = ("inplace operation", "does not require grad", "a second time", "One of the differentiated")


def torch_fails_gradients(mode: str, diff: str) -> bool:
    """torch raised computing gradients that chainrule computed (e.g. torch 2.13's prod double backward
    over an empty slice reshapes 0 elements into [0, -1]; its huber_loss backward with a float32 input
    and a float64 target wants one dtype): central differences can decide."""
    return diff.startswith(f"torch raises at {mode} ") and not any(e in diff for e in SEMANTIC_ERRORS)


def arbitrate(program: Program, failure: tuple[str, str, str]) -> str | None:
    """The side the differences agree with: 'chainrule' (torch is wrong), 'torch', 'neither', or
    'undecidable: <why>' (see ``decide``); None for differences that are not gradient values (or programs
    too big to difference). When torch raises computing gradients chainrule computes, 'chainrule' if its
    values agree, else 'neither' (or undecidable)."""
    dtype, mode, diff = failure
    if dtype == "float32" and " value" in diff:
        verdict = float64_reference(program, mode)
        if verdict:
            return verdict
    torch_failed = torch_fails_gradients(mode, diff)
    if "gradient value" not in diff and not torch_failed:
        return None
    env = {"m": module("torch"), "np": np, "DT": module("torch").float64}
    total = 0
    for s in program.stmts:
        if s.leaf:
            exec(s.code, env)  # noqa: S102 - the fuzzer runs the programs it writes
            total += env[s.defines].numel()
    if total > MAX_ELEMENTS:
        return None
    second = "second-order" in diff or torch_failed and mode == "second"
    key = "second" if second else "grads"
    try:
        numeric = numerical(program, second, detail=True)
    except Exception:  # noqa: BLE001 - the scalar cannot be differenced (it raised)
        return None
    ours = run(program, "chainrule", "float64", mode)
    got = ours.get(key)
    if got is None and key == "second" and "grads_rg" in ours:   # no first-order gradient required grad:
        got = [None] * len(numeric)                                 # every second-order one is 0
    got = got or []
    want = run(program, "torch", "float64", mode).get(key) or []
    if torch_failed:    # (a backward run also returns retained gradients, after the leaves')
        got = got[:len(numeric)] if len(got) >= len(numeric) else None
        return "neither" if got is None else decide(got, None, numeric) or "neither"
    return decide(got, want, numeric)


def float64_reference(program: Program, mode: str) -> str | None:
    """A float32 value difference decided by the same program in float64 (torch): 'chainrule' if
    chainrule's float32 values agree with it and torch's do not (e.g. torch's float32 group_norm of a
    group whose values are all equal divides rounding noise by sqrt(eps)), else None."""
    ref = run(program, "torch", "float64", mode)
    if "error" in ref:
        return None
    ours = _near(run(program, "chainrule", "float32", mode), ref)
    theirs = _near(run(program, "torch", "float32", mode), ref)
    return "chainrule (its float32 values agree with torch's float64 run, torch's float32 ones do not)" \
        if ours and not theirs else None


def _near(got: dict, ref: dict) -> bool:
    """Whether a float32 run's values and gradients agree with a float64 run's to float32 precision."""
    if "error" in got:
        return False
    through = _largest(w for w, _, _ in ref["values"].values())
    pairs = [(got["values"].get(n, (None,))[0], w) for n, (w, _, _) in ref["values"].items()]
    for key in ("grads", "second"):
        if (got.get(key) is None) != (ref.get(key) is None):
            return False
        pairs += list(zip(got.get(key) or [], ref.get(key) or []))
        through = max(through, _largest(ref.get("grads") or []))
    for g, w in pairs:
        if w is not None and w.dtype.kind == "f" and g is not None:
            g = g.astype(np.float64)
        if not close(g, w, "float32", through):
            return False
    return True


def decide(got, want, numeric) -> str:
    """The verdict from the differences. Where the two libraries differ (or, with ``want`` None, where
    chainrule differs from the differences) the derivative must exist for a side to be taken: the loss
    finite beside the point and the one-sided differences equal. Otherwise the case is undecidable by
    differences (a kink: each library takes a convention there), and the verdict says so; except that
    torch's NaN at a kink, where chainrule gives one of the finite one-sided derivatives (or their mean, as
    abs' slope 0 at 0), is torch's error."""
    def pad(grads):
        return [np.zeros(n["central"].shape) if g is None else np.asarray(g, np.float64)
                for g, n in zip(grads, numeric)]

    got = pad(got)
    best = [n["richardson"] for n in numeric]
    if want is None:       # (a NaN where the loss is not defined beside the point either is no difference)
        differ = [~_agree(g, b) & ~(np.isnan(g) & ~np.isfinite(b)) for g, b in zip(got, best)]
    else:
        want = pad(want)
        differ = [~(_agree(g, w) | (np.isnan(g) & np.isnan(w))) for g, w in zip(got, want)]
    nan_at_kink = False
    for k, (d, n) in enumerate(zip(differ, numeric)):
        if want is not None:    # at a kink, a one-sided derivative is a convention; torch's NaN is none
            one_sided = (_agree(got[k], n["left"]) | _agree(got[k], n["right"])
                         | _agree(got[k], (n["left"] + n["right"]) / 2)) & np.isfinite(got[k])   # or |x|'s 0
            nan = d & ~_agree(n["left"], n["right"]) & np.isnan(want[k]) & one_sided \
                & np.isfinite(n["left"]) & np.isfinite(n["right"])
            if nan.any():
                nan_at_kink = True
                d &= ~nan
        if (d & ~np.isfinite(n["richardson"])).any():
            return "undecidable: the loss is not finite (or not defined) beside the point"
        kink = d & ~_agree(n["left"], n["right"])
        if kink.any():
            idx = tuple(int(i) for i in np.argwhere(kink)[0])      # (a 0-d leaf: ())
            return (f"undecidable: a kink (one-sided differences {n['left'][idx]:.6g} and {n['right'][idx]:.6g} "
                    f"at input {k}{list(idx)}): the derivative does not exist there; each library takes a convention")
        unsettled = d & ~_agree(n["central"], n["richardson"])
        if unsettled.any():
            idx = tuple(int(i) for i in np.argwhere(unsettled)[0])
            return (f"undecidable: the estimates disagree at input {k}{list(idx)} (central {n['central'][idx]:.6g}, "
                    f"Richardson {n['richardson'][idx]:.6g}): the function changes too fast there for differences")
    # only where they differ: what both libraries compute alike decides nothing
    c = all((_agree(g, b) | ~d).all() for g, b, d in zip(got, best, differ))
    if want is None:
        return "chainrule" if c else "neither"
    t = all((_agree(w, b) | ~d).all() for w, b, d in zip(want, best, differ))
    if nan_at_kink and c and (t or not any(d.any() for d in differ)):
        return "chainrule (torch's NaN at a kink, where chainrule takes a one-sided derivative)"
    if c and not t:
        return "chainrule"
    if t and not c:
        return "torch"
    return "neither" if not (c or t) else "both (within the differencing error)"

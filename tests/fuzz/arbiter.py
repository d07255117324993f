"""Who is right when chainrule's and PyTorch's gradients differ: central differences in float64.

First order: the derivative of the loss with respect to every leaf element. Second order: the
derivative of s(x) = Σ <∂loss/∂x_k, R_k> (PyTorch's plain first-order gradients, which agreed).
"""

from __future__ import annotations

import warnings

import numpy as np

from .program import Program
from .run import close, module, run

EPS = 1e-6
MAX_ELEMENTS = 400


def _scalar(program: Program, arrays: dict, second: bool) -> float:
    m = module("torch")
    env = {"m": m, "F": m.nn.functional, "np": np, "DT": m.float64}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for s in program.stmts:
            if s.leaf:
                env[s.defines] = m.tensor(arrays[s.defines], dtype=m.float64, requires_grad=True)
            else:
                exec(s.code, env)  # noqa: S102 - the fuzzer runs the programs it writes
        exec(program.loss_code(), env)  # noqa: S102 - the fuzzer runs the programs it writes
    leaves = [env[n] for n in program.leaves]
    if not second:
        return float(env["loss"])
    grads = m.autograd.grad(env["loss"], leaves, allow_unused=True)
    weights = dict(program.second)
    return float(sum(float((g * m.tensor(eval(weights[n]), dtype=m.float64)).sum())
                     for g, n in zip(grads, program.leaves) if g is not None))


def numerical(program: Program, second: bool) -> list:
    env = {"m": module("torch"), "np": np, "DT": module("torch").float64}
    arrays = {}
    for s in program.stmts:
        if s.leaf:
            exec(s.code, env)  # noqa: S102 - the fuzzer runs the programs it writes
            arrays[s.defines] = env[s.defines].detach().numpy().astype(np.float64)
    out = []
    for name in program.leaves:
        g = np.zeros(arrays[name].shape)
        for idx in np.ndindex(*g.shape):
            keep = arrays[name][idx]
            arrays[name][idx] = keep + EPS
            plus = _scalar(program, arrays, second)
            arrays[name][idx] = keep - EPS
            minus = _scalar(program, arrays, second)
            arrays[name][idx] = keep
            g[idx] = (plus - minus) / (2 * EPS)
        out.append(g)
    return out


# torch errors that are its semantics (chainrule must raise them too), never a bug of torch's double backward
SEMANTIC_ERRORS = ("inplace operation", "does not require grad", "a second time", "One of the differentiated")


def torch_fails_gradients(mode: str, diff: str) -> bool:
    """torch raised computing gradients that chainrule computed (e.g. torch 2.13's prod double backward
    over an empty slice reshapes 0 elements into [0, -1]; its huber_loss backward with a float32 input
    and a float64 target wants one dtype): central differences can decide."""
    return diff.startswith(f"torch raises at {mode} ") and not any(e in diff for e in SEMANTIC_ERRORS)


def arbitrate(program: Program, failure: tuple[str, str, str]) -> str | None:
    """The side central differences agree with: 'chainrule' (torch is wrong), 'torch', 'neither';
    None for differences that are not gradient values (or programs too big to difference). When torch
    raises computing gradients chainrule computes, 'chainrule' if its values agree, else 'neither'."""
    _, mode, diff = failure
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
        numeric = numerical(program, second)
    except Exception:  # noqa: BLE001 - the scalar cannot be differenced (it raised)
        return None
    got = run(program, "chainrule", "float64", mode).get(key) or []
    want = run(program, "torch", "float64", mode).get(key) or []

    def agrees(grads) -> bool:
        pairs = [(np.zeros_like(n) if g is None else g, n) for g, n in zip(grads, numeric)]
        return all(close(g, n, "float32") for g, n in pairs)   # differences: float32-like tolerance

    if torch_failed:    # (a backward run also returns retained gradients, after the leaves')
        return "chainrule" if len(got) >= len(numeric) and agrees(got[:len(numeric)]) else "neither"
    c, t = agrees(got), agrees(want)
    if c and not t:
        return "chainrule"
    if t and not c:
        return "torch"
    return "neither" if not (c or t) else "both (within the differencing error)"

"""Check analytic gradients against finite differences: ``gradcheck``, ``gradgradcheck``, ``check_graph``.

The numerical Jacobian perturbs one input element at a time by ±eps (central differences, error
O(eps²)); the analytical Jacobian is built row by row with ``autograd.grad`` and one-hot output
gradients. They must agree within ``atol + rtol·|numerical|``. Use float64 inputs: in float32 the
rounding error of (f(x+eps) - f(x-eps)) / 2eps swamps the comparison.

``check_graph`` (or ``gradcheck(..., per_op=True)``) re-checks every op the function ran, one by one,
and names the first whose backward disagrees with its forward — handy for a custom ``Function``.
"""

from __future__ import annotations

import os
import traceback
import warnings

from ..backend import xp
from . import grad as autograd_grad
from .function import add_forward_observer, hooks, remove_forward_observer

__all__ = ["GradcheckError", "check_graph", "gradcheck", "gradgradcheck"]


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` when analytical and numerical gradients disagree (as in PyTorch)."""


def _as_tuple(x) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(func, inputs) -> tuple:
    out = _as_tuple(func(*inputs))
    T = hooks.Tensor
    return tuple(o for o in out if isinstance(o, T))


def _numerical(func, inputs, i, outputs, eps) -> list:
    """Per output: the (out numel, in numel) Jacobian w.r.t. ``inputs[i]`` by central differences."""
    x = inputs[i]._data
    flat = x.reshape(-1)
    if not xp.shares_memory(flat, x):
        raise RuntimeError(f"gradcheck: input {i} is not contiguous; pass x.contiguous()")
    jac = [xp.zeros((o.numel(), x.size), dtype=xp.float64) for o in outputs]
    # grad mode stays on: gradgradcheck's func itself calls autograd.grad. The raw array is edited in
    # place, so no version counter moves and nothing is recorded about the perturbation.
    for j in range(x.size):
        orig = flat[j].item()
        flat[j] = orig + eps
        plus = [o._data.astype(xp.float64).reshape(-1) for o in _outputs(func, inputs)]
        flat[j] = orig - eps
        minus = [o._data.astype(xp.float64).reshape(-1) for o in _outputs(func, inputs)]
        flat[j] = orig
        for k in range(len(outputs)):
            jac[k][:, j] = (plus[k] - minus[k]) / (2 * eps)
    return jac


def _analytical(outputs, inputs, diff) -> dict:
    """``{(output k, input i): Jacobian}`` from one backward pass per output element."""
    T = hooks.Tensor
    jac = {}
    for k, o in enumerate(outputs):
        for i in diff:
            jac[(k, i)] = xp.zeros((o.numel(), inputs[i].numel()), dtype=xp.float64)
        if not o.requires_grad:
            continue
        for r in range(o.numel()):
            onehot = xp.zeros(o._data.size, dtype=o._data.dtype)
            onehot[r] = 1
            gs = autograd_grad(o, [inputs[i] for i in diff], grad_outputs=T._make(onehot.reshape(o._data.shape)),
                               retain_graph=True, allow_unused=True)
            for i, g in zip(diff, gs):
                if g is not None:
                    jac[(k, i)][r, :] = g._data.astype(xp.float64).reshape(-1)
    return jac


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
              check_grad_dtypes: bool = False, check_batched_grad: bool = False, fast_mode: bool = False,
              per_op: bool = False, **_unused) -> bool:
    """Compare ``func``'s analytical gradients with finite differences for the inputs that require grad.

    Returns True, or raises ``GradcheckError`` (returns False with ``raise_exception=False``). The
    error names the first op whose backward disagrees with its forward, with its input shapes (found
    only when the check fails, so a passing check costs nothing); ``per_op=True`` lists every such op.

    >>> import chainrule as cr
    >>> x = cr.randn(3, dtype=cr.float64, requires_grad=True)
    >>> cr.autograd.gradcheck(lambda t: (t * t).sin(), (x,))
    True
    """
    T = hooks.Tensor
    inputs = _as_tuple(inputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, T) and t.requires_grad]
    if not diff:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of "
                         "them have requires_grad=True.")
    for i in diff:
        if inputs[i]._data.dtype != xp.float64:
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point. This "
                          f"check will likely fail if all the inputs are not of double precision floating "
                          f"point (got {inputs[i].dtype.name}; use dtype=chainrule.float64).", UserWarning,
                          stacklevel=2)
    outputs = _outputs(func, inputs)
    analytical = _analytical(outputs, inputs, diff)
    for i in diff:
        numerical = _numerical(func, inputs, i, outputs, eps)
        for k in range(len(outputs)):
            a, n = analytical[(k, i)], numerical[k]
            if xp.all(xp.abs(a - n) <= atol + rtol * xp.abs(n)):
                continue
            if not raise_exception:
                return False
            msg = (f"Jacobian mismatch for output {k} with respect to input {i},\n"
                   f"numerical:{_fmt(n)}\nanalytical:{_fmt(a)}\n")
            culprits = check_graph(func, inputs, eps=eps, atol=atol, rtol=rtol)
            if culprits:
                msg += "\n" + "\n".join(c["message"] for c in (culprits if per_op else culprits[:1]))
            raise GradcheckError(msg)
    return True


def _fmt(a) -> str:
    return "tensor(" + xp.array2string(a, precision=4, separator=", ", prefix="tensor(") + ", dtype=chainrule.float64)"


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  gen_non_contig_grad_outputs: bool = False, raise_exception: bool = True, **kwargs) -> bool:
    """Check second derivatives: gradcheck of the map (inputs, v) ↦ vᵀ·∂func/∂inputs (built with create_graph).

    >>> import chainrule as cr
    >>> x = cr.randn(3, dtype=cr.float64, requires_grad=True)
    >>> cr.autograd.gradgradcheck(lambda t: (t ** 3).sum(), (x,))
    True
    """
    T = hooks.Tensor
    inputs = _as_tuple(inputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, T) and t.requires_grad]
    outputs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = xp.random.default_rng(0)
        grad_outputs = tuple(T(rng.standard_normal(o._data.shape), dtype=o.dtype, requires_grad=True)
                             for o in outputs if o.requires_grad)
    grad_outputs = _as_tuple(grad_outputs)
    n = len(inputs)

    def first_derivative(*args):
        outs = [o for o in _outputs(func, args[:n]) if o.requires_grad]
        gs = autograd_grad(outs, [args[i] for i in diff], grad_outputs=list(args[n:]), create_graph=True,
                           allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_derivative, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, **kwargs)


class _Capture:
    """Forward observer keeping every op ``func`` runs with its arguments (for ``check_graph``)."""

    def __init__(self):
        self.ops = []

    def node_created(self, node, args, result) -> None:
        self.ops.append((node, args, _user_site()))

    def inplace(self, tensor, op_name) -> None:
        pass


def _user_site() -> str:
    """``file:line`` of the innermost caller outside chainrule itself."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for frame in reversed(traceback.extract_stack()):
        if not os.path.abspath(frame.filename).startswith(root):
            return f"{frame.filename}:{frame.lineno}"
    return "?"


def check_graph(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> list:
    """Gradcheck every op ``func(*inputs)`` runs, one by one; return the failing ones (first first).

    A graph keeps no tensors, so the ops' inputs are captured while ``func`` runs; each op is then
    re-applied on float64 copies of its inputs and checked alone. Each failure is a dict with
    ``op`` (grad_fn name), ``index`` (position in the run), ``site`` (file:line) and ``message``.

    >>> import chainrule as cr
    >>> x = cr.randn(3, dtype=cr.float64, requires_grad=True)
    >>> cr.inspect.check_graph(lambda t: t.exp().sum(), (x,))
    []
    """
    T = hooks.Tensor
    inputs = _as_tuple(inputs)
    capture = _Capture()
    add_forward_observer(capture)
    try:
        _outputs(func, inputs)
    finally:
        remove_forward_observer(capture)
    failures = []
    for index, (node, args, site) in enumerate(capture.ops):
        cls = type(node)
        copies = []
        for a in args:
            if isinstance(a, T) and a.requires_grad and a._data.dtype.kind == "f":
                copies.append(T._make(a._data.astype(xp.float64)).requires_grad_(True))
            elif isinstance(a, T):
                copies.append(T._make(a._data.copy()))
            else:
                copies.append(a)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ok = gradcheck(lambda *xs, c=cls: c.apply(*xs), tuple(copies), eps=eps, atol=atol, rtol=rtol,
                               raise_exception=False)
        except (RuntimeError, ValueError, TypeError) as e:
            ok, why = False, f" ({type(e).__name__}: {e})"
        else:
            why = ""
        if not ok:
            shapes = ", ".join(str(tuple(a.shape)) for a in args if isinstance(a, T))
            failures.append({"op": node.name(), "index": index, "site": site, "shapes": shapes,
                             "message": f"check_graph: op #{index} {node.name()} on inputs of shapes {shapes} "
                                        f"(created at {site}): its "
                                        f"backward disagrees with finite differences of its forward{why}. "
                                        f"Check that backward returns ∂output/∂input times the upstream "
                                        f"gradient for every input."})
    return failures

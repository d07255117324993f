"""Function transforms in the style of ``torch.func``: ``grad(f)`` is a function computing ∇f.

>>> import chainrule as cr
>>> from chainrule.func import grad
>>> df = grad(lambda x: (x ** 3).sum())
>>> df(cr.tensor([1.0, 2.0]))
tensor([ 3., 12.])
>>> grad(grad(lambda x: x ** 3))(cr.tensor(2.0))       # second derivative 6x
tensor(12.)
"""

from __future__ import annotations

from . import autograd
from .autograd import functional as F
from .autograd.grad_mode import enable_grad
from .tensor import Tensor

__all__ = ["grad", "grad_and_value", "hessian", "hvp", "jacfwd", "jacrev", "jvp", "vjp"]


_depth = [0]  # how many grad transforms are running; the outermost returns detached results


def grad_and_value(func, argnums=0, has_aux: bool = False):
    """Like ``grad`` but the transformed function returns ``(gradient, value)``."""

    def wrapper(*args):
        _depth[0] += 1
        try:
            return _grad_and_value(func, argnums, has_aux, args)
        finally:
            _depth[0] -= 1

    return wrapper


def _grad_and_value(func, argnums, has_aux, args):
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    args = list(args)
    with enable_grad():
        for n in nums:
            a = args[n]
            # keep the caller's graph (nested grad) but make sure the argument is differentiable
            args[n] = a if a.requires_grad else a.detach().requires_grad_(True)
        out = func(*args)
        value, aux = out if has_aux else (out, None)
        if not isinstance(value, Tensor) or value.numel() != 1:
            raise RuntimeError(
                "grad: func must return a single-element Tensor "
                f"(got {getattr(value, 'shape', type(value).__name__)})"
            )
        gs = autograd.grad(value, [args[n] for n in nums], create_graph=True, allow_unused=True)
        gs = tuple(g if g is not None else args[n] * 0 for g, n in zip(gs, nums))
    g = gs[0] if isinstance(argnums, int) else gs
    if _depth[0] == 1:  # outermost transform: results stay connected only inside a nest
        g = tuple(x.detach() for x in g) if isinstance(g, tuple) else g.detach()
        value = value.detach()
    return ((g, aux), value) if has_aux else (g, value)


def grad(func, argnums=0, has_aux: bool = False):
    """``grad(f)(x)`` = ∂f/∂x for a scalar-valued ``f``; nest it for higher derivatives."""
    gv = grad_and_value(func, argnums, has_aux)

    def wrapper(*args):
        g, _ = gv(*args)
        return g

    return wrapper


def vjp(func, *primals):
    """Return ``(func(*primals), vjp_fn)`` where ``vjp_fn(v)`` computes vᵀJ (as ``torch.func.vjp``)."""
    out = func(*primals)

    def vjp_fn(v):
        _, g = F.vjp(func, primals, v)
        return g if isinstance(g, tuple) else (g,)

    return out, vjp_fn


def jvp(func, primals, tangents):
    """Return ``(func(*primals), J·tangents)`` (as ``torch.func.jvp``)."""
    return F.jvp(func, tuple(primals), tuple(tangents))


def jacrev(func, argnums=0):
    """``jacrev(f)(x)``: the Jacobian of ``f`` at ``x``."""

    def wrapper(*args):
        nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)

        def partial(*xs):
            full = list(args)
            for n, x in zip(nums, xs):
                full[n] = x
            return func(*full)

        sel = tuple(args[n] for n in nums)
        return F.jacobian(partial, sel[0] if isinstance(argnums, int) else sel)

    return wrapper


jacfwd = jacrev  # same values; chainrule computes both in reverse mode


def hessian(func, argnums=0):
    """``hessian(f)(x)``: the matrix of second derivatives of a scalar ``f``."""

    def wrapper(*args):
        return F.hessian(
            lambda x: func(*[x if i == argnums else a for i, a in enumerate(args)]), args[argnums]
        )

    return wrapper


def hvp(func, primals, tangents):
    return F.hvp(func, tuple(primals), tuple(tangents))

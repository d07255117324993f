"""Higher-level derivatives of functions: ``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``hvp``, ``vhp``.

Same signatures and return conventions as ``torch.autograd.functional``. All are built on
``autograd.grad``: a Jacobian is one vector-Jacobian product per output element, a JVP is the
"double-backward trick" (the VJP of a VJP is linear in its vector), and a Hessian is the
Jacobian of the gradient.

>>> import chainrule as cr
>>> from chainrule.autograd.functional import jacobian, hessian
>>> jacobian(lambda x: x ** 2, cr.tensor([1.0, 2.0]))
tensor([[2., 0.],
        [0., 4.]])
>>> hessian(lambda x: (x ** 3).sum(), cr.tensor([1.0, 2.0]))
tensor([[ 6.,  0.],
        [ 0., 12.]])
"""

from __future__ import annotations

from ..backend import xp
from . import grad as _grad
from .function import hooks
from .grad_mode import enable_grad


def _tuple(x) -> tuple[bool, tuple]:
    if isinstance(x, (tuple, list)):
        return True, tuple(x)
    return False, (x,)


def _prepare(inputs) -> tuple:
    return tuple(t.detach().requires_grad_(True) for t in inputs)


def _grads(outputs, inputs, grad_outputs, create_graph: bool) -> tuple:
    """grad() that returns zeros (not None/errors) for inputs the outputs don't depend on."""
    T = hooks.Tensor
    live = [o for o in outputs if o.requires_grad]
    if not live:
        return tuple(T._make(xp.zeros_like(i._data)) for i in inputs)
    gos = [g for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    gs = _grad(live, inputs, gos, retain_graph=True, create_graph=create_graph, allow_unused=True)
    return tuple(g if g is not None else T._make(xp.zeros_like(i._data)) for g, i in zip(gs, inputs))


def _detach_all(ts, create_graph: bool) -> tuple:
    return ts if create_graph else tuple(t.detach() for t in ts)


def _unwrap(is_tuple: bool, ts):
    return ts if is_tuple else ts[0]


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), vᵀ·J): the vector-Jacobian product, what backward computes."""
    in_tuple, inputs = _tuple(inputs)
    with enable_grad():
        inputs = _prepare(inputs)
        out_tuple, outputs = _tuple(func(*inputs))
        if v is None:
            if any(o.numel() != 1 for o in outputs):
                raise RuntimeError("vjp: v can only be None if the output of func is a single-element Tensor")
            v = tuple(hooks.Tensor._make(xp.ones_like(o._data)) for o in outputs)
        _, v = _tuple(v)
        result = _grads(outputs, inputs, v, create_graph)
    return _unwrap(out_tuple, _detach_all(outputs, create_graph)), _unwrap(in_tuple, _detach_all(result, create_graph))


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), J·v): the Jacobian-vector product, via the double-backward trick."""
    T = hooks.Tensor
    _, inputs = _tuple(inputs)
    if v is None:
        if any(i.numel() != 1 for i in inputs):
            raise RuntimeError("jvp: v can only be None if the input to func is a single-element Tensor")
        v = tuple(T._make(xp.ones_like(i._data)) for i in inputs)
    _, v = _tuple(v)
    with enable_grad():
        inputs = _prepare(inputs)
        out_tuple, outputs = _tuple(func(*inputs))
        # u is a dummy cotangent; uᵀJ is linear in u, so d(uᵀJ·v)/du = J·v.
        us = tuple(T._make(xp.zeros_like(o._data)).requires_grad_(True) for o in outputs)
        gs = _grads(outputs, inputs, us, create_graph=True)
        pairs = [(g, vi) for g, vi in zip(gs, v) if g.requires_grad]
        if pairs:
            result = _grads([g for g, _ in pairs], us, [vi for _, vi in pairs], create_graph)
        else:
            result = tuple(T._make(xp.zeros_like(o._data)) for o in outputs)
    return _unwrap(out_tuple, _detach_all(outputs, create_graph)), _unwrap(out_tuple, _detach_all(result, create_graph))


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode"):
    """The Jacobian ∂func(inputs)/∂inputs with shape output.shape + input.shape (tuples nest)."""
    T = hooks.Tensor
    in_tuple, inputs = _tuple(inputs)
    with enable_grad():
        inputs = _prepare(inputs)
        out_tuple, outputs = _tuple(func(*inputs))
        blocks = []
        for o in outputs:
            rows = [[] for _ in inputs]
            for k in range(o.numel()):
                onehot = xp.zeros(o._data.size, o._data.dtype)
                onehot[k] = 1
                gs = _grads([o], inputs, [T._make(onehot.reshape(o._data.shape))], create_graph)
                for r, g in zip(rows, gs):
                    r.append(g)
            per_input = []
            for r, i in zip(rows, inputs):
                per_input.append(_assemble(r, o, i, create_graph))
            blocks.append(_unwrap(in_tuple, tuple(per_input)))
    return _unwrap(out_tuple, tuple(blocks))


def _assemble(rows, out, inp, create_graph: bool):
    """Stack per-output-element gradients into a Jacobian of shape out.shape + inp.shape."""
    T = hooks.Tensor
    shape = tuple(out.shape) + tuple(inp.shape)
    if not create_graph or not any(r.requires_grad for r in rows):
        data = xp.stack([r._data for r in rows]) if rows else xp.zeros((0,) + inp._data.shape, inp._data.dtype)
        return T._make(data.reshape(shape))
    # Differentiable assembly with elementwise ops only: J = Σ_k e_k ⊗ rows[k].
    flat = T._make(xp.zeros((len(rows),) + inp._data.shape, inp._data.dtype))
    for k, r in enumerate(rows):
        e = xp.zeros((len(rows),) + (1,) * inp._data.ndim, inp._data.dtype)
        e[k] = 1
        flat = flat + T._make(e) * r
    return flat.reshape(shape)


def hessian(func, inputs, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of a scalar function: the Jacobian of its gradient."""
    in_tuple, inputs = _tuple(inputs)

    def gradient(*xs):
        out = func(*xs)
        if out.numel() != 1:
            raise RuntimeError(f"hessian: func must return a single-element Tensor, got shape {tuple(out.shape)}")
        return _grads([out], xs, [hooks.Tensor._make(xp.ones_like(out._data))], create_graph=True)

    h = jacobian(gradient, inputs if in_tuple else inputs[0], create_graph=create_graph)
    return h if in_tuple else h[0]


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), H·v) for a scalar func, without building H."""
    in_tuple, inputs = _tuple(inputs)
    _, v = _tuple(v)
    with enable_grad():
        inputs = _prepare(inputs)
        out = func(*inputs)
        gs = _grads([out], inputs, [hooks.Tensor._make(xp.ones_like(out._data))], create_graph=True)
        pairs = [(g, vi) for g, vi in zip(gs, v)]
        dot = sum(((g * vi).sum() for g, vi in pairs), start=hooks.Tensor._make(xp.zeros((), out._data.dtype)))
        result = _grads([dot], inputs, [hooks.Tensor._make(xp.ones((), out._data.dtype))], create_graph)
    return (out if create_graph else out.detach()), _unwrap(in_tuple, _detach_all(result, create_graph))


vhp = hvp  # the Hessian of a scalar function is symmetric, so vᵀH = (Hv)ᵀ

"""Module backward hooks (``register_full_backward_hook`` / ``register_full_backward_pre_hook``).

The module's tensor inputs and outputs are each passed through one identity node (``BackwardHookFunction``, named as in PyTorch):
its backward sees exactly the gradients with respect to the module's outputs (then the pre-hooks
run, and may replace them) and with respect to its inputs (then the hooks run with both, and may
replace the input gradients). The engine is untouched: the hooks are ordinary nodes in the graph.

>>> import chainrule as cr
>>> lin = cr.nn.Linear(2, 1)
>>> seen = []
>>> h = lin.register_full_backward_hook(lambda m, gin, gout: seen.append(gout[0].shape))
>>> lin(cr.ones(3, 2, requires_grad=True)).sum().backward(); seen
[chainrule.Size([3, 1])]
"""

from __future__ import annotations

import warnings

from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor

__all__ = ["BackwardHook"]


class BackwardHookFunction(Function):
    """Identity on several tensors; its backward hands the gradients to a callback first."""

    @staticmethod
    def forward(ctx, callback, *tensors):
        ctx.callback = callback
        views = tuple(t.view_as(t) for t in tensors)
        ctx.mark_non_differentiable(*[v for v, t in zip(views, tensors) if not t.requires_grad])
        return views if len(views) > 1 else views[0]    # one output is returned bare, as usual

    @staticmethod
    def backward(ctx, *grads):
        return (None, *ctx.callback(grads))


def _pack(indices: list[int], values, size: int) -> tuple:
    out = [None] * size
    for i, v in zip(indices, values):
        out[i] = v
    return tuple(out)


class BackwardHook:
    """Connects one forward call of ``module`` to its full backward hooks and pre-hooks."""

    def __init__(self, module, hooks: list, pre_hooks: list) -> None:
        self.module = module
        self.hooks = hooks
        self.pre_hooks = pre_hooks
        self.grad_outputs = None
        self.n_inputs = 0
        self.input_index: list[int] | None = None
        self.n_outputs = 0
        self.output_index: list[int] = []

    @staticmethod
    def _wrap(values, callback):
        """Route the tensors among ``values`` through one hook node; return (new values, their indices)."""
        index = [i for i, v in enumerate(values) if isinstance(v, Tensor)]
        tensors = [values[i] for i in index]
        if not (is_grad_enabled() and any(t.requires_grad for t in tensors)):
            return values, None
        new = list(values)
        wrapped = BackwardHookFunction.apply(callback, *tensors)
        for i, t in zip(index, wrapped if isinstance(wrapped, tuple) else (wrapped,)):
            new[i] = t
        return new, index

    def setup_input_hook(self, args: tuple) -> tuple:
        self.n_inputs = len(args)
        new, self.input_index = self._wrap(list(args), self._on_input_grads)
        return tuple(new)

    def setup_output_hook(self, output):
        single = not isinstance(output, (tuple, list))
        values = [output] if single else list(output)
        self.n_outputs = len(values)
        new, index = self._wrap(values, self._on_output_grads)
        if index is None:
            return output
        self.output_index = index
        if single:
            return new[0]
        return type(output)(new) if isinstance(output, tuple) else new

    def _on_output_grads(self, grads):
        self.grad_outputs = _pack(self.output_index, grads, self.n_outputs)
        for hook in self.pre_hooks:
            result = hook(self.module, self.grad_outputs)
            if result is None:
                continue
            result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
            if len(result) != len(self.grad_outputs):
                raise RuntimeError(f"Backward pre hook returned an invalid number of grad_output, got {len(result)}, "
                                   f"but expected {len(self.grad_outputs)}")
            self.grad_outputs = result
        local = self.grad_outputs
        if self.input_index is None:     # no input needs a gradient: the hooks fire now, with None inputs
            warnings.warn("Full backward hook is firing when gradients are computed with respect to module "
                          "outputs since no inputs require gradients.", stacklevel=2)
            grad_inputs = (None,) * self.n_inputs
            for hook in self.hooks:
                result = hook(self.module, grad_inputs, self.grad_outputs)
                if result is not None and not all(r is None for r in result):
                    raise RuntimeError("Backward hook for Modules where no input requires gradient should always "
                                       "return None or None for all gradients.")
            self.grad_outputs = None
        return tuple(local[i] for i in self.output_index)

    def _on_input_grads(self, grads):
        if self.grad_outputs is None:
            return grads
        result = _pack(self.input_index, grads, self.n_inputs)
        for hook in self.hooks:
            out = hook(self.module, result, self.grad_outputs)
            if out is None:
                continue
            out = tuple(out) if isinstance(out, (tuple, list)) else (out,)
            if len(out) != len(result):
                raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got {len(out)}, but "
                                   f"expected {len(result)}")
            result = out
        self.grad_outputs = None
        return tuple(result[i] for i in self.input_index)

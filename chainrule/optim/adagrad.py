"""Adagrad: each coordinate's step shrinks with the sum of its past squared gradients."""

from __future__ import annotations

from ..backend import xp
from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, as_float


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011), PyTorch's update rule exactly.

    With ``g = ∇f(p) + weight_decay · p`` (``-∇f`` when ``maximize``) and step ``t``::

        lr_t = lr / (1 + (t - 1) · lr_decay)
        s = s + g²                           (s starts at initial_accumulator_value)
        p = p - lr_t · g / (√s + eps)

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = cr.optim.Adagrad([w], lr=0.5)
    >>> (w * w).sum().backward(); _ = opt.step(); w
    tensor([0.5000, 1.5000], requires_grad=True)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None,
                 *, maximize: bool = False, differentiable: bool = False, fused: bool | None = None):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if differentiable:
            raise ValueError("Adagrad: differentiable=True is not supported by chainrule")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                        "initial_accumulator_value": initial_accumulator_value, "maximize": maximize}
        super().__init__(params, defaults)
        # PyTorch creates Adagrad's state up front (the accumulator has a non-zero start value)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p: Tensor, group: dict) -> dict:
        state = self.state[p]
        state["step"] = Tensor._make(xp.zeros((), xp.float32))
        state["sum"] = Tensor._make(xp.full_like(p._data, group["initial_accumulator_value"]))
        return state

    def _update_group(self, group: dict) -> None:
        lr = as_float(group["lr"])
        lr_decay, eps = group["lr_decay"], group["eps"]
        weight_decay, maximize = group["weight_decay"], group["maximize"]
        for p in group["params"]:
            if p.grad is None:
                continue
            w = p._data
            state = self.state[p]
            if len(state) == 0:  # a parameter added later with add_param_group
                state = self._init_state(p, group)
            t = self._step_counter(state)
            g = self._grad(w, p.grad._data, weight_decay, maximize)
            clr = lr / (1 + (t - 1) * lr_decay)
            acc = state["sum"]._data
            s = self._ws.get(w, 1)
            xp.multiply(g, g, out=s)
            acc += s
            xp.sqrt(acc, out=s)
            s += eps
            xp.divide(g, s, out=s)
            s *= -clr
            w += s
            p._version_box[0] += 1

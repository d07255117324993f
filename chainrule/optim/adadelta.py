"""Adadelta: steps whose size is set by running averages of past steps and gradients (Zeiler, 2012)."""

from __future__ import annotations

from ..backend import xp
from ._checks import check_common, refuse_differentiable
from .optimizer import Optimizer, ParamsT, as_float


class Adadelta(Optimizer):
    """PyTorch's Adadelta, with ``v`` the running mean of g² and ``u`` that of the squared steps::

        v = ρ · v + (1 - ρ) · g²;   Δ = √(u + eps)/√(v + eps) · g;   u = ρ · u + (1 - ρ) · Δ²;   p = p - lr · Δ

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0], requires_grad=True)
    >>> opt = cr.optim.Adadelta([w])
    >>> (w * w).sum().backward(); _ = opt.step(); round(w.item(), 4)
    0.9968
    """

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False) -> None:
        refuse_differentiable("Adadelta", differentiable)
        check_common(type(self).__name__, lr, eps, None, weight_decay)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def _update_group(self, group: dict) -> None:
        lr, rho, eps = as_float(group["lr"]), group["rho"], group["eps"]
        for p, w, state in self._params(group, "square_avg", "acc_delta"):
            self._step_counter(state)
            g = self._grad(w, p.grad._data, group["weight_decay"], group["maximize"])
            v, u = state["square_avg"]._data, state["acc_delta"]._data
            v *= rho
            v += (1 - rho) * (g * g)
            delta = xp.sqrt(u + eps) / xp.sqrt(v + eps) * g
            u *= rho
            u += (1 - rho) * (delta * delta)
            w -= lr * delta
            p._version_box[0] += 1

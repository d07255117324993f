"""Adamax: Adam with the infinity norm in place of the second moment (Kingma & Ba, 2015)."""

from __future__ import annotations

from ..backend import xp
from ._checks import check_common, refuse_differentiable
from .optimizer import Optimizer, ParamsT, as_float, lerp_


class Adamax(Optimizer):
    """Per-coordinate steps scaled by a decaying running maximum of |g|, PyTorch's rule exactly::

        m = β1 · m + (1 - β1) · g;   u = max(β2 · u, |g| + eps);   p = p - lr/(1 - β1ᵗ) · m/u

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0], requires_grad=True)
    >>> opt = cr.optim.Adamax([w], lr=0.1)
    >>> (w * w).sum().backward(); _ = opt.step(); round(w.item(), 4)
    0.9
    """

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        refuse_differentiable("Adamax", differentiable)
        check_common(type(self).__name__, lr, eps, betas, weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def _update_group(self, group: dict) -> None:
        lr = as_float(group["lr"])
        beta1, beta2 = group["betas"]
        eps, weight_decay = group["eps"], group["weight_decay"]
        for p, w, state in self._params(group, "exp_avg", "exp_inf"):
            t = self._step_counter(state)
            g = self._grad(w, p.grad._data, weight_decay, group["maximize"])
            m, u = state["exp_avg"]._data, state["exp_inf"]._data
            s = self._ws.get(w, 1)
            lerp_(m, g, 1 - beta1, s)
            u *= beta2
            xp.abs(g, out=s)
            s += eps
            xp.maximum(u, s, out=u)
            xp.divide(m, u, out=s)
            s *= -lr / (1 - beta1 ** t)
            w += s
            p._version_box[0] += 1

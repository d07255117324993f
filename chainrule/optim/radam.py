"""RAdam: Adam with a rectified adaptive learning rate (Liu et al., 2020), PyTorch's update rule exactly."""

from __future__ import annotations

import math

from ..backend import xp
from ._checks import check_common, refuse_differentiable
from .optimizer import Optimizer, ParamsT, as_float, update_moments_


class RAdam(Optimizer):
    """Adam that starts as momentum SGD while the variance estimate is unreliable.

    With ρ_∞ = 2/(1 - β2) - 1 and ρ_t = ρ_∞ - 2t·β2ᵗ/(1 - β2ᵗ) at step t, and m̂ = m/(1 - β1ᵗ)::

        ρ_t > 5:  p = p - lr · m̂ · r_t · √(1 - β2ᵗ)/(√v + eps),
                  r_t = √((ρ_t - 4)(ρ_t - 2)ρ_∞ / ((ρ_∞ - 4)(ρ_∞ - 2)ρ_t))
        else:     p = p - lr · m̂

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0], requires_grad=True)
    >>> opt = cr.optim.RAdam([w], lr=0.1)
    >>> (w * w).sum().backward(); _ = opt.step(); round(w.item(), 4)
    0.8
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        refuse_differentiable("RAdam", differentiable)
        check_common(type(self).__name__, lr, eps, betas, weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _update_group(self, group: dict) -> None:
        lr = as_float(group["lr"])
        beta1, beta2 = group["betas"]
        eps, weight_decay = group["eps"], group["weight_decay"]
        for p, w, state in self._params(group, "exp_avg", "exp_avg_sq"):
            t = self._step_counter(state)
            g = self._decayed_grad(w, p.grad._data, lr, weight_decay, group["decoupled_weight_decay"],
                                   group["maximize"])
            m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
            s = self._ws.get(w, 1)
            update_moments_(m, v, g, beta1, beta2, s)
            bias_correction1 = 1 - beta1 ** t
            bias_correction2 = 1 - beta2 ** t
            m_hat = m / bias_correction1
            rho_inf = 2 / (1 - beta2) - 1
            rho_t = rho_inf - 2 * t * (beta2 ** t) / bias_correction2
            if rho_t > 5.0:
                rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                adaptive = bias_correction2 ** 0.5 / (xp.sqrt(v) + eps)
                w -= m_hat * lr * adaptive * rect
            else:
                w -= m_hat * lr
            p._version_box[0] += 1

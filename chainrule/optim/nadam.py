"""NAdam: Adam with Nesterov momentum (Dozat, 2016), PyTorch's update rule exactly."""

from __future__ import annotations

from ..backend import xp
from ._checks import check_common, refuse_differentiable
from .optimizer import Optimizer, ParamsT, as_float, update_moments_


class NAdam(Optimizer):
    """Adam whose step looks ahead along the momentum, with a warming-up momentum schedule μ_t.

    With ``g`` the gradient (plus ``weight_decay · p``, or decoupled as in AdamW) and step t::

        μ_t = β1 · (1 - ½ · 0.96^(t · momentum_decay)),   Π_t = μ_1 ⋯ μ_t
        m = β1 · m + (1 - β1) · g;   v = β2 · v + (1 - β2) · g²;   d = √(v / (1 - β2ᵗ)) + eps
        p = p - lr · (1 - μ_t)/(1 - Π_t) · g/d - lr · μ_(t+1)/(1 - Π_t · μ_(t+1)) · m/d

    Like PyTorch, Π_t is kept as a float32 scalar in the state (``mu_product``).

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0], requires_grad=True)
    >>> opt = cr.optim.NAdam([w], lr=0.1)
    >>> (w * w).sum().backward(); _ = opt.step(); round(w.item(), 4)
    0.8944
    """

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        refuse_differentiable("NAdam", differentiable)
        check_common(type(self).__name__, lr, eps, betas, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
                    "maximize": maximize}
        super().__init__(params, defaults)

    def _update_group(self, group: dict) -> None:
        lr = as_float(group["lr"])
        beta1, beta2 = group["betas"]
        eps, weight_decay, psi = group["eps"], group["weight_decay"], group["momentum_decay"]
        for p, w, state in self._params(group, "exp_avg", "exp_avg_sq", mu_product=1.0):
            t = self._step_counter(state)
            g = self._decayed_grad(w, p.grad._data, lr, weight_decay, group["decoupled_weight_decay"],
                                   group["maximize"])
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
            prod = state["mu_product"]._data
            prod *= mu                                  # float32, as PyTorch keeps it
            mu_product = float(prod)
            m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
            s = self._ws.get(w, 1)
            update_moments_(m, v, g, beta1, beta2, s)
            denom = xp.sqrt(v / (1 - beta2 ** t))
            denom += eps
            w += (-lr * (1.0 - mu) / (1.0 - mu_product)) * (g / denom)
            w += (-lr * mu_next / (1.0 - mu_product * mu_next)) * (m / denom)
            p._version_box[0] += 1

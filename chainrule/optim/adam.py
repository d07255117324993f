"""Adam and AdamW: per-coordinate steps scaled by running averages of the gradient and its square."""

from __future__ import annotations

from ..backend import xp
from .optimizer import Optimizer, ParamsT, as_float, lerp_


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), PyTorch's update rule exactly.

    With ``g = ∇f(p) + weight_decay · p`` (L2 penalty; ``-∇f`` when ``maximize``) and step ``t``::

        m = β1 · m + (1 - β1) · g                  first moment
        v = β2 · v + (1 - β2) · g²                 second moment (amsgrad: use max over all v)
        p = p - lr / (1 - β1ᵗ) · m / (√v / √(1 - β2ᵗ) + eps)

    ``decoupled_weight_decay=True`` is AdamW: instead of adding to ``g``, ``p = p · (1 - lr · weight_decay)``.

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = cr.optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward(); _ = opt.step(); w
    tensor([0.9000, 1.9000], requires_grad=True)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False):
        # foreach/fused/capturable are accepted so PyTorch code runs unchanged (one NumPy path here).
        if differentiable:
            raise ValueError(f"{type(self).__name__}: differentiable=True (differentiating through the "
                             "update) is not supported by chainrule")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                        "maximize": maximize, "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _update_group(self, group: dict) -> None:
        lr = as_float(group["lr"])
        beta1, beta2 = group["betas"]
        eps, weight_decay, amsgrad = group["eps"], group["weight_decay"], group["amsgrad"]
        decoupled, maximize = group["decoupled_weight_decay"], group["maximize"]
        buffers = ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if amsgrad else ())
        for p, w, state in self._params(group, *buffers):
            t = self._step_counter(state)
            g = self._decayed_grad(w, p.grad._data, lr, weight_decay, decoupled, maximize)
            m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
            s = self._ws.get(w, 1)
            lerp_(m, g, 1 - beta1, s)
            v *= beta2
            xp.multiply(g, g, out=s)
            s *= 1 - beta2
            v += s

            step_size = lr / (1 - beta1 ** t)
            bias_correction2_sqrt = (1 - beta2 ** t) ** 0.5
            if amsgrad:
                v_max = state["max_exp_avg_sq"]._data
                xp.maximum(v_max, v, out=v_max)
                v = v_max
            # denominator √v̂ + eps, then p -= step_size · m / denominator, all in the work array
            xp.sqrt(v, out=s)
            s /= bias_correction2_sqrt
            s += eps
            xp.divide(m, s, out=s)
            s *= -step_size
            w += s
            p._version_box[0] += 1


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019): ``p = p · (1 - lr · weight_decay)``.

    The decay shrinks the weights directly instead of passing through the moment estimates.

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = cr.optim.AdamW([w], lr=0.1, weight_decay=0.5)
    >>> (w * w).sum().backward(); _ = opt.step(); w
    tensor([0.8500, 1.8000], requires_grad=True)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         differentiable=differentiable, decoupled_weight_decay=True)

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # an AdamW stays decoupled whatever it loads (as in PyTorch)
            group["decoupled_weight_decay"] = True

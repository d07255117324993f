"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

from ..backend import xp
from .optimizer import Optimizer, ParamsT, as_float, lerp_


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), PyTorch's update rule exactly.

    With ``g = ∇f(p) + weight_decay · p`` (``-∇f`` when ``maximize``)::

        v = α · v + (1 - α) · g²
        a = √(v - ḡ²) + eps  with ḡ = α · ḡ + (1 - α) · g   if centered  else  √v + eps
        b = momentum · b + g / a;  p = p - lr · b              if momentum > 0
        p = p - lr · g / a                                     otherwise

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = cr.optim.RMSprop([w], lr=0.01, alpha=0.0)
    >>> (w * w).sum().backward(); _ = opt.step(); w
    tensor([0.9900, 1.9900], requires_grad=True)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        if differentiable:
            raise ValueError("RMSprop: differentiable=True is not supported by chainrule")
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                        "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def _update_group(self, group: dict) -> None:
        lr = as_float(group["lr"])
        alpha, eps, momentum = group["alpha"], group["eps"], group["momentum"]
        centered, weight_decay, maximize = group["centered"], group["weight_decay"], group["maximize"]
        buffers = ("square_avg",) + (("momentum_buffer",) if momentum > 0 else ()) + (("grad_avg",) if centered else ())
        for p, w, state in self._params(group, *buffers):
            self._step_counter(state)
            g = self._grad(w, p.grad._data, weight_decay, maximize)
            v = state["square_avg"]._data
            s = self._ws.get(w, 1)
            v *= alpha
            xp.multiply(g, g, out=s)
            s *= 1 - alpha
            v += s
            if centered:
                g_avg = state["grad_avg"]._data
                lerp_(g_avg, g, 1 - alpha, s)
                xp.multiply(g_avg, g_avg, out=s)
                xp.subtract(v, s, out=s)
                xp.sqrt(s, out=s)
            else:
                xp.sqrt(v, out=s)
            s += eps
            xp.divide(g, s, out=s)
            if momentum > 0:
                b = state["momentum_buffer"]._data
                b *= momentum
                b += s
                xp.multiply(b, -lr, out=s)
            else:
                s *= -lr
            w += s
            p._version_box[0] += 1

"""Stochastic gradient descent, with optional momentum (heavy-ball or Nesterov) and weight decay."""

from __future__ import annotations

from ..backend import xp
from ..tensor import Tensor
from ._checks import check_numbers
from .optimizer import Optimizer, ParamsT, as_float, required


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's update rule exactly.

    With ``g = ∇f(p) + weight_decay · p`` (``-∇f`` when ``maximize``)::

        b = momentum · b + (1 - dampening) · g      (b = g on the first step)
        d = g + momentum · b  if nesterov  else  b  (d = g without momentum)
        p = p - lr · d

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = cr.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> (w * w).sum().backward(); _ = opt.step(); w
    tensor([0.8000, 1.6000], requires_grad=True)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, fused: bool | None = None):
        # foreach/fused are accepted so PyTorch code runs unchanged; NumPy has a single update path.
        check_numbers("SGD", **({} if lr is required else {"lr": lr}), momentum=momentum, dampening=dampening,
                      weight_decay=weight_decay)
        if lr is not required and lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                        "nesterov": nesterov, "maximize": maximize}
        super().__init__(params, defaults)

    def _update_group(self, group: dict) -> None:
        lr = as_float(group["lr"])
        momentum, dampening = group["momentum"], group["dampening"]
        weight_decay, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
        work = self._ws.get
        multiply = xp.multiply
        for p in group["params"]:
            grad = p._grad          # .grad without its non-leaf warning (params are leaves or retain grad)
            if grad is None:
                continue
            w = p._data
            d = self._grad(w, grad._data, weight_decay, maximize) if weight_decay or maximize else grad._data
            if momentum != 0:
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:
                    state["momentum_buffer"] = buf = Tensor._make(d.copy())
                else:
                    b = buf._data
                    b *= momentum
                    if dampening == 0:
                        b += d
                    else:
                        s = work(b, 1)
                        multiply(d, 1 - dampening, s)
                        b += s
                if nesterov:
                    s = work(w, 1)
                    multiply(buf._data, momentum, s)
                    s += d
                    d = s
                else:
                    d = buf._data
            # p += (-lr) · d through a reused work array (out= passed positionally: a little faster)
            s = work(w, 1)
            multiply(d, -lr, s)
            w += s
            p._version_box[0] += 1

"""Adam and AdamW: per-coordinate steps scaled by running averages of the gradient and its square."""

from __future__ import annotations

from ..backend import xp
from ._checks import check_numbers
from .optimizer import Optimizer, ParamsT, as_float, update_moments_


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
        check_numbers(type(self).__name__, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
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
        items = list(self._params(group, *buffers))
        flat = None if amsgrad or (weight_decay and not decoupled) else self._flat(group, items)
        if flat is not None:       # the same arithmetic on all parameters at once (see _FlatMoments)
            flat.update(items, lr, beta1, beta2, eps, weight_decay, maximize, self._step_counter)
            return
        for p, w, state in items:
            t = self._step_counter(state)
            g = self._decayed_grad(w, p.grad._data, lr, weight_decay, decoupled, maximize)
            m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
            s = self._ws.get(w, 1)
            update_moments_(m, v, g, beta1, beta2, s)

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


    def _flat(self, group: dict, items: list):
        """The group's moments as two flat arrays (built or rebuilt when the parameters, their state
        or the step counts changed), or None when the parameters cannot share them."""
        cache = self.__dict__.setdefault("_flat_moments", {})
        flat = cache.get(id(group))
        if flat is not None and flat.fits(items):
            return flat
        cache.pop(id(group), None)
        if not items or len({float(st["step"]._data) for _, _, st in items}) != 1:
            return None
        dtype = items[0][1].dtype
        if dtype.kind != "f" or any(w.dtype != dtype or p.grad._data.dtype != dtype for p, w, _ in items):
            return None
        flat = cache[id(group)] = _FlatMoments(items, dtype)
        return flat


class _FlatMoments:
    """Adam's moments m and v of all a group's parameters in two flat arrays, each parameter's
    ``exp_avg``/``exp_avg_sq`` state a view into them (``state_dict`` looks as before). A step then runs
    each line of the update once over all parameters instead of once per parameter: the same
    elementwise arithmetic (the same numbers), a dozen NumPy calls instead of a dozen per parameter."""

    def __init__(self, items: list, dtype):
        sizes = [w.size for _, w, _ in items]
        n = sum(sizes)
        self.m, self.v = xp.empty(n, dtype), xp.empty(n, dtype)
        self.g, self.s = xp.empty(n, dtype), xp.empty(n, dtype)
        self.params, self.m_views, self.v_views, self.s_views = [], [], [], []
        start = 0
        for (p, w, state), size in zip(items, sizes):
            m, v, s = (a[start:start + size].reshape(w.shape) for a in (self.m, self.v, self.s))
            m[...], v[...] = state["exp_avg"]._data, state["exp_avg_sq"]._data
            state["exp_avg"]._data, state["exp_avg_sq"]._data = m, v
            self.params.append(p)
            self.m_views.append(m)
            self.v_views.append(v)
            self.s_views.append(s)
            start += size

    def fits(self, items: list) -> bool:
        """Still the same parameters (shapes, dtypes), state tensors that are still our views, one step count."""
        if len(items) != len(self.params):
            return False
        step = float(items[0][2]["step"]._data)
        for (p, w, state), q, m, v in zip(items, self.params, self.m_views, self.v_views):
            if (p is not q or state["exp_avg"]._data is not m or state["exp_avg_sq"]._data is not v
                    or w.shape != m.shape or w.dtype != m.dtype or p.grad._data.dtype != m.dtype
                    or float(state["step"]._data) != step):
                return False
        return True

    def update(self, items, lr, beta1, beta2, eps, weight_decay, maximize, step_counter) -> None:
        g, m, v, s = self.g, self.m, self.v, self.s
        xp.concatenate([p.grad._data.reshape(-1) for p, _, _ in items], out=g)
        if maximize:
            xp.negative(g, out=g)
        t = 0.0
        for _, w, state in items:
            t = step_counter(state)
            if weight_decay:                   # decoupled (AdamW): shrink the weights first
                w *= 1 - lr * weight_decay
        update_moments_(m, v, g, beta1, beta2, s)
        xp.sqrt(v, out=s)
        s /= (1 - beta2 ** t) ** 0.5
        s += eps
        xp.divide(m, s, out=s)
        s *= -(lr / (1 - beta1 ** t))
        for (p, w, _), step in zip(items, self.s_views):
            w += step
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

"""``chainrule.amp``: PyTorch's mixed-precision API (``torch.amp``) on a CPU-only library.

``autocast`` is accepted and computes nothing differently: chainrule runs every op in its inputs'
dtype (PyTorch on the CPU would run matmul and convolutions in bfloat16 inside
``autocast("cpu")``; chainrule warns once that it does not). ``GradScaler`` follows PyTorch:
for ``device="cuda"`` (the default) it disables itself with PyTorch's warning, since there is no
CUDA; for ``device="cpu"`` it really scales the loss, unscales the gradients, skips a step whose
gradients are not finite and adapts the scale.

>>> import chainrule as cr
>>> w = cr.tensor([1.0], requires_grad=True)
>>> opt = cr.optim.SGD([w], lr=0.5)
>>> scaler = GradScaler("cpu", init_scale=8.0)
>>> with autocast("cpu", enabled=False):
...     loss = (w * w).sum()
>>> scaler.scale(loss).backward(); scaler.step(opt); scaler.update()
>>> w, scaler.get_scale()
(tensor([0.], requires_grad=True), 8.0)
"""

from __future__ import annotations

import functools
import math
import warnings

__all__ = ["GradScaler", "autocast", "is_autocast_available"]

_warned_cpu_autocast = False


def is_autocast_available(device_type: str) -> bool:
    """Whether ``autocast(device_type)`` exists: on the CPU, yes (as a no-op in chainrule)."""
    return device_type == "cpu"


class autocast:
    """A context manager (and decorator) that PyTorch uses for mixed precision; a no-op here.

    >>> import chainrule as cr
    >>> with autocast(device_type="cpu", enabled=False):   # device_type="cuda" warns, as in PyTorch
    ...     y = cr.ones(2) @ cr.ones(2)
    >>> y.dtype
    chainrule.float32
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True, cache_enabled: bool | None = None):
        global _warned_cpu_autocast
        if not isinstance(device_type, str):
            raise TypeError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.device = device_type
        self.fast_dtype = dtype
        self._enabled = bool(enabled)
        if self._enabled and device_type == "cuda":
            warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.", UserWarning,
                          stacklevel=2)
            self._enabled = False
        elif self._enabled and device_type == "cpu" and not _warned_cpu_autocast:
            _warned_cpu_autocast = True
            warnings.warn("chainrule.autocast('cpu') computes every op in its inputs' dtype (PyTorch would run "
                          "matmul and convolutions in bfloat16); results match autocast disabled", UserWarning,
                          stacklevel=2)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> bool:
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return wrapped


class GradScaler:
    """Loss scaling for mixed-precision training, with PyTorch's arguments and state.

    Disabled (``enabled=False``, or ``device="cuda"`` without CUDA): ``scale`` returns its input,
    ``step`` just calls ``optimizer.step()``, ``get_scale()`` is 1.0. Enabled (``device="cpu"``):
    the loss is multiplied by the scale; ``step`` unscales the gradients and skips the step if any is
    inf/NaN; ``update`` halves the scale after a skipped step and doubles it after
    ``growth_interval`` good ones.
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True):
        self._device = str(device)
        self._enabled = bool(enabled)
        if self._enabled and self._device == "cuda":
            warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
                          UserWarning, stacklevel=2)
            self._enabled = False
        if self._enabled and not 0.0 < backoff_factor < 1.0:
            raise ValueError(f"GradScaler: backoff_factor must be in (0, 1), got {backoff_factor}")
        if self._enabled and growth_factor <= 1.0:
            raise ValueError(f"GradScaler: growth_factor must be > 1, got {growth_factor}")
        self._scale = float(init_scale)
        self._growth_factor, self._backoff_factor = float(growth_factor), float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._growth_tracker = 0
        self._unscaled = set()      # id(optimizer) already unscaled in this iteration
        self._found_inf = False

    def is_enabled(self) -> bool:
        return self._enabled

    def get_scale(self) -> float:
        return self._scale if self._enabled else 1.0

    def scale(self, outputs):
        """Multiply a loss (or a list/tuple of them) by the current scale."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        return outputs * self._scale

    def unscale_(self, optimizer) -> None:
        """Divide the gradients of ``optimizer``'s parameters by the scale (once per iteration)."""
        if not self._enabled:
            return
        if id(optimizer) in self._unscaled:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        inv = 1.0 / self._scale
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.grad.mul_(inv)
                if not math.isfinite(float(p.grad.abs().sum())):
                    self._found_inf = True
        self._unscaled.add(id(optimizer))

    def step(self, optimizer, *args, **kwargs):
        """Unscale (if not done yet) and call ``optimizer.step()`` unless a gradient was inf/NaN."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if id(optimizer) not in self._unscaled:
            self.unscale_(optimizer)
        if self._found_inf:
            return None
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale: float | None = None) -> None:
        """Adapt the scale after an iteration (or set it to ``new_scale``)."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = float(new_scale)
        elif self._found_inf:
            self._scale *= self._backoff_factor
            self._growth_tracker = 0
        else:
            self._growth_tracker += 1
            if self._growth_tracker == self._growth_interval:
                self._scale *= self._growth_factor
                self._growth_tracker = 0
        self._unscaled.clear()
        self._found_inf = False

    def state_dict(self) -> dict:
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor, "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval, "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict: dict) -> None:
        if not self._enabled:
            return
        if not state_dict:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a disabled "
                               "instance of GradScaler.")
        self._scale = float(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])

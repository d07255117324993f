"""``nn.utils.weight_norm`` and ``nn.utils.spectral_norm`` (PyTorch's hook-based forms, still the ones most
tutorials call): a forward pre-hook recomputes the module's weight from new parameters before every call.

weight_norm:   w = g · v / ‖v‖  (parameters ``weight_g``, ``weight_v``; Salimans & Kingma, 2016)
spectral_norm: w = w_orig / σ(w_orig), σ estimated by power iteration on buffers ``weight_u``,
               ``weight_v`` (one step per training call; Miyato et al., 2018)

>>> import warnings, chainrule as cr
>>> with warnings.catch_warnings(action="ignore"):      # PyTorch's deprecation warning, kept
...     layer = weight_norm(cr.nn.Linear(3, 2))
>>> sorted(name for name, _ in layer.named_parameters())
['bias', 'weight_g', 'weight_v']
"""

from __future__ import annotations

import warnings

from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter


def norm_except_dim(v: Tensor, pow: float = 2, dim: int = 0) -> Tensor:
    """The ``pow``-norm of ``v`` over every dim but ``dim`` (kept with size 1 elsewhere); ``dim=-1``: of all of v.

    >>> import chainrule as cr
    >>> norm_except_dim(cr.tensor([[3.0, 4.0], [0.0, 1.0]]), 2, 0)
    tensor([[5.],
            [1.]])
    """
    if dim == -1:
        return v.norm(pow)
    if dim != 0:
        return norm_except_dim(v.transpose(0, dim), pow, 0).transpose(0, dim)
    return v.reshape(v.shape[0], -1).norm(pow, dim=1).reshape((v.shape[0],) + (1,) * (v.ndim - 1))


class WeightNorm:
    """The forward pre-hook of ``weight_norm``."""

    def __init__(self, name: str, dim: int) -> None:
        self.name, self.dim = name, dim

    def compute_weight(self, module) -> Tensor:
        g, v = getattr(module, self.name + "_g"), getattr(module, self.name + "_v")
        return v * (g / norm_except_dim(v, 2, self.dim))

    def __call__(self, module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module))

    def remove(self, module) -> None:
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))


def weight_norm(module, name: str = "weight", dim: int | None = 0):
    """Reparametrise ``module.<name>`` as g · v / ‖v‖ (norm over all dims but ``dim``; None: over all)."""
    warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                  "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=2)
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, WeightNorm) and hook.name == name:
            raise RuntimeError(f"weight_norm: Cannot register two weight_norm hooks on the same parameter {name}")
    fn = WeightNorm(name, -1 if dim is None else dim)
    weight = module._parameters.get(name)
    if weight is None:
        raise ValueError(f"weight_norm: module {type(module).__name__} has no parameter {name!r}")
    del module._parameters[name]
    module.register_parameter(name + "_g", Parameter(norm_except_dim(weight, 2, fn.dim).detach()))
    module.register_parameter(name + "_v", Parameter(weight.detach()))
    setattr(module, name, fn.compute_weight(module))
    module.register_forward_pre_hook(fn)
    return module


def remove_weight_norm(module, name: str = "weight"):
    """Undo ``weight_norm``: ``<name>`` is one parameter again (its current value)."""
    return _remove(module, name, WeightNorm, "weight_norm")


class SpectralNorm:
    """The forward pre-hook of ``spectral_norm``."""

    def __init__(self, name: str, n_power_iterations: int, dim: int, eps: float) -> None:
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.name, self.n_power_iterations, self.dim, self.eps = name, n_power_iterations, dim, eps

    def matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.permute(self.dim, *[d for d in range(weight.ndim) if d != self.dim])
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module, do_power_iteration: bool) -> Tensor:
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        w = self.matrix(weight)
        if do_power_iteration:
            with no_grad():   # PyTorch updates the buffers in place (normalize(..., out=u))
                for _ in range(self.n_power_iterations):
                    v.copy_(F.normalize(w.t().matmul(u), dim=0, eps=self.eps))
                    u.copy_(F.normalize(w.matmul(v), dim=0, eps=self.eps))
                u, v = u.clone(), v.clone()   # the gradient must not see the next call's update
        sigma = u.dot(w.matmul(v))
        return weight / sigma

    def __call__(self, module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))

    def remove(self, module) -> None:
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        for suffix in ("_u", "_v", "_orig"):
            delattr(module, self.name + suffix)
        module.register_parameter(self.name, Parameter(weight.detach()))


def spectral_norm(module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None):
    """Divide ``module.<name>`` by its largest singular value, estimated by power iteration.

    >>> import chainrule as cr
    >>> sorted(spectral_norm(cr.nn.Linear(3, 2)).state_dict())
    ['bias', 'weight_orig', 'weight_u', 'weight_v']
    """
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter {name}")
    if dim is None:   # the output dim: 1 for transposed convolutions
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    fn = SpectralNorm(name, n_power_iterations, dim, eps)
    weight = module._parameters.get(name)
    if weight is None:
        raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
    with no_grad():
        h, w = fn.matrix(weight).shape
        u = F.normalize(init.normal_(weight.new_empty(h), 0, 1), dim=0, eps=eps)
        v = F.normalize(init.normal_(weight.new_empty(w), 0, 1), dim=0, eps=eps)
    delattr(module, name)
    module.register_parameter(name + "_orig", weight)
    setattr(module, name, weight.detach())
    module.register_buffer(name + "_u", u)
    module.register_buffer(name + "_v", v)
    module.register_forward_pre_hook(fn)
    return module


def remove_spectral_norm(module, name: str = "weight"):
    """Undo ``spectral_norm``: ``<name>`` is one parameter again (the normalised value)."""
    return _remove(module, name, SpectralNorm, "spectral_norm")


def _remove(module, name: str, kind: type, what: str):
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, kind) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"{what} of '{name}' not found in {module}")

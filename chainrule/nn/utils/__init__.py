"""``nn.utils``: gradient clipping, flattening parameters to one vector and back, ``weight_norm`` and
``spectral_norm``, and ``nn.utils.rnn`` (padding and packing batches of sequences), at PyTorch's module paths."""

from __future__ import annotations

import math
from collections.abc import Iterable

from ...autograd.grad_mode import no_grad
from ...backend import xp
from ...tensor import Tensor
from ...tensor.functions import cat


def _as_list(parameters) -> list:
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach=None) -> Tensor:
    """Scale all gradients together so their joint norm is at most ``max_norm``; return the norm before.

    >>> import chainrule as cr
    >>> w = cr.nn.Parameter(cr.zeros(2)); w.grad = cr.tensor([3.0, 4.0])
    >>> cr.nn.utils.clip_grad_norm_([w], max_norm=1.0)
    tensor(5.)
    >>> w.grad
    tensor([0.6000, 0.8000])
    """
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        return Tensor._make(xp.asarray(0.0, xp.float32))
    if norm_type == math.inf:
        total = max(float(xp.abs(g._data).max()) for g in grads)
    else:
        total = sum(_norm_power(g._data, norm_type) for g in grads) ** (1 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
                           f"so it cannot be clipped. To disable this error and scale the gradients by the "
                           f"non-finite norm anyway, set `error_if_nonfinite=False`")
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        with no_grad():
            for g in grads:
                g.mul_(coef)
    return Tensor._make(xp.asarray(total, grads[0]._data.dtype))


def _norm_power(a, p: float) -> float:
    """Σ|aᵢ|ᵖ in a's own dtype (as PyTorch's per-tensor norms), without a float64 copy: p = 2 is
    one BLAS dot product, p = 1 one pass."""
    v = a.reshape(-1)
    if p == 2.0:
        return float(xp.dot(v, v))
    if p == 1.0:
        return float(xp.abs(v).sum())
    return float((xp.abs(v) ** p).sum())


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _as_list(parameters):
            if p.grad is not None:
                p.grad.clamp_(-clip_value, clip_value)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """Concatenate all parameters, flattened, into one 1-D tensor (differentiable).

    >>> import chainrule as cr
    >>> cr.nn.utils.parameters_to_vector(cr.nn.Linear(2, 3).parameters()).shape
    chainrule.Size([9])
    """
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into the parameters (they then share ``vec``'s memory, as PyTorch)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected chainrule.Tensor, but got: {type(vec).__name__}")
    pointer = 0
    for p in parameters:
        n = p.numel()
        if pointer + n > vec.numel():
            raise ValueError(f"vector_to_parameters: vec has {vec.numel()} elements, too few for the parameters")
        p._data = vec._data[pointer:pointer + n].reshape(p._data.shape)
        pointer += n


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """The norm of all ``tensors`` together, as if concatenated (what clip_grad_norm_ measures).

    >>> import chainrule as cr
    >>> get_total_norm([cr.tensor([3.0]), cr.tensor([4.0])])
    tensor(5.)
    """
    tensors = _as_list(tensors)
    if not tensors:
        return Tensor._make(xp.asarray(0.0, xp.float32))
    norm_type = float(norm_type)
    if norm_type == math.inf:
        total = max(float(xp.abs(t._data).max()) for t in tensors)
    else:
        total = sum(float((xp.abs(t._data.astype(xp.float64)) ** norm_type).sum()) for t in tensors) ** (1 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
                           f"so it cannot be clipped. To disable this error and scale the gradients by the "
                           f"non-finite norm anyway, set `error_if_nonfinite=False`")
    return Tensor._make(xp.asarray(total, tensors[0]._data.dtype))


def clip_grads_with_norm_(parameters, max_norm: float, total_norm, foreach=None) -> None:
    """Scale the gradients by max_norm / (total_norm + 1e-6) when that is below 1 (given a precomputed norm)."""
    coef = float(max_norm) / (float(total_norm) + 1e-6)
    if coef < 1.0:
        with no_grad():
            for p in _as_list(parameters):
                if p.grad is not None:
                    p.grad.mul_(coef)


from . import rnn  # nn.utils.rnn, as torch.nn.utils.rnn (imported last: it uses the names above)
from .weight_norms import remove_spectral_norm, remove_weight_norm, spectral_norm, weight_norm

"""``Normal``: the Gaussian with mean ``loc`` and standard deviation ``scale``."""

from __future__ import annotations

import math

from ..autograd import no_grad
from ..tensor import Size, Tensor
from ..tensor.creation import tensor
from ..tensor.random import randn
from .distribution import Distribution

__all__ = ["Normal"]


class Normal(Distribution):
    """N(loc, scale²), batched by broadcasting ``loc`` with ``scale`` (numbers or tensors).

    ``rsample`` is loc + ε·scale with ε ~ N(0, 1): differentiable in loc and scale (the
    reparameterisation trick); ``sample`` is the same draw without a graph.

    >>> import chainrule as cr
    >>> d = Normal(cr.tensor(0.0), cr.tensor(2.0))
    >>> d.log_prob(cr.tensor(0.0)), d.entropy()
    (tensor(-1.6121), tensor(2.1121))
    """

    has_rsample = True
    _param_names = ("loc", "scale")

    def __init__(self, loc, scale, validate_args: bool | None = None):
        loc, scale = _as_tensors(loc, scale)
        shape = _broadcast_shape(loc.shape, scale.shape)
        self.loc, self.scale = loc.expand(shape), scale.expand(shape)
        super().__init__(shape, (), validate_args)
        if self._validate_args:
            if bool(self.loc.isnan().any()) or bool(self.loc.isinf().any()):
                raise self._invalid("parameter loc", self.loc, "Real()", self.loc)
            if not bool((self.scale > 0).all()):
                raise self._invalid("parameter scale", self.scale, "GreaterThan(lower_bound=0.0)", self.scale)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.scale.pow(2)

    def rsample(self, sample_shape=()) -> Tensor:
        """loc + ε·scale, ε ~ N(0, 1) of shape ``sample_shape + batch_shape``; gradients reach loc and scale."""
        eps = randn(*self._extended_shape(Size(sample_shape)), dtype=self.loc.dtype)
        return self.loc + eps * self.scale

    def sample(self, sample_shape=()) -> Tensor:
        """A draw without a graph (the same numbers ``rsample`` would give from the same seed)."""
        with no_grad():
            return self.rsample(sample_shape)

    def log_prob(self, value) -> Tensor:
        """-(x - loc)²/(2 scale²) - log scale - log √(2π)."""
        if not isinstance(value, Tensor):
            value = tensor(value, dtype=self.loc.dtype)
        var = self.scale ** 2
        return -((value - self.loc) ** 2) / (2 * var) - self.scale.log() - math.log(math.sqrt(2 * math.pi))

    def entropy(self) -> Tensor:
        """½ + ½ log(2π) + log scale."""
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()


def _as_tensors(loc, scale):
    """PyTorch's broadcast_all: numbers become tensors of the other argument's (or the default) dtype."""
    like = loc if isinstance(loc, Tensor) else scale if isinstance(scale, Tensor) else None
    dtype = like.dtype if like is not None else None
    loc = loc if isinstance(loc, Tensor) else tensor(float(loc), dtype=dtype)
    scale = scale if isinstance(scale, Tensor) else tensor(float(scale), dtype=dtype)
    return loc, scale


def _broadcast_shape(a, b) -> Size:
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    out = []
    for x, y in zip(a, b):
        if x != y and 1 not in (x, y):
            raise ValueError(f"Normal: loc of shape {tuple(a)} and scale of shape {tuple(b)} do not broadcast")
        out.append(y if x == 1 else x)
    return Size(out)

"""``Categorical``: one of K classes, from probabilities or from unnormalised log-probabilities."""

from __future__ import annotations

import math

from ..tensor import Size, Tensor
from ..tensor.creation import full, tensor
from ..tensor.random import multinomial
from .distribution import Distribution

__all__ = ["Categorical"]

# torch.finfo(dtype).eps and .min, by dtype name: probabilities are clamped to [eps, 1 - eps] before
# their log is taken, and -inf logits to the most negative float before multiplying by 0.
EPS = {"float16": 2.0 ** -10, "float32": 2.0 ** -23, "float64": 2.0 ** -52}
MIN = {"float16": -65504.0, "float32": -3.4028234663852886e38, "float64": -1.7976931348623157e308}


class Categorical(Distribution):
    """A distribution over ``0 .. K-1`` given ``probs`` (non-negative, normalised along the last dim)
    or ``logits`` (log-probabilities up to a constant) — exactly one of the two.

    >>> import chainrule as cr
    >>> d = Categorical(probs=cr.tensor([0.2, 0.3, 0.5]))
    >>> d.log_prob(cr.tensor([0, 2])), round(d.entropy().item(), 4)
    (tensor([-1.6094, -0.6931]), 1.0297)
    """

    _param_names = ("probs", "logits")

    def __init__(self, probs: Tensor | None = None, logits: Tensor | None = None,
                 validate_args: bool | None = None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        param = probs if probs is not None else logits
        if not isinstance(param, Tensor):
            param = tensor(param)
        if param.ndim < 1:
            raise ValueError("`probs` parameter must be at least one-dimensional."
                             if probs is not None else "`logits` parameter must be at least one-dimensional.")
        super().__init__(param.shape[:-1], (), validate_args)
        self._num_events = param.shape[-1]
        if probs is not None:
            if self._validate_args and (bool((param < 0).any()) or not bool(param.isfinite().all())):
                raise self._invalid("parameter probs", param, "Simplex()", param)
            self.probs = param / param.sum(-1, keepdim=True)
        else:
            if self._validate_args and bool(param.isnan().any()):
                raise self._invalid("parameter logits", param, "IndependentConstraint(Real(), 1)", param)
            self.logits = param - param.logsumexp(-1, keepdim=True)

    def __getattr__(self, name: str):
        # probs and logits are each computed from the other on first use, as PyTorch's lazy properties
        if name == "probs":
            self.probs = self.logits.softmax(-1)
            return self.probs
        if name == "logits":
            eps = EPS[self.probs.dtype.name]
            self.logits = self.probs.clamp(eps, 1 - eps).log()
            return self.logits
        raise AttributeError(f"'Categorical' object has no attribute {name!r}")

    @property
    def param_shape(self) -> Size:
        return self.probs.shape

    @property
    def mean(self) -> Tensor:
        return full(tuple(self.batch_shape), math.nan, dtype=self.probs.dtype)

    @property
    def mode(self) -> Tensor:
        return self.probs.argmax(-1)

    def sample(self, sample_shape=()) -> Tensor:
        """Class indices of shape ``sample_shape + batch_shape`` (PyTorch's multinomial draw)."""
        shape = Size(sample_shape)
        probs_2d = self.probs.detach().reshape(-1, self._num_events)
        samples_2d = multinomial(probs_2d, max(shape.numel(), 1), True).T
        return samples_2d.reshape(self._extended_shape(shape)) if shape.numel() else \
            samples_2d.reshape(-1)[:0].reshape(self._extended_shape(shape))

    def log_prob(self, value: Tensor) -> Tensor:
        """log P(value) for integer class indices (broadcast against the batch shape)."""
        if not isinstance(value, Tensor):
            value = tensor(value)
        if self._validate_args:
            v = value.long()
            bad = bool((v != value).any()) or bool((v < 0).any()) or bool((v >= self._num_events).any())
            if bad:
                raise ValueError(f"Expected value argument (Tensor of shape {tuple(value.shape)}) to be within the "
                                 f"support (IntegerInterval(lower_bound=0, upper_bound={self._num_events - 1})) of "
                                 f"the distribution {self._describe()}, but found invalid values:\n{value}")
        index = value.long().unsqueeze(-1)
        shape = Size(_broadcast(tuple(index.shape), tuple(self.logits.shape)))
        index = index.expand(*shape[:-1], 1)
        return self.logits.expand(*shape).gather(-1, index).squeeze(-1)

    def entropy(self) -> Tensor:
        """-Σ p·log p over the classes (a 0-probability class adds nothing)."""
        logits = self.logits.clamp(min=MIN[self.logits.dtype.name])
        return -(logits * self.probs).sum(-1)


def _broadcast(a: tuple, b: tuple) -> tuple:
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    out = []
    for x, y in zip(a, b):
        if x != y and 1 not in (x, y):
            raise ValueError(f"Categorical.log_prob: value of shape {a} does not broadcast with the batch shape "
                             f"{b[:-1]}")
        out.append(max(x, y) if 0 not in (x, y) else 0)
    return tuple(out)

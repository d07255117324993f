"""The base class: batch and event shapes, the sample-shape rule and argument validation."""

from __future__ import annotations

from ..tensor import Size, Tensor

__all__ = ["Distribution"]


class Distribution:
    """Base of the distributions: ``batch_shape``, ``event_shape`` and ``sample(sample_shape)``.

    A sample has shape ``sample_shape + batch_shape + event_shape``. With ``validate_args`` (on by
    default, as in PyTorch) bad parameters and out-of-support values raise ``ValueError``.
    """

    has_rsample = False
    _validate_default = True

    def __init__(self, batch_shape=(), event_shape=(), validate_args: bool | None = None):
        self._batch_shape = Size(batch_shape)
        self._event_shape = Size(event_shape)
        self._validate_args = self._validate_default if validate_args is None else bool(validate_args)

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        Distribution._validate_default = bool(value)

    @property
    def batch_shape(self) -> Size:
        return self._batch_shape

    @property
    def event_shape(self) -> Size:
        return self._event_shape

    def _extended_shape(self, sample_shape=()) -> Size:
        return Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def sample(self, sample_shape=()) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.sample is not implemented")

    def rsample(self, sample_shape=()) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised sample (rsample)")

    def sample_n(self, n: int) -> Tensor:
        return self.sample((n,))

    def _describe(self) -> str:
        parts = []
        for name in self._param_names:
            value = self.__dict__.get(name)
            if value is None:
                continue
            shown = value.item() if value.numel() == 1 and value.ndim == 0 else repr(value.shape)
            parts.append(f"{name}: {shown}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def __repr__(self) -> str:
        return self._describe()

    def _invalid(self, what: str, value: Tensor, constraint: str, found) -> ValueError:
        return ValueError(f"Expected {what} (Tensor of shape {tuple(value.shape)}) of distribution "
                          f"{self._describe()} to satisfy the constraint {constraint}, but found invalid values:\n"
                          f"{found}")

"""Hyperparameter checks shared by the optimizers (PyTorch's messages)."""

from __future__ import annotations

import numbers

from ..tensor import Tensor
from .optimizer import as_float


def check_numbers(optimizer: str, **values) -> None:
    """Each hyperparameter a number, or (as PyTorch allows) a one-element Tensor: ``lr='0.1'`` or
    ``lr=None`` is a TypeError naming it, not a failed comparison; ``betas`` a pair of numbers.

    >>> check_numbers("Adam", lr=1e-3, betas=0.9)
    Traceback (most recent call last):
    TypeError: Adam: betas must be a pair of numbers (beta1, beta2), got float (0.9)
    """
    for name, value in values.items():
        if name == "betas":
            if not isinstance(value, tuple | list) or len(value) != 2:
                raise TypeError(f"{optimizer}: betas must be a pair of numbers (beta1, beta2), got "
                                f"{type(value).__name__} ({value!r})")
            check_numbers(optimizer, **{"betas[0]": value[0], "betas[1]": value[1]})
        elif isinstance(value, Tensor):
            if value.numel() != 1:
                raise ValueError(f"{optimizer}: Tensor {name} must be 1-element, got shape {tuple(value.shape)}")
        elif not isinstance(value, numbers.Real):
            raise TypeError(f"{optimizer}: {name} must be a number, got {type(value).__name__} ({value!r})")


def check_common(optimizer: str, lr, eps: float | None = None, betas: tuple | None = None,
                 weight_decay: float = 0.0) -> None:
    """Raise PyTorch's ValueError for a negative lr/eps/weight_decay or a beta outside [0, 1) (and a
    TypeError naming ``optimizer`` for one that is not a number)."""
    check_numbers(optimizer, lr=lr, weight_decay=weight_decay, **({} if eps is None else {"eps": eps}),
                  **({} if betas is None else {"betas": betas}))
    if not 0.0 <= as_float(lr):
        raise ValueError(f"Invalid learning rate: {lr}")
    if eps is not None and not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if betas is not None:
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


def refuse_differentiable(name: str, differentiable: bool) -> None:
    if differentiable:
        raise ValueError(f"{name}: differentiable=True (differentiating through the update) is not supported "
                         "by chainrule")

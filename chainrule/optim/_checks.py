"""Hyperparameter checks shared by the optimizers (PyTorch's messages)."""

from __future__ import annotations

from .optimizer import as_float


def check_common(lr, eps: float | None = None, betas: tuple | None = None, weight_decay: float = 0.0) -> None:
    """Raise PyTorch's ValueError for a negative lr/eps/weight_decay or a beta outside [0, 1)."""
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

"""``Dropout``: during training zero each element with probability p and scale the survivors by
1/(1-p), so the expected activation is unchanged and eval mode can simply pass inputs through."""

from __future__ import annotations

from ..tensor import Tensor
from . import functional as F
from .module import Module


class _DropoutNd(Module):
    """The arguments and repr every dropout module shares (PyTorch's base class of the same name)."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Random zeroing in training (drawn from chainrule's default generator); identity in eval.

    >>> import chainrule as cr
    >>> drop = cr.nn.Dropout(0.5).eval()
    >>> drop(cr.ones(3))
    tensor([1., 1., 1.])
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training, self.inplace)

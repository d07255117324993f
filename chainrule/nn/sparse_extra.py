"""``EmbeddingBag``: look up a bag of ids and reduce their vectors to one (sum, mean or max) per bag, as in
``torch.nn`` (the text-classification tutorial's model). A composition: embedding lookup, then a
scatter-add by bag (sum/mean) or a max per bag, so autograd differentiates it.

>>> import chainrule as cr
>>> w = cr.arange(8.0).reshape(4, 2)
>>> cr.nn.functional.embedding_bag(cr.tensor([0, 1, 3]), w, cr.tensor([0, 2]), mode="sum")
tensor([[2., 4.],
        [6., 7.]])
"""

from __future__ import annotations

import itertools

from .. import backend
from ..autograd.grad_mode import no_grad
from ..backend import xp
from ..ops.nn_extra import WeightedEmbedding
from ..tensor import Tensor
from ..tensor.creation import tensor, zeros
from ..tensor.device import require_cpu
from ..tensor.functions import stack
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

_MODES = ("sum", "mean", "max")


def _bags(input: Tensor, offsets: Tensor | None, include_last_offset: bool) -> tuple[Tensor, list[int]]:
    """Flat ids and the bag boundaries [b_0 = 0, b_1, …, b_B = len(ids)]."""
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(f"embedding_bag: if input is 2D, then offsets has to be None, as input is treated is "
                             f"a mini-batch of fixed length sequences. However, found offsets of type "
                             f"{type(offsets).__name__}")
        n, length = input.shape
        return input.reshape(-1), [i * length for i in range(n + 1)]
    if input.ndim != 1:
        raise ValueError(f"embedding_bag: input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.ndim}")
    if offsets is None:
        raise ValueError("embedding_bag: offsets has to be a 1D Tensor but got None")
    if offsets.ndim != 1:
        raise ValueError(f"embedding_bag: offsets has to be a 1D Tensor, got shape {tuple(offsets.shape)}")
    starts = [int(o) for o in offsets.tolist()]
    if starts and starts[0] != 0:
        raise RuntimeError(f"embedding_bag: offsets[0] has to be 0, i.e., the first sequence in the mini-batch "
                           f"has to start from position 0. However, got {starts[0]}")
    if starts and starts[-1] > input.shape[0]:
        raise RuntimeError(f"embedding_bag: offsets[-1] can not be greater than input's length {input.shape[0]} "
                           f"but got offsets[-1] of {starts[-1]}")
    # include_last_offset: the last offset closes the last bag in CSR style; as PyTorch, the last bag
    # runs to the end of the input whatever that offset says (it is only checked against the length)
    bounds = (starts[:-1] if include_last_offset else starts) + [input.shape[0]]
    if len(bounds) == 1:   # no bag at all (PyTorch 2.13 crashes here): an empty batch of bags
        return input[:0], [0]
    if any(b < a for a, b in itertools.pairwise(bounds)):
        raise RuntimeError(f"embedding_bag: offsets must be non-decreasing and at most len(input) = "
                           f"{input.shape[0]}, got {starts}")
    return input, bounds


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None, max_norm: float | None = None,
                  norm_type: float = 2, scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """One vector per bag: the sum, mean or max of the embedding rows of its ids (padding ids left out, an
    empty bag gives zeros). Bags are the rows of a 2-D ``input``, or slices of a 1-D one cut at ``offsets``."""
    if mode not in _MODES:
        raise ValueError(f"embedding_bag: mode has to be one of sum, mean or max, got {mode!r}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  f"GitHub.")
    if per_sample_weights is not None and tuple(per_sample_weights.shape) != tuple(input.shape):
        raise ValueError(f"embedding_bag: embedding_bag: If per_sample_weights ({tuple(per_sample_weights.shape)}) "
                         f"is not None, then it must have the same shape as the input ({tuple(input.shape)})")
    ids, bounds = _bags(input, offsets, include_last_offset)
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.shape[0]
    if per_sample_weights is None:
        rows = F.embedding(ids, weight, None, max_norm, norm_type, scale_grad_by_freq, sparse)
    else:
        if per_sample_weights.dtype != weight.dtype:
            raise RuntimeError(f"embedding_bag: per_sample_weights ({per_sample_weights.dtype}) must have the "
                               f"dtype of weight ({weight.dtype})")
        idx, _ = F.lookup_ids(ids, weight, None, max_norm, norm_type, scale_grad_by_freq, sparse)
        rows = WeightedEmbedding.apply(weight, idx, per_sample_weights.reshape(-1))
    keep = xp.ones(ids.shape[0], bool) if padding_idx is None else ids._data != padding_idx
    bag_of = xp.repeat(xp.arange(len(bounds) - 1), xp.diff(bounds))
    counts = xp.bincount(bag_of[keep], minlength=len(bounds) - 1)
    if mode == "max":
        out = []
        for b, (start, stop) in enumerate(itertools.pairwise(bounds)):
            chosen = start + xp.flatnonzero(keep[start:stop])
            empty = weight[:0].sum(0)      # zeros, still in the graph (the result requires grad as PyTorch's)
            out.append(rows[tensor(chosen)].max(0).values if counts[b] else empty)
        return stack(out, 0) if out else weight[:0].clone()
    if padding_idx is not None:
        rows = rows.masked_fill(tensor(~keep).reshape(-1, 1), 0.0)
    out = zeros(len(bounds) - 1, weight.shape[1], dtype=weight.dtype).index_add(0, tensor(bag_of), rows)
    if mode == "mean":
        out = out / tensor(xp.maximum(counts, 1).astype(weight._data.dtype)).reshape(-1, 1)
    return out


class EmbeddingBag(Module):
    """An ``Embedding`` whose lookups are reduced per bag (``mode`` 'mean', 'sum' or 'max').

    >>> import chainrule as cr
    >>> bag = cr.nn.EmbeddingBag(10, 3)
    >>> bag(cr.tensor([1, 2, 4, 5, 4, 3]), cr.tensor([0, 4])).shape
    chainrule.Size([2, 3])
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                 _weight: Tensor | None = None, include_last_offset: bool = False, padding_idx: int | None = None,
                 device=None, dtype=None) -> None:
        super().__init__()
        require_cpu(device, "EmbeddingBag")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError("padding_idx must be within num_embeddings")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.mode, self.sparse, self.include_last_offset = mode, sparse, include_last_offset
        self.padding_idx = padding_idx
        if _weight is None:
            np_dtype = backend.to_dtype(dtype or backend.default_float).np
            self.weight = Parameter(Tensor._make(xp.empty((num_embeddings, embedding_dim), np_dtype)))
            self.reset_parameters()
        else:
            self.weight = Parameter(_weight)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0

    def forward(self, input: Tensor, offsets: Tensor | None = None,
                per_sample_weights: Tensor | None = None) -> Tensor:
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                             self.mode, self.sparse, per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        s += f", mode='{self.mode}'"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, max_norm: float | None = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                        sparse: bool = False, include_last_offset: bool = False,
                        padding_idx: int | None = None) -> EmbeddingBag:
        """An EmbeddingBag whose weight is ``embeddings`` (frozen unless ``freeze=False``)."""
        rows, dim = embeddings.shape
        bag = cls(rows, dim, max_norm, norm_type, scale_grad_by_freq, mode, sparse, embeddings,
                  include_last_offset, padding_idx)
        bag.weight.requires_grad = not freeze
        return bag

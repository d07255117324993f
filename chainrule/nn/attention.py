"""``nn.MultiheadAttention``: several attention heads over learned projections, as in PyTorch.

Each head h sees its own slice of the projected queries, keys and values:
head_h = softmax(Q_h K_hᵀ/√d + mask) V_h, and the heads, concatenated, pass through ``out_proj``.
The attention itself is ``functional_attention._attend`` (what ``F.scaled_dot_product_attention`` uses).
"""

from __future__ import annotations

import math

from .. import backend
from ..backend import xp
from ..tensor import Tensor
from ..tensor.device import require_cpu
from ..tensor.functions import cat
from . import functional as F
from . import init
from .functional_attention import _add_bias, _as_bias, _attend, _causal_bias
from .linear import Linear
from .module import Module
from .parameter import Parameter

__all__ = ["MultiheadAttention", "NonDynamicallyQuantizableLinear"]


class NonDynamicallyQuantizableLinear(Linear):
    """MultiheadAttention's output projection: a plain Linear under PyTorch's name (same repr)."""


class MultiheadAttention(Module):
    """Attention with ``num_heads`` heads of size embed_dim/num_heads, as ``torch.nn.MultiheadAttention``.

    Parameters as PyTorch lays them out: ``in_proj_weight`` (3·E, E) stacking W_q, W_k, W_v (or
    ``q_proj_weight``/``k_proj_weight``/``v_proj_weight`` when kdim/vdim differ from E),
    ``in_proj_bias`` (3·E), ``out_proj`` (a Linear), optional ``bias_k``/``bias_v``. Inputs are
    (L, N, E), or (N, L, E) with ``batch_first=True``, or unbatched (L, E).

    >>> import chainrule as cr
    >>> mha = cr.nn.MultiheadAttention(8, 2, batch_first=True)
    >>> x = cr.randn(3, 5, 8)
    >>> out, w = mha(x, x, x)
    >>> out.shape, w.shape
    (chainrule.Size([3, 5, 8]), chainrule.Size([3, 5, 5]))
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device=None, dtype=None) -> None:
        super().__init__()
        require_cpu(device, type(self).__name__)
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} "
                             f"and num_heads={num_heads} instead")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError(f"MultiheadAttention: embed_dim must be divisible by num_heads (embed_dim="
                                 f"{embed_dim}, num_heads={num_heads}): each head gets embed_dim // num_heads")
        self.add_zero_attn = add_zero_attn
        new = _param_factory(dtype)
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = new(embed_dim, embed_dim)
            self.k_proj_weight = new(embed_dim, self.kdim)
            self.v_proj_weight = new(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = new(3 * embed_dim, embed_dim)
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = new(3 * embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = new(1, 1, embed_dim)
            self.bias_v = new(1, 1, embed_dim)
        else:
            self.bias_k = self.bias_v = None
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask=None,
                need_weights: bool = True, attn_mask=None, average_attn_weights: bool = True,
                is_causal: bool = False):
        """Returns ``(attn_output, attn_weights)``; weights are None unless ``need_weights``."""
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer "
                               "module method `generate_square_subsequent_mask` to create this mask.")
        batched = query.ndim == 3
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received "
                                 f"{query.ndim}-D query, {key.ndim}-D key and {value.ndim}-D value")
        if not batched:
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0) if isinstance(key_padding_mask, Tensor) \
                    else xp.asarray(key_padding_mask)[None]
        elif not self.batch_first:   # work batch-first inside: (N, L, E)
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        out, weights = self._attention(query, key, value, key_padding_mask, need_weights, attn_mask,
                                       average_attn_weights, is_causal)
        if not batched:
            return out.squeeze(0), (weights.squeeze(0) if weights is not None else None)
        if not self.batch_first:
            out = out.transpose(0, 1)
        return out, weights

    def _project(self, query: Tensor, key: Tensor, value: Tensor):
        E = self.embed_dim
        b = self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E:2 * E], b[2 * E:])
        if not self._qkv_same_embed_dim:
            return (F.linear(query, self.q_proj_weight, bq), F.linear(key, self.k_proj_weight, bk),
                    F.linear(value, self.v_proj_weight, bv))
        w = self.in_proj_weight
        if query is key and key is value:             # self-attention: one matrix product for all three
            return F.linear(query, w, b).chunk(3, -1)
        return F.linear(query, w[:E], bq), F.linear(key, w[E:2 * E], bk), F.linear(value, w[2 * E:], bv)

    def _attention(self, query, key, value, key_padding_mask, need_weights, attn_mask, average, is_causal=False):
        N, L, E = query.shape
        if E != self.embed_dim:
            raise AssertionError(f"MultiheadAttention: was expecting embedding dimension of {self.embed_dim}, "
                                 f"but got {E} (the query's last dim; batch_first={self.batch_first})")
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(f"MultiheadAttention: key's sequence and batch dims {tuple(key.shape[:2])} do not match value's "
                                 f"{tuple(value.shape[:2])}")
        H, hd = self.num_heads, self.head_dim
        dtype = query._data.dtype
        q, k, v = self._project(query, key, value)
        S = key.shape[1]
        # PyTorch: with the is_causal hint, no padding mask and no weights wanted, attn_mask is replaced
        # by the causal mask itself (its contents are not read)
        causal = is_causal and key_padding_mask is None and not need_weights and self.bias_k is None \
            and not self.add_zero_attn
        bias = _causal_bias(L, S, xp.dtype(dtype).str) if causal else \
            _as_bias(attn_mask, dtype, keep_when_true=False, name="MultiheadAttention: attn_mask")
        if bias is not None:
            if bias.ndim == 2 and tuple(bias.shape) != (L, S):
                raise RuntimeError(f"MultiheadAttention: The shape of the 2D attn_mask is {tuple(bias.shape)}, but should be {(L, S)}.")
            if bias.ndim == 3:
                if tuple(bias.shape) != (N * H, L, S):
                    raise RuntimeError(f"MultiheadAttention: The shape of the 3D attn_mask is {tuple(bias.shape)}, but should be "
                                       f"{(N * H, L, S)}.")
                bias = bias.reshape(N, H, L, S)
            elif bias.ndim != 2:
                raise RuntimeError(f"attn_mask's dimension {bias.ndim} is not supported")
        pad = _as_bias(key_padding_mask, dtype, keep_when_true=False, name="MultiheadAttention: key_padding_mask")
        if pad is not None:
            if tuple(pad.shape) != (N, S):
                raise AssertionError(f"MultiheadAttention: expecting key_padding_mask shape of {(N, S)}, but got "
                                     f"{tuple(pad.shape)}")
            pad = pad.reshape(N, 1, 1, S)
        if self.bias_k is not None:            # one extra learned key/value, attended by every query
            k = _cat_seq(k, self.bias_k.expand(N, 1, E))
            v = _cat_seq(v, self.bias_v.expand(N, 1, E))
            bias, pad = _pad_last(bias), _pad_last(pad)
        k = k.reshape(N, k.shape[1], H, hd).transpose(1, 2)   # sizes spelled out: -1 is ambiguous when N = 0
        v = v.reshape(N, v.shape[1], H, hd).transpose(1, 2)
        q = q.reshape(N, L, H, hd).transpose(1, 2)
        if self.add_zero_attn:                 # one extra all-zero key/value per head
            zeros = Tensor._make(xp.zeros((N, H, 1, hd), dtype))
            k, v = _cat_seq(k, zeros, dim=2), _cat_seq(v, zeros, dim=2)
            bias, pad = _pad_last(bias), _pad_last(pad)
        out, weights = _attend(q, k, v, _add_bias(bias, pad), 1.0 / math.sqrt(hd), self.dropout, self.training,
                               causal=causal)
        out = F.linear(out.transpose(1, 2).reshape(N, L, E), self.out_proj.weight, self.out_proj.bias)
        if not need_weights:
            return out, None
        return out, (weights.mean(1) if average else weights)


def _cat_seq(a: Tensor, b: Tensor, dim: int = 1) -> Tensor:
    return cat([a, b], dim)


def _pad_last(bias):
    """Let the appended key be seen by every query: a zero column at the end of a mask."""
    if bias is None:
        return None
    if isinstance(bias, Tensor):
        return F.pad(bias, (0, 1))
    width = [(0, 0)] * (bias.ndim - 1) + [(0, 1)]
    return xp.pad(bias, width)


def _param_factory(dtype):
    def new(*shape) -> Parameter:
        return Parameter(Tensor._make(xp.empty(shape, backend.to_dtype(dtype or backend.default_float).np)))
    return new

"""``F.scaled_dot_product_attention``: softmax(Q Kᵀ · scale + bias) V, as in PyTorch.

    attention(Q, K, V) = softmax(Q Kᵀ · scale + bias) V,   scale = 1/√d by default

where ``bias`` is 0 where a query may look at a key and -∞ where it may not (a causal mask, a
padding mask, or any float mask you add). It is written with ordinary ops (matmul, softmax,
add), so autograd derives the backward. A query row whose keys are all masked gets output 0
(and gradient 0) instead of the NaN of a 0/0 softmax, as PyTorch's CPU kernel does.
"""

from __future__ import annotations

import math
from functools import lru_cache

from ..backend import xp
from ..ops.attention import ScaledDotProductAttention
from ..tensor import Tensor
from ..tensor.functions import broadcast_shapes
from .functional import dropout

__all__ = ["scaled_dot_product_attention"]


def _as_bias(mask, dtype, keep_when_true: bool, name: str):
    """A boolean mask becomes a 0/-∞ float array; a float mask is added as it is (Tensor or array)."""
    if mask is None:
        return None
    array = mask._data if isinstance(mask, Tensor) else xp.asarray(mask)
    if array.dtype == xp.bool_:
        allowed = array if keep_when_true else ~array
        return xp.where(allowed, 0.0, -xp.inf).astype(dtype)
    if array.dtype.kind != "f":
        raise RuntimeError(f"{name}: only bool and floating types of masks are supported, got {array.dtype}")
    if isinstance(mask, Tensor) and mask.requires_grad:
        return mask                                    # a learned bias: keep it in the graph
    return array.astype(dtype, copy=False)


def _add_bias(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return (a if isinstance(a, Tensor) else Tensor._make(a)) + b
    return a + b


@lru_cache(maxsize=16)
def _causal_bias(L: int, S: int, dtype_str: str):
    """0 on and below the diagonal, -inf above (top-left aligned), read-only and shared between calls."""
    bias = xp.where(xp.tri(L, S, dtype=bool), 0.0, -xp.inf).astype(dtype_str)
    bias.flags.writeable = False
    return bias


def _attend(q: Tensor, k: Tensor, v: Tensor, bias, scale: float, dropout_p: float, training: bool = True,
            causal: bool = False):
    """softmax(q kᵀ·scale + bias) v for (..., L, E) q and (..., S, E) k, v; returns (output, weights)."""
    scores = q.matmul(k.transpose(-2, -1)) * scale
    alive = None
    if isinstance(bias, Tensor):
        scores = scores + bias
    elif causal:                           # every row sees at least key 0: no row is fully masked
        scores = scores + Tensor._make(bias)
    elif bias is not None:
        bias, alive = _dead_rows(bias, scores.shape[-2], scores.shape[-1])
        scores = scores + Tensor._make(bias)
    weights = scores.softmax(-1)
    if alive is not None:
        weights = weights * Tensor._make(alive)
    if dropout_p > 0.0 and training:
        weights = dropout(weights, dropout_p, True)
    return weights.matmul(v), weights


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask=None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(Q Kᵀ · scale + mask) V over the last two dims, as ``torch.nn.functional.scaled_dot_product_attention``.

    ``attn_mask``: bool (True = may attend) or float (added), broadcastable to (..., L, S);
    ``is_causal``: query i sees keys 0..i (top-left aligned when L ≠ S); ``dropout_p`` drops
    attention weights (always, as PyTorch: pass 0.0 in eval); ``enable_gqa``: key/value may have
    fewer heads (dim -3) than the query, each shared by a group of query heads.

    >>> import chainrule as cr
    >>> q = k = v = cr.ones(1, 2, 3, 4)
    >>> scaled_dot_product_attention(q, k, v, is_causal=True).shape
    chainrule.Size([1, 2, 3, 4])
    """
    fn = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn}: {name} must be a Tensor, got {type(t).__name__}")
        if t.ndim < 2:
            raise RuntimeError(f"{fn}: {name} must have at least 2 dims (..., L, E), got shape {tuple(t.shape)}")
    if not (query.dtype == key.dtype == value.dtype):
        raise RuntimeError(f"{fn}: Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {query.dtype}, key.dtype: {key.dtype}, value.dtype: {value.dtype}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"{fn}: query {tuple(query.shape)}, key {tuple(key.shape)} and value "
                           f"{tuple(value.shape)} do not fit: need query (..., L, E), key (..., S, E), "
                           f"value (..., S, Ev)")
    if is_causal and attn_mask is not None:
        raise RuntimeError(f"{fn}: Explicit attn_mask should not be set when is_causal=True")
    groups = 1
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        hq, hk = query.shape[-3], key.shape[-3]
        if hq % hk or hk != value.shape[-3]:
            raise RuntimeError(f"{fn}: with enable_gqa the number of query heads ({hq}) must be a multiple of "
                               f"the key/value heads ({hk}, {value.shape[-3]})")
        if _one_node(query, key, value, attn_mask, dropout_p, grouped=True):
            groups = hq // hk              # the op shares each key/value head without copying it
        else:
            key, value = _repeat_heads(key, hq // hk), _repeat_heads(value, hq // hk)
    L, S = query.shape[-2], key.shape[-2]
    if groups == 1:
        try:
            broadcast_shapes(tuple(query.shape[:-2]), tuple(key.shape[:-2]), tuple(value.shape[:-2]))
        except RuntimeError:
            grouped = (query.ndim >= 3 and key.ndim >= 3 and key.shape[-3] > 1
                       and query.shape[-3] % key.shape[-3] == 0 and not enable_gqa)
            raise RuntimeError(f"{fn}: the batch dims of query {tuple(query.shape)}, key {tuple(key.shape)} and "
                               f"value {tuple(value.shape)} (all but the last two) cannot be broadcast together"
                               + ("; for fewer key/value heads than query heads pass enable_gqa=True"
                                  if grouped else "")) from None
    if attn_mask is not None:
        k_batch = tuple(query.shape[:-2]) if groups > 1 else tuple(key.shape[:-2])
        _check_mask(attn_mask, tuple(query.shape[:-2]), k_batch, L, S, fn)
    dtype = query._data.dtype
    if is_causal:
        bias = _causal_bias(L, S, xp.dtype(dtype).str)
    else:
        bias = _as_bias(attn_mask, dtype, keep_when_true=True, name=fn)
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    if groups > 1 or _one_node(query, key, value, attn_mask, dropout_p):
        alive = None
        if bias is not None and not is_causal:   # a causal row always sees key 0
            bias, alive = _dead_rows(bias, L, S)
        return ScaledDotProductAttention.apply(query, key, value, bias, alive, scale, groups)
    return _attend(query, key, value, bias, scale, dropout_p, causal=is_causal)[0]


def _one_node(query: Tensor, key: Tensor, value: Tensor, attn_mask, dropout_p: float, grouped: bool = False) -> bool:
    """Whether PyTorch's CPU flash kernel would run (one node, its grad_fn name): 4-D inputs with the
    same batch, the same heads (or, ``grouped``, a multiple of them), one head width, no dropout, no
    mask that is learned."""
    return (query.ndim == key.ndim == value.ndim == 4 and dropout_p == 0.0 and query.is_floating_point()
            and query.shape[0] == key.shape[0] == value.shape[0] and key.shape[1] == value.shape[1]
            and (query.shape[1] % key.shape[1] == 0 if grouped else query.shape[1] == key.shape[1])
            and query.shape[-1] == value.shape[-1]
            and min(query.shape[-2], key.shape[-2], query.shape[-1]) > 0
            and not (isinstance(attn_mask, Tensor) and attn_mask.requires_grad))


def _dead_rows(bias, L: int, S: int):
    """A query row whose keys are all masked (-inf) would softmax to 0/0: such rows get bias 0 and
    ``alive`` 0 (weights × 0 after the softmax), as PyTorch's CPU kernel gives them output 0.
    Returns (bias, alive), alive None when every row sees a key."""
    full = xp.broadcast_to(bias, bias.shape[:-2] + (L, S)) if bias.ndim >= 2 else bias
    dead = xp.isneginf(full).all(axis=-1, keepdims=True)
    if not dead.any():
        return bias, None
    return xp.where(dead, 0.0, bias).astype(bias.dtype, copy=False), (~dead).astype(bias.dtype)


def _check_mask(mask, q_batch: tuple, k_batch: tuple, L: int, S: int, fn: str) -> None:
    """attn_mask must broadcast to the scores' shape (..., L, S): one row per query, one column per key."""
    try:
        scores = broadcast_shapes(q_batch, k_batch) + (L, S)
        fits = broadcast_shapes(tuple(mask.shape), scores) == scores
    except RuntimeError:
        fits = False
    if not fits:
        raise RuntimeError(f"{fn}: attn_mask of shape {tuple(mask.shape)} cannot be broadcast to the attention "
                           f"scores' shape (..., L={L}, S={S}): it needs one row per query position and one "
                           f"column per key position")


def _repeat_heads(t: Tensor, groups: int) -> Tensor:
    """(..., H, S, E) -> (..., H·groups, S, E), each head repeated ``groups`` times in a row."""
    shape = tuple(t.shape)
    expanded = t.unsqueeze(-3).expand(*shape[:-2], groups, *shape[-2:])
    return expanded.reshape(*shape[:-3], shape[-3] * groups, *shape[-2:])

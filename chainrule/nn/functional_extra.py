"""More of ``torch.nn.functional``: the remaining activations, ``cosine_similarity``, ``group_norm``.

Every function here is a composition of core ops, so autograd gives the backward (and double
backward) for free. Where PyTorch's derivative at a kink differs from what a plain composition
would give (``relu6`` at 0 and 6, ``hardswish`` at ±3), the composition is written with ``where``
so that the boundary points get PyTorch's one-sided value.
"""

from __future__ import annotations

import math

from ..ops.elementwise_extra import OneNode
from ..ops.nn import Celu, CeluResult, Elu, EluResult, Hardswish, Hardtanh
from ..tensor import Tensor
from ..tensor.args import require_kind
from ..tensor.scalars import int_value
from .functional import _read

__all__ = ["celu", "cosine_similarity", "glu", "group_norm", "hardsigmoid", "hardswish", "hardtanh", "mish",
           "pairwise_distance", "relu6", "selu", "softmin", "softsign"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _source(input: Tensor, inplace: bool) -> tuple[Tensor, Tensor | None]:
    """(what the formula reads, what the result is written into): in place, the formula reads a copy, so
    the values its backward saved are not the ones copy_ then changes (PyTorch keeps the original too)."""
    return (_read(input, True), input) if inplace else (input, None)


def _result(target: Tensor | None, out: Tensor) -> Tensor:
    return out if target is None else target.copy_(out)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6); the gradient is 1 strictly inside (0, 6), else 0 (as PyTorch's hardtanh).

    >>> import chainrule as cr
    >>> relu6(cr.tensor([-1.0, 3.0, 9.0]))
    tensor([0., 3., 6.])
    """
    return _hardtanh(input, 0.0, 6.0, inplace, "relu6")      # PyTorch's relu6 is hardtanh(x, 0, 6)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """x clamped to [min_val, max_val]; unlike clamp its gradient is 0 at the bounds (PyTorch's rule).

    An integer tensor keeps its dtype, the bounds truncated to integers (as PyTorch); bool is refused.

    >>> import chainrule as cr
    >>> hardtanh(cr.tensor([-3.0, 0.5, 2.0])), hardtanh(cr.tensor([-3, 0, 2]), -1.5, 1.5)
    (tensor([-1.0000,  0.5000,  1.0000]), tensor([-1,  0,  1]))
    """
    return _hardtanh(input, min_val, max_val, inplace, "hardtanh")


def _hardtanh(input: Tensor, lo: float, hi: float, inplace: bool, op: str) -> Tensor:
    if lo > hi:
        raise ValueError(f"{op}: min_val cannot be greater than max_val (got {lo} and {hi})")
    if input._data.dtype.kind == "f":
        lo, hi = float(lo), float(hi)
    else:   # PyTorch clamps integers to the bounds truncated (-1.5 to -1), in their dtype; it has no bool kernel
        require_kind(input, op, "fiu", RuntimeError)
        lo, hi = _int_bound(lo, input, op), _int_bound(hi, input, op)
    input, target = _source(input, inplace)
    return _result(target, Hardtanh.apply(input, lo, hi))


def _int_bound(value: float, x: Tensor, op: str) -> int:
    """A bound for an integer tensor as PyTorch converts it: truncated towards 0, and it must fit x's dtype
    (for uint8: no negative bound)."""
    if not math.isfinite(value):
        raise RuntimeError(f"{op}: the bound {value} cannot be converted to {x.dtype.name} without overflow (an "
                           f"integer tensor is clamped to integer bounds); convert with .float()")
    if x._data.dtype.kind == "u" and int(value) < 0:
        raise RuntimeError(f"{op}: cannot clamp a {x.dtype.name} tensor to the negative bound {value} (PyTorch "
                           f"refuses negative limits for an unsigned type); convert with .long() or .float()")
    return int_value(int(value), x._data.dtype, op)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale · elu(x, α) with PyTorch's constants α ≈ 1.6733, scale ≈ 1.0507.

    >>> import chainrule as cr
    >>> selu(cr.tensor([0.0, 1.0]))
    tensor([0.0000, 1.0507])
    """
    require_kind(input, "selu")
    if inplace:   # selu_: saves its result, as PyTorch's EluBackward1
        return input._inplace(lambda old: EluResult.apply(old, _SELU_ALPHA, _SELU_SCALE, 1.0), "selu_")
    return Elu.apply(input, _SELU_ALPHA, _SELU_SCALE, 1.0)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, α(e^(x/α) - 1)).

    (PyTorch's backward scales by 1/float32(α), so for α not exact in float32 its float64 gradient
    differs from the exact e^(x/α) used here by about 1e-7 relative.)

    >>> import chainrule as cr
    >>> celu(cr.tensor([1.0]))
    tensor([1.])
    """
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (ZeroDivisionError in x/alpha)")
    require_kind(input, "celu")
    if inplace:   # celu_: saves its result, as PyTorch's CeluBackward1
        return input._inplace(lambda old: CeluResult.apply(old, float(alpha), 1.0, 1.0 / alpha), "celu_")
    return Celu.apply(input, float(alpha), 1.0, 1.0 / alpha)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x · tanh(softplus(x)) (Misra, 2019).

    >>> import chainrule as cr
    >>> mish(cr.tensor([0.0]))
    tensor([0.])
    """
    # softplus with PyTorch's threshold: above 20, log(1 + eˣ) is x to double precision.
    require_kind(input, "mish")
    input, target = _source(input, inplace)
    soft = input.where(input > 20, input.clamp(max=20).exp().log1p())
    return _result(target, input * soft.tanh())


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x · relu6(x + 3) / 6: 0 up to -3, x from 3 on, x(x + 3)/6 between (gradient (2x + 3)/6 there).

    >>> import chainrule as cr
    >>> hardswish(cr.tensor([-4.0, 0.0, 4.0]))
    tensor([-0., 0., 4.])
    """
    require_kind(input, "hardswish")
    input, target = _source(input, inplace)
    return _result(target, Hardswish.apply(input))


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6; gradient 1/6 strictly inside (-3, 3), else 0.

    (PyTorch's backward multiplies by 1/6 rounded to float32, so its float64 gradient differs
    from the exact 1/6 used here by about 5e-9.)

    >>> import chainrule as cr
    >>> hardsigmoid(cr.tensor([-4.0, 0.0, 4.0]))
    tensor([0.0000, 0.5000, 1.0000])
    """
    require_kind(input, "hardsigmoid")
    input, target = _source(input, inplace)
    inside = (input > -3).logical_and(input < 3)
    out = (input / 6.0 + 0.5).where(inside, (input >= 3).to(input.dtype))
    if input.requires_grad:   # one node reading x, as PyTorch's (its create_graph gradient requires grad)
        out = OneNode.apply(out, "HardsigmoidBackward0", True, None, input)
    return _result(target, out)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|).

    >>> import chainrule as cr
    >>> softsign(cr.tensor([1.0]))
    tensor([0.5000])
    """
    require_kind(input, "softsign", "fiu")   # integers give float32, as in PyTorch; bool has no abs
    return input / (input.abs() + 1.0)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(-x) along ``dim``: the smallest entry gets the largest weight.

    >>> import chainrule as cr
    >>> softmin(cr.tensor([0.0, 0.0]), dim=0)
    tensor([0.5000, 0.5000])
    """
    if dim is None:
        dim = 0 if input.ndim in (0, 1, 3) else 1   # PyTorch's legacy implicit dim
    # PyTorch negates first (a bool input is the negation's RuntimeError), then has no integer softmax
    require_kind(input, "softmin", "fiu", RuntimeError, "invert a mask with `~`, or convert with .float()")
    if dtype is None:
        require_kind(input, "softmin")
    return (-input).softmax(dim, dtype)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: split ``dim`` into halves a, b and return a · σ(b).

    >>> import chainrule as cr
    >>> glu(cr.tensor([2.0, 0.0]))
    tensor([1.])
    """
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    size = input.shape[dim]
    if size % 2:
        raise RuntimeError(f"glu: Halving dimension must be even, but dimension {dim % input.ndim} is size {size}")
    require_kind(input, "glu")
    a, b = input.chunk(2, dim)
    return a * b.sigmoid()


def _norm_with_grad_of_unclamped(x: Tensor, dim: int, eps: float) -> Tensor:
    """max(‖x‖, eps) in value, but with the gradient of ‖x‖ (PyTorch clamps the norm under no_grad)."""
    n = x.norm(2, dim, keepdim=True)
    raw = n.detach()
    return n + (raw.clamp_min(eps) - raw)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Σ (x1/‖x1‖)(x2/‖x2‖) along ``dim``, each norm clamped to at least ``eps`` (PyTorch's formula).

    >>> import chainrule as cr
    >>> cosine_similarity(cr.tensor([[1.0, 0.0]]), cr.tensor([[1.0, 1.0]]))
    tensor([0.7071])
    """
    if x2._data.dtype.kind != "f":   # PyTorch's common dtype of the two must be floating point
        require_kind(x1, "cosine_similarity", error=RuntimeError)
    x1b, x2b = _broadcast_pair(x1, x2)
    n1 = _norm_with_grad_of_unclamped(x1b, dim, eps)
    n2 = _norm_with_grad_of_unclamped(x2b, dim, eps)
    return ((x1b / n1) * (x2b / n2)).sum(dim)


def _broadcast_pair(x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
    nd = max(x1.ndim, x2.ndim)
    a, b = (1,) * (nd - x1.ndim) + tuple(x1.shape), (1,) * (nd - x2.ndim) + tuple(x2.shape)
    shape = []
    for i, (p, q) in enumerate(zip(a, b)):
        if p != q and p != 1 and q != 1:
            raise RuntimeError(f"cosine_similarity: the size of x1 ({p}) must match the size of x2 ({q}) at "
                               f"non-singleton dimension {i} (shapes {tuple(x1.shape)} and {tuple(x2.shape)})")
        shape.append(q if p == 1 else p)      # (not max: a size 0 broadcasts against 1 to 0)
    return x1.expand(tuple(shape)), x2.expand(tuple(shape))     # (a tuple: shape may be () for 0-d inputs)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """‖x1 - x2 + eps‖_p along the last dim (PyTorch adds eps to the difference).

    >>> import chainrule as cr
    >>> pairwise_distance(cr.tensor([[3.0, 0.0]]), cr.tensor([[0.0, 4.0]]), eps=0.0)
    tensor([5.])
    """
    for x in (x1, x2):   # integers give float32, as in PyTorch; a bool cannot be subtracted
        require_kind(x, "pairwise_distance", "fiu", RuntimeError)
    dim = -1 if max(x1.ndim, x2.ndim) > 0 else 0
    return (x1 - x2 + eps).norm(p, dim, keepdim=keepdim)


_C_TYPE = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16"}


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise each sample's channels in ``num_groups`` groups (mean 0, biased var 1), then scale/shift.

    >>> import chainrule as cr
    >>> group_norm(cr.arange(4.0).reshape(1, 4), 2).tolist()
    [[-0.9999799728393555, 0.9999799728393555, -0.9999799728393555, 0.9999799728393555]]
    """
    if input.ndim < 2:
        raise RuntimeError(f"group_norm: expected an input of shape (N, C, *), got {tuple(input.shape)}")
    n, c = input.shape[0], input.shape[1]
    if num_groups and (n * c // num_groups) * math.prod(input.shape[2:]) == 1:    # PyTorch's _verify_batch_size
        raise ValueError(f"group_norm: Expected more than 1 value per channel when training, got input size "
                         f"{[n * c // num_groups, num_groups] + list(input.shape[2:])} (each of the {num_groups} "
                         f"groups of this input of shape {tuple(input.shape)} holds one value)")
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(f"group_norm: Expected number of channels in input ({c}) to be divisible by "
                           f"num_groups ({num_groups}) (input of shape {tuple(input.shape)})")
    require_kind(input, "group_norm")
    for param in (weight, bias):
        if param is not None and param.dtype != input.dtype:
            raise RuntimeError(f"group_norm: mixed dtype (CPU): expect parameter to have scalar type of "
                               f"{_C_TYPE.get(input.dtype.name, input.dtype.name)} (the input is {input.dtype}, a "
                               f"parameter {param.dtype}); convert one with .to()")
    grouped = input.reshape(n, num_groups, input.numel() // max(n * num_groups, 1))   # not -1: n may be 0
    xc = grouped - grouped.mean(-1, keepdim=True)
    y = (xc * ((xc * xc).mean(-1, keepdim=True) + eps).rsqrt()).reshape(input.shape)
    shape = (1, c) + (1,) * (input.ndim - 2)
    # PyTorch's one node saves the input (or a contiguous copy of a non-contiguous one, which nothing else
    # can change) and the weight: changing either in place afterwards makes backward raise; under
    # create_graph the weight's gradient Σ g·ŷ requires grad with the weight (with no second derivative),
    # even when the input does not
    reads = [t for t in (input if input._data.flags.c_contiguous or not input.numel() else None, weight)
             if t is not None]
    if any(t.requires_grad for t in reads) or (reads and input.requires_grad):
        y = OneNode.apply(y, "NativeGroupNormBackward0", False, None, *reads)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y

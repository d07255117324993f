"""``chainrule.nn.functional`` (``F``): the stateless forms of the layers, as in ``torch.nn.functional``.

Most functions are short compositions of core ops, so autograd differentiates them for free (and
twice, under ``create_graph``). A few are ops of their own, each for a stated reason: ``Linear``
(one node instead of transpose + matmul + add on the training hot path), ``Gelu`` and ``Embedding``;
they live with the other ops in ``chainrule/ops/nn.py``. Losses live in ``loss.py`` and are
re-exported here.
"""

from __future__ import annotations

import math
import warnings

from ..autograd.grad_mode import no_grad
from ..backend import default_generator, random, xp
from ..ops.elementwise import FusedGrad
from ..ops.fused import LayerNorm
from ..ops.nn import Elu, EluResult, Embedding, Gelu, LeakyRelu, Linear, LogSigmoid
from ..ops.unary import Erf
from ..tensor import Tensor
from ..tensor.args import bool_arg, dtype_arg, int_arg, require_kind
from ..tensor.random import _drawn
from .functional_conv import adaptive_avg_pool2d, avg_pool2d, conv1d, conv2d, max_pool2d  # noqa: F401
from .loss import (  # noqa: F401  (losses live next to their modules; F exposes them too)
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)


# --- layers ------------------------------------------------------------------------------------
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b for x of shape (*, in_features) and W of shape (out_features, in_features).

    >>> import chainrule as cr
    >>> cr.nn.functional.linear(cr.ones(1, 2), cr.ones(3, 2), cr.zeros(3))
    tensor([[2., 2., 2.]])
    """
    for name, t in (("input", input), ("weight", weight), ("bias", bias)):
        if (t is not None or name != "bias") and not isinstance(t, Tensor):
            raise TypeError(f"linear: argument {name!r} must be a Tensor, not {type(t).__module__}."
                            f"{type(t).__name__}; convert it with chainrule.from_numpy(...) or chainrule.tensor(...)")
    if weight.ndim != 2 or input.shape[-1:] != weight.shape[1:]:
        raise RuntimeError(f"linear: input of shape {tuple(input.shape)} has {input.shape[-1] if input.ndim else 0} "
                           f"features but weight of shape {tuple(weight.shape)} expects (out_features, "
                           f"in_features) with in_features = {weight.shape[-1]}")
    out_shape = (*input.shape[:-1], weight.shape[0])
    if bias is not None and (bias.ndim > len(out_shape) or any(
            b not in (1, o) for b, o in zip(reversed(bias.shape), reversed(out_shape), strict=False))):
        raise RuntimeError(f"linear: bias of shape {tuple(bias.shape)} does not fit the output of shape "
                           f"{out_shape}: expected shape ({weight.shape[0]},) = (out_features,)")
    if input.dtype is not weight.dtype or (bias is not None and bias.dtype is not weight.dtype):
        raise RuntimeError(f"linear: input ({input.dtype}), weight ({weight.dtype}) and bias "
                           f"({None if bias is None else bias.dtype}) must have the same dtype; "
                           f"convert with .to(dtype) or model.double()/float()")
    if input.ndim != 2 and bias is not None and input.is_contiguous():
        # PyTorch's path: addmm on the (rows, in) view, viewed back (grad_fn ViewBackward0), so an in-place
        # change to the result goes through a view, as there
        rows = math.prod(input.shape[:-1])
        return Linear.apply(bias, input.view(rows, input.shape[-1]), weight).view(out_shape)
    return Linear.apply(bias, input, weight)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y_k = x1ᵀ A_k x2 + b_k for weight A of shape (out, in1, in2)."""
    out, in1, in2 = weight.shape
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear: input batch dimensions do not match: input1 of shape {tuple(input1.shape)} "
                           f"and input2 of shape {tuple(input2.shape)} need the same leading dims")
    if (input1.shape[-1], input2.shape[-1]) != (in1, in2):
        raise RuntimeError(f"bilinear: inputs with {input1.shape[-1]} and {input2.shape[-1]} features do not fit "
                           f"weight of shape {tuple(weight.shape)} (out_features, in1_features, in2_features)")
    # x1 @ A viewed as (in1, out·in2) gives every x1ᵀA_k at once; then dot each with x2.
    t = input1.matmul(weight.permute(1, 0, 2).reshape(in1, out * in2)).unflatten(-1, (out, in2))
    y = (t * input2.unsqueeze(-2)).sum(-1)
    return y if bias is None else y + bias


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (identity when not training).

    The mask is PyTorch's: ``bernoulli_(1 - p)`` from the default generator, divided by ``1 - p``,
    so after the same ``manual_seed`` the same elements are dropped.

    >>> import chainrule as cr
    >>> _ = cr.manual_seed(0)
    >>> cr.nn.functional.dropout(cr.ones(6), 0.5)
    tensor([0., 0., 2., 0., 0., 0.])
    """
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    bool_arg(training, "dropout", "training")
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if p == 1.0:  # PyTorch draws nothing here
        mask = Tensor._make(xp.zeros((), input._data.dtype))
    else:   # drawn through _drawn, so chainrule.compile draws a new mask on every replay
        require_kind(input, "dropout", error=RuntimeError)     # (PyTorch's float mask cannot scale integers)
        shape, dtype = input._data.shape, input._data.dtype
        mask = _drawn("dropout", lambda: random.bernoulli_(xp.empty(shape, dtype), 1.0 - p, default_generator)
                      / dtype.type(1.0 - p), default_generator, False)
    return input.mul_(mask) if inplace else input * mask


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dim 1) by batch statistics (training) or the running ones (eval).

    In training the running stats are updated in place: r ← (1-m)·r + m·batch, with the unbiased
    variance, as PyTorch does.
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C) or (N, C, *), got {tuple(input.shape)}")
    c = input.shape[1]
    # an empty input skips the dtype check, as PyTorch's batch_norm returns before it
    _check_norm_args("batch_norm", input, (c,), input.numel() != 0, running_mean=running_mean,
                     running_var=running_var, weight=weight, bias=bias)
    n = input.shape[0] * math.prod(input.shape[2:])        # values per channel
    if training and n == 1:     # (checked before anything else, even for an input with no channels)
        raise ValueError(f"batch_norm: Expected more than 1 value per channel when training, got input "
                         f"size {tuple(input.shape)} (a batch of one cannot be normalised by its own "
                         f"statistics; use a bigger batch or model.eval())")
    if input.numel() == 0:   # PyTorch: no statistics, no running-stat update; a clone scaled by weight[0]
        out = input.clone()
        if weight is not None:
            out = out * weight[0]
        return out + bias[0] if bias is not None else out
    dims = (0,) + tuple(range(2, input.ndim))
    shape = (1, c) + (1,) * (input.ndim - 2)
    if training or running_mean is None:
        mean = input.mean(dims, keepdim=True)
        xc = input - mean
        var = (xc * xc).mean(dims, keepdim=True)
        if training and running_mean is not None:
            m = momentum
            with no_grad():     # tensor in-place ops: version counters move and observers see it
                running_mean.mul_(1 - m).add_(mean.reshape(c), alpha=m)
                running_var.mul_(1 - m).add_(var.reshape(c), alpha=m * n / (n - 1))   # unbiased, as PyTorch
    else:
        xc = input - running_mean.reshape(shape)
        var = running_var.reshape(shape)
    y = xc * (var + eps).rsqrt()
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    # PyTorch's batch norm is one node reading input and weight: its gradients under create_graph depend
    # on them (FusedGrad attaches them; it is the identity, and costs nothing, on the first-order path)
    fused = [t for t in (input, weight) if t is not None and t.requires_grad]
    return FusedGrad.apply(y, *fused) if fused and y.requires_grad else y


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` dims, then scale and shift elementwise."""
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(normalized_shape)
    if tuple(input.shape[input.ndim - k:]) != normalized_shape or k == 0:
        raise RuntimeError(f"layer_norm: the last dims of the input {tuple(input.shape)} must equal "
                           f"normalized_shape {normalized_shape}")
    _check_norm_args("layer_norm", input, normalized_shape, True, weight=weight, bias=bias)
    return LayerNorm.apply(input, weight, bias, k, eps)


def _check_norm_args(fn: str, input: Tensor, shape: tuple, dtypes: bool, **params) -> None:
    """A normalisation needs a float input, and parameters/running stats of ``shape`` and (``dtypes``) the
    input's dtype (PyTorch: "mixed dtype (CPU): all inputs must share same datatype")."""
    require_kind(input, fn)
    for name, t in params.items():
        if t is None:
            continue
        if tuple(t.shape) != shape:
            raise RuntimeError(f"{fn}: expected {name} of shape {shape} (one value per normalised feature), "
                               f"got {tuple(t.shape)}")
        if dtypes and t.dtype != input.dtype:
            raise RuntimeError(f"{fn}: mixed dtype (CPU): all inputs must share same datatype: the input is "
                               f"{input.dtype} but {name} is {t.dtype}; convert the input with "
                               f".to({t.dtype}) or the module with .to({input.dtype})")


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Look up rows of ``weight`` (num_embeddings, dim) by integer indices ``input``."""
    idx, padding_idx = lookup_ids(input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse)
    return Embedding.apply(weight, idx, padding_idx)


def lookup_ids(input: Tensor, weight: Tensor, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse):
    """embedding's checks (and its max_norm renorm of the looked-up rows): the ids as an array and
    padding_idx made non-negative. Shared with embedding_bag."""
    if not isinstance(input, Tensor):
        raise TypeError(f"embedding(): argument 'indices' (position 1) must be Tensor, not {type(input).__name__}; "
                        f"make it a tensor first: chainrule.tensor(indices)")
    idx = input._data
    if padding_idx is not None and not -weight.shape[0] <= padding_idx < weight.shape[0]:
        raise ValueError(f"embedding: Padding_idx must be within num_embeddings (got padding_idx={padding_idx} "
                         f"for a weight of shape {tuple(weight.shape)})")
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"embedding: indices must be an integer tensor (int64 or int32), got {idx.dtype}")
    if weight.ndim != 2:
        raise RuntimeError(f"embedding: 'weight' must be 2-D (num_embeddings, embedding_dim), got shape "
                           f"{tuple(weight.shape)}; note the argument order embedding(input, weight)")
    num = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        raise IndexError(f"embedding: index {int(idx.max() if idx.max() >= num else idx.min())} is out of range "
                         f"for a table of {num} rows (weight of shape {tuple(weight.shape)})")
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: scale_grad_by_freq and sparse are not supported")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num
    if max_norm is not None:
        _renorm_rows(weight, idx, max_norm, norm_type)
    return idx, padding_idx


def _renorm_rows(weight: Tensor, idx, max_norm: float, norm_type: float) -> None:
    """Scale the looked-up rows whose norm exceeds max_norm back to max_norm, in place (no grad)."""
    rows = xp.unique(idx)
    w = weight._data
    norms = xp.linalg.norm(w[rows], ord=norm_type, axis=1, keepdims=True)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    w[rows] = w[rows] * scale
    weight._version_box[0] += 1


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Integer class labels of shape (*) to an int64 (*, num_classes) one-hot tensor."""
    int_arg(num_classes, "one_hot", "num_classes")
    idx = tensor._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"one_hot is only applicable to index tensor, got {idx.dtype}")
    if idx.size and idx.min() < 0:
        raise RuntimeError(f"one_hot: Class values must be non-negative, got {idx.min()}")
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise RuntimeError(f"one_hot: class values must be in [0, {num_classes}), got range "
                           f"[{idx.min()}, {idx.max()}]")
    return Tensor._make((idx[..., None] == xp.arange(num_classes)).astype(xp.int64))


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """x / max(‖x‖_p, eps) along ``dim`` (floating point input only, as PyTorch)."""
    require_kind(input, "normalize", error=RuntimeError)
    return input / input.norm(p, dim, keepdim=True).clamp_min(eps)


# --- activations -------------------------------------------------------------------------------
def _read(input: Tensor, inplace: bool) -> Tensor:
    """What an activation's formula reads: in place, a copy, so what its backward saved is not the memory
    copy_ then overwrites (PyTorch's in-place activations keep what their backward needs)."""
    return input.clone() if inplace else input


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"relu(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    return input.relu_() if inplace else input.relu()


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0 else negative_slope·x (one node: its gradient at 0 is the slope, as PyTorch's)."""
    if isinstance(negative_slope, str):   # float('0.1') would read it; PyTorch wants a number
        raise TypeError(f"leaky_relu(): argument 'negative_slope' (position 2) must be Number, not str "
                        f"({negative_slope!r})")
    require_kind(input, "leaky_relu")
    out = LeakyRelu.apply(_read(input, inplace), float(negative_slope))
    return input.copy_(out) if inplace else out


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0 else α(eˣ - 1), one ``Elu`` node with PyTorch's derivatives at 0."""
    require_kind(input, "elu")
    if inplace:   # elu_: saves its result, as PyTorch's EluBackward1
        return input._inplace(lambda old: EluResult.apply(old, float(alpha), 1.0, 1.0), "elu_")
    return Elu.apply(input, float(alpha), 1.0, 1.0)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x·Φ(x) (exact, via erf) or the tanh approximation (``approximate='tanh'``)."""
    if approximate in ("none", "tanh"):
        require_kind(input, "gelu")
        return Gelu.apply(input, approximate)
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def erf(input: Tensor) -> Tensor:
    """The error function, accurate to ~1e-16 in float64 (Cody's rational approximations)."""
    return Erf.apply(input)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x·σ(x) (also called swish)."""
    require_kind(input, "silu")
    x = _read(input, inplace)
    out = x * x.sigmoid()
    return input.copy_(out) if inplace else out


def sigmoid(input: Tensor) -> Tensor:
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


def logsigmoid(input: Tensor) -> Tensor:
    """log σ(x), stable for large |x|."""
    require_kind(input, "logsigmoid")
    return LogSigmoid.apply(input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(βx))/β, and x itself where βx > threshold (PyTorch's rule; also avoids overflow)."""
    require_kind(input, "softplus")
    bx = input * beta if beta != 1 else input
    soft = bx.clamp(max=threshold).exp().log1p()
    if beta != 1:
        soft = soft / beta
    return input.where(bx._data > threshold, soft)


def _softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    """PyTorch's legacy implicit dim when none is given — with PyTorch's warning: on a (N, C) batch it
    is 1, but on a (C, H, W) image 0, which is rarely what was meant."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
                  f"dim=X as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """e^(x_i) / Σ_j e^(x_j) along ``dim``."""
    dtype = dtype_arg(dtype, "softmax")
    return input.softmax(_softmax_dim("softmax", input.ndim, _stacklevel) if dim is None else dim, dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """x_i - log Σ_j e^(x_j) along ``dim`` (stable: never forms e^x of large x)."""
    dtype = dtype_arg(dtype, "log_softmax")
    return input.log_softmax(_softmax_dim("log_softmax", input.ndim, _stacklevel) if dim is None else dim, dtype)


# --- more of torch.nn.functional, defined in their own files (imported last: they use the above) ----
from . import functional_more
from .conv_transpose import conv_transpose1d, conv_transpose2d  # noqa: F401
from .dropout_extra import (  # noqa: F401
    alpha_dropout,
    dropout1d,
    dropout2d,
    dropout3d,
    feature_alpha_dropout,
)
from .functional_aliases import (  # noqa: F401
    adaptive_max_pool1d_with_indices,
    adaptive_max_pool2d_with_indices,
    celu_,
    elu_,
    gumbel_softmax,
    hardtanh_,
    leaky_relu_,
    max_pool1d_with_indices,
    max_pool2d_with_indices,
    pdist,
    relu_,
    selu_,
    threshold_,
    upsample_bilinear,
    upsample_nearest,
)
from .functional_attention import scaled_dot_product_attention  # noqa: F401
from .functional_extra import (  # noqa: F401
    celu,
    cosine_similarity,
    glu,
    group_norm,
    hardsigmoid,
    hardswish,
    hardtanh,
    mish,
    pairwise_distance,
    relu6,
    selu,
    softmin,
    softsign,
)
from .functional_more import (  # noqa: F401
    channel_shuffle,
    hardshrink,
    instance_norm,
    local_response_norm,
    pixel_shuffle,
    pixel_unshuffle,
    prelu,
    rms_norm,
    softshrink,
    tanhshrink,
)
from .loss_extra import (  # noqa: F401
    cosine_embedding_loss,
    gaussian_nll_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_soft_margin_loss,
    poisson_nll_loss,
    soft_margin_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from .padding import pad  # noqa: F401  (all four modes; layers in padding.py)
from .pooling_extra import (  # noqa: F401
    adaptive_avg_pool1d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    lp_pool1d,
    lp_pool2d,
    max_pool1d,
    max_unpool1d,
    max_unpool2d,
)
from .resample import fold, interpolate, unfold, upsample  # noqa: F401
from .sampling import affine_grid, grid_sample  # noqa: F401
from .sparse_extra import embedding_bag  # noqa: F401

threshold = functional_more.threshold   # an attribute: softplus has a parameter of that name

"""The argument checks of the loss functions (``chainrule/nn/loss.py``): what PyTorch refuses, refused
here with the loss's name, the shapes and dtypes involved, and the usual fix.

>>> import chainrule as cr
>>> cr.nn.functional.cross_entropy(cr.zeros(2, 3), cr.tensor([0, 1], dtype=cr.int32))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
RuntimeError: cross_entropy: expected target dtype to be Long or Byte (int64 or uint8), but got int32; ...
"""

from __future__ import annotations

import numbers
import warnings

from ..backend import promote_types
from ..tensor import Tensor
from ..tensor.args import promote
from ..tensor.functions import broadcast_shapes, broadcast_tensors

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction: str, fn: str) -> str:
    """Check a reduction that a loss op (``chainrule/ops/losses.py``) applies inside its node."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"{fn}: {reduction!r} is not a valid value for reduction; use one of {REDUCTIONS}")
    return reduction


def same_shape(input: Tensor, target: Tensor, fn: str, broadcast_first: bool = False):
    """Broadcast input and target to one shape first, as PyTorch does (its graph shows ExpandBackward0),
    with PyTorch's warning: a (N, 1) prediction against an (N,) target silently becomes an N×N loss.
    With ``broadcast_first`` (mse, l1, smooth_l1: PyTorch calls broadcast_tensors before the op) a 0-d
    target promotes like any other tensor: float32 input, 0-d float64 target give float64."""
    check_tensors(input, target, fn)
    if input.dtype != target.dtype and broadcast_first:
        common = promote_types(input.dtype, target.dtype)
        input, target = input.to(common), target.to(common)
    elif input.dtype != target.dtype:   # PyTorch's promotion (float32 input, int64 target: float32), not NumPy's
        input, target = promote(input, target)
    if not input.is_floating_point():
        raise RuntimeError(f"{fn}: expected floating-point input and target, got {input.dtype} and "
                           f"{target.dtype}; convert them with .float()")
    if input.shape == target.shape:
        return input, target
    try:
        out = broadcast_tensors(input, target)
    except (ValueError, RuntimeError):
        raise RuntimeError(f"{fn}: input of shape {tuple(input.shape)} and target of shape {tuple(target.shape)} "
                           f"cannot be broadcast to one shape; they should have the same shape") from None
    warn_broadcast(input, target, fn)
    return out


def broadcasts_to(shape, target_shape) -> bool:
    return target_shape is not None and common_shape(shape, target_shape) == tuple(target_shape)


def common_shape(a, b):
    """The broadcast shape of a and b, or None when they do not broadcast."""
    try:
        return broadcast_shapes(a, b)
    except RuntimeError:
        return None


def check_broadcast_all(fn: str, **tensors: Tensor) -> None:
    """The tensors a loss combines elementwise must broadcast to one shape; the error names the loss and each
    argument with its shape (not the internal ``sub`` or ``mul`` that would fail), in PyTorch's words.

    >>> import chainrule as cr
    >>> check_broadcast_all("margin_ranking_loss", input1=cr.ones(2), input2=cr.ones(3))
    Traceback (most recent call last):
    RuntimeError: margin_ranking_loss: input1 (2,) and input2 (3,) do not broadcast to one shape: the size of input2 (3) must match the size 2 of input1 at non-singleton dimension 0
    """
    shapes = [tuple(t.shape) for t in tensors.values()]
    if all(shape == shapes[0] for shape in shapes):   # the usual case costs nothing more
        return
    names = list(tensors)
    joined: tuple = ()
    for k, (name, shape) in enumerate(zip(names, shapes, strict=True)):
        both = common_shape(joined, shape)
        if both is None:
            parts = [f"{n} {s}" for n, s in zip(names, shapes, strict=True)]
            listing = ", ".join(parts[:-1]) + " and " + parts[-1]
            ndim = max(len(joined), len(shape))
            dim = next(ndim - i for i in range(1, ndim + 1) if i <= len(joined) and i <= len(shape)
                       and joined[-i] != shape[-i] and joined[-i] != 1 and shape[-i] != 1)
            raise RuntimeError(f"{fn}: {listing} do not broadcast to one shape: the size of {name} "
                               f"({shape[dim - ndim]}) must match the size {joined[dim - ndim]} of "
                               f"{' and '.join(names[:k])} at non-singleton dimension {dim}")
        joined = both


def check_tensors(input, target, fn: str) -> None:
    """A loss takes two Tensors; a list or NumPy array target is a common slip (PyTorch fails on ``.size``)."""
    for name, value in (("input", input), ("target", target)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{fn}: argument '{name}' must be a Tensor, got {type(value).__name__}; "
                            f"convert it with torch.tensor(...)")


def check_optional_tensor(value, name: str, fn: str) -> None:
    """``weight=[1., 2.]``: a list where a loss takes a Tensor (or None) is PyTorch's TypeError."""
    if value is not None and not isinstance(value, Tensor):
        raise TypeError(f"{fn}: argument '{name}' must be a Tensor or None, got {type(value).__name__}; "
                        f"convert it with torch.tensor(...)")


def check_number(value, name: str, fn: str) -> None:
    """``delta='1'``: a loss's hyperparameter must be a number (PyTorch's TypeError, not a failed comparison)."""
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{fn}: argument '{name}' must be a number, got {type(value).__name__} ({value!r})")


def warn_broadcast(input: Tensor, target: Tensor, fn: str) -> None:
    if input.shape != target.shape:
        warnings.warn(f"{fn}: Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
                      f"Please ensure they have the same size.", UserWarning, stacklevel=3)


def check_class_targets(input: Tensor, target: Tensor, fn: str):
    """Check the dtype and shape of class-index targets (what depends on their values is checked by
    the loss op itself, on every call); return the target array."""
    check_tensors(input, target, fn)
    if not input.is_floating_point():
        raise RuntimeError(f"{fn}: expected a floating-point input (scores), got {input.dtype}; "
                           f"convert it with .float()")
    t = target._data
    if t.dtype.kind != "f" and input.ndim and t.shape == input._data.shape:
        raise RuntimeError(f"{fn}: an integer target of the input's shape {tuple(t.shape)} looks one-hot; pass "
                           f"class indices of shape {tuple(input.shape[:1]) + tuple(input.shape[2:])} "
                           f"(target.argmax(1)) or class probabilities as a float tensor (target.float())")
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"{fn}: expected class-index targets of an integer dtype (int64), got {t.dtype}; "
                           f"for class probabilities pass a float target of the input's shape to cross_entropy")
    if (t.dtype.kind, t.dtype.itemsize) not in (("i", 8), ("u", 1)):   # PyTorch takes Long or Byte targets only
        raise RuntimeError(f"{fn}: expected target dtype to be Long or Byte (int64 or uint8), but got "
                           f"{t.dtype}; convert the targets with target.long()")
    shape = input._data.shape
    batch = shape[0] if len(shape) > 1 else None
    expected = (shape[:1] + shape[2:]) if len(shape) > 1 else ()
    if tuple(t.shape) != expected:
        if batch is not None and t.ndim and t.shape[0] != batch:
            raise ValueError(f"{fn}: Expected input batch_size ({batch}) to match target batch_size "
                             f"({t.shape[0]}) (input of shape {tuple(input.shape)}, target {tuple(t.shape)}).")
        raise RuntimeError(f"{fn}: input of shape {tuple(input.shape)} needs a target of shape {expected}, "
                           f"got {tuple(t.shape)}")
    return t


def unbatched_target(input: Tensor, target: Tensor, fn: str) -> Tensor:
    """An unbatched (C,) input takes a 0-d class index; PyTorch also takes one of shape (1,)."""
    if input.ndim == 1 and target.ndim == 1 and not target.dtype.is_floating_point:
        if target.shape[0] != 1:
            raise RuntimeError(f"{fn}: For 1D input, 1D target must have size 1, but got target size: "
                               f"{target.shape[0]} (input of shape {tuple(input.shape)}: one sample of "
                               f"{input.shape[0]} class scores)")
        return target.reshape(())
    return target


def check_class_weight(weight: Tensor | None, n_classes: int, fn: str, input: Tensor) -> None:
    if weight is None:
        return
    check_optional_tensor(weight, "weight", fn)
    if tuple(weight.shape) != (n_classes,):
        raise RuntimeError(f"{fn}: weight tensor should be defined either for all {n_classes} classes or no "
                           f"classes but got weight tensor of shape: {tuple(weight.shape)}")
    if weight.dtype != input.dtype:
        raise RuntimeError(f"{fn}: expected weight of the input's dtype {input.dtype}, but found {weight.dtype}; "
                           f"convert it with weight.to({input.dtype})")


def check_probabilities(t: Tensor, name: str, hint: str) -> None:
    """PyTorch refuses BCE on values outside [0, 1] (NaN included) instead of returning a number."""
    a = t._data
    inside = (a >= 0) & (a <= 1)
    if not inside.all():
        bad = a[~inside].reshape(-1)[0]
        raise RuntimeError(f"binary_cross_entropy: all elements of {name} should be between 0 and 1, found "
                           f"{bad.item()}{hint}")


def check_broadcast(input: Tensor, target: Tensor, fn: str) -> None:
    if common_shape(input.shape, target.shape) is None:
        raise RuntimeError(f"{fn}: input of shape {tuple(input.shape)} and target of shape {tuple(target.shape)} "
                           f"cannot be broadcast to one shape; they should have the same shape")


def check_bce(input: Tensor, target: Tensor, weight: Tensor | None) -> None:
    """binary_cross_entropy: probabilities in [0, 1] and a float target of the input's dtype and shape."""
    fn = "binary_cross_entropy"
    check_tensors(input, target, fn)
    if target.dtype != input.dtype or not input.is_floating_point():
        raise RuntimeError(f"{fn}: Found dtype {target.dtype} but expected {input.dtype}: the target must be a "
                           f"floating-point tensor of the input's dtype; convert it with target.to(input.dtype)")
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"{fn}: Using a target size {tuple(target.shape)} that is different to the input size "
                         f"{tuple(input.shape)} is deprecated. Please ensure they have the same size.")
    check_probabilities(input, "input", "; apply sigmoid first, or use binary_cross_entropy_with_logits "
                                       "on raw scores")
    check_probabilities(target, "target", "")
    check_optional_tensor(weight, "weight", fn)
    if weight is not None and not broadcasts_to(weight.shape, input.shape):
        raise RuntimeError(f"{fn}: weight of shape {tuple(weight.shape)} cannot be broadcast to the input's "
                           f"shape {tuple(input.shape)}")


def check_bce_with_logits(input: Tensor, target: Tensor, weight: Tensor | None, pos_weight: Tensor | None) -> None:
    """binary_cross_entropy_with_logits: float scores and float 0/1 targets of one shape; weights that fit."""
    fn = "binary_cross_entropy_with_logits"
    check_tensors(input, target, fn)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"{fn}: Target size {tuple(target.shape)} must be the same as input size "
                         f"{tuple(input.shape)}")
    if not (input.is_floating_point() and target.is_floating_point()):
        raise RuntimeError(f"{fn}: expected floating-point input and target (0/1 labels as floats), got "
                           f"{input.dtype} and {target.dtype}; convert the target with target.float()")
    for name, t in (("weight", weight), ("pos_weight", pos_weight)):
        check_optional_tensor(t, name, fn)
        if t is not None and not broadcasts_to(t.shape, input.shape):
            raise RuntimeError(f"{fn}: {name} of shape {tuple(t.shape)} cannot be broadcast to the input's "
                               f"shape {tuple(input.shape)} (pos_weight holds one weight per class: the last dim)")

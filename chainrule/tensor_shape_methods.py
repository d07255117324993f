"""Tensor's shape, indexing and in-place methods (a mixin of ``Tensor``)."""

from __future__ import annotations

import math
import numbers

from . import backend
from .autograd.function import hooks, notify_inplace
from .autograd.grad_mode import state
from .backend import xp
from .ops import elementwise as E
from .ops import indexing as I
from .ops import shape as S
from .tensor_args import (
    _changed,
    _normalize_index,
    _raw,
    normalize_dim,
    normalize_dims,
    shape_arg,
)
from .tensor_math_methods import MathMethods


class ShapeMethods:
    """Shape changes, indexing (read and write) and in-place updates of ``Tensor``."""

    __slots__ = ()

    # --- shape -----------------------------------------------------------------------------
    def reshape(self, *shape):
        shape = shape_arg(shape)
        if shape == self._data.shape:
            return self
        return S.Reshape.apply(self, shape)._view_of(self)

    def view(self, *shape):
        if len(shape) == 1 and not isinstance(shape[0], (numbers.Integral, tuple, list)):
            return self.to(shape[0])
        return S.Reshape.apply(self, shape_arg(shape))._view_of(self)

    def view_as(self, other):
        return self.view(other._data.shape)

    def reshape_as(self, other):
        return self.reshape(other._data.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        s = normalize_dim(start_dim, self.ndim, "flatten")
        e = normalize_dim(end_dim, self.ndim, "flatten")
        if s > e:
            raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
        shp = self._data.shape
        return self.reshape(shp[:s] + (math.prod(shp[s:e + 1]),) + shp[e + 1:])

    def unflatten(self, dim, sizes):
        d = normalize_dim(dim, self.ndim, "unflatten")
        sizes = list(sizes)
        if -1 in sizes:
            known = math.prod(s for s in sizes if s != -1)
            sizes[sizes.index(-1)] = self._data.shape[d] // max(known, 1)
        if math.prod(sizes) != self._data.shape[d]:
            raise RuntimeError(f"unflatten: sizes {tuple(sizes)} don't multiply up to the size of dim {dim} "
                               f"({self._data.shape[d]}) in the input of shape {tuple(self.shape)}")
        shp = self._data.shape
        return self.reshape(shp[:d] + tuple(sizes) + shp[d + 1:])

    def squeeze(self, dim=None):
        shp = self._data.shape
        if dim is None:
            new = tuple(n for n in shp if n != 1)
            name = "SqueezeBackward0"
        else:
            dims = normalize_dims(dim, self.ndim, "squeeze") or ()
            new = tuple(n for i, n in enumerate(shp) if not (i in dims and n == 1))
            name = "SqueezeBackward1"
        return S.Reshape.apply(self, new, name)._view_of(self)

    def unsqueeze(self, dim):
        d = normalize_dim(dim, self.ndim + 1, "unsqueeze")
        shp = self._data.shape
        return S.Reshape.apply(self, shp[:d] + (1,) + shp[d:], "UnsqueezeBackward0")._view_of(self)

    def permute(self, *dims):
        dims = shape_arg(dims) if dims else ()
        if len(dims) != self.ndim:
            raise RuntimeError(f"permute: number of dims in {dims} doesn't match the tensor's {self.ndim} "
                               f"dimensions (shape {tuple(self.shape)})")
        perm = tuple(normalize_dim(d, self.ndim, "permute") for d in dims)
        if len(set(perm)) != len(perm):
            raise RuntimeError(f"permute: repeated dim in {dims}")
        return S.Permute.apply(self, perm)._view_of(self)

    def transpose(self, dim0, dim1):
        if self.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
            return self
        a = normalize_dim(dim0, self.ndim, "transpose")
        b = normalize_dim(dim1, self.ndim, "transpose")
        perm = list(range(self.ndim))
        perm[a], perm[b] = perm[b], perm[a]
        return S.Permute.apply(self, tuple(perm), "TransposeBackward0")._view_of(self)

    swapaxes = swapdims = transpose

    def t(self):
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return S.Permute.apply(self, tuple(range(self.ndim))[::-1], "TBackward0")._view_of(self)

    def expand(self, *sizes):
        sizes = shape_arg(sizes)
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal "
                               f"to the number of dimensions in the tensor ({self.ndim})")
        if -1 in sizes[:lead]:
            raise RuntimeError(f"expand: the expanded size -1 isn't allowed in a leading, non-existing "
                               f"dimension (sizes {sizes} for a tensor of shape {tuple(self.shape)})")
        shape = tuple(self._data.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
        if shape == self._data.shape:
            return self
        return S.Expand.apply(self, shape)._view_of(self)

    def expand_as(self, other):
        return self.expand(other._data.shape)

    def broadcast_to(self, shape):
        return self.expand(shape_arg((shape,)))

    def repeat(self, *reps):
        reps = shape_arg(reps)
        if len(reps) < self.ndim:
            raise RuntimeError(f"repeat: number of repeat dims ({len(reps)}) can not be smaller than number "
                               f"of dimensions of tensor ({self.ndim})")
        return S.Repeat.apply(self, reps)

    def tile(self, *reps):
        reps = shape_arg(reps)
        return self.repeat((1,) * (self.ndim - len(reps)) + reps)

    def flip(self, *dims):
        dims = shape_arg(dims)
        return S.Flip.apply(self, tuple(normalize_dim(d, self.ndim, "flip") for d in dims))

    def fliplr(self):
        return self.flip(1)

    def flipud(self):
        return self.flip(0)

    def split(self, split_size_or_sections, dim=0):
        d = normalize_dim(dim, self.ndim, "split")
        n = self._data.shape[d]
        if isinstance(split_size_or_sections, numbers.Integral):
            step = int(split_size_or_sections)
            if step <= 0:
                raise RuntimeError(f"split: split_size must be positive, got {step}")
            sizes = [min(step, n - s) for s in range(0, n, step)] or [0]
        else:
            sizes = list(split_size_or_sections)
            if sum(sizes) != n:
                raise RuntimeError(f"split: sizes {sizes} sum to {sum(sizes)} but dim {dim} has size {n}")
        out, start = [], 0
        lead = (slice(None),) * d
        for s in sizes:
            part = I.Index.apply(self, lead + (slice(start, start + s),))
            if part.grad_fn is not None:
                part.grad_fn.backward_name = "SplitBackward0" if isinstance(split_size_or_sections, numbers.Integral) \
                    else "SplitWithSizesBackward0"
            out.append(part._view_of(self))
            start += s
        return tuple(out)

    def chunk(self, chunks: int, dim=0):
        d = normalize_dim(dim, self.ndim, "chunk")
        n = self._data.shape[d]
        return self.split(max(1, -(-n // chunks)), d)

    def unbind(self, dim=0):
        d = normalize_dim(dim, self.ndim, "unbind")
        lead = (slice(None),) * d
        parts = tuple(self[lead + (i,)] for i in range(self._data.shape[d]))
        for p in parts:
            if p.grad_fn is not None:
                p.grad_fn.backward_name = "UnbindBackward0"
        return parts

    def tril(self, diagonal=0):
        return S.Tri.apply(self, diagonal, True)

    def triu(self, diagonal=0):
        return S.Tri.apply(self, diagonal, False)

    # --- indexing --------------------------------------------------------------------------
    def __getitem__(self, index):
        index = _normalize_index(index)
        out = I.Index.apply(self, index)
        if I.is_basic(index):
            out._view_of(self)
        return out

    def __setitem__(self, index, value):
        index = _normalize_index(index)
        T = hooks.Tensor
        if state.enabled and (self.requires_grad or (isinstance(value, T) and value.requires_grad)):
            v = value if isinstance(value, T) else T._make(xp.asarray(value, self._data.dtype))
            self._inplace(lambda old: I.IndexPut.apply(old, index, v.to(old._data.dtype)), "setitem")
            return
        try:
            self._data[index] = _raw(value)
        except (ValueError, IndexError) as e:
            raise type(e)(f"setitem: cannot assign {getattr(_raw(value), 'shape', type(value).__name__)} to "
                          f"index {I._show(index)} of a tensor of shape {tuple(self.shape)}: {e}") from None
        _changed(self, "setitem")

    def gather(self, dim, index):
        d = normalize_dim(dim, self.ndim, "gather")
        idx = _raw(index)
        if idx.dtype.kind not in "iu":
            raise RuntimeError(f"gather: index must be an integer tensor, got {idx.dtype}")
        if idx.ndim != self.ndim:
            raise RuntimeError(f"gather: index ({idx.ndim}-D, shape {idx.shape}) must have the same number "
                               f"of dimensions as input ({self.ndim}-D, shape {tuple(self.shape)})")
        return I.Gather.apply(self, d, idx)

    def scatter(self, dim, index, src=None, value=None):
        d = normalize_dim(dim, self.ndim, "scatter")
        src = value if src is None else src
        if isinstance(src, hooks.Tensor) and src._data.dtype != self._data.dtype:
            src = src.to(self._data.dtype)
        return I.Scatter.apply(self, d, _raw(index), src)

    def scatter_add(self, dim, index, src):
        d = normalize_dim(dim, self.ndim, "scatter_add")
        return self + I.ScatterAdd.apply(src, self._data.shape, d, _raw(index))

    def index_select(self, dim, index):
        d = normalize_dim(dim, self.ndim, "index_select")
        idx = _raw(index)
        if idx.ndim > 1:
            raise IndexError(f"index_select: index must be 0-D or 1-D, got shape {idx.shape}")
        out = I.Index.apply(self, (slice(None),) * d + (idx.reshape(-1),))
        if out.grad_fn is not None:
            out.grad_fn.backward_name = "IndexSelectBackward0"
        return out

    def masked_fill(self, mask, value):
        m = _raw(mask)
        if m.dtype != bool:
            raise RuntimeError(f"masked_fill: expected a boolean mask, got {m.dtype}")
        if isinstance(value, hooks.Tensor):
            if value.requires_grad:
                return E.Where.apply(m, value.to(self._data.dtype), self)
            value = value.item()
        return I.MaskedFill.apply(self, m, value)

    # --- in-place ops ----------------------------------------------------------------------
    def _inplace(self, compute, op: str):
        """Run ``compute`` out of place and write the result into self's memory.

        Untracked (no grad involved) this costs one ufunc with ``out=``. When the graph must
        record it, the op is applied to a copy holding the old values (so anything it saves stays
        intact), the result is written into self's memory, and self's history is rebased onto the
        new node — PyTorch's behaviour, with the version counter catching stale saved tensors.
        """
        T = hooks.Tensor
        if state.observed:
            notify_inplace(self, op)
        if self.grad_fn is None and self.requires_grad and state.enabled:
            raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an in-place "
                               f"operation. Wrap the update in `with chainrule.no_grad():` (as for "
                               f"`w -= lr * w.grad`), or use the out-of-place form.")
        if self._base is not None and state.enabled and (self._base.requires_grad or self.requires_grad):
            raise RuntimeError(f"{op}: in-place modification of a view of a tensor that requires grad is "
                               f"not supported by chainrule; use the out-of-place form (or clone() first)")
        old = T._make(self._data.copy(), self.grad_fn, self._output_nr) if self.grad_fn is not None \
            else T._make(self._data.copy())
        new = compute(old)
        if new._data.dtype != self._data.dtype and not xp.can_cast(new._data.dtype, self._data.dtype, "same_kind"):
            raise RuntimeError(f"{op}: result type {new.dtype.name} can't be cast to the desired output type "
                               f"{self.dtype.name}")
        self._data[...] = new._data
        self.grad_fn, self._output_nr = new.grad_fn, new._output_nr
        self.requires_grad = new.requires_grad
        self._version_box[0] += 1
        return self

    def _inplace_binary(self, op, other, name: str, ufunc):
        T = hooks.Tensor
        if not state.enabled or not (self.requires_grad or (isinstance(other, T) and other.requires_grad)):
            try:
                ufunc(self._data, _raw(other), out=self._data, casting="same_kind")
            except (TypeError, ValueError) as e:
                b = _raw(other)
                raise RuntimeError(f"{name}: cannot update a {self.dtype.name} tensor of shape "
                                   f"{tuple(self.shape)} in place with {getattr(b, 'dtype', type(b).__name__)} "
                                   f"of shape {getattr(b, 'shape', ())}: {e}") from None
            return _changed(self, name)
        # x.mul_(x): the right operand is the old value too, not the memory being overwritten
        return self._inplace(lambda old: op(old, old if other is self else other), name)

    def add_(self, other, alpha=1):
        other = other * alpha if alpha != 1 else other
        return self._inplace_binary(MathMethods.__add__, other, "add_", xp.add)

    def sub_(self, other, alpha=1):
        other = other * alpha if alpha != 1 else other
        return self._inplace_binary(MathMethods.__sub__, other, "sub_", xp.subtract)

    def mul_(self, other):
        return self._inplace_binary(MathMethods.__mul__, other, "mul_", xp.multiply)

    def div_(self, other):
        return self._inplace_binary(MathMethods.__truediv__, other, "div_", xp.true_divide)

    def pow_(self, exponent):
        return self._inplace_binary(MathMethods.__pow__, exponent, "pow_", xp.power)

    __iadd__, __isub__, __imul__, __itruediv__ = add_, sub_, mul_, div_

    def _inplace_unary(self, method, name: str):
        if not state.enabled or not self.requires_grad:
            self._data[...] = _raw(method(hooks.Tensor._make(self._data)))
            return _changed(self, name)
        return self._inplace(method, name)

    def zero_(self):
        return self._fill(0, "zero_")

    def fill_(self, value):
        return self._fill(value, "fill_")

    def _fill(self, value, name: str):
        if state.enabled and self.requires_grad:
            return self._inplace(lambda old: old * 0 + value, name)
        self._data[...] = _raw(value)
        return _changed(self, name)

    def copy_(self, src):
        T = hooks.Tensor
        if state.enabled and (self.requires_grad or (isinstance(src, T) and src.requires_grad)):
            return self._inplace(lambda old: (old * 0 + src).to(old._data.dtype), "copy_")
        try:
            self._data[...] = _raw(src)
        except ValueError:
            raise RuntimeError(f"copy_: source of shape {tuple(getattr(_raw(src), 'shape', ()))} cannot be "
                               f"broadcast to the destination's shape {tuple(self.shape)}") from None
        return _changed(self, "copy_")

    def clamp_(self, min=None, max=None):
        return self._inplace_unary(lambda t: t.clamp(min, max), "clamp_")

    clip_ = clamp_

    def neg_(self):
        return self._inplace_unary(MathMethods.neg, "neg_")

    def exp_(self):
        return self._inplace_unary(MathMethods.exp, "exp_")

    def relu_(self):
        return self._inplace_unary(MathMethods.relu, "relu_")

    def sigmoid_(self):
        return self._inplace_unary(MathMethods.sigmoid, "sigmoid_")

    def tanh_(self):
        return self._inplace_unary(MathMethods.tanh, "tanh_")

    def sqrt_(self):
        return self._inplace_unary(MathMethods.sqrt, "sqrt_")

    def abs_(self):
        return self._inplace_unary(MathMethods.abs, "abs_")

    def masked_fill_(self, mask, value):
        return self._inplace_unary(lambda t: t.masked_fill(mask, value), "masked_fill_")

    def addcmul_(self, t1, t2, value=1):
        return self.add_(t1 * t2 * value)

    def addcdiv_(self, t1, t2, value=1):
        return self.add_(t1 / t2 * value)

    def lerp_(self, end, weight):
        return self.add_((end - self) * weight)

    def uniform_(self, a=0.0, b=1.0, generator=None):
        return self._fill_random(lambda rng, shape: rng.uniform(a, b, shape), generator, "uniform_")

    def normal_(self, mean=0.0, std=1.0, generator=None):
        return self._fill_random(lambda rng, shape: rng.normal(mean, std, shape), generator, "normal_")

    def bernoulli_(self, p=0.5, generator=None):
        return self._fill_random(lambda rng, shape: rng.random(shape) < p, generator, "bernoulli_")

    def _fill_random(self, draw, generator, name: str):
        if state.enabled and self.requires_grad and self.grad_fn is None:
            raise RuntimeError(f"{name}: a leaf Variable that requires grad is being used in an in-place "
                               f"operation; wrap it in `with chainrule.no_grad():`")
        rng = (generator or backend.default_generator).rng
        self._data[...] = draw(rng, self._data.shape)
        return _changed(self, name)

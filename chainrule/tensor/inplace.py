"""Tensor's in-place methods (``add_``, ``mul_``, ``zero_``, ``copy_``, random fills …; a mixin of ``Tensor``).

Each bumps the tensor's version counter so a saved tensor changed in place is caught in backward."""
from __future__ import annotations

from .. import backend
from ..autograd.function import notify_inplace
from ..autograd.grad_mode import state
from ..backend import xp
from . import core
from .args import (
    _changed,
    _raw,
)
from .arithmetic import MathMethods


class InplaceMethods:
    """In-place updates of ``Tensor``."""

    __slots__ = ()

    def _inplace(self, compute, op: str):
        """Run ``compute`` out of place and write the result into self's memory.

        Untracked (no grad involved) this costs one ufunc with ``out=``. When the graph must
        record it, the op is applied to a copy holding the old values (so anything it saves stays
        intact), the result is written into self's memory, and self's history is rebased onto the
        new node — PyTorch's behaviour, with the version counter catching stale saved tensors.
        """
        T = core.Tensor
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
        T = core.Tensor
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
            self._data[...] = _raw(method(core.Tensor._make(self._data)))
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
        T = core.Tensor
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

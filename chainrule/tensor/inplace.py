"""Tensor's in-place methods (``add_``, ``mul_``, ``zero_``, ``copy_``, random fills …; a mixin of ``Tensor``).

Each bumps the tensor's version counter so a saved tensor changed in place is caught in backward."""
from __future__ import annotations

import warnings

from .. import backend
from ..autograd.function import notify_inplace
from ..autograd.grad_mode import state
from ..backend import random, xp
from ..ops import inplace as P
from . import core, views
from .args import (
    _changed,
    _raw,
    number_arg,
)
from .arithmetic import MathMethods
from .arithmetic_args import lerp_operands


class InplaceMethods:
    """In-place updates of ``Tensor``."""

    __slots__ = ()

    def _inplace(self, compute, op: str, reads_self: bool = False):
        """Run ``compute`` out of place and write the result into self's memory.

        Untracked (no grad involved) this costs one ufunc with ``out=``. When the graph must
        record it, the op is applied to a copy holding the old values (so anything it saves stays
        intact), the result is written into self's memory, and self's history is rebased onto the
        new node — PyTorch's behaviour, with the version counter catching stale saved tensors.
        """
        T = core.Tensor
        if state.observed:
            notify_inplace(self, op)
        if self._acc is False and state.enabled:
            raise _nograd_view_error(op)
        if self.grad_fn is None and self.requires_grad and state.enabled:
            raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an in-place "
                               f"operation. Wrap the update in `with chainrule.no_grad():` (as for "
                               f"`w -= lr * w.grad`), or use the out-of-place form.")
        if self._base is not None and state.enabled:
            return views.inplace_through_view(self, compute, op, reads_self)     # PyTorch's CopySlices
        old = T._make(self._data.copy(), self.grad_fn, self._output_nr) if self.grad_fn is not None \
            else T._make(self._data.copy())
        before = self._version_box[0]
        new = compute(old)
        _check_fits(self, new._data, op)
        if new._data.dtype != self._data.dtype:
            if not xp.can_cast(new._data.dtype, self._data.dtype, "same_kind"):
                raise RuntimeError(f"{op}: result type {new.dtype.name} can't be cast to the desired output type "
                                   f"{self.dtype.name}")
            new = new.to(self.dtype)    # recorded: the gradient reaching self's history is in self's dtype
        self._data[...] = new._data
        views.take_history(self, new)
        self._version_box[0] += 1
        views.refresh(self)                 # its views now read from the new self
        if new.grad_fn is not None and new.grad_fn._saved_versions:
            _track_saved(new.grad_fn, new, old if reads_self else None, self._version_box, before)
        return self

    def _inplace_binary(self, op, other, name: str, ufunc):
        T = core.Tensor
        if not state.enabled or not (self.requires_grad or (isinstance(other, T) and other.requires_grad)):
            try:
                ufunc(self._data, _raw(other), out=self._data, casting="same_kind")
            except (TypeError, ValueError):
                raise _inplace_error(self, _raw(other), name) from None
            return _changed(self, name)
        # x.mul_(x): the right operand is the old value too, not the memory being overwritten
        return self._inplace(lambda old: op(old, old if other is self else other), name, other is self)

    def add_(self, other, alpha=1):
        """In place: self += alpha·other (also ``+=``); returns self and bumps its version counter.

        other broadcasts to self's shape, and the result must fit self's dtype (a float into an integer tensor
        is refused). A leaf that requires grad may be changed in place only under ``no_grad()``, as an
        optimizer does:

        >>> import chainrule as cr
        >>> w = cr.ones(2, requires_grad=True)
        >>> with cr.no_grad():
        ...     _ = w.add_(cr.tensor([0.5, 1.0]), alpha=-0.1)
        >>> w
        tensor([0.9500, 0.9000], requires_grad=True)
        """
        other = other * alpha if alpha != 1 else other
        return self._inplace_binary(MathMethods.__add__, other, "add_", xp.add)

    def sub_(self, other, alpha=1):
        """In place: self −= alpha·other (also ``-=``); returns self and bumps its version counter."""
        other = other * alpha if alpha != 1 else other
        return self._inplace_binary(MathMethods.__sub__, other, "sub_", xp.subtract)

    def mul_(self, other):
        """In place: self *= other (also ``*=``); returns self and bumps its version counter.

        Changing a tensor that an op saved for its backward makes that backward fail, naming the op:

        >>> import chainrule as cr
        >>> a = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> b = a.sigmoid(); _ = b.mul_(2)          # sigmoid saved its output b
        >>> b.sum().backward()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        RuntimeError: SigmoidBackward0: one of the variables needed for gradient computation has been...
        """
        return self._inplace_binary(MathMethods.__mul__, other, "mul_", xp.multiply)

    def div_(self, other):
        """In place: self /= other (also ``/=``); true division, so an integer tensor is refused (its dtype
        cannot hold the result). Returns self and bumps its version counter.
        """
        return self._inplace_binary(MathMethods.__truediv__, other, "div_", xp.true_divide)

    def pow_(self, exponent):
        """In place: self = self ** exponent; returns self and bumps its version counter."""
        return self._inplace_binary(MathMethods.__pow__, exponent, "pow_", xp.power)

    __iadd__, __isub__, __imul__, __itruediv__ = add_, sub_, mul_, div_

    def _inplace_unary(self, method, name: str):
        if not state.enabled or not self.requires_grad:
            new = _raw(method(core.Tensor._make(self._data)))
            _check_fits(self, new, name)
            if not self._data.flags.writeable:          # an expand()ed view repeating an element
                raise _inplace_error(self, new, name)
            self._data[...] = new
            return _changed(self, name)
        return self._inplace(method, name)

    def zero_(self):
        """In place: set every element to 0; returns self and bumps its version counter."""
        return self._fill(0, "zero_")

    def fill_(self, value):
        """In place: set every element to ``value``; returns self and bumps its version counter."""
        return self._fill(value, "fill_")

    def _fill(self, value, name: str):
        number_arg(value, name, "value")
        positions = views.expanded_positions(self)
        if positions is not None and views.repeats(positions):   # a number fills repeated elements, as in PyTorch
            if isinstance(value, core.Tensor):
                raise _inplace_error(self, None, name)      # a tensor's value there PyTorch refuses
            return views.fill_overlapping(self, positions, True, xp.asarray(value, self._data.dtype), name)
        if state.enabled and self.requires_grad:
            if isinstance(value, core.Tensor):
                # the old value's gradient is a constant zero, value's the sum (old * 0 would be NaN at ±inf)
                return self._inplace(lambda old: P.Zero.apply(old) + value, name)
            # the old value's gradient is a constant zero (FillBackward2/ZeroBackward0), as PyTorch's
            return self._inplace(lambda old: P.Zero.apply(old) if name == "zero_" else P.Fill.apply(old, value),
                                 name)
        if positions is None:
            self._data[...] = _raw(value)
            return _changed(self, name)
        views.write_through_base(self, positions, _raw(value))     # an expand()ed view that repeats nothing
        return _changed(self, name)

    def copy_(self, src):
        """In place: copy ``src``'s values into self (broadcast to self's shape, cast to self's dtype);
        returns self. Recorded when either side requires grad: the gradient flows to ``src``.

        >>> import chainrule as cr
        >>> x = cr.zeros(2, 2); _ = x.copy_(cr.tensor([1, 2]))
        >>> x
        tensor([[1., 2.],
                [1., 2.]])
        """
        T = core.Tensor
        positions = views.expanded_positions(self)
        if positions is not None and views.repeats(positions):    # PyTorch copies such a view only into itself
            if src is self:             # (a no-op, still recorded: a backward pass that reaches it raises)
                return views.fill_overlapping(self, positions, True, self._data.copy(), "copy_")
            raise _inplace_error(self, None, "copy_")
        if state.enabled and (self.requires_grad or (isinstance(src, T) and src.requires_grad)):
            return self._inplace(lambda old: P.Copy.apply(old, src), "copy_")
        if positions is not None:       # an expand()ed view that repeats nothing: written through its base
            views.write_through_base(self, positions, xp.broadcast_to(_raw(src), self._data.shape))
            return _changed(self, "copy_")
        try:
            self._data[...] = xp.broadcast_to(_raw(src), self._data.shape)   # (1, n) into (n,) is refused
        except ValueError:
            raise RuntimeError(f"copy_: source of shape {tuple(getattr(_raw(src), 'shape', ()))} cannot be "
                               f"broadcast to the destination's shape {tuple(self.shape)}") from None
        return _changed(self, "copy_")

    def clamp_(self, min=None, max=None):
        """In place: ``clamp(min, max)`` (``clip_`` is an alias); returns self."""
        return self._inplace_unary(lambda t: t.clamp(min, max), "clamp_")

    clip_ = clamp_

    def neg_(self):
        """In place: self = −self; returns self."""
        return self._inplace_unary(MathMethods.neg, "neg_")

    def exp_(self):
        """In place: self = exp(self); returns self."""
        return self._inplace_unary(MathMethods.exp, "exp_")

    def relu_(self):
        """In place: self = max(self, 0) (what ``nn.ReLU(inplace=True)`` calls); returns self."""
        return self._inplace_unary(MathMethods.relu, "relu_")

    def sigmoid_(self):
        """In place: self = σ(self) = 1/(1 + e^(−self)); returns self."""
        return self._inplace_unary(MathMethods.sigmoid, "sigmoid_")

    def tanh_(self):
        """In place: self = tanh(self); returns self."""
        return self._inplace_unary(MathMethods.tanh, "tanh_")

    def sqrt_(self):
        """In place: self = √self; returns self."""
        return self._inplace_unary(MathMethods.sqrt, "sqrt_")

    def abs_(self):
        """In place: self = |self|; returns self."""
        return self._inplace_unary(MathMethods.abs, "abs_")

    def masked_fill_(self, mask, value):
        """In place: ``masked_fill(mask, value)``, writing ``value`` where mask is True; returns self."""
        positions = views.expanded_positions(self)
        if positions is not None and views.repeats(positions):   # PyTorch writes (deprecated, with a warning)
            filled = core.Tensor._make(self._data).masked_fill(mask, value)       # checks mask and value
            warnings.warn("masked_fill_: Use of masked_fill_ on expanded tensors is deprecated. Please clone() the "
                          "tensor before performing this operation.", UserWarning, stacklevel=2)
            return views.fill_overlapping(self, positions, _raw(mask), filled._data, "masked_fill_")
        return self._inplace_unary(lambda t: t.masked_fill(mask, value), "masked_fill_")

    def scatter_(self, dim, index, src=None, value=None):
        """In place: ``scatter(dim, index, src)`` (or the number ``value``); returns self."""
        return self._inplace_with(lambda t: t.scatter(dim, index, src, value), src, "scatter_")

    def scatter_add_(self, dim, index, src):
        """In place: ``scatter_add(dim, index, src)``, repeated indices accumulating; returns self."""
        return self._inplace_with(lambda t: t.scatter_add(dim, index, src), src, "scatter_add_")

    def _inplace_with(self, method, other, name: str):
        """An in-place update that reads ``other`` too: recorded when either requires grad."""
        if state.enabled and isinstance(other, core.Tensor) and other.requires_grad:
            return self._inplace(method, name)
        return self._inplace_unary(method, name)

    def addcmul_(self, t1, t2, value=1):
        """In place: self += value·t1·t2 (an optimizer's running-average update); returns self."""
        return self.add_(t1 * t2 * value)

    def addcdiv_(self, t1, t2, value=1):
        """In place: self += value·t1/t2 (Adam's step); returns self."""
        return self.add_(t1 / t2 * value)

    def lerp_(self, end, weight):
        """In place: self += weight·(end − self), a fraction ``weight`` of the way to end; returns self."""
        lerp_operands(self, end, weight, "lerp_")
        return self.add_((end - self) * weight)

    # Random fills draw PyTorch's values for the same generator state (chainrule.backend.random).
    def uniform_(self, a=0.0, b=1.0, generator=None):
        """In place: fill with samples from the uniform distribution on [a, b); returns self.

        After the same ``chainrule.manual_seed(s)`` the values are PyTorch's.

        >>> import chainrule as cr
        >>> _ = cr.manual_seed(0)
        >>> cr.empty(3).uniform_()
        tensor([0.4963, 0.7682, 0.0885])
        """
        return self._fill_random(lambda out, gen: random.uniform_(out, a, b, gen), generator, "uniform_")

    def normal_(self, mean=0.0, std=1.0, generator=None):
        """In place: fill with samples from the normal distribution N(mean, std²); returns self (PyTorch's
        values for the same seed).
        """
        return self._fill_random(lambda out, gen: random.normal_(out, mean, std, gen), generator, "normal_")

    def bernoulli_(self, p=0.5, generator=None):
        """In place: fill with 1 with probability ``p`` (a number or a tensor of probabilities), else 0."""
        probs = p._data if isinstance(p, core.Tensor) else p
        return self._fill_random(lambda out, gen: random.bernoulli_(out, probs, gen), generator, "bernoulli_")

    def exponential_(self, lambd=1.0, generator=None):
        """In place: fill with samples from the exponential distribution, density λe^(−λx) for x >= 0."""
        return self._fill_random(lambda out, gen: random.exponential_(out, lambd, gen), generator, "exponential_")

    def random_(self, *bounds, generator=None):
        """``random_()``: [0, 2**mantissa] (floats) or [0, max]; ``random_(to)``: [0, to); ``random_(from, to)``."""
        if not bounds:
            return self._fill_random(random.random_bits_, generator, "random_")
        low, high = (0, bounds[0]) if len(bounds) == 1 else bounds
        return self._fill_random(lambda out, gen: random.random_(out, low, high, gen), generator, "random_")

    def _fill_random(self, draw, generator, name: str):
        if state.enabled and self._acc is False:
            raise _nograd_view_error(name)
        if state.enabled and self.requires_grad and self.grad_fn is None:
            raise RuntimeError(f"{name}: a leaf Variable that requires grad is being used in an in-place "
                               f"operation; wrap it in `with chainrule.no_grad():`")
        if self._data.flags.writeable:
            draw(self._data, generator or backend.default_generator)
            return _changed(self, name)
        # an expand()ed view (read-only in NumPy): drawn only if it repeats no element, written through the base
        positions = views.expanded_positions(self)
        if positions is None or views.repeats(positions):
            raise _inplace_error(self, None, name)
        values = xp.empty(self._data.shape, self._data.dtype)
        draw(values, generator or backend.default_generator)
        views.write_through_base(self, positions, values)
        return _changed(self, name)


def _nograd_view_error(op: str) -> RuntimeError:
    return RuntimeError(f"{op}: A view was created in no_grad mode and is being modified inplace with grad mode "
                        f"enabled. Given that this use case is ambiguous and error-prone, it is forbidden. You can "
                        f"clarify your code by moving both the view and the inplace either both inside the no_grad "
                        f"block (if you don't want the inplace to be tracked) or both outside (if you want the "
                        f"inplace to be tracked).")


_KIND_NAMES = {"f": "Float", "c": "ComplexFloat", "i": "Long", "u": "Byte", "b": "Bool"}


def _inplace_error(t, b, name: str) -> RuntimeError:
    """PyTorch's reason an in-place update cannot be written into ``t`` (NumPy's words are not shown)."""
    shape = tuple(t.shape)
    if not t._data.flags.writeable:
        return RuntimeError(f"{name}: unsupported operation: more than one element of the written-to tensor "
                            f"(shape {shape}, an expand()ed or broadcast view) refers to a single memory "
                            f"location. Please clone() the tensor before performing the operation.")
    result = xp.result_type(t._data, b)
    if not xp.can_cast(result, t._data.dtype, "same_kind"):
        return RuntimeError(f"{name}: result type {_KIND_NAMES.get(result.kind, result.name)} can't be cast to "
                            f"the desired output type {_KIND_NAMES.get(t._data.dtype.kind, t.dtype.name)} "
                            f"(this {t.dtype.name} tensor cannot hold the result in place; use the out-of-place "
                            f"form, e.g. x = x + y, or convert x first)")
    other = tuple(getattr(b, "shape", ()))
    return RuntimeError(f"{name}: output with shape {shape} doesn't match the broadcast shape of itself and "
                        f"an operand of shape {other}: an in-place result must keep the tensor's shape")


_check_fits = views.check_fits


def _track_saved(node, new, old, box, before: int) -> None:
    """Make the saved tensors of an in-place op's node watch self's version counter, as PyTorch's do.

    The node ran on a copy (``old``) and wrote ``new`` into self. What it saved of its result is self
    after the update (so a later in-place change makes its backward raise, e.g. after ``y.exp_()``);
    when self was also the other operand (``x.mul_(x)``, ``old`` given), that operand was self before
    the update, already stale. A saved copy of self's old value in its own role is PyTorch's clone of
    the original self and stays untracked."""
    tracked = []
    for entry in node._saved_versions:
        if entry[0] is new._version_box:
            entry = (box, box[0], entry[2])
        elif old is not None and entry[0] is old._version_box:
            entry = (box, before, entry[2])
        tracked.append(entry)
    node._saved_versions = tracked


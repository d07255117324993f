"""More of Tensor's elementwise math (a mixin of ``Tensor``): erf and erfinv, log10, hyperbolic and
inverse trigonometric functions, atan2, remainder/fmod and nan_to_num.

Integer inputs become the default float type first, as in PyTorch (``cr.tensor([1]).sinh()`` is float32).
"""

from __future__ import annotations

from .. import backend
from ..ops import elementwise_extra as X
from ..ops import unary as U
from ..ops import unary_extra as UX
from .args import _floatify, _no_grad_result, _Scalar, as_tensor_like, binary
from .scalars import divisor, operand


def _with_scalar(t, c):
    """PyTorch's promotion of a tensor with a Python number: a float lifts an integer tensor to the
    default float type, an int lifts a bool tensor to int64; otherwise the tensor's dtype wins."""
    kind = t._data.dtype.kind
    if kind in "biu" and isinstance(c, float):
        return t.to(backend.default_float.np)
    if kind == "b" and not isinstance(c, bool):
        return t.to(backend.int64.np)
    return t


class MoreMathMethods:
    """erf, erfinv, log10, sinh/cosh, asin/acos/atan, atan2, remainder, fmod, nan_to_num of ``Tensor``."""

    __slots__ = ()

    def erf(self):
        """The error function, 2/√π ∫₀ˣ e^(-t²) dt.

        >>> import chainrule as cr
        >>> cr.tensor([0.0, 1.0]).erf()
        tensor([0.0000, 0.8427])
        """
        return U.Erf.apply(_floatify(self))

    def erfinv(self):
        """The inverse of erf on (-1, 1); ±inf at ±1, NaN outside.

        >>> import chainrule as cr
        >>> cr.tensor([0.0, 0.5]).erfinv()
        tensor([0.0000, 0.4769])
        """
        return UX.Erfinv.apply(_floatify(self))

    def log10(self):
        """The base-10 logarithm.

        >>> import chainrule as cr
        >>> cr.tensor([1.0, 100.0]).log10()
        tensor([0., 2.])
        """
        return UX.Log10.apply(_floatify(self))

    def sinh(self):
        """The hyperbolic sine.

        >>> import chainrule as cr
        >>> cr.tensor([0.0, 1.0]).sinh()
        tensor([0.0000, 1.1752])
        """
        return UX.Sinh.apply(_floatify(self))

    def cosh(self):
        """The hyperbolic cosine.

        >>> import chainrule as cr
        >>> cr.tensor([0.0, 1.0]).cosh()
        tensor([1.0000, 1.5431])
        """
        return UX.Cosh.apply(_floatify(self))

    def asin(self):
        """The inverse sine (NaN outside [-1, 1]).

        >>> import chainrule as cr
        >>> cr.tensor([0.0, 1.0]).asin()
        tensor([0.0000, 1.5708])
        """
        return UX.Asin.apply(_floatify(self))

    def acos(self):
        """The inverse cosine (NaN outside [-1, 1]).

        >>> import chainrule as cr
        >>> cr.tensor([1.0, 0.0]).acos()
        tensor([0.0000, 1.5708])
        """
        return UX.Acos.apply(_floatify(self))

    def atan(self):
        """The inverse tangent.

        >>> import chainrule as cr
        >>> cr.tensor([0.0, 1.0]).atan()
        tensor([0.0000, 0.7854])
        """
        return UX.Atan.apply(_floatify(self))

    arcsin, arccos, arctan = asin, acos, atan

    def atan2(self, other):
        """The angle of the point (other, self): atan(self/other) in the right quadrant.

        >>> import chainrule as cr
        >>> cr.tensor([1.0, 1.0]).atan2(cr.tensor([1.0, -1.0]))
        tensor([0.7854, 2.3562])
        """
        return binary(X.Atan2, _floatify(self), _floatify(as_tensor_like(other, self)))

    arctan2 = atan2

    def remainder(self, other):
        """Python's modulus: ``self - other * floor(self / other)``, with the sign of ``other`` (also ``%``).

        >>> import chainrule as cr
        >>> cr.tensor([-3.0, 3.0]).remainder(2)
        tensor([1., 1.])
        """
        if isinstance(other, _Scalar):
            return X.RemainderScalar.apply(_with_scalar(self, other), divisor(other, self, "remainder"))
        return binary(X.Remainder, self, other)

    def fmod(self, other):
        """C's modulus: ``self - other * trunc(self / other)``, with the sign of ``self``.

        >>> import chainrule as cr
        >>> cr.tensor([-3.0, 3.0]).fmod(2)
        tensor([-1.,  1.])
        """
        if isinstance(other, _Scalar):
            return X.FmodScalar.apply(_with_scalar(self, other), divisor(other, self, "fmod"))
        return binary(X.Fmod, self, other)

    def __mod__(self, other):
        return self.remainder(other)

    def __rmod__(self, other):
        if other.__class__ is int:   # the int read in self's dtype (its low bits), as PyTorch reads it
            other = operand(other, self, "remainder")
        return as_tensor_like(other, self).remainder(self)

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        """NaN → ``nan``, +inf → ``posinf``, -inf → ``neginf`` (default: the dtype's largest/lowest finite value).

        >>> import chainrule as cr
        >>> cr.tensor([float("nan"), 1.0, float("-inf")]).nan_to_num(neginf=-9.0)
        tensor([ 0.,  1., -9.])
        """
        if self._data.dtype.kind != "f":
            return _no_grad_result(self._data.copy())
        return X.NanToNum.apply(self, nan, posinf, neginf)

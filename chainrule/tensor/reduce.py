"""Tensor's reductions (sum, mean, max, softmax, …) and matrix products (a mixin of ``Tensor``)."""

from __future__ import annotations

import itertools
import math
import warnings

from .. import backend
from ..backend import xp
from ..ops import linalg as L
from ..ops import reduce as R
from ..ops import shape_extra as SX
from . import core
from .args import (
    _correction,
    _floatify,
    _no_grad_result,
    as_tensor_like,
    dtype_arg,
    keepdim_arg,
    normalize_dim,
    normalize_dims,
    require_kind,
)
from .sorting import return_type

# max(dim)/min(dim) return PyTorch's named pairs: chainrule.return_types.max(values=..., indices=...)
_MAX, _MIN = return_type("max"), return_type("min")


class ReduceMethods:
    """Reductions along dimensions, and matrix products, of ``Tensor``."""

    __slots__ = ()

    # --- reductions ------------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, dtype=None, axis=None, keepdims=None):
        """The sum of all elements, or along ``dim`` (an int or a tuple of ints; ``axis`` is NumPy's name).

        ``keepdim=True`` keeps each reduced dimension with size 1, so the result broadcasts against self.
        Bools and integers sum as int64. Gradient: the upstream gradient copied to every summed element.

        >>> import chainrule as cr
        >>> x = cr.tensor([[1, 2], [3, 4]])
        >>> x.sum(), x.sum(0), x.sum(1, keepdim=True).shape
        (tensor(10), tensor([4, 6]), chainrule.Size([2, 1]))
        """
        keepdim = keepdim_arg(keepdim, keepdims, "sum")
        x = self.to(dtype_arg(dtype, "sum")) if dtype is not None else self
        out = R.Sum.apply(x, normalize_dims(dim if axis is None else axis, x.ndim, "sum"), keepdim)
        return out if dtype is None else _in_dtype(out, x)

    def mean(self, dim=None, keepdim=False, dtype=None, axis=None, keepdims=None):
        """The mean of all elements, or along ``dim`` (an int or a tuple); ``keepdim`` as for ``sum``.

        Floating-point input only, as in PyTorch (pass ``dtype=`` to convert). Gradient: g/n to each element.

        >>> import chainrule as cr
        >>> cr.tensor([[1.0, 2.0], [3.0, 4.0]]).mean(dim=1)
        tensor([1.5000, 3.5000])
        """
        keepdim = keepdim_arg(keepdim, keepdims, "mean")
        x = self.to(dtype_arg(dtype, "mean")) if dtype is not None else self
        if x._data.dtype.kind != "f":
            which = "Optional dtype" if dtype is not None else "Input dtype"
            raise RuntimeError(f"mean(): could not infer output dtype. {which} must be either a floating "
                               f"point or complex dtype. Got: {x.dtype.name.capitalize()}")
        return R.Mean.apply(x, normalize_dims(dim if axis is None else axis, x.ndim, "mean"), keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, correction=None, keepdims=None):
        """The variance Σ(x − mean)²/(N − correction), over all elements or along ``dim``.

        ``correction=1`` (Bessel's, the default) gives the unbiased sample variance; ``correction=0`` or
        ``unbiased=False`` divides by N.

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0, 2.0, 3.0, 4.0])
        >>> x.var(), x.var(correction=0)
        (tensor(1.6667), tensor(1.2500))
        """
        keepdim = keepdim_arg(keepdim, keepdims, "var")
        dims = normalize_dims(dim, self.ndim, "var")
        corr = _correction(unbiased, correction)
        _warn_dof(self, dims, corr, "var")
        require_kind(self, "var", error=RuntimeError)
        return R.Var.apply(self, dims, corr, keepdim)

    def std(self, dim=None, unbiased=None, keepdim=False, correction=None, keepdims=None):
        """The standard deviation, √var: arguments as for ``var`` (Bessel's correction by default)."""
        keepdim = keepdim_arg(keepdim, keepdims, "std")
        dims = normalize_dims(dim, self.ndim, "std")
        corr = _correction(unbiased, correction)
        _warn_dof(self, dims, corr, "std")
        require_kind(self, "std", error=RuntimeError)
        return R.Std.apply(self, dims, corr, keepdim)

    def prod(self, dim=None, keepdim=False, dtype=None, keepdims=None):
        """The product of all elements, or along one ``dim`` (a single int). Integers multiply as int64.

        Gradient: for each element, the product of all the others (correct even when some are zero).

        >>> import chainrule as cr
        >>> cr.tensor([[1, 2], [3, 4]]).prod(1)
        tensor([ 2, 12])
        """
        keepdim = keepdim_arg(keepdim, keepdims, "prod")
        x = self.to(dtype_arg(dtype, "prod")) if dtype is not None else self
        d = None if dim is None else normalize_dim(dim, x.ndim, "prod")
        out = R.Prod.apply(x, (d,) if d is not None and x.ndim else None, keepdim and d is not None)
        return out if dtype is None else _in_dtype(out, x)

    def _extremum(self, dim, keepdim, largest: bool):
        name = "max" if largest else "min"
        if dim is None:
            return (R.Max if largest else R.Min).apply(self, None, False)
        if isinstance(dim, core.Tensor):
            return self.maximum(dim) if largest else self.minimum(dim)
        d = normalize_dim(dim, self.ndim, name)
        pair = _MAX if largest else _MIN
        if self.ndim == 0:      # as PyTorch: a new tensor (MaxBackward0), not self, holding the one element
            return pair(R.MaxDim.apply(self.reshape(1), 0, False, largest), _no_grad_result(xp.asarray(0)))
        values = R.MaxDim.apply(self, d, keepdim, largest)
        indices = (xp.argmax if largest else xp.argmin)(self._data, axis=d, keepdims=keepdim)
        return pair(values, _no_grad_result(indices))

    def max(self, dim=None, keepdim=False, keepdims=None):
        """With no ``dim``, the largest element (a 0-d tensor); with ``dim``, a named pair
        ``(values, indices)`` of the maxima along it and where they are; with a tensor argument, the
        elementwise ``maximum``.

        Gradient: to the chosen element along ``dim``; for the full reduction, split evenly among ties.

        >>> import chainrule as cr
        >>> x = cr.tensor([[1, 5], [3, 2]])
        >>> x.max()
        tensor(5)
        >>> x.max(dim=1).indices
        tensor([1, 0])
        """
        return self._extremum(dim, keepdim_arg(keepdim, keepdims, "max"), True)

    def min(self, dim=None, keepdim=False, keepdims=None):
        """The smallest element, or ``(values, indices)`` along ``dim``, or the elementwise ``minimum``; see
        ``max``."""
        return self._extremum(dim, keepdim_arg(keepdim, keepdims, "min"), False)

    def amax(self, dim=(), keepdim=False, keepdims=None):
        """The maximum over ``dim`` (an int or a tuple; all dimensions by default), values only.

        Gradient: split evenly among tied maxima (``max(dim)`` picks one index instead).

        >>> import chainrule as cr
        >>> cr.tensor([[1, 5], [3, 2]]).amax(dim=0)
        tensor([3, 5])
        """
        keepdim = keepdim_arg(keepdim, keepdims, "amax")
        return R.Amax.apply(self, normalize_dims(dim, self.ndim, "amax"), keepdim)

    def amin(self, dim=(), keepdim=False, keepdims=None):
        """The minimum over ``dim`` (an int or a tuple; all by default), values only; see ``amax``."""
        keepdim = keepdim_arg(keepdim, keepdims, "amin")
        return R.Amin.apply(self, normalize_dims(dim, self.ndim, "amin"), keepdim)

    def argmax(self, dim=None, keepdim=False, keepdims=None):
        """The index of the largest element (in the flattened tensor if ``dim`` is None), as int64.

        The first one wins on ties. No gradient.

        >>> import chainrule as cr
        >>> cr.tensor([[1, 5], [3, 2]]).argmax(), cr.tensor([[1, 5], [3, 2]]).argmax(dim=1)
        (tensor(1), tensor([1, 0]))
        """
        keepdim = keepdim_arg(keepdim, keepdims, "argmax")
        require_kind(self, "argmax", "fiu", RuntimeError)
        if dim is None:
            _check_not_empty(self, None, "argmax")
            return _no_grad_result(xp.asarray(xp.argmax(self._data)))
        d = normalize_dim(dim, self.ndim, "argmax")
        _check_not_empty(self, d, "argmax")
        return _no_grad_result(xp.argmax(self._data, axis=d, keepdims=keepdim))

    def argmin(self, dim=None, keepdim=False, keepdims=None):
        """The index of the smallest element (in the flattened tensor if ``dim`` is None); see ``argmax``."""
        keepdim = keepdim_arg(keepdim, keepdims, "argmin")
        require_kind(self, "argmin", "fiu", RuntimeError)
        if dim is None:
            _check_not_empty(self, None, "argmin")
            return _no_grad_result(xp.asarray(xp.argmin(self._data)))
        d = normalize_dim(dim, self.ndim, "argmin")
        _check_not_empty(self, d, "argmin")
        return _no_grad_result(xp.argmin(self._data, axis=d, keepdims=keepdim))

    def logsumexp(self, dim, keepdim=False, keepdims=None):
        """log Σ exp(x) along ``dim``, computed as m + log Σ exp(x − m) with m = max, so it cannot overflow.

        Gradient: softmax(x) times the upstream gradient.

        >>> import chainrule as cr
        >>> cr.tensor([1000.0, 1000.0]).logsumexp(0)
        tensor(1000.6932)
        """
        keepdim = keepdim_arg(keepdim, keepdims, "logsumexp")
        return R.LogSumExp.apply(_floatify(self), normalize_dims(dim, self.ndim, "logsumexp"), keepdim)

    def norm(self, p="fro", dim=None, keepdim=False):
        """The p-norm (Σ|x|ᵖ)^(1/p) of all elements or along ``dim``: p = 2 (``"fro"``) by default,
        ``inf`` gives max|x|.

        >>> import chainrule as cr
        >>> cr.tensor([3.0, 4.0]).norm(), cr.tensor([3.0, -4.0]).norm(p=1)
        (tensor(5.), tensor(7.))
        """
        if p == "fro" or p is None:
            p = 2
        if isinstance(p, str):   # PyTorch raises RuntimeError here, not TypeError
            why = f"norm: order p={p!r} is not supported here: use a number, inf or 'fro' (for matrix norms " \
                  f"such as 'nuc', chainrule.linalg.matrix_norm)"
            raise RuntimeError(why)  # noqa: TRY004
        p = float(p) if p not in (math.inf, -math.inf) else p
        require_kind(self, "norm", error=RuntimeError)
        return R.Norm.apply(self, p, normalize_dims(dim, self.ndim, "norm"), keepdim)

    def cumsum(self, dim, dtype=None):
        """Running sums along ``dim``: out[i] = x[0] + … + x[i] (integers and bools as int64).

        Gradient: the reversed running sum of the upstream gradient.

        >>> import chainrule as cr
        >>> cr.tensor([1, 2, 3]).cumsum(0)
        tensor([1, 3, 6])
        """
        x = self.to(dtype_arg(dtype, "cumsum")) if dtype is not None else self
        out = R.Cumsum.apply(x, normalize_dim(dim, x.ndim, "cumsum"))
        return out if dtype is None else _in_dtype(out, x)

    def cumprod(self, dim, dtype=None):
        """Running products along ``dim`` (integers and bools become int64, as in PyTorch).

        >>> import chainrule as cr
        >>> cr.tensor([1, 2, 3]).cumprod(0)
        tensor([1, 2, 6])
        """
        x = self.to(dtype_arg(dtype, "cumprod")) if dtype is not None else self
        out = SX.Cumprod.apply(x if x._data.dtype.kind == "f" else x.to(backend.int64.np),
                               normalize_dim(dim, x.ndim, "cumprod"))
        return out if dtype is None else _in_dtype(out, x)

    def softmax(self, dim, dtype=None):
        """softmax(x)ᵢ = exp(xᵢ)/Σⱼ exp(xⱼ) along ``dim``: positive, summing to 1 (the max is subtracted
        first, so large inputs do not overflow). Gradient: s·(g − Σ g·s), with s the output.

        >>> import chainrule as cr
        >>> cr.tensor([1.0, 2.0, 3.0]).softmax(dim=0)
        tensor([0.0900, 0.2447, 0.6652])
        """
        x = self.to(dtype_arg(dtype, "softmax")) if dtype is not None else self
        require_kind(x, "softmax")
        return R.Softmax.apply(x, normalize_dim(dim, x.ndim, "softmax"))

    def log_softmax(self, dim, dtype=None):
        """x − logsumexp(x) along ``dim``: the log of softmax, without the underflow of ``softmax(x).log()``.

        >>> import chainrule as cr
        >>> cr.tensor([0.0, 1000.0]).log_softmax(dim=0)
        tensor([-1000.,     0.])
        """
        x = self.to(dtype_arg(dtype, "log_softmax")) if dtype is not None else self
        require_kind(x, "log_softmax")
        return R.LogSoftmax.apply(x, normalize_dim(dim, x.ndim, "log_softmax"))

    # --- linear algebra --------------------------------------------------------------------
    def matmul(self, other):
        """The matrix product (the ``@`` operator), with PyTorch's rules: 1-D·1-D is a dot product, 2-D·2-D a
        matrix product, a 1-D operand acts as a row (left) or column (right) vector, and leading batch
        dimensions broadcast. Gradient: ∂L/∂A = G·Bᵀ, ∂L/∂B = Aᵀ·G.

        >>> import chainrule as cr
        >>> cr.tensor([[1.0, 2.0], [3.0, 4.0]]) @ cr.tensor([1.0, 1.0])
        tensor([3., 7.])
        """
        other = as_tensor_like(other, self)
        a, b = _empty_batched_cast(self, other)
        _same_dtype("matmul", a, b)
        if a.ndim == 1 and b.ndim == 1:
            return L.Dot.apply(a, b)
        if a.ndim == 2 and b.ndim == 2:
            return L.Mm.apply(a, b)
        if (b.ndim > 2 or not a._data.flags.c_contiguous) and (a.requires_grad or b.requires_grad) \
                and _fold_copies(a, b):
            a, b = (a.clone(), b) if a.ndim >= b.ndim else (a, b.clone())
        return (L.Mv if b.ndim == 1 else L.Bmm).apply(a, b)

    def _checked_matmul(self, other, op: str, ndims: tuple, node):
        if self.ndim != ndims[0] or other.ndim != ndims[1]:
            raise RuntimeError(f"{op}: expected {ndims[0]}-D and {ndims[1]}-D tensors, got shapes "
                               f"{tuple(self.shape)} and {tuple(other.shape)}")
        k1, k2 = self.shape[-1], other.shape[0] if other.ndim == 1 else other.shape[-2]
        if k1 != k2:
            raise RuntimeError(f"{op}: cannot multiply {tuple(self.shape)} by {tuple(other.shape)}: inner "
                               f"dimensions {k1} and {k2} differ")
        a, b = _empty_batched_cast(self, other) if node is L.Bmm else (self, other)
        _same_dtype(op, a, b)
        return node.apply(a, b)

    def mm(self, mat2):
        """The product of two 2-D matrices, (n×k)·(k×m) → (n×m); no broadcasting (``matmul`` has it)."""
        return self._checked_matmul(mat2, "mm", (2, 2), L.Mm)

    def bmm(self, mat2):
        """Batched matrix product, (b×n×k)·(b×k×m) → (b×n×m); both 3-D with the same b, no broadcasting."""
        if self.ndim == 3 and mat2.ndim == 3 and self.shape[0] != mat2.shape[0]:
            raise RuntimeError(f"bmm: batch sizes differ: {tuple(self.shape)} and {tuple(mat2.shape)}")
        return self._checked_matmul(mat2, "bmm", (3, 3), L.Bmm)

    def mv(self, vec):
        """The matrix–vector product, (n×k)·(k) → (n)."""
        return self._checked_matmul(vec, "mv", (2, 1), L.Mv)

    def dot(self, other):
        """The dot product Σᵢ xᵢyᵢ of two 1-D tensors of the same length, as a 0-d tensor.

        >>> import chainrule as cr
        >>> cr.tensor([1.0, 2.0]).dot(cr.tensor([3.0, 4.0]))
        tensor(11.)
        """
        return self._checked_matmul(other, "dot", (1, 1), L.Dot)

    def inner(self, other):
        """The inner product over the last dimension: out[i…, j…] = Σₖ self[i…, k]·other[j…, k], of shape
        ``self.shape[:-1] + other.shape[:-1]`` (``dot`` for two 1-D tensors; a 0-d operand multiplies).

        Built as one matrix product of the two tensors flattened to (rows, k), so the gradient is
        matmul's: ∂L/∂self = G·other, ∂L/∂other = Gᵀ·self (flattened the same way).

        >>> import chainrule as cr
        >>> cr.tensor([[1.0, 2.0], [3.0, 4.0]]).inner(cr.tensor([1.0, 10.0]))
        tensor([21., 43.])
        """
        other = as_tensor_like(other, self)
        if self.ndim == 0 or other.ndim == 0:
            return self * other
        k = self._data.shape[-1]
        if other._data.shape[-1] != k:
            raise RuntimeError(f"inner: the last dimension must match on both input tensors but got shapes "
                               f"{tuple(self.shape)} and {tuple(other.shape)}")
        if self._data.dtype != other._data.dtype:
            raise RuntimeError(f"inner: both inputs should have the same dtype, got {self.dtype.name} and "
                               f"{other.dtype.name} (convert one with .to())")
        a_rows, b_rows = self._data.shape[:-1], other._data.shape[:-1]
        a = self.reshape(math.prod(a_rows), k)
        b = other.reshape(math.prod(b_rows), k)
        return L.Mm.apply(a, b.t()).view(a_rows + b_rows)    # always a view: Mm's result is contiguous

    def outer(self, other):
        """The outer product of two 1-D tensors: out[i, j] = x[i]·y[j] (``ger`` is an alias).

        >>> import chainrule as cr
        >>> cr.tensor([1, 2]).outer(cr.tensor([1, 10]))
        tensor([[ 1, 10],
                [ 2, 20]])
        """
        if self.ndim != 1 or other.ndim != 1:
            raise RuntimeError(f"outer: expected 1-D tensors, got shapes {tuple(self.shape)} and "
                               f"{tuple(other.shape)}")
        return self.unsqueeze(1) * other.unsqueeze(0)

    ger = outer


def _in_dtype(out, x):
    """An integer sum or product runs in int64: with ``dtype=`` it ends in x's (the asked) dtype, as PyTorch's."""
    return out if out._data.dtype == x._data.dtype else out.to(x._data.dtype)


def _empty_batched_cast(a, b):
    """PyTorch's batched product skips its dtype check when there is nothing to multiply (an empty result or
    inner size 0) and returns the second operand's dtype. ``matmul`` takes that path unless both operands
    are at most 2-D or it folds the larger one into a matrix (``_folds``); other mixed-dtype products raise
    (``_same_dtype``)."""
    if a._data.dtype == b._data.dtype or (a.ndim < 3 and b.ndim < 3) or _folds(a, b):
        return a, b
    a2 = tuple(a.shape) if a.ndim >= 2 else (1,) + tuple(a.shape)
    b2 = tuple(b.shape) if b.ndim >= 2 else tuple(b.shape) + (1,)
    try:
        batch = xp.broadcast_shapes(a2[:-2], b2[:-2])
    except ValueError:
        return a, b                      # the shape error comes later, with both shapes
    if 0 in batch or 0 in a2[-2:] or b2[-1] == 0:
        return a.to(b.dtype), b
    return a, b


def _folds(a, b) -> bool:
    """Whether PyTorch's matmul folds the larger operand (≥ 3-D, the other ≤ 2-D) into a matrix for mm/mv
    (its ``should_fold``: always when the smaller one requires grad, never for a 2-D first operand, else when
    the fold needs no copy) instead of broadcasting both into its batched kernel."""
    first = a.ndim >= b.ndim
    big, small = (a, b) if first else (b, a)
    if not (big.ndim >= 3 and small.ndim <= 2):
        return False
    if small.requires_grad:
        return True
    if a.ndim == 2:
        return False
    if big._data.size == 0:
        return True
    data = big._data
    shape, strides = list(data.shape), [st // data.itemsize for st in data.strides]
    if not first:                         # PyTorch folds b.mT
        shape[-2:], strides[-2:] = shape[:-3:-1], strides[:-3:-1]
    return all(strides[i] == strides[i + 1] * shape[i + 1] for i in range(len(shape) - 2))


def _fold_copies(a, b) -> bool:
    """Whether PyTorch's fold (``_folds``) copies the larger operand: its reshape into a matrix (of ``b.mT``
    when ``b`` is the larger) is not a view. Its mm then saves that copy, so changing the operand in place
    afterwards does not make backward raise; chainrule saves a clone there too."""
    first = a.ndim >= b.ndim
    if first and a._data.flags.c_contiguous or not _folds(a, b):     # (a contiguous a folds as a view)
        return False
    data = (a if first else b)._data
    shape, strides = list(data.shape), [st // data.itemsize for st in data.strides]
    if not first:
        shape[-2:], strides[-2:] = shape[:-3:-1], strides[:-3:-1]
    if 0 in shape:
        return False
    merged = [(n, st) for n, st in zip(shape[:-1], strides[:-1]) if n != 1]
    return any(st != nxt_st * nxt for (_, st), (nxt, nxt_st) in itertools.pairwise(merged))


def _same_dtype(op: str, a, b) -> None:
    """PyTorch's matrix products do not promote: both operands must have one dtype."""
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"{op}: expected both operands to have the same dtype, got {a.dtype.name} "
                           f"{tuple(a.shape)} and {b.dtype.name} {tuple(b.shape)}; convert one with "
                           f".to(other.dtype) first")


def _warn_dof(x, dims, correction: int, op: str) -> None:
    """PyTorch warns when N - correction <= 0 (the result is inf or NaN, e.g. var of one number).

    N is PyTorch's reduction factor, input numel / output numel: 0 for any empty input, even when
    the reduced dims are not empty (``zeros(0, 2).var(1, correction=0)`` warns)."""
    shape = x._data.shape
    n = math.prod(shape[d] for d in dims) if dims is not None else math.prod(shape)
    if x._data.size == 0:
        n = 0
    if n - correction <= 0:
        warnings.warn(f"{op}(): degrees of freedom is <= 0. Correction should be strictly less than the "
                      f"reduction factor (input numel divided by output numel).", UserWarning, stacklevel=3)


def _check_not_empty(x, d, op: str) -> None:
    if d is None and x._data.size == 0:
        raise IndexError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0 "
                         f"(shape {tuple(x.shape)}).")
    if d is not None and x.ndim and x._data.shape[d] == 0:
        raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size (shape {tuple(x.shape)}).")

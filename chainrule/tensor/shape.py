"""Tensor's shape methods: reshape, view, permute, expand, split, … (a mixin of ``Tensor``)."""

from __future__ import annotations

import math
import numbers

from .. import backend
from ..backend import xp
from ..ops import shape as S
from . import core
from .args import (
    normalize_dim,
    normalize_dims,
    shape_arg,
)
from .convert import TYPE_NAMES


class ShapeMethods:
    """Shape changes of ``Tensor``."""

    __slots__ = ()

    # --- shape -----------------------------------------------------------------------------
    def reshape(self, *shape):
        """The same elements in row-major order, in a new shape; one size may be -1 (inferred).

        A view of self where the memory layout allows, otherwise a copy: as in PyTorch, don't rely on which.

        >>> import chainrule as cr
        >>> cr.arange(6).reshape(2, -1)
        tensor([[0, 1, 2],
                [3, 4, 5]])
        """
        shape = shape_arg(shape, "reshape", "shape")
        out = S.Reshape.apply(self, shape)
        # an empty tensor always reshapes as a view in PyTorch (NumPy's may_share_memory says no for it)
        return out._view_of(self) if not self._data.size or xp.may_share_memory(out._data, self._data) else out

    def view(self, *shape, size=None, dtype=None):
        """The same elements in a new shape (one size may be -1), as a view sharing self's memory and version
        counter: writing into one changes the other. As in PyTorch, a shape that self's strides cannot
        express without copying (e.g. flattening a transposed matrix) is an error: use ``reshape``, which
        copies there.

        ``view(dtype)`` reads the same bytes as another dtype: no values are converted, and the result never
        requires grad (PyTorch's rules for dtypes of another element size).

        >>> import chainrule as cr
        >>> x = cr.zeros(4); v = x.view(2, 2); v[0, 1] = 7.0
        >>> x
        tensor([0., 7., 0., 0.])
        >>> cr.tensor([1.0]).view(cr.int32)
        tensor([1065353216], dtype=chainrule.int32)
        """
        if size is not None:
            shape = (size,)
        if dtype is None and len(shape) == 1 and not isinstance(shape[0], (numbers.Integral, tuple, list)):
            dtype = shape[0]
        if isinstance(dtype, str):
            raise TypeError(f"view(): expected a shape (ints) or a chainrule.dtype, got the str {dtype!r}")
        if dtype is not None:
            return self._view_dtype(dtype)
        return S.View.apply(self, shape_arg(shape, "view"))._view_of(self)

    def _view_dtype(self, dtype):
        """The same bytes read as ``dtype`` (PyTorch's ``view(dtype)``): no values converted, no gradient
        (the result never requires grad), but the memory and version counter are shared with self.

        For a dtype of another element size the last dimension changes size by the ratio, so it must be
        contiguous (stride 1); PyTorch's rules and errors.

        >>> import chainrule as cr
        >>> cr.tensor([[1.0, 2.0]]).view(cr.int64)
        tensor([[4611686019492741120]])
        """
        new = backend.to_dtype(dtype).np
        a = self._data
        if new.itemsize != a.itemsize:
            _check_dtype_view(self, new)
        out = core.Tensor._make(a.view(new))
        out._version_box = self._version_box
        return out

    def view_as(self, other):
        """``view(other.shape)``."""
        return self.view(_other(other, "view_as")._data.shape)

    def reshape_as(self, other):
        """``reshape(other.shape)``."""
        return self.reshape(_other(other, "reshape_as")._data.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        """Merge dimensions ``start_dim`` … ``end_dim`` (all, by default) into one; a 0-d tensor becomes 1-D.

        >>> import chainrule as cr
        >>> cr.zeros(2, 3, 4).flatten(1).shape
        chainrule.Size([2, 12])
        """
        if self.ndim == 0:
            return self.reshape(1)
        s = normalize_dim(start_dim, self.ndim, "flatten")
        e = normalize_dim(end_dim, self.ndim, "flatten")
        if s > e:
            raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
        if s == e:      # nothing to merge: PyTorch returns self itself
            return self
        shp = self._data.shape
        return self.reshape(shp[:s] + (math.prod(shp[s:e + 1]),) + shp[e + 1:])

    def unflatten(self, dim, sizes):
        """Split dimension ``dim`` into ``sizes`` (one may be -1); the inverse of ``flatten``.

        >>> import chainrule as cr
        >>> cr.zeros(2, 12).unflatten(1, (3, -1)).shape
        chainrule.Size([2, 3, 4])
        """
        d = normalize_dim(dim, self.ndim, "unflatten")
        if not isinstance(sizes, tuple | list):
            raise TypeError(f"unflatten(): argument 'sizes' (position 2) must be tuple of ints, not "
                            f"{type(sizes).__name__} ({sizes!r}); write unflatten({dim}, ({sizes!r}, ...))")
        sizes = list(shape_arg(tuple(sizes), "unflatten", "sizes"))
        if -1 in sizes:
            known = math.prod(s for s in sizes if s != -1)
            if known == 0:
                raise RuntimeError(f"unflatten: cannot reshape dim {dim} of 0 elements into sizes {tuple(sizes)}: "
                                   f"the unspecified size -1 could be anything (ambiguous); give every size")
            sizes[sizes.index(-1)] = self._data.shape[d] // known
        if math.prod(sizes) != self._data.shape[d]:
            raise RuntimeError(f"unflatten: sizes {tuple(sizes)} don't multiply up to the size of dim {dim} "
                               f"({self._data.shape[d]}) in the input of shape {tuple(self.shape)}")
        shp = self._data.shape
        return self.reshape(shp[:d] + tuple(sizes) + shp[d + 1:])

    def squeeze(self, dim=None):
        """Remove dimensions of size 1: all of them, or only those named in ``dim`` (an int or a tuple; a
        named dimension whose size is not 1 is left alone). A view.

        >>> import chainrule as cr
        >>> x = cr.zeros(1, 3, 1)
        >>> x.squeeze().shape, x.squeeze(0).shape
        (chainrule.Size([3]), chainrule.Size([3, 1]))
        """
        shp = self._data.shape
        if dim is None:
            return S.Squeeze.apply(self, tuple(n for n in shp if n != 1))._view_of(self)
        dims = normalize_dims(dim, self.ndim, "squeeze") or ()
        new = tuple(n for i, n in enumerate(shp) if not (i in dims and n == 1))
        return S.SqueezeDim.apply(self, new)._view_of(self)

    def unsqueeze(self, dim):
        """Insert a dimension of size 1 at position ``dim`` (-1 appends it at the end). A view.

        >>> import chainrule as cr
        >>> cr.tensor([1, 2]).unsqueeze(1)
        tensor([[1],
                [2]])
        """
        d = normalize_dim(dim, self.ndim + 1, "unsqueeze")
        shp = self._data.shape
        return S.Unsqueeze.apply(self, shp[:d] + (1,) + shp[d:])._view_of(self)

    def permute(self, *dims):
        """Reorder the dimensions: output dimension i is input dimension ``dims[i]``. A view (no data moves).

        Gradient: the upstream gradient permuted back by the inverse permutation.

        >>> import chainrule as cr
        >>> cr.zeros(2, 3, 4).permute(2, 0, 1).shape
        chainrule.Size([4, 2, 3])
        """
        dims = shape_arg(dims, "permute", "dims") if dims else ()
        if len(dims) != self.ndim:
            raise RuntimeError(f"permute: number of dims in {dims} doesn't match the tensor's {self.ndim} "
                               f"dimensions (shape {tuple(self.shape)})")
        perm = tuple(normalize_dim(d, self.ndim, "permute") for d in dims)
        if len(set(perm)) != len(perm):
            raise RuntimeError(f"permute: repeated dim in {dims}")
        return S.Permute.apply(self, perm)._view_of(self)

    def transpose(self, dim0, dim1):
        """Swap dimensions ``dim0`` and ``dim1`` (``swapaxes``, ``swapdims`` are aliases). A view.

        >>> import chainrule as cr
        >>> cr.tensor([[1, 2, 3]]).transpose(0, 1)
        tensor([[1],
                [2],
                [3]])
        """
        if self.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):   # a new view, as PyTorch's (not self)
            return S.Transpose.apply(self, tuple(range(self.ndim)))._view_of(self)
        a = normalize_dim(dim0, self.ndim, "transpose")
        b = normalize_dim(dim1, self.ndim, "transpose")
        perm = list(range(self.ndim))
        perm[a], perm[b] = perm[b], perm[a]
        return S.Transpose.apply(self, tuple(perm))._view_of(self)

    swapaxes = swapdims = transpose

    def t(self):
        """The transpose of a matrix; a 1-D or 0-d tensor is returned as it is. A view. (For more than 2
        dimensions use ``transpose``, ``mT`` or ``permute``.)
        """
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return S.TransposeT.apply(self, tuple(range(self.ndim))[::-1])._view_of(self)

    def expand(self, *sizes):
        """Broadcast dimensions of size 1 to larger sizes (and prepend new dimensions) without copying: a
        view in which the repeated elements share memory, so write into a ``clone()``, not into it; -1
        keeps a size.

        Gradient: the upstream gradient summed over the expanded dimensions.

        >>> import chainrule as cr
        >>> cr.tensor([[1], [2]]).expand(2, 3)
        tensor([[1, 1, 1],
                [2, 2, 2]])
        """
        if not sizes:
            raise TypeError('expand() missing 1 required positional arguments: "size" (for a 0-d tensor, '
                            'expand(()) keeps it as it is)')
        sizes = shape_arg(sizes, "expand")
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal "
                               f"to the number of dimensions in the tensor ({self.ndim})")
        if -1 in sizes[:lead]:
            raise RuntimeError(f"expand: the expanded size -1 isn't allowed in a leading, non-existing "
                               f"dimension (sizes {sizes} for a tensor of shape {tuple(self.shape)})")
        shape = tuple(self._data.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
        if shape == self._data.shape:   # a new (writable) view, as PyTorch's, not self
            return S.Reshape.apply(self, shape)._view_of(self)
        return S.Expand.apply(self, shape)._view_of(self)

    def expand_as(self, other):
        """``expand(other.shape)``."""
        return self.expand(_other(other, "expand_as")._data.shape)

    def broadcast_to(self, shape):
        """``expand(shape)`` (NumPy's name)."""
        return self.expand(shape_arg((shape,)))


def _other(other, op: str):
    """The tensor whose shape ``view_as``/``reshape_as``/``expand_as`` copy (a list is PyTorch's TypeError)."""
    if not isinstance(other, core.Tensor):
        raise TypeError(f"{op}(): argument 'other' (position 1) must be Tensor, not {type(other).__name__}")
    return other


def _check_dtype_view(t, new) -> None:
    """PyTorch's rules for ``view(dtype)`` between element sizes: the last dimension must be contiguous,
    and when elements grow it must split evenly, as must the other strides and the offset into memory."""
    a = t._data
    what = f"to view {TYPE_NAMES[a.dtype.name]} as {TYPE_NAMES[new.name]} (different element sizes)"
    if a.ndim == 0:
        raise RuntimeError(f"view: self.dim() cannot be 0 {what}; the 0-d tensor has no last dimension to resize")
    strides = [s // a.itemsize for s in a.strides]
    if strides[-1] != 1:
        raise RuntimeError(f"view: self.stride(-1) must be 1 {what}, but got {strides[-1]} (shape "
                           f"{tuple(t.shape)}, strides {tuple(strides)}); call .contiguous() first")
    if new.itemsize < a.itemsize:
        return
    ratio = new.itemsize // a.itemsize
    if a.shape[-1] % ratio:
        raise RuntimeError(f"view: self.size(-1) must be divisible by {ratio} {what}, but got {a.shape[-1]} "
                           f"(shape {tuple(t.shape)})")
    root = t._base if t._base is not None else t
    offset = (a.ctypes.data - root._data.ctypes.data) // a.itemsize
    if offset % ratio:
        raise RuntimeError(f"view: self.storage_offset() must be divisible by {ratio} {what}, but got {offset}")
    for i, s in enumerate(strides[:-1]):
        if s % ratio:
            raise RuntimeError(f"view: self.stride({i}) must be divisible by {ratio} {what}, but got {s} "
                               f"(shape {tuple(t.shape)}, strides {tuple(strides)})")

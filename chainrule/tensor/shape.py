"""Tensor's shape methods: reshape, view, permute, expand, split, … (a mixin of ``Tensor``)."""

from __future__ import annotations

import math
import numbers

from ..ops import shape as S
from .args import (
    normalize_dim,
    normalize_dims,
    shape_arg,
)


class ShapeMethods:
    """Shape changes of ``Tensor``."""

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
        return S.View.apply(self, shape_arg(shape))._view_of(self)

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
            return S.Squeeze.apply(self, tuple(n for n in shp if n != 1))._view_of(self)
        dims = normalize_dims(dim, self.ndim, "squeeze") or ()
        new = tuple(n for i, n in enumerate(shp) if not (i in dims and n == 1))
        return S.SqueezeDim.apply(self, new)._view_of(self)

    def unsqueeze(self, dim):
        d = normalize_dim(dim, self.ndim + 1, "unsqueeze")
        shp = self._data.shape
        return S.Unsqueeze.apply(self, shp[:d] + (1,) + shp[d:])._view_of(self)

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
        return S.Transpose.apply(self, tuple(perm))._view_of(self)

    swapaxes = swapdims = transpose

    def t(self):
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return S.TransposeT.apply(self, tuple(range(self.ndim))[::-1])._view_of(self)

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
        node = S.Split if isinstance(split_size_or_sections, numbers.Integral) else S.SplitWithSizes
        return tuple(part._view_of(self) for part in node.apply(self, sizes, d))

    def chunk(self, chunks: int, dim=0):
        d = normalize_dim(dim, self.ndim, "chunk")
        n = self._data.shape[d]
        return self.split(max(1, -(-n // chunks)), d)

    def unbind(self, dim=0):
        d = normalize_dim(dim, self.ndim, "unbind")
        return tuple(part._view_of(self) for part in S.Unbind.apply(self, d))

    def tril(self, diagonal=0):
        return S.Tri.apply(self, diagonal, True)

    def triu(self, diagonal=0):
        return S.Tri.apply(self, diagonal, False)

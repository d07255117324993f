"""Tensor's rearranging methods (a mixin of ``Tensor``): repeat, tile, flip, split, chunk, unbind,
tril/triu, narrow, roll, rot90, diagonal, movedim, repeat_interleave, diff. Each moves or copies
elements without arithmetic, so its gradient puts each upstream value back where it came from."""

from __future__ import annotations

import numbers

from .. import backend
from ..backend import xp
from ..ops import shape as S
from ..ops import shape_extra as SX
from . import core, views
from .args import (
    as_tensor_like,
    int_arg,
    normalize_dim,
    shape_arg,
)


def _int_or_ints(value, op: str, name: str):
    """An int (a 0-d int tensor counts) or a list of them, checked by ``shape_arg`` (``1.5`` is a TypeError)."""
    if isinstance(value, numbers.Integral):
        return value
    sizes = shape_arg((value,), op, name)
    return sizes[0] if isinstance(value, core.Tensor) else list(sizes)


class RearrangeMethods:
    """Rearranging methods of ``Tensor``."""

    __slots__ = ()

    def repeat(self, *reps):
        """Tile the data ``reps[i]`` times along dimension i (a copy, unlike ``expand``); extra leading reps
        add new dimensions.

        >>> import chainrule as cr
        >>> cr.tensor([1, 2]).repeat(2)
        tensor([1, 2, 1, 2])
        >>> cr.tensor([1, 2]).repeat(2, 1)
        tensor([[1, 2],
                [1, 2]])
        """
        if not reps:    # x.repeat(()) is allowed (for a 0-d x), a call without arguments is not
            raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
        reps = shape_arg(reps)
        if len(reps) < self.ndim:
            raise RuntimeError(f"repeat: number of repeat dims ({len(reps)}) can not be smaller than number "
                               f"of dimensions of tensor ({self.ndim})")
        if min(reps, default=0) < 0:
            raise RuntimeError(f"repeat: Trying to create tensor with negative dimension: repeats {reps} must "
                               f"all be >= 0 (tensor of shape {tuple(self.shape)})")
        return S.Repeat.apply(self, reps)

    def tile(self, *reps):
        """``repeat``, but fewer reps than dimensions are padded with 1s in front (NumPy's ``tile``)."""
        reps = shape_arg(reps)
        return self.repeat((1,) * (self.ndim - len(reps)) + reps)

    def flip(self, *dims):
        """Reverse the order of the elements along each of ``dims``. Gradient: flipped back the same way.

        >>> import chainrule as cr
        >>> cr.tensor([[1, 2], [3, 4]]).flip(1)
        tensor([[2, 1],
                [4, 3]])
        """
        if not dims:
            raise TypeError("flip() missing 1 required positional arguments: \"dims\" (the dimensions to reverse, "
                            "e.g. x.flip(0))")
        dims = tuple(normalize_dim(d, self.ndim, "flip") for d in shape_arg(dims))
        return S.Flip.apply(self, dims if self.ndim else ())   # a 0-d tensor has nothing to reverse

    def fliplr(self):
        """``flip(1)``: reverse the order of the columns."""
        return self.flip(1)

    def flipud(self):
        """``flip(0)``: reverse the order of the rows."""
        return self.flip(0)

    def split(self, split_size_or_sections, dim=0):
        """Cut into pieces along ``dim``: pieces of ``split_size`` (the last one may be smaller), or one piece
        per size in a list (the sizes must add up to the dimension). A tuple of views.

        >>> import chainrule as cr
        >>> cr.arange(5).split(2)
        (tensor([0, 1]), tensor([2, 3]), tensor([4]))
        >>> cr.arange(5).split([1, 4])
        (tensor([0]), tensor([1, 2, 3, 4]))
        """
        split_size_or_sections = _int_or_ints(split_size_or_sections, "split", "split_size_or_sections")
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
        return views.multi_output(self, node.apply(self, sizes, d), "Split")

    def chunk(self, chunks: int, dim=0):
        """Split into ``chunks`` pieces of ⌈n/chunks⌉ along ``dim`` (so there may be fewer pieces than asked).

        >>> import chainrule as cr
        >>> cr.arange(5).chunk(2)
        (tensor([0, 1, 2]), tensor([3, 4]))
        """
        int_arg(chunks, "chunk", "chunks")
        d = normalize_dim(dim, self.ndim, "chunk")
        if chunks <= 0:
            raise RuntimeError(f"chunk: expects `chunks` to be greater than 0, got: {chunks}")
        n = self._data.shape[d]
        if n == 0:
            return self.split([0] * chunks, d)      # PyTorch: an empty dim gives `chunks` empty pieces
        return self.split(-(-n // chunks), d)

    def unbind(self, dim=0):
        """The slices along ``dim`` as a tuple of views, with that dimension removed.

        >>> import chainrule as cr
        >>> cr.tensor([[1, 2], [3, 4]]).unbind(1)
        (tensor([1, 3]), tensor([2, 4]))
        """
        if self.ndim == 0:
            raise IndexError(f"unbind: Dimension specified as {dim} but tensor has no dimensions (a 0-d tensor "
                             f"holds one number; use .item() or .reshape(1))")
        d = normalize_dim(dim, self.ndim, "unbind")
        return views.multi_output(self, S.Unbind.apply(self, d), "Unbind")

    def tril(self, diagonal=0):
        """The lower triangle of the matrix (of the last two dimensions): elements above the ``diagonal``-th
        diagonal set to 0 (diagonal > 0 keeps more, < 0 fewer). Gradient: masked the same way.

        >>> import chainrule as cr
        >>> cr.ones(3, 3).tril()
        tensor([[1., 0., 0.],
                [1., 1., 0.],
                [1., 1., 1.]])
        """
        return S.Tri.apply(_matrices(self, "tril"), diagonal, True)

    def triu(self, diagonal=0):
        """The upper triangle: elements below the ``diagonal``-th diagonal set to 0; see ``tril``."""
        return S.Tri.apply(_matrices(self, "triu"), diagonal, False)

    def narrow(self, dim, start, length):
        """The slice ``start:start + length`` along ``dim`` (a view, as ``t[..., start:start + length]``).

        >>> import chainrule as cr
        >>> cr.arange(5).narrow(0, 1, 3)
        tensor([1, 2, 3])
        """
        d = normalize_dim(dim, self.ndim, "narrow")
        n = self._data.shape[d]
        for name, value in (("start", start), ("length", length)):
            if isinstance(value, float | bool) or not isinstance(value, numbers.Integral | core.Tensor):
                raise TypeError(f"narrow(): argument '{name}' must be an int, got {type(value).__name__} "
                                f"({value!r})")
        start, length = int(start), int(length)
        if not -n <= start <= n:
            raise IndexError(f"narrow: start out of range (expected to be in range of [{-n}, {n}], but got "
                             f"{start}) for dim {dim} of a tensor of shape {tuple(self.shape)}")
        if length < 0:
            raise RuntimeError(f"narrow(): length must be non-negative, got {length}")
        if start < 0:
            start += n
        if start + length > n:
            raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({n}) "
                               f"of dim {dim} (tensor of shape {tuple(self.shape)})")
        return self[(slice(None),) * d + (slice(start, start + length),)]

    def roll(self, shifts, dims=None):
        """Shift elements cyclically by ``shifts`` along ``dims`` (the flattened tensor when dims is None).

        >>> import chainrule as cr
        >>> cr.arange(4).roll(1)
        tensor([3, 0, 1, 2])
        """
        shifts = _int_or_ints(shifts, "roll", "shifts")
        if dims is None:
            if not isinstance(shifts, numbers.Integral):
                if len(shifts) != 1:
                    raise RuntimeError(f"roll: shifts {tuple(shifts)} needs dims of the same length")
                shifts = shifts[0]
            return SX.Roll.apply(self, int(shifts), None)
        if isinstance(shifts, numbers.Integral) and isinstance(dims, numbers.Integral):
            return SX.Roll.apply(self, int(shifts), normalize_dim(dims, self.ndim, "roll"))
        shifts = (shifts,) if isinstance(shifts, numbers.Integral) else tuple(int(s) for s in shifts)
        dims = (dims,) if isinstance(dims, numbers.Integral) else tuple(dims)
        if len(shifts) != len(dims):
            raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims: {len(dims)}")
        return SX.Roll.apply(self, shifts, tuple(normalize_dim(d, self.ndim, "roll") for d in dims))

    def rot90(self, k=1, dims=(0, 1)):
        """Rotate by ``k`` quarter turns in the plane ``dims``, from the first axis towards the second.

        >>> import chainrule as cr
        >>> cr.tensor([[1, 2], [3, 4]]).rot90()
        tensor([[2, 4],
                [1, 3]])
        """
        dims = tuple(dims)
        if len(dims) != 2:
            raise RuntimeError(f"rot90: expected total rotation dims == 2, but got dims = {len(dims)}")
        if self.ndim < 2:
            raise RuntimeError(f"rot90: expected total dims >= 2, but got total dims = {self.ndim}")
        a, b = (normalize_dim(d, self.ndim, "rot90") for d in dims)
        if a == b:
            raise RuntimeError(f"rot90: expected rotation dims to be different, but got dim0 = {dims[0]} and "
                               f"dim1 = {dims[1]}")
        return SX.Rot90.apply(self, int(k) % 4, (a, b))

    def diagonal(self, offset=0, dim1=0, dim2=1):
        """The diagonal ``offset`` above (below, if negative) the main one, in the plane (dim1, dim2), as the
        last dimension: a view, as in PyTorch (writing into it changes ``self``).

        >>> import chainrule as cr
        >>> cr.arange(9).reshape(3, 3).diagonal(1)
        tensor([1, 5])
        """
        a = normalize_dim(dim1, self.ndim, "diagonal")
        b = normalize_dim(dim2, self.ndim, "diagonal")
        if a == b:
            raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
        return SX.Diagonal.apply(self, int(offset), a, b)._view_of(self)

    def movedim(self, source, destination):
        """Move dimension(s) ``source`` to position(s) ``destination``, keeping the others in order.

        >>> import chainrule as cr
        >>> cr.zeros(2, 3, 4).movedim(0, -1).shape
        chainrule.Size([3, 4, 2])
        """
        src = (source,) if isinstance(source, numbers.Integral) else tuple(source)
        dst = (destination,) if isinstance(destination, numbers.Integral) else tuple(destination)
        if len(src) != len(dst):
            raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} dims) should "
                               f"contain the same number of dims as destination ({list(dst)} dims)")
        src = tuple(normalize_dim(d, self.ndim, "movedim") for d in src)
        dst = tuple(normalize_dim(d, self.ndim, "movedim") for d in dst)
        if len(set(src)) != len(src) or len(set(dst)) != len(dst):
            raise RuntimeError(f"movedim: repeated dim in source {source} or destination {destination}")
        if self.ndim == 0:
            return self.permute()     # a 0-d tensor has one way to order its dims: a view of itself
        order = [d for d in range(self.ndim) if d not in src]
        for s, d in sorted(zip(dst, src)):
            order.insert(s, d)
        return self.permute(*order)

    moveaxis = movedim

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        """Repeat each element ``repeats`` times (an int, or one count per element) along ``dim``
        (of the flattened tensor when dim is None).

        >>> import chainrule as cr
        >>> cr.tensor([1, 2]).repeat_interleave(2)
        tensor([1, 1, 2, 2])
        """
        x = self.reshape(-1) if dim is None else self
        d = 0 if dim is None else normalize_dim(dim, self.ndim, "repeat_interleave")
        counts = getattr(repeats, "_data", None)
        if counts is not None and counts.size != 1:
            if counts.ndim != 1 or counts.shape[0] != x.shape[d]:
                raise RuntimeError(f"repeat_interleave: repeats must have the same size as input along dim "
                                   f"{d}: {tuple(counts.shape)} vs {x.shape[d]}")
            if (counts < 0).any():
                raise RuntimeError("repeat_interleave: repeats can not be negative")
            return x.index_select(d, core.Tensor._make(xp.repeat(xp.arange(x.shape[d]), counts)))
        r = int(counts.reshape(()) if counts is not None else repeats)
        if r < 0:
            raise RuntimeError(f"repeat_interleave: repeats can not be negative, got {r}")
        shp = x._data.shape
        wide = x.unsqueeze(d + 1).expand(shp[:d + 1] + (r,) + shp[d + 1:]).contiguous()
        return wide.view(shp[:d] + (shp[d] * r,) + shp[d + 1:])     # PyTorch's grad_fn: ViewBackward0

    def diff(self, n=1, dim=-1, prepend=None, append=None):
        """The n-th forward difference along ``dim``: ``x[1:] - x[:-1]``, applied ``n`` times (``!=`` for bools),
        after joining ``prepend``/``append`` on either side.

        >>> import chainrule as cr
        >>> cr.tensor([1, 4, 9, 16]).diff()
        tensor([3, 5, 7])
        """
        d = normalize_dim(dim, self.ndim, "diff")
        if self.ndim == 0:
            raise RuntimeError("diff expects input to be at least one-dimensional")
        x = self
        if prepend is not None or append is not None:
            parts = [as_tensor_like(p, self) for p in (prepend, self, append) if p is not None]
            dtype = parts[0].dtype
            for p in parts[1:]:
                dtype = backend.promote_types(dtype, p.dtype)
            for p in parts:
                if p.ndim != self.ndim or any(a != b for i, (a, b) in enumerate(zip(p.shape, self.shape)) if i != d):
                    raise RuntimeError(f"diff expects prepend or append to be the same shape as input, except "
                                       f"along dim {d}: got {tuple(p.shape)} for input {tuple(self.shape)}")
            x = S.Cat.apply(d, *[p.to(dtype) for p in parts])
        for _ in range(n):
            m = x._data.shape[d]
            if m == 0:
                break
            hi, lo = x.narrow(d, 1, m - 1), x.narrow(d, 0, m - 1)
            x = hi != lo if x._data.dtype == xp.bool_ else hi - lo
        return x


def _matrices(t, op: str):
    if t.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got shape {tuple(t.shape)}")
    return t

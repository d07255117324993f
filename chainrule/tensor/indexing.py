"""Tensor's indexing methods, reading and writing (a mixin of ``Tensor``): ``t[i]``, ``t[i] = v``,
gather, scatter, index_select, masked_fill."""
from __future__ import annotations

from ..autograd.grad_mode import state
from ..backend import xp
from ..ops import elementwise as E
from ..ops import indexing as I
from ..ops import shape as S
from . import core, views
from .args import (
    _changed,
    _normalize_index,
    _raw,
    normalize_dim,
    number_arg,
)
from .scalars import F32_MAX, float_value_fits, int_value


def _index_is_tensor(index, op: str) -> None:
    """A list or a number as ``index`` is a TypeError, as in PyTorch (an array is chainrule's own internal form)."""
    if not isinstance(index, core.Tensor | xp.ndarray):
        raise TypeError(f"{op}(): argument 'index' must be Tensor, not {type(index).__name__}; make it a tensor "
                        f"first: chainrule.tensor({index!r})")


def _new(t, shape):
    """``t`` (a result no one else holds) in ``shape``, not as a view: PyTorch's gather/scatter of a 0-d tensor
    return new tensors, so an in-place change of the result is recorded as on any result."""
    return t if tuple(t.shape) == tuple(shape) else S.Reshape.apply(t, shape)


class IndexingMethods:
    """Indexing (read and write) of ``Tensor``."""

    __slots__ = ()

    def __getitem__(self, index):
        index = _normalize_index(index, self._data.ndim)
        basic = I.is_basic(index)
        if not basic and any(type(i) is int for i in index):
            # PyTorch selects the integer positions first (views), then indexes with the tensors, so
            # x[1, :, idx] puts idx's dims last; NumPy would treat the int as an array and move them first.
            first = tuple(i if i is None or i is Ellipsis or isinstance(i, (int, slice)) else slice(None)
                          for i in index)
            rest = tuple(i for i in (slice(None) if isinstance(i, slice) or i is None else i
                                     for i in index if type(i) is not int))
            return self[first][rest]
        try:
            out = I.Index.apply(self, index)
        except IndexError as e:
            raise _index_error(self, index, e) from None
        if basic:
            out._view_of(self)
        return out

    def __setitem__(self, index, value):
        index = _normalize_index(index, self._data.ndim)
        T = core.Tensor
        if isinstance(value, T) and value._data.dtype != self._data.dtype and \
                any(getattr(i, "dtype", None) is not None and (i.dtype.kind in "iu" or i.dtype.kind == "b"
                                                               and value._data.size != 1) for i in index):
            # integer-tensor keys (and a mask with a value of other than one element: one is masked_fill) go
            # through PyTorch's index_put_, which does not convert the value
            raise RuntimeError(f"setitem: Index put requires the source and destination dtypes match, got "
                               f"{self.dtype.name} for the destination and {value.dtype.name} for the source "
                               f"(convert the value with .to({self.dtype.name}))")
        positions = views.expanded_positions(self)
        if positions is not None and views.repeats(positions) and any(getattr(i, "dtype", None) is not None
                                                                      for i in index):
            # an index put (integer or mask keys) into an expand()ed view: PyTorch writes there
            new, written = self._data.copy(), xp.zeros(self._data.shape, bool)
            try:
                new[index] = I.fit_value(new, index, _raw(value))
            except (ValueError, IndexError) as e:
                raise _setitem_error(self, index, _raw(value), e) from None
            written[index] = True
            views.fill_overlapping(self, positions, written, new, "setitem")
            return
        if state.enabled and (self.requires_grad or (isinstance(value, T) and value.requires_grad)):
            v = value if isinstance(value, T) else T._make(xp.asarray(value, self._data.dtype))
            try:
                self._inplace(lambda old: I.IndexPut.apply(old, index, v.to(old._data.dtype)), "setitem")
            except ValueError as e:
                raise _setitem_error(self, index, _raw(value), e) from None
            return
        try:
            self._data[index] = I.fit_value(self._data, index, _raw(value))
        except (ValueError, IndexError) as e:
            raise _setitem_error(self, index, _raw(value), e) from None
        _changed(self, "setitem")

    def gather(self, dim, index):
        """Pick values along ``dim`` by index: for dim=0, out[i][j] = self[index[i][j]][j]; for dim=1,
        out[i][j] = self[i][index[i][j]]. ``index`` has self's number of dimensions; the result has its shape.

        Gradient: the upstream gradient scatter-added back to the positions that were read.

        >>> import chainrule as cr
        >>> cr.tensor([[1, 2], [3, 4]]).gather(1, cr.tensor([[1], [0]]))
        tensor([[2],
                [3]])
        """
        _index_is_tensor(index, "gather")
        if self.ndim == 0:   # a 0-d input acts as shape (1,); the result has the index's shape
            return _new(self.reshape(1).gather(0, _flat_index(index, "gather")), _raw(index).shape)
        d = normalize_dim(dim, self.ndim, "gather")
        idx = _check_index("gather", self, d, index)
        return I.Gather.apply(self, d, idx)

    def scatter(self, dim, index, src=None, value=None):
        """A copy of self with values written at ``index`` along ``dim``: for dim=0,
        out[index[i][j]][j] = src[i][j] (or the number ``value``). Where an index repeats, which write wins is
        unspecified; ``scatter_`` is the in-place form.

        >>> import chainrule as cr
        >>> cr.zeros(3).scatter(0, cr.tensor([2, 0]), cr.tensor([5.0, 7.0]))
        tensor([7., 0., 5.])
        """
        src = value if src is None else src
        if self.ndim == 0:
            flat = src.reshape(-1) if isinstance(src, core.Tensor) else src
            return _new(self.reshape(1).scatter(0, _flat_index(index, "scatter"), flat), ())
        d = normalize_dim(dim, self.ndim, "scatter")
        idx = _check_index("scatter", self, d, index, src)
        return I.Scatter.apply(self, d, idx, src)

    def scatter_add(self, dim, index, src):
        """A copy of self with ``src`` added at ``index`` along ``dim`` (for dim=0,
        out[index[i][j]][j] += src[i][j]); repeated indices accumulate.

        >>> import chainrule as cr
        >>> cr.zeros(3).scatter_add(0, cr.tensor([0, 0, 2]), cr.tensor([1.0, 2.0, 3.0]))
        tensor([3., 0., 3.])
        """
        if self.ndim == 0:
            return _new(self.reshape(1).scatter_add(0, _flat_index(index, "scatter_add"), src.reshape(-1)), ())
        d = normalize_dim(dim, self.ndim, "scatter_add")
        idx = _check_index("scatter_add", self, d, index, src)
        return self + I.ScatterAdd.apply(src, self._data.shape, d, idx)

    def index_select(self, dim, index):
        """The slices at positions ``index`` (a 1-D integer tensor) along ``dim``, as a new tensor (a copy,
        unlike basic slicing). Gradient: added back to the selected slices.

        >>> import chainrule as cr
        >>> cr.tensor([[1, 2], [3, 4], [5, 6]]).index_select(0, cr.tensor([2, 0]))
        tensor([[5, 6],
                [1, 2]])
        """
        d = normalize_dim(dim, self.ndim, "index_select")
        _index_is_tensor(index, "index_select")
        idx = _raw(index)
        if idx.ndim > 1:
            raise IndexError(f"index_select: index must be 0-D or 1-D, got shape {idx.shape}")
        if idx.dtype.kind not in "iu":
            raise RuntimeError(f"index_select: Expected dtype int32 or int64 for index, got {idx.dtype}; "
                               f"convert it with index.long()")
        n = self._data.shape[d] if self.ndim else 1
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            bad = int(idx.max()) if idx.max() >= n else int(idx.min())
            raise IndexError(f"index_select: index {bad} is out of range for dimension {d} of size {n} "
                             f"(tensor of shape {tuple(self.shape)}); indices must be in [0, {n})")
        return I.IndexSelect.apply(self, idx.reshape(-1), d)

    def masked_fill(self, mask, value):
        """A copy with ``value`` wherever the bool ``mask`` (broadcast to self's shape) is True.

        Gradient: 0 at the filled positions; a ``value`` tensor that requires grad gets their sum.

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0, -2.0, 3.0])
        >>> x.masked_fill(x < 0, 0.0)
        tensor([1., 0., 3.])
        """
        number_arg(value, "masked_fill", "value")
        m = _raw(mask)
        if m.dtype != bool:
            raise RuntimeError(f"masked_fill: expected a boolean mask, got {m.dtype}")
        if isinstance(value, core.Tensor):
            if value.ndim:
                raise RuntimeError(f"masked_fill: only supports a 0-dimensional value tensor, but got a tensor "
                                   f"of shape {tuple(value.shape)}; to fill from a tensor use "
                                   f"torch.where(mask, value, x)")
            if value.requires_grad:
                return E.Where.apply(m, value.to(self._data.dtype), self)
            value = value.item()
        elif value.__class__ is float and not -F32_MAX <= value <= F32_MAX:   # (-inf, a common fill, passes)
            float_value_fits(value, self._data.dtype, "masked_fill")
        elif value.__class__ is int and self._data.dtype.kind in "iu":
            value = int_value(value, self._data.dtype, "masked_fill")
        return I.MaskedFill.apply(self, m, value)


def _flat_index(index, op: str):
    idx = _raw(index)
    if idx.ndim > 1:
        raise RuntimeError(f"{op}: index of a 0-d input must be 0-d or 1-D, got shape {idx.shape}")
    return idx.reshape(-1)


def _check_index(op: str, x, d: int, index, src=None):
    """PyTorch's gather/scatter rule: as many dims as the input, ``index.size(k) <= input.size(k)`` for
    ``k != dim`` (and ``<= src.size(k)`` for all k), values in ``[0, input.size(dim))``; no broadcasting."""
    idx = _raw(index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: index must be an integer tensor, got {idx.dtype}")
    if idx.ndim != x.ndim:
        raise RuntimeError(f"{op}: index ({idx.ndim}-D, shape {idx.shape}) must have the same number "
                           f"of dimensions as input ({x.ndim}-D, shape {tuple(x.shape)})")
    for k, (n, m) in enumerate(zip(idx.shape, x.shape)):
        if k != d and n > m:
            raise RuntimeError(f"{op}: index shape {idx.shape} is larger than input shape {tuple(x.shape)} at "
                               f"dimension {k}; it may be larger only along dim={d}")
    if isinstance(src, core.Tensor) and src._data.dtype != x._data.dtype:
        raise RuntimeError(f"{op}: Expected self.dtype to be equal to src.dtype (got {x.dtype.name} and "
                           f"{src.dtype.name}); convert with src.to(x.dtype)")
    if isinstance(src, core.Tensor) and (src.ndim != idx.ndim or any(n > m for n, m in zip(idx.shape, src.shape))):
        raise RuntimeError(f"{op}: index shape {idx.shape} must be no larger than src shape "
                           f"{tuple(src.shape)} in every dimension")
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        bad = lo if lo < 0 else hi
        if lo < 0 or hi >= x.shape[d]:
            raise RuntimeError(f"{op}: index {bad} is out of bounds for dimension {d} with size {x.shape[d]} "
                               f"(input shape {tuple(x.shape)}); indices must be in [0, {x.shape[d]})")
    return idx


# NumPy's words in an indexing error, in PyTorch's (a student reads "tensor" and "dimension")
_WORDS = (("numpy.newaxis (`None`) and integer or boolean arrays", "None and long, int, byte or bool tensors"),
          ("indexing arrays", "indexing tensors"), ("value array", "value tensor"), ("indexed array", "indexed tensor"),
          ("too many indices for array: array is", "too many indices for a tensor that is"),
          ("for axis", "for dimension"), ("along axis", "along dimension"), ("size of axis", "size of dimension"),
          ("corresponding boolean axis", "the boolean mask"))


def _show(index) -> str:
    """An index as the user wrote it, with tensors shown by their shape."""
    return "[" + ", ".join(f"<tensor of shape {tuple(i.shape)}>" if hasattr(i, "shape") else repr(i)
                           for i in index) + "]"


def _index_error(x, index, e: Exception) -> IndexError:
    """PyTorch's words for a failed ``x[index]``, with the shapes involved."""
    msg = str(e).removeprefix("index: ").split(" (tensor of shape")[0]
    if x.ndim == 0 and "too many indices" in msg:
        msg = ("invalid index of a 0-dim tensor. Use `tensor.item()` to convert a 0-dim tensor to a Python "
               "number")
    for numpy_words, torch_words in _WORDS:
        msg = msg.replace(numpy_words, torch_words)
    return IndexError(f"index: {msg} (indexing a tensor of shape {tuple(x.shape)} with {_show(index)})")


def _setitem_error(x, index, value, e: Exception) -> Exception:
    """``x[index] = value`` failed: say which shapes did not fit, in PyTorch's words."""
    try:
        part = tuple(x._data[index].shape)
    except IndexError as bad_index:
        return _index_error(x, index, bad_index)
    vshape = tuple(getattr(value, "shape", ()))
    if not x._data.flags.writeable:
        return RuntimeError(f"setitem: unsupported operation: the tensor of shape {tuple(x.shape)} is an expand()ed "
                            f"or broadcast view, whose elements share memory; clone() it before writing into it")
    if isinstance(e, ValueError) and vshape != part:
        return RuntimeError(f"setitem: shape mismatch: value tensor of shape {vshape} cannot be broadcast to "
                            f"indexing result of shape {part} (x{_show(index)} of a tensor of shape "
                            f"{tuple(x.shape)})")
    msg = str(e)
    for numpy_words, torch_words in _WORDS:
        msg = msg.replace(numpy_words, torch_words)
    return type(e)(f"setitem: cannot assign {type(value).__name__} to x{_show(index)} of a tensor of shape "
                   f"{tuple(x.shape)}: {msg}")

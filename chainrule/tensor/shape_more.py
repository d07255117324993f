"""More of PyTorch's shape API (a mixin of ``Tensor``, and the functions over several tensors): ravel,
diag/diag_embed, unfold, tensor_split/hsplit/vsplit/dsplit, select, atleast_1d/2d/3d, cummax/cummin, and what
a real tensor gives for the complex-number methods (conj, resolve_conj, real …). Views where PyTorch returns
views: they share memory with the tensor, and an in-place op through one is recorded on it.
"""

from __future__ import annotations

import numbers
import operator

from ..backend import xp
from ..ops import shape_more as SM
from . import core
from .args import _no_grad_result, int_arg, normalize_dim
from .sorting import return_type

_CUMMAX, _CUMMIN = return_type("cummax"), return_type("cummin")


def _int(value, op: str, name: str) -> int:
    """An int argument (a 0-d integer tensor counts; ``2.0`` and ``True`` are TypeErrors, as in PyTorch)."""
    int_arg(value, op, name)
    return operator.index(value)


def _dim(dim, ndim: int, op: str) -> int:
    return normalize_dim(_int(dim, op, "dim"), ndim, op)


class ShapeMoreMethods:
    """Views, windows, splits, diagonals and running extremes of ``Tensor``."""

    __slots__ = ()

    def ravel(self):
        """The elements in row-major order as a 1-D tensor: a view of self when self is contiguous, else
        a view of a contiguous copy (as PyTorch's ``contiguous().view(-1)``).

        >>> import chainrule as cr
        >>> cr.tensor([[1, 2], [3, 4]]).t().ravel()
        tensor([1, 3, 2, 4])
        """
        return self.contiguous().view(-1)

    def diag(self, diagonal=0):
        """A 1-D self: the square matrix with self on diagonal ``diagonal`` (> 0 above the main one, < 0
        below), zeros elsewhere. A 2-D self: that diagonal as a new tensor (``diagonal()`` is a view).

        >>> import chainrule as cr
        >>> cr.tensor([1, 2]).diag(1)
        tensor([[0, 1, 0],
                [0, 0, 2],
                [0, 0, 0]])
        >>> cr.arange(9).reshape(3, 3).diag(-1)
        tensor([3, 7])
        """
        k = _int(diagonal, "diag", "diagonal")
        if self.ndim == 1:
            return SM.DiagEmbed.apply(self, k, 0, 1)
        if self.ndim == 2:
            return SM.DiagonalCopy.apply(self, k, 0, 1)
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {self.ndim}D (shape {tuple(self.shape)}); "
                           f"for batches use diagonal() (read) or diag_embed() (build)")

    def diag_embed(self, offset=0, dim1=-2, dim2=-1):
        """Batches of diagonal matrices: the last dimension of self goes on diagonal ``offset`` of the plane
        (``dim1``, ``dim2``) of a result with one more dimension (dims count in the result).

        >>> import chainrule as cr
        >>> cr.tensor([[1, 2], [3, 4]]).diag_embed()
        tensor([[[1, 0],
                 [0, 2]],
        <BLANKLINE>
                [[3, 0],
                 [0, 4]]])
        """
        k = _int(offset, "diag_embed", "offset")
        n = self.ndim + 1
        dims = _int(dim1, "diag_embed", "dim1"), _int(dim2, "diag_embed", "dim2")
        for name, d in zip(("dim1", "dim2"), dims):
            if not -n <= d < n:
                raise IndexError(f"diag_embed: {name}={d} is out of range (expected to be in range of [{-n}, {n - 1}]):"
                                 f" dims count in the result, which has {n} dimensions (input of shape "
                                 f"{tuple(self.shape)} plus one)")
        a, b = (d % n for d in dims)
        if a == b:
            raise RuntimeError(f"diag_embed: diagonal dimensions cannot be identical {dim1}, {dim2} (the result "
                               f"has {self.ndim + 1} dimensions)")
        return SM.DiagEmbed.apply(self, k, a, b)

    def unfold(self, dimension, size, step):
        """All windows of ``size`` elements, ``step`` apart, along ``dimension``, as a view with a new last
        dimension of length ``size`` (dimension ``dimension`` then counts the windows). Windows that overlap
        share memory; the gradient of an element is the sum over the windows that hold it.

        >>> import chainrule as cr
        >>> cr.arange(5).unfold(0, 3, 1)
        tensor([[0, 1, 2],
                [1, 2, 3],
                [2, 3, 4]])
        """
        d = normalize_dim(_int(dimension, "unfold", "dimension"), self.ndim, "unfold")
        size, step = _int(size, "unfold", "size"), _int(step, "unfold", "step")
        longest = self._data.shape[d] if self.ndim else 1
        if size > longest:
            raise RuntimeError(f"unfold: maximum size for tensor at dimension {d} is {longest} but size is {size} "
                               f"(tensor of shape {tuple(self.shape)})")
        if size < 0:
            raise RuntimeError(f"unfold: size is {size} but must be >= 0")
        if step <= 0:
            raise RuntimeError(f"unfold: step is {step} but must be > 0")
        return SM.Unfold.apply(self, d, size, step)._view_of(self)

    def tensor_split(self, indices_or_sections=None, /, dim=0, *, sections=None, indices=None,
                     tensor_indices_or_sections=None):
        """Views of self cut along ``dim``: into ``sections`` pieces as equal as possible (the first
        ``size % sections`` one longer; NumPy's ``array_split``), or at each of ``indices`` (Python slice
        bounds: ``[2, 5]`` gives ``[:2]``, ``[2:5]``, ``[5:]``). An int64 tensor may give either.

        >>> import chainrule as cr
        >>> cr.arange(5).tensor_split(3)
        (tensor([0, 1]), tensor([2, 3]), tensor([4]))
        >>> cr.arange(5).tensor_split([1, 4])
        (tensor([0]), tensor([1, 2, 3]), tensor([4]))
        """
        value = _one_of("tensor_split", indices_or_sections, sections=sections, indices=indices,
                        tensor_indices_or_sections=tensor_indices_or_sections)
        return _tensor_split(self, _split_points(value, "tensor_split"), dim, "tensor_split")

    def hsplit(self, indices_or_sections=None, /, *, sections=None, indices=None):
        """``tensor_split`` along dimension 1 (0 for a 1-D tensor); an int must divide that size evenly.

        >>> import chainrule as cr
        >>> cr.arange(6).reshape(2, 3).hsplit([1])
        (tensor([[0],
                [3]]), tensor([[1, 2],
                [4, 5]]))
        """
        return _split_along(self, _one_of("hsplit", indices_or_sections, sections=sections, indices=indices),
                            "hsplit", 1 if self.ndim > 1 else 0, 1)

    def vsplit(self, indices_or_sections=None, /, *, sections=None, indices=None):
        """``tensor_split`` along dimension 0 of a tensor of at least 2 dimensions; an int must divide it evenly.

        >>> import chainrule as cr
        >>> [p.shape for p in cr.zeros(4, 2).vsplit(2)]
        [chainrule.Size([2, 2]), chainrule.Size([2, 2])]
        """
        return _split_along(self, _one_of("vsplit", indices_or_sections, sections=sections, indices=indices),
                            "vsplit", 0, 2)

    def dsplit(self, indices_or_sections=None, /, *, sections=None, indices=None):
        """``tensor_split`` along dimension 2 of a tensor of at least 3 dimensions; an int must divide it evenly.

        >>> import chainrule as cr
        >>> [p.shape for p in cr.zeros(1, 2, 4).dsplit([1])]
        [chainrule.Size([1, 2, 1]), chainrule.Size([1, 2, 3])]
        """
        return _split_along(self, _one_of("dsplit", indices_or_sections, sections=sections, indices=indices),
                            "dsplit", 2, 3)

    def select(self, dim, index):
        """The slice at ``index`` along ``dim``, with that dimension removed: ``t[:, index]`` for dim 1. A view.

        >>> import chainrule as cr
        >>> cr.tensor([[1, 2], [3, 4]]).select(1, -1)
        tensor([2, 4])
        """
        if self.ndim == 0:
            raise IndexError("select() cannot be applied to a 0-dim tensor (it has no dimension to select "
                             "along; use .item())")
        d = _dim(dim, self.ndim, "select")
        i = _int(index, "select", "index")
        n = self._data.shape[d]
        if not -n <= i < n:
            raise IndexError(f"select(): index {i} out of range for tensor of size {list(self.shape)} at "
                             f"dimension {d}")
        return self[(slice(None),) * d + (i,)]

    def cummax(self, dim):
        """The running maximum along ``dim`` and the index where it was reached: the later one among equal
        values; a NaN is the maximum from there on. The gradient goes to those positions.

        >>> import chainrule as cr
        >>> cr.tensor([1.0, 3.0, 2.0, 3.0]).cummax(0)
        chainrule.return_types.cummax(
        values=tensor([1., 3., 3., 3.]),
        indices=tensor([0, 1, 1, 3]))
        """
        d = _dim(dim, self.ndim, "cummax")
        index = SM.running_index(self._data, d, largest=True)
        return _CUMMAX(SM.Cummax.apply(self, d, index), _no_grad_result(index))

    def cummin(self, dim):
        """The running minimum along ``dim`` and where it was reached; see ``cummax``.

        >>> import chainrule as cr
        >>> cr.tensor([2.0, 1.0, 3.0, 1.0]).cummin(0).indices
        tensor([0, 1, 1, 3])
        """
        d = _dim(dim, self.ndim, "cummin")
        index = SM.running_index(self._data, d, largest=False)
        return _CUMMIN(SM.Cummin.apply(self, d, index), _no_grad_result(index))

    # chainrule has no complex dtypes: for a real tensor PyTorch's conjugation and sign-bit methods return
    # self (the same object, not a view), and so does chainrule
    def positive(self):
        """self (PyTorch's unary ``+``); a bool tensor is an error, as in PyTorch.

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0]); x.positive() is x
        True
        """
        if self._data.dtype.kind == "b":
            raise RuntimeError("positive: The `+` operator, on a bool tensor is not supported.")
        return self

    def conj(self):
        """The complex conjugate: self, as chainrule's tensors are real (PyTorch returns self for them too).

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0]); x.conj() is x
        True
        """
        return self

    def resolve_conj(self):
        """self: a real tensor has no lazy conjugation to materialise (see ``is_conj``)."""
        return self

    def resolve_neg(self):
        """self: chainrule tensors have no lazy negation bit to materialise (see ``is_neg``)."""
        return self

    def is_conj(self) -> bool:
        """False: only a complex tensor can carry PyTorch's lazy conjugation bit.

        >>> import chainrule as cr
        >>> cr.zeros(2).is_conj()
        False
        """
        return False

    def is_neg(self) -> bool:
        """False: PyTorch sets its lazy negation bit only on views of conjugated complex tensors."""
        return False

    @property
    def real(self):
        """The real part: self, for a real tensor (as in PyTorch: the same object, so writes go to self;
        ``t.real = v`` copies v into t)."""
        return self

    @real.setter
    def real(self, value) -> None:
        self.copy_(value)

    @property
    def imag(self):
        """The imaginary part, which a real tensor does not have: an error, as in PyTorch."""
        raise RuntimeError(f"imag is not implemented for tensors with non-complex dtypes (this tensor is "
                           f"{self.dtype.name}; chainrule has no complex dtypes)")


def _one_of(op: str, positional, **named):
    """The one split specification given: positionally, or by one of PyTorch's keywords (``sections=`` an int,
    ``indices=`` a list of ints, ``tensor_indices_or_sections=`` a tensor)."""
    given = {k: v for k, v in {"indices_or_sections": positional, **named}.items() if v is not None}
    if len(given) != 1:
        raise TypeError(f"{op}() takes one of indices_or_sections (positional), {', '.join(n + '=' for n in named)}; "
                        f"got {', '.join(given) or 'none'}")
    (name, value), = given.items()
    if name == "sections":
        return _int(value, op, name)
    kind, what = {"indices": (list | tuple, "a list or tuple of ints"), "tensor_indices_or_sections": (core.Tensor, "Tensor"),
                  "indices_or_sections": (object, "")}[name]
    if not isinstance(value, kind):
        raise TypeError(f"{op}(): argument '{name}' must be {what}, not {type(value).__name__}")
    return value


def _split_points(value, op: str):
    """An int (the number of sections) or a list of ints (the indices) from what ``tensor_split`` was given."""
    if isinstance(value, core.Tensor):
        if value._data.dtype != xp.int64:
            raise RuntimeError(f"{op}: expected tensor_indices_or_sections to have dtype of long (int64), but got "
                               f"{value.dtype.name}")
        if value.ndim > 1:
            raise RuntimeError(f"{op}: expected tensor_indices_or_sections to be a zero-dimensional or "
                               f"one-dimensional tensor, but got a tensor with {value.ndim} dims")
        return int(value._data) if value.ndim == 0 else [int(i) for i in value._data.tolist()]
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if not isinstance(value, list | tuple):
        raise TypeError(f"{op}(): argument 'indices_or_sections' must be an int (sections), a list or tuple of "
                        f"ints (indices) or an int64 tensor, not {type(value).__name__} ({value!r})")
    return [_int(i, op, "indices") for i in value]


def _tensor_split(t, points, dim, op: str) -> tuple:
    if t.ndim == 0:
        raise RuntimeError(f"{op}: expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = _dim(dim, t.ndim, op)
    if isinstance(points, int):
        if points <= 0:
            raise RuntimeError(f"{op}: number of sections must be larger than 0, got {points}")
        small, extra = divmod(t._data.shape[d], points)
        ends = [0]
        for i in range(points):
            ends.append(ends[-1] + small + (i < extra))
        starts, ends = ends[:-1], ends[1:]
    else:
        starts, ends = [0] + points, points + [None]
    lead = (slice(None),) * d
    return tuple(t[lead + (slice(a, b),)] for a, b in zip(starts, ends))


def _split_along(t, value, op: str, dim: int, least: int) -> tuple:
    """``hsplit``/``vsplit``/``dsplit``: ``tensor_split`` along ``dim``, where a number of sections must divide it."""
    if t.ndim < least:
        raise RuntimeError(f"{op}: requires a tensor with at least {least} dimension{'s' * (least > 1)}, but got a "
                           f"tensor with {t.ndim} dimensions (shape {tuple(t.shape)})")
    points = _split_points(value, op)
    n = t._data.shape[dim]
    if isinstance(points, int) and (points == 0 or n % points):
        raise RuntimeError(f"{op}: attempted to split along dimension {dim}, but the size of the dimension {n} is "
                           f"not divisible by the split_size {points}!")
    return _tensor_split(t, points, dim, op)


def _atleast(tensors: tuple, op: str, least: int):
    """PyTorch's ``atleast_<n>d``: one tensor gives a tensor; several, or a list or tuple of them, a tuple."""
    single = len(tensors) == 1 and isinstance(tensors[0], core.Tensor)
    items = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], list | tuple) else tensors
    for i, t in enumerate(items):
        if not isinstance(t, core.Tensor):
            raise TypeError(f"{op}(): expected Tensor as element {i} in argument 0, but got {type(t).__name__}"
                            f"{'' if len(items) > 1 else f'; write {op}(chainrule.tensor({t!r}))'}")
    out = []
    for t in items:
        if t.ndim >= least:
            out.append(t)
        elif t.ndim == 0:
            out.append(t.reshape((1,) * least))
        elif least == 3:       # 1-D (n,) -> (1, n, 1), 2-D (m, n) -> (m, n, 1), as NumPy's
            out.append((t.unsqueeze(0) if t.ndim == 1 else t).unsqueeze(-1))
        else:
            out.append(t.unsqueeze(0))
    return out[0] if single else tuple(out)


def atleast_1d(*tensors):
    """Each tensor with at least 1 dimension (a 0-d one becomes shape (1,), a view; others are returned as
    they are). One tensor gives a tensor; several, or a list of them, a tuple.

    >>> import chainrule as cr
    >>> cr.atleast_1d(cr.tensor(1.0))
    tensor([1.])
    """
    return _atleast(tensors, "atleast_1d", 1)


def atleast_2d(*tensors):
    """Each tensor with at least 2 dimensions: (n,) becomes (1, n), a 0-d one (1, 1); see ``atleast_1d``.

    >>> import chainrule as cr
    >>> cr.atleast_2d(cr.tensor([1, 2])).shape
    chainrule.Size([1, 2])
    """
    return _atleast(tensors, "atleast_2d", 2)


def atleast_3d(*tensors):
    """Each tensor with at least 3 dimensions: (n,) becomes (1, n, 1), (m, n) becomes (m, n, 1), a 0-d one
    (1, 1, 1); see ``atleast_1d``.

    >>> import chainrule as cr
    >>> a, b = cr.atleast_3d(cr.zeros(2), cr.zeros(2, 3))
    >>> a.shape, b.shape
    (chainrule.Size([1, 2, 1]), chainrule.Size([2, 3, 1]))
    """
    return _atleast(tensors, "atleast_3d", 3)


def real(input):
    """``input.real``: the tensor itself (chainrule's tensors are real).

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0]); cr.real(x) is x
    True
    """
    if not isinstance(input, core.Tensor):
        raise TypeError(f"real(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    return input.real

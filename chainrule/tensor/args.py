"""Argument handling shared by Tensor's methods: PyTorch's conventions (``dim``/``keepdim``, negative
dims, ``*shape`` or ``shape``) and PyTorch's dtype promotion, so the ops underneath see plain,
normalised arguments.
"""

from __future__ import annotations

import contextlib
import numbers
import operator
import warnings

from .. import backend
from ..autograd.function import notify, notify_inplace
from ..autograd.grad_mode import state
from ..backend import xp
from ..ops import arithmetic as A
from ..ops import elementwise as E
from . import core
from .scalars import F32_MAX, float_operand, float_value_fits, int_operand, int_value

_ndarray = xp.ndarray
_Scalar = (int, float, bool)
_NumpyScalar = xp.generic


def py_scalar(x):
    """A NumPy scalar as the Python number it holds: PyTorch treats ``np.float64(0.5)`` like ``0.5`` (a
    float32 tensor times it stays float32), where NumPy would make it a float64 operand."""
    return x.item() if isinstance(x, _NumpyScalar) and x.dtype.kind in "biuf" else x
_Add, _Sub, _Mul = A.Add.apply, A.Sub.apply, A.Mul.apply


def dtype_arg(dtype, op: str):
    """A ``dtype=`` argument read as PyTorch reads it: a chainrule dtype, or the Python types ``float``,
    ``int``, ``bool`` (``float`` is float64, as in PyTorch); a name such as ``'float32'`` is a TypeError.

    >>> import chainrule as cr
    >>> cr.zeros(2, dtype=float).dtype
    chainrule.float64
    """
    if dtype is None or isinstance(dtype, backend.DType):
        return dtype
    python_types = {float: backend.float64, int: backend.int64, bool: backend.bool_}
    if isinstance(dtype, type) and dtype in python_types:
        return python_types[dtype]
    if isinstance(dtype, str):
        named = getattr(backend, dtype.removeprefix("torch.").removeprefix("chainrule."), None)
        if isinstance(named, backend.DType):
            _ = named.np   # a dtype that cannot store (bfloat16) raises its own error: the hint would not help
        hint = f"; write dtype=chainrule.{named.name}" if isinstance(named, backend.DType) else ""
        raise TypeError(f"{op}(): argument 'dtype' must be chainrule.dtype, not str ({dtype!r}){hint}")
    if isinstance(dtype, type | xp.dtype):   # np.float32 / np.dtype('float32'): the same array type
        return backend.to_dtype(dtype)
    raise TypeError(f"{op}(): argument 'dtype' must be chainrule.dtype, not {type(dtype).__name__}")


@contextlib.contextmanager
def overflow_is_an_error(op: str, dtype):
    """A Python int too big for the dtype (``tensor([300], dtype=uint8)``): PyTorch's RuntimeError, not
    NumPy's OverflowError. A float too big for float32 (``tensor([1e200])``) is ±inf, silently as in PyTorch,
    not with NumPy's "overflow encountered in cast" warning."""
    try:
        with xp.errstate(over="ignore"):
            yield
    except OverflowError as e:
        raise RuntimeError(f"{op}: value cannot be converted to type {dtype} without overflow ({e})") from None


def int_arg(value, op: str, name: str) -> None:
    """PyTorch's check of an int argument (``steps``, ``n``): ``2.5`` is a TypeError, not truncated."""
    try:
        if isinstance(value, bool):
            raise TypeError
        operator.index(value)   # an int, an integer NumPy scalar or a 0-d integer tensor
    except (TypeError, RuntimeError):
        raise TypeError(f"{op}(): argument '{name}' must be int, not {type(value).__name__} ({value!r})") from None


def number_arg(value, op: str, name: str, tensor_ok: bool = True) -> None:
    """PyTorch's check of a value argument (``fill_(v)``, ``clamp(min=v)``, ``masked_fill(m, v)``): a number
    (a NumPy scalar counts) or, where ``tensor_ok``, a Tensor; a string, None or a list is a TypeError."""
    if value.__class__ is float or value.__class__ is int or isinstance(value, numbers.Number) or \
            (tensor_ok and isinstance(value, core.Tensor)):   # (plain numbers first: clamp and fill_ are hot)
        return
    kinds = "Number or Tensor" if tensor_ok else "Number"
    raise TypeError(f"{op}(): argument '{name}' must be {kinds}, not {type(value).__name__} ({value!r})")


def bool_arg(value, op: str, name: str) -> None:
    """PyTorch's check of a flag (``requires_grad=``, ``training=``): ``'yes'`` or ``1`` is a TypeError, not
    read as truthy."""
    if value is not True and value is not False and not isinstance(value, xp.bool_):
        raise TypeError(f"{op}(): argument '{name}' must be bool, not {type(value).__name__} ({value!r})")


def holds_tensors(data) -> bool:
    """Whether a list holds Tensors (looked for among its own items and along its first items only: cheap)."""
    if any(isinstance(item, core.Tensor) for item in data):
        return True
    while isinstance(data, list | tuple) and data:
        data = data[0]
    return isinstance(data, core.Tensor)


def numbers_of(data):
    """PyTorch reads a tensor inside a list as the one number it holds; a longer tensor is an error."""
    if isinstance(data, core.Tensor):
        if data._data.size != 1:
            raise ValueError(f"tensor: only one element tensors can be converted to Python scalars, but the list "
                             f"holds a tensor of shape {tuple(data._data.shape)}; to join tensors into one, "
                             f"use stack(list_of_tensors)")
        return data._data.reshape(())[()]
    if isinstance(data, list | tuple):
        return [numbers_of(item) for item in data]
    return data


def refuse_dtype_name(value, op: str) -> None:
    """``x.to('float64')``: a dtype's name where a device string goes gets a TypeError saying so (the
    device parser would only list the device types it knows)."""
    if not isinstance(value, str):
        return
    name = value.removeprefix("torch.").removeprefix("chainrule.")
    if isinstance(getattr(backend, name, None), backend.DType):
        raise TypeError(f"{op}: {value!r} is the name of a dtype, not a device; pass the dtype itself: "
                        f"{op}(chainrule.{name})")


def normalize_dim(dim: int, ndim: int, op: str) -> int:
    n = max(ndim, 1)
    if not isinstance(dim, numbers.Integral):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    if not -n <= dim < n:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim}) for a tensor with {ndim} dimensions")
    return int(dim) % n if ndim else 0


def normalize_dims(dim, ndim: int, op: str):
    """None -> None (all dims); int or sequence -> sorted tuple of non-negative dims."""
    if dim is None:
        return None
    if isinstance(dim, numbers.Integral):
        return (normalize_dim(dim, ndim, op),) if ndim else None
    if getattr(dim, "ndim", None) == 0:   # a 0-d integer tensor, as PyTorch accepts
        return normalize_dims(dim.item(), ndim, op)
    if not isinstance(dim, tuple | list):
        raise TypeError(f"{op}(): argument 'dim' must be an int or a tuple of ints, not {type(dim).__name__} "
                        f"({dim!r})")
    if len(dim) == 0:
        return None
    dims = tuple(sorted({normalize_dim(d, ndim, op) for d in dim}))
    if len(dims) != len(dim):
        raise RuntimeError(f"{op}: dim {_repeated(dim, ndim, op)} appears multiple times in the list of dims "
                           f"{tuple(dim)}")
    return dims if ndim else None


def _repeated(dim, ndim: int, op: str) -> int:
    seen = set()
    for d in dim:
        d = normalize_dim(d, ndim, op)
        if d in seen:
            return d
        seen.add(d)
    return dim[0]


def keepdim_arg(keepdim, keepdims, op: str) -> bool:
    """``keepdims=`` is NumPy's spelling of ``keepdim=``; PyTorch accepts either (not both)."""
    if keepdims is None:
        return bool(keepdim)
    if keepdim:
        raise TypeError(f"{op}(): got both keepdim and keepdims; pass one of them")
    return bool(keepdims)


def shape_arg(shape, op: str | None = None, name: str = "size") -> tuple:
    """Accept ``f(2, 3)`` and ``f((2, 3))`` alike; every size must be an int (as in PyTorch: ``3.0``, ``'3'``
    or a tensor of sizes are TypeErrors; an integer NumPy scalar or 0-d integer tensor counts as its int)."""
    if len(shape) == 1 and type(shape[0]) is not int and not isinstance(shape[0], (numbers.Integral, core.Tensor)):
        shape = shape[0]
    if type(shape) is tuple and all(type(s) is int for s in shape):    # the common case, on the hot path
        return shape
    who = f"{op}(): " if op else ""
    if not isinstance(shape, tuple | list):
        raise TypeError(f"{who}argument '{name}' must be a tuple of ints, not {type(shape).__name__} ({shape!r})")
    sizes = []
    for pos, s in enumerate(shape):
        try:
            sizes.append(operator.index(s))
        except (TypeError, RuntimeError):   # RuntimeError: a tensor of more than one size
            raise TypeError(f"{who}argument '{name}' must be a tuple of ints, but found element of type "
                            f"{type(s).__name__} at pos {pos} ({tuple(shape)!r})") from None
    return tuple(sizes)


def as_tensor_like(value, like):
    """Turn a NumPy array / list operand into a Tensor; Python scalars are left to the ops."""
    T = core.Tensor
    if isinstance(value, T):
        return value
    a = backend.to_array(value)
    return T._make(a)


def promote(a, b):
    """Cast two tensors to their PyTorch result dtype (NumPy's rules differ, e.g. int64 + float32)."""
    da, db = a._data.dtype, b._data.dtype
    if da == db:
        return a, b
    target = backend.result_dtype(backend.from_np_dtype(da), a._data.ndim,
                                  backend.from_np_dtype(db), b._data.ndim).np
    return (a if da == target else _promoted(a, target)), (b if db == target else _promoted(b, target))


def _promoted(t, target):
    """``t`` cast for an op that promotes it. PyTorch's kernels promote internally and save the tensor itself,
    so the cast copy shares ``t``'s version counter: changing ``t`` in place afterwards makes backward raise."""
    out = E.Cast.apply(t, target, True)
    out._version_box = t._version_box
    return out


def binary(op, a, b):
    """Apply a binary op with PyTorch's promotion of ``a`` (a Tensor) and ``b`` (Tensor or scalar)."""
    T = core.Tensor
    if isinstance(b, T):
        if a._data.dtype is not b._data.dtype:
            a, b = promote(a, b)
        return op.apply(a, b)
    b = py_scalar(b)
    if isinstance(b, _Scalar):
        if a._data.dtype.kind in "biu":   # (a float tensor keeps its dtype with any Python scalar)
            if b.__class__ is int:
                b = int_operand(b, a._data.dtype, op.op_name)
            a = _scalar_promoted(a, b)
        if b.__class__ is float and not -F32_MAX <= b <= F32_MAX:
            b = float_operand(b, a._data.dtype)
        return op.apply(a, b)
    if b is None or isinstance(b, list | tuple | str):
        raise TypeError(f"{op.op_name}: unsupported operand of type {type(b).__name__} for a Tensor"
                        f"{_as_tensor_hint(b)}")
    b = as_tensor_like(b, a)
    if a._data.dtype is not b._data.dtype:
        a, b = promote(a, b)
    return op.apply(a, b)


def _as_tensor_hint(value) -> str:
    return f"; make it a tensor first: chainrule.tensor({value!r})" if isinstance(value, list | tuple) else ""


def _scalar_promoted(a, b):
    """``a`` cast to PyTorch's result dtype for ``a op b`` with a Python scalar ``b`` (the scalar's type
    only matters across kinds: an int tensor and a float give float32, a bool tensor and an int int64)."""
    kind = a._data.dtype.kind
    if kind in "biu" and isinstance(b, float):
        return a.to(backend.default_float.np)
    if kind == "b" and not isinstance(b, bool):
        return a.to(backend.int64.np)
    return a


def _floatify(a):
    return a if a._data.dtype.kind == "f" else a.to(backend.default_float.np)


# what an op needs, by the dtype kinds it takes: (the words an error uses, how to convert)
_NEEDS = {"f": ("a floating point tensor", "convert with .float()"),
          "fiu": ("a floating point or integer tensor, not bool", "convert with .float() or .long()")}


def require_kind(x, op: str, kinds: str = "f", error: type = NotImplementedError, hint: str = "") -> None:
    """Refuse a dtype PyTorch has no kernel of ``op`` for, rather than compute in another one: ``kinds`` are the
    dtype kinds ``op`` takes (``"f"``: floating point only, as silu or softmax; ``"fiu"``: numbers but not bool,
    as abs or relu), ``error`` is PyTorch's exception for the rest. A tensor that passes costs one kind test.

    >>> import chainrule as cr
    >>> require_kind(cr.tensor([1, 2]), "silu")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    NotImplementedError: silu: not implemented for int64 inputs: it needs a floating point tensor; convert ...
    """
    if x._data.dtype.kind not in kinds:
        needs, convert = _NEEDS[kinds]
        raise error(f"{op}: not implemented for {x.dtype.name} inputs: it needs {needs}; {hint or convert}")


def _no_grad_result(array):
    return core.Tensor._make(array)


def _raw(x):
    return x._data if isinstance(x, core.Tensor) else x


def where(condition, input, other):
    """``input`` where ``condition`` holds, else ``other`` (either may be a Python scalar)."""
    T = core.Tensor
    cond = _raw(condition)
    if cond.dtype != bool:
        raise RuntimeError(f"where: expected condition to be a boolean tensor, got {cond.dtype}")
    input, other = py_scalar(input), py_scalar(other)
    if not isinstance(input, T) or not isinstance(other, T):
        _where_operands(input, other)
    if isinstance(input, T) and isinstance(other, T) and input._data.dtype is not other._data.dtype:
        input, other = promote(input, other)
    elif isinstance(input, T) and isinstance(other, _Scalar):
        input = _scalar_promoted(input, other)
    elif isinstance(other, T) and isinstance(input, _Scalar):
        other = _scalar_promoted(other, input)
    elif not isinstance(input, T) and not isinstance(other, T):   # two numbers: one dtype, as PyTorch picks it
        kinds = {input.__class__, other.__class__}
        dtype = backend.default_float if float in kinds else backend.int64 if int in kinds else None
        input, other = T._make(backend.to_array(input, dtype)), T._make(backend.to_array(other, dtype))
    return E.Where.apply(cond, input, other)


def _where_operands(input, other) -> None:
    """PyTorch's checks of where's non-Tensor operands: a number (a list is a TypeError), and a Python int
    next to an integer tensor must fit its dtype (PyTorch checks the range here, where ``+`` wraps)."""
    T = core.Tensor
    for name, value, tensor in (("input", input, other), ("other", other, input)):
        if isinstance(value, list | tuple | str) or value is None:
            raise TypeError(f"where(): argument '{name}' must be a Tensor or a number, not "
                            f"{type(value).__name__}{_as_tensor_hint(value)}")
        if value.__class__ is int and isinstance(tensor, T) and tensor._data.dtype.kind in "iu":
            int_value(value, tensor._data.dtype, "where")
        if value.__class__ is float and isinstance(tensor, T) and not -F32_MAX <= value <= F32_MAX:
            float_value_fits(value, tensor._data.dtype, "where")


def _changed(t, op: str):
    """Record an untracked in-place change: bump the version counter, tell observers."""
    t._version_box[0] += 1
    if state.observed:
        notify_inplace(t, op)
    return t


def _correction(unbiased, correction) -> int:
    if correction is not None:
        return int(correction)
    return 0 if unbiased is False else 1


def _normalize_index(index, ndim: int) -> tuple:
    """Turn any index into a tuple NumPy understands, with Tensors replaced by their arrays (``ndim``: the
    indexed tensor's number of dimensions)."""
    T = core.Tensor
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    ellipses = 0
    for i in index:
        if i is Ellipsis:
            ellipses += 1
        elif isinstance(i, T):
            i = i._data
            if i.dtype == xp.uint8:     # PyTorch still reads a uint8 tensor as a mask, with a warning
                warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool "
                              "instead.", UserWarning, stacklevel=3)
                i = i.astype(bool)
            elif i.ndim == 0 and i.dtype.kind in "iu":
                i = int(i)      # a 0-d integer tensor indexes like an int, as PyTorch's: a view (select)
            elif i.dtype.kind == "f":
                raise IndexError(f"index: tensors used as indices must be long, int, byte or bool tensors, got "
                                 f"{i.dtype} (convert with .long())")
        elif isinstance(i, slice):
            if i.step is not None and i.step <= 0:    # NumPy would reverse; PyTorch refuses (flip() reverses)
                raise ValueError(f"index: step must be greater than zero, got {i.step} in "
                                 f"[{'' if i.start is None else i.start}:{'' if i.stop is None else i.stop}:{i.step}]"
                                 f"; to reverse, use .flip()" if i.step else "slice step cannot be zero")
        elif isinstance(i, list):
            i = xp.asarray(i)
            if i.dtype.kind == "f":
                raise IndexError("lists used as indices must contain integers or booleans")
        elif isinstance(i, bool):
            i = xp.asarray(i)
        elif isinstance(i, numbers.Integral) and not isinstance(i, int):
            i = int(i)
        out.append(i)
    if ellipses > 1:
        return _one_ellipsis(out, ndim)
    return tuple(out)


def _one_ellipsis(index: list, ndim: int) -> tuple:
    """PyTorch's reading of an index with several ``...``: the first stands for the dimensions the other
    entries leave over, and each later one skips that many again, so it is harmless only where nothing
    but ``...`` follows it, or where it stands for no dimension (``x[..., 0, ...]`` is ``x[..., 0]``)."""
    used = sum(i.ndim if getattr(i, "dtype", None) is not None and i.dtype.kind == "b" else 1
               for i in index if i is not None and i is not Ellipsis)
    first = index.index(Ellipsis)
    later = [k for k in range(first + 1, len(index)) if index[k] is Ellipsis]
    if ndim - used > 0 and any(i is not Ellipsis for i in index[later[0]:]):
        shown = ", ".join("..." if i is Ellipsis else type(i).__name__ if hasattr(i, "dtype") else repr(i)
                          for i in index)
        raise IndexError(f"index: an index can only have one ellipsis ('...') followed by more entries: in "
                         f"[{shown}] the second '...' would skip {ndim - used} more dimension(s) of a {ndim}-D "
                         f"tensor (PyTorch raises an IndexError here too); write one '...'")
    return tuple(i for k, i in enumerate(index) if k not in later)


def _size(size, op: str) -> tuple:
    """The shape from ``f(2, 3)`` or ``f((2, 3))``; a negative size is PyTorch's error, named for ``op``."""
    try:
        shape = shape_arg(size, op)
    except (TypeError, ValueError):
        raise TypeError(f"{op}(): argument 'size' must be a tuple of ints or ints, got {size!r} (write "
                        f"{op}(2, 3) or {op}((2, 3)))") from None
    bad = [d for d in shape if d < 0]
    if bad:
        raise RuntimeError(f"{op}: Trying to create tensor with negative dimension {bad[0]}: {list(shape)} "
                           f"(every size must be >= 0)")
    return shape


def _np_dtype(dtype, default=None, op: str = "tensor"):
    if dtype is None:
        return (default or backend.default_float).np
    return dtype_arg(dtype, op).np


def _finish(array, requires_grad: bool, op: str):
    """A new tensor made by a creation function: observers are told, ``requires_grad`` is checked and set."""
    t = core.Tensor._make(array)
    if state.observed:
        notify("constant_made", t)
    if requires_grad:   # True, or a truthy non-bool such as 'yes', which PyTorch refuses
        bool_arg(requires_grad, op, "requires_grad")
        t.requires_grad_(True)
    return t

"""The array backend: the only module in chainrule that imports NumPy.

Everything above this layer reaches the array library through ``xp`` and the helpers here, so a
CuPy backend can later be swapped in without touching ops or the engine.

It also owns chainrule's dtype objects and PyTorch's type-promotion rules, because NumPy's own
rules differ (NumPy turns ``int64 + float32`` into float64; PyTorch keeps float32).
"""

from __future__ import annotations

import os
import warnings

import numpy as xp
from threadpoolctl import threadpool_info, threadpool_limits

from .random import Generator  # PyTorch's CPU generator (MT19937), bit for bit

# NumPy reports log(0), 0/0, overflow … as RuntimeWarnings; PyTorch returns the IEEE result
# (inf, nan) silently and leaves NaN-hunting to anomaly mode. Silence them for calls made from
# chainrule's own modules only (a filter costs nothing until a warning fires; np.errstate per op
# would cost microseconds), so the user's own NumPy code keeps its warnings.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"chainrule(\.|$)")

__all__ = [
    "DType",
    "Generator",
    "bfloat16",
    "bool_",
    "broadcast_axes",
    "default_float",
    "default_generator",
    "float16",
    "float32",
    "float64",
    "from_np_dtype",
    "int32",
    "int64",
    "is_array",
    "ndarray",
    "promote_types",
    "result_dtype",
    "set_default_float",
    "sum_to",
    "to_array",
    "to_dtype",
    "uint8",
    "xp",
]

ndarray = xp.ndarray


class DType:
    """A tensor element type, printed the way PyTorch prints its dtypes (``chainrule.float32``)."""

    __slots__ = ("category", "is_floating_point", "is_signed", "itemsize", "name", "np")

    def __init__(self, name: str, np_dtype, category: int):
        self.name = name
        self.np = xp.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"
        self.is_signed = self.np.kind in "fi"
        self.itemsize = self.np.itemsize
        # Promotion categories, as in PyTorch: bool < integer < floating.
        self.category = category

    def __repr__(self) -> str:
        return f"chainrule.{self.name}"

    def __reduce__(self):  # dtypes are singletons; copy/deepcopy keep them so
        return (to_dtype, (self.name,))


bool_ = DType("bool", xp.bool_, 0)
uint8 = DType("uint8", xp.uint8, 1)
int32 = DType("int32", xp.int32, 1)
int64 = DType("int64", xp.int64, 1)
float16 = DType("float16", xp.float16, 2)
float32 = DType("float32", xp.float32, 2)
float64 = DType("float64", xp.float64, 2)



class _NameOnlyDType(DType):
    """A dtype chainrule knows by name but cannot store. ``bfloat16``: NumPy, chainrule's array engine,
    has no bfloat16, and silently storing float32 under that name would print different numbers from
    PyTorch. So the name exists (for ``dtype == torch.bfloat16`` checks, dicts of dtypes, autocast
    arguments) and any attempt to make a tensor of it raises a TypeError that says so."""

    __slots__ = ()

    def __init__(self, name: str, itemsize: int):
        self.name, self.itemsize, self.category = name, itemsize, 2
        self.is_floating_point = self.is_signed = True

    @property
    def np(self):
        raise TypeError(f"chainrule.{self.name} is a name only: NumPy, chainrule's array engine, has no "
                        f"{self.name} type, so no tensor can be stored in it; use chainrule.float32 "
                        f"(or float16) instead")


bfloat16 = _NameOnlyDType("bfloat16", 2)

_ALL = (bool_, uint8, int32, int64, float16, float32, float64)
_BY_NP = {d.np: d for d in _ALL}
_BY_NAME = {d.name: d for d in _ALL}
_BY_NAME.update({"float": float32, "double": float64, "long": int64, "int": int32, "half": float16,
                 "bfloat16": bfloat16})

default_float = float32


def set_default_float(dtype: DType) -> None:
    """Make ``dtype`` (float16, float32 or float64) the type of Python floats, of int-to-float results
    and of float factories, as ``torch.set_default_dtype`` does."""
    global default_float
    if not isinstance(dtype, DType) or not dtype.is_floating_point:
        raise TypeError(f"set_default_dtype: only floating-point types are supported as the default type, "
                        f"got {dtype!r}")
    dtype.np  # noqa: B018  (raises for a name-only dtype such as bfloat16)
    default_float = dtype


def from_np_dtype(np_dtype) -> DType:
    """The chainrule dtype for a NumPy dtype; raises for types chainrule does not support."""
    try:
        return _BY_NP[np_dtype]
    except KeyError:
        d = xp.dtype(np_dtype)
        if d in _BY_NP:
            return _BY_NP[d]
        raise TypeError(f"dtype {d} is not supported by chainrule; supported: "
                        f"{', '.join(x.name for x in _ALL)}") from None


def to_dtype(dtype) -> DType:
    """Accept a chainrule dtype, a NumPy dtype, a Python type or a name, and return the DType."""
    if isinstance(dtype, DType):
        return dtype
    if isinstance(dtype, str):
        if dtype in _BY_NAME:
            return _BY_NAME[dtype]
        raise TypeError(f"unknown dtype name {dtype!r}")
    if dtype is float:
        return float32
    if dtype is int:
        return int64
    if dtype is bool:
        return bool_
    return from_np_dtype(xp.dtype(dtype))


def _category_of_scalar(value) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return 1
    return 2


def promote_types(a: DType, b: DType) -> DType:
    """PyTorch's ``promote_types`` for two tensor dtypes."""
    if a is b:
        return a
    if a.category != b.category:
        return a if a.category > b.category else b
    if a.category == 1 and a.is_signed != b.is_signed:
        return int64 if max(a.itemsize, b.itemsize) >= 8 else (int32 if max(a.itemsize, b.itemsize) >= 4 else int64)
    return a if a.itemsize >= b.itemsize else b


def result_dtype(a: DType, a_dim: int, b: DType | None, b_dim: int, scalar=None) -> DType:
    """The dtype of a binary op's result under PyTorch's rules.

    ``b`` is None when the other operand is a Python scalar (``scalar``). Zero-dim tensors and
    Python scalars only change the result's category (e.g. int tensor * 2.5 -> float32), never its
    width within a category (float32 tensor * float64 0-dim tensor -> float32).
    """
    if b is None:
        c = _category_of_scalar(scalar)
        if c <= a.category:
            return a
        return default_float if c == 2 else int64
    if a is b:
        return a
    a_zero, b_zero = a_dim == 0, b_dim == 0
    if a_zero == b_zero:
        return promote_types(a, b)
    dimmed, zero = (b, a) if a_zero else (a, b)
    if zero.category > dimmed.category:
        return zero  # a 0-dim tensor lifts the category and keeps its own width (unlike a Python scalar)
    return dimmed


def broadcast_axes(from_shape: tuple, to_shape: tuple) -> tuple:
    """The axes of ``from_shape`` to sum over to undo broadcasting ``to_shape`` up to it."""
    lead = len(from_shape) - len(to_shape)
    return tuple(range(lead)) + tuple(i + lead for i, n in enumerate(to_shape)
                                      if n == 1 and from_shape[i + lead] != 1)


def sum_to(x, shape: tuple):
    """Sum ``x`` down to ``shape``, undoing broadcasting; the engine's one place for it."""
    if x.shape == shape:
        return x
    axes = broadcast_axes(x.shape, shape)
    y = x.sum(axis=axes, keepdims=True) if axes else x
    return y.reshape(shape) if y.shape != shape else y


def _ragged(data) -> str | None:
    """Where nested lists stop being rectangular, in PyTorch's words (None if they are rectangular)."""
    level = [data]
    for dim in range(64):
        seqs = [x for x in level if isinstance(x, (list, tuple))]
        if not seqs:
            return None
        if len(seqs) != len(level):
            return f"expected a sequence at dim {dim} for every element, got a mix of numbers and sequences"
        n = len(seqs[0])
        for s in seqs:
            if len(s) != n:
                return f"expected sequence of length {n} at dim {dim} (got {len(s)})"
        level = [x for s in seqs for x in s]
    return None


def to_array(data, dtype=None):
    """Copy ``data`` into a new array with PyTorch's dtype inference (Python floats -> float32)."""
    try:
        return _to_array(data, dtype)
    except ValueError:
        problem = _ragged(data) if isinstance(data, (list, tuple)) else None
        if problem:   # only looked for after NumPy failed: a big list costs nothing extra
            raise ValueError(f"tensor: {problem}; nested lists must be rectangular (every row the same "
                             f"length)") from None
        raise


def _to_array(data, dtype):
    if dtype is not None:
        return xp.array(data, dtype=to_dtype(dtype).np)
    if isinstance(data, xp.ndarray):
        from_np_dtype(data.dtype)
        return data.copy()
    a = xp.array(data)
    if a.dtype == xp.float64 and not isinstance(data, xp.generic) and not _holds_numpy(data):
        return a.astype(default_float.np)
    if a.dtype.kind in "US" or a.dtype == object:
        raise TypeError(f"tensor(): could not infer a numeric dtype from {type(data).__name__} data")
    from_np_dtype(a.dtype)
    return a


def _holds_numpy(data) -> bool:
    """True when a (nested) sequence carries NumPy float64 values, whose dtype PyTorch keeps."""
    while isinstance(data, (list, tuple)) and data:
        data = data[0]
    return isinstance(data, (xp.ndarray, xp.generic)) and data.dtype == xp.float64


_thread_limit = None  # keeps threadpoolctl's limit in force


def set_num_threads(n: int) -> None:
    """Set how many threads NumPy's BLAS (matrix products) may use, like ``torch.set_num_threads``.

    Small models run fastest on one thread; on a busy machine extra BLAS threads mostly wait.
    """
    global _thread_limit, _threads_set
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive integer, got {n!r}")
    _thread_limit = threadpool_limits(limits=n, user_api="blas")
    _threads_set = n


_threads_set = None   # the last set_num_threads(n)


def intra_op_threads() -> int:
    """How many threads PyTorch's CPU kernels would use here: the last ``set_num_threads``, else
    OMP_NUM_THREADS, else the CPUs this process may run on (where PyTorch's choice of kernel depends
    on it, chainrule follows the same rule)."""
    if _threads_set is not None:
        return _threads_set
    env = os.environ.get("OMP_NUM_THREADS", "")
    return int(env) if env.isdigit() and int(env) > 0 else len(os.sched_getaffinity(0))


def get_num_threads() -> int:
    """The number of threads NumPy's BLAS uses (1 if no BLAS thread pool was found)."""
    pools = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    return max(pools) if pools else 1


def is_array(x) -> bool:
    return isinstance(x, xp.ndarray)


default_generator = Generator()

"""Tensor's conversions (a mixin of ``Tensor``): to Python numbers and lists, to NumPy and DLPack, to
other dtypes and devices (``to``, ``float``, ``type`` …), ``clone``, printing and copying."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import backend
from ..autograd.function import notify
from ..autograd.grad_mode import state
from ..ops import elementwise as E
from . import core
from .args import dtype_arg, refuse_dtype_name
from .device import device, require_cpu
from .format import format_tensor

if TYPE_CHECKING:
    from .core import Tensor


class ConversionMethods:
    """Conversions of ``Tensor`` to other types, dtypes and devices."""

    __slots__ = ()

    # --- conversion ------------------------------------------------------------------------
    def item(self):
        """The value of a one-element tensor as a Python number.

        >>> import chainrule as cr
        >>> cr.tensor([2.5]).item()
        2.5
        """
        if state.observed:
            notify("data_read", self, "item")
        if self._data.size != 1:
            raise RuntimeError(f"item: a Tensor with {self._data.size} elements cannot be converted to a "
                               f"Python scalar (shape {self._data.shape})")
        return self._data.item()

    def tolist(self):
        """The values as nested Python lists (a 0-d tensor gives a plain number).

        >>> import chainrule as cr
        >>> cr.tensor([[1, 2], [3, 4]]).tolist()
        [[1, 2], [3, 4]]
        """
        if state.observed:
            notify("data_read", self, "tolist")
        return self._data.tolist()

    def numpy(self, force: bool = False):
        """The underlying NumPy array, sharing memory with the tensor (a change to one shows in the other).

        A tensor that requires grad is refused unless ``force=True``: call ``detach().numpy()``.
        """
        if state.observed:
            notify("data_read", self, "numpy")
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        if state.observed:
            notify("data_read", self, "__array__")
        if self.requires_grad:   # np.asarray(w) would drop the graph silently; PyTorch refuses, as numpy()
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        a = self._data
        if dtype is not None and a.dtype != dtype:
            return a.astype(dtype)
        return a.copy() if copy else a

    def __dlpack__(self, *args, **kwargs):
        return self._data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def _scalar(self, kind: str):
        if state.observed:
            notify("data_read", self, kind)
        if self._data.size != 1:
            raise RuntimeError(f"{kind}: only a one-element tensor can be converted to a Python scalar; "
                               f"this one has shape {self._data.shape}")
        return self._data.item()

    def __bool__(self) -> bool:
        if state.observed:
            notify("data_read", self, "bool()")
        if self._data.size != 1:
            amount = "no values" if self._data.size == 0 else "more than one value"
            raise RuntimeError(f"Boolean value of Tensor with {amount} is ambiguous "
                               f"(shape {self._data.shape}); use .any() or .all()")
        return bool(self._data.item())

    def __float__(self) -> float:
        return float(self._scalar("float()"))

    def __int__(self) -> int:
        return int(self._scalar("int()"))

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._scalar("index"))

    def __complex__(self) -> complex:
        return complex(self._scalar("complex()"))

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return format_tensor(self)

    def __format__(self, spec: str) -> str:
        """PyTorch's rule: a 0-d tensor formats as its number (``f"{loss:.4f}"``, and ``f"{loss}"`` gives
        ``2.4543561935424805``); any other tensor only with an empty spec, as ``str(t)``."""
        if self._data.ndim == 0:
            return format(self._data.item(), spec)
        if spec:
            raise TypeError(f"unsupported format string {spec!r} passed to Tensor.__format__ for a tensor of "
                            f"shape {tuple(self.shape)}; only 0-d tensors take a format spec (use t.item())")
        return str(self)

    def __reduce_ex__(self, protocol):
        # Tensors are not pickled by chainrule (model files are safetensors); copying is allowed.
        return (_rebuild, (self._data.copy(), self.requires_grad))

    def __deepcopy__(self, memo):
        t = core.Tensor._make(self._data.copy())
        t._requires_grad = self._requires_grad
        if self._grad is not None:
            t._grad = core.Tensor._make(self._grad._data.copy())
        memo[id(self)] = t
        return t

    # --- dtype conversion --------------------------------------------------------------------
    def to(self, *args, **kwargs) -> Tensor:
        """Convert to another dtype: ``t.to(chainrule.float64)``, ``t.to(dtype=...)``, or ``t.to(other)`` for
        other's dtype. Returns self when nothing changes; devices other than the CPU are refused.

        Recorded: the gradient flows back cast to the original dtype. Floats become integers by truncation.

        >>> import chainrule as cr
        >>> cr.tensor([1.7, -1.7]).to(cr.int64)
        tensor([ 1, -1])
        """
        dtype = kwargs.get("dtype")
        for a in args:
            if isinstance(a, core.Tensor):
                dtype = a.dtype
            elif isinstance(a, (str, device)):
                refuse_dtype_name(a, "to")
                require_cpu(a, "Tensor.to")
            elif a is not None:
                dtype = a
        require_cpu(kwargs.get("device"), "Tensor.to")
        if dtype is None:
            return self
        np_dtype = dtype_arg(dtype, "to").np
        if np_dtype == self._data.dtype:
            return self
        return E.Cast.apply(self, np_dtype)

    def type(self, dtype=None, non_blocking: bool = False):
        """With no argument, PyTorch's name of the tensor type with the ``chainrule.`` prefix
        (``chainrule.FloatTensor`` for float32, ``chainrule.LongTensor`` for int64, …); with a dtype or such a
        name (``"torch.DoubleTensor"`` is accepted too), the same as ``to(dtype)``.

        >>> import chainrule as cr
        >>> x = cr.tensor([1.7])
        >>> x.type()
        'chainrule.FloatTensor'
        >>> x.type("torch.IntTensor")
        tensor([1], dtype=chainrule.int32)
        """
        if dtype is None:
            return f"chainrule.{TYPE_NAMES[self._data.dtype.name]}Tensor"
        if isinstance(dtype, str):
            return self.to(_dtype_of_type_name(dtype))
        try:
            dtype = backend.to_dtype(dtype)
        except (TypeError, ValueError):
            raise TypeError(f"type: dtype must be a dtype or a type name such as 'chainrule.FloatTensor', "
                            f"got {dtype!r}") from None
        return self.to(dtype)

    def type_as(self, other: Tensor) -> Tensor:
        """``to(other.dtype)``: convert to the dtype of ``other``."""
        return self.to(other.dtype)

    def float(self) -> Tensor:
        """``to(chainrule.float32)``."""
        return self.to(backend.float32)

    def double(self) -> Tensor:
        """``to(chainrule.float64)``."""
        return self.to(backend.float64)

    def half(self) -> Tensor:
        """``to(chainrule.float16)``."""
        return self.to(backend.float16)

    def long(self) -> Tensor:
        """``to(chainrule.int64)``."""
        return self.to(backend.int64)

    def int(self) -> Tensor:
        """``to(chainrule.int32)``."""
        return self.to(backend.int32)

    def bool(self) -> Tensor:
        """``to(chainrule.bool)``: True where the element is nonzero."""
        return self.to(backend.bool_)

    def cpu(self) -> Tensor:
        """self: chainrule tensors always live on the CPU."""
        return self

    def cuda(self, device=None, non_blocking: bool = False, memory_format=None) -> Tensor:
        """Raises PyTorch's CPU-build error: chainrule has no CUDA device."""
        where = "cuda" if device is None else f"cuda:{device}" if isinstance(device, int) else device
        require_cpu(where, "Tensor.cuda")

    def clone(self, memory_format=None) -> Tensor:
        """A copy with its own memory that stays in the graph (the gradient passes through unchanged).

        Laid out as PyTorch's default ``preserve_format``: a permuted dense tensor keeps its strides (so
        ``x.t().clone().view(-1)`` raises, as in PyTorch); ``memory_format="contiguous_format"`` (or
        PyTorch's object of that name) gives row-major order.

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0, 2.0]); y = x.clone(); y[0] = 5.0
        >>> x
        tensor([1., 2.])
        """
        c_order = not self._data.flags.c_contiguous and str(memory_format).endswith("contiguous_format")
        return E.Clone.apply(self, c_order)


# PyTorch's scalar-type names (``FloatTensor``, ``view(dtype)`` errors), keyed by the NumPy dtype name.
TYPE_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long",
              "float16": "Half", "float32": "Float", "float64": "Double", "complex64": "ComplexFloat",
              "complex128": "ComplexDouble"}


def _dtype_of_type_name(name: str):
    """The dtype named by a legacy type name: ``"chainrule.FloatTensor"`` or ``"torch.FloatTensor"``."""
    module, _, cls = name.rpartition(".")
    if module in ("torch.cuda", "chainrule.cuda"):
        require_cpu("cuda", "Tensor.type")
    by_name = {f"{v}Tensor": k for k, v in TYPE_NAMES.items()}
    if module not in ("torch", "chainrule") or cls not in by_name:
        raise ValueError(f"type: invalid type: {name!r}; expected a name such as 'chainrule.FloatTensor' "
                         f"(or 'torch.FloatTensor'), or a dtype")
    try:
        return backend.to_dtype(by_name[cls])
    except TypeError:
        raise TypeError(f"type: {name!r} names {by_name[cls]}, which chainrule cannot store (it has Bool, "
                        f"Byte, Int, Long, Half, Float and Double tensors)") from None


def _rebuild(data, requires_grad):
    t = core.Tensor._make(data)
    t._requires_grad = bool(requires_grad)
    return t

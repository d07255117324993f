"""The Tensor: an array plus what autograd needs (``requires_grad``, ``grad``, ``grad_fn``).

The one place arrays are wrapped. Every operator is an explicit one-line method that calls an op
(``chainrule.ops``); argument normalisation (negative dims, ``keepdim``, dtype promotion under
PyTorch's rules) happens here so ops stay plain math.
"""

from __future__ import annotations

import math
import warnings
import weakref

from .. import autograd, backend
from ..autograd.function import AccumulateGrad, hooks
from ..backend import DType, xp
from ..ops import elementwise as E
from .args import normalize_dim
from .arithmetic import MathMethods
from .format import format_tensor
from .indexing import IndexingMethods
from .inplace import InplaceMethods
from .reduce import ReduceMethods
from .shape import ShapeMethods

_ndarray = xp.ndarray
_new = object.__new__


class Size(tuple):
    """A shape, printed like PyTorch's ``torch.Size``."""

    def __repr__(self) -> str:
        return f"chainrule.Size({list(self)})"

    def numel(self) -> int:
        return math.prod(self)


class device:
    """Where a tensor lives. chainrule computes on the CPU (a CuPy backend can add 'cuda')."""

    def __init__(self, type: str = "cpu"):
        if str(type) not in ("cpu", "cpu:0"):
            raise RuntimeError(f"device {type!r} is not available: chainrule runs on the CPU")
        self.type = "cpu"

    def __repr__(self) -> str:
        return "device(type='cpu')"

    def __eq__(self, other) -> bool:
        return str(other) == "cpu" or isinstance(other, device)

    def __hash__(self):
        return hash("cpu")

    def __str__(self) -> str:
        return "cpu"


_CPU = device()


class Tensor(MathMethods, ReduceMethods, ShapeMethods, IndexingMethods, InplaceMethods):
    """A multi-dimensional array that can record the operations applied to it.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y
    tensor(5., grad_fn=<SumBackward0>)
    >>> y.backward(); x.grad
    tensor([2., 4.])
    """

    __slots__ = (
        "__weakref__",
        "_acc",
        "_base",
        "_data",
        "_grad",
        "_output_nr",
        "_version_box",
        "grad_fn",
        "requires_grad",
    )
    __array_priority__ = 1000  # make ndarray (op) Tensor defer to Tensor's reflected operators

    def __init__(self, data=(), dtype=None, requires_grad: bool = False):
        self._data = backend.to_array(data, dtype if dtype is not None else backend.float32)
        self.requires_grad = False
        self._grad = None
        self.grad_fn = None
        self._output_nr = 0
        self._version_box = [0]
        self._acc = None
        self._base = None
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _make(data, grad_fn=None, output_nr: int = 0) -> Tensor:
        """Wrap an array without copying (the fast internal constructor)."""
        t = _new(Tensor)
        t._data = data if type(data) is _ndarray else xp.asarray(data)
        t.grad_fn = grad_fn
        t.requires_grad = grad_fn is not None
        t._grad = None
        t._output_nr = output_nr
        t._version_box = [0]
        t._acc = None
        t._base = None
        return t

    def _view_of(self, base: Tensor) -> Tensor:
        """Mark self as a view of ``base``: they share memory, so they share a version counter."""
        root = base._base if base._base is not None else base
        self._base = root
        self._version_box = root._version_box
        return self

    def _accumulator(self) -> AccumulateGrad:
        acc = self._acc
        if acc is None:
            acc = self._acc = AccumulateGrad(self)
        return acc

    # --- attributes ------------------------------------------------------------------------
    @property
    def grad(self) -> Tensor | None:
        """The accumulated gradient (leaves, or non-leaves that called ``retain_grad()``)."""
        if self.grad_fn is not None and self._grad is None and not self.retains_grad:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
                "attribute won't be populated during autograd.backward(). If you indeed want the gradient "
                "for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you access the "
                "non-leaf Tensor by mistake, make sure you access the leaf Tensor instead.",
                UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got {type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(f"assigned grad has data of a different size: {tuple(value.shape)} "
                                   f"vs the tensor's {tuple(self.shape)}")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(f"assigned grad has data of a different type: {value.dtype} vs the "
                                   f"tensor's {self.dtype}")
        self._grad = value

    @property
    def data(self) -> Tensor:
        """A detached Tensor sharing this one's memory (PyTorch's ``.data``); changes to it are not tracked."""
        return Tensor._make(self._data)

    @data.setter
    def data(self, value) -> None:
        self._data = value._data if isinstance(value, Tensor) else xp.asarray(value)

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[normalize_dim(dim, self._data.ndim, "size")]

    @property
    def dtype(self) -> DType:
        return backend.from_np_dtype(self._data.dtype)

    @property
    def device(self) -> device:
        return _CPU

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)

    def contiguous(self) -> Tensor:
        return self if self._data.flags.c_contiguous else self.clone()

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def _version(self) -> int:
        return self._version_box[0]

    @property
    def T(self) -> Tensor:
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self) -> Tensor:
        return self.transpose(-2, -1)

    # --- conversion ------------------------------------------------------------------------
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"item: a Tensor with {self._data.size} elements cannot be converted to a "
                               f"Python scalar (shape {self._data.shape})")
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def numpy(self, force: bool = False):
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
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
        if self._data.size != 1:
            raise RuntimeError(f"{kind}: only a one-element tensor can be converted to a Python scalar; "
                               f"this one has shape {self._data.shape}")
        return self._data.item()

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous "
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
        if self._data.ndim == 0 and spec:
            return format(self._data.item(), spec)
        return repr(self) if not spec else format(str(self), spec)

    def __reduce_ex__(self, protocol):
        # Tensors are not pickled by chainrule (model files are safetensors); copying is allowed.
        return (_rebuild, (self._data.copy(), self.requires_grad))

    def __deepcopy__(self, memo):
        t = Tensor._make(self._data.copy())
        t.requires_grad = self.requires_grad
        if self._grad is not None:
            t._grad = Tensor._make(self._grad._data.copy())
        memo[id(self)] = t
        return t

    # --- autograd --------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False, inputs=None) -> None:
        """Compute the gradient of this tensor w.r.t. graph leaves and accumulate it into their ``.grad``."""
        autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> Tensor:
        return Tensor._make(self._data)._view_of(self)

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if self.grad_fn is not None:
            if not requires_grad:
                raise RuntimeError("requires_grad_: you can only change requires_grad flags of leaf "
                                   "variables; use detach() to get a tensor without grad")
            return self
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError(f"requires_grad_: only Tensors of floating point dtype can require "
                               f"gradients, got {self.dtype}")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        if self.grad_fn is None:
            if not self.requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if self.grad_fn._num_outputs > 1:
            raise NotImplementedError("retain_grad on an output of a multi-output Function is not supported")
        self.grad_fn._retained = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        fn = self.grad_fn
        return fn is not None and fn._retained is not None and fn._retained() is self

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces it."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        node = self.grad_fn if self.grad_fn is not None else self._accumulator()
        if node._num_outputs > 1:
            raise NotImplementedError("register_hook on an output of a multi-output Function is not supported")
        if node._tensor_hooks is None:
            node._tensor_hooks = []
        node._tensor_hooks.append(hook)
        return _HookHandle(node._tensor_hooks, hook)

    # --- dtype conversion --------------------------------------------------------------------
    def to(self, *args, **kwargs) -> Tensor:
        dtype = kwargs.get("dtype")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, (str, device)):
                device(str(a))
            elif a is not None:
                dtype = a
        if "device" in kwargs and kwargs["device"] is not None:
            device(str(kwargs["device"]))
        if dtype is None:
            return self
        np_dtype = backend.to_dtype(dtype).np
        if np_dtype == self._data.dtype:
            return self
        return E.Cast.apply(self, np_dtype)

    def type(self, dtype=None):
        if dtype is None:
            return f"chainrule.{self.dtype.name.capitalize()}Tensor"
        return self.to(dtype)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def float(self) -> Tensor:
        return self.to(backend.float32)

    def double(self) -> Tensor:
        return self.to(backend.float64)

    def half(self) -> Tensor:
        return self.to(backend.float16)

    def long(self) -> Tensor:
        return self.to(backend.int64)

    def int(self) -> Tensor:
        return self.to(backend.int32)

    def bool(self) -> Tensor:
        return self.to(backend.bool_)

    def cpu(self) -> Tensor:
        return self

    def clone(self, memory_format=None) -> Tensor:
        return E.Clone.apply(self)


def _rebuild(data, requires_grad):
    t = Tensor._make(data)
    t.requires_grad = requires_grad
    return t


class _HookHandle:
    def __init__(self, hooks_list, hook):
        self._list, self._hook = hooks_list, hook

    def remove(self) -> None:
        if self._hook in self._list:
            self._list.remove(self._hook)


# autograd sits below this layer: it learns the Tensor class and the differentiable namespace here, once.
hooks.Tensor = Tensor

from . import differentiable

hooks.tensor_math = differentiable

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
from ..autograd.grad_mode import state
from ..backend import DType, xp
from . import views
from .args import bool_arg, normalize_dim
from .arithmetic import MathMethods
from .compare import ComparisonMethods
from .convert import ConversionMethods
from .device import device
from .factory import FactoryMethods
from .indexing import IndexingMethods
from .indexing_extra import IndexingMoreMethods
from .inplace import InplaceMethods
from .math_extra import MoreMathMethods
from .math_more import BinaryMathMethods
from .rearrange import RearrangeMethods
from .reduce import ReduceMethods
from .shape import ShapeMethods
from .shape_more import ShapeMoreMethods
from .sorting import SortingMethods

_ndarray = xp.ndarray
_new = object.__new__


class Size(tuple):
    """A shape, printed like PyTorch's ``torch.Size``."""

    def __repr__(self) -> str:
        return f"chainrule.Size({list(self)})"

    def numel(self) -> int:
        return math.prod(self)


_CPU = device()


class Tensor(ConversionMethods, MathMethods, ComparisonMethods, RearrangeMethods, ReduceMethods, ShapeMethods, IndexingMethods, InplaceMethods, SortingMethods,
             FactoryMethods, MoreMathMethods, IndexingMoreMethods, BinaryMathMethods, ShapeMoreMethods):
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
        "_multi_view",   # (name, nr) on pieces of split/chunk/unbind and their views, else None (views.py)
        "_output_nr",
        "_requires_grad",   # read through the ``requires_grad`` property (its setter checks); the hot paths
        "_version_box",     # (Function.apply, _make) use the slot itself
        "_views",        # weak references to views of this tensor, set by the first (tensor/views.py)
        "grad_fn",
    )
    __array_priority__ = 1000  # make ndarray (op) Tensor defer to Tensor's reflected operators

    def __init__(self, data=(), dtype=None, requires_grad: bool = False):
        self._data = backend.to_array(data, dtype if dtype is not None else backend.default_float)
        self._requires_grad = False
        self._grad = None
        self.grad_fn = None
        self._output_nr = 0
        self._version_box = [0]
        self._acc = None
        self._base = None
        self._multi_view = None
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _make(data, grad_fn=None, output_nr: int = 0) -> Tensor:
        """Wrap an array without copying (the fast internal constructor)."""
        t = _new(Tensor)
        t._data = data if type(data) is _ndarray else xp.asarray(data)
        t.grad_fn = grad_fn
        t._requires_grad = grad_fn is not None
        t._grad = None
        t._output_nr = output_nr
        t._version_box = [0]
        t._acc = None
        t._base = None
        t._multi_view = None
        return t

    def _view_of(self, base: Tensor) -> Tensor:
        """Mark self as a view of ``base``: they share memory, so they share a version counter."""
        root = base._base if base._base is not None else base
        self._base = root
        self._version_box = root._version_box
        if root.grad_fn is not None or not root._requires_grad:    # its history may change in place (or
            views.register(root, self)      # begin, b.sub_(w) on a b without one): views.refresh follows it
        self._multi_view = base._multi_view     # a view of a split piece is one too (always set: no getattr)
        if base._requires_grad and not self._requires_grad and not state.enabled:
            # made under no_grad: as in PyTorch it requires grad and is a leaf, but its gradient goes nowhere
            # (ops on it record an edge to nothing) and changing it in place with grad enabled is refused
            self._requires_grad = True
            self._acc = False
        return self

    @property
    def _made_under_no_grad(self) -> bool:
        return self._acc is False

    def _accumulator(self) -> AccumulateGrad | None:
        acc = self._acc
        if acc is None:
            acc = self._acc = AccumulateGrad(self)
        elif acc is False:      # a view made under no_grad (_view_of): no node, its gradient goes nowhere
            return None
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
        if not isinstance(value, Tensor):   # PyTorch's words; a list here would break every later op
            raise TypeError(f"Variable data has to be a tensor, but got {type(value).__name__}")
        self._data = value._data

    @property
    def shape(self) -> Size:
        """The size of each dimension, as a ``chainrule.Size`` (a tuple)."""
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        """The shape as a ``chainrule.Size``, or with ``dim`` the size of that one dimension as an int.

        >>> import chainrule as cr
        >>> x = cr.zeros(2, 3)
        >>> x.size(), x.size(-1)
        (chainrule.Size([2, 3]), 3)
        """
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[normalize_dim(dim, self._data.ndim, "size")]

    @property
    def dtype(self) -> DType:
        """The element type, e.g. ``chainrule.float32`` (the default for floats) or ``chainrule.int64``."""
        return backend.from_np_dtype(self._data.dtype)

    @property
    def device(self) -> device:
        """Where the data lives: always the CPU in chainrule."""
        return _CPU

    @property
    def is_cuda(self) -> bool:
        """Always False: chainrule tensors live on the CPU."""
        return False

    @property
    def ndim(self) -> int:
        """The number of dimensions (the same as ``dim()``)."""
        return self._data.ndim

    def dim(self) -> int:
        """The number of dimensions (the same as the ``ndim`` property)."""
        return self._data.ndim

    def numel(self) -> int:
        """The number of elements, the product of the shape (``nelement`` is an alias)."""
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        """The size of one element in bytes (4 for float32, 8 for int64)."""
        return self._data.itemsize

    def is_floating_point(self) -> bool:
        """True if the dtype is a floating-point type (float16, float32, float64)."""
        return self._data.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        """True if the elements lie in memory in row-major order; a transposed or expanded view is not."""
        return bool(self._data.flags.c_contiguous)

    def contiguous(self) -> Tensor:
        """self if it is contiguous, otherwise a contiguous copy (recorded, so the gradient flows through).

        >>> import chainrule as cr
        >>> x = cr.zeros(2, 3).t()
        >>> x.is_contiguous(), x.contiguous().is_contiguous()
        (False, True)
        """
        return self if self._data.flags.c_contiguous else self.clone(memory_format="contiguous_format")

    @property
    def is_leaf(self) -> bool:
        """True unless a recorded op made this tensor; only leaves get ``.grad`` filled by ``backward()``."""
        return self.grad_fn is None

    @property
    def _version(self) -> int:
        return self._version_box[0]

    @property
    def T(self) -> Tensor:
        """All dimensions reversed (the transpose of a matrix); a view. For batches of matrices use ``mT``."""
        if self.ndim != 2:   # PyTorch's deprecation: on a batch of matrices x.T is rarely what was meant
            _warn_T(self.ndim)
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self) -> Tensor:
        """The transpose of the last two dimensions (each matrix of a batch transposed); a view."""
        if self.ndim < 2:
            if self.ndim == 1:
                raise RuntimeError(f"mT: only supported on matrices or batches of matrices, got a 1-D tensor "
                                   f"of shape {tuple(self.shape)}")
            _warn_once("mT of a 0-d tensor", "Tensor.mT is deprecated on 0-D tensors. This function is the "
                       "identity in these cases.")
            return self        # PyTorch: the identity (with a once-per-process deprecation warning)
        return self.transpose(-2, -1)

    # --- autograd --------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False, inputs=None) -> None:
        """Compute the gradient of this tensor w.r.t. graph leaves and accumulate it into their ``.grad``."""
        if gradient is not None and not isinstance(gradient, Tensor):
            items = gradient if isinstance(gradient, list | tuple) else (gradient,)
            for g in items:
                if g is not None and not isinstance(g, Tensor):
                    raise TypeError(f"backward: gradient must be a Tensor (or None), got {type(g).__name__} "
                                    f"{g!r}; write backward(chainrule.tensor({gradient!r}))")
        autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> Tensor:
        """A new tensor on the same data, cut out of the graph (no grad_fn, requires_grad False).

        It shares memory and the version counter with self: an in-place change to one shows in the other.

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0], requires_grad=True)
        >>> (x * 2).detach()
        tensor([2.])
        """
        out = Tensor._make(self._data)
        out._version_box = self._version_box    # not a view in autograd's sense (PyTorch: _base is None), so
        return out                              # an in-place op on it that requires grad records on it alone

    def detach_(self) -> Tensor:
        """Cut this tensor out of the graph in place: it becomes a leaf that does not require grad."""
        self.grad_fn = None
        self._requires_grad = False
        return self

    @property
    def requires_grad(self) -> bool:
        """Whether ops on this tensor are recorded for backward. Set it on a leaf, with a bool:

        >>> import chainrule as cr
        >>> w = cr.zeros(2)
        >>> w.requires_grad = True
        >>> (w * 2).requires_grad
        True
        """
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value) -> None:
        if type(value) is not bool:
            raise RuntimeError(f"requires_grad must be a bool, got {type(value).__name__} ({value!r}); write "
                               f"x.requires_grad = True")
        if self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables." + (
                "" if value else " If you want to use a computed variable in a subgraph that doesn't require "
                "differentiation use var_no_grad = var.detach()."))
        if value and self._data.dtype.kind not in "fc":
            raise RuntimeError(f"only Tensors of floating point and complex dtype can require gradients, got "
                               f"{self.dtype}")
        self._requires_grad = value

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return self (floating-point leaves only; a non-leaf that
        requires grad cannot be switched off).

        >>> import chainrule as cr
        >>> cr.zeros(2).requires_grad_().requires_grad
        True
        """
        bool_arg(requires_grad, "requires_grad_", "requires_grad")
        if self.grad_fn is not None:
            if not requires_grad:
                raise RuntimeError("requires_grad_: you can only change requires_grad flags of leaf "
                                   "variables; use detach() to get a tensor without grad")
            return self
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError(f"requires_grad_: only Tensors of floating point dtype can require "
                               f"gradients, got {self.dtype}")
        self._requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` during backward (leaves keep theirs anyway).

        >>> import chainrule as cr
        >>> x = cr.tensor(3.0, requires_grad=True)
        >>> y = x * x; y.retain_grad(); (2 * y).backward()
        >>> y.grad, x.grad
        (tensor(2.), tensor(12.))
        """
        if self.grad_fn is None:
            if not self.requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        fn = self.grad_fn
        if fn._num_outputs > 1:          # one of several outputs (a piece of split): by output number
            if fn._retained is None:
                fn._retained = {}
            fn._retained[self._output_nr] = weakref.ref(self)
        else:
            fn._retained = weakref.ref(self)
        fn._watched = True

    @property
    def retains_grad(self) -> bool:
        """True if ``retain_grad()`` was called on this non-leaf tensor."""
        fn = self.grad_fn
        if fn is None or fn._retained is None:
            return False
        ref = fn._retained.get(self._output_nr) if fn._num_outputs > 1 else fn._retained
        return ref is not None and ref() is self

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces it."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        node = self.grad_fn if self.grad_fn is not None else self._accumulator()
        if node is None:        # a view made under no_grad: no gradient ever reaches it (PyTorch accepts the hook)
            return _HookHandle([hook], hook)
        if node._num_outputs > 1:
            raise NotImplementedError("register_hook on an output of a multi-output Function is not supported")
        if node._tensor_hooks is None:
            node._tensor_hooks = []
            node._watched = True
        node._tensor_hooks.append(hook)
        return _HookHandle(node._tensor_hooks, hook)

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


# PyTorch warns some things once per process (a C++ TORCH_WARN_ONCE), whatever Python's filters say;
# chainrule does the same for those, remembering them here (a test may clear it to act as a new process)
warned_once: set = set()


def _warn_once(key: str, message: str, stacklevel: int = 3) -> None:
    """Warn ``message`` (at the user's line, ``stacklevel`` frames up) unless ``key`` has warned already."""
    if key not in warned_once:
        warned_once.add(key)
        warnings.warn(message, UserWarning, stacklevel=stacklevel)


def _warn_T(ndim: int) -> None:
    if ndim == 0:
        _warn_once("T of a 0-d tensor", "Tensor.T is deprecated on 0-D tensors. This function is the identity "
                   "in these cases.", stacklevel=4)
        return
    if "T" in warned_once:
        return
    warned_once.add("T")
    warnings.warn(f"The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated "
                  f"and it will throw an error in a future release (this tensor has {ndim} dimensions). Consider "
                  f"`x.mT` to transpose batches of matrices or `x.permute(*range(x.ndim - 1, -1, -1))` to "
                  f"reverse the dimensions of a tensor.", UserWarning, stacklevel=3)

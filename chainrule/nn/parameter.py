"""``Parameter``: a Tensor that a Module registers as one of its learnable weights.

It is an ordinary leaf Tensor (``requires_grad=True`` by default); the only thing the subclass
adds is identity: assigning a Parameter to a Module attribute registers it, so it shows up in
``parameters()`` and ``state_dict()``.
"""

from __future__ import annotations

from .. import backend
from ..backend import xp
from ..tensor import Tensor


class Parameter(Tensor):
    """A learnable tensor of a Module. Shares memory with ``data`` when it is a Tensor.

    >>> import chainrule as cr
    >>> w = cr.nn.Parameter(cr.ones(2))
    >>> w
    Parameter containing:
    tensor([1., 1.], requires_grad=True)
    """

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            array = xp.empty((0,), backend.default_float.np)
        elif isinstance(data, Tensor):
            array = data._data  # PyTorch's Parameter(t) shares t's storage
        else:   # PyTorch refuses a list or an array too (it calls data.detach())
            raise TypeError(f"Parameter: data must be a Tensor, got {type(data).__name__}; wrap it first, "
                            f"e.g. nn.Parameter(tensor([1., 2.])) or nn.Parameter(from_numpy(a))")
        self._data = array
        self._requires_grad = False
        self.grad = None
        self.grad_fn = None
        self._output_nr = 0
        self._version_box = data._version_box if isinstance(data, Tensor) else [0]
        self._acc = None
        self._base = None
        self._multi_view = None
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        p = Parameter(Tensor._make(self._data.copy()), self.requires_grad)
        if self.grad is not None:
            p.grad = Tensor._make(self.grad._data.copy())
        memo[id(self)] = p
        return p

    def __reduce_ex__(self, protocol):
        # Used by copy.copy; chainrule never pickles tensors to files (model files are safetensors).
        return (_rebuild_parameter, (self._data.copy(), self.requires_grad))


def _rebuild_parameter(array, requires_grad):
    return Parameter(Tensor._make(array), requires_grad)

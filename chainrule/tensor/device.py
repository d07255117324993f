"""``chainrule.device``: where a tensor lives, as PyTorch's ``torch.device`` — and why it is always the CPU.

chainrule computes on the CPU with NumPy. A ``device('cuda')`` object can still be *made* (PyTorch
scripts write ``device = torch.device("cuda" if torch.cuda.is_available() else "cpu")``), compared and
printed exactly as in PyTorch; only *moving* a tensor or module there raises, with PyTorch's CPU-build
error text ("Torch not compiled with CUDA enabled") and the way out.

>>> device("cuda:1")
device(type='cuda', index=1)
>>> str(device("cuda", 0)), device("cpu") == device("cpu"), device("cpu") == "cpu"
('cuda:0', True, False)
"""

from __future__ import annotations

import operator

__all__ = ["CudaNotAvailableError", "device", "get_default_device", "require_cpu", "set_default_device"]

# PyTorch's device types, in the order its error message lists them.
DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia",
                "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")


class CudaNotAvailableError(RuntimeError, AssertionError):
    """PyTorch's CPU build raises ``AssertionError`` here; this is also a ``RuntimeError`` (an error, not
    a failed internal check), so ``except AssertionError`` and ``except RuntimeError`` both catch it."""


class device:
    """A device: ``type`` ('cpu', 'cuda', ...) and ``index`` (None unless given).

    >>> d = device("cuda")
    >>> d.type, d.index, repr(device("cpu", 0))
    ('cuda', None, "device(type='cpu', index=0)")
    """

    __slots__ = ("_index", "_type")

    def __init__(self, type: str | device = "cpu", index: int | None = None):
        if isinstance(type, device):
            self._type, self._index = type.type, type.index
            return
        if not isinstance(type, str):
            # PyTorch reads a bare number as an accelerator index, and there is no accelerator
            raise RuntimeError("Cannot access accelerator device when none is available.")  # noqa: TRY004
        kind, _, number = type.partition(":")
        if kind not in DEVICE_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(DEVICE_TYPES)} device type at start of device "
                               f"string: {type}")
        if number:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed "
                                   f"explicitly: {type}")
            if not number.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(number)
        if index is not None:
            index = operator.index(index)
            if index < 0:
                raise RuntimeError("Device index must not be negative")
        self._type, self._index = kind, index

    @property
    def type(self) -> str:
        return self._type

    @property
    def index(self) -> int | None:
        return self._index

    def __repr__(self) -> str:
        if self._index is None:
            return f"device(type='{self._type}')"
        return f"device(type='{self._type}', index={self._index})"

    def __str__(self) -> str:
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __eq__(self, other) -> bool:
        # As in PyTorch: a device equals only a device (device('cpu') == 'cpu' is False).
        return isinstance(other, device) and (self._type, self._index) == (other._type, other._index)

    def __hash__(self) -> int:
        return hash((self._type, self._index))

    def __reduce__(self):
        return device, (self._type, self._index)


def require_cpu(where, op: str) -> None:
    """Raise PyTorch's error unless ``where`` (a device, a string or None) is the CPU.

    >>> require_cpu("cpu", "Tensor.to")
    >>> require_cpu("cuda:0", "Tensor.to")
    Traceback (most recent call last):
    ...
    chainrule.tensor.device.CudaNotAvailableError: Torch not compiled with CUDA enabled (Tensor.to(device='cuda:0'): chainrule computes on the CPU only; write device = 'cuda' if torch.cuda.is_available() else 'cpu', which picks 'cpu' here)
    """
    if where is None:
        return
    d = where if isinstance(where, device) else device(where)
    if d.type == "cpu":
        return
    if d.type == "cuda":
        raise CudaNotAvailableError(
            f"Torch not compiled with CUDA enabled ({op}(device='{d}'): chainrule computes on the CPU only; "
            f"write device = 'cuda' if torch.cuda.is_available() else 'cpu', which picks 'cpu' here)")
    if d.type == "mps":
        raise RuntimeError(f"PyTorch is not linked with support for mps devices ({op}(device='{d}'): chainrule "
                           f"computes on the CPU only; torch.backends.mps.is_available() is False)")
    raise RuntimeError(f"{op}: device '{d}' is not available: chainrule computes on the CPU only")


_device = device


def set_default_device(device) -> None:
    """Accepts 'cpu' (and None, PyTorch's reset); any other device raises PyTorch's error.

    >>> set_default_device("cpu"); get_default_device()
    device(type='cpu')
    """
    require_cpu(device, "set_default_device")


def get_default_device() -> device:
    """The device new tensors are made on: always the CPU."""
    return _device("cpu")

"""``chainrule.cuda``: PyTorch's ``torch.cuda`` as a CPU-only build of PyTorch answers it.

chainrule computes on the CPU, so there is never a CUDA device. Queries answer as PyTorch's CPU
build does (``is_available()`` is False, ``device_count()`` 0); seeding and cache calls are
no-ops; anything that needs a device raises PyTorch's "Torch not compiled with CUDA enabled".
So the usual device-agnostic script runs unchanged on the CPU:

>>> import chainrule as torch
>>> device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
>>> device, torch.cuda.device_count()
(device(type='cpu'), 0)
"""

from __future__ import annotations

from ..tensor.device import require_cpu
from . import amp

__all__ = ["amp", "current_device", "device_count", "empty_cache", "get_device_capability", "get_device_name",
           "initial_seed", "is_available", "is_bf16_supported", "is_initialized", "manual_seed", "manual_seed_all",
           "max_memory_allocated", "memory_allocated", "seed", "seed_all", "set_device", "synchronize"]


def _no_cuda(op: str):
    require_cpu("cuda", f"torch.cuda.{op}")


def is_available() -> bool:
    """False: chainrule has no CUDA device."""
    return False


def is_initialized() -> bool:
    return False


def device_count() -> int:
    """0, as on a machine without GPUs."""
    return 0


def is_bf16_supported(including_emulation: bool = True) -> bool:
    return False


def manual_seed(seed: int) -> None:
    """A no-op, as in PyTorch when CUDA is absent (seed the CPU with ``chainrule.manual_seed``)."""


def manual_seed_all(seed: int) -> None:
    """A no-op, as in PyTorch when CUDA is absent."""


def seed() -> None:
    """A no-op, as in PyTorch when CUDA is absent."""


def seed_all() -> None:
    """A no-op, as in PyTorch when CUDA is absent."""


def empty_cache() -> None:
    """A no-op: there is no CUDA memory cache."""


def memory_allocated(device=None) -> int:
    return 0


def max_memory_allocated(device=None) -> int:
    return 0


def synchronize(device=None) -> None:
    _no_cuda("synchronize")


def current_device() -> int:
    _no_cuda("current_device")


def get_device_name(device=None) -> str:
    _no_cuda("get_device_name")


def get_device_capability(device=None) -> tuple:
    _no_cuda("get_device_capability")


def set_device(device) -> None:
    _no_cuda("set_device")


def initial_seed() -> int:
    _no_cuda("initial_seed")

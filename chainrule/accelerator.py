"""``chainrule.accelerator``: PyTorch's device-agnostic accelerator API; chainrule has none.

>>> is_available(), current_accelerator(), device_count()
(False, None, 0)
"""

from __future__ import annotations

__all__ = ["current_accelerator", "device_count", "is_available"]


def is_available() -> bool:
    """False: chainrule computes on the CPU, which PyTorch does not count as an accelerator."""
    return False


def current_accelerator(check_available: bool = False):
    """None: there is no accelerator (PyTorch's answer on a CPU-only machine)."""


def device_count() -> int:
    return 0

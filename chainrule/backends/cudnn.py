"""``chainrule.backends.cudnn``: cuDNN's flags, with PyTorch's defaults; settable, and without effect.

>>> is_available(), enabled, benchmark, deterministic
(False, True, False, False)
"""

from __future__ import annotations

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True
benchmark_limit = 10


def is_available() -> bool:
    """False: chainrule has no CUDA, so no cuDNN."""
    return False


def is_acceptable(tensor) -> bool:
    return False


def version() -> None:
    return None

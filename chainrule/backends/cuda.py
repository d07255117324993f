"""``chainrule.backends.cuda``: CUDA's flags with PyTorch's CPU-build answers; settable, without effect.

>>> is_built(), matmul.allow_tf32, flash_sdp_enabled()
(False, False, True)
"""

from __future__ import annotations

import contextlib

__all__ = ["enable_flash_sdp", "enable_math_sdp", "enable_mem_efficient_sdp", "flash_sdp_enabled", "is_built",
           "math_sdp_enabled", "matmul", "mem_efficient_sdp_enabled", "sdp_kernel"]


class _Matmul:
    """``torch.backends.cuda.matmul``: the TF32 / reduced-precision switches."""

    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True


matmul = _Matmul()
_sdp = {"flash": True, "mem_efficient": True, "math": True}


def is_built() -> bool:
    """False: chainrule is not built with CUDA."""
    return False


def flash_sdp_enabled() -> bool:
    return _sdp["flash"]


def mem_efficient_sdp_enabled() -> bool:
    return _sdp["mem_efficient"]


def math_sdp_enabled() -> bool:
    return _sdp["math"]


def enable_flash_sdp(enabled: bool) -> None:
    _sdp["flash"] = bool(enabled)


def enable_mem_efficient_sdp(enabled: bool) -> None:
    _sdp["mem_efficient"] = bool(enabled)


def enable_math_sdp(enabled: bool) -> None:
    _sdp["math"] = bool(enabled)


@contextlib.contextmanager
def sdp_kernel(enable_flash: bool = True, enable_math: bool = True, enable_mem_efficient: bool = True,
               enable_cudnn: bool = True):
    """Set the attention-kernel switches for a block (they choose nothing in chainrule)."""
    saved = dict(_sdp)
    _sdp.update(flash=enable_flash, math=enable_math, mem_efficient=enable_mem_efficient)
    try:
        yield
    finally:
        _sdp.update(saved)

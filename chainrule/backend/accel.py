"""The optional numba accelerator: compiled loops for the kernels NumPy expresses badly.

Convolution's im2col/col2im and max-pooling with its argmax are loops over windows; NumPy runs them
as many strided whole-array passes, numba (when installed) as one pass each. The NumPy versions
always exist and give the same numbers; this module only decides which one runs:

- numba is imported lazily, on the first conv or pool call, so ``import chainrule`` never pays for it;
- ``CHAINRULE_NUMBA=0`` in the environment turns it off, and so does ``use(False)`` at run time.

>>> from chainrule.backend import accel
>>> previous = accel.use(False)          # force the NumPy kernels
>>> accel.kernels() is None
True
>>> _ = accel.use(previous)
"""

from __future__ import annotations

import os

_state = {"wanted": os.environ.get("CHAINRULE_NUMBA", "1").strip().lower() not in ("0", "false", "no", "off"),
          "module": None, "tried": False}


def use(flag: bool) -> bool:
    """Turn the numba kernels on or off for this process; returns the previous setting."""
    previous = _state["wanted"]
    _state["wanted"] = bool(flag)
    return previous


def kernels():
    """The compiled kernel module (``chainrule.backend.numba_kernels``), or None when numba is
    missing or switched off. The first call imports numba; compiling happens per dtype on first use."""
    if not _state["wanted"]:
        return None
    if not _state["tried"]:
        _state["tried"] = True
        try:
            from . import numba_kernels
        except ImportError:       # numba not installed (or broken): the NumPy kernels run
            numba_kernels = None
        _state["module"] = numba_kernels
    return _state["module"]


def available() -> bool:
    """Whether numba kernels would run now (installed and not switched off)."""
    return kernels() is not None

"""The optional numba accelerator: compiled loops for the kernels NumPy expresses badly.

Convolution's im2col/col2im and max-pooling with its argmax are loops over windows; NumPy runs them
as many strided whole-array passes, numba (when installed) as one pass each. Likewise float32 GELU
(erf and its derivative), LayerNorm, attention's softmax and Embedding's gradient (``numba_nn``): about
25, 8, 6 NumPy passes, one compiled pass. The NumPy versions always exist and give the same numbers (to
float32 rounding for ``numba_nn``); this module only decides which one runs:

- numba is imported lazily, on the first call that needs a kernel, so ``import chainrule`` never pays for it;
- ``CHAINRULE_NUMBA=0`` in the environment turns it off, and so does ``use(False)`` at run time.

>>> from chainrule.backend import accel
>>> previous = accel.use(False)          # force the NumPy kernels
>>> accel.kernels() is None
True
>>> _ = accel.use(previous)
"""

from __future__ import annotations

import importlib
import os

_state = {"wanted": os.environ.get("CHAINRULE_NUMBA", "1").strip().lower() not in ("0", "false", "no", "off"),
          "modules": {}}        # kernel module name -> the module, or None when it could not be imported
_MODULES = ("numba_kernels", "numba_nn")


def use(flag: bool) -> bool:
    """Turn the numba kernels on or off for this process; returns the previous setting."""
    previous = _state["wanted"]
    _state["wanted"] = bool(flag)
    return previous


def kernels(name: str = "numba_kernels"):
    """A compiled kernel module — ``chainrule.backend.numba_kernels`` (conv, pooling) or ``numba_nn`` (GELU,
    LayerNorm) — or None when numba is missing or switched off. The first call imports numba;
    compiling happens per dtype on first use."""
    if not _state["wanted"]:
        return None
    if name not in _state["modules"]:
        if name not in _MODULES:
            raise ValueError(f"accel.kernels: unknown kernel module {name!r}; expected one of {_MODULES}")
        try:
            module = importlib.import_module(f"{__package__}.{name}")
        except ImportError:       # numba not installed (or broken): the NumPy kernels run
            module = None
        _state["modules"][name] = module
    return _state["modules"][name]


def available() -> bool:
    """Whether numba kernels would run now (installed and not switched off)."""
    return kernels() is not None

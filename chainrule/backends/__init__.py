"""``chainrule.backends``: PyTorch's backend switches (``torch.backends.cudnn.benchmark = True`` ...).

The flags are kept and can be set, as scripts do, but change nothing: chainrule computes with
NumPy on the CPU. ``mps.is_available()``, ``cuda.is_built()`` and ``cudnn.is_available()`` are False.

>>> from chainrule import backends
>>> backends.cudnn.benchmark = True
>>> backends.cudnn.benchmark, backends.mps.is_available(), backends.cuda.matmul.allow_tf32
(True, False, False)
"""

from . import cuda, cudnn, mps

__all__ = ["cuda", "cudnn", "mps"]

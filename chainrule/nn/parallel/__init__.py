"""Data-parallel training (PyTorch's ``torch.nn.parallel``): :class:`DistributedDataParallel`.

>>> from chainrule.nn.parallel import DistributedDataParallel
>>> DistributedDataParallel.__name__
'DistributedDataParallel'
"""

from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]

"""``chainrule.utils``: PyTorch's ``torch.utils`` layout, so its imports resolve.

``chainrule.utils.data`` *is* :mod:`chainrule.data` (the same module object, submodules included:
``chainrule.utils.data.sampler`` is ``chainrule.data.sampler``). ``chainrule.utils.tensorboard``
is not provided: importing it raises an ImportError that names the alternatives.

>>> from chainrule.utils.data import DataLoader, TensorDataset
>>> import chainrule
>>> DataLoader is chainrule.data.DataLoader
True
"""

import sys

from .. import data
from .module_alias import ModuleAlias

TENSORBOARD = (
    "chainrule has no TensorBoard writer (torch.utils.tensorboard). Log with plain Python instead: keep "
    "per-epoch numbers in a list and draw them with chainrule.plot.training_curves(history), or json.dump "
    "them to a metrics.json (as chainrule train does) and plot that with matplotlib")

_ALIAS = ModuleAlias({__name__ + ".data": data.__name__}, blocked=(__name__ + ".tensorboard",),
                     blocked_reason=TENSORBOARD)
_ALIAS.install()
sys.modules.setdefault(__name__ + ".data", data)

__all__ = ["data"]

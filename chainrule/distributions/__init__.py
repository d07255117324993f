"""``chainrule.distributions``: probability distributions as in ``torch.distributions``.

``Categorical`` (``probs`` or ``logits``) and ``Normal`` (``loc``, ``scale``), with ``sample``,
``rsample`` (Normal: the reparameterised, differentiable sample), ``log_prob`` and ``entropy``,
PyTorch's formulas, shapes and argument checks. Samples come from chainrule's generator
(``chainrule.manual_seed``), drawn the way PyTorch draws them.

>>> import chainrule as cr
>>> d = Categorical(logits=cr.zeros(4))
>>> round(d.entropy().item(), 4), d.log_prob(cr.tensor(2))        # log 4, log 1/4
(1.3863, tensor(-1.3863))
"""

from .categorical import Categorical
from .distribution import Distribution
from .normal import Normal

__all__ = ["Categorical", "Distribution", "Normal"]

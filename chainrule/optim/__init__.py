"""Optimizers and learning-rate schedulers, with PyTorch's names, defaults and update rules.

>>> import chainrule as cr
>>> w = cr.tensor([3.0], requires_grad=True)
>>> opt = cr.optim.SGD([w], lr=0.25)
>>> for _ in range(2):
...     opt.zero_grad(); (w * w).sum().backward(); _ = opt.step()
>>> w
tensor([0.7500], requires_grad=True)
"""

from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["LBFGS", "SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam", "Optimizer", "RAdam",
           "RMSprop", "lr_scheduler"]

"""Learning-rate schedulers: change each param group's ``lr`` as training goes on (PyTorch's formulas).

Call ``scheduler.step()`` once per epoch (or per batch for OneCycleLR) *after* ``optimizer.step()``.
Most schedulers are recursive, as in PyTorch: the new lr is computed from the group's current lr,
so a change made by someone else (another scheduler, your own code) is kept.

>>> import chainrule as cr
>>> opt = cr.optim.SGD([cr.zeros(1, requires_grad=True)], lr=1.0)
>>> sched = cr.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
>>> lrs = []
>>> for epoch in range(5):
...     opt.step(); lrs.append(sched.get_last_lr()[0]); sched.step()
>>> lrs
[1.0, 1.0, 0.5, 0.5, 0.25]
"""

from .lr_scheduler_adaptive import OneCycleLR, ReduceLROnPlateau
from .lr_scheduler_base import CosineAnnealingLR, ExponentialLR, LambdaLR, LRScheduler, MultiStepLR, StepLR
from .lr_scheduler_cyclic import CosineAnnealingWarmRestarts, CyclicLR
from .lr_scheduler_extra import (
    ChainedScheduler,
    ConstantLR,
    LinearLR,
    MultiplicativeLR,
    PolynomialLR,
    SequentialLR,
)

__all__ = ["ChainedScheduler", "ConstantLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "CyclicLR",
           "ExponentialLR", "LRScheduler", "LambdaLR", "LinearLR", "MultiStepLR", "MultiplicativeLR", "OneCycleLR",
           "PolynomialLR", "ReduceLROnPlateau", "SequentialLR", "StepLR"]

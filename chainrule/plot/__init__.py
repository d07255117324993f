"""Plots that show what gradients do (matplotlib, Agg backend; each returns the Figure, ``path=`` saves it).

Import as a submodule, ``import chainrule.plot``: matplotlib loads only then.

>>> import chainrule.plot
>>> fig = chainrule.plot.gradient_field(lambda x, y: (x ** 2 + y ** 2).sin(), n=10, arrows=4)
>>> len(fig.axes)  # the plot and its colour bar
2
"""

import importlib.util

from .boundary import decision_boundary
from .fields import descent_path, gradient_field

__all__ = ["decision_boundary", "descent_path", "gradient_field"]

if importlib.util.find_spec(f"{__name__}.training") is not None:  # written by the data/CLI work
    from .training import training_curves

    __all__.append("training_curves")

"""Plots that show what gradients do (matplotlib; each returns the Figure, ``path=`` saves it).

Import as a submodule, ``import chainrule.plot``: matplotlib loads only then. The figures are built
without pyplot and chainrule never picks a matplotlib backend; a returned figure shows itself as a
PNG in Jupyter (no ``%matplotlib inline`` needed) and saves with ``fig.savefig(path)`` in scripts.

>>> import chainrule.plot
>>> fig = chainrule.plot.gradient_field(lambda x, y: (x ** 2 + y ** 2).sin(), n=10, arrows=4)
>>> len(fig.axes)  # the plot and its colour bar
2
"""


from .boundary import decision_boundary
from .fields import descent_path, gradient_field
from .training import training_curves

__all__ = ["decision_boundary", "descent_path", "gradient_field", "training_curves"]

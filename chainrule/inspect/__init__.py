"""See the chain rule: draw a graph, explain a backward pass, check gradients, lint training loops.

Import it as a submodule (``import chainrule.inspect``); nothing here runs unless you call it:
the tools watch the engine through observers that are only registered while they work.
``graph`` draws (a picture in Jupyter, SVG/PNG files, a text tree), ``explain`` writes the chain rule
out with the numbers, ``stepper`` steps through a backward pass in a notebook or a browser, and
``record`` / ``start_recording`` keep what they need after ``backward()`` has freed the graph.

>>> import chainrule as cr
>>> import chainrule.inspect
>>> a = cr.tensor(4.0, requires_grad=True); b = cr.tensor(3.0, requires_grad=True)
>>> c = a + b; d = a * c
>>> print(cr.inspect.explain(d, inputs=[a, b]).totals)
{'a': 11.0, 'b': 4.0}
"""

from ..autograd.gradcheck import check_graph  # re-exported: the op-by-op gradient check
from . import labels
from .explain import Explanation, explain
from .graph import Graph, graph
from .labels import label
from .lint import ChainruleLintWarning, disable_lint, enable_lint, lint
from .recording import record, start_recording, stop_recording
from .stepper import Stepper, stepper

__all__ = [
           "ChainruleLintWarning",
           "Explanation",
           "Graph",
           "Stepper",
           "check_graph",
           "disable_lint",
           "enable_lint",
           "explain",
           "graph",
           "label",
           "labels",
           "lint",
           "record",
           "start_recording",
           "stepper",
           "stop_recording",
]

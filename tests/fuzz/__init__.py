"""A random-program differential fuzzer: chainrule against PyTorch.

``generate(seed)`` builds a random DAG program (5-30 op statements over the registered ops, with
0-d, size-0, size-1 and broadcast shapes, index tensors, views and in-place ops); ``check`` runs it
in both libraries in float64 and float32 and compares forward values, ``.backward()`` gradients,
``autograd.grad``, ``requires_grad`` under ``create_graph=True`` and second-order gradients;
``shrink`` reduces a failing program to a minimal runnable reproduction; ``arbitrate`` decides by
central differences who is right when gradients differ. ``python -m tests.fuzz --seed N --cases M``
runs a campaign.

>>> from fuzz import generate, check            # doctest: +SKIP
>>> check(generate(7)) is None                   # doctest: +SKIP
True
"""

from .arbiter import arbitrate
from .campaign import campaign
from .generate import generate
from .run import check
from .shrink import report, shrink

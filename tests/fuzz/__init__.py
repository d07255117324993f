"""A random-program differential fuzzer: chainrule against PyTorch.

``generate(seed)`` builds a random DAG program (5-30 op statements over the registered ops, with
0-d, size-0, size-1 and broadcast shapes, index tensors, views and in-place ops); ``check`` runs it
in both libraries in float64 and float32 and compares forward values, ``.backward()`` gradients,
``autograd.grad``, ``requires_grad`` under ``create_graph=True`` and second-order gradients;
``shrink`` reduces a failing program to a minimal runnable reproduction; ``arbitrate`` decides by
central differences who is right when gradients differ. ``python -m tests.fuzz --seed N --cases M``
runs a campaign.

What counts as the same (``run.compare``): shapes, dtypes, ``requires_grad``, which gradients are None,
errors and warnings exactly; float64 values to 1e-7 relative; float32 values to 2e-3 relative, with an
absolute tolerance scaled by the largest magnitude the computation passed through (a sum that cancels
keeps its terms' rounding error), or, beyond that, no further from torch's float64 run of the program
than 4 times torch's own float32 error (``run.as_accurate``).

What the generator steers around (it would compare conventions neither library can justify): kinks and
ties of computed values within rounding (a relu of a value that is 0 in one library and 1e-17 in the
other), setitem with a repeated row, pdist with coordinate ties, normalize of a zero vector, kl_div
with a target at 0 that requires grad, literal ties in programs with an op torch cannot differentiate
twice (their literals get 4 decimals), and the torch bugs listed in ``generate.KNOWN_OPEN``.

>>> from fuzz import generate, check            # doctest: +SKIP
>>> check(generate(7)) is None                   # doctest: +SKIP
True
"""

from .arbiter import arbitrate
from .campaign import campaign
from .generate import generate
from .run import check
from .shrink import report, shrink

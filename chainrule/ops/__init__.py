"""Differentiable primitives, one small class per op, grouped by family.

Each op's ``forward`` works on raw arrays and its ``backward`` states the local derivative times
the upstream gradient, written with ``ctx.xp`` so it is itself differentiable under
``create_graph=True``. Adding an op: one class here plus one row in ``tests/op_specs.py``.
"""

"""Differentiable primitives, one small class per op, grouped by family.

Each op's ``forward`` works on raw arrays and its ``backward`` states the local derivative times
the upstream gradient, written with ``ctx.xp`` so it is itself differentiable under
``create_graph=True``. The math is stated once, in the class attributes ``formula`` and ``local``
(the docstring is built from them; see ``autograd.function.Op``); a faster first-order kernel, where
one pays, is a separate ``backward_array``. Adding an op: one class here plus one row in
``tests/op_specs.py``.

>>> from chainrule.ops.unary import Tanh
>>> Tanh.formula, Tanh.local
('z = tanh(x)', ('1 - tanh²(x)',))

"""

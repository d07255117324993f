"""Every public method and property of ``chainrule.Tensor`` has a docstring (issue 13).

The examples inside those docstrings run as doctests (``--doctest-modules`` over ``chainrule/``).
"""

import inspect

import chainrule as cr


def _public_callables(cls):
    """(name, function) for each public method, property, staticmethod or classmethod of ``cls``."""
    out = []
    for name in sorted(dir(cls)):
        if name.startswith("_"):
            continue
        attr = inspect.getattr_static(cls, name)
        if isinstance(attr, property):
            out.append((name, attr.fget))
        elif isinstance(attr, (staticmethod, classmethod)):
            out.append((name, attr.__func__))
        elif callable(attr):
            out.append((name, attr))
    return out


def test_the_check_sees_the_tensor_api():
    names = {name for name, _ in _public_callables(cr.Tensor)}
    # a few of each kind: method, alias, property, in-place method, inherited from a mixin
    assert {"sum", "absolute", "shape", "mT", "add_", "reshape", "gather", "sort"} <= names
    assert len(names) > 200


def test_every_public_tensor_method_and_property_has_a_docstring():
    missing = [name for name, f in _public_callables(cr.Tensor) if not (f.__doc__ or "").strip()]
    assert not missing, (f"{len(missing)} public Tensor methods/properties have no docstring: "
                         f"{', '.join(missing)}")

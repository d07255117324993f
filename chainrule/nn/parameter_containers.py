"""``ParameterList`` and ``ParameterDict``: hold parameters in a list or dict so the module registers them.

A plain Python list of Parameters on a module is invisible to ``parameters()`` and ``state_dict()``;
these containers store each entry as a named parameter ('0', '1', … or the dict key), as PyTorch does.
A plain Tensor put in is wrapped as a Parameter.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator
from typing import Self

from ..tensor import Tensor
from .module import Module
from .parameter import Parameter

__all__ = ["ParameterDict", "ParameterList"]


def _as_parameter(value):
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


def _line(key: str, value) -> str:
    if isinstance(value, Tensor):
        size = "x".join(str(s) for s in value.shape)
        kind = "Parameter containing" if isinstance(value, Parameter) else "Tensor"
        return f"({key}): {kind}: [{value.dtype} of size {size}]"
    return f"({key}): Object of type: {type(value).__name__}"


class ParameterList(Module):
    """A list of parameters registered as '0', '1', …

    >>> import chainrule as cr
    >>> ps = cr.nn.ParameterList([cr.nn.Parameter(cr.ones(2)), cr.zeros(3)])
    >>> [name for name, _ in ps.named_parameters()]
    ['0', '1']
    """

    def __init__(self, values: Iterable | None = None) -> None:
        super().__init__()
        self._size = 0
        if values is not None:
            self += values

    def _index(self, idx) -> str:
        idx = operator.index(idx)
        if not -len(self) <= idx < len(self):
            raise IndexError(f"index {idx} is out of range for a ParameterList of length {len(self)}")
        return str(idx % len(self))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList([self[i] for i in range(len(self))[idx]])
        return getattr(self, self._index(idx))

    def __setitem__(self, idx, value) -> None:
        setattr(self, self._index(idx), _as_parameter(value))

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator:
        return (self[i] for i in range(len(self)))

    def __iadd__(self, values: Iterable) -> Self:
        return self.extend(values)

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]

    def append(self, value) -> ParameterList:
        """Add one parameter at the end."""
        self._size += 1
        self[self._size - 1] = value
        return self

    def extend(self, values: Iterable) -> ParameterList:
        """Add each parameter of ``values`` at the end."""
        if isinstance(values, Tensor) or not hasattr(values, "__iter__"):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got "
                            f"{type(values).__name__}")
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return "\n".join(_line(str(i), p) for i, p in enumerate(self))

    def __repr__(self) -> str:
        body = self.extra_repr()
        if not body:
            return "ParameterList()"
        return "ParameterList(\n" + "\n".join("    " + line for line in body.split("\n")) + "\n)"


class ParameterDict(Module):
    """A dict of parameters (insertion-ordered), registered under their keys.

    >>> import chainrule as cr
    >>> pd = cr.nn.ParameterDict({"scale": cr.ones(1), "shift": cr.zeros(1)})
    >>> list(pd.state_dict())
    ['scale', 'shift']
    """

    def __init__(self, parameters=None) -> None:
        super().__init__()
        self._keys: dict[str, None] = {}
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str):
        if key not in self._keys:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key: str, value) -> None:
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict keys must be strings, got {type(key).__name__}")
        self._keys[key] = None
        setattr(self, key, _as_parameter(value))

    def __delitem__(self, key: str) -> None:
        del self._keys[key]
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __contains__(self, key) -> bool:
        return key in self._keys

    def keys(self):
        return self._keys.keys()

    def items(self):
        return [(k, self[k]) for k in self._keys]

    def values(self):
        return [self[k] for k in self._keys]

    def get(self, key: str, default=None):
        return getattr(self, key) if key in self._keys else default

    def setdefault(self, key: str, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key: str):
        value = self[key]
        del self[key]
        return value

    def clear(self) -> None:
        for key in list(self._keys):
            del self[key]

    def copy(self) -> ParameterDict:
        return ParameterDict(self.items())

    def update(self, parameters) -> None:
        """Add or replace entries from a mapping or an iterable of (key, parameter) pairs."""
        pairs = parameters.items() if hasattr(parameters, "items") else parameters
        for j, pair in enumerate(pairs):
            if len(pair) != 2:
                raise ValueError(f"ParameterDict update sequence element #{j} has length {len(pair)}; 2 is required")
            self[pair[0]] = pair[1]

    def extra_repr(self) -> str:
        return "\n".join(_line(k, v) for k, v in self.items())

    def __repr__(self) -> str:
        body = self.extra_repr()
        if not body:
            return "ParameterDict()"
        return "ParameterDict(\n" + "\n".join("    " + line for line in body.split("\n")) + "\n)"

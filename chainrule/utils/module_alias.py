"""``ModuleAlias``: import one module name as another, already importable one (the same module object).

``chainrule.utils.data`` is ``chainrule.data`` this way, and ``chainrule run`` makes ``torch`` be
``chainrule`` (``chainrule/torch_alias.py``).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

__all__ = ["ModuleAlias"]


class ModuleAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """A meta-path finder that imports ``alias.rest`` as the already-importable ``target.rest``.

    The aliased name and the target are the *same* module object (so classes are identical);
    a missing target raises ``ModuleNotFoundError`` naming both. ``blocked`` names fail with
    ``blocked_reason``.

    >>> finder = ModuleAlias({"chainrule_demo_alias": "chainrule.nn"})
    >>> finder.install()
    >>> import chainrule_demo_alias.init as init
    >>> finder.uninstall(); init.__name__
    'chainrule.nn.init'
    """

    def __init__(self, mapping: dict[str, str], blocked: tuple = (), blocked_reason: str = ""):
        self.mapping = dict(mapping)
        self.blocked = tuple(blocked)
        self.blocked_reason = blocked_reason
        self.loaded: list[str] = []
        self._specs: dict = {}

    def target(self, fullname: str) -> str | None:
        for alias, target in self.mapping.items():
            if fullname == alias or fullname.startswith(alias + "."):
                return target + fullname[len(alias):]
        return None

    def _is_blocked(self, fullname: str) -> bool:
        return any(fullname == b or fullname.startswith(b + ".") for b in self.blocked)

    def find_spec(self, fullname, path=None, target=None):
        if self._is_blocked(fullname) or self.target(fullname) is not None:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        if self._is_blocked(spec.name):
            raise ModuleNotFoundError(f"No module named {spec.name!r}: {self.blocked_reason}", name=spec.name)
        target = self.target(spec.name)
        try:
            module = importlib.import_module(target)
        except ModuleNotFoundError as e:
            if e.name is not None and target != e.name and not target.startswith(e.name + "."):
                raise   # something the target itself imports is missing: report that
            raise ModuleNotFoundError(f"No module named {spec.name!r} ({spec.name} is {target} here): {e}",
                                      name=spec.name) from None
        self.loaded.append(spec.name)
        self._specs[module.__name__] = module.__spec__   # the import system overwrites it next
        return module

    def exec_module(self, module) -> None:
        """Nothing to run (the target module is already executed): give it back its own ``__spec__``."""
        module.__spec__ = self._specs.pop(module.__name__, module.__spec__)

    def install(self) -> None:
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def uninstall(self) -> None:
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        for name in self.loaded:
            sys.modules.pop(name, None)
        self.loaded.clear()

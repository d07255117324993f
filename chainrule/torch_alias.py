"""Run an unmodified PyTorch script on chainrule: ``import torch`` resolves to ``chainrule`` for one run.

``chainrule run script.py [args]`` (or ``python -m chainrule run script.py``) puts a module-alias
finder at the front of ``sys.meta_path`` for the duration of the script: ``torch`` imports as
``chainrule``, ``torch.nn`` as ``chainrule.nn``, ``torch.nn.functional``, ``torch.optim``,
``torch.utils.data`` and so on by the same rule (``torch.X`` is ``chainrule.X``). A real PyTorch
installation is never shadowed silently: the run prints one line on stderr saying that torch is
chainrule for this run, and everything is undone afterwards. Libraries built on PyTorch
(torchvision, torchaudio, ...) fail to import with a message saying why, instead of half-working.

>>> with torch_aliased(set_aside_real_torch=True):   # (here PyTorch may already be imported)
...     import torch
...     import torch.nn.functional as F
>>> torch.__name__, F.__name__
('chainrule', 'chainrule.nn.functional')
"""

from __future__ import annotations

import contextlib
import os
import runpy
import sys

from .utils.module_alias import ModuleAlias

__all__ = ["ModuleAlias", "run_script", "torch_aliased"]

# Libraries that need the real PyTorch: importing them under the alias would fail deep inside.
BLOCKED = ("torchvision", "torchaudio", "torchtext", "torchdata", "lightning", "pytorch_lightning", "triton")


@contextlib.contextmanager
def torch_aliased(set_aside_real_torch: bool = False):
    """Within the block, ``import torch`` (and every ``torch.X``) gives chainrule (and ``chainrule.X``).

    Refuses if a real ``torch`` is already imported in this process (the two cannot both be
    ``torch``), unless ``set_aside_real_torch``: then its ``sys.modules`` entries are set aside for
    the block and put back after it (code that already holds the real torch keeps it; the
    corpus tests run a program with PyTorch and then with chainrule in one process this way).
    """
    real = sys.modules.get("torch")
    if real is not None and not set_aside_real_torch and not getattr(real, "__name__", "").startswith("chainrule"):
        raise RuntimeError("chainrule.torch_alias: the real torch is already imported in this process, so "
                           "'import torch' cannot be redirected to chainrule; start a fresh interpreter "
                           "(chainrule run script.py)")
    finder = ModuleAlias({"torch": "chainrule"}, BLOCKED,
                         "it is built on the real PyTorch, and in this run 'torch' is chainrule "
                         "(chainrule run aliases torch to chainrule); run the script with python instead")
    saved = {name: sys.modules.pop(name) for name in list(sys.modules)
             if name == "torch" or name.startswith("torch.")}
    finder.install()
    try:
        yield finder
    finally:
        finder.uninstall()
        sys.modules.update(saved)


def run_script(path: str, args: list[str] = (), note=sys.stderr) -> int:
    """Run the Python file ``path`` as ``__main__`` with ``sys.argv = [path, *args]`` and torch aliased
    to chainrule; print the one-line note to ``note`` (a file) first. Returns the exit status."""
    import chainrule
    if not os.path.isfile(path):
        raise FileNotFoundError(f"chainrule run: no such script: {path}")
    if note is not None:
        print(f"chainrule run: 'import torch' is chainrule {chainrule.__version__} for this run "
              f"(torch.nn -> chainrule.nn, torch.utils.data -> chainrule.utils.data, ...)", file=note, flush=True)
    saved_argv = sys.argv
    sys.argv = [path, *args]
    script_dir = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, script_dir)      # as `python script.py` does: the script's folder comes first
    try:
        with torch_aliased():
            runpy.run_path(os.path.abspath(path), run_name="__main__")   # __file__ absolute, as python sets it
    except SystemExit as e:             # the script's own sys.exit(code) is its exit status
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.argv = saved_argv
        if sys.path and sys.path[0] == script_dir:
            del sys.path[0]
    return 0

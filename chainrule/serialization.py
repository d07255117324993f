"""Model files: ``chainrule.save`` / ``chainrule.load`` in the safetensors format, never pickle.

A safetensors file is a JSON header (tensor names, dtypes, shapes, offsets, and a str -> str
``__metadata__`` table) followed by the raw bytes: loading it cannot run code, and PyTorch, JAX
and NumPy all read it. A flat state dict is stored as exactly its tensors, so
``safetensors.torch.load_file`` hands PyTorch the same names. Anything richer — a checkpoint
such as ``{"model": ..., "optimizer": ..., "epoch": 3}`` — is flattened: each tensor is stored
under its '.'-joined key path, and the structure with the non-tensor values (numbers, strings,
lists, tuples, param_groups) goes into the metadata as JSON, from which :func:`load` rebuilds it.
"""

from __future__ import annotations

import io
import json
import os

import safetensors
import safetensors.numpy

from chainrule.backend import from_np_dtype, xp
from chainrule.backend.files import write_atomically
from chainrule.safetensors_io import read_bytes, to_float32, upcast_low_precision
from chainrule.tensor import Tensor, device
from chainrule.tensor.device import require_cpu

__all__ = ["load", "save"]

_LAYOUT_KEY = "chainrule.layout"  # metadata entry holding the JSON skeleton of the saved object
_FORMAT = 1
MAX_DEPTH = 100   # containers inside containers, in a saved object (checkpoints need a handful)


def _skeleton(obj, path: str, tensors: dict, depth: int = 0):
    """Return a JSON-able description of ``obj``; tensors are moved into ``tensors`` by key path."""
    if depth > MAX_DEPTH:
        raise ValueError(f"save: the object is nested more than {MAX_DEPTH} levels deep (at {path[:80]!r}...); "
                         f"model files hold checkpoints of a few levels — is it a structure that contains itself?")
    if isinstance(obj, Tensor):
        if path in tensors:
            raise ValueError(f"save: two entries flatten to the same tensor name {path!r}; rename one of them")
        from_np_dtype(obj._data.dtype)
        # safetensors stores C-ordered bytes; views (transposes, slices) must be compacted first.
        # (Not ascontiguousarray: it turns a 0-d array, like Adam's step count, into shape (1,).)
        a = obj._data
        tensors[path] = a if a.flags.c_contiguous else a.copy(order="C")
        return {"$tensor": path}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise TypeError(f"save: dict keys must be str or int, found {key!r} ({type(key).__name__}) "
                                f"under {path or 'the top level'!r}")
            items.append((key, _skeleton(value, f"{path}.{key}" if path else str(key), tensors, depth + 1)))
        # Plain JSON objects when possible (readable in the header); a list of pairs otherwise,
        # because JSON turns int keys (optimizer state is keyed by parameter index) into strings.
        if all(isinstance(k, str) and not k.startswith("$") for k, _ in items):
            return dict(items)
        return {"$dict": [[k, v] for k, v in items]}
    if isinstance(obj, (list, tuple)):
        parts = [_skeleton(v, f"{path}.{i}" if path else str(i), tensors, depth + 1) for i, v in enumerate(obj)]
        return parts if isinstance(obj, list) else {"$tuple": parts}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, xp.generic):  # NumPy scalars, e.g. from .item()-less arithmetic
        return obj.item()
    if isinstance(obj, xp.ndarray) and obj.dtype.kind in "biuf":
        # A NumPy array (a checkpoint's data split, RNG state, ...) is stored like a tensor and comes
        # back from load() as a NumPy array again.
        _skeleton(Tensor._make(obj), path, tensors)
        return {"$ndarray": path}
    raise TypeError(f"save: cannot store a {type(obj).__name__} (at {path or 'the top level'!r}); model files "
                    "hold tensors, NumPy arrays of numbers, dicts, lists, tuples, numbers, strings, booleans and "
                    f"None — never pickled objects. {_store_instead(obj)}")


def _store_instead(obj) -> str:
    """How to turn a value that would need pickle into one a model file can hold."""
    name = type(obj).__name__
    if hasattr(obj, "state_dict") and callable(obj.state_dict):
        return (f"Save its state instead: save({{'model': model.state_dict()}}, ...) for a {name}, then build "
                "the object in code and call load_state_dict(load(...)['model']).")
    if isinstance(obj, xp.ndarray):
        return f"This array has dtype {obj.dtype}; store numbers (array.astype(float)) or array.tolist()."
    if isinstance(obj, (set, frozenset)):
        return "Store sorted(the_set) (a list) instead."
    if isinstance(obj, os.PathLike):
        return "Store str(path) instead."
    if isinstance(obj, bytes):
        return "Store it as a tensor, chainrule.tensor(list(data), dtype=chainrule.uint8), or decode it to a str."
    if hasattr(obj, "__dict__"):
        return (f"Store its fields instead: vars(obj) (or dataclasses.asdict(obj)) gives a dict of numbers and "
                f"strings, and {name}(**fields) rebuilds it after load().")
    return "Convert it to numbers, strings, lists or dicts first."


def _rebuild(node, tensors: dict, where: str, depth: int = 0):
    """The saved object from its skeleton; every entry is checked, since the file may not be ours."""
    if depth > MAX_DEPTH:
        raise ValueError(f"load: {where}: its '{_LAYOUT_KEY}' layout is nested more than {MAX_DEPTH} levels deep; "
                         f"chainrule never writes that (a crafted or corrupted file?)")
    if isinstance(node, list):
        return [_rebuild(v, tensors, where, depth + 1) for v in node]
    if not isinstance(node, dict):
        return node
    for key, kind in (("$tensor", str), ("$ndarray", str), ("$tuple", list), ("$dict", list)):
        if key in node and not isinstance(node[key], kind):
            raise ValueError(f"load: {where} has a malformed '{_LAYOUT_KEY}' entry: {key!r} must hold a "
                             f"{kind.__name__}, found {node[key]!r:.60}")
    if "$tensor" in node:
        name = node["$tensor"]
        if name not in tensors:
            raise ValueError(f"load: {where} is inconsistent: its layout refers to tensor {name!r}, "
                             "which the file does not contain")
        return Tensor._make(tensors[name])
    if "$ndarray" in node:
        return _rebuild({"$tensor": node["$ndarray"]}, tensors, where)._data
    if "$tuple" in node:
        return tuple(_rebuild(v, tensors, where, depth + 1) for v in node["$tuple"])
    if "$dict" in node:
        pairs = node["$dict"]
        for pair in pairs:
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], (str, int))):
                raise ValueError(f"load: {where} has a malformed '{_LAYOUT_KEY}' entry: '$dict' must hold "
                                 f"[key, value] pairs with str or int keys, found {pair!r:.60}")
        return {k: _rebuild(v, tensors, where, depth + 1) for k, v in pairs}
    return {k: _rebuild(v, tensors, where, depth + 1) for k, v in node.items()}


def save(obj, f: str | os.PathLike | io.IOBase, metadata: dict[str, str] | None = None) -> None:
    """Save a tensor, a state dict or a nested checkpoint dict to a safetensors file.

    ``f`` is a path or a writable binary file object. ``metadata`` adds free str -> str entries to
    the file header. Unsupported values (objects that would need pickle) raise TypeError.

    >>> import chainrule as cr
    >>> cr.save({"w": cr.ones(2, 3), "epoch": 3}, "/tmp/ckpt.safetensors")
    >>> cr.load("/tmp/ckpt.safetensors")["epoch"]
    3
    """
    tensors: dict = {}
    layout = _skeleton(obj, "tensor" if isinstance(obj, Tensor) else "", tensors)
    header = {"format": "pt"}  # the marker Hugging Face loaders check for PyTorch-layout files
    if metadata:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError(f"save: metadata must map str to str, got {k!r}: {v!r}")
        header.update(metadata)
    # Always stored, even for a flat state dict: safetensors orders tensors by dtype and name, and
    # the layout also restores the original key order.
    header[_LAYOUT_KEY] = json.dumps({"version": _FORMAT, "root": layout})
    data = safetensors.numpy.save(tensors, metadata=header)
    if hasattr(f, "write"):
        f.write(data)
        return
    if not isinstance(f, str | os.PathLike):   # an int would be taken as an open file descriptor
        raise TypeError(f"save: expected a file path (str or os.PathLike) or a writable binary file object, "
                        f"got {type(f).__name__} ({f!r})")
    parent = os.path.dirname(os.path.abspath(os.fspath(f)))
    if not os.path.isdir(parent):
        raise RuntimeError(f"save: Parent directory {parent} does not exist (create it first, e.g. "
                           f"os.makedirs({parent!r}, exist_ok=True))")
    write_atomically(f, data)     # a crash mid-save never leaves a truncated file under the real name


def _header_metadata(data: bytes) -> dict:
    # Layout of a safetensors file: u64 little-endian header size, then the JSON header.
    size = int.from_bytes(data[:8], "little")
    return json.loads(data[8:8 + size]).get("__metadata__") or {}


def load(f: str | os.PathLike | io.IOBase, map_location=None, weights_only: bool = True, **kwargs):
    """Load what :func:`save` wrote (or any safetensors file, e.g. from ``safetensors.torch.save_file``).

    Returns the saved object: a dict of tensors for a state dict or a plain safetensors file, the
    rebuilt nested dict for a checkpoint, a Tensor for a single tensor. ``map_location`` and
    ``weights_only`` are accepted for PyTorch compatibility (chainrule is CPU-only and never
    unpickles). A missing file raises FileNotFoundError; a truncated, corrupted or
    non-safetensors file raises ValueError naming the file.

    >>> import chainrule as cr
    >>> cr.save({"w": cr.zeros(2)}, "/tmp/w.safetensors")
    >>> cr.load("/tmp/w.safetensors")
    {'w': tensor([0., 0.])}
    """
    if isinstance(map_location, str | device):   # 'cuda' fails as in PyTorch's CPU build; 'cpu' is a no-op
        require_cpu(map_location, "load")
    where, data = read_bytes(f)          # regular files only; the header size is checked first
    hint = "is it a chainrule/safetensors model file? Files written by torch.save (pickle) cannot be read"
    try:
        data, low = upcast_low_precision(data)
        arrays = safetensors.numpy.load(data)
        meta = _header_metadata(data)
    except (safetensors.SafetensorError, ValueError, UnicodeDecodeError) as e:
        size = f"{len(data)} bytes"
        raise ValueError(f"load: {where} ({size}) is not a valid safetensors file — truncated or corrupted? "
                         f"({e}); {hint}") from None
    # Copy anything that does not own writable memory so in-place updates (optimizer steps) work.
    tensors = {k: a if a.flags.writeable and a.flags.c_contiguous else xp.array(a) for k, a in arrays.items()}
    for name, dtype in low.items():       # BF16/F8: no NumPy dtype, so upcast exactly to float32
        tensors[name] = to_float32(tensors[name], dtype)
    if _LAYOUT_KEY not in meta:
        return {name: Tensor._make(a) for name, a in tensors.items()}
    return _rebuild(_layout_root(meta[_LAYOUT_KEY], where), tensors, where)


def _layout_root(text: str, where: str):
    """The saved object's skeleton, after checking the layout entry is one this chainrule wrote."""
    bad = f"load: {where} has a malformed '{_LAYOUT_KEY}' metadata entry"
    try:
        layout = json.loads(text)
    except RecursionError:
        raise ValueError(f"{bad}: it is nested too deep to read") from None
    except ValueError as e:
        raise ValueError(f"{bad}: not JSON ({e})") from None
    if not isinstance(layout, dict):
        raise ValueError(  # noqa: TRY004 - a corrupt file is a ValueError, whatever is wrong in it
            f'{bad}: expected {{"version": {_FORMAT}, "root": ...}}, got {type(layout).__name__}')
    version = layout.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValueError(f"{bad}: no format version (found {version!r})")  # noqa: TRY004 - as above
    if version != _FORMAT:
        raise ValueError(f"load: {where} uses chainrule model-file format version {version}; this chainrule reads "
                         f"version {_FORMAT} (was it written by a newer chainrule? upgrade to load it)")
    if "root" not in layout:
        raise ValueError(f"{bad}: it has no 'root' entry")
    return layout["root"]

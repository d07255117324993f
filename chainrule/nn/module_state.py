"""Saving and loading a Module's tensors: ``state_dict`` and ``load_state_dict`` (a mixin of ``Module``).

A state dict is an ordered name -> tensor table (``"layer.0.weight"``) of parameters and persistent
buffers, exactly as PyTorch builds it, so files move between the two libraries.
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from .parameter import Parameter


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__



class StateDictMethods:
    """``state_dict``/``load_state_dict`` of ``Module``."""

    __slots__ = ()

    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False) -> OrderedDict:
        """An ordered name -> tensor table of parameters and persistent buffers (detached, shared memory).

        >>> import chainrule as cr
        >>> list(cr.nn.BatchNorm1d(3).state_dict())
        ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']
        """
        if destination is None:
            destination = OrderedDict()
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False) -> _IncompatibleKeys:
        """Copy values from ``state_dict`` into this module's parameters and buffers.

        With ``strict=True`` (the default) missing or unexpected keys raise, with PyTorch's message;
        a shape mismatch always raises. Returns ``(missing_keys, unexpected_keys)``.
        """
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        bad = [k for k in state_dict if not isinstance(k, str)]
        if bad:
            raise TypeError(f"load_state_dict: keys must be parameter names (str) like 'weight' or "
                            f"'0.bias', found {bad[0]!r} ({type(bad[0]).__name__}); is this an optimizer's "
                            f"state dict, or a list turned into a dict? Expected keys: "
                            f"{list(self.state_dict().keys())[:4]}")
        missing, unexpected, errors = [], [], []
        for prefix, module in self.named_modules(prefix="", remove_duplicate=False):
            prefix = prefix + "." if prefix else ""
            module._load_own(state_dict, prefix, assign, missing, unexpected, errors)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                self._get_name(), "\n\t".join(errors)))
        return _IncompatibleKeys(missing, unexpected)

    def _load_own(self, state_dict, prefix, assign, missing, unexpected, errors) -> None:
        local = {k: v for k, v in self._parameters.items() if v is not None}
        local.update((k, v) for k, v in self._buffers.items()
                     if v is not None and k not in self._non_persistent_buffers_set)
        for name, current in local.items():
            key = prefix + name
            if key not in state_dict:
                missing.append(key)
                continue
            value = state_dict[key]
            if not isinstance(value, Tensor):   # as PyTorch: a list or a NumPy array is not loaded as it is
                errors.append(f'While copying the parameter named "{key}", expected a Tensor from checkpoint '
                              f"but received {type(value)} (convert it with torch.tensor(...))")
                continue
            array = value._data
            if array.shape != current._data.shape:
                errors.append(f"size mismatch for {key}: copying a param with shape {Tensor._make(array).shape} "
                              f"from checkpoint, the shape in current model is {current.shape}.")
                continue
            if assign:
                if name in self._parameters:
                    self._parameters[name] = Parameter(Tensor._make(array), current.requires_grad)
                else:
                    self._buffers[name] = Tensor._make(array)
            else:
                with no_grad():
                    current.copy_(Tensor._make(array))
        for key in state_dict:
            if key.startswith(prefix):
                head = key[len(prefix):].split(".", 1)
                if (len(head) > 1 and head[0] not in self._modules) or (len(head) == 1 and head[0] not in local):
                    unexpected.append(key)

"""DistributedDataParallel: one model replica per process, gradients averaged during backward.

Every process runs the same script on its own shard of each batch. At construction DDP checks that
all ranks hold the same parameter shapes and copies rank 0's parameters and buffers to the
others; from then on the replicas stay identical because every rank applies the same averaged
gradient with the same optimizer. The averaging overlaps backward (see :mod:`.reducer`).

Buffers (BatchNorm's running statistics) are not averaged: as in PyTorch, with
``broadcast_buffers=True`` (the default) rank 0's buffers are copied to every rank at the start of
each forward that follows a synchronising step, so all ranks evaluate with rank 0's statistics.
The batch statistics BatchNorm normalises with during training are each rank's own (use larger
per-rank batches, or accept the per-shard statistics, as with PyTorch's BatchNorm under DDP).
"""

from __future__ import annotations

import contextlib

from chainrule.autograd.grad_mode import is_grad_enabled
from chainrule.distributed import process_group as _pg
from chainrule.tensor import Tensor

from ..module import Module
from .reducer import Reducer

__all__ = ["DistributedDataParallel"]

_MB = 1024 * 1024
_DEFAULT_BUCKET_CAP_MB = 25
_DEFAULT_FIRST_BUCKET_BYTES = 1 * _MB       # PyTorch's: a small first bucket starts talking early


def _output_tensors(out) -> list[Tensor]:
    """The tensors in a forward's output (a tensor, or tuples/lists/dicts of them)."""
    found, stack = [], [out]
    while stack:
        x = stack.pop()
        if isinstance(x, Tensor):
            found.append(x)
        elif isinstance(x, (list, tuple)):
            stack.extend(x)
        elif isinstance(x, dict):
            stack.extend(x.values())
    return found


def _reachable_params(outputs: list[Tensor], index: dict[int, int]) -> set[int]:
    """Indices (via ``index``: id(param) -> i) of the parameters the outputs' graph reaches."""
    used, seen = set(), set()
    stack = [t.grad_fn for t in outputs if t.grad_fn is not None]
    stack += [t._accumulator() for t in outputs if t.grad_fn is None and id(t) in index]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        var = getattr(node, "variable", None)
        if var is not None and id(var) in index:
            used.add(index[id(var)])
        stack.extend(nxt for nxt, _ in node.next_functions)
    return used


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training over the default process group.

    Use it like the module (``ddp(x)``); ``ddp.module`` is the wrapped model, and
    ``ddp.state_dict()`` has PyTorch's ``module.`` prefix on every key (save
    ``ddp.module.state_dict()`` for a file the plain model loads). ``bucket_cap_mb`` sets the
    bucket size (default 25 MiB, first bucket 1 MiB). ``no_sync()`` skips the averaging for
    gradient accumulation. GPU arguments (``device_ids``, ``output_device``) must be None;
    ``gradient_as_bucket_view``, ``static_graph`` and ``check_reduction`` are accepted for
    compatibility and change nothing (chainrule's reducer handles every iteration alike).

    >>> import chainrule as cr, chainrule.distributed as dist
    >>> from chainrule.nn.parallel import DistributedDataParallel as DDP
    >>> dist.init_process_group("mpi")           # doctest: +SKIP
    >>> model = DDP(cr.nn.Linear(4, 2))          # doctest: +SKIP
    >>> model(cr.randn(8, 4)).sum().backward()   # .grad: the average over the ranks  # doctest: +SKIP
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool | None = None, init_sync: bool = True, process_group=None,
                 bucket_cap_mb: float | None = None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False, forward_sync_buffers: bool | None = None):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be a chainrule nn.Module, got "
                            f"{type(module).__name__}")
        if device_ids is not None or output_device is not None:
            raise ValueError("DistributedDataParallel: device_ids and output_device are for GPU modules; "
                             "chainrule runs on the CPU, leave them None")
        group = _pg._group("DistributedDataParallel", process_group)
        self.module = module
        self.dim = dim
        # PyTorch 2.13: forward_sync_buffers replaces broadcast_buffers; broadcast_buffers=False also
        # skips the buffers at construction, forward_sync_buffers=False does not.
        if forward_sync_buffers is not None:
            self.forward_sync_buffers, init_sync_buffers = bool(forward_sync_buffers), True
        else:
            init_sync_buffers = broadcast_buffers is None or bool(broadcast_buffers)
            self.forward_sync_buffers = init_sync_buffers
        self.find_unused_parameters = bool(find_unused_parameters)
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self._group = group
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError("DistributedDataParallel: DistributedDataParallel is not needed when a module "
                               "doesn't have any parameter that requires a gradient.")
        if init_sync:
            _verify_same_model(group, module)
            for p in module.parameters():
                _bcast(group, p)
            if init_sync_buffers:
                for b in self._module_buffers():
                    _bcast(group, b)
        self.bucket_cap_mb = _DEFAULT_BUCKET_CAP_MB if bucket_cap_mb is None else bucket_cap_mb
        cap = int(self.bucket_cap_mb * _MB)
        first = _DEFAULT_FIRST_BUCKET_BYTES if bucket_cap_mb is None else cap
        self._params = [p for _, p in named]
        self._param_index = {id(p): i for i, p in enumerate(self._params)}
        self.reducer = Reducer(self._params, group, first, cap, self.find_unused_parameters)

    def _module_buffers(self) -> list[Tensor]:
        # looked up each time: a buffer may have been replaced (load_state_dict(assign=True))
        return [b for _, b in self.module.named_buffers() if b is not None]

    @property
    def broadcast_buffers(self) -> bool:
        return self.forward_sync_buffers

    def forward(self, *inputs, **kwargs):
        """Run the wrapped module; arm the gradient averaging for the coming backward."""
        if self.require_forward_param_sync and self.forward_sync_buffers:
            for b in self._module_buffers():
                _bcast(self._group, b)
        out = self.module(*inputs, **kwargs)
        if is_grad_enabled() and self.require_backward_grad_sync:
            self.require_forward_param_sync = True
            used = _reachable_params(_output_tensors(out), self._param_index) \
                if self.find_unused_parameters else None
            self.reducer.prepare_for_backward(used)
        else:
            self.require_forward_param_sync = False
        return out

    @contextlib.contextmanager
    def no_sync(self):
        """Within this block, forwards' backward passes only accumulate ``.grad`` locally; the first
        forward-backward after it averages the accumulated gradients.

        >>> with ddp.no_sync():          # doctest: +SKIP
        ...     ddp(x1).sum().backward()   # local accumulation only
        >>> ddp(x2).sum().backward()       # averages grad(x1) + grad(x2) over the ranks  # doctest: +SKIP
        """
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old


def _bcast(group, t: Tensor) -> None:
    """Overwrite ``t`` with rank 0's values, in place."""
    a = t._data
    buf = a if a.flags.c_contiguous and a.flags.writeable else a.copy()
    group.comm.Bcast(buf, root=0)
    if buf is not a:
        a[...] = buf
    t._version_box[0] += 1


def _verify_same_model(group, module: Module) -> None:
    """Raise the same clear error on every rank if any rank's parameters differ in name, shape or dtype."""
    mine = [(n, tuple(p.shape), str(p.dtype)) for n, p in module.named_parameters()]
    everyone = group.comm.allgather(mine)   # a few names and shapes per rank: small Python objects
    ref = everyone[0]
    for rank, theirs in enumerate(everyone[1:], start=1):
        if len(theirs) != len(ref):
            raise RuntimeError(f"DistributedDataParallel: DDP expects same model across all ranks, but rank "
                               f"{rank} has {len(theirs)} params, while rank 0 has inconsistent {len(ref)} "
                               "params.")
        for (n0, s0, d0), (n, s, d) in zip(ref, theirs):
            if (n, s, d) != (n0, s0, d0):
                raise RuntimeError(f"DistributedDataParallel: DDP expects same model across all ranks, but "
                                   f"rank {rank}'s parameter {n!r} has shape {s} and dtype {d}, while "
                                   f"rank 0's parameter {n0!r} has shape {s0} and dtype {d0}.")

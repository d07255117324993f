"""Gradient averaging for DistributedDataParallel: buckets, hooks, non-blocking all-reduce.

The parameters are grouped into buckets (in reverse registration order, which is roughly the order
backward produces their gradients; one dtype per bucket). A hook on every parameter
(``Tensor.register_hook``) fires when backward has computed that parameter's gradient ``g``:

1. it writes the gradient the parameter is about to hold (``p.grad + g``, or ``g``) into the
   bucket's flat buffer, already divided by the world size;
2. when the bucket is complete it starts a non-blocking ``MPI_Iallreduce`` (SUM) on the buffer —
   the rest of backward goes on while the message travels — buckets start strictly in order, so
   every rank issues the same collectives in the same sequence, as MPI requires;
3. the hook of the *last* expected parameter waits for all buckets and finishes the step: the other
   parameters' ``.grad`` (already accumulated by the engine) are overwritten with the average, and
   the last parameter's hook returns its averaged gradient, which the engine then stores.

So the average is in every ``.grad`` before ``backward()`` returns, without a callback at the end
of the engine's walk (chainrule has no ``queue_callback``): the last hook is that callback.

A parameter that gets no gradient in a backward pass would leave its bucket waiting forever; the
next forward then raises, as PyTorch does, unless ``find_unused_parameters=True``, which walks the
graph after each forward and counts only the parameters that it reaches.
"""

from __future__ import annotations

import time

from chainrule.backend import xp
from chainrule.tensor import Tensor

__all__ = ["Reducer"]


def _assign_buckets(params: list[Tensor], first_cap: int, cap: int) -> list[list[int]]:
    """Parameter indices per bucket: reverse order, one dtype per bucket, each under its byte cap."""
    buckets: list[list[int]] = []
    open_by_dtype: dict = {}
    for i in reversed(range(len(params))):
        a = params[i]._data
        b = open_by_dtype.get(a.dtype)
        if b is None:
            b = open_by_dtype[a.dtype] = [[], 0]
            buckets.append(b[0])
        b[0].append(i)
        b[1] += a.nbytes
        limit = first_cap if len(buckets) == 1 else cap
        if b[1] >= limit:
            del open_by_dtype[a.dtype]
    return buckets


class Reducer:
    """Averages the gradients of ``params`` over the process group during backward."""

    def __init__(self, params: list[Tensor], group, first_bucket_bytes: int, bucket_bytes: int,
                 find_unused_parameters: bool):
        self.params = params
        self.group = group
        self.find_unused = find_unused_parameters
        self.buckets = _assign_buckets(params, first_bucket_bytes, bucket_bytes)
        self.where = {}                     # param index -> (bucket, start, stop)
        self.bucket_sizes = []
        for b, members in enumerate(self.buckets):
            offset = 0
            for i in members:
                n = params[i]._data.size
                self.where[i] = (b, offset, offset + n)
                offset += n
            self.bucket_sizes.append(offset)
        self.armed = False                  # set by a forward that should sync its backward
        self.seen: set[int] = set()
        self.used: set[int] | None = None
        self.requests: list = []
        self.unused_pending: list[int] = []
        self.wait_seconds = 0.0             # time backward spent blocked on communication (bench/)
        self.handles = [p.register_hook(self._make_hook(i)) for i, p in enumerate(params)]

    # --- per-backward state ----------------------------------------------------------------------
    def prepare_for_backward(self, used: set[int] | None) -> None:
        """Called by DDP's forward: expect hooks from ``used`` parameters (all if None)."""
        if self.armed and self.seen:
            missing = [i for i in range(len(self.params)) if i not in self.seen and
                       (self.used is None or i in self.used)]
            self.armed = False
            raise RuntimeError(
                "DistributedDataParallel: Expected to have finished reduction in the prior iteration before "
                "starting a new one. This error indicates that your module has parameters that were not used "
                f"in producing loss (parameter indices {missing[:10]} received no gradient). Pass "
                "find_unused_parameters=True to DistributedDataParallel, and make sure all forward outputs "
                "participate in calculating loss.")
        self.wait_all()                     # never drop a buffer MPI may still write into
        self.used = used
        self.seen = set()
        self.flat = [None] * len(self.buckets)
        self.pending = [len(m) for m in self.buckets]
        self.requests = [None] * len(self.buckets)
        self.next_to_launch = 0
        self.remaining = len(self.params) if used is None else len(used)
        self.armed = self.remaining > 0
        # Locally unused parameters contribute their .grad as it is when backward starts (after the
        # step's zero_grad), so they are filled in by the first hook, as in PyTorch.
        self.unused_pending = [] if used is None else [i for i in range(len(self.params)) if i not in used]
        if used is not None and self.remaining == 0:    # no hook will fire on this rank
            self._fill_unused()
            self._finish(None)

    def _fill_unused(self) -> None:
        for i in self.unused_pending:
            self._fill(i, None)
        self.unused_pending = []

    def _buffer(self, b: int):
        if self.flat[b] is None:
            dtype = self.params[self.buckets[b][0]]._data.dtype
            self.flat[b] = xp.empty(self.bucket_sizes[b], dtype=dtype)
        return self.flat[b]

    def _fill(self, i: int, g) -> None:
        """Write parameter i's about-to-be gradient / world size into its bucket; launch ready buckets."""
        b, start, stop = self.where[i]
        view = self._buffer(b)[start:stop]
        p = self.params[i]
        old = p._grad
        if g is None:
            if old is None:
                view[...] = 0
            else:
                view[...] = old._data.reshape(-1)
        elif old is None:
            view[...] = g.reshape(-1)
        else:
            xp.add(old._data.reshape(-1), g.reshape(-1), out=view)
        view /= self.group.size     # divide first, as PyTorch does: the sum cannot overflow float16
        self.pending[b] -= 1
        self._launch_ready()

    def _launch_ready(self) -> None:
        MPI, comm = self.group.MPI, self.group.comm
        while self.next_to_launch < len(self.buckets) and self.pending[self.next_to_launch] == 0:
            b = self.next_to_launch
            self.requests[b] = comm.Iallreduce(MPI.IN_PLACE, self.flat[b], op=MPI.SUM)
            self.next_to_launch += 1
        # MPI progresses non-blocking collectives inside MPI calls: poke the ones in flight.
        live = [r for r in self.requests if r is not None]
        if live:
            MPI.Request.Testall(live)

    def _make_hook(self, i: int):
        def hook(grad: Tensor):
            if not self.armed or i in self.seen:
                return None
            self.seen.add(i)
            if self.unused_pending:
                self._fill_unused()
            self._fill(i, grad._data)
            self.remaining -= 1
            if self.remaining == 0:
                return self._finish(i)
            return None
        return hook

    def _finish(self, last: int) -> Tensor:
        """All gradients are in: wait for the buckets, write the averages, return the last one's."""
        t0 = time.perf_counter()
        self.wait_all()
        self.wait_seconds += time.perf_counter() - t0
        self.armed = False
        used = self._globally_used() if self.used is not None else None
        result = None
        for i, p in enumerate(self.params):
            if used is not None and i not in used:
                continue            # no rank used it: leave .grad as it was, as PyTorch does
            b, start, stop = self.where[i]
            avg = self.flat[b][start:stop].reshape(p._data.shape)
            if i == last:
                p._grad = None      # the engine now stores the returned average as .grad
                result = Tensor._make(avg)
            elif p._grad is not None and p._grad._data.flags.writeable and not p._grad.requires_grad:
                p._grad._data[...] = avg
                p._grad._version_box[0] += 1
            else:
                p._grad = Tensor._make(avg.copy())
        self.flat = [None] * len(self.buckets)
        return result

    def wait_all(self) -> None:
        live = [r for r in self.requests if r is not None]
        if live:
            self.group.MPI.Request.Waitall(live)
        self.requests = [None] * len(self.buckets)

    def _globally_used(self) -> set[int]:
        """Indices of the parameters some rank used in this step (one small all-reduce)."""
        MPI = self.group.MPI
        flags = xp.zeros(len(self.params), dtype=xp.int32)
        flags[list(self.used)] = 1
        self.group.comm.Allreduce(MPI.IN_PLACE, flags, op=MPI.MAX)
        return set(xp.flatnonzero(flags).tolist())

    def remove_hooks(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles = []

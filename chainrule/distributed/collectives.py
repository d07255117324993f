"""Collectives on Tensors over MPI: every rank calls the same function, MPI moves the numbers.

Each function works in place on the tensors' NumPy arrays, handed to MPI without a copy when they
are contiguous (a transposed or sliced tensor goes through a contiguous temporary and is written
back). ``async_op=True`` starts the non-blocking MPI operation and returns a :class:`Work`; the
tensor holds the result once ``work.wait()`` returns. As in PyTorch, every rank must call the
collectives in the same order.

=================  ==========================================================
``all_reduce``     every rank ends with op(tensor of rank 0, …, rank n-1)
``reduce``         only rank ``dst`` gets the result; the others keep their input
``broadcast``      every rank ends with rank ``src``'s tensor
``all_gather``     ``tensor_list[i]`` = rank i's tensor, on every rank
``barrier``        returns once every rank has reached it
=================  ==========================================================
"""

from __future__ import annotations

import enum
import operator

from chainrule.backend import xp
from chainrule.tensor import Tensor

from .process_group import _group

__all__ = ["ReduceOp", "Work", "all_gather", "all_reduce", "barrier", "broadcast", "reduce"]


class ReduceOp(enum.Enum):
    """How ``all_reduce``/``reduce`` combine the ranks' tensors (PyTorch's ``dist.ReduceOp``).

    On bool tensors SUM and MAX are a logical or, PRODUCT and MIN a logical and. AVG (the sum
    divided by the world size) needs a floating-point tensor.

    >>> ReduceOp.SUM
    <ReduceOp.SUM: 'sum'>
    """

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"


def _mpi_op(name: str, op, dtype, MPI):
    """The MPI operation that computes ``op`` on arrays of ``dtype``, or a clear error."""
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{name}: op must be a chainrule.distributed.ReduceOp, got {op!r}")
    kind = dtype.kind
    if kind == "b":
        if op is ReduceOp.AVG:
            raise ValueError(f"{name}: ReduceOp.AVG needs a floating-point tensor, got bool")
        logical = {ReduceOp.SUM: MPI.LOR, ReduceOp.MAX: MPI.LOR, ReduceOp.BOR: MPI.LOR,
                   ReduceOp.PRODUCT: MPI.LAND, ReduceOp.MIN: MPI.LAND, ReduceOp.BAND: MPI.LAND,
                   ReduceOp.BXOR: MPI.LXOR}
        return logical[op]
    if op is ReduceOp.AVG and kind != "f":
        raise ValueError(f"{name}: ReduceOp.AVG needs a floating-point tensor, got {dtype.name}; "
                         "use ReduceOp.SUM and divide by the world size")
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and kind == "f":
        raise ValueError(f"{name}: {op} is a bitwise operation and needs an integer or bool tensor, "
                         f"got {dtype.name}")
    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD, ReduceOp.MIN: MPI.MIN,
            ReduceOp.MAX: MPI.MAX, ReduceOp.BAND: MPI.BAND, ReduceOp.BOR: MPI.BOR,
            ReduceOp.BXOR: MPI.BXOR}[op]


class Work:
    """The handle of an ``async_op=True`` collective: ``wait()`` blocks until the tensors hold the
    result (PyTorch's ``Work``).

    >>> w = Work(None, lambda: None)   # what all_reduce(t, async_op=True) returns
    >>> w.wait(), w.is_completed()
    (True, True)
    """

    def __init__(self, request, finish, tensors=()):
        self._request = request        # an mpi4py Request, or None when nothing is in flight
        self._finish = finish          # copies back / divides once the data has arrived
        self._tensors = list(tensors)
        self._done = request is None
        if self._done:
            finish()

    def wait(self, timeout=None) -> bool:
        """Block until the collective has completed on this rank; returns True."""
        if not self._done:
            self._request.Wait()
            self._done = True
            self._finish()
        return True

    def is_completed(self) -> bool:
        """Has it finished? (Also lets MPI make progress on it.)"""
        if not self._done and self._request.Test():
            self._done = True
            self._finish()
        return self._done

    def is_success(self) -> bool:
        return self.is_completed()

    def result(self) -> list[Tensor]:
        """The tensors the collective wrote, after waiting for it."""
        self.wait()
        return self._tensors


def _check_tensor(name: str, arg: str, t) -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"{name}: {arg} must be a chainrule Tensor, got {type(t).__name__}")
    return t


def _check_rank(name: str, arg: str, value, size: int) -> int:
    try:
        r = operator.index(value)
    except TypeError:
        raise TypeError(f"{name}: {arg} must be an integer rank, got {value!r}") from None
    if not 0 <= r < size:
        raise ValueError(f"{name}: {arg}={r} is not a rank of this job (ranks 0 … {size - 1})")
    return r


def _buffer(name: str, t: Tensor):
    """The tensor's array if MPI can write into it directly, else a contiguous copy of it."""
    a = t._data
    if not a.flags.writeable:
        raise ValueError(f"{name}: the tensor's memory is read-only (an expanded/broadcast view, shape "
                         f"{tuple(a.shape)}); pass a tensor that owns its data, e.g. t.clone()")
    return a if a.flags.c_contiguous else xp.ascontiguousarray(a)


def _written(t: Tensor, buf) -> None:
    """The collective changed ``t`` in place: copy back if it went through a temporary, bump its version."""
    if buf is not t._data:
        t._data[...] = buf
    t._version_box[0] += 1


def _start(group, blocking, nonblocking, finish, async_op: bool, tensors=()):
    if async_op:
        return Work(nonblocking(), finish, tensors)
    blocking()
    finish()
    return None


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group=None, async_op: bool = False):
    """Replace ``tensor`` on every rank with ``op`` applied across the ranks' tensors.

    >>> import chainrule as cr, chainrule.distributed as dist
    >>> t = cr.tensor([1.0, 2.0]) * (dist.get_rank() + 1)   # doctest: +SKIP
    >>> dist.all_reduce(t)                                  # doctest: +SKIP
    >>> t                     # on 2 ranks: 1*[1, 2] + 2*[1, 2]  # doctest: +SKIP
    tensor([3., 6.])
    """
    g = _group("all_reduce", group)
    _check_tensor("all_reduce", "tensor", tensor)
    buf = _buffer("all_reduce", tensor)
    mpi_op = _mpi_op("all_reduce", op, buf.dtype, g.MPI)

    def finish():
        if op is ReduceOp.AVG:
            xp.divide(buf, g.size, out=buf)
        _written(tensor, buf)
    return _start(g, lambda: g.comm.Allreduce(g.MPI.IN_PLACE, buf, op=mpi_op),
                  lambda: g.comm.Iallreduce(g.MPI.IN_PLACE, buf, op=mpi_op), finish, async_op, [tensor])


def reduce(tensor: Tensor, dst: int | None = None, op: ReduceOp = ReduceOp.SUM, group=None,
           async_op: bool = False, group_dst: int | None = None):
    """Combine the ranks' tensors with ``op`` into ``tensor`` on rank ``dst``; the others keep theirs.

    >>> dist.reduce(t, dst=0)   # doctest: +SKIP
    """
    g = _group("reduce", group)
    _check_tensor("reduce", "tensor", tensor)
    dst = _check_rank("reduce", "dst", dst if dst is not None else (group_dst or 0), g.size)
    root = g.rank == dst
    buf = _buffer("reduce", tensor) if root else xp.ascontiguousarray(tensor._data)
    mpi_op = _mpi_op("reduce", op, buf.dtype, g.MPI)
    send, recv = (g.MPI.IN_PLACE, buf) if root else (buf, None)

    def finish():
        if root:
            if op is ReduceOp.AVG:
                xp.divide(buf, g.size, out=buf)
            _written(tensor, buf)
    return _start(g, lambda: g.comm.Reduce(send, recv, op=mpi_op, root=dst),
                  lambda: g.comm.Ireduce(send, recv, op=mpi_op, root=dst), finish, async_op, [tensor])


def broadcast(tensor: Tensor, src: int | None = None, group=None, async_op: bool = False,
              group_src: int | None = None):
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every other rank (same shape and dtype on all).

    >>> dist.broadcast(t, src=0)   # doctest: +SKIP
    """
    g = _group("broadcast", group)
    _check_tensor("broadcast", "tensor", tensor)
    src = _check_rank("broadcast", "src", src if src is not None else (group_src or 0), g.size)
    buf = _buffer("broadcast", tensor)

    def finish():
        if g.rank != src:
            _written(tensor, buf)
    return _start(g, lambda: g.comm.Bcast(buf, root=src), lambda: g.comm.Ibcast(buf, root=src),
                  finish, async_op, [tensor])


def all_gather(tensor_list: list[Tensor], tensor: Tensor, group=None, async_op: bool = False):
    """Fill ``tensor_list[i]`` with rank i's ``tensor``, on every rank.

    ``tensor_list`` holds world_size tensors of ``tensor``'s shape and dtype (they are written in place).

    >>> out = [cr.zeros(2) for _ in range(dist.get_world_size())]   # doctest: +SKIP
    >>> dist.all_gather(out, cr.full((2,), float(dist.get_rank())))  # doctest: +SKIP
    >>> out                                                        # doctest: +SKIP
    [tensor([0., 0.]), tensor([1., 1.])]
    """
    g = _group("all_gather", group)
    _check_tensor("all_gather", "tensor", tensor)
    if not isinstance(tensor_list, list) or len(tensor_list) != g.size:
        got = f"a list of {len(tensor_list)}" if isinstance(tensor_list, list) else type(tensor_list).__name__
        raise ValueError(f"all_gather: tensor_list must be a list of world_size={g.size} tensors, got {got}")
    send = xp.ascontiguousarray(tensor._data)
    for i, t in enumerate(tensor_list):
        _check_tensor("all_gather", f"tensor_list[{i}]", t)
        if t._data.shape != send.shape or t._data.dtype != send.dtype:
            raise ValueError(f"all_gather: tensor_list[{i}] has shape {tuple(t.shape)} and dtype {t.dtype}, "
                             f"but tensor has shape {tuple(tensor.shape)} and dtype {tensor.dtype}; they "
                             "must match")
        if not t._data.flags.writeable:
            raise ValueError(f"all_gather: tensor_list[{i}] is read-only (an expanded view); pass tensors "
                             "that own their data")
    recv = xp.empty((g.size, *send.shape), dtype=send.dtype)

    def finish():
        for i, t in enumerate(tensor_list):
            t._data[...] = recv[i]
            t._version_box[0] += 1
    return _start(g, lambda: g.comm.Allgather(send, recv), lambda: g.comm.Iallgather(send, recv),
                  finish, async_op, tensor_list)


def barrier(group=None, async_op: bool = False, device_ids=None, timeout=None):
    """Wait until every rank has called ``barrier``.

    >>> dist.barrier()   # doctest: +SKIP
    """
    g = _group("barrier", group)
    return _start(g, g.comm.Barrier, g.comm.Ibarrier, lambda: None, async_op)

"""The default process group: which process am I, how many are we (``torch.distributed``'s names).

chainrule has one backend, ``"mpi"``, built on mpi4py. The launcher (``mpiexec -n 4 python
train.py``) starts the processes; :func:`init_process_group` reads rank and world size from MPI,
so nothing needs to be passed. mpi4py is imported only here, on first use: ``import chainrule``
never needs it.

Faults: after :func:`init_process_group`, an exception that escapes on any rank prints that rank's
traceback and aborts the whole job (``MPI_Abort``), so no other rank is left waiting forever in a
collective for a partner that has died.

>>> is_initialized()
False
"""

from __future__ import annotations

import importlib.util
import sys
import traceback

from .launch import _INSTALL_HINT

__all__ = ["abort_job", "destroy_process_group", "get_rank", "get_world_size", "init_process_group",
           "is_available", "is_initialized", "is_mpi_available"]


class _Group:
    """The default group: a private duplicate of MPI.COMM_WORLD (so chainrule's collectives never
    interleave with the user's own mpi4py messages), its rank and size."""

    def __init__(self, MPI, comm):
        self.MPI = MPI
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()


_default: _Group | None = None
_previous_excepthook = None


def is_available() -> bool:
    """True if chainrule.distributed can run here (mpi4py is installed).

    >>> isinstance(is_available(), bool)
    True
    """
    return importlib.util.find_spec("mpi4py") is not None


def is_mpi_available() -> bool:
    """Same as :func:`is_available`: MPI is chainrule's only backend.

    >>> is_mpi_available() == is_available()
    True
    """
    return is_available()


def is_initialized() -> bool:
    """True between :func:`init_process_group` and :func:`destroy_process_group`.

    >>> is_initialized()
    False
    """
    return _default is not None


def _import_mpi():
    if not is_available():
        raise RuntimeError(f"chainrule.distributed needs mpi4py, which is not installed: {_INSTALL_HINT}")
    from mpi4py import MPI  # initialises MPI (MPI_Init_thread) on first import
    return MPI


def init_process_group(backend: str | None = None, init_method: str | None = None, timeout=None,
                       world_size: int = -1, rank: int = -1, store=None, group_name: str = "",
                       pg_options=None, device_id=None) -> None:
    """Join the job the MPI launcher started: after this, :func:`get_rank` and the collectives work.

    ``backend`` is ``"mpi"`` (or None); ``"gloo"``, PyTorch's CPU backend, is accepted too and also
    runs over MPI, so CPU scripts written for PyTorch run unchanged under ``mpiexec``. Rank and world
    size come from MPI; ``world_size`` and ``rank``, if given, must agree with it. PyTorch's rendezvous
    (``init_method`` other than ``"env://"``, ``store``) is not used: pass it and the error says so.

    >>> import chainrule.distributed as dist
    >>> dist.init_process_group("mpi")       # doctest: +SKIP
    >>> dist.get_rank(), dist.get_world_size()  # doctest: +SKIP
    (0, 1)
    """
    global _default, _previous_excepthook
    if backend is not None and str(backend).lower() not in ("mpi", "gloo"):
        raise ValueError(f"init_process_group: backend={backend!r} is not available in chainrule; "
                         "use 'mpi' (or 'gloo', which chainrule also runs over MPI) and launch with mpiexec")
    if _default is not None:
        raise ValueError("init_process_group: trying to initialize the default process group twice!")
    if init_method == "env://":
        init_method = None      # PyTorch's default rendezvous; under mpiexec MPI does that job
    for name, value in (("init_method", init_method), ("store", store), ("pg_options", pg_options)):
        if value is not None:
            raise ValueError(f"init_process_group: {name}={value!r} is not used by the 'mpi' backend; the "
                             "MPI launcher (mpiexec) tells each process its rank and the world size")
    MPI = _import_mpi()
    comm = MPI.COMM_WORLD.Dup()
    group = _Group(MPI, comm)
    for name, given, actual in (("world_size", world_size, group.size), ("rank", rank, group.rank)):
        if given not in (-1, None) and given != actual:
            comm.Free()
            raise ValueError(f"init_process_group: {name}={given} but the MPI launcher started this process "
                             f"with {name}={actual}; leave {name} out with backend 'mpi'")
    _default = group
    if _previous_excepthook is None:
        _previous_excepthook = sys.excepthook
        sys.excepthook = _abort_on_uncaught_exception


def _group(op: str, group=None) -> _Group:
    """The default group, or PyTorch's error if there is none yet."""
    if group is not None:
        raise ValueError(f"{op}: only the default group (group=None) is supported by chainrule.distributed")
    if _default is None:
        raise ValueError(f"{op}: Default process group has not been initialized, please make sure to call "
                         "init_process_group.")
    return _default


def get_rank(group=None) -> int:
    """This process's rank, 0 … world_size - 1.

    >>> get_rank()  # doctest: +SKIP
    0
    """
    return _group("get_rank", group).rank


def get_world_size(group=None) -> int:
    """The number of processes in the job.

    >>> get_world_size()  # doctest: +SKIP
    2
    """
    return _group("get_world_size", group).size


def destroy_process_group(group=None) -> None:
    """Leave the process group; :func:`init_process_group` may be called again afterwards.

    MPI itself stays initialised (it cannot be restarted within a process); mpi4py finalises it
    when Python exits.

    >>> destroy_process_group()  # doctest: +SKIP
    """
    global _default
    g = _group("destroy_process_group", group)
    _default = None
    g.comm.Free()


def abort_job(message: str, exit_code: int = 1) -> None:
    """Print ``message`` (prefixed with this rank) and end every process of the job (``MPI_Abort``).

    A chainrule extra, for a rank that must stop while the others may be waiting for it in a
    collective (``chainrule train`` uses it for its errors). Never returns.

    >>> abort_job("the data file is corrupt")  # doctest: +SKIP
    """
    g = _group("abort_job")
    sys.stderr.write(f"[rank {g.rank}/{g.size}] {message}\n")
    sys.stderr.flush()
    sys.stdout.flush()
    g.MPI.COMM_WORLD.Abort(exit_code)


def _abort_on_uncaught_exception(exc_type, exc, tb) -> None:
    """sys.excepthook while a group exists: report, then abort every rank of the job.

    Without this, the ranks that did not fail would wait forever in their next collective.
    """
    group = _default
    if group is None:
        (_previous_excepthook or sys.__excepthook__)(exc_type, exc, tb)
        return
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    sys.stderr.write(f"[rank {group.rank}/{group.size}] {text}"
                     f"[rank {group.rank}/{group.size}] uncaught {exc_type.__name__}: aborting all "
                     f"{group.size} processes\n")
    sys.stderr.flush()
    sys.stdout.flush()
    group.MPI.COMM_WORLD.Abort(1)

"""Finding and driving the MPI launcher (``mpiexec``), without importing MPI.

``chainrule train --nproc N`` re-runs itself under ``mpiexec -n N``; the processes it starts learn
their rank and the world size from the environment variables the launcher sets. Reading those
variables (instead of importing ``mpi4py``) keeps a plain single-process run free of MPI.

>>> launched_world_size({"PMI_SIZE": "4", "PMI_RANK": "2"})
4
>>> launched_rank({"OMPI_COMM_WORLD_RANK": "1"})
1
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from collections.abc import Mapping
from pathlib import Path

__all__ = ["launched_rank", "launched_world_size", "mpiexec_command", "mpiexec_path"]

# Rank and size as MPICH's Hydra (PMI_*), Open MPI (OMPI_COMM_WORLD_*), PMIx and Slurm set them.
_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "SLURM_NTASKS")
_RANK_VARS = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "SLURM_PROCID")

_INSTALL_HINT = ('install the MPI extra: pip install "chainrule[mpi]" (it brings mpi4py and the MPICH '
                 "wheel), or put an MPI implementation's mpiexec on PATH")


def _first_int(env: Mapping[str, str], names: tuple[str, ...]) -> int | None:
    for name in names:
        value = env.get(name)
        if value is not None and value.strip().isdigit():
            return int(value)
    return None


def launched_world_size(env: Mapping[str, str] | None = None) -> int | None:
    """The number of processes an MPI launcher started this one with, or None if none did.

    >>> launched_world_size({}) is None
    True
    """
    if env is None:
        env = os.environ
    # Slurm sets SLURM_NTASKS for every step of a batch job, so it counts only next to SLURM_PROCID
    # inside an srun step (SLURM_STEP_ID).
    names = _SIZE_VARS if "SLURM_STEP_ID" in env else _SIZE_VARS[:-1]
    return _first_int(env, names)


def launched_rank(env: Mapping[str, str] | None = None) -> int:
    """This process's rank as the MPI launcher set it (0 when not launched by one).

    >>> launched_rank({})
    0
    """
    if env is None:
        env = os.environ
    rank = _first_int(env, _RANK_VARS)
    return 0 if rank is None else rank


def mpiexec_path() -> str:
    """The ``mpiexec`` to launch with: the one installed next to this Python (the MPICH wheel puts it
    in the interpreter's scripts directory, and it matches the MPI library mpi4py loads), else the
    first on PATH. Raises RuntimeError saying how to install one.
    """
    names = ("mpiexec", "mpirun")
    folders = [sysconfig.get_path("scripts"), str(Path(sys.executable).parent)]
    for folder in folders:
        for name in names:
            candidate = Path(folder) / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError(f"no mpiexec found next to {sys.executable} or on PATH; {_INSTALL_HINT}")


def mpiexec_command(nproc: int, argv: list[str], hostfile: str | None = None) -> list[str]:
    """The command that runs ``python argv...`` as ``nproc`` MPI processes.

    >>> cmd = mpiexec_command(2, ["-m", "chainrule.cli", "train"])  # doctest: +SKIP
    >>> cmd[1:3]  # doctest: +SKIP
    ['-n', '2']
    """
    if isinstance(nproc, bool) or not isinstance(nproc, int) or nproc < 1:
        raise ValueError(f"mpiexec_command: nproc must be a positive integer, got {nproc!r}")
    cmd = [mpiexec_path(), "-n", str(nproc)]
    if hostfile is not None:
        cmd += ["-f", hostfile]   # MPICH's Hydra; Open MPI spells it --hostfile
    return cmd + [sys.executable, *argv]

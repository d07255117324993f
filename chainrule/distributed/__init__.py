"""Several processes, one model: ``torch.distributed``'s API over MPI (mpi4py).

Start N copies of a script with an MPI launcher; each calls :func:`init_process_group` and learns
its rank. The collectives then combine tensors across the copies. Wrap the model in
:class:`chainrule.nn.parallel.DistributedDataParallel` and give the DataLoader a
:class:`chainrule.data.distributed.DistributedSampler`, and N processes train one model on N
shards of each batch::

    # train.py — run with: mpiexec -n 2 python train.py
    import chainrule as cr
    import chainrule.distributed as dist
    dist.init_process_group("mpi")
    t = cr.tensor([float(dist.get_rank())])
    dist.all_reduce(t)            # every rank now holds 0 + 1 = 1
    dist.destroy_process_group()

Install with ``pip install "chainrule[mpi]"`` (mpi4py and the MPICH wheel, which provides
``mpiexec``). Guide: docs/distributed.md.

>>> import chainrule.distributed as dist
>>> dist.is_initialized()
False
"""

from .collectives import ReduceOp, Work, all_gather, all_reduce, barrier, broadcast, reduce
from .launch import launched_rank, launched_world_size, mpiexec_command, mpiexec_path
from .process_group import (
    abort_job,
    destroy_process_group,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_available,
)

__all__ = [
    "ReduceOp", "Work", "abort_job", "all_gather", "all_reduce", "barrier", "broadcast",
    "destroy_process_group", "get_rank", "get_world_size", "init_process_group", "is_available",
    "is_initialized", "is_mpi_available", "launched_rank", "launched_world_size", "mpiexec_command",
    "mpiexec_path", "reduce",
]

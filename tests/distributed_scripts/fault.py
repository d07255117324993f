"""Run under mpiexec: the last rank raises while the others wait in a collective.

The job must end quickly, with a non-zero exit status and the failing rank's message on stderr.
"""

import time

import chainrule as cr
import chainrule.distributed as dist

dist.init_process_group("mpi")
rank, size = dist.get_rank(), dist.get_world_size()
dist.barrier()
if rank == size - 1:
    raise ValueError(f"boom from rank {rank}: the data file is corrupt")
t = cr.ones(3)
dist.all_reduce(t)          # never completes: its partner has died
time.sleep(60)
print("unreachable", flush=True)

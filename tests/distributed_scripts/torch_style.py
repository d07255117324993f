"""A PyTorch data-parallel script, unchanged: ``torchrun --nproc_per_node 2`` runs it on PyTorch, and
``mpiexec -n 2 chainrule run`` on chainrule (``import torch`` is chainrule there, gloo runs over MPI).
"""

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

dist.init_process_group(backend="gloo")
rank, world = dist.get_rank(), dist.get_world_size()
torch.manual_seed(rank)                       # different initial weights: DDP must replace them with rank 0's
data = TensorDataset(torch.randn(64, 4, generator=torch.Generator().manual_seed(0)), torch.arange(64) % 2)
sampler = DistributedSampler(data, shuffle=True, seed=0)
loader = DataLoader(data, batch_size=8, sampler=sampler)
model = DDP(torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2)))
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
for epoch in range(2):
    sampler.set_epoch(epoch)
    for x, y in loader:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
w = model.module[0].weight.detach().clone()
gathered = [torch.zeros_like(w) for _ in range(world)]
dist.all_gather(gathered, w)
assert all(bool((g == gathered[0]).all()) for g in gathered), "the replicas drifted apart"
print(f"rank {rank}/{world}: replicas identical after {2 * len(loader)} steps", flush=True)
dist.destroy_process_group()

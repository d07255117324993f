"""Run under mpiexec: DistributedDataParallel against one process on the concatenated global batch.

Each rank trains on its own slice of every global batch; rank-local copies of the full batches
let every rank also train a reference model in one process, and the parameters must agree to
float64 round-off. A failed check raises, which aborts the job (non-zero exit).
"""

import numpy as np

import chainrule as cr
import chainrule.distributed as dist
from chainrule import nn, optim
from chainrule.data.distributed import DistributedSampler
from chainrule.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("mpi")
rank, size = dist.get_rank(), dist.get_world_size()
PER_RANK, STEPS = 5, 4
TOL = 1e-12


class WithUnused(nn.Module):
    """A model with a layer its forward never calls."""

    def __init__(self, body: nn.Module):
        super().__init__()
        self.body = body
        self.unused = nn.Linear(3, 3)

    def forward(self, x):
        return self.body(x)


def make_model(seed: int, extra_unused: bool = False) -> nn.Module:
    cr.manual_seed(seed)
    layers = [nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3)]
    model = nn.Sequential(*layers)
    return (WithUnused(model) if extra_unused else model).double()


def global_batches():
    g = cr.Generator(1234)   # the same data on every rank
    return [(cr.randn(PER_RANK * size, 6, dtype=cr.float64, generator=g),
             cr.randint(0, 3, (PER_RANK * size,), generator=g)) for _ in range(STEPS)]


def mine(t):
    return t[rank * PER_RANK:(rank + 1) * PER_RANK]


def max_diff(a: nn.Module, b: nn.Module) -> float:
    return max(float((p - q).abs().max()) for p, q in zip(a.parameters(), b.parameters()))


def gather_equal(t) -> bool:
    """Do all ranks hold the same values of t?"""
    out = [cr.zeros_like(t) for _ in range(size)]
    dist.all_gather(out, t.detach().clone())
    return all(bool((o == out[0]).all()) for o in out)


batches = global_batches()
loss_fn = nn.CrossEntropyLoss()

# 1. N steps of DDP == one process on the global batch, for several optimizers and bucket sizes
for opt_name, bucket_cap_mb in [("sgd", None), ("adam", 0.0002), ("sgd", 1e-6)]:
    reference = make_model(0)
    model = make_model(seed=rank + 7)            # different on purpose: DDP copies rank 0's weights
    for p, q in zip(model.parameters(), reference.parameters()):
        p.data.copy_(q.data) if rank == 0 else None
    ddp = DDP(model, bucket_cap_mb=bucket_cap_mb)
    assert max_diff(model, reference) == 0.0, "DDP must start every rank from rank 0's parameters"
    if bucket_cap_mb == 1e-6:
        assert len(ddp.reducer.buckets) == len(list(model.parameters())), ddp.reducer.buckets
    opt_cls = {"sgd": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
               "adam": lambda ps: optim.Adam(ps, lr=0.01)}
    opt, ref_opt = opt_cls[opt_name](ddp.parameters()), opt_cls[opt_name](reference.parameters())
    for x, y in batches:
        opt.zero_grad()
        loss_fn(ddp(mine(x)), mine(y)).backward()
        # the averaged gradient is in .grad as soon as backward() returns
        ref_opt.zero_grad()
        loss_fn(reference(x), y).backward()
        grad_diff = max(float((p.grad - q.grad).abs().max()) for p, q in zip(model.parameters(),
                                                                            reference.parameters()))
        assert grad_diff < TOL, (opt_name, bucket_cap_mb, grad_diff)
        opt.step()
        ref_opt.step()
    diff = max_diff(model, reference)
    assert diff < TOL, (opt_name, bucket_cap_mb, diff)
    assert list(ddp.state_dict()) == ["module." + k for k in model.state_dict()]
    assert ddp.module is model

# 2. no_sync: accumulate two micro-batches locally, sync on the third == syncing every micro-batch
micro = batches[:3]
acc_model, every_model = make_model(3), make_model(3)
acc, every = DDP(acc_model), DDP(every_model)
with acc.no_sync():
    for x, y in micro[:2]:
        loss_fn(acc(mine(x)), mine(y)).backward()
local_only = [p.grad.clone() for p in acc_model.parameters()]
assert not all(gather_equal(g) for g in local_only), "inside no_sync the gradients must stay local"
x, y = micro[2]
loss_fn(acc(mine(x)), mine(y)).backward()
for x, y in micro:
    loss_fn(every(mine(x)), mine(y)).backward()
reference = make_model(3)
for x, y in micro:
    loss_fn(reference(x), y).backward()
for p, q, r in zip(acc_model.parameters(), every_model.parameters(), reference.parameters()):
    assert float((p.grad - q.grad).abs().max()) < TOL
    assert float((p.grad - r.grad).abs().max()) < TOL
    assert gather_equal(p.grad)

# 3. buffers: BatchNorm's running statistics are rank 0's at the start of each synced forward
cr.manual_seed(5)
bn_model = nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(4)).double()
bn = DDP(bn_model)
x, _ = batches[0]
bn(mine(x)).sum().backward()
running = bn_model[1].running_mean
assert not gather_equal(running), "each rank's running mean follows its own shard"
rank0_value = running.detach().clone()
dist.broadcast(rank0_value, src=0)
bn.eval()
with cr.no_grad():
    bn(mine(x))                                  # broadcasts buffers first; eval does not update them
assert gather_equal(running) and bool((running == rank0_value).all())
bn.train()

# 4. unused parameters: find_unused_parameters=True averages what some rank used and leaves the rest
#    alone; which branch a rank uses changes per rank and per step, and zero_grad comes after forward
class Branches(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b, self.never = nn.Linear(6, 3), nn.Linear(6, 3), nn.Linear(6, 3)

    def forward(self, x, use_b: bool):
        return self.a(x) + self.b(x) if use_b else self.a(x)


cr.manual_seed(4)
model = Branches().double()
reference = Branches().double()
reference.load_state_dict(model.state_dict())
ddp = DDP(model, find_unused_parameters=True)
for step, (x, y) in enumerate(batches[:3]):
    out = ddp(mine(x), use_b=(rank + step) % 2 == 1)
    model.zero_grad()
    loss_fn(out, mine(y)).backward()
    reference.zero_grad()
    total = sum(loss_fn(reference(x[r * PER_RANK:(r + 1) * PER_RANK], use_b=(r + step) % 2 == 1),
                        y[r * PER_RANK:(r + 1) * PER_RANK]) for r in range(size))
    (total / size).backward()
    for (name, p), q in zip(model.named_parameters(), reference.parameters()):
        if name.startswith("never"):
            assert p.grad is None and q.grad is None, name
        else:
            assert float((p.grad - q.grad).abs().max()) < TOL, (step, name)

# 5. a DistributedSampler with the group's defaults gives disjoint shards that cover the dataset
for n, drop_last in [(17, False), (17, True), (size, False), (1, False)]:
    sampler = DistributedSampler(range(n), shuffle=True, seed=3, drop_last=drop_last)
    sampler.set_epoch(2)
    shard = cr.tensor(list(sampler), dtype=cr.int64)
    shards = [cr.zeros(len(sampler), dtype=cr.int64) for _ in range(size)]
    dist.all_gather(shards, shard)
    every = np.concatenate([s.numpy() for s in shards])
    assert len(every) == sampler.total_size
    if drop_last:
        assert len(set(every.tolist())) == len(every) == n - n % size
    else:
        assert set(every.tolist()) == set(range(n))
        assert len(set(every.tolist())) == min(n, len(every))   # repeats only for the padding

# 5b. unused parameters without find_unused_parameters: the next forward says what went wrong
ddp = DDP(make_model(4, extra_unused=True))
x, y = batches[0]
loss_fn(ddp(mine(x)), mine(y)).backward()
try:
    ddp(mine(x))
    raise AssertionError("a forward after an incomplete reduction should raise")
except RuntimeError as e:
    assert "find_unused_parameters=True" in str(e), e
ddp.reducer.wait_all()

# 6. different parameter shapes on different ranks: a clear error on every rank, no hang
odd = nn.Linear(4, 2 + (rank == size - 1)).double()
try:
    DDP(odd)
    raise AssertionError("DDP should reject different shapes across ranks")
except RuntimeError as e:
    assert f"rank {size - 1}'s parameter 'weight' has shape (3, 4)" in str(e), e
    assert "rank 0's parameter 'weight' has shape (2, 4)" in str(e), e

dist.barrier()
print(f"rank {rank}/{size}: DDP checks passed", flush=True)

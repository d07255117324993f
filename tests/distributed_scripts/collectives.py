"""Run under mpiexec: every collective, op and dtype against the values computed locally.

Each rank can compute every rank's input (they depend only on the rank number), so each rank
checks its result against NumPy. A failed check raises, which aborts the job (non-zero exit).
"""

import numpy as np

import chainrule as cr
import chainrule.distributed as dist

try:
    dist.get_rank()
    raise AssertionError("get_rank before init_process_group should raise")
except ValueError as e:
    assert "init_process_group" in str(e), e

dist.init_process_group("mpi")
try:
    dist.init_process_group("mpi")
    raise AssertionError("a second init_process_group should raise")
except ValueError as e:
    assert "twice" in str(e), e

rank, size = dist.get_rank(), dist.get_world_size()
assert dist.is_initialized() and dist.is_available()
Op = dist.ReduceOp
DTYPES = ["bool", "uint8", "int32", "int64", "float16", "float32", "float64"]
NUMPY_OP = {Op.SUM: np.sum, Op.AVG: np.sum, Op.PRODUCT: np.prod, Op.MIN: np.min, Op.MAX: np.max,
            Op.BAND: np.bitwise_and.reduce, Op.BOR: np.bitwise_or.reduce, Op.BXOR: np.bitwise_xor.reduce}


def value(r: int, dtype: str) -> np.ndarray:
    """Rank r's input: small values, so sums and products are exact in every dtype."""
    base = (np.arange(6).reshape(2, 3) * (r + 2) + r) % 3
    return (base % 2 == 0) if dtype == "bool" else (base + 1).astype(dtype)


def expected(op, dtype: str) -> np.ndarray:
    stack = np.stack([value(r, dtype) for r in range(size)])
    if dtype == "bool":   # PyTorch: SUM and MAX are a logical or, PRODUCT and MIN a logical and
        fn = {Op.SUM: np.any, Op.MAX: np.any, Op.BOR: np.any, Op.PRODUCT: np.all, Op.MIN: np.all,
              Op.BAND: np.all, Op.BXOR: np.logical_xor.reduce}[op]
        return fn(stack, axis=0)
    out = NUMPY_OP[op](stack, axis=0).astype(dtype)
    return (out / size).astype(dtype) if op is Op.AVG else out


def valid(op, dtype: str) -> bool:
    if op is Op.AVG:
        return dtype.startswith("float")
    if op in (Op.BAND, Op.BOR, Op.BXOR):
        return not dtype.startswith("float")
    return True


checked = 0
for dtype in DTYPES:
    for op in Op:
        for async_op in (False, True):
            t = cr.tensor(value(rank, dtype))
            if not valid(op, dtype):
                try:
                    dist.all_reduce(t, op=op, async_op=async_op)
                    raise AssertionError(f"all_reduce {op} on {dtype} should raise")
                except ValueError as e:
                    assert "all_reduce" in str(e) and dtype in str(e), e
                continue
            work = dist.all_reduce(t, op=op, async_op=async_op)
            if async_op:
                assert work.wait() is True and work.is_completed()
            else:
                assert work is None
            assert t.dtype == getattr(cr, dtype), (t.dtype, dtype)
            np.testing.assert_array_equal(t.numpy(), expected(op, dtype), err_msg=f"all_reduce {op} {dtype}")

            # reduce: only dst gets the result, the others keep their input
            dst = size - 1
            t = cr.tensor(value(rank, dtype))
            w = dist.reduce(t, dst=dst, op=op, async_op=async_op)
            if w is not None:
                w.wait()
            want = expected(op, dtype) if rank == dst else value(rank, dtype)
            np.testing.assert_array_equal(t.numpy(), want, err_msg=f"reduce {op} {dtype}")
            checked += 2

    # broadcast from the last rank, all_gather, in both modes
    for async_op in (False, True):
        t = cr.tensor(value(rank, dtype))
        w = dist.broadcast(t, src=size - 1, async_op=async_op)
        if w is not None:
            w.wait()
        np.testing.assert_array_equal(t.numpy(), value(size - 1, dtype), err_msg=f"broadcast {dtype}")
        out = [cr.zeros(2, 3, dtype=getattr(cr, dtype)) for _ in range(size)]
        w = dist.all_gather(out, cr.tensor(value(rank, dtype)), async_op=async_op)
        if w is not None:
            assert [o is p for o, p in zip(w.result(), out)] == [True] * size
        for r in range(size):
            np.testing.assert_array_equal(out[r].numpy(), value(r, dtype), err_msg=f"all_gather {dtype}")
        checked += 2

# in place on the tensor's own memory when contiguous (zero-copy), written back when not
t = cr.ones(3, 4, dtype=cr.float64)
before = t._data
v0 = t._version
dist.all_reduce(t)
assert t._data is before and t._version == v0 + 1
np.testing.assert_array_equal(t.numpy(), np.full((3, 4), float(size)))
base = cr.arange(12, dtype=cr.float64).reshape(3, 4)
view = base.T                               # non-contiguous: goes through a temporary
dist.all_reduce(view, op=Op.MAX)
np.testing.assert_array_equal(base.numpy(), np.arange(12.0).reshape(3, 4))
scalar = cr.tensor(float(rank))             # 0-d
dist.all_reduce(scalar)
assert scalar.item() == sum(range(size))
dist.all_reduce(cr.zeros(0))                # empty

# clear errors, raised identically on every rank before any message is sent
for call, words in [
    (lambda: dist.all_reduce([1.0]), ("all_reduce", "Tensor")),
    (lambda: dist.all_reduce(cr.ones(2), op="sum"), ("all_reduce", "ReduceOp")),
    (lambda: dist.broadcast(cr.ones(2), src=size), ("broadcast", "src", "ranks 0")),
    (lambda: dist.reduce(cr.ones(2), dst=-1), ("reduce", "dst")),
    (lambda: dist.all_gather([cr.ones(2)] * (size + 1), cr.ones(2)), ("all_gather", "world_size")),
    (lambda: dist.all_gather([cr.ones(3) for _ in range(size)], cr.ones(2)), ("all_gather", "shape")),
    (lambda: dist.broadcast(cr.ones(1).expand(3), src=0), ("broadcast", "read-only")),
    (lambda: dist.init_process_group("nccl"), ("nccl", "mpi")),
]:
    try:
        call()
        raise AssertionError(f"expected an error mentioning {words}")
    except (TypeError, ValueError) as e:
        assert all(w in str(e) for w in words), (words, str(e))

work = dist.barrier(async_op=True)
work.wait()
dist.barrier()
dist.destroy_process_group()
assert not dist.is_initialized()
dist.init_process_group("gloo", init_method="env://")   # may join again; gloo scripts run over MPI
dist.barrier()
dist.destroy_process_group()
print(f"rank {rank}/{size}: {checked} collective checks passed", flush=True)

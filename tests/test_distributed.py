"""chainrule.distributed, DistributedDataParallel and DistributedSampler, on real MPI jobs.

The multi-process tests launch ``mpiexec -n 2`` and ``-n 3`` (3 catches even-only assumptions)
on the scripts in tests/distributed_scripts/, each of which checks its own results on every rank
and aborts the job on the first failure. Without mpi4py or an mpiexec they skip locally and fail
under CI (``CI=true``), where the test extra installs both.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import chainrule as cr
import chainrule.distributed as dist
from chainrule.data.distributed import DistributedSampler
from chainrule.distributed import launch

SCRIPTS = Path(__file__).parent / "distributed_scripts"
ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="module")
def mpiexec() -> str:
    """The launcher; a missing MPI skips locally and fails under CI."""
    try:
        if importlib.util.find_spec("mpi4py") is None:
            raise RuntimeError('mpi4py is not installed (pip install "chainrule[mpi]")')
        return launch.mpiexec_path()
    except RuntimeError as e:
        if ON_CI:
            pytest.fail(f"MPI is required under CI: {e}")
        pytest.skip(str(e))


def run_mpi(mpiexec: str, n: int, args: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([mpiexec, "-n", str(n), sys.executable, *args], capture_output=True, text=True,
                          check=False, timeout=timeout, env=env)


def check_ok(result: subprocess.CompletedProcess, n: int, marker: str) -> None:
    assert result.returncode == 0, \
        f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    for r in range(n):
        assert f"rank {r}/{n}: " in result.stdout and marker in result.stdout, result.stdout


# ------------------------------------------------------------------------------ multi-process

@pytest.mark.parametrize("n", [2, 3])
def test_collectives_every_op_and_dtype(mpiexec, n):
    result = run_mpi(mpiexec, n, [str(SCRIPTS / "collectives.py")])
    check_ok(result, n, "collective checks passed")
    assert result.stdout.count("200 collective checks passed") == n


@pytest.mark.parametrize("n", [2, 3])
def test_ddp_equals_one_process_on_the_global_batch(mpiexec, n):
    # also: no_sync accumulation, BatchNorm buffers, unused parameters, shape mismatch, sampler shards
    check_ok(run_mpi(mpiexec, n, [str(SCRIPTS / "ddp.py")]), n, "DDP checks passed")


def test_an_unchanged_pytorch_ddp_script_runs(mpiexec):
    # the same file runs on PyTorch with torchrun; here `chainrule run` makes `import torch` chainrule
    result = run_mpi(mpiexec, 2, ["-m", "chainrule", "run", str(SCRIPTS / "torch_style.py")])
    check_ok(result, 2, "replicas identical after 8 steps")


def test_a_failing_rank_aborts_the_job_with_its_message(mpiexec):
    started = time.perf_counter()
    result = run_mpi(mpiexec, 3, [str(SCRIPTS / "fault.py")], timeout=30)
    elapsed = time.perf_counter() - started
    assert result.returncode != 0
    assert "ValueError: boom from rank 2: the data file is corrupt" in result.stderr, result.stderr
    assert "[rank 2/3]" in result.stderr
    assert "unreachable" not in result.stdout
    assert elapsed < 20, f"the job took {elapsed:.1f} s to end after a rank failed"


def test_chainrule_train_nproc(mpiexec, tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "chainrule.cli", "train", "--nproc", "2", "--epochs", "1", "--model", "mlp",
           "--quiet", "--out", str(out)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    # only rank 0 reports
    assert result.stdout.count("held-out test accuracy") == 1, result.stdout
    assert "2 processes" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["world_size"] == 2
    assert metrics["distributed"]["global_batch_size"] == 2 * metrics["args"]["batch_size"]
    assert metrics["test_acc"] > 0.5      # it learned (chance is 0.1)
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "model.safetensors", "training.png"]


def test_plain_mpiexec_chainrule_train(mpiexec, tmp_path):
    out = tmp_path / "run"
    args = ["-m", "chainrule.cli", "train", "--epochs", "1", "--model", "mlp", "--quiet", "--out", str(out)]
    result = run_mpi(mpiexec, 2, args, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("held-out test accuracy") == 1, result.stdout
    assert json.loads((out / "metrics.json").read_text())["world_size"] == 2


# ---------------------------------------------------------------------------- single process

def test_without_a_process_group_errors_name_the_call():
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match="get_world_size: Default process group has not been initialized"):
        dist.get_world_size()
    with pytest.raises(ValueError, match="all_reduce: Default process group"):
        dist.all_reduce(cr.ones(2))
    from chainrule.nn.parallel import DistributedDataParallel
    with pytest.raises(ValueError, match="DistributedDataParallel: Default process group"):
        DistributedDataParallel(cr.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="backend='nccl' is not available"):
        dist.init_process_group("nccl")


def test_mpi4py_is_optional():
    # importing everything imports no MPI; without mpi4py the messages say how to install it
    code = """if True:
        import sys
        import chainrule, chainrule.distributed, chainrule.nn.parallel, chainrule.data.distributed
        assert "mpi4py" not in sys.modules, "importing chainrule must not import mpi4py"
        sys.modules["mpi4py"] = None          # as if it were not installed
        import chainrule.distributed as dist
        assert not dist.is_available()
        try:
            dist.init_process_group("mpi")
        except RuntimeError as e:
            assert 'pip install "chainrule[mpi]"' in str(e), e
            print("ok")
    """
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_launcher_environment():
    assert launch.launched_world_size({}) is None
    assert launch.launched_world_size({"PMI_SIZE": "3", "PMI_RANK": "1"}) == 3
    assert launch.launched_rank({"PMI_SIZE": "3", "PMI_RANK": "1"}) == 1
    assert launch.launched_world_size({"OMPI_COMM_WORLD_SIZE": "4"}) == 4
    # a Slurm batch job without srun is not an MPI launch
    assert launch.launched_world_size({"SLURM_NTASKS": "4"}) is None
    assert launch.launched_world_size({"SLURM_NTASKS": "4", "SLURM_STEP_ID": "0"}) == 4
    with pytest.raises(ValueError, match="nproc must be a positive integer"):
        launch.mpiexec_command(0, ["x.py"])


@pytest.mark.parametrize("n", [0, 1, 2, 5, 7, 10, 11])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_matches_pytorch_without_shuffle(torch, n, replicas, drop_last):
    from torch.utils.data.distributed import DistributedSampler as TorchSampler
    for rank in range(replicas):
        ours = DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=False,
                                  drop_last=drop_last)
        theirs = TorchSampler(range(n), num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs) and ours.total_size == theirs.total_size


@pytest.mark.parametrize("n, replicas", [(10, 3), (3, 5), (12, 4)])
def test_sampler_shuffled_shards_are_disjoint_and_cover(n, replicas):
    def shards(epoch, drop_last=False):
        out = []
        for rank in range(replicas):
            s = DistributedSampler(range(n), num_replicas=replicas, rank=rank, seed=7, drop_last=drop_last)
            s.set_epoch(epoch)
            out.append(list(s))
        return out

    first = shards(0)
    assert len({len(s) for s in first}) == 1
    flat = [i for s in first for i in s]
    assert set(flat) == set(range(n))
    assert len(flat) - len(set(flat)) == (-n) % replicas      # exactly the padding repeats
    assert shards(0) == first                                 # the same order on every rank
    assert any(shards(epoch) != first for epoch in (1, 2, 3))  # a new one after set_epoch
    dropped = [i for s in shards(0, drop_last=True) for i in s]
    assert len(dropped) == len(set(dropped)) == n - n % replicas


def test_sampler_feeds_a_dataloader_and_checks_its_arguments():
    data = cr.data.TensorDataset(cr.arange(10))
    sampler = DistributedSampler(data, num_replicas=2, rank=1, shuffle=False)
    loader = cr.data.DataLoader(data, batch_size=2, sampler=sampler)
    assert [b[0].tolist() for b in loader] == [[1, 3], [5, 7], [9]]
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(data, num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="num_replicas should be a positive integer"):
        DistributedSampler(data, num_replicas=0, rank=0)

"""``chainrule train`` finished: ``python -m chainrule``, the decision-boundary picture, an unwritable --out,
atomic files, Ctrl-C, a batch larger than the data set; and ``chainrule examples`` from a wheel install."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _run(*args: str, cwd=None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "chainrule", *args], capture_output=True, text=True,
                          env=env or ENV, cwd=cwd, timeout=300, check=False)


def test_python_m_chainrule_trains_a_point_set_and_draws_its_boundary(tmp_path):
    proc = _run("train", "--dataset", "circles", "--epochs", "3", "--quiet", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "decision_boundary.png" in proc.stdout
    png = (tmp_path / "decision_boundary.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["files"]["boundary"].endswith("decision_boundary.png") and "interrupted" not in metrics
    # atomic writes leave no temporary files behind, and the files get ordinary permissions
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decision_boundary.png", "metrics.json",
                                                         "model.safetensors", "training.png"]
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "metrics.json").stat().st_mode & 0o777 == 0o666 & ~mask


def test_image_runs_write_no_boundary(tmp_path):
    from chainrule import cli
    assert cli.main(["train", "--dataset", "digits", "--model", "mlp", "--epochs", "1", "--quiet",
                     "--out", str(tmp_path)]) == 0
    assert not (tmp_path / "decision_boundary.png").exists()


def test_unwritable_out_fails_before_training(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    started = time.perf_counter()
    proc = _run("train", "--out", str(blocker / "runs"))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"--out {blocker / 'runs'}: cannot write files there" in proc.stderr
    assert "epoch 1" not in proc.stderr and time.perf_counter() - started < 60  # no training happened


def test_batch_size_larger_than_the_data_set_is_an_error(tmp_path, capsys):
    from chainrule import cli
    assert cli.main(["train", "--dataset", "xor", "--batch-size", "5000", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "--batch-size 5000 is larger than the 800 training samples of xor; use --batch-size 800" in err
    assert not (tmp_path / "metrics.json").exists()


def _interrupt_when(proc: subprocess.Popen, marker: bytes, timeout: float = 120) -> bytes:
    """Read the progress bars on stderr until ``marker`` shows, then press Ctrl-C (SIGINT)."""
    seen = b""
    deadline = time.monotonic() + timeout
    os.set_blocking(proc.stderr.fileno(), False)
    while marker not in seen:
        assert time.monotonic() < deadline and proc.poll() is None, seen[-500:]
        chunk = proc.stderr.read()
        seen += chunk or b""
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    os.set_blocking(proc.stderr.fileno(), True)
    return seen


def test_ctrl_c_saves_the_last_finished_epoch_and_exits_130(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "chainrule", "train", "--dataset", "circles", "--epochs", "500",
                             "--batch-size", "8", "--out", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    _interrupt_when(proc, b"epoch 3/500")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    err = err.decode()
    assert "Traceback" not in err and "interrupted (Ctrl-C) after epoch" in err
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    done = metrics["interrupted"]["finished_epochs"]
    assert metrics["interrupted"]["of"] == 500 and 2 <= done < 500
    assert len(metrics["epochs"]) == done and f"after epoch {done} of 500" in err
    assert metrics["test_acc"] == metrics["epochs"][-1]["test_acc"]
    for name in ("model.safetensors", "training.png", "decision_boundary.png"):
        assert (tmp_path / name).stat().st_size > 0
    # the saved model is the one of the last finished epoch: it reproduces that epoch's test accuracy
    import chainrule as cr
    from chainrule.data import DataLoader
    from chainrule.train import build_model, evaluate, load_data
    model = build_model("mlp", (2,), 2)
    model.load_state_dict(cr.load(str(tmp_path / "model.safetensors")))
    _, acc = evaluate(model, DataLoader(load_data("circles")[1], batch_size=512))
    assert acc == metrics["epochs"][-1]["test_acc"]


def test_ctrl_c_in_the_first_epoch_saves_nothing(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "chainrule", "train", "--model", "mlp", "--batch-size", "1",
                             "--epochs", "1", "--out", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    _interrupt_when(proc, b"epoch 1/1:")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert "before the first epoch finished: nothing was saved" in err.decode()
    assert not (tmp_path / "metrics.json").exists()


def test_examples_from_a_wheel_install(tmp_path):
    # Build a wheel, install it (without dependencies) into a fresh environment that sees this one's
    # packages, and run `chainrule examples` from a folder that is not the repository.
    wheels = tmp_path / "wheels"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w",
                            str(wheels), str(ROOT)], capture_output=True, text=True, timeout=300, check=False)
    assert build.returncode == 0, build.stderr[-2000:]
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=False)
    python = env_dir / "bin" / "python"
    wheel = next(wheels.glob("chainrule-*.whl"))
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                              "--no-index", "--ignore-installed", str(wheel)], capture_output=True, text=True, timeout=300, check=False)
    assert install.returncode == 0, install.stderr[-2000:]
    env = {k: v for k, v in ENV.items() if k != "PYTHONPATH"}
    listing = subprocess.run([str(python), "-m", "chainrule", "examples"], capture_output=True, text=True,
                             cwd=tmp_path, env=env, timeout=120, check=False)
    assert listing.returncode == 0, listing.stderr
    assert "seed004_xor_graph_circle_twolayer" in listing.stdout and str(env_dir) in listing.stdout
    assert ".ipynb" in listing.stdout
    found = subprocess.run([str(python), "-c", "import chainrule; print(chainrule.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60, check=False)
    assert str(env_dir) in found.stdout  # the wheel's copy ran, not the source checkout


def test_ctrl_c_between_batches_keeps_the_epoch_being_evaluated(tmp_path, monkeypatch):
    """Ctrl-C while an epoch is evaluated (outside any batch) finishes that epoch and saves it, instead of
    escaping as a KeyboardInterrupt that loses everything (a race the subprocess test above could hit)."""
    import chainrule.train as train_module
    real_evaluate, calls = train_module.evaluate, []

    def evaluate_then_ctrl_c(model, loader):
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGINT)     # delivered to the handler before evaluate returns
        return real_evaluate(model, loader)

    monkeypatch.setattr(train_module, "evaluate", evaluate_then_ctrl_c)
    metrics = train_module.train(dataset="circles", epochs=50, batch_size=64, out=str(tmp_path), progress=False)
    assert metrics["interrupted"] == {"finished_epochs": 2, "of": 50}
    assert len(metrics["epochs"]) == 2 and (tmp_path / "model.safetensors").exists()

"""The training job behind ``chainrule train``, as a library function.

:func:`train` builds a dataset and a model, fits it with mini-batch gradient descent, measures
held-out accuracy after every epoch and writes three files into ``config.out``:
``model.safetensors`` (the state dict, loadable by chainrule and by PyTorch), ``metrics.json``
(per-epoch loss and accuracy, the configuration, timing) and ``training.png`` (the curves); for the
2-D point sets (xor, circles) also ``decision_boundary.png``. Every file is written atomically (a
temporary file, then a rename), after checking that ``config.out`` is writable before training starts.
Ctrl-C stops after the current batch and saves the last finished epoch (``TrainingInterrupted`` if
none had finished).

Each step is the loop every PyTorch tutorial writes — forward, loss, ``zero_grad``,
``backward`` (the chain rule on the graph just recorded), ``step``.
"""

from __future__ import annotations

import json
import math
import os
import platform
import signal
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm.auto import tqdm  # a widget in Jupyter, a text bar in a terminal

import chainrule as cr
from chainrule import distributed as dist
from chainrule import nn, optim
from chainrule.autograd.grad_mode import no_grad
from chainrule.backend import Generator, default_generator, set_num_threads, xp
from chainrule.backend.files import write_atomically
from chainrule.data import DataLoader, TensorDataset, datasets
from chainrule.data.distributed import DistributedSampler
from chainrule.nn.parallel import DistributedDataParallel
from chainrule.plot.boundary import decision_boundary
from chainrule.plot.training import training_curves
from chainrule.serialization import save

__all__ = ["DATASETS", "MODELS", "OPTIMIZERS", "TrainConfig", "TrainingInterrupted", "build_model",
           "check_writable", "evaluate", "load_data", "train"]

DATASETS = ("digits", "mnist", "xor", "circles")
MODELS = ("mlp", "cnn")
OPTIMIZERS = ("sgd", "adam")
SCHEDULES = ("cosine", "none")
_IMAGE_SETS = ("digits", "mnist")


@dataclass
class TrainConfig:
    """Settings of one training run; the defaults are ``chainrule train``'s (a CNN on the digits).

    ``model=None`` picks ``cnn`` for image datasets and ``mlp`` for the 2-D point sets.
    """

    dataset: str = "digits"
    model: str | None = None
    epochs: int = 10
    lr: float = 3e-3
    batch_size: int = 32
    optimizer: str = "adam"
    schedule: str = "cosine"
    seed: int = 0
    out: str = "runs"
    data_dir: str | None = None
    download: bool = False
    threads: int = 1
    compile: bool = True    # replay each recorded step with chainrule.compile (bit-identical to eager)

    def checked(self) -> TrainConfig:
        """Return a copy with ``model`` resolved; raise ValueError naming the first bad setting."""
        def bad(name, value, expected):
            raise ValueError(f"--{name.replace('_', '-')} must be {expected}, got {value!r}")
        if self.dataset not in DATASETS:
            bad("dataset", self.dataset, "one of " + ", ".join(DATASETS))
        model = self.model or ("cnn" if self.dataset in _IMAGE_SETS else "mlp")
        if model not in MODELS:
            bad("model", model, "one of " + ", ".join(MODELS))
        if model == "cnn" and self.dataset not in _IMAGE_SETS:
            raise ValueError(f"--model cnn needs images, but the {self.dataset} dataset holds 2-D points; "
                             "use --model mlp")
        if self.optimizer not in OPTIMIZERS:
            bad("optimizer", self.optimizer, "one of " + ", ".join(OPTIMIZERS))
        if self.schedule not in SCHEDULES:
            bad("schedule", self.schedule, "one of " + ", ".join(SCHEDULES))
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or self.epochs < 1:
            bad("epochs", self.epochs, "a positive integer")
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size < 1:
            bad("batch_size", self.batch_size, "a positive integer")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            bad("lr", self.lr, "a finite number > 0")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            bad("seed", self.seed, "an integer >= 0")
        if isinstance(self.threads, bool) or not isinstance(self.threads, int) or self.threads < 1:
            bad("threads", self.threads, "a positive integer")
        return TrainConfig(**{**asdict(self), "model": model})


# ------------------------------------------------------------------------------------- pieces

def load_data(name: str, data_dir: str | None = None, download: bool = False
              ) -> tuple[TensorDataset, TensorDataset]:
    """``(train, test)`` datasets for ``name``: a fixed held-out split, never seen in training.

    >>> train, test = load_data("digits")
    >>> len(train), len(test)
    (1438, 359)
    """
    if name == "digits":
        return datasets.digits(train=True), datasets.digits(train=False)
    if name == "mnist":
        return (datasets.mnist(data_dir, train=True, download=download),
                datasets.mnist(data_dir, train=False, download=download))
    # Point sets: train and test are independent draws (different seeds) of the same distribution.
    if name == "xor":
        return datasets.xor(800, noise=0.2, seed=0), datasets.xor(400, noise=0.2, seed=1)
    if name == "circles":
        return datasets.circles(800, noise=0.1, seed=0), datasets.circles(400, noise=0.1, seed=1)
    raise ValueError(f"load_data: unknown dataset {name!r}; expected one of {', '.join(DATASETS)}")


def build_model(kind: str, sample_shape: tuple[int, ...], n_classes: int) -> nn.Module:
    """The ``mlp`` or ``cnn`` of ``chainrule train`` for inputs of ``sample_shape`` (without batch dim).

    >>> build_model("cnn", (1, 8, 8), 10)[0]
    Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    """
    if kind == "mlp":
        width = 128 if len(sample_shape) == 3 else 32
        n_in = math.prod(sample_shape)
        hidden = [nn.Linear(n_in, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU()] if n_in <= 2 else \
            [nn.Linear(n_in, width), nn.ReLU()]
        return nn.Sequential(nn.Flatten(), *hidden, nn.Linear(width, n_classes))
    if kind == "cnn":
        if len(sample_shape) != 3:
            raise ValueError(f"build_model: cnn needs (channels, height, width) samples, got {sample_shape}")
        c, h, w = sample_shape
        layers: list[nn.Module] = [nn.Conv2d(c, 16, 3, padding=1), nn.ReLU()]
        if min(h, w) >= 16:  # large images (MNIST): halve them early, convolutions dominate the cost
            layers.append(nn.MaxPool2d(2))
            h, w = h // 2, w // 2
        layers += [nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                   nn.Linear(32 * (h // 2) * (w // 2), 64), nn.ReLU(), nn.Linear(64, n_classes)]
        return nn.Sequential(*layers)
    raise ValueError(f"build_model: unknown model {kind!r}; expected one of {', '.join(MODELS)}")


def evaluate(model: nn.Module, loader: DataLoader) -> tuple[float, float]:
    """Mean cross-entropy loss and accuracy (a fraction) of ``model`` over ``loader``.

    >>> import chainrule as cr
    >>> loss, acc = evaluate(build_model("mlp", (2,), 2), DataLoader(datasets.xor(), batch_size=4))
    >>> 0.0 <= acc <= 1.0
    True
    """
    was_training = model.training
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    with no_grad():
        for x, y in loader:
            logits = model(x)
            total_loss += loss_fn(logits, y).item()
            correct += int((logits._data.argmax(axis=1) == y._data).sum())
            count += len(y)
    model.train(was_training)
    return total_loss / count, correct / count


def _optimizer(cfg: TrainConfig, model: nn.Module) -> optim.Optimizer:
    if cfg.optimizer == "adam":
        return optim.Adam(model.parameters(), lr=cfg.lr)
    return optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9)


# ------------------------------------------------------------------------------ files, Ctrl-C

def check_writable(folder: str | os.PathLike) -> Path:
    """Create ``folder`` if needed and prove that a file can be written there, so a bad ``--out`` fails
    before any training time is spent. Raises OSError naming the folder.

    >>> check_writable(tempfile.mkdtemp()).is_dir()
    True
    """
    out = Path(folder)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as e:
        raise OSError(f"--out {folder}: cannot write files there ({e.strerror or e}); choose another "
                      f"folder") from None
    return out


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C before the first epoch finished: there was nothing to save."""


def _batches(loader, stop):
    """The loader's batches, until a Ctrl-C asks to stop (see _StopAfterBatch)."""
    for batch in loader:
        yield batch
        if stop.requested:
            return


class _StopAfterBatch:
    """While active, the first Ctrl-C (SIGINT) only sets ``requested``: the loop finishes its batch and
    stops. A second Ctrl-C interrupts at once. Outside the main thread signals cannot be caught, so
    nothing changes there."""

    def __init__(self):
        self.requested = False
        self._installed = False
        self._previous = signal.default_int_handler

    def _handler(self, signum, frame):
        self.requested = True
        signal.signal(signal.SIGINT, self._previous)  # a second Ctrl-C is an ordinary KeyboardInterrupt

    def __enter__(self):
        self._installed = False
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.getsignal(signal.SIGINT) or signal.default_int_handler
            signal.signal(signal.SIGINT, self._handler)
            self._installed = True
        return self

    def __exit__(self, *exc):
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
        return False


# ------------------------------------------------------------------------------ data-parallel

def process_group() -> tuple[int, int] | None:
    """``(rank, world_size)`` when this process is one of several an MPI launcher started
    (``mpiexec -n 4 chainrule train``, or ``--nproc 4``), joining the group if needed; else None.

    >>> process_group() is None   # a plain single-process run
    True
    """
    if dist.is_initialized():
        return (dist.get_rank(), dist.get_world_size()) if dist.get_world_size() > 1 else None
    size = dist.launched_world_size()
    if size is None or size < 2:
        return None
    dist.init_process_group("mpi")
    return dist.get_rank(), dist.get_world_size()


def _data_parallel(cfg: TrainConfig, model: nn.Module, train_set, world: tuple[int, int]):
    """The DDP-wrapped model, this rank's loader (``cfg.batch_size`` per process) and its sampler."""
    rank, size = world
    sampler = DistributedSampler(train_set, num_replicas=size, rank=rank, shuffle=True, seed=cfg.seed)
    loader = DataLoader(train_set, batch_size=cfg.batch_size, sampler=sampler)
    return DistributedDataParallel(model), loader, sampler


def _summed_over_ranks(world: tuple[int, int] | None, *values: float) -> tuple[float, ...]:
    """Each number summed over all ranks (an epoch's loss total, correct and seen counts)."""
    if world is None:
        return values
    totals = cr.tensor(list(values), dtype=cr.float64)
    dist.all_reduce(totals)
    return tuple(totals.tolist())


class _StopTogether(_StopAfterBatch):
    """Ctrl-C under mpiexec reaches every rank, each at a slightly different moment. A rank that
    stopped alone would leave the others waiting in their next all-reduce, so the ranks agree once per
    step (:meth:`agree`, an all-reduce of the flag) and ``requested`` is the agreed value."""

    def __init__(self):
        self._agreed = False
        super().__init__()

    @property
    def requested(self) -> bool:
        return self._agreed

    @requested.setter
    def requested(self, value: bool) -> None:   # the signal handler sets this rank's own flag
        self._local = bool(value)

    def agree(self) -> None:
        flag = cr.tensor([1.0 if self._local else 0.0])
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        self._agreed = flag.item() > 0


# ---------------------------------------------------------------------------------------- job

def train(config: TrainConfig | None = None, progress: bool = True, **overrides) -> dict:
    """Run the training job and write its files; returns the metrics (also in ``metrics.json``).

    ``progress=False`` hides the tqdm bars (they go to stderr). Keyword ``overrides`` replace
    fields of ``config``. Like ``torch.manual_seed`` at the top of a training script, it seeds the
    global generator with ``config.seed`` (weight initialisation must be reproducible). Raises ValueError for bad
    settings, OSError for an unwritable ``config.out``, FileNotFoundError/RuntimeError when a dataset cannot be
    loaded, and TrainingInterrupted for a Ctrl-C before the first epoch finished. After a later Ctrl-C the
    metrics of the last finished epoch are saved and returned, with ``metrics["interrupted"]`` set.

    >>> metrics = train(epochs=1, out="/tmp/cr-run", progress=False)  # doctest: +SKIP
    >>> metrics["test_acc"] > 0.9  # doctest: +SKIP
    True
    """
    cfg = TrainConfig(**{**asdict(config or TrainConfig()), **overrides}).checked()
    set_num_threads(cfg.threads)  # the matrices are small: extra BLAS threads mostly wait for each other
    started = time.perf_counter()
    out = check_writable(cfg.out)
    world = process_group()             # (rank, size) under mpiexec, else None
    rank = 0 if world is None else world[0]
    train_set, test_set = load_data(cfg.dataset, cfg.data_dir, cfg.download)
    _check_batch_size(cfg, len(train_set))
    x_train, y_train = train_set.tensors
    n_classes = int(y_train._data.max()) + 1
    sample_shape = tuple(x_train.shape[1:])

    default_generator.manual_seed(cfg.seed)  # weight initialisation
    model = build_model(cfg.model, sample_shape, n_classes)
    optimizer = _optimizer(cfg, model)
    train_loader = DataLoader(train_set, batch_size=cfg.batch_size, shuffle=True, generator=Generator(cfg.seed))
    net, sampler = model, None          # what the loop calls: the model, or its DDP wrapper
    if world is not None:
        net, train_loader, sampler = _data_parallel(cfg, model, train_set, world)
    test_loader = DataLoader(test_set, batch_size=512)
    # Cosine annealing per step: large steps early, fine ones at the end; it makes the final
    # accuracy far less sensitive to the seed than a constant learning rate.
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs * len(train_loader)) \
        if cfg.schedule == "cosine" else None
    loss_fn = nn.CrossEntropyLoss()

    def train_step(x, y):
        logits = net(x)
        loss = loss_fn(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        return loss, logits
    # Recorded once, then replayed: the same ops and numbers, without rebuilding the graph each step.
    # Steps that cannot be replayed exactly (dropout, data-parallel hooks) run eagerly by themselves.
    step = cr.compile(train_step) if cfg.compile else train_step

    epochs, batch_loss = [], []
    train_seconds = eval_seconds = 0.0
    finished_state = None  # the weights at the end of the last finished epoch (what Ctrl-C saves)
    stop = _StopAfterBatch() if world is None else _StopTogether()
    with stop:   # from here a Ctrl-C means: finish this batch (or evaluation), keep the last whole epoch
        for epoch in range(1, cfg.epochs + 1):
            model.train()
            if sampler is not None:
                sampler.set_epoch(epoch)    # a new shuffle each epoch, the same on every rank
            lr = optimizer.param_groups[0]["lr"]
            loss_sum, correct, seen = 0.0, 0, 0
            t0 = time.perf_counter()
            bar = tqdm(_batches(train_loader, stop), total=len(train_loader), desc=f"epoch {epoch}/{cfg.epochs}",
                       unit="batch", file=sys.stderr, disable=not progress or rank != 0, leave=True,
                       dynamic_ncols=True)
            for x, y in bar:
                loss, logits = step(x, y)
                value = loss.item()
                batch_loss.append(value)
                loss_sum += value * len(y)
                correct += int((logits._data.argmax(axis=1) == y._data).sum())
                seen += len(y)
                bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.2%}", refresh=False)
                if world is not None:
                    stop.agree()
            bar.close()
            loss_sum, correct, seen = _summed_over_ranks(world, loss_sum, correct, seen)
            if stop.requested and seen < len(train_set):  # Ctrl-C: this epoch did not finish; keep the last one
                break
            t1 = time.perf_counter()
            test_loss, test_acc = evaluate(model, test_loader)
            eval_seconds += time.perf_counter() - t1
            train_seconds += t1 - t0
            epochs.append({"epoch": epoch, "lr": lr, "train_loss": loss_sum / seen, "train_acc": correct / seen,
                           "test_loss": test_loss, "test_acc": test_acc, "seconds": t1 - t0})
            if not math.isfinite(loss_sum):
                raise RuntimeError(f"train: the loss became {loss_sum / seen} in epoch {epoch}; the learning rate "
                                   f"--lr {cfg.lr} is probably too high for --optimizer {cfg.optimizer}")
            finished_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            if stop.requested:
                break
    if stop.requested and not epochs:
        raise TrainingInterrupted("interrupted (Ctrl-C) before the first epoch finished: nothing was saved")
    model.load_state_dict(finished_state)
    if rank != 0:                       # only rank 0 writes files; the other ranks hold the same model
        return {"world_size": world[1], "rank": rank, "epochs": epochs, "test_acc": epochs[-1]["test_acc"],
                "test_loss": epochs[-1]["test_loss"], "interrupted": stop.requested}

    files = {"model": out / "model.safetensors", "metrics": out / "metrics.json", "plot": out / "training.png"}
    if cfg.dataset not in _IMAGE_SETS:
        files["boundary"] = out / "decision_boundary.png"
    final = epochs[-1]
    write_atomically(files["model"], lambda f: save(model.state_dict(), f, metadata={
        "chainrule.config": json.dumps(asdict(cfg)), "test_acc": f"{final['test_acc']:.6f}"}))
    history = {k: [e[k] for e in epochs] for k in ("train_loss", "test_loss", "train_acc", "test_acc")}
    curves = training_curves({**history, "batch_loss": batch_loss},
                             title=f"{cfg.dataset} · {cfg.model} · held-out accuracy {final['test_acc']:.2%}")
    write_atomically(files["plot"], lambda f: curves.savefig(f, format="png", dpi=100))
    if "boundary" in files:
        _write_boundary(model, test_set, files["boundary"], f"{cfg.dataset}: the model's decision boundary "
                                                             f"over the held-out points")
    metrics = {
        "args": asdict(cfg),
        "data": {"name": cfg.dataset, "train_size": len(train_set), "test_size": len(test_set),
                 "sample_shape": list(sample_shape), "classes": n_classes},
        "model": {"kind": cfg.model, "parameters": sum(p.numel() for p in model.parameters()),
                  "architecture": repr(model)},
        "epochs": epochs,
        "test_acc": final["test_acc"],
        "test_loss": final["test_loss"],
        "test_correct": round(final["test_acc"] * len(test_set)),
        "timing": {"train_seconds": train_seconds, "eval_seconds": eval_seconds,
                   "seconds_per_epoch": train_seconds / cfg.epochs,
                   "train_samples_per_second": cfg.epochs * len(train_set) / train_seconds,
                   "total_seconds": time.perf_counter() - started},
        "versions": {"python": platform.python_version(), "numpy": xp.__version__},
        "files": {k: str(p) for k, p in files.items()},
        "world_size": 1 if world is None else world[1],
        "compiled": {"replayed_steps": step.replays, "eager_reason": step.fallback_reason}
        if cfg.compile else None,
        "distributed": None if world is None else {
            "backend": "mpi", "world_size": world[1], "per_process_batch_size": cfg.batch_size,
            "global_batch_size": world[1] * cfg.batch_size},
    }
    if stop.requested:
        metrics["interrupted"] = {"finished_epochs": len(epochs), "of": cfg.epochs}
    text = json.dumps(metrics, indent=2) + "\n"
    write_atomically(files["metrics"], lambda f: f.write(text.encode("utf-8")))
    return metrics


def _check_batch_size(cfg: TrainConfig, n_train: int) -> None:
    if cfg.batch_size > n_train:
        raise ValueError(f"--batch-size {cfg.batch_size} is larger than the {n_train} training samples of "
                         f"{cfg.dataset}; use --batch-size {n_train} (one full batch per epoch) or less")


def _write_boundary(model: nn.Module, data: TensorDataset, path: Path, title: str) -> None:
    """decision_boundary.png for a 2-D point set: P(class 1) over the plane, the held-out points on top."""
    X, y = data.tensors
    model.eval()
    fig = decision_boundary(lambda p: model(p).softmax(dim=1)[:, 1], X, y, title=title)
    write_atomically(path, lambda f: fig.savefig(f, format="png", dpi=100, bbox_inches="tight"))

"""The training job behind ``chainrule train``, as a library function.

:func:`train` builds a dataset and a model, fits it with mini-batch gradient descent, measures
held-out accuracy after every epoch and writes three files into ``config.out``:
``model.safetensors`` (the state dict, loadable by chainrule and by PyTorch), ``metrics.json``
(per-epoch loss and accuracy, the configuration, timing) and ``training.png`` (the curves).

Each step is the loop every PyTorch tutorial writes — forward, loss, ``zero_grad``,
``backward`` (the chain rule on the graph just recorded), ``step``.
"""

from __future__ import annotations

import json
import math
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm import tqdm

from chainrule import nn, optim
from chainrule.autograd.grad_mode import no_grad
from chainrule.backend import Generator, default_generator, set_num_threads, xp
from chainrule.data import DataLoader, TensorDataset, datasets
from chainrule.plot.training import training_curves
from chainrule.serialization import save

__all__ = ["DATASETS", "MODELS", "OPTIMIZERS", "TrainConfig", "build_model", "evaluate", "load_data", "train"]

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


# ---------------------------------------------------------------------------------------- job

def train(config: TrainConfig | None = None, progress: bool = True, **overrides) -> dict:
    """Run the training job and write its files; returns the metrics (also in ``metrics.json``).

    ``progress=False`` hides the tqdm bars (they go to stderr). Keyword ``overrides`` replace
    fields of ``config``. Like ``torch.manual_seed`` at the top of a training script, it seeds the
    global generator with ``config.seed`` (weight initialisation must be reproducible). Raises ValueError for bad settings and FileNotFoundError/RuntimeError
    when a dataset cannot be loaded.

    >>> metrics = train(epochs=1, out="/tmp/cr-run", progress=False)  # doctest: +SKIP
    >>> metrics["test_acc"] > 0.9  # doctest: +SKIP
    True
    """
    cfg = TrainConfig(**{**asdict(config or TrainConfig()), **overrides}).checked()
    set_num_threads(cfg.threads)  # the matrices are small: extra BLAS threads mostly wait for each other
    started = time.perf_counter()
    train_set, test_set = load_data(cfg.dataset, cfg.data_dir, cfg.download)
    x_train, y_train = train_set.tensors
    n_classes = int(y_train._data.max()) + 1
    sample_shape = tuple(x_train.shape[1:])

    default_generator.manual_seed(cfg.seed)  # weight initialisation
    model = build_model(cfg.model, sample_shape, n_classes)
    optimizer = _optimizer(cfg, model)
    train_loader = DataLoader(train_set, batch_size=cfg.batch_size, shuffle=True, generator=Generator(cfg.seed))
    test_loader = DataLoader(test_set, batch_size=512)
    # Cosine annealing per step: large steps early, fine ones at the end; it makes the final
    # accuracy far less sensitive to the seed than a constant learning rate.
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs * len(train_loader)) \
        if cfg.schedule == "cosine" else None
    loss_fn = nn.CrossEntropyLoss()

    epochs, batch_loss = [], []
    train_seconds = eval_seconds = 0.0
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        lr = optimizer.param_groups[0]["lr"]
        loss_sum, correct, seen = 0.0, 0, 0
        t0 = time.perf_counter()
        bar = tqdm(train_loader, desc=f"epoch {epoch}/{cfg.epochs}", unit="batch", file=sys.stderr,
                   disable=not progress, leave=True, dynamic_ncols=True)
        for x, y in bar:
            logits = model(x)
            loss = loss_fn(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            value = loss.item()
            batch_loss.append(value)
            loss_sum += value * len(y)
            correct += int((logits._data.argmax(axis=1) == y._data).sum())
            seen += len(y)
            bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.2%}", refresh=False)
        bar.close()
        t1 = time.perf_counter()
        test_loss, test_acc = evaluate(model, test_loader)
        eval_seconds += time.perf_counter() - t1
        train_seconds += t1 - t0
        epochs.append({"epoch": epoch, "lr": lr, "train_loss": loss_sum / seen, "train_acc": correct / seen,
                       "test_loss": test_loss, "test_acc": test_acc, "seconds": t1 - t0})
        if not math.isfinite(loss_sum):
            raise RuntimeError(f"train: the loss became {loss_sum / seen} in epoch {epoch}; the learning rate "
                               f"--lr {cfg.lr} is probably too high for --optimizer {cfg.optimizer}")

    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    files = {"model": out / "model.safetensors", "metrics": out / "metrics.json", "plot": out / "training.png"}
    final = epochs[-1]
    save(model.state_dict(), files["model"],
         metadata={"chainrule.config": json.dumps(asdict(cfg)), "test_acc": f"{final['test_acc']:.6f}"})
    history = {k: [e[k] for e in epochs] for k in ("train_loss", "test_loss", "train_acc", "test_acc")}
    training_curves({**history, "batch_loss": batch_loss}, files["plot"],
                    title=f"{cfg.dataset} · {cfg.model} · held-out accuracy {final['test_acc']:.2%}")
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
    }
    files["metrics"].write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics

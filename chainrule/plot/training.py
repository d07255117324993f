"""Training curves: loss and accuracy per epoch, the picture ``chainrule train`` writes."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

# A Figure built directly (no pyplot): no global state, no GUI window, works headless; savefig
# renders through matplotlib's Agg canvas.
from .figure import Figure  # a matplotlib Figure that shows itself in Jupyter

__all__ = ["training_curves"]


def _columns(history) -> dict[str, list[float]]:
    """Accept {"train_loss": [...], ...} or a list of per-epoch dicts [{"train_loss": ..}, ...]."""
    if isinstance(history, Mapping):
        return {k: list(v) for k, v in history.items() if isinstance(v, Sequence) and not isinstance(v, str)}
    if isinstance(history, Sequence) and all(isinstance(row, Mapping) for row in history):
        keys = [k for k in (history[0] if history else {}) if k != "epoch"]
        return {k: [row.get(k) for row in history] for k in keys}
    raise TypeError(f"training_curves: history must be a dict of per-epoch lists or a list of per-epoch dicts, "
                    f"got {type(history).__name__}")


def training_curves(history, path: str | os.PathLike | None = None, title: str | None = None) -> Figure:
    """Plot loss (left) and accuracy (right) against the epoch; returns the Figure, saved to ``path`` if given.

    ``history`` maps names to per-epoch values — ``train_loss``, ``test_loss``, ``train_acc``,
    ``test_acc`` (accuracies as fractions in [0, 1]) — or is a list of per-epoch dicts with those
    keys. An optional ``batch_loss`` list (every mini-batch's loss, spread evenly over the epochs)
    is drawn faintly behind the epoch means.

    >>> fig = training_curves({"train_loss": [0.9, 0.4, 0.2], "train_acc": [0.7, 0.9, 0.95],
    ...                        "test_acc": [0.8, 0.9, 0.93]})
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['loss', 'accuracy (%)']
    """
    cols = _columns(history)
    n_epochs = max((len(v) for k, v in cols.items() if k != "batch_loss"), default=0)
    if n_epochs == 0:
        raise ValueError(f"training_curves: history holds no per-epoch values (keys: {sorted(cols)}); expected "
                         "lists such as train_loss, train_acc, test_acc")
    epochs = list(range(1, n_epochs + 1))
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)

    steps = cols.get("batch_loss") or []
    if steps:
        # Batch k of n lies at epoch (k + 1) / n * n_epochs, so it lines up with the epoch means.
        xs = [(k + 1) * n_epochs / len(steps) for k in range(len(steps))]
        ax_loss.plot(xs, steps, color="tab:blue", alpha=0.25, linewidth=0.8, label="train (per batch)")
    for key, label, color in (("train_loss", "train", "tab:blue"), ("test_loss", "test", "tab:orange")):
        if cols.get(key):
            ax_loss.plot(epochs[:len(cols[key])], cols[key], marker="o", color=color, label=label)
    for key, label, color in (("train_acc", "train", "tab:blue"), ("test_acc", "test", "tab:orange")):
        if cols.get(key):
            ax_acc.plot(epochs[:len(cols[key])], [100 * a for a in cols[key]], marker="o", color=color, label=label)

    ax_loss.set(xlabel="epoch", ylabel="loss", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    losses = [y for line in ax_loss.lines for y in line.get_ydata()]
    if losses and min(losses) > 0:
        ax_loss.set_yscale("log")  # losses fall over orders of magnitude; a log axis shows the late progress
    for ax in (ax_loss, ax_acc):
        ax.grid(True, alpha=0.3)
        if ax.lines:
            ax.legend()
        ax.xaxis.get_major_locator().set_params(integer=True)
    if title:
        fig.suptitle(title)
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig

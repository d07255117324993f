"""The decision boundary of a 2-D classifier, drawn over its data points."""

from __future__ import annotations

from ..autograd.grad_mode import no_grad
from ..backend import float32, xp
from ..tensor.creation import tensor
from .fields import _save

# Figures are built directly (no pyplot): no global state, no window, and saving uses the Agg canvas.
from .figure import Figure  # a matplotlib Figure that shows itself in Jupyter


def _as_array(a):
    return a.detach()._data if hasattr(a, "_data") else xp.asarray(a)


def _probability(out):
    """Model output -> P(class 1) for binary models, or the arg-max class for multi-class ones."""
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1).astype(xp.float64), out.shape[1]
    out = out.reshape(-1).astype(xp.float64)
    if out.min() < 0 or out.max() > 1:  # logits: squash with a stable sigmoid
        out = xp.where(out >= 0, 1 / (1 + xp.exp(-xp.abs(out))), xp.exp(-xp.abs(out)) / (1 + xp.exp(-xp.abs(out))))
    return out, 2


def decision_boundary(model, X, y, n: int = 200, margin: float = 0.5, path: str | None = None,
                      title: str | None = None):
    """Colour the plane by ``model``'s prediction and draw the data ``X`` (N, 2) coloured by label ``y``.

    ``model`` maps an (M, 2) Tensor to logits or probabilities of shape (M,), (M, 1) (binary: the
    boundary is drawn at probability 0.5) or (M, C) (C classes: regions of the arg-max class).
    Returns the Figure (also written to ``path`` if given).

    >>> import chainrule as cr, chainrule.plot
    >>> X = cr.tensor([[0., 0.], [1., 1.], [0., 1.], [1., 0.]]); y = cr.tensor([0., 0., 1., 1.])
    >>> fig = chainrule.plot.decision_boundary(lambda p: p[:, 0] - p[:, 1], X, y, n=20)
    >>> fig.axes[0].get_xlabel()
    'x₁'
    """
    Xa, ya = _as_array(X).astype(xp.float64), _as_array(y).reshape(-1)
    if Xa.ndim != 2 or Xa.shape[1] != 2:
        raise ValueError(f"decision_boundary: X must have shape (N, 2), got {tuple(Xa.shape)}")
    if ya.shape[0] != Xa.shape[0]:
        raise ValueError(f"decision_boundary: y has {ya.shape[0]} labels for {Xa.shape[0]} points")
    lo, hi = Xa.min(axis=0) - margin, Xa.max(axis=0) + margin
    gx, gy = xp.meshgrid(xp.linspace(lo[0], hi[0], n), xp.linspace(lo[1], hi[1], n))
    grid = xp.stack([gx.ravel(), gy.ravel()], axis=1)
    dtype = float32
    params = getattr(model, "parameters", None)
    if callable(params):
        first = next(iter(params()), None)
        dtype = first.dtype if first is not None else dtype
    with no_grad():
        out = _as_array(model(tensor(grid, dtype=dtype)))
    if out.shape[0] != grid.shape[0]:
        raise ValueError(f"decision_boundary: the model returned shape {tuple(out.shape)} for {grid.shape[0]} "
                         f"points; expected ({grid.shape[0]},), ({grid.shape[0]}, 1) or ({grid.shape[0]}, C)")
    Z, classes = _probability(out)
    Z = Z.reshape(gx.shape)
    fig = Figure(figsize=(6, 5))
    ax = fig.subplots()
    if classes == 2:
        cs = ax.contourf(gx, gy, Z, levels=xp.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
        fig.colorbar(cs, ax=ax, label="P(class 1)")
        ax.contour(gx, gy, Z, levels=[0.5], colors="black", linewidths=1.5)
    else:
        ax.contourf(gx, gy, Z, levels=xp.arange(classes + 1) - 0.5, cmap="tab10", alpha=0.4)
    ax.scatter(Xa[:, 0], Xa[:, 1], c=ya, cmap="RdBu_r" if classes == 2 else "tab10", edgecolors="black", s=30)
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    ax.set_title(title or "Decision boundary")
    return _save(fig, path)

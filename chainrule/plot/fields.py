"""Pictures of gradients: a gradient field over a 2-D function, and a gradient-descent path on a loss surface.

The gradients are computed by chainrule's autograd on the whole grid at once (one backward pass
for all points), so the arrows are exactly what ``backward()`` would give at each point.
"""

from __future__ import annotations

from ..autograd import grad as autograd_grad
from ..backend import float64, xp
from ..tensor.creation import tensor

# Figures are built directly (no pyplot): no global state, no window, and saving uses the Agg canvas.
from .figure import Figure  # a matplotlib Figure that shows itself in Jupyter


def _grid(xlim, ylim, n):
    xs = xp.linspace(xlim[0], xlim[1], n)
    ys = xp.linspace(ylim[0], ylim[1], n)
    return xp.meshgrid(xs, ys)


def _values_and_grads(f, X, Y):
    """f and ∇f on a grid: one graph for all points, one backward of the sum (points are independent)."""
    x, y = _leaf(X), _leaf(Y)
    z = f(x, y)
    if tuple(z.shape) != X.shape:
        raise ValueError(f"plot: f(x, y) must work elementwise and return the grid's shape {X.shape}, "
                         f"got {tuple(z.shape)}; write it with tensor ops (x ** 2 + y.sin(), ...)")
    gx, gy = autograd_grad(z.sum(), (x, y), materialize_grads=True)
    return z.detach()._data, gx._data, gy._data


def _leaf(a):
    return tensor(a, dtype=float64, requires_grad=True)


def _save(fig, path):
    if path is not None:
        fig.savefig(path, dpi=100, bbox_inches="tight")
    return fig


def gradient_field(f, xlim=(-2.0, 2.0), ylim=(-2.0, 2.0), n: int = 80, arrows: int = 20, path: str | None = None,
                   title: str | None = None):
    """Contour plot of ``f(x, y)`` with arrows of ∇f computed by chainrule's autograd.

    ``f`` takes two Tensors (a grid of x and of y) and returns a Tensor of the same shape.
    ``n``: contour grid points per axis; ``arrows``: arrows per axis. Returns the matplotlib Figure
    (also written to ``path`` if given).

    >>> import chainrule.plot
    >>> fig = chainrule.plot.gradient_field(lambda x, y: (x ** 2 + y ** 2).sin(), n=20, arrows=5)
    >>> fig.axes[0].get_title()
    'f(x, y) and its gradient ∇f (arrows point uphill)'
    """
    X, Y = _grid(xlim, ylim, n)
    Z, _, _ = _values_and_grads(f, X, Y)
    QX, QY = _grid(xlim, ylim, arrows)
    _, GX, GY = _values_and_grads(f, QX, QY)
    fig = Figure(figsize=(6, 5))
    ax = fig.subplots()
    cs = ax.contourf(X, Y, Z, levels=30, cmap="viridis")
    fig.colorbar(cs, ax=ax, label="f(x, y)")
    ax.quiver(QX, QY, GX, GY, color="white", angles="xy")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title or "f(x, y) and its gradient ∇f (arrows point uphill)")
    ax.set_aspect("equal")
    return _save(fig, path)


def descent_path(f, start, lr: float = 0.1, steps: int = 50, xlim=None, ylim=None, n: int = 80,
                 path: str | None = None, title: str | None = None):
    """Run plain gradient descent on ``f(x, y)`` from ``start`` and draw the path over f's contours.

    Each step is ``(x, y) ← (x, y) − lr·∇f``, with ∇f from chainrule's autograd. Returns the Figure;
    the visited points are in ``fig.path_points`` (a (steps+1, 2) array).

    >>> import chainrule.plot
    >>> fig = chainrule.plot.descent_path(lambda x, y: x ** 2 + 3 * y ** 2, start=(1.5, 1.0), steps=10)
    >>> fig.path_points.shape
    (11, 2)
    """
    p = xp.array(start, dtype=xp.float64).reshape(2)
    points = [p.copy()]
    for _ in range(steps):
        x, y = _leaf(p[0]), _leaf(p[1])
        gx, gy = autograd_grad(f(x, y), (x, y), materialize_grads=True)
        with xp.errstate(over="ignore", invalid="ignore"):  # divergence is reported just below
            p = p - lr * xp.array([gx.item(), gy.item()])
        if not xp.all(xp.isfinite(p)) or xp.abs(p).max() > 1e100:
            raise ValueError(f"descent_path: the iterate diverged to {p.tolist()} after {len(points)} steps; "
                             f"lower the learning rate (lr={lr})")
        points.append(p.copy())
    pts = xp.stack(points)
    pad = 0.25
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = xp.maximum(hi - lo, 1.0)
    xlim = xlim or (lo[0] - pad * span[0], hi[0] + pad * span[0])
    ylim = ylim or (lo[1] - pad * span[1], hi[1] + pad * span[1])
    X, Y = _grid(xlim, ylim, n)
    Z, _, _ = _values_and_grads(f, X, Y)
    fig = Figure(figsize=(6, 5))
    ax = fig.subplots()
    cs = ax.contour(X, Y, Z, levels=25, cmap="viridis")
    fig.colorbar(cs, ax=ax, label="loss")
    ax.plot(pts[:, 0], pts[:, 1], "o-", color="crimson", markersize=3, label=f"gradient descent, lr={lr}")
    ax.plot(pts[0, 0], pts[0, 1], "s", color="black", label="start")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title or f"Gradient descent: {steps} steps")
    ax.legend(loc="best")
    fig.path_points = pts
    return _save(fig, path)

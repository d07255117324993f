"""Plots: each writes a non-empty PNG of the expected size, with labelled axes, and returns the Figure."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.image import imread
from seed_reference import SEED002_POINTS, seed002_sin_gradient

import chainrule as cr
import chainrule.plot as crplot


def check_png(path, fig):
    img = imread(str(path))
    w, h = fig.get_size_inches() * 100  # saved at dpi=100 with a tight box: close to, at most, that size
    assert img.ndim == 3 and 0.5 * h < img.shape[0] <= h + 1 and 0.5 * w < img.shape[1] <= w + 1
    assert img[..., :3].std() > 0.05  # not a blank canvas


def test_gradient_field_of_seed002(tmp_path):
    path = tmp_path / "field.png"
    fig = crplot.gradient_field(lambda x, y: (x ** 2 + y ** 2).sin(), n=30, arrows=8, path=path)
    check_png(path, fig)
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "y")
    assert "gradient" in ax.get_title()
    q = ax.collections[-1]  # the quiver: arrows are chainrule's gradients at the grid points
    grid = np.linspace(-2, 2, 8)
    X, Y = np.meshgrid(grid, grid)
    np.testing.assert_allclose(q.U, 2 * X.ravel() * np.cos(X.ravel() ** 2 + Y.ravel() ** 2), atol=1e-12)
    ref = seed002_sin_gradient()
    from chainrule.plot.fields import _values_and_grads
    _, gx, gy = _values_and_grads(lambda x, y: (x ** 2 + y ** 2).sin(), SEED002_POINTS[:, :1], SEED002_POINTS[:, 1:])
    np.testing.assert_allclose(gx.ravel(), ref["dz_dx"], atol=1e-12)
    np.testing.assert_allclose(gy.ravel(), ref["dz_dy"], atol=1e-12)


def test_descent_path(tmp_path):
    path = tmp_path / "descent.png"
    fig = crplot.descent_path(lambda x, y: x ** 2 + 3 * y ** 2, start=(1.5, 1.0), lr=0.1, steps=15, path=path)
    check_png(path, fig)
    pts = fig.path_points
    assert pts.shape == (16, 2)
    np.testing.assert_allclose(pts[1], [1.5 - 0.1 * 3.0, 1.0 - 0.1 * 6.0])  # one step by hand
    assert fig.axes[0].get_title() == "Gradient descent: 15 steps"
    with pytest.raises(ValueError, match="diverged.*lower the learning rate"):
        crplot.descent_path(lambda x, y: x ** 2, start=(1.0, 0.0), lr=5.0, steps=400)


def test_decision_boundary_xor_and_circle(tmp_path):
    X = cr.tensor([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    y = cr.tensor([0.0, 0.0, 1.0, 1.0])

    def xor_net(p):  # the notes' fixed OR/NAND/AND sigmoid units
        h1 = (20 * p[:, 0] + 20 * p[:, 1] - 10).sigmoid()
        h2 = (-20 * p[:, 0] - 20 * p[:, 1] + 30).sigmoid()
        return (20 * h1 + 20 * h2 - 30).sigmoid()

    path = tmp_path / "xor.png"
    fig = crplot.decision_boundary(xor_net, X, y, n=60, path=path, title="XOR")
    check_png(path, fig)
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("x₁", "x₂", "XOR")

    def circle(p, w=(1.0, 0.5, -0.5)):  # seed 004: z = (x1-w1)² + (x2-w2)² - w0², logits
        return (p[:, 0] - w[1]) ** 2 + (p[:, 1] - w[2]) ** 2 - w[0] ** 2

    pts = cr.tensor([[2.0, 0.0], [0.5, -0.5], [0.0, 0.0], [-1.5, 1.0], [1.0, -1.0]])
    fig = crplot.decision_boundary(circle, pts, cr.tensor([1.0, 0.0, 0.0, 1.0, 0.0]), n=60,
                                   path=tmp_path / "circle.png")
    check_png(tmp_path / "circle.png", fig)
    with pytest.raises(ValueError, match=r"X must have shape \(N, 2\)"):
        crplot.decision_boundary(circle, cr.ones(3), cr.ones(3))


def test_figures_show_themselves_in_jupyter_without_forcing_a_backend():
    # A fresh process: importing chainrule.plot and drawing must not import pyplot or pick a backend,
    # and every figure offers image/png (what Jupyter shows without %matplotlib inline).
    import subprocess
    import sys
    code = (
        "import sys, matplotlib, chainrule as cr, chainrule.plot as p\n"
        "before = matplotlib.rcParams._get_backend_or_none()\n"
        "figs = [p.gradient_field(lambda x, y: x * y, n=8, arrows=3),\n"
        "        p.descent_path(lambda x, y: x ** 2 + y ** 2, start=(1.0, 1.0), steps=3),\n"
        "        p.decision_boundary(lambda q: q[:, 0], cr.tensor([[0., 1.], [1., 0.]]), cr.tensor([0., 1.]), n=8),\n"
        "        p.training_curves({'train_loss': [1.0, 0.5]})]\n"
        "for f in figs:\n"
        "    b = f._repr_mimebundle_()\n"
        "    assert sorted(b) == ['image/png', 'text/plain'] and b['image/png'][:4] == b'\\x89PNG'\n"
        "    assert f._repr_png_()[:4] == b'\\x89PNG'\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'\n"
        "assert matplotlib.rcParams._get_backend_or_none() == before, 'the backend was changed'\n"
        "print('ok')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]

"""Seed 002: the gradient of sin(x² + y²) and its field plot; the SimpleGraph neuron tanh(x·w + b), by hand and autograd.

Read next to /work/shared/seeds/002_*.txt. Three parts:

1. z = sin(x² + y²) has the gradient (2x cos(x² + y²), 2y cos(x² + y²)). Autograd gives the same vectors,
   at sample points and on the notes' 11 x 11 quiver grid, and chainrule.plot draws the field.
2. The SimpleGraph neuron prediction = tanh(x·w + b) with squared loss, w = -0.5, b = 0.5, x = 1, y = 7:
   prediction 0.0, loss 49.0, and the hand-derived gradients equal autograd's (-14 for both).
3. The grad_fn names the notes print: AddBackward0, TanhBackward0, PowBackward0.

Run:  python examples/seed002_gradient_field_autograd.py --out runs/examples
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import chainrule as cr
import chainrule.plot  # matplotlib, for the one figure

F64 = cr.float64
POINTS = [[0.0, 0.0], [1.0, 1.0], [0.5, -1.5], [-2.0, 1.0], [2.5, 2.5], [1.2, -0.3]]


def fun_z(x: cr.Tensor, y: cr.Tensor) -> cr.Tensor:
    """z = sin(x² + y²)."""
    return cr.sin(x**2 + y**2)


def fun_dz(x: cr.Tensor, y: cr.Tensor) -> tuple[cr.Tensor, cr.Tensor]:
    """The gradient of sin(x² + y²) by the chain rule (the notes' docstring calls it the function itself)."""
    return 2 * x * cr.cos(x**2 + y**2), 2 * y * cr.cos(x**2 + y**2)


def autograd_dz(x: cr.Tensor, y: cr.Tensor) -> tuple[cr.Tensor, cr.Tensor]:
    """The same gradient by autograd. Each z_i depends only on (x_i, y_i), so the gradient of sum(z)
    with respect to x is the vector of the individual dz_i/dx_i."""
    x = x.detach().requires_grad_(True)
    y = y.detach().requires_grad_(True)
    dz_dx, dz_dy = cr.autograd.grad(fun_z(x, y).sum(), (x, y))
    return dz_dx, dz_dy


def gradient_part(out_dir: Path) -> dict:
    print("== 1. The gradient of z = sin(x² + y²) ==")
    pts = cr.tensor(POINTS, dtype=F64)
    x, y = pts[:, 0], pts[:, 1]
    hand_x, hand_y = fun_dz(x, y)
    auto_x, auto_y = autograd_dz(x, y)
    print("   (x, y)         2x cos(x²+y²), 2y cos(x²+y²)    autograd")
    for i in range(len(POINTS)):
        print(f"  ({x[i].item():5.2f}, {y[i].item():5.2f})   ({hand_x[i].item():9.6f}, {hand_y[i].item():9.6f})"
              f"    ({auto_x[i].item():9.6f}, {auto_y[i].item():9.6f})")

    g = cr.arange(-2.5, 2.6, 0.5, dtype=F64)  # the notes' quiver grid: 11 points per axis
    gx, gy = cr.meshgrid(g, g, indexing="xy")  # np.meshgrid's default layout, as in the notes
    grid_hand = fun_dz(gx, gy)
    grid_auto = autograd_dz(gx, gy)
    worst = max((grid_hand[k] - grid_auto[k]).abs().max().item() for k in (0, 1))
    print(f"11 x 11 grid: largest |formula - autograd| = {worst:.1e}")

    path = out_dir / "seed002_gradient_field.png"
    # 13 arrows per axis on [-3, 3]: the notes' quiver spacing of 0.5
    chainrule.plot.gradient_field(fun_z, xlim=(-3, 3), ylim=(-3, 3), arrows=13, path=str(path),
                                  title="z = sin(x² + y²): gradient vectors point towards steepest ascent")
    print(f"gradient-field plot written to {path}")
    return {"points": pts.numpy().copy(), "dz_dx": auto_x.numpy().copy(), "dz_dy": auto_y.numpy().copy(),
            "hand_dz_dx": hand_x.numpy().copy(), "hand_dz_dy": hand_y.numpy().copy(),
            "grid_dz_dx": grid_auto[0].numpy().copy(), "grid_dz_dy": grid_auto[1].numpy().copy(),
            "plot_path": str(path)}


class SimpleGraph:
    """The notes' single neuron: prediction = tanh(x * w + b)."""

    def __init__(self, w: float, b: float):
        self.w = cr.tensor([w], requires_grad=True)
        self.b = cr.tensor([b], requires_grad=True)

    def forward(self, x: cr.Tensor) -> cr.Tensor:
        return cr.tanh(x * self.w + self.b)


def sq_loss(y_true: cr.Tensor, y_prediction: cr.Tensor) -> cr.Tensor:
    return (y_true - y_prediction) ** 2


def simple_graph_part() -> dict:
    print("\n== 2. SimpleGraph: tanh(x w + b) with squared loss ==")
    feature = cr.tensor([1])  # integer tensors, as in the notes; x * w promotes to float32
    target = cr.tensor([7])
    simple_graph = SimpleGraph(-0.5, 0.5)
    prediction = simple_graph.forward(feature)
    square_loss = sq_loss(target, prediction)
    print(f"for x={feature.item()} and y={target.item()}, "
          f"prediction={prediction.item()}, and L2 Loss = {square_loss.item()}")

    print("\n== 3. The graph exists before backward() ==")
    a = cr.tensor([1.0], requires_grad=True)
    b = cr.tensor([-1.0], requires_grad=True)
    c = a + b
    names = {"c = a + b": c.grad_fn.name(), "prediction": prediction.grad_fn.name(),
             "loss": square_loss.grad_fn.name()}
    for what, name in names.items():
        print(f"grad_fn of {what}: {name}")
    print("the whole graph behind the loss, from grad_fn through next_functions (leaves end in AccumulateGrad):")
    stack = [(square_loss.grad_fn, 1)]
    while stack:  # depth first, without recursion
        node, depth = stack.pop()
        leaf = getattr(node, "variable", None)  # AccumulateGrad.variable is the leaf, as in PyTorch
        who = {id(simple_graph.w): "  (w)", id(simple_graph.b): "  (b)"}.get(id(leaf), "")
        print("  " * depth + node.name() + who)
        children = [n for n, _ in node.next_functions if n is not None]
        stack.extend((n, depth + 1) for n in reversed(children))

    # The analytic gradient: dloss/dw = -2 x (y - p)(1 - p²), dloss/db = -2 (y - p)(1 - p²).
    ana_dloss_dw = -2 * feature * (target - prediction.detach()) * (1 - prediction.detach() ** 2)
    ana_dloss_db = -2 * (target - prediction.detach()) * (1 - prediction.detach() ** 2)
    square_loss.backward()  # walks the graph built during the forward pass
    autograd_dloss_dw = simple_graph.w.grad
    autograd_dloss_db = simple_graph.b.grad
    print(f"\ndloss/dw: analytic {ana_dloss_dw.item()}, autograd {autograd_dloss_dw.item()}")
    print(f"dloss/db: analytic {ana_dloss_db.item()}, autograd {autograd_dloss_db.item()}")
    # allclose, not ==: float results agree to rounding, not bit for bit, in general.
    print(cr.allclose(ana_dloss_dw, autograd_dloss_dw), cr.allclose(ana_dloss_db, autograd_dloss_db))

    print("""
What the notes get wrong (docs/notes_errata.md, seed 002):
  * "PyTorch builds the graph when we call .backward()" and "First we should call the backward to build
    the graph": no. The graph is built during the forward pass (define-by-run); grad_fn exists before
    backward(), as printed above. backward() walks the graph and then frees it.
  * ".zero_grad() on the loss": a tensor has no zero_grad(); optimizers and nn.Modules do. For a bare
    tensor write w.grad.zero_() or w.grad = None.
  * `ana == autograd` compares floats exactly; it prints True here only because tanh(0) = 0 makes every
    value exact. Use allclose.
  * The vanilla gradient-descent algorithm returns w^(T), the last iterate, not w^(t+1).
  * fun_dz's docstring says it implements sin(x² + y²); it returns the gradient.
  The gradient formula 2x cos(x² + y²), 2y cos(x² + y²) and all printed numbers are correct.""")
    return {"prediction": prediction.item(), "loss": square_loss.item(),
            "dloss_dw": autograd_dloss_dw.item(), "dloss_db": autograd_dloss_db.item(),
            "ana_dloss_dw": ana_dloss_dw.item(), "ana_dloss_db": ana_dloss_db.item(),
            "grad_fn_names": names}


def main(argv: list[str] | None = None) -> dict:
    """Run the example; return its key numbers for the tests."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="directory for the PNG (default: a new temporary directory)")
    args = parser.parse_args(argv)
    out_dir = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="chainrule-seed002-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    return {**gradient_part(out_dir), **simple_graph_part()}


if __name__ == "__main__":
    main()

"""Seed 004: XOR with sigmoid units, the c = a + b / d = a·c graph route by route, a learned circle, batches, a two-layer net.

Read next to /work/shared/seeds/004_*.txt. Six parts:

1. XOR from the notes' fixed sigmoid weights: OR and NAND units feeding an AND unit.
2. XOR learned from a random initialisation: a 2-4-1 nn MLP with binary cross-entropy.
3. c = a + b, d = a * c at a = 4, b = 3: dd/da = 11 and dd/db = 4, explained route by route.
4. The circular decision boundary z = (x1 - w1)² + (x2 - w2)² - w0², learned with sigmoid + binary
   cross-entropy by gradient DEScent, with a decision-boundary plot.
5. Gradient accumulation over a batch (one backward per sample, accumulate, divide by m) equals the
   gradient of the batch's mean loss computed in one vectorised pass.
6. The notes' two-layer PyTorch network (N = 64, D_in = 1000, H = 100, D_out = 10), typos fixed, run with
   `import chainrule as torch`.

Run:  python examples/seed004_xor_graph_circle_twolayer.py --out runs/examples
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import chainrule as cr
import chainrule as torch  # part 6 is the notes' PyTorch code; only this import line differs
import chainrule.inspect
import chainrule.plot
from chainrule import nn, optim
from chainrule.data.sources import make_circles

F64 = cr.float64


def xor_fixed_part() -> dict:
    print("== 1. XOR from fixed sigmoid units: XOR(x1, x2) = AND(OR(x1, x2), NAND(x1, x2)) ==")
    X = cr.tensor([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]], dtype=F64)  # the notes' row order
    x1, x2 = X[:, 0], X[:, 1]
    h_or = cr.sigmoid(20 * x1 + 20 * x2 - 10)
    h_nand = cr.sigmoid(-20 * x1 - 20 * x2 + 30)
    xor = cr.sigmoid(20 * h_or + 20 * h_nand - 30)  # AND takes the HIDDEN outputs, not (x1, x2)
    print(" x1 x2 | OR = s(20x1+20x2-10)  NAND = s(-20x1-20x2+30) | AND(OR, NAND) = XOR")
    for i in range(4):
        print(f"  {x1[i].item():.0f}  {x2[i].item():.0f} |   {h_or[i].item():.6f}              "
              f"{h_nand[i].item():.6f}          |   {xor[i].item():.6f}  -> {round(xor[i].item())}")
    print("""The notes' table is right but unlabelled: its third column (AND) is evaluated on the hidden
outputs (OR, NAND) = (0, 1), (1, 0), (1, 1), (1, 1), not on (x1, x2). That is why rows 3 and 4 both read
s(20*1 + 20*1 - 30) = 1. Rounded, the outputs are XOR = 0, 0, 1, 1 for the rows (0,0), (1,1), (0,1), (1,0).""")
    return {"xor_X": X.numpy().copy(), "or_out": h_or.numpy().copy(), "nand_out": h_nand.numpy().copy(),
            "xor_out": xor.numpy().copy()}


def xor_learned_part(steps: int = 500) -> dict:
    print("\n== 2. XOR learned from a random start: a 2-4-1 MLP with binary cross-entropy ==")
    cr.manual_seed(0)
    X = cr.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = cr.tensor([[0.0], [1.0], [1.0], [0.0]])
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    start = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    # BCEWithLogitsLoss is sigmoid + binary cross-entropy in one stable formula (no log(0)).
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for step in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if step % 100 == 0:
            print(f"step {step:3d}: BCE = {loss.item():.4f}")
    with cr.no_grad():
        p = cr.sigmoid(model(X)).squeeze(1)
    print(f"after {steps} steps: BCE = {losses[-1]:.5f}; sigmoid outputs {[round(v, 4) for v in p.tolist()]} "
          f"for (0,0), (0,1), (1,0), (1,1) -> {[round(v) for v in p.tolist()]}")
    return {"xor_learned_start": start, "xor_learned_losses": losses, "xor_learned_p": p.numpy().copy()}


def graph_part() -> dict:
    print("\n== 3. c = a + b, d = a * c: multiply along a route, add the routes ==")
    a = cr.tensor(4.0, dtype=F64, requires_grad=True)
    b = cr.tensor(3.0, dtype=F64, requires_grad=True)
    c = a + b
    d = a * c
    # explain() runs the backward pass with an observer and names the tensors after these variables.
    explanation = chainrule.inspect.explain(d, inputs=[a, b])
    print(explanation.text())
    c.retain_grad()
    d.backward()
    (dc_da,) = cr.autograd.grad(a + b, a)  # a fresh c: backward() has freed the first graph
    print(f"autograd: dd/da = {a.grad.item():g}; the notes' unanswered questions: Q1 dd/db = {b.grad.item():g}, "
          f"Q2 dd/dc = {c.grad.item():g}, Q3 dc/da = {dc_da.item():g}")
    print("""The notes' derivation and its '0 + 1*c + (1*a)*1' are right: the 0 is the accumulator's start
value, not a derivative. Their animation mislabels two edges: '∂d/∂a = 1' is the edge ∂c/∂a = 1, and
'∂d/∂c = 0' is the accumulator (the local derivative ∂d/∂c is a).""")
    return {"c": c.item(), "d": d.item(), "dd_da": a.grad.item(), "dd_db": b.grad.item(),
            "dd_dc": c.grad.item(), "dc_da": dc_da.item(), "explain_totals": dict(explanation.totals),
            "explain_text": explanation.text()}


def circle_z(w: cr.Tensor, X: cr.Tensor) -> cr.Tensor:
    """z = (x1 - w1)² + (x2 - w2)² - w0²: negative inside the circle of radius w0 around (w1, w2)."""
    return (X[:, 0] - w[1]) ** 2 + (X[:, 1] - w[2]) ** 2 - w[0] ** 2


def bce_with_logits(z: cr.Tensor, y: cr.Tensor) -> cr.Tensor:
    """Per-sample -y log(sigmoid(z)) - (1 - y) log(1 - sigmoid(z)), written without log(0).

    log(sigmoid(z)) = -softplus(-z) and log(1 - sigmoid(z)) = -softplus(z), with the stable
    softplus(t) = max(t, 0) + log(1 + exp(-|t|)), so large |z| cannot give inf or NaN.
    """
    def softplus(t):
        return t.clamp(min=0) + (-t.abs()).exp().log1p()

    return y * softplus(-z) + (1 - y) * softplus(z)


# The notes' single sample, x = (2, 0) with y = 1, plus four more points: a small reference batch.
BATCH_X = [[2.0, 0.0], [0.5, -0.5], [0.0, 0.0], [-1.5, 1.0], [1.0, -1.0]]
BATCH_Y = [1.0, 0.0, 0.0, 1.0, 0.0]
W_START = [1.0, 0.5, -0.5]  # (w0 = radius, w1, w2 = centre)


def accumulation_part() -> dict:
    print("\n== 5. Gradient accumulation over a batch vs the batched gradient ==")
    X = cr.tensor(BATCH_X, dtype=F64)
    y = cr.tensor(BATCH_Y, dtype=F64)
    m = len(BATCH_Y)
    w = cr.tensor(W_START, dtype=F64, requires_grad=True)

    z0 = circle_z(w, X[:1])
    (dz_dw,) = cr.autograd.grad(z0.sum(), w)
    print(f"sample x = (2, 0), y = 1, w = {W_START}: z = {z0.item():g}, "
          f"dz/dw = {dz_dw.tolist()}  (= -2 w0, -2 (x1 - w1), -2 (x2 - w2))")

    # The notes' loop: gradients start at zero, each sample's backward() ADDS into w.grad, divide by m.
    per_sample = []
    for i in range(m):
        before = w.grad.clone() if w.grad is not None else cr.zeros(3, dtype=F64)
        bce_with_logits(circle_z(w, X[i:i + 1]), y[i:i + 1]).sum().backward()
        per_sample.append((w.grad - before).tolist())
    accumulated = w.grad.clone() / m
    print(f"sample 0 dLoss/dw = {[round(v, 6) for v in per_sample[0]]}  (= (y_hat - y) dz/dw)")
    w.grad = None

    # Vectorised: one forward and one backward over the whole batch, on the mean loss.
    mean_loss = bce_with_logits(circle_z(w, X), y).mean()
    mean_loss.backward()
    with cr.no_grad():  # the library's loss is the same formula
        library = nn.functional.binary_cross_entropy_with_logits(circle_z(w, X), y).item()
    print(f"mean BCE = {mean_loss.item():.6f} (nn.functional.binary_cross_entropy_with_logits: {library:.6f})")
    batched = w.grad.clone()
    diff = (accumulated - batched).abs().max().item()
    print(f"accumulated / m = {[round(v, 6) for v in accumulated.tolist()]}")
    print(f"batched mean    = {[round(v, 6) for v in batched.tolist()]}   largest difference {diff:.1e}")

    with cr.no_grad():
        lr = 0.1
        down = bce_with_logits(circle_z(w - lr * batched, X), y).mean().item()
        up = bce_with_logits(circle_z(w + lr * batched, X), y).mean().item()
    print(f"one step at lr {lr}: w - lr * grad lowers the mean loss {mean_loss.item():.6f} -> {down:.6f}; "
          f"the notes' w + lr * grad raises it to {up:.6f}")
    return {"circle_sample_dz_dw": dz_dw.numpy().copy(), "circle_per_sample": per_sample,
            "circle_accumulated_mean": accumulated.numpy().copy(), "circle_batched_mean": batched.numpy().copy(),
            "circle_mean_loss": mean_loss.item(), "circle_mean_loss_library": library, "circle_loss_descent": down, "circle_loss_notes_sign": up}


def circle_part(out_dir: Path, steps: int = 300, lr: float = 0.5) -> dict:
    print("\n== 4. Learning a circular decision boundary with sigmoid + binary cross-entropy ==")
    # make_circles puts class 1 inside the circle; the notes' model says z > 0 (OUTSIDE) is class 1,
    # so flip the labels to match the notes.
    points, labels = make_circles(200, radius=2.5, center=(0.5, -0.5), seed=0)
    X = cr.tensor(points, dtype=F64)
    y = 1 - cr.tensor(labels, dtype=F64)
    w = cr.tensor([1.0, 0.0, 0.0], dtype=F64, requires_grad=True)  # unit circle at the origin
    for step in range(steps):
        loss = bce_with_logits(circle_z(w, X), y).mean()
        if step % 100 == 0:
            print(f"step {step:3d}: w = {[round(v, 3) for v in w.tolist()]}, mean BCE = {loss.item():.4f}")
        loss.backward()
        with cr.no_grad():
            w -= lr * w.grad  # DEScent: minus (the notes write w + lr * grad, which climbs the loss)
            w.grad = None
    with cr.no_grad():
        z = circle_z(w, X)
        final_loss = bce_with_logits(z, y).mean().item()
        # sigmoid(z) > 0.5 exactly when z > 0: the threshold is on z = 0, not z = 0.5 as the notes say
        accuracy = ((z > 0).to(F64) == y).to(F64).mean().item()
    radius, cx, cy = w.tolist()
    print(f"learned: radius |w0| = {abs(radius):.3f}, centre ({cx:.3f}, {cy:.3f}); "
          f"mean BCE {final_loss:.4f}; training accuracy {accuracy:.1%}")
    print("(the data: radius 2.5, centre (0.5, -0.5). z has no scale parameter, so sigmoid(z) stays soft near\n"
          " the circle and the mean BCE settles a little outside it, trading a few points for confidence)")

    path = out_dir / "seed004_circle_boundary.png"
    chainrule.plot.decision_boundary(lambda P: cr.sigmoid(circle_z(w.detach(), P)), X, y, path=str(path),
                                     title="sigmoid(z) = 0.5, i.e. z = 0: the learned circle")
    print(f"decision-boundary plot written to {path}")
    print("""What the notes get wrong: the update 'w0 = w0 + learningRate * w0.grad/m' is gradient ASCENT (it
must be minus); the pseudo-code's indentation puts the sample loop outside the epoch loop; and the class
threshold is sigmoid(z) = 0.5, i.e. z = 0 (not 'z > 0.5'). The update arrow should be an assignment.""")
    return {"circle_X": X.numpy().copy(), "circle_y": y.numpy().copy(), "circle_steps": steps, "circle_lr": lr,
            "circle_w": w.detach().numpy().copy(), "circle_final_loss": final_loss,
            "circle_accuracy": accuracy, "circle_plot": str(path)}


def two_layer_part(steps: int = 500) -> dict:
    print("\n== 6. The notes' two-layer network, as PyTorch code, under `import chainrule as torch` ==")
    # Fixes to the notes' snippet (docs/notes_errata.md, "Two-layer network in PyTorch"):
    #  1. deleted the stray slide text "Pytorch made easy" inside the code (IndentationError)
    #  2. `D in`, `D out` -> D_in, D_out (SyntaxError)
    #  3. `requires grad=True` -> requires_grad=True (SyntaxError)
    #  4. `learning rate` -> learning_rate (SyntaxError)
    #  5. `y pred` -> y_pred (SyntaxError)
    #  6. `torch.no grad()` -> torch.no_grad() (SyntaxError)
    #  7. `for t in (500):` -> for t in range(500): (TypeError: 'int' object is not iterable)
    #  8. `w2.grad.zero ()` -> w2.grad.zero_() (AttributeError)
    #  9. the two zero_() lines moved inside the loop, under no_grad, after the updates; otherwise the
    #     gradients accumulate across iterations and the loss blows up to nan
    # Not fatal, left as is: "loss is a Tensor of shape (1,)" (it is 0-dim, shape ()); nothing is printed
    # although the comment says so (we record the losses); `dtype` is defined and never used.
    torch.manual_seed(0)  # added: makes the run repeatable

    # N is batch size; D_in is input dimension; H is hidden dimension; D_out is output dimension.
    dtype = torch.float  # noqa: F841  (unused in the notes too)
    device = torch.device("cpu")
    N, D_in, H, D_out = 64, 1000, 100, 10
    # Create random Tensors to hold input and outputs.
    x = torch.randn(N, D_in, device=device, dtype=torch.float)
    y = torch.randn(N, D_out, device=device, dtype=torch.float)
    # Create random Tensors for weights. requires_grad=True: we want their gradients.
    w1 = torch.randn(D_in, H, device=device, dtype=torch.float, requires_grad=True)
    w2 = torch.randn(H, D_out, device=device, dtype=torch.float, requires_grad=True)
    start = {"x": x.numpy().copy(), "y": y.numpy().copy(), "w1": w1.detach().numpy().copy(),
             "w2": w2.detach().numpy().copy()}
    learning_rate = 1e-6
    losses = []
    for t in range(steps):
        # Forward pass: compute predicted y using operations on Tensors.
        y_pred = x.mm(w1).clamp(min=0).mm(w2)
        # Compute the loss. loss is a 0-dim Tensor; loss.item() gets the scalar value held in the loss.
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        # Use autograd to compute the backward pass.
        loss.backward()
        # Manually update weights using gradient descent; no_grad because we don't track the update.
        with torch.no_grad():
            w1 -= learning_rate * w1.grad
            w2 -= learning_rate * w2.grad
            # Manually zero the gradients after updating weights
            w1.grad.zero_()
            w2.grad.zero_()

    for t in (0, 1, 10, 100, 250, steps - 1):
        print(f"step {t:3d}: loss = {losses[t]:.6g}")
    rises = [t for t in range(1, steps) if losses[t] > losses[t - 1]]
    print(f"The fixed snippet trains: the loss falls by a factor {losses[0] / losses[-1]:.1e}, rising only at "
          f"steps {rises} (the first steps overshoot before gradient descent settles in).")
    return {"two_layer_losses": losses, "two_layer_start": start}


def main(argv: list[str] | None = None) -> dict:
    """Run the example; return its key numbers for the tests."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="directory for the PNG (default: a new temporary directory)")
    args = parser.parse_args(argv)
    out_dir = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="chainrule-seed004-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    cr.manual_seed(0)
    return {**xor_fixed_part(), **xor_learned_part(), **graph_part(), **circle_part(out_dir),
            **accumulation_part(), **two_layer_part()}


if __name__ == "__main__":
    main()

"""Seed 000: the 1-2-1 sigmoid network with MSE, one gradient step, by autograd and by hand (correct shapes).

Read next to /work/shared/seeds/000_*.txt. The notes backpropagate by hand in NumPy:

    v0 = x W0 + b0,  y0 = sigmoid(v0),  v1 = y0 W1 + b1,  y_hat = sigmoid(v1),  L = (1/N) sum (y - y_hat)^2

with x = [[0.3]], y = [1.0], W0 = [[0.1, 0.2]], b0 = [0.25, 0.25], W1 = [[0.5], [0.6]], b1 = [0.35] and one
step of gradient descent at lr 0.01. This script runs the same network twice on chainrule tensors: once with
``L.backward()`` and once with the notes' chain rule written out with the right shapes. Both give the same
numbers, and every gradient has the shape of its parameter.

Run:  python examples/seed000_sigmoid_network.py
"""

from __future__ import annotations

import argparse

import chainrule as cr

LR = 0.01


def show(name: str, t: cr.Tensor) -> None:
    """Print a tensor as the notes do (4 decimals), plus its shape, which is where the notes go wrong."""
    values = str(t.detach().numpy().round(4) + 0.0)  # + 0.0 prints -0.0 as 0.0
    sep = "\n" if "\n" in values else " "
    print(f"{name} ={sep}{values}   shape {tuple(t.shape)}")


def parameters() -> dict[str, cr.Tensor]:
    """The notes' weights, as float64 leaves that require grad."""
    f64 = cr.float64
    return {
        "W0": cr.tensor([[0.1, 0.2]], dtype=f64, requires_grad=True),
        "b0": cr.tensor([0.25, 0.25], dtype=f64, requires_grad=True),
        "W1": cr.tensor([[0.5], [0.6]], dtype=f64, requires_grad=True),
        "b1": cr.tensor([0.35], dtype=f64, requires_grad=True),
    }


def main(argv: list[str] | None = None) -> dict:
    """Run the example; return its key numbers (as NumPy arrays / floats) for the tests."""
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    x = cr.tensor([[0.3]], dtype=cr.float64)  # (batch 1, 1 input)
    y = cr.tensor([1.0], dtype=cr.float64)
    N = len(y)
    p = parameters()
    W0, b0, W1, b1 = p["W0"], p["b0"], p["W1"], p["b1"]

    print("== Forward pass ==")
    v0 = x @ W0 + b0
    y0 = cr.sigmoid(v0)
    v1 = y0 @ W1 + b1
    y_hat = cr.sigmoid(v1)
    # The notes' loss_mse returns the (1, 1) array (1/N)(y - y_hat)^2; the loss is its sum, a scalar.
    L = ((y - y_hat) ** 2).sum() / N
    for name, t in [("v0", v0), ("y0", y0), ("v1", v1), ("y_hat", y_hat), ("L", L)]:
        show(name, t)

    print("\n== Backward pass 1: autograd ==")
    for t in (v0, y0, v1, y_hat):
        t.retain_grad()  # keep the intermediate gradients so we can compare them with the hand values
    L.backward()
    auto = {"dL_dyhat": y_hat.grad, "dL_dv1": v1.grad, "dL_dy0": y0.grad, "dL_dv0": v0.grad,
            "dL_dW1": W1.grad, "dL_db1": b1.grad, "dL_dW0": W0.grad, "dL_db0": b0.grad}
    for name in ("dL_dW1", "dL_db1", "dL_dW0", "dL_db0"):
        show(name, auto[name])

    print("\n== Backward pass 2: the notes' chain rule, written with the right shapes ==")
    with cr.no_grad():
        # layer 1: dL/dW1 = dL/dy_hat * dy_hat/dv1 * dv1/dW1
        dL_dyhat = -(2.0 / N) * (y - y_hat)  # (1, 1)
        dyhat_dv1 = y_hat * (1 - y_hat)  # sigmoid' = sigmoid (1 - sigmoid), (1, 1)
        dL_dv1 = dL_dyhat * dyhat_dv1  # (1, 1)
        # dv1/dW1 is y0: each weight W1[j, k] is multiplied by y0[:, j]. As a matrix product over the
        # batch this is y0^T @ dL_dv1, which has W1's shape (2, 1).
        dL_dW1 = y0.T @ dL_dv1
        dL_db1 = dL_dv1.sum(0)  # the bias sees every sample: sum over the batch axis -> (1,)
        # layer 0: dL/dy0 = dL/dv1 * dv1/dy0, with dv1/dy0 = W1 (summed over the output units)
        dL_dy0 = dL_dv1 @ W1.T  # (1, 2)
        dy0_dv0 = y0 * (1 - y0)
        dL_dv0 = dL_dy0 * dy0_dv0  # (1, 2)
        dL_dW0 = x.T @ dL_dv0  # (1, 2) == W0.shape
        dL_db0 = dL_dv0.sum(0)  # (2,)  == b0.shape
    hand = {"dL_dyhat": dL_dyhat, "dL_dv1": dL_dv1, "dL_dy0": dL_dy0, "dL_dv0": dL_dv0,
            "dL_dW1": dL_dW1, "dL_db1": dL_db1, "dL_dW0": dL_dW0, "dL_db0": dL_db0}
    show("dL/dy_hat", dL_dyhat)
    show("dy_hat/dv1", dyhat_dv1)
    show("dL/dy0", dL_dy0)
    show("dy0/dv0", dy0_dv0)
    for name in ("dL_dW1", "dL_db1", "dL_dW0", "dL_db0"):
        show(name, hand[name])
    worst = max((auto[k] - hand[k]).abs().max().item() for k in hand)
    same_shapes = all(tuple(auto[k].shape) == tuple(hand[k].shape) for k in hand)
    print(f"autograd vs hand: same shapes = {same_shapes}, largest difference = {worst:.1e}")

    print(f"\n== One gradient-descent step, lr = {LR} ==")
    W1_before = W1.detach().clone()
    with cr.no_grad():
        for t in (W0, b0, W1, b1):
            t -= LR * t.grad  # in place: the parameters keep their shapes
    for name, t in p.items():
        show(name, t)
    # The step on W0 is ~4e-5, invisible at 4 decimals: show it at full precision too.
    print(f"W0 (full precision) = {W0.detach().numpy().tolist()}")

    # What the notes' code does: its dL/dW1 has shape (2, 1, 1), and W1 (2, 1) minus a (2, 1, 1) array
    # broadcasts to (2, 2, 1). Entry [i, j, 0] is W1[j] - lr * dL/dW1[i]: the off-diagonal pairs are mixed.
    notes_W1 = W1_before - LR * dL_dW1.reshape(2, 1, 1)
    print("\nThe notes' W1 update, reproduced (dL/dW1 reshaped to their (2, 1, 1)):")
    print(f"{notes_W1.numpy().round(6)}   shape {tuple(notes_W1.shape)}")

    w1 = W1.detach().numpy().ravel().round(6).tolist()
    w0 = W0.detach().numpy().ravel().round(6).tolist()
    mixed = [notes_W1[0, 1, 0].item(), notes_W1[1, 0, 0].item()]
    print(f"""
What the notes get wrong (docs/notes_errata.md, seed 000):
  * dv1/dW1 is built with np.hstack([y0[np.newaxis].T] * ...), a (2, 1, 1) array, so dL/dW1 prints as
    [[[-0.0616]] [[-0.0624]]]: right values, wrong shape. It is y0^T @ dL/dv1, shape (2, 1) like W1.
  * W1 - lr * dL/dW1 then broadcasts (2, 1) against (2, 1, 1) into the (2, 2, 1) array above. Two of its
    four entries pair a weight with the OTHER weight's gradient ({mixed[0]:.6f} and {mixed[1]:.6f}).
    At 4 decimals every entry prints as 0.5006/0.6006, which hides it. Correct: W1 = {w1}, shape (2, 1).
  * The same slip makes dL/dW0 and the updated W0 (1, 1, 2). Correct: W0 = {w0}, shape (1, 2);
    the step (~4e-5) is invisible at the notes' 4 decimals, so their 'W0 = [[[0.1 0.2]]]' looks unchanged.
  * The bias gradients and biases become (1, 1) and (1, 2). A bias gradient is summed over the batch
    axis, so dL/db1 has shape (1,) and dL/db0 shape (2,), like the biases.
  * loss_mse returns the per-element array (1/N)(y - y_hat)^2 of shape (1, 1), not a scalar. With N = 1
    the value {L.item():.4f} is right; `.mean()` on it (the commented line) would divide by N twice.
  * Labels: line 146 prints '∂y^/∂W1' for ∂v1/∂W1, line 251 ends in '∂v0/∂yW0', and line 270 says
    ∂v1/∂b1 in the layer-0 cell (it is ∂v0/∂b0 = 1).""")

    def arr(t):
        return t.detach().numpy().copy()

    return {
        "v0": arr(v0), "y0": arr(y0), "v1": arr(v1), "y_hat": arr(y_hat), "L": L.item(),
        **{f"auto_{k}": arr(v) for k, v in auto.items()},
        **{f"hand_{k}": arr(v) for k, v in hand.items()},
        "W0_new": arr(W0), "b0_new": arr(b0), "W1_new": arr(W1), "b1_new": arr(b1),
        "notes_W1_new": arr(notes_W1),
    }


if __name__ == "__main__":
    main()

"""Seed 001: softmax + cross-entropy, a linear layer with ReLU, and the 3-4-3 ReLU regression net (correct sign).

Read next to /work/shared/seeds/001_*.txt. Three worked examples:

1. logits h = [2, -1, 5, 0] with the notes' one-hot label [0, 1, 0, 0] (their "y = 2" counts classes
   from 1, so it is index 1 from 0): softmax probabilities, the cross-entropy and its gradient.
2. h2 = ReLU(W2 h1) with h1 = [1.5, 2] and no bias.
3. A 3 -> 4 (ReLU) -> 3 regression network with the Euclidean-norm loss l = ||y - y_hat||_2: forward, all
   gradients (autograd, checked against the hand formulas with the correct sign) and one SGD step at lr 0.01.

Run:  python examples/seed001_softmax_relu_regression.py
"""

from __future__ import annotations

import argparse

import chainrule as cr
import chainrule.nn.functional as F

F64 = cr.float64
LR = 0.01


def t64(values, requires_grad: bool = False) -> cr.Tensor:
    return cr.tensor(values, dtype=F64, requires_grad=requires_grad)


def show(name: str, t: cr.Tensor, decimals: int = 4) -> None:
    values = str(t.detach().numpy().round(decimals) + 0.0)  # + 0.0 prints -0.0 as 0.0
    sep = "\n" if "\n" in values else " "
    print(f"{name} ={sep}{values}")


def softmax_cross_entropy() -> dict:
    print("== 1. Softmax and cross-entropy ==")
    h = t64([2.0, -1.0, 5.0, 0.0], requires_grad=True)
    one_hot = t64([0.0, 1.0, 0.0, 0.0])  # the notes' `truth`: class 2 counted from 1 = index 1
    label = 1
    p = cr.softmax(h, 0)
    # CE = -sum_i y_i log p_i. log_softmax computes log p with the log-sum-exp shift, so it stays
    # finite even for logits like 1000 where exp() overflows.
    ce = -(one_hot * cr.log_softmax(h, 0)).sum()
    ce.backward()
    show("p", p, 8)
    print(f"CE = {ce.item()!r}")
    show("dCE/dh = p - one_hot", h.grad, 6)
    # The library's loss takes the class index (counted from 0) and the raw logits of a batch.
    ce_lib = F.cross_entropy(h.detach()[None], cr.tensor([label]))
    print(f"nn.functional.cross_entropy(h[None], tensor([{label}])) = {ce_lib.item()!r}")
    p_label = p[label].item()
    wrong = -cr.tensor(0.0023, dtype=F64).log().item()
    ce_index2 = -cr.log_softmax(h.detach(), 0)[2].item()
    print(f"""
The notes write CE = -log(0.0023) = 6.057. Their 6.057 is right, but -log(0.0023) = {wrong:.4f}:
6.0573 is -log({p_label:.7f}), the unrounded probability.
The label: the notes count classes from 1 and code the one-hot [0, 1, 0, 0], so "y = 2" is index 1.
Read as index 2 counted from 0 (the arg-max class, p = {p[2].item():.6f}) it would give CE = {ce_index2:.7f}.""")
    return {"p": p.detach().numpy().copy(), "ce": ce.item(), "ce_library": ce_lib.item(),
            "dce_dlogits": h.grad.numpy().copy()}


def linear_relu() -> dict:
    print("\n== 2. A linear layer W2 h1 (no bias) and ReLU ==")
    h1 = t64([1.5, 2.0])
    W2 = t64([[-1.0, -1.0], [-1.0, 1.0], [-1.0, 0.0]])
    h2bar = W2 @ h1
    h2 = cr.relu(h2bar)
    show("h2bar", h2bar)
    show("h2 = ReLU(h2bar)", h2)
    print("(the notes' values are right)")
    return {"h2bar": h2bar.numpy().copy(), "h2": h2.numpy().copy()}


def regression_net() -> dict:
    print("\n== 3. The 3-4-3 ReLU regression network, loss l = ||y - y_hat||_2 ==")
    x = t64([1.2, -1.0, 2.0])
    y = t64([1.5, -1.0, 2.0])
    W1 = t64([[1, -1, 0], [0, -1, 1], [1, 1, -1], [1, 1, 1]], requires_grad=True)
    b1 = t64([0, 1, 1, -1], requires_grad=True)
    W2 = t64([[1.5, 1, 1, -1], [0, 0, 1, 1], [-1, 1, 1, -1]], requires_grad=True)
    b2 = t64([1, 0, 0.5], requires_grad=True)
    params = {"W2": W2, "b2": b2, "W1": W1, "b1": b1}

    def forward(W1, b1, W2, b2):
        h1bar = W1 @ x + b1
        h1 = cr.relu(h1bar)
        y_hat = W2 @ h1 + b2
        return h1bar, h1, y_hat, (y - y_hat).norm()

    h1bar, h1, y_hat, loss = forward(**params)
    for t in (h1bar, h1, y_hat):
        t.retain_grad()
    show("h1bar", h1bar)
    show("h1", h1)
    show("y_hat", y_hat)
    print(f"l2 = {loss.item()!r}")

    loss.backward()
    print("\nGradients (autograd):")
    show("dl/dy_hat", y_hat.grad, 6)
    show("dl/dW2", W2.grad, 6)
    show("dl/db2", b2.grad, 6)
    show("dl/dh1", h1.grad, 6)
    show("dl/dh1bar", h1bar.grad, 6)
    show("dl/dW1", W1.grad, 6)
    show("dl/db1", b1.grad, 6)

    # The same gradients by the notes' chain rule, with the correct sign of the first factor:
    # l = sqrt(sum (y_i - y_hat_i)^2)  =>  dl/dy_hat_i = (y_hat_i - y_i) / l   (not (y_i - y_hat_i) / l).
    with cr.no_grad():
        dl_dyhat = (y_hat - y) / loss
        dl_dh1 = W2.T @ dl_dyhat
        relu_mask = (h1bar > 0).to(F64)  # diag(ReLU'(h1bar)), 4 x 4, applied as an element-wise mask
        dl_dh1bar = dl_dh1 * relu_mask
        hand = {"W2": dl_dyhat.outer(h1), "b2": dl_dyhat, "W1": dl_dh1bar.outer(x), "b1": dl_dh1bar}
    worst = max((hand[k] - params[k].grad).abs().max().item() for k in hand)
    print(f"hand chain rule vs autograd: largest difference = {worst:.1e}")

    print(f"\nSGD step, lr = {LR}:  theta <- theta - lr * dl/dtheta")
    with cr.no_grad():
        new = {k: t - LR * t.grad for k, t in params.items()}
        # The notes' step: their gradients have the opposite sign, so they compute theta + lr * dl/dtheta,
        # and they move b1 by dl/dh1 instead of dl/dh1bar.
        notes = {k: t + LR * t.grad for k, t in params.items()}
        notes["b1"] = b1 + LR * h1.grad
        loss_after = forward(**new)[3].item()
        notes_loss_after = forward(**notes)[3].item()
    for k, t in new.items():
        show(k, t)
    print(f"loss: {loss.item():.4f} before the step, {loss_after:.4f} after the correct step, "
          f"{notes_loss_after:.4f} after the notes' step")

    print("""
What the notes get wrong (docs/notes_errata.md, seed 001):
  * dl/dy_hat has the wrong sign. l = ||y - y_hat|| gives dl/dy_hat = (y_hat - y)/l = [0.92 0.36 -0.15],
    not (y - y_hat)/l = [-0.92 -0.36 0.15]. Every gradient after it (dl/dW2, dl/db2, dl/dh1, dl/dh1bar,
    dl/dW1, dl/db1) inherits the flip: the notes' magnitudes are right, their signs are all reversed.
  * So their "SGD update" is really theta + lr * gradient and raises the loss (see the line above).
  * Their code sets dl/db1 from dl/dh1 instead of dl/dh1bar; the dead unit (h1bar_3 = -0.8) must get
    bias gradient 0, not -1.13. Their b1 update also starts from h1bar [2.2, 4, -0.8, 1.2], not b1.
  * The ReLU Jacobian is 4 x 4, diag(1, 1, 0, 1), not the 3 x 3 shown first; hard-coding it only works
    for this input (here it is the mask h1bar > 0).
  * Rounding, even within their own (wrong-sign) update: W2[2, 1] is 0.9941 (printed 0.9946) and
    W1[1, 2] is 1.015 (printed 1.016).""")

    def arr(t):
        return t.detach().numpy().copy()

    return {
        "h1bar": arr(h1bar), "h1": arr(h1), "yhat": arr(y_hat), "loss": loss.item(),
        "dl_dh2": arr(y_hat.grad), "dl_dh1": arr(h1.grad), "dl_dh1bar": arr(h1bar.grad),
        **{f"dl_d{k}": arr(t.grad) for k, t in params.items()},
        **{f"hand_dl_d{k}": arr(g) for k, g in hand.items()},
        **{f"{k}_new": arr(t) for k, t in new.items()},
        **{f"notes_{k}_new": arr(t) for k, t in notes.items()},
        "loss_after": loss_after, "notes_loss_after": notes_loss_after,
    }


def main(argv: list[str] | None = None) -> dict:
    """Run the three examples; return their key numbers for the tests."""
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    out = {}
    for prefix, part in (("ce", softmax_cross_entropy), ("relu", linear_relu), ("net", regression_net)):
        out.update({f"{prefix}_{k}": v for k, v in part().items()})
    return out


if __name__ == "__main__":
    main()

"""Independent float64 reference values for the worked examples in the lecture notes.

The notes live in ``/work/shared/seeds/00X_*.txt``.  Every function below recomputes one worked
example from scratch with plain NumPy (float64) and returns a dict of named arrays / floats holding the
*correct* values.  Where the notes print something wrong, the correct value is the one here, and
``docs/notes_errata.md`` explains the difference.  A few keys prefixed ``notes_`` reproduce what the
notes' own (buggy) code produces, so tests and the example gallery can show the mistake side by side.

Shape conventions
-----------------
* seed 000 follows the notes' row-vector convention: ``x`` is (1, 1), ``W0`` is (1, 2), ``v0`` is (1, 2),
  and a parameter's gradient always has the parameter's shape (``dL_dW1`` is (2, 1), ``dL_db1`` is (1,)).
* seed 001 uses 1-D vectors for x, y, biases and activations (the notes use (n, 1) columns); matrices
  keep the notes' orientation (``W1`` is (4, 3) and ``h1bar = W1 @ x + b1``).

Run ``python tests/seed_reference.py`` to cross-check every function against PyTorch autograd (float64)
and central finite differences.
"""

import numpy as np

# ---------------------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------------------


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def relu(v):
    return np.maximum(v, 0.0)


# ---------------------------------------------------------------------------------------------------
# seed 000 -- 1-2-1 sigmoid network, MSE loss, one gradient-descent step
# ---------------------------------------------------------------------------------------------------


def seed000_sigmoid_mlp():
    """v0 = x W0 + b0, y0 = sigmoid(v0), v1 = y0 W1 + b1, y_hat = sigmoid(v1), L = (1/N)(y - y_hat)^2."""
    x = np.array([[0.3]])
    y = np.array([1.0])
    W0 = np.array([[0.1, 0.2]])
    b0 = np.array([0.25, 0.25])
    W1 = np.array([[0.5], [0.6]])
    b1 = np.array([0.35])
    lr = 0.01
    N = len(y)  # 1, exactly as loss_mse / loss_mse_grad in the notes

    # forward
    v0 = x @ W0 + b0  # (1, 2)
    y0 = sigmoid(v0)  # (1, 2)
    v1 = y0 @ W1 + b1  # (1, 1)
    y_hat = sigmoid(v1)  # (1, 1)
    L = float(np.sum((y - y_hat) ** 2) / N)

    # backward, layer 1
    dL_dyhat = -(2.0 / N) * (y - y_hat)  # (1, 1)
    dyhat_dv1 = y_hat * (1.0 - y_hat)  # (1, 1)
    dL_dv1 = dL_dyhat * dyhat_dv1  # (1, 1)
    dL_dW1 = y0.T @ dL_dv1  # (2, 1) == W1.shape
    dL_db1 = dL_dv1.sum(axis=0)  # (1,)  == b1.shape

    # backward, layer 0
    dL_dy0 = dL_dv1 @ W1.T  # (1, 2)
    dy0_dv0 = y0 * (1.0 - y0)  # (1, 2)
    dL_dv0 = dL_dy0 * dy0_dv0  # (1, 2)
    dL_dW0 = x.T @ dL_dv0  # (1, 2) == W0.shape
    dL_db0 = dL_dv0.sum(axis=0)  # (2,)  == b0.shape

    # one gradient-descent step (shapes unchanged)
    W0_new = W0 - lr * dL_dW0
    b0_new = b0 - lr * dL_db0
    W1_new = W1 - lr * dL_dW1
    b1_new = b1 - lr * dL_db1

    # What the notes' code does: np.hstack([y0[np.newaxis].T] * 1) is (2, 1, 1), so dL_dW1 is (2, 1, 1)
    # and W1 - lr * dL_dW1 broadcasts (2, 1) against (2, 1, 1) to (2, 2, 1).
    notes_dv1_dW1 = np.hstack([y0[np.newaxis].T] * len(dyhat_dv1))
    notes_dL_dW1 = dL_dyhat * dyhat_dv1 * notes_dv1_dW1
    notes_W1_new = W1 - lr * notes_dL_dW1
    notes_dv0_dW0 = np.hstack([x[np.newaxis].T] * len(dy0_dv0))
    notes_dL_dW0 = dL_dy0.ravel() * dy0_dv0 * notes_dv0_dW0
    notes_W0_new = W0 - lr * notes_dL_dW0

    return {
        "x": x, "y": y, "W0": W0, "b0": b0, "W1": W1, "b1": b1, "lr": lr,
        "v0": v0, "y0": y0, "v1": v1, "y_hat": y_hat, "L": L,
        "dL_dyhat": dL_dyhat, "dyhat_dv1": dyhat_dv1, "dL_dv1": dL_dv1,
        "dL_dW1": dL_dW1, "dL_db1": dL_db1,
        "dL_dy0": dL_dy0, "dy0_dv0": dy0_dv0, "dL_dv0": dL_dv0,
        "dL_dW0": dL_dW0, "dL_db0": dL_db0,
        "W0_new": W0_new, "b0_new": b0_new, "W1_new": W1_new, "b1_new": b1_new,
        "notes_dL_dW1": notes_dL_dW1, "notes_W1_new": notes_W1_new,
        "notes_dL_dW0": notes_dL_dW0, "notes_W0_new": notes_W0_new,
    }


# ---------------------------------------------------------------------------------------------------
# seed 001 -- softmax + cross-entropy, linear layer + ReLU, 3-4-3 ReLU regression net with L2 loss
# ---------------------------------------------------------------------------------------------------


def seed001_softmax_ce():
    """Softmax of logits [2, -1, 5, 0] and cross-entropy.

    The notes index classes m = 1..M, say "y = 2 ... y_2 = 1" and code the one-hot [0, 1, 0, 0]:
    the intended label is 1-based class 2 = 0-based index 1, so ``ce`` == ``ce_index1`` (~6.0573).
    ``ce_index2`` (0-based index 2, the arg-max class) is given for contrast.
    """
    logits = np.array([2.0, -1.0, 5.0, 0.0])
    e = np.exp(logits - logits.max())
    p = e / e.sum()
    one_hot = np.array([0.0, 1.0, 0.0, 0.0])
    ce_index1 = float(-np.log(p[1]))
    ce_index2 = float(-np.log(p[2]))
    return {
        "logits": logits, "p": p, "one_hot": one_hot,
        "ce": float(-np.sum(one_hot * np.log(p))),
        "ce_index1": ce_index1, "ce_index2": ce_index2,
        "dce_dlogits": p - one_hot,  # gradient of the intended loss w.r.t. the logits
    }


def seed001_linear_relu():
    """h2bar = W2 h1 (no bias), h2 = ReLU(h2bar)."""
    h1 = np.array([1.5, 2.0])
    W2 = np.array([[-1.0, -1.0], [-1.0, 1.0], [-1.0, 0.0]])
    h2bar = W2 @ h1
    h2 = relu(h2bar)
    return {"h1": h1, "W2": W2, "h2bar": h2bar, "h2": h2}


def _seed001_l2_loss(x, y, W1, b1, W2, b2):
    h1 = relu(W1 @ x + b1)
    return float(np.sqrt(np.sum((y - (W2 @ h1 + b2)) ** 2)))


def seed001_regression_net():
    """3 -> 4 (ReLU) -> 3 (linear) net; loss = ||y - yhat||_2 (Euclidean norm, not squared); SGD, lr 0.01."""
    x = np.array([1.2, -1.0, 2.0])
    y = np.array([1.5, -1.0, 2.0])
    W1 = np.array([[1.0, -1.0, 0.0], [0.0, -1.0, 1.0], [1.0, 1.0, -1.0], [1.0, 1.0, 1.0]])
    b1 = np.array([0.0, 1.0, 1.0, -1.0])
    W2 = np.array([[1.5, 1.0, 1.0, -1.0], [0.0, 0.0, 1.0, 1.0], [-1.0, 1.0, 1.0, -1.0]])
    b2 = np.array([1.0, 0.0, 0.5])
    lr = 0.01

    # forward
    h1bar = W1 @ x + b1
    h1 = relu(h1bar)
    yhat = W2 @ h1 + b2  # h2 in the notes
    loss = float(np.sqrt(np.sum((y - yhat) ** 2)))

    # backward: d||y - yhat|| / dyhat = (yhat - y) / loss   (the notes have the sign flipped)
    dl_dyhat = (yhat - y) / loss
    dl_dh2 = dl_dyhat
    dl_dW2 = np.outer(dl_dh2, h1)
    dl_db2 = dl_dh2.copy()
    dl_dh1 = W2.T @ dl_dh2
    relu_grad = (h1bar > 0).astype(float)
    dl_dh1bar = dl_dh1 * relu_grad
    dl_dW1 = np.outer(dl_dh1bar, x)
    dl_db1 = dl_dh1bar.copy()  # NOT dl_dh1 (the notes' code uses dl2dh1 here)

    # SGD step
    W2_new = W2 - lr * dl_dW2
    b2_new = b2 - lr * dl_db2
    W1_new = W1 - lr * dl_dW1
    b1_new = b1 - lr * dl_db1
    loss_after = _seed001_l2_loss(x, y, W1_new, b1_new, W2_new, b2_new)

    # what the notes do: gradient with the wrong sign, and b1 updated with dl/dh1 instead of dl/dh1bar
    notes_W2_new = W2 + lr * dl_dW2
    notes_b2_new = b2 + lr * dl_db2
    notes_W1_new = W1 + lr * dl_dW1
    notes_b1_new = b1 + lr * dl_dh1
    notes_loss_after = _seed001_l2_loss(x, y, notes_W1_new, notes_b1_new, notes_W2_new, notes_b2_new)

    return {
        "x": x, "y": y, "W1": W1, "b1": b1, "W2": W2, "b2": b2, "lr": lr,
        "h1bar": h1bar, "h1": h1, "yhat": yhat, "loss": loss,
        "dl_dyhat": dl_dyhat, "dl_dh2": dl_dh2, "dl_dW2": dl_dW2, "dl_db2": dl_db2,
        "dl_dh1": dl_dh1, "relu_grad": relu_grad, "dl_dh1bar": dl_dh1bar,
        "dl_dW1": dl_dW1, "dl_db1": dl_db1,
        "W2_new": W2_new, "b2_new": b2_new, "W1_new": W1_new, "b1_new": b1_new,
        "loss_after": loss_after,
        "notes_W2_new": notes_W2_new, "notes_b2_new": notes_b2_new,
        "notes_W1_new": notes_W1_new, "notes_b1_new": notes_b1_new,
        "notes_loss_after": notes_loss_after,
    }


# ---------------------------------------------------------------------------------------------------
# seed 002 -- gradient of sin(x^2 + y^2); the SimpleGraph neuron tanh(x w + b) with squared loss
# ---------------------------------------------------------------------------------------------------

SEED002_POINTS = np.array([[0.0, 0.0], [1.0, 1.0], [0.5, -1.5], [-2.0, 1.0], [2.5, 2.5], [1.2, -0.3]])


def seed002_sin_gradient(points=None):
    """z = sin(x^2 + y^2); dz/dx = 2x cos(x^2 + y^2), dz/dy = 2y cos(x^2 + y^2).

    Also returns the 11 x 11 quiver grid of the notes' plot (np.arange(-2.5, 2.6, 0.5)).
    """
    pts = SEED002_POINTS if points is None else np.asarray(points, dtype=float)
    x, y = pts[:, 0], pts[:, 1]
    z = np.sin(x**2 + y**2)
    dz_dx = 2 * x * np.cos(x**2 + y**2)
    dz_dy = 2 * y * np.cos(x**2 + y**2)

    g = np.arange(-2.5, 2.6, 0.5)
    gx, gy = np.meshgrid(g, g)
    grid_dz_dx = 2 * gx * np.cos(gx**2 + gy**2)
    grid_dz_dy = 2 * gy * np.cos(gx**2 + gy**2)
    return {
        "points": pts, "z": z, "dz_dx": dz_dx, "dz_dy": dz_dy,
        "grid": g, "grid_dz_dx": grid_dz_dx, "grid_dz_dy": grid_dz_dy,
    }


def seed002_simple_graph(w=-0.5, b=0.5, x=1.0, y=7.0):
    """prediction = tanh(x w + b), loss = (y - prediction)^2."""
    pre = x * w + b
    prediction = np.tanh(pre)
    loss = (y - prediction) ** 2
    dloss_dpred = -2.0 * (y - prediction)
    dpred_dpre = 1.0 - prediction**2
    return {
        "w": w, "b": b, "x": x, "y": y, "pre_activation": float(pre),
        "prediction": float(prediction), "loss": float(loss),
        "dloss_dprediction": float(dloss_dpred),
        "dloss_dw": float(dloss_dpred * dpred_dpre * x),
        "dloss_db": float(dloss_dpred * dpred_dpre),
    }


# ---------------------------------------------------------------------------------------------------
# seed 003 -- per-sample SGD for y = w x; the autograd hands-on
# ---------------------------------------------------------------------------------------------------


def seed003_sgd(epochs=10, w=1.0, lr=0.01):
    """The notes' loop: for each sample, grad = 2x(xw - y); w -= lr*grad; l = (xw - y)^2 (after the update).

    ``steps`` rows are (epoch, x, y, grad) in execution order; ``progress`` rows are (epoch, w, loss) at
    the end of each epoch, where loss is the notes' ``l``: the last sample's loss after its own update.
    """
    x_data = [1.0, 2.0, 3.0]
    y_data = [2.0, 4.0, 6.0]
    predict_before = 4.0 * w
    steps, progress = [], []
    for epoch in range(epochs):
        for x, y in zip(x_data, y_data):
            grad = 2.0 * x * (x * w - y)
            w = w - lr * grad
            steps.append((epoch, x, y, grad))
            l = (x * w - y) ** 2
        progress.append((epoch, w, l))
    return {
        "steps": np.array(steps), "progress": np.array(progress), "w": w,
        "predict_before": predict_before, "predict_after": 4.0 * w,
    }


def seed003_epoch_count_check():
    """The notes' code says range(100) but the printed log (epochs 0..9, 'predict ... 7.80') is 10 epochs."""
    return {
        "predict_after_10": seed003_sgd(epochs=10)["predict_after"],
        "predict_after_100": seed003_sgd(epochs=100)["predict_after"],
        "notes_printed": 7.80,
    }


def seed003_autograd_hands_on():
    """x = ones(2, 2); y = x + 2; z = 3 y^2; out = mean(z); d(out)/dx = 6 y / 4 = 1.5 (x + 2)."""
    x = np.ones((2, 2))
    y = x + 2
    z = 3 * y * y
    out = float(z.mean())
    grad = 6 * y / z.size
    return {"x": x, "y": y, "z": z, "out": out, "grad": grad}


# ---------------------------------------------------------------------------------------------------
# seed 004 -- XOR with fixed sigmoid units, c = a + b / d = a * c, circle boundary + BCE, Jacobians,
#             the two-layer PyTorch network
# ---------------------------------------------------------------------------------------------------


def seed004_xor():
    """XOR(x1, x2) = AND(OR(x1, x2), NAND(x1, x2)) with sigmoid units.

    Rows follow the notes' table order: (0,0), (1,1), (0,1), (1,0).  The AND column of the notes' table
    is evaluated on the hidden outputs (OR, NAND), not on (x1, x2).
    """
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    or_pre = 20 * X[:, 0] + 20 * X[:, 1] - 10
    nand_pre = -20 * X[:, 0] - 20 * X[:, 1] + 30
    or_out = sigmoid(or_pre)
    nand_out = sigmoid(nand_pre)
    # the notes' table feeds the rounded hidden values (0/1) into AND ...
    and_pre_rounded = 20 * np.round(or_out) + 20 * np.round(nand_out) - 30
    # ... the network itself feeds the exact sigmoid outputs
    and_pre = 20 * or_out + 20 * nand_out - 30
    xor_out = sigmoid(and_pre)
    # AND applied directly to the inputs, for comparison
    and_of_inputs = sigmoid(20 * X[:, 0] + 20 * X[:, 1] - 30)
    return {
        "X": X, "or_pre": or_pre, "or_out": or_out, "nand_pre": nand_pre, "nand_out": nand_out,
        "and_pre_rounded": and_pre_rounded, "and_pre": and_pre, "xor_out": xor_out,
        "xor_target": np.array([0.0, 0.0, 1.0, 1.0]), "and_of_inputs": and_of_inputs,
    }


def seed004_graph_derivatives(a=4.0, b=3.0):
    """c = a + b, d = a * c.  'Multiply along a route, add the routes'."""
    c = a + b
    d = a * c
    # local derivatives (edges)
    local_dd_da = c  # d = a * c, holding c fixed
    local_dd_dc = a
    local_dc_da = 1.0
    local_dc_db = 1.0
    # routes from d back to a:  d -> a  and  d -> c -> a   (seed dd/dd = 1)
    route_direct = 1.0 * local_dd_da
    route_via_c = (1.0 * local_dd_dc) * local_dc_da
    return {
        "a": a, "b": b, "c": c, "d": d,
        "route_direct": route_direct, "route_via_c": route_via_c,
        "dd_da": route_direct + route_via_c,  # 0 + 1*c + (1*a)*1 = 2a + b = 11
        "dd_db": local_dd_dc * local_dc_db,  # a = 4
        "dd_dc": local_dd_dc,  # a = 4
        "dc_da": local_dc_da,  # 1
        "dc_db": local_dc_db,  # 1
    }


SEED004_CIRCLE_W = np.array([1.0, 0.5, -0.5])  # (w0 = radius, w1, w2 = centre)
SEED004_CIRCLE_X = np.array([[2.0, 0.0], [0.5, -0.5], [0.0, 0.0], [-1.5, 1.0], [1.0, -1.0]])
SEED004_CIRCLE_Y = np.array([1.0, 0.0, 0.0, 1.0, 0.0])


def _circle_forward(w, X, y):
    w0, w1, w2 = w
    z = (X[:, 0] - w1) ** 2 + (X[:, 1] - w2) ** 2 - w0**2
    y_hat = sigmoid(z)
    loss = -y * np.log(y_hat) - (1 - y) * np.log(1 - y_hat)
    return z, y_hat, loss


def seed004_circle_bce(w=None, X=None, y=None, lr=0.1):
    """z = (x1 - w1)^2 + (x2 - w2)^2 - w0^2, y_hat = sigmoid(z), BCE loss.

    dz/dw0 = -2 w0, dz/dw1 = -2 (x1 - w1), dz/dw2 = -2 (x2 - w2), dLoss/dz = y_hat - y.
    The first sample, x = (2, 0) with y = 1, is the single-sample example ("sample_*" keys).
    Per-sample gradients are accumulated, divided by m, and compared with the gradient of the mean loss.
    """
    w = SEED004_CIRCLE_W if w is None else np.asarray(w, dtype=float)
    X = SEED004_CIRCLE_X if X is None else np.asarray(X, dtype=float)
    y = SEED004_CIRCLE_Y if y is None else np.asarray(y, dtype=float)
    m = len(y)
    w0, w1, w2 = w

    z, y_hat, loss = _circle_forward(w, X, y)
    dz_dw = np.stack([np.full(m, -2 * w0), -2 * (X[:, 0] - w1), -2 * (X[:, 1] - w2)], axis=1)  # (m, 3)
    dloss_dz = y_hat - y
    dloss_dw = dloss_dz[:, None] * dz_dw  # (m, 3) per-sample gradients

    # gradient accumulation, as in the notes' loop
    grad = np.zeros(3)
    for i in range(m):
        grad += dloss_dw[i]
    accumulated_mean = grad / m

    # batched: gradient of the mean loss, written with whole-batch operations
    batched_mean = np.array([
        np.mean(dloss_dz * -2 * w0),
        np.mean(dloss_dz * -2 * (X[:, 0] - w1)),
        np.mean(dloss_dz * -2 * (X[:, 1] - w2)),
    ])

    w_descent = w - lr * accumulated_mean  # correct: minus
    w_notes_sign = w + lr * accumulated_mean  # the notes' `w0 = w0 + learningRate * w0.grad/m`
    return {
        "w": w, "X": X, "y": y, "m": m,
        "z": z, "y_hat": y_hat, "loss": loss, "mean_loss": float(loss.mean()),
        "dz_dw": dz_dw, "dloss_dz": dloss_dz, "dloss_dw": dloss_dw,
        "sample_x": X[0], "sample_y": y[0], "sample_z": z[0], "sample_dz_dw": dz_dw[0],
        "sample_dloss_dw": dloss_dw[0],
        "accumulated_sum": grad, "accumulated_mean": accumulated_mean, "batched_mean": batched_mean,
        "w_descent": w_descent, "mean_loss_descent": float(_circle_forward(w_descent, X, y)[2].mean()),
        "w_notes_sign": w_notes_sign,
        "mean_loss_notes_sign": float(_circle_forward(w_notes_sign, X, y)[2].mean()),
    }


SEED004_W43 = np.arange(1.0, 13.0).reshape(4, 3)  # W in y = W x   (R^3 -> R^4)
SEED004_W34 = np.arange(1.0, 13.0).reshape(3, 4)  # W in y = x W   (row vectors, R^3 -> R^4)
SEED004_X3 = np.array([1.0, -2.0, 3.0])


def seed004_jacobians(W43=None, W34=None, x=None):
    """Jacobians of y = W x and y = x W, plus the 3-D tensor dy/dW for y = W x.

    Numerator layout (the notes' own definition J_ij = d y_i / d x_j, J in R^{n x m}):
      y = W x  ->  J = W            (4 x 3)
      y = x W  ->  J = W^T          (4 x 3)   -- the notes claim 'also equal to W'
    Denominator layout ((dy/dx)_ij = d y_j / d x_i):
      y = x W  ->  dy/dx = W        (3 x 4)
    dy/dW for y = W x: t[i, j, k] = d y_i / d W[k, j] = x_j if i == k else 0.
    """
    W43 = SEED004_W43 if W43 is None else np.asarray(W43, dtype=float)
    W34 = SEED004_W34 if W34 is None else np.asarray(W34, dtype=float)
    x = SEED004_X3 if x is None else np.asarray(x, dtype=float)
    n, m = W43.shape
    T = np.zeros((n, m, n))
    for i in range(n):
        T[i, :, i] = x
    V = np.arange(1.0, 9.0).reshape(2, 4)  # for the chain rule y = V W x
    return {
        "W43": W43, "W34": W34, "x": x,
        "y_Wx": W43 @ x, "J_Wx": W43.copy(),
        "y_xW": x @ W34, "J_xW_numerator": W34.T.copy(), "J_xW_denominator": W34.copy(),
        "dy_dW_tensor": T,
        "V": V, "J_VWx": V @ W43,
    }


def seed004_two_layer_net(x, y, w1, w2, learning_rate=1e-6, steps=500):
    """NumPy version of the (corrected) PyTorch snippet: y_pred = relu(x w1) w2, loss = sum((y_pred - y)^2).

    Returns the first-step gradients and the loss / weights after ``steps`` plain gradient-descent steps.
    """
    w1 = np.array(w1, dtype=float)
    w2 = np.array(w2, dtype=float)
    losses = []
    first = None
    for t in range(steps):
        h = x @ w1
        h_relu = relu(h)
        y_pred = h_relu @ w2
        loss = float(np.sum((y_pred - y) ** 2))
        grad_y_pred = 2.0 * (y_pred - y)
        grad_w2 = h_relu.T @ grad_y_pred
        grad_h = (grad_y_pred @ w2.T) * (h > 0)
        grad_w1 = x.T @ grad_h
        if first is None:
            first = {"loss0": loss, "grad_w1": grad_w1, "grad_w2": grad_w2}
        losses.append(loss)
        w1 = w1 - learning_rate * grad_w1
        w2 = w2 - learning_rate * grad_w2
    return {**first, "losses": np.array(losses), "w1": w1, "w2": w2}


def seed004_two_layer_data(seed=0, N=64, D_in=1000, H=100, D_out=10):
    """Deterministic stand-in for the snippet's torch.randn tensors."""
    rng = np.random.default_rng(seed)
    return {
        "x": rng.standard_normal((N, D_in)), "y": rng.standard_normal((N, D_out)),
        "w1": rng.standard_normal((D_in, H)), "w2": rng.standard_normal((H, D_out)),
    }


# ---------------------------------------------------------------------------------------------------
# self-check: every function against PyTorch autograd (float64) and/or central finite differences
# ---------------------------------------------------------------------------------------------------


def _fd_grad(f, p, eps=1e-6):
    """Central finite differences of scalar f with respect to array p."""
    p = np.array(p, dtype=float)
    g = np.zeros_like(p)
    for idx in np.ndindex(p.shape):
        old = p[idx]
        p[idx] = old + eps
        fp = f(p)
        p[idx] = old - eps
        fm = f(p)
        p[idx] = old
        g[idx] = (fp - fm) / (2 * eps)
    return g


if __name__ == "__main__":
    import torch

    torch.set_default_dtype(torch.float64)
    failures = []

    def check(name, got, want, atol=1e-10, rtol=1e-8):
        got = np.asarray(got, dtype=float)
        want = np.asarray(want, dtype=float)
        ok = got.shape == want.shape and np.allclose(got, want, atol=atol, rtol=rtol)
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
        if not ok:
            failures.append(name)
            print("     got ", got.shape, got.ravel()[:8], "\n     want", want.shape, want.ravel()[:8])

    def T(a):
        return torch.tensor(np.asarray(a, dtype=float), requires_grad=True)

    # ---- seed 000 -------------------------------------------------------------------------------
    r = seed000_sigmoid_mlp()
    W0, b0, W1, b1 = T(r["W0"]), T(r["b0"]), T(r["W1"]), T(r["b1"])
    x, y = torch.tensor(r["x"]), torch.tensor(r["y"])
    v0 = x @ W0 + b0
    v0.retain_grad()
    y0 = torch.sigmoid(v0)
    y0.retain_grad()
    v1 = y0 @ W1 + b1
    v1.retain_grad()
    yh = torch.sigmoid(v1)
    yh.retain_grad()
    L = ((y - yh) ** 2).sum() / len(y)
    L.backward()
    for k, t in [("v0", v0), ("y0", y0), ("v1", v1), ("y_hat", yh)]:
        check(f"000 {k}", r[k], t.detach())
    check("000 L", r["L"], L.item())
    for k, t in [("dL_dyhat", yh), ("dL_dv1", v1), ("dL_dy0", y0), ("dL_dv0", v0)]:
        check(f"000 {k}", r[k], t.grad)
    for k, t in [("dL_dW1", W1), ("dL_db1", b1), ("dL_dW0", W0), ("dL_db0", b0)]:
        check(f"000 {k}", r[k], t.grad)
    with torch.no_grad():
        for k, t in [("W0", W0), ("b0", b0), ("W1", W1), ("b1", b1)]:
            check(f"000 {k}_new", r[k + "_new"], t - r["lr"] * t.grad)
    def loss000(W0, b0, W1, b1):
        return float(np.sum((r["y"] - sigmoid(sigmoid(r["x"] @ W0 + b0) @ W1 + b1)) ** 2))

    params000 = {"W0": r["W0"], "b0": r["b0"], "W1": r["W1"], "b1": r["b1"]}
    for name, value in params000.items():
        def f000(p, name=name):
            return loss000(**{**params000, name: p})
        check(f"000 dL_d{name} FD", r[f"dL_d{name}"], _fd_grad(f000, value), 1e-9)
    # the notes' printed numbers that are right (4 d.p.)
    check("000 notes forward prints", np.round([*r["v0"].ravel(), *r["y0"].ravel(), r["v1"].item(),
                                                r["y_hat"].item(), r["L"]], 4),
          [0.28, 0.31, 0.5695, 0.5769, 0.9809, 0.7273, 0.0744])
    check("000 notes gradient prints", np.round([r["dL_dyhat"].item(), r["dyhat_dv1"].item(),
                                                 *r["dL_dW1"].ravel(), r["dL_db1"].item(),
                                                 *r["dL_dy0"].ravel(), *r["dL_dW0"].ravel(),
                                                 *r["dL_db0"]], 4),
          [-0.5454, 0.1983, -0.0616, -0.0624, -0.1082, -0.0541, -0.0649, -0.004, -0.0048, -0.0133, -0.0158])
    check("000 notes W1 shape is (2,2,1)", r["notes_W1_new"].shape, (2, 2, 1))
    check("000 notes W1[0,1] mixes gradients", r["notes_W1_new"][0, 1, 0], 0.6 - 0.01 * r["dL_dW1"][0, 0])

    # ---- seed 001 -------------------------------------------------------------------------------
    r = seed001_softmax_ce()
    lg = T(r["logits"])
    p = torch.softmax(lg, 0)
    ce = torch.nn.functional.cross_entropy(lg[None], torch.tensor([1]))
    ce.backward()
    check("001 softmax", r["p"], p.detach())
    check("001 ce (index 1)", r["ce_index1"], ce.item())
    check("001 ce == ce_index1", r["ce"], r["ce_index1"])
    check("001 ce index 2", r["ce_index2"],
          torch.nn.functional.cross_entropy(lg[None].detach(), torch.tensor([2])).item())
    check("001 dce/dlogits", r["dce_dlogits"], lg.grad)
    check("001 notes p (4 d.p.)", np.round(r["p"], 4), [0.0470, 0.0023, 0.9443, 0.0064])

    r = seed001_linear_relu()
    check("001 W2 h1", r["h2bar"], [-3.5, 0.5, -1.5])
    check("001 relu", r["h2"], torch.relu(torch.tensor(r["h2bar"])))

    r = seed001_regression_net()
    W1, b1, W2, b2 = T(r["W1"]), T(r["b1"]), T(r["W2"]), T(r["b2"])
    x, y = torch.tensor(r["x"]), torch.tensor(r["y"])
    h1bar = W1 @ x + b1
    h1bar.retain_grad()
    h1 = torch.relu(h1bar)
    h1.retain_grad()
    yhat = W2 @ h1 + b2
    yhat.retain_grad()
    loss = torch.linalg.vector_norm(y - yhat)
    loss.backward()
    check("001 h1bar", r["h1bar"], h1bar.detach())
    check("001 h1", r["h1"], h1.detach())
    check("001 yhat", r["yhat"], yhat.detach())
    check("001 loss", r["loss"], loss.item())
    check("001 dl_dh2", r["dl_dh2"], yhat.grad)
    check("001 dl_dh1", r["dl_dh1"], h1.grad)
    check("001 dl_dh1bar", r["dl_dh1bar"], h1bar.grad)
    for k, t in [("W2", W2), ("b2", b2), ("W1", W1), ("b1", b1)]:
        check(f"001 dl_d{k}", r[f"dl_d{k}"], t.grad)
        with torch.no_grad():
            check(f"001 {k}_new", r[f"{k}_new"], t - r["lr"] * t.grad)
    args = [r["x"], r["y"], r["W1"], r["b1"], r["W2"], r["b2"]]
    for i, k in [(2, "W1"), (3, "b1"), (4, "W2"), (5, "b2")]:
        check(f"001 dl_d{k} FD", r[f"dl_d{k}"],
              _fd_grad(lambda p, i=i: _seed001_l2_loss(*args[:i], p, *args[i + 1:]), args[i]), 1e-8)
    check("001 SGD step lowers the loss", r["loss_after"] < r["loss"], True)
    check("001 notes' step raises the loss", r["notes_loss_after"] > r["loss"], True)
    # the notes' dl/dh1 values are exactly minus the correct ones
    check("001 notes dl/dh1 = -correct", np.round(-r["dl_dh1"], 2), [-1.53, -0.77, -1.13, 0.41])
    check("001 notes b1 result = b1 + lr*dl/dh1", np.round(r["notes_b1_new"], 3),
          [0.015, 1.008, 1.011, -1.004])

    # ---- seed 002 -------------------------------------------------------------------------------
    r = seed002_sin_gradient()
    P = T(r["points"])
    torch.sin(P[:, 0] ** 2 + P[:, 1] ** 2).sum().backward()
    check("002 dz/dx", r["dz_dx"], P.grad[:, 0])
    check("002 dz/dy", r["dz_dy"], P.grad[:, 1])
    check("002 dz/dx FD", r["dz_dx"], [_fd_grad(lambda q: np.sin(q[0] ** 2 + q[1] ** 2), pt)[0]
                                       for pt in r["points"]], 1e-8)
    check("002 grid shape", r["grid_dz_dx"].shape, (11, 11))

    r = seed002_simple_graph()
    w, b = T([r["w"]]), T([r["b"]])
    pred = torch.tanh(torch.tensor([r["x"]]) * w + b)
    sl = (torch.tensor([r["y"]]) - pred) ** 2
    sl.backward()
    check("002 prediction", r["prediction"], pred.item())
    check("002 loss", r["loss"], sl.item())
    check("002 dloss/dw", r["dloss_dw"], w.grad.item())
    check("002 dloss/db", r["dloss_db"], b.grad.item())
    check("002 values", [r["prediction"], r["loss"], r["dloss_dw"], r["dloss_db"]], [0.0, 49.0, -14.0, -14.0])

    # ---- seed 003 -------------------------------------------------------------------------------
    r = seed003_sgd(epochs=10)
    wt = torch.tensor(1.0, requires_grad=True)
    torch_grads, torch_w = [], []
    for epoch in range(10):
        for xv, yv in zip([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]):
            (g,) = torch.autograd.grad((xv * wt - yv) ** 2, wt)
            torch_grads.append(g.item())
            wt = (wt - 0.01 * g).detach().requires_grad_(True)
        torch_w.append(wt.item())
    check("003 all 30 per-sample grads vs autograd", r["steps"][:, 3], torch_grads)
    check("003 w after each epoch vs autograd", r["progress"][:, 1], torch_w)
    check("003 notes grads (2 d.p.)", np.round(r["steps"][:12, 3], 2),
          [-2.0, -7.84, -16.23, -1.48, -5.8, -12.0, -1.09, -4.29, -8.87, -0.81, -3.17, -6.56])
    check("003 notes progress (2 d.p.)", np.round(r["progress"][[0, 1, 2, 7, 8, 9]][:, 1:], 2),
          [[1.26, 4.92], [1.45, 2.69], [1.6, 1.47], [1.91, 0.07], [1.93, 0.04], [1.95, 0.02]])
    check("003 notes progress 0 loss", r["progress"][0, 2], 4.919240100095999, atol=1e-15)
    c = seed003_epoch_count_check()
    check("003 7.80 is the 10-epoch prediction", round(c["predict_after_10"], 2), 7.80)
    check("003 100 epochs give 8.00", round(c["predict_after_100"], 2), 8.00)

    r = seed003_autograd_hands_on()
    xt = torch.ones(2, 2, requires_grad=True)
    out = (3 * (xt + 2) * (xt + 2)).mean()
    out.backward()
    check("003 out", r["out"], out.item())
    check("003 grad", r["grad"], xt.grad)
    check("003 values", [r["out"], r["grad"][0, 0]], [27.0, 4.5])

    # ---- seed 004 -------------------------------------------------------------------------------
    r = seed004_xor()
    Xt = torch.tensor(r["X"])
    or_t = torch.sigmoid(Xt @ torch.tensor([20.0, 20.0]) - 10)
    nand_t = torch.sigmoid(Xt @ torch.tensor([-20.0, -20.0]) + 30)
    check("004 XOR network vs torch", r["xor_out"], torch.sigmoid(20 * or_t + 20 * nand_t - 30))
    check("004 XOR rounded output", np.round(r["xor_out"]), r["xor_target"])
    check("004 OR rounded", np.round(r["or_out"]), [0, 1, 1, 1])
    check("004 NAND rounded", np.round(r["nand_out"]), [1, 0, 1, 1])
    check("004 notes AND args (20*OR + 20*NAND - 30)", r["and_pre_rounded"], [-10, -10, 10, 10])
    check("004 AND of inputs", np.round(r["and_of_inputs"]), [0, 1, 0, 0])

    r = seed004_graph_derivatives()
    a, bb = T(4.0), T(3.0)
    cc = a + bb
    cc.retain_grad()
    d = a * cc
    d.backward()
    check("004 dd/da", r["dd_da"], a.grad.item())
    check("004 dd/db", r["dd_db"], bb.grad.item())
    check("004 dd/dc", r["dd_dc"], cc.grad.item())
    a2, b2_ = T(4.0), T(3.0)
    (a2 + b2_).backward()
    check("004 dc/da", r["dc_da"], a2.grad.item())
    check("004 values", [r[k] for k in ("c", "d", "dd_da", "dd_db", "dd_dc", "dc_da")], [7, 28, 11, 4, 4, 1])

    r = seed004_circle_bce()
    wt = T(r["w"])
    Xt, yt = torch.tensor(r["X"]), torch.tensor(r["y"])
    zt = (Xt[:, 0] - wt[1]) ** 2 + (Xt[:, 1] - wt[2]) ** 2 - wt[0] ** 2
    bce = torch.nn.functional.binary_cross_entropy_with_logits(zt, yt)  # mean over the batch
    bce.backward()
    check("004 circle z", r["z"], zt.detach())
    check("004 circle mean loss", r["mean_loss"], bce.item())
    check("004 circle batched mean grad", r["batched_mean"], wt.grad)
    check("004 accumulated/m == batched mean", r["accumulated_mean"], r["batched_mean"], atol=1e-14)
    for i in range(r["m"]):
        wi = T(r["w"])
        zi = (Xt[i, 0] - wi[1]) ** 2 + (Xt[i, 1] - wi[2]) ** 2 - wi[0] ** 2
        (gz,) = torch.autograd.grad(zi, wi, retain_graph=True)
        torch.nn.functional.binary_cross_entropy_with_logits(zi, yt[i]).backward()
        check(f"004 circle sample {i} dz/dw", r["dz_dw"][i], gz)
        check(f"004 circle sample {i} dLoss/dw", r["dloss_dw"][i], wi.grad)
    check("004 circle sample dz/dw values", r["sample_dz_dw"], [-2.0, -3.0, -1.0])
    check("004 circle FD", r["batched_mean"],
          _fd_grad(lambda w: _circle_forward(w, r["X"], r["y"])[2].mean(), r["w"]), atol=1e-8)
    check("004 minus-sign step lowers loss", r["mean_loss_descent"] < r["mean_loss"], True)
    check("004 notes' plus-sign step raises loss", r["mean_loss_notes_sign"] > r["mean_loss"], True)

    r = seed004_jacobians()
    from torch.autograd.functional import jacobian

    check("004 J(Wx) == W", r["J_Wx"], jacobian(lambda v: torch.tensor(r["W43"]) @ v, torch.tensor(r["x"])))
    Jt = jacobian(lambda v: v @ torch.tensor(r["W34"]), torch.tensor(r["x"]))  # torch: J[i,j] = dy_i/dx_j
    check("004 J(xW) numerator layout == W^T", r["J_xW_numerator"], Jt)
    check("004 J(xW) denominator layout == W", r["J_xW_denominator"], Jt.T)
    Tt = jacobian(lambda M: M @ torch.tensor(r["x"]), torch.tensor(r["W43"]))  # [i, k, j] = dy_i/dW[k,j]
    check("004 dy/dW tensor t[i,j,k]", r["dy_dW_tensor"], Tt.permute(0, 2, 1))
    check("004 chain rule J(VWx) == VW", r["J_VWx"],
          jacobian(lambda v: torch.tensor(r["V"]) @ (torch.tensor(r["W43"]) @ v), torch.tensor(r["x"])))

    # the corrected PyTorch snippet, run in float64 on the same initial arrays
    data = seed004_two_layer_data()
    r = seed004_two_layer_net(data["x"], data["y"], data["w1"], data["w2"], steps=500)
    x_t, y_t = torch.tensor(data["x"]), torch.tensor(data["y"])
    w1 = torch.tensor(data["w1"], requires_grad=True)
    w2 = torch.tensor(data["w2"], requires_grad=True)
    learning_rate = 1e-6
    torch_losses = []
    for t in range(500):
        y_pred = x_t.mm(w1).clamp(min=0).mm(w2)
        loss = (y_pred - y_t).pow(2).sum()
        torch_losses.append(loss.item())
        loss.backward()
        if t == 0:
            check("004 two-layer grad w1", r["grad_w1"], w1.grad, atol=1e-8)
            check("004 two-layer grad w2", r["grad_w2"], w2.grad, atol=1e-8)
        with torch.no_grad():
            w1 -= learning_rate * w1.grad
            w2 -= learning_rate * w2.grad
            w1.grad.zero_()
            w2.grad.zero_()
    check("004 two-layer loss curve (500 steps)", r["losses"], torch_losses, rtol=1e-9, atol=1e-6)
    check("004 two-layer loss decreases", r["losses"][-1] < r["losses"][0], True)
    print(f"     two-layer loss: step 0 {r['losses'][0]:.1f} -> step 499 {r['losses'][-1]:.4g}")

    print()
    if failures:
        print(f"{len(failures)} FAILED: {failures}")
        raise SystemExit(1)
    print("all reference values agree with PyTorch autograd / finite differences")

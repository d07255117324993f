"""The example gallery (examples/seed00X_*.py) gives the correct numbers.

Each script's ``main()`` is run once (module-scoped fixture) and the numbers it returns are checked
against tests/seed_reference.py (independent NumPy float64) or PyTorch, never against the script's own
output. The scripts also print; pytest captures that.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import seed_reference as ref

from chainrule.backend import xp
from chainrule.data import datasets

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(name: str):
    """Import examples/<name>.py as a module (the examples folder is not a package)."""
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def close(got, want, atol=1e-12, rtol=1e-10) -> None:
    got = xp.asarray(got, dtype=xp.float64)
    want = xp.asarray(want, dtype=xp.float64)
    assert got.shape == want.shape, f"shape {got.shape} != {want.shape}"
    assert xp.allclose(got, want, atol=atol, rtol=rtol), f"\n got  {got}\n want {want}"


def test_every_example_has_a_summary_and_main():
    scripts = sorted(EXAMPLES.glob("seed*.py"))
    assert len(scripts) >= 5
    for path in scripts:
        text = path.read_text()
        first = text.split('"""')[1].splitlines()[0]
        assert text.startswith('"""') and first.strip() and first.startswith("Seed 00"), path.name
        assert "def main(argv" in text and 'if __name__ == "__main__":' in text, path.name
        assert "import numpy" not in text, path.name  # NumPy only through chainrule.backend


# ---------------------------------------------------------------------------------------- seed 000

@pytest.fixture(scope="module")
def ex000():
    return load("seed000_sigmoid_network").main([])


def test_seed000_forward_and_loss(ex000):
    r = ref.seed000_sigmoid_mlp()
    for k in ("v0", "y0", "v1", "y_hat"):
        close(ex000[k], r[k])
    close(ex000["L"], r["L"])


@pytest.mark.parametrize("how", ["auto", "hand"])
def test_seed000_gradients_have_the_parameters_shapes(ex000, how):
    r = ref.seed000_sigmoid_mlp()
    for k in ("dL_dyhat", "dL_dv1", "dL_dy0", "dL_dv0", "dL_dW1", "dL_db1", "dL_dW0", "dL_db0"):
        close(ex000[f"{how}_{k}"], r[k])  # close() also checks the shape: (2, 1), (1,), (1, 2), (2,)


def test_seed000_one_step(ex000):
    r = ref.seed000_sigmoid_mlp()
    for k in ("W0_new", "b0_new", "W1_new", "b1_new"):
        close(ex000[k], r[k])
    close(ex000["notes_W1_new"], r["notes_W1_new"])  # the notes' (2, 2, 1) mistake, reproduced


# ---------------------------------------------------------------------------------------- seed 001

@pytest.fixture(scope="module")
def ex001():
    return load("seed001_softmax_relu_regression").main([])


def test_seed001_softmax_cross_entropy(ex001, torch):
    r = ref.seed001_softmax_ce()
    close(ex001["ce_p"], r["p"])
    close(ex001["ce_ce"], r["ce_index1"])
    close(ex001["ce_ce_library"], r["ce_index1"])
    close(ex001["ce_dce_dlogits"], r["dce_dlogits"])
    logits = torch.tensor([[2.0, -1.0, 5.0, 0.0]], dtype=torch.float64)
    close(ex001["ce_ce"], torch.nn.functional.cross_entropy(logits, torch.tensor([1])).item())


def test_seed001_linear_relu(ex001):
    r = ref.seed001_linear_relu()
    close(ex001["relu_h2bar"], r["h2bar"])
    close(ex001["relu_h2"], r["h2"])


def test_seed001_regression_net(ex001):
    r = ref.seed001_regression_net()
    for k in ("h1bar", "h1", "yhat", "loss", "dl_dh2", "dl_dh1", "dl_dh1bar",
              "dl_dW2", "dl_db2", "dl_dW1", "dl_db1"):
        close(ex001[f"net_{k}"], r[k])
    for k in ("W2", "b2", "W1", "b1"):
        close(ex001[f"net_hand_dl_d{k}"], r[f"dl_d{k}"])
        close(ex001[f"net_{k}_new"], r[f"{k}_new"])
        close(ex001[f"net_notes_{k}_new"], r[f"notes_{k}_new"])
    close(ex001["net_loss_after"], r["loss_after"])
    close(ex001["net_notes_loss_after"], r["notes_loss_after"])
    assert ex001["net_loss_after"] < ex001["net_loss"] < ex001["net_notes_loss_after"]


# ---------------------------------------------------------------------------------------- seed 002

@pytest.fixture(scope="module")
def ex002(tmp_path_factory):
    return load("seed002_gradient_field_autograd").main(["--out", str(tmp_path_factory.mktemp("ex002"))])


def test_seed002_gradient_of_sin(ex002):
    r = ref.seed002_sin_gradient()
    close(ex002["points"], r["points"])
    for how in ("", "hand_"):
        close(ex002[f"{how}dz_dx"], r["dz_dx"])
        close(ex002[f"{how}dz_dy"], r["dz_dy"])
    close(ex002["grid_dz_dx"], r["grid_dz_dx"])
    close(ex002["grid_dz_dy"], r["grid_dz_dy"])


def test_seed002_gradient_field_plot_is_a_png(ex002):
    data = Path(ex002["plot_path"]).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_seed002_simple_graph(ex002):
    r = ref.seed002_simple_graph()
    for k in ("prediction", "loss", "dloss_dw", "dloss_db"):
        close(ex002[k], r[k])
    close(ex002["ana_dloss_dw"], r["dloss_dw"])
    close(ex002["ana_dloss_db"], r["dloss_db"])
    assert ex002["grad_fn_names"] == {"c = a + b": "AddBackward0", "prediction": "TanhBackward0",
                                      "loss": "PowBackward0"}


# ---------------------------------------------------------------------------------------- seed 003

@pytest.fixture(scope="module")
def ex003():
    return load("seed003_sgd_autograd_convnet").main([])


def test_seed003_sgd_by_hand_and_by_autograd(ex003):
    r = ref.seed003_sgd(epochs=10)
    for how in ("hand", "auto"):
        close(ex003[f"{how}_grads"], r["steps"][:, 3])
        close(ex003[f"{how}_progress"], r["progress"])
    # identical, not just close: the same float64 operations in the same order
    assert ex003["hand_grads"] == ex003["auto_grads"]
    assert ex003["hand_progress"] == ex003["auto_progress"]
    c = ref.seed003_epoch_count_check()
    close(ex003["predict_after_10"], c["predict_after_10"])
    close(ex003["predict_after_100"], c["predict_after_100"])


def test_seed003_hands_on(ex003):
    r = ref.seed003_autograd_hands_on()
    close(ex003["out"], r["out"])
    close(ex003["grad"], r["grad"])


def test_seed003_convnet_learns_the_digits(ex003):
    # 10 classes: chance is 10%. A few epochs of a small ConvNet reach well above 90% on held-out digits.
    history = ex003["convnet_history"]
    assert history[-1][1] < history[0][1]  # training loss went down
    assert ex003["convnet_test_accuracy"] >= 0.9
    assert ex003["convnet_train_accuracy"] >= 0.9


def test_seed003_convnet_forward_matches_pytorch(ex003, torch):
    # The same architecture with the script's initial weights gives the same loss on the training set.
    images, labels = datasets.digits(train=True).tensors
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(64, 10))
    model.load_state_dict({k: torch.tensor(v) for k, v in ex003["convnet_start"].items()})
    with torch.no_grad():
        loss = torch.nn.functional.cross_entropy(model(torch.tensor(images.numpy())),
                                                 torch.tensor(labels.numpy()))
    close(ex003["convnet_start_loss"], loss.item(), atol=1e-5, rtol=1e-5)


# ---------------------------------------------------------------------------------------- seed 004

@pytest.fixture(scope="module")
def ex004(tmp_path_factory):
    return load("seed004_xor_graph_circle_twolayer").main(["--out", str(tmp_path_factory.mktemp("ex004"))])


def test_seed004_xor_fixed_weights(ex004):
    r = ref.seed004_xor()
    close(ex004["xor_X"], r["X"])
    for k in ("or_out", "nand_out", "xor_out"):
        close(ex004[k], r[k])


def test_seed004_xor_learned(ex004):
    assert [round(v) for v in ex004["xor_learned_p"].tolist()] == [0, 1, 1, 0]
    assert ex004["xor_learned_losses"][-1] < 0.05 < ex004["xor_learned_losses"][0]


def test_seed004_xor_learned_matches_pytorch(ex004, torch):
    # The same network, initial weights, loss and optimizer in PyTorch follow the same loss curve.
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    model.load_state_dict({k: torch.tensor(v) for k, v in ex004["xor_learned_start"].items()})
    X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = torch.tensor([[0.0], [1.0], [1.0], [0.0]])
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(len(ex004["xor_learned_losses"])):
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    close(ex004["xor_learned_losses"], losses, atol=1e-4, rtol=1e-3)  # float32 in both


def test_seed004_graph_route_by_route(ex004):
    r = ref.seed004_graph_derivatives()
    for k in ("c", "d", "dd_da", "dd_db", "dd_dc", "dc_da"):
        close(ex004[k], r[k])
    assert ex004["explain_totals"] == {"a": r["dd_da"], "b": r["dd_db"]}
    text = ex004["explain_text"]
    assert "d → c → a" in text and "11" in text


def test_seed004_circle_single_sample_and_accumulation(ex004):
    r = ref.seed004_circle_bce()
    close(ex004["circle_sample_dz_dw"], r["sample_dz_dw"])
    close(ex004["circle_per_sample"], r["dloss_dw"])
    close(ex004["circle_accumulated_mean"], r["accumulated_mean"])
    close(ex004["circle_batched_mean"], r["batched_mean"])
    close(ex004["circle_accumulated_mean"], ex004["circle_batched_mean"], atol=1e-15)
    close(ex004["circle_mean_loss"], r["mean_loss"])
    close(ex004["circle_mean_loss_library"], r["mean_loss"])
    close(ex004["circle_loss_descent"], r["mean_loss_descent"])
    close(ex004["circle_loss_notes_sign"], r["mean_loss_notes_sign"])


def test_seed004_circle_training_matches_pytorch(ex004, torch):
    X = torch.tensor(ex004["circle_X"])
    y = torch.tensor(ex004["circle_y"])
    w = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64, requires_grad=True)
    for _ in range(ex004["circle_steps"]):
        z = (X[:, 0] - w[1]) ** 2 + (X[:, 1] - w[2]) ** 2 - w[0] ** 2
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
        (g,) = torch.autograd.grad(loss, w)
        with torch.no_grad():
            w -= ex004["circle_lr"] * g
    close(ex004["circle_w"], w.detach(), atol=1e-10, rtol=1e-8)
    assert ex004["circle_accuracy"] >= 0.95
    data = Path(ex004["circle_plot"]).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"


def test_seed004_two_layer_net(ex004):
    s = ex004["two_layer_start"]
    r = ref.seed004_two_layer_net(*(s[k].astype(xp.float64) for k in ("x", "y", "w1", "w2")), steps=100)
    losses = xp.asarray(ex004["two_layer_losses"])
    # float32 (the notes' dtype) against the float64 reference: agree closely while the loss is large
    close(losses[:100], r["losses"][:100], rtol=1e-3, atol=0)
    assert losses[-1] < 1e-9 * losses[0]  # 3e7 -> ~1e-5: it trains
    assert (xp.diff(losses[10:300]) < 0).all()  # after a bump in the first steps it falls at every step

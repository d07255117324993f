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

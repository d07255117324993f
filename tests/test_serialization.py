"""Model files: chainrule.save / chainrule.load (safetensors), and interchange with PyTorch."""

from __future__ import annotations

import io

import pytest

import chainrule as cr
from chainrule.backend import xp


def _state_dict():
    return {
        "fc.weight": cr.randn(3, 4),
        "fc.bias": cr.randn(3).double(),
        "transposed": cr.randn(4, 5).T,  # not contiguous: must be compacted, not garbled
        "count": cr.tensor(7),  # 0-d
        "mask": cr.tensor([True, False, True]),
        "pixels": cr.tensor([0, 128, 255], dtype=cr.uint8),
        "half": cr.tensor([0.5, -1.0], dtype=cr.float16),
        "empty": cr.zeros(0, 3),
    }


def test_state_dict_round_trip_keeps_values_dtypes_shapes_and_order(tmp_path):
    sd = _state_dict()
    path = tmp_path / "model.safetensors"
    cr.save(sd, path)
    back = cr.load(path)
    assert list(back) == list(sd)  # key order restored, although safetensors sorts its tensors
    for k, t in sd.items():
        assert back[k].dtype == t.dtype and back[k].shape == t.shape, k
        assert cr.equal(back[k], t), k
    back["fc.weight"].add_(1.0)  # loaded tensors own writable memory (optimizers update in place)
    assert cr.allclose(back["fc.weight"], sd["fc.weight"] + 1.0)


def test_plain_safetensors_files_are_read_as_flat_dicts(tmp_path):
    from safetensors.numpy import load_file, save_file

    path = tmp_path / "plain.safetensors"
    save_file({"a": xp.arange(6, dtype=xp.float32).reshape(2, 3), "b": xp.array([1, 2])}, str(path))
    back = cr.load(path)
    assert sorted(back) == ["a", "b"] and back["a"].tolist() == [[0, 1, 2], [3, 4, 5]]
    # ...and our files are plain safetensors files for every other reader.
    cr.save({"w": cr.ones(2)}, path)
    assert load_file(str(path))["w"].tolist() == [1.0, 1.0]


def test_nested_checkpoint_round_trip(tmp_path):
    ckpt = {
        "model": {"fc.weight": cr.ones(2, 2), "fc.bias": cr.zeros(2)},
        "optimizer": {"state": {0: {"momentum_buffer": cr.full((2, 2), 0.5), "step": cr.tensor(3.0)}},
                      "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1], "nesterov": False,
                                        "foreach": None, "eps": 1e-8}]},
        "epoch": 3,
        "history": {"loss": [0.9, 0.5, 0.25], "note": "digits cnn"},
        "$odd key": 1.5,
    }
    buffer = io.BytesIO()
    cr.save(ckpt, buffer, metadata={"author": "test"})
    back = cr.load(io.BytesIO(buffer.getvalue()))
    assert back["epoch"] == 3 and back["history"] == ckpt["history"] and back["$odd key"] == 1.5
    assert back["optimizer"]["param_groups"] == ckpt["optimizer"]["param_groups"]  # tuples stay tuples
    state = back["optimizer"]["state"]
    assert list(state) == [0]  # int keys stay ints
    assert state[0]["step"].shape == () and state[0]["step"].item() == 3.0
    assert cr.equal(state[0]["momentum_buffer"], ckpt["optimizer"]["state"][0]["momentum_buffer"])
    assert cr.equal(back["model"]["fc.weight"], cr.ones(2, 2))
    # A single tensor is a valid object too.
    cr.save(cr.arange(4), tmp_path / "t.safetensors")
    assert cr.load(tmp_path / "t.safetensors").tolist() == [0, 1, 2, 3]


def test_optimizer_state_survives_a_file(tmp_path):
    w = cr.randn(3, requires_grad=True)
    opt = cr.optim.Adam([w], lr=0.01)
    (w ** 2).sum().backward()
    opt.step()
    cr.save({"w": w.detach(), "optimizer": opt.state_dict()}, tmp_path / "ckpt.safetensors")
    back = cr.load(tmp_path / "ckpt.safetensors")
    w2 = back["w"].clone().requires_grad_()
    opt2 = cr.optim.Adam([w2], lr=0.5)
    opt2.load_state_dict(back["optimizer"])
    assert opt2.param_groups[0]["lr"] == 0.01
    for o in (opt, opt2):  # one more identical step on both: same result iff the state came back
        o.zero_grad()
    (w ** 2).sum().backward()
    (w2 ** 2).sum().backward()
    opt.step()
    opt2.step()
    assert cr.allclose(w, w2)


def test_unsupported_values_and_name_clashes_are_refused(tmp_path):
    with pytest.raises(TypeError, match=r"cannot store a object \(at 'model.extra'\).*never pickled"):
        cr.save({"model": {"extra": object()}}, tmp_path / "x.safetensors")
    with pytest.raises(ValueError, match="same tensor name 'a.b'"):
        cr.save({"a.b": cr.ones(1), "a": {"b": cr.zeros(1)}}, tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()  # nothing half-written


def test_bad_files_give_clear_errors(tmp_path):
    good = tmp_path / "good.safetensors"
    cr.save(_state_dict(), good)
    data = good.read_bytes()
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(data[: len(data) // 2])
    corrupted = tmp_path / "corrupted.safetensors"
    corrupted.write_bytes(b"\xff" * 8 + data[8:])  # an absurd header length
    text = tmp_path / "notes.txt"
    text.write_text("this is not a model file")
    for bad in (truncated, corrupted, text):
        with pytest.raises(ValueError, match=rf"load: {bad}.*not a valid safetensors file"):
            cr.load(bad)
    with pytest.raises(FileNotFoundError, match="no such file.*missing.safetensors"):
        cr.load(tmp_path / "missing.safetensors")


def test_torch_pickle_files_are_refused_not_unpickled(tmp_path, torch):
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, path)
    with pytest.raises(ValueError, match="not a valid safetensors file.*torch.save"):
        cr.load(path)


# ------------------------------------------------------------------------------- PyTorch interchange

def _models(torch):
    """The same small CNN in chainrule and in PyTorch (identical parameter names)."""
    nn, tnn = cr.nn, torch.nn
    ours = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(4 * 4 * 4, 10))
    theirs = tnn.Sequential(tnn.Conv2d(1, 4, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(),
                            tnn.Linear(4 * 4 * 4, 10))
    return ours, theirs


def test_chainrule_model_file_loads_into_torch(tmp_path, torch):
    from safetensors.torch import load_file

    ours, theirs = _models(torch)
    path = tmp_path / "model.safetensors"
    cr.save(ours.state_dict(), path)
    theirs.load_state_dict(load_file(str(path)))
    x = xp.random.default_rng(0).standard_normal((5, 1, 8, 8)).astype(xp.float32)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    got = ours(cr.from_numpy(x)).detach().numpy()
    assert xp.allclose(got, expected, atol=1e-5)


def test_torch_model_file_loads_into_chainrule(tmp_path, torch):
    from safetensors.torch import save_file

    ours, theirs = _models(torch)
    path = tmp_path / "torch_model.safetensors"
    save_file(theirs.state_dict(), str(path))
    ours.load_state_dict(cr.load(path))
    x = xp.random.default_rng(1).standard_normal((5, 1, 8, 8)).astype(xp.float32)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    assert xp.allclose(ours(cr.from_numpy(x)).detach().numpy(), expected, atol=1e-5)

"""Model files from the wild and crafted ones: loaded correctly or refused with an error naming the file.

BF16 and F8 safetensors (common for published weights) load upcast to float32; a malformed
``chainrule.layout`` entry, a layout nested absurdly deep, an unknown format version, a header that
claims more bytes than the file has, and paths that are not regular files (``/dev/zero``, a FIFO)
each raise ValueError naming the file — before any large allocation.
"""

from __future__ import annotations

import json
import os
import sys
import threading

import numpy as np
import pytest
import safetensors.numpy

import chainrule as cr

LAYOUT = "chainrule.layout"


def _write(path, tensors: dict, layout) -> str:
    meta = {"format": "pt"}
    if layout is not None:
        meta[LAYOUT] = layout if isinstance(layout, str) else json.dumps(layout)
    path.write_bytes(safetensors.numpy.save(tensors, metadata=meta))
    return str(path)


@pytest.mark.parametrize("dtype", ["bfloat16", "float8_e4m3fn", "float8_e5m2"])
def test_low_precision_files_load_as_float32(torch, tmp_path, dtype):
    from safetensors.torch import save_file
    values = torch.tensor([[0.0, 1.5, -2.25, 3.0e-3], [448.0 if "e4m3" in dtype else 1000.0, -0.5, 7.0, 1e-2]])
    low = values.to(getattr(torch, dtype))
    path = tmp_path / f"{dtype}.safetensors"
    save_file({"w": low, "b": torch.ones(2)}, str(path))
    loaded = cr.load(str(path))
    assert loaded["w"].dtype == cr.float32 and loaded["b"].dtype == cr.float32
    np.testing.assert_array_equal(loaded["w"].numpy(), low.float().numpy())   # exact: every low value is a float32


def test_bfloat16_special_values(torch, tmp_path):
    from safetensors.torch import save_file
    values = torch.tensor([float("inf"), float("-inf"), float("nan"), -0.0, 1e-40, 3.0e38]).bfloat16()
    save_file({"x": values}, str(tmp_path / "s.safetensors"))
    got = cr.load(str(tmp_path / "s.safetensors"))["x"].numpy()
    np.testing.assert_array_equal(got, values.float().numpy())


BAD_LAYOUTS = [
    ('{"version": 1, "root": {"$tensor": 5}}', "$tensor"),
    ('{"version": 1, "root": {"$tensor": "missing"}}', "missing"),
    ('{"version": 1, "root": {"$dict": 3}}', "$dict"),
    ('{"version": 1, "root": {"$dict": [[1]]}}', "$dict"),
    ('{"version": 1, "root": {"$dict": [[[1], 2]]}}', "$dict"),
    ('{"version": 1, "root": {"$tuple": 7}}', "$tuple"),
    ('{"root": {}}', "version"),
    ('{"version": 1}', "root"),
    ("null", "layout"),
    ("[1, 2]", "layout"),
    ("{not json", "layout"),
    ('{"version": "1", "root": {}}', "version"),
]


@pytest.mark.parametrize("layout, word", BAD_LAYOUTS, ids=[b[0][:40] for b in BAD_LAYOUTS])
def test_malformed_layout_is_a_clear_error(tmp_path, layout, word):
    path = _write(tmp_path / "bad.safetensors", {"w": np.ones(2, np.float32)}, layout)
    with pytest.raises(ValueError) as e:
        cr.load(path)
    assert path in str(e.value) and word in str(e.value), str(e.value)


@pytest.mark.parametrize("depth", [900, 5000, 100_000])
def test_deep_nesting_is_refused_without_recursion_error(tmp_path, depth):
    layout = '{"version": 1, "root": ' + "[" * depth + "]" * depth + "}"
    path = _write(tmp_path / "deep.safetensors", {"w": np.ones(1, np.float32)}, layout)
    with pytest.raises(ValueError) as e:
        cr.load(path)
    assert path in str(e.value) and "deep" in str(e.value)


def test_saving_an_absurdly_nested_object_is_a_clear_error(tmp_path):
    obj: list = []
    for _ in range(sys.getrecursionlimit() + 10):
        obj = [obj]
    with pytest.raises(ValueError, match="deep"):
        cr.save(obj, str(tmp_path / "x.safetensors"))


def test_moderate_nesting_round_trips(tmp_path):
    obj: dict = {"w": cr.ones(2)}
    for k in range(50):
        obj = {f"level{k}": obj, "n": k}
    cr.save(obj, str(tmp_path / "nested.safetensors"))
    back = cr.load(str(tmp_path / "nested.safetensors"))
    for k in reversed(range(50)):
        assert back["n"] == k
        back = back[f"level{k}"]
    assert back["w"].tolist() == [1.0, 1.0]


def test_unknown_format_version_is_refused(tmp_path):
    path = _write(tmp_path / "v2.safetensors", {"w": np.ones(2, np.float32)},
                  {"version": 2, "root": {"w": {"$tensor": "w"}}})
    with pytest.raises(ValueError) as e:
        cr.load(path)
    assert path in str(e.value) and "version 2" in str(e.value)


def test_header_larger_than_the_file_is_refused_before_allocating(tmp_path):
    path = tmp_path / "liar.safetensors"
    path.write_bytes((1 << 60).to_bytes(8, "little") + b"{}")
    with pytest.raises(ValueError) as e:
        cr.load(str(path))
    assert str(path) in str(e.value) and "header" in str(e.value)


def _load_with_timeout(path: str, seconds: float = 20.0):
    out = {}

    def run():
        try:
            cr.load(path)
        except BaseException as e:  # noqa: BLE001
            out["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"load({path!r}) did not return (reading forever?)"
    return out.get("error")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_dev_zero_is_refused():
    err = _load_with_timeout("/dev/zero")
    assert isinstance(err, ValueError) and "/dev/zero" in str(err) and "regular file" in str(err), err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_refused(tmp_path):
    fifo = tmp_path / "pipe.safetensors"
    os.mkfifo(fifo)
    err = _load_with_timeout(str(fifo))
    assert isinstance(err, ValueError) and str(fifo) in str(err) and "regular file" in str(err), err

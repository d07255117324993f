"""Result strides of copy-like ops on permuted, broadcast and sliced inputs match PyTorch's.

A fuzzer found programs where ``y.view(-1)`` works in one library and raises in the other because the
op's result had a different stride order. Each case builds the same input layout in both libraries,
runs the op and compares ``stride()`` and ``is_contiguous()``.
"""

from __future__ import annotations

import pytest

import chainrule as cr

LAYOUTS = {
    "contig": lambda m, b: b,
    "bcast_c": lambda m, b: m.broadcast_to(b[:, :1], (2, 3, 2, 4)),
    "bcast_hw": lambda m, b: b[:, :, :1, :1].expand(2, 3, 2, 4),
    "cl": lambda m, b: b.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2),
    "perm_hw": lambda m, b: b.transpose(2, 3).contiguous().transpose(2, 3),
    "perm_nc": lambda m, b: b.transpose(0, 1).contiguous().transpose(0, 1),
    "slice": lambda m, b: m.arange(96.0, dtype=m.float64).reshape(2, 3, 2, 8)[..., ::2],
    "slice_t": lambda m, b: m.arange(96.0, dtype=m.float64).reshape(2, 3, 2, 8)[..., ::2].transpose(1, 3),
}

OPS = {
    "clone": lambda m, x: x.clone(),
    "contiguous": lambda m, x: x.contiguous(),
    "to": lambda m, x: x.to(m.float32),
    "float": lambda m, x: x.float(),
    "type": lambda m, x: x.type(m.float32),
    "long": lambda m, x: x.long(),
    "flip": lambda m, x: x.flip(1),
    "flip_last": lambda m, x: x.flip(-1),
    "sort": lambda m, x: x.sort(1)[0],
    "sort_idx": lambda m, x: x.sort(1, descending=True)[1],
    "argsort": lambda m, x: x.argsort(1),
    "repeat": lambda m, x: x.repeat(1, 1, 1, 1),
    "repeat2": lambda m, x: x.repeat(2, 1, 1, 1),
    "tile": lambda m, x: x.tile((1, 1)),
    "roll": lambda m, x: x.roll(1, 1),
    "roll2": lambda m, x: x.roll((1, 1), (1, 3)),
    "roll_flat": lambda m, x: x.roll(1),
    "cat": lambda m, x: m.cat([x, x], 1),
    "cat_mixed": lambda m, x: m.cat([x, x.contiguous()], 1),
    "stack0": lambda m, x: m.stack([x, x], 0),
    "stack1": lambda m, x: m.stack([x, x], 1),
    "stack_last": lambda m, x: m.stack([x, x], -1),
    "cummax": lambda m, x: x.cummax(1)[0],
    "cummax_idx": lambda m, x: x.cummin(1)[1],
    "tril": lambda m, x: x.tril(),
    "triu": lambda m, x: x.triu(1),
}


def _pair(torch, layout):
    def make(m):
        base = m.arange(48.0, dtype=m.float64).reshape(2, 3, 2, 4) / 10 - 2
        return LAYOUTS[layout](m, base)
    return make(torch), make(cr)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("op", sorted(OPS))
def test_result_strides_match_torch(torch, op, layout):
    xt, xc = _pair(torch, layout)
    assert tuple(xc.stride()) == tuple(xt.stride())
    yt, yc = OPS[op](torch, xt), OPS[op](cr, xc)
    assert tuple(yc.shape) == tuple(yt.shape)
    assert tuple(yc.stride()) == tuple(yt.stride()), (op, layout)
    assert yc.is_contiguous() == yt.is_contiguous()
    assert yc.detach().numpy().tolist() == yt.detach().numpy().tolist()


@pytest.mark.parametrize("layout", ["cl", "perm_hw", "bcast_c", "slice"])
@pytest.mark.parametrize("op", ["clone", "to", "flip", "sort", "cat", "stack1", "repeat"])
def test_view_after_op_fails_alike(torch, op, layout):
    xt, xc = _pair(torch, layout)
    yt, yc = OPS[op](torch, xt), OPS[op](cr, xc)
    outcomes = []
    for y in (yt, yc):
        try:
            y.view(-1)
            outcomes.append("ok")
        except RuntimeError:
            outcomes.append("raises")
    assert outcomes[0] == outcomes[1]


def test_contiguous_of_permuted_clone_is_row_major():
    x = cr.arange(6.0).reshape(2, 3).t()
    assert not x.clone().is_contiguous()
    assert x.contiguous().is_contiguous()
    assert x.clone().contiguous().view(-1).tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]


@pytest.mark.parametrize("op", ["clone", "to", "flip", "sort", "roll", "cat", "stack1", "cummax", "tril"])
def test_gradients_unchanged_by_layout(torch, op):
    xt, xc = _pair(torch, "cl")
    xt, xc = xt.detach().requires_grad_(), xc.detach().requires_grad_()
    f = OPS[op]
    wt = torch.arange(float(f(torch, xt).numel()), dtype=torch.float64).reshape(f(torch, xt).shape)
    wc = cr.arange(float(f(cr, xc).numel()), dtype=cr.float64).reshape(f(cr, xc).shape)
    (f(torch, xt).double() * wt).sum().backward()
    (f(cr, xc).double() * wc).sum().backward()
    assert xc.grad.numpy().tolist() == xt.grad.numpy().tolist()


def test_zero_dim_repeat_and_tile_stay_zero_dim():
    assert cr.tile(cr.tensor(2.0), ()).shape == () and cr.tensor(2.0).repeat(()).shape == ()

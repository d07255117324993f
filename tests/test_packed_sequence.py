"""``nn.utils.rnn`` packing and RNN/LSTM/GRU on PackedSequence input, against PyTorch (float64, same weights):
packed data and index tensors, unpacking, gradients through packing, and outputs, final states and
parameter gradients of the recurrent layers."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.utils.rnn as R
from chainrule import nn

TOL = {"rtol": 1e-10, "atol": 1e-12}


def _eq(a, b):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **TOL)


@pytest.mark.parametrize("lengths", [[4, 3, 3, 1], [2, 5, 1, 5, 3]])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_pad_roundtrip_match_torch(torch, lengths, batch_first):
    TR = torch.nn.utils.rnn
    rng = np.random.default_rng(len(lengths))
    shape = (len(lengths), max(lengths), 2) if batch_first else (max(lengths), len(lengths), 2)
    a = rng.standard_normal(shape)
    x, xt = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ordered = lengths == sorted(lengths, reverse=True)
    p = R.pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=ordered)
    pt = TR.pack_padded_sequence(xt, lengths, batch_first=batch_first, enforce_sorted=ordered)
    _eq(p.data, pt.data)
    for ours, theirs in zip(p[1:], pt[1:]):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    y, n = R.pad_packed_sequence(p, batch_first=batch_first, padding_value=-1.0, total_length=max(lengths) + 1)
    yt, nt = TR.pad_packed_sequence(pt, batch_first=batch_first, padding_value=-1.0, total_length=max(lengths) + 1)
    _eq(y, yt)
    np.testing.assert_array_equal(n.numpy(), nt.numpy())
    assert n.dtype == cr.int64
    g = rng.standard_normal(tuple(yt.shape))
    y.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    _eq(x.grad, xt.grad)


def test_pack_sequence_and_unpack_match_torch(torch):
    TR = torch.nn.utils.rnn
    seqs = [np.arange(n * 2.0).reshape(n, 2) + n for n in (2, 4, 1)]
    p = R.pack_sequence([cr.tensor(s) for s in seqs], enforce_sorted=False)
    pt = TR.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    _eq(p.data, pt.data)
    np.testing.assert_array_equal(p.batch_sizes.numpy(), pt.batch_sizes.numpy())
    for a, b in zip(R.unpack_sequence(p), TR.unpack_sequence(pt)):
        _eq(a, b)
    np.testing.assert_array_equal(R.invert_permutation(cr.tensor([2, 0, 3, 1])).numpy(),
                                  TR.invert_permutation(torch.tensor([2, 0, 3, 1])).numpy())
    assert isinstance(p, R.PackedSequence) and isinstance(p, tuple)
    assert p.to(cr.float32).data.dtype == cr.float32


@pytest.mark.parametrize(("call", "match"), [
    (lambda: R.pack_padded_sequence(cr.zeros(3, 2, 1), [2, 3]), "sorted in decreasing order"),
    (lambda: R.pack_padded_sequence(cr.zeros(3, 2, 1), [3, 0], enforce_sorted=False), "greater than 0"),
    (lambda: R.pack_padded_sequence(cr.zeros(3, 2, 1), [3, 2, 1]), "batch_size"),
    (lambda: R.pad_packed_sequence(R.pack_sequence([cr.ones(3)]), total_length=2), "total_length"),
])
def test_packing_errors(call, match):
    with pytest.raises((RuntimeError, ValueError), match=match):
        call()


RNNS = [("RNN", {}), ("RNN", {"nonlinearity": "relu", "num_layers": 2}), ("GRU", {"bidirectional": True}),
        ("LSTM", {}), ("LSTM", {"num_layers": 2, "bidirectional": True}), ("LSTM", {"proj_size": 2}),
        ("GRU", {"num_layers": 2, "batch_first": True})]


@pytest.mark.parametrize(("name", "kw"), RNNS, ids=[f"{n}-{kw}" for n, kw in RNNS])
@pytest.mark.parametrize("with_hx", [False, True])
def test_rnns_on_packed_input_match_torch(torch, name, kw, with_hx):
    TR = torch.nn.utils.rnn
    rng = np.random.default_rng(7)
    theirs = getattr(torch.nn, name)(3, 4, **kw).double()
    ours = getattr(nn, name)(3, 4, **kw).double()
    ours.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    lengths = [3, 5, 1, 4]                      # unsorted: exercises sorted_indices / unsorted_indices
    bf = kw.get("batch_first", False)
    a = rng.standard_normal((4, 5, 3) if bf else (5, 4, 3))
    x, xt = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    p = R.pack_padded_sequence(x, lengths, batch_first=bf, enforce_sorted=False)
    pt = TR.pack_padded_sequence(xt, lengths, batch_first=bf, enforce_sorted=False)
    layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    hx = hx_t = None
    if with_hx:
        h = rng.standard_normal((layers, 4, kw.get("proj_size") or 4))
        if name == "LSTM":
            c = rng.standard_normal((layers, 4, 4))
            hx, hx_t = (cr.tensor(h), cr.tensor(c)), (torch.tensor(h), torch.tensor(c))
        else:
            hx, hx_t = cr.tensor(h), torch.tensor(h)
    out, state = ours(p, hx)
    out_t, state_t = theirs(pt, hx_t)
    assert isinstance(out, R.PackedSequence)
    _eq(out.data, out_t.data)
    states, states_t = (state, state_t) if name == "LSTM" else ((state,), (state_t,))
    for s, st in zip(states, states_t):
        _eq(s, st)
    y, _ = R.pad_packed_sequence(out, batch_first=bf)
    yt, _ = TR.pad_packed_sequence(out_t, batch_first=bf)
    loss = (y * cr.tensor(np.arange(y.numel(), dtype=float).reshape(tuple(y.shape)) % 3)).sum() + states[0].sum()
    loss_t = (yt * torch.tensor(np.arange(yt.numel(), dtype=float).reshape(tuple(yt.shape)) % 3)).sum() \
        + states_t[0].sum()
    loss.backward()
    loss_t.backward()
    _eq(x.grad, xt.grad)
    for (k, v), (_, vt) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(v.grad.numpy(), vt.grad.numpy(), **TOL, err_msg=k)


def test_rnn_input_must_be_a_tensor_or_packed():
    with pytest.raises(NotImplementedError, match="PackedSequence"):
        nn.GRU(3, 4)([cr.randn(2, 3)])
    with pytest.raises(RuntimeError, match="input_size=3"):
        nn.GRU(3, 4)(R.pack_sequence([cr.randn(2, 5)]))

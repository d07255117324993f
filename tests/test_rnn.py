"""RNN, LSTM, GRU and their cells against PyTorch: torch's initial weights copied in through
state_dict, float64 forward and backward through time, outputs, final states, input and
initial-state gradients and every parameter gradient."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

RNG = np.random.default_rng(11)
TOL = {"rtol": 1e-10, "atol": 1e-11}


def pair(torch, shape):
    a = RNG.standard_normal(shape)
    return cr.tensor(a, dtype=cr.float64, requires_grad=True), torch.tensor(a, requires_grad=True)


def copy_weights(ours, theirs):
    theirs.double()
    ours.double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})


def close(a, b):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **TOL)


def flat(out):
    """(output, h) or (output, (h, c)) -> a list of tensors."""
    result = []
    for item in out:
        result.extend(item if isinstance(item, tuple) else [item])
    return result


def backward_both(ours_out, theirs_out):
    loss, loss_t = 0, 0
    for i, (a, b) in enumerate(zip(ours_out, theirs_out)):
        close(a, b)
        w = np.sin(np.arange(b.numel()) + i).reshape(tuple(b.shape))
        loss = loss + (a * cr.tensor(w)).sum()
        loss_t = loss_t + (b * b.new_tensor(w)).sum()
    loss.backward()
    loss_t.backward()


def check_param_grads(ours, theirs):
    tp = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(tp)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tp[name].grad.numpy(), err_msg=name, **TOL)


CASES = [
    ("RNN", {}), ("RNN", {"nonlinearity": "relu", "num_layers": 2}), ("RNN", {"bidirectional": True}),
    ("LSTM", {}), ("LSTM", {"num_layers": 2, "bidirectional": True}), ("LSTM", {"batch_first": True, "bias": False}),
    ("LSTM", {"proj_size": 3}), ("LSTM", {"proj_size": 2, "num_layers": 2, "bidirectional": True}),
    ("GRU", {}), ("GRU", {"num_layers": 3, "batch_first": True}), ("GRU", {"bidirectional": True, "bias": False}),
]


@pytest.mark.parametrize("with_h0", [False, True])
@pytest.mark.parametrize(("kind", "kw"), CASES)
def test_recurrent_layers_match_torch(torch, kind, kw, with_h0):
    I, H, L, N = 4, 5, 6, 3
    theirs, ours = getattr(torch.nn, kind)(I, H, **kw), getattr(nn, kind)(I, H, **kw)
    copy_weights(ours, theirs)
    x, xt = pair(torch, (N, L, I) if kw.get("batch_first") else (L, N, I))
    inputs = [(x, xt)]
    args, args_t = [x], [xt]
    if with_h0:
        D = 2 if kw.get("bidirectional") else 1
        h0, h0t = pair(torch, (D * kw.get("num_layers", 1), N, kw.get("proj_size") or H))
        inputs.append((h0, h0t))
        if kind == "LSTM":
            c0, c0t = pair(torch, (D * kw.get("num_layers", 1), N, H))
            inputs.append((c0, c0t))
            args.append((h0, c0))
            args_t.append((h0t, c0t))
        else:
            args.append(h0)
            args_t.append(h0t)
    backward_both(flat(ours(*args)), flat(theirs(*args_t)))
    for a, b in inputs:
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **TOL)
    check_param_grads(ours, theirs)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_unbatched_input(torch, kind):
    theirs, ours = getattr(torch.nn, kind)(3, 4, num_layers=2), getattr(nn, kind)(3, 4, num_layers=2)
    copy_weights(ours, theirs)
    x, xt = pair(torch, (5, 3))
    out, out_t = flat(ours(x)), flat(theirs(xt))
    assert [tuple(o.shape) for o in out] == [tuple(o.shape) for o in out_t]
    backward_both(out, out_t)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), **TOL)


@pytest.mark.parametrize(("kind", "kw"), [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}),
                                          ("LSTMCell", {}), ("LSTMCell", {"bias": False}), ("GRUCell", {})])
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_torch_over_a_few_steps(torch, kind, kw, batched):
    theirs, ours = getattr(torch.nn, kind)(3, 4, **kw), getattr(nn, kind)(3, 4, **kw)
    copy_weights(ours, theirs)
    xs = [pair(torch, (2, 3) if batched else (3,)) for _ in range(3)]
    h, ht = None, None
    outs, outs_t = [], []
    for x, xt in xs:
        h, ht = ours(x, h), theirs(xt, ht)
        outs.extend(h if isinstance(h, tuple) else [h])
        outs_t.extend(ht if isinstance(ht, tuple) else [ht])
    backward_both(outs, outs_t)
    for x, xt in xs:
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), **TOL)
    check_param_grads(ours, theirs)


def test_state_dict_keys_reprs_and_init(torch):
    for kind, kw in CASES + [("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {"bias": False})]:
        kw = dict(kw, dropout=0.25) if "num_layers" in kw else kw
        ours, theirs = getattr(nn, kind)(4, 5, **kw), getattr(torch.nn, kind)(4, 5, **kw)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert [tuple(v.shape) for v in ours.state_dict().values()] == \
            [tuple(v.shape) for v in theirs.state_dict().values()]
        assert repr(ours) == repr(theirs)
        bound = 1 / np.sqrt(5)
        for p in ours.parameters():
            assert np.abs(p.detach().numpy()).max() <= bound


def test_dropout_between_layers_only_in_training():
    lstm = nn.LSTM(3, 8, num_layers=2, dropout=0.5)
    x = cr.randn(4, 2, 3)
    lstm.eval()
    np.testing.assert_array_equal(lstm(x)[0].detach().numpy(), lstm(x)[0].detach().numpy())
    lstm.train()
    assert not np.array_equal(lstm(x)[0].detach().numpy(), lstm(x)[0].detach().numpy())
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.5)


def test_errors_are_pytorchs():
    rnn = nn.RNN(3, 4)
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. Expected 3, got 6"):
        rnn(cr.randn(5, 2, 6))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 2, 4\), got \[2, 2, 4\]"):
        rnn(cr.randn(5, 2, 3), cr.randn(2, 2, 4))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[1\] size \(1, 2, 4\), got \[1, 3, 4\]"):
        nn.LSTM(3, 4)(cr.randn(5, 2, 3), (cr.randn(1, 2, 4), cr.randn(1, 3, 4)))
    with pytest.raises(ValueError, match="Unknown nonlinearity 'x'"):
        nn.RNN(3, 4, nonlinearity="x")
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="only supported for LSTM"):
        nn.GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="GRUCell: Expected input to be 1D or 2D, got 3D instead"):
        nn.GRUCell(3, 4)(cr.randn(5, 2, 3))
    with pytest.raises(NotImplementedError, match="PackedSequence"):
        rnn([cr.randn(2, 3)])


def test_a_char_lstm_trains_like_torch(torch):
    """Embedding -> 2-layer LSTM -> Linear on characters, a few Adam steps: the same losses as PyTorch."""
    def build(lib):
        return lib.nn.ModuleDict({"emb": lib.nn.Embedding(7, 6), "rnn": lib.nn.LSTM(6, 8, num_layers=2,
                                                                                       batch_first=True),
                                  "head": lib.nn.Linear(8, 7)})
    theirs, ours = build(torch).double(), build(cr).double()
    ours.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    data = np.random.default_rng(0).integers(0, 7, size=(5, 3, 10))
    losses = {}
    for lib, m in ((torch, theirs), (cr, ours)):
        opt = lib.optim.Adam(m.parameters(), lr=1e-2)
        losses[lib.__name__] = []
        for batch in data:
            b = lib.tensor(batch)
            out, _ = m["rnn"](m["emb"](b[:, :-1]))
            loss = lib.nn.functional.cross_entropy(m["head"](out).reshape(-1, 7), b[:, 1:].reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses[lib.__name__].append(float(loss.detach()))
    np.testing.assert_allclose(losses["chainrule"], losses["torch"], rtol=1e-9)

"""Attention and Transformer layers against PyTorch: torch's initial weights copied in through
state_dict, float64 forward and backward, outputs, input gradients and every parameter gradient."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

RNG = np.random.default_rng(7)
TOL = {"rtol": 1e-10, "atol": 1e-11}


def close(a, b):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **TOL)


def pair(torch, array):
    return cr.tensor(array, dtype=cr.float64, requires_grad=True), torch.tensor(array, requires_grad=True)


def copy_weights(ours, theirs):
    theirs.double()
    ours.double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})


def check_grads(ours, theirs, inputs):
    for a, b in inputs:
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **TOL)
    theirs_params = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(theirs_params)
    for name, p in ours.named_parameters():
        assert p.grad is not None, name
        np.testing.assert_allclose(p.grad.numpy(), theirs_params[name].grad.numpy(), err_msg=name, **TOL)


def masks(torch, kind, L, S, N=None, H=None):
    if kind == "bool":
        m = RNG.random((L, S)) < 0.3
        m[:, 0] = False                 # every query can see at least one key
        return cr.tensor(m), torch.tensor(m)
    if kind == "float":
        m = RNG.standard_normal((L, S))
        return cr.tensor(m), torch.tensor(m)
    if kind == "bool4d":
        m = RNG.random((N, H, L, S)) > 0.3
        m[..., 0] = True
        return cr.tensor(m), torch.tensor(m)
    raise AssertionError(kind)


# --- scaled_dot_product_attention -----------------------------------------------------------------
@pytest.mark.parametrize("case", [
    {}, {"is_causal": True}, {"scale": 0.3}, {"mask": "bool"}, {"mask": "float"}, {"mask": "bool4d"},
    {"L": 3, "S": 7, "is_causal": True}, {"gqa": True}, {"L": 1, "S": 1},
])
def test_sdpa_matches_torch(torch, case):
    N, H, L, S, E, Ev = 2, 4, case.get("L", 5), case.get("S", 5), 6, 3
    Hk = 2 if case.get("gqa") else H
    q, qt = pair(torch, RNG.standard_normal((N, H, L, E)))
    k, kt = pair(torch, RNG.standard_normal((N, Hk, S, E)))
    v, vt = pair(torch, RNG.standard_normal((N, Hk, S, Ev)))
    kw = {k_: case[k_] for k_ in ("is_causal", "scale") if k_ in case}
    kw_t = dict(kw)
    if "mask" in case:
        kw["attn_mask"], kw_t["attn_mask"] = masks(torch, case["mask"], L, S, N, H)
    if case.get("gqa"):
        kw["enable_gqa"] = kw_t["enable_gqa"] = True
    y = F.scaled_dot_product_attention(q, k, v, **kw)
    yt = torch.nn.functional.scaled_dot_product_attention(qt, kt, vt, **kw_t)
    close(y, yt)
    g = RNG.standard_normal(tuple(yt.shape))
    y.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    for a, b in ((q, qt), (k, kt), (v, vt)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **TOL)


def test_sdpa_fully_masked_row_gives_zero_like_torch(torch):
    q, qt = pair(torch, RNG.standard_normal((1, 3, 4)))
    k, kt = pair(torch, RNG.standard_normal((1, 5, 4)))
    m = np.ones((3, 5), bool)
    m[1] = False
    y = F.scaled_dot_product_attention(q, k, k, attn_mask=cr.tensor(m))
    yt = torch.nn.functional.scaled_dot_product_attention(qt, kt, kt, attn_mask=torch.tensor(m))
    assert np.isfinite(y.detach().numpy()).all()
    close(y, yt)
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(q.grad.numpy(), qt.grad.numpy(), **TOL)
    np.testing.assert_allclose(k.grad.numpy(), kt.grad.numpy(), **TOL)


def test_sdpa_double_backward_matches_torch(torch):
    q, qt = pair(torch, RNG.standard_normal((2, 3, 4)))
    k, kt = pair(torch, RNG.standard_normal((2, 5, 4)))
    (gq,) = cr.autograd.grad(F.scaled_dot_product_attention(q, k, k).pow(2).sum(), q, create_graph=True)
    (gqt,) = torch.autograd.grad(torch.nn.functional.scaled_dot_product_attention(qt, kt, kt).pow(2).sum(), qt,
                                 create_graph=True)
    gq.sum().backward()
    gqt.sum().backward()
    np.testing.assert_allclose(k.grad.numpy(), kt.grad.numpy(), **TOL)


def test_sdpa_errors_name_the_problem():
    q = cr.randn(1, 3, 4)
    with pytest.raises(RuntimeError, match="is_causal"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=cr.ones(3, 3).bool(), is_causal=True)
    with pytest.raises(RuntimeError, match="same dtype"):
        F.scaled_dot_product_attention(q, q.double(), q)
    with pytest.raises(RuntimeError, match=r"\(1, 3, 4\)"):
        F.scaled_dot_product_attention(q, cr.randn(1, 3, 5), q)


def test_sdpa_dropout_drops_weights_and_keeps_expectation():
    cr.manual_seed(0)
    q = cr.zeros(1, 1, 200, 4)
    v = cr.ones(1, 1, 200, 4)
    y = F.scaled_dot_product_attention(q, q, v, dropout_p=0.5)
    # uniform weights 1/200, half dropped and the rest doubled: the row sums scatter around 1
    rows = y[0, 0, :, 0].numpy()
    assert 0.8 < rows.mean() < 1.2
    assert rows.std() > 0.01


# --- MultiheadAttention -----------------------------------------------------------------------------
MHA_CASES = [{}, {"batch_first": True}, {"add_bias_kv": True}, {"add_zero_attn": True}, {"kdim": 5, "vdim": 3},
             {"bias": False}]
CALL_CASES = [{}, {"kpm": True}, {"attn": "bool"}, {"attn": "bool", "kpm": True, "average_attn_weights": False},
              {"attn": "float", "need_weights": False}, {"attn": "3d"}]


@pytest.mark.parametrize("ctor", MHA_CASES)
@pytest.mark.parametrize("call", CALL_CASES)
def test_multihead_attention_matches_torch(torch, ctor, call):
    E, H, N, L, S = 8, 2, 3, 4, 6
    theirs = torch.nn.MultiheadAttention(E, H, **ctor)
    ours = nn.MultiheadAttention(E, H, **ctor)
    copy_weights(ours, theirs)
    bf = ctor.get("batch_first", False)

    def shape(n, length, e):
        return (n, length, e) if bf else (length, n, e)

    q, qt = pair(torch, RNG.standard_normal(shape(N, L, E)))
    k, kt = pair(torch, RNG.standard_normal(shape(N, S, ctor.get("kdim", E))))
    v, vt = pair(torch, RNG.standard_normal(shape(N, S, ctor.get("vdim", E))))
    kw = {key: call[key] for key in ("need_weights", "average_attn_weights") if key in call}
    kw_t = dict(kw)
    if call.get("kpm"):
        kpm = np.zeros((N, S), bool)
        kpm[0, -2:] = True
        kw["key_padding_mask"], kw_t["key_padding_mask"] = cr.tensor(kpm), torch.tensor(kpm)
    if call.get("attn") == "3d":
        m = RNG.standard_normal((N * H, L, S))
        kw["attn_mask"], kw_t["attn_mask"] = cr.tensor(m), torch.tensor(m)
    elif "attn" in call:
        kw["attn_mask"], kw_t["attn_mask"] = masks(torch, call["attn"], L, S)
    out, w = ours(q, k, v, **kw)
    out_t, w_t = theirs(qt, kt, vt, **kw_t)
    close(out, out_t)
    loss = (out * cr.tensor(np.cos(np.arange(out.numel())).reshape(out.shape))).sum()
    loss_t = (out_t * torch.tensor(np.cos(np.arange(out.numel())).reshape(out.shape))).sum()
    if w_t is not None:
        close(w, w_t)
        loss, loss_t = loss + (w * w).sum(), loss_t + (w_t * w_t).sum()
    else:
        assert w is None
    loss.backward()
    loss_t.backward()
    check_grads(ours, theirs, [(q, qt), (k, kt), (v, vt)])


def test_multihead_self_attention_unbatched_and_repr(torch):
    theirs = torch.nn.MultiheadAttention(8, 2, batch_first=True)
    ours = nn.MultiheadAttention(8, 2, batch_first=True)
    copy_weights(ours, theirs)
    x, xt = pair(torch, RNG.standard_normal((5, 8)))
    out, w = ours(x, x, x)
    out_t, w_t = theirs(xt, xt, xt)
    close(out, out_t)
    close(w, w_t)
    out.sum().backward()
    out_t.sum().backward()
    check_grads(ours, theirs, [(x, xt)])
    assert repr(ours) == repr(theirs)
    assert [tuple(p.shape) for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]


def test_is_causal_hint_replaces_the_mask_like_torch(torch):
    """PyTorch reads only the hint when no weights and no padding mask are asked for."""
    theirs, ours = torch.nn.MultiheadAttention(8, 2, batch_first=True), nn.MultiheadAttention(8, 2, batch_first=True)
    copy_weights(ours, theirs)
    x, xt = pair(torch, RNG.standard_normal((2, 5, 8)))
    wrong = np.zeros((5, 5))                      # not causal at all: ignored under the hint
    out, _ = ours(x, x, x, attn_mask=cr.tensor(wrong), is_causal=True, need_weights=False)
    out_t, _ = theirs(xt, xt, xt, attn_mask=torch.tensor(wrong), is_causal=True, need_weights=False)
    close(out, out_t)


def test_multihead_attention_errors():
    mha = nn.MultiheadAttention(8, 2)
    x = cr.randn(4, 2, 8)
    with pytest.raises(AssertionError, match="divisible"):
        nn.MultiheadAttention(6, 4)
    with pytest.raises(RuntimeError, match="is_causal"):
        mha(x, x, x, is_causal=True)
    with pytest.raises(RuntimeError, match=r"2D attn_mask is \(3, 3\)"):
        mha(x, x, x, attn_mask=cr.zeros(3, 3))
    with pytest.raises(AssertionError, match="key_padding_mask"):
        mha(x, x, x, key_padding_mask=cr.zeros(2, 3).bool())


# --- Transformer layers -------------------------------------------------------------------------------
def _layer_kwargs(case):
    kw = {"dim_feedforward": 12, "dropout": 0.0}
    kw.update(case)
    return kw


LAYER_CASES = [{}, {"norm_first": True}, {"activation": "gelu", "batch_first": True},
               {"activation": "callable"}, {"bias": False, "norm_first": True}, {"activation": "module"}]


def _activation(torch_or_cr, case):
    kind = case.get("activation")
    if kind == "callable":
        return {"activation": torch_or_cr.nn.functional.silu}
    if kind == "module":
        return {"activation": torch_or_cr.nn.GELU()}
    return {"activation": kind} if kind else {}


@pytest.mark.parametrize("case", LAYER_CASES)
def test_encoder_layer_and_encoder_match_torch(torch, case):
    kw = {k: v for k, v in _layer_kwargs(case).items() if k != "activation"}
    theirs = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, **kw, **_activation(torch, case)), 2,
                                         norm=torch.nn.LayerNorm(8), enable_nested_tensor=False)
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, **kw, **_activation(cr, case)), 2,
                                 norm=nn.LayerNorm(8))
    copy_weights(ours, theirs)
    bf = case.get("batch_first", False)
    x, xt = pair(torch, RNG.standard_normal((3, 5, 8) if bf else (5, 3, 8)))
    mask = nn.Transformer.generate_square_subsequent_mask(5).double()
    kpm = np.zeros((3, 5), bool)
    kpm[0, -1] = True
    y = ours(x, mask=mask, src_key_padding_mask=cr.tensor(kpm))
    yt = theirs(xt, mask=torch.tensor(mask.numpy()), src_key_padding_mask=torch.tensor(kpm))
    close(y, yt)
    g = RNG.standard_normal(tuple(yt.shape))
    y.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    check_grads(ours, theirs, [(x, xt)])


@pytest.mark.parametrize("case", LAYER_CASES[:4])
def test_decoder_layer_matches_torch(torch, case):
    kw = {k: v for k, v in _layer_kwargs(case).items() if k != "activation"}
    theirs = torch.nn.TransformerDecoderLayer(8, 2, **kw, **_activation(torch, case))
    ours = nn.TransformerDecoderLayer(8, 2, **kw, **_activation(cr, case))
    copy_weights(ours, theirs)
    bf = case.get("batch_first", False)
    t, tt = pair(torch, RNG.standard_normal((3, 4, 8) if bf else (4, 3, 8)))
    m, mt = pair(torch, RNG.standard_normal((3, 6, 8) if bf else (6, 3, 8)))
    tgt_mask = nn.Transformer.generate_square_subsequent_mask(4, dtype=cr.float64)
    mem_kpm = np.zeros((3, 6), bool)
    mem_kpm[1, :2] = True
    y = ours(t, m, tgt_mask=tgt_mask, memory_key_padding_mask=cr.tensor(mem_kpm), tgt_is_causal=True)
    yt = theirs(tt, mt, tgt_mask=torch.tensor(tgt_mask.numpy()), memory_key_padding_mask=torch.tensor(mem_kpm),
                tgt_is_causal=True)
    close(y, yt)
    g = RNG.standard_normal(tuple(yt.shape))
    y.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    check_grads(ours, theirs, [(t, tt), (m, mt)])


@pytest.mark.parametrize("norm_first", [False, True])
def test_full_transformer_matches_torch(torch, norm_first):
    kw = {"d_model": 8, "nhead": 2, "num_encoder_layers": 2, "num_decoder_layers": 1, "dim_feedforward": 12,
          "dropout": 0.0, "batch_first": True, "norm_first": norm_first}
    theirs, ours = torch.nn.Transformer(**kw), nn.Transformer(**kw)
    copy_weights(ours, theirs)
    s, st = pair(torch, RNG.standard_normal((2, 5, 8)))
    t, tt = pair(torch, RNG.standard_normal((2, 4, 8)))
    mask = nn.Transformer.generate_square_subsequent_mask(4, dtype=cr.float64)
    y = ours(s, t, tgt_mask=mask)
    yt = theirs(st, tt, tgt_mask=torch.tensor(mask.numpy()))
    close(y, yt)
    y.pow(2).sum().backward()
    yt.pow(2).sum().backward()
    check_grads(ours, theirs, [(s, st), (t, tt)])


def test_transformer_structure_init_and_mask(torch):
    ours = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=6)
    theirs = torch.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=6)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [tuple(v.shape) for v in ours.state_dict().values()] == [tuple(v.shape) for v in theirs.state_dict().values()]
    # Xavier-uniform on every matrix: in_proj (24, 8) has bound √(6/32)
    w = ours.encoder.layers[0].self_attn.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= np.sqrt(6 / 32) and np.abs(w).max() > 0.5 * np.sqrt(6 / 32)
    np.testing.assert_array_equal(nn.Transformer.generate_square_subsequent_mask(4).numpy(),
                                  torch.nn.Transformer.generate_square_subsequent_mask(4).numpy())
    layer = nn.TransformerEncoderLayer(8, 2)
    assert layer.training and layer.dropout.p == 0.1
    with pytest.raises(RuntimeError, match="relu/gelu"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")


def test_encoder_layer_dropout_only_in_training():
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.5)
    x = cr.randn(5, 2, 8)
    layer.eval()
    a, b = layer(x), layer(x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    layer.train()
    assert not np.array_equal(layer(x).detach().numpy(), layer(x).detach().numpy())


def _tiny_gpt(lib, vocab=11, d=16, T=8):
    class GPT(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = lib.nn.Embedding(vocab, d)
            self.pos = lib.nn.Embedding(T, d)
            layer = lib.nn.TransformerEncoderLayer(d, 2, 4 * d, dropout=0.0, activation="gelu", batch_first=True,
                                                   norm_first=True)
            self.blocks = lib.nn.TransformerEncoder(layer, 2, norm=lib.nn.LayerNorm(d), enable_nested_tensor=False)
            self.head = lib.nn.Linear(d, vocab)

        def forward(self, idx):
            t = idx.shape[1]
            x = self.tok(idx) + self.pos(lib.arange(t))
            mask = lib.nn.Transformer.generate_square_subsequent_mask(t, dtype=x.dtype)
            return self.head(self.blocks(x, mask=mask, is_causal=True))
    return GPT()


def test_a_tiny_gpt_trains_like_torch(torch):
    """Embeddings + causal pre-norm Transformer + AdamW + clipping + a scheduler: same losses as PyTorch."""
    theirs, ours = _tiny_gpt(torch).double(), _tiny_gpt(cr).double()
    ours.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    starts = np.random.default_rng(0).integers(0, 11, size=(6, 4, 1))
    data = (starts + 3 * np.arange(9)) % 11          # a learnable rule: each token is the last plus 3
    losses = {}
    for lib, model in ((torch, theirs), (cr, ours)):
        opt = lib.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.1)
        sched = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=3)
        losses[lib.__name__] = []
        for batch in data:
            b = lib.tensor(batch)
            logits = model(b[:, :-1])
            loss = lib.nn.functional.cross_entropy(logits.reshape(-1, 11), b[:, 1:].reshape(-1))
            opt.zero_grad()
            loss.backward()
            lib.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            opt.step()
            sched.step()
            losses[lib.__name__].append(float(loss.detach()))
    np.testing.assert_allclose(losses["chainrule"], losses["torch"], rtol=1e-9)
    assert losses["chainrule"][-1] < losses["chainrule"][0]

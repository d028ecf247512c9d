"""MultiheadAttention and the Transformer layers against NumPy compositions."""

import copy
import math

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn

from ._util import assert_uniform, module_gradcheck, t64


def softmax(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def np_mha(m, q, k, v, mask=None):
    """Batch-first reference: (N, L, E) inputs, float mask broadcastable to (N, H, L, S)."""
    E, H = m.embed_dim, m.num_heads
    d = E // H
    if m.in_proj_weight is not None:
        W = m.in_proj_weight.detach().numpy()
        Wq, Wk, Wv = W[:E], W[E : 2 * E], W[2 * E :]
    else:
        Wq, Wk, Wv = (p.detach().numpy() for p in (m.q_proj_weight, m.k_proj_weight, m.v_proj_weight))
    b = m.in_proj_bias.detach().numpy() if m.in_proj_bias is not None else np.zeros(3 * E)
    Q, K, V = q @ Wq.T + b[:E], k @ Wk.T + b[E : 2 * E], v @ Wv.T + b[2 * E :]
    N, L, S = q.shape[0], q.shape[1], k.shape[1]
    if m.bias_k is not None:
        K = np.concatenate([K, np.broadcast_to(m.bias_k.detach().numpy(), (N, 1, E))], 1)
        V = np.concatenate([V, np.broadcast_to(m.bias_v.detach().numpy(), (N, 1, E))], 1)
        if mask is not None:
            mask = np.concatenate(
                [np.broadcast_to(mask, np.broadcast_shapes(mask.shape, (N, H, L, S))), np.zeros((N, H, L, 1))], -1
            )
    heads = lambda X: X.reshape(N, X.shape[1], H, d).transpose(0, 2, 1, 3)  # noqa: E731
    Q, K, V = heads(Q), heads(K), heads(V)
    if m.add_zero_attn:
        K = np.concatenate([K, np.zeros((N, H, 1, d))], 2)
        V = np.concatenate([V, np.zeros((N, H, 1, d))], 2)
        if mask is not None:
            mask = np.concatenate(
                [np.broadcast_to(mask, mask.shape[:-1] + (mask.shape[-1],)), np.zeros(mask.shape[:-1] + (1,))], -1
            )
    s = Q @ K.transpose(0, 1, 3, 2) / math.sqrt(d)
    if mask is not None:
        s = s + mask
    a = softmax(s)
    o = (a @ V).transpose(0, 2, 1, 3).reshape(N, L, E)
    out = o @ m.out_proj.weight.detach().numpy().T
    if m.out_proj.bias is not None:
        out = out + m.out_proj.bias.detach().numpy()
    return out, a


def test_mha_parameters_and_init():
    m = nn.MultiheadAttention(32, 4)
    assert [n for n, _ in m.named_parameters()] == [
        "in_proj_weight",
        "in_proj_bias",
        "out_proj.weight",
        "out_proj.bias",
    ]
    assert m.in_proj_weight.shape == (96, 32) and m.head_dim == 8
    assert_uniform(m.in_proj_weight, math.sqrt(6 / (96 + 32)))
    assert not m.in_proj_bias.detach().numpy().any() and not m.out_proj.bias.detach().numpy().any()
    assert_uniform(m.out_proj.weight, 1 / math.sqrt(32))
    sep = nn.MultiheadAttention(8, 2, kdim=5, vdim=3, bias=False, add_bias_kv=True)
    assert [n for n, _ in sep.named_parameters()] == [
        "q_proj_weight",
        "k_proj_weight",
        "v_proj_weight",
        "bias_k",
        "bias_v",
        "out_proj.weight",
    ]
    assert sep.k_proj_weight.shape == (8, 5) and sep.bias_k.shape == (1, 1, 8)
    with pytest.raises(AssertionError, match="divisible by num_heads"):
        nn.MultiheadAttention(10, 3)


@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_self_attention_matches_numpy(batch_first):
    m = nn.MultiheadAttention(8, 2, batch_first=batch_first).double()
    x = np.random.randn(3, 5, 8)  # (N, L, E)
    inp = t64(x if batch_first else x.transpose(1, 0, 2))
    out, w = m(inp, inp, inp)
    ref, a = np_mha(m, x, x, x)
    got = out.detach().numpy() if batch_first else out.detach().numpy().transpose(1, 0, 2)
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.detach().numpy(), a.mean(1), rtol=1e-10)
    _, w_all = m(inp, inp, inp, average_attn_weights=False)
    np.testing.assert_allclose(w_all.detach().numpy(), a, rtol=1e-10)


def test_mha_masks_cross_attention_and_no_weights():
    m = nn.MultiheadAttention(8, 2, batch_first=True, kdim=6, vdim=4).double()
    q, k, v = np.random.randn(2, 3, 8), np.random.randn(2, 5, 6), np.random.randn(2, 5, 4)
    causal = np.triu(np.ones((3, 5), dtype=bool), 1)
    pad = np.array([[False] * 5, [False, False, False, True, True]])
    mask = np.where(causal, -np.inf, 0.0)[None, None] + np.where(pad, -np.inf, 0.0)[:, None, None, :]
    ref, a = np_mha(m, q, k, v, mask)
    out, w = m(t64(q), t64(k), t64(v), attn_mask=rg.tensor(causal), key_padding_mask=rg.tensor(pad))
    np.testing.assert_allclose(out.detach().numpy(), ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.detach().numpy(), a.mean(1), rtol=1e-10, atol=1e-12)
    float_mask = t64(np.where(causal, -np.inf, 0.0))
    out2, none = m(t64(q), t64(k), t64(v), attn_mask=float_mask, key_padding_mask=rg.tensor(pad), need_weights=False)
    assert none is None
    np.testing.assert_allclose(out2.detach().numpy(), ref, rtol=1e-10, atol=1e-12)
    per_head = np.random.randn(2 * 2, 3, 5)  # 3-D mask: (N * H, L, S)
    ref3, _ = np_mha(m, q, k, v, per_head.reshape(2, 2, 3, 5))
    out3, _ = m(t64(q), t64(k), t64(v), attn_mask=t64(per_head))
    np.testing.assert_allclose(out3.detach().numpy(), ref3, rtol=1e-10, atol=1e-12)


def test_mha_unbatched_bias_kv_zero_attn():
    m = nn.MultiheadAttention(4, 2, add_bias_kv=True, add_zero_attn=True).double()
    x = np.random.randn(3, 4)  # (L, E)
    out, w = m(t64(x), t64(x), t64(x))
    ref, a = np_mha(m, x[None], x[None], x[None])
    assert out.shape == (3, 4) and w.shape == (3, 5)
    np.testing.assert_allclose(out.detach().numpy(), ref[0], rtol=1e-10)
    np.testing.assert_allclose(w.detach().numpy(), a.mean(1)[0], rtol=1e-10)


def test_mha_errors_and_gradcheck():
    m = nn.MultiheadAttention(4, 2)
    x = rg.randn(3, 2, 4)
    with pytest.raises(RuntimeError, match="2D attn_mask"):
        m(x, x, x, attn_mask=rg.zeros(2, 2))
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        m(x, x, x, is_causal=True)
    with pytest.raises(AssertionError, match="embedding dimension of 4"):
        m(rg.randn(3, 2, 5), x, x)

    class Attn(nn.Module):
        def __init__(self):
            super().__init__()
            self.mha = nn.MultiheadAttention(4, 2, batch_first=True)

        def forward(self, x):
            return self.mha(x, x, x)

    assert module_gradcheck(Attn(), t64(np.random.randn(1, 2, 4), True))


def test_functional_mha_forward_matches_numpy_separate_weights_and_static_kv():
    """F.multi_head_attention_forward (sequence-first, as CLIP's AttentionPool2d calls it, with
    separate q/k/v weights and a concatenated bias) against the NumPy reference."""
    F = nn.functional
    m = nn.MultiheadAttention(8, 2, kdim=6, vdim=6).double()
    q, kv = np.random.randn(2, 1, 8), np.random.randn(2, 5, 6)  # (N, L, E), (N, S, Ek)
    ref, a = np_mha(m, q, kv, kv)
    tq, tkv = t64(q.transpose(1, 0, 2)), t64(kv.transpose(1, 0, 2))
    out, w = F.multi_head_attention_forward(
        query=tq,
        key=tkv,
        value=tkv,
        embed_dim_to_check=8,
        num_heads=2,
        q_proj_weight=m.q_proj_weight,
        k_proj_weight=m.k_proj_weight,
        v_proj_weight=m.v_proj_weight,
        in_proj_weight=None,
        in_proj_bias=m.in_proj_bias,
        bias_k=None,
        bias_v=None,
        add_zero_attn=False,
        dropout_p=0.5,
        out_proj_weight=m.out_proj.weight,
        out_proj_bias=m.out_proj.bias,
        use_separate_proj_weight=True,
        training=False,
        need_weights=False,
    )
    assert w is None and out.shape == (1, 2, 8)
    np.testing.assert_allclose(out.detach().numpy().transpose(1, 0, 2), ref, rtol=1e-10, atol=1e-12)

    # static_k / static_v (N * H, S, d) replace the projected keys and values
    s = nn.MultiheadAttention(4, 2).double()
    x = np.random.randn(3, 1, 4)  # (L, N, E)
    sk, sv = np.random.randn(2, 6, 2), np.random.randn(2, 6, 2)
    args = (4, 2, s.in_proj_weight, s.in_proj_bias, None, None, False, 0.0, s.out_proj.weight, s.out_proj.bias)
    out, w = F.multi_head_attention_forward(t64(x), t64(x), t64(x), *args, static_k=t64(sk), static_v=t64(sv))
    W, b = s.in_proj_weight.detach().numpy(), s.in_proj_bias.detach().numpy()
    Q = (x[:, 0] @ W[:4].T + b[:4]).reshape(3, 2, 2).transpose(1, 0, 2)  # (H, L, d)
    p = softmax(Q @ sk.transpose(0, 2, 1) / math.sqrt(2))
    o = (p @ sv).transpose(1, 0, 2).reshape(3, 4) @ s.out_proj.weight.detach().numpy().T
    np.testing.assert_allclose(out.detach().numpy()[:, 0], o + s.out_proj.bias.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(w.detach().numpy()[0], p.mean(0), rtol=1e-10)
    with pytest.raises(AssertionError, match="static_k"):
        F.multi_head_attention_forward(t64(x), t64(x), t64(x), *args, static_k=t64(np.zeros((2, 6, 3))))


def test_functional_mha_forward_gradcheck():
    F = nn.functional
    m = nn.MultiheadAttention(4, 2, add_bias_kv=True).double()
    x = t64(np.random.randn(3, 2, 4), True)
    mask = rg.tensor(np.triu(np.ones((3, 3), dtype=bool), 1))

    def fn(x, w, b, bk, bv, wo):
        return F.multi_head_attention_forward(
            x, x, x, 4, 2, w, b, bk, bv, True, 0.0, wo, None, attn_mask=mask, average_attn_weights=False
        )

    params = [m.in_proj_weight, m.in_proj_bias, m.bias_k, m.bias_v, m.out_proj.weight]
    assert rg.autograd.gradcheck(fn, (x, *params))


def np_layer_norm(x, ln):
    y = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + ln.eps)
    return y * ln.weight.detach().numpy() + ln.bias.detach().numpy()


def np_linear(x, lin):
    return x @ lin.weight.detach().numpy().T + lin.bias.detach().numpy()


def np_encoder_layer(layer, x, mask=None):
    sa = lambda h: np_mha(layer.self_attn, h, h, h, mask)[0]  # noqa: E731
    ff = lambda h: np_linear(np.maximum(np_linear(h, layer.linear1), 0), layer.linear2)  # noqa: E731
    if layer.norm_first:
        x = x + sa(np_layer_norm(x, layer.norm1))
        return x + ff(np_layer_norm(x, layer.norm2))
    x = np_layer_norm(x + sa(x), layer.norm1)
    return np_layer_norm(x + ff(x), layer.norm2)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_matches_numpy_in_eval(norm_first):
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, norm_first=norm_first).double().eval()
    x = np.random.randn(2, 5, 8)
    causal = nn.Transformer.generate_square_subsequent_mask(5, dtype=rg.float64)
    out = layer(t64(x), src_mask=causal, is_causal=True)
    ref = np_encoder_layer(layer, x, causal.numpy()[None, None])
    np.testing.assert_allclose(out.detach().numpy(), ref, rtol=1e-9, atol=1e-10)


def test_encoder_stack_copies_layers_and_matches_numpy():
    layer = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0)
    enc = nn.TransformerEncoder(layer, num_layers=2, norm=nn.LayerNorm(4)).double()
    assert enc.layers[0] is not layer and enc.layers[0].linear1.weight is not enc.layers[1].linear1.weight
    names = [n for n, _ in enc.named_parameters()]
    assert names[:4] == [
        "layers.0.self_attn.in_proj_weight",
        "layers.0.self_attn.in_proj_bias",
        "layers.0.self_attn.out_proj.weight",
        "layers.0.self_attn.out_proj.bias",
    ]
    assert "layers.1.norm2.bias" in names and names[-2:] == ["norm.weight", "norm.bias"]
    with rg.no_grad():
        enc.layers[1].linear1.weight.mul_(2)
    x = np.random.randn(5, 2, 4)  # (L, N, E), batch_first=False
    out = enc(t64(x))
    h = x.transpose(1, 0, 2)
    for lyr in enc.layers:
        h = np_encoder_layer(lyr, h)
    ref = np_layer_norm(h, enc.norm).transpose(1, 0, 2)
    np.testing.assert_allclose(out.detach().numpy(), ref, rtol=1e-9, atol=1e-10)


def test_encoder_layer_gelu_activation_padding_and_gradcheck():
    layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, activation="gelu", batch_first=True)
    assert layer.activation is nn.functional.gelu
    with pytest.raises(RuntimeError, match="relu/gelu"):
        nn.TransformerEncoderLayer(4, 2, activation="tanh")
    pad = rg.tensor([[False, False, True]])
    out = layer(rg.randn(1, 3, 4), src_key_padding_mask=pad)
    assert out.shape == (1, 3, 4)
    assert module_gradcheck(
        nn.TransformerEncoderLayer(4, 2, 4, dropout=0.0, batch_first=True), t64(np.random.randn(1, 2, 4), True)
    )


def test_dropout_makes_train_and_eval_differ():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5)
    x = rg.randn(4, 2, 8)
    layer.eval()
    a, b = layer(x), layer(x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    layer.train()
    assert not np.allclose(layer(x).detach().numpy(), a.detach().numpy())


def test_decoder_and_transformer_shapes_and_mask():
    mask = nn.Transformer.generate_square_subsequent_mask(3)
    assert mask.tolist() == [[0.0, -math.inf, -math.inf], [0.0, 0.0, -math.inf], [0.0, 0.0, 0.0]]
    model = nn.Transformer(
        d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=2, dim_feedforward=16, batch_first=True
    )
    out = model(rg.randn(2, 5, 8), rg.randn(2, 3, 8), tgt_mask=mask)
    assert out.shape == (2, 3, 8)
    assert "decoder.layers.1.multihead_attn.in_proj_weight" in model.state_dict()
    copy.deepcopy(model)


@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_output_has_pytorchs_memory_layout(batch_first):
    # PyTorch projects the heads in (L, N, E) order: contiguous for sequence-first input, a
    # transposed view for batch-first; dropout masks drawn on the output follow that layout
    m = nn.MultiheadAttention(8, 2, batch_first=batch_first)
    x = rg.randn(3, 5, 8)
    for nw in (True, False):
        out = m(x, x, x, need_weights=nw)[0]
        assert out.stride() == ((8, 24, 1) if batch_first else (40, 8, 1))
    assert m(x[0], x[0], x[0])[0].is_contiguous()

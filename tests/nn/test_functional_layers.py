"""Behaviour of linear, dropout, embedding, the normalizations and attention beyond the op
table: errors, random masks, running statistics, padding rows and in-place renormalisation."""

import math

import numpy as np
import pytest

import retrograd as rg
import retrograd.nn.functional as F
from retrograd.autograd import gradcheck, gradgradcheck


# --------------------------------------------------------------------------- linear
def test_linear_shape_mismatch_names_the_shapes():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(6x4 and 3x5\)"):
        F.linear(rg.randn(2, 3, 4), rg.randn(5, 3))


def test_linear_dtype_mismatch():
    with pytest.raises(RuntimeError, match="same dtype"):
        F.linear(rg.randn(2, 4, dtype=rg.float64), rg.randn(5, 4))


def test_linear_bias_gradient_reaches_a_broadcast_bias():
    x, w = rg.randn(3, 4), rg.randn(5, 4)
    b = rg.zeros(1, 5, requires_grad=True)
    F.linear(x, w, b).sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), np.full((1, 5), 3.0))


# --------------------------------------------------------------------------- dropout
def test_dropout_eval_and_p0_return_the_input():
    x = rg.randn(4, 5)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x


def test_dropout_statistics_and_scaling():
    rg.manual_seed(0)
    x = rg.ones(200, 500)
    y = F.dropout(x, 0.3).numpy()
    kept = y != 0
    assert abs(1 - kept.mean() - 0.3) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    assert F.dropout(x.double(), 0.3).dtype == rg.float64


def test_dropout_is_reproducible_with_manual_seed():
    x = rg.randn(6, 7)
    rg.manual_seed(123)
    a = F.dropout(x, 0.5).numpy()
    rg.manual_seed(123)
    b = F.dropout(x, 0.5).numpy()
    c = F.dropout(x, 0.5).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_dropout_gradient_is_the_scaled_mask():
    x = rg.randn(5, 6, dtype=rg.float64, requires_grad=True)
    y = F.dropout(x, 0.4)
    y.sum().backward()
    mask = y.detach().numpy() / x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), mask)
    assert set(np.round(np.unique(mask), 6)) <= {0.0, round(1 / 0.6, 6)}

    def seeded(t):
        rg.manual_seed(7)
        return F.dropout(t, 0.4)

    assert gradcheck(seeded, [x]) and gradgradcheck(seeded, [x])


def test_dropout_p1_gives_zeros_and_invalid_p_raises():
    x = rg.randn(3, requires_grad=True)
    y = F.dropout(x, 1.0)
    np.testing.assert_array_equal(y.detach().numpy(), 0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        F.dropout(x, 1.5)


def test_dropout_inplace_and_toplevel():
    x = rg.ones(10, 10)
    assert F.dropout(x, 0.5, inplace=True) is x
    assert set(np.unique(x.numpy())) <= {0.0, 2.0}
    assert rg.dropout(rg.ones(3), 0.5, False).tolist() == [1.0, 1.0, 1.0]


def test_dropout2d_zeroes_whole_channels():
    rg.manual_seed(1)
    y = F.dropout2d(rg.ones(4, 8, 3, 3), 0.5).numpy()
    per_channel = y.reshape(4, 8, -1)
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all()
    assert 0 < (per_channel == 0).all(-1).sum() < 32
    y1 = F.dropout1d(rg.ones(5, 4), 0.5).numpy()  # unbatched (C, L)
    assert ((y1 == 0).all(-1) | (y1 == 2).all(-1)).all()
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input"):
        F.dropout1d(rg.ones(2, 3, 4, 5))


def test_alpha_dropout_keeps_mean_and_variance():
    rg.manual_seed(2)
    x = rg.randn(400, 500)
    y = F.alpha_dropout(x, 0.2, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    assert F.alpha_dropout(x, 0.2) is x  # training defaults to False


# --------------------------------------------------------------------------- embedding
def test_embedding_padding_idx_row_gets_no_gradient():
    w = rg.randn(5, 3, requires_grad=True)
    idx = rg.tensor([[0, 2, 2], [4, 0, 1]])
    F.embedding(idx, w, padding_idx=2).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [[2] * 3, [1] * 3, [0] * 3, [0] * 3, [1] * 3])
    w.grad = None
    F.embedding(idx, w, padding_idx=-1).sum().backward()  # -1 means row 4
    np.testing.assert_allclose(w.grad.numpy()[:, 0], [2, 1, 2, 0, 0])


def test_embedding_scale_grad_by_freq():
    w = rg.randn(5, 2, requires_grad=True)
    idx = rg.tensor([0, 0, 0, 3, 1])
    F.embedding(idx, w, scale_grad_by_freq=True).sum().backward()
    np.testing.assert_allclose(w.grad.numpy()[:, 0], [1, 1, 0, 1, 0])


def test_embedding_double_backward():
    w = rg.randn(4, 3, dtype=rg.float64, requires_grad=True)
    idx = rg.tensor([[1, 3], [1, 0]])
    assert gradgradcheck(lambda t: F.embedding(idx, t, padding_idx=0) ** 2, [w])


def test_embedding_max_norm_renormalises_looked_up_rows_in_place():
    data = np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0], [1.0, 0.0]])
    w = rg.tensor(data.copy())
    v0 = w._version
    out = F.embedding(rg.tensor([0, 1, 0]), w, max_norm=1.0)
    got = w.numpy()
    np.testing.assert_allclose(np.linalg.norm(got[0]), 1.0, rtol=1e-6)  # rescaled (was 5)
    np.testing.assert_array_equal(got[1], data[1])  # under the limit
    np.testing.assert_array_equal(got[2], data[2])  # not looked up
    np.testing.assert_allclose(out.numpy()[0], got[0])
    assert w._version > v0
    w1 = rg.tensor(data.copy())
    F.embedding(rg.tensor([2]), w1, max_norm=2.0, norm_type=1.0)
    np.testing.assert_allclose(np.abs(w1.numpy()[2]).sum(), 2.0, rtol=1e-6)


def test_embedding_errors():
    w = rg.randn(3, 2)
    with pytest.raises(IndexError, match="index out of range in self"):
        F.embedding(rg.tensor([3]), w)
    with pytest.raises(RuntimeError, match="Long, Int"):
        F.embedding(rg.tensor([1.0]), w)
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        F.embedding(rg.tensor([1]), w, padding_idx=3)


def test_embedding_sparse_gradient_has_one_entry_per_lookup():
    w = rg.randn(5, 2, requires_grad=True)
    y = F.embedding(rg.tensor([[1, 2], [1, 4]]), w, padding_idx=4, scale_grad_by_freq=True, sparse=True)
    np.testing.assert_allclose(y.detach().numpy(), w.detach().numpy()[[[1, 2], [1, 4]]])
    (y * rg.tensor([[[1.0], [2.0]], [[3.0], [4.0]]])).sum().backward()
    g = w.grad
    assert g.is_sparse and g._nnz() == 3  # row 4 is padding; row 1 twice, not coalesced
    np.testing.assert_allclose(g.to_dense().numpy()[:, 0], [0, (1 + 3) / 2, 2, 0, 0])


# --------------------------------------------------------------------------- batch / instance norm
def test_batch_norm_training_updates_running_stats_in_place():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 5))
    rm, rv = rg.full((3,), 0.5, dtype=rg.float64), rg.full((3,), 2.0, dtype=rg.float64)
    v0 = rm._version
    y = F.batch_norm(rg.tensor(x), rm, rv, training=True, momentum=0.2)
    mean = x.mean((0, 2))
    var_unbiased = x.var((0, 2), ddof=1)
    np.testing.assert_allclose(rm.numpy(), 0.8 * 0.5 + 0.2 * mean)
    np.testing.assert_allclose(rv.numpy(), 0.8 * 2.0 + 0.2 * var_unbiased)
    assert rm._version > v0 and not rm.requires_grad
    biased = x.var((0, 2), keepdims=True)
    np.testing.assert_allclose(y.numpy(), (x - mean.reshape(1, 3, 1)) / np.sqrt(biased + 1e-5))


def test_batch_norm_eval_uses_running_stats():
    x = rg.randn(2, 3, dtype=rg.float64)
    rm, rv = rg.tensor([0.1, 0.2, 0.3], dtype=rg.float64), rg.tensor([1.0, 2.0, 3.0], dtype=rg.float64)
    y = F.batch_norm(x, rm, rv, training=False)
    np.testing.assert_allclose(y.numpy(), (x.numpy() - rm.numpy()) / np.sqrt(rv.numpy() + 1e-5), rtol=1e-6)
    np.testing.assert_allclose(rm.numpy(), [0.1, 0.2, 0.3], rtol=1e-7)  # untouched


def test_batch_norm_refuses_float32_buffers_with_a_float64_input_as_pytorch_does():
    with pytest.raises(RuntimeError, match="mixed dtype"):
        F.batch_norm(rg.randn(2, 3, dtype=rg.float64), rg.zeros(3), rg.ones(3), training=False)


def test_batch_norm_errors():
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        F.batch_norm(rg.randn(1, 3), None, None, training=True)
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements not 4"):
        F.batch_norm(rg.randn(2, 3), rg.zeros(4), rg.ones(3), training=True)
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        F.batch_norm(rg.randn(2, 3), None, None)


def test_batch_norm_toplevel_argument_order():
    x = rg.randn(4, 2)
    w, b = rg.tensor([2.0, 3.0]), rg.tensor([0.5, -0.5])
    rm, rv = rg.zeros(2), rg.ones(2)
    want = F.batch_norm(x, rg.zeros(2), rg.ones(2), w, b, True, 0.1, 1e-5)
    got = rg.batch_norm(x, w, b, rm, rv, True, 0.1, 1e-5, False)
    np.testing.assert_allclose(got.numpy(), want.numpy())
    assert abs(rm.numpy()).sum() > 0


def test_instance_norm_running_stats_average_over_the_batch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 2, 6))
    rm, rv = rg.zeros(2, dtype=rg.float64), rg.ones(2, dtype=rg.float64)
    F.instance_norm(rg.tensor(x), rm, rv, momentum=0.5)
    np.testing.assert_allclose(rm.numpy(), 0.5 * x.mean(2).mean(0))
    np.testing.assert_allclose(rv.numpy(), 0.5 + 0.5 * x.var(2, ddof=1).mean(0))
    y = F.instance_norm(rg.tensor(x), rm, rv, use_input_stats=False)
    np.testing.assert_allclose(y.numpy(), (x - rm.numpy()[:, None]) / np.sqrt(rv.numpy()[:, None] + 1e-5))


# --------------------------------------------------------------------------- layer / group norm
def test_layer_norm_shape_errors():
    with pytest.raises(
        RuntimeError,
        match=r"Given normalized_shape=\[3\], expected input with shape \[\*, 3\], "
        r"but got input of size\[3, 4\]",
    ):
        F.layer_norm(rg.randn(3, 4), (3,))
    with pytest.raises(RuntimeError, match="Expected weight to be of same shape as normalized_shape"):
        F.layer_norm(rg.randn(3, 4), (4,), weight=rg.ones(3))


def test_layer_norm_float32_large_offset_is_accurate():
    x = rg.tensor(np.float32(1000) + np.arange(8, dtype=np.float32).reshape(2, 4))
    y = F.layer_norm(x, (4,)).numpy()
    ref = (np.arange(4) - 1.5) / np.sqrt(1.25 + 1e-5)
    np.testing.assert_allclose(y, np.stack([ref, ref]), atol=1e-5)


def test_group_norm_errors():
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(rg.randn(2, 3, 4), 2)


# --------------------------------------------------------------------------- attention
def _manual_attention(q, k, v, mask=None, causal=False):
    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if causal:
        mask = rg.ones(s.shape[-2], s.shape[-1], dtype=rg.bool).numpy()
        mask = rg.tensor(np.tril(mask))
    if mask is not None:
        s = rg.where(mask, s, rg.tensor(float("-inf"), dtype=s.dtype))
    return F.softmax(s, -1) @ v


def test_sdpa_matches_matmul_mask_softmax():
    q, k, v = (rg.randn(2, 4, 6, 8, dtype=rg.float64, requires_grad=True) for _ in range(3))
    a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    b = _manual_attention(q, k, v, causal=True)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)
    ga = rg.autograd.grad(a.sum(), [q, k, v])
    gb = rg.autograd.grad(b.sum(), [q, k, v])
    for x, y in zip(ga, gb):
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-10, atol=1e-12)


def test_sdpa_dropout_is_seeded_and_scaled():
    q, k, v = rg.randn(1, 4, 3), rg.randn(1, 5, 3), rg.randn(1, 5, 2)
    rg.manual_seed(5)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    rg.manual_seed(5)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, F.scaled_dot_product_attention(q, k, v).numpy())

    qd, kd, vd = (t.double().requires_grad_() for t in (q, k, v))

    def seeded(*t):
        rg.manual_seed(9)
        return F.scaled_dot_product_attention(*t, dropout_p=0.3)

    assert gradcheck(seeded, [qd, kd, vd])


def test_sdpa_dropout_mask_ignores_the_query_layout():
    # the attention weights are a new contiguous array (as in PyTorch), so a transposed query whose
    # shape happens to equal the weights' (L == E) draws the same mask as a contiguous one
    q, k = rg.randn(2, 3, 6, 6), rg.randn(2, 3, 6, 6)
    qt = q.transpose(1, 2).contiguous().transpose(1, 2)
    assert not qt.is_contiguous()
    rg.manual_seed(4)
    a = F.scaled_dot_product_attention(q, k, k, dropout_p=0.4).numpy()
    rg.manual_seed(4)
    np.testing.assert_array_equal(F.scaled_dot_product_attention(qt, k, k, dropout_p=0.4).numpy(), a)


def test_sdpa_errors():
    q = rg.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match="attn_mask should not be set when is_causal=True"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=rg.ones(3, 3), is_causal=True)
    with pytest.raises(RuntimeError, match="last dim"):
        F.scaled_dot_product_attention(q, rg.randn(2, 3, 5), q)
    with pytest.raises(RuntimeError, match="same sequence length"):
        F.scaled_dot_product_attention(q, q, rg.randn(2, 5, 4))


def test_sdpa_fully_masked_rows_give_zeros_like_pytorch():
    q, k, v = (rg.randn(1, 2, 3, dtype=rg.float64, requires_grad=True) for _ in range(3))
    mask = rg.tensor([[True, False], [False, False]])
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    np.testing.assert_array_equal(out.detach().numpy()[0, 1], 0)
    np.testing.assert_allclose(out.detach().numpy()[0, 0], v.detach().numpy()[0, 0])
    out.sum().backward()
    assert np.isfinite(q.grad.numpy()).all() and not q.grad.numpy()[0, 1].any()
    fm = rg.tensor([[0.0, float("-inf")], [float("-inf"), float("-inf")]], dtype=rg.float64)
    assert gradgradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=fm), [q, k, v])


def test_sdpa_float_mask_gets_a_gradient_and_bool_mask_masks():
    q, k, v = rg.randn(3, 4, dtype=rg.float64), rg.randn(5, 4, dtype=rg.float64), rg.randn(5, 2, dtype=rg.float64)
    m = rg.zeros(3, 5, dtype=rg.float64, requires_grad=True)
    F.scaled_dot_product_attention(q, k, v, attn_mask=m).sum().backward()
    assert m.grad is not None and m.grad.shape == (3, 5)
    np.testing.assert_allclose(m.grad.numpy().sum(-1), 0, atol=1e-12)  # softmax rows sum to one
    only_first = rg.tensor(np.eye(3, 5, dtype=bool))
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=only_first)
    np.testing.assert_allclose(out.numpy(), v.numpy()[:3])


def _ln_ref(x, w, b, eps=1e-5):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * w + b


@pytest.mark.parametrize("low", [rg.float16, rg.bfloat16])
def test_norms_of_a_half_input_with_float32_parameters_keep_the_input_dtype(low):
    rng = np.random.default_rng(0)
    x32 = rng.standard_normal((4, 6)).astype(np.float32)
    w, b = rng.standard_normal(6).astype(np.float32), rng.standard_normal(6).astype(np.float32)
    x = rg.tensor(x32).to(low).requires_grad_()
    xs = x.detach().float().numpy()  # the input as the low-precision dtype holds it
    tw, tb = rg.tensor(w, requires_grad=True), rg.tensor(b)
    y = F.layer_norm(x, (6,), tw, tb)
    assert y.dtype is low
    # statistics in float32, one rounding at the end
    expected = rg.tensor(_ln_ref(xs, w, b)).to(low).float().numpy()
    np.testing.assert_array_equal(y.detach().float().numpy(), expected)
    y.float().sum().backward()
    assert x.grad.dtype is low and tw.grad.dtype is rg.float32
    x3 = x.detach()[:, :, None]
    for out in (
        F.group_norm(x3, 2, tw, tb),
        F.batch_norm(x3, rg.zeros(6), rg.ones(6), tw, tb, training=True),
        F.batch_norm(x3, rg.zeros(6), rg.ones(6), tw, tb, training=False),
        F.instance_norm(x3.expand(4, 6, 3), weight=tw, bias=tb),
        F.rms_norm(x.detach(), (6,), tw),
    ):
        assert out.dtype is low
    g = F.group_norm(x3, 6, tw, tb)  # one channel per group: a layer norm over nothing but 1 value
    np.testing.assert_array_equal(
        g.detach().float().numpy()[:, :, 0], rg.tensor(np.broadcast_to(b, (4, 6))).to(low).float().numpy()
    )


@pytest.mark.parametrize(
    "xd, pd, rule",
    [
        (rg.float32, rg.float16, "expect parameter to have scalar type of Float"),
        (rg.float32, rg.float64, "expect parameter to have scalar type of Float"),
        (rg.float16, rg.bfloat16, "expect parameter to have scalar type of Float"),
        (rg.float64, rg.float32, "all inputs must share same datatype"),
    ],
)
def test_norms_refuse_other_parameter_dtype_mixes(xd, pd, rule):
    x, w = rg.randn(4, 6).to(xd), rg.randn(6).to(pd)
    for f in (
        lambda: F.layer_norm(x, (6,), w),
        lambda: F.group_norm(x[:, :, None], 2, w),
        lambda: F.batch_norm(x, None, None, w, training=True),
        lambda: F.instance_norm(x[:, :, None].expand(4, 6, 3), weight=w),
    ):
        with pytest.raises(RuntimeError, match=rule):
            f()
    assert F.rms_norm(x, (6,), w).dtype is xd  # rms_norm takes any weight dtype

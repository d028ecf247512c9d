"""Op table: linear, bilinear, embedding, normalization, distances and attention."""
import math

import numpy as np

from .optable import OpSpec

IDX = np.array([[0, 2, 2], [4, 0, 1]])


def _np_layer_norm(x, k, w=None, b=None, eps=1e-5):
    axes = tuple(range(x.ndim - k, x.ndim))
    mu = x.mean(axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axes, keepdims=True)
    y = (x - mu) / np.sqrt(var + eps)
    if w is not None:
        y = y * w
    if b is not None:
        y = y + b
    return y


def _np_group_norm(x, groups, w, b, eps=1e-5):
    n, c = x.shape[:2]
    xr = x.reshape(n, groups, -1)
    mu = xr.mean(-1, keepdims=True)
    var = xr.var(-1, keepdims=True)
    y = ((xr - mu) / np.sqrt(var + eps)).reshape(x.shape)
    shape = (c,) + (1,) * (x.ndim - 2)
    return y * w.reshape(shape) + b.reshape(shape)


def _np_batch_norm_train(x, w, b, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    mu = x.mean(axes, keepdims=True)
    var = x.var(axes, keepdims=True)
    shape = (x.shape[1],) + (1,) * (x.ndim - 2)
    return (x - mu) / np.sqrt(var + eps) * w.reshape(shape) + b.reshape(shape)


def _np_instance_norm(x, eps=1e-5):
    axes = tuple(range(2, x.ndim))
    return (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + eps)


def _np_softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _np_sdpa(q, k, v, mask=None, causal=False, scale=None):
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ np.swapaxes(k, -1, -2) * scale
    if causal:
        s = np.where(np.tril(np.ones(s.shape[-2:], bool)), s, -np.inf)
    if mask is not None:
        s = np.where(mask, s, -np.inf) if mask.dtype == bool else s + mask
    return _np_softmax(s) @ v


def _np_cos(x1, x2, axis, eps=1e-8):
    n1 = np.maximum(np.linalg.norm(x1, axis=axis, keepdims=True), eps)
    n2 = np.maximum(np.linalg.norm(x2, axis=axis, keepdims=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(axis)


def build(rg):
    F = rg.nn.functional
    T = []
    # ---------------------------------------------------------------- linear, bilinear
    T += [
        OpSpec("linear", F.linear, lambda x, w, b: x @ w.T + b,
               [[(3, 4), (5, 4), (5,)], [(2, 3, 4), (5, 4), (5,)], [(4,), (2, 4), (2,)], [(0, 4), (2, 4), (2,)],
                [(3, 4), (5, 4), (1, 5)], [(3, 4), (5, 4), ()]]),
        OpSpec("linear_no_bias", F.linear, lambda x, w: x @ w.T, [[(3, 4), (5, 4)], [(2, 1, 3), (2, 3)]]),
        OpSpec("linear_noncontig", lambda x, w, b: F.linear(x.transpose(0, 1), w.t(), b),
               lambda x, w, b: x.swapaxes(0, 1) @ w + b, [[(4, 2, 3), (3, 5), (5,)]]),
        OpSpec("linear_1d_weight", F.linear, lambda x, w: x @ w, [[(3, 4), (4,)]]),
        OpSpec("bilinear", F.bilinear, lambda x1, x2, w, b: np.einsum("ni,oij,nj->no", x1, w, x2) + b,
               [[(2, 3), (2, 4), (5, 3, 4), (5,)]]),
        OpSpec("bilinear_batch_no_bias", rg.bilinear,
               lambda x1, x2, w: np.einsum("abi,oij,abj->abo", x1, w, x2), [[(2, 2, 3), (2, 2, 2), (2, 3, 2)]]),
    ]
    # ---------------------------------------------------------------- embedding
    idx = rg.tensor(IDX)
    T += [
        OpSpec("embedding", lambda w: F.embedding(idx, w), lambda w: w[IDX], [[(5, 3)]]),
        OpSpec("embedding_padding_idx", lambda w: F.embedding(idx, w, padding_idx=2), lambda w: w[IDX], [[(5, 3)]],
               skip={"gradcheck": "no gradient reaches row padding_idx (tests/nn/test_functional_layers.py)",
                     "forward_ad": "as in PyTorch, the tangent is the embedding of the weight's tangent (row "
                                   "padding_idx included) while backward gives that row no gradient"}),
        OpSpec("embedding_padding_negative_freq", lambda w: F.embedding(idx, w, padding_idx=-1,
                                                                        scale_grad_by_freq=True),
               lambda w: w[IDX], [[(5, 3)]],
               skip={"gradcheck": "gradients are rescaled by design (tests/nn/test_functional_layers.py)",
                     "forward_ad": "as in PyTorch, the tangent is the embedding of the weight's tangent, with "
                                   "neither the padding row's zero nor the frequency scaling of backward"}),
        OpSpec("embedding_0d_index", lambda w: F.embedding(rg.tensor(3), w), lambda w: w[3], [[(5, 3)]]),
        OpSpec("embedding_toplevel", lambda w: rg.embedding(w, idx), lambda w: w[IDX], [[(5, 3)]]),
        OpSpec("embedding_noncontig", lambda w: F.embedding(idx, w.t()), lambda w: w.T[IDX], [[(3, 5)]]),
    ]
    # ---------------------------------------------------------------- normalization
    T += [
        OpSpec("layer_norm", lambda x, w, b: F.layer_norm(x, (4,), w, b), lambda x, w, b: _np_layer_norm(x, 1, w, b),
               [[(3, 4), (4,), (4,)], [(2, 3, 4), (4,), (4,)], [(4,), (4,), (4,)], [(0, 4), (4,), (4,)]]),
        OpSpec("layer_norm_2d_eps", lambda x, w: F.layer_norm(x, (3, 4), w, eps=1e-2),
               lambda x, w: _np_layer_norm(x, 2, w, eps=1e-2), [[(2, 3, 4), (3, 4)]]),
        OpSpec("layer_norm_plain", lambda x: F.layer_norm(x, [4]), lambda x: _np_layer_norm(x, 1), [[(3, 4)]]),
        OpSpec("layer_norm_bias_only", lambda x, b: F.layer_norm(x, (4,), bias=b),
               lambda x, b: _np_layer_norm(x, 1, b=b), [[(3, 4), (4,)]]),
        OpSpec("layer_norm_noncontig", lambda x, w, b: F.layer_norm(x.t(), (3,), w, b),
               lambda x, w, b: _np_layer_norm(x.T, 1, w, b), [[(3, 4), (3,), (3,)]]),
        OpSpec("rms_norm", lambda x, w: F.rms_norm(x, (4,), w, eps=1e-6),
               lambda x, w: x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-6) * w,
               [[(3, 4), (4,)], [(2, 3, 4), (4,)]]),
        OpSpec("rms_norm_default_eps", lambda x: F.rms_norm(x, (3, 4)),
               lambda x: x / np.sqrt((x * x).mean((-2, -1), keepdims=True) + np.finfo(x.dtype).eps), [[(2, 3, 4)]]),
        OpSpec("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b), lambda x, w, b: _np_group_norm(x, 2, w, b),
               [[(2, 4, 3), (4,), (4,)], [(2, 4), (4,), (4,)], [(1, 4, 2, 2), (4,), (4,)]]),
        OpSpec("batch_norm_train", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
               _np_batch_norm_train, [[(3, 4), (4,), (4,)], [(2, 3, 2), (3,), (3,)], [(2, 2, 2, 2), (2,), (2,)]]),
        OpSpec("batch_norm_eval", lambda x, w, b: F.batch_norm(x, rg.full((3,), 0.2, dtype=x.dtype),
                                                               rg.full((3,), 1.5, dtype=x.dtype), w, b),
               lambda x, w, b: (x - 0.2) / np.sqrt(1.5 + 1e-5) * w.reshape(3, 1) + b.reshape(3, 1),
               [[(2, 3, 4), (3,), (3,)]]),
        OpSpec("instance_norm", lambda x: F.instance_norm(x), _np_instance_norm, [[(2, 3, 4)], [(1, 2, 2, 3)]]),
        OpSpec("normalize", F.normalize, lambda x: x / np.linalg.norm(x, axis=1, keepdims=True),
               [[(3, 4)], [(2, 3, 4)]]),
        OpSpec("normalize_p1_dim0", lambda x: F.normalize(x, p=1.0, dim=0),
               lambda x: x / np.abs(x).sum(0, keepdims=True), [[(3, 4)]]),
    ]
    # ---------------------------------------------------------------- distances
    T += [
        OpSpec("cosine_similarity", F.cosine_similarity, lambda a, b: _np_cos(a, b, 1), [[(3, 4), (3, 4)]]),
        OpSpec("cosine_similarity_broadcast", lambda a, b: F.cosine_similarity(a, b, dim=-1),
               lambda a, b: _np_cos(*np.broadcast_arrays(a, b), -1), [[(3, 4), (4,)], [(2, 1, 3), (4, 3)]]),
        OpSpec("pairwise_distance", F.pairwise_distance, lambda a, b: np.linalg.norm(a - b + 1e-6, axis=-1),
               [[(3, 4), (3, 4)], [(4,), (4,)], [(3, 4), (4,)]]),
        OpSpec("pairwise_distance_p1_keepdim", lambda a, b: F.pairwise_distance(a, b, p=1.0, keepdim=True),
               lambda a, b: np.abs(a - b + 1e-6).sum(-1, keepdims=True), [[(3, 4), (3, 4)]]),
        OpSpec("pdist", F.pdist,
               lambda x: np.array([np.linalg.norm(x[i] - x[j]) for i in range(4) for j in range(i + 1, 4)]),
               [[(4, 3)]]),
    ]
    # ---------------------------------------------------------------- attention
    sdpa = F.scaled_dot_product_attention
    bool_mask = np.array([[1, 0, 1, 1, 0], [1, 1, 0, 1, 1], [0, 1, 1, 1, 1]], dtype=bool)
    T += [
        OpSpec("sdpa", sdpa, _np_sdpa, [[(2, 3, 4), (2, 5, 4), (2, 5, 3)], [(3, 4), (5, 4), (5, 2)]]),
        OpSpec("sdpa_causal_scale", lambda q, k, v: sdpa(q, k, v, is_causal=True, scale=0.7),
               lambda q, k, v: _np_sdpa(q, k, v, causal=True, scale=0.7),
               [[(2, 2, 3, 4), (2, 2, 3, 4), (2, 2, 3, 4)], [(3, 4), (5, 4), (5, 2)]]),
        OpSpec("sdpa_bool_mask", lambda q, k, v: sdpa(q, k, v, attn_mask=rg.tensor(bool_mask)),
               lambda q, k, v: _np_sdpa(q, k, v, bool_mask), [[(2, 3, 4), (2, 5, 4), (2, 5, 3)]]),
        OpSpec("sdpa_float_mask", lambda q, k, v, m: sdpa(q, k, v, attn_mask=m), _np_sdpa,
               [[(2, 3, 4), (2, 5, 4), (2, 5, 3), (3, 5)], [(3, 4), (5, 4), (5, 2), (2, 3, 5)]],
               skip={"parity": "PyTorch 2.13 raises for a mask with more batch dims than q (in-place add into the bias); retrograd broadcasts"}),
        OpSpec("sdpa_broadcast_batch", sdpa, _np_sdpa, [[(2, 2, 3, 4), (2, 1, 5, 4), (5, 3)]]),
        OpSpec("sdpa_gqa", lambda q, k, v: sdpa(q, k, v, enable_gqa=True),
               lambda q, k, v: _np_sdpa(q, np.repeat(k, 2, -3), np.repeat(v, 2, -3)),
               [[(1, 4, 3, 2), (1, 2, 3, 2), (1, 2, 3, 2)]]),
        OpSpec("sdpa_noncontig", lambda q, k, v: sdpa(q.transpose(0, 1), k.transpose(0, 1), v),
               lambda q, k, v: _np_sdpa(q.swapaxes(0, 1), k.swapaxes(0, 1), v), [[(3, 2, 4), (5, 2, 4), (2, 5, 3)]]),
    ]
    return T

"""scaled_dot_product_attention as one fused op.

    S = Q K^T * scale + mask,  P = softmax(S),  out = dropout(P) V

The forward computes S in place (scale, mask, max-shift, exp, normalise) and saves P; the
backward is four matrix products and a softmax backward on arrays,

    gV = P_d^T g,  gP = (g V^T) * dropout_mask,  gS = P * (gP - sum(gP * P)),
    gQ = gS K * scale,  gK = gS^T Q * scale,  g_mask = gS,

or the same formula in differentiable ops under create_graph. Fused for speed (no
intermediate tensors, one pass per step) and memory (only P is kept besides the inputs).
"""

import math

import numpy as np

from ..autograd.grad_mode import _state
from ..backend import array_module
from ..backend.reductions import max_axis, sum_axis
from ._registry import Op, apply
from .activation import _const, softmax
from .elementwise import where
from .layers import dropout, linear
from .shape import cat
from ._declare import declare
from .. import _creation
from .._autocast import LOWER, ACTIVE as _AMP, _amp, autocast_call


def _swap(a):
    return a.swapaxes(-1, -2)


def _additive_bias(xp, bool_mask, causal, shape, dtype):
    """0 where attention is allowed, -inf where it is masked (None when nothing is masked)."""
    bias = None
    if causal:
        ln, sn = shape[-2], shape[-1]
        bias = xp.where(xp.tri(ln, sn, dtype=bool), xp.zeros((), dtype), xp.asarray(-np.inf, dtype))
    if bool_mask is not None:
        b = xp.where(bool_mask, xp.zeros((), dtype), xp.asarray(-np.inf, dtype))
        bias = b if bias is None else bias + b
    return bias


def _scores(xp, q, k, fmask, bias, scale):
    s = q @ _swap(k)
    s *= scale
    if bias is not None:
        s = s + bias if np.broadcast_shapes(s.shape, bias.shape) != s.shape else _iadd(s, bias)
    if fmask is not None:
        s = s + fmask if np.broadcast_shapes(s.shape, fmask.shape) != s.shape else _iadd(s, fmask)
    return s


def _iadd(a, b):
    a += b
    return a


def _sdpa_fwd(xp, q, k, v, fmask, fmask_t, bool_mask, causal, scale, drop):
    s = _scores(xp, q, k, fmask, _additive_bias(xp, bool_mask, causal, (q.shape[-2], k.shape[-2]), q.dtype), scale)
    if s.size:
        m = max_axis(xp, s, -1, True)
        dead = None
        if bool(xp.isneginf(m).any()):  # rows with every key masked attend to nothing
            dead = xp.isneginf(m)
            m = xp.where(dead, 0, m).astype(s.dtype, copy=False)
        s -= m
        xp.exp(s, out=s)
        total = sum_axis(xp, s, -1, True)
        if dead is not None:
            total = xp.where(dead, 1, total).astype(s.dtype, copy=False)
        s *= 1 / total
    p = s
    pd = p * drop if drop is not None else p
    return pd @ v, p


def _sdpa_vjp(g, needs, q, k, v, p, fmask, bool_mask, causal, scale, drop):
    if _state.enabled:
        return _sdpa_grads(g, needs, q, k, v, p, fmask, bool_mask, causal, scale, drop)
    gd = g._data
    gq = gk = gv = gm = None
    if needs[2]:
        pd = p * drop if drop is not None else p
        gv = _const(_swap(pd) @ gd)
    if needs[0] or needs[1] or needs[3]:
        gp = gd @ _swap(v._data)
        if drop is not None:
            gp *= drop
        t = gp * p
        gp -= sum_axis(array_module(t), t, -1, True)
        gp *= p  # gS, the gradient of the scores
        if needs[3]:
            gm = _const(gp.copy() if (needs[0] or needs[1]) else gp)
        gp *= scale
        if needs[0]:
            gq = _const(gp @ k._data)
        if needs[1]:
            gk = _const(_swap(gp) @ q._data)
    return gq, gk, gv, gm


def _probs(q, k, p_saved, fmask, bool_mask, causal, scale):
    """The attention weights P in differentiable ops, recomputed from Q, K and the mask."""
    xp = array_module(q._data)
    s = (q @ k.mT) * scale
    bias = _additive_bias(xp, bool_mask, causal, (q._data.shape[-2], k._data.shape[-2]), q._data.dtype)
    if bias is not None:
        s = s + _const(bias)
    if fmask is not None:
        s = s + fmask
    alive = p_saved.sum(axis=-1, keepdims=True) > 0
    if not bool(alive.all()):
        # fully masked rows: P is 0 there (as in the forward), with a softmax of zeros standing in
        keep = _const(alive)
        return softmax(where(keep, s, 0.0), -1) * keep
    return softmax(s, -1)


def _sdpa_grads(g, needs, q, k, v, p_saved, fmask, bool_mask, causal, scale, drop):
    """The backward in differentiable ops (create_graph): recompute P from Q, K and the mask."""
    p = _probs(q, k, p_saved, fmask, bool_mask, causal, scale)
    dm = _const(drop) if drop is not None else None
    gq = gk = gv = gm = None
    if needs[2]:
        gv = (p * dm if dm is not None else p).mT @ g
    if needs[0] or needs[1] or needs[3]:
        gp = g @ v.mT
        if dm is not None:
            gp = gp * dm
        gs = p * (gp - (gp * p).sum(-1, keepdim=True))
        gm = gs if needs[3] else None
        gs = gs * scale
        gq = gs @ k if needs[0] else None
        gk = gs.mT @ q if needs[1] else None
    return gq, gk, gv, gm


def _sdpa_jvp(ts, q, k, v, p_saved, fmask, bool_mask, causal, scale, drop):
    # out = (P * D) V with P = softmax(S), S = Q K^T scale + mask:
    # d out = (dP * D) V + (P * D) dV,  dP = P * (dS - sum(P dS)),  dS = (dQ K^T + Q dK^T) scale + dM
    tq, tk, tv, tm = ts
    p = _probs(q, k, p_saved, fmask, bool_mask, causal, scale) if _state.enabled else _const(p_saved)
    dm = _const(drop) if drop is not None else None
    out = None
    if tv is not None:
        out = (p * dm if dm is not None else p) @ tv
    ds = None
    for term in ((tq @ k.mT) * scale if tq is not None else None, (q @ tk.mT) * scale if tk is not None else None, tm):
        if term is not None:
            ds = term if ds is None else ds + term
    if ds is not None:
        dp = p * (ds - (p * ds).sum(-1, keepdim=True))
        if dm is not None:
            dp = dp * dm
        out = dp @ v if out is None else out + dp @ v
    return out


SDPA = Op(
    "scaled_dot_product_attention",
    _sdpa_fwd,
    _sdpa_vjp,
    jvp=_sdpa_jvp,
    save=("x", "y", "z", "extra"),
    needs=True,
    node_name="ScaledDotProductAttentionBackward0",
)


# Which attention kernels may run (torch.nn.attention.sdpa_kernel, torch.backends.cuda.enable_*_sdp).
# retrograd has the math kernel only, so only "math" decides anything; the others are kept so that
# their queries answer what was set.
SDP_ENABLED = {"math": True, "flash": True, "mem_efficient": True, "cudnn": True}


def scaled_dot_product_attention(
    query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False
):
    """softmax(Q K^T * scale + mask) V, for query (..., L, E), key (..., S, E), value (..., S, Ev).

    ``attn_mask`` is boolean (True = may attend) or added to the scores; ``is_causal`` masks
    keys after each query position (top-left aligned); ``scale`` defaults to 1/sqrt(E);
    ``dropout_p`` drops attention weights (whenever it is > 0, as in PyTorch); with
    ``enable_gqa`` key/value heads (dim -3) are shared by groups of query heads."""
    if _AMP[0] and _amp.on:
        return autocast_call(
            scaled_dot_product_attention, LOWER, query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa
        )
    qs, ks, vs = query._data.shape, key._data.shape, value._data.shape
    if min(len(qs), len(ks), len(vs)) < 2:
        raise RuntimeError(
            "scaled_dot_product_attention: query, key and value must be at least 2-D, got "
            f"{list(qs)}, {list(ks)}, {list(vs)}"
        )
    if ks[-1] != qs[-1]:
        raise RuntimeError(
            f"scaled_dot_product_attention: key's last dim ({ks[-1]}) must equal query's "
            f"({qs[-1]}): query {list(qs)}, key {list(ks)}"
        )
    if ks[-2] != vs[-2]:
        raise RuntimeError(
            f"scaled_dot_product_attention: key and value must have the same sequence length: "
            f"key {list(ks)}, value {list(vs)}"
        )
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    if enable_gqa and len(qs) >= 3 and len(ks) >= 3 and qs[-3] != ks[-3]:
        hq, hk = qs[-3], ks[-3]
        if hq % hk or hq % vs[-3]:
            raise RuntimeError(
                f"scaled_dot_product_attention: number of query heads ({hq}) must be divisible by "
                f"the number of key/value heads ({hk}, {vs[-3]})"
            )
        key = key.repeat_interleave(hq // hk, dim=-3)
        value = value.repeat_interleave(hq // vs[-3], dim=-3)
    if query._data.dtype != key._data.dtype or query._data.dtype != value._data.dtype:
        raise RuntimeError(
            f"Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{query.dtype} key.dtype: {key.dtype} and value.dtype: {value.dtype} instead."
        )
    if not SDP_ENABLED["math"]:
        raise RuntimeError(
            "scaled_dot_product_attention: no available kernel: retrograd has one attention kernel, "
            "the math one (SDPBackend.MATH), and it is disabled (sdpa_kernel or "
            f"torch.backends.cuda.enable_math_sdp(False)); enabled: {sorted(k for k, v in SDP_ENABLED.items() if v)}"
        )
    scale = 1.0 / math.sqrt(qs[-1]) if scale is None else float(scale)
    bool_mask = fmask = None
    if attn_mask is not None:
        if attn_mask._data.dtype == np.bool_:
            bool_mask = attn_mask._data
        else:
            fmask = attn_mask if attn_mask._data.dtype == query._data.dtype else attn_mask.to(query.dtype)
    drop = None
    if dropout_p > 0.0:
        batch = np.broadcast_shapes(qs[:-2], key._data.shape[:-2], value._data.shape[:-2])
        shape = batch + (qs[-2], ks[-2])
        if fmask is not None:
            shape = np.broadcast_shapes(shape, fmask._data.shape)
        if dropout_p == 1.0:
            drop = array_module(query._data).zeros(shape, dtype=query._data.dtype)
        else:
            from .layers import _keep_mask

            # the weights are a new contiguous (..., L, S) array in PyTorch, whatever query's layout
            drop = _keep_mask(query, dropout_p, shape, x_layout=False)
    # the float mask is the fourth input (it gets a gradient) and, for the create_graph
    # backward that recomputes the scores, also an argument (saving covers inputs 0-2 only)
    return apply(SDPA, (query, key, value, fmask), (fmask, bool_mask, bool(is_causal), scale, drop))


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(scaled_dot_product_attention, torch=False, functional=("scaled_dot_product_attention",))


def _mha_float_mask(mask, name, dtype):
    """A boolean mask (True = not attended) as an additive one (-inf there, 0 elsewhere)."""
    if mask is None:
        return None
    if mask._data.dtype == np.bool_:
        return where(mask, float("-inf"), _creation.zeros(mask.shape, dtype=dtype, device=mask.device))
    if not mask.is_floating_point():
        raise AssertionError(f"only bool and floating types of {name} are supported")
    return mask


def _mha_merged_mask(attn_mask, key_padding_mask, n, heads, L, S, dtype):
    """One float mask broadcastable to (N, H, L, S), or None."""
    mask = None
    attn_mask = _mha_float_mask(attn_mask, "attn_mask", dtype)
    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (L, S):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be {(L, S)}.")
            mask = attn_mask.reshape(1, 1, L, S)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (n * heads, L, S):
                raise RuntimeError(
                    f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be {(n * heads, L, S)}."
                )
            mask = attn_mask.reshape(n, heads, L, S)
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")
    kpm = _mha_float_mask(key_padding_mask, "key_padding_mask", dtype)
    if kpm is not None:
        if tuple(kpm.shape) != (n, S):
            raise AssertionError(f"expecting key_padding_mask shape of {(n, S)}, but got {tuple(kpm.shape)}")
        kpm = kpm.reshape(n, 1, 1, S)
        mask = kpm if mask is None else mask + kpm
    return mask


def _pad_last(mask):
    """``mask`` with one more key column, of zeros (for bias_k/bias_v and add_zero_attn)."""
    if mask is None:
        return None
    return cat([mask, _creation.zeros((*mask.shape[:-1], 1), dtype=mask.dtype, device=mask.device)], -1)


def multi_head_attention_forward(
    query,
    key,
    value,
    embed_dim_to_check,
    num_heads,
    in_proj_weight,
    in_proj_bias,
    bias_k,
    bias_v,
    add_zero_attn,
    dropout_p,
    out_proj_weight,
    out_proj_bias,
    training=True,
    key_padding_mask=None,
    need_weights=True,
    attn_mask=None,
    use_separate_proj_weight=False,
    q_proj_weight=None,
    k_proj_weight=None,
    v_proj_weight=None,
    static_k=None,
    static_v=None,
    average_attn_weights=True,
    is_causal=False,
):
    """Multi-head attention on sequence-first inputs (``nn.MultiheadAttention``'s computation).

    query ``(L, N, E)``, key ``(S, N, Ek)``, value ``(S, N, Ev)`` (unbatched: no N). Per head i
    of ``d = E / num_heads``: ``head_i = softmax(q_i k_i^T / sqrt(d) + mask) v_i`` where
    ``q = query W_q^T + b_q`` (likewise k, v; ``W_q, W_k, W_v`` are the three row blocks of
    ``in_proj_weight`` ``(3 E, E)``, or ``q/k/v_proj_weight`` with
    ``use_separate_proj_weight``); ``bias_k``/``bias_v`` ``(1, 1, E)`` append one key/value
    position, ``add_zero_attn`` one of zeros; ``static_k``/``static_v`` ``(N * num_heads, S, d)``
    replace the projected keys/values. ``attn_mask`` ``(L, S)`` or ``(N * num_heads, L, S)`` and
    ``key_padding_mask`` ``(N, S)`` are boolean (True = not attended) or added to the scores.
    Returns ``(concat(heads) W_o^T + b_o`` ``(L, N, E)``, weights)``; the weights are
    ``(N, L, S)`` averaged over heads (``(N, num_heads, L, S)`` without
    ``average_attn_weights``), or None when ``need_weights`` is False."""
    if query.dim() not in (2, 3):
        raise AssertionError(
            f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D query tensor"
        )
    batched = query.dim() == 3
    if key.dim() != query.dim() or value.dim() != query.dim():
        raise AssertionError(
            f"query, key and value must have the same number of dims, got {query.dim()}, {key.dim()} and {value.dim()}"
        )
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer module method "
            "`generate_square_subsequent_mask` to create this mask."
        )
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    L, n, E = query.shape
    S = key.shape[0]
    H = num_heads
    if E != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {E}")
    d = E // H
    if d * H != E:
        raise AssertionError(f"embed_dim {E} not divisible by num_heads {H}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(
                f"key's sequence and batch dims {tuple(key.shape[:2])} do not match value's {tuple(value.shape[:2])}"
            )
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise AssertionError(
                "use_separate_proj_weight is True but q_proj_weight, k_proj_weight or v_proj_weight is None"
            )
        w_q, w_k, w_v = q_proj_weight, k_proj_weight, v_proj_weight
    else:
        if key.shape != value.shape:
            raise AssertionError(f"key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}")
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        w_q, w_k, w_v = in_proj_weight.chunk(3)
    b_q = b_k = b_v = None
    if in_proj_bias is not None:
        b_q, b_k, b_v = in_proj_bias.chunk(3)
    q, k, v = linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)  # (L|S, N, E)
    mask = _mha_merged_mask(attn_mask, key_padding_mask, n, H, L, S, q.dtype)
    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise AssertionError("bias cannot be added to static key or value.")
        k = cat([k, bias_k.expand(1, n, E)], 0)
        v = cat([v, bias_v.expand(1, n, E)], 0)
        mask = _pad_last(mask)
    elif bias_k is not None or bias_v is not None:
        raise AssertionError("bias_k and bias_v must both be given or both be None")
    q = q.reshape(L, n * H, d).transpose(0, 1)  # (N * H, L, d)
    k = k.reshape(k.shape[0], n * H, d).transpose(0, 1) if static_k is None else static_k
    v = v.reshape(v.shape[0], n * H, d).transpose(0, 1) if static_v is None else static_v
    for name, t in (("static_k", static_k), ("static_v", static_v)):
        if t is not None and (t.dim() != 3 or t.shape[0] != n * H or t.shape[2] != d):
            raise AssertionError(
                f"expecting {name} of shape (N * num_heads, S, head_dim) = (*{n * H}, S, {d}), got {tuple(t.shape)}"
            )
    if add_zero_attn:
        zeros = _creation.zeros((n * H, 1, d), dtype=k.dtype, device=k.device)
        k = cat([k, zeros], 1)
        v = cat([v, zeros], 1)
        mask = _pad_last(mask)
    q, k, v = q.reshape(n, H, L, d), k.reshape(n, H, -1, d), v.reshape(n, H, -1, d)
    if not training:
        dropout_p = 0.0
    if need_weights:
        scores = q.matmul(k.transpose(-2, -1)) * (1.0 / math.sqrt(d))
        if mask is not None:
            scores = scores + mask
        weights = softmax(scores, -1)
        if dropout_p > 0.0:
            weights = dropout(weights, p=dropout_p)
        out = weights.matmul(v)
        if average_attn_weights:
            weights = weights.mean(1)
    else:
        out = scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p)
        weights = None
    out = linear(out.permute(2, 0, 1, 3).reshape(L, n, E), out_proj_weight, out_proj_bias)
    if not batched:
        out = out.squeeze(1)
        if weights is not None:
            weights = weights.squeeze(0)
    return out, weights


declare(multi_head_attention_forward, torch=False, functional=("multi_head_attention_forward",))

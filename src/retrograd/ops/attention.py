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
from ._declare import declare
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

"""Layers as functions: linear, bilinear, dropout (and its feature / alpha variants), embedding,
and the distance functions cosine_similarity, pairwise_distance, pdist.

``linear`` is one fused op (x @ W^T + b with batch dims flattened into one matrix product);
its backward is two matrix products and a sum, computed on arrays for speed unless a graph of
the backward is wanted (create_graph), where it uses differentiable ops. ``embedding`` is a
gather whose backward is a row scatter-add; that backward is itself an op, so a double
backward works.
"""

import math

import numpy as np

from ..autograd._vmap_state import _vm, BatchedTensor
from .._tensor import Tensor, _wrap_dim
from ..autograd.grad_mode import _state
from ..backend import array_module, blas
from .._compile.state import _cap, recorded_check
from ._registry import Op, apply
from ._registry import ELEMENTWISE, LINEAR as LINEAR_JVP
from .activation import _const, _to_like
from ._inplace import apply_inplace, _bump
from .._warn import warn_user
from ._declare import declare
from .._autocast import EXCLUDE, LOWER, ACTIVE as _AMP, _amp, autocast_call


# --------------------------------------------------------------------------- linear
def _linear_fwd(xp, x, w, b):
    if x.ndim > 2:
        out = blas.matmul(x.reshape(-1, x.shape[-1]), w.T).reshape(x.shape[:-1] + (w.shape[0],))
    else:
        out = blas.matmul(x, w.T)
    if b is not None:
        if out.ndim == 0 or b.ndim > out.ndim or np.broadcast_shapes(out.shape, b.shape) != out.shape:
            return out + b
        out += b
    return out


def _linear_vjp(g, needs, x, w, b):
    # out = x W^T + b  =>  gx = g W,  gW = g^T x (batch dims flattened),  gb = sum of g
    n_out, n_in = w._data.shape
    if _state.enabled:
        g2 = g.reshape(-1, n_out)
        gx = (g2 @ w).reshape(g._data.shape[:-1] + (n_in,)) if needs[0] else None
        gw = g2.mT @ x.reshape(-1, n_in) if needs[1] else None
        gb = None
        if needs[2]:
            gb = g2.sum(0) if b._data.shape == (n_out,) else g
        return gx, gw, gb
    gd = g._data
    # 2-D products only: NumPy's stacked matmul of a non-contiguous 3-D gradient bypasses BLAS
    g2 = gd.reshape(-1, n_out)
    gx = gw = gb = None
    if needs[0]:
        gx = _const(blas.matmul(g2, w._data).reshape(gd.shape[:-1] + (n_in,)))
    if needs[1]:
        xd = x._data
        gw = _const(blas.matmul(g2.T, xd.reshape(-1, n_in)))
    if needs[2]:
        gb = _const(g2.sum(axis=0)) if b._data.shape == (n_out,) else g
    return gx, gw, gb


def _linear_jvp(ts, x, w, b):
    # linear is affine in (x, b) for a fixed W and linear in W: the tangent is
    # linear(tx, W, tb) + linear(x, tW)
    from .._creation import zeros_like

    tx, tw, tb = ts
    out = None
    if tx is not None or tb is not None:
        out = apply(LINEAR, (tx if tx is not None else zeros_like(x), w, tb))
    if tw is not None:
        term = apply(LINEAR, (x, tw, None))
        out = term if out is None else out + term
    return out


LINEAR = Op(
    "linear",
    _linear_fwd,
    _linear_vjp,
    jvp=_linear_jvp,
    save=("x", "y", "z"),
    needs=True,
    node_name="AddmmBackward0",
    used_by=((1,), (0,), ()),  # the bias is read for its shape only
)


def linear(input, weight, bias=None):
    """input @ weight^T + bias, for input (*, in_features), weight (out_features, in_features)."""
    if _AMP[0] and _amp.on:
        return autocast_call(linear, LOWER, input, weight, bias)
    if weight._data.ndim != 2:  # a 1-D weight: x @ w
        out = input @ weight
        return out if bias is None else out + bias
    xs, ws = input._data.shape, weight._data.shape
    if input._data.ndim == 0 or xs[-1] != ws[1]:
        rows = int(np.prod(xs[:-1])) if len(xs) > 1 else 1
        cols = xs[-1] if xs else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{cols} and {ws[1]}x{ws[0]})")
    if input._data.dtype != weight._data.dtype or (bias is not None and bias._data.dtype != input._data.dtype):
        other = weight if input._data.dtype != weight._data.dtype else bias
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {input._data.dtype.name} "
            f"!= {other._data.dtype.name} (linear of input {list(input.shape)} and weight "
            f"{list(weight.shape)})"
        )
    return apply(LINEAR, (input, weight, bias))


def bilinear(input1, input2, weight, bias=None):
    """y_k = x1^T A_k x2 + b_k for weight A (out, in1, in2); leading dims of x1, x2 are batch dims."""
    if _AMP[0] and _amp.on:
        return autocast_call(bilinear, EXCLUDE, input1, input2, weight, bias)
    if weight._data.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be three-dimensional, got shape {list(weight.shape)}")
    n_out, n1, n2 = weight._data.shape
    if input1._data.shape[-1] != n1 or input2._data.shape[-1] != n2:
        raise RuntimeError(
            f"bilinear(): input sizes {list(input1.shape)} and {list(input2.shape)} do not "
            f"match weight of shape {list(weight.shape)}"
        )
    if input1._data.shape[:-1] != input2._data.shape[:-1]:
        raise RuntimeError(
            f"bilinear(): input batch dimensions do not match: got {list(input1.shape[:-1])} "
            f"and {list(input2.shape[:-1])}"
        )
    lead = input1._data.shape[:-1]
    x1 = input1.reshape(-1, n1)
    x2 = input2.reshape(-1, n2)
    # (B, in1) @ (in1, out * in2) -> (B, out, in2), then contract in2 with x2
    z = (x1 @ weight.permute(1, 0, 2).reshape(n1, n_out * n2)).reshape(-1, n_out, n2)
    y = (z @ x2.unsqueeze(-1)).squeeze(-1)
    if bias is not None:
        y = y + bias
    return y.reshape(lead + (n_out,))


# --------------------------------------------------------------------------- dropout
def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep(x, p, shape, x_layout=True):
    return _keep_array(x._data, p, shape, x_layout)


def _keep_array(a, p, shape, x_layout=True):
    """PyTorch's dropout noise: Bernoulli(1 - p) draws from the default generator in ``x``'s
    dtype, laid out like ``x`` when ``shape`` is its shape and ``x_layout`` (else a new contiguous
    ``shape``: the draws fill memory in order, so the layout decides which element gets which)."""
    from .._random import _engine, draw_like
    from .._random_kernels import bernoulli_scalar

    eng = _engine(None)
    like = a if x_layout and tuple(shape) == a.shape else np.empty(shape, np.uint8)
    return draw_like(like, lambda n, c: bernoulli_scalar(eng, n, 1 - p)).astype(a.dtype)


def _keep_mask(x, p, shape, x_layout=True):
    """A float mask of ``shape``: 1 / (1 - p) with probability 1 - p, else 0 (default generator),
    computed as PyTorch does (the noise divided by ``1 - p`` in the input's dtype); ``x_layout``
    as for ``_keep``."""
    if _cap.active:  # a compiled function's first call: the draw is replayed from the generator
        return _cap.recorder.call(_keep_mask_array, (x._data, p, shape, x_layout), "dropout_mask")
    return _keep_mask_array(x._data, p, shape, x_layout)


def _keep_mask_array(a, p, shape, x_layout=True):
    m = _keep_array(a, p, shape, x_layout)
    m /= m.dtype.type(1 - p)
    return _to_like(m, a)


def _scale_fwd(xp, x, mask):
    return x * mask


SCALE_BY_MASK = Op(
    "native_dropout", _scale_fwd, lambda g, mask: g * _const(mask), jvp=ELEMENTWISE, node_name="NativeDropoutBackward0"
)


def _masked(input, p, shape, inplace):
    if p == 1.0:
        fn = lambda t: t * 0.0  # noqa: E731
    else:
        mask = _keep_mask(input, p, shape)
        fn = lambda t: apply(SCALE_BY_MASK, (t,), (mask,))  # noqa: E731
    if inplace:
        return apply_inplace(input, "dropout", fn)
    return fn(input)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (training only)."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    return _masked(input, p, input._data.shape, inplace)


def _feature_dropout(input, p, training, inplace, batched):
    _check_p(p)
    if not training or p == 0.0:
        return input
    x = input if batched else input.unsqueeze(0)
    shape = x._data.shape[:2] + (1,) * (x._data.ndim - 2)
    if not batched:
        shape = shape[1:]
    return _masked(input, p, shape, inplace)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels: input (N, C, L) or (C, L)."""
    nd = input._data.ndim
    if nd not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {nd}D input. Note that "
            f"dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            f"dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            f"inputs)."
        )
    return _feature_dropout(input, p, training, inplace, nd == 3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) input (a 3-D input is taken as (N, C, L), as PyTorch does)."""
    nd = input._data.ndim
    if nd not in (3, 4):
        warn_user(
            f"dropout2d: Received a {nd}-D input to dropout2d, which is deprecated and will result "
            f"in an error in a future release. To retain the behavior and silence this warning, "
            f"please use dropout instead."
        )
    if nd == 3:
        warn_user(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
            "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel "
            "dim. To maintain the 1D channel-wise dropout behavior, please switch to using "
            "dropout1d instead."
        )
    return _feature_dropout(input, p, training, inplace, True)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels: input (N, C, D, H, W) or (C, D, H, W)."""
    nd = input._data.ndim
    if nd not in (4, 5):
        warn_user(
            f"dropout3d: Received a {nd}-D input to dropout3d, which is deprecated and will result "
            f"in an error in a future release. To retain the behavior and silence this warning, "
            f"please use dropout instead."
        )
    return _feature_dropout(input, p, training, inplace, nd != 4)


_ALPHA_PRIME = 1.7580993408473766  # selu's scale * alpha


def _alpha(input, p, training, inplace, shape):
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        fn = lambda t: t * 0.0  # noqa: E731
    else:
        # keep: a x + a alpha' p, drop: a alpha' (p - 1), with a chosen to keep zero mean and unit variance
        # the steps and roundings of PyTorch's kernel, in the input's dtype
        keep = _keep(input, p, shape)
        t_ = keep.dtype.type
        a = 1.0 / math.sqrt((_ALPHA_PRIME * _ALPHA_PRIME * p + 1) * (1 - p))
        add = (keep - t_(1)) * t_(_ALPHA_PRIME * a)
        add += t_(_ALPHA_PRIME * a * p)
        keep *= t_(a)
        mul, add = _const(_to_like(keep, input._data)), _const(_to_like(add, input._data))
        fn = lambda t: t * mul + add  # noqa: E731
    if inplace:
        return apply_inplace(input, "alpha_dropout", fn)
    return fn(input)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: dropped values are set to selu's negative saturation and the
    result is affinely rescaled to keep zero mean and unit variance."""
    return _alpha(input, p, training, inplace, input._data.shape)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """alpha_dropout of whole channels (dim 1)."""
    shape = input._data.shape[:2] + (1,) * (input._data.ndim - 2)
    return _alpha(input, p, training, inplace, shape)


# --------------------------------------------------------------------------- embedding
def _index_add_rows(xp, out, idx, rows):
    """out[idx[k]] += rows[k] for every k, repeated indices accumulating. ``out`` is a fresh
    C-contiguous (n, D) array; the update goes through flat indices, which NumPy's add.at
    handles several times faster than row indices."""
    d = out.shape[1]
    flat = (idx[:, None] * d + xp.arange(d)).reshape(-1) if d != 1 else idx
    if hasattr(xp.add, "at"):
        xp.add.at(out.reshape(-1), flat, rows.reshape(-1))
    else:  # pragma: no cover - CuPy without ufunc.at
        import cupyx

        cupyx.scatter_add(out.reshape(-1), flat, rows.reshape(-1))


def _embedding_fwd(xp, w, idx, n, padding_idx, scale_grad_by_freq, sparse):
    return xp.take(w, idx, axis=0)


def _row_coef(xp, idx, n, padding_idx, scale_grad_by_freq, dtype):
    """Per-lookup gradient factor: 0 at padding_idx, 1 / count(index) with scale_grad_by_freq."""
    coef = xp.ones(idx.shape, dtype=dtype)
    if scale_grad_by_freq:
        counts = xp.bincount(idx.reshape(-1), minlength=n)
        coef /= counts[idx]
    if padding_idx >= 0:
        coef[idx == padding_idx] = 0
    return coef


def _embedding_backward_fwd(xp, g, idx, n, padding_idx, scale_grad_by_freq):
    dim = g.shape[-1]
    rows = g.reshape(-1, dim)
    if padding_idx >= 0 or scale_grad_by_freq:
        rows = rows * _row_coef(xp, idx, n, padding_idx, scale_grad_by_freq, g.dtype).reshape(-1, 1)
    out = xp.zeros((n, dim), dtype=g.dtype)
    _index_add_rows(xp, out, idx.reshape(-1), rows)
    return out


def _embedding_backward_vjp(gg, idx, n, padding_idx, scale_grad_by_freq):
    # the adjoint of a scatter-add of rows is the gather of the same rows
    out = apply(EMBEDDING, (gg,), (idx, n, -1, False, False))
    if padding_idx >= 0 or scale_grad_by_freq:
        xp = array_module(idx)
        coef = _row_coef(xp, idx, n, padding_idx, scale_grad_by_freq, gg._data.dtype)
        out = out * _const(coef[..., None])
    return out


EMBEDDING_BACKWARD = Op(
    "embedding_backward",
    _embedding_backward_fwd,
    _embedding_backward_vjp,
    jvp=LINEAR_JVP,
    node_name="EmbeddingBackwardBackward0",
)


def embedding_sparse_backward(grad, indices, num_weights, padding_idx, scale_grad_by_freq):
    """The weight gradient of ``embedding(..., sparse=True)``: a sparse COO tensor with one entry
    per lookup (uncoalesced, as in PyTorch). ``grad`` has shape indices.shape + (embedding_dim,);
    ``indices`` is the raw index array; ``padding_idx`` is -1 when unset."""
    from ..sparse import embedding_grad

    if scale_grad_by_freq:
        xp = array_module(indices)
        coef = _row_coef(xp, indices, num_weights, -1, True, grad._data.dtype)
        grad = grad * _const(coef[..., None])
    return embedding_grad(grad, indices, num_weights, None if padding_idx < 0 else padding_idx)


def _embedding_vjp(g, idx, n, padding_idx, scale_grad_by_freq, sparse):
    if sparse:
        return embedding_sparse_backward(g, idx, n, padding_idx, scale_grad_by_freq)
    return apply(EMBEDDING_BACKWARD, (g,), (idx, n, padding_idx, scale_grad_by_freq))


EMBEDDING = Op("embedding", _embedding_fwd, _embedding_vjp, jvp=LINEAR_JVP)


def _renorm_rows(weight, idx, max_norm, norm_type):
    """Rescale, in place, the rows of ``weight`` looked up by ``idx`` whose norm exceeds max_norm."""
    xp = array_module(weight._data)
    rows = xp.unique(idx.reshape(-1))
    w = weight._data
    sel = w[rows]
    if norm_type == float("inf"):
        norms = xp.abs(sel).max(axis=1)
    else:
        norms = (xp.abs(sel) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    over = norms > max_norm
    if bool(over.any()):
        scale = (max_norm / (norms[over] + 1e-7)).astype(w.dtype)
        w[rows[over]] = sel[over] * scale[:, None]
        _bump(weight)


def _check_rows(idx, n):
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n):
        raise IndexError(
            f"index out of range in self (embedding of {n} rows, indices range [{int(idx.min())}, {int(idx.max())}])"
        )


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    """weight[input]: rows of ``weight`` (num_embeddings, embedding_dim) picked by integer ``input``.

    No gradient reaches row ``padding_idx``. With ``max_norm``, the looked-up rows whose
    ``norm_type``-norm exceeds it are rescaled in place first, as PyTorch does."""
    if _vm.active and type(input) is BatchedTensor and max_norm is None:  # batched indices (vmap)
        return _vm.embedding(
            embedding, input, weight, padding_idx=padding_idx, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse
        )
    if not isinstance(input, Tensor) or input._data.dtype.kind not in "iu":
        kind = input.dtype if isinstance(input, Tensor) else type(input).__name__
        raise RuntimeError(
            f"Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got {kind} instead (while checking arguments for embedding)"
        )
    if weight._data.ndim != 2:
        raise RuntimeError(f"'weight' must be 2-D, got shape {list(weight.shape)}")
    n = weight._data.shape[0]
    if padding_idx is not None:
        if padding_idx > 0:
            if padding_idx >= n:
                raise AssertionError("Padding_idx must be within num_embeddings")
        elif padding_idx < 0:
            if padding_idx < -n:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx = n + padding_idx
    else:
        padding_idx = -1
    idx = input._data
    recorded_check(_check_rows, idx, n, label="embedding_check")
    if max_norm is not None:
        _renorm_rows(weight, idx, max_norm, norm_type)
    return apply(EMBEDDING, (weight,), (idx, n, padding_idx, bool(scale_grad_by_freq), bool(sparse)))


# --------------------------------------------------------------------------- distances
def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 * x2, dim) / (max(||x1||, eps) * max(||x2||, eps)), broadcasting x1 and x2."""
    from .shape import broadcast_tensors

    x1, x2 = broadcast_tensors(x1, x2)
    d = _wrap_dim(dim, x1._data.ndim, "cosine_similarity")
    n1 = x1.norm(dim=d, keepdim=True).clamp_min(eps)
    n2 = x2.norm(dim=d, keepdim=True).clamp_min(eps)
    return ((x1 / n1) * (x2 / n2)).sum(d)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim."""
    nd = max(x1._data.ndim, x2._data.ndim)
    if nd == 0:
        raise RuntimeError("pairwise_distance: expected at least 1-D inputs, got 0-D")
    return (x1 - x2 + eps).norm(p, dim=nd - 1, keepdim=keepdim)


def pdist(input, p=2):
    """||x_i - x_j||_p for every pair of rows i < j of a 2-D input, in row-major order."""
    if input._data.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input._data.ndim}D")
    from .numeric import _no_half_kernel

    _no_half_kernel("pdist", input)
    n = input._data.shape[0]
    i, j = np.triu_indices(n, 1)
    from .._creation import tensor

    return (input[tensor(i, device=input.device)] - input[tensor(j, device=input.device)]).norm(p, dim=1)


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(bilinear, functional=("bilinear",))
declare(cosine_similarity, functional=("cosine_similarity",))
declare(pairwise_distance, functional=("pairwise_distance",))
declare(pdist, functional=("pdist",))
declare(linear, torch=False, functional=("linear",))
declare(dropout, torch=False, functional=("dropout",))
declare(dropout1d, torch=False, functional=("dropout1d",))
declare(dropout2d, torch=False, functional=("dropout2d",))
declare(dropout3d, torch=False, functional=("dropout3d",))
declare(alpha_dropout, torch=False, functional=("alpha_dropout",))
declare(feature_alpha_dropout, torch=False, functional=("feature_alpha_dropout",))
declare(embedding, torch=False, functional=("embedding",))

"""Normalization: layer_norm, rms_norm, group_norm, batch_norm, instance_norm, normalize,
local_response_norm.

``layer_norm`` is one fused op (a hot path of transformers): the forward saves the per-row mean
and 1/std, and the backward is computed on arrays,

    xhat = (x - mean) * rstd,  gy = g * weight,
    gx = rstd * (gy - mean(gy) - xhat * mean(gy * xhat)),  gweight = sum(g * xhat),  gbias = sum(g),

unless a graph of the backward is wanted (create_graph), where the same formula is written in
differentiable ops. The others are compositions of differentiable ops.
"""

import math

import numpy as np

from .._tensor import _wrap_dim
from ..autograd.grad_mode import _state, no_grad
from ..backend import array_module
from ..backend.reductions import mean_axis, sum_axis
from ._registry import Op, apply
from .activation import _const
from .elementwise import rsqrt
from ._declare import declare


_LOW = ("float16", "bfloat16")


def _check_param_dtypes(name, input, **params):
    """PyTorch's dtype rule for a normalisation's parameters (weight, bias, running stats): each
    has the input's dtype, or the input is float16/bfloat16 and the parameter float32 (mixed
    precision: the statistics are then taken in float32 and the output has the input's dtype).
    Any other mix is a RuntimeError. Returns True for the mixed case."""
    d = input._data.dtype
    mixed = False
    for pname, p in params.items():
        if p is None or p._data.dtype == d:
            continue
        if d.name in _LOW and p._data.dtype.name == "float32":
            mixed = True
            continue
        rule = (
            "expect parameter to have scalar type of Float"
            if d.name in _LOW + ("float32",)
            else "all inputs must share same datatype."
        )
        raise RuntimeError(
            f"{name}: mixed dtype: {rule} (input of dtype {input.dtype}, {pname} of dtype {p.dtype}; "
            f"parameters must have the input's dtype, or float32 for a float16/bfloat16 input)"
        )
    return mixed


def _normalized_axes(input, normalized_shape, weight, bias, name="layer_norm"):
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(int(s) for s in normalized_shape)
    k = len(normalized_shape)
    shape = input._data.shape
    if k == 0 or shape[len(shape) - k :] != normalized_shape or k > len(shape):
        raise RuntimeError(
            f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
            f"[*, {', '.join(map(str, normalized_shape))}], but got input of size{list(shape)}"
        )
    for pname, p in (("weight", weight), ("bias", bias)):
        if p is not None and p._data.shape != normalized_shape:
            raise RuntimeError(
                f"Expected {pname} to be of same shape as normalized_shape, but got {pname} of "
                f"shape {list(p._data.shape)} and normalized_shape = {list(normalized_shape)}"
            )
    return tuple(range(len(shape) - k, len(shape)))


# --------------------------------------------------------------------------- layer_norm
def _rows(a, d):
    """``a`` as an (M, D) matrix of rows to normalise (a view when ``a`` is contiguous)."""
    return a.reshape(-1, d)


def _layer_norm_fwd(xp, x, w, b, axes, eps):
    if x.size == 0:
        return x.copy(), (None, None)
    d = math.prod(x.shape[len(x.shape) - len(axes) :])
    x2 = _rows(x, d)
    mean = mean_axis(xp, x2, 1, True)
    xc = x2 - mean
    var = xp.einsum("ij,ij->i", xc, xc)[:, None]  # sum of squares without a temporary
    var *= 1 / d
    var += eps
    rstd = 1 / xp.sqrt(var)
    xc *= rstd
    if w is not None:
        xc *= w.reshape(-1)
    if b is not None:
        xc += b.reshape(-1)
    return xc.reshape(x.shape), (mean, rstd)


def _layer_norm_vjp(g, needs, x, w, extra, axes, eps):
    batch = tuple(range(x._data.ndim - len(axes)))
    if _state.enabled or x._data.size == 0:
        return _layer_norm_grads(g, needs, x, w, axes, eps, batch)
    mean, rstd = extra
    xp = array_module(x._data)
    nshape = x._data.shape[len(batch) :]
    d = math.prod(nshape)
    gd, xd = _rows(g._data, d), _rows(x._data, d)
    xhat = xd - mean
    xhat *= rstd
    gx = gw = gb = None
    if needs[1]:
        gw = _const(xp.einsum("ij,ij->j", gd, xhat).reshape(nshape))
    if needs[2]:
        gb = _const(gd.sum(axis=0).reshape(nshape))
    if needs[0]:
        gy = gd * w._data.reshape(-1) if w is not None else gd.copy()
        a = sum_axis(xp, gy, 1, True)
        a *= 1 / d
        c = xp.einsum("ij,ij->i", gy, xhat)[:, None]
        c *= 1 / d
        gy -= a
        xhat *= c
        gy -= xhat
        gy *= rstd
        gx = _const(gy.reshape(x._data.shape))
    return gx, gw, gb


def _layer_norm_grads(g, needs, x, w, axes, eps, batch):
    """The layer_norm backward in differentiable ops (for create_graph)."""
    xc = x - x.mean(axes, keepdim=True)
    rstd = rsqrt((xc * xc).mean(axes, keepdim=True) + eps)
    xhat = xc * rstd
    gx = gw = gb = None
    if needs[0]:
        gy = g * w if w is not None else g
        gx = rstd * (gy - gy.mean(axes, keepdim=True) - xhat * (gy * xhat).mean(axes, keepdim=True))
    if needs[1]:
        gw = (g * xhat).sum(batch)
    if needs[2]:
        gb = g.sum(batch)
    return gx, gw, gb


def _layer_norm_jvp(ts, x, w, extra, axes, eps):
    # xhat = (x - mean) * rstd:  d xhat = rstd * (tc - xhat * mean(xhat * tc)), tc = t - mean(t)
    tx, tw, tb = ts
    xc = x - x.mean(axes, keepdim=True)
    rstd = rsqrt((xc * xc).mean(axes, keepdim=True) + eps)
    xhat = xc * rstd
    out = None
    if tx is not None:
        tc = tx - tx.mean(axes, keepdim=True)
        out = rstd * (tc - xhat * (xhat * tc).mean(axes, keepdim=True))
        if w is not None:
            out = out * w
    if tw is not None:
        out = xhat * tw if out is None else out + xhat * tw
    if tb is not None:
        out = tb if out is None else out + tb
    return out


LAYER_NORM = Op(
    "layer_norm",
    _layer_norm_fwd,
    _layer_norm_vjp,
    jvp=_layer_norm_jvp,
    save=("x", "y", "extra"),
    needs=True,
    node_name="NativeLayerNormBackward0",
)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """(x - mean) / sqrt(var + eps) * weight + bias, with mean and (biased) var over the last
    len(normalized_shape) dims."""
    axes = _normalized_axes(input, normalized_shape, weight, bias)
    if _check_param_dtypes("layer_norm", input, weight=weight, bias=bias):
        return layer_norm(input.float(), normalized_shape, weight, bias, eps).to(input.dtype)
    return apply(LAYER_NORM, (input, weight, bias), (axes, eps))


# --------------------------------------------------------------------------- rms_norm
def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) * weight over the last len(normalized_shape) dims; eps defaults
    to the machine epsilon of the input's dtype."""
    axes = _normalized_axes(input, normalized_shape, weight, None, "rms_norm")
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    out = input * rsqrt((input * input).mean(axes, keepdim=True) + eps)
    if weight is None:
        return out
    # any weight dtype is accepted, as in PyTorch; the output keeps the input's dtype
    return (out * weight).to(input.dtype)


# --------------------------------------------------------------------------- group_norm
def _param_shape(c, ndim):
    """Shape that broadcasts a per-channel (dim 1) parameter over an ``ndim``-d input."""
    return (c,) + (1,) * (ndim - 2)


def _affine(out, weight, bias, c, ndim):
    if weight is not None:
        out = out * weight.reshape(_param_shape(c, ndim))
    if bias is not None:
        out = out + bias.reshape(_param_shape(c, ndim))
    return out


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise over each group of channels (and all spatial positions) of an (N, C, *) input."""
    shape = input._data.shape
    if input._data.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input._data.ndim}")
    n, c = shape[0], shape[1]
    if c % num_groups:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got input "
            f"of shape {list(shape)} and num_groups={num_groups}"
        )
    if _check_param_dtypes("group_norm", input, weight=weight, bias=bias):
        return group_norm(input.float(), num_groups, weight, bias, eps).to(input.dtype)
    for pname, p in (("weight", weight), ("bias", bias)):
        if p is not None and p._data.shape != (c,):
            raise RuntimeError(
                f"Expected {pname} to be a vector of size equal to the number of channels in "
                f"input, but got {pname} of shape {list(p._data.shape)} and input of shape "
                f"{list(shape)}"
            )
    x = input.reshape(n, num_groups, -1)
    xc = x - x.mean(-1, keepdim=True)
    xhat = (xc * rsqrt((xc * xc).mean(-1, keepdim=True) + eps)).reshape(shape)
    return _affine(xhat, weight, bias, c, len(shape))


# --------------------------------------------------------------------------- batch_norm
def _check_running(name, t, c):
    if t is not None and t._data.size != c:
        raise RuntimeError(f"{name} should contain {c} elements not {t._data.size}")


def _update_running(running, stat, momentum):
    """running = (1 - momentum) running + momentum stat, in place and outside the graph."""
    if running is None:
        return
    with no_grad():
        s = stat.detach().reshape(running._data.shape).to(running.dtype)
        running.mul_(1 - momentum).add_(s * momentum)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalise each channel (dim 1) over the batch and spatial dims.

    Training uses the batch's mean and biased variance and updates running_mean and running_var
    in place (running = (1 - momentum) running + momentum batch_stat, with the unbiased variance);
    evaluation uses the running statistics."""
    shape = input._data.shape
    nd = len(shape)
    if nd < 2:
        raise ValueError(f"expected 2D or higher input (got {nd}D input)")
    c = shape[1]
    _check_running("running_mean", running_mean, c)
    _check_running("running_var", running_var, c)
    dims = (0,) + tuple(range(2, nd))
    if _check_param_dtypes(
        "batch_norm", input, weight=weight, bias=bias, running_mean=running_mean, running_var=running_var
    ):
        out = batch_norm(input.float(), running_mean, running_var, weight, bias, training, momentum, eps)
        return out.to(input.dtype)
    pshape = _param_shape(c, nd)
    if training:
        count = input._data.size // c if c else 0
        if count <= 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size retrograd.Size({list(shape)})"
            )
        mean = input.mean(dims, keepdim=True)
        xc = input - mean
        var = (xc * xc).mean(dims, keepdim=True)
        out = xc * rsqrt(var + eps)
        _update_running(running_mean, mean, momentum)
        _update_running(running_var, var * (count / (count - 1)), momentum)
    else:
        if running_mean is None:
            raise RuntimeError("running_mean must be defined in evaluation mode")
        if running_var is None:
            raise RuntimeError("running_var must be defined in evaluation mode")
        rm = running_mean.reshape(pshape).to(input.dtype)
        rv = running_var.reshape(pshape).to(input.dtype)
        out = (input - rm) * rsqrt(rv + eps)
    return _affine(out, weight, bias, c, nd)


def instance_norm(
    input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True, momentum=0.1, eps=1e-5
):
    """Normalise each channel of each sample over its spatial dims; with running statistics
    given and use_input_stats, they are updated with the batch average of the per-instance stats."""
    shape = input._data.shape
    nd = len(shape)
    if nd < 3:
        raise ValueError(
            f"instance_norm: expected an input with a batch, a channel and at least one spatial "
            f"dimension (got {nd}D input)"
        )
    c = shape[1]
    _check_running("running_mean", running_mean, c)
    _check_running("running_var", running_var, c)
    if _check_param_dtypes(
        "instance_norm", input, weight=weight, bias=bias, running_mean=running_mean, running_var=running_var
    ):
        out = instance_norm(input.float(), running_mean, running_var, weight, bias, use_input_stats, momentum, eps)
        return out.to(input.dtype)
    dims = tuple(range(2, nd))
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
        pshape = _param_shape(c, nd)
        out = (input - running_mean.reshape(pshape).to(input.dtype)) * rsqrt(
            running_var.reshape(pshape).to(input.dtype) + eps
        )
        return _affine(out, weight, bias, c, nd)
    count = math.prod(shape[2:])
    if count <= 1:
        raise ValueError(
            f"Expected more than 1 spatial element when training, got input size retrograd.Size({list(shape)})"
        )
    mean = input.mean(dims, keepdim=True)
    xc = input - mean
    var = (xc * xc).mean(dims, keepdim=True)
    out = xc * rsqrt(var + eps)
    if running_mean is not None:
        _update_running(running_mean, mean.detach().mean(0), momentum)
    if running_var is not None:
        _update_running(running_var, (var.detach() * (count / (count - 1))).mean(0), momentum)
    return _affine(out, weight, bias, c, nd)


# --------------------------------------------------------------------------- normalize
def normalize(input, p=2.0, dim=1, eps=1e-12):
    """input / max(||input||_p, eps) along ``dim``."""
    d = _wrap_dim(dim, input._data.ndim, "normalize")
    denom = input.norm(p, d, keepdim=True).clamp_min(eps)
    return input / denom


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """``x / (k + alpha / size * sum of x ** 2 over the ``size`` neighbouring channels) ** beta``,
    the window centred on each channel (``size // 2`` before it), zeros beyond the edges.
    Input (N, C, *), at least 3-D."""
    from .pool import avg_pool2d, avg_pool3d
    from .resample import pad

    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    div = input * input
    if dim == 3:
        div = pad(div.unsqueeze(1), (0, 0, size // 2, (size - 1) // 2))
        div = avg_pool2d(div, (size, 1), stride=1).squeeze(1)
    else:
        sizes = tuple(input.shape)
        div = pad(div.reshape(sizes[0], 1, sizes[1], sizes[2], -1), (0, 0, 0, 0, size // 2, (size - 1) // 2))
        div = avg_pool3d(div, (size, 1, 1), stride=1).squeeze(1).reshape(sizes)
    return input / div.mul(alpha).add(k).pow(beta)


def norm_except_dim(v, pow=2, dim=0):
    """The ``pow``-norm of ``v`` over every dim but ``dim``, kept as size-1 dims (so it
    broadcasts against ``v``); ``dim=-1`` means over the whole tensor (a 0-d result)."""
    if dim == -1:
        return v.norm(pow)
    d = dim % v.dim()
    others = tuple(i for i in range(v.dim()) if i != d)
    return (
        (v.abs() ** pow).sum(others, keepdim=True) ** (1.0 / pow)
        if pow != 2
        else (v * v).sum(others, keepdim=True).sqrt()
    )


def weight_norm_apply(v, g, dim=0):
    """``v * (g / ||v||)``, the norm over every dim but ``dim`` (``dim=-1``: the whole tensor)."""
    return v * (g / norm_except_dim(v, 2, dim))


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(rms_norm, functional=("rms_norm",))
declare(layer_norm, torch=False, functional=("layer_norm",))
declare(group_norm, torch=False, functional=("group_norm",))
declare(batch_norm, torch=False, functional=("batch_norm",))
declare(instance_norm, torch=False, functional=("instance_norm",))
declare(normalize, torch=False, functional=("normalize",))
declare(local_response_norm, torch=False, functional=("local_response_norm",))
declare(norm_except_dim)

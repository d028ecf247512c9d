"""Loss functions (torch.nn.functional).

``reduction`` is 'none', 'mean' or 'sum' (kl_div adds 'batchmean'); the legacy ``size_average``
and ``reduce`` flags map onto it as in PyTorch.

``cross_entropy`` with class-index targets is one fused op: the forward computes the
max-shifted log-softmax terms it needs and saves the softmax probabilities p; the gradient is
g * (p * S - A), where A holds each row's target weights (label smoothing spread over all
classes) and S = sum(A) per row. Fused for numerics (finite for any finite logits) and speed
(a handful of passes over the logits, none of them for a one-hot matrix). Under create_graph
the same formula runs in differentiable ops. The other losses are compositions of
differentiable ops, with fused elementwise pieces where the naive formula overflows.
"""

import numpy as np

from .._tensor import Tensor
from ..autograd._vmap_state import _vm, BatchedTensor
from ..autograd.grad_mode import _state
from ..backend import array_module
from ..backend.meta import MetaArray
from ..backend.reductions import max_axis, sum_axis
from .._compile.state import _cap, recorded_check
from ._registry import Op, apply
from ._registry import ELEMENTWISE
from .activation import _const, _softmax_vjp, log_softmax, logsigmoid
from .elementwise import where, clamp, log, exp, abs as _abs, minimum, xlogy
from .layers import pairwise_distance
from .._warn import warn_user
from ._declare import declare
from .._autocast import FLOAT32, ACTIVE as _AMP, _amp, autocast_call


# --------------------------------------------------------------------------- reduction helpers
def _legacy_reduction(size_average, reduce):
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    warn_user(
        "size_average and reduce args will be deprecated, please use reduction='"
        f"{'mean' if size_average and reduce else 'sum' if reduce else 'none'}' instead."
    )
    if size_average and reduce:
        return "mean"
    return "sum" if reduce else "none"


def _reduction(size_average, reduce, reduction, allowed=("none", "mean", "sum")):
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    if reduction not in allowed:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _weighted(loss, weight):
    return loss if weight is None else loss * weight


def _elementwise_weighted(loss, weight, input, name):
    """``loss * weight``; the weight must have the input's shape (PyTorch raises ValueError)."""
    if weight is None:
        return loss
    if weight._data.shape != input._data.shape:
        raise ValueError(
            f"{name}: Weights and input must have the same size: weight {_size(weight)}, input {_size(input)}"
        )
    return loss * weight


def _reduce_weighted(loss, weight, reduction):
    """As ``_reduce``, but a weighted 'mean' is sum(weight * loss) / sum(weight) (mse_loss, l1_loss)."""
    if weight is not None and reduction == "mean":
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def _warn_size(input, target, name):
    if input._data.shape != target._data.shape:
        warn_user(
            f"Using a target size ({_size(target)}) that is different to the input size "
            f"({_size(input)}). This will likely lead to incorrect results due to broadcasting. "
            f"Please ensure they have the same size."
        )


def _size(t):
    return f"retrograd.Size({list(t._data.shape)})"


# --------------------------------------------------------------------------- class-index targets
_TARGET_TYPES = {
    "int64": "Long",
    "int32": "Int",
    "int16": "Short",
    "int8": "Char",
    "uint8": "Byte",
    "bool": "Bool",
    "float32": "Float",
    "float64": "Double",
    "float16": "Half",
}


def _batched_classes(target):
    """Whether ``target`` holds class indices batched by vmap (its values are not in ``_data``)."""
    return type(target) is BatchedTensor and target._data.dtype.kind not in "fV"


def _class_targets(input, target, weight, ignore_index):
    """Validate class-index targets; returns (x2d, t, out_shape, C): the input as an (M, C)
    tensor with the class dim last, the targets as an (M,) int array, and the shape of the
    unreduced loss."""
    if not isinstance(target, Tensor):
        raise TypeError(f"target must be a Tensor, not {type(target).__name__}")
    if weight is not None and weight._data.dtype != input._data.dtype:
        raise RuntimeError(
            f"expected weight to have the input's dtype {input.dtype}, but got {weight.dtype} "
            f"(PyTorch does not promote the class weights)"
        )
    td = target._data
    if td.dtype not in (np.int64, np.uint8):
        raise RuntimeError(
            f"expected target dtype to be Long or Byte, but got "
            f"{_TARGET_TYPES.get(target.dtype.name, target.dtype.name)}"
        )
    shape = input._data.shape
    nd = len(shape)
    if nd == 0:
        raise ValueError("input tensor should be 1D or more (got a 0-D input)")
    c = shape[0] if nd == 1 else shape[1]
    if nd == 1:
        if td.ndim != 0:
            raise ValueError(
                f"Expected input batch_size (1) to match target batch_size "
                f"({td.shape[0] if td.ndim else 1}) (input of shape {list(shape)}, target of "
                f"shape {list(td.shape)})."
            )
        x2 = input.reshape(1, c)
    elif nd == 2:
        if td.ndim != 1:
            if td.ndim == 0 or td.shape[0] == shape[0]:
                raise RuntimeError(
                    f"0D or 1D target tensor expected, multi-target not supported (input of "
                    f"shape {list(shape)}, target of shape {list(td.shape)})"
                )
            raise ValueError(f"Expected input batch_size ({shape[0]}) to match target batch_size ({td.shape[0]}).")
        if td.shape[0] != shape[0]:
            raise ValueError(f"Expected input batch_size ({shape[0]}) to match target batch_size ({td.shape[0]}).")
        x2 = input
    else:
        expected = shape[:1] + shape[2:]
        if td.shape != expected:
            raise RuntimeError(
                f"Expected target size {list(expected)}, got {list(td.shape)} (input of shape {list(shape)})"
            )
        x2 = input.movedim(1, -1).reshape(-1, c)
    if weight is not None and weight._data.shape != (c,):
        raise RuntimeError(
            f"weight tensor should be defined either for all {c} classes or no classes but got "
            f"weight tensor of shape: {list(weight._data.shape)}"
        )
    t = td.reshape(-1).astype(np.int64, copy=False)
    xp = array_module(t)
    valid = t != ignore_index
    if t.size and type(t) is not MetaArray:  # a meta target has no values to check
        bad = valid & ((t < 0) | (t >= c))
        if bool(bad.any()):
            raise IndexError(f"Target {int(t[xp.argmax(bad)])} is out of bounds.")
    return x2, t, td.shape, c


def _target_weights(xp, t, w, ignore_index, dtype):
    """(safe targets, per-row weight w[t] with 0 at ignored rows)."""
    valid = t != ignore_index
    tt = xp.where(valid, t, 0)
    if w is None:
        wt = valid.astype(dtype)
    else:
        wt = w[tt].astype(dtype, copy=False)
        wt *= valid
    return tt, wt, valid


def _ce_fwd(xp, x, t, w, ignore_index, reduction, smoothing):
    m, c = x.shape
    tt, wt, valid = _target_weights(xp, t, w, ignore_index, x.dtype)
    if m == 0 or c == 0:
        p = x.copy()
        loss = xp.zeros(m, dtype=x.dtype)
    else:
        d = x - max_axis(xp, x, 1, True)  # shifted logits: log_softmax = d - log(sum(exp(d)))
        picked = d[xp.arange(m), tt]
        if smoothing:
            # -sum_c w_c log_softmax(x)_c = sum(w) log(sum(exp(d))) - d @ w
            dw = d.sum(axis=1) if w is None else d @ w.astype(x.dtype, copy=False)
        p = xp.exp(d, out=d)
        s = sum_axis(xp, p, 1, True)
        p /= s
        log_s = xp.log(s[:, 0])
        # -w[t] log_softmax(x)[t]; an ignored row adds 0 even where its log_softmax is nan
        loss = xp.where(valid, (log_s - picked) * wt, 0)
        if smoothing:
            wsum = c if w is None else float(w.sum())
            smooth = wsum * log_s - dw
            loss = loss * (1 - smoothing) + (smoothing / c) * xp.where(valid, smooth, 0)
    if reduction == "none":
        return loss.astype(x.dtype, copy=False), (p, tt, wt, valid, None)
    total = loss.sum()
    if reduction == "sum":
        return xp.asarray(total, dtype=x.dtype), (p, tt, wt, valid, None)
    denom = wt.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        out = xp.asarray(total / denom, dtype=x.dtype)
    return out, (p, tt, wt, valid, denom)


def _ce_coefficients(xp, p, tt, wt, valid, denom, w, smoothing, dtype):
    """A (dense, (M, C)) and S = sum(A) per row, scaled for the mean reduction."""
    m, c = p.shape
    a = xp.zeros((m, c), dtype=dtype)
    a[xp.arange(m), tt] = wt * (1 - smoothing)
    if smoothing:
        wv = xp.ones(c, dtype=dtype) if w is None else w.astype(dtype, copy=False)
        a += (smoothing / c) * valid.astype(dtype)[:, None] * wv[None, :]
    if denom is not None:
        a /= denom
    return a, a.sum(axis=1, keepdims=True)


def _ce_vjp(g, x, extra, t, w, ignore_index, reduction, smoothing):
    p, tt, wt, valid, denom = extra
    m, c = p.shape
    xp = array_module(p)
    gd = g._data
    if _state.enabled:
        a, s = _ce_coefficients(xp, p, tt, wt, valid, denom, w, smoothing, p.dtype)
        gr = g.unsqueeze(1) if reduction == "none" else g
        return gr * (apply(_SOFTMAX_OF, (x,), (p,)) * _const(s) - _const(a))
    if m == 0 or c == 0:
        return _const(xp.zeros_like(p))
    # per row i: gx_i = scale_i * (p_i * S_i - A_i), scale_i = g_i / denom; A is one entry per
    # row (at the target) plus, with label smoothing, a dense term proportional to the weights
    scale = gd.reshape(-1, 1) if reduction == "none" else gd.reshape(1, 1)
    if denom is not None:
        scale = scale / denom
    row_w = (wt * (1 - smoothing))[:, None]
    s = row_w
    if smoothing:
        wsum = c if w is None else float(w.sum())
        s = row_w + (smoothing / c) * wsum * valid.astype(p.dtype)[:, None]
    gx = p * (s * scale)
    gx[xp.arange(m), tt] -= (row_w * scale)[:, 0]
    if smoothing:
        wv = xp.ones(c, dtype=p.dtype) if w is None else w.astype(p.dtype, copy=False)
        gx -= ((smoothing / c) * valid.astype(p.dtype)[:, None] * scale) * wv[None, :]
    return _const(gx)


def _ce_jvp(ts, x, extra, t, w, ignore_index, reduction, smoothing):
    # Each loss term depends on one row of x only, so the vjp of ones holds every partial
    # derivative: the tangent is its product with t, summed over the classes (and over the rows
    # when the loss is reduced).
    ones = x.new_ones((x._data.shape[0],) if reduction == "none" else ())
    grads = _ce_vjp(ones, x, extra, t, w, ignore_index, reduction, smoothing) * ts[0]
    return grads.sum(1) if reduction == "none" else grads.sum()


# softmax(x, 1) given as its value ``p`` (saved by the forward): a differentiable function of x
# whose value never reads x, so the gradient of a gradient needs no unmodified x
_SOFTMAX_OF = Op("softmax", lambda xp, x, p: p, lambda g, out, p: _softmax_vjp(g, out, 1), save=("out",))
# x is saved for its place in the graph only (its values are never read, see _SOFTMAX_OF), so it
# is not version-checked: as in PyTorch, the logits may be modified in place before backward
CROSS_ENTROPY = Op(
    "cross_entropy", _ce_fwd, _ce_vjp, jvp=_ce_jvp, save=("x", "extra"), node_name="NllLossBackward0", used_by=((),)
)


def cross_entropy(
    input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean", label_smoothing=0.0
):
    """Cross entropy between the softmax of ``input`` (logits, classes at dim 1, or dim 0 when
    unbatched) and ``target``: class indices (with ``weight``, ``ignore_index``) or class
    probabilities (same shape as input). ``label_smoothing`` mixes the target with the uniform
    distribution. 'mean' with class indices divides by the sum of the targets' weights."""
    if _AMP[0] and _amp.on:
        return autocast_call(
            cross_entropy,
            FLOAT32,
            input,
            target,
            weight,
            size_average,
            ignore_index,
            reduce,
            reduction,
            label_smoothing,
        )
    reduction = _reduction(size_average, reduce, reduction)
    if _vm.active and _batched_classes(target):
        return _vm.class_targets(
            cross_entropy, input, target, weight, ignore_index, reduction, label_smoothing=label_smoothing
        )
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if isinstance(target, Tensor) and target._data.dtype.kind in "fV":
        if target._data.shape != input._data.shape:
            if target._data.ndim == max(input._data.ndim - 1, 0) or target._data.ndim == 1:
                raise RuntimeError(
                    f"expected target dtype to be Long or Byte, but got "
                    f"{_TARGET_TYPES.get(target.dtype.name, target.dtype.name)}"
                )
            raise RuntimeError(
                f"cross_entropy: probability targets must have the shape of the input: input "
                f"{list(input.shape)}, target {list(target.shape)}"
            )
        return _cross_entropy_probs(input, target, weight, reduction, label_smoothing)
    x2, t, out_shape, c = _class_targets(input, target, weight, ignore_index)
    if x2._data.dtype.kind not in "fV":
        raise NotImplementedError(f"\"log_softmax\" not implemented for '{_TARGET_TYPES.get(input.dtype.name)}'")
    w = weight._data if weight is not None else None
    loss = apply(CROSS_ENTROPY, (x2,), (t, w, ignore_index, reduction, float(label_smoothing)))
    return loss.reshape(out_shape) if reduction == "none" else loss


def _cross_entropy_probs(input, target, weight, reduction, smoothing):
    nd = input._data.ndim
    cdim = 0 if nd == 1 else 1
    c = input._data.shape[cdim]
    lsm = log_softmax(input, cdim)
    if smoothing:
        target = target * (1 - smoothing) + smoothing / c
    if weight is not None:
        lsm = lsm * weight.reshape((c,) + (1,) * (nd - cdim - 1))
    loss = -(lsm * target).sum(cdim)
    if reduction == "mean":
        n = input._data.size // c if c else 0
        return loss.sum() / n if n else loss.sum() * float("nan")
    return _reduce(loss, reduction)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """-weight[t] * input[t] per sample (input holds log-probabilities, classes at dim 1);
    'mean' divides by the sum of the targets' weights, ignored targets excluded."""
    if _AMP[0] and _amp.on:
        return autocast_call(nll_loss, FLOAT32, input, target, weight, size_average, ignore_index, reduce, reduction)
    reduction = _reduction(size_average, reduce, reduction)
    if _vm.active and _batched_classes(target):
        return _vm.class_targets(nll_loss, input, target, weight, ignore_index, reduction)
    x2, t, out_shape, c = _class_targets(input, target, weight, ignore_index)
    xp = array_module(t)
    w = weight._data if weight is not None else None
    if _cap.active:  # a compiled function's first call: the target arrays are recorded kernels
        tt, wt, valid = _cap.recorder.call(
            _target_weights, (xp, t, w, ignore_index, x2._data.dtype), "targets", n_out=3
        )
    else:
        tt, wt, valid = _target_weights(xp, t, w, ignore_index, x2._data.dtype)
    from .indexing import gather

    picked = gather(x2, 1, _const(tt.reshape(-1, 1))).reshape(-1) if t.size else x2.sum(1)
    loss = -picked * _const(wt)
    loss = where(_const(valid), loss, 0)  # an ignored row adds 0, even at a nan log-probability
    if reduction == "none":
        return loss.reshape(out_shape)
    if reduction == "sum":
        return loss.sum()
    total = _cap.recorder.call(_weight_total, (xp, wt), "weight_total") if _cap.active else _weight_total(xp, wt)
    return loss.sum() / _const(total)


def _weight_total(xp, wt):
    return xp.asarray(wt.sum(), dtype=wt.dtype)


# --------------------------------------------------------------------------- regression losses
def _mse_fwd(xp, x, y, reduction):
    d = x - y
    d *= d
    if reduction == "mean":
        return d.mean()
    return d.sum() if reduction == "sum" else d


def _mse_vjp(g, needs, x, y, reduction):
    # d/dx (x - y)^2 = 2 (x - y), divided by the count for 'mean'; -that for y
    d = x - y
    gd = g * d * (2 / max(d.numel(), 1) if reduction == "mean" else 2)
    return (gd if needs[0] else None), (-gd if needs[1] else None)


def _mse_jvp(ts, x, y, reduction):
    tx, ty = ts
    t = ty.neg() if tx is None else tx if ty is None else tx - ty
    return _reduce(2 * (x - y) * t, reduction)


MSE_LOSS = Op("mse_loss", _mse_fwd, _mse_vjp, jvp=_mse_jvp, save=("x", "y"), needs=True)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """(input - target)^2, reduced by ``reduction``: one op (``MseLossBackward0``) saving both
    operands. Optionally weighted elementwise (weight of the input's shape); a weighted 'mean'
    is sum(weight * loss) / sum(weight)."""
    if _AMP[0] and _amp.on:
        return autocast_call(mse_loss, FLOAT32, input, target, size_average, reduce, reduction, weight)
    reduction = _reduction(size_average, reduce, reduction)
    _warn_size(input, target, "mse_loss")
    # one op, except under vmap, where the composite's ops have batching rules
    if weight is None and not _vm.active and isinstance(input, Tensor) and isinstance(target, Tensor):
        x, y = _same_dtype(input, target)
        if x._data.dtype.kind in "fc":
            return apply(MSE_LOSS, (x, y), (reduction,))
    d = input - target
    return _reduce_weighted(_elementwise_weighted(d * d, weight, input, "mse_loss"), weight, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """|input - target|, optionally weighted as ``mse_loss``."""
    if _AMP[0] and _amp.on:
        return autocast_call(l1_loss, FLOAT32, input, target, size_average, reduce, reduction, weight)
    reduction = _reduction(size_average, reduce, reduction)
    _warn_size(input, target, "l1_loss")
    loss = _elementwise_weighted(_abs(input - target), weight, input, "l1_loss")
    return _reduce_weighted(loss, weight, reduction)


def _smooth_l1_fwd(xp, x, y, beta):
    d = xp.abs(x - y)
    if beta == 0:
        return d
    return xp.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta).astype(d.dtype, copy=False)


def _smooth_l1_vjp(g, needs, x, y, beta):
    d = x - y
    if beta == 0:
        gd = g * d.sign()
    else:
        gd = g * where(_abs(d) < beta, d / beta, d.sign())
    return (gd if needs[0] else None), (-gd if needs[1] else None)


SMOOTH_L1 = Op("smooth_l1_loss", _smooth_l1_fwd, _smooth_l1_vjp, jvp=ELEMENTWISE, save=("x", "y"), needs=True)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target)."""
    if _AMP[0] and _amp.on:
        return autocast_call(smooth_l1_loss, FLOAT32, input, target, size_average, reduce, reduction, beta)
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _warn_size(input, target, "smooth_l1_loss")
    if beta == 0:  # as PyTorch: the l1 loss (which saves the difference, not the operands)
        return _reduce(_abs(input - target), reduction)
    return _reduce(apply(SMOOTH_L1, _same_dtype(input, target), (beta,)), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta); equals delta * smooth_l1(beta=delta)."""
    if _AMP[0] and _amp.on:
        return autocast_call(huber_loss, FLOAT32, input, target, reduction, delta, weight)
    reduction = _reduction(None, None, reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _warn_size(input, target, "huber_loss")
    loss = apply(SMOOTH_L1, _same_dtype(input, target), (delta,)) * delta
    return _reduce(_elementwise_weighted(loss, weight, input, "huber_loss"), reduction)


def _same_dtype(x, y):
    from .elementwise import _operands

    return _operands(x, y)


# --------------------------------------------------------------------------- binary cross entropy
_TINY = float(np.exp(-100.0))  # log(max(v, e^-100)) = max(log v, -100), without log(0) warnings


def _bce_fwd(xp, x, y):
    # each log clamped at -100, as PyTorch does, so x = 0 or 1 gives a finite loss
    with np.errstate(divide="ignore"):
        log_x = xp.maximum(xp.log(x), -100)
        log_1mx = xp.maximum(xp.log(1 - x), -100)
    return -(y * log_x + (1 - y) * log_1mx)


def _bce_vjp(g, needs, x, y):
    gx = gy = None
    if needs[0]:
        # (x - y) / (x (1 - x)), the denominator clamped at 1e-12 as in PyTorch
        gx = g * (x - y) / clamp((1 - x) * x, min=1e-12)
    if needs[1]:
        # the derivative of the clamped forward (PyTorch leaves these logs unclamped)
        gy = g * (log(clamp(1 - x, min=_TINY)) - log(clamp(x, min=_TINY)))
    return gx, gy


BCE = Op("binary_cross_entropy", _bce_fwd, _bce_vjp, jvp=ELEMENTWISE, save=("x", "y"), needs=True)


def _check_probabilities(xd):
    if xd.size and bool(((xd < 0) | (xd > 1)).any()):
        raise RuntimeError("all elements of input should be between 0 and 1")


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-w (y log x + (1 - y) log(1 - x)), each log clamped at -100."""
    if _AMP[0] and _amp.on:
        return autocast_call(binary_cross_entropy, FLOAT32, input, target, weight, size_average, reduce, reduction)
    reduction = _reduction(size_average, reduce, reduction)
    if target._data.shape != input._data.shape:
        raise ValueError(
            f"Using a target size ({_size(target)}) that is different to the input size "
            f"({_size(input)}) is deprecated. Please ensure they have the same size."
        )
    recorded_check(_check_probabilities, input._data, label="binary_cross_entropy_check")
    loss = apply(BCE, _same_dtype(input, target))
    return _reduce(_weighted(loss, weight), reduction)


def _bce_logits_fwd(xp, x, y, reduction):
    # (1 - y) x - logsigmoid(x), with -logsigmoid(x) = softplus(-x) = max(-x, 0) + log1p(e^-|x|)
    loss = xp.maximum(-x, 0)
    loss += xp.log1p(xp.exp(-xp.abs(x)))
    loss += (1 - y) * x
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _bce_logits_scale(x, reduction):
    return 1 / max(x.numel(), 1) if reduction == "mean" else 1


def _bce_logits_vjp(g, needs, x, y, reduction):
    # d/dx = sigmoid(x) - y, d/dy = -x, divided by the count for 'mean'
    gs = g * _bce_logits_scale(x, reduction)
    gx = gs * (x.sigmoid() - y) if needs[0] else None
    gy = gs * -x if needs[1] else None
    return gx, gy


def _bce_logits_jvp(ts, x, y, reduction):
    tx, ty = ts
    t = None if tx is None else (x.sigmoid() - y) * tx
    if ty is not None:
        t = -x * ty if t is None else t - x * ty
    return _reduce(t, reduction)


BCE_WITH_LOGITS = Op(
    "binary_cross_entropy_with_logits",
    _bce_logits_fwd,
    _bce_logits_vjp,
    jvp=_bce_logits_jvp,
    save=("x", "y"),
    needs=True,
    node_name="BinaryCrossEntropyWithLogitsBackward0",
)


def binary_cross_entropy_with_logits(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None
):
    """-w (pos_weight y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))), from logits x:
    (1 - y) x - (1 + (pos_weight - 1) y) logsigmoid(x), finite for any x."""
    if _AMP[0] and _amp.on:
        return autocast_call(
            binary_cross_entropy_with_logits,
            FLOAT32,
            input,
            target,
            weight,
            size_average,
            reduce,
            reduction,
            pos_weight,
        )
    reduction = _reduction(size_average, reduce, reduction)
    if target._data.shape != input._data.shape:
        raise ValueError(f"Target size ({_size(target)}) must be the same as input size ({_size(input)})")
    # one op (PyTorch's node) without weights, except under vmap, where the composite's ops
    # have batching rules
    if weight is None and pos_weight is None and not _vm.active:
        x, y = _same_dtype(input, target)
        if x._data.dtype.kind == "f":
            return apply(BCE_WITH_LOGITS, (x, y), (reduction,))
    ls = logsigmoid(input)
    if pos_weight is not None:
        loss = (1 - target) * input - ((pos_weight - 1) * target + 1) * ls
    else:
        loss = (1 - target) * input - ls
    return _reduce(_weighted(loss, weight), reduction)


# --------------------------------------------------------------------------- distribution losses
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target || exp(input)) pointwise: target (log target - input), 0 where target = 0;
    with log_target, exp(target) (target - input). 'batchmean' divides the sum by input.size(0)."""
    if _AMP[0] and _amp.on:
        return autocast_call(kl_div, FLOAT32, input, target, size_average, reduce, reduction, log_target)
    reduction = _reduction(size_average, reduce, reduction, ("none", "mean", "sum", "batchmean"))
    if reduction == "mean":
        warn_user(
            "reduction: 'mean' divides the total loss by both the batch size and the support size."
            "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
            "'mean' will be changed to behave the same as 'batchmean' in the next major release."
        )
    if log_target:
        loss = exp(target) * (target - input)
    else:
        loss = xlogy(target, target) - target * input
    if reduction == "batchmean":
        return loss.sum() / input._data.shape[0] if input._data.ndim else loss.sum()
    return _reduce(loss, reduction)


def poisson_nll_loss(
    input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None, reduction="mean"
):
    """exp(input) - target * input (log_input), or input - target * log(input + eps); ``full``
    adds Stirling's term target log target - target + 0.5 log(2 pi target) where target > 1."""
    if _AMP[0] and _amp.on:
        return autocast_call(
            poisson_nll_loss, FLOAT32, input, target, log_input, full, size_average, eps, reduce, reduction
        )
    reduction = _reduction(size_average, reduce, reduction)
    if log_input:
        loss = exp(input) - target * input
    else:
        loss = input - target * log(input + eps)
    if full:
        safe = where(target > 1, target, 1.0)
        stirling = safe * log(safe) - safe + log(safe * (2 * np.pi)) * 0.5
        loss = loss + where(target > 1, stirling, 0.0)
    return _reduce(loss, reduction)


def _check_variance(v):
    if bool((v < 0).any()):
        raise ValueError("var has negative entry/entries")


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log(max(var, eps)) + (input - target)^2 / max(var, eps)) (+ 0.5 log(2 pi) if full)."""
    reduction = _reduction(None, None, reduction)
    if not isinstance(var, Tensor):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        from .._creation import full as _full

        var = _full(input._data.shape, float(var), dtype=input.dtype)
    elif var._data.shape != input._data.shape:
        if input._data.shape[:-1] == var._data.shape:
            var = var.unsqueeze(-1)
        elif not (input._data.shape[:-1] == var._data.shape[:-1] and var._data.shape[-1] == 1):
            raise ValueError("var is of incorrect size")
    recorded_check(_check_variance, var._data, label="gaussian_nll_loss_check")
    # clamp var at eps for the value only; the gradient passes as if unclamped (as PyTorch does)
    v = var + (var.detach().clamp(min=eps) - var.detach())
    d = input - target
    loss = (log(v) + d * d / v) * 0.5
    if full:
        loss = loss + 0.5 * float(np.log(2 * np.pi))
    return _reduce(loss, reduction)


# --------------------------------------------------------------------------- margin losses
def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -target (input1 - input2) + margin)"""
    if _AMP[0] and _amp.on:
        return autocast_call(
            margin_ranking_loss, FLOAT32, input1, input2, target, margin, size_average, reduce, reduction
        )
    reduction = _reduction(size_average, reduce, reduction)
    return _reduce(clamp(-target * (input1 - input2) + margin, min=0.0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """input where target = 1, max(0, margin - input) where target = -1."""
    if _AMP[0] and _amp.on:
        return autocast_call(hinge_embedding_loss, FLOAT32, input, target, margin, size_average, reduce, reduction)
    reduction = _reduction(size_average, reduce, reduction)
    zeros = input * 0
    margin_clamp = clamp(margin - input, min=0.0)
    loss = where(target != 1, margin_clamp, zeros) + where(target != -1, input, zeros)
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * input)), computed stably."""
    if _AMP[0] and _amp.on:
        return autocast_call(soft_margin_loss, FLOAT32, input, target, size_average, reduce, reduction)
    reduction = _reduction(size_average, reduce, reduction)
    return _reduce(-logsigmoid(target * input), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-mean_c (y_c log sigmoid(x_c) + (1 - y_c) log sigmoid(-x_c)) per sample."""
    reduction = _reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    loss = _weighted(loss, weight)
    loss = loss.sum(input._data.ndim - 1) / input._data.shape[-1]
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) where target = 1, max(0, cos(x1, x2) - margin) where target = -1."""
    if _AMP[0] and _amp.on:
        return autocast_call(
            cosine_embedding_loss, FLOAT32, input1, input2, target, margin, size_average, reduce, reduction
        )
    reduction = _reduction(size_average, reduce, reduction)
    eps = 1e-12
    d = target._data.ndim
    if input1._data.ndim != d + 1 or input2._data.ndim != d + 1:
        raise RuntimeError(
            f"cosine_embedding_loss: expected input1 and input2 of {d + 1}D for a {d}D target, "
            f"got shapes {list(input1.shape)}, {list(input2.shape)} and target {list(target.shape)}"
        )
    prod = (input1 * input2).sum(d)
    mag1 = (input1 * input1).sum(d) + eps
    mag2 = (input2 * input2).sum(d) + eps
    cos = prod / (mag1 * mag2).sqrt()
    zeros = cos * 0
    pos = where(target == 1, 1 - cos, zeros)
    neg = where(target == -1, clamp(cos - margin, min=0.0), zeros)
    return _reduce(pos + neg, reduction)


def triplet_margin_loss(
    anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None, reduce=None, reduction="mean"
):
    """max(d(a, p) - d(a, n) + margin, 0), d the pairwise p-norm distance; ``swap`` uses
    min(d(a, n), d(p, n)) as the negative distance."""
    if _AMP[0] and _amp.on:
        return autocast_call(
            triplet_margin_loss,
            FLOAT32,
            anchor,
            positive,
            negative,
            margin,
            p,
            eps,
            swap,
            size_average,
            reduce,
            reduction,
        )
    reduction = _reduction(size_average, reduce, reduction)
    nd = anchor._data.ndim
    if not (nd == positive._data.ndim == negative._data.ndim):
        raise RuntimeError(
            f"The anchor, positive, and negative tensors are expected to have the same number of "
            f"dimensions, but got: anchor {nd}D, positive {positive._data.ndim}D, and negative "
            f"{negative._data.ndim}D inputs"
        )
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce(clamp(margin + d_pos - d_neg, min=0.0), reduction)


def triplet_margin_with_distance_loss(
    anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False, reduction="mean"
):
    """triplet_margin_loss with a custom distance (pairwise_distance by default)."""
    reduction = _reduction(None, None, reduction)
    dist = distance_function if distance_function is not None else pairwise_distance
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = minimum(d_neg, dist(positive, negative))
    return _reduce(clamp(margin + d_pos - d_neg, min=0.0), reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """sum over target classes j and non-target classes i of max(0, 1 - (x[j] - x[i])) / C per
    sample; each row of ``target`` lists class indices up to the first -1."""
    if _AMP[0] and _amp.on:
        return autocast_call(multilabel_margin_loss, FLOAT32, input, target, size_average, reduce, reduction)
    reduction = _reduction(size_average, reduce, reduction)
    if target._data.shape != input._data.shape or input._data.ndim > 2:
        raise RuntimeError(
            f"multilabel_margin_loss: expected input of shape (C) or (N, C) and a target of the "
            f"same shape, got input {list(input.shape)} and target {list(target.shape)}"
        )
    x = input.reshape(1, -1) if input._data.ndim < 2 else input
    n, c = x._data.shape
    from ..backend import to_numpy

    t = to_numpy(target._data).reshape(n, c)
    counts = np.zeros((n, c), dtype=x._data.dtype)  # how often each class is listed as a target
    for row in range(n):
        for j in t[row]:
            if j < 0:
                break
            if j >= c:
                raise IndexError(f"multilabel_margin_loss: target {int(j)} is out of bounds for {c} classes")
            counts[row, j] += 1
    pairs = counts[:, :, None] * (counts == 0)[:, None, :]  # (target j, non-target i)
    from .._creation import tensor

    margins = clamp(1 - x.unsqueeze(2) + x.unsqueeze(1), min=0.0)
    loss = (margins * tensor(pairs, device=input.device)).sum((1, 2)) / c
    if input._data.ndim < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
    """sum_{i != y} max(0, margin - x[y] + x[i])^p / C per sample, x[y] weighted by weight[y]."""
    if _AMP[0] and _amp.on:
        return autocast_call(
            multi_margin_loss, FLOAT32, input, target, p, margin, weight, size_average, reduce, reduction
        )
    reduction = _reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    x = input if input._data.ndim == 2 else input.reshape(1, -1)
    n, c = x._data.shape
    t = target._data.reshape(-1)
    xp = array_module(t)
    from .indexing import gather

    xy = gather(x, 1, _const(t.reshape(-1, 1)))
    z = clamp(x - xy + margin, min=0.0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight[Tensor._make(t, None, False)].reshape(-1, 1)
    mask = xp.ones((n, c), dtype=x._data.dtype)
    mask[xp.arange(n), t] = 0
    loss = (z * _const(mask)).sum(1) / c
    if input._data.ndim != 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


# --------------------------------------------------------------------------- ctc_loss
_CTC_NEG = -1e30  # log(0) stand-in: keeps logsumexp and its gradient finite on impossible paths


def _ctc_lengths(lengths, n, name):
    arr = np.asarray(lengths.detach().cpu().numpy() if isinstance(lengths, Tensor) else lengths, dtype=np.int64)
    arr = arr.reshape(-1)
    if arr.size != n:
        raise RuntimeError(f"ctc_loss: expected {name} to have {n} values (the batch size), got {arr.size}")
    return arr


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """Connectionist temporal classification loss: ``-log p(target | input)`` summed over every
    alignment (the forward recursion in log space, differentiated by autograd).

    ``log_probs`` (T, N, C) or unbatched (T, C), normally ``log_softmax`` outputs; ``targets``
    (N, S) padded or the 1-D concatenation of all targets; lengths as tensors or sequences.
    'mean' divides each loss by its target length, then averages over the batch. An impossible
    alignment gives ``inf`` (0, with no gradient, under ``zero_infinity``).

    PyTorch's own backward assumes ``log_probs`` came from log_softmax (it returns the gradient
    for the logits); gradients through a log_softmax agree, gradients taken directly with respect
    to other ``log_probs`` are the exact ones here.
    """
    from .reduction import logsumexp
    from .shape import cat, stack

    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    batched = log_probs.dim() == 3
    if log_probs.dim() not in (2, 3):
        raise RuntimeError(f"ctc_loss: expected log_probs to be 2-D or 3-D, got {log_probs.dim()}-D")
    lp = log_probs if batched else log_probs.unsqueeze(1)
    T, N, C = lp.shape
    in_len = _ctc_lengths(input_lengths, N, "input_lengths")
    tg_len = _ctc_lengths(target_lengths, N, "target_lengths")
    if (in_len > T).any() or (in_len < 0).any():
        raise RuntimeError(f"ctc_loss: Expected input_lengths to have value at most {T}, but got {in_len.tolist()}")
    if not 0 <= blank < C:
        raise RuntimeError(f"ctc_loss: blank must be in label range [0, {C}), got {blank}")
    tg = np.asarray(targets.detach().cpu().numpy(), dtype=np.int64)
    S = int(tg_len.max()) if N else 0
    labels = np.full((N, S), blank, dtype=np.int64)
    if tg.ndim == 1 and batched:  # concatenated targets
        offsets = np.concatenate([[0], np.cumsum(tg_len)[:-1]])
        for n in range(N):
            labels[n, : tg_len[n]] = tg[offsets[n] : offsets[n] + tg_len[n]]
    else:
        tg = tg.reshape(N, -1)
        if tg.shape[1] < S:
            raise RuntimeError(f"ctc_loss: targets of shape {list(targets.shape)} are shorter than a target length {S}")
        labels[:] = tg[:, :S]
    if labels.size and (labels.min() < 0 or labels.max() >= C):
        raise RuntimeError(
            f"ctc_loss: target labels must be in [0, {C}), got values from {labels.min()} to {labels.max()}"
        )
    L = 2 * S + 1
    ext = np.full((N, L), blank, dtype=np.int64)  # blank, l1, blank, l2, ..., blank
    ext[:, 1::2] = labels
    skip = np.zeros((N, L), dtype=bool)  # may jump from s - 2 (a label unlike the one before)
    skip[:, 3::2] = labels[:, 1:] != labels[:, :-1]
    from .. import _creation

    device = lp.device
    emit = lp.gather(2, _creation.tensor(ext, device=device).unsqueeze(0).expand(T, N, L))  # (T, N, L)
    neg = _creation.full((N, 1), _CTC_NEG, dtype=lp.dtype, device=device)
    start = np.full((N, L), _CTC_NEG)
    start[:, 0] = 0.0
    start[:, 1] = np.where(tg_len > 0, 0.0, _CTC_NEG)
    alpha = emit[0] + _creation.tensor(start, dtype=lp.dtype, device=device)
    skip_t = _creation.tensor(skip, device=device)
    for t in range(1, T):
        one = cat([neg, alpha[:, :-1]], 1)
        paths = [alpha, one]
        if L > 2:
            paths.append(where(skip_t, cat([neg, neg, alpha[:, :-2]], 1), _CTC_NEG))
        step = logsumexp(stack(paths, 0), 0) + emit[t]
        active = _creation.tensor((t < in_len)[:, None], device=device)
        alpha = where(active, step, alpha)
    last = _creation.tensor(np.stack([2 * tg_len, np.maximum(2 * tg_len - 1, 0)], 1), device=device)
    ends = alpha.gather(1, last)
    ends = where(_creation.tensor(np.stack([np.ones(N, bool), tg_len > 0], 1), device=device), ends, _CTC_NEG)
    nll = -logsumexp(ends, 1)
    impossible = _creation.tensor(
        (nll.detach().cpu().numpy() > -_CTC_NEG / 2) | (in_len == 0) & (tg_len > 0), device=device
    )
    nll = where(impossible, 0.0 if zero_infinity else float("inf"), nll)
    empty = (in_len == 0) & (tg_len == 0)  # nothing to align: probability 1
    if empty.any():
        nll = where(_creation.tensor(empty, device=device), 0.0, nll)
    if reduction == "mean":
        denom = _creation.tensor(np.maximum(tg_len, 1), dtype=lp.dtype, device=device)
        return (nll / denom).mean()
    if reduction == "sum":
        return nll.sum()
    return nll if batched else nll.squeeze(0)


# --------------------------------------------------------------------------- linear_cross_entropy
def linear_cross_entropy(
    input,
    linear_weight,
    target,
    *,
    linear_bias=None,
    weight=None,
    reduction="mean",
    ignore_index=None,
    label_smoothing=0.0,
    options=None,
):
    """``cross_entropy(linear(input, linear_weight, linear_bias), target)``: input (N, in) or (in,),
    linear_weight (C, *out_features, in) giving logits (N, C, *out_features). ``ignore_index``
    None means -100 for class targets and is an error with probability targets.

    PyTorch's ``options`` only choose a memory-saving chunked evaluation, which is not
    implemented here: passing options raises."""
    import math
    from .layers import linear

    if options is not None:
        raise NotImplementedError(
            "linear_cross_entropy: the chunked evaluation selected by `options` is not implemented; pass options=None"
        )
    if input.dim() < 1 or input.dim() > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.dim()}")
    if linear_weight.dim() < 2:
        raise RuntimeError(f"expected linear_weight with dimensionality at least 2, got {linear_weight.dim()}")
    batch, in_features = tuple(input.shape[:-1]), input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError(
            f"expected equal input and linear_weight last dimensions (in_features), got "
            f"{in_features} and {linear_weight.shape[-1]}, respectively"
        )
    num_classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (num_classes, *out_features):
        raise RuntimeError(f"expected linear_bias shape {(num_classes, *out_features)}, got {tuple(linear_bias.shape)}")
    if out_features and not batch:
        raise RuntimeError(
            f"K-dimensional loss defined by linear_weight shape {tuple(linear_weight.shape)} "
            f"requires batched input, (N, {in_features}), got unbatched input with shape "
            f"{tuple(input.shape)}"
        )
    logits_shape = (*batch, num_classes, *out_features)
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains probabilities")
    flat = math.prod(out_features) * num_classes
    logits = linear(
        input, linear_weight.reshape(flat, in_features), None if linear_bias is None else linear_bias.reshape(flat)
    )
    return cross_entropy(
        logits.reshape(logits_shape),
        target,
        weight=weight,
        reduction=reduction,
        ignore_index=-100 if ignore_index is None else ignore_index,
        label_smoothing=label_smoothing,
    )


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(cross_entropy, torch=False, functional=("cross_entropy",))
declare(nll_loss, torch=False, functional=("nll_loss",))
declare(mse_loss, torch=False, functional=("mse_loss",))
declare(l1_loss, torch=False, functional=("l1_loss",))
declare(smooth_l1_loss, torch=False, functional=("smooth_l1_loss",))
declare(huber_loss, torch=False, functional=("huber_loss",))
declare(binary_cross_entropy, torch=False, functional=("binary_cross_entropy",))
declare(binary_cross_entropy_with_logits, torch=False, functional=("binary_cross_entropy_with_logits",))
declare(kl_div, torch=False, functional=("kl_div",))
declare(poisson_nll_loss, torch=False, functional=("poisson_nll_loss",))
declare(gaussian_nll_loss, torch=False, functional=("gaussian_nll_loss",))
declare(margin_ranking_loss, torch=False, functional=("margin_ranking_loss",))
declare(hinge_embedding_loss, torch=False, functional=("hinge_embedding_loss",))
declare(soft_margin_loss, torch=False, functional=("soft_margin_loss",))
declare(multilabel_soft_margin_loss, torch=False, functional=("multilabel_soft_margin_loss",))
declare(cosine_embedding_loss, torch=False, functional=("cosine_embedding_loss",))
declare(triplet_margin_loss, torch=False, functional=("triplet_margin_loss",))
declare(triplet_margin_with_distance_loss, torch=False, functional=("triplet_margin_with_distance_loss",))
declare(multi_margin_loss, torch=False, functional=("multi_margin_loss",))
declare(multilabel_margin_loss, torch=False, functional=("multilabel_margin_loss",))
declare(ctc_loss, torch=False, functional=("ctc_loss",))
declare(linear_cross_entropy, torch=False, functional=("linear_cross_entropy",))

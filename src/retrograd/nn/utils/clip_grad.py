"""Gradient clipping: rescale gradients to a maximum total norm, or clamp them elementwise.

The norms are computed on the raw gradient arrays (no graph is recorded), in each gradient's
dtype; a sparse gradient contributes the norm of its coalesced values, i.e. of the dense
gradient it stands for.
"""

import math

import numpy as np

from ..._tensor import Tensor
from ..._compile.state import _cap
from ...backend import array_module
from ...sparse import SparseTensor, coalesced_rows

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _tensors(tensors):
    if isinstance(tensors, Tensor):
        return [tensors]
    return list(tensors)


def _values(g):
    """The array whose norm is the gradient's norm."""
    if type(g) is SparseTensor:
        return coalesced_rows(g)[1]
    return g._data


def _norm(a, p):
    if a.size == 0:
        return 0.0
    if p == 2:
        flat = a.reshape(-1)
        return math.sqrt(float(np.dot(flat, flat)))
    if p == math.inf:
        return float(max(a.max(), -a.min()))
    if p == -math.inf:
        return float(np.abs(a).min())
    if p == 0:
        return float(np.count_nonzero(a))
    if p == 1:
        return float(np.abs(a).sum())
    return float((np.abs(a) ** p).sum()) ** (1.0 / p)


def _combine(norms, p):
    if p == math.inf:
        return max(norms)
    if p == -math.inf:
        return min(norms)
    if p == 0:
        return float(sum(norms))
    return sum(n**p for n in norms) ** (1.0 / p)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of all ``tensors`` together, as if concatenated into one vector
    (a 0-d tensor; 0 for no tensors). ``foreach`` is accepted and ignored."""
    tensors = [t for t in _tensors(tensors) if t is not None]
    p = float(norm_type)
    if not tensors:
        return Tensor._make(np.array(0.0, dtype=np.float32), None, False)
    dtype = np.result_type(*[t._data.dtype for t in tensors])
    total = _combine([_norm(_values(t), p) for t in tensors], p)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {p} for gradients from `parameters` is "
            f"non-finite, so it cannot be clipped. To disable this error and scale "
            f"the gradients by the non-finite norm anyway, set "
            f"`error_if_nonfinite=False`"
        )
    return Tensor._make(array_module(tensors[0]._data).asarray(total, dtype=dtype), None, False)


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Multiply every gradient by ``min(1, max_norm / (total_norm + 1e-6))``, in place."""
    grads = [p._grad for p in _tensors(parameters) if p._grad is not None]
    if not grads:
        return
    coef = float(max_norm) / (float(total_norm) + 1e-6)
    coef = min(coef, 1.0) if not math.isnan(coef) else coef
    with np.errstate(invalid="ignore"):  # an infinite norm gives NaN gradients, as in PyTorch
        for g in grads:
            if type(g) is SparseTensor:
                g.mul_(coef)
            else:
                g._data *= g._data.dtype.type(coef)
                g._version_counter().bump()


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    r"""Rescale the gradients of ``parameters`` so that their total norm is at most ``max_norm``.

    With :math:`N` the ``norm_type``-norm of all gradients together (``inf`` for the largest
    absolute value), every gradient is multiplied by :math:`\min(1, \text{max_norm} / (N +
    10^{-6}))`, in place. Returns :math:`N` (before clipping) as a 0-d tensor. With
    ``error_if_nonfinite``, a NaN or infinite :math:`N` raises instead. Sparse gradients are
    supported. ``foreach`` is accepted and ignored.
    """
    params = _tensors(parameters)
    if _cap.active:  # inside a compiled function: replayed as this same call on these parameters
        args = (max_norm, norm_type, error_if_nonfinite)
        return _cap.recorder.eager_call_on(clip_grad_norm_, params, args, "clip_grad_norm_")
    grads = [p._grad for p in params if p._grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated alias of ``clip_grad_norm_``."""
    import warnings

    warnings.warn(
        "`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.",
        FutureWarning,
        stacklevel=2,
    )
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient of ``parameters`` into ``[-clip_value, clip_value]``, in place
    (a sparse gradient is coalesced first, so the clamped values are those of the dense
    gradient)."""
    params = _tensors(parameters)
    if _cap.active:
        return _cap.recorder.eager_call_on(clip_grad_value_, params, (clip_value,), "clip_grad_value_")
    v = float(clip_value)
    for p in params:
        g = p._grad
        if g is None:
            continue
        if type(g) is SparseTensor:
            c = g.coalesce()._data
            np.clip(c.values, -v, v, out=c.values)
            g._data = c
        else:
            np.clip(g._data, -v, v, out=g._data)
        g._version_counter().bump()

"""Helpers shared by the distributions (PyTorch's ``torch.distributions.utils``)."""

import numbers

from .. import _dtype
from .._creation import tensor, randn
from .._tensor import Tensor
from .._typeinfo import finfo
from ..ops.shape import broadcast_tensors
from ..ops.nn_toplevel import softmax

__all__ = [
    "broadcast_all",
    "logits_to_probs",
    "probs_to_logits",
    "clamp_probs",
    "lazy_property",
    "tril_matrix_to_vec",
    "vec_to_tril_matrix",
    "euler_constant",
]

euler_constant = 0.57721566490153286060  # Euler-Mascheroni constant


def broadcast_all(*values):
    """Tensors and numbers broadcast to one shape; numbers become tensors of the first tensor's
    dtype and device (of the default dtype when all are numbers)."""
    if not all(isinstance(v, (Tensor, numbers.Number)) for v in values):
        raise ValueError(
            "Input arguments must all be instances of numbers.Number, torch.Tensor or objects "
            "implementing __torch_function__."
        )
    if not all(isinstance(v, Tensor) for v in values):
        like = next((v for v in values if isinstance(v, Tensor)), None)
        dtype = like.dtype if like is not None else _dtype.get_default_dtype()
        device = like.device if like is not None else None
        values = [v if isinstance(v, Tensor) else tensor(v, dtype=dtype, device=device) for v in values]
    return broadcast_tensors(*values)


def _standard_normal(shape, dtype, device):
    return randn(shape, dtype=dtype, device=device)


def _sum_rightmost(value, dim):
    """``value`` summed over its ``dim`` rightmost dims."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[: value.dim() - dim]) + (-1,)).sum(-1)


def clamp_probs(probs):
    """Probabilities clamped into [eps, 1 - eps] of their dtype."""
    eps = finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def logits_to_probs(logits, is_binary=False):
    """sigmoid(logits) for binary logits, else softmax over the last dim."""
    if is_binary:
        return logits.sigmoid()
    return softmax(logits, dim=-1)


def probs_to_logits(probs, is_binary=False):
    """The logits of ``probs`` (clamped away from 0 and 1): log(p) - log(1 - p) when binary,
    else log(p)."""
    ps = clamp_probs(probs)
    if is_binary:
        return ps.log() - (-ps).log1p()
    return ps.log()


class lazy_property:
    """A property computed on first access and then stored on the instance (so it becomes a
    plain attribute). Parameters given as the other parametrisation are such properties."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        from ..autograd.grad_mode import enable_grad

        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


def _tril_positions(n, diag):
    """Flat positions (row-major, in an n x n matrix) of the entries on or below diagonal ``diag``."""
    return [i * n + j for i in range(n) for j in range(n) if j < i + diag + 1]


def tril_matrix_to_vec(mat, diag=0):
    """The entries of (a batch of) D x D matrices on or below diagonal ``diag``, row by row."""
    from .._creation import tensor as _tensor
    from .. import _dtype as _dt

    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    index = _tensor(_tril_positions(n, diag), dtype=_dt.int64, device=mat.device)
    return mat.reshape(tuple(mat.shape[:-2]) + (n * n,)).index_select(-1, index)


def vec_to_tril_matrix(vec, diag=0):
    """The D x D lower-triangular matrices (from diagonal ``diag`` down) whose entries, row by
    row, are ``vec``'s last dim (the inverse of ``tril_matrix_to_vec``)."""
    from .._creation import tensor as _tensor, zeros as _zeros
    from .. import _dtype as _dt

    k = vec.shape[-1]
    root = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * k + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    n = round(root)
    if abs(n - root) > finfo(vec.dtype).eps:
        raise ValueError(
            f"The size of last dimension is {k} which cannot be expressed as the lower triangular part of a "
            "square D x D matrix."
        )
    index = _tensor(_tril_positions(n, diag), dtype=_dt.int64, device=vec.device)
    flat = _zeros(tuple(vec.shape[:-1]) + (n * n,), dtype=vec.dtype, device=vec.device).index_add(-1, index, vec)
    return flat.reshape(tuple(vec.shape[:-1]) + (n, n))


def _expand_probs_or_logits(old, new, shape):
    """Give ``new`` (an ``expand``'s instance) ``old``'s ``probs`` and/or ``logits``, whichever
    ``old`` holds, expanded to ``shape``; ``_param`` is the last one set, as in the constructor."""
    for name in ("probs", "logits"):
        if name in old.__dict__:
            setattr(new, name, getattr(old, name).expand(shape))
            new._param = getattr(new, name)

"""Statistics: quantile/nanquantile, mode, logcumsumexp, cov, corrcoef, dist, renorm, and the
counting ops histc, bincount, isin.

quantile(x, q) sorts x, and for each q reads position p = q (n - 1) of the sorted values:
linear interpolation v[floor p] + (v[ceil p] - v[floor p]) (p - floor p), or the lower, higher,
nearest (half to even) or midpoint value. Values are taken with gather, so the gradient goes
to the elements read, weighted by the interpolation.

logcumsumexp: out_i = log sum_{j<=i} e^(x_j). Its gradient
    grad_j = sum_{i>=j} g_i e^(x_j - out_i) = e^(x_j + R(log g - out)_j),
R a reversed logcumsumexp, is computed separately for the positive and negative parts of g so
that every log is of a positive number (as PyTorch does); it is made of retrograd ops, hence
differentiable again.

cov(x) with frequency weights f and observation weights a (w = f a):
    mean = sum w x / sum w,  cov = (x - mean) diag(w) (x - mean)^T / (sum w - c sum(w a) / sum w)
with c the correction (sum(w a)/sum w is replaced by 1 without aweights).
"""

import builtins
import math
from collections import namedtuple

import numpy as np

from .._compile.state import recorded, recorded_check, sized_by_values
from .._tensor import Tensor, _wrap_dim
from ..backend import array_module, to_device_array
from . import elementwise as ew
from ._registry import Op, apply
from .indexing import gather
from .reduction import return_types, vector_norm
from ._declare import declare
from .._autocast import FLOAT32, ACTIVE as _AMP, _amp, autocast_call


def _const(array):
    return Tensor._make(array, None, False)


# --------------------------------------------------------------------------- quantile
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, name):
    if not isinstance(input, Tensor) or input._data.dtype.char not in "fd":
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(
            f"{name}() interpolation must be one of linear, lower, higher, midpoint or nearest. Got {interpolation}"
        )
    xp = array_module(input._data)
    scalar_q = not isinstance(q, Tensor) or q._data.ndim == 0
    if isinstance(q, Tensor):
        if q._data.ndim > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        if q._data.dtype != input._data.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        qs = np.asarray(to_device_array(q._data, q.device), dtype=np.float64).reshape(-1)
    else:
        qs = np.asarray([float(q)])
    if qs.size and (qs.min() < 0 or qs.max() > 1):
        raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    in_shape = input._data.shape
    if dim is None:
        x = input.reshape(-1)
        d = 0
    else:
        d = _wrap_dim(dim, input._data.ndim, name)
        x = input if input._data.ndim else input.reshape(1)
    if x._data.shape[d] == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    x = x.movedim(d, -1)
    v = x.sort(-1).values  # NaN sorts last
    n = v._data.shape[-1]
    nan = xp.isnan(v._data)
    count = (n - nan.sum(-1, keepdims=True)) if ignore_nan else xp.full(v._data.shape[:-1] + (1,), n)
    # positions, one per q, along the last dim: shape (..., Q)
    qv = xp.asarray(qs)
    pos = qv * (count - 1).astype(np.float64)
    pos = xp.maximum(pos, 0)
    lo = xp.floor(pos)
    hi = xp.ceil(pos)
    if interpolation == "lower":
        hi = lo
    elif interpolation == "higher":
        lo = hi
    elif interpolation == "nearest":
        lo = hi = xp.round(pos)
    v_lo = gather(v, -1, _const(lo.astype(np.int64)))
    if interpolation == "midpoint":
        out = (v_lo + gather(v, -1, _const(hi.astype(np.int64)))) * 0.5
    elif interpolation == "linear":
        w = _const((pos - lo).astype(v._data.dtype))
        out = ew.lerp(v_lo, gather(v, -1, _const(hi.astype(np.int64))), w)
    else:
        out = v_lo
    # NaN where the slice has a NaN (quantile) or has only NaNs (nanquantile)
    bad = (count == 0) if ignore_nan else nan.any(-1, keepdims=True)
    if bool(bad.any()):
        out = ew.where(_const(xp.broadcast_to(bad, out._data.shape)), math.nan, out)
    out = out.movedim(-1, 0)  # (Q, ...)
    if keepdim:
        if dim is None:
            out = out.reshape((out._data.shape[0],) + (1,) * len(in_shape))
        elif len(in_shape):
            out = out.unsqueeze(d + 1)
    if scalar_q:
        out = out.squeeze(0)
    return out


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The q-th quantiles of ``input`` along ``dim`` (all elements when None); a 1-D ``q`` adds
    a leading dim of len(q). A slice with a NaN gives NaN."""
    if _AMP[0] and _amp.on:
        return autocast_call(quantile, FLOAT32, input, q, dim, keepdim, interpolation=interpolation)
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """``quantile`` ignoring NaNs (a slice of NaNs only gives NaN)."""
    if _AMP[0] and _amp.on:
        return autocast_call(nanquantile, FLOAT32, input, q, dim, keepdim, interpolation=interpolation)
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


# --------------------------------------------------------------------------- mode
def mode(input, dim=-1, keepdim=False):
    """The most frequent value along ``dim`` (the smallest among ties) and the index of its
    last occurrence; the values are differentiable (gradient to that index)."""
    if input._data.ndim == 0:
        from .sorting import _zero_index

        return return_types.mode(input.clone(), _zero_index(input))
    d = _wrap_dim(dim, input._data.ndim, "mode")
    if input._data.shape[d] == 0:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size")
    a = input._data
    xp = array_module(a)
    moved = xp.moveaxis(a, d, -1)
    n = moved.shape[-1]
    order = xp.argsort(moved, axis=-1, kind="stable")
    s = xp.take_along_axis(moved, order, -1)
    # runs of equal values in the sorted rows (a row's first element starts a run): number the
    # runs over the flattened rows, then each element's position in its run, plus one
    new_run = xp.concatenate([xp.ones(s.shape[:-1] + (1,), bool), s[..., 1:] != s[..., :-1]], -1)
    flat_new = new_run.reshape(-1)
    starts = xp.flatnonzero(flat_new)
    run_id = xp.cumsum(flat_new) - 1
    length = (xp.arange(flat_new.size) - starts[run_id] + 1).reshape(s.shape)
    # the longest run; the first such run is the smallest value (argmax takes the first)
    end = xp.argmax(length, axis=-1)[..., None]
    value = xp.take_along_axis(s, end, -1)
    # the last occurrence in the input of that value
    hits = moved == value
    last = n - 1 - xp.argmax(hits[..., ::-1], axis=-1)[..., None]
    index = _const(xp.moveaxis(last, -1, d).astype(np.int64))
    values = gather(input, d, index)
    if not keepdim:
        values, index = values.squeeze(d), index.squeeze(d)
    return return_types.mode(values, index)


# --------------------------------------------------------------------------- logcumsumexp
def _logcumsumexp_fwd(xp, x, d):
    acc = getattr(xp.logaddexp, "accumulate", None)
    if acc is not None:
        try:
            return acc(x, axis=d)
        except (NotImplementedError, TypeError):
            pass
    m = xp.max(x, axis=d, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        return xp.log(xp.cumsum(xp.exp(x - m), axis=d)) + m


def _reverse_lcse(t, d):
    return logcumsumexp(t.flip(d), d).flip(d)


def _log_part(g):
    """log(g) where g > 0, -inf elsewhere (no infinite derivative leaks from the masked part)."""
    keep = g > 0
    return ew.where(keep, ew.log(ew.where(keep, g, 1.0)), -math.inf)


def _logcumsumexp_vjp(g, x, out, d):
    # where out_i = -inf (every x_j, j <= i, is -inf) the i-th term contributes nothing
    empty = out == -math.inf
    out = ew.where(empty, 0.0, out)
    pos = ew.where(empty, -math.inf, _log_part(g) - out)
    neg = ew.where(empty, -math.inf, _log_part(-g) - out)
    return ew.exp(x + _reverse_lcse(pos, d)) - ew.exp(x + _reverse_lcse(neg, d))


def _logcumsumexp_jvp(ts, x, out, d):
    # d out_i = sum_{j<=i} t_j e^(x_j - out_i), with t split into its positive and negative
    # parts so that each sum is itself a (stable) logcumsumexp
    t = ts[0]
    empty = out == -math.inf
    base = ew.where(empty, 0.0, out)
    pos = ew.exp(logcumsumexp(x + _log_part(t), d) - base)
    neg = ew.exp(logcumsumexp(x + _log_part(-t), d) - base)
    return ew.where(empty, 0.0, pos - neg)


LOGCUMSUMEXP = Op("logcumsumexp", _logcumsumexp_fwd, _logcumsumexp_vjp, jvp=_logcumsumexp_jvp, save=("x", "out"))


def logcumsumexp(input, dim):
    """log(cumsum(exp(input))) along ``dim``, without overflow or underflow."""
    x = ew._float_input(input)
    if x._data.ndim == 0:
        return x.clone()
    d = _wrap_dim(dim, x._data.ndim, "logcumsumexp")
    with np.errstate(divide="ignore", invalid="ignore"):
        return apply(LOGCUMSUMEXP, (x,), (d,))


# --------------------------------------------------------------------------- covariance
def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance of the rows of ``input`` (variables) over its columns (observations)."""
    if input._data.ndim > 2:
        raise RuntimeError(
            f"cov(): expected input to have two or fewer dimensions but got an input with {input._data.ndim} dimensions"
        )
    x = ew._float_input(input)
    x = x.reshape(1, -1) if x._data.ndim < 2 else x
    n = x._data.shape[1]
    w = None
    if fweights is not None:
        if fweights._data.ndim > 1 or fweights._data.shape[0:1] != (n,):
            raise RuntimeError(
                f"cov(): expected fweights to have one dimension with {n} elements, got "
                f"shape {list(fweights._data.shape)}"
            )
        if fweights._data.dtype.kind not in "iu":
            raise RuntimeError("cov(): expected fweights to have integral dtype")
        recorded_check(_check_nonnegative, fweights._data, "fweights", label="cov_check")
        w = fweights.to(x.dtype)
    if aweights is not None:
        if aweights._data.ndim > 1 or aweights._data.shape[0:1] != (n,):
            raise RuntimeError(
                f"cov(): expected aweights to have one dimension with {n} elements, got "
                f"shape {list(aweights._data.shape)}"
            )
        if aweights._data.dtype.kind not in "fV":
            raise RuntimeError("cov(): expected aweights to have floating point dtype")
        recorded_check(_check_nonnegative, aweights._data, "aweights", label="cov_check")
        a = aweights.to(x.dtype)
        w = a if w is None else w * a
    if w is None:
        total = float(n)
        mean = x.mean(1, keepdim=True)
        norm = total - correction
    else:
        total = w.sum()
        mean = (x * w).sum(1, keepdim=True) / total
        norm = total - (correction * (w * a).sum() / total if aweights is not None else correction)
    if isinstance(norm, Tensor):
        norm = ew.clamp(norm, min=0)
    else:
        norm = max(norm, 0)
    xc = x - mean
    c = ew.div(((xc * w) if w is not None else xc) @ xc.t(), norm)
    return c.reshape(()) if input._data.ndim < 2 else c


def corrcoef(input):
    """Pearson correlation coefficients of the rows of ``input``, clipped to [-1, 1]."""
    c = cov(input)
    if c._data.ndim == 0:
        return c / c
    d = c.diagonal()
    s = ew.sqrt(d)
    c = c / s.unsqueeze(1) / s.unsqueeze(0)
    return ew.clamp(c, -1, 1)


# --------------------------------------------------------------------------- distances, norms
def dist(input, other, p=2):
    """The p-norm of input - other (broadcast), over all elements."""
    return vector_norm(input - other, float(p))


def renorm(input, p, dim, maxnorm):
    """Each slice along ``dim`` whose p-norm exceeds ``maxnorm`` scaled down to norm ``maxnorm``."""
    nd = input._data.ndim
    d = _wrap_dim(dim, nd, "renorm")
    if p <= 0:
        raise RuntimeError(f"renorm: non-positive norm not supported (p = {p})")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    others = tuple(i for i in range(nd) if i != d)
    norms = vector_norm(input, float(p), others, keepdim=True) if others else ew.abs(input)
    factor = ew.where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)
    return input * factor


# --------------------------------------------------------------------------- counting
def histc(input, bins=100, min=0, max=0):
    """Counts of ``input`` in ``bins`` equal bins over [min, max] (the data's range when
    min == max); elements outside are ignored. Same dtype as input; not differentiable."""
    a = input._data
    if a.dtype.kind not in "fV":
        raise RuntimeError(f"\"histogram_cpu\" not implemented for '{input.dtype}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histc(): bins must be > 0, but got {bins} for dim 0")
    xp = array_module(a)
    flat = a.reshape(-1)
    lo, hi = float(min), float(max)
    if lo == hi and flat.size:
        lo, hi = float(flat.min()), float(flat.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError(f"torch.histc(): max must be larger than min (min {min}, max {max})")
    inside = flat[(flat >= lo) & (flat <= hi)]
    idx = xp.floor((inside - lo) * (bins / (hi - lo))).astype(np.int64)
    idx = xp.minimum(idx, bins - 1)  # max itself falls in the last bin
    return _const(xp.bincount(idx, minlength=bins)[:bins].astype(a.dtype))


def _check_nonnegative(w, name):
    if bool((w < 0).any()):
        raise RuntimeError(f"cov(): {name} cannot be negative")


def bincount(input, weights=None, minlength=0):
    """Occurrences of each value of a 1-D non-negative integer tensor (weighted sums with
    ``weights``); length max(input) + 1, at least ``minlength``. Not differentiable."""
    a = input._data
    if a.ndim != 1 or a.dtype.kind not in "iub":
        raise RuntimeError(
            f"bincount only supports 1-d non-negative integral inputs (got shape {list(a.shape)}, dtype {input.dtype})"
        )
    if minlength < 0:
        raise RuntimeError(f"minlength should be >= 0 (got {minlength})")
    xp = array_module(a)
    wd = None
    if weights is not None:
        if weights._data.shape != a.shape:
            raise RuntimeError(
                f"weights should be 1-d and have the same length as input (input "
                f"{list(a.shape)}, weights {list(weights._data.shape)})"
            )
        wd = weights._data
    # the length is the largest value plus one: one kernel, so a replay counts the current
    # values, and a checked graph break on that length (code after it takes it for a constant)
    out = recorded(_bincount, xp, a, wd, minlength, label="bincount")
    return _const(sized_by_values(out, "bincount's result, sized by the largest value"))


def _bincount(xp, a, wd, minlength):
    if a.size and bool((a < 0).any()):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs (found a negative value)")
    if wd is None:
        return xp.bincount(a, minlength=minlength).astype(np.int64)
    # PyTorch's kernel sums float32 weights in float32 and every other dtype (float16 and
    # bfloat16 included) in float64
    out_dtype = np.float32 if wd.dtype == np.float32 else np.float64
    return xp.bincount(a, weights=wd.astype(np.float64), minlength=minlength).astype(out_dtype)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element of ``elements`` is in ``test_elements`` (either may be a scalar)."""
    ref = elements if isinstance(elements, Tensor) else test_elements
    xp = array_module(ref._data)
    e = elements._data if isinstance(elements, Tensor) else xp.asarray(elements)
    t = test_elements._data if isinstance(test_elements, Tensor) else xp.asarray(test_elements)
    return _const(recorded(_isin, xp, e, t, assume_unique, invert, label="isin"))


def _isin(xp, e, t, assume_unique, invert):
    return xp.isin(e, t, assume_unique=assume_unique, invert=invert)


# --------------------------------------------------------------------------- histogram
histogram_result = namedtuple("histogram", ["hist", "bin_edges"])


def histogram(input, bins=100, *, range=None, weight=None, density=False):
    """Counts (or weighted sums, or a density) of ``input`` in ``bins`` equal bins over ``range``
    (the data's range by default) or between the given bin edges; (hist, bin_edges)."""
    a = input._data
    if a.dtype.kind not in "fV":
        raise RuntimeError(
            f"torch.histogram: input tensor and bins tensors should have the same dtype, but got input {input.dtype}"
        )
    xp = array_module(a)
    edges = bins._data if isinstance(bins, Tensor) else int(bins)
    w = None if weight is None else weight._data
    hist, bin_edges = xp.histogram(
        a.reshape(-1), bins=edges, range=range, weights=None if w is None else w.reshape(-1), density=density
    )
    return histogram_result(
        Tensor._make(hist.astype(a.dtype), None, False),
        Tensor._make(xp.asarray(bin_edges).astype(a.dtype), None, False),
    )


histogramdd_result = namedtuple("histogramdd", ["hist", "bin_edges"])


def histogramdd(input, bins=10, *, range=None, weight=None, density=False):
    """The D-dimensional histogram of the points ``input[..., :]`` (D the last dim): ``bins``
    equal bins per dim (an int, or one int per dim) over ``range`` (a flat list of D (min, max)
    pairs; the data's range by default) or the given bin edges (one 1-D tensor per dim);
    (hist, tuple of bin edges), as NumPy's histogramdd."""
    a = input._data
    if a.dtype.kind not in "fV":
        raise NotImplementedError(f'"histogramdd" not implemented for {input.dtype}')
    d = a.shape[-1]
    if isinstance(bins, (list, tuple)) and len(bins) != d:
        raise RuntimeError("histogramdd: The size of bins must be equal to the innermost dimension of the input.")
    xp = array_module(a)
    if isinstance(bins, (list, tuple)):
        bins = [b._data if isinstance(b, Tensor) else int(b) for b in bins]
    else:
        bins = int(bins)
    if range is not None:
        if len(range) != 2 * d:
            raise RuntimeError(f"histogramdd: range should have {2 * d} elements, but got {len(range)}")
        range = [(range[2 * i], range[2 * i + 1]) for i in builtins.range(d)]
    w = None if weight is None else weight._data.reshape(-1)
    hist, edges = xp.histogramdd(a.reshape(-1, d), bins=bins, range=range, weights=w, density=density)
    return histogramdd_result(
        Tensor._make(hist.astype(a.dtype), None, False),
        tuple(Tensor._make(xp.asarray(e).astype(a.dtype), None, False) for e in edges),
    )


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(quantile, method=True, out=True)
declare(nanquantile, method=True, out=True)
declare(mode, method=True, out=True)
declare(logcumsumexp, method=True, out=True)
declare(cov, method=True)
declare(corrcoef, method=True)
declare(dist, method=True)
declare(renorm, method=True, inplace=True, out=True)
declare(histc, method=True, out=True)
declare(bincount, method=True)
declare(isin, method=True, out=True)
declare(histogram, method=True, out=True)
declare(histogramdd)

"""Sorting, selection and scans: sort/argsort, topk, kthvalue, median, cumsum/cumprod,
cummax/cummin, diff, searchsorted/bucketize, unique.

Selection ops find their indices on raw arrays (not differentiable) and take their values
with ``gather``, so the gradient flows back to the selected elements through gather's
backward (a scatter_add), to any order. Sorting is stable; NaN sorts as the largest value.

Scans: out_i = sum_{j<=i} x_j has gradient g_j' = sum_{i>=j} g_i (a reversed cumsum);
out_i = prod_{j<=i} x_j has gradient sum_{i>=j} g_i prod_{l<=i, l!=j} x_l (see _cumprod_vjp
for zeros).
"""

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap_dim
from .._compile.state import reads_values, recorded
from ..backend import array_module, to_device_array, to_numpy
from ._registry import Op, apply
from ._registry import LINEAR
from .indexing import gather
from .reduction import return_types
from ._declare import declare


def _refuse_complex(name, *operands, **kw):
    from .elementwise import _refuse_complex as refuse

    refuse(name, *operands, **kw)


def _long(a):
    return Tensor._make(a.astype(np.int64, copy=False), None, False)


def _zero_index_kernel(a):
    return array_module(a).zeros((), np.int64)


def _zero_index(input):
    """The index 0 of a 0-d input's only element, on input's device."""
    return _long(recorded(_zero_index_kernel, input._data, label="zero_index"))


# The index kernels below run on raw arrays; ``recorded`` makes each one kernel of a compiled
# function's schedule, so a replay finds the indices of the current values.
def _argsort(xp, a, axis, descending):
    """Stable int64 argsort along ``axis``; descending keeps equal elements in their input order."""
    if not descending:
        return xp.argsort(a, axis=axis, kind="stable").astype(np.int64, copy=False)
    n = a.shape[axis]
    idx = xp.argsort(xp.flip(a, axis), axis=axis, kind="stable")
    return (n - 1 - xp.flip(idx, axis)).astype(np.int64, copy=False)


def _sorted_indices(a, axis, descending):
    return _long(recorded(_argsort, array_module(a), a, axis, descending, label="argsort"))


def _topk_indices(xp, a, axis, k, largest):
    return _argsort(xp, a, axis, largest)[(slice(None),) * axis + (slice(0, k),)].copy()


def _indices_at(xp, a, axis, pos):
    """The int64 indices of the elements at sorted positions ``pos`` (keepdim-shaped) along axis."""
    order = xp.argsort(a, axis=axis, kind="stable")
    return xp.take_along_axis(order, pos, axis=axis).astype(np.int64, copy=False)


def _dim(input, dim, op):
    return _wrap_dim(dim, input._data.ndim, op)


# --------------------------------------------------------------------------- sort and selection
def sort(input, dim=-1, descending=False, stable=False):
    """(values, indices) sorted along ``dim`` (always stable)."""
    _refuse_complex("sort", input, error=RuntimeError)
    d = _dim(input, dim, "sort")
    if input._data.ndim == 0:
        return return_types.sort(input.clone(), _zero_index(input))
    idx = _sorted_indices(input._data, d, descending)
    return return_types.sort(gather(input, d, idx), idx)


def argsort(input, dim=-1, descending=False, stable=False):
    """The indices that sort ``input`` along ``dim`` (stable)."""
    _refuse_complex("argsort", input, error=RuntimeError)
    d = _dim(input, dim, "argsort")
    a = input._data
    if a.ndim == 0:
        return _zero_index(input)
    return _sorted_indices(a, d, descending)


def msort(input):
    return sort(input, 0).values


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) elements along ``dim``, in order, with their indices."""
    _refuse_complex("topk", input, error=RuntimeError)
    d = _dim(input, dim, "topk")
    n = input._data.shape[d] if input._data.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(
            f"topk(): selected index k ({k}) out of range for dimension {d} of size {n} "
            f"(input shape {list(input._data.shape)})"
        )
    if input._data.ndim == 0:
        return return_types.topk(input.clone(), _zero_index(input))
    a = input._data
    idx = _long(recorded(_topk_indices, array_module(a), a, d, k, largest, label="topk_indices"))
    return return_types.topk(gather(input, d, idx), idx)


def _select_at(input, d, pos, keepdim, kind):
    """Values and indices of ``input`` at sorted position ``pos`` (keepdim-shaped array) along d."""
    a = input._data
    idx = _long(recorded(_indices_at, array_module(a), a, d, pos, label="select_indices"))
    values = gather(input, d, idx)
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return getattr(return_types, kind)(values, idx)


def kthvalue(input, k, dim=-1, keepdim=False):
    """The ``k``-th smallest element (k counts from 1) along ``dim``, and its index."""
    _refuse_complex("kthvalue", input)
    d = _dim(input, dim, "kthvalue")
    if input._data.ndim == 0:
        input = input.reshape(1)
        if k != 1:
            raise RuntimeError(f"kthvalue(): selected number k ({k}) out of range for a 0-d tensor")
        r = kthvalue(input, 1, 0, keepdim=False)
        return return_types.kthvalue(r.values, r.indices)
    n = input._data.shape[d]
    if n == 0:
        raise IndexError(
            f"kthvalue(): Expected reduction dim {d} to have non-zero size (input shape {list(input._data.shape)})"
        )
    if not 1 <= k <= n:
        raise RuntimeError(
            f"kthvalue(): selected number k ({k}) out of range for dimension {d} of "
            f"size {n} (input shape {list(input._data.shape)})"
        )
    shape = list(input._data.shape)
    shape[d] = 1
    pos = recorded(_full_index, array_module(input._data), tuple(shape), k - 1, label="full")
    return _select_at(input, d, pos, keepdim, "kthvalue")


def _full_index(xp, shape, value):
    return xp.full(shape, value, np.int64)


def _median_positions(xp, a, d, ignore_nan):
    """The sorted position of each slice's (lower) median along ``d`` (keepdim-shaped int64)."""
    n = a.shape[d]
    nnan = (
        xp.isnan(a).sum(axis=d, keepdims=True)
        if a.dtype.kind in "fV"
        else xp.zeros(a.shape[:d] + (1,) + a.shape[d + 1 :], np.int64)
    )
    if ignore_nan:
        # the lower median of the non-NaN values (NaN sorts last); all NaN gives NaN
        pos = xp.maximum((n - nnan - 1) // 2, 0)
    else:
        # any NaN makes the median NaN: point at the first NaN in sorted order
        pos = xp.where(nnan > 0, n - nnan, (n - 1) // 2)
    return pos.astype(np.int64)


def _median(input, dim, keepdim, ignore_nan):
    kind = "nanmedian" if ignore_nan else "median"
    _refuse_complex(kind, input)
    if dim is None:
        flat = input.reshape(-1)
        if flat._data.size == 0:
            from .._creation import full

            return full((), float("nan"), dtype=input.dtype, device=input.device)
        return _median(flat, 0, False, ignore_nan).values
    d = _dim(input, dim, kind)
    if input._data.ndim == 0:
        return getattr(return_types, kind)(input.clone(), _zero_index(input))
    a = input._data
    n = a.shape[d]
    if n == 0:
        raise IndexError(f"{kind}(): Expected reduction dim {d} to have non-zero size (input shape {list(a.shape)})")
    pos = recorded(_median_positions, array_module(a), a, d, ignore_nan, label="median_positions")
    return _select_at(input, d, pos, keepdim, kind)


def median(input, dim=None, keepdim=False):
    """The lower median (of all elements, or (values, indices) along ``dim``); NaN if any NaN."""
    return _median(input, dim, keepdim, False)


def nanmedian(input, dim=None, keepdim=False):
    """``median`` ignoring NaN values."""
    return _median(input, dim, keepdim, True)


# --------------------------------------------------------------------------- cumulative scans
def _scan_input(input, dtype):
    if dtype is not None:
        return input.to(dtype)
    if input._data.dtype.kind in "biu":
        return input.to(_dtype.int64)
    return input


def _rcumsum(t, d):
    """sum_{i>=j} t_i: a cumulative sum from the end."""
    return cumsum(t.flip(d), d).flip(d)


def _scan(xp, name, x, d):
    """cumsum/cumprod of ``x`` along ``d`` in x's dtype: NumPy would scan small integers in
    int64 (cumsum(dtype=int32) is int32); half-precision floats are accumulated in float32, as
    PyTorch does (a float16 running sum of 0.1s stalls at 256)."""
    if x.dtype.itemsize == 2 and x.dtype.kind in "fV":
        return getattr(xp, name)(x, axis=d, dtype=np.float32).astype(x.dtype)
    return getattr(xp, name)(x, axis=d, dtype=x.dtype)


CUMSUM = Op("cumsum", lambda xp, x, d: _scan(xp, "cumsum", x, d), lambda g, d: _rcumsum(g, d), jvp=LINEAR)


def cumsum(input, dim, *, dtype=None):
    """out_i = x_0 + ... + x_i along ``dim`` (integers sum in int64)."""
    input = _scan_input(input, dtype)
    d = _dim(input, dim, "cumsum")
    if input._data.ndim == 0:
        return apply(CUMSUM, (input.reshape(1),), (0,)).reshape(())
    return apply(CUMSUM, (input,), (d,))


def _cumprod_vjp(g, x, out, d):
    # grad_k = sum_{i>=k} g_i prod_{l<=i, l!=k} x_l. Where x_k != 0 that is
    # rcumsum(g * out)_k / x_k. At a zero x_k it is rcumsum(g * cumprod(x with x_k := 1))_k; that
    # is needed only at the first two zeros of a slice: from the third zero on the gradient and
    # its first derivatives contain two zero factors. Every branch is exact as a function of x
    # near the point, so the double backward is right too.
    from .elementwise import where

    reads_values("the backward of cumprod, whose formula depends on whether the input holds a zero")
    if not bool((x._data == 0).any()):
        return _rcumsum(g * out, d) / x
    is_zero = x == 0
    nzeros = cumsum(is_zero, d)
    grad = where(is_zero, 0.0, _rcumsum(g * out, d) / where(is_zero, 1.0, x))
    for n in (1, 2):
        at = is_zero & (nzeros == n)
        if bool(at._data.any()):
            grad = where(at, _rcumsum(g * cumprod(where(at, 1.0, x), d), d), grad)
    return grad


CUMPROD = Op("cumprod", lambda xp, x, d: _scan(xp, "cumprod", x, d), _cumprod_vjp, save=("x", "out"))


def cumprod(input, dim, *, dtype=None):
    """out_i = x_0 * ... * x_i along ``dim``; the gradient is exact where x has zeros."""
    input = _scan_input(input, dtype)
    d = _dim(input, dim, "cumprod")
    if input._data.ndim == 0:
        return apply(CUMPROD, (input.reshape(1),), (0,)).reshape(())
    return apply(CUMPROD, (input,), (d,))


def _accumulate(xp, name, a, axis):
    """``xp.<name>.accumulate`` along ``axis``; on the host where the array module lacks it."""
    try:
        return getattr(xp, name).accumulate(a, axis=axis)
    except NotImplementedError:
        return xp.asarray(getattr(np, name).accumulate(to_numpy(a), axis=axis))


def _cum_extreme(input, dim, is_max):
    name = "cummax" if is_max else "cummin"
    _refuse_complex(name, input)
    d = _dim(input, dim, name)
    if input._data.ndim == 0:
        return getattr(return_types, name)(input.clone(), _zero_index(input))
    a = input._data
    idx = _long(recorded(_cum_extreme_indices, array_module(a), a, d, is_max, label=name + "_indices"))
    return getattr(return_types, name)(gather(input, d, idx), idx)


def _cum_extreme_indices(xp, a, d, is_max):
    acc = _accumulate(xp, "maximum" if is_max else "minimum", a, d)
    n = a.shape[d]
    pos = xp.arange(n).reshape((1,) * d + (n,) + (1,) * (a.ndim - d - 1))
    # the latest position holding the running extreme (PyTorch's choice among ties); a NaN
    # becomes the extreme from where it appears
    mark = a == acc
    if a.dtype.kind in "fV":
        mark |= xp.isnan(a)
    return _accumulate(xp, "maximum", xp.where(mark, pos, 0), d).astype(np.int64, copy=False)


def cummax(input, dim):
    """(running maximum along ``dim``, index where it was attained)."""
    return _cum_extreme(input, dim, True)


def cummin(input, dim):
    """(running minimum along ``dim``, index where it was attained)."""
    return _cum_extreme(input, dim, False)


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along ``dim``: out_i = x_{i+1} - x_i, applied n times
    (logical xor for bool), after concatenating ``prepend`` and ``append``."""
    from .shape import cat
    from .elementwise import logical_xor

    if input._data.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"diff: order must be non-negative but got {n}")
    d = _dim(input, dim, "diff")
    parts = []
    for extra in (prepend, input, append):
        if extra is None:
            continue
        if not isinstance(extra, Tensor):
            from .._creation import full

            shape = list(input._data.shape)
            shape[d] = 1
            extra = full(shape, extra, dtype=input.dtype, device=input.device)
        parts.append(extra)
    x = cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        length = x._data.shape[d]
        if length == 0:
            break
        hi, lo = x.narrow(d, 1, length - 1), x.narrow(d, 0, length - 1)
        x = logical_xor(hi, lo) if x._data.dtype.kind == "b" else hi - lo
    return x


# --------------------------------------------------------------------------- not differentiable
def _as_array(v):
    """A NumPy array (search and unique run on the host)."""
    return to_numpy(v._data) if isinstance(v, Tensor) else np.asarray(v)


def _device_of(*values):
    for v in values:
        if isinstance(v, Tensor):
            return v.device
    return None


def _to_device(a, dev):
    return a if dev is None else to_device_array(a, dev)


def _side(right, side, op):
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"{op}(): side can only be 'left' or 'right' but got {side!r}")
        if side == "left" and right:
            raise RuntimeError(
                f"{op}(): side and right can't be set to opposites, got side of left while right was True"
            )
        return side
    return "right" if right else "left"


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """Indices at which ``input`` would be inserted into the innermost dim of
    ``sorted_sequence`` to keep it sorted (leading dims of both must match)."""
    side = _side(right, side, "searchsorted")
    _refuse_complex("searchsorted", sorted_sequence, input)
    seq = _as_array(sorted_sequence)
    vals = _as_array(input)
    if sorter is not None:
        seq = np.take_along_axis(seq, _as_array(sorter), axis=-1)
    if seq.ndim <= 1:
        res = np.searchsorted(seq.reshape(-1), vals, side=side)
    else:
        if vals.ndim != seq.ndim or vals.shape[:-1] != seq.shape[:-1]:
            raise RuntimeError(
                f"searchsorted(): boundaries tensor should be 1 dimension or the first "
                f"N-1 dimensions of boundaries tensor and input value tensor must match, "
                f"but we got boundaries tensor {list(seq.shape)} and input value tensor "
                f"{list(vals.shape)}"
            )
        res = np.empty(vals.shape, np.int64)
        for lead in np.ndindex(*seq.shape[:-1]):
            res[lead] = np.searchsorted(seq[lead], vals[lead], side=side)
    res = np.asarray(res, dtype=np.int32 if out_int32 else np.int64)
    return Tensor._make(_to_device(res, _device_of(input, sorted_sequence)), None, False)


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each value: i with boundaries[i-1] < x <= boundaries[i] (``right=True``:
    boundaries[i-1] <= x < boundaries[i])."""
    b = _as_array(boundaries)
    if b.ndim != 1:
        raise RuntimeError(f"bucketize(): boundaries tensor must be 1 dimension, but got dim({b.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (sorted), optionally with the inverse map and the counts; with
    ``dim``, the distinct slices along it."""
    _refuse_complex("unique", input)
    a = to_numpy(input._data)
    axis = None if dim is None else _dim(input, dim, "unique")
    if axis is None:  # each NaN is distinct (NaN != NaN), as in PyTorch; NumPy merges them by default
        vals, inverse, counts = np.unique(a, return_inverse=True, return_counts=True, equal_nan=False)
    else:
        vals, inverse, counts = np.unique(a, return_inverse=True, return_counts=True, axis=axis)
    inverse = inverse.reshape(a.shape if axis is None else (-1,))
    return _unique_result(input, vals, inverse, counts, return_inverse, return_counts)


def _unique_result(input, vals, inverse, counts, return_inverse, return_counts):
    out = Tensor._make(to_device_array(vals, input.device), None, False)
    if not return_inverse and not return_counts:
        return out
    res = (out,)
    if return_inverse:
        res += (_long(to_device_array(inverse, input.device)),)
    if return_counts:
        res += (_long(to_device_array(counts, input.device)),)
    return res


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse runs of equal consecutive elements (or slices along ``dim``) to one."""
    a = to_numpy(input._data)
    axis = 0 if dim is None else _dim(input, dim, "unique_consecutive")
    moved = np.moveaxis(a.reshape(-1) if dim is None else a, axis, 0)
    n = moved.shape[0]
    change = np.ones(n, bool)
    if n > 1:
        change[1:] = (moved[1:] != moved[:-1]).reshape(n - 1, -1).any(axis=1)
    starts = np.flatnonzero(change)
    vals = np.moveaxis(moved[starts], 0, axis)
    inverse = (np.cumsum(change) - 1).reshape(a.shape if dim is None else (-1,))
    counts = np.diff(np.append(starts, n))
    return _unique_result(input, vals, inverse, counts, return_inverse, return_counts)


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(sort, method=True, out=True)
declare(argsort, method=True)
declare(msort, method=True, out=True)
declare(topk, method=True, out=True)
declare(kthvalue, method=True, out=True)
declare(median, method=True, out=True)
declare(nanmedian, method=True, out=True)
declare(cumsum, method=True, inplace=True, out=True)
declare(cumprod, method=True, inplace=True, out=True)
declare(cummax, method=True, out=True)
declare(cummin, method=True, out=True)
declare(diff, method=True, out=True)
declare(searchsorted, out=True)
declare(bucketize, out=True)
declare(unique, method=True)
declare(unique_consecutive, method=True)

"""Sums and extremes over one axis of an array, taking NumPy's fast path where its own reduction
is slow. Every function gives what ``x.sum``/``x.max``/``x.min`` give, up to the rounding order
of a sum (extremes are exact); CuPy arrays, other dtypes and several axes go straight to the
array's own method.

Why (measured on an AVX-512 Xeon, NumPy 2.4, float32 rows of a (1024, C) array):

- NumPy runs one inner loop per reduced row and pays about 90 ns to set each up. A sum over
  the last axis of 128 took 35 us; the same sum as a matrix-vector product ``x @ ones(C)``
  (BLAS gemv) 8 us. Over a middle axis, ``ones(K) @ x.reshape(A, K, B)`` is the same trick.
- ``x.max(axis=-1)`` reduces the first element against the other C - 1 with a vectorised loop
  and finishes the remainder one element at a time, with a NaN check each: C = 128 took 104 us,
  C = 129 41 us. Starting from ``initial=-inf`` makes the loop cover all C, a multiple of the
  vector width: 36 us. The result is the same (NaN still wins); only empty reductions, which
  callers refuse before this, would differ.
"""

import numpy as np

BLAS_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_ONES = {}  # (length, dtype) -> read-only ones vector
# Last-axis sums as a product need rows of this length or shorter: BLAS sums a row in a few
# running lanes, whose error grows with the row's length faster than NumPy's pairwise sum's.
_MAX_ROW = 2048


def _ones(n, dtype):
    v = _ONES.get((n, dtype))
    if v is None:
        if len(_ONES) > 64:
            _ONES.clear()
        v = np.ones(n, dtype)
        v.flags.writeable = False
        _ONES[(n, dtype)] = v
    return v


def _kept(shape, axis, keepdims):
    return shape[:axis] + ((1,) if keepdims else ()) + shape[axis + 1 :]


def _one_axis(axis):
    """``axis`` as an int when it names one axis (an int or a 1-tuple), else None."""
    if type(axis) is tuple:
        return axis[0] if len(axis) == 1 else None
    return axis


def sum_axis(xp, x, axis, keepdims=False):
    """``x.sum(axis=axis, keepdims=keepdims)``; one axis (an int or a 1-tuple) may take a product."""
    one = _one_axis(axis)
    if one is None or xp is not np or x.dtype not in BLAS_FLOATS or not x.flags.c_contiguous or x.ndim == 0:
        return x.sum(axis=axis, keepdims=keepdims)
    axis = one % x.ndim
    k = x.shape[axis]
    if axis == x.ndim - 1:
        if k < 16 or k > _MAX_ROW or x.size < 4096:
            return x.sum(axis=axis, keepdims=keepdims)
        out = np.matmul(x.reshape(-1, k), _ones(k, x.dtype))
        return out.reshape(_kept(x.shape, axis, keepdims))
    b = _after(x.shape, axis)
    # one inner loop of b elements per (a, k) pair: slow when the loops are many and short
    # (2-3x for (256, 20, 64) over dim 1, a mean-pooled embedding lookup; 20x for (100000, 2)
    # over dim 0); few or long loops, NumPy is as fast
    if x.size < 2048 * b or b > 256:
        return x.sum(axis=axis, keepdims=keepdims)
    out = np.matmul(_ones(k, x.dtype), x.reshape(-1, k, b))
    return out.reshape(_kept(x.shape, axis, keepdims))


def mean_axis(xp, x, axis, keepdims=False):
    """``x.mean(axis=axis, keepdims=keepdims)``: for one axis of a float32/float64 NumPy array the
    sum above divided by the count, as NumPy's mean divides its sum (other dtypes keep NumPy's
    mean, which sums float16 in float32)."""
    one = _one_axis(axis)
    if one is None or xp is not np or x.dtype not in BLAS_FLOATS:
        return x.mean(axis=axis, keepdims=keepdims)
    out = sum_axis(xp, x, one, keepdims)
    n = x.shape[one]
    if type(out) is not np.ndarray:  # a NumPy scalar (a 1-d input): no buffer to divide in place
        return out.dtype.type(out / n)
    out /= n
    return out


def _after(shape, axis):
    b = 1
    for s in shape[axis + 1 :]:
        b *= s
    return b


def max_axis(xp, x, axis, keepdims=False):
    """``x.max(axis=axis, keepdims=keepdims)``; the reduction must not be empty."""
    if xp is np and x.dtype.kind == "f" and x.size:
        return x.max(axis=axis, keepdims=keepdims, initial=-np.inf)
    return x.max(axis=axis, keepdims=keepdims)


def min_axis(xp, x, axis, keepdims=False):
    """``x.min(axis=axis, keepdims=keepdims)``; the reduction must not be empty."""
    if xp is np and x.dtype.kind == "f" and x.size:
        return x.min(axis=axis, keepdims=keepdims, initial=np.inf)
    return x.min(axis=axis, keepdims=keepdims)

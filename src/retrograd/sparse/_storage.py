"""The storage of a sparse COO tensor and the array routines on it.

A sparse tensor of dense shape ``size`` holds ``indices`` (int64, ``(sparse_dim, nnz)``) and
``values`` (``(nnz, *size[sparse_dim:])``): entry k says that the slice
``dense[indices[0, k], ..., indices[sparse_dim - 1, k]]`` *adds* ``values[k]``. Several entries
may name the same slice (the tensor is then *uncoalesced*, and the slice is their sum).

Row updates go through flat 1-D indices (``row * width + column``): NumPy's ``add.at`` is
several times faster with them than with 2-D row indices. Everything here works on arrays and
``_COO`` records (``t._data`` of a sparse tensor); nothing records autograd.
"""

import math

import numpy as np

from ..backend import array_module


class _COO:
    """The storage of a sparse tensor. It stands where a dense tensor keeps its array, and
    answers ``shape``/``dtype``/``ndim``/``size`` for the *dense* tensor it represents, which is
    what the autograd engine checks a gradient against.

    ``values`` may be held unmade as ``expand = (src, full)``: the values are then
    ``broadcast_to(src, full)`` with its leading dims flattened into the nnz dim, made (an owned
    array) on first use. An embedding's gradient coming from a mean or sum over the looked-up
    rows is such a broadcast; ``add_into`` adds it without ever making the values."""

    __slots__ = ("indices", "_values", "expand", "shape", "coalesced")
    base = None

    def __init__(self, indices, values, shape, coalesced, expand=None):
        self.indices = indices
        self._values = values
        self.expand = expand
        self.shape = shape
        self.coalesced = coalesced

    @property
    def values(self):
        if self._values is None:
            src, full = self.expand
            v = array_module(src).empty(full, src.dtype)
            v[...] = src
            self._values = v.reshape((-1,) + tuple(self.shape[self.indices.shape[0] :]))
            self.expand = None
        return self._values

    @values.setter
    def values(self, v):
        self._values, self.expand = v, None

    def _some_values(self):
        """The values, or their unmade source: for dtype and device only."""
        return self.expand[0] if self._values is None else self._values

    @property
    def dtype(self):
        return self._some_values().dtype

    @property
    def itemsize(self):
        return self._some_values().itemsize

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return math.prod(self.shape)

    # A dense op given a sparse tensor reaches its storage here: NumPy functions and array
    # methods it calls fail naming the op, instead of somewhere inside NumPy.
    def _refusal(self, name):
        return (
            f"{name}: not supported for sparse COO tensors (shape {list(self.shape)}, "
            f"nnz={self.indices.shape[1]}); call .to_dense() first"
        )

    def __getattr__(self, name):
        raise AttributeError(name if name.startswith("__") else self._refusal(name))

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise NotImplementedError(self._refusal(ufunc.__name__))

    def __array_function__(self, func, types, args, kwargs):
        raise NotImplementedError(self._refusal(func.__name__))

    def __array__(self, dtype=None, copy=None):
        raise TypeError(self._refusal("conversion to a dense array"))


# ---------------------------------------------------------------------- row helpers
def linear_rows(c):
    """The sparse index of every entry as one integer: its row in the (rows, *dense) view."""
    sd = c.indices.shape[0]
    if sd == 1:
        return c.indices[0]
    xp = array_module(c.indices)
    return xp.ravel_multi_index(tuple(c.indices), c.shape[:sd])


def flat_index(rows, width, xp=np):
    """``rows`` of a (R, width) array as indices into its flat view, one per element."""
    if width == 1:
        return rows
    return (rows[:, None] * width + xp.arange(width)).ravel()


def coalesced_rows(t):
    """``(rows, values)`` of a sparse tensor (or its ``_COO``) with duplicates summed: ``rows``
    sorted and unique (linear row numbers), ``values`` of shape ``(len(rows), *dense_shape)``."""
    c = t if type(t) is _COO else t._data
    rows = linear_rows(c)
    if c.coalesced:
        return rows, c.values
    xp = array_module(c.values)
    uniq, inv = xp.unique(rows, return_inverse=True)
    vals = c.values
    if uniq.shape[0] == rows.shape[0]:  # no duplicates: only a reorder
        out = xp.empty_like(vals)
        out[inv.ravel()] = vals
        return uniq, out
    out = xp.zeros((uniq.shape[0],) + vals.shape[1:], vals.dtype)
    width = math.prod(vals.shape[1:])
    xp.add.at(out.reshape(-1), flat_index(inv.ravel(), width, xp), vals.reshape(-1))
    return uniq, out


def rows_view(arr, sparse_dim):
    """``arr`` (dense, C-contiguous) seen as (rows, *dense_shape) for a ``sparse_dim``."""
    if sparse_dim == 1:
        return arr
    return arr.reshape((-1,) + arr.shape[sparse_dim:])


def add_into(dense, sparse, alpha=None):
    """``dense += alpha * sparse`` in place (``dense`` an array; ``sparse`` a sparse tensor or
    its ``_COO``), duplicate entries summed."""
    c = sparse if type(sparse) is _COO else sparse._data
    if c.indices.shape[1] == 0:
        return dense
    xp = array_module(dense)
    if not dense.flags.c_contiguous:  # rare: a strided view; index it dimension by dimension
        xp.add.at(dense, tuple(c.indices), _scaled(c.values, alpha, dense.dtype))
        return dense
    rows = linear_rows(c)
    view = rows_view(dense, c.indices.shape[0])
    t = xp.take(view, rows, axis=0)  # the rows' new values are made here, then scattered
    if c.expand is not None:  # unmade values: add their source, broadcast, without making them
        src, full = c.expand
        vals = xp.broadcast_to(_scaled(src, alpha, dense.dtype), full)
        tv = t.reshape(full)
        tv += vals
    else:
        vals = _scaled(c.values, alpha, dense.dtype)
        t += vals
    if not c.coalesced:
        _merge_repeats(t, rows, vals, view.shape[0])
    _scatter_rows(view, rows, t)
    return dense


def _merge_repeats(t, rows, vals, n_rows):
    """Complete ``t`` (``dense[rows] + vals``, one row per entry) for repeated rows: each copy of
    a row gets the row plus *all* its entries' values, so that a scatter of ``t`` writes the
    right total whichever copy lands last. ``vals`` is ``(nnz, *dense_shape)`` or a broadcast
    whose leading dims flatten to nnz.

    Repeats are found without sorting: every entry writes its position into a per-row scratch
    array, and the entry whose position survived stands for its row. The other entries (few, in
    embedding gradients) are added into it with ``add.at`` on flat indices."""
    xp = array_module(t)
    pos = xp.empty(n_rows, dtype=np.intp)  # only the rows written are ever read
    ar = xp.arange(rows.shape[0])
    pos[rows] = ar
    rep = pos[rows]  # each entry's representative
    other = xp.flatnonzero(rep != ar)
    if other.shape[0] == 0:
        return
    lead = vals.shape[: vals.ndim - (t.ndim - 1)]
    vo = vals[other] if len(lead) == 1 else vals[xp.unravel_index(other, lead)]
    target = rep[other]
    width = math.prod(t.shape[1:])
    xp.add.at(t.reshape(-1), flat_index(target, width, xp), vo.reshape(-1))
    t[other] = t[target]


def _scaled(vals, alpha, dtype):
    """``alpha * vals`` (``vals`` itself when alpha is None) as ``dtype``."""
    if alpha is None:
        return vals.astype(dtype, copy=False)
    return (vals * alpha).astype(dtype, copy=False)


def _scatter_rows(view, rows, t):
    """``view[rows] = t``; copies of a row in ``rows`` must carry equal values."""
    xp = array_module(view)
    if xp is np and view.ndim > 1 and t.size:
        # NumPy scatters whole rows seen as opaque items of one row's bytes about 1.6x faster
        # than rows of numbers (one copy per row, not per element)
        item = np.dtype((np.void, t[0].nbytes))
        view.reshape(view.shape[0], -1).view(item).reshape(-1).put(
            rows, t.reshape(t.shape[0], -1).view(item).reshape(-1)
        )
    else:
        view[rows] = t


def unique_rows(c):
    """The sorted unique linear rows of ``c`` (its coalesced pattern), without its values."""
    rows = linear_rows(c)
    return rows if c.coalesced else array_module(rows).unique(rows)


def rows_to_indices(rows, sparse_shape):
    """Linear rows as a ``(len(sparse_shape), n)`` int64 index array."""
    xp = array_module(rows)
    if len(sparse_shape) == 1:
        return rows[None].astype(np.int64, copy=False)
    return xp.stack(xp.unravel_index(rows, sparse_shape)).astype(np.int64, copy=False)


def owned(a, src):
    """``a``, copied if it is a view into ``src``'s memory: a kernel of compiled replays returns
    arrays of its own (the indices of a coalesced pattern are the input's own rows)."""
    return a.copy() if a.base is not None and array_module(a).may_share_memory(a, src) else a


def lookup(c, rows):
    """The values of ``c`` (a ``_COO``, duplicates summed) at linear ``rows`` of its sparse shape:
    an array ``(len(rows), *dense_shape)``, zero where ``c`` has no entry."""
    have, vals = coalesced_rows(c)
    xp = array_module(vals)
    out = xp.zeros((rows.shape[0],) + vals.shape[1:], vals.dtype)
    if have.shape[0] and rows.shape[0]:
        pos = xp.searchsorted(have, rows)
        pos_c = xp.minimum(pos, have.shape[0] - 1)
        hit = have[pos_c] == rows
        out[hit] = vals[pos_c[hit]]
    return out

"""Sparse-dense products and reductions: ``sparse.mm``/``torch.mm``/``@``, ``sparse.addmm``,
``sparse.sum``. Each records its backward (see ``_autograd``)."""

import numpy as np

from .._compile.state import not_replayable, recorded, sized_by_values
from .._tensor import Tensor
from ..backend import array_module
from ._autograd import record, saved
from ._ops import dense_array, times
from ._storage import _COO, add_into, linear_rows as linear_rows_of, lookup, rows_to_indices, rows_view, unique_rows
from ._tensor import SparseTensor


def _scatter_rows(rows, vals, n_rows):
    """A dense ``(n_rows, p)`` array with ``vals[k]`` added into row ``rows[k]``.

    Rows in order (a coalesced matrix's, in ``S @ d``) sum each run of equal rows as one segment
    of ``add.reduceat``, written to its row (a Cora-sized graph, 13.5k entries times 16 columns:
    1.7x faster than the scatter). Rows out of order (its columns, in ``S^T @ g``) are put in
    order first where they fit 16 bits, whose stable argsort is a radix sort (10x int64's; the
    whole product 1.2x faster than the scatter); others, and CuPy arrays, take the scatter of
    ``add_into``."""
    xp = array_module(vals)
    out = xp.zeros((n_rows,) + vals.shape[1:], vals.dtype)
    if xp is np and rows.shape[0] > 1:
        step = rows[1:] - rows[:-1]
        if (step < 0).any():
            if n_rows > 1 << 16:
                return add_into(out, _COO(rows[None], vals, out.shape, False))
            order = xp.argsort(rows.astype(xp.uint16), kind="stable")
            rows, vals = rows[order], vals[order]
            step = rows[1:] - rows[:-1]
        starts = xp.flatnonzero(xp.concatenate((xp.ones(1, bool), step != 0)))
        out[rows[starts]] = xp.add.reduceat(vals, starts, axis=0)
        return out
    return add_into(out, _COO(rows[None], vals, out.shape, False))


def _product(indices, vals, d, n, alpha, mat, beta):
    """``beta * mat + alpha * (S @ d)`` for the (n, m) sparse matrix S of ``indices``, ``vals``
    (``mat`` None: the product alone). A kernel of compiled replays."""
    out = _scatter_rows(indices[0], vals[:, None] * d[indices[1]], n)
    if alpha != 1:
        out *= alpha
    if mat is not None and beta != 0:
        out += mat if beta == 1 else beta * mat
    return out


def _transposed_product(indices, vals, g, m):
    """``S^T @ g`` for the sparse matrix S of ``indices``, ``vals`` with ``m`` columns."""
    return _scatter_rows(indices[1], vals[:, None] * g[indices[0]], m)


def _pattern_product(indices, coalesced, shape, g, d):
    """``g @ d^T`` at the entries of S's coalesced pattern: ``(indices, values)`` of the
    gradient of a sparse S in ``S @ d``, sorted by row."""
    c = _COO(indices, None, shape, coalesced)
    u = unique_rows(c)
    m = shape[1]
    r, k = u // m, u % m
    return rows_to_indices(u, shape), (g[r] * d[k]).sum(axis=1)


def _dense_product_t(g, d):
    """``g @ d^T``."""
    return g @ d.T


def mm(s, d, masked=True, mat=None, beta=1, alpha=1):
    """``s @ d`` for a 2-D sparse ``s`` (two sparse dims) and a 2-D dense ``d``: dense; with
    ``mat``, ``beta * mat + alpha * (s @ d)`` (addmm; ``mat`` broadcasts, and is ignored when
    ``beta`` is 0). The gradient of ``d`` is ``alpha * s^T @ g``; that of ``s`` is
    ``alpha * g @ d^T``, kept on ``s``'s pattern (sparse) when ``masked`` (``sparse.mm``,
    ``sparse.addmm``), else dense (``torch.mm``, as in PyTorch)."""
    name = "sparse.addmm" if mat is not None else "sparse.mm" if masked else "mm"
    if type(d) is SparseTensor:
        raise NotImplementedError(
            f"{name}: the product of two sparse tensors is not supported; make the second one dense with .to_dense()"
        )
    if type(s) is not SparseTensor or not isinstance(d, Tensor):
        raise TypeError(
            f"{name}: expected a sparse tensor and a dense tensor, got {type(s).__name__} and {type(d).__name__}"
        )
    c = s._data
    if c.indices.shape[0] != 2 or len(c.shape) != 2 or d._data.ndim != 2:
        raise RuntimeError(
            f"{name}: expected a 2-D sparse matrix (2 sparse dims, no dense dims) and "
            f"a 2-D dense matrix, got sparse shape {list(c.shape)} with "
            f"{c.indices.shape[0]} sparse dims and dense shape {list(d.shape)}"
        )
    n, m = c.shape
    p = d._data.shape[1]
    if d._data.shape[0] != m:
        raise RuntimeError(f"{name}: mat1 and mat2 shapes cannot be multiplied ({n}x{m} and {d._data.shape[0]}x{p})")
    if c.dtype != d._data.dtype or (mat is not None and mat._data.dtype != c.dtype):
        others = f"{s.dtype} and {d.dtype}" + ("" if mat is None else f" (self: {mat.dtype})")
        raise RuntimeError(f"{name}: expected mat1 and mat2 to have the same dtype, but got {others}")
    indices, vals = c.indices, c.values
    if mat is not None and beta != 0:
        try:
            fits = np.broadcast_shapes(mat._data.shape, (n, p)) == (n, p)
        except ValueError:
            fits = False
        if not fits:
            raise RuntimeError(
                f"{name}: self of shape {list(mat.shape)} cannot be broadcast to the product's shape {[n, p]}"
            )
    added = None if mat is None or beta == 0 else mat._data
    out = recorded(_product, indices, vals, d._data, n, alpha, added, beta, label=name)
    node = "MmBackward0" if not masked else "SparseAddmmBackward0"
    get_d = saved(d, node)

    def backward(g, needs):
        ga = dense_array(g)
        gmat = gs = gd = None
        if mat is not None and needs[2]:
            gmat = Tensor._make(recorded(times, ga, beta, label=f"{node} (self)"), None, False)
        if alpha != 1:
            ga = recorded(times, ga, alpha, label=f"{node} (alpha)")
        if needs[1]:
            gd = Tensor._make(recorded(_transposed_product, indices, vals, ga, m, label=node), None, False)
        if needs[0]:
            da = get_d()._data
            if masked:
                coalesced = c.coalesced
                gi, gv = recorded(_pattern_product, indices, coalesced, (n, m), ga, da, label=node, n_out=2)
                if not coalesced:  # the number of distinct entries depends on the indices
                    sized_by_values(gv, f"{node}: the distinct entries of an uncoalesced sparse matrix")
                gs = SparseTensor._from_parts(gi, gv, (n, m), True)
            else:
                gs = Tensor._make(recorded(_dense_product_t, ga, da, label=node), None, False)
        return (gs, gd) if mat is None else (gs, gd, gmat)

    inputs = (s, d) if mat is None else (s, d, mat)
    return record(node, Tensor._make(out, None, False), inputs, backward)


def sparse_mm(sparse, dense, reduce=None):
    """``torch.sparse.mm``: ``sparse @ dense``; the gradient of ``sparse`` is sparse, on its
    pattern."""
    if reduce is not None:
        raise NotImplementedError(f"sparse.mm: reduce={reduce!r} (a CSR-only option) is not supported")
    return mm(sparse, dense, masked=True)


def spmm(input, mat2):
    """``torch.spmm``: ``input @ mat2`` for a sparse ``input``, with ``torch.mm``'s gradients
    (dense)."""
    return mm(input, mat2, masked=False)


def addmm(mat, mat1, mat2, *, beta=1.0, alpha=1.0):
    """``torch.sparse.addmm``: ``beta * mat + alpha * (mat1 @ mat2)`` for sparse ``mat1``
    (``mat`` is ignored when ``beta`` is 0, as in PyTorch); ``mat1``'s gradient is sparse."""
    if not isinstance(mat, Tensor):
        raise TypeError(f"sparse.addmm: mat must be a dense tensor, got {type(mat).__name__}")
    return mm(mat1, mat2, masked=True, mat=mat, beta=beta, alpha=alpha)


def sum(input, dim=None, dtype=None):
    """``torch.sparse.sum``: the sum over ``dim`` (an int or a sequence; all dims when None).
    Summing every dim gives a 0-d dense tensor; summing every sparse dim a dense tensor of the
    remaining dense dims; otherwise a coalesced sparse tensor. The input's gradient is sparse,
    on its pattern."""
    not_replayable("sparse.sum (its arrays are computed outside recorded kernels)")
    if type(input) is not SparseTensor:
        raise RuntimeError(
            f"sparse.sum: expected a sparse tensor, got {type(input).__name__}; use Tensor.sum for dense tensors"
        )
    s = input if dtype is None else input.to(dtype)
    c = s._data
    nd, sd = len(c.shape), c.indices.shape[0]
    if dim is None:
        dims = list(range(nd))
    else:
        dims = [dim] if isinstance(dim, int) else list(dim)
        for i, d in enumerate(dims):
            if not -nd <= d < nd:
                raise IndexError(f"sparse.sum: dim {d} out of range for a tensor of {nd} dims")
            dims[i] = d % nd
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"sparse.sum: dim {list(dim)} appears more than once")
    keep = [d for d in range(sd) if d not in dims]
    dense_axes = tuple(d - sd + 1 for d in dims if d >= sd)
    vals = c.values.sum(axis=dense_axes) if dense_axes else c.values
    if not keep:
        out = Tensor._make(vals.sum(axis=0), None, False)
        kept_shape = None
    else:
        kept_shape = tuple(c.shape[d] for d in keep)
        red = SparseTensor._from_parts(c.indices[keep], vals, kept_shape + vals.shape[1:])
        out = red.coalesce() if red._data.indices.shape[1] > 1 else red
        out = SparseTensor._make(out._data, None, False)

    def backward(g, needs):
        u = unique_rows(c)
        xp = array_module(u)
        idx = rows_to_indices(u, c.shape[:sd])
        if kept_shape is None:
            gv = xp.broadcast_to(dense_array(g), (u.shape[0],) + vals.shape[1:])
        else:
            at = xp.ravel_multi_index(tuple(idx[keep]), kept_shape) if len(keep) > 1 else idx[keep[0]]
            if type(g) is SparseTensor:
                gv = lookup(g._data, at)
            else:
                gv = g._data.reshape((-1,) + g._data.shape[len(keep) :])[at]
        for a in dense_axes:
            gv = xp.expand_dims(gv, a)
        gv = xp.broadcast_to(gv, (u.shape[0],) + tuple(c.shape[sd:])).copy()
        return (SparseTensor._from_parts(idx, gv, c.shape, True),)

    return record("SumBackward0" if kept_shape is None else "SparseSumBackward0", out, (s,), backward)


def _groups(idx, shape, dim, sd):
    """For softmax over sparse ``dim``: each entry's group (entries that differ only in index
    ``dim``), as numbers ``0..n_groups-1``, and the number of groups."""
    xp = array_module(idx)
    other = [d for d in range(sd) if d != dim]
    if not other:
        return xp.zeros(idx.shape[1], np.int64), 1
    key = xp.ravel_multi_index(tuple(idx[other]), tuple(shape[d] for d in other))
    uniq, inv = xp.unique(key, return_inverse=True)
    return inv.reshape(-1), uniq.shape[0]


def _group_reduce(ufunc, vals, groups, n, init):
    xp = array_module(vals)
    out = xp.full((n,) + vals.shape[1:], init, vals.dtype)
    getattr(xp, ufunc).at(out, groups, vals)
    return out


def _softmax(input, dim, dtype, log):
    name = "log_softmax" if log else "softmax"
    not_replayable(f"sparse.{name} (its arrays are computed outside recorded kernels)")
    if type(input) is not SparseTensor:
        raise RuntimeError(f"sparse.{name}: expected a sparse tensor, got {type(input).__name__}")
    s = (input if dtype is None else input.to(dtype)).coalesce()
    c = s._data
    nd, sd = len(c.shape), c.indices.shape[0]
    if not -nd <= dim < nd:
        raise IndexError(f"sparse.{name}: dim {dim} out of range for a tensor of {nd} dims")
    dim %= nd
    if c.dtype.kind != "f":
        raise RuntimeError(f"sparse.{name}: expected a floating point tensor, got {s.dtype}")
    xp = array_module(c.values)
    v = c.values
    if dim >= sd:  # a dense dim: each entry on its own
        ax = dim - sd + 1
        z = v - v.max(axis=ax, keepdims=True)
        lse = xp.log(xp.exp(z).sum(axis=ax, keepdims=True))
        groups, n = None, 0
    else:
        groups, n = _groups(c.indices, c.shape, dim, sd)
        z = v - _group_reduce("maximum", v, groups, n, -np.inf)[groups] if v.shape[0] else v
        lse = xp.log(_group_reduce("add", xp.exp(z), groups, n, 0)[groups]) if v.shape[0] else z
    ls = z - lse
    out_vals = ls if log else xp.exp(ls)
    out = SparseTensor._from_parts(c.indices, out_vals, c.shape, True)

    def backward(g, needs):
        gv = (
            lookup(g._data, linear_rows_of(c)) if type(g) is SparseTensor else rows_view(g._data, sd)[linear_rows_of(c)]
        )
        y = out_vals
        if dim >= sd:
            ax = dim - sd + 1
            tot = (gv if log else gv * y).sum(axis=ax, keepdims=True)
        else:
            tot = _group_reduce("add", gv if log else gv * y, groups, n, 0)[groups]
        gx = gv - xp.exp(y) * tot if log else y * (gv - tot)
        return (SparseTensor._from_parts(c.indices, gx, c.shape, True),)

    return record("SparseLogSoftmaxBackward0" if log else "SparseSoftmaxBackward0", out, (s,), backward)


def softmax(input, dim, *, dtype=None):
    """``torch.sparse.softmax``: softmax over ``dim`` of the specified entries only (the
    unspecified ones count as -inf, so they stay unspecified). The result has the pattern of the
    coalesced input."""
    return _softmax(input, dim, dtype, log=False)


def log_softmax(input, dim, *, dtype=None):
    """``torch.sparse.log_softmax``: the log of ``softmax``, computed stably."""
    return _softmax(input, dim, dtype, log=True)

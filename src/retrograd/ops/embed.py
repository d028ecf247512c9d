"""Writing a tensor into a part of another, out of place: select_scatter, slice_scatter,
diagonal_scatter, and index_reduce.

``x_scatter(input, src, ...)`` is a copy of ``input`` whose part ``input.x(...)`` holds ``src``;
it is ``index_put`` with the part's index, so the gradient reaches ``input`` (zero on the
part) and ``src`` (the gradient's part).

index_reduce(input, dim, index, source, reduce) combines row i of ``source`` (along ``dim``)
into row index[i] of ``input`` with prod, mean, amax or amin: it is ``scatter_reduce`` with
the index repeated across the other dims, and has that op's gradient.
"""

import numpy as np

from .._tensor import Tensor, _wrap_dim
from .indexing import index_put, scatter_reduce
from ._declare import declare


def _check_part(part_shape, src, name):
    if tuple(src._data.shape) != tuple(part_shape):
        raise RuntimeError(
            f"{name}: expected src to have a size equal to the slice of self. src size = "
            f"{list(src._data.shape)}, slice size = {list(part_shape)}"
        )


def _src_like(input, src, name):
    if not isinstance(src, Tensor):
        raise TypeError(f"{name}(): argument 'src' must be Tensor, not {type(src).__name__}")
    return src if src._data.dtype == input._data.dtype else src.to(input.dtype)


def select_scatter(input, src, dim, index):
    """A copy of ``input`` with ``input.select(dim, index)`` replaced by ``src``."""
    src = _src_like(input, src, "select_scatter")
    d = _wrap_dim(dim, input._data.ndim, "select_scatter")
    size = input._data.shape[d]
    if not -size <= index < size:
        raise IndexError(
            f"select_scatter(): index {index} out of range for tensor of size "
            f"{list(input._data.shape)} at dimension {d}"
        )
    key = (slice(None),) * d + (int(index) % size,)
    _check_part(input._data[key].shape, src, "select_scatter")
    return index_put(input, key, src)


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """A copy of ``input`` with ``input[..., start:end:step, ...]`` (along ``dim``) replaced by ``src``."""
    src = _src_like(input, src, "slice_scatter")
    d = _wrap_dim(dim, input._data.ndim, "slice_scatter")
    if step <= 0:
        raise RuntimeError(f"slice_scatter: slice step must be positive (got {step})")
    key = (slice(None),) * d + (slice(start, end, step),)
    _check_part(input._data[key].shape, src, "slice_scatter")
    return index_put(input, key, src)


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """A copy of ``input`` with ``input.diagonal(offset, dim1, dim2)`` replaced by ``src`` (whose
    last dim runs along the diagonal)."""
    src = _src_like(input, src, "diagonal_scatter")
    nd = input._data.ndim
    d1 = _wrap_dim(dim1, nd, "diagonal_scatter")
    d2 = _wrap_dim(dim2, nd, "diagonal_scatter")
    if d1 == d2:
        raise RuntimeError(f"diagonal_scatter: dim1 and dim2 cannot be the same dimension (got {d1})")
    _check_part(input.diagonal(offset, d1, d2)._data.shape, src, "diagonal_scatter")
    # the two dims last, then the diagonal's (row, col) pairs as one advanced index at the end
    rest = [i for i in range(nd) if i not in (d1, d2)]
    perm = rest + [d1, d2]
    moved = input.permute(perm)
    n = src._data.shape[-1] if src._data.ndim else 0
    r = np.arange(n) + max(-offset, 0)
    c = np.arange(n) + max(offset, 0)
    out = index_put(moved, (Ellipsis, r, c), src)
    inverse = [0] * nd
    for i, p in enumerate(perm):
        inverse[p] = i
    return out.permute(inverse)


_INDEX_REDUCTIONS = ("prod", "mean", "amax", "amin")


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """Combine row i of ``source`` along ``dim`` into row ``index[i]`` of ``input`` with
    ``reduce`` ('prod', 'mean', 'amax' or 'amin'); ``include_self`` counts input's own values."""
    if reduce not in _INDEX_REDUCTIONS:
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    nd = input._data.ndim
    d = _wrap_dim(dim, nd, "index_reduce")
    if index._data.ndim > 1:
        raise RuntimeError(f"index_reduce_(): Index is supposed to be a vector (got shape {list(index._data.shape)})")
    if index._data.dtype.kind not in "iu":
        raise RuntimeError(f"index_reduce_(): Expected a long or int tensor for index, but got {index.dtype}")
    n = index._data.reshape(-1).shape[0]
    src_d = source._data.shape[d] if source._data.ndim else 1
    if src_d != n:
        raise RuntimeError(
            f"index_reduce_(): Index should have dimension 1 or the same number of elements "
            f"as the dimension being reduced (index has {n}, source has {src_d} along dim {d})"
        )
    expected = input._data.shape[:d] + (n,) + input._data.shape[d + 1 :]
    if source._data.shape != expected and nd:
        raise RuntimeError(
            f"index_reduce_(): Source/destination tensor must have the same shape apart from "
            f"dim {d}: source {list(source._data.shape)}, destination {list(input._data.shape)}"
        )
    if nd == 0:
        return scatter_reduce(input, 0, index.reshape(()), source, reduce, include_self=include_self)
    idx = index.reshape((1,) * d + (-1,) + (1,) * (nd - d - 1)).expand(source._data.shape).contiguous()
    return scatter_reduce(input, d, idx, source, reduce, include_self=include_self)


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(select_scatter, method=True)
declare(slice_scatter, method=True, out=True)
declare(diagonal_scatter, method=True)
declare(index_reduce, method=True, inplace=True)

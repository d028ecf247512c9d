"""Indexing: ``x[index]`` (basic and advanced), gather, scatter_add, index_select.

A basic index (ints, slices, None, Ellipsis) gives a view. An advanced index (integer or bool
tensors/arrays/lists) gives a copy. The backward of both scatters the gradient into zeros of
the input's shape, accumulating at repeated indices.
"""
import numpy as np

from .._tensor import Tensor, _wrap_dim
from ._registry import Op, apply


def _convert_index(index):
    """Turn Tensors and lists inside ``index`` into arrays; report whether it is basic."""
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    basic = True
    for i in index:
        if isinstance(i, Tensor):
            a = i._data
            if a.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            if a.ndim == 0 and a.dtype.kind in "iu":
                out.append(int(a))
                continue
            out.append(a)
            basic = False
        elif isinstance(i, (list, np.ndarray)):
            a = np.asarray(i)
            if a.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(a)
            basic = False
        elif i is None or i is Ellipsis or isinstance(i, slice):
            out.append(i)
        elif isinstance(i, (bool, np.bool_)):
            out.append(bool(i))
            basic = False
        else:
            try:
                out.append(int(i.__index__()))
            except AttributeError:
                raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long or "
                                 f"byte Variables are valid indices (got {type(i).__name__})") from None
    return tuple(out), basic


def _getitem_vjp(g, index, shape):
    return index_put_zeros(g, index, shape)


GETITEM_VIEW = Op("getitem", lambda xp, x, index, shape: x[index], _getitem_vjp,
                  node_name="SliceBackward0", is_view=True)
GETITEM = Op("index", lambda xp, x, index, shape: x[index], _getitem_vjp, node_name="IndexBackward0")


def getitem(input, index):
    idx, basic = _convert_index(index)
    shape = input._data.shape
    try:
        return apply(GETITEM_VIEW if basic else GETITEM, (input,), (idx, shape))
    except IndexError as e:
        raise IndexError(f"{e} (indexing a tensor of shape {list(shape)})") from None


def _index_put_zeros(xp, g, index, shape):
    out = xp.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        out[index] += g
    else:
        xp.add.at(out, index, g)
    return out


def _is_basic(index):
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice)) for i in index)


INDEX_PUT_ZEROS = Op("index_backward", _index_put_zeros,
                     lambda g, index, shape: getitem(g, index), node_name="IndexBackwardBackward0")


def index_put_zeros(values, index, shape):
    """zeros(shape) with ``values`` added at ``index`` (repeated indices accumulate)."""
    return apply(INDEX_PUT_ZEROS, (values,), (index, shape))


# --------------------------------------------------------------------------- gather / scatter_add
def _along_grid(index, dim):
    """The full index tuple that addresses ``x[..., index[...], ...]`` along ``dim``."""
    grid = list(np.indices(index.shape, sparse=True))
    grid[dim] = index
    return tuple(grid)


def _check_index_tensor(index, input, op):
    if not isinstance(index, Tensor) or index._data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int64 for index")
    if index._data.ndim != input._data.ndim and not (index._data.ndim <= 1 and input._data.ndim <= 1):
        raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as input "
                           f"tensor (index shape {list(index._data.shape)}, input shape "
                           f"{list(input._data.shape)})")


def gather(input, dim, index, *, sparse_grad=False, out=None):
    """out[i][j] = input[i][index[i][j]] (for dim=1), and so on for other dims."""
    _check_index_tensor(index, input, "gather")
    d = _wrap_dim(dim, input._data.ndim, "gather")
    idx = index._data
    size = input._data.shape[d] if input._data.ndim else 1
    if idx.size and (idx.min() < -size or idx.max() >= size):
        raise RuntimeError(f"gather(): index {int(idx.max())} is out of bounds for dimension {d} with "
                           f"size {size}")
    return apply(GATHER_OP, (input,), (idx, d, index, input._data.shape))


def _gather_fwd(xp, x, idx, dim, index_t, in_shape):
    if x.ndim == 0:
        return x[()] if idx.ndim == 0 else x.reshape(1)[idx]
    return x[_along_grid(idx, dim)]


def _gather_op_vjp(g, idx, dim, index_t, in_shape):
    from .._creation import zeros
    return scatter_add(zeros(in_shape, dtype=g.dtype, device=g.device), dim, index_t, g)


GATHER_OP = Op("gather", _gather_fwd, _gather_op_vjp)


def _scatter_add_fwd(xp, x, src, idx, dim):
    out = x.copy()
    xp.add.at(out, _along_grid(idx, dim), src[tuple(slice(0, n) for n in idx.shape)])
    return out


def scatter_add(input, dim, index, src):
    """out = input.clone(); out[i][index[i][j]] += src[i][j] (for dim=1), repeated indices add."""
    _check_index_tensor(index, input, "scatter_add")
    d = _wrap_dim(dim, input._data.ndim, "scatter_add")
    return apply(SCATTER_ADD, (input, src), (index._data, d, index))


def _scatter_add_fwd2(xp, x, src, idx, dim, index_t):
    return _scatter_add_fwd(xp, x, src, idx, dim)



def _scatter_add_vjp2(g, needs, idx, dim, index_t):
    # d/d input: identity; d/d src: gather the gradient at the scattered positions
    return (g if needs[0] else None), (gather(g, dim, index_t) if needs[1] else None)


SCATTER_ADD = Op("scatter_add", _scatter_add_fwd2, _scatter_add_vjp2, needs=True)


def index_select(input, dim, index):
    """Rows (along ``dim``) picked by the 1-D integer ``index``."""
    d = _wrap_dim(dim, input._data.ndim, "index_select")
    if index._data.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    return getitem(input, (slice(None),) * d + (index._data.reshape(-1),))


def nonzero(input, *, as_tuple=False):
    idx = np.nonzero(np.asarray(input._data) if input._data.ndim else np.asarray(input._data).reshape(1))
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64), None, False) for i in idx)
    return Tensor._make(np.stack(idx, axis=1).astype(np.int64) if idx else np.zeros((0, 0), np.int64),
                        None, False)


# --------------------------------------------------------------------------- index_put (setitem)
def _index_put(xp, x, v, index, accumulate):
    out = x.copy()
    if accumulate:
        xp.add.at(out, index, v)
    else:
        out[index] = v
    return out


def _index_put_vjp(g, needs, index, accumulate):
    # d/dx: g with the overwritten positions zeroed (kept when accumulating);
    # d/dv: the gradient at the written positions (the engine sums it to v's shape)
    gx = gv = None
    if needs[0]:
        gx = g if accumulate else index_put(g, index, 0.0)
    if needs[1]:
        gv = getitem(g, index)
    return gx, gv


INDEX_PUT = Op("index_put", _index_put, _index_put_vjp, needs=True)


def index_put(input, indices, values, accumulate=False):
    """Out of place: a copy of ``input`` with ``values`` written (or added) at ``indices``."""
    from .elementwise import _like_scalar
    idx, _ = _convert_index(indices)
    if not isinstance(values, Tensor):
        values = _like_scalar(input, values)
    elif values._data.dtype != input._data.dtype:
        values = values.to(input._data.dtype)
    return apply(INDEX_PUT, (input, values), (idx, accumulate))


def index_put_(input, indices, values, accumulate=False):
    from .inplace import apply_inplace
    return apply_inplace(input, "index_put", index_put, indices, values, accumulate)

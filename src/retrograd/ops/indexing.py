"""Indexing: ``x[index]`` and ``x[index] = v``, gather/scatter, index_* ops, masks, diagonals.

A basic index (ints, slices, None, Ellipsis) gives a view. An advanced index (integer or bool
tensors/arrays/lists) gives a copy. The backward of both scatters the gradient into zeros of
the input's shape, accumulating at repeated indices.

PyTorch applies integer indices before advanced ones (``x[0, :, [0, 1]]`` has shape (4, 2) for
x of shape (3, 4, 5)), where NumPy counts them as advanced and moves the result dims to the
front ((2, 4)). A prepared index (``_Key``) therefore holds two steps: ``pre``, a basic index
with the ints, applied first, then ``adv``, the rest.

gather/scatter along ``dim`` (dim=1 shown):
    gather:  out[i][j] = x[i][index[i][j]]
    scatter: out = x; out[i][index[i][j]] = src[i][j]           (scatter_add: +=)
Their gradients are each other: d gather = scatter_add of g, d scatter_add/src = gather of g.
"""

import builtins
from collections import namedtuple

import numpy as np

from ..autograd._vmap_state import _vm, guard as vmap_guard
from .._compile.state import constant_index, recorded, recorded_check, reads_values, sized_by_values
from .._tensor import Tensor, _wrap_dim
from ..backend import array_module, to_numpy
from ..backend.meta import MetaArray
from ._registry import Op, apply
from ._declare import declare
from .._autocast import FLOAT32, ACTIVE as _AMP, _amp, autocast_call
from ._registry import LINEAR

_Key = namedtuple("_Key", ["pre", "adv", "basic"])


# --------------------------------------------------------------------------- index preparation
def _convert_index(index):
    """Turn Tensors and lists inside ``index`` into arrays; report whether it is basic."""
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    basic = True
    for i in index:
        if isinstance(i, Tensor):
            a = i._data
            if a.dtype.kind in "fV":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            if a.dtype.kind == "b" and type(a) is MetaArray:
                _meta_mask(a)
            if a.ndim == 0 and a.dtype.kind in "iu":
                out.append(i.__index__())  # a graph break while a compiled function records
                continue
            out.append(a)
            basic = False
        elif isinstance(i, (list, range, np.ndarray)) or (hasattr(i, "__cuda_array_interface__") and i.ndim):
            a = i if hasattr(i, "__cuda_array_interface__") else np.asarray(i)
            if a.size == 0 and a.dtype.kind not in "iub":
                a = a.astype(np.int64)  # x[[]] selects nothing
            elif a.dtype.kind not in "iub":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(a if i is a else constant_index(a))
            basic = False
        elif i is None or i is Ellipsis:
            out.append(i)
        elif isinstance(i, slice):
            if i.step is not None and not hasattr(i.step, "__index__"):
                raise TypeError("slice indices must be integers or None or have an __index__ method")
            step = None if i.step is None else i.step.__index__()
            if step == 0:
                raise ValueError(f"slice step cannot be zero (got the slice {i})")
            if step is not None and step < 0:  # NumPy would reverse; PyTorch refuses
                raise ValueError(f"step must be greater than zero (got the slice {i}; use flip to reverse)")
            out.append(i)
        elif isinstance(i, (bool, np.bool_)):
            out.append(bool(i))
            basic = False
        elif type(i) is MetaArray:  # a mask array made from a meta tensor (masked_select)
            if i.dtype.kind == "b":
                _meta_mask(i)
            out.append(i)
            basic = False
        else:
            try:
                out.append(int(i.__index__()))
            except AttributeError:
                raise IndexError(
                    f"only integers, slices (`:`), ellipsis (`...`), None and long or "
                    f"byte Variables are valid indices (got {type(i).__name__})"
                ) from None
    return tuple(out), basic


def _meta_mask(a):
    raise NotImplementedError(
        f"indexing with a boolean mask of shape {list(a.shape)} on the meta device: the result's "
        f"shape depends on the mask's values, which a meta tensor does not have"
    )


def _prepare(index):
    """The two-step ``_Key`` for a user index (ints first, as PyTorch does; see module doc)."""
    if isinstance(index, _Key):
        return index
    idx, basic = _convert_index(index)
    if basic or not any(type(i) is int for i in idx):
        return _Key(None, idx, basic)
    pre, adv = [], []
    for i in idx:
        if i is None:
            pre.append(None)
            adv.append(slice(None))
        elif i is Ellipsis:
            pre.append(i)
            adv.append(i)
        elif isinstance(i, bool):
            adv.append(i)
        elif isinstance(i, int):
            pre.append(i)
        elif isinstance(i, slice):
            pre.append(i)
            adv.append(slice(None))
        else:
            pre.extend([slice(None)] * (i.ndim if i.dtype.kind == "b" else 1))
            adv.append(i)
    return _Key(tuple(pre), tuple(adv), False)


def _adv_on(xp, key):
    """The advanced index arrays of ``key`` on xp's device (lists arrive as NumPy arrays)."""
    if xp is np or key.basic:
        return key.adv
    return tuple(xp.asarray(i) if isinstance(i, np.ndarray) else i for i in key.adv)


def _take_key(xp, a, key):
    """``a[key]`` on a raw array (a view when the key is basic)."""
    if key.pre is not None:
        a = a[key.pre]
    return a[_adv_on(xp, key)]


def _put_key(xp, out, key, v, accumulate):
    """Write (or add, accumulating at repeated indices) ``v`` at ``key`` into ``out``."""
    view = out[key.pre] if key.pre is not None else out
    adv = _adv_on(xp, key)
    if accumulate and not key.basic:
        xp.add.at(view, adv, v)
    elif accumulate:
        view[adv] += v
    else:
        view[adv] = v


# --------------------------------------------------------------------------- getitem
def _getitem_vjp(g, key, shape):
    return index_put_zeros(g, key, shape)


def _take(xp, x, key, shape):
    return _take_key(xp, x, key)


def _take_copy(xp, x, key, shape):
    """An advanced index's result (a new array), row-major when the input is, as PyTorch's:
    NumPy lays out ``a[:, :, idx]`` with the indexed dim outermost in memory, so ``view`` on
    it (and on what pad and interpolate build with it) failed."""
    out = _take_key(xp, x, key)
    if x.flags.c_contiguous and not out.flags.c_contiguous:
        out = xp.ascontiguousarray(out)
    return out


def _basic_node_name(args):
    """The name PyTorch gives the node of a basic index inside a tuple (x[:, 0], x[None], x[...]):
    that of the last view it applies. A slice over a whole dim is skipped, and an index that
    applies nothing is an alias."""
    key, shape = args
    name = "AliasBackward0"
    d, rest = 0, len(shape) - sum(1 for i in key.adv if i is not None and i is not Ellipsis)
    for i in key.adv:
        if i is Ellipsis:
            d += rest
        elif i is None:
            name = "UnsqueezeBackward0"
        elif isinstance(i, slice):
            if d >= len(shape) or i.indices(shape[d]) != (0, shape[d], 1):
                name = "SliceBackward0"
            d += 1
        else:
            name = "SelectBackward0"
            d += 1
    return name


# A basic index is one op whatever it does. A lone slice (x[1:], x[:]) is always PyTorch's
# SliceBackward0; any other basic index names its node by _basic_node_name, computed only when
# the name is read.
GETITEM_VIEW = Op("getitem", _take, _getitem_vjp, jvp=LINEAR, node_name="SliceBackward0", is_view=True)
GETITEM_BASIC = Op("getitem", _take, _getitem_vjp, jvp=LINEAR, is_view=True, namer=_basic_node_name)
GETITEM = Op("index", _take_copy, _getitem_vjp, jvp=LINEAR, node_name="IndexBackward0")
GETITEM_OPS = (GETITEM_VIEW, GETITEM_BASIC, GETITEM)


def _index(input, key, index=None):
    op = GETITEM if not key.basic else GETITEM_VIEW if type(index) is slice else GETITEM_BASIC
    return apply(op, (input,), (key, input._data.shape))


def getitem(input, index):
    """``input[index]``: a view for basic indices, a copy for advanced ones."""
    if _vm.active:
        vmap_guard(*(index if isinstance(index, tuple) else (index,)))  # a batched index: once per example
    key = _prepare(index)
    try:
        out = _index(input, key, index)
    except IndexError as e:
        raise IndexError(f"{e} (indexing a tensor of shape {list(input._data.shape)})") from None
    if not key.basic and any(getattr(i, "dtype", None) == np.bool_ for i in key.adv):
        sized_by_values(out._data, "the result of a boolean mask index, sized by its True values")
    return out


def _index_put_zeros(xp, g, key, shape):
    out = xp.zeros(shape, dtype=g.dtype)
    _put_key(xp, out, key, g, True)
    return out


INDEX_PUT_ZEROS = Op(
    "index_backward",
    _index_put_zeros,
    lambda g, key, shape: _index(g, key),
    jvp=LINEAR,
    node_name="IndexBackwardBackward0",
)


def index_put_zeros(values, index, shape):
    """zeros(shape) with ``values`` added at ``index`` (repeated indices accumulate)."""
    return apply(INDEX_PUT_ZEROS, (values,), (_prepare(index), tuple(shape)))


# --------------------------------------------------------------------------- index_put (setitem)
def _index_put(xp, x, v, key, accumulate):
    out = x.copy()
    _put_key(xp, out, key, v, accumulate)
    return out


def _index_put_vjp(g, needs, key, accumulate):
    # d/dx: g with the overwritten positions zeroed (kept when accumulating);
    # d/dv: the gradient at the written positions (the engine sums it to v's shape)
    gx = gv = None
    if needs[0]:
        gx = g if accumulate else index_put(g, key, 0.0)
    if needs[1]:
        gv = _index(g, key)
    return gx, gv


INDEX_PUT = Op("index_put", _index_put, _index_put_vjp, jvp=LINEAR, needs=True)


def _value_like(input, value):
    """``value`` (a number or Tensor) as a Tensor of ``input``'s dtype."""
    from .elementwise import _like_scalar

    if not isinstance(value, Tensor):
        return _like_scalar(input, value)
    if value._data.dtype != input._data.dtype:
        return value.to(input._data.dtype)
    return value


def index_put(input, indices, values, accumulate=False):
    """Out of place: a copy of ``input`` with ``values`` written (or added) at ``indices``."""
    key = _prepare(indices)
    values = _value_like(input, values)
    try:
        return apply(INDEX_PUT, (input, values), (key, accumulate))
    except (IndexError, ValueError) as e:
        exc = IndexError if isinstance(e, IndexError) else RuntimeError
        raise exc(
            f"index_put: {e} (tensor of shape {list(input._data.shape)}, values of shape {list(values._data.shape)})"
        ) from None


def index_put_(input, indices, values, accumulate=False):
    from ._inplace import apply_inplace

    return apply_inplace(input, "index_put", index_put, indices, values, accumulate)


# --------------------------------------------------------------------------- checks
def _check_bounds(idx, size, op, dim, shape, negative=False, exc=RuntimeError):
    """Raise ``exc`` naming the op and the shape when an index is outside ``[0, size)``
    (``[-size, size)`` when ``negative``)."""
    recorded_check(_bounds_check, idx, size, op, dim, tuple(shape), negative, exc, label=op + "_bounds")


def _bounds_check(idx, size, op, dim, shape, negative, exc):
    if idx.size == 0:
        return
    lo, hi = int(idx.min()), int(idx.max())
    bad = lo if lo < (-size if negative else 0) else hi if hi >= size else None
    if bad is not None:
        raise exc(
            f"{op}(): index {bad} is out of bounds for dimension {dim} with size {size} (input shape {list(shape)})"
        )


def _check_long(index, op):
    if not isinstance(index, Tensor) or index._data.dtype.kind not in "iu":
        got = index.dtype if isinstance(index, Tensor) else type(index).__name__
        raise RuntimeError(f"{op}(): Expected dtype int64 for index (got {got})")


def _dim_index(input, dim, index, op, exc=IndexError, negative=False):
    """Checks for the index_* ops (1-D index along ``dim``); returns (dim, index array)."""
    _check_long(index, op)
    if index._data.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector (got shape {list(index._data.shape)})")
    shape = input._data.shape
    d = _wrap_dim(dim, len(shape), op)
    idx = index._data.reshape(-1)
    _check_bounds(idx, shape[d] if shape else 1, op, d, shape, negative, exc)
    return d, idx


def _dim_key(d, idx):
    return _Key(None, (slice(None),) * d + (idx,), False)


# --------------------------------------------------------------------------- gather / scatter
def _grid(xp, idx, dim):
    """The full index tuple that addresses ``x[..., idx[...], ...]`` along ``dim``."""
    nd = idx.ndim
    grid = []
    for k, n in enumerate(idx.shape):
        grid.append(idx if k == dim else xp.arange(n).reshape((1,) * k + (n,) + (1,) * (nd - k - 1)))
    return tuple(grid)


def _along(input, dim, index, op, src=None):
    """Checks for gather/scatter: same ndim, index no larger than input (and src), bounds.
    Returns (dim, index array)."""
    _check_long(index, op)
    shape, ishape = input._data.shape, index._data.shape
    if len(ishape) != len(shape):
        raise RuntimeError(
            f"{op}(): Index tensor must have the same number of dimensions as input "
            f"tensor (index shape {list(ishape)}, input shape {list(shape)})"
        )
    d = _wrap_dim(dim, len(shape), op)
    for k, (n, m) in enumerate(zip(ishape, shape)):
        if k != d and n > m:
            raise RuntimeError(
                f"{op}(): Expected index {list(ishape)} to be no larger than self "
                f"{list(shape)} apart from dimension {d}"
            )
    if isinstance(src, Tensor):
        sshape = src._data.shape
        if len(sshape) != len(ishape) or any(n > m for n, m in zip(ishape, sshape)):
            raise RuntimeError(f"{op}(): Expected index {list(ishape)} to be no larger than src {list(sshape)}")
    idx = index._data
    _check_bounds(idx, shape[d], op, d, shape)
    return d, idx


def _zero_dim(fn, input, dim, index, *rest, **kwargs):
    """Run a gather/scatter ``fn`` on 0-d or mixed 0-d/1-d operands as 1-d ones."""

    def one(t):
        return t.reshape(1) if isinstance(t, Tensor) and t._data.ndim == 0 else t

    out = fn(one(input), dim, one(index), *[one(r) for r in rest], **kwargs)
    target = index if fn is gather else input
    return out.reshape(target._data.shape)


def _needs_1d(input, index):
    return (
        isinstance(index, Tensor)
        and (input._data.ndim == 0 or index._data.ndim == 0)
        and input._data.ndim <= 1
        and index._data.ndim <= 1
    )


def _gather_fwd(xp, x, idx, dim, index_t, in_shape):
    return x[_grid(xp, idx, dim)]


def _gather_vjp(g, idx, dim, index_t, in_shape):
    from .._creation import zeros

    return scatter_add(zeros(in_shape, dtype=g.dtype, device=g.device), dim, index_t, g)


GATHER = Op("gather", _gather_fwd, _gather_vjp, jvp=LINEAR)


def gather(input, dim, index, *, sparse_grad=False):
    """out[i][j] = input[i][index[i][j]] (for dim=1), and so on for other dims."""
    if _needs_1d(input, index):
        return _zero_dim(gather, input, dim, index)
    d, idx = _along(input, dim, index, "gather")
    return apply(GATHER, (input,), (idx, d, index, input._data.shape))


def _src_part(src, idx):
    """The leading ``idx.shape`` block of src (src may be larger than the index)."""
    return src[tuple(slice(0, n) for n in idx.shape)]


def _pad_to(g, shape):
    """``g`` in the leading block of zeros(shape) (the gradient of ``_src_part``)."""
    if tuple(g._data.shape) == tuple(shape):
        return g
    return index_put_zeros(g, tuple(slice(0, n) for n in g._data.shape), shape)


def _scatter_add_fwd(xp, x, src, idx, dim, index_t, src_shape):
    out = x.copy()
    xp.add.at(out, _grid(xp, idx, dim), _src_part(src, idx))
    return out


def _scatter_add_vjp(g, needs, idx, dim, index_t, src_shape):
    # d/d input: identity; d/d src: the gradient gathered at the scattered positions
    return (g if needs[0] else None), (_pad_to(gather(g, dim, index_t), src_shape) if needs[1] else None)


SCATTER_ADD = Op("scatter_add", _scatter_add_fwd, _scatter_add_vjp, jvp=LINEAR, needs=True)


def scatter_add(input, dim, index, src):
    """out = input.clone(); out[i][index[i][j]] += src[i][j] (for dim=1), repeated indices add."""
    if _needs_1d(input, index):
        return _zero_dim(scatter_add, input, dim, index, src)
    d, idx = _along(input, dim, index, "scatter_add", src)
    src = _value_like(input, src)
    return apply(SCATTER_ADD, (input, src), (idx, d, index, src._data.shape))


def _scatter_fwd(xp, x, src, idx, dim, index_t, src_shape):
    out = x.copy()
    out[_grid(xp, idx, dim)] = _src_part(src, idx) if src_shape is not None else src
    return out


def _scatter_vjp(g, needs, idx, dim, index_t, src_shape):
    # written positions take src, so their gradient goes to src and not to input
    gx = scatter(g, dim, index_t, 0.0) if needs[0] else None
    gs = _pad_to(gather(g, dim, index_t), src_shape) if needs[1] else None
    return gx, gs


SCATTER = Op("scatter", _scatter_fwd, _scatter_vjp, jvp=LINEAR, needs=True)

_REDUCE_ALIASES = {"add": "sum", "multiply": "prod"}


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """out = input.clone(); out[i][index[i][j]] = src[i][j] (for dim=1), or the scalar ``value``.

    With ``reduce='add'`` or ``'multiply'`` the written values are combined with the old ones."""
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter() missing required argument 'src' or 'value'")
    if reduce is not None:
        if reduce not in _REDUCE_ALIASES:
            raise RuntimeError(f"scatter(): reduce argument must be either add or multiply (got {reduce!r})")
        if not isinstance(src, Tensor):
            from .._creation import full

            src = full(index._data.shape, src, dtype=input.dtype, device=input.device)
        return scatter_reduce(input, dim, index, src, _REDUCE_ALIASES[reduce])
    if _needs_1d(input, index):
        return _zero_dim(scatter, input, dim, index, src)
    d, idx = _along(input, dim, index, "scatter", src)
    if isinstance(src, Tensor):
        src = _value_like(input, src)
        return apply(SCATTER, (input, src), (idx, d, index, src._data.shape))
    src = _value_like(input, src)
    if src._data.ndim:
        raise RuntimeError("scatter(): value must be a number or a 0-dim tensor")
    return apply(SCATTER, (input, src), (idx, d, index, None))


def _scatter_reduce_fwd(xp, x, src, idx, dim, reduce, include_self, index_t, src_shape):
    out = x.copy()
    grid = _grid(xp, idx, dim)
    s = _src_part(src, idx)
    if reduce in ("sum", "mean"):
        ufunc, ident = "add", 0
    elif reduce == "prod":
        ufunc, ident = "multiply", 1
    elif reduce == "amax":
        ufunc = "maximum"
        ident = -xp.inf if x.dtype.kind in "fV" else np.iinfo(x.dtype).min if x.dtype.kind in "iu" else False
    else:
        ufunc = "minimum"
        ident = xp.inf if x.dtype.kind in "fV" else np.iinfo(x.dtype).max if x.dtype.kind in "iu" else True
    if not include_self:
        out[grid] = ident
    _ufunc_at(xp, ufunc, out, grid, s)
    if reduce == "mean":
        count = xp.zeros(x.shape, dtype=x.dtype)
        xp.add.at(count, grid, 1)
        if include_self:
            count += 1
        count = xp.maximum(count, 1)
        out = out / count if x.dtype.kind in "fV" else out // count
    return out


def _ufunc_at(xp, name, out, index, values):
    """``xp.<name>.at(out, index, values)``. On CuPy only add.at runs on the device: it has no
    multiply.at, and its maximum.at/minimum.at round float64 values, so the winners could
    no longer be found by equality in the backward."""
    if xp is np or name == "add":
        getattr(xp, name).at(out, index, values)
    else:
        host = to_numpy(out)
        getattr(np, name).at(host, tuple(to_numpy(i) for i in index), to_numpy(values))
        out[...] = xp.asarray(host)


def _scatter_reduce_vjp(g, needs, x, src, out, idx, dim, reduce, include_self, index_t, src_shape):
    from .elementwise import where
    from .._creation import zeros

    s = _src_part(src, idx) if src._data.shape != idx.shape else src

    def scattered_zero(t):
        return t if include_self else scatter(t, dim, index_t, 0.0)

    if reduce in ("sum", "mean"):
        if reduce == "mean":
            ones = zeros(idx.shape, dtype=g.dtype, device=g.device) + 1
            count = scatter_add(
                zeros(x._data.shape, dtype=g.dtype, device=g.device) + int(include_self), dim, index_t, ones
            )
            g = g / where(count == 0, 1.0, count)
        gx = scattered_zero(g)
        gs = gather(g, dim, index_t)
    elif reduce in ("amax", "amin"):
        # ties share the gradient equally, as in PyTorch
        mask_x = scattered_zero((x == out).to(g.dtype))
        mask_s = (s == gather(out, dim, index_t)).to(g.dtype)
        count = scatter_add(mask_x, dim, index_t, mask_s)
        g = g / count
        gx = g * mask_x
        gs = gather(g, dim, index_t) * mask_s
    else:
        # d out / d e = product of the others in e's group: P / e with no zeros; where e is the
        # only zero of its group, the product P of the non-zero ones; else 0
        x_eff = x if include_self else scatter(x, dim, index_t, 1.0)
        zx, zs = x_eff == 0, s == 0
        p = scatter_reduce(where(zx, 1.0, x_eff), dim, index_t, where(zs, 1.0, s), "prod")
        nz = scatter_add(zx.to(g.dtype), dim, index_t, zs.to(g.dtype))
        gx = g * where(zx, where(nz == 1, p, 0.0), where(nz == 0, p / where(zx, 1.0, x_eff), 0.0))
        gx = scattered_zero(gx)
        pg, nzg = gather(p, dim, index_t), gather(nz, dim, index_t)
        gs = gather(g, dim, index_t) * where(zs, where(nzg == 1, pg, 0.0), where(nzg == 0, pg / where(zs, 1.0, s), 0.0))
    return (gx if needs[0] else None), (_pad_to(gs, src_shape) if needs[1] else None)


SCATTER_REDUCE = Op("scatter_reduce", _scatter_reduce_fwd, _scatter_reduce_vjp, save=("x", "y", "out"), needs=True)

_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Combine ``src`` into ``input`` at ``index`` along ``dim`` with ``reduce``, one of
    'sum', 'prod', 'mean', 'amax', 'amin'; ``include_self`` counts input's own value in the
    reduction at the written positions."""
    if reduce not in _REDUCTIONS:
        raise RuntimeError(
            f"scatter_reduce(): reduce argument must be one of {', '.join(_REDUCTIONS)} (got {reduce!r})"
        )
    if _needs_1d(input, index):
        return _zero_dim(scatter_reduce, input, dim, index, src, reduce, include_self=include_self)
    d, idx = _along(input, dim, index, "scatter_reduce", src)
    src = _value_like(input, src)
    return apply(SCATTER_REDUCE, (input, src), (idx, d, reduce, include_self, index, src._data.shape))


# --------------------------------------------------------------------------- index_* along a dim
def index_select(input, dim, index):
    """Rows (along ``dim``) picked by the 1-D integer ``index``."""
    if input._data.ndim == 0:
        return index_select(input.reshape(1), dim, index).reshape(())
    d, idx = _dim_index(input, dim, index, "index_select")
    return _index(input, _dim_key(d, idx))


def _check_source(input, d, idx, source, op):
    shape = list(input._data.shape)
    shape[d] = idx.shape[0]
    if not isinstance(source, Tensor):
        raise TypeError(f"{op}(): argument 'source' must be Tensor, not {type(source).__name__}")
    sshape = list(source._data.shape)
    if sshape != shape and not (source._data.ndim == 0 and idx.shape[0] == 1 and input._data.ndim <= 1):
        raise RuntimeError(
            f"{op}(): source of shape {sshape} does not match the expected shape {shape} "
            f"(input shape {list(input._data.shape)}, {idx.shape[0]} indices along "
            f"dim {d})"
        )


def index_add(input, dim, index, source, *, alpha=1):
    """out = input.clone(); out.select(dim, index[i]) += alpha * source.select(dim, i)."""
    if input._data.ndim == 0:
        return index_add(input.reshape(1), dim, index, source.reshape(1), alpha=alpha).reshape(())
    d, idx = _dim_index(input, dim, index, "index_add")
    _check_source(input, d, idx, source, "index_add")
    if alpha != 1:
        source = source * alpha
    return index_put(input, _dim_key(d, idx), source, accumulate=True)


def index_copy(input, dim, index, source):
    """out = input.clone(); out.select(dim, index[i]) = source.select(dim, i)."""
    if input._data.ndim == 0:
        return index_copy(input.reshape(1), dim, index, source.reshape(1)).reshape(())
    d, idx = _dim_index(input, dim, index, "index_copy")
    _check_source(input, d, idx, source, "index_copy")
    return index_put(input, _dim_key(d, idx), source)


def index_fill(input, dim, index, value):
    """out = input.clone(); out.select(dim, index[i]) = value (a number or a 0-d tensor)."""
    if input._data.ndim == 0:
        return index_fill(input.reshape(1), dim, index, value).reshape(())
    d, idx = _dim_index(input, dim, index, "index_fill", negative=True)
    if isinstance(value, Tensor) and value._data.ndim:
        raise RuntimeError(
            f"index_fill_ only supports a 0-dimensional value tensor, but got tensor "
            f"with {value._data.ndim} dimension(s)."
        )
    return index_put(input, _dim_key(d, idx), value)


def take(input, index):
    """input.flatten()[index]: the result has index's shape."""
    _check_long(index, "take")
    idx = index._data
    _check_bounds(idx, input._data.size, "take", 0, input._data.shape, negative=True, exc=IndexError)
    return getitem(input.reshape(-1), (idx,))


def take_along_dim(input, indices, dim=None):
    """``gather`` with broadcasting (all dims but ``dim``) and negative indices; with
    ``dim=None`` both are flattened first."""
    _check_long(indices, "take_along_dim")
    if dim is None:
        return take(input, indices.reshape(-1))
    if input._data.ndim != indices._data.ndim:
        raise RuntimeError(
            f"take_along_dim(): input and indices should have the same number of "
            f"dimensions, but got {input._data.ndim} dimensions for input, and "
            f"{indices._data.ndim} dimensions for indices"
        )
    if input._data.ndim == 0:
        return take_along_dim(input.reshape(1), indices.reshape(1), 0).reshape(())
    d = _wrap_dim(dim, input._data.ndim, "take_along_dim")
    size = input._data.shape[d]
    idx = indices._data
    _check_bounds(idx, size, "take_along_dim", d, input._data.shape, negative=True)
    ishape, xshape = list(idx.shape), list(input._data.shape)
    ishape[d] = xshape[d] = 1
    try:
        batch = np.broadcast_shapes(tuple(ishape), tuple(xshape))
    except ValueError:
        raise RuntimeError(
            f"take_along_dim(): input of shape {list(input._data.shape)} and indices of "
            f"shape {list(idx.shape)} do not broadcast apart from dimension {d}"
        ) from None
    xs = batch[:d] + (size,) + batch[d + 1 :]
    is_ = batch[:d] + (idx.shape[d],) + batch[d + 1 :]
    xp = array_module(idx)
    wrapped = Tensor._make(xp.broadcast_to(idx % size if size else idx, is_).copy(), None, False)
    return gather(input.expand(xs), d, wrapped)


# --------------------------------------------------------------------------- masks
def _check_mask(mask, op):
    if not isinstance(mask, Tensor) or mask._data.dtype.kind != "b":
        got = mask.dtype if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(f"{op} only supports boolean masks, but got mask with dtype {got}")


def masked_fill(input, mask, value):
    """``value`` where ``mask`` is True, else ``input`` (mask broadcasts; dtype is input's)."""
    from .elementwise import where

    _check_mask(mask, "masked_fill_")
    if isinstance(value, Tensor) and value._data.ndim:
        raise RuntimeError(
            f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor "
            f"with {value._data.ndim} dimension(s)."
        )
    return where(mask, _value_like(input, value), input)


def masked_select(input, mask):
    """The elements of ``input`` where ``mask`` is True, as a 1-D tensor (both broadcast)."""
    _check_mask(mask, "masked_select")
    shape = np.broadcast_shapes(input._data.shape, mask._data.shape)
    m = array_module(mask._data).broadcast_to(mask._data, shape)
    return getitem(input.expand(shape) if input._data.shape != shape else input, (m,))


def masked_scatter(input, mask, source):
    """``input`` with the positions where ``mask`` is True filled, in order, from ``source``."""
    _check_mask(mask, "masked_scatter_")
    shape = np.broadcast_shapes(input._data.shape, mask._data.shape)
    m = array_module(mask._data).broadcast_to(mask._data, shape)
    reads_values("masked_scatter's count of True values")
    n = int(m.sum())
    if source._data.size < n:
        raise RuntimeError(
            f"masked_scatter: expected source to have at least {n} elements (the number "
            f"of True values in the mask), got {source._data.size}"
        )
    x = input.expand(shape) if input._data.shape != shape else input
    return index_put(x, (m,), source.reshape(-1)[:n])


# --------------------------------------------------------------------------- triangles
def _tri_check(input, op):
    if input._data.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions (got shape {list(input._data.shape)})")


TRIL = Op("tril", lambda xp, x, k: xp.tril(x, k), lambda g, k: tril(g, k), jvp=LINEAR)
TRIU = Op("triu", lambda xp, x, k: xp.triu(x, k), lambda g, k: triu(g, k), jvp=LINEAR)


def tril(input, diagonal=0):
    """The lower triangle (on and below the ``diagonal``-th diagonal) of the last two dims."""
    _tri_check(input, "tril")
    return apply(TRIL, (input,), (int(diagonal),))


def triu(input, diagonal=0):
    """The upper triangle (on and above the ``diagonal``-th diagonal) of the last two dims."""
    _tri_check(input, "triu")
    return apply(TRIU, (input,), (int(diagonal),))


# --------------------------------------------------------------------------- diagonals
def _diag_view(xp, a, offset, d1, d2):
    """A writable strided view of the ``offset`` diagonal of dims d1, d2 (moved to the end)."""
    n1, n2 = a.shape[d1], a.shape[d2]
    length = max(0, min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2))
    start = [slice(None)] * a.ndim
    if length:
        if offset >= 0:
            start[d2] = slice(offset, None)
        else:
            start[d1] = slice(-offset, None)
        a0 = a[tuple(start)]
    else:
        a0 = a
    keep = [k for k in range(a.ndim) if k not in (d1, d2)]
    shape = tuple(a.shape[k] for k in keep) + (length,)
    strides = tuple(a.strides[k] for k in keep) + (a.strides[d1] + a.strides[d2],)
    return xp.lib.stride_tricks.as_strided(a0, shape, strides)


def _diag_dims(ndim, dim1, dim2, op):
    d1, d2 = _wrap_dim(dim1, ndim, op), _wrap_dim(dim2, ndim, op)
    if d1 == d2:
        raise RuntimeError(f"{op}: dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


DIAGONAL = Op(
    "diagonal",
    lambda xp, x, offset, d1, d2, shape: _diag_view(xp, x, offset, d1, d2),
    lambda g, offset, d1, d2, shape: _diag_put_zeros(g, shape, offset, d1, d2),
    jvp=LINEAR,
    is_view=True,
)


def _diag_zeros_fwd(xp, g, shape, offset, d1, d2):
    out = xp.zeros(shape, dtype=g.dtype)
    _diag_view(xp, out, offset, d1, d2)[...] = g
    return out


DIAG_PUT_ZEROS = Op(
    "diagonal_backward",
    _diag_zeros_fwd,
    lambda g, shape, offset, d1, d2: diagonal(g, offset, d1, d2),
    jvp=LINEAR,
    node_name="DiagonalBackwardBackward0",
)


def _diag_put_zeros(values, shape, offset, d1, d2):
    return apply(DIAG_PUT_ZEROS, (values,), (tuple(shape), offset, d1, d2))


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The ``offset`` diagonal of dims ``dim1``, ``dim2``, as a view; that pair of dims is
    removed and the diagonal becomes the last dim."""
    if input._data.ndim < 2:
        raise RuntimeError(
            f"diagonal(): expected a tensor with at least 2 dimensions (got shape {list(input._data.shape)})"
        )
    d1, d2 = _diag_dims(input._data.ndim, dim1, dim2, "diagonal")
    return apply(DIAGONAL, (input,), (int(offset), d1, d2, input._data.shape))


_diagonal = diagonal  # diag's argument is named ``diagonal`` (as in PyTorch)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Tensors whose ``offset`` diagonal (in dims dim1, dim2 of the output) is the last dim of
    ``input``, zeros elsewhere."""
    shape = input._data.shape
    if not shape:
        raise RuntimeError("diag_embed(): expected a tensor with at least 1 dimension (got a 0-d tensor)")
    nd = len(shape) + 1
    d1, d2 = _diag_dims(nd, dim1, dim2, "diag_embed")
    n = shape[-1] + abs(int(offset))
    batch = list(shape[:-1])
    out = []
    for k in range(nd):
        out.append(n if k in (d1, d2) else batch.pop(0))
    return _diag_put_zeros(input, out, int(offset), d1, d2)


def diag(input, diagonal=0):
    """1-D input: the square matrix with it on the ``diagonal``-th diagonal. 2-D input: that
    diagonal, as a new tensor."""
    nd = input._data.ndim
    if nd == 1:
        return diag_embed(input, diagonal, 0, 1)
    if nd == 2:
        from .shape import clone

        return clone(_diagonal(input, diagonal, 0, 1))
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {nd}D (shape {list(input._data.shape)})")


def trace(input):
    """Sum of the main diagonal of a 2-D tensor."""
    if _AMP[0] and _amp.on:
        return autocast_call(trace, FLOAT32, input)
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input._data.ndim}")
    return diagonal(input).sum()


# --------------------------------------------------------------------------- non-differentiable
def nonzero(input, *, as_tuple=False):
    a = input._data
    xp = array_module(a)
    if as_tuple:
        n = builtins.max(a.ndim, 1)
        idx = recorded(_nonzero_tuple, xp, a, label="nonzero", n_out=n)
        sized_by_values(idx[0] if n > 1 else idx, "nonzero's result, sized by the nonzero values")
        return tuple(Tensor._make(i, None, False) for i in (idx if n > 1 else (idx,)))
    out = recorded(_nonzero, xp, a, label="nonzero")
    return Tensor._make(sized_by_values(out, "nonzero's result, sized by the nonzero values"), None, False)


def _nonzero_tuple(xp, a):
    idx = tuple(i.astype(np.int64) for i in xp.nonzero(a if a.ndim else a.reshape(1)))
    return idx if len(idx) > 1 else idx[0]


def _nonzero(xp, a):
    return xp.stack(xp.nonzero(a if a.ndim else a.reshape(1)), axis=1).astype(np.int64)


def argwhere(input):
    return nonzero(input)


def nonzero_static(input, *, size, fill_value=-1):
    """``nonzero(input)`` with exactly ``size`` rows: the first ``size`` indices, or all of
    them followed by rows of ``fill_value`` (a 0-d input has index rows of width 0)."""
    if not isinstance(size, int) or size < 0:
        raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
    a = input._data
    xp = array_module(a)
    idx = xp.stack(xp.nonzero(a), axis=1).astype(np.int64) if a.ndim else xp.zeros((int(bool(a)), 0), np.int64)
    out = xp.full((size, a.ndim), fill_value, dtype=np.int64)
    n = min(size, idx.shape[0])
    out[:n] = idx[:n]
    return Tensor._make(out, None, False)


def one_hot(tensor, num_classes=-1):
    """int64 tensor of shape ``tensor.shape + (num_classes,)`` with a 1 at each class index
    (``num_classes=-1``: one more than the largest value)."""
    if not isinstance(tensor, Tensor) or tensor._data.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    a = tensor._data
    if num_classes == -1:
        if a.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        reads_values("one_hot(num_classes=-1), whose size is the largest class value")
        num_classes = int(a.max()) + 1
    return Tensor._make(recorded(_one_hot, array_module(a), a, num_classes, label="one_hot"), None, False)


def _one_hot(xp, a, num_classes):
    if a.size and type(a) is not MetaArray:  # a meta index has no values to check
        if int(a.min()) < 0:
            raise RuntimeError("Class values must be non-negative.")
        if int(a.max()) >= num_classes:
            raise RuntimeError(
                f"Class values must be smaller than num_classes (got {int(a.max())} with num_classes={num_classes})."
            )
    return (a[..., None] == xp.arange(num_classes)).astype(np.int64)


def _put_bounds(flat_index, n):
    if n and bool(((flat_index < -n) | (flat_index >= n)).any()):
        raise IndexError(f"put(): index out of range for a tensor of {n} elements")


# --------------------------------------------------------------------------- put, fill_diagonal_
def put(input, index, source, accumulate=False):
    """A copy of ``input`` with ``source`` written (or added) at the flat positions ``index``."""
    from .indexing import index_put

    if index._data.dtype.kind not in "iu":
        raise RuntimeError(f"put(): Expected a long tensor for index, but got {index.dtype}")
    if index._data.size != source._data.size:
        raise RuntimeError(
            f"put(): Expected source and index to have the same number of elements, but got "
            f"source.numel() = {source._data.size}, index.numel() = {index._data.size}"
        )
    n = input._data.size
    flat_index = index.reshape(-1)
    recorded_check(_put_bounds, flat_index._data, n, label="put_bounds")
    flat = index_put(input.reshape(-1), (flat_index,), source.reshape(-1), accumulate)
    return flat.reshape(input._data.shape)


def fill_diagonal_(self, fill_value, wrap=False):
    """Fill the main diagonal (all dims equal, or any 2-D tensor); with ``wrap`` a tall matrix's
    diagonal restarts every ncols + 1 rows, as NumPy's fill_diagonal."""
    nd = self._data.ndim
    if nd < 2:
        raise RuntimeError(f"dimensions must larger than 1 (got {nd})")
    shape = self._data.shape
    if nd > 2 and len(set(shape)) != 1:
        raise RuntimeError(f"all dimensions of input must be of equal length (got {list(shape)})")
    if nd == 2:
        rows, cols = shape
        end = rows * cols if wrap else min(rows, cols) * cols
        flat = np.arange(0, end, cols + 1)
        key = (flat // cols, flat % cols)
    else:
        key = tuple(np.arange(shape[0]) for _ in builtins.range(nd))
    from .indexing import index_put_

    return index_put_(self, key, fill_value)


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(gather, method=True, out=True)
declare(scatter, method=True, inplace=True, out=True)
declare(scatter_add, method=True, inplace=True, out=True)
declare(scatter_reduce, method=True, inplace=True)
declare(index_select, method=True, out=True)
declare(index_add, method=True, inplace=True, out=True)
declare(index_copy, method=True, inplace=True, out=True)
declare(index_fill, method=True, inplace=True)
declare(index_put, method=True, inplace=index_put_, torch_inplace=("index_put_",))
declare(take, method=True, out=True)
declare(take_along_dim, method=True, out=True)
declare(masked_fill, method=True, inplace=True)
declare(masked_select, method=True, out=True)
declare(masked_scatter, method=True, inplace=True)
declare(tril, method=True, inplace=True, out=True)
declare(triu, method=True, inplace=True, out=True)
declare(diagonal, method=True)
declare(diag, method=True, out=True)
declare(diag_embed, method=True)
declare(trace, method=True)
declare(nonzero, method=True, out=True)
declare(argwhere, method=True)
declare(nonzero_static, method=True)
declare(one_hot, torch=False, functional=("one_hot",))
declare(put, method=True, inplace=True)
declare(fill_diagonal_, torch=False, method=True)

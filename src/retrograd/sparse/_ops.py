"""Sparse COO ops: construction, conversion, arithmetic, each recorded for autograd.

A gradient arriving at a sparse tensor may be sparse or dense (both stand for a dense gradient
of its shape). The gradient an op returns for a sparse input is sparse on that input's
coalesced pattern where PyTorch's is (``to_dense``, ``sparse.mm``, ``sparse.sum``), dense where
PyTorch's is (``torch.mm``, ``dense + sparse``).
"""

import math

import numpy as np

from .. import _dtype
from .._compile.state import not_replayable, reads_values, recorded, recorded_check, sized_by_values
from .._tensor import Tensor
from ..autograd.grad_mode import _state
from ..backend import array_module, device_of, to_device_array
from ._autograd import needs_grad, record
from ._storage import (
    _COO,
    add_into,
    coalesced_rows,
    linear_rows,
    lookup,
    owned,
    rows_to_indices,
    rows_view,
    unique_rows,
)
from ._tensor import SparseTensor


# ---------------------------------------------------------------------- gradients
def dense_array(g):
    """The dense array of a gradient (a Tensor, or a SparseTensor made dense)."""
    if type(g) is SparseTensor:
        c = g._data
        return recorded(_densify, c.indices, c.values, c.coalesced, c.shape, c.dtype, label="to_dense")
    return g._data


def times(a, s):
    """``a * s``, a new array (a kernel of compiled replays)."""
    return a * s


def pattern_grad(g, c):
    """A gradient ``g`` (sparse or dense, of ``c``'s dense shape) kept on the coalesced pattern
    of ``c``: a coalesced SparseTensor."""
    if type(g) is SparseTensor:
        gc = g._data
        idx, vals = recorded(
            _sparse_on_pattern,
            c.indices,
            c.coalesced,
            c.shape,
            gc.indices,
            gc.values,
            gc.coalesced,
            label="sparse gradient on a pattern",
            n_out=2,
        )
    else:
        idx, vals = recorded(
            _dense_on_pattern, c.indices, c.coalesced, c.shape, g._data, label="gradient on a pattern", n_out=2
        )
    if not c.coalesced:  # the number of distinct entries depends on the indices
        sized_by_values(vals, "the distinct entries of an uncoalesced sparse tensor")
    return SparseTensor._from_parts(idx, vals, c.shape, True)


def _dense_on_pattern(indices, coalesced, shape, g):
    """``(indices, values)`` of the dense gradient ``g`` at the coalesced pattern of the sparse
    tensor of ``indices`` (its entries sorted, duplicates once)."""
    c = _COO(indices, None, shape, coalesced)
    rows = unique_rows(c)
    sd = indices.shape[0]
    return owned(rows_to_indices(rows, shape[:sd]), indices), rows_view(g, sd)[rows]


def _sparse_on_pattern(indices, coalesced, shape, g_indices, g_values, g_coalesced):
    """``_dense_on_pattern`` for a sparse gradient (``g_*``: its storage)."""
    c = _COO(indices, None, shape, coalesced)
    rows = unique_rows(c)
    sd = indices.shape[0]
    return owned(rows_to_indices(rows, shape[:sd]), indices), lookup(
        _COO(g_indices, g_values, shape, g_coalesced), rows
    )


def _scaled_grad(g, s):
    if s == 1:
        return g
    if type(g) is SparseTensor:
        c = g._data
        return SparseTensor._from_parts(c.indices, recorded(times, c.values, s, label="mul"), c.shape, c.coalesced)
    return Tensor._make(recorded(times, g._data, s, label="mul"), None, False)


# ---------------------------------------------------------------------- construction
def sparse_coo_tensor(
    indices,
    values,
    size=None,
    *,
    dtype=None,
    device=None,
    requires_grad=False,
    check_invariants=None,
    is_coalesced=None,
):
    """A sparse COO tensor with ``indices`` (``(sparse_dim, nnz)``, integers) and ``values``
    (``(nnz, *dense_shape)``). ``size`` defaults to the smallest that holds every index. When
    ``values`` requires grad the result is differentiable with respect to it (each entry's
    gradient is the dense gradient at its index); ``requires_grad=True`` makes a leaf."""
    from .._creation import _array_from
    from .._device import to_device

    idx = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"sparse_coo_tensor: indices must be an int64 tensor, got dtype {idx.dtype}")
    vals = _array_from(values, dtype, device)
    dev = device_of(vals) if device is None else to_device(device)
    vals = to_device_array(vals, dev)
    xp = array_module(vals)
    idx = to_device_array(idx.astype(np.int64, copy=False), dev)
    if idx.ndim != 2:
        raise RuntimeError(f"sparse_coo_tensor: indices must be 2-D (sparse_dim, nnz), got shape {list(idx.shape)}")
    sd, nnz = idx.shape
    if vals.ndim == 0 or vals.shape[0] != nnz:
        raise RuntimeError(
            f"sparse_coo_tensor: indices has {nnz} entries (shape {list(idx.shape)}) "
            f"but values has shape {list(vals.shape)}; values.shape[0] must be nnz"
        )
    if size is None:
        reads_values("sparse_coo_tensor inferring its size from the largest indices")
        size = tuple(int(m) + 1 for m in (idx.max(axis=1) if nnz else xp.full(sd, -1))) + vals.shape[1:]
    size = tuple(int(s) for s in size)
    if len(size) != sd + vals.ndim - 1:
        raise RuntimeError(
            f"sparse_coo_tensor: number of dimensions must be sparse_dim ({sd}) + "
            f"dense_dim ({vals.ndim - 1}), but got size {list(size)}"
        )
    if tuple(size[sd:]) != tuple(vals.shape[1:]):
        raise RuntimeError(
            f"sparse_coo_tensor: values has dense shape {list(vals.shape[1:])} but size says {list(size[sd:])}"
        )
    if nnz:
        recorded_check(_check_indices, idx, size, label="sparse_coo_tensor")
    coalesced = bool(is_coalesced) if is_coalesced is not None else nnz <= 1
    s = SparseTensor._from_parts(idx, vals, size, coalesced)
    if isinstance(values, Tensor) and needs_grad(values):
        c = s._data

        def backward(g, needs):
            return (_values_of(g, c),)

        return record("SparseCooTensorWithDimsAndTensorsBackward0", s, (values,), backward)
    if requires_grad:
        s.requires_grad_(True)
    return s


def _check_indices(idx, size):
    """Raise unless every index of ``idx`` (``(sparse_dim, nnz)``, nnz > 0) is in ``size``."""
    lo, hi = idx.min(axis=1), idx.max(axis=1)
    for d in range(idx.shape[0]):
        if int(lo[d]) < 0:
            raise RuntimeError(f"sparse_coo_tensor: found negative index {int(lo[d])} for dim {d}")
        if int(hi[d]) >= size[d]:
            raise RuntimeError(
                f"sparse_coo_tensor: size is inconsistent with indices: for dim "
                f"{d}, size is {size[d]} but found index {int(hi[d])}"
            )


def _values_of(g, c):
    """The gradient of ``c``'s values for a gradient ``g`` of the tensor: each entry gets the
    dense gradient at its index (entries that share an index get the same value)."""
    if type(g) is SparseTensor:
        gc = g._data
        out = recorded(_sparse_at_entries, c.indices, c.shape, gc.indices, gc.values, gc.coalesced, label="values")
    else:
        out = recorded(_dense_at_entries, c.indices, c.shape, g._data, label="values")
    return Tensor._make(out, None, False)


def _dense_at_entries(indices, shape, g):
    """The dense array ``g`` at each entry of the sparse tensor of ``indices``: ``(nnz, ...)``."""
    c = _COO(indices, None, shape, False)
    return rows_view(g, indices.shape[0])[linear_rows(c)]


def _sparse_at_entries(indices, shape, g_indices, g_values, g_coalesced):
    """``_dense_at_entries`` of a sparse ``g`` (its storage)."""
    c = _COO(indices, None, shape, False)
    return lookup(_COO(g_indices, g_values, shape, g_coalesced), linear_rows(c))


def to_sparse(x, sparseDims=None, *, layout=None, blocksize=None, dense_dim=None):
    """``Tensor.to_sparse``: the nonzero entries of dense ``x`` as a coalesced sparse COO tensor
    with ``sparseDims`` sparse dims (default: all, or all but ``dense_dim``); with dense dims an
    entry is kept where any of its slice is nonzero. Differentiable (the gradient is dense)."""
    if type(x) is SparseTensor:
        check_to_sparse(x, sparseDims, layout, blocksize, dense_dim)
        return x
    not_replayable("to_sparse (its pattern is read from the values outside recorded kernels)")
    _check_layout(layout, blocksize)
    a = x._data
    nd = a.ndim
    if sparseDims is not None and dense_dim is not None:
        raise RuntimeError("to_sparse: pass sparseDims or dense_dim, not both")
    sd = sparseDims if sparseDims is not None else nd - (dense_dim or 0)
    if not 0 < sd <= nd:
        raise RuntimeError(
            f"to_sparse: sparse_dim must be in [1, {nd}] for a tensor of shape {list(a.shape)}, got {sd}"
        )
    xp = array_module(a)
    flat = a.reshape((math.prod(a.shape[:sd]),) + a.shape[sd:])
    nz = flat != 0
    if nz.ndim > 1:
        nz = nz.reshape(nz.shape[0], -1).any(axis=1)
    rows = xp.flatnonzero(nz)
    s = SparseTensor._from_parts(rows_to_indices(rows, a.shape[:sd]), flat[rows], a.shape, True)

    def backward(g, needs):
        return (Tensor._make(dense_array(g), None, False),)

    return record("ToSparseBackward1", s, (x,), backward, saves=False)


def to_sparse_coo(x):
    return to_sparse(x)


def _check_layout(layout, blocksize):
    from .._typeinfo import sparse_coo

    if layout is not None and layout is not sparse_coo:
        raise NotImplementedError(f"to_sparse: only layout=retrograd.sparse_coo is supported, got {layout}")
    if blocksize is not None:
        raise NotImplementedError(
            "to_sparse: blocksize is only for block sparse layouts, which retrograd does not have"
        )


def check_to_sparse(s, sparseDims, layout, blocksize, dense_dim):
    """``to_sparse`` of a sparse tensor is itself: refuse a request for other sparse dims."""
    _check_layout(layout, blocksize)
    want = sparseDims if sparseDims is not None else (None if dense_dim is None else s.dim() - dense_dim)
    if want is not None and want != s.sparse_dim():
        raise RuntimeError(
            f"to_sparse: a sparse tensor with {s.sparse_dim()} sparse dims cannot be converted to {want} sparse dims"
        )


def to_dense(s, dtype=None, masked_grad=None):
    """The dense tensor of ``s``. Its gradient is masked to ``s``'s pattern (sparse), unless
    ``masked_grad=False`` (then the dense gradient passes as it is)."""
    c = s._data
    out = recorded(
        _densify,
        c.indices,
        c.values,
        c.coalesced,
        c.shape,
        c.dtype if dtype is None else _dtype.to_np(dtype),
        label="to_dense",
    )
    masked = masked_grad is None or masked_grad

    def backward(g, needs):
        return (pattern_grad(g, c) if masked else g,)

    return record("ToDenseBackward0", Tensor._make(out, None, False), (s,), backward)


def _densify(indices, values, coalesced, shape, dtype):
    """The dense array (of ``dtype``) of the sparse tensor of ``indices`` and ``values``."""
    out = array_module(values).zeros(shape, dtype)
    return add_into(out, _COO(indices, values, shape, coalesced))


def dense_to_dense(x, dtype=None, *, masked_grad=None):
    """``Tensor.to_dense`` of a dense tensor: itself (cast to ``dtype`` when given)."""
    return x if dtype is None else x.to(dtype)


def coalesce(s):
    """Duplicates summed, indices sorted; the gradient passes through unchanged."""
    c = s._data
    idx, vals = recorded(_coalesced, c.indices, c.values, c.shape, label="coalesce", n_out=2)
    sized_by_values(vals, "coalesce (the number of distinct entries)")
    out = SparseTensor._from_parts(idx, vals, c.shape, True)
    return record("CoalesceBackward0", out, (s,), lambda g, needs: (g,), saves=False)


def _coalesced(indices, values, shape):
    """``(indices, values)`` of the uncoalesced sparse tensor of ``indices``, ``values``,
    coalesced: sorted, duplicates summed."""
    rows, vals = coalesced_rows(_COO(indices, values, shape, False))
    return rows_to_indices(rows, shape[: indices.shape[0]]), vals


def values(s):
    c = s._data
    out = Tensor._make(c.values, None, False)

    def backward(g, needs):
        return (SparseTensor._from_parts(c.indices, g._data, c.shape, c.coalesced),)

    return record("ValuesBackward0", out, (s,), backward)


def t(s):
    c = s._data
    if c.indices.shape[0] != 2 or len(c.shape) != 2:
        raise RuntimeError(
            f"t() expects a sparse tensor with 2 sparse and 0 dense dimensions, but "
            f"got shape {list(c.shape)} with {c.indices.shape[0]} sparse dims"
        )
    out = SparseTensor._from_parts(c.indices[::-1], c.values, c.shape[::-1], c.indices.shape[1] <= 1)

    def backward(g, needs):
        return (g.t(),)

    return record("TBackward0", out, (s,), backward, saves=False)


def _copies(indices, values):
    return indices.copy(), values.copy()


def clone(s):
    c = s._data
    indices, values = recorded(_copies, c.indices, c.values, label="clone", n_out=2)
    out = SparseTensor._from_parts(indices, values, c.shape, c.coalesced)
    return record("CloneBackward0", out, (s,), lambda g, needs: (g,), saves=False)


def to(s, args, kwargs):
    """``SparseTensor.to(device/dtype/tensor, non_blocking=, copy=)``."""
    from .._device import device as _device, to_device

    dtype, dev = kwargs.pop("dtype", None), kwargs.pop("device", None)
    kwargs.pop("non_blocking", None)  # copies are synchronous: nothing to wait for either way
    copy = kwargs.pop("copy", False)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)} for a sparse tensor")
    for a in args:
        if isinstance(a, (Tensor, SparseTensor)):
            dtype, dev = a.dtype, a.device
        elif isinstance(a, (str, int, _device)) and not isinstance(a, bool):
            dev = a
        elif a is not None:
            dtype = a
    c = s._data
    idx, vals = c.indices, c.values
    old_dev = device_of(vals)
    if dev is not None:
        d = to_device(dev)
        idx, vals = to_device_array(idx, d), to_device_array(vals, d)
    if dtype is not None:
        vals = vals.astype(_dtype.to_np(dtype), copy=False)
    if idx is c.indices and vals is c.values:
        return clone(s) if copy else s
    out = SparseTensor._from_parts(idx, vals, c.shape, c.coalesced)
    return record("ToCopyBackward0", out, (s,), lambda g, needs: (g.to(old_dev),), saves=False)


# ---------------------------------------------------------------------- arithmetic
def add(a, b, alpha=1, reflected=False, name="add"):
    """``a + alpha * b`` for sparse ``a``: sparse when ``b`` is sparse (the entries are
    concatenated). ``reflected``: ``b + alpha * a`` (``b`` dense: a dense result)."""
    if type(b) is SparseTensor:
        return _add_sparse(a, b, alpha)
    if reflected and isinstance(b, Tensor):
        return dense_add(b, a, alpha)
    if isinstance(b, Tensor):
        raise RuntimeError(
            f"{name}(sparse, dense) is not supported. Use {name}(dense, sparse) instead "
            f"(sparse shape {list(a.shape)}, dense shape {list(b.shape)})"
        )
    raise RuntimeError(
        f"{name}: a sparse tensor (shape {list(a.shape)}) can only be added to a "
        f"sparse tensor of the same shape or to a dense tensor (dense + sparse), "
        f"not to {type(b).__name__}"
    )


def _add_sparse(a, b, alpha):
    _check_same_shape(a, b, "add")
    x, y = a._data, b._data
    if x.indices.shape[0] != y.indices.shape[0]:
        raise RuntimeError(
            f"add: sparse tensors of shape {list(x.shape)} have different "
            f"sparse dims ({x.indices.shape[0]} and {y.indices.shape[0]})"
        )
    dt = _dtype.promote_types(a.dtype, b.dtype).np
    if y.indices.shape[1] == 0:
        vals = x.values if x.values.dtype == dt else recorded(_cast, x.values, dt, label="add")
        out = SparseTensor._from_parts(x.indices, vals, x.shape, x.coalesced)
    elif x.indices.shape[1] == 0:
        vals = recorded(_cast_scaled, y.values, alpha, dt, label="add")
        out = SparseTensor._from_parts(y.indices, vals, y.shape, y.coalesced)
    else:
        idx, vals = recorded(_joined, x.indices, y.indices, x.values, y.values, alpha, dt, label="add", n_out=2)
        out = SparseTensor._from_parts(idx, vals, x.shape)

    def backward(g, needs):
        return g, _scaled_grad(g, alpha)

    return record("AddBackward0", out, (a, b), backward, saves=False)


def _cast(v, dtype):
    return v.astype(dtype)


def _cast_scaled(v, alpha, dtype):
    """``alpha * v`` as a new array of ``dtype``."""
    return (v if alpha == 1 else v * alpha).astype(dtype)


def _joined(xi, yi, xv, yv, alpha, dtype):
    """The entries of two sparse tensors of one shape, ``y``'s scaled by ``alpha``: the
    (uncoalesced) storage of their sum."""
    xp = array_module(xv)
    yv = yv if alpha == 1 else yv * alpha
    return xp.concatenate([xi, yi], axis=1), xp.concatenate(
        [xv.astype(dtype, copy=False), yv.astype(dtype, copy=False)]
    )


def dense_add(d, s, alpha=1):
    """``d + alpha * s`` for dense ``d`` and sparse ``s`` of one shape: a dense tensor. Both
    gradients are dense, as in PyTorch."""
    _check_same_shape(s, d, "add")
    dt = _dtype.promote_types(d.dtype, s.dtype).np
    c = s._data
    out = recorded(
        _dense_plus, d._data, c.indices, c.values, c.coalesced, None if alpha == 1 else alpha, dt, label="add"
    )

    def backward(g, needs):
        return g, _scaled_grad(g, alpha)

    return record("AddBackward0", Tensor._make(out, None, False), (d, s), backward, saves=False)


def _dense_plus(d, indices, values, coalesced, alpha, dtype):
    """``d + alpha * S`` (``alpha`` None: 1) as a new array of ``dtype``, for the sparse S of
    ``indices``, ``values`` with ``d``'s shape."""
    out = d.astype(dtype)  # a copy
    return add_into(out, _COO(indices, values, d.shape, coalesced), alpha)


def binary(name, x, y, alpha=1):
    """Dense-module entry (``retrograd.add`` and friends) for operands of which one is sparse:
    the op if PyTorch supports it for these layouts, else a clear error. Returns None when
    neither operand is sparse."""
    xs, ys = type(x) is SparseTensor, type(y) is SparseTensor
    if not (xs or ys):
        return None
    if name in ("add", "sub"):
        a = alpha if name == "add" else -alpha
        if xs:
            return add(x, y, a, name=name)
        if isinstance(x, Tensor):
            return dense_add(x, y, a)
    elif name in ("mul", "div") and xs and not isinstance(y, SparseTensor):
        return scale(x, y, name)
    elif name == "mul" and ys and not isinstance(x, SparseTensor):
        return scale(y, x, name)
    s = x if xs else y
    raise NotImplementedError(
        f"{name}: not supported for these operands ({_describe(x)} and "
        f"{_describe(y)}) with sparse COO tensors (shape {list(s.shape)})"
    )


def _describe(v):
    if type(v) is SparseTensor:
        return "sparse"
    return "dense" if isinstance(v, Tensor) else type(v).__name__


def _check_same_shape(a, b, op):
    if tuple(a._data.shape) != tuple(b._data.shape):
        raise RuntimeError(
            f"{op}: sparse tensor of shape {list(a._data.shape)} and tensor of "
            f"shape {list(b._data.shape)} must have the same shape"
        )


def _scalar(v, op, t):
    """A number, or the number of a one-element dense tensor that needs no gradient."""
    if isinstance(v, Tensor):
        if v._data.size != 1:
            raise NotImplementedError(
                f"{op}: a sparse tensor (shape {list(t.shape)}) can only be "
                f"scaled by a number or a one-element tensor, not by a tensor "
                f"of shape {list(v.shape)}"
            )
        if needs_grad(v):
            raise NotImplementedError(
                f"{op}: scaling a sparse tensor by a tensor that requires grad is not supported; pass a number"
            )
        return v._data.reshape(()).item()
    if isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_)):
        return v.item() if isinstance(v, np.number) else v
    raise NotImplementedError(f"{op}: a sparse tensor can only be scaled by a number, not by {type(v).__name__}")


def _scaled_values(v, s, op):
    """``v * s`` or ``v / s`` (integers made floating where the result is), a new array."""
    if v.dtype.kind in "iub" and (op == "div" or isinstance(s, float)):
        v = v.astype(_dtype.get_default_dtype().np)
    return v / s if op == "div" else v * s


def scale(t, v, op):
    """``t * v`` or ``t / v`` (``op`` "mul", "div" or "neg") for a scalar ``v``: sparse."""
    s = _scalar(v, op, t)
    c = t._data
    vals = recorded(_scaled_values, c.values, s, op, label=op)
    out = SparseTensor._from_parts(c.indices, vals, c.shape, c.coalesced)
    factor = 1 / s if op == "div" else s
    node = {"mul": "MulBackward0", "div": "DivBackward0"}.get(op, "NegBackward0")
    return record(node, out, (t,), lambda g, needs: (_scaled_grad(g, factor),), saves=False)


def _check_inplace(t, op):
    if t._rg and _state.enabled:
        raise RuntimeError(f"{op}: a sparse tensor that requires grad cannot be modified in place")


def scale_(t, v, op):
    not_replayable(f"{op} on a sparse tensor (an in-place write into its storage)")
    _check_inplace(t, op)
    c = t._data
    s = _scalar(v, op, t)
    if op == "div_":
        c.values /= s
    else:
        c.values *= s
    t._version_counter().bump()
    return t


def add_(t, other, alpha):
    not_replayable("add_ on a sparse tensor (an in-place write into its storage)")
    _check_inplace(t, "add_")
    if type(other) is not SparseTensor:
        raise RuntimeError(
            "add_: a dense tensor cannot be added in place into a sparse one; "
            "use dense + sparse, which gives a dense tensor"
        )
    with _no_grad():
        r = _add_sparse(t, other, alpha)._data
    c = t._data
    if r.dtype != c.dtype:
        raise RuntimeError(f"add_: result type {r.dtype} can't be cast to {c.dtype}")
    c.indices, c.values, c.coalesced = r.indices, r.values, r.coalesced
    t._version_counter().bump()
    return t


def copy_(t, src):
    """``t.copy_(src)`` for sparse ``t`` and ``src``: ``t`` takes ``src``'s shape, indices and
    values (cast to ``t``'s dtype); its identity is kept. A dense ``src`` is refused (as in
    PyTorch); so is one that requires grad while grad mode is on (the copy records no graph)."""
    not_replayable("copy_ on a sparse tensor (an in-place write into its storage)")
    _check_inplace(t, "copy_")
    if type(src) is not SparseTensor:
        raise RuntimeError(
            f"copy_: copying a dense tensor (shape {list(getattr(src, 'shape', ()))}) into a sparse "
            f"one (shape {list(t._data.shape)}) is not supported; call .to_sparse() on the source"
        )
    if src._rg and _state.enabled:
        raise NotImplementedError(
            "copy_: the source sparse tensor requires grad; copying it into a sparse tensor is "
            "not differentiable here (use src.clone() or copy under no_grad)"
        )
    c, r = t._data, src._data
    c.indices = r.indices.copy()
    c.values = r.values.astype(c.dtype, copy=True)
    c.shape = tuple(r.shape)
    c.coalesced = r.coalesced
    t._version_counter().bump()
    return t


def zero_(t):
    not_replayable("zero_ on a sparse tensor (an in-place write into its storage)")
    _check_inplace(t, "zero_")
    c = t._data
    xp = array_module(c.indices)
    sd = c.indices.shape[0]
    c.values = xp.zeros((0,) + tuple(c.shape[sd:]), c.dtype)
    c.indices = xp.zeros((sd, 0), np.int64)
    c.coalesced = True
    t._version_counter().bump()
    return t


def _no_grad():
    from ..autograd.grad_mode import no_grad

    return no_grad()


# ---------------------------------------------------------------------- gradients' helpers
def is_sparse(t):
    return type(t) is SparseTensor


def combine(a, x, b, y):
    """``a * x + b * y`` for sparse ``x`` and ``y`` of one shape, coalesced (no graph)."""
    with _no_grad():
        s = x.mul(a) if a != 1 else x
        return s.add(y, alpha=b).coalesce()


def embedding_grad(grad, indices, num_weights, padding_idx=None, scale_grad_by_freq=False):
    """The sparse gradient of an embedding table ``(num_weights, D)`` looked up at ``indices``:
    one entry per lookup, ``rows = indices.flatten()`` and ``values = grad.reshape(-1, D)``
    (owned copies; made on first use when ``grad`` is a broadcast along the lookups). Lookups of
    ``padding_idx`` (None or negative: none) are left out; with
    ``scale_grad_by_freq`` each value is divided by how often its index occurs. ``grad`` is the
    lookup's output gradient (a Tensor), ``indices`` an integer Tensor or array. Duplicate rows
    stay separate entries (uncoalesced), as in PyTorch."""
    g = grad._data
    xp = array_module(g)
    idx = indices._data if isinstance(indices, Tensor) else indices
    rows = xp.asarray(idx).reshape(-1).astype(np.int64)
    width = g.shape[-1] if g.ndim else 1
    if (
        g.ndim > 1
        and not scale_grad_by_freq
        and (padding_idx is None or padding_idx < 0)
        and any(st == 0 and n > 1 for st, n in zip(g.strides[:-1], g.shape))
    ):
        # a broadcast along the lookups (the gradient of a mean or sum over them): keep the
        # values unmade, as an owned copy of the broadcast's source
        src = g[tuple(slice(0, 1) if st == 0 else slice(None) for st in g.strides)].copy()
        return SparseTensor._make(_COO(rows[None], None, (num_weights, width), False, (src, g.shape)), None, False)
    vals = g.reshape(-1, width)
    if xp.may_share_memory(vals, g):  # never a view: the upstream gradient may be a broadcast
        vals = vals.copy()  # (a reshape that already copied, as of a broadcast, is owned)
    if scale_grad_by_freq and rows.shape[0]:
        _, inv, counts = xp.unique(rows, return_inverse=True, return_counts=True)
        vals /= counts[inv.ravel()].astype(vals.dtype)[:, None]
    if padding_idx is not None and padding_idx >= 0:
        keep = rows != padding_idx
        rows, vals = rows[keep], vals[keep]
    return SparseTensor._from_parts(rows[None], vals, (num_weights, width))

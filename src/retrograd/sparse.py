"""Sparse COO tensors: the gradient of an embedding table touched at a few rows.

A sparse tensor of dense shape ``size`` holds ``indices`` (int64, ``(sparse_dim, nnz)``) and
``values`` (``(nnz, *size[sparse_dim:])``): entry k says that the slice
``dense[indices[0, k], ..., indices[sparse_dim - 1, k]]`` *adds* ``values[k]``. Several entries
may name the same slice (the tensor is then *uncoalesced*, and the slice is their sum);
``coalesce()`` sums them and sorts the indices.

What is supported is what gradients need: ``+`` with sparse (concatenation, no work) and dense
tensors, ``*`` and ``/`` by scalars, negation, ``coalesce``, ``to_dense``, and being the
``.grad`` of a dense parameter. Any other op raises ``NotImplementedError``: call
``to_dense()`` first. Sparse tensors never require grad.

Row updates go through flat 1-D indices (``row * width + column``): NumPy's ``add.at`` is
several times faster with them than with 2-D row indices.
"""
import math

import numpy as np

from . import _dtype
from ._size import Size
from ._tensor import Tensor
from .backend import array_module, device_of, to_device_array


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
            self._values = v.reshape((-1,) + tuple(self.shape[self.indices.shape[0]:]))
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


def _unsupported(name):
    def method(self, *args, **kwargs):
        raise NotImplementedError(
            f"{name}: not supported for sparse COO tensors (shape {list(self.shape)}, "
            f"nnz={self._nnz()}); call .to_dense() first")
    method.__name__ = name
    return method


class SparseTensor(Tensor):
    """A sparse COO tensor; see the module docstring. Build one with ``sparse_coo_tensor``."""

    is_sparse = True
    layout = "sparse_coo"

    @classmethod
    def _from_parts(cls, indices, values, shape, coalesced=False):
        return cls._make(_COO(indices, values, tuple(shape), coalesced), None, False)

    # ------------------------------------------------------------------ structure
    @property
    def shape(self):
        return Size(self._data.shape)

    @property
    def device(self):
        return device_of(self._data._some_values())

    def sparse_dim(self):
        return self._data.indices.shape[0]

    def dense_dim(self):
        return len(self._data.shape) - self._data.indices.shape[0]

    def _nnz(self):
        return self._data.indices.shape[1]

    def is_coalesced(self):
        return self._data.coalesced

    def _indices(self):
        return Tensor._make(self._data.indices, None, False)

    def _values(self):
        return Tensor._make(self._data.values, None, False)

    def indices(self):
        if not self._data.coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call .coalesce() first")
        return self._indices()

    def values(self):
        if not self._data.coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call .coalesce() first")
        return self._values()

    def is_contiguous(self, memory_format=None):
        return False

    def requires_grad_(self, requires_grad=True):
        if requires_grad:
            raise NotImplementedError("sparse tensors cannot require grad in retrograd: they are "
                                      "gradients, not inputs to differentiable ops")
        return self

    # ------------------------------------------------------------------ conversion
    def coalesce(self):
        """The same tensor with sorted, unique indices (duplicate entries summed)."""
        if self._data.coalesced:
            return self
        rows, vals = coalesced_rows(self)
        c = self._data
        sparse_shape = c.shape[:c.indices.shape[0]]
        xp = array_module(vals)
        idx = xp.stack(xp.unravel_index(rows, sparse_shape)) if len(sparse_shape) > 1 else rows[None]
        return SparseTensor._from_parts(idx.astype(np.int64, copy=False), vals, c.shape, True)

    def to_dense(self, dtype=None, *, masked_grad=None):
        c = self._data
        xp = array_module(c.values)
        out = xp.zeros(c.shape, c.values.dtype if dtype is None else _dtype.to_np(dtype))
        add_into(out, self)
        return Tensor._make(out, None, False)

    def to(self, *args, **kwargs):
        from ._device import device as _device, to_device
        dtype, dev = kwargs.pop("dtype", None), kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        kwargs.pop("copy", None)
        for a in args:
            if isinstance(a, Tensor):
                dtype, dev = a.dtype, a.device
            elif isinstance(a, (str, _device)):
                dev = a
            elif a is not None:
                dtype = a
        c = self._data
        idx, vals = c.indices, c.values
        if dev is not None:
            d = to_device(dev)
            idx, vals = to_device_array(idx, d), to_device_array(vals, d)
        if dtype is not None:
            vals = vals.astype(_dtype.to_np(dtype), copy=False)
        if idx is c.indices and vals is c.values:
            return self
        return SparseTensor._from_parts(idx, vals, c.shape, c.coalesced)

    def float(self, memory_format=None):
        return self.to(_dtype.float32)

    def double(self, memory_format=None):
        return self.to(_dtype.float64)

    def half(self, memory_format=None):
        return self.to(_dtype.float16)

    def cpu(self):
        return self.to("cpu")

    def clone(self, *, memory_format=None):
        c = self._data
        return SparseTensor._from_parts(c.indices.copy(), c.values.copy(), c.shape, c.coalesced)

    def detach(self):
        c = self._data
        return SparseTensor._from_parts(c.indices, c.values, c.shape, c.coalesced)

    def to_sparse(self, *args, **kwargs):
        return self

    # ------------------------------------------------------------------ arithmetic
    def add(self, other, *, alpha=1):
        """``self + alpha * other``: sparse if ``other`` is sparse, dense otherwise."""
        if isinstance(other, SparseTensor):
            _check_same_shape(self, other, "add")
            a, b = self._data, other._data
            if a.indices.shape[0] != b.indices.shape[0]:
                raise RuntimeError(f"add: sparse tensors of shape {list(a.shape)} have different "
                                   f"sparse dims ({a.indices.shape[0]} and {b.indices.shape[0]})")
            xp = array_module(a.values)
            dt = np.result_type(a.values.dtype, b.values.dtype)
            bv = b.values if alpha == 1 else b.values * alpha
            if b.indices.shape[1] == 0:
                return SparseTensor._from_parts(a.indices, a.values.astype(dt, copy=False), a.shape,
                                                a.coalesced)
            if a.indices.shape[1] == 0:
                return SparseTensor._from_parts(b.indices, bv.astype(dt, copy=False), b.shape,
                                                b.coalesced)
            return SparseTensor._from_parts(xp.concatenate([a.indices, b.indices], axis=1),
                                            xp.concatenate([a.values.astype(dt, copy=False),
                                                            bv.astype(dt, copy=False)]), a.shape)
        if isinstance(other, Tensor):
            _check_same_shape(self, other, "add")
            od = other._data
            dt = np.result_type(self._data.values.dtype, od.dtype)
            out = od.astype(dt) if alpha == 1 else (od * alpha).astype(dt, copy=False)
            add_into(out, self)
            return Tensor._make(out, None, False)
        raise RuntimeError(f"add: a sparse tensor (shape {list(self.shape)}) can only be added to a "
                           f"tensor, not to {type(other).__name__}")

    __add__ = add

    def __radd__(self, other):
        # dense + sparse lands here first (Python tries the subclass's reflected method).
        return self.add(other)

    def sub(self, other, *, alpha=1):
        return self.add(other, alpha=-alpha)

    __sub__ = sub

    def __rsub__(self, other):
        return (-self).add(other)

    def mul(self, other):
        s = _scalar(other, "mul", self)
        c = self._data
        return SparseTensor._from_parts(c.indices, c.values * s, c.shape, c.coalesced)

    __mul__ = __rmul__ = mul

    def div(self, other):
        s = _scalar(other, "div", self)
        c = self._data
        return SparseTensor._from_parts(c.indices, c.values / s, c.shape, c.coalesced)

    __truediv__ = div

    def neg(self):
        c = self._data
        return SparseTensor._from_parts(c.indices, -c.values, c.shape, c.coalesced)

    __neg__ = neg

    def mul_(self, other):
        c = self._data
        c.values *= _scalar(other, "mul_", self)
        self._version_counter().bump()
        return self

    def div_(self, other):
        c = self._data
        c.values /= _scalar(other, "div_", self)
        self._version_counter().bump()
        return self

    def add_(self, other, *, alpha=1):
        if not isinstance(other, SparseTensor):
            raise RuntimeError("add_: a dense tensor cannot be added in place into a sparse one; "
                               "use sparse + dense, which gives a dense tensor")
        r = self.add(other, alpha=alpha)._data
        c = self._data
        if r.values.dtype != c.values.dtype:
            raise RuntimeError(f"add_: result type {r.values.dtype} can't be cast to {c.values.dtype}")
        c.indices, c.values, c.coalesced = r.indices, r.values, r.coalesced
        self._version_counter().bump()
        return self

    def zero_(self):
        c = self._data
        xp = array_module(c.values)
        c.indices = xp.zeros((c.indices.shape[0], 0), np.int64)
        c.values = xp.zeros((0,) + tuple(c.shape[c.indices.shape[0]:]), c.values.dtype)
        c.coalesced = True
        self._version_counter().bump()
        return self

    # ------------------------------------------------------------------ refusals
    def numpy(self, *, force=False):
        raise TypeError("numpy(): a sparse tensor has no dense array; call .to_dense().numpy()")

    def item(self):
        return self.to_dense().item()

    def tolist(self):
        raise TypeError("tolist(): call .to_dense().tolist() on a sparse tensor")

    def __array__(self, dtype=None, copy=None):
        raise TypeError("a sparse tensor cannot be converted to a NumPy array; call .to_dense()")

    def __len__(self):
        return self._data.shape[0]

    def __iter__(self):
        raise NotImplementedError("iteration over a sparse tensor; call .to_dense() first")

    def __bool__(self):
        raise RuntimeError("Boolean value of a sparse tensor is ambiguous")

    def __deepcopy__(self, memo):
        t = self.clone()
        memo[id(self)] = t
        return t

    def __repr__(self):
        c = self._data
        from ._repr import tensor_repr
        ind = tensor_repr(Tensor._make(c.indices, None, False)).replace("\n", "\n" + " " * 15)
        val = tensor_repr(Tensor._make(c.values, None, False)).replace("\n", "\n" + " " * 14)
        return (f"tensor(indices={ind},\n       values={val},\n       size={tuple(c.shape)}, "
                f"nnz={self._nnz()}, layout=retrograd.sparse_coo)")


def refuse_dense_methods(names):
    """Make every Tensor method in ``names`` that the sparse class does not implement fail
    clearly on sparse tensors. ``_tensor_methods`` calls it once it has bound ``names`` onto
    Tensor (the method table sits above this module)."""
    for name in names:
        if name not in SparseTensor.__dict__ and not name.startswith("__"):
            setattr(SparseTensor, name, _unsupported(name))


for _name in ("__getitem__", "__setitem__", "__matmul__", "__rmatmul__", "__pow__", "__rpow__",
              "__rtruediv__", "__floordiv__", "__mod__", "__iadd__", "__isub__", "__imul__",
              "__itruediv__", "__abs__", "__lt__", "__le__", "__gt__", "__ge__"):
    setattr(SparseTensor, _name, _unsupported(_name))
del _name


def _check_same_shape(a, b, op):
    if tuple(a._data.shape) != tuple(b._data.shape):
        raise RuntimeError(f"{op}: sparse tensor of shape {list(a._data.shape)} and tensor of "
                           f"shape {list(b._data.shape)} must have the same shape")


def _scalar(v, op, t):
    if isinstance(v, Tensor):
        if v.is_sparse or v._data.size != 1:
            raise NotImplementedError(f"{op}: a sparse tensor (shape {list(t.shape)}) can only be "
                                      f"scaled by a number or a one-element tensor")
        return v._data.reshape(()).astype(t._data.values.dtype)
    if isinstance(v, (int, float, np.number)) and not isinstance(v, bool):
        return v
    raise NotImplementedError(f"{op}: a sparse tensor can only be scaled by a number, not by "
                              f"{type(v).__name__}")


# ---------------------------------------------------------------------- row helpers
def _linear_rows(c):
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
    """``(rows, values)`` of a sparse tensor with duplicates summed: ``rows`` sorted and unique
    (linear row numbers), ``values`` of shape ``(len(rows), *dense_shape)``."""
    c = t._data
    rows = _linear_rows(c)
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
    """``dense += alpha * sparse`` in place (``dense`` an array), duplicate entries summed."""
    c = sparse._data
    if c.indices.shape[1] == 0:
        return dense
    xp = array_module(dense)
    if not dense.flags.c_contiguous:  # rare: a strided view; index it dimension by dimension
        xp.add.at(dense, tuple(c.indices), _scaled(c.values, alpha, dense.dtype))
        return dense
    rows = _linear_rows(c)
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
    lead = vals.shape[:vals.ndim - (t.ndim - 1)]
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
            rows, t.reshape(t.shape[0], -1).view(item).reshape(-1))
    else:
        view[rows] = t


# ---------------------------------------------------------------------- construction
def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None, requires_grad=False,
                      check_invariants=None, is_coalesced=None):
    """A sparse COO tensor with ``indices`` (``(sparse_dim, nnz)``, integers) and ``values``
    (``(nnz, *dense_shape)``). ``size`` defaults to the smallest that holds every index."""
    from ._creation import _array_from
    from ._device import to_device
    if requires_grad:
        raise NotImplementedError("sparse_coo_tensor(requires_grad=True): sparse tensors cannot "
                                  "require grad in retrograd")
    idx = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"sparse_coo_tensor: indices must be an int64 tensor, got dtype {idx.dtype}")
    vals = _array_from(values, dtype, device)
    dev = device_of(vals) if device is None else to_device(device)
    xp = array_module(vals)
    idx = to_device_array(idx.astype(np.int64, copy=False), dev)
    if idx.ndim != 2:
        raise RuntimeError(f"sparse_coo_tensor: indices must be 2-D (sparse_dim, nnz), got shape "
                           f"{list(idx.shape)}")
    sd, nnz = idx.shape
    if vals.ndim == 0 or vals.shape[0] != nnz:
        raise RuntimeError(f"sparse_coo_tensor: indices has {nnz} entries (shape {list(idx.shape)}) "
                           f"but values has shape {list(vals.shape)}; values.shape[0] must be nnz")
    if size is None:
        size = tuple(int(m) + 1 for m in (idx.max(axis=1) if nnz else xp.full(sd, -1))) + vals.shape[1:]
    size = tuple(int(s) for s in size)
    if len(size) != sd + vals.ndim - 1:
        raise RuntimeError(f"sparse_coo_tensor: number of dimensions must be sparse_dim ({sd}) + "
                           f"dense_dim ({vals.ndim - 1}), but got size {list(size)}")
    if tuple(size[sd:]) != tuple(vals.shape[1:]):
        raise RuntimeError(f"sparse_coo_tensor: values has dense shape {list(vals.shape[1:])} but "
                           f"size says {list(size[sd:])}")
    if nnz:
        lo, hi = idx.min(axis=1), idx.max(axis=1)
        for d in range(sd):
            if int(lo[d]) < 0:
                raise RuntimeError(f"sparse_coo_tensor: found negative index {int(lo[d])} for dim {d}")
            if int(hi[d]) >= size[d]:
                raise RuntimeError(f"sparse_coo_tensor: size is inconsistent with indices: for dim "
                                   f"{d}, size is {size[d]} but found index {int(hi[d])}")
    coalesced = bool(is_coalesced) if is_coalesced is not None else nnz <= 1
    return SparseTensor._from_parts(idx, vals, size, coalesced)


def is_sparse(t):
    return isinstance(t, SparseTensor)


def combine(a, x, b, y):
    """``a * x + b * y`` for sparse ``x`` and ``y`` of one shape, coalesced."""
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
    if g.ndim > 1 and not scale_grad_by_freq and (padding_idx is None or padding_idx < 0) \
            and any(st == 0 and n > 1 for st, n in zip(g.strides[:-1], g.shape)):
        # a broadcast along the lookups (the gradient of a mean or sum over them): keep the
        # values unmade, as an owned copy of the broadcast's source
        src = g[tuple(slice(0, 1) if st == 0 else slice(None) for st in g.strides)].copy()
        return SparseTensor._make(_COO(rows[None], None, (num_weights, width), False,
                                       (src, g.shape)), None, False)
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

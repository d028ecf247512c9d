"""Building and arranging tensors: asarray, scalar_tensor, empty_strided, atleast_1d/2d/3d,
block_diag, cartesian_prod, combinations, column_stack/row_stack/dstack, hsplit/vsplit/dsplit,
meshgrid, tril_indices/triu_indices, diagflat, vander, rot90, unravel_index.

Everything that takes tensors is composed of differentiable ops (cat, reshape, expand, flip,
transpose, indexing, pow), so gradients flow to the inputs."""

import builtins
import math
import itertools

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap_dim
from .._typeinfo import factory_options
from ..backend import to_device_array
from . import shape as sh
from .._warn import warn_user
from ._declare import declare


def _seq(tensors):
    """``f(a, b)`` and ``f([a, b])`` alike."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(tensors[0])
    return tuple(tensors)


# --------------------------------------------------------------------------- factories
def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """A tensor from ``obj`` (tensor, NumPy array, scalar, sequence), sharing its memory when
    dtype and device allow unless ``copy=True``; ``copy=False`` makes a needed copy an error."""
    from .._creation import as_tensor, tensor

    if copy:
        out = tensor(obj, dtype=dtype, device=device)
    else:
        out = as_tensor(obj, dtype=dtype, device=device)
        if copy is False and not _shares(obj, out):
            raise ValueError(
                f"asarray: can't avoid a copy of the {type(obj).__name__} for dtype "
                f"{dtype} and device {device} (copy=False)"
            )
    if requires_grad:
        out = out.detach() if out is obj else out
        out.requires_grad_(True)
    return out


def _shares(obj, out):
    if isinstance(obj, Tensor):
        return obj._data is out._data
    if isinstance(obj, np.ndarray):
        return type(out._data) is np.ndarray and np.shares_memory(obj, out._data)
    return not isinstance(obj, (list, tuple, int, float, bool))


def scalar_tensor(s, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """A 0-d tensor holding ``s``, of the default float dtype unless ``dtype`` is given."""
    from .._creation import tensor

    if layout is not None or pin_memory:
        factory_options("scalar_tensor", layout, pin_memory, device)

    return tensor(s, dtype=dtype or _dtype.get_default_dtype(), device=device, requires_grad=requires_grad)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """An uninitialised tensor of ``size`` whose ``stride()`` is ``stride`` (in elements): a
    strided view over a new buffer of ``1 + sum((size_i - 1) * stride_i)`` elements (none when
    a size is 0), as PyTorch allocates it. Strides may overlap (0 repeats an element); negative
    ones are refused, as in PyTorch."""
    from .._creation import _finish, _memory_error, _np_dtype, _size
    from .._device import to_device
    from ..backend import xp_for
    from ..backend.meta import MetaArray

    if layout is not None or pin_memory:
        factory_options("empty_strided", layout, pin_memory, device)
    size = _size(tuple(size))
    stride = tuple(stride)
    if builtins.any(not isinstance(s, (int, np.integer)) or isinstance(s, bool) for s in stride):
        raise TypeError(f"empty_strided(): argument 'stride' must be a tuple of ints, got {stride!r}")
    stride = tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(
            f"empty_strided: dimensionality of sizes ({len(size)}) must match dimensionality of "
            f"strides ({len(stride)}) (size {list(size)}, stride {list(stride)})"
        )
    if builtins.any(s < 0 for s in stride):
        raise RuntimeError(
            f"empty_strided: storage size calculation overflowed with sizes={list(size)} and "
            f"strides={list(stride)} (negative strides are not supported)"
        )
    npd = _np_dtype(dtype)
    n = 0 if 0 in size else 1 + builtins.sum((n - 1) * s for n, s in zip(size, stride))
    dev = to_device(device)
    if dev.type == "meta":
        return _finish(MetaArray(size, npd, tuple(s * npd.itemsize for s in stride)), requires_grad)
    xp = xp_for(dev)
    try:
        flat = xp.empty(n, npd)
    except (MemoryError, ValueError) as e:
        raise _memory_error(size, npd, e) from None
    arr = xp.lib.stride_tricks.as_strided(flat, size, tuple(s * npd.itemsize for s in stride))
    return _finish(arr, requires_grad)


def _indices_pair(rows, cols, dtype, device):
    from .._creation import tensor

    return tensor(np.stack([rows, cols]).astype(np.int64), dtype=dtype or _dtype.int64, device=device)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None, pin_memory=False):
    """The (2, N) row and column indices of the lower triangle of a row x col matrix, row-major."""
    if layout is not None or pin_memory:
        factory_options("tril_indices", layout, pin_memory, device)
    r, c = np.tril_indices(row, offset, col)
    return _indices_pair(r, c, dtype, device)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None, pin_memory=False):
    """The (2, N) row and column indices of the upper triangle of a row x col matrix, row-major."""
    if layout is not None or pin_memory:
        factory_options("triu_indices", layout, pin_memory, device)
    r, c = np.triu_indices(row, offset, col)
    return _indices_pair(r, c, dtype, device)


def unravel_index(indices, shape):
    """The coordinates, in an array of ``shape`` (C order), of flat ``indices``: a tuple of int64
    tensors shaped like ``indices``. Indices are taken modulo the size, as PyTorch computes them."""
    from .._creation import tensor

    if isinstance(shape, int):
        shape = (shape,)
    shape = tuple(int(s) for s in shape)
    if builtins.any(s < 0 for s in shape):
        raise ValueError(f"unravel_index: 'shape' cannot have negative values, but got {list(shape)}")
    t = indices if isinstance(indices, Tensor) else tensor(indices)
    if t._data.dtype.kind not in "iu":
        raise TypeError(f"unravel_index: expected 'indices' to be integer dtype, but got {t.dtype}")
    rest = t._data.astype(np.int64)
    coords = []
    for s in reversed(shape):
        coords.append(rest % s)
        rest = rest // s
    return tuple(Tensor._make(c, None, False) for c in reversed(coords))


# --------------------------------------------------------------------------- dimension padding
def _atleast(tensors, n, shaper):
    ts = _seq(tensors)
    out = tuple(t if t._data.ndim >= n else t.reshape(shaper(t._data.shape)) for t in ts)
    return out[0] if len(tensors) == 1 and isinstance(tensors[0], Tensor) else out


def atleast_1d(*tensors):
    return _atleast(tensors, 1, lambda s: (1,))


def atleast_2d(*tensors):
    return _atleast(tensors, 2, lambda s: (1,) + s + (1,) * (1 - len(s)))


def atleast_3d(*tensors):
    return _atleast(tensors, 3, lambda s: {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}[len(s)])


# --------------------------------------------------------------------------- stacking and splitting
def column_stack(tensors):
    """Stack 0-d/1-d tensors as columns (and 2-d ones as they are) side by side."""
    return sh.hstack([t.reshape(-1, 1) if t._data.ndim <= 1 else t for t in tensors])


def row_stack(tensors):
    return sh.vstack(tensors)


def dstack(tensors):
    """Concatenate along the third dim after ``atleast_3d``."""
    return sh.cat(list(atleast_3d(list(tensors))), 2)


def _split_along(input, indices_or_sections, dim, name):
    if isinstance(indices_or_sections, int):
        size = input._data.shape[dim]
        if indices_or_sections <= 0 or size % indices_or_sections:
            raise RuntimeError(
                f"torch.{name} attempted to split along dimension {dim}, but the size of the "
                f"dimension {size} is not divisible by the split_size {indices_or_sections}!"
            )
    return sh.tensor_split(input, indices_or_sections, dim)


def hsplit(input, indices_or_sections):
    nd = input._data.ndim
    if nd < 1:
        raise RuntimeError(
            f"torch.hsplit requires a tensor with at least 1 dimension, but got a tensor with {nd} dimensions!"
        )
    return _split_along(input, indices_or_sections, 0 if nd == 1 else 1, "hsplit")


def vsplit(input, indices_or_sections):
    nd = input._data.ndim
    if nd < 2:
        raise RuntimeError(
            f"torch.vsplit requires a tensor with at least 2 dimension, but got a tensor with {nd} dimensions!"
        )
    return _split_along(input, indices_or_sections, 0, "vsplit")


def dsplit(input, indices_or_sections):
    nd = input._data.ndim
    if nd < 3:
        raise RuntimeError(
            f"torch.dsplit requires a tensor with at least 3 dimension, but got a tensor with {nd} dimensions!"
        )
    return _split_along(input, indices_or_sections, 2, "dsplit")


# --------------------------------------------------------------------------- grids and products
def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D tensors: with 'ij' output i varies along dim i; with 'xy' the
    first two dims are swapped (Cartesian, as NumPy's default). The outputs are expanded views."""
    ts = _seq(tensors)
    if indexing is None:
        warn_user(
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.", UserWarning
        )
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    for t in ts:
        if t._data.ndim > 1:
            raise RuntimeError(
                f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got a "
                f"tensor of shape {list(t._data.shape)}"
            )
    ts = [t.reshape(-1) for t in ts]
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t._data.shape[0] for t in ts)
    n = len(ts)
    grids = [t.reshape((1,) * i + (-1,) + (1,) * (n - i - 1)).expand(shape) for i, t in enumerate(ts)]
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def cartesian_prod(*tensors):
    """Every combination of one element from each 1-D tensor, as rows (itertools.product order)."""
    ts = _seq(tensors)
    if len(ts) == 1:
        return ts[0]
    grids = meshgrid(*ts, indexing="ij")
    return sh.stack([g.reshape(-1) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    """The length-``r`` combinations of the elements of a 1-D tensor, as rows."""
    from .._creation import empty
    from .indexing import index_select

    if input._data.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input._data.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return empty(0, dtype=input.dtype, device=input.device)
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = np.array(list(pick(range(input._data.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    flat = Tensor._make(to_device_array(idx.reshape(-1), input.device), None, False)
    return index_select(input, 0, flat).reshape(-1, r)


def block_diag(*tensors):
    """The block-diagonal matrix of the (0-d, 1-d or 2-d) inputs, dtypes promoted."""
    from .._creation import zeros

    ts = []
    for i, t in enumerate(tensors):
        if t._data.ndim > 2:
            raise RuntimeError(
                f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} "
                f"has {t._data.ndim} dimensions"
            )
        ts.append(t.reshape(1, -1) if t._data.ndim < 2 else t)
    dt = _dtype.result_type(*ts) if ts else _dtype.get_default_dtype()
    device = ts[0].device if ts else None
    cols = builtins.sum(t._data.shape[1] for t in ts)
    if not ts:
        return zeros(1, 0, dtype=dt)
    rows, left = [], 0
    for t in ts:
        r, c = t._data.shape
        parts = [zeros(r, left, dtype=dt, device=device), t.to(dt), zeros(r, cols - left - c, dtype=dt, device=device)]
        rows.append(sh.cat(parts, 1))
        left += c
    return sh.cat(rows, 0)


def diagflat(input, offset=0):
    """The flattened input placed on the ``offset``-th diagonal of a square matrix."""
    from .indexing import diag

    return diag(input.reshape(-1), offset)


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of a 1-D tensor: columns x^(N-1) ... x^0 (or increasing powers)."""
    if x._data.ndim != 1:
        raise RuntimeError(f"x must be a one-dimensional tensor (got shape {list(x._data.shape)})")
    n = x._data.shape[0] if N is None else int(N)
    if n < 0:
        raise RuntimeError(f"N must be non-negative (got {n})")
    if x._data.dtype.kind == "b" or x._data.dtype.kind in "iu" and x._data.dtype != np.int64:
        x = x.to(_dtype.int64)
    powers = [x * 0 + 1 if k == 0 else x if k == 1 else x**k for k in range(n)]
    if not increasing:
        powers.reverse()
    if not powers:
        from .._creation import empty

        return empty(x._data.shape[0], 0, dtype=x.dtype, device=x.device)
    return sh.stack(powers, 1)


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees k times in the plane of ``dims``, from the first towards the second."""
    dims = tuple(dims)
    nd = input._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    d0, d1 = (_wrap_dim(d, nd, "rot90") for d in dims)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k %= 4
    if k == 1:
        return sh.flip(input, d1).transpose(d0, d1)
    if k == 2:
        return sh.flip(input, d0, d1)
    if k == 3:
        return sh.flip(input, d0).transpose(d0, d1)
    return input.clone()


# --------------------------------------------------------------------------- range (deprecated)
def range_inclusive(start=0, end=None, step=1, *, dtype=None, layout=None, device=None, requires_grad=False):
    """Deprecated: values start, start + step, ... up to and including ``end`` (default float dtype)."""
    from .._creation import tensor

    if layout is not None:
        factory_options("range", layout, False)

    warn_user(
        "torch.range is deprecated and will be removed in a future release because its behavior "
        "is inconsistent with Python's range builtin. Instead, use torch.arange, which produces "
        "values in [start, end).",
        UserWarning,
    )
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    n = int(math.floor((end - start) / step)) + 1
    values = start + np.arange(builtins.max(n, 0)) * step
    return tensor(values, dtype=dtype or _dtype.get_default_dtype(), device=device, requires_grad=requires_grad)


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(asarray)
declare(scalar_tensor)
declare(empty_strided)
declare(atleast_1d)
declare(atleast_2d)
declare(atleast_3d)
declare(block_diag)
declare(cartesian_prod)
declare(combinations)
declare(column_stack, out=True)
declare(row_stack, out=True)
declare(dstack, out=True)
declare(hsplit, method=True)
declare(vsplit, method=True)
declare(dsplit, method=True)
declare(meshgrid)
declare(tril_indices)
declare(triu_indices)
declare(diagflat, method=True)
declare(vander)
declare(rot90, method=True)
declare(unravel_index)
declare(range_inclusive, name="range", out=True)

"""Strided views: ``Tensor.unfold`` (sliding windows) and ``as_strided``; plus ``narrow_copy``
and ``split_with_sizes``.

unfold(d, size, step) takes every window ``x[..., i*step : i*step + size, ...]`` along dim d,
i = 0 .. L-1 with L = (n - size) // step + 1, as a view of shape (..., L, ..., size): the
window dim is appended last. Its adjoint (the backward) adds each window back where it was
read, so overlapping windows sum:

    grad_x[..., i*step + k, ...] += g[..., i, ..., k]

and the backward of that is unfold again, so both are differentiable to any order.

as_strided(x, size, stride, storage_offset) reads element ``offset + sum_i idx_i * stride_i``
of the storage that x lives in. The backward adds g back at the positions read (summing where
positions repeat).
"""

import numpy as np

from .._tensor import _wrap_dim
from ..autograd._vmap_state import _vm, guard as vmap_guard
from ..backend import to_device_array
from ._registry import Op, apply
from ._declare import declare
from ._registry import LINEAR


def _strided(xp, a, shape, strides, writeable):
    """``a`` seen with another shape and byte strides (read-only on NumPy when elements alias)."""
    if xp is np:
        return np.lib.stride_tricks.as_strided(a, shape, strides, writeable=writeable)
    return xp.lib.stride_tricks.as_strided(a, shape, strides)


# --------------------------------------------------------------------------- unfold
def _unfold_fwd(xp, x, d, size, step, n):
    count = (x.shape[d] - size) // step + 1
    shape = x.shape[:d] + (count,) + x.shape[d + 1 :] + (size,)
    strides = x.strides[:d] + (x.strides[d] * step,) + x.strides[d + 1 :] + (x.strides[d],)
    return _strided(xp, x, shape, strides, writeable=step >= size)


def _unfold_vjp(g, d, size, step, n):
    return unfold_backward(g, d, size, step, n)


UNFOLD = Op("unfold", _unfold_fwd, _unfold_vjp, jvp=LINEAR, is_view=True)


def _unfold_backward_fwd(xp, g, d, size, step, in_shape):
    out = xp.zeros(in_shape, dtype=g.dtype)
    count = g.shape[d]
    lead = (slice(None),) * d
    if size <= count:  # loop over the taps of a window
        for k in range(size):
            out[lead + (slice(k, k + step * (count - 1) + 1, step),)] += g[..., k]
    else:  # loop over the windows
        for i in range(count):
            out[lead + (slice(i * step, i * step + size),)] += xp.moveaxis(g[(slice(None),) * d + (i,)], -1, d)
    return out


UNFOLD_BACKWARD = Op(
    "unfold_backward",
    _unfold_backward_fwd,
    lambda gg, d, size, step, in_shape: unfold(gg, d, size, step),
    jvp=LINEAR,
    node_name="UnfoldBackwardBackward0",
)


def unfold_backward(g, d, size, step, n):
    """The adjoint of unfold: each window of ``g`` added back into a dim of size ``n``."""
    shape = g._data.shape
    in_shape = shape[:d] + (n,) + shape[d + 1 : -1]
    return apply(UNFOLD_BACKWARD, (g,), (d, size, step, in_shape))


def unfold(input, dimension, size, step):
    """Tensor.unfold: every slice of ``size`` elements along ``dimension``, ``step`` apart, as a
    view with the window as a new last dim."""
    x = input
    if x._data.ndim == 0:
        x = x.reshape(1)
    d = _wrap_dim(dimension, x._data.ndim, "unfold")
    n = x._data.shape[d]
    if size < 0 or size > n:
        raise RuntimeError(
            f"unfold: maximum size for tensor at dimension {d} is {n} but size is {size} "
            f"(tensor of shape {list(input._data.shape)})"
        )
    if step <= 0:
        raise RuntimeError(f"unfold: step is {step} but must be > 0")
    out = apply(UNFOLD, (x,), (d, int(size), int(step), n))
    if input._data.ndim == 0:
        # PyTorch: a 0-d input gives shape (size,)
        out = out.reshape(int(size))
    return out


# --------------------------------------------------------------------------- as_strided
def _storage_start(input):
    """Address of the first byte of the storage ``input`` lives in: its root's lowest address."""
    from ..autograd.views import _address

    root = (input._base if input._base is not None else input)._data
    return _address(root) + sum(min(0, (n - 1) * s) for n, s in zip(root.shape, root.strides) if n)


def _storage_positions(input):
    """Position, in elements from the start of its storage, of each element of ``input``."""
    from ..autograd.views import _offsets

    a = input._data
    return (_offsets(a.shape, a.strides) + (_address_of(a) - _storage_start(input))) // a.itemsize


def _address_of(a):
    from ..autograd.views import _address

    return _address(a)


def _as_strided_view(xp, x, start, byte_strides, writeable, src, shape, n, in_shape):
    return _strided(xp, x.reshape(-1)[start:], shape, byte_strides, writeable)


def _as_strided_view_vjp(g, start, byte_strides, writeable, src, shape, n, in_shape):
    return _as_strided_vjp(g, src, shape, n, in_shape)


def _as_strided_gather(xp, x, src, shape, n, in_shape):
    return x.reshape(-1)[src].reshape(shape)


def _as_strided_vjp(g, src, shape, n, in_shape):
    """g added back at the input elements read (``src``: their flat indices in the input)."""
    from .indexing import index_put_zeros

    return index_put_zeros(g.reshape(-1), (src.reshape(-1),), (n,)).reshape(in_shape)


AS_STRIDED_VIEW = Op("as_strided", _as_strided_view, _as_strided_view_vjp, jvp=LINEAR, is_view=True)
AS_STRIDED_GATHER = Op("as_strided", _as_strided_gather, _as_strided_vjp, jvp=LINEAR)


def as_strided(input, size, stride, storage_offset=None):
    """A tensor of shape ``size`` whose element idx is storage element
    ``storage_offset + sum_i idx_i * stride_i`` (strides and offset in elements).

    The storage is that of ``input``'s root tensor, as in PyTorch. The elements read must
    belong to ``input`` itself (reading parts of the base that ``input`` does not cover is
    refused: their gradient would not reach ``input``). A C-contiguous ``input`` gives a view;
    otherwise the values are gathered into a new tensor."""
    if _vm.active:
        vmap_guard(input)  # addresses in the batch's storage: vmap runs once per example
    size = tuple(int(s) for s in size)
    stride = tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(
            f"as_strided: mismatch in length of strides and shape ({len(size)} sizes, {len(stride)} strides)"
        )
    if any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise RuntimeError(
            f"as_strided: negative sizes or strides are not supported (size {list(size)}, stride {list(stride)})"
        )
    numel = input._data.size
    own = (_address_of(input._data) - _storage_start(input)) // input._data.itemsize
    offset = own if storage_offset is None else int(storage_offset)
    pos = np.full(size, offset, dtype=np.int64)
    for d, (n, s) in enumerate(zip(size, stride)):
        pos = pos + (np.arange(n, dtype=np.int64) * s).reshape((n,) + (1,) * (len(size) - d - 1))
    contiguous = input._data.flags.c_contiguous
    if contiguous:
        src = pos - own  # element k of the input sits at storage position own + k
        ok = src.size == 0 or (src.min() >= 0 and src.max() < numel)
    else:
        mine = _storage_positions(input)
        lookup = np.full(int(mine.max()) + 1 if numel else 0, -1, dtype=np.int64)
        lookup[mine.reshape(-1)] = np.arange(numel)
        ok = pos.size == 0 or (pos.min() >= 0 and pos.max() < lookup.size)
        src = lookup[pos] if ok else pos
        ok = ok and (src.size == 0 or src.min() >= 0)
    if not ok:
        raise RuntimeError(
            f"as_strided: size {list(size)}, stride {list(stride)} and storage offset {offset} read "
            f"elements outside the input (shape {list(input._data.shape)}, storage offset {own}); "
            f"retrograd's as_strided reads only the input's own elements"
        )
    src_dev = to_device_array(src, input.device)
    in_shape = input._data.shape
    if contiguous and numel:
        item = input._data.itemsize
        writeable = np.unique(src).size == src.size
        return apply(
            AS_STRIDED_VIEW,
            (input,),
            (offset - own, tuple(s * item for s in stride), writeable, src_dev, size, numel, in_shape),
        )
    return apply(AS_STRIDED_GATHER, (input,), (src_dev, size, numel, in_shape))


# --------------------------------------------------------------------------- copies and splits
def narrow_copy(input, dim, start, length):
    """``narrow`` as a new tensor (not a view)."""
    from .shape import narrow

    return narrow(input, dim, start, length).clone()


def split_with_sizes(input, split_sizes, dim=0):
    """Split into pieces of the listed sizes (which must sum to the size of ``dim``); views."""
    from .shape import split

    if isinstance(split_sizes, int):
        raise TypeError("split_with_sizes(): argument 'split_sizes' must be a sequence of ints, not int")
    return split(input, list(split_sizes), dim)


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(as_strided, method=True)
declare(narrow_copy, method=True, out=True)
declare(split_with_sizes, method=True)
declare(unfold, torch=False, method=True)

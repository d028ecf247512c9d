"""Smaller PyTorch names, each composed of existing ops: addbmm/addr/adjoint/chain_matmul,
bit shifts, the complex-number queries on real tensors (conj, real, isreal ...), the *_copy and
unsafe_* aliases, put, fill_diagonal_, histogram, gradient, range.

gradient(f) estimates df/dx along each dim by second-order central differences inside,
(f[i+1] - f[i-1]) / (2h) for a uniform spacing h and, for coordinates x with steps
a = x[i] - x[i-1], b = x[i+1] - x[i],
    (a^2 f[i+1] - b^2 f[i-1] + (b^2 - a^2) f[i]) / (a b (a + b)),
with one-sided first- or second-order differences at the ends (edge_order 1 or 2), as NumPy.
"""
import builtins
import math
from collections import namedtuple

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap_dim
from ..backend import array_module
from . import elementwise as ew
from . import shape as sh
from .linalg import bmm, matmul
from .._warn import warn_user
from ._declare import declare
from .complex import conj, imag
from .._autocast import EXCLUDE, LOWER, ACTIVE as _AMP, _amp, autocast_call


# --------------------------------------------------------------------------- products
def _scaled_sum(input, prod, beta, alpha):
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        return prod + ew.where(ew.isnan(input), 0.0, input) * 0  # PyTorch ignores input when beta = 0
    return prod + (input if beta == 1 else input * beta)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * sum_b batch1[b] @ batch2[b]"""
    if _AMP[0] and _amp.on:
        return autocast_call(addbmm, LOWER, input, batch1, batch2, beta=beta, alpha=alpha)
    return _scaled_sum(input, bmm(batch1, batch2).sum(0), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """beta * input + alpha * outer(vec1, vec2)"""
    if _AMP[0] and _amp.on:
        return autocast_call(addr, EXCLUDE, input, vec1, vec2, beta=beta, alpha=alpha)
    if vec1._data.ndim != 1 or vec2._data.ndim != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec1 and vec2, but got {vec1._data.ndim}-D and "
                           f"{vec2._data.ndim}-D")
    return _scaled_sum(input, vec1.unsqueeze(1) * vec2.unsqueeze(0), beta, alpha)


def adjoint(input):
    """The conjugate transpose of the last two dims (a transpose for real tensors), as a view."""
    if input._data.ndim < 2:
        raise RuntimeError(f"tensor.adjoint() is only supported on matrices or batches of matrices. Got "
                           f"{input._data.ndim}-D tensor.")
    return conj(sh.transpose(input, -2, -1))


def chain_matmul(*matrices):
    """matrices[0] @ matrices[1] @ ... (deprecated in PyTorch in favour of linalg.multi_dot)."""
    if _AMP[0] and _amp.on:
        return autocast_call(chain_matmul, LOWER, *matrices)
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    out = matrices[0]
    for m in matrices[1:]:
        out = matmul(out, m)
    return out


# --------------------------------------------------------------------------- bit shifts
def _shift(name, input, other):
    x, y = ew._operands(input, other)
    ref = x if isinstance(x, Tensor) else y
    if ref._data.dtype.kind not in "iub" or ref._data.dtype.kind == "b":
        raise NotImplementedError(f"\"{'lshift' if name == 'left_shift' else 'rshift'}_cpu\" not implemented "
                                  f"for '{ref.dtype}'")
    a = x._data if isinstance(x, Tensor) else x
    b = y._data if isinstance(y, Tensor) else y
    return Tensor._make(getattr(array_module(ref._data), name)(a, b).astype(ref._data.dtype, copy=False), None, False)


def bitwise_left_shift(input, other):
    """input << other (integer tensors)."""
    return _shift("left_shift", input, other)


def bitwise_right_shift(input, other):
    """input >> other, arithmetic for signed integers."""
    return _shift("right_shift", input, other)


def _rlshift(self, other):
    return bitwise_left_shift(other, self)


def _rrshift(self, other):
    return bitwise_right_shift(other, self)


# --------------------------------------------------------------------------- complex queries
conj_physical = conj


def conj_physical_(input):
    """Conjugate in place (nothing to do for real dtypes)."""
    if input._data.dtype.kind == "c":
        if input._rg:
            raise RuntimeError(f"conj_physical_: in-place conjugation of a tensor that requires grad "
                               f"(shape {list(input._data.shape)}) is not supported; use conj()")
        d = input._data
        d[...] = array_module(d).conj(d)
        input._version_counter().bump()
    return input


def is_conj(input):
    return False  # conj() returns a conjugated copy, never a lazily conjugated view


def is_neg(input):
    return False


def resolve_conj(input):
    return input


resolve_neg = resolve_conj


def isreal(input):
    """True where the element is real (its imaginary part is 0; everywhere for real dtypes)."""
    if input._data.dtype.kind == "c":
        return imag(input).detach() == 0
    from .._creation import ones_like
    return ones_like(input, dtype=_dtype.bool)


# --------------------------------------------------------------------------- aliases that copy
def _copying(fn, name):
    def copy_op(input, *args, **kwargs):
        out = fn(input, *args, **kwargs)
        if isinstance(out, (tuple, list)):
            return type(out)(o.clone() for o in out)
        return out.clone()
    copy_op.__name__ = name
    copy_op.__doc__ = f"``{fn.__name__}`` as new tensors (no views)."
    return copy_op


def _view_copy(input, *shape):
    return sh.view(input, *shape)


def _slice_copy(input, dim=0, start=None, end=None, step=1):
    from .indexing import getitem
    d = _wrap_dim(dim, input._data.ndim, "slice_copy")
    return getitem(input, (slice(None),) * d + (slice(start, end, step),))


def _unfold(input, dimension, size, step):
    from .strided import unfold
    return unfold(input, dimension, size, step)


def _as_strided(input, size, stride, storage_offset=None):
    from .strided import as_strided
    return as_strided(input, size, stride, storage_offset)


def _diagonal(input, offset=0, dim1=0, dim2=1):
    from .indexing import diagonal
    return diagonal(input, offset, dim1, dim2)


def _split_with_sizes(input, split_sizes, dim=0):
    from .strided import split_with_sizes
    return split_with_sizes(input, split_sizes, dim)


alias_copy = _copying(lambda input: input, "alias_copy")
detach_copy = _copying(lambda input: input.detach(), "detach_copy")
expand_copy = _copying(lambda input, size, *, implicit=False: sh.expand(input, size), "expand_copy")
permute_copy = _copying(sh.permute, "permute_copy")
select_copy = _copying(sh.select, "select_copy")
slice_copy = _copying(_slice_copy, "slice_copy")
split_copy = _copying(sh.split, "split_copy")
split_with_sizes_copy = _copying(_split_with_sizes, "split_with_sizes_copy")
squeeze_copy = _copying(sh.squeeze, "squeeze_copy")
t_copy = _copying(sh.t, "t_copy")
transpose_copy = _copying(sh.transpose, "transpose_copy")
unbind_copy = _copying(sh.unbind, "unbind_copy")
unfold_copy = _copying(_unfold, "unfold_copy")
unsqueeze_copy = _copying(sh.unsqueeze, "unsqueeze_copy")
view_copy = _copying(_view_copy, "view_copy")
diagonal_copy = _copying(_diagonal, "diagonal_copy")
as_strided_copy = _copying(_as_strided, "as_strided_copy")
unsafe_chunk = sh.chunk
unsafe_split = sh.split
unsafe_split_with_sizes = _split_with_sizes


def detach(input):
    return input.detach()


def fill(input, value):
    """A tensor like ``input`` filled with ``value`` (out of place; the gradient goes to value)."""
    from .inplace import fill_
    return fill_(sh.clone(input), value)


# --------------------------------------------------------------------------- put, fill_diagonal_
def put(input, index, source, accumulate=False):
    """A copy of ``input`` with ``source`` written (or added) at the flat positions ``index``."""
    from .indexing import index_put
    if index._data.dtype.kind not in "iu":
        raise RuntimeError(f"put(): Expected a long tensor for index, but got {index.dtype}")
    if index._data.size != source._data.size:
        raise RuntimeError(f"put(): Expected source and index to have the same number of elements, but got "
                           f"source.numel() = {source._data.size}, index.numel() = {index._data.size}")
    n = input._data.size
    flat_index = index.reshape(-1)
    if n and bool(((flat_index._data < -n) | (flat_index._data >= n)).any()):
        raise IndexError(f"put(): index out of range for a tensor of {n} elements")
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


# --------------------------------------------------------------------------- histogram
histogram_result = namedtuple("histogram", ["hist", "bin_edges"])


def histogram(input, bins=100, *, range=None, weight=None, density=False):
    """Counts (or weighted sums, or a density) of ``input`` in ``bins`` equal bins over ``range``
    (the data's range by default) or between the given bin edges; (hist, bin_edges)."""
    a = input._data
    if a.dtype.kind not in "fV":
        raise RuntimeError(f"torch.histogram: input tensor and bins tensors should have the same dtype, but "
                           f"got input {input.dtype}")
    xp = array_module(a)
    edges = bins._data if isinstance(bins, Tensor) else int(bins)
    w = None if weight is None else weight._data
    hist, bin_edges = xp.histogram(a.reshape(-1), bins=edges, range=range,
                                   weights=None if w is None else w.reshape(-1), density=density)
    return histogram_result(Tensor._make(hist.astype(a.dtype), None, False),
                            Tensor._make(xp.asarray(bin_edges).astype(a.dtype), None, False))


# --------------------------------------------------------------------------- range
def range(start=0, end=None, step=1, *, dtype=None, layout=None, device=None, requires_grad=False):
    """Deprecated: values start, start + step, ... up to and including ``end`` (default float dtype)."""
    from .._creation import tensor
    warn_user("torch.range is deprecated and will be removed in a future release because its behavior "
              "is inconsistent with Python's range builtin. Instead, use torch.arange, which produces "
              "values in [start, end).", UserWarning)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    n = int(math.floor((end - start) / step)) + 1
    values = start + np.arange(builtins.max(n, 0)) * step
    return tensor(values, dtype=dtype or _dtype.get_default_dtype(), device=device, requires_grad=requires_grad)


# --------------------------------------------------------------------------- gradient
def _axis_gradient(f, d, h, edge_order):
    """df/dx along d; h is a number (uniform spacing) or a 1-D coordinates tensor."""
    n = f._data.shape[d]
    if n < edge_order + 1:
        raise RuntimeError(f"torch.gradient expected each dimension size to be at least edge_order+1 "
                           f"(got size {n} along dim {d}, edge_order {edge_order})")

    def at(start, length):
        return f.narrow(d, start, length)

    def coords(v):
        return v.reshape((-1,) + (1,) * (f._data.ndim - d - 1))

    if isinstance(h, Tensor):
        x = h.to(f.dtype)
        dx = x[1:] - x[:-1]
        a, b = coords(dx[:-1]), coords(dx[1:])
        inner = (a * a * at(2, n - 2) - b * b * at(0, n - 2) + (b * b - a * a) * at(1, n - 2)) / (a * b * (a + b))
        if edge_order == 1:
            first = (at(1, 1) - at(0, 1)) / dx[0]
            last = (at(n - 1, 1) - at(n - 2, 1)) / dx[-1]
        else:
            h1, h2 = dx[0], dx[1]
            first = (-(2 * h1 + h2) / (h1 * (h1 + h2)) * at(0, 1) + (h1 + h2) / (h1 * h2) * at(1, 1)
                     - h1 / (h2 * (h1 + h2)) * at(2, 1))
            h1, h2 = dx[-2], dx[-1]
            last = (h2 / (h1 * (h1 + h2)) * at(n - 3, 1) - (h1 + h2) / (h1 * h2) * at(n - 2, 1)
                    + (2 * h2 + h1) / (h2 * (h1 + h2)) * at(n - 1, 1))
    else:
        h = float(h)
        inner = (at(2, n - 2) - at(0, n - 2)) / (2 * h)
        if edge_order == 1:
            first = (at(1, 1) - at(0, 1)) / h
            last = (at(n - 1, 1) - at(n - 2, 1)) / h
        else:
            first = (-1.5 * at(0, 1) + 2 * at(1, 1) - 0.5 * at(2, 1)) / h
            last = (0.5 * at(n - 3, 1) - 2 * at(n - 2, 1) + 1.5 * at(n - 1, 1)) / h
    return sh.cat([first, inner, last], d)


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Estimates of the derivative of ``input`` along each of ``dim`` (all dims by default), one
    tensor per dim. ``spacing``: a number, one number per dim, or one coordinates tensor per dim."""
    if edge_order not in (1, 2):
        raise RuntimeError(f"torch.gradient only supports edge_order=1 and edge_order=2 (got {edge_order})")
    nd = input._data.ndim
    if dim is None:
        dims = list(builtins.range(nd))
    elif isinstance(dim, int):
        dims = [_wrap_dim(dim, nd, "gradient")]
    else:
        dims = [_wrap_dim(d, nd, "gradient") for d in dim]
    if isinstance(spacing, (list, tuple)):
        spacings = list(spacing)
        if len(spacings) == 1 and len(dims) > 1 and not isinstance(spacings[0], Tensor):
            spacings = spacings * len(dims)
        if len(spacings) != len(dims):
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or it's spacing and "
                               f"dim arguments to have the same length, but got a spacing argument of length "
                               f"{len(spacings)} and a dim argument of length {len(dims)}.")
    else:
        spacings = [spacing] * len(dims)
    f = ew._float_input(input)
    return tuple(_axis_gradient(f, d, h, edge_order) for d, h in zip(dims, spacings))


# --------------------------------------------------------------------------- memory no-ops
def pin_memory(self, device=None):
    """The tensor itself: host memory is not pinned (page-locked) by retrograd."""
    return self


def is_pinned(self, device=None):
    return False


def share_memory_(self):
    """The tensor itself: not moved to shared memory (DataLoader workers send tensors by value)."""
    return self


def is_shared(self):
    return False


def new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad=False, layout=None,
                      pin_memory=False):
    from .construct import empty_strided
    return empty_strided(size, stride, dtype=dtype or self.dtype, device=device or self.device,
                         requires_grad=requires_grad)


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(addbmm, method=True, inplace=True, out=True)
declare(addr, method=True, inplace=True, out=True)
declare(adjoint, method=True)
declare(chain_matmul, out=True)
declare(bitwise_left_shift, method=True, inplace=True, out=True)
declare(bitwise_right_shift, method=True, inplace=True, out=True)
declare(resolve_conj, aliases=("resolve_neg",), method=True)
declare(conj, name="conj_physical", method=True, inplace=conj_physical_, torch_inplace=("conj_physical_",),
        out=True)
declare(is_conj, method=True)
declare(is_neg, method=True)
declare(isreal, method=True)
declare(alias_copy, out=True)
declare(detach_copy, out=True)
declare(expand_copy, out=True)
declare(permute_copy, out=True)
declare(select_copy, out=True)
declare(slice_copy, out=True)
declare(split_copy, out=True)
declare(split_with_sizes_copy, out=True)
declare(squeeze_copy, out=True)
declare(t_copy, out=True)
declare(transpose_copy, out=True)
declare(unbind_copy, out=True)
declare(unfold_copy, out=True)
declare(unsqueeze_copy, out=True)
declare(view_copy, out=True)
declare(diagonal_copy, out=True)
declare(as_strided_copy, out=True)
declare(_split_with_sizes, name="unsafe_split_with_sizes", method=True)
declare(detach)
declare(fill)
declare(put, method=True, inplace=True)
declare(histogram, method=True, out=True)
declare(gradient)
declare(range, out=True)
declare(fill_diagonal_, torch=False, method=True)
declare(pin_memory, torch=False, method=True)
declare(is_pinned, torch=False, method=True)
declare(share_memory_, torch=False, method=True)
declare(is_shared, torch=False, method=True)
declare(new_empty_strided, torch=False, method=True)

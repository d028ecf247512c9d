"""Pooling: max_pool{1,2,3}d, avg_pool{1,2,3}d, adaptive_avg_pool{1,2,3}d, adaptive_max_pool{1,2,3}d.

The pooled dims are the last ``nd``; every dim before them is batch. Windows follow the
geometry of ``ops/_window.py``.

Max pooling takes the maximum of the prod(K) strided views of the padded input, one per kernel
tap, and records which tap won (the first maximum in row-major order; NaN wins, as in PyTorch).
Its backward adds each gradient at the winning position (``POOL_SCATTER``), whose adjoint reads
the values back at those positions (``POOL_GATHER``): each is the other's backward.

Average pooling is a sum of the strided views divided by the window's element count; its
adjoint spreads g / count over the window, and again each is the other's backward.

Adaptive average pooling is linear and separable: out = x contracted on each pooled dim with a
constant (O, S) averaging matrix, written with matmul. Adaptive max pooling gathers the argmax
of each window, so its backward is scatter_add.
"""
import numpy as np

from .._tensor import Tensor
from ._registry import Op, apply
from ._registry import LINEAR
from ._window import crop, make_window, ntuple, pad_array, tap_index, window_view


# --------------------------------------------------------------------------- max pooling ops
def _lowest(xp, dtype):
    if dtype.kind == "f":
        return -xp.inf
    if dtype.kind == "b":
        return False
    return xp.iinfo(dtype).min


def _disjoint(win):
    """Whether no input position lies in two windows (each window's span fits in its stride)."""
    return all(s >= d * (k - 1) + 1 for k, s, d in zip(win.kernel, win.stride, win.dilation))


def _tiled(win):
    """Whether every padded position lies in exactly one window."""
    return all(s == k and (k == 1 or d == 1) and o * k == p
               for k, s, d, o, p in zip(win.kernel, win.stride, win.dilation, win.out, win.padded))


def _taps(xp, xpad, win, axis):
    """The values each kernel tap reads, one array per tap in row-major tap order. Disjoint
    windows are copied once into one contiguous (prod(K), ..., *O) array, no larger than the
    input: the passes over contiguous taps then run about 4x faster than over strided views,
    which more than pays for the copy (2x2 pooling of 64x16x28x28: 0.62 -> 0.40 ms)."""
    if not _disjoint(win):
        return [xpad[tap_index(win, axis, tap)] for tap in win.offsets()]
    nd = win.nd
    view = window_view(xp, xpad, win, axis)                       # (..., *K, *O), no copy
    taps = xp.ascontiguousarray(xp.moveaxis(view, tuple(range(axis, axis + nd)), tuple(range(nd))))
    return list(taps.reshape((win.taps,) + taps.shape[nd:]))


def _first_max(xp, taps, dt, nan):
    """The max over the taps and the index of the tap holding it: the first one, or with
    ``nan`` the last NaN (PyTorch's rule). The index only grows, so it is updated with a
    maximum rather than a select (NumPy's where/copyto run about 20x slower)."""
    out = taps[0].copy() if len(taps) == 1 else xp.maximum(taps[0], taps[1])
    arg = xp.zeros(out.shape, dtype=dt)
    for j in range(1, len(taps)):
        v = taps[j]
        better = v > (taps[0] if j == 1 else out)
        if nan:
            better |= xp.isnan(v)
        if j > 1:
            xp.maximum(out, v, out=out)     # NaN stays, as PyTorch keeps it
        xp.maximum(arg, xp.multiply(better, j, dtype=dt), out=arg)
    return out, arg


def _window_max(xp, x, win):
    """The max over each window (last nd dims) and the row-major tap of its first maximum."""
    axis = x.ndim - win.nd
    xpad = pad_array(xp, x, win, axis, _lowest(xp, x.dtype))
    taps = _taps(xp, xpad, win, axis)
    dt = xp.uint8 if win.taps <= 256 else xp.int32
    out, arg = _first_max(xp, taps, dt, False)
    if x.dtype.kind == "f" and bool(xp.isnan(out).any()):
        out, arg = _first_max(xp, taps, dt, True)
    return out, arg


def _pool_scatter(xp, g, arg, win):
    """Each output's gradient added at the input position of its window's recorded tap."""
    axis = g.ndim - win.nd
    shape = g.shape[:axis] + win.padded
    # g * mask is exact only for finite g (inf * 0 is NaN); where() is exact but much slower
    finite = g.dtype.kind != "f" or bool(xp.isfinite(g).all())
    if _disjoint(win):
        # each position gets at most one tap's value: write it, no zero fill where tiled
        gx = xp.empty(shape, dtype=g.dtype) if _tiled(win) else xp.zeros(shape, dtype=g.dtype)
        for j, tap in enumerate(win.offsets()):
            mask = arg == j
            if finite:
                xp.multiply(g, mask, out=gx[tap_index(win, axis, tap)])
            else:
                gx[tap_index(win, axis, tap)] = xp.where(mask, g, 0)
        return xp.ascontiguousarray(crop(gx, win, axis))
    gx = xp.zeros(shape, dtype=g.dtype)
    for j, tap in enumerate(win.offsets()):
        mask = arg == j
        gx[tap_index(win, axis, tap)] += g * mask if finite else xp.where(mask, g, 0)
    return xp.ascontiguousarray(crop(gx, win, axis))


def _pool_gather(xp, x, arg, win):
    """The input value at each window's recorded tap."""
    axis = x.ndim - win.nd
    xpad = pad_array(xp, x, win, axis)
    out = xp.zeros(arg.shape, dtype=x.dtype)
    finite = x.dtype.kind != "f" or bool(xp.isfinite(x).all())
    for j, tap in enumerate(win.offsets()):
        v, mask = xpad[tap_index(win, axis, tap)], arg == j
        if finite:
            out += v * mask
        else:
            xp.copyto(out, v, where=mask)
    return out


POOL_SCATTER = Op("max_pool_backward", _pool_scatter,
                  lambda g, arg, win: apply(POOL_GATHER, (g,), (arg, win)), jvp=LINEAR,
                  node_name="MaxPoolBackwardBackward0")
POOL_GATHER = Op("max_pool_gather", _pool_gather,
                 lambda g, arg, win: apply(POOL_SCATTER, (g,), (arg, win)), jvp=LINEAR,
                 node_name="MaxPoolWithIndicesBackward0")
MAX_POOL = {nd: Op(f"max_pool{nd}d", lambda xp, x, win: _window_max(xp, x, win),
                   lambda g, arg, win: apply(POOL_SCATTER, (g,), (arg, win)), save=("extra",),
                   node_name=f"MaxPool{nd}DWithIndicesBackward0") for nd in (1, 2, 3)}


def _flat_indices(xp, arg, win):
    """Recorded taps -> flat indices into each unpadded input plane (PyTorch's indices)."""
    taps = xp.unravel_index(arg, win.kernel)
    nd = win.nd
    flat = 0
    for i, (S, s, d, (lo, _), o) in enumerate(zip(win.size, win.stride, win.dilation, win.pad, win.out)):
        pos = xp.arange(o).reshape((o,) + (1,) * (nd - 1 - i)) * s - lo + taps[i].astype(xp.int64) * d
        flat = flat * S + pos
    return flat.astype(xp.int64)


# --------------------------------------------------------------------------- average pooling ops
def _divisor(xp, win, count_include_pad, divisor_override):
    """Per output position, what its window sum is divided by (a number when all agree)."""
    if divisor_override is not None:
        return divisor_override
    total = 1
    for i, (S, K, s, (p, _), o) in enumerate(zip(win.size, win.kernel, win.stride, win.pad, win.out)):
        start = np.arange(o) * s - p
        end = np.minimum(start + K, S + p)
        count = end - start if count_include_pad else np.minimum(end, S) - np.maximum(start, 0)
        total = total * count.reshape((o,) + (1,) * (win.nd - 1 - i))
    total = np.broadcast_to(total, win.out)
    if (total == total.flat[0]).all():
        return int(total.flat[0])
    return xp.asarray(total)


def _avg_pool(xp, x, win, count_include_pad, divisor_override):
    axis = x.ndim - win.nd
    xpad = pad_array(xp, x, win, axis)
    out = None
    for tap in win.offsets():
        v = xpad[tap_index(win, axis, tap)]
        if out is None:
            out = v.copy()
        else:
            out += v
    div = _divisor(xp, win, count_include_pad, divisor_override)
    if x.dtype.kind != "f":
        return (out / div).astype(x.dtype)
    return (out / div).astype(x.dtype, copy=False)


def _avg_pool_t(xp, g, win, count_include_pad, divisor_override):
    axis = g.ndim - win.nd
    gd = (g / _divisor(xp, win, count_include_pad, divisor_override)).astype(g.dtype, copy=False)
    gx = xp.zeros(g.shape[:axis] + win.padded, dtype=g.dtype)
    for tap in win.offsets():
        gx[tap_index(win, axis, tap)] += gd
    return xp.ascontiguousarray(crop(gx, win, axis))


AVG_POOL_T = Op("avg_pool_backward", _avg_pool_t,
                lambda g, win, *args: apply(AVG_POOL[win.nd], (g,), (win,) + args), jvp=LINEAR,
                node_name="AvgPoolBackwardBackward0")
AVG_POOL = {nd: Op(f"avg_pool{nd}d", _avg_pool, lambda g, *args: apply(AVG_POOL_T, (g,), args),
                   node_name=f"AvgPool{nd}DBackward0") for nd in (1, 2, 3)}


# --------------------------------------------------------------------------- argument checks
def _check_input(input, nd, op):
    shape = tuple(input._data.shape)
    if input._data.ndim not in (nd + 1, nd + 2) or any(s == 0 for s in shape[-nd - 1:]):
        raise RuntimeError(f"{op}: expected a {nd + 1}D or {nd + 2}D (batch mode) tensor with "
                           f"non-zero sizes except the batch dim, but got input of size "
                           f"{list(shape)}")


def _pool_window(input, nd, op, kernel_size, stride, padding, dilation, ceil_mode):
    kernel = ntuple(kernel_size, nd, "kernel_size", op)
    stride = kernel if stride is None or (isinstance(stride, (list, tuple)) and not stride) \
        else ntuple(stride, nd, "stride", op)
    padding = ntuple(padding, nd, "padding", op)
    dilation = ntuple(dilation, nd, "dilation", op)
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"{op}: kernel_size must be greater than zero, but got {kernel}")
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"{op}: stride must be greater than zero, but got {stride}")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"{op}: dilation must be greater than zero, but got {dilation}")
    if any(p < 0 for p in padding):
        raise RuntimeError(f"{op}: pad must be non-negative, but got pad: {padding}")
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise RuntimeError(f"{op}: pad should be at most half of kernel size, but got pad="
                           f"{padding}, kernel_size={kernel} and dilation={dilation}")
    size = tuple(input._data.shape[-nd:])
    win = make_window(size, kernel, stride, dilation, tuple((p, p) for p in padding), ceil_mode)
    if any(o <= 0 for o in win.out):
        channels = input._data.shape[-nd - 1]
        raise RuntimeError(f"{op}: given input size: ({'x'.join(map(str, (channels,) + size))}). "
                           f"Calculated output size: "
                           f"({'x'.join(map(str, (channels,) + win.out))}). Output size is too small")
    return win


# --------------------------------------------------------------------------- max_pool
def _max_poolnd(nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    op = f"max_pool{nd}d"
    _check_input(input, nd, op)
    win = _pool_window(input, nd, op, kernel_size, stride, padding, dilation, ceil_mode)
    if not return_indices:
        return apply(MAX_POOL[nd], (input,), (win,))
    from ..backend import array_module
    xp = array_module(input._data)
    _, arg = _window_max(xp, input._data, win)
    out = apply(POOL_GATHER, (input,), (arg, win))
    return out, Tensor._make(_flat_indices(xp, arg, win), None, False)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over windows of the last dim: input (N, C, L) or (C, L)."""
    return _max_poolnd(1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over kH x kW windows: input (N, C, H, W) or (C, H, W); padding counts as -inf.
    ``stride`` defaults to ``kernel_size``. With ``return_indices`` also returns, per output,
    the flat index h * W + w of its maximum in the input plane."""
    return _max_poolnd(2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over kD x kH x kW windows: input (N, C, D, H, W) or (C, D, H, W)."""
    return _max_poolnd(3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


# --------------------------------------------------------------------------- avg_pool
def _avg_poolnd(nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    op = f"avg_pool{nd}d"
    _check_input(input, nd, op)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError(f"{op}: divisor must be not zero")
    win = _pool_window(input, nd, op, kernel_size, stride, padding, 1, ceil_mode)
    return apply(AVG_POOL[nd], (input,), (win, bool(count_include_pad), divisor_override))


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over windows of the last dim: input (N, C, L) or (C, L)."""
    return _avg_poolnd(1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over kH x kW windows: the window sum divided by its size (padding included when
    ``count_include_pad``; ceil-mode overhang never counted), or by ``divisor_override``."""
    return _avg_poolnd(2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    return _avg_poolnd(3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override)


# --------------------------------------------------------------------------- adaptive pooling
def _adaptive_sizes(input, nd, output_size, op):
    if input._data.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}(): Expected {nd + 1}D or {nd + 2}D tensor, but got "
                           f"{list(input._data.shape)}")
    size = tuple(input._data.shape[-nd:])
    if isinstance(output_size, (list, tuple)):
        if len(output_size) != nd:
            raise RuntimeError(f"{op}: output_size must be an int or a tuple of {nd} ints, "
                               f"got {tuple(output_size)}")
        out = tuple(S if o is None else int(o) for o, S in zip(output_size, size))
    else:
        out = (int(output_size),) * nd
    if any(o < 0 for o in out):
        raise RuntimeError(f"{op}: output_size must be non-negative, got {out}")
    if any(S == 0 for S in size):
        raise RuntimeError(f"{op}: expected input with non-zero spatial size, but got "
                           f"{list(input._data.shape)}")
    return size, out


def _adaptive_bounds(S, O):
    """Window i covers [floor(i S / O), ceil((i + 1) S / O))."""
    i = np.arange(O)
    return (i * S) // O, -((-(i + 1) * S) // O)


def _averaging_matrix(S, O):
    start, end = _adaptive_bounds(S, O)
    cols = np.arange(S)
    inside = (cols >= start[:, None]) & (cols < end[:, None])
    return inside / (end - start)[:, None]


def _adaptive_avg_poolnd(nd, input, output_size):
    from .._creation import tensor
    op = f"adaptive_avg_pool{nd}d"
    size, out = _adaptive_sizes(input, nd, output_size, op)
    x = input
    for i in range(nd):
        dim = input._data.ndim - nd + i
        a = tensor(_averaging_matrix(size[i], out[i]).T, dtype=input.dtype, device=input.device)
        x = (x.movedim(dim, -1) @ a).movedim(-1, dim)
    return x


def adaptive_avg_pool1d(input, output_size):
    """Mean over L_out windows of the last dim that cover it as evenly as possible."""
    return _adaptive_avg_poolnd(1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Mean over an output_size grid of windows: window i of a dim of size S covers
    [floor(i S / O), ceil((i + 1) S / O)). ``None`` in output_size keeps that dim's size."""
    return _adaptive_avg_poolnd(2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    return _adaptive_avg_poolnd(3, input, output_size)


def _adaptive_argmax(xp, x, size, out):
    """Flat in-plane index of each adaptive window's (first) maximum."""
    nd = len(size)
    grids, flat = [], 0
    for i, (S, O) in enumerate(zip(size, out)):
        start, end = _adaptive_bounds(S, O)
        k = int((end - start).max()) if O else 1
        # windows padded to k taps by repeating their last element (does not change the max)
        idx = np.minimum(start[:, None] + np.arange(k), end[:, None] - 1)
        shape = [1] * (2 * nd)
        shape[2 * i], shape[2 * i + 1] = O, k
        grids.append(xp.asarray(idx.reshape(shape)))
        flat = flat * S + grids[-1]
    vals = x[(Ellipsis,) + tuple(grids)]                       # (..., O1, K1, O2, K2, ...)
    lead = vals.ndim - 2 * nd
    order = tuple(range(lead)) + tuple(lead + 2 * i for i in range(nd)) + \
        tuple(lead + 2 * i + 1 for i in range(nd))
    vals = vals.transpose(order).reshape(vals.shape[:lead] + tuple(out) + (-1,))
    flat = flat.transpose(tuple(2 * i for i in range(nd)) + tuple(2 * i + 1 for i in range(nd)))
    flat = flat.reshape(tuple(out) + (-1,))
    tap = xp.argmax(vals, axis=-1)
    return xp.take_along_axis(xp.broadcast_to(flat, vals.shape), tap[..., None], -1)[..., 0]


def _adaptive_max_poolnd(nd, input, output_size, return_indices):
    from .indexing import gather
    op = f"adaptive_max_pool{nd}d"
    size, out = _adaptive_sizes(input, nd, output_size, op)
    if any(o == 0 for o in out):
        raise RuntimeError(f"{op}: output_size must be positive, got {out}")
    from ..backend import array_module
    xp = array_module(input._data)
    idx = _adaptive_argmax(xp, input._data, size, out).astype(xp.int64)
    lead = input._data.shape[:-nd]
    flat_idx = Tensor._make(idx.reshape(lead + (-1,)), None, False)
    values = gather(input.flatten(-nd) if nd > 1 else input, -1, flat_idx).reshape(lead + out)
    if return_indices:
        return values, Tensor._make(idx, None, False)
    return values


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive_max_poolnd(1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over the adaptive windows of adaptive_avg_pool2d; indices are flat in-plane indices."""
    return _adaptive_max_poolnd(2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    return _adaptive_max_poolnd(3, input, output_size, return_indices)


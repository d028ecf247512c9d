"""Pooling: max_pool{1,2,3}d, avg_pool{1,2,3}d, adaptive_avg_pool{1,2,3}d, adaptive_max_pool{1,2,3}d,
lp_pool{1,2,3}d, max_unpool{1,2,3}d, fractional_max_pool{2,3}d.

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

Power-average (lp) pooling, max unpooling (a scatter into zeros) and fractional max pooling (a
gather of each pseudo-random window, then a max) are compositions of differentiable ops.
"""

import numpy as np

from ..autograd._vmap_state import _vm, guard as vmap_guard
from .._tensor import Tensor
from .._compile.state import recorded, recorded_check, shape_constant
from ._registry import Op, apply
from ._registry import LINEAR
from ._window import crop, make_window, ntuple, pad_array, tap_index, window_view
from ._declare import declare
from .._autocast import EXCLUDE, FLOAT32, ACTIVE as _AMP, _amp, autocast_call


# --------------------------------------------------------------------------- max pooling ops
def _lowest(xp, dtype):
    if dtype.kind in "fV":
        return -xp.inf
    if dtype.kind == "b":
        return False
    return xp.iinfo(dtype).min


def _disjoint(win):
    """Whether no input position lies in two windows (each window's span fits in its stride)."""
    return all(s >= d * (k - 1) + 1 for k, s, d in zip(win.kernel, win.stride, win.dilation))


def _tiled(win):
    """Whether every padded position lies in exactly one window."""
    return all(
        s == k and (k == 1 or d == 1) and o * k == p
        for k, s, d, o, p in zip(win.kernel, win.stride, win.dilation, win.out, win.padded)
    )


def _taps(xp, xpad, win, axis):
    """The values each kernel tap reads, one array per tap in row-major tap order. Disjoint
    windows are copied once into one contiguous (prod(K), ..., *O) array, no larger than the
    input: the passes over contiguous taps then run about 4x faster than over strided views,
    which more than pays for the copy (2x2 pooling of 64x16x28x28: 0.62 -> 0.40 ms)."""
    if not _disjoint(win):
        return [xpad[tap_index(win, axis, tap)] for tap in win.offsets()]
    nd = win.nd
    view = window_view(xp, xpad, win, axis)  # (..., *K, *O), no copy
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
            xp.maximum(out, v, out=out)  # NaN stays, as PyTorch keeps it
        xp.maximum(arg, xp.multiply(better, j, dtype=dt), out=arg)
    return out, arg


def _window_max(xp, x, win):
    """The max over each window (last nd dims) and the row-major tap of its first maximum."""
    axis = x.ndim - win.nd
    xpad = pad_array(xp, x, win, axis, _lowest(xp, x.dtype))
    taps = _taps(xp, xpad, win, axis)
    dt = xp.uint8 if win.taps <= 256 else xp.int32
    out, arg = _first_max(xp, taps, dt, False)
    if x.dtype.kind in "fV" and bool(xp.isnan(out).any()):
        out, arg = _first_max(xp, taps, dt, True)
    if win.has_pad() and x.dtype.kind != "b" and bool((out == _lowest(xp, x.dtype)).any()):
        arg = _skip_padding(xp, x, win, axis, arg, dt)
    return out, arg


def _skip_padding(xp, x, win, axis, arg, dt):
    """``arg`` with each tap that lands in the padding moved to the window's first real tap: a
    window whose inputs are all -inf (the padding's value) ties with its padding, which PyTorch
    never reads."""
    valid = _taps(xp, pad_array(xp, xp.ones(x.shape, dtype=bool), win, axis, False), win, axis)
    first = xp.zeros(arg.shape, dtype=dt)
    chosen_valid = xp.zeros(arg.shape, dtype=bool)
    for j in range(len(valid) - 1, -1, -1):
        first = xp.where(valid[j], j, first)
        chosen_valid |= (arg == j) & valid[j]
    return xp.where(chosen_valid, arg, first).astype(dt, copy=False)


def _pool_scatter(xp, g, arg, win):
    """Each output's gradient added at the input position of its window's recorded tap."""
    axis = g.ndim - win.nd
    shape = g.shape[:axis] + win.padded
    # g * mask is exact only for finite g (inf * 0 is NaN); where() is exact but much slower
    finite = g.dtype.kind not in "fV" or bool(xp.isfinite(g).all())
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
    finite = x.dtype.kind not in "fV" or bool(xp.isfinite(x).all())
    for j, tap in enumerate(win.offsets()):
        v, mask = xpad[tap_index(win, axis, tap)], arg == j
        if finite:
            out += v * mask
        else:
            xp.copyto(out, v, where=mask)
    return out


POOL_SCATTER = Op(
    "max_pool_backward",
    _pool_scatter,
    lambda g, arg, win: apply(POOL_GATHER, (g,), (arg, win)),
    jvp=LINEAR,
    node_name="MaxPoolBackwardBackward0",
)
POOL_GATHER = Op(
    "max_pool_gather",
    _pool_gather,
    lambda g, arg, win: apply(POOL_SCATTER, (g,), (arg, win)),
    jvp=LINEAR,
    node_name="MaxPoolWithIndicesBackward0",
)
MAX_POOL = {
    nd: Op(
        f"max_pool{nd}d",
        lambda xp, x, win: _window_max(xp, x, win),
        lambda g, arg, win: apply(POOL_SCATTER, (g,), (arg, win)),
        save=("extra",),
        node_name=f"MaxPool{nd}DWithIndicesBackward0",
    )
    for nd in (1, 2, 3)
}


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
    if x.dtype.kind not in "fV":
        return (out / div).astype(x.dtype)
    return (out / div).astype(x.dtype, copy=False)


def _avg_pool_t(xp, g, win, count_include_pad, divisor_override):
    axis = g.ndim - win.nd
    gd = (g / _divisor(xp, win, count_include_pad, divisor_override)).astype(g.dtype, copy=False)
    gx = xp.zeros(g.shape[:axis] + win.padded, dtype=g.dtype)
    for tap in win.offsets():
        gx[tap_index(win, axis, tap)] += gd
    return xp.ascontiguousarray(crop(gx, win, axis))


AVG_POOL_T = Op(
    "avg_pool_backward",
    _avg_pool_t,
    lambda g, win, *args: apply(AVG_POOL[win.nd], (g,), (win,) + args),
    jvp=LINEAR,
    node_name="AvgPoolBackwardBackward0",
)
AVG_POOL = {
    nd: Op(
        f"avg_pool{nd}d", _avg_pool, lambda g, *args: apply(AVG_POOL_T, (g,), args), node_name=f"AvgPool{nd}DBackward0"
    )
    for nd in (1, 2, 3)
}


# --------------------------------------------------------------------------- argument checks
def _check_input(input, nd, op):
    shape = tuple(input._data.shape)
    if input._data.ndim not in (nd + 1, nd + 2) or any(s == 0 for s in shape[-nd - 1 :]):
        raise RuntimeError(
            f"{op}: expected a {nd + 1}D or {nd + 2}D (batch mode) tensor with "
            f"non-zero sizes except the batch dim, but got input of size "
            f"{list(shape)}"
        )


def _pool_window(input, nd, op, kernel_size, stride, padding, dilation, ceil_mode):
    kernel = ntuple(kernel_size, nd, "kernel_size", op)
    stride = (
        kernel
        if stride is None or (isinstance(stride, (list, tuple)) and not stride)
        else ntuple(stride, nd, "stride", op)
    )
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
        raise RuntimeError(
            f"{op}: pad should be at most half of kernel size, but got pad="
            f"{padding}, kernel_size={kernel} and dilation={dilation}"
        )
    size = tuple(input._data.shape[-nd:])
    win = make_window(size, kernel, stride, dilation, tuple((p, p) for p in padding), ceil_mode)
    if any(o <= 0 for o in win.out):
        channels = input._data.shape[-nd - 1]
        raise RuntimeError(
            f"{op}: given input size: ({'x'.join(map(str, (channels,) + size))}). "
            f"Calculated output size: "
            f"({'x'.join(map(str, (channels,) + win.out))}). Output size is too small"
        )
    return win


# --------------------------------------------------------------------------- max_pool
def _max_poolnd(nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    op = f"max_pool{nd}d"
    _check_input(input, nd, op)
    win = _pool_window(input, nd, op, kernel_size, stride, padding, dilation, ceil_mode)
    if not return_indices:
        return apply(MAX_POOL[nd], (input,), (win,))
    if _vm.active:
        vmap_guard(input)  # the indices are computed on the array: vmap runs once per example
    from ..backend import array_module

    xp = array_module(input._data)
    arg = recorded(_window_argmax, xp, input._data, win, label="max_pool_argmax")
    out = apply(POOL_GATHER, (input,), (arg, win))
    return out, Tensor._make(recorded(_flat_indices, xp, arg, win, label="max_pool_indices"), None, False)


def _window_argmax(xp, x, win):
    return _window_max(xp, x, win)[1]


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over windows of the last dim: input (N, C, L) or (C, L)."""
    return _max_poolnd(1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over kH x kW windows: input (N, C, H, W) or (C, H, W); padding counts as -inf.
    ``stride`` defaults to ``kernel_size``. With ``return_indices`` also returns, per output,
    the flat index h * W + w of its maximum in the input plane."""
    return _max_poolnd(2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over kD x kH x kW windows: input (N, C, D, H, W) or (C, D, H, W)."""
    if _AMP[0] and _amp.on:
        return autocast_call(
            max_pool3d, FLOAT32, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
        )
    return _max_poolnd(3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool1d_with_indices(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=True
):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=True
):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=True
):
    if _AMP[0] and _amp.on:
        return autocast_call(
            max_pool3d_with_indices, FLOAT32, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
        )
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


def avg_pool2d(
    input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None
):
    """Mean over kH x kW windows: the window sum divided by its size (padding included when
    ``count_include_pad``; ceil-mode overhang never counted), or by ``divisor_override``."""
    return _avg_poolnd(2, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def avg_pool3d(
    input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None
):
    if _AMP[0] and _amp.on:
        return autocast_call(
            avg_pool3d, FLOAT32, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
        )
    return _avg_poolnd(3, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


# --------------------------------------------------------------------------- adaptive pooling
def _adaptive_sizes(input, nd, output_size, op):
    if input._data.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}(): Expected {nd + 1}D or {nd + 2}D tensor, but got {list(input._data.shape)}")
    size = tuple(input._data.shape[-nd:])
    if isinstance(output_size, (list, tuple)):
        if len(output_size) != nd:
            raise RuntimeError(f"{op}: output_size must be an int or a tuple of {nd} ints, got {tuple(output_size)}")
        out = tuple(S if o is None else int(o) for o, S in zip(output_size, size))
    else:
        out = (int(output_size),) * nd
    if any(o < 0 for o in out):
        raise RuntimeError(f"{op}: output_size must be non-negative, got {out}")
    if any(S == 0 for S in size):
        raise RuntimeError(f"{op}: expected input with non-zero spatial size, but got {list(input._data.shape)}")
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
    op = f"adaptive_avg_pool{nd}d"
    size, out = _adaptive_sizes(input, nd, output_size, op)
    mats = [_averaging_matrix(S, O) for S, O in zip(size, out)]
    if all(O == 1 for O in out) or input._data.dtype.kind not in "fV":
        return _separable(input, mats, nd)  # one window: no zero weight meets an inf or nan
    # A zero weight times an inf or nan is nan, which would reach every window: average the
    # finite values, then give each window holding non-finite values the sum's own value (nan
    # for a nan or for both infinities, else that infinity), as PyTorch's windowed mean does
    from .elementwise import isinf, isnan, where
    from .shape import stack

    data = input.detach()
    y = _separable(apply(_FINITE_PART, (input,)), mats, nd)
    flags = stack([isnan(data), isinf(data) & (data > 0), isinf(data) & (data < 0)]).to(input.dtype)
    counts = _separable(flags, [m > 0 for m in mats], nd)
    bad_nan, pos, neg = counts[0] > 0, counts[1] > 0, counts[2] > 0
    fixed = where(bad_nan | (pos & neg), float("nan"), where(pos, float("inf"), where(neg, float("-inf"), y.detach())))
    return y + (fixed - y.detach())


# x with its inf and nan values as 0; the gradient passes everywhere unchanged (the average of a
# window holding an inf still has slope 1/n in each of its inputs)
_FINITE_PART = Op("adaptive_avg_pool", lambda xp, x: xp.where(xp.isfinite(x), x, 0), lambda g: g, jvp=LINEAR)


def _separable(x, mats, nd):
    """x with the last ``nd`` dims each multiplied by its (O, S) matrix in ``mats``."""
    from .._creation import tensor

    for i, m in enumerate(mats):
        dim = x._data.ndim - nd + i
        a = shape_constant(tensor(np.asarray(m, dtype=np.float64).T, dtype=x.dtype, device=x.device))
        x = (x.movedim(dim, -1) @ a).movedim(-1, dim)
    return x


def adaptive_avg_pool1d(input, output_size):
    """Mean over L_out windows of the last dim that cover it as evenly as possible."""
    if _AMP[0] and _amp.on:  # a matrix product inside; PyTorch's kernel keeps the input's dtype
        return autocast_call(adaptive_avg_pool1d, EXCLUDE, input, output_size)
    return _adaptive_avg_poolnd(1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Mean over an output_size grid of windows: window i of a dim of size S covers
    [floor(i S / O), ceil((i + 1) S / O)). ``None`` in output_size keeps that dim's size."""
    if _AMP[0] and _amp.on:
        return autocast_call(adaptive_avg_pool2d, EXCLUDE, input, output_size)
    return _adaptive_avg_poolnd(2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    if _AMP[0] and _amp.on:
        return autocast_call(adaptive_avg_pool3d, FLOAT32, input, output_size)
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
    vals = x[(Ellipsis,) + tuple(grids)]  # (..., O1, K1, O2, K2, ...)
    lead = vals.ndim - 2 * nd
    order = tuple(range(lead)) + tuple(lead + 2 * i for i in range(nd)) + tuple(lead + 2 * i + 1 for i in range(nd))
    vals = vals.transpose(order).reshape(vals.shape[:lead] + tuple(out) + (-1,))
    flat = flat.transpose(tuple(2 * i for i in range(nd)) + tuple(2 * i + 1 for i in range(nd)))
    flat = flat.reshape(tuple(out) + (-1,))
    tap = xp.argmax(vals, axis=-1)
    return xp.take_along_axis(xp.broadcast_to(flat, vals.shape), tap[..., None], -1)[..., 0].astype(np.int64)


def _adaptive_max_poolnd(nd, input, output_size, return_indices):
    from .indexing import gather

    op = f"adaptive_max_pool{nd}d"
    size, out = _adaptive_sizes(input, nd, output_size, op)
    if any(o == 0 for o in out):
        raise RuntimeError(f"{op}: output_size must be positive, got {out}")
    from ..backend import array_module

    xp = array_module(input._data)
    idx = Tensor._make(recorded(_adaptive_argmax, xp, input._data, size, out, label=op + "_indices"), None, False)
    lead = input._data.shape[:-nd]
    values = gather(input.flatten(-nd) if nd > 1 else input, -1, idx.reshape(lead + (-1,))).reshape(lead + out)
    if return_indices:
        return values, idx
    return values


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive_max_poolnd(1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over the adaptive windows of adaptive_avg_pool2d; indices are flat in-plane indices."""
    return _adaptive_max_poolnd(2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    if _AMP[0] and _amp.on:
        return autocast_call(adaptive_max_pool3d, FLOAT32, input, output_size, return_indices)
    return _adaptive_max_poolnd(3, input, output_size, return_indices)


# --------------------------------------------------------------------------- lp_pool
def _lp_poolnd(nd, input, norm_type, kernel_size, stride, ceil_mode):
    from .elementwise import sign
    from .activation import relu

    pool = {1: max_pool1d, 2: max_pool2d, 3: max_pool3d}[nd]
    if norm_type == float("inf"):
        return pool(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -float("inf"):
        return -pool(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    kernel = ntuple(kernel_size, nd, "kernel_size", f"lp_pool{nd}d")
    avg = {1: avg_pool1d, 2: avg_pool2d, 3: avg_pool3d}[nd]
    out = avg(input.pow(norm_type), kernel, stride, 0, ceil_mode)
    size = 1
    for k in kernel:
        size *= k
    return (sign(out) * relu(out.abs())).mul(size).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """``(sum over the window of x ** p) ** (1 / p)`` over windows of the last dim (p = inf: max |x|)."""
    return _lp_poolnd(1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """``(sum over the kH x kW window of x ** p) ** (1 / p)`` (p = inf: max |x|)."""
    return _lp_poolnd(2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """``(sum over the kD x kH x kW window of x ** p) ** (1 / p)`` (p = inf: max |x|)."""
    return _lp_poolnd(3, input, norm_type, kernel_size, stride, ceil_mode)


# --------------------------------------------------------------------------- max_unpool
def _unpool_size(input, nd, kernel, stride, padding, output_size):
    default = [(input.shape[d - nd] - 1) * stride[d] + kernel[d] - 2 * padding[d] for d in range(nd)]
    if output_size is None:
        size = default
    else:
        size = list(output_size)
        if len(size) == nd + 2:
            size = size[2:]
        if len(size) != nd:
            raise ValueError(
                f"output_size should be a sequence containing {nd} or {nd + 2} elements, but it "
                f"has a length of '{len(size)}'"
            )
        for d in range(nd):
            lo, hi = default[d] - stride[d], default[d] + stride[d]
            if not lo < size[d] < hi:
                raise ValueError(f'invalid output_size "{list(output_size)}" (dim {d} must be between {lo} and {hi})')
    for d, n in enumerate(size):
        if n < 0:
            raise ValueError(
                f"max_unpooling: output_size must contain non-negative spatial dimensions, but got output_size[{d}]={n}"
            )
    return [int(n) for n in size]


def _check_unpool_indices(idx, plane, op, size):
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= plane):
        bad = int(idx.max()) if int(idx.max()) >= plane else int(idx.min())
        raise RuntimeError(
            f"{op}: Found an invalid max index: {bad} (output volumes are of size {'x'.join(map(str, size))})"
        )


def _max_unpoolnd(nd, input, indices, kernel_size, stride, padding, output_size):
    if _vm.active:
        vmap_guard(input, indices)
    op = f"max_unpool{nd}d"
    kernel = ntuple(kernel_size, nd, "kernel_size", op)
    stride = kernel if stride is None else ntuple(stride, nd, "stride", op)
    padding = ntuple(padding, nd, "padding", op)
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}: expected a {nd + 1}D or {nd + 2}D input, got {input.dim()}D")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(
            f"{op}: expected indices of the input's shape {list(input.shape)}, got {list(indices.shape)}"
        )
    if indices.dtype.name != "int64":
        raise RuntimeError(f"{op}: expected indices to have type int64, got {indices.dtype}")
    size = _unpool_size(input, nd, kernel, stride, padding, output_size)
    plane = 1
    for n in size:
        plane *= n
    lead = tuple(input.shape[:-nd])
    flat_idx = indices.reshape(lead + (-1,))
    recorded_check(_check_unpool_indices, flat_idx._data, plane, op, tuple(size), label=op + "_check")
    out = input.new_zeros(lead + (plane,))
    return out.scatter(-1, flat_idx, input.reshape(lead + (-1,))).reshape(lead + tuple(size))


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool1d: each value goes to its recorded index, zeros elsewhere."""
    return _max_unpoolnd(1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool2d: each value goes to its flat index h * W + w of the output
    plane, zeros elsewhere; ``output_size`` picks among the sizes the pooling could have come from."""
    return _max_unpoolnd(2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool3d (flat indices into each D x H x W output volume)."""
    return _max_unpoolnd(3, input, indices, kernel_size, stride, padding, output_size)


# --------------------------------------------------------------------------- fractional_max_pool
def _fractional_starts(samples, in_size, out_size, kernel, dtype):
    """Window starts per plane, as PyTorch draws them: for u ~ U(0, 1) per plane and
    alpha = (S - K) / (O - 1), start_i = int((i + u) alpha) - int(u alpha), the last at S - K."""
    u = samples.astype(dtype)
    starts = np.empty(u.shape + (out_size,), dtype=np.int64)
    if out_size > 1:
        alpha = dtype.type(in_size - kernel) / dtype.type(out_size - 1)
        i = np.arange(out_size - 1, dtype=dtype)
        starts[..., :-1] = ((i + u[..., None]) * alpha).astype(np.int64) - (u * alpha).astype(np.int64)[..., None]
    starts[..., -1] = in_size - kernel
    return starts


def _fractional_max_poolnd(nd, input, kernel_size, output_size, output_ratio, return_indices, samples):
    op = f"fractional_max_pool{nd}d"
    if output_size is None and output_ratio is None:
        raise ValueError(f"{op} requires specifying either an output_size or an output_ratio")
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: {list(input.shape)}")
    kernel = ntuple(kernel_size, nd, "kernel_size", op)
    sizes = tuple(input.shape[-nd:])
    if output_size is None:
        ratio = tuple(output_ratio) if isinstance(output_ratio, (tuple, list)) else (output_ratio,) * nd
        if len(ratio) != nd or not all(0 < r < 1 for r in ratio):
            raise ValueError(f"{op}: output_ratio must be {nd} numbers in (0, 1), got {output_ratio}")
        output_size = tuple(int(s * r) for s, r in zip(sizes, ratio))
    out = ntuple(output_size, nd, "output_size", op)
    for o, k, s, name in zip(out, kernel, sizes, ("depth", "height", "width")[3 - nd :]):
        if o + k - 1 > s:
            raise RuntimeError(f"{op}(): pool {name} {k} too large relative to input {name} {s} (output {name} {o})")
    batched = input.dim() == nd + 2
    x = input if batched else input.unsqueeze(0)
    n, c = x.shape[0], x.shape[1]
    if samples is None:
        from .. import _creation

        samples = _creation.rand(n, c, nd, dtype=input.dtype, device=input.device)
    if tuple(samples.shape) != (n, c, nd):
        raise RuntimeError(f"{op}(): expect _random_samples of shape ({n}, {c}, {nd}), got {list(samples.shape)}")
    u, dtype = np.asarray(samples.detach().cpu().numpy()), np.dtype(x._data.dtype)
    # PyTorch's samples run W first: (W, H) in 2d; in 3d (T, H, W).
    order = (1, 0) if nd == 2 else (0, 1, 2)
    flat = 0  # (n, c, *O, *K): flat input index of every tap of every window
    stride = 1
    for d in range(nd - 1, -1, -1):
        start = _fractional_starts(u[..., order[d]], sizes[d], out[d], kernel[d], dtype)
        taps = start[..., None] + np.arange(kernel[d])  # (n, c, O_d, K_d)
        shape = [n, c] + [1] * (2 * nd)
        shape[2 + d], shape[2 + nd + d] = out[d], kernel[d]
        flat = flat + taps.reshape(shape) * stride
        stride *= sizes[d]
    from .. import _creation

    idx = _creation.tensor(flat.reshape((n, c) + out + (-1,)), device=input.device)
    windows = x.reshape(n, c, -1).gather(-1, idx.reshape(n, c, -1)).reshape(tuple(idx.shape))
    values, arg = windows.max(-1)
    if not return_indices:
        return values if batched else values.squeeze(0)
    indices = idx.gather(-1, arg.unsqueeze(-1)).squeeze(-1)
    return (values, indices) if batched else (values.squeeze(0), indices.squeeze(0))


def fractional_max_pool2d(
    input, kernel_size, output_size=None, output_ratio=None, return_indices=False, _random_samples=None
):
    """Max over kH x kW windows placed at pseudo-random, increasing offsets so that the output is
    ``output_size`` (or ``output_ratio`` times the input); one U(0, 1) pair per plane."""
    return _fractional_max_poolnd(2, input, kernel_size, output_size, output_ratio, return_indices, _random_samples)


def fractional_max_pool3d(
    input, kernel_size, output_size=None, output_ratio=None, return_indices=False, _random_samples=None
):
    """The 3-D counterpart of :func:`fractional_max_pool2d` (one U(0, 1) triple per plane)."""
    return _fractional_max_poolnd(3, input, kernel_size, output_size, output_ratio, return_indices, _random_samples)


def fractional_max_pool2d_with_indices(
    input, kernel_size, output_size=None, output_ratio=None, return_indices=False, _random_samples=None
):
    """:func:`fractional_max_pool2d` returning (values, indices)."""
    return fractional_max_pool2d(input, kernel_size, output_size, output_ratio, True, _random_samples)


def fractional_max_pool3d_with_indices(
    input, kernel_size, output_size=None, output_ratio=None, return_indices=False, _random_samples=None
):
    """:func:`fractional_max_pool3d` returning (values, indices)."""
    return fractional_max_pool3d(input, kernel_size, output_size, output_ratio, True, _random_samples)


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(max_pool1d, functional=("max_pool1d",))
declare(max_pool2d, functional=("max_pool2d",))
declare(max_pool3d, functional=("max_pool3d",))
declare(max_pool1d_with_indices, functional=("max_pool1d_with_indices",))
declare(avg_pool1d, functional=("avg_pool1d",))
declare(adaptive_avg_pool1d, functional=("adaptive_avg_pool1d",))
declare(max_pool2d_with_indices, torch=False, functional=("max_pool2d_with_indices",))
declare(max_pool3d_with_indices, torch=False, functional=("max_pool3d_with_indices",))
declare(avg_pool2d, torch=False, functional=("avg_pool2d",))
declare(avg_pool3d, torch=False, functional=("avg_pool3d",))
declare(adaptive_avg_pool2d, torch=False, functional=("adaptive_avg_pool2d",))
declare(adaptive_avg_pool3d, torch=False, functional=("adaptive_avg_pool3d",))
declare(adaptive_max_pool1d, torch=False, functional=("adaptive_max_pool1d",))
declare(adaptive_max_pool2d, torch=False, functional=("adaptive_max_pool2d",))
declare(adaptive_max_pool3d, torch=False, functional=("adaptive_max_pool3d",))
declare(lp_pool1d, torch=False, functional=("lp_pool1d",))
declare(lp_pool2d, torch=False, functional=("lp_pool2d",))
declare(lp_pool3d, torch=False, functional=("lp_pool3d",))
declare(max_unpool1d, torch=False, functional=("max_unpool1d",))
declare(max_unpool2d, torch=False, functional=("max_unpool2d",))
declare(max_unpool3d, torch=False, functional=("max_unpool3d",))
declare(fractional_max_pool2d, torch=False, functional=("fractional_max_pool2d",))
declare(fractional_max_pool3d, torch=False, functional=("fractional_max_pool3d",))
declare(fractional_max_pool2d_with_indices, torch=False, functional=("fractional_max_pool2d_with_indices",))
declare(fractional_max_pool3d_with_indices, torch=False, functional=("fractional_max_pool3d_with_indices",))

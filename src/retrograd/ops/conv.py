"""Convolution and its adjoints: conv{1,2,3}d, conv_transpose{1,2,3}d, unfold (im2col), fold.

With cols = im2col(x), the (G, C/G * prod(K), prod(O) * N) matrix of the input windows (one
column per window and sample), a convolution is one GEMM per group:

    conv(x, w)[g] = w[g] @ cols[g]                        w[g]: (O/G, C/G * prod(K))

It is bilinear, and so are its two adjoints, which are its gradients:

    conv_t(y, w)  = col2im(w[g]^T @ y[g])                 gradient w.r.t. x (transposed conv)
    conv_w(x, y)  = y[g] @ cols[g]^T                      gradient w.r.t. w

Each of the three is one op whose backward is the other two (for instance d conv_t / d y =
conv(., w), d conv_t / d w = conv_w(., y)), so every order of derivative is a convolution.
unfold and fold are the same pair for im2col/col2im alone.

Geometry (stride, padding, dilation, output size) lives in a ``Window`` (``ops/_window.py``).
"""

import itertools
import math

import numpy as np

from ..backend import blas
from ._registry import Op, apply
from ._registry import LINEAR, MULTILINEAR
from ._window import Window, crop, make_window, ntuple, pad_array, scatter_windows, tap_index, window_view
from ._declare import declare
from .._autocast import LOWER, ACTIVE as _AMP, _amp, autocast_call


# --------------------------------------------------------------------------- the three ops
# Two layouts of the im2col matrix, both one column per (window, sample):
# - batch last: the ops work on (C, *S, N) arrays, so the im2col copy and the col2im adds run
#   over long contiguous rows (prod(O) * N elements) and each product is one GEMM over the
#   whole batch; the price is moving the batch dim of the input, output and gradient.
# - per sample: cols (N, G, C/G * prod(K), prod(O)) straight from the (N, C, *S) input, one
#   GEMM per sample, and the output comes out in (N, O, *O) order. Its im2col copy runs over
#   rows of one output width only, so it pays when the im2col matrix is small against the
#   output, as in a first layer on one input channel: there moving the batch dim of the large
#   output and gradient costs more than the GEMMs (measured on a 1 -> 16 channel 5x5 layer,
#   batch 64 of 28 x 28: forward 1.1 -> 0.45 ms, weight gradient 1.1 -> 0.3 ms).
# Either way the im2col matrix is never built whole: it is copied and multiplied one block
# (some samples, or some output rows) at a time, each block small enough to be multiplied while
# it is still in the L2 cache. The whole matrix (prod(K) times the input) would go through main
# memory twice, once for the forward GEMM and once for the weight gradient; a block costs one
# copy out of the (cached) input. The forward keeps only the padded input for the backward.
_BLOCK_BYTES = 1 << 19


def _per_sample(c, o, groups, win):
    """Whether convolutions with this geometry use the per-sample layout: each sample has at
    least 256 output positions (then its GEMMs are long enough to run at full speed; measured
    on 3x3 layers of 32-64 channels from 16 x 16 to 56 x 56, 10-30% faster in all three ops),
    or the im2col rows are at most twice the output channels and the output channels per group
    are no more than the output positions."""
    cg_taps, og, p = c // groups * win.taps, o // groups, math.prod(win.out)
    return p >= 256 or (cg_taps <= 2 * og and og <= p)


def _batch_last(xp, x, win):
    """(N, C, *S) -> (C, *S_padded, N), contiguous."""
    xt = xp.moveaxis(x, 0, -1)
    return pad_array(xp, xt, win, 1) if win.has_pad() else xp.ascontiguousarray(xt)


def _batch_first(xp, y):
    """(C, *S, N) -> (N, C, *S), contiguous."""
    return xp.ascontiguousarray(xp.moveaxis(y, -1, 0))


def _padded(xp, x, win, per_sample):
    """The input padded, in the layout its windows are read from: (N, C, *S_padded) per
    sample, else (C, *S_padded, N)."""
    return pad_array(xp, x, win, 2) if per_sample else _batch_last(xp, x, win)


def _col_blocks(xp, xpad, win, groups, per_sample, ones=False):
    """The im2col matrix of ``xpad`` (from ``_padded``), one block at a time: yields
    (slice, cols). Per sample the slice selects samples and cols is (samples, G, C/G * prod(K),
    prod(O)); with ``ones`` each matrix has a last row of ones, which adds the bias inside the
    GEMM. Batch last the slice selects rows of the first output dim and cols is (G, C/G *
    prod(K), rows * prod(O[1:]) * N). Each block is about _BLOCK_BYTES, at least one
    sample or row."""
    nd = win.nd
    view = window_view(xp, xpad, win, 2 if per_sample else 1)  # (N, C, *K, *O) or (C, *K, *O, N)
    c = view.shape[1] if per_sample else view.shape[0]
    cg = c // groups
    rows, p = cg * win.taps, math.prod(win.out)
    if per_sample:
        n = view.shape[0]
        step = max(1, _BLOCK_BYTES // max(1, (rows + ones) * groups * p * xpad.itemsize))
        for i in range(0, n, step):
            block = view[i : i + step]
            k = block.shape[0]
            if not ones:
                yield slice(i, i + k), xp.ascontiguousarray(block).reshape(k, groups, rows, p)
                continue
            cols = xp.empty((k, groups, rows + 1, p), dtype=xpad.dtype)
            cols[:, :, rows] = 1
            cols[:, :, :rows].reshape((k, groups, cg) + win.kernel + win.out)[...] = block.reshape(
                (k, groups, cg) + win.kernel + win.out
            )
            yield slice(i, i + k), cols
        return
    o0 = win.out[0]
    row_bytes = c * win.taps * (p // o0) * view.shape[-1] * xpad.itemsize
    step = max(1, _BLOCK_BYTES // max(1, row_bytes))
    head = (slice(None),) * (1 + nd)
    for i in range(0, o0, step):
        block = view[head + (slice(i, i + step),)]  # (C, *K, rows, *O[1:], N)
        yield slice(i, i + step), xp.ascontiguousarray(block).reshape(groups, rows, -1)


def _grad_matrix(xp, y, groups):
    """(N, O, *O) -> (G, O/G, prod(O) * N), contiguous."""
    n, o = y.shape[:2]
    return xp.ascontiguousarray(xp.moveaxis(y, 0, -1)).reshape(groups, o // groups, y.size // o)


def _conv(xp, x, w, b, win, groups):
    n, c, o = x.shape[0], x.shape[1], w.shape[0]
    og, p = o // groups, math.prod(win.out)
    per_sample = _per_sample(c, o, groups, win)
    xpad = _padded(xp, x, win, per_sample)
    w2 = w.reshape(groups, og, -1)
    if per_sample:
        if b is not None:  # the bias as one more weight column, against the row of ones
            w2 = xp.concatenate((w2, b.reshape(groups, og, 1)), axis=2)
        out = xp.empty((n, groups, og, p), dtype=x.dtype)
        for i, cols in _col_blocks(xp, xpad, win, groups, True, b is not None):
            blas.matmul(w2, cols, out=out[i])
        out = out.reshape((n, o) + win.out)
    else:
        out = xp.empty((groups, og, win.out[0], p // win.out[0] * n), dtype=x.dtype)
        for i, cols in _col_blocks(xp, xpad, win, groups, False):
            out[:, :, i] = blas.matmul(w2, cols).reshape(out[:, :, i].shape)
        if b is not None:
            rows = out.reshape(o, -1)
            rows += b[:, None]
        out = _batch_first(xp, out.reshape((o,) + win.out + (n,)))
    # the padded input is kept for the weight gradient, which would otherwise redo it
    return out, xpad


def _conv_vjp(g, needs, x, w, xpad, win, groups):
    gx = apply(CONV_T, (g, w), (win, groups)) if needs[0] else None
    gw = apply(CONV_W, (x, g), (win, groups, w._data.shape, xpad)) if needs[1] else None
    gb = apply(BIAS_GRAD, (g,), (g._data.shape,)) if needs[2] else None
    return gx, gw, gb


def _conv_t(xp, y, w, win, groups):
    n, o = y.shape[:2]
    c = groups * w.shape[1]
    if _per_sample(c, o, groups, win):
        # the stride-1 forms spread y onto the padded grid, and the zeros there meet every
        # weight: exact for finite weights only (0 * inf would put a NaN where no tap reaches)
        spread = all(s == 1 for s in win.stride) and (xp is not np or bool(np.isfinite(w).all()))
        # the taps' GEMMs have C/G rows: with one they are matrix-vector products, which ran
        # slower than one GEMM and the shifted adds (1 -> 32 channels 3x3 on 28 x 28)
        if spread and xp is np and n and c > groups and win.taps > 1 and blas.adding() is not None:
            return _conv_t_taps(y, w, c, win, groups)
        w2t = w.reshape(groups, o // groups, -1).transpose(0, 2, 1)  # (G, C/G * prod(K), O/G)
        if spread:
            return _conv_t_shifted(xp, y, w2t, c, win)
        cols = blas.matmul(w2t, xp.ascontiguousarray(y).reshape(n, groups, o // groups, math.prod(win.out)))
        xpad = scatter_windows(xp, cols.reshape((n, c) + win.kernel + win.out), win, 2)
        return xp.ascontiguousarray(crop(xpad, win, 2))
    # col2im of w^T @ y, one slab of rows per index of the first kernel dim: each slab is added
    # into place while it is still in cache, instead of writing and rereading the whole
    # im2col-sized matrix (16 -> 32 channels, 5x5, batch 64: 3% of a training step)
    k0, rest = win.kernel[0], win.kernel[1:]
    wk = w.reshape((groups, o // groups, c // groups, k0, -1))
    wk = xp.ascontiguousarray(wk.transpose(3, 0, 2, 4, 1)).reshape(k0, groups, -1, o // groups)
    gm = _grad_matrix(xp, y, groups)  # (G, O/G, prod(O) * N)
    xpad = xp.zeros((c,) + win.padded + (n,), dtype=y.dtype)
    for a in range(k0):
        slab = blas.matmul(wk[a], gm).reshape((c,) + rest + win.out + (n,))  # taps (a, *rest)
        for tap in itertools.product(*(range(k) for k in rest)):
            xpad[tap_index(win, 1, (a,) + tap)] += slab[(slice(None),) + tap]
    return _batch_first(xp, crop(xpad, win, 1))


# About 1 MB: a block's gradient on the grid and its outputs stay in the L2 cache across the taps
_TAPS_BLOCK_BYTES = 1 << 20


def _conv_t_taps(y, w, c, win, groups):
    """col2im(w^T @ y) for a stride-1 convolution, as one accumulating GEMM per kernel tap and
    group (``blas.matmul_add``), a block of samples at a time. On the flattened padded grid,
    output position q meets tap k at q + s_k, s_k = sum_j k_j d_j pitch_j, so with a block's
    gradient spread onto the grid, channels first and the samples side by side,

        ygrid: (O, samples * prod(P)),  zeros where the grid is wider than the output,
        x[:, s_k : s_k + samples * prod(P)] += w_k^T @ ygrid      w_k^T: (C, O), per group

    accumulates in place: neither the (C * prod(K), positions) matrix of w^T @ y nor the adds
    that scatter it. A column of the output reaches only its own sample's grid (stride 1:
    o + k d < P in every dim); the zero columns around it land anywhere, and the buffer has
    s_max spare columns for the last sample's. 32 -> 64 channels 3x3 on 26 x 26, batch 64:
    20 -> 13.5 ms with MKL, 20 -> 16.5 ms with NumPy's OpenBLAS."""
    n, o = y.shape[:2]
    og, cg = o // groups, c // groups
    dtype = y.dtype
    pitch = [math.prod(win.padded[j + 1 :]) for j in range(win.nd)]
    size = math.prod(win.padded)
    shifts = [sum(k * d * p for k, d, p in zip(tap, win.dilation, pitch)) for tap in win.offsets()]
    step = min(n, max(1, _TAPS_BLOCK_BYTES // ((o + c) * size * y.itemsize)))
    width = step * size
    # w (O, C/G, *K) -> (taps, G, C/G, O/G): w_k^T per group, each contiguous
    wt = np.ascontiguousarray(w.reshape(groups, og, cg, win.taps).transpose(3, 0, 2, 1))
    ygrid = np.zeros((o, step) + win.padded, dtype=dtype)
    inner = (slice(None), slice(None)) + tuple(slice(0, s) for s in win.out)
    grid = np.zeros((c, width + max(shifts)), dtype=dtype)
    x = np.empty((n, c) + win.size, dtype=dtype)
    for i in range(0, n, step):
        k = min(step, n - i)  # a last, shorter block leaves the previous samples in the slots
        ygrid[inner][:, :k] = y[i : i + k].transpose((1, 0) + tuple(range(2, 2 + win.nd)))  # past k: unread
        ym = ygrid.reshape(groups, og, width)
        for t, s in enumerate(shifts):
            for g in range(groups):
                dst = grid[g * cg : (g + 1) * cg, s : s + width]
                if t == 0:
                    blas.matmul(wt[t, g], ym[g], out=dst)
                else:
                    blas.matmul_add(wt[t, g], ym[g], dst)
        block = grid[:, : k * size].reshape((c, k) + win.padded)
        x[i : i + k] = crop(block, win, 2).transpose((1, 0) + tuple(range(2, 2 + win.nd)))
    return x


def _conv_t_shifted(xp, y, w2t, c, win):
    """col2im of w^T @ y for a stride-1 convolution in the per-sample layout, a few samples at
    a time. Output position o and kernel tap k meet at padded position o + k d, so on the
    flattened padded grid every tap is one shift: with y spread onto that grid (zeros where
    the padded grid is wider than the output), tap k's rows of w^T @ y are added at offset
    sum_j k_j d_j pitch_j as one contiguous run per channel, instead of a strided add over
    short rows (32 -> 64 channels 3x3 on 26 x 26, batch 64: 40 -> 26 ms)."""
    n, o = y.shape[:2]
    groups, og = w2t.shape[0], w2t.shape[2]
    pitch = [math.prod(win.padded[j + 1 :]) for j in range(win.nd)]
    size = math.prod(win.padded)
    span = win.out[0] * pitch[0]  # the output rows on the padded grid
    shifts = [sum(k * d * p for k, d, p in zip(tap, win.dilation, pitch)) for tap in win.offsets()]
    step = max(1, _BLOCK_BYTES // max(1, c * win.taps * span * y.itemsize))
    wide = None
    if win.out[1:] != win.padded[1:]:
        wide = xp.zeros((min(step, n), o, win.out[0]) + win.padded[1:], dtype=y.dtype)
        inner = (slice(None), slice(None), slice(None)) + tuple(slice(0, s) for s in win.out[1:])
    xpad = xp.empty((n, c, size), dtype=y.dtype)
    for i in range(0, n, step):
        k = min(step, n - i)
        if wide is None:
            ym = y[i : i + k]
        else:
            ym = wide[:k]
            ym[inner] = y[i : i + k]
        cols = blas.matmul(w2t, ym.reshape(k, groups, og, span)).reshape(k, c, win.taps, span)
        dst = xpad[i : i + k]
        dst[:, :, :span] = cols[:, :, 0]  # the first tap's shift is 0
        dst[:, :, span:] = 0
        for t in range(1, win.taps):
            s = shifts[t]
            m = min(span, size - s)  # what runs past the end lands on the grid's spare columns: zeros
            dst[:, :, s : s + m] += cols[:, :, t, :m]
    xpad = xpad.reshape((n, c) + win.padded)
    return xp.ascontiguousarray(crop(xpad, win, 2)) if win.has_pad() else xpad


def _conv_t_vjp(g, needs, y, w, win, groups):
    gy = apply(CONV, (g, w, None), (win, groups)) if needs[0] else None
    gw = apply(CONV_W, (g, y), (win, groups, w._data.shape, None)) if needs[1] else None
    return gy, gw


def _conv_w(xp, x, y, win, groups, w_shape, xpad):
    n, c, o = x.shape[0], x.shape[1], w_shape[0]
    og = o // groups
    per_sample = _per_sample(c, o, groups, win)
    if xpad is None:
        xpad = _padded(xp, x, win, per_sample)
    gw = None  # (G, C/G * prod(K), O/G)
    if per_sample:
        # sum over samples of cols[n] @ y[n]^T; this operand order ran faster than y @ cols^T
        yt = xp.ascontiguousarray(y).reshape(n, groups, og, math.prod(win.out)).swapaxes(-1, -2)
        for i, cols in _col_blocks(xp, xpad, win, groups, True):
            part = blas.matmul(cols, yt[i]).sum(0)
            gw = part if gw is None else xp.add(gw, part, out=gw)
    else:
        # cols @ y^T: BLAS runs this order faster than y @ cols^T (long shared dim)
        ym = _grad_matrix(xp, y, groups).reshape(groups, og, win.out[0], -1)
        for i, cols in _col_blocks(xp, xpad, win, groups, False):
            part = blas.matmul(cols, ym[:, :, i].reshape(groups, og, -1).transpose(0, 2, 1))
            gw = part if gw is None else xp.add(gw, part, out=gw)
    if gw is None:  # an empty batch
        return xp.zeros(w_shape, dtype=x.dtype)
    return xp.ascontiguousarray(gw.transpose(0, 2, 1)).reshape(w_shape)


def _conv_w_vjp(g, needs, x, y, win, groups, w_shape, xpad):
    gx = apply(CONV_T, (y, g), (win, groups)) if needs[0] else None
    gy = apply(CONV, (x, g, None), (win, groups)) if needs[1] else None
    return gx, gy


def _bias_grad(xp, g):
    """sum of g over every dim but 1; a matrix-vector product is about 3x faster than sum()."""
    n, o = g.shape[:2]
    rows = xp.ascontiguousarray(g).reshape(n, o, math.prod(g.shape[2:]))
    return (rows @ xp.ones(rows.shape[2], g.dtype)).sum(0)


def _bias_grad_vjp(gg, shape):
    return gg.reshape((-1,) + (1,) * (len(shape) - 2)).expand(shape)


def _conv_jvp(ts, x, w, xpad, win, groups):
    # affine in (x, bias) for fixed weights, linear in the weights:
    # conv(tx, W, tb) + conv(x, tW)
    from .._creation import zeros_like

    tx, tw, tb = ts
    out = None
    if tx is not None or tb is not None:
        out = apply(CONV, (tx if tx is not None else zeros_like(x), w, tb), (win, groups))
    if tw is not None:
        term = apply(CONV, (x, tw, None), (win, groups))
        out = term if out is None else out + term
    return out


CONV = Op("convolution", _conv, _conv_vjp, jvp=_conv_jvp, save=("x", "y", "extra"), needs=True)
CONV_T = Op(
    "convolution_transpose",
    _conv_t,
    _conv_t_vjp,
    jvp=MULTILINEAR,
    save=("x", "y"),
    needs=True,
    node_name="ConvolutionBackward0",
)
CONV_W = Op(
    "convolution_weight", _conv_w, _conv_w_vjp, save=("x", "y"), needs=True, node_name="ConvolutionBackwardBackward0"
)
BIAS_GRAD = Op(
    "convolution_bias_grad",
    lambda xp, g, shape: _bias_grad(xp, g),
    _bias_grad_vjp,
    jvp=LINEAR,
    node_name="SumBackward1",
)


# --------------------------------------------------------------------------- argument checks
def _shape(t):
    return list(t._data.shape)


def _batched(input, weight, nd, op):
    """Check input/weight ranks; return the input with a batch dim, and whether it had one."""
    if weight._data.ndim != nd + 2:
        raise RuntimeError(f"{op}: expected a {nd + 2}-dimensional weight, got weight of size {_shape(weight)}")
    if input._data.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {op}, "
            f"but got input of size: {_shape(input)}"
        )
    if input._data.dtype != weight._data.dtype:
        raise RuntimeError(f"{op}: input and weight must have the same dtype, got {input.dtype} and {weight.dtype}")
    batched = input._data.ndim == nd + 2
    return (input if batched else input.unsqueeze(0)), batched


def _params(nd, op, stride, dilation):
    stride = ntuple(stride, nd, "stride", op)
    dilation = ntuple(dilation, nd, "dilation", op)
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"{op}: non-positive stride is not supported (stride={stride})")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"{op}: non-positive dilation is not supported (dilation={dilation})")
    return stride, dilation


def _conv_padding(padding, nd, kernel, stride, dilation, op):
    """Padding as (lo, hi) pairs; 'same' puts the odd element on the high side, as PyTorch."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError(f"{op}: padding='same' is not supported for strided convolutions")
            total = [d * (k - 1) for d, k in zip(dilation, kernel)]
            return tuple((t // 2, t - t // 2) for t in total)
        raise RuntimeError(f"{op}: Invalid padding string: '{padding}' (expected 'valid' or 'same')")
    padding = ntuple(padding, nd, "padding", op)
    if any(p < 0 for p in padding):
        raise RuntimeError(f"{op}: negative padding is not supported (padding={padding})")
    return tuple((p, p) for p in padding)


def _check_bias(bias, weight, channels, op):
    if bias is not None and bias._data.shape != (channels,):
        raise RuntimeError(
            f"{op}: given weight of size {_shape(weight)}, expected bias to be "
            f"1-dimensional with {channels} elements, but got bias of size "
            f"{_shape(bias)} instead"
        )


def _add_bias(out, bias, weight, channels, nd, op):
    if bias is None:
        return out
    _check_bias(bias, weight, channels, op)
    return out + bias.reshape((channels,) + (1,) * nd)


def _dims(t):
    return " x ".join(map(str, t))


# --------------------------------------------------------------------------- convolution
def _convnd(nd, op, input, weight, bias, stride, padding, dilation, groups):
    x, batched = _batched(input, weight, nd, op)
    stride, dilation = _params(nd, op, stride, dilation)
    w_shape = weight._data.shape
    if groups <= 0:
        raise RuntimeError(f"{op}: non-positive groups is not supported (groups={groups})")
    if w_shape[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at "
            f"dimension 0, but got weight of size {list(w_shape)} instead"
        )
    if x._data.shape[1] != w_shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(w_shape)}, expected "
            f"input{_shape(x)} to have {w_shape[1] * groups} channels, but got "
            f"{x._data.shape[1]} channels instead"
        )
    kernel = w_shape[2:]
    pad = _conv_padding(padding, nd, kernel, stride, dilation, op)
    win = make_window(x._data.shape[2:], kernel, stride, dilation, pad)
    if any(o <= 0 for o in win.out):
        eff = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
        raise RuntimeError(
            f"Calculated padded input size per channel: ({_dims(win.padded)}). "
            f"Kernel size: ({_dims(eff)}). Kernel size can't be greater than "
            f"actual input size"
        )
    _check_bias(bias, weight, w_shape[0], op)
    if bias is not None and bias._data.dtype != weight._data.dtype:
        raise RuntimeError(f"{op}: input and bias must have the same dtype, got {input.dtype} and {bias.dtype}")
    out = apply(CONV, (x, weight, bias), (win, groups))
    return out if batched else out.squeeze(0)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation: input (N, C, L) or (C, L), weight (O, C/groups, K)."""
    if _AMP[0] and _amp.on:
        return autocast_call(conv1d, LOWER, input, weight, bias, stride, padding, dilation, groups)
    return _convnd(1, "conv1d", input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation: input (N, C, H, W) or (C, H, W), weight (O, C/groups, kH, kW).

    out[n, o, i, j] = bias[o] + sum_{c, a, b} w[o, c, a, b] x_pad[n, g c, i s + a d, j s + b d]
    (c over the channels of o's group). ``padding`` is an int, a tuple, 'valid' or 'same'."""
    if _AMP[0] and _amp.on:
        return autocast_call(conv2d, LOWER, input, weight, bias, stride, padding, dilation, groups)
    return _convnd(2, "conv2d", input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D cross-correlation: input (N, C, D, H, W) or (C, D, H, W)."""
    if _AMP[0] and _amp.on:
        return autocast_call(conv3d, LOWER, input, weight, bias, stride, padding, dilation, groups)
    return _convnd(3, "conv3d", input, weight, bias, stride, padding, dilation, groups)


# --------------------------------------------------------------------------- transposed convolution
def _conv_transposend(nd, op, input, weight, bias, stride, padding, output_padding, groups, dilation):
    x, batched = _batched(input, weight, nd, op)
    stride, dilation = _params(nd, op, stride, dilation)
    padding = ntuple(padding, nd, "padding", op)
    output_padding = ntuple(output_padding, nd, "output_padding", op)
    if any(p < 0 for p in padding):
        raise RuntimeError(f"{op}: negative padding is not supported (padding={padding})")
    if any(p < 0 or (p >= s and p >= d) for p, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(
            f"{op}: output padding must be smaller than either stride or dilation, "
            f"but got output_padding={output_padding}, stride={stride}, "
            f"dilation={dilation}"
        )
    w_shape = weight._data.shape
    if groups <= 0:
        raise RuntimeError(f"{op}: non-positive groups is not supported (groups={groups})")
    if w_shape[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at "
            f"dimension 0, but got weight of size {list(w_shape)} instead"
        )
    if x._data.shape[1] != w_shape[0]:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(w_shape)}, expected "
            f"input{_shape(x)} to have {w_shape[0]} channels, but got "
            f"{x._data.shape[1]} channels instead"
        )
    kernel = w_shape[2:]
    in_size = x._data.shape[2:]
    size = tuple(
        (h - 1) * s - 2 * p + d * (k - 1) + op_ + 1
        for h, s, p, d, k, op_ in zip(in_size, stride, padding, dilation, kernel, output_padding)
    )
    if any(s <= 0 for s in size):
        raise RuntimeError(
            f"{op}: given input size ({_dims(in_size)}), the calculated output size ({_dims(size)}) is too small"
        )
    # the convolution whose input gradient this is: it maps `size` back to `in_size`
    win = Window(size, tuple(kernel), stride, dilation, tuple((p, p) for p in padding), tuple(in_size))
    out = apply(CONV_T, (x, weight), (win, groups))
    out = _add_bias(out, bias, weight, w_shape[1] * groups, nd, op)
    return out if batched else out.squeeze(0)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution: weight (C_in, C_out/groups, K)."""
    if _AMP[0] and _amp.on:
        return autocast_call(
            conv_transpose1d, LOWER, input, weight, bias, stride, padding, output_padding, groups, dilation
        )
    return _conv_transposend(
        1, "conv_transpose1d", input, weight, bias, stride, padding, output_padding, groups, dilation
    )


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution (the gradient of conv2d w.r.t. its input), weight
    (C_in, C_out/groups, kH, kW); output size (H - 1) s - 2 p + d (k - 1) + output_padding + 1."""
    if _AMP[0] and _amp.on:
        return autocast_call(
            conv_transpose2d, LOWER, input, weight, bias, stride, padding, output_padding, groups, dilation
        )
    return _conv_transposend(
        2, "conv_transpose2d", input, weight, bias, stride, padding, output_padding, groups, dilation
    )


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3-D transposed convolution: weight (C_in, C_out/groups, kD, kH, kW)."""
    if _AMP[0] and _amp.on:
        return autocast_call(
            conv_transpose3d, LOWER, input, weight, bias, stride, padding, output_padding, groups, dilation
        )
    return _conv_transposend(
        3, "conv_transpose3d", input, weight, bias, stride, padding, output_padding, groups, dilation
    )


# --------------------------------------------------------------------------- unfold / fold
def _unfold(xp, x, win):
    cols = window_view(xp, pad_array(xp, x, win, 2), win, 2)  # (N, C, *K, *O)
    n, c = x.shape[:2]
    return xp.ascontiguousarray(cols).reshape(n, c * win.taps, math.prod(win.out))


def _fold(xp, cols, win):
    cols = cols.reshape(cols.shape[:1] + (cols.shape[1] // win.taps,) + win.kernel + win.out)
    return xp.ascontiguousarray(crop(scatter_windows(xp, cols, win, 2), win, 2))


UNFOLD = Op("im2col", _unfold, lambda g, win: apply(FOLD, (g,), (win,)), jvp=LINEAR, node_name="Im2ColBackward0")
FOLD = Op("col2im", _fold, lambda g, win: apply(UNFOLD, (g,), (win,)), jvp=LINEAR, node_name="Col2ImBackward0")


def _fold_window(size, kernel_size, dilation, padding, stride, op):
    kernel = ntuple(kernel_size, 2, "kernel_size", op)
    stride, dilation = _params(2, op, stride, dilation)
    padding = ntuple(padding, 2, "padding", op)
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"{op}: kernel size should be greater than zero, but got {kernel}")
    if any(p < 0 for p in padding):
        raise RuntimeError(f"{op}: padding should be non-negative, but got {padding}")
    return make_window(size, kernel, stride, dilation, tuple((p, p) for p in padding))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """im2col: (N, C, H, W) -> (N, C * kH * kW, L), one column per sliding block; row
    c * kH * kW + a * kW + b holds x_pad[n, c, i s + a d, j s + b d] for block l = i * oW + j."""
    if input._data.ndim not in (3, 4):
        raise RuntimeError(
            f"unfold: expected 3D (unbatched) or 4D (batched) input, but got input of size: {_shape(input)}"
        )
    batched = input._data.ndim == 4
    x = input if batched else input.unsqueeze(0)
    win = _fold_window(x._data.shape[2:], kernel_size, dilation, padding, stride, "unfold")
    if any(o <= 0 for o in win.out):
        raise RuntimeError(
            f"unfold: given input with spatial size ({_dims(win.size)}), "
            f"kernel_size={win.kernel}, dilation={win.dilation}, padding="
            f"{tuple(p for p, _ in win.pad)}, calculated shape of the array of "
            f"sliding blocks as ({_dims(win.out)}), but its components must be at "
            f"least one."
        )
    out = apply(UNFOLD, (x,), (win,))
    return out if batched else out.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """col2im, the adjoint of unfold: (N, C * kH * kW, L) -> (N, C, *output_size), summing the
    values that overlapping blocks put at the same position."""
    if input._data.ndim not in (2, 3):
        raise RuntimeError(
            f"fold: expected 2D (unbatched) or 3D (batched) input, but got input of size: {_shape(input)}"
        )
    batched = input._data.ndim == 3
    cols = input if batched else input.unsqueeze(0)
    size = ntuple(output_size, 2, "output_size", "fold")
    win = _fold_window(size, kernel_size, dilation, padding, stride, "fold")
    rows, blocks = cols._data.shape[1:]
    if rows % win.taps:
        raise RuntimeError(
            f"Expected size of input's dimension 1 to be divisible by the product of "
            f"kernel_size, but got input.size(1)={rows} and kernel_size={win.kernel}."
        )
    if blocks != math.prod(win.out) or any(o <= 0 for o in win.out):
        raise RuntimeError(
            f"fold: given output_size={size}, kernel_size={win.kernel}, dilation="
            f"{win.dilation}, padding={tuple(p for p, _ in win.pad)}, stride="
            f"{win.stride}, expected size of input's dimension 2 to match the "
            f"calculated number of sliding blocks {' * '.join(map(str, win.out))} = "
            f"{math.prod(win.out)}, but got input.size(2)={blocks}."
        )
    out = apply(FOLD, (cols,), (win,))
    return out if batched else out.squeeze(0)


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(conv1d, functional=("conv1d",))
declare(conv2d, functional=("conv2d",))
declare(conv3d, functional=("conv3d",))
declare(conv_transpose1d, functional=("conv_transpose1d",))
declare(conv_transpose2d, functional=("conv_transpose2d",))
declare(conv_transpose3d, functional=("conv_transpose3d",))
declare(unfold, torch=False, functional=("unfold",))
declare(fold, torch=False, functional=("fold",))

"""Plain NumPy references for convolution, pooling, padding and resampling, written from the
definitions with explicit loops (slow; for tiny inputs only)."""

import itertools
import math

import numpy as np


def _tup(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


def _pairs(padding, n):
    """int, tuple of ints, or tuple of (lo, hi) pairs -> tuple of (lo, hi) pairs."""
    if isinstance(padding, (tuple, list)) and padding and isinstance(padding[0], (tuple, list)):
        return tuple(tuple(p) for p in padding)
    return tuple((p, p) for p in _tup(padding, n))


def same_padding(kernel, dilation):
    total = [d * (k - 1) for k, d in zip(kernel, dilation)]
    return tuple((t // 2, t - t // 2) for t in total)


def conv(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """out[n, o, p] = b[o] + sum_{c, k} w[o, c, k] * x_pad[n, g * Cg + c, p * s + k * d]."""
    nd = x.ndim - 2
    stride, dilation = _tup(stride, nd), _tup(dilation, nd)
    xpad = np.pad(x, [(0, 0), (0, 0)] + list(_pairs(padding, nd)))
    n_, _, *size = xpad.shape
    o_, cg, *kernel = w.shape
    og = o_ // groups
    out_size = [(S - d * (K - 1) - 1) // s + 1 for S, K, s, d in zip(size, kernel, stride, dilation)]
    out = np.zeros((n_, o_, *out_size))
    for n, o in itertools.product(range(n_), range(o_)):
        g = o // og
        for pos in itertools.product(*map(range, out_size)):
            acc = 0.0 if b is None else b[o]
            for c in range(cg):
                for k in itertools.product(*map(range, kernel)):
                    src = tuple(p * s + kk * d for p, kk, s, d in zip(pos, k, stride, dilation))
                    acc += w[(o, c) + k] * xpad[(n, g * cg + c) + src]
            out[(n, o) + pos] = acc
    return out


def conv_transpose(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Each input value x[n, ci, p] adds x * w[ci, co, k] at output p * s + k * d - padding."""
    nd = x.ndim - 2
    stride, dilation = _tup(stride, nd), _tup(dilation, nd)
    padding, output_padding = _tup(padding, nd), _tup(output_padding, nd)
    n_, c_in, *size = x.shape
    _, cog, *kernel = w.shape
    cig = c_in // groups
    full = [
        (S - 1) * s + d * (K - 1) + 1 + op for S, K, s, d, op in zip(size, kernel, stride, dilation, output_padding)
    ]
    out = np.zeros((n_, cog * groups, *full))
    for n, ci in itertools.product(range(n_), range(c_in)):
        g = ci // cig
        for pos in itertools.product(*map(range, size)):
            for co in range(cog):
                for k in itertools.product(*map(range, kernel)):
                    dst = tuple(p * s + kk * d for p, kk, s, d in zip(pos, k, stride, dilation))
                    out[(n, g * cog + co) + dst] += x[(n, ci) + pos] * w[(ci, co) + k]
    crop = tuple(slice(p, f - p) for p, f in zip(padding, full))
    out = out[(slice(None), slice(None)) + crop]
    return out if b is None else out + b.reshape((-1,) + (1,) * nd)


def unfold(x, kernel, dilation=1, padding=0, stride=1):
    kernel = _tup(kernel, 2)
    dilation, stride = _tup(dilation, 2), _tup(stride, 2)
    xpad = np.pad(x, [(0, 0), (0, 0)] + list(_pairs(padding, 2)))
    n_, c_, H, W = xpad.shape
    oh = (H - dilation[0] * (kernel[0] - 1) - 1) // stride[0] + 1
    ow = (W - dilation[1] * (kernel[1] - 1) - 1) // stride[1] + 1
    out = np.zeros((n_, c_ * kernel[0] * kernel[1], oh * ow))
    for n, c, a, b, i, j in itertools.product(
        range(n_), range(c_), range(kernel[0]), range(kernel[1]), range(oh), range(ow)
    ):
        out[n, (c * kernel[0] + a) * kernel[1] + b, i * ow + j] = xpad[
            n, c, i * stride[0] + a * dilation[0], j * stride[1] + b * dilation[1]
        ]
    return out


def fold(cols, output_size, kernel, dilation=1, padding=0, stride=1):
    kernel, output_size = _tup(kernel, 2), _tup(output_size, 2)
    dilation, stride, padding = _tup(dilation, 2), _tup(stride, 2), _tup(padding, 2)
    H, W = output_size[0] + 2 * padding[0], output_size[1] + 2 * padding[1]
    oh = (H - dilation[0] * (kernel[0] - 1) - 1) // stride[0] + 1
    ow = (W - dilation[1] * (kernel[1] - 1) - 1) // stride[1] + 1
    n_ = cols.shape[0]
    c_ = cols.shape[1] // (kernel[0] * kernel[1])
    out = np.zeros((n_, c_, H, W))
    for n, c, a, b, i, j in itertools.product(
        range(n_), range(c_), range(kernel[0]), range(kernel[1]), range(oh), range(ow)
    ):
        out[n, c, i * stride[0] + a * dilation[0], j * stride[1] + b * dilation[1]] += cols[
            n, (c * kernel[0] + a) * kernel[1] + b, i * ow + j
        ]
    return out[:, :, padding[0] : H - padding[0], padding[1] : W - padding[1]]


def _pool_out(S, K, s, p, d, ceil_mode):
    num = S + 2 * p - d * (K - 1) - 1
    o = (math.ceil(num / s) if ceil_mode else num // s) + 1
    if ceil_mode and (o - 1) * s >= S + p:
        o -= 1
    return o


def max_pool(x, nd, kernel, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Returns (values, flat in-plane indices of the first maximum)."""
    kernel = _tup(kernel, nd)
    stride = kernel if stride is None else _tup(stride, nd)
    padding, dilation = _tup(padding, nd), _tup(dilation, nd)
    lead, size = x.shape[:-nd], x.shape[-nd:]
    out_size = [_pool_out(S, K, s, p, d, ceil_mode) for S, K, s, p, d in zip(size, kernel, stride, padding, dilation)]
    vals = np.zeros(lead + tuple(out_size))
    idx = np.zeros(lead + tuple(out_size), dtype=np.int64)
    for b in itertools.product(*map(range, lead)):
        for pos in itertools.product(*map(range, out_size)):
            best, arg = -np.inf, -1
            for k in itertools.product(*map(range, kernel)):
                src = tuple(o * s - p + kk * d for o, kk, s, p, d in zip(pos, k, stride, padding, dilation))
                if all(0 <= i < S for i, S in zip(src, size)):
                    v = x[b + src]
                    if v > best or np.isnan(v):
                        best, arg = v, int(np.ravel_multi_index(src, size))
            vals[b + pos], idx[b + pos] = best, arg
    return vals, idx


def avg_pool(x, nd, kernel, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    kernel = _tup(kernel, nd)
    stride = kernel if stride is None else _tup(stride, nd)
    padding = _tup(padding, nd)
    lead, size = x.shape[:-nd], x.shape[-nd:]
    out_size = [_pool_out(S, K, s, p, 1, ceil_mode) for S, K, s, p in zip(size, kernel, stride, padding)]
    out = np.zeros(lead + tuple(out_size))
    for b in itertools.product(*map(range, lead)):
        for pos in itertools.product(*map(range, out_size)):
            ranges, padded_count = [], 1
            for o, K, s, p, S in zip(pos, kernel, stride, padding, size):
                start = o * s - p
                end = min(start + K, S + p)
                padded_count *= end - start
                ranges.append(range(max(start, 0), min(end, S)))
            total = sum(x[b + src] for src in itertools.product(*ranges))
            count = math.prod(len(r) for r in ranges)
            div = divisor_override or (padded_count if count_include_pad else count)
            out[b + pos] = total / div
    return out


def _adaptive_ranges(size, out_size, pos):
    return [range((i * S) // O, -(-(i + 1) * S // O)) for i, S, O in zip(pos, size, out_size)]


def adaptive_avg_pool(x, nd, out_size):
    lead, size = x.shape[:-nd], x.shape[-nd:]
    out = np.zeros(lead + tuple(out_size))
    for b in itertools.product(*map(range, lead)):
        for pos in itertools.product(*map(range, out_size)):
            srcs = list(itertools.product(*_adaptive_ranges(size, out_size, pos)))
            out[b + pos] = sum(x[b + s] for s in srcs) / len(srcs)
    return out


def adaptive_max_pool(x, nd, out_size):
    lead, size = x.shape[:-nd], x.shape[-nd:]
    vals = np.zeros(lead + tuple(out_size))
    idx = np.zeros(lead + tuple(out_size), dtype=np.int64)
    for b in itertools.product(*map(range, lead)):
        for pos in itertools.product(*map(range, out_size)):
            srcs = list(itertools.product(*_adaptive_ranges(size, out_size, pos)))
            best = max(srcs, key=lambda s: x[b + s])
            vals[b + pos], idx[b + pos] = x[b + best], np.ravel_multi_index(best, size)
    return vals


def pad(x, pad, mode="constant", value=0.0):
    """PyTorch's pad tuple (last dim first); positive amounts only."""
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    np_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    kw = {"constant_values": value} if mode == "constant" else {}
    return np.pad(x, widths, mode=np_mode, **kw)


def _interp_1d(x, axis, out, mode, align_corners, scale=None):
    """Resample one axis. ``scale`` (input/output) defaults to S / out."""
    S = x.shape[axis]
    scale = S / out if scale is None else scale
    x = np.moveaxis(x, axis, -1)
    res = np.zeros(x.shape[:-1] + (out,))
    for i in range(out):
        if mode == "nearest":
            res[..., i] = x[..., min(int(math.floor(i * scale)), S - 1)]
        elif mode == "nearest-exact":
            res[..., i] = x[..., min(int(math.floor((i + 0.5) * scale)), S - 1)]
        elif mode == "linear":
            src = (
                i * (S - 1) / (out - 1)
                if align_corners and out > 1
                else 0.0
                if align_corners
                else max((i + 0.5) * scale - 0.5, 0.0)
            )
            i0 = min(int(math.floor(src)), S - 1)
            i1 = min(i0 + 1, S - 1)
            lam = src - i0
            res[..., i] = (1 - lam) * x[..., i0] + lam * x[..., i1]
        elif mode == "cubic":
            src = (
                i * (S - 1) / (out - 1)
                if align_corners and out > 1
                else 0.0
                if align_corners
                else (i + 0.5) * scale - 0.5
            )
            i0 = int(math.floor(src))
            t = src - i0
            A = -0.75

            def kern(d):
                d = abs(d)
                if d <= 1:
                    return (A + 2) * d**3 - (A + 3) * d**2 + 1
                if d < 2:
                    return A * d**3 - 5 * A * d**2 + 8 * A * d - 4 * A
                return 0.0

            res[..., i] = sum(kern(t - k) * x[..., min(max(i0 + k, 0), S - 1)] for k in (-1, 0, 1, 2))
    return np.moveaxis(res, -1, axis)


def interpolate(x, size, mode="nearest", align_corners=False, scales=None):
    nd = x.ndim - 2
    size = _tup(size, nd)
    sub = {"bilinear": "linear", "trilinear": "linear", "bicubic": "cubic"}.get(mode, mode)
    for i in range(nd):
        x = _interp_1d(x, 2 + i, size[i], sub, align_corners, None if scales is None else scales[i])
    return x

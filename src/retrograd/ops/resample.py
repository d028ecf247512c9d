"""Padding and resampling: pad (constant, reflect, replicate, circular) and interpolate
(nearest, nearest-exact, linear, bilinear, bicubic, trilinear, area).

Constant padding is one op (its backward crops the gradient). The other padding modes and
every interpolation mode read the input at computed positions along each dim in turn: a pad
is an ``index_select`` with reflected, clamped or wrapped indices, and linear/cubic
interpolation is a weighted sum of a few such selections. Their gradients are index_select's
(a scatter-add), so they are differentiable to any order.
"""

import math
import warnings

import numpy as np

from .._compile.state import shape_constant
from ._registry import Op, apply
from ._declare import declare
from .shape import contiguous
from .._typeinfo import channels_last, channels_last_3d, contiguous_format
from .._autocast import FLOAT32, ACTIVE as _AMP, _amp, autocast_call


# --------------------------------------------------------------------------- pad
def _constant_pad(xp, x, pads, value):
    shape = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape, pads))
    out = xp.full(shape, value, dtype=x.dtype)
    out[tuple(slice(lo, lo + s) for s, (lo, _) in zip(x.shape, pads))] = x
    return out


def _constant_pad_vjp(g, pads, value):
    from .indexing import getitem

    shape = g._data.shape
    return getitem(g, tuple(slice(lo, n - hi) for n, (lo, hi) in zip(shape, pads)))


CONSTANT_PAD = Op("constant_pad_nd", _constant_pad, _constant_pad_vjp)


def _pairs(pad, ndim):
    """PyTorch's pad tuple (last dim first: left, right, then the dim before, ...) as one
    (lo, hi) pair per dim of the input."""
    pairs = [(0, 0)] * ndim
    for i in range(len(pad) // 2):
        pairs[ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    return pairs


def _check_pad_length(input, pad):
    if len(pad) % 2:
        raise RuntimeError(f"Padding length must be divisible by 2 (got pad={tuple(pad)})")
    if len(pad) // 2 > input._data.ndim:
        raise RuntimeError(
            f"Padding length should be less than or equal to two times the input "
            f"dimension but got padding length {len(pad)} and input of dimension "
            f"{input._data.ndim}"
        )


def constant_pad_nd(input, pad, value=0):
    """Pad with ``value``; negative amounts crop."""
    _check_pad_length(input, pad)
    from .indexing import getitem

    pairs = _pairs(pad, input._data.ndim)
    x = input
    if any(lo < 0 or hi < 0 for lo, hi in pairs):
        shape = input._data.shape
        for d, (lo, hi) in enumerate(pairs):
            if shape[d] + min(lo, 0) + min(hi, 0) < 0:
                raise RuntimeError(
                    f"pad: cropping {-min(lo, 0)} and {-min(hi, 0)} elements from "
                    f"dim {d} of size {shape[d]} (input shape {list(shape)}) leaves "
                    f"a negative size"
                )
        x = getitem(x, tuple(slice(-min(lo, 0), shape[d] - (-min(hi, 0))) for d, (lo, hi) in enumerate(pairs)))
        pairs = [(max(lo, 0), max(hi, 0)) for lo, hi in pairs]
    return apply(CONSTANT_PAD, (x,), (tuple(pairs), value))


def _pad_index(mode, S, lo, hi, dim, shape):
    """The input position that each padded position of one dim reads."""
    j = np.arange(-lo, S + hi)
    if mode == "reflect":
        if lo >= S or hi >= S:
            raise RuntimeError(
                f"pad: padding size should be less than the corresponding input "
                f"dimension in reflect mode, but got padding ({lo}, {hi}) at dim "
                f"{dim} of input {list(shape)}"
            )
        j = np.abs(j)
        return np.where(j >= S, 2 * (S - 1) - j, j)
    if mode == "replicate":
        return np.clip(j, 0, S - 1)
    # circular: crop first, then wrap around what is left (PyTorch's order)
    start, n = max(-lo, 0), S - max(-lo, 0) - max(-hi, 0)
    if lo > n or hi > n:
        raise RuntimeError(
            f"pad: padding value causes wrapping around more than once (padding "
            f"({lo}, {hi}) at dim {dim} of input {list(shape)})"
        )
    return start + (np.arange(-max(lo, 0), n + max(hi, 0)) % n)


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad) / 2 dims; ``pad`` lists (left, right) for the last dim first.

    constant: fill with ``value`` (0 by default); reflect: mirror without repeating the edge;
    replicate: repeat the edge; circular: wrap around. Negative amounts crop."""
    pad = tuple(pad)
    # autocast keeps PyTorch's reflection_pad1d/2d and replication_pad1d/2d/3d in float32
    if _AMP[0] and _amp.on and (mode == "replicate" or mode == "reflect" and len(pad) <= 4):
        return autocast_call(_pad, FLOAT32, input, pad, mode, value)
    if mode == "constant":
        return constant_pad_nd(input, pad, 0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    _check_pad_length(input, pad)
    n, ndim = len(pad) // 2, input._data.ndim
    if n not in (1, 2, 3) or ndim not in (n + 1, n + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {ndim}D input tensor.\n"
            f"Supported combinations for non-constant padding:\n"
            f"  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            f"  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            f"  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
        )
    shape = input._data.shape
    if any(s == 0 for s in (shape[1:] if ndim == n + 2 else shape)):
        raise RuntimeError(
            f"pad: expected input with non-zero sizes (except the batch dim) in "
            f"{mode} mode, but got input of size {list(shape)}"
        )
    x = input
    for d, (lo, hi) in enumerate(_pairs(pad, ndim)):
        if lo or hi:
            x = _select(x, d, _pad_index(mode, shape[d], lo, hi, d, shape))
    return x


# --------------------------------------------------------------------------- interpolate
def _select(x, dim, idx):
    from .indexing import index_select
    from .._creation import tensor

    return index_select(x, dim, shape_constant(tensor(idx.astype(np.int64), device=x.device)))


def _weights(w, x, dim):
    """Constant weights along ``dim`` shaped to broadcast against x."""
    from .._creation import tensor

    shape = (-1,) + (1,) * (x._data.ndim - 1 - dim)
    return shape_constant(tensor(w.reshape(shape), dtype=x.dtype, device=x.device))


def _source(S, O, scale, align_corners, cubic=False):
    """Source coordinate of every output position (PyTorch's area_pixel_compute_source_index)."""
    dst = np.arange(O, dtype=np.float64)
    if align_corners:
        return dst * ((S - 1) / (O - 1) if O > 1 else 0.0)
    src = (dst + 0.5) * scale - 0.5
    return src if cubic else np.maximum(src, 0.0)


def _cubic_weights(t, A=-0.75):
    """Cubic convolution (Keys, A = -0.75) weights of taps -1, 0, 1, 2 at fraction t."""

    def near(x):
        return ((A + 2) * x - (A + 3)) * x * x + 1

    def far(x):
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A

    return far(t + 1), near(t), near(1 - t), far(2 - t)


_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")
_LINEAR_ND = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def _output_size(input, nd, size, scale_factor, recompute_scale_factor):
    spatial = tuple(input._data.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != nd:
                raise ValueError(
                    f"Input and output must have the same number of spatial "
                    f"dimensions, but got input with spatial dimensions of "
                    f"{list(spatial)} and output size of {tuple(size)}. Please provide "
                    f"input tensor in (N, C, d1, d2, ...,dK) format and output size "
                    f"in (o1, o2, ...,oK) format."
                )
            out = tuple(int(s) for s in size)
        else:
            out = (int(size),) * nd
        return spatial, out, (None,) * nd
    if isinstance(scale_factor, (list, tuple)):
        if len(scale_factor) != nd:
            raise ValueError(
                f"Input and scale_factor must have the same number of spatial "
                f"dimensions, but got input with spatial dimensions of {list(spatial)} "
                f"and scale_factor of shape {tuple(scale_factor)}. Please provide input "
                f"tensor in (N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, "
                f"...,sK) format."
            )
        factors = tuple(float(f) for f in scale_factor)
    else:
        factors = (float(scale_factor),) * nd
    out = tuple(int(math.floor(S * f)) for S, f in zip(spatial, factors))
    # the given factor maps coordinates unless the caller asks to recompute it from the sizes
    return spatial, out, (None,) * nd if recompute_scale_factor else factors


def interpolate(
    input,
    size=None,
    scale_factor=None,
    mode="nearest",
    align_corners=None,
    recompute_scale_factor=None,
    antialias=False,
):
    """Resize the spatial dims (input (N, C, *spatial)) to ``size`` or by ``scale_factor``.

    Output position i of a dim maps to source coordinate (i + 0.5) * S / O - 0.5 (or
    i * (S - 1) / (O - 1) with align_corners); nearest takes floor(i * S / O), linear modes
    blend the two neighbours, bicubic four, area averages (adaptive_avg_pool). ``antialias``
    (bilinear and bicubic, 4-D input) widens the filter by the downscaling factor
    (``_antialias_weights``)."""
    ndim = input._data.ndim
    if mode not in _MODES or ndim not in (3, 4, 5):
        if ndim not in (3, 4, 5):
            raise NotImplementedError(
                f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                f"{ndim}D) for the modes: {' | '.join(_MODES)} (got {mode})"
            )
        raise NotImplementedError(f"interpolate: unknown mode '{mode}' (expected one of {' | '.join(_MODES)})")
    nd = ndim - 2
    if mode in _LINEAR_ND:
        if _LINEAR_ND[mode] != nd:
            raise NotImplementedError(f"Got {ndim}D input, but {mode} mode needs {_LINEAR_ND[mode] + 2}D input")
    elif align_corners is not None:
        raise ValueError(
            "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear"
        )
    if antialias and not (mode in ("bilinear", "bicubic") and ndim == 4):
        raise ValueError(
            "Anti-alias option is restricted to bilinear and bicubic modes and requires a 4-D tensor as input "
            f"(got mode '{mode}' and a {ndim}-D input)"
        )
    spatial, out, factors = _output_size(input, nd, size, scale_factor, recompute_scale_factor)
    if any(o <= 0 for o in out) or any(s <= 0 for s in spatial):
        raise RuntimeError(
            f"interpolate: input and output sizes should be greater than 0, but got input {spatial} and output {out}"
        )
    if mode == "area":
        from .pool import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d

        x = (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[nd - 1](input, out)
        return _pytorch_layout(x, input) if nd == 2 else x  # PyTorch keeps channels-last in 2-D only
    if mode not in ("nearest", "nearest-exact") and input._data.dtype.kind not in "fV":
        raise RuntimeError(f"interpolate: mode '{mode}' needs a floating point input, got {input.dtype}")
    align = bool(align_corners)
    x = input
    if antialias:
        for i, (S, O, f) in enumerate(zip(spatial, out, factors)):
            if align:
                scale = (S - 1) / (O - 1) if O > 1 else 0.0
            else:
                scale = 1.0 / f if f is not None and f > 0 else S / O
            from .._creation import tensor

            w = _antialias_weights(S, O, scale, mode).T  # (S, O)
            wt = shape_constant(tensor(w, dtype=x.dtype, device=x.device))
            x = x.movedim(2 + i, -1).matmul(wt).movedim(-1, 2 + i)
        return _pytorch_layout(x, input)
    for i, (S, O, f) in enumerate(zip(spatial, out, factors)):
        dim = 2 + i
        scale = 1.0 / f if f is not None and f > 0 else S / O
        if mode == "nearest":
            x = _select(x, dim, np.minimum(np.floor(np.arange(O) * scale).astype(np.int64), S - 1))
        elif mode == "nearest-exact":
            x = _select(x, dim, np.minimum(np.floor((np.arange(O) + 0.5) * scale).astype(np.int64), S - 1))
        elif mode == "bicubic":
            src = _source(S, O, scale, align, cubic=True)
            i0 = np.floor(src).astype(np.int64)
            taps = [np.clip(i0 + k, 0, S - 1) for k in (-1, 0, 1, 2)]
            terms = [_select(x, dim, t) * _weights(w, x, dim) for t, w in zip(taps, _cubic_weights(src - i0))]
            x = terms[0] + terms[1] + terms[2] + terms[3]
        else:
            src = _source(S, O, scale, align)
            i0 = np.minimum(src.astype(np.int64), S - 1)
            i1 = np.minimum(i0 + 1, S - 1)
            l1 = src - i0
            x = _select(x, dim, i0) * _weights(1 - l1, x, dim) + _select(x, dim, i1) * _weights(l1, x, dim)
    return _pytorch_layout(x, input)


def _antialias_weights(S, O, scale, mode):
    """The (O, S) matrix of antialiased interpolation along one dim (PIL's resampling, as
    PyTorch's antialias=True): output i is centred at source coordinate c = scale * (i + 0.5);
    the filter (triangle for bilinear, Keys cubic with a = -0.5 for bicubic) is stretched by
    ``scale`` when downsampling (support ``r * max(scale, 1)``, r = 1 or 2); it weights the
    inputs j with j + 0.5 within the support around c, and each row is normalised to sum 1."""
    r = 1.0 if mode == "bilinear" else 2.0
    support = r * scale if scale >= 1.0 else r
    invscale = 1.0 / scale if scale >= 1.0 else 1.0
    w = np.zeros((O, S))
    for i in range(O):
        center = scale * (i + 0.5)
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), S)
        t = np.abs((np.arange(lo, hi) - center + 0.5) * invscale)
        if mode == "bilinear":
            k = np.maximum(1.0 - t, 0.0)
        else:
            a = -0.5
            k = np.where(
                t < 1.0, ((a + 2) * t - (a + 3)) * t * t + 1, np.where(t < 2.0, (((t - 5) * t + 8) * t - 4) * a, 0.0)
            )
        total = k.sum()
        w[i, lo:hi] = k / total if total != 0.0 else k
    return w


def _pytorch_layout(out, input):
    """``out`` laid out as PyTorch lays out an interpolation's result: channels-last when the
    4-D (5-D) input's strides are channels-last, row-major otherwise (so ``view`` works where it
    works in PyTorch). The per-dim gathers above leave the result in a transposed order."""
    order = input.dim_order() if input._data.ndim in (4, 5) else None
    if order == (0, 2, 3, 1):
        fmt = channels_last
    elif order == (0, 2, 3, 4, 1):
        fmt = channels_last_3d
    else:
        fmt = contiguous_format
    return contiguous(out, memory_format=fmt)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated in PyTorch (with a warning): ``interpolate(input, size, scale_factor,
    mode="nearest")``."""
    warnings.warn("nn.functional.upsample_nearest is deprecated. Use nn.functional.interpolate instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated in PyTorch (with a warning): ``interpolate(input, size, scale_factor,
    mode="bilinear", align_corners=True)``."""
    warnings.warn("nn.functional.upsample_bilinear is deprecated. Use nn.functional.interpolate instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


_pad = pad  # pad() reaches itself by this name: its argument ``pad`` hides it


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(constant_pad_nd)
declare(pad, torch=False, functional=("pad",))
declare(interpolate, torch=False, functional=("interpolate",))
declare(upsample, torch=False, functional=("upsample",))
declare(upsample_nearest, torch=False, functional=("upsample_nearest",))
declare(upsample_bilinear, torch=False, functional=("upsample_bilinear",))

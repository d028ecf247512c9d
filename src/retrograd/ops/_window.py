"""Sliding windows over the spatial dims of an array: the geometry that convolution, pooling
and unfold/fold share, and the array helpers built on it.

Per spatial dim a window geometry has an input size S, kernel K, stride s, dilation d and
padding (lo, hi). The output size is

    O = (S + lo + hi - d (K - 1) - 1) // s + 1

and kernel tap k of output position o reads padded position o s + k d. The spatial dims may
sit anywhere in an array (``axis`` says where they start). Two helpers are adjoint to each
other: ``window_view`` of the padded array (a strided view with the spatial dims replaced by
(*K, *O): im2col without the copy) and ``scatter_windows`` (each tap's values added back at the
positions it read: col2im, before ``crop`` removes the padding).
"""

import itertools
import math
import operator
from typing import NamedTuple


class Window(NamedTuple):
    size: tuple  # S, the unpadded input size per spatial dim
    kernel: tuple  # K
    stride: tuple  # s
    dilation: tuple  # d
    pad: tuple  # (lo, hi) per dim
    out: tuple  # O

    @property
    def nd(self):
        return len(self.size)

    @property
    def padded(self):
        return tuple(S + lo + hi for S, (lo, hi) in zip(self.size, self.pad))

    @property
    def taps(self):
        return math.prod(self.kernel)

    def offsets(self):
        """Every kernel tap, row-major (the order PyTorch scans a window in)."""
        return itertools.product(*(range(k) for k in self.kernel))

    def tap_slices(self, tap):
        """The padded positions that kernel tap ``tap`` reads, for all output positions."""
        return tuple(
            slice(k * d, k * d + s * (o - 1) + 1, s) for k, d, s, o in zip(tap, self.dilation, self.stride, self.out)
        )

    def interior(self):
        """The slices of the padded array that hold the input."""
        return tuple(slice(lo, lo + S) for S, (lo, _) in zip(self.size, self.pad))

    def has_pad(self):
        return any(lo or hi for lo, hi in self.pad)


def ntuple(value, n, name, op):
    """An int or a sequence of ``n`` ints (one int in a sequence is repeated) as an n-tuple."""
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            value = tuple(value) * n
        if len(value) != n:
            raise RuntimeError(f"{op}: {name} must be a single int or a tuple of {n} ints, got {tuple(value)}")
        return tuple(operator.index(v) for v in value)
    return (operator.index(value),) * n


def out_size(S, K, s, lo, hi, d, ceil_mode=False):
    """Output length of one dim; in ceil mode the last window may hang over the end, but it must
    start inside the input or the left padding (PyTorch's rule)."""
    span = S + lo + hi - d * (K - 1) - 1
    if not ceil_mode:
        return span // s + 1
    o = -(-span // s) + 1
    if (o - 1) * s >= S + lo:
        o -= 1
    return o


def make_window(size, kernel, stride, dilation, pad, ceil_mode=False):
    """The geometry; ``pad`` is one (lo, hi) pair per dim. In ceil mode ``hi`` grows so that the
    padded array holds every window."""
    pads, outs = [], []
    for S, K, s, d, (lo, hi) in zip(size, kernel, stride, dilation, pad):
        o = out_size(S, K, s, lo, hi, d, ceil_mode)
        if ceil_mode:
            hi = max(hi, (o - 1) * s + d * (K - 1) + 1 - S - lo)
        pads.append((lo, hi))
        outs.append(o)
    return Window(tuple(size), tuple(kernel), tuple(stride), tuple(dilation), tuple(pads), tuple(outs))


def _spatial(win, axis, slices):
    """An index applying ``slices`` to the spatial dims, which start at ``axis``."""
    return (slice(None),) * axis + slices


def pad_array(xp, x, win, axis, value=0):
    """``x`` with its spatial dims (from ``axis``) padded by ``value``: a new array, or ``x``
    itself when there is no padding."""
    if not win.has_pad():
        return x
    out = xp.full(x.shape[:axis] + win.padded + x.shape[axis + win.nd :], value, dtype=x.dtype)
    out[_spatial(win, axis, win.interior())] = x
    return out


def crop(xpad, win, axis):
    """The interior of a padded array (a view)."""
    if not win.has_pad():
        return xpad
    return xpad[_spatial(win, axis, win.interior())]


def window_view(xp, xpad, win, axis):
    """A strided view of a padded array with the spatial dims (from ``axis``) replaced by
    (*K, *O): v[..., k, o, ...] = xpad[..., o s + k d, ...]. No copy: im2col in place."""
    nd = win.nd
    st = xpad.strides[axis : axis + nd]
    shape = xpad.shape[:axis] + win.kernel + win.out + xpad.shape[axis + nd :]
    strides = (
        xpad.strides[:axis]
        + tuple(t * d for t, d in zip(st, win.dilation))
        + tuple(t * s for t, s in zip(st, win.stride))
        + xpad.strides[axis + nd :]
    )
    return xp.lib.stride_tricks.as_strided(xpad, shape, strides)


def tap_index(win, axis, tap):
    """The index of the padded positions kernel tap ``tap`` reads (spatial dims from ``axis``)."""
    return _spatial(win, axis, win.tap_slices(tap))


def scatter_windows(xp, cols, win, axis):
    """Adjoint of ``window_view``: cols (..., *K, *O, ...) (the K dims at ``axis``) added back at
    the padded positions each tap read. Returns the padded array; ``crop`` it. One strided add
    per tap, so the dims after the spatial ones should be long for speed."""
    nd = win.nd
    shape = cols.shape[:axis] + win.padded + cols.shape[axis + 2 * nd :]
    out = xp.zeros(shape, dtype=cols.dtype)
    for tap in win.offsets():
        out[tap_index(win, axis, tap)] += cols[(slice(None),) * axis + tap]
    return out

"""Window functions for spectral analysis: hann, hamming, blackman, bartlett, kaiser.

With N points, n = 0 .. N-1 and M = N - 1 (symmetric; ``periodic=True`` computes N + 1 points
and drops the last, so the window repeats with period N):

    hann      1/2 - 1/2 cos(2 pi n / M)
    hamming   alpha - beta cos(2 pi n / M)
    blackman  0.42 - 0.5 cos(2 pi n / M) + 0.08 cos(4 pi n / M)
    bartlett  1 - |2 n / M - 1|
    kaiser    I0(beta sqrt(1 - (2 n / M - 1)^2)) / I0(beta)

A window of length 1 is [1]; of length 0, empty.
"""

import numpy as np

from .. import _dtype
from .._typeinfo import factory_options
from ._declare import declare


def _window(name, window_length, periodic, dtype, device, requires_grad, values):
    from .._creation import tensor

    dt = _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)
    if np.dtype(dt.np).kind not in "fV":
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dt}")
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={window_length}")
    if window_length <= 1:
        out = np.ones(window_length)
    else:
        m = window_length if periodic else window_length - 1
        out = values(np.arange(window_length, dtype=np.float64), m)
    return tensor(out, dtype=dt, device=device, requires_grad=requires_grad)


def hann_window(
    window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False
):
    if layout is not None or pin_memory:
        factory_options("hann_window", layout, pin_memory, device)
    return _window(
        "hann_window",
        window_length,
        periodic,
        dtype,
        device,
        requires_grad,
        lambda n, m: 0.5 - 0.5 * np.cos(2 * np.pi * n / m),
    )


def hamming_window(
    window_length,
    periodic=True,
    alpha=0.54,
    beta=0.46,
    *,
    dtype=None,
    layout=None,
    device=None,
    pin_memory=False,
    requires_grad=False,
):
    if layout is not None or pin_memory:
        factory_options("hamming_window", layout, pin_memory, device)
    return _window(
        "hamming_window",
        window_length,
        periodic,
        dtype,
        device,
        requires_grad,
        lambda n, m: alpha - beta * np.cos(2 * np.pi * n / m),
    )


def blackman_window(
    window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False
):
    if layout is not None or pin_memory:
        factory_options("blackman_window", layout, pin_memory, device)
    return _window(
        "blackman_window",
        window_length,
        periodic,
        dtype,
        device,
        requires_grad,
        lambda n, m: 0.42 - 0.5 * np.cos(2 * np.pi * n / m) + 0.08 * np.cos(4 * np.pi * n / m),
    )


def bartlett_window(
    window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False
):
    if layout is not None or pin_memory:
        factory_options("bartlett_window", layout, pin_memory, device)
    return _window(
        "bartlett_window", window_length, periodic, dtype, device, requires_grad, lambda n, m: 1 - np.abs(2 * n / m - 1)
    )


def kaiser_window(
    window_length,
    periodic=True,
    beta=12.0,
    *,
    dtype=None,
    layout=None,
    device=None,
    pin_memory=False,
    requires_grad=False,
):
    if layout is not None or pin_memory:
        factory_options("kaiser_window", layout, pin_memory, device)
    return _window(
        "kaiser_window",
        window_length,
        periodic,
        dtype,
        device,
        requires_grad,
        lambda n, m: np.i0(beta * np.sqrt(np.clip(1 - (2 * n / m - 1) ** 2, 0, None))) / np.i0(beta),
    )


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(hann_window)
declare(hamming_window)
declare(blackman_window)
declare(bartlett_window)
declare(kaiser_window)

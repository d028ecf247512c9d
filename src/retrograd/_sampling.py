"""Sampling from distributions with tensor parameters: poisson and binomial (drawn on the host
by the generator's NumPy stream, like the other random functions, then moved to the
parameters' device). Not differentiable."""

import numpy as np

from ._tensor import Tensor
from .backend import to_device_array, to_numpy


def poisson(input, generator=None):
    """Samples of Poisson(rate = input), elementwise; same dtype as ``input``."""
    from ._creation import _rng

    if input._data.dtype.kind not in "fV":
        raise RuntimeError(f"\"poisson\" not implemented for '{input.dtype}'")
    rates = to_numpy(input._data)
    if (rates < 0).any() or not np.isfinite(rates).all():
        raise RuntimeError("poisson: the rates must be finite and non-negative")
    out = _rng(generator).poisson(rates).astype(input._data.dtype)
    return Tensor._make(to_device_array(out, input.device), None, False)


def binomial(count, prob, generator=None):
    """Samples of Binomial(count, prob), elementwise (count and prob broadcast); prob's dtype."""
    from ._creation import _rng

    n = to_numpy(count._data)
    p = to_numpy(prob._data)
    if (p < 0).any() or (p > 1).any():
        raise RuntimeError("binomial: prob must be in [0, 1]")
    if (n < 0).any():
        raise RuntimeError("binomial: count must be non-negative")
    out = _rng(generator).binomial(n.astype(np.int64), p).astype(prob._data.dtype)
    return Tensor._make(to_device_array(out, prob.device), None, False)

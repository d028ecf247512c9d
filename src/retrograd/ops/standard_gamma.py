"""Gamma(alpha, 1) samples with implicit reparameterization gradients (PyTorch's
``torch._standard_gamma``), the source of Gamma, Beta and Dirichlet ``rsample``.

A sample x of Gamma(alpha, 1) is F^-1(u; alpha) for a uniform u, so with u held fixed
dx/dalpha = -(dF/dalpha)(x; alpha) / f(x; alpha), F and f being the CDF and density (Figurnov et
al., "Implicit Reparameterization Gradients", 2018). The backward computes that derivative
accurately in float64, in one of two ways:

- x in the bulk or the lower tail (x <= alpha + 3 sqrt(alpha) + 3): F = P(alpha, x) has the series
  sum_n x^(alpha+n) e^-x / Gamma(alpha+n+1); differentiating it term by term and dividing by f
  gives  dF/dalpha / f = sum_n x^(n+1) Gamma(alpha) / Gamma(alpha+n+1) (ln x - psi(alpha+n+1)).
- the upper tail: 1 - F = int_x^inf f, and dividing its derivative by f(x) gives
  dx/dalpha = int_0^inf e^-u (1 + u/x)^(alpha-1) (ln(x + u) - psi(alpha)) du, by Gauss-Laguerre
  quadrature after rescaling u to the integrand's decay rate (so it stays accurate where the
  series would cancel catastrophically against a tiny density).

Samples are drawn on the host by the generator's NumPy stream, like the other random functions.
The gradient is not differentiable again (as in PyTorch).
"""

import numpy as np

from .._tensor import Tensor
from ..backend import device_of, to_device_array, to_numpy
from ._registry import Op, apply
from .specfun import _digamma

_LAGUERRE = None


def _laguerre():
    global _LAGUERRE
    if _LAGUERRE is None:
        _LAGUERRE = np.polynomial.laguerre.laggauss(80)
    return _LAGUERRE


def _series(x, a):
    """dF/dalpha / f at (x, a) by the term-by-term differentiated series (float64 arrays)."""
    lx = np.log(x)
    total = np.zeros_like(x)
    log_ratio = lx - np.log(a)  # log of x^(n+1) Gamma(a) / Gamma(a+n+1) at n = 0
    n = 0
    while True:
        term = np.exp(log_ratio) * (lx - _digamma(np, a + n + 1))
        total += term
        n += 1
        if n > 20 and np.all(np.exp(log_ratio) <= 1e-17 * np.maximum(np.abs(total), 1e-300)):
            break
        if n > 100000:  # cannot happen for x <= a + 3 sqrt(a) + 3; a guard against an endless loop
            raise RuntimeError("standard_gamma backward: the series did not converge")
        log_ratio = log_ratio + lx - np.log(a + n)
    return total


def _upper(x, a):
    """dx/dalpha at (x, a) in the upper tail, by quadrature (float64 arrays)."""
    nodes, weights = _laguerre()
    rate = np.maximum(1 - (a - 1) / x, 0.5)  # the integrand decays like e^(-rate u)
    u = nodes[:, None] / rate
    vals = np.exp((a - 1) * np.log1p(u / x) - u * (1 - rate)) * (np.log(x + u) - _digamma(np, a))
    return (weights[:, None] * vals).sum(0) / rate


def dsample_dalpha(x, a):
    """dx/dalpha for Gamma(a, 1) samples x (float64 NumPy arrays of one shape)."""
    out = np.empty_like(x)
    upper = x > a + 3 * np.sqrt(a) + 3
    lower = ~upper
    if lower.any():
        out[lower] = -_series(x[lower], a[lower])
    if upper.any():
        out[upper] = _upper(x[upper], a[upper])
    return out


def _forward(xp, alpha, generator):
    from .._creation import _rng

    a = to_numpy(alpha).astype(np.float64)
    x = _rng(generator).standard_gamma(a)
    x = np.maximum(x, np.finfo(alpha.dtype).tiny)  # as PyTorch: a sample is never exactly 0
    return to_device_array(x.astype(alpha.dtype), device_of(alpha))


def _backward(g, alpha, out, generator):
    x = to_numpy(out._data).astype(np.float64)
    a = to_numpy(alpha._data).astype(np.float64)
    with np.errstate(all="ignore"):
        d = dsample_dalpha(x, a)
    grad = Tensor._make(to_device_array(d.astype(out._data.dtype), g.device), None, False)
    return g * grad


STANDARD_GAMMA = Op("standard_gamma", _forward, _backward, save=("x", "out"), node_name="StandardGammaBackward0")


def standard_gamma(concentration, generator=None):
    """Samples of Gamma(concentration, 1), elementwise, differentiable in ``concentration``."""
    if concentration._data.dtype.kind != "f":
        raise RuntimeError(f"_standard_gamma: expected a floating point tensor, got {concentration.dtype}")
    if concentration._data.size and not (to_numpy(concentration._data) > 0).all():
        raise RuntimeError("_standard_gamma: the concentration must be positive")
    return apply(STANDARD_GAMMA, (concentration,), (generator,))

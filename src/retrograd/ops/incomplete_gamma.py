"""The regularized incomplete gamma functions (``torch.igamma``/``torch.special.gammainc`` and
``igammac``/``gammaincc``):

    P(a, x) = int_0^x t^(a-1) e^-t dt / Gamma(a),      Q(a, x) = 1 - P(a, x).

Evaluated in float64 as in Numerical Recipes: the series
P = x^a e^-x / Gamma(a + 1) sum_n x^n / ((a+1)...(a+n)) where x < a + 1, and the continued fraction
for Q (modified Lentz) elsewhere, each until the terms stop changing the sum (relative 1e-16).
Special values are PyTorch's: nan for a < 0 or x < 0, P(0, x > 0) = 1, P(a, 0) = 0, P(a, inf) = 1,
P(inf, x) = 0 for finite x.

Gradients: dP/dx = x^(a-1) e^-x / Gamma(a) = -dQ/dx. The derivative in ``a`` is not implemented,
as in PyTorch: asking for it raises NotImplementedError.
"""

import numpy as np

from .._tensor import Tensor
from . import elementwise as ew
from ._declare import declare
from ._registry import Op, apply
from .specfun import _lgamma, lgamma

_EPS = 1e-16
_TINY = 1e-300
_MAX_ITER = 100000


def _series(xp, a, x):
    """P(a, x) by its power series (x < a + 1)."""
    term = 1 / a
    total = term
    ap = a
    for _ in range(_MAX_ITER):
        ap = ap + 1
        term = term * x / ap
        total = total + term
        if not xp.any(xp.abs(term) > xp.abs(total) * _EPS):
            break
    return total * xp.exp(-x + a * xp.log(x) - _lgamma(xp, a))


def _continued_fraction(xp, a, x):
    """Q(a, x) by its continued fraction, evaluated by the modified Lentz method (x >= a + 1)."""
    b = x + 1 - a
    c = xp.full_like(x, 1 / _TINY)
    d = 1 / b
    h = d
    for i in range(1, _MAX_ITER):
        an = -i * (i - a)
        b = b + 2
        d = an * d + b
        d = xp.where(xp.abs(d) < _TINY, _TINY, d)
        c = b + an / c
        c = xp.where(xp.abs(c) < _TINY, _TINY, c)
        d = 1 / d
        delta = d * c
        h = h * delta
        if not xp.any(xp.abs(delta - 1) > _EPS):
            break
    return xp.exp(-x + a * xp.log(x) - _lgamma(xp, a)) * h


def _both(xp, a, x):
    """(P(a, x), Q(a, x)) elementwise (float64 arrays of one shape); each is computed directly
    where it is the smaller one, so neither loses its relative accuracy in a tail."""
    p = xp.full(a.shape, xp.nan)
    q = xp.full(a.shape, xp.nan)
    ok = (a > 0) & (x > 0) & xp.isfinite(a) & xp.isfinite(x)
    small = ok & (x < a + 1)
    large = ok & ~small
    if xp.any(small):
        p[small] = _series(xp, a[small], x[small])
        q[small] = 1 - p[small]
    if xp.any(large):
        q[large] = _continued_fraction(xp, a[large], x[large])
        p[large] = 1 - q[large]
    valid = (a >= 0) & (x >= 0)
    for cond, value in (
        ((x == 0) & (a > 0), 0.0),
        ((a == 0) & (x > 0), 1.0),
        ((x == xp.inf) & (a < xp.inf), 1.0),
        ((a == xp.inf) & (x < xp.inf), 0.0),
    ):
        cond = valid & cond
        p = xp.where(cond, value, p)
        q = xp.where(cond, 1 - value, q)
    return p, q


def _forward(upper):
    def forward(xp, a, x):
        dt = a.dtype
        with np.errstate(all="ignore"):
            a64, x64 = xp.broadcast_arrays(a.astype(xp.float64), x.astype(xp.float64))
            p, q = _both(xp, xp.ascontiguousarray(a64), xp.ascontiguousarray(x64))
        return (q if upper else p).astype(dt, copy=False)

    return forward


def _backward(upper):
    def backward(g, needs, a, x):
        if needs[0]:
            raise NotImplementedError(
                f"the derivative of {'igammac' if upper else 'igamma'} with respect to a "
                f"(the first argument) is not implemented, as in PyTorch; detach a or "
                f"set requires_grad=False on it"
            )
        density = ew.exp(-x + ew.xlogy(a - 1, x) - lgamma(a))
        return None, (-g * density if upper else g * density)

    return backward


IGAMMA = Op("igamma", _forward(False), _backward(False), save=("x", "y"), needs=True)
IGAMMAC = Op("igammac", _forward(True), _backward(True), save=("x", "y"), needs=True)


def _operands(name, a, x):
    if not isinstance(a, Tensor) or not isinstance(x, Tensor):
        raise TypeError(f"{name}(): expected Tensor arguments, got {type(a).__name__} and {type(x).__name__}")
    a, x = ew._operands(a, x)
    if a._data.dtype.kind != "f":
        raise RuntimeError(f"\"{name}\" not implemented for '{a.dtype}': expected floating point inputs")
    return a, x


def igamma(input, other):
    """The regularized lower incomplete gamma function P(input, other)."""
    a, x = _operands("igamma", input, other)
    return apply(IGAMMA, (a, x))


def igammac(input, other):
    """The regularized upper incomplete gamma function Q(input, other) = 1 - P."""
    a, x = _operands("igammac", input, other)
    return apply(IGAMMAC, (a, x))


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(igamma, method=True, inplace=True, out=True, special=("gammainc",))
declare(igammac, method=True, inplace=True, out=True, special=("gammaincc",))

"""``torch.special.zeta``: the Hurwitz zeta function zeta(x, q) = sum_{k>=0} (k + q)^-x.

Evaluated in float64 by Euler-Maclaurin summation: the first terms directly, until a = q + N is
at least 10 and either at least 2x or the terms have stopped counting (below 1e-18 of the sum),
then the tail

    sum_{k>=N} (k + q)^-x = a^(1-x) / (x-1) + a^-x / 2
                            + sum_j B_2j / (2j)! x (x+1) ... (x+2j-2) a^(-x-2j+1) + R,

whose terms shrink like ((x + 2j) / (2 pi a))^2 from one to the next (at most 20 of them,
stopping where they stop shrinking).

Special values are PyTorch's: inf at x = 1; nan for x < 1; for q <= 0 inf at the integers and
nan unless x is an integer (an integer x sums the series over negative q directly); for
x = +inf: inf for q < 1, 1 at q = 1 and nan for q > 1 (where the sum is 0); nan for q = +inf.

The derivative in q is -x zeta(x + 1, q); the one in x is not implemented, as in PyTorch:
asking for it raises NotImplementedError.
"""

import math
from fractions import Fraction

import numpy as np

from ._declare import declare
from ._registry import Op, apply
from .orthogonal_polynomials import binary_operands


def _bernoulli_over_factorial(count):
    """B_2j / (2j)! for j = 1 .. count (the Akiyama-Tanigawa algorithm, in exact fractions)."""
    top = 2 * count
    a = [Fraction(0)] * (top + 1)
    b = []
    for m in range(top + 1):
        a[m] = Fraction(1, m + 1)
        for j in range(m, 0, -1):
            a[j - 1] = j * (a[j - 1] - a[j])
        b.append(a[0])
    return [float(b[2 * j] / math.factorial(2 * j)) for j in range(1, count + 1)]


_EM = _bernoulli_over_factorial(20)


def _hurwitz(xp, x, q):
    """zeta(x, q) for finite x > 1 and q > 0, or integer x and negative non-integer q (1-d)."""
    s = xp.zeros_like(x)
    a = q.copy()
    go = xp.ones(x.shape, dtype=bool)
    while True:
        t = xp.where(go, a**-x, 0.0)
        s += t
        a = xp.where(go, a + 1, a)
        go &= (a < 10) | ((a < 2 * x) & (xp.abs(t) > 1e-18 * xp.abs(s)))
        if not xp.any(go):
            break
    tail = a ** (1 - x) / (x - 1) + a**-x / 2
    factor = x * a ** (-x - 1)
    last = xp.full_like(x, xp.inf)
    for j, c in enumerate(_EM, start=1):
        term = c * factor
        size = xp.abs(term)
        use = size < last
        tail += xp.where(use, term, 0.0)
        last = xp.where(use, size, -1.0)  # once a term grows, no later one is added
        factor = factor * ((x + 2 * j - 1) * (x + 2 * j) / (a * a))
    return s + tail


def _zeta(xp, x, q):
    shape = np.broadcast_shapes(x.shape, q.shape)
    x = xp.ascontiguousarray(xp.broadcast_to(x, shape)).reshape(-1)
    q = xp.ascontiguousarray(xp.broadcast_to(q, shape)).reshape(-1)
    out = xp.full_like(x, xp.nan)
    integer_q = q == xp.floor(q)
    integer_x = x == xp.floor(x)
    finite_x = (x > 1) & (x < xp.inf)
    computed = finite_x & (((q > 0) & (q < xp.inf)) | ((q < 0) & ~integer_q & integer_x))
    if xp.any(computed):
        out[computed] = _hurwitz(xp, x[computed], q[computed])
    out = xp.where((x == xp.inf) & (q < 1), xp.inf, out)
    out = xp.where((x == xp.inf) & (q == 1), 1.0, out)
    out = xp.where(~(x < 1) & (q <= 0) & integer_q, xp.inf, out)  # the poles (x = nan included)
    return xp.where(x == 1, xp.inf, out).reshape(shape)


def _forward(xp, x, q):
    with np.errstate(all="ignore"):
        out = _zeta(xp, x.astype(np.float64), q.astype(np.float64))
    return out.astype(x.dtype, copy=False)


def _zeta_vjp(g, needs, x, q):
    if needs[0]:
        raise NotImplementedError(
            "the derivative for 'zeta' is not implemented (with respect to x, the first argument, "
            "as in PyTorch); detach x or set requires_grad=False on it"
        )
    return None, g * (-x * zeta(x + 1, q))


ZETA = Op("special_zeta", _forward, _zeta_vjp, save=("x", "y"), needs=True)


def zeta(input, other):
    """The Hurwitz zeta function zeta(x, q) = sum_{k>=0} (k + q)^-x (x = input, q = other;
    zeta(x, 1) is Riemann's). d/dq = -x zeta(x + 1, q); no derivative in x, as in PyTorch."""
    x, q = binary_operands("zeta", input, other)
    return apply(ZETA, (x, q))


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(zeta, torch=False, out=True, special=("zeta",))

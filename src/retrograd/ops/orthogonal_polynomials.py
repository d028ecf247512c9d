"""The classical orthogonal polynomials of ``torch.special``, p_n(x) for a tensor of x and one of n:
Chebyshev T, U, V, W and their shifted forms p*_n(x) = p_n(2x - 1), Hermite H (physicists') and
He (probabilists'), Laguerre L and Legendre P.

As in PyTorch: x and n broadcast, either may be a Python number, the result has their promoted
dtype (the default dtype for integers); n is truncated to an integer, a negative one (or nan,
or +-inf) gives 0; the results have no derivative (they never require grad).

Each polynomial is computed by its three-term recurrence from p_0 = 1 and p_1:

    T: p_1 = x,      p_(k+1) = 2x p_k - p_(k-1)           (U: p_1 = 2x, V: 2x - 1, W: 2x + 1)
    H: p_1 = 2x,     p_(k+1) = 2x p_k - 2k p_(k-1)
    He: p_1 = x,     p_(k+1) = x p_k - k p_(k-1)
    L: p_1 = 1 - x,  p_(k+1) = ((2k + 1 - x) p_k - k p_(k-1)) / (k + 1)
    P: p_1 = x,      p_(k+1) = ((2k + 1) x p_k - k p_(k-1)) / (k + 1)

run in float64, as many steps as the largest n asks for (one array pass per step). For
|x| < 1 and n > 6 the Chebyshev kinds use their trigonometric forms instead (x = cos t):
T_n = cos(n t), U_n = sin((n+1) t) / sin t, V_n = cos((n+1/2) t) / cos(t/2),
W_n = sin((n+1/2) t) / sin(t/2); at x = +-1 they take their exact values (T_n(1) = 1,
U_n(1) = n + 1, V_n(1) = 1, W_n(1) = 2n + 1, and p_n(-1) = (-1)^n times those of V and W
swapped). Values that overflow become inf, then nan (inf - inf) further along the recurrence,
as in PyTorch.
"""

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ..backend import array_module
from ._declare import declare
from ._registry import apply
from .specfun import no_derivative_op


def _degrees(xp, n):
    """n truncated to int64; -1 (a zero polynomial) where n is nan, infinite or beyond int64."""
    ok = xp.isfinite(n) & (xp.abs(n) < 2.0**62)
    return xp.trunc(xp.where(ok, n, -1.0)).astype(np.int64)


def _recurrence(xp, x, n, p1, step):
    """p_n(x) for 1-d x and degrees n >= 2 (same shape): p_0 = 1, p_1 = p1, then
    p_(k+1) = step(k, x, p_(k-1), p_k)."""
    out = xp.full_like(x, xp.nan)
    lanes = xp.arange(x.shape[0])
    p, q = xp.ones_like(x), p1
    top = int(n.max())
    for k in range(1, top):
        p, q = q, step(k, x, p, q)
        done = n == k + 1
        if xp.any(done):
            out[lanes[done]] = q[done]
            # drop the finished lanes, and those where the recurrence is nan from here on
            keep = (n > k + 1) & ~(xp.isnan(p) & xp.isnan(q))
            lanes, x, n, p, q = lanes[keep], x[keep], n[keep], p[keep], q[keep]
            if not lanes.shape[0]:
                break
        elif k % 64 == 0 and xp.all(xp.isnan(p) & xp.isnan(q)):
            break
    return out


def _polynomial(p1, step, trig=None, at_one=None, at_minus_one=None):
    """The forward of one polynomial: p1(x) gives p_1, step the recurrence, trig(n, t) the
    trigonometric form at x = cos t (used for |x| < 1, n > 6), at_one(n) and at_minus_one(n)
    the values at x = +-1."""

    def forward(xp, x, n):
        shape = np.broadcast_shapes(x.shape, n.shape)
        x = xp.ascontiguousarray(xp.broadcast_to(x, shape)).reshape(-1)
        deg = _degrees(xp, xp.broadcast_to(n, shape).reshape(-1))
        out = xp.where(deg < 0, 0.0, xp.where(deg == 0, 1.0, p1(x)))
        rest = deg >= 2
        if at_one is not None:
            one, minus_one = (x == 1) & (deg >= 0), (x == -1) & (deg >= 0)
            df = deg.astype(np.float64)
            out = xp.where(one, at_one(df), xp.where(minus_one, at_minus_one(df), out))
            rest &= ~(one | minus_one)
        if trig is not None:
            inside = rest & (deg > 6) & (xp.abs(x) < 1)
            if xp.any(inside):
                out[inside] = trig(xp, deg[inside].astype(np.float64), xp.arccos(x[inside]))
                rest &= ~inside
        if xp.any(rest):
            out[rest] = _recurrence(xp, x[rest], deg[rest], p1(x[rest]), step)
        return out.reshape(shape)

    return forward


def _sign(n):
    return 1 - 2 * (n % 2)


def _chebyshev_step(k, x, p, q):
    return 2 * x * q - p


_T = _polynomial(
    lambda x: x,
    _chebyshev_step,
    trig=lambda xp, n, t: xp.cos(n * t),
    at_one=lambda n: 1.0 + 0 * n,
    at_minus_one=_sign,
)
_U = _polynomial(
    lambda x: 2 * x,
    _chebyshev_step,
    trig=lambda xp, n, t: xp.sin((n + 1) * t) / xp.sin(t),
    at_one=lambda n: n + 1,
    at_minus_one=lambda n: _sign(n) * (n + 1),
)
_V = _polynomial(
    lambda x: 2 * x - 1,
    _chebyshev_step,
    trig=lambda xp, n, t: xp.cos((n + 0.5) * t) / xp.cos(t / 2),
    at_one=lambda n: 1.0 + 0 * n,
    at_minus_one=lambda n: _sign(n) * (2 * n + 1),
)
_W = _polynomial(
    lambda x: 2 * x + 1,
    _chebyshev_step,
    trig=lambda xp, n, t: xp.sin((n + 0.5) * t) / xp.sin(t / 2),
    at_one=lambda n: 2 * n + 1,
    at_minus_one=_sign,
)
_H = _polynomial(lambda x: 2 * x, lambda k, x, p, q: 2 * x * q - (2 * k) * p)
_HE = _polynomial(lambda x: x, lambda k, x, p, q: x * q - k * p)
_L = _polynomial(lambda x: 1 - x, lambda k, x, p, q: ((2 * k + 1 - x) * q - k * p) / (k + 1))
_P = _polynomial(
    lambda x: x,
    lambda k, x, p, q: ((2 * k + 1) * x * q - k * p) / (k + 1),
    at_one=lambda n: 1.0 + 0 * n,
    at_minus_one=_sign,
)


def _shifted(forward):
    def shifted(xp, x, n):
        return forward(xp, 2 * x - 1, n)

    return shifted


CHEBYSHEV_T = no_derivative_op("special_chebyshev_polynomial_t", _T)
CHEBYSHEV_U = no_derivative_op("special_chebyshev_polynomial_u", _U)
CHEBYSHEV_V = no_derivative_op("special_chebyshev_polynomial_v", _V)
CHEBYSHEV_W = no_derivative_op("special_chebyshev_polynomial_w", _W)
SHIFTED_CHEBYSHEV_T = no_derivative_op("special_shifted_chebyshev_polynomial_t", _shifted(_T))
SHIFTED_CHEBYSHEV_U = no_derivative_op("special_shifted_chebyshev_polynomial_u", _shifted(_U))
SHIFTED_CHEBYSHEV_V = no_derivative_op("special_shifted_chebyshev_polynomial_v", _shifted(_V))
SHIFTED_CHEBYSHEV_W = no_derivative_op("special_shifted_chebyshev_polynomial_w", _shifted(_W))
HERMITE_H = no_derivative_op("special_hermite_polynomial_h", _H)
HERMITE_HE = no_derivative_op("special_hermite_polynomial_he", _HE)
LAGUERRE_L = no_derivative_op("special_laguerre_polynomial_l", _L)
LEGENDRE_P = no_derivative_op("special_legendre_polynomial_p", _P)


def binary_operands(name, input, other, names=("input", "other")):
    """``input`` and ``other`` (Tensors, or one of them a Python number) as Tensors of their
    promoted floating dtype (the default dtype for integer and boolean operands), as PyTorch's
    two-argument special functions take them; a number becomes a 0-d Tensor."""
    xt, yt = isinstance(input, Tensor), isinstance(other, Tensor)
    if not (xt or yt):
        raise TypeError(
            f"{name}(): expected a Tensor as '{names[0]}' or '{names[1]}' (the other may be a number), "
            f"got {type(input).__name__} and {type(other).__name__}"
        )
    d = _dtype.result_type(input, other)
    if d.is_complex:
        shapes = [list(t.shape) for t in (input, other) if isinstance(t, Tensor)]
        raise RuntimeError(f"\"{name}\" not implemented for '{d}' (operands of shapes {shapes})")
    if not d.is_floating_point:
        d = _dtype.get_default_dtype()
    ref = input if xt else other
    xp = array_module(ref._data)

    def as_tensor(v):
        if isinstance(v, Tensor):
            return v if v.dtype == d else v.to(d)
        return Tensor._make(xp.asarray(v, dtype=d.np), None, False)

    return as_tensor(input), as_tensor(other)


def _run(op, name, input, n):
    x, n = binary_operands(name, input, n, ("input", "n"))
    return apply(op, (x.detach(), n.detach()))


def chebyshev_polynomial_t(input, n):
    """T_n(x), the Chebyshev polynomial of the first kind: T_n(cos t) = cos(n t). No derivative,
    as in PyTorch."""
    return _run(CHEBYSHEV_T, "chebyshev_polynomial_t", input, n)


def chebyshev_polynomial_u(input, n):
    """U_n(x), the Chebyshev polynomial of the second kind: U_n(cos t) = sin((n+1) t) / sin t.
    No derivative, as in PyTorch."""
    return _run(CHEBYSHEV_U, "chebyshev_polynomial_u", input, n)


def chebyshev_polynomial_v(input, n):
    """V_n(x), the Chebyshev polynomial of the third kind: V_n(cos t) = cos((n+1/2) t) / cos(t/2).
    No derivative, as in PyTorch."""
    return _run(CHEBYSHEV_V, "chebyshev_polynomial_v", input, n)


def chebyshev_polynomial_w(input, n):
    """W_n(x), the Chebyshev polynomial of the fourth kind: W_n(cos t) = sin((n+1/2) t) / sin(t/2).
    No derivative, as in PyTorch."""
    return _run(CHEBYSHEV_W, "chebyshev_polynomial_w", input, n)


def shifted_chebyshev_polynomial_t(input, n):
    """T*_n(x) = T_n(2x - 1), orthogonal on [0, 1]. No derivative, as in PyTorch."""
    return _run(SHIFTED_CHEBYSHEV_T, "shifted_chebyshev_polynomial_t", input, n)


def shifted_chebyshev_polynomial_u(input, n):
    """U*_n(x) = U_n(2x - 1), orthogonal on [0, 1]. No derivative, as in PyTorch."""
    return _run(SHIFTED_CHEBYSHEV_U, "shifted_chebyshev_polynomial_u", input, n)


def shifted_chebyshev_polynomial_v(input, n):
    """V*_n(x) = V_n(2x - 1), orthogonal on [0, 1]. No derivative, as in PyTorch."""
    return _run(SHIFTED_CHEBYSHEV_V, "shifted_chebyshev_polynomial_v", input, n)


def shifted_chebyshev_polynomial_w(input, n):
    """W*_n(x) = W_n(2x - 1), orthogonal on [0, 1]. No derivative, as in PyTorch."""
    return _run(SHIFTED_CHEBYSHEV_W, "shifted_chebyshev_polynomial_w", input, n)


def hermite_polynomial_h(input, n):
    """H_n(x), the physicists' Hermite polynomial (weight exp(-x^2)): H_1 = 2x,
    H_(k+1) = 2x H_k - 2k H_(k-1). No derivative, as in PyTorch."""
    return _run(HERMITE_H, "hermite_polynomial_h", input, n)


def hermite_polynomial_he(input, n):
    """He_n(x), the probabilists' Hermite polynomial (weight exp(-x^2/2)): He_1 = x,
    He_(k+1) = x He_k - k He_(k-1). No derivative, as in PyTorch."""
    return _run(HERMITE_HE, "hermite_polynomial_he", input, n)


def laguerre_polynomial_l(input, n):
    """L_n(x), the Laguerre polynomial (weight exp(-x) on [0, inf)). No derivative, as in
    PyTorch."""
    return _run(LAGUERRE_L, "laguerre_polynomial_l", input, n)


def legendre_polynomial_p(input, n):
    """P_n(x), the Legendre polynomial (orthogonal on [-1, 1], P_n(1) = 1). No derivative, as in
    PyTorch."""
    return _run(LEGENDRE_P, "legendre_polynomial_p", input, n)


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(chebyshev_polynomial_t, torch=False, out=True, special=("chebyshev_polynomial_t",))
declare(chebyshev_polynomial_u, torch=False, out=True, special=("chebyshev_polynomial_u",))
declare(chebyshev_polynomial_v, torch=False, out=True, special=("chebyshev_polynomial_v",))
declare(chebyshev_polynomial_w, torch=False, out=True, special=("chebyshev_polynomial_w",))
declare(shifted_chebyshev_polynomial_t, torch=False, out=True, special=("shifted_chebyshev_polynomial_t",))
declare(shifted_chebyshev_polynomial_u, torch=False, out=True, special=("shifted_chebyshev_polynomial_u",))
declare(shifted_chebyshev_polynomial_v, torch=False, out=True, special=("shifted_chebyshev_polynomial_v",))
declare(shifted_chebyshev_polynomial_w, torch=False, out=True, special=("shifted_chebyshev_polynomial_w",))
declare(hermite_polynomial_h, torch=False, out=True, special=("hermite_polynomial_h",))
declare(hermite_polynomial_he, torch=False, out=True, special=("hermite_polynomial_he",))
declare(laguerre_polynomial_l, torch=False, out=True, special=("laguerre_polynomial_l",))
declare(legendre_polynomial_p, torch=False, out=True, special=("legendre_polynomial_p",))

"""Op table: more elementwise maths (logaddexp, logit, inverse hyperbolics, sinc, copysign ...)
and the special functions (lgamma, digamma, polygamma, mvlgamma, erfinv, i0, i1, ndtr, the Bessel
family, erfcx, zeta, the orthogonal polynomials ...).

The special-function references are independent of the implementations: Python's math.lgamma
and math.erf, NumPy's i0 and numpy.polynomial, power series, direct sums, quadrature, bisection."""
import math

import numpy as np

from .optable import OpSpec

U = [[(3, 4)], [()], [(5,)]]
B = [[(3, 4), (3, 4)], [(3, 4), (4,)], [(), (3,)]]

_lgamma = np.vectorize(math.lgamma, otypes=[np.float64])
_erf = np.vectorize(math.erf, otypes=[np.float64])


def _digamma(x, h=1e-5):
    return (_lgamma(x + h) - _lgamma(x - h)) / (2 * h)


def _polygamma(n, x, terms=2000):
    """(-1)^(n+1) n! sum_k (x + k)^-(n+1), the tail after ``terms`` by Euler-Maclaurin."""
    k = np.arange(terms).reshape((-1,) + (1,) * np.ndim(x))
    s = np.sum((x + k) ** -(n + 1.0), axis=0)
    t = x + terms
    s = s + t ** -float(n) / n + t ** -(n + 1.0) / 2 + (n + 1) * t ** -(n + 2.0) / 12
    return (-1) ** (n + 1) * math.factorial(n) * s


def _erfinv(y):
    lo, hi = np.full(np.shape(y), -7.0), np.full(np.shape(y), 7.0)
    for _ in range(64):
        mid = (lo + hi) / 2
        below = _erf(mid) < y
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return (lo + hi) / 2


def _i1(x):
    h = np.asarray(x) / 2
    return sum(h ** (2 * k + 1) / (math.factorial(k) * math.factorial(k + 1)) for k in range(40))


def _series_j(n, x, terms=60):
    h = np.asarray(x) / 2
    return sum((-1) ** k * h ** (2 * k + n) / (math.factorial(k) * math.factorial(k + n)) for k in range(terms))


def _series_y(n, x, terms=60):
    """Y0, Y1 by their power series (psi(k+1) = H_k - Euler's constant)."""
    h = np.asarray(x) / 2
    g = 0.5772156649015329
    total = 0.0
    for k in range(terms):
        psi = sum(1 / i for i in range(1, k + 1)) - g
        psi_n = psi + (1 / (k + 1) if n else 0.0)
        total = total + (-h * h) ** k * (psi + psi_n) / (math.factorial(k) * math.factorial(k + n))
    if n == 0:
        return 2 / math.pi * (np.log(h) * _series_j(0, x) - total / 2)
    return -2 / (math.pi * x) + 2 / math.pi * np.log(h) * _series_j(1, x) - h * total / math.pi


def _k_integral(nu, x):
    """K_nu(x) = int_0^inf exp(-x cosh t) cosh(nu t) dt, by Simpson's rule on [0, 12]."""
    t = np.linspace(0.0, 12.0, 6001)
    f = np.exp(-np.multiply.outer(np.asarray(x), np.cosh(t))) * np.cosh(nu * t)
    w = np.ones_like(t)
    w[1:-1:2], w[2:-1:2] = 4, 2
    return f @ w * (t[1] - t[0]) / 3


def _airy_series(x, terms=80):
    x = np.asarray(x)
    f, g, tf, tg = 1.0, x, 1.0, x
    for k in range(terms):
        tf = tf * x**3 / ((3 * k + 2) * (3 * k + 3))
        tg = tg * x**3 / ((3 * k + 3) * (3 * k + 4))
        f, g = f + tf, g + tg
    return 3 ** (-2 / 3) / math.gamma(2 / 3) * f - 3 ** (-1 / 3) / math.gamma(1 / 3) * g


def _basis(n):
    return np.eye(n + 1)[n]


def _zeta_sum(x, q, terms=4000):
    """sum_k (q + k)^-x directly, the tail by its first Euler-Maclaurin terms."""
    x, q = np.broadcast_arrays(x, q)
    k = np.arange(terms).reshape((-1,) + (1,) * np.ndim(q))
    a = q + terms
    return np.sum((q + k) ** -x, axis=0) + a ** (1 - x) / (x - 1) + a**-x / 2 + x * a ** (-x - 1) / 12


_erfc = np.vectorize(math.erfc, otypes=[np.float64])
# PyTorch 2.13's float64 J0, J1, Y0, Y1 and Ai are accurate to ~1e-6 only in places (5 < |x| < 8,
# -5 < x < -2 for Ai); tests/parity/test_special_functions_parity.py compares them with that tolerance
_LOOSE_IN_TORCH = {
    "gradcheck": "no derivative, as in PyTorch (the result does not require grad)",
    "parity": "PyTorch's float64 values are accurate to ~1e-6 here; compared with that tolerance in "
    "test_special_functions_parity.py",
}
_NO_DERIVATIVE = {"gradcheck": "no derivative, as in PyTorch (the result does not require grad)"}


def _mvlgamma(x, p):
    return sum(_lgamma(x - i / 2) for i in range(p)) + p * (p - 1) / 4 * math.log(math.pi)


def build(rg):
    return [
        OpSpec("logaddexp", rg.logaddexp, np.logaddexp, B),
        OpSpec("logaddexp2", rg.logaddexp2, np.logaddexp2, B),
        OpSpec("logaddexp_large", lambda x, y: rg.logaddexp(x * 400, y * 400),
               lambda x, y: np.logaddexp(x * 400, y * 400), [[(3, 4), (3, 4)]]),
        OpSpec("logit", rg.logit, lambda x: np.log(x / (1 - x)), U, low=0.1, high=0.9),
        OpSpec("logit_eps", lambda x: x.logit(eps=0.2), lambda x: np.log(np.clip(x, 0.2, 0.8) / (1 - np.clip(x, 0.2, 0.8))),
               [[(4, 5)]], low=0.05, high=0.95),
        OpSpec("asinh", rg.asinh, np.arcsinh, U),
        OpSpec("acosh", rg.arccosh, np.arccosh, U, low=1.2, high=3.0),
        OpSpec("atanh", lambda x: x.atanh(), np.arctanh, U, low=-0.8, high=0.8),
        OpSpec("asinh_", lambda x: (x * 1).asinh_(), np.arcsinh, U,
               skip={"parity_grad": "PyTorch 2.13 has no derivative for in-place asinh_ (NotImplementedError)"}),
        OpSpec("sinc", rg.sinc, np.sinc, U, low=-2.5, high=2.5),
        OpSpec("rad2deg", rg.rad2deg, np.rad2deg, U),
        OpSpec("deg2rad_", lambda x: (x * 1).deg2rad_(), np.deg2rad, U),
        OpSpec("copysign", rg.copysign, np.copysign, B),
        OpSpec("fmax", rg.fmax, np.fmax, B),
        OpSpec("fmin", rg.fmin, np.fmin, B),
        OpSpec("fmax_nan", lambda x, y: rg.fmax(x, y.log()), lambda x, y: np.fmax(x, np.log(y)), B),
        OpSpec("fmin_nan", lambda x, y: rg.fmin(x.log(), y), lambda x, y: np.fmin(np.log(x), y), B),
        OpSpec("ldexp", rg.ldexp, lambda x, e: x * 2.0 ** e, B),
        OpSpec("frexp_mantissa", lambda x: rg.frexp(x).mantissa, lambda x: np.frexp(x)[0], U),
        OpSpec("lgamma", rg.lgamma, _lgamma, U, low=0.3, high=6.0),
        OpSpec("lgamma_negative", lambda x: (x - 3).lgamma(), lambda x: _lgamma(x - 3), [[(3, 4)]], low=0.2, high=0.8),
        OpSpec("lgamma_large", lambda x: rg.lgamma(x * 1000), lambda x: _lgamma(x * 1000), [[(5,)]], low=1, high=50),
        OpSpec("digamma", rg.digamma, _digamma, U, low=0.3, high=12.0),
        OpSpec("digamma_negative", lambda x: (x - 2).digamma(), lambda x: _digamma(x - 2), [[(3, 4)]], low=0.2, high=0.8),
        OpSpec("polygamma_1", lambda x: rg.polygamma(1, x), lambda x: _polygamma(1, x), U, low=0.3, high=25.0),
        OpSpec("polygamma_2", lambda x: x.polygamma(2), lambda x: _polygamma(2, x), [[(3, 4)]], low=0.3, high=5.0),
        OpSpec("polygamma_3_negative", lambda x: rg.polygamma(3, x - 2), lambda x: _polygamma(3, x - 2),
               [[(3, 4)]], low=0.2, high=0.8, rtol=1e-6),
        OpSpec("mvlgamma", lambda x: rg.mvlgamma(x, 3), lambda x: _mvlgamma(x, 3), [[(3, 4)]], low=1.2, high=4.0),
        OpSpec("erfinv", rg.erfinv, _erfinv, U, low=-0.95, high=0.95),
        OpSpec("erfinv_tail", lambda x: rg.erfinv(1 - x), lambda x: _erfinv(1 - x), [[(6,)]], low=1e-9, high=1e-3,
               skip={"gradcheck": "finite differences of a near-vertical function near 1",
                     "gradgradcheck": "finite differences of a near-vertical function near 1"}),
        OpSpec("i0", rg.i0, np.i0, U, low=-4.0, high=4.0),
        OpSpec("i0_large", lambda x: rg.i0(x), np.i0, [[(6,)]], low=18.0, high=40.0),
        OpSpec("special.i1", rg.special.i1, _i1, U, low=-4.0, high=4.0),
        OpSpec("special.entr", rg.special.entr, lambda x: -x * np.log(x), U, low=0.1, high=2.0),
        OpSpec("special.ndtr", rg.special.ndtr, lambda x: (1 + _erf(x / math.sqrt(2))) / 2, U),
        OpSpec("special.ndtri", rg.special.ndtri, lambda p: math.sqrt(2) * _erfinv(2 * p - 1), U, low=0.05, high=0.95),
        OpSpec("special.log_ndtr", rg.special.log_ndtr, lambda x: np.log((1 + _erf(x / math.sqrt(2))) / 2), U),
        OpSpec("special.xlog1py", rg.special.xlog1py, lambda x, y: x * np.log1p(y), B, low=0.1, high=2.0),
        OpSpec("special.erfcx", rg.special.erfcx, lambda x: np.exp(x * x) * _erfc(x), U, low=-2.0, high=3.0),
        OpSpec("special.i0e", rg.special.i0e, lambda x: np.i0(x) * np.exp(-np.abs(x)), U, low=-4.0, high=4.0),
        OpSpec("special.i0e_large", rg.special.i0e, lambda x: np.i0(x) * np.exp(-np.abs(x)), [[(6,)]], low=18.0,
               high=40.0),
        OpSpec("special.i1e", rg.special.i1e, lambda x: _i1(x) * np.exp(-np.abs(x)), U, low=-4.0, high=4.0),
        OpSpec("special.zeta_q", lambda q: rg.special.zeta(3.0, q), lambda q: _zeta_sum(3.0, q), U, low=0.5,
               high=4.0),
        OpSpec("special.zeta", rg.special.zeta, _zeta_sum, B, low=1.5, high=4.0, grad="raises",
               skip={"gradcheck": "no derivative in x, as in PyTorch", "gradgradcheck": "same"}),
        OpSpec("special.bessel_j0", rg.special.bessel_j0, lambda x: _series_j(0, x), U, low=-8.0, high=8.0,
               grad="none", skip=_LOOSE_IN_TORCH),
        OpSpec("special.bessel_j1", rg.special.bessel_j1, lambda x: _series_j(1, x), U, low=-8.0, high=8.0,
               grad="none", skip=_LOOSE_IN_TORCH),
        OpSpec("special.bessel_y0", rg.special.bessel_y0, lambda x: _series_y(0, x), U, low=0.2, high=8.0,
               grad="none", skip=_LOOSE_IN_TORCH),
        OpSpec("special.bessel_y1", rg.special.bessel_y1, lambda x: _series_y(1, x), U, low=0.2, high=8.0,
               grad="none", skip=_LOOSE_IN_TORCH),
        OpSpec("special.modified_bessel_i0", rg.special.modified_bessel_i0, np.i0, U, low=-4.0, high=4.0,
               grad="none", skip=_NO_DERIVATIVE),
        OpSpec("special.modified_bessel_i1", rg.special.modified_bessel_i1, _i1, U, low=-4.0, high=4.0,
               grad="none", skip=_NO_DERIVATIVE),
        OpSpec("special.modified_bessel_k0", rg.special.modified_bessel_k0, lambda x: _k_integral(0, x), U,
               low=0.2, high=6.0, grad="none", skip=_NO_DERIVATIVE),
        OpSpec("special.modified_bessel_k1", rg.special.modified_bessel_k1, lambda x: _k_integral(1, x), U,
               low=0.2, high=6.0, grad="none", skip=_NO_DERIVATIVE),
        OpSpec("special.scaled_modified_bessel_k0", rg.special.scaled_modified_bessel_k0,
               lambda x: _k_integral(0, x) * np.exp(x), U, low=0.2, high=6.0, grad="none", skip=_NO_DERIVATIVE),
        OpSpec("special.scaled_modified_bessel_k1", rg.special.scaled_modified_bessel_k1,
               lambda x: _k_integral(1, x) * np.exp(x), U, low=0.2, high=6.0, grad="none", skip=_NO_DERIVATIVE),
        OpSpec("special.spherical_bessel_j0", rg.special.spherical_bessel_j0, lambda x: np.sin(x) / x, U,
               low=0.1, high=9.0, grad="none", skip=_NO_DERIVATIVE),
        OpSpec("special.airy_ai", rg.special.airy_ai, _airy_series, U, low=-6.0, high=4.0, grad="none",
               skip=_LOOSE_IN_TORCH),
        OpSpec("special.chebyshev_polynomial_t", lambda x, n: rg.special.chebyshev_polynomial_t(x, n),
               lambda x, n: np.vectorize(lambda a, b: np.polynomial.chebyshev.chebval(a, _basis(int(b))))(x, n),
               [[(3, 4), (3, 4)], [(3, 4), (4,)]], low=0.0, high=12.0, grad="none", skip=_NO_DERIVATIVE),
        OpSpec("special.chebyshev_polynomial_t_9", lambda x: rg.special.chebyshev_polynomial_t(x, 9),
               lambda x: np.polynomial.chebyshev.chebval(x, _basis(9)), U, low=-1.2, high=1.2, grad="none",
               skip=_NO_DERIVATIVE),
        OpSpec("special.chebyshev_polynomial_u", lambda x: rg.special.chebyshev_polynomial_u(x, 9),
               lambda x: np.sin(10 * np.arccos(x)) / np.sin(np.arccos(x)), U, low=-0.95, high=0.95, grad="none",
               skip=_NO_DERIVATIVE),
        OpSpec("special.chebyshev_polynomial_v", lambda x: rg.special.chebyshev_polynomial_v(x, 4),
               lambda x: np.cos(4.5 * np.arccos(x)) / np.cos(np.arccos(x) / 2), U, low=-0.95, high=0.95,
               grad="none", skip=_NO_DERIVATIVE),
        OpSpec("special.chebyshev_polynomial_w", lambda x: rg.special.chebyshev_polynomial_w(x, 8),
               lambda x: np.sin(8.5 * np.arccos(x)) / np.sin(np.arccos(x) / 2), U, low=-0.95, high=0.95,
               grad="none", skip=_NO_DERIVATIVE),
        OpSpec("special.shifted_chebyshev_polynomial_t", lambda x: rg.special.shifted_chebyshev_polynomial_t(x, 5),
               lambda x: np.polynomial.chebyshev.chebval(2 * x - 1, _basis(5)), U, low=-0.2, high=1.2, grad="none",
               skip=_NO_DERIVATIVE),
        OpSpec("special.shifted_chebyshev_polynomial_u", lambda x: rg.special.shifted_chebyshev_polynomial_u(x, 3),
               lambda x: 64 * x**3 - 96 * x**2 + 40 * x - 4, U, low=-0.5, high=1.5, grad="none", skip=_NO_DERIVATIVE),
        OpSpec("special.shifted_chebyshev_polynomial_v", lambda x: rg.special.shifted_chebyshev_polynomial_v(x, 2),
               lambda x: 4 * (2 * x - 1) ** 2 - 2 * (2 * x - 1) - 1, U, low=-0.5, high=1.5, grad="none",
               skip=_NO_DERIVATIVE),
        OpSpec("special.shifted_chebyshev_polynomial_w", lambda x: rg.special.shifted_chebyshev_polynomial_w(x, 2),
               lambda x: 4 * (2 * x - 1) ** 2 + 2 * (2 * x - 1) - 1, U, low=-0.5, high=1.5, grad="none",
               skip=_NO_DERIVATIVE),
        OpSpec("special.hermite_polynomial_h", lambda x: rg.special.hermite_polynomial_h(x, 6),
               lambda x: np.polynomial.hermite.hermval(x, _basis(6)), U, grad="none", skip=_NO_DERIVATIVE),
        OpSpec("special.hermite_polynomial_he", lambda x: rg.special.hermite_polynomial_he(x, 7),
               lambda x: np.polynomial.hermite_e.hermeval(x, _basis(7)), U, grad="none", skip=_NO_DERIVATIVE),
        OpSpec("special.laguerre_polynomial_l", lambda x: rg.special.laguerre_polynomial_l(x, 5),
               lambda x: np.polynomial.laguerre.lagval(x, _basis(5)), U, low=-1.0, high=8.0, grad="none",
               skip=_NO_DERIVATIVE),
        OpSpec("special.legendre_polynomial_p", lambda x: rg.special.legendre_polynomial_p(x, 8),
               lambda x: np.polynomial.legendre.legval(x, _basis(8)), U, low=-1.5, high=1.5, grad="none",
               skip=_NO_DERIVATIVE),
    ]

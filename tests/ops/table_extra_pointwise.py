"""Op table: more elementwise maths (logaddexp, logit, inverse hyperbolics, sinc, copysign ...)
and the special functions (lgamma, digamma, polygamma, mvlgamma, erfinv, i0, i1, ndtr ...).

The special-function references are independent of the implementations: Python's math.lgamma
and math.erf, NumPy's i0, direct sums, bisection."""
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
    ]

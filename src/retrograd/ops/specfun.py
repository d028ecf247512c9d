"""Special functions beyond erf: lgamma, digamma, polygamma, mvlgamma, erfinv, i0 and i1.

All are evaluated with array ops of the input's module (NumPy or CuPy), in float64 (float32
inputs are upcast and the result cast back).

lgamma: Lanczos' approximation (g = 7, 9 terms; relative error ~1e-15) for x >= 1/2,

    lgamma(x) = log(2 pi)/2 + (z + 1/2) log(t) - t + log(A(z)),   z = x - 1, t = z + g + 1/2

and the reflection lgamma(x) = log(pi / |sin(pi x)|) - lgamma(1 - x) below.

digamma psi = lgamma': the recurrence psi(x) = psi(x + 1) - 1/x lifts x to >= 10, where the
asymptotic series psi(x) ~ log x - 1/(2x) - sum_k B_2k / (2k x^2k) (7 terms) is below 1e-17;
psi(x) = psi(1 - x) - pi / tan(pi x) below 1/2.

polygamma(n, x) = psi^(n)(x), n >= 1: psi^(n)(x) = psi^(n)(x + 1) + (-1)^(n+1) n! / x^(n+1)
lifts x to >= 20 + n, then

    psi^(n)(x) ~ (-1)^(n+1) [ (n-1)!/x^n + n!/(2 x^(n+1)) + sum_k B_2k (2k+n-1)! / ((2k)! x^(2k+n)) ].

Derivatives: lgamma' = digamma, digamma' = polygamma(1), polygamma(n)' = polygamma(n + 1).

erfinv: a start from Giles' single-precision approximation ("Approximating the erfinv
function", 2010) in the centre (w = -log(1 - x^2) < 5) and from fixed-point steps on the
asymptotic erfc(y) ~ exp(-y^2) (1 - 1/(2y^2)) / (y sqrt(pi)) in the tails, then two Halley
steps on erf(y) = x (relative error ~1e-15 against 50-digit values). The residual is taken as
(1 - |x|) - erfc(y) for |x| >= 1/2, which keeps its relative accuracy in the tails.
erfinv' = sqrt(pi)/2 exp(erfinv(x)^2).

i0, i1 (modified Bessel functions of the first kind): the power series
I_nu(x) = sum_k (x/2)^(2k+nu) / (k! (k+nu)!) for |x| <= 20 (64 terms), and the asymptotic
expansion e^x / sqrt(2 pi x) sum_k (-1)^k prod_j (4 nu^2 - (2j-1)^2) / (k! (8x)^k) above.
i0' = i1, i1' = i0 - i1/x (1/2 at 0). The scaled i0e = e^-|x| i0 and i1e = e^-|x| i1 take the
series times e^-|x| and the expansion without its e^x.
"""

import math

import numpy as np

from .._compile.state import recorded_check
from .._tensor import Tensor
from . import elementwise as ew
from ._registry import Op, apply
from . import special as _special
from ._registry import ELEMENTWISE
from .special import _erf_array, _erfc_array
from ._declare import declare

_LANCZOS_G = 7.0
_LANCZOS = (
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
# Bernoulli numbers B_2, B_4, ..., B_20
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798, -174611 / 330)


def _f64(fn):
    """Run ``fn(xp, x64, *args)`` in float64 and cast the result back to x's dtype."""

    def forward(xp, x, *args):
        with np.errstate(all="ignore"):
            out = fn(xp, x.astype(np.float64), *args)
        return out.astype(x.dtype, copy=False)

    return forward


def no_derivative_op(name, forward):
    """The Op of a function PyTorch gives no derivative (its callers detach the inputs, so the
    result never requires grad): ``forward`` run in float64, a backward that is never reached."""

    def backward(g, *saved):
        raise RuntimeError(f"the derivative for '{name}' is not implemented.")

    return Op(name, _f64(forward), backward)


def _sinpi_abs(xp, x):
    """|sin(pi x)|, exact zeros at the integers (the argument is reduced to [0, 1) first)."""
    return xp.abs(xp.sin(math.pi * (x - xp.floor(x))))


# --------------------------------------------------------------------------- lgamma
def _lgamma_right(xp, x):
    """lgamma for x >= 1/2."""
    z = x - 1
    a = xp.full_like(z, _LANCZOS[0])
    for i in range(1, 9):
        a += _LANCZOS[i] / (z + i)
    t = z + (_LANCZOS_G + 0.5)
    return _HALF_LOG_2PI + (z + 0.5) * xp.log(t) - t + xp.log(a)


def _lgamma(xp, x):
    left = x < 0.5
    right = _lgamma_right(xp, xp.where(left, 1 - x, x))
    reflected = math.log(math.pi) - xp.log(_sinpi_abs(xp, x)) - right
    out = xp.where(left, reflected, right)
    out = xp.where((x == 1) | (x == 2), 0.0, out)
    return xp.where(xp.isinf(x), xp.inf, out)


def _digamma(xp, x):
    left = x < 0.5
    y = xp.where(left, 1 - x, x)
    acc = xp.zeros_like(y)
    for _ in range(10):  # y >= 1/2: ten steps reach 10
        low = y < 10
        acc -= xp.where(low, 1 / y, 0)
        y = xp.where(low, y + 1, y)
    w = 1 / (y * y)
    series = w * (1 / 12 - w * (1 / 120 - w * (1 / 252 - w * (1 / 240 - w * (1 / 132 - w * (691 / 32760 - w / 12))))))
    psi = xp.log(y) - 0.5 / y - series + acc
    # reflection; tan(pi x) has period 1, so reduce x first to keep pi x accurate
    reflected = psi - math.pi / xp.tan(math.pi * (x - xp.floor(x)))
    out = xp.where(left, reflected, psi)
    out = xp.where(x == 0, xp.where(xp.signbit(x), xp.inf, -xp.inf), out)  # as PyTorch: psi(-0.0) = inf
    out = xp.where((x < 0) & (x == xp.floor(x)), xp.nan, out)
    return xp.where(x == xp.inf, xp.inf, out)


def _polygamma(xp, x, n):
    lift = 20.0 + n
    finite = xp.isfinite(x)
    lowest = float(xp.min(xp.where(finite, x, lift))) if x.size else lift
    y = xp.where(finite, x, lift)
    acc = xp.zeros_like(y)
    for _ in range(max(0, math.ceil(lift - lowest))):
        low = y < lift
        acc += xp.where(low, y ** -(n + 1.0), 0)
        y = xp.where(low, y + 1, y)
    s = math.factorial(n - 1) / y**n + math.factorial(n) / (2 * y ** (n + 1))
    for k, b in enumerate(_BERNOULLI, start=1):
        s += (b * math.factorial(2 * k + n - 1) / math.factorial(2 * k)) / y ** (2 * k + n)
    out = (s + math.factorial(n) * acc) * (1.0 if n % 2 else -1.0)
    return xp.where(finite, out, xp.where(x == xp.inf, 0.0, xp.nan))


def _lgamma_vjp(g, x):
    return g * digamma(x)


def _digamma_vjp(g, x):
    return g * polygamma(1, x)


def _polygamma_vjp(g, x, n):
    return g * polygamma(n + 1, x)


LGAMMA = Op("lgamma", _f64(_lgamma), _lgamma_vjp, jvp=ELEMENTWISE, save=("x",))
DIGAMMA = Op("digamma", _f64(_digamma), _digamma_vjp, jvp=ELEMENTWISE, save=("x",))
POLYGAMMA = Op("polygamma", _f64(_polygamma), _polygamma_vjp, jvp=ELEMENTWISE, save=("x",))


def _float_input(input, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    return ew._float_input(input)


def lgamma(input):
    """log |Gamma(x)|; +inf at the poles 0, -1, -2, ..."""
    return apply(LGAMMA, (_float_input(input, "lgamma"),))


def digamma(input):
    """psi(x) = d/dx lgamma(x); -inf at 0, nan at the negative integers."""
    return apply(DIGAMMA, (_float_input(input, "digamma"),))


def polygamma(n, input):
    """The n-th derivative of digamma (polygamma(0, x) is digamma)."""
    n = int(n)
    if n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n (got n = {n})")
    if n == 0:
        return digamma(input)
    return apply(POLYGAMMA, (_float_input(input, "polygamma"),), (n,))


def _polygamma_method(self, n):
    return polygamma(n, self)


def _check_mvlgamma_domain(x, p):
    if x.size and not bool((x > (p - 1) / 2).all()):
        raise RuntimeError(f"All elements must be greater than (p-1)/2 = {(p - 1) / 2} (mvlgamma, p = {p})")


def mvlgamma(input, p):
    """The multivariate log-gamma function of dimension p:
    sum_{i<p} lgamma(x - i/2) + p (p - 1)/4 log(pi); every element must exceed (p - 1)/2."""
    x = _float_input(input, "mvlgamma")
    if p < 1:
        raise RuntimeError(f"mvlgamma: p has to be greater than or equal to 1 (got {p})")
    recorded_check(_check_mvlgamma_domain, x._data, p, label="mvlgamma_check")
    total = lgamma(x)
    for i in range(1, p):
        total = total + lgamma(x - i / 2)
    return total + p * (p - 1) / 4 * math.log(math.pi)


multigammaln = mvlgamma


# --------------------------------------------------------------------------- erfinv
_GILES_CENTRAL = (
    1.50140941,
    0.246640727,
    -0.00417768164,
    -0.00125372503,
    0.00021858087,
    -4.39150654e-06,
    -3.5233877e-06,
    3.43273939e-07,
    2.81022636e-08,
)
_SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2


def _poly(coeffs, v):
    r = coeffs[-1]
    for c in coeffs[-2::-1]:
        r = r * v + c
    return r


def _erfinv(xp, x):
    b = xp.abs(x)
    inside = b < 1
    b = xp.where(inside, b, 0.0)
    c = 1 - b  # exact for b >= 1/2
    w = -xp.log1p(-b * b)
    central = b * _poly(_GILES_CENTRAL, w - 2.5)
    # tail: solve erfc(y) = c from erfc(y) ~ exp(-y^2) (1 - 1/(2y^2)) / (y sqrt(pi))
    ct = xp.where(w < 5, 0.5, c)
    y = xp.sqrt(-xp.log(ct))
    for _ in range(3):
        y = xp.sqrt(-xp.log(ct * y * math.sqrt(math.pi) / (1 - 0.5 / (y * y))))
    y = xp.where(w < 5, central, y)
    for _ in range(2):
        f = xp.where(b < 0.5, _erf_array(xp, y) - b, c - _erfc_array(xp, y))
        d = f / (xp.exp(-y * y) / _SQRT_PI_OVER_2)
        y = y - d / (1 + y * d)
    y = xp.copysign(y, x)
    edge = xp.where(xp.abs(x) == 1, xp.copysign(xp.inf, x), xp.nan)
    return xp.where(inside, y, edge)


def _erfinv_vjp(g, x):
    # erfinv' = sqrt(pi)/2 exp(erfinv(x)^2), with erfinv recomputed from the saved input (as
    # PyTorch does), so the result may be modified in place before backward
    y = erfinv(x)
    return g * (ew.exp(y * y) * _SQRT_PI_OVER_2)


ERFINV = Op("erfinv", _f64(_erfinv), _erfinv_vjp, jvp=ELEMENTWISE, save=("x",))


def erfinv(input):
    """The inverse of erf on (-1, 1); +-inf at +-1, nan outside."""
    return apply(ERFINV, (_float_input(input, "erfinv"),))


# --------------------------------------------------------------------------- Bessel i0, i1
def _bessel_i(xp, x, nu, scaled=False):
    """I_nu(x) (nu = 0 or 1), or e^-|x| I_nu(x) when ``scaled``."""
    a = xp.abs(x)
    small = a <= 20
    # series on the small part (x clipped so the unused lanes stay finite)
    h = xp.where(small, a, 0.0) / 2
    q = h * h
    term = xp.ones_like(a) if nu == 0 else h.copy()
    total = term.copy()
    for k in range(1, 64):
        term = term * q / (k * (k + nu))
        total += term
    # asymptotic expansion on the large part
    z = xp.where(small, 20.0, a)
    mu = 4.0 * nu * nu
    term = xp.ones_like(z)
    asym = term.copy()
    for k in range(1, 30):
        term = term * -(mu - (2 * k - 1) ** 2) / (k * 8 * z)
        asym += term
    if scaled:
        total *= xp.exp(-xp.where(small, a, 0.0))
        asym /= xp.sqrt(2 * math.pi * z)
    else:
        asym *= xp.exp(z) / xp.sqrt(2 * math.pi * z)
    out = xp.where(small, total, asym)
    return xp.where(xp.signbit(x), -out, out) if nu == 1 else out


def _i1_vjp(g, x):
    # I1'(x) = I0(x) - I1(x) / x, with the limit 1/2 at x = 0
    zero = x == 0
    safe = ew.where(zero, 1.0, x)
    return g * ew.where(zero, 0.5, i0(x) - i1(safe) / safe)


I0 = Op("i0", _f64(lambda xp, x: _bessel_i(xp, x, 0)), lambda g, x: g * i1(x), jvp=ELEMENTWISE, save=("x",))
I1 = Op("i1", _f64(lambda xp, x: _bessel_i(xp, x, 1)), _i1_vjp, jvp=ELEMENTWISE, save=("x",))


# the scaled functions' backward reads the saved result, as PyTorch's does
def _i0e_vjp(g, x, out):
    # (e^-|x| I0)' = e^-|x| (I1 - sgn(x) I0)
    return g * (i1e(x) - ew.sign(x) * out)


def _i1e_vjp(g, x, out):
    # (e^-|x| I1)' = e^-|x| (I0 - I1/x - sgn(x) I1), with the limit 1/2 at x = 0
    zero = x == 0
    safe = ew.where(zero, 1.0, x)
    return g * ew.where(zero, 0.5, i0e(x) - out * (1 / safe + ew.sign(safe)))


I0E = Op("special_i0e", _f64(lambda xp, x: _bessel_i(xp, x, 0, True)), _i0e_vjp, jvp=ELEMENTWISE, save=("x", "out"))
I1E = Op("special_i1e", _f64(lambda xp, x: _bessel_i(xp, x, 1, True)), _i1e_vjp, jvp=ELEMENTWISE, save=("x", "out"))


def i0(input):
    """The modified Bessel function of the first kind of order 0."""
    return apply(I0, (_float_input(input, "i0"),))


def i1(input):
    """The modified Bessel function of the first kind of order 1."""
    return apply(I1, (_float_input(input, "i1"),))


def i0e(input):
    """e^-|x| I0(x), the exponentially scaled modified Bessel function of order 0 (finite where
    I0 overflows); d/dx = i1e(x) - sgn(x) i0e(x)."""
    return apply(I0E, (_float_input(input, "i0e"),))


def i1e(input):
    """e^-|x| I1(x), the exponentially scaled modified Bessel function of order 1;
    d/dx = i0e(x) - i1e(x) (sgn(x) + 1/x), 1/2 at x = 0."""
    return apply(I1E, (_float_input(input, "i1e"),))


# --------------------------------------------------------------------------- in-place forms


def polygamma_(self, n):
    from ._inplace import apply_inplace

    return apply_inplace(self, "polygamma", lambda t: polygamma(n, t))


# --------------------------------------------------------------------------- torch.special compositions
_SQRT_HALF = math.sqrt(0.5)


def entr(input):
    """-x log(x) for x > 0, 0 at x = 0, -inf for x < 0."""
    pos = input > 0
    safe = ew.where(pos, input, 1.0)
    value = ew.where(pos, -safe * safe.log(), 0.0)
    return ew.where(input < 0, -math.inf, value)


def ndtr(input):
    """The standard normal CDF, (1 + erf(x / sqrt 2)) / 2."""
    return (1 + _special.erf(input * _SQRT_HALF)) * 0.5


def ndtri(input):
    """The inverse of ndtr: sqrt(2) erfinv(2p - 1)."""
    return erfinv(input * 2 - 1) * math.sqrt(2.0)


def log_ndtr(input):
    """log(ndtr(x)), written as log(erfc(-x / sqrt 2) / 2) to keep precision for negative x."""
    return (_special.erfc(-input * _SQRT_HALF) * 0.5).log()


def xlog1py(input, other):
    """x * log1p(y), 0 where x == 0 unless y is NaN (in the operands' promoted floating dtype)."""
    input, other = ew._float_pair(input, other)
    x0 = input == 0  # see xlogy: log1p(y) is replaced only where x == 0 and y <= -1
    out = input * ew.log1p(ew.where(ew.logical_and(x0, other <= -1), 0.0, other))
    return ew.where(ew.logical_and(x0, ew.isinf(other)), 0.0, out)


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(lgamma, method=True, inplace=True, out=True, special=("gammaln",))
declare(digamma, method=True, inplace=True, out=True, special=("digamma", "psi"))
declare(polygamma, method=_polygamma_method, inplace=polygamma_, out=True, special=("polygamma",))
declare(mvlgamma, method=True, inplace=True, out=True, special=("multigammaln",))
declare(erfinv, method=True, inplace=True, out=True, special=("erfinv",))
declare(i0, method=True, inplace=True, torch_inplace=("i0_",), out=True, special=("i0",))
declare(i1, torch=False, out=True, special=("i1",))
declare(i0e, torch=False, out=True, special=("i0e",))
declare(i1e, torch=False, out=True, special=("i1e",))
declare(entr, torch=False, out=True, special=("entr",))
declare(ndtr, torch=False, out=True, special=("ndtr",))
declare(ndtri, torch=False, out=True, special=("ndtri",))
declare(log_ndtr, torch=False, out=True, special=("log_ndtr",))
declare(xlog1py, torch=False, out=True, special=("xlog1py",))

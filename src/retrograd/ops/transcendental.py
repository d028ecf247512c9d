"""Transcendental functions beyond the basic ones: logaddexp, logaddexp2, logit, the inverse
hyperbolic functions, sinc, and the degree/radian conversions.

Gradients:
    logaddexp(x, y) = log(e^x + e^y)        d/dx = sigmoid(x - y)
    logaddexp2(x, y) = log2(2^x + 2^y)      d/dx = sigmoid((x - y) ln 2)
    asinh' = 1 / sqrt(x^2 + 1), acosh' = 1 / sqrt(x^2 - 1), atanh' = 1 / (1 - x^2)
    sinc(x) = sin(pi x) / (pi x)            d/dx = (cos(pi x) - sinc(x)) / x   (0 at x = 0)
"""

import math

from . import elementwise as ew
from .elementwise import _float_pair
from ._registry import Op, apply
from ._declare import declare
from ._registry import ELEMENTWISE

_LN2 = math.log(2.0)


# --------------------------------------------------------------------------- logaddexp
def _logaddexp_vjp(g, needs, x, y):
    # d/dx = e^x / (e^x + e^y) = sigmoid(x - y), from the inputs (saved as PyTorch saves them,
    # so the result may be modified in place before backward); sigmoid keeps it and its own
    # derivative finite for far-apart inputs
    return ((g * ew.sigmoid(x - y) if needs[0] else None), (g * ew.sigmoid(y - x) if needs[1] else None))


def _logaddexp2_vjp(g, needs, x, y):
    # d/dx = 2^x / (2^x + 2^y) = sigmoid((x - y) ln 2)
    return (
        (g * ew.sigmoid((x - y) * _LN2) if needs[0] else None),
        (g * ew.sigmoid((y - x) * _LN2) if needs[1] else None),
    )


def _logaddexp(xp, x, y):
    if x.dtype.kind != "c":
        return xp.logaddexp(x, y)
    # NumPy's logaddexp is real only: shift by the operand of larger real part,
    # log(e^a + e^b) = a + log(1 + e^(b - a))
    first = x.real >= y.real
    a, b = xp.where(first, x, y), xp.where(first, y, x)
    return a + xp.log1p(xp.exp(b - a))


def _logaddexp2(xp, x, y):
    if x.dtype.kind == "c":  # as in PyTorch, which has no complex logaddexp2
        raise NotImplementedError(f'"logaddexp2_cpu" not implemented for complex tensors (dtype {x.dtype})')
    return xp.logaddexp2(x, y)


LOGADDEXP = Op(
    "logaddexp",
    _logaddexp,
    _logaddexp_vjp,
    jvp=ELEMENTWISE,
    save=("x", "y"),
    needs=True,
)
LOGADDEXP2 = Op(
    "logaddexp2",
    _logaddexp2,
    _logaddexp2_vjp,
    jvp=ELEMENTWISE,
    save=("x", "y"),
    needs=True,
)


def logaddexp(input, other):
    """log(e^input + e^other), without overflow."""
    return apply(LOGADDEXP, _float_pair(input, other))


def logaddexp2(input, other):
    """log2(2^input + 2^other), without overflow."""
    return apply(LOGADDEXP2, _float_pair(input, other))


def logit(input, eps=None):
    """log(p / (1 - p)), with p clamped to [eps, 1 - eps] when eps is given (the gradient is
    then zero outside that range)."""
    p = ew._float_input(input)
    if eps is not None:
        p = ew.clamp(p, eps, 1 - eps)
    return ew.log(p / (1 - p))


# --------------------------------------------------------------------------- inverse hyperbolic
ASINH = Op("asinh", lambda xp, x: xp.arcsinh(x), lambda g, x: g * ew.rsqrt(x * x + 1), jvp=ELEMENTWISE, save=("x",))
ACOSH = Op("acosh", lambda xp, x: xp.arccosh(x), lambda g, x: g * ew.rsqrt(x * x - 1), jvp=ELEMENTWISE, save=("x",))
ATANH = Op("atanh", lambda xp, x: xp.arctanh(x), lambda g, x: g / (1 - x * x), jvp=ELEMENTWISE, save=("x",))


def asinh(input):
    return apply(ASINH, (ew._float_input(input),))


def acosh(input):
    return apply(ACOSH, (ew._float_input(input),))


def atanh(input):
    return apply(ATANH, (ew._float_input(input),))


arcsinh, arccosh, arctanh = asinh, acosh, atanh


# --------------------------------------------------------------------------- sinc, angles
def _sinc_vjp(g, x):
    zero = x == 0
    safe = ew.where(zero, 1.0, x)
    d = (ew.cos(safe * math.pi) - sinc(safe)) / safe
    return g * ew.where(zero, 0.0, d)


SINC = Op("sinc", lambda xp, x: xp.sinc(x), _sinc_vjp, jvp=ELEMENTWISE, save=("x",))


def sinc(input):
    """sin(pi x) / (pi x), and 1 at x = 0."""
    return apply(SINC, (ew._float_input(input),))


def rad2deg(input):
    return ew._float_input(input) * (180.0 / math.pi)


def deg2rad(input):
    return ew._float_input(input) * (math.pi / 180.0)


# --------------------------------------------------------------------------- sign manipulation


# --------------------------------------------------------------------------- integer maths


# --------------------------------------------------------------------------- floating-point parts


# --------------------------------------------------------------------------- in-place forms


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(logaddexp, method=True, out=True)
declare(logaddexp2, method=True, out=True)
declare(logit, method=True, inplace=True, torch_inplace=("logit_",), out=True, special=("logit",))
declare(asinh, aliases=("arcsinh",), method=True, inplace=True, torch_inplace=("asinh_", "arcsinh_"), out=True)
declare(acosh, aliases=("arccosh",), method=True, inplace=True, torch_inplace=("acosh_", "arccosh_"), out=True)
declare(atanh, aliases=("arctanh",), method=True, inplace=True, torch_inplace=("atanh_", "arctanh_"), out=True)
declare(sinc, method=True, inplace=True, torch_inplace=("sinc_",), out=True, special=("sinc",))
declare(rad2deg, method=True, inplace=True, torch_inplace=("rad2deg_",), out=True)
declare(deg2rad, method=True, inplace=True, torch_inplace=("deg2rad_",), out=True)

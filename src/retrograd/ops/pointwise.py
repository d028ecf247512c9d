"""More elementwise ops: logaddexp, logit, inverse hyperbolic functions, sinc, copysign,
heaviside, signbit, gcd/lcm, rad2deg/deg2rad, frexp/ldexp, nextafter.

Gradients, where PyTorch defines them:
    logaddexp(x, y) = log(e^x + e^y)        d/dx = e^(x - out)
    logaddexp2(x, y) = log2(2^x + 2^y)      d/dx = 2^(x - out)
    asinh' = 1 / sqrt(x^2 + 1), acosh' = 1 / sqrt(x^2 - 1), atanh' = 1 / (1 - x^2)
    sinc(x) = sin(pi x) / (pi x)            d/dx = (cos(pi x) - sinc(x)) / x   (0 at x = 0)
    copysign(x, y) = |x| sign(y)            d/dx = sign(x) sign(y), d/dy = 0
    fmax(x, y), fmin(x, y): max/min ignoring NaN (NaN only where both are NaN); the gradient
        goes to x where x >= y (x <= y for fmin) or y is NaN, else to y (ties go to x)
    ldexp(x, e) = x 2^e                      (composed: both inputs differentiable)
heaviside, signbit, gcd, lcm, nextafter and the comparisons are not differentiable.
"""
import math
from collections import namedtuple

from .. import _dtype
from .._tensor import Tensor
from . import elementwise as ew
from ._registry import Op, apply
from ._declare import declare
from ._registry import ELEMENTWISE

_LN2 = math.log(2.0)


def _const(array):
    """A result outside the graph (the op is not differentiable)."""
    return Tensor._make(array, None, False)


def _tensor_pair(input, other):
    """Promoted operands, both Tensors (a Python number becomes a tensor like the other)."""
    x, y = ew._operands(input, other)
    if not isinstance(x, Tensor):
        x = ew._like_scalar(y, x)
    if not isinstance(y, Tensor):
        y = ew._like_scalar(x, y)
    return x, y


def _float_pair(input, other):
    x, y = _tensor_pair(input, other)
    if x._data.dtype.kind not in "fV":
        d = _dtype.get_default_dtype()
        x, y = x.to(d), y.to(d)
    return x, y


# --------------------------------------------------------------------------- logaddexp
def _logaddexp_vjp(g, needs, x, y, out):
    return ((g * ew.exp(x - out) if needs[0] else None),
            (g * ew.exp(y - out) if needs[1] else None))


def _logaddexp2_vjp(g, needs, x, y, out):
    return ((g * ew.exp2(x - out) if needs[0] else None),
            (g * ew.exp2(y - out) if needs[1] else None))


LOGADDEXP = Op("logaddexp", lambda xp, x, y: xp.logaddexp(x, y), _logaddexp_vjp, jvp=ELEMENTWISE,
               save=("x", "y", "out"), needs=True)
LOGADDEXP2 = Op("logaddexp2", lambda xp, x, y: xp.logaddexp2(x, y), _logaddexp2_vjp, jvp=ELEMENTWISE,
                save=("x", "y", "out"), needs=True)


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
def _copysign_vjp(g, needs, x, y):
    gx = g * ew.sign(x) * copysign(ew._like_scalar(y, 1.0), y) if needs[0] else None
    return gx, (g * 0 if needs[1] else None)


COPYSIGN = Op("copysign", lambda xp, x, y: xp.copysign(x, y), _copysign_vjp, jvp=ELEMENTWISE, save=("x", "y"),
              needs=True)


def copysign(input, other):
    """|input| with the sign of ``other`` (sign bit included: -0.0 counts as negative)."""
    return apply(COPYSIGN, _float_pair(input, other))


def _fmax_vjp(g, needs, x, y):
    return _pick_grads(g, needs, (x >= y).logical_or(y.isnan()))


def _fmin_vjp(g, needs, x, y):
    return _pick_grads(g, needs, (x <= y).logical_or(y.isnan()))


def _pick_grads(g, needs, x_wins):
    zero = g.new_zeros(())
    return (ew.where(x_wins, g, zero) if needs[0] else None), \
        (ew.where(x_wins, zero, g) if needs[1] else None)


FMAX = Op("fmax", lambda xp, x, y: xp.fmax(x, y), _fmax_vjp, jvp=ELEMENTWISE, save=("x", "y"), needs=True)
FMIN = Op("fmin", lambda xp, x, y: xp.fmin(x, y), _fmin_vjp, jvp=ELEMENTWISE, save=("x", "y"), needs=True)


def _two_tensors(name, input, other):
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        bad = other if isinstance(input, Tensor) else input
        raise TypeError(f"{name}(): argument '{'other' if isinstance(input, Tensor) else 'input'}' "
                        f"must be Tensor, not {type(bad).__name__}")
    return ew._operands(input, other)


def fmax(input, other):
    """Elementwise maximum that ignores NaN: NaN only where both inputs are NaN (NumPy's fmax)."""
    return apply(FMAX, _two_tensors("fmax", input, other))


def fmin(input, other):
    """Elementwise minimum that ignores NaN: NaN only where both inputs are NaN (NumPy's fmin)."""
    return apply(FMIN, _two_tensors("fmin", input, other))


def signbit(input):
    from ..backend import array_module
    a = input._data
    return _const(array_module(a).signbit(a))


def heaviside(input, values):
    """0 where input < 0, ``values`` where input == 0, 1 where input > 0 (not differentiable)."""
    from ..backend import array_module
    if not isinstance(values, Tensor):
        values = ew._like_scalar(input, values)
    if input._data.dtype != values._data.dtype:
        raise RuntimeError(f"heaviside is not yet implemented for tensors with different dtypes "
                           f"(input {input.dtype}, values {values.dtype})")
    a = input._data
    return _const(array_module(a).heaviside(a, values._data).astype(a.dtype, copy=False))


# --------------------------------------------------------------------------- integer maths
def _integer_op(name, input, other):
    from ..backend import array_module
    x, y = _tensor_pair(input, other)
    if x._data.dtype.kind not in "iu":
        raise RuntimeError(f"\"{name}_cpu\" not implemented for '{_dtype.from_np(x._data.dtype)}' "
                           f"({name} takes integer tensors)")
    a = x._data
    return _const(getattr(array_module(a), name)(a, y._data))


def gcd(input, other):
    """Greatest common divisor, elementwise (integer tensors; gcd(0, 0) = 0)."""
    return _integer_op("gcd", input, other)


def lcm(input, other):
    """Least common multiple, elementwise (integer tensors)."""
    return _integer_op("lcm", input, other)


# --------------------------------------------------------------------------- floating-point parts
frexp_result = namedtuple("frexp", ["mantissa", "exponent"])


def frexp(input):
    """input = mantissa * 2^exponent with 0.5 <= |mantissa| < 1; exponent is int32. The mantissa
    is differentiable (input * 2^-exponent, the exponent held constant)."""
    from ..backend import array_module
    if input._data.dtype.kind not in "fV":
        raise RuntimeError(f"torch.frexp() only supports floating-point dtypes (got {input.dtype})")
    a = input._data
    xp = array_module(a)
    _, e = xp.frexp(a)
    scale = _const(xp.ldexp(xp.ones_like(a), -e))
    return frexp_result(input * scale, _const(e.astype("int32")))


def ldexp(input, other):
    """input * 2^other."""
    x = ew._float_input(input)
    e = other if isinstance(other, Tensor) else ew._like_scalar(x, other)
    if e._data.dtype.kind not in "fV":
        e = e.to(x.dtype)
    return x * ew.exp2(e)


def nextafter(input, other):
    """The next representable float after ``input`` in the direction of ``other``."""
    from ..backend import array_module
    x, y = _tensor_pair(input, other)
    a = x._data
    return _const(array_module(a).nextafter(a, y._data))


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
declare(copysign, method=True, inplace=True, out=True)
declare(signbit, method=True, out=True)
declare(heaviside, method=True, inplace=True, out=True)
declare(gcd, method=True, inplace=True, torch_inplace=("gcd_",), out=True)
declare(lcm, method=True, inplace=True, torch_inplace=("lcm_",), out=True)
declare(fmax, method=True, out=True)
declare(fmin, method=True, out=True)
declare(frexp, method=True, out=True)
declare(ldexp, method=True, inplace=True, torch_inplace=("ldexp_",), out=True)
declare(nextafter, method=True, inplace=True, out=True)

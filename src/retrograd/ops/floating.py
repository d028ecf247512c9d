"""How floating-point numbers are represented: copysign, signbit, heaviside (the sign step),
frexp/ldexp (mantissa and exponent), nextafter.

Gradients, where PyTorch defines them: copysign(x, y) = |x| sign(y), d/dx = sign(x) sign(y)
(0 at x = 0), none for y; ldexp(x, e) = x 2^e, d/dx = 2^e."""

from collections import namedtuple

from .._tensor import Tensor
from . import elementwise as ew
from ._declare import declare
from ._registry import ELEMENTWISE, Op, apply
from .elementwise import _const, _float_pair, _tensor_pair


def _copysign_vjp(g, needs, x, y):
    gx = g * ew.sign(x) * copysign(ew._like_scalar(y, 1.0), y) if needs[0] else None
    return gx, (g * 0 if needs[1] else None)


COPYSIGN = Op(
    "copysign", lambda xp, x, y: xp.copysign(x, y), _copysign_vjp, jvp=ELEMENTWISE, save=("x", "y"), needs=True
)


def copysign(input, other):
    """|input| with the sign of ``other`` (sign bit included: -0.0 counts as negative)."""
    return apply(COPYSIGN, _float_pair(input, other))


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
        raise RuntimeError(
            f"heaviside is not yet implemented for tensors with different dtypes "
            f"(input {input.dtype}, values {values.dtype})"
        )
    a = input._data
    return _const(array_module(a).heaviside(a, values._data).astype(a.dtype, copy=False))


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
    # as PyTorch computes it: 2.0 ** other in other's own floating dtype (the default float
    # dtype for an integer exponent), times input, in the operands' promoted dtype made floating
    # (ldexp(float16, int32) is float16, ldexp(bool, float16) is float16)
    x, e = ew._float_operands(input, other)
    d = x.dtype if isinstance(x, Tensor) else e.dtype
    out = ew.mul(input, ew.pow(2.0, other))
    return out if not isinstance(out, Tensor) or out.dtype is d else out.to(d)


def nextafter(input, other):
    """The next representable float after ``input`` in the direction of ``other``."""
    from ..backend import array_module

    x, y = _tensor_pair(input, other)
    a = x._data
    return _const(array_module(a).nextafter(a, y._data))


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(copysign, method=True, inplace=True, out=True)
declare(signbit, method=True, out=True)
declare(heaviside, method=True, inplace=True, out=True)
declare(frexp, method=True, out=True)
declare(ldexp, method=True, inplace=True, torch_inplace=("ldexp_",), out=True)
declare(nextafter, method=True, inplace=True, out=True)

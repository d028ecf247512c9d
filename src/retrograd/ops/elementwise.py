"""Elementwise ops: arithmetic, unary maths, activations basics, comparisons.

Binary ops take Tensors or Python scalars and follow PyTorch's type promotion (``_operands``);
broadcasting is undone by the engine, so each backward returns gradients of the output's shape.
Every backward is written with retrograd ops, so it can itself be differentiated.
"""

import builtins
import functools

import numpy as np

from .. import _dtype
from ..backend.blocks import BLOCK, block_bounds
from ..autograd._vmap_state import _vm, BatchedTensor
from .._compile.state import _cap, recorded
from ..autograd.grad_mode import _state as _grad_state
from .._tensor import Tensor
from .._warn import warn_user
from ._declare import declare
from ._inplace import _bump, _recording, _ufunc_inplace, apply_inplace, valued_inplace
from ._registry import OPMATH, ROUND, Op, apply, broadcast_error
from ._registry import ELEMENTWISE


# --------------------------------------------------------------------------- operand promotion
def _scalar(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (int, float, bool, complex)):
        return v
    raise TypeError(f"unsupported operand of type {type(v).__name__}: expected a Tensor or a number")


_INT_RANGES: dict = {}


def _wrapped(v, dtype):
    """The Python int ``v`` as PyTorch reads it against an integer tensor of ``dtype``: wrapped
    into that dtype's range (uint8 + -3 is uint8 + 253), where NumPy would raise OverflowError."""
    r = _INT_RANGES.get(dtype)
    if r is None:
        info = np.iinfo(dtype)
        r = _INT_RANGES[dtype] = (int(info.min), int(info.max))
    if r[0] <= v <= r[1]:
        return v
    return int(np.asarray(v).astype(dtype))


def _operands(x, y):
    """Cast Tensor/scalar operands ``x, y`` to their PyTorch result dtype."""
    xt = isinstance(x, Tensor)
    yt = isinstance(y, Tensor)
    if xt and yt:
        xd, yd = x._data.dtype, y._data.dtype
        if xd == yd:
            return x, y
        d = _dtype.result_type(x, y).np
        return (x if xd == d else x.to(d)), (y if yd == d else y.to(d))
    if xt:
        y = _scalar(y)
        k = x._data.dtype.kind
        if type(y) is int and k in "iu":
            y = _wrapped(y, x._data.dtype)
        if (k not in "fcV" and (type(y) is float or (k == "b" and type(y) is int))) or (
            type(y) is complex and k != "c"
        ):
            x = x.to(_dtype.result_type(x, y))
        return x, y
    if yt:
        x = _scalar(x)
        k = y._data.dtype.kind
        if type(x) is int and k in "iu":
            x = _wrapped(x, y._data.dtype)
        if (k not in "fcV" and (type(x) is float or (k == "b" and type(x) is int))) or (
            type(x) is complex and k != "c"
        ):
            y = y.to(_dtype.result_type(x, y))
        return x, y
    from .._creation import tensor

    return tensor(x), y


def _sparse_operand(name, x, y, error):
    """``name(x, y)`` when ``_operands`` refused the operands with ``error``: the sparse op when
    one of them is a sparse tensor, else ``error`` raised again."""
    from ..sparse import binary

    r = binary(name, x, y)
    if r is None:
        raise error
    return r


def _integral(v):
    """Whether ``v`` is an integer or bool Tensor or Python number."""
    if isinstance(v, Tensor):
        return v._data.dtype.kind in "biu"
    return isinstance(v, (int, np.integer, np.bool_))


def _float_operands(x, y):
    """Operands promoted, then raised to the default float dtype if integral (true division).

    Integral operands go straight to that float dtype, as in PyTorch, never through their
    common integer dtype: a 0-d int8 -1 against a uint8 tensor is -1.0, not 255.0."""
    if (isinstance(x, Tensor) or isinstance(y, Tensor)) and _integral(x) and _integral(y):
        d = _dtype.get_default_dtype()
        x = x.to(d) if isinstance(x, Tensor) else float(x)
        y = y.to(d) if isinstance(y, Tensor) else float(y)
        return x, y
    x, y = _operands(x, y)
    t = x if isinstance(x, Tensor) else y
    if t._data.dtype.kind not in "fcV":
        d = _dtype.get_default_dtype()
        x = x.to(d) if isinstance(x, Tensor) else float(x)
        y = y.to(d) if isinstance(y, Tensor) else float(y)
    return x, y


def _float_input(x):
    return x if x._data.dtype.kind in "fcV" else x.to(_dtype.get_default_dtype())


# --------------------------------------------------------------------------- arithmetic
def _add(xp, x, y):
    return x + y


def _add_vjp(g, needs):
    return (g if needs[0] else None), (g if needs[1] else None)


ADD = Op("add", _add, _add_vjp, jvp=ELEMENTWISE, needs=True)


def _sub(xp, x, y):
    return x - y


def _sub_vjp(g, needs):
    return (g if needs[0] else None), (-g if needs[1] else None)


SUB = Op("sub", _sub, _sub_vjp, jvp=ELEMENTWISE, needs=True)


def _mul(xp, x, y):
    return x * y


def _conj(v):
    return v.conjugate() if not isinstance(v, Tensor) else v.conj()


def _mul_vjp(g, needs, x, y):
    if g._data.dtype.kind == "c":  # PyTorch's convention: multiply by the conjugate
        x, y = _conj(x), _conj(y)
    return (g * y if needs[0] else None), (g * x if needs[1] else None)


MUL = Op("mul", _mul, _mul_vjp, jvp=ELEMENTWISE, save=("x", "y"), needs=True, used_by=((1,), (0,)))


def _div(xp, x, y):
    return x / y


def _div_vjp(g, needs, x, y):
    # d(x/y)/dx = 1/y ; d(x/y)/dy = -x/y^2 (conjugated for complex). The inputs are saved, not
    # the output, as PyTorch does: the quotient may then be modified in place before backward.
    if g._data.dtype.kind == "c":
        x, y = _conj(x), _conj(y)
    gx = g / y if needs[0] else None
    gy = -(g * (x / y)) / y if needs[1] else None
    return gx, gy


DIV = Op("div", _div, _div_vjp, jvp=ELEMENTWISE, save=("x", "y"), needs=True, used_by=((1,), (0, 1)))


def _pow(xp, x, y):
    try:
        return x**y
    except ValueError:  # NumPy refuses negative integer powers of integers
        return _int_pow(xp, x, y)


def _int_pow(xp, x, y):
    """Integer powers with negative exponents as PyTorch computes them, truncated toward zero:
    1 for a base of 1, +-1 for -1 (by the exponent's parity), 0 for any other base."""
    base, e = xp.asarray(x), xp.asarray(y)
    pos = base ** xp.maximum(e, 0)
    neg = xp.where(base == 1, 1, xp.where(base == -1, 1 - 2 * (e & 1), 0))
    return xp.where(e < 0, neg, pos).astype(pos.dtype)


def _pow_vjp(g, needs, x, y, out):
    # d(x^y)/dx = y x^(y-1) ; d(x^y)/dy = x^y log x (taken as 0 where x == 0)
    gx = gy = None
    if needs[0]:
        if isinstance(y, Tensor):
            gx = g * y * x ** (y - 1)
        elif y == 0:
            gx = g * 0
        else:
            gx = g * (y * x ** (y - 1))
    if needs[1]:
        gy = where(x == 0, 0.0, g * out * log(where(x == 0, 1.0, x)))
    return gx, gy


POW = Op("pow", _pow, _pow_vjp, jvp=ELEMENTWISE, save=("x", "y", "out"), needs=True, node_name="PowBackward1")


# Tensor-scalar forms: one input, the scalar as an argument, named as PyTorch names their nodes.
# They take the short single-input path through apply; the scalar never becomes a tensor.
ADD_SCALAR = Op("add", lambda xp, x, s: x + s, lambda g, s: g, jvp=ELEMENTWISE, node_name="AddBackward0", scalars=ROUND)
SUB_SCALAR = Op("sub", lambda xp, x, s: x - s, lambda g, s: g, jvp=ELEMENTWISE, node_name="SubBackward0", scalars=ROUND)
RSUB_SCALAR = Op(
    "rsub", lambda xp, x, s: s - x, lambda g, s: -g, jvp=ELEMENTWISE, node_name="RsubBackward1", scalars=ROUND
)
MUL_SCALAR = Op(
    "mul", lambda xp, x, s: x * s, lambda g, s: g * s, jvp=ELEMENTWISE, node_name="MulBackward0", scalars=OPMATH
)
DIV_SCALAR = Op(
    "div", lambda xp, x, s: x / s, lambda g, s: g / s, jvp=ELEMENTWISE, node_name="DivBackward0", scalars=OPMATH
)


def _rdiv(xp, x, s):
    r = 1 / x
    return r * s, r


def _rdiv_vjp(g, x, r, s):
    # d(s/x)/dx = -s r^2 with r = 1/x saved by the forward: PyTorch computes s / x as
    # reciprocal(x) * s and saves the reciprocal, not x, so x (never read here, hence not
    # version-checked) and the result may be modified in place before backward. When this
    # gradient is differentiated again, r is reciprocal(x) given its value, to keep its graph.
    if _grad_state.enabled:
        r = apply(_RECIPROCAL_OF, (x,), (r,))
    else:
        r = Tensor._make(r, None, False)
    return g * (r * r) * (-s)


_RECIPROCAL_OF = Op("reciprocal", lambda xp, x, r: r, lambda g, out, r: -g * out * out, save=("out",))
RDIV_SCALAR = Op(
    "rdiv",
    _rdiv,
    _rdiv_vjp,
    jvp=ELEMENTWISE,
    save=("x", "extra"),
    node_name="MulBackward0",
    used_by=((),),
)


def _pow_scalar_vjp(g, x, s):
    # d(x^s)/dx = s x^(s-1)
    if s == 0:
        return g * 0
    if s == 1:
        return g
    if s == 2:
        return g * x * 2
    return g * (x ** (s - 1) * s)


POW_SCALAR = Op(
    "pow",
    lambda xp, x, s: x**s,
    _pow_scalar_vjp,
    jvp=ELEMENTWISE,
    save=("x",),
    node_name="PowBackward0",
    scalars=ROUND,
)
RPOW_SCALAR = Op(
    "rpow",
    lambda xp, x, s: s**x,
    lambda g, out, s: g * out * float(np.log(s)) if s > 0 else g * out * float("nan"),
    jvp=ELEMENTWISE,
    save=("out",),
    node_name="PowBackward2",
    scalars=ROUND,
)


def _fast_scalar(t, v):
    """Whether ``t op v`` can take the tensor-scalar path: a float tensor and a Python number."""
    tv = type(v)
    return (tv is float or tv is int) and type(t) is not int and isinstance(t, Tensor) and t._data.dtype.kind in "fV"


def _numpy_scalar(x, y):
    """Whether ``x`` or ``y`` is a NumPy scalar (``np.float64(2.0)``, ``np.sqrt(d)``): PyTorch
    takes those as Python numbers (no saved tensor, no promotion past the tensor's dtype)."""
    return isinstance(x, np.generic) or isinstance(y, np.generic)


def _python(v):
    if isinstance(v, np.bool_):
        return float(v)  # PyTorch reads a NumPy bool as a float number: int_tensor + np.True_ is float
    return v.item() if isinstance(v, np.generic) else v


# PyTorch's deprecated overloads that put the scalar factor before the tensors, still accepted
# (with a warning, once per name): add(input, alpha, other), sub(input, alpha, other) and their
# in-place forms, addcmul(input, value, tensor1, tensor2), addcdiv(input, value, tensor1,
# tensor2). Older optimizers are written this way (p.add_(-lr, grad)).
_warned_overloads = set()


def _scalar_first(name, scalar, count, rest, given, old, new):
    """``(*rest, scalar)`` of a deprecated call ``name(input, scalar, *rest)``, where the regular
    form would read ``scalar`` as its first tensor; ``count`` tensors must follow the scalar, and
    ``given`` is the factor's keyword, which that form leaves at its default."""
    if len(rest) != count or given != 1 or not _is_number(scalar) or not all(isinstance(t, Tensor) for t in rest):
        raise TypeError(
            f"{name}() received an invalid combination of arguments: expected ({new}), or the "
            f"deprecated ({old}) with no {'alpha' if 'alpha' in new else 'value'} keyword"
        )
    if name not in _warned_overloads:
        _warned_overloads.add(name)
        warn_user(
            f"This overload of {name} is deprecated:\n\t{name}({old})\nConsider using one of the "
            f"following signatures instead:\n\t{name}({new})"
        )
    return (*rest, scalar)


def _alpha_first(name, alpha, rest, given):
    """``(other, alpha)`` of add's or sub's deprecated ``name(input, alpha, other)`` (in place:
    ``name_(alpha, other)``)."""
    head = "" if name.endswith("_") else "Tensor input, "
    return _scalar_first(
        name, alpha, 1, rest, given, f"{head}Number alpha, Tensor other", f"{head}Tensor other, *, Number alpha = 1"
    )


def _value_first(name, value, tensor, rest, given):
    """``(tensor1, tensor2, value)`` of addcmul's or addcdiv's deprecated ``name(input, value,
    tensor1, tensor2)``."""
    return _scalar_first(
        name,
        value,
        2,
        (tensor,) + rest,
        given,
        "Tensor input, Number value, Tensor tensor1, Tensor tensor2",
        "Tensor input, Tensor tensor1, Tensor tensor2, *, Number value = 1",
    )


def _is_number(v):
    return isinstance(v, (int, float, complex, np.number, np.bool_))


def _times_alpha(input, other, alpha):
    """``alpha * other`` in the dtype of ``input + other`` (add(bool, bool, alpha=2) stays bool),
    with PyTorch's checks on alpha's type."""
    if not all(isinstance(v, (Tensor, int, float, complex, np.generic)) for v in (input, other)):
        return mul(other, alpha)  # a sparse operand: its own rules
    d = _dtype.result_type(_python(input), _python(other))
    if isinstance(alpha, (bool, np.bool_)) and d is not _dtype.bool:
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if d._category < 2 and isinstance(alpha, (float, np.floating)):
        raise RuntimeError(
            f"For integral input tensors, argument alpha must not be a floating point number (alpha={alpha}, "
            f"result dtype {d})."
        )
    if d._category < 3 and isinstance(alpha, (complex, np.complexfloating)):
        raise RuntimeError(
            f"For non-complex input tensors, argument alpha must not be a complex number (alpha={alpha})."
        )
    other = mul(other, alpha)
    if isinstance(other, Tensor) and other.dtype is not d:
        other = other.to(d)
    return other


def _low_alpha(input, other, alpha, subtract=False):
    """``input + alpha * other`` (``-`` with ``subtract``) when the result is float16 or bfloat16,
    else None. PyTorch rounds alpha (and a number ``other``) to that dtype, then computes the
    sum in float32, rounded once: here the product is kept in float32 and the sum cast back."""
    if not all(isinstance(v, (Tensor, int, float)) for v in (input, other)) or isinstance(alpha, (bool, complex)):
        return None
    d = _dtype.result_type(input, other)
    if d not in (_dtype.float16, _dtype.bfloat16) or not isinstance(alpha, (int, float, np.integer, np.floating)):
        return None
    f32 = _dtype.float32
    a = float(d.np.type(alpha))
    y = other.to(f32) if isinstance(other, Tensor) else float(d.np.type(other))
    x = input.to(f32) if isinstance(input, Tensor) else input
    return (sub(x, mul(y, a)) if subtract else add(x, mul(y, a))).to(d)


def add(input, other, *deprecated, alpha=1):
    """input + alpha * other (also PyTorch's deprecated ``add(input, alpha, other)``)"""
    if deprecated:
        other, alpha = _alpha_first("add", other, deprecated, alpha)
    if alpha is True or alpha != 1:
        r = _low_alpha(input, other, alpha)
        if r is not None:
            return r
        other = _times_alpha(input, other, alpha)
    if _fast_scalar(input, other):
        return apply(ADD_SCALAR, (input,), (other,))
    if _fast_scalar(other, input):
        return apply(ADD_SCALAR, (other,), (input,))
    if _numpy_scalar(input, other):
        return add(_python(input), _python(other))
    try:
        x, y = _operands(input, other)
    except TypeError as e:  # a sparse operand, or no tensor at all
        return _sparse_operand("add", input, other, e)
    return apply(ADD, (x, y))


def sub(input, other, *deprecated, alpha=1):
    """input - alpha * other (also PyTorch's deprecated ``sub(input, alpha, other)``)"""
    if deprecated:
        other, alpha = _alpha_first("sub", other, deprecated, alpha)
    if (isinstance(input, Tensor) and input._data.dtype.kind == "b") or (
        isinstance(other, Tensor) and other._data.dtype.kind == "b"
    ):
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert "
            "a mask, use the `~` or `logical_not()` operator instead."
        )
    if alpha is True or alpha != 1:
        r = _low_alpha(input, other, alpha, subtract=True)
        if r is not None:
            return r
        other = _times_alpha(input, other, alpha)
    if _fast_scalar(input, other):
        return apply(SUB_SCALAR, (input,), (other,))
    if _fast_scalar(other, input):
        return apply(RSUB_SCALAR, (other,), (input,))
    if _numpy_scalar(input, other):
        return sub(_python(input), _python(other))
    try:
        x, y = _operands(input, other)
    except TypeError as e:  # a sparse operand, or no tensor at all
        return _sparse_operand("sub", input, other, e)
    return apply(SUB, (x, y))


subtract = sub


def rsub(input, other, *, alpha=1):
    return sub(other, input, alpha=alpha)


def mul(input, other):
    if _fast_scalar(input, other):
        return apply(MUL_SCALAR, (input,), (other,))
    if _fast_scalar(other, input):
        return apply(MUL_SCALAR, (other,), (input,))
    if _numpy_scalar(input, other):
        return mul(_python(input), _python(other))
    try:
        x, y = _operands(input, other)
    except TypeError as e:  # a sparse operand, or no tensor at all
        return _sparse_operand("mul", input, other, e)
    return apply(MUL, (x, y))


multiply = mul


def div(input, other, *, rounding_mode=None):
    """True division (integer inputs give the default float dtype), or floor/trunc rounding."""
    if rounding_mode is None:
        if _fast_scalar(input, other):
            return apply(DIV_SCALAR, (input,), (other,))
        if _fast_scalar(other, input):
            if other._data.itemsize < 4:
                # float16, bfloat16: PyTorch rounds 1 / x to the dtype, then multiplies by the
                # number in float32 (see mul)
                return mul(reciprocal(other), input)
            return apply(RDIV_SCALAR, (other,), (input,))
        if _numpy_scalar(input, other):
            return div(_python(input), _python(other))
        try:
            x, y = _float_operands(input, other)
        except TypeError as e:  # a sparse operand, or no tensor at all
            return _sparse_operand("div", input, other, e)
        return apply(DIV, (x, y))
    if rounding_mode == "trunc":
        if _fast_scalar(input, other):  # float tensor / number: the number kept in opmath
            return apply(DIV_TRUNC_SCALAR, (input,), (other,))
        if _is_float(input, other):
            return apply(DIV_TRUNC, _tensor_pair(input, other))
        return _int_div(input, other, "trunc")
    if rounding_mode == "floor":
        x, y = _operands(input, other)
        return apply(DIV_FLOOR, (x, y))
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")


divide = true_divide = div


def _is_float(*xs):
    return builtins.any((isinstance(v, Tensor) and v._data.dtype.kind in "fV") or isinstance(v, float) for v in xs)


def _int_div(x, y, mode):
    x, y = _operands(x, y)
    a = x._data if isinstance(x, Tensor) else x
    b = y._data if isinstance(y, Tensor) else y
    _check_int_divisor("div", np, a, b)
    q = np.trunc(np.true_divide(a, b)) if mode == "trunc" else a // b
    ref = x if isinstance(x, Tensor) else y
    return Tensor._make(q.astype(ref._data.dtype), None, False)


def _is_int(v):
    d = getattr(v, "dtype", None)
    return d.kind in "iub" if d is not None else type(v) is not float


def _check_int_divisor(name, xp, x, y):
    """Integer division by zero is an error in PyTorch (NumPy would give 0 and a warning)."""
    if _is_int(y) and _is_int(x) and not xp.all(y):
        raise RuntimeError(
            f"ZeroDivisionError: integer {name} by zero (dividend of shape "
            f"{list(xp.shape(x))}, divisor of shape {list(xp.shape(y))})"
        )


def _floor_divide(xp, x, y):
    _check_int_divisor("floor_divide", xp, x, y)
    return x // y


def _floor_divide_vjp(g, needs):
    # as PyTorch: the result is recorded, but it has no derivative
    raise RuntimeError(
        "derivative for floor_divide is not implemented (the result is piecewise constant "
        "in both inputs; use div(..., rounding_mode='floor') on detached inputs, or trunc/floor)"
    )


FLOOR_DIVIDE = Op("floor_divide", _floor_divide, _floor_divide_vjp, jvp=ELEMENTWISE, needs=True, scalars=OPMATH)


def _div_floor_vjp(g, needs):
    # div(..., rounding_mode='floor') is piecewise constant: PyTorch gives both inputs zero
    # gradients (zeros whatever ``g`` holds), where floor_divide has no derivative at all
    zero = g.new_zeros(g.shape)
    return (zero if needs[0] else None), (zero if needs[1] else None)


# float tensor / number, rounded toward zero: one op, so that float16 and bfloat16 round once
# (the quotient's trunc in float32), as PyTorch does when the divisor is a number
DIV_TRUNC_SCALAR = Op(
    "div",
    lambda xp, x, s: xp.trunc(x / s),
    lambda g, s: g.new_zeros(g.shape),
    jvp=ELEMENTWISE,
    node_name="DivBackward2",
    scalars=OPMATH,
)
DIV_FLOOR = Op(
    "div", _floor_divide, _div_floor_vjp, jvp=ELEMENTWISE, needs=True, node_name="DivBackward2", scalars=OPMATH
)


def _div_trunc(xp, x, y):
    return xp.trunc(x / y)


def _div_trunc_vjp(g, needs):
    # piecewise constant: a zero gradient for both operands, as PyTorch defines it (zeros,
    # whatever ``g`` holds)
    zero = g.new_zeros(g.shape)
    return (zero if needs[0] else None), (zero if needs[1] else None)


# float tensor / tensor, rounded toward zero (floor division of either kind is DIV_FLOOR)
DIV_TRUNC = Op("div", _div_trunc, _div_trunc_vjp, jvp=ELEMENTWISE, needs=True, node_name="DivBackward2")


def floor_divide(input, other):
    x, y = _operands(input, other)
    return apply(FLOOR_DIVIDE, (x, y))


def _remainder(xp, x, y):
    _check_int_divisor("remainder", xp, x, y)
    r = xp.remainder(x, y)
    if r.dtype.kind == "f":
        # PyTorch's float remainder is fmod's, moved by y where the signs differ: a zero keeps
        # the sign of x (NumPy gives it y's: remainder(-6.5, 3.25) is -0.0, not 0.0)
        r = xp.where(r == 0, xp.copysign(r, x), r)
    return r


def _remainder_vjp(g, needs, x, y):
    # x mod y = x - floor(x / y) * y
    return (g if needs[0] else None), (-g * floor_divide(x, y) if needs[1] else None)


REMAINDER = Op("remainder", _remainder, _remainder_vjp, jvp=ELEMENTWISE, save=("x", "y"), needs=True, scalars=ROUND)


def remainder(input, other):
    x, y = _operands(input, other)
    return apply(REMAINDER, (x, y))


def _fmod(xp, x, y):
    _check_int_divisor("fmod", xp, x, y)
    return xp.fmod(x, y)


def _fmod_vjp(g, needs, x, y):
    return (g if needs[0] else None), (-g * trunc(x / y) if needs[1] else None)


FMOD = Op("fmod", _fmod, _fmod_vjp, jvp=ELEMENTWISE, save=("x", "y"), needs=True, scalars=ROUND)


def fmod(input, other):
    x, y = _operands(input, other)
    return apply(FMOD, (x, y))


def pow(input, exponent):
    """input ** exponent; a negative integer exponent of an integer tensor is an error, as in PyTorch."""
    if _fast_scalar(input, exponent):
        return apply(POW_SCALAR, (input,), (exponent,))
    if _fast_scalar(exponent, input):
        return apply(RPOW_SCALAR, (exponent,), (input,))
    if _numpy_scalar(input, exponent):
        return pow(_python(input), _python(exponent))
    x, y = _operands(input, exponent)
    if isinstance(x, Tensor) and x._data.dtype.kind in "iu" and isinstance(y, int) and y < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if not isinstance(x, Tensor) and isinstance(y, Tensor) and y._data.dtype.kind in "iu":
        # 2 ** an int32 tensor is int32, as in PyTorch (the base wraps into that dtype)
        from .._creation import tensor

        x = tensor(np.asarray(x).astype(y._data.dtype), device=y.device)
    return apply(POW, (x, y))


def float_power(input, exponent):
    """input ** exponent in double precision: float64, or complex128 if either is complex."""

    def is_complex(v):
        return v._data.dtype.kind == "c" if isinstance(v, Tensor) else isinstance(v, (complex, np.complexfloating))

    if is_complex(input) or is_complex(exponent):
        x = input.to(_dtype.complex128) if isinstance(input, Tensor) else builtins.complex(input)
        y = exponent.to(_dtype.complex128) if isinstance(exponent, Tensor) else builtins.complex(exponent)
        return pow(x, y)
    x = input.to(_dtype.float64) if isinstance(input, Tensor) else float(input)
    y = exponent.to(_dtype.float64) if isinstance(exponent, Tensor) else float(exponent)
    return pow(x, y) if isinstance(x, Tensor) else pow(x, y)


# --------------------------------------------------------------------------- unary maths
def _neg(xp, x):
    if x.dtype.kind == "b":
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    return -x


NEG = Op("neg", _neg, lambda g: -g, jvp=ELEMENTWISE)


def neg(input):
    return apply(NEG, (input,))


negative = neg


def _abs(xp, x):
    return xp.abs(x)


ABS = Op("abs", _abs, lambda g, x: g * sign(x), jvp=ELEMENTWISE, save=("x",))


def abs(input):
    if input._data.dtype.kind == "c":
        from .complex import abs as complex_abs  # complex.py builds on this module

        return complex_abs(input)
    _refuse_kinds("abs", input, "b")
    return apply(ABS, (input,))


absolute = abs


def _sign(xp, x):
    return xp.sign(x)


SIGN = Op("sign", _sign, lambda g: g * 0, jvp=ELEMENTWISE)


def sign(input):
    if input._data.dtype.kind == "c":
        raise RuntimeError(
            f"Unlike NumPy, torch.sign is not intended to support complex numbers. Please "
            f"use torch.sgn instead (input of shape {list(input._data.shape)})."
        )
    if input._data.dtype.kind == "b":  # the sign of a bool is itself
        return input.clone()
    return apply(SIGN, (input,))


def sgn(input):
    """sign(x) for real tensors; z / |z| (0 at 0) for complex ones."""
    if input._data.dtype.kind == "c":
        from .complex import sgn as complex_sgn  # complex.py builds on this module

        return complex_sgn(input)
    return sign(input)


# Fused backward ops. The backward of the most used unary ops is one op of its own rather than
# two or three elementwise ops: one pass over memory and one Python-level op instead of three
# (measured: the chain-of-small-ops benchmark is bound by per-op overhead). Each has its own
# differentiable backward, so create_graph still works through them.
def _tanh_bwd(xp, g, out):
    return g * (1 - out * out)


def _tanh_bwd_vjp(gg, needs, g, out):
    # d/dg = 1 - out^2 ; d/dout = -2 g out
    return (tanh_backward(gg, out) if needs[0] else None), (gg * g * out * -2 if needs[1] else None)


TANH_BACKWARD = Op("tanh_backward", _tanh_bwd, _tanh_bwd_vjp, jvp=ELEMENTWISE, save=("x", "y"), needs=True)


def tanh_backward(g, out):
    return apply(TANH_BACKWARD, (g, out))


def _sigmoid_bwd(xp, g, out):
    return g * out * (1 - out)


def _sigmoid_bwd_vjp(gg, needs, g, out):
    # d/dg = out (1 - out) ; d/dout = g (1 - 2 out)
    return ((sigmoid_backward(gg, out) if needs[0] else None), (gg * g * (1 - out * 2) if needs[1] else None))


SIGMOID_BACKWARD = Op("sigmoid_backward", _sigmoid_bwd, _sigmoid_bwd_vjp, jvp=ELEMENTWISE, save=("x", "y"), needs=True)


def sigmoid_backward(g, out):
    return apply(SIGMOID_BACKWARD, (g, out))


def _sin_bwd(xp, g, x):
    return g * xp.cos(x)


def _sin_bwd_vjp(gg, needs, g, x):
    # d/dg = cos x ; d/dx = -g sin x
    return (sin_backward(gg, x) if needs[0] else None), (cos_backward(gg * g, x) if needs[1] else None)


def _cos_bwd(xp, g, x):
    return -g * xp.sin(x)


def _cos_bwd_vjp(gg, needs, g, x):
    # d/dg = -sin x ; d/dx = -g cos x
    return (cos_backward(gg, x) if needs[0] else None), (-sin_backward(gg * g, x) if needs[1] else None)


SIN_BACKWARD = Op("sin_backward", _sin_bwd, _sin_bwd_vjp, jvp=ELEMENTWISE, save=("x", "y"), needs=True)
COS_BACKWARD = Op("cos_backward", _cos_bwd, _cos_bwd_vjp, jvp=ELEMENTWISE, save=("x", "y"), needs=True)


def sin_backward(g, x):
    """g * cos(x)"""
    return apply(SIN_BACKWARD, (g, x))


def cos_backward(g, x):
    """-g * sin(x)"""
    return apply(COS_BACKWARD, (g, x))


def _threshold_bwd(xp, g, out):
    if xp is np and g.size >= 2 * BLOCK and g.dtype.kind == "f" and g.dtype == out.dtype:
        if g.shape == out.shape and g.flags.c_contiguous and out.flags.c_contiguous:
            return _masked_bits(g, out)
    # g times a mask in g's dtype (a multiply by a boolean mask casts on the fly, about 1.5x
    # slower; NumPy's where is about 20x slower); where g is not finite, inf * 0 would give
    # nan, so fall back to the exact select only then. As PyTorch's, the mask is "not
    # out <= 0": a NaN output passes its gradient on.
    keep = ~(out <= 0)  # a NumPy bool for 0-d arrays
    r = keep.astype(g.dtype)
    if r.shape == g.shape:
        r *= g
    else:
        r = r * g
    if not xp.isfinite(r).all():
        r = xp.where(keep, g, xp.zeros((), g.dtype))
    return r


def _masked_bits(g, out):
    """g where not out <= 0, else +0, for large equal-shaped C-contiguous float arrays: g's bits
    ANDed with an all-ones or all-zeros word per element (exact, NaN and inf kept), in
    cache-sized blocks. NumPy's where runs a branch per element, which mispredicts on a ReLU's
    mask: 2.0 ms for 2.4M float32 values against 1.35 ms here (the multiply-by-mask form above:
    2.0 ms)."""
    bits = np.dtype(f"u{g.itemsize}")
    ones = bits.type(np.iinfo(bits).max)
    r = np.empty(g.shape, bits)
    rf, gf, of = r.reshape(-1), g.reshape(-1).view(bits), out.reshape(-1)
    m = np.empty(BLOCK, np.bool_)
    for i, j in block_bounds(rf.size):
        mb = m[: j - i]
        np.less_equal(of[i:j], 0, out=mb)
        np.logical_not(mb, out=mb)
        np.multiply(mb.view(np.uint8), ones, out=rf[i:j], dtype=bits)
        rf[i:j] &= gf[i:j]
    return r.view(g.dtype)


def _threshold_bwd_vjp(gg, needs, out):
    # piecewise linear in g with a mask that does not change under small moves of out
    return (relu_backward(gg, out) if needs[0] else None), None


THRESHOLD_BACKWARD = Op(
    "threshold_backward", _threshold_bwd, _threshold_bwd_vjp, jvp=ELEMENTWISE, save=("y",), needs=True
)


def relu_backward(g, out):
    """g where out > 0 or out is NaN, else 0 (PyTorch's threshold_backward: 0 where out <= 0)"""
    return apply(THRESHOLD_BACKWARD, (g, out))


EXP = Op("exp", lambda xp, x: xp.exp(x), lambda g, out: g * out, jvp=ELEMENTWISE, save=("out",))
EXP2 = Op("exp2", lambda xp, x: xp.exp2(x), lambda g, out: g * out * 0.6931471805599453, jvp=ELEMENTWISE, save=("out",))
LOG = Op("log", lambda xp, x: xp.log(x), lambda g, x: g / x, jvp=ELEMENTWISE, save=("x",))
LOG2 = Op("log2", lambda xp, x: xp.log2(x), lambda g, x: g / (x * 0.6931471805599453), jvp=ELEMENTWISE, save=("x",))
LOG10 = Op("log10", lambda xp, x: xp.log10(x), lambda g, x: g / (x * 2.302585092994046), jvp=ELEMENTWISE, save=("x",))
LOG1P = Op("log1p", lambda xp, x: xp.log1p(x), lambda g, x: g / (x + 1), jvp=ELEMENTWISE, save=("x",))
EXPM1 = Op("expm1", lambda xp, x: xp.expm1(x), lambda g, out: g * (out + 1), jvp=ELEMENTWISE, save=("out",))
SQRT = Op("sqrt", lambda xp, x: xp.sqrt(x), lambda g, out: g / (out * 2), jvp=ELEMENTWISE, save=("out",))
RSQRT = Op("rsqrt", lambda xp, x: 1 / xp.sqrt(x), lambda g, out: g * out**3 * -0.5, jvp=ELEMENTWISE, save=("out",))
SIN = Op("sin", lambda xp, x: xp.sin(x), sin_backward, jvp=ELEMENTWISE, save=("x",))
COS = Op("cos", lambda xp, x: xp.cos(x), cos_backward, jvp=ELEMENTWISE, save=("x",))
TAN = Op("tan", lambda xp, x: xp.tan(x), lambda g, out: g * (out * out + 1), jvp=ELEMENTWISE, save=("out",))
ASIN = Op("asin", lambda xp, x: xp.arcsin(x), lambda g, x: g * rsqrt(1 - x * x), jvp=ELEMENTWISE, save=("x",))
ACOS = Op("acos", lambda xp, x: xp.arccos(x), lambda g, x: -g * rsqrt(1 - x * x), jvp=ELEMENTWISE, save=("x",))
ATAN = Op("atan", lambda xp, x: xp.arctan(x), lambda g, x: g / (x * x + 1), jvp=ELEMENTWISE, save=("x",))
SINH = Op("sinh", lambda xp, x: xp.sinh(x), lambda g, x: g * cosh(x), jvp=ELEMENTWISE, save=("x",))
COSH = Op("cosh", lambda xp, x: xp.cosh(x), lambda g, x: g * sinh(x), jvp=ELEMENTWISE, save=("x",))
TANH = Op("tanh", lambda xp, x: xp.tanh(x), tanh_backward, jvp=ELEMENTWISE, save=("out",))
RECIPROCAL = Op("reciprocal", lambda xp, x: 1 / x, lambda g, out: -g * out * out, jvp=ELEMENTWISE, save=("out",))
SQUARE = Op(
    "square", lambda xp, x: x * x, lambda g, x: g * x * 2, jvp=ELEMENTWISE, save=("x",), node_name="PowBackward0"
)


def _sigmoid(xp, x):
    # 1 / (1 + e^-x): for very negative x, e^-x overflows to inf and the result is the correct
    # 0 (only NumPy's overflow warning is silenced). Branch-free: a select on the sign of x was
    # 20x slower here.
    if xp is np:
        with np.errstate(over="ignore"):
            return 1 / (1 + np.exp(-x))
    return 1 / (1 + xp.exp(-x))


SIGMOID = Op("sigmoid", _sigmoid, sigmoid_backward, jvp=ELEMENTWISE, save=("out",))


@functools.lru_cache(maxsize=None)
def _zero_row(dtype):
    row = np.zeros(_ROW, dtype)
    row.flags.writeable = False
    return row


_ROW = 1024


def _relu(xp, x):
    # NumPy's maximum against a scalar runs an unvectorized loop, 2.5x slower than against a
    # row of zeros broadcast over rows of the same length
    if xp is np and x.dtype.kind in "fV" and x.size and not x.size % _ROW and x.flags.c_contiguous:
        return np.maximum(x.reshape(-1, _ROW), _zero_row(x.dtype)).reshape(x.shape)
    return xp.maximum(x, 0)


RELU = Op("relu", _relu, relu_backward, jvp=ELEMENTWISE, save=("out",))


def exp(input):
    """e^x; saves the output (d/dx = e^x)."""
    return apply(EXP, (_float_input(input),))


def exp2(input):
    return apply(EXP2, (_float_input(input),))


def log(input):
    """Natural log; saves the input (d/dx = 1/x)."""
    return apply(LOG, (_float_input(input),))


def log2(input):
    return apply(LOG2, (_float_input(input),))


def log10(input):
    return apply(LOG10, (_float_input(input),))


def log1p(input):
    return apply(LOG1P, (_float_input(input),))


def expm1(input):
    return apply(EXPM1, (_float_input(input),))


def sqrt(input):
    """Square root; saves the output (d/dx = 1 / (2 sqrt x))."""
    return apply(SQRT, (_float_input(input),))


def rsqrt(input):
    """1 / sqrt(x); saves the output (d/dx = -out^3 / 2)."""
    return apply(RSQRT, (_float_input(input),))


def sin(input):
    return apply(SIN, (_float_input(input),))


def cos(input):
    return apply(COS, (_float_input(input),))


def tan(input):
    return apply(TAN, (_float_input(input),))


def asin(input):
    return apply(ASIN, (_float_input(input),))


def acos(input):
    return apply(ACOS, (_float_input(input),))


def atan(input):
    return apply(ATAN, (_float_input(input),))


arcsin, arccos, arctan = asin, acos, atan


def sinh(input):
    return apply(SINH, (_float_input(input),))


def cosh(input):
    return apply(COSH, (_float_input(input),))


def tanh(input):
    """Hyperbolic tangent; saves the output (d/dx = 1 - out^2)."""
    return apply(TANH, (_float_input(input),))


def sigmoid(input):
    """1 / (1 + e^-x); saves the output (d/dx = out (1 - out))."""
    return apply(SIGMOID, (_float_input(input),))


def reciprocal(input):
    return apply(RECIPROCAL, (_float_input(input),))


def square(input):
    if input._data.dtype.kind == "b":  # pow(bool, 2) is int64 in PyTorch
        input = input.to(_dtype.int64)
    return apply(SQUARE, (input,))


def relu(input):
    """max(x, 0); saves the output (the gradient passes where out > 0)."""
    _refuse_complex("relu", input)
    if input._data.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    return apply(RELU, (input,))


def _atan2(xp, y, x):
    return xp.arctan2(y, x)


def _atan2_vjp(g, needs, y, x):
    # d atan2(y, x) = (x dy - y dx) / (x^2 + y^2)
    r = x * x + y * y
    return (g * x / r if needs[0] else None), (-g * y / r if needs[1] else None)


ATAN2 = Op("atan2", _atan2, _atan2_vjp, jvp=ELEMENTWISE, save=("x", "y"), needs=True)


def atan2(input, other):
    x, y = _float_operands(input, other)
    return apply(ATAN2, (x, y))


arctan2 = atan2

# Rounding: piecewise constant, gradient zero everywhere (as PyTorch defines it).
FLOOR = Op("floor", lambda xp, x: xp.floor(x), lambda g: g * 0, jvp=ELEMENTWISE)
CEIL = Op("ceil", lambda xp, x: xp.ceil(x), lambda g: g * 0, jvp=ELEMENTWISE)
TRUNC = Op("trunc", lambda xp, x: xp.trunc(x), lambda g: g * 0, jvp=ELEMENTWISE)
ROUND = Op("round", lambda xp, x, decimals: xp.round(x, decimals), lambda g, decimals: g * 0, jvp=ELEMENTWISE)
FRAC = Op("frac", lambda xp, x: x - xp.trunc(x), lambda g: g, jvp=ELEMENTWISE)


def _refuse_kinds(name, input, kinds):
    """PyTorch's kernel for ``name`` has no version for these dtype kinds ("b": bool, "iu": ints)."""
    if input._data.dtype.kind in kinds:
        raise NotImplementedError(f'"{name}" not implemented for {input.dtype}')


def floor(input):
    _refuse_kinds("floor", input, "b")
    return input if input._data.dtype.kind in "iub" else apply(FLOOR, (input,))


def ceil(input):
    _refuse_kinds("ceil", input, "b")
    return input if input._data.dtype.kind in "iub" else apply(CEIL, (input,))


def trunc(input):
    _refuse_kinds("trunc", input, "b")
    return input if input._data.dtype.kind in "iub" else apply(TRUNC, (input,))


fix = trunc


def round(input, *, decimals=0):
    _refuse_complex("round", input)
    _refuse_kinds("round", input, "b" if decimals == 0 else "biu")
    return input if input._data.dtype.kind in "iub" else apply(ROUND, (input,), (decimals,))


def frac(input):
    _refuse_kinds("frac", input, "biu")
    return apply(FRAC, (input,))


# --------------------------------------------------------------------------- clamp, max/min, where
def _clamp(xp, x, lo, hi):
    return xp.clip(x, lo, hi)


def _clamp_vjp(g, x, lo, hi):
    # gradient flows where lo <= x <= hi
    if lo is None:
        return g * (x <= hi)
    if hi is None:
        return g * (x >= lo)
    return g * logical_and(x >= lo, x <= hi)


CLAMP = Op("clamp", _clamp, _clamp_vjp, jvp=ELEMENTWISE, save=("x",))


def clamp(input, min=None, max=None):
    """Clamp into [min, max]; bounds may be numbers or tensors (then the gradient reaches them)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    _refuse_complex("clamp", input, min, max)
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out_t = input
        if min is not None:
            out_t = maximum(out_t, min if isinstance(min, Tensor) else _like_scalar(out_t, min))
        if max is not None:
            out_t = minimum(out_t, max if isinstance(max, Tensor) else _like_scalar(out_t, max))
        return out_t
    if input._data.dtype.kind not in "fV" and (isinstance(min, float) or isinstance(max, float)):
        input = input.to(_dtype.get_default_dtype())
    return apply(CLAMP, (input,), (min, max))


clip = clamp


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)


def _like_scalar(t, v):
    from .._creation import tensor

    return tensor(v, dtype=t.dtype, device=t.device)


def _maximum(xp, x, y):
    return xp.maximum(x, y)


def _maximum_vjp(g, needs, x, y):
    # ties share the gradient equally, as in PyTorch; where either is NaN (neither wins) both get it
    return _minmax_grads(g, needs, x < y, x > y, x == y)


def _minimum(xp, x, y):
    return xp.minimum(x, y)


def _minimum_vjp(g, needs, x, y):
    return _minmax_grads(g, needs, x > y, x < y, x == y)


def _minmax_grads(g, needs, x_loses, y_loses, tie):
    # PyTorch's rule: g (halved at a tie) to each operand that does not lose
    share = where(tie, 0.5, 1.0).to(g.dtype)
    gx = g * (share * logical_not(x_loses)) if needs[0] else None
    gy = g * (share * logical_not(y_loses)) if needs[1] else None
    return gx, gy


MAXIMUM = Op("maximum", _maximum, _maximum_vjp, jvp=ELEMENTWISE, save=("x", "y"), needs=True)
MINIMUM = Op("minimum", _minimum, _minimum_vjp, jvp=ELEMENTWISE, save=("x", "y"), needs=True)


def maximum(input, other):
    _refuse_complex("maximum", input, other, error=RuntimeError)
    x, y = _operands(input, other)
    return apply(MAXIMUM, (x, y))


def minimum(input, other):
    _refuse_complex("minimum", input, other, error=RuntimeError)
    x, y = _operands(input, other)
    return apply(MINIMUM, (x, y))


def _where(xp, x, y, cond):
    return xp.where(cond._data, x, y)


def _where_vjp(g, needs, cond):
    zero = g * 0
    return (where(cond, g, zero) if needs[0] else None), (where(cond, zero, g) if needs[1] else None)


WHERE = Op("where", _where, _where_vjp, jvp=ELEMENTWISE, needs=True)


def where(condition, input=None, other=None):
    """Pick ``input`` where ``condition`` holds, else ``other`` (both broadcast)."""
    if input is None and other is None:
        from .indexing import nonzero

        return nonzero(condition, as_tuple=True)
    if not isinstance(condition, Tensor):
        from .._creation import tensor

        condition = tensor(condition)
    if condition._data.dtype.kind != "b":
        if condition._data.dtype != np.uint8:  # PyTorch still takes uint8 masks
            raise RuntimeError(
                f"where expected condition to be a boolean tensor, but got a tensor with "
                f"dtype {condition.dtype} (shape {list(condition._data.shape)})"
            )
        condition = condition != 0
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        # two Python scalars: the result takes their promoted dtype (where(c, 1, 0.5) is float)
        from .._creation import tensor

        d = _dtype.result_type(_scalar(input), _scalar(other))
        input = tensor(input, dtype=d, device=condition.device)
    # a Python int against an integer tensor must fit its dtype (PyTorch raises, never wraps)
    if type(other) is int and isinstance(input, Tensor) and input._data.dtype.kind in "iu":
        other = _like_scalar(input, other)
    elif type(input) is int and isinstance(other, Tensor) and other._data.dtype.kind in "iu":
        input = _like_scalar(other, input)
    x, y = _operands(input, other)
    if not isinstance(x, Tensor):
        x = _like_scalar(y, x)
    if not isinstance(y, Tensor):
        y = _like_scalar(x, y)
    return apply(WHERE, (x, y), (condition,))


# --------------------------------------------------------------------------- composites
def lerp(input, end, weight):
    """input + weight * (end - input)"""
    return input + weight * (end - input)


def addcmul(input, tensor1, tensor2, *deprecated, value=1):
    """input + value * tensor1 * tensor2 (also PyTorch's deprecated ``addcmul(input, value,
    tensor1, tensor2)``)"""
    if deprecated:
        tensor1, tensor2, value = _value_first("addcmul", tensor1, tensor2, deprecated, value)
    return input + value * tensor1 * tensor2


def addcdiv(input, tensor1, tensor2, *deprecated, value=1):
    """input + value * tensor1 / tensor2 (also PyTorch's deprecated ``addcdiv(input, value,
    tensor1, tensor2)``)"""
    if deprecated:
        tensor1, tensor2, value = _value_first("addcdiv", tensor1, tensor2, deprecated, value)
    return input + value * tensor1 / tensor2


def _hypot_vjp(g, needs, x, y, out):
    # d hypot / dx = x / hypot (NaN at 0, as in PyTorch)
    return (g * x / out if needs[0] else None), (g * y / out if needs[1] else None)


# NumPy's hypot does not overflow where x^2 does (hypot(3e20, 4e20) in float32) and is inf
# wherever an operand is infinite, NaN included, as C's hypot and PyTorch
HYPOT = Op("hypot", lambda xp, x, y: xp.hypot(x, y), _hypot_vjp, jvp=ELEMENTWISE, save=("x", "y", "out"), needs=True)


def hypot(input, other):
    """sqrt(input^2 + other^2), in the operands' promoted floating dtype."""
    x, y = _tensor_pair(input, other)
    if x._data.dtype.kind not in "fV":
        raise NotImplementedError(f'"hypot_cpu" not implemented for {x.dtype} (hypot takes floating tensors)')
    return apply(HYPOT, (x, y))


def xlogy(input, other):
    """x * log(y), defined as 0 where x == 0 unless y is NaN (NaN wherever y is NaN)."""
    x, y = _float_operands(input, other)
    if not isinstance(x, Tensor):
        x = _like_scalar(y, x)
    if not isinstance(y, Tensor):
        y = _like_scalar(x, y)
    # log(y) is replaced only where x == 0 and y <= 0 (a 0 * -inf or 0 * nan): elsewhere the
    # gradient for x stays log(y), also at x == 0, as in PyTorch
    x0 = x == 0
    out = x * log(where(logical_and(x0, y <= 0), 1.0, y))
    return where(logical_and(x0, isinf(y)), 0.0, out)


# --------------------------------------------------------------------------- comparisons and logic
def _broadcasting(name, fn, a, b, **kwargs):
    """``fn(a, b)`` on arrays, with NumPy's broadcast ValueError raised as PyTorch's RuntimeError
    (ops that go through ``apply`` get this from it); recorded as a kernel of its own while a
    compiled function captures."""
    if _cap.active:
        kernel = functools.partial(fn, **kwargs) if kwargs else fn
        return _cap.recorder.call(_broadcasting, (name, kernel, a, b), name)
    try:
        return fn(a, b, **kwargs)
    except ValueError as e:
        err = broadcast_error(name, (a, b), e)
        if err is None:
            raise
        raise err from None


def _refuse_complex(name, *operands, error=NotImplementedError):
    """Ordering has no meaning for complex numbers: PyTorch refuses them where NumPy would
    compare lexicographically (real part, then imaginary)."""
    for v in operands:
        if isinstance(v, Tensor) and v._data.dtype.kind == "c":
            raise error(f"{name}: not implemented for complex tensors (got {v.dtype})")
        if isinstance(v, complex):
            raise error(f"{name}: not implemented for complex numbers (got {v})")


def _compare(ufunc_name):
    ordered = ufunc_name not in ("equal", "not_equal")

    def compare(input, other):
        if _vm.active and (type(input) is BatchedTensor or type(other) is BatchedTensor):
            return _vm.elementwise_call(compare, input, other)
        if ordered:
            _refuse_complex(ufunc_name, input, other)
        x, y = _operands(input, other)
        a = x._data if isinstance(x, Tensor) else x
        b = y._data if isinstance(y, Tensor) else y
        try:
            if _cap.active:
                return Tensor._make(_cap.recorder.call(ufunc, (a, b), ufunc_name), None, False)
            return Tensor._make(ufunc(a, b), None, False)
        except ValueError as e:
            err = broadcast_error(ufunc_name, (a, b), e)
            if err is None:
                raise
            raise err from None

    ufunc = getattr(np, ufunc_name)
    compare.__name__ = ufunc_name
    compare.__doc__ = f"Elementwise {ufunc_name} (a bool tensor; not differentiable)."
    return compare


eq = _compare("equal")
ne = _compare("not_equal")
lt = _compare("less")
le = _compare("less_equal")
gt = _compare("greater")
ge = _compare("greater_equal")
eq.__name__, ne.__name__, lt.__name__, le.__name__, gt.__name__, ge.__name__ = "eq", "ne", "lt", "le", "gt", "ge"
less, less_equal, greater, greater_equal, not_equal = lt, le, gt, ge, ne


def _bool_data(x):
    return x._data if isinstance(x, Tensor) else x


def _predicate(name, ufunc, input, other):
    """A Boolean (or bitwise) result of two operands, recorded as one kernel when compiling."""
    return Tensor._make(
        recorded(_broadcasting, name, ufunc, _bool_data(input), _bool_data(other), label=name), None, False
    )


def logical_and(input, other):
    return _predicate("logical_and", np.logical_and, input, other)


def logical_or(input, other):
    return _predicate("logical_or", np.logical_or, input, other)


def logical_xor(input, other):
    return _predicate("logical_xor", np.logical_xor, input, other)


def logical_not(input):
    return _no_grad_unary(np.logical_not, input)


def _bitwise(name):
    def f(input, other):
        x, y = _operands(input, other)
        ref = x if isinstance(x, Tensor) else y
        if ref._data.dtype.kind in "fV":
            raise NotImplementedError(f'"{name}" not implemented for floating-point tensors')
        return _predicate(name, getattr(np, name), x, y)

    f.__name__ = name
    return f


bitwise_and = _bitwise("bitwise_and")
bitwise_or = _bitwise("bitwise_or")
bitwise_xor = _bitwise("bitwise_xor")


def bitwise_not(input):
    if input._data.dtype.kind in "fV":
        raise NotImplementedError(
            f'"bitwise_not" not implemented for floating-point tensors (dtype '
            f"{input.dtype}, shape {list(input._data.shape)})"
        )
    return _no_grad_unary(np.invert, input)


def invert(input):
    """``~input``: bitwise not, which PyTorch's operator refuses on floats with a TypeError."""
    if input._data.dtype.kind in "fV":
        raise TypeError(
            f"~ (operator.invert) is only implemented on integer and Boolean-type tensors (got dtype {input.dtype})"
        )
    return bitwise_not(input)


def _no_grad_unary(fn, input):
    """``fn(input)`` on the array (a NumPy test such as ``isnan``, a logical or bitwise not),
    outside the graph; recorded as a kernel of its own while a compiled function captures (so
    ``if torch.isnan(loss)`` can be replayed)."""
    if _cap.active:
        return Tensor._make(_cap.recorder.call(fn, (input._data,), fn.__name__), None, False)
    return Tensor._make(fn(input._data), None, False)


def isnan(input):
    return _no_grad_unary(np.isnan, input)


def isinf(input):
    return _no_grad_unary(np.isinf, input)


def isfinite(input):
    return _no_grad_unary(np.isfinite, input)


def isposinf(input):
    return _no_grad_unary(np.isposinf, input)


def isneginf(input):
    return _no_grad_unary(np.isneginf, input)


def _nan_to_num(a, nan, posinf, neginf):
    return np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """Replace NaN/inf; the gradient passes through unchanged where the value was finite."""
    finite = isfinite(input)
    filled = recorded(_nan_to_num, input._data, nan, posinf, neginf, label="nan_to_num")
    return where(finite, input, Tensor._make(filled, None, False))


def _isclose(a, b, rtol, atol, equal_nan):
    return _broadcasting("isclose", np.isclose, a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return Tensor._make(
        recorded(_isclose, input._data, _bool_data(other), rtol, atol, equal_nan, label="isclose"), None, False
    )


def _allclose_array(a, b, rtol, atol, equal_nan):
    return np.asarray(_broadcasting("allclose", np.allclose, a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def _equal_array(a, b):
    return np.asarray(bool((a == b).all()))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    if _cap.active:  # Python reads the result: a graph break on a recorded value
        args = (input._data, _bool_data(other), rtol, atol, equal_nan)
        return bool(Tensor._make(_cap.recorder.call(_allclose_array, args, "allclose"), None, False))
    return bool(
        _broadcasting(
            "allclose", np.allclose, input._data, _bool_data(other), rtol=rtol, atol=atol, equal_nan=equal_nan
        )
    )


def equal(input, other):
    if input._data.shape != other._data.shape:
        return False
    if _cap.active:  # Python reads the result: a graph break on a recorded value
        return bool(Tensor._make(_cap.recorder.call(_equal_array, (input._data, other._data), "equal"), None, False))
    return bool((input._data == other._data).all())


def tensor_where(self, condition, other):
    """``Tensor.where(condition, other)``: self where ``condition`` holds, else ``other``."""
    return where(condition, self, other)


# --------------------------------------------------------------------------- in-place forms with a fast path
# (NumPy's in-place ufunc when nothing is recorded) or a check of their own; the others are derived
def _add_sparse_(self, other, alpha):
    """``self += alpha * other`` for a sparse ``other``: only its rows are written."""
    if _recording(self, (other,)) or self._data.dtype.kind not in "fV":
        dense = other.to_dense()
        return apply_inplace(self, "add", add, dense if alpha == 1 else dense * alpha)
    from ..sparse import add_into

    add_into(self._data, other, None if alpha == 1 else alpha)
    _bump(self)
    return self


def _plain_float(t):
    """Whether ``t`` is float32 or float64, which NumPy's in-place ufuncs compute as PyTorch does;
    float16 and bfloat16 read a number operand by the op's rule (see add, mul) and go through
    the functional op."""
    a = t._data
    return a.itemsize >= 4 and a.dtype.kind == "f"


def add_(self, other, *deprecated, alpha=1):
    if deprecated:
        other, alpha = _alpha_first("add_", other, deprecated, alpha)
    if getattr(other, "is_sparse", False):
        return _add_sparse_(self, other, alpha)
    if not _plain_float(self):
        return apply_inplace(self, "add", add, other, alpha=alpha)
    if alpha != 1:
        other = other * alpha
    if not _recording(self, (other,)):
        return _ufunc_inplace(self, np.add, other, "add")
    return apply_inplace(self, "add", add, other)


def sub_(self, other, *deprecated, alpha=1):
    if deprecated:
        other, alpha = _alpha_first("sub_", other, deprecated, alpha)
    if getattr(other, "is_sparse", False):
        return _add_sparse_(self, other, -alpha)
    if not _plain_float(self):
        return apply_inplace(self, "sub", sub, other, alpha=alpha)
    if alpha != 1:
        other = other * alpha
    if not _recording(self, (other,)):
        return _ufunc_inplace(self, np.subtract, other, "sub")
    return apply_inplace(self, "sub", sub, other)


def mul_(self, other):
    if _plain_float(self) and not _recording(self, (other,)):
        return _ufunc_inplace(self, np.multiply, other, "mul")
    return apply_inplace(self, "mul", mul, other)


def div_(self, other, *, rounding_mode=None):
    if rounding_mode is None and _plain_float(self) and not _recording(self, (other,)):
        return _ufunc_inplace(self, np.true_divide, other, "div")
    return apply_inplace(self, "div", div, other, rounding_mode=rounding_mode)


def float_power_(self, exponent):
    """In-place float_power: the result is float64, so ``self`` must be float64 already."""
    if self._data.dtype != np.float64:
        raise RuntimeError(
            f"the base given to float_power_ has dtype {self.dtype} but the "
            f"operation's result requires dtype {_dtype.float64}"
        )
    return apply_inplace(self, "float_power", float_power, exponent)


# --------------------------------------------------------------------------- fmax, fmin (ignore NaN)
def _fmax_vjp(g, needs, x, y):
    return _pick_grads(g, needs, (x >= y).logical_or(y.isnan()))


def _fmin_vjp(g, needs, x, y):
    return _pick_grads(g, needs, (x <= y).logical_or(y.isnan()))


def _pick_grads(g, needs, x_wins):
    zero = g.new_zeros(())
    return (where(x_wins, g, zero) if needs[0] else None), (where(x_wins, zero, g) if needs[1] else None)


FMAX = Op("fmax", lambda xp, x, y: xp.fmax(x, y), _fmax_vjp, jvp=ELEMENTWISE, save=("x", "y"), needs=True)


FMIN = Op("fmin", lambda xp, x, y: xp.fmin(x, y), _fmin_vjp, jvp=ELEMENTWISE, save=("x", "y"), needs=True)


def _two_tensors(name, input, other):
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        bad = other if isinstance(input, Tensor) else input
        raise TypeError(
            f"{name}(): argument '{'other' if isinstance(input, Tensor) else 'input'}' "
            f"must be Tensor, not {type(bad).__name__}"
        )
    return _operands(input, other)


def fmax(input, other):
    """Elementwise maximum that ignores NaN: NaN only where both inputs are NaN (NumPy's fmax)."""
    _refuse_complex("fmax", input, other, error=RuntimeError)
    return apply(FMAX, _two_tensors("fmax", input, other))


def fmin(input, other):
    """Elementwise minimum that ignores NaN: NaN only where both inputs are NaN (NumPy's fmin)."""
    _refuse_complex("fmin", input, other, error=RuntimeError)
    return apply(FMIN, _two_tensors("fmin", input, other))


# --------------------------------------------------------------------------- shared operand helpers
def _const(array):
    """A result outside the graph (the op is not differentiable)."""
    return Tensor._make(array, None, False)


def _tensor_pair(input, other):
    """Promoted operands, both Tensors (a Python number becomes a tensor like the other)."""
    x, y = _operands(input, other)
    if not isinstance(x, Tensor):
        x = _like_scalar(y, x)
    if not isinstance(y, Tensor):
        y = _like_scalar(x, y)
    return x, y


def _float_pair(input, other):
    """Promoted operands of a floating op, both Tensors: integral ones in the default float
    dtype (see _float_operands), complex ones kept complex."""
    return _tensor_pair(*_float_operands(input, other))


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(add, method=True, inplace=add_, out=True)
declare(sub, aliases=("subtract",), method=True, inplace=sub_, out=True)
declare(rsub)
declare(mul, aliases=("multiply",), method=True, inplace=mul_, out=True)
declare(div, aliases=("divide", "true_divide"), method=True, inplace=div_, out=True)
declare(floor_divide, method=True, inplace=True, out=True)
declare(remainder, method=True, inplace=True, out=True)
declare(fmod, method=True, inplace=True, out=True)
declare(pow, method=True, inplace=True, out=True)
declare(float_power, method=True, inplace=float_power_, out=True)
declare(neg, aliases=("negative",), method=True, inplace=True, torch_inplace=("neg_", "negative_"), out=True)
declare(abs, aliases=("absolute",), method=True, inplace=True, torch_inplace=("abs_",), out=True)
declare(sign, method=True, inplace=True, out=True)
declare(sgn, method=True, inplace=True, out=True)
declare(exp, method=True, inplace=True, torch_inplace=("exp_",), out=True)
declare(exp2, method=True, inplace=True, torch_inplace=("exp2_",), out=True, special=("exp2",))
declare(log, method=True, inplace=True, torch_inplace=("log_",), out=True)
declare(log2, method=True, inplace=True, torch_inplace=("log2_",), out=True)
declare(log10, method=True, inplace=True, torch_inplace=("log10_",), out=True)
declare(log1p, method=True, inplace=True, torch_inplace=("log1p_",), out=True, special=("log1p",))
declare(expm1, method=True, inplace=True, torch_inplace=("expm1_",), out=True, special=("expm1",))
declare(sqrt, method=True, inplace=True, torch_inplace=("sqrt_",), out=True)
declare(rsqrt, method=True, inplace=True, torch_inplace=("rsqrt_",), out=True)
declare(square, method=True, inplace=True, torch_inplace=("square_",), out=True)
declare(sin, method=True, inplace=True, torch_inplace=("sin_",), out=True)
declare(cos, method=True, inplace=True, torch_inplace=("cos_",), out=True)
declare(tan, method=True, inplace=True, torch_inplace=("tan_",), out=True)
declare(asin, aliases=("arcsin",), method=True, inplace=True, torch_inplace=("arcsin_", "asin_"), out=True)
declare(acos, aliases=("arccos",), method=True, inplace=True, torch_inplace=("acos_", "arccos_"), out=True)
declare(atan, aliases=("arctan",), method=True, inplace=True, torch_inplace=("arctan_", "atan_"), out=True)
declare(atan2, aliases=("arctan2",), method=True, inplace=True, out=True)
declare(sinh, method=True, inplace=True, torch_inplace=("sinh_",), out=True)
declare(cosh, method=True, inplace=True, torch_inplace=("cosh_",), out=True)
declare(tanh, method=True, inplace=True, torch_inplace=("tanh_",), out=True, functional=("tanh",))
declare(
    sigmoid,
    method=True,
    inplace=True,
    torch_inplace=("sigmoid_",),
    out=True,
    special=("expit",),
    functional=("sigmoid",),
)
declare(relu, method=True, inplace=True)
declare(reciprocal, method=True, inplace=True, torch_inplace=("reciprocal_",), out=True)
declare(floor, method=True, inplace=True, torch_inplace=("floor_",), out=True)
declare(ceil, method=True, inplace=True, torch_inplace=("ceil_",), out=True)
declare(trunc, aliases=("fix",), method=True, inplace=True, torch_inplace=("fix_", "trunc_"), out=True)
declare(round, method=True, inplace=True, torch_inplace=("round_",), out=True, special=("round",))
declare(frac, method=True, inplace=True, torch_inplace=("frac_",), out=True)
declare(clamp, aliases=("clip",), method=True, inplace=True, torch_inplace=("clamp_", "clip_"), out=True)
declare(clamp_min, method=True, inplace=True, torch_inplace=("clamp_min_",), out=True)
declare(clamp_max, method=True, inplace=True, torch_inplace=("clamp_max_",), out=True)
declare(maximum, method=True, out=True)
declare(minimum, method=True, out=True)
declare(where, method=tensor_where, special=("where",))
declare(lerp, method=True, inplace=True, out=True)
declare(addcmul, method=True, inplace=True, out=True)
declare(addcdiv, method=True, inplace=True, out=True)
declare(hypot, method=True, inplace=True, out=True)
declare(xlogy, method=True, inplace=True, torch_inplace=("xlogy_",), out=True, special=("xlogy",))
declare(nan_to_num, method=True, inplace=True, torch_inplace=("nan_to_num_",), out=True)
declare(eq, method=True, inplace=valued_inplace("eq", eq, 2), out=True)
declare(ne, aliases=("not_equal",), method=True, inplace=valued_inplace("ne", ne, 2), out=True)
declare(lt, aliases=("less",), method=True, inplace=valued_inplace("lt", lt, 2), out=True)
declare(le, aliases=("less_equal",), method=True, inplace=valued_inplace("le", le, 2), out=True)
declare(gt, aliases=("greater",), method=True, inplace=valued_inplace("gt", gt, 2), out=True)
declare(ge, aliases=("greater_equal",), method=True, inplace=valued_inplace("ge", ge, 2), out=True)
declare(logical_and, method=True, inplace=valued_inplace("logical_and", logical_and, 2), out=True)
declare(logical_or, method=True, inplace=valued_inplace("logical_or", logical_or, 2), out=True)
declare(logical_xor, method=True, inplace=valued_inplace("logical_xor", logical_xor, 2), out=True)
declare(logical_not, method=True, inplace=valued_inplace("logical_not", logical_not, 1), out=True)
declare(bitwise_and, method=True, inplace=True, out=True)
declare(bitwise_or, method=True, inplace=True, out=True)
declare(bitwise_xor, method=True, inplace=True, out=True)
declare(bitwise_not, method=True, inplace=True, out=True)
declare(isnan, method=True)
declare(isinf, method=True)
declare(isfinite, method=True)
declare(isposinf, method=True, out=True)
declare(isneginf, method=True, out=True)
declare(isclose, method=True)
declare(allclose, method=True)
declare(equal, method=True)
declare(fmax, method=True, out=True)
declare(fmin, method=True, out=True)

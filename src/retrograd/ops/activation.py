"""Activation functions (torch.nn.functional): relu6, leaky_relu, elu, selu, celu, gelu, silu,
mish, softplus, softsign, hardtanh, hardsigmoid, hardswish, logsigmoid, threshold, prelu,
rrelu, shrinks, glu, and softmax / log_softmax / softmin.

Each elementwise activation is one op whose backward is written in retrograd ops, so it can be
differentiated again. The hot ones (gelu, softmax, log_softmax) compute their first-order
backward directly on arrays when no graph is being built for it (the usual ``backward()``):
fewer passes over memory and no intermediate tensors. Under ``create_graph`` they use the
same formula in retrograd ops instead.

Functions with an ``inplace`` flag write into their input through ``ops.inplace``.
"""

import math
import warnings

import numpy as np

from .._tensor import Tensor, _wrap_dim
from ..backend import array_module
from ..backend import vml
from ..backend.blocks import BLOCK, block_bounds
from ..backend.reductions import max_axis, sum_axis
from ..autograd.grad_mode import _state
from ._registry import Op, apply
from ._registry import ELEMENTWISE
from . import elementwise as ew
from .elementwise import exp, where, minimum, sigmoid, tanh
from .special import erfc
from ._inplace import apply_inplace
from ._declare import declare
from .._autocast import LOWER, ACTIVE as _AMP, _amp, autocast_call

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_TANH_C = 0.044715

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _const(a):
    """A raw array as a constant tensor (no graph)."""
    return Tensor._make(a, None, False)


_TYPE_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _check_float(input, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input._data.dtype.kind not in "fV":
        raise NotImplementedError(
            f"\"{name}\" not implemented for '{_TYPE_NAMES.get(input.dtype.name, input.dtype.name)}'"
        )


def _maybe_inplace(input, inplace, name, fn, *args):
    if inplace:
        return apply_inplace(input, name, fn, *args)
    return fn(input, *args)


# --------------------------------------------------------------------------- piecewise linear
def _hardtanh(xp, x, lo, hi):
    out = x.clip(lo, hi)
    return out if out.dtype == x.dtype else out.astype(x.dtype)  # an integer input stays integer


def _hardtanh_vjp(g, x, lo, hi):
    # PyTorch passes the gradient only strictly inside (lo, hi)
    return g * ew.logical_and(x > lo, x < hi)


HARDTANH = Op("hardtanh", _hardtanh, _hardtanh_vjp, jvp=ELEMENTWISE, save=("x",))


def _hardtanh_fn(input, min_val, max_val):
    kind = input._data.dtype.kind
    if kind == "b":
        raise RuntimeError(f"Bool inputs not supported for hardtanh (input shape {list(input.shape)})")
    if kind == "u" and (min_val < 0 or max_val < 0):
        raise RuntimeError(f"cannot do hardtanh on an unsigned type with negative limits ({min_val}, {max_val})")
    return apply(HARDTANH, (input,), (min_val, max_val))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """clamp(x, min_val, max_val); the gradient passes where min_val < x < max_val."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    ew._refuse_complex("hardtanh", input)
    return _maybe_inplace(input, inplace, "hardtanh", _hardtanh_fn, min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    """min(max(x, 0), 6)"""
    ew._refuse_complex("relu6", input)
    return _maybe_inplace(input, inplace, "relu6", _hardtanh_fn, 0.0, 6.0)


def relu(input, inplace=False):
    """max(x, 0)"""
    if inplace:
        return apply_inplace(input, "relu", ew.relu)
    return ew.relu(input)


def relu_(input):
    return apply_inplace(input, "relu", ew.relu)


def _leaky_relu(xp, x, slope):
    # max(x, slope x) for 0 <= slope <= 1 (min for slope > 1): no data-dependent branches,
    # which make NumPy's where several times slower on mixed-sign data
    if x.ndim == 0 or slope < 0:
        return xp.where(x > 0, x, x * slope)
    out = x * slope
    return (xp.maximum if slope <= 1 else xp.minimum)(out, x, out=out)


LEAKY_RELU = Op("leaky_relu", _leaky_relu, lambda g, x, slope: where(x > 0, g, g * slope), jvp=ELEMENTWISE, save=("x",))


def _leaky_relu_fn(input, negative_slope):
    return apply(LEAKY_RELU, (input,), (negative_slope,))


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, negative_slope * x otherwise."""
    return _maybe_inplace(input, inplace, "leaky_relu", _leaky_relu_fn, negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def _threshold(xp, x, threshold, value):
    return xp.where(x > threshold, x, xp.asarray(value, dtype=x.dtype))


THRESHOLD = Op(
    "threshold", _threshold, lambda g, x, threshold, value: g * (x > threshold), jvp=ELEMENTWISE, save=("x",)
)


def _threshold_fn(input, threshold, value):
    return apply(THRESHOLD, (input,), (threshold, value))


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else value."""
    return _maybe_inplace(input, inplace, "threshold", _threshold_fn, threshold, value)


def threshold_(input, threshold, value):
    return _maybe_inplace(input, True, "threshold", _threshold_fn, threshold, value)


def _hardsigmoid(xp, x):
    return ((x + 3).clip(0, 6) / 6).astype(x.dtype, copy=False)


HARDSIGMOID = Op(
    "hardsigmoid", _hardsigmoid, lambda g, x: g * ew.logical_and(x > -3, x < 3) * (1 / 6), jvp=ELEMENTWISE, save=("x",)
)


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6"""
    _check_float(input, "hardsigmoid")
    return _maybe_inplace(input, inplace, "hardsigmoid", lambda t: apply(HARDSIGMOID, (t,)))


def _hardswish(xp, x):
    return (x * (x + 3).clip(0, 6) / 6).astype(x.dtype, copy=False)


def _hardswish_vjp(g, x):
    # 0 for x < -3, x/3 + 1/2 for -3 <= x <= 3, 1 for x > 3 (PyTorch's choice at the kinks)
    inner = where(x < -3, 0.0, x * (1 / 3) + 0.5)
    return g * where(x > 3, 1.0, inner)


HARDSWISH = Op("hardswish", _hardswish, _hardswish_vjp, jvp=ELEMENTWISE, save=("x",))


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6"""
    _check_float(input, "hardswish")
    return _maybe_inplace(input, inplace, "hardswish", lambda t: apply(HARDSWISH, (t,)))


def _hardshrink(xp, x, lambd):
    return xp.where(xp.abs(x) > lambd, x, xp.zeros((), dtype=x.dtype))


HARDSHRINK = Op("hardshrink", _hardshrink, lambda g, x, lambd: g * (ew.abs(x) > lambd), jvp=ELEMENTWISE, save=("x",))


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    return apply(HARDSHRINK, (input,), (lambd,))


def _softshrink(xp, x, lambd):
    return (xp.where(x > lambd, x - lambd, 0) + xp.where(x < -lambd, x + lambd, 0)).astype(x.dtype, copy=False)


SOFTSHRINK = Op("softshrink", _softshrink, lambda g, x, lambd: g * (ew.abs(x) > lambd), jvp=ELEMENTWISE, save=("x",))


def softshrink(input, lambd=0.5):
    """x - lambd for x > lambd, x + lambd for x < -lambd, else 0."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return apply(SOFTSHRINK, (input,), (lambd,))


def tanhshrink(input):
    """x - tanh(x)"""
    return input - tanh(input)


def softsign(input):
    """x / (1 + |x|)"""
    return input / (ew.abs(input) + 1)


def prelu(input, weight):
    """max(0, x) + weight * min(0, x), with one weight per channel (dim 1) or a single one."""
    if _AMP[0] and _amp.on:
        return autocast_call(prelu, LOWER, input, weight)
    n = weight._data.size
    if n != 1:
        nd = input._data.ndim
        channels = input._data.shape[1] if nd >= 2 else 1
        if n != channels:
            raise RuntimeError(
                f"Mismatch of parameter numbers and input channel size. Found parameter "
                f"numbers = {n} and channel size = {channels}."
            )
        weight = weight.reshape((n,) + (1,) * max(nd - 2, 0))
    return where(input > 0, input, input * weight)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Leaky ReLU with a random slope ~ U(lower, upper) per element when training, else the
    mean slope (lower + upper) / 2."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    slope = _const(_to_like(_rrelu_slopes(input, lower, upper), input._data))

    def fn(t):
        return where(t >= 0, t, t * slope)

    return _maybe_inplace(input, inplace, "rrelu", fn)


def _rrelu_slopes(input, lower, upper):
    """PyTorch's training slopes: walking the input in order, each element <= 0 takes a float64
    U(lower, upper) draw (bounds rounded to the input's dtype, float32 for bfloat16), the
    others slope 1."""
    from .._random import _engine
    from .._random_kernels import is_float, uniform

    x = np.asarray(input.detach().cpu()._data)  # the values, bfloat16 included
    dt = x.dtype
    neg = x.ravel() <= 0
    bounds = np.float32 if dt.kind == "V" else dt.type  # bfloat16 computes in float32
    lo, hi = (float(bounds(v)) if is_float(dt) else float(v) for v in (lower, upper))
    slopes = np.ones(x.size, dt)
    slopes[neg] = uniform(_engine(None), int(neg.sum()), np.float64, lo, hi)
    return slopes.reshape(x.shape)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, inplace=True)


def _to_like(np_array, like):
    """A NumPy array moved to the array module of ``like`` (CuPy stays CuPy)."""
    xp = array_module(like)
    return np_array if xp.__name__ == "numpy" else xp.asarray(np_array)


# --------------------------------------------------------------------------- exponential family
def _elu(xp, x, alpha, scale, input_scale):
    # scale * max(x, 0) + alpha * scale * expm1(min(x, 0) * input_scale): branch-free
    neg = xp.expm1(xp.minimum(x, 0) * input_scale) * (alpha * scale)
    return (xp.maximum(x, 0) * scale + neg).astype(x.dtype, copy=False)


def _elu_vjp(g, x, alpha, scale, input_scale):
    # d/dx: scale for x > 0, alpha * scale * input_scale * exp(x * input_scale) otherwise
    neg = exp(minimum(x, 0.0) * input_scale) * (alpha * scale * input_scale)
    return where(x > 0, g * scale, g * neg)


ELU = Op("elu", _elu, _elu_vjp, jvp=ELEMENTWISE, save=("x",))


def _elu_fn(input, alpha, scale, input_scale):
    return apply(ELU, (input,), (alpha, scale, input_scale))


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    _check_float(input, "elu")
    return _maybe_inplace(input, inplace, "elu", _elu_fn, alpha, 1.0, 1.0)


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def selu(input, inplace=False):
    """scale * elu(x, alpha) with the self-normalising constants."""
    _check_float(input, "selu")
    return _maybe_inplace(input, inplace, "selu", _elu_fn, _SELU_ALPHA, _SELU_SCALE, 1.0)


def selu_(input):
    return selu(input, inplace=True)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))"""
    _check_float(input, "celu")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _maybe_inplace(input, inplace, "celu", _elu_fn, alpha, 1.0, 1.0 / alpha)


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


def _softplus(xp, x, beta, threshold):
    bx = x * beta
    # log1p(exp(bx)) / beta, computed as max(bx, 0) + log1p(exp(-|bx|)) so it never overflows
    sp = (xp.maximum(bx, 0) + xp.log1p(xp.exp(-xp.abs(bx)))) / beta
    return xp.where(bx > threshold, x, sp).astype(x.dtype, copy=False)


def _softplus_vjp(g, x, beta, threshold):
    bx = x * beta
    return where(bx > threshold, g, g * sigmoid(bx))


SOFTPLUS = Op("softplus", _softplus, _softplus_vjp, jvp=ELEMENTWISE, save=("x",))


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, reverting to x where beta x > threshold."""
    _check_float(input, "softplus")
    return apply(SOFTPLUS, (input,), (beta, threshold))


def _logsigmoid(xp, x):
    # log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), finite for any x
    return (xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))).astype(x.dtype, copy=False)


LOGSIGMOID = Op(
    "log_sigmoid",
    _logsigmoid,
    lambda g, x: g * sigmoid(-x),
    jvp=ELEMENTWISE,
    save=("x",),
    node_name="LogSigmoidBackward0",
)


def logsigmoid(input):
    """log(1 / (1 + exp(-x))), stable for large |x|; d/dx = sigmoid(-x)."""
    _check_float(input, "log_sigmoid_forward")
    return apply(LOGSIGMOID, (input,))


def _sigmoid_array(xp, x):
    """1 / (1 + exp(-x)) without branches (exp overflowing to inf gives the right limit, 0)."""
    s = -x
    with np.errstate(over="ignore"):
        xp.exp(s, out=s)
    s += 1
    xp.reciprocal(s, out=s)
    return s


def _silu(xp, x):
    if x.ndim == 0:
        return x * ew._sigmoid(xp, x)
    s = _sigmoid_array(xp, x)
    s *= x
    return s


def _silu_vjp(g, x):
    # d/dx x sigmoid(x) = s (1 + x (1 - s))
    if _state.enabled or x._data.ndim == 0:
        s = sigmoid(x)
        return g * (s * (x * (1 - s) + 1))
    xd = x._data
    s = _sigmoid_array(array_module(xd), xd)
    d = 1 - s
    d *= xd
    d += 1
    d *= s
    d *= g._data
    return _const(d)


SILU = Op("silu", _silu, _silu_vjp, jvp=ELEMENTWISE, save=("x",))


def silu(input, inplace=False):
    """x * sigmoid(x)"""
    _check_float(input, "silu")
    return _maybe_inplace(input, inplace, "silu", lambda t: apply(SILU, (t,)))


def _mish(xp, x):
    return x * xp.tanh(_softplus(xp, x, 1.0, 20.0))


def _mish_vjp(g, x):
    t = tanh(softplus(x))
    return g * (t + x * sigmoid(x) * (1 - t * t))


MISH = Op("mish", _mish, _mish_vjp, jvp=ELEMENTWISE, save=("x",))


def mish(input, inplace=False):
    """x * tanh(softplus(x))"""
    _check_float(input, "mish")
    return _maybe_inplace(input, inplace, "mish", lambda t: apply(MISH, (t,)))


# --------------------------------------------------------------------------- gelu
def _gelu_forward(xp, x, approximate):
    """GELU and, saved for backward, its derivative's first term: Phi(x) (or the tanh form)."""
    if approximate == "tanh":
        inner = x * x
        inner *= _GELU_TANH_C
        inner += 1
        inner *= x
        inner *= _SQRT_2_OVER_PI
        t = xp.tanh(inner, out=inner)
        out = t + 1
        out *= x
        out *= 0.5
        return out, t
    if xp is np and x.dtype in (np.float32, np.float64):
        out = _in_memory_order(_gelu_dense, x)
        if out is not None:
            return out
    from .special import normal_cdf_array

    cdf = normal_cdf_array(xp, x)
    return x * cdf, cdf


# Abramowitz & Stegun 7.1.26: erf(z) = 1 - t (a1 + a2 t + ... + a5 t^4) exp(-z^2) for z >= 0,
# t = 1 / (1 + p z), |error| <= 1.5e-7: under float32's rounding of values near 1. PyTorch's
# vectorised CPU kernels compute float32 erf, and so GELU, with this formula.
_AS_P = np.float32(0.3275911)
_AS_A = tuple(np.float32(c) for c in (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429))
_SIGN_BIT = np.uint32(0x80000000)
_SQRT_HALF_F32 = np.float32(_INV_SQRT_2)


def _gelu_dense(x):
    """GELU and Phi(x) of a C-contiguous float32/float64 array by MKL's one-pass Phi when MKL is
    in use, else (float32) by _gelu_f32; None for float64 without MKL."""
    cdf = vml.cdf_norm(x)
    if cdf is not None:
        return x * cdf, cdf
    return _gelu_f32(x) if x.dtype == np.float32 else None


def _in_memory_order(fn, x):
    """``fn`` (of C-contiguous arrays, returning arrays of its input's shape, or None) applied
    to ``x``, with the results laid out as ``x`` is when ``x`` is a dense permutation
    (channels-last, a transpose), as PyTorch's element-wise kernels keep the input's layout;
    else to a row-major copy of ``x``."""
    if not x.flags.c_contiguous and x.ndim > 1:
        order = sorted(range(x.ndim), key=lambda d: -x.strides[d])  # outermost dim first
        xt = x.transpose(order)
        if xt.flags.c_contiguous:
            inverse = tuple(sorted(range(x.ndim), key=order.__getitem__))
            out = fn(xt)
            return None if out is None else tuple(r.transpose(inverse) for r in out)
    return fn(np.ascontiguousarray(x))


def _gelu_f32(x):
    """GELU of a C-contiguous float32 array and Phi(x) = (1 + erf(x / sqrt 2)) / 2, erf as above,
    computed in cache-sized blocks (backend.blocks) with two scratch buffers."""
    out, cdf = np.empty_like(x), np.empty_like(x)
    xf, cf, of = x.reshape(-1), cdf.reshape(-1), out.reshape(-1)
    z = np.empty(min(BLOCK, xf.size), np.float32)
    r = np.empty_like(z)
    for i, j in block_bounds(xf.size):
        xb, c, zb, rb = xf[i:j], cf[i:j], z[: j - i], r[: j - i]
        np.abs(xb, out=zb)
        zb *= _SQRT_HALF_F32  # z = |x| / sqrt 2
        np.multiply(zb, _AS_P, out=c)
        c += 1
        np.reciprocal(c, out=c)  # t
        np.multiply(c, _AS_A[4], out=rb)
        for a in _AS_A[3::-1]:
            rb += a
            rb *= c
        zb *= zb
        np.negative(zb, out=zb)
        np.exp(zb, out=zb)
        rb *= zb  # 1 - erf(z)
        np.subtract(1, rb, out=c)
        sign = zb.view(np.uint32)
        np.bitwise_and(xb.view(np.uint32), _SIGN_BIT, out=sign)
        cu = c.view(np.uint32)
        cu ^= sign  # erf(x / sqrt 2): erf is odd
        c += 1
        c *= 0.5
        np.multiply(xb, c, out=of[i:j])
    return out, cdf


def _gelu_vjp(g, x, extra, approximate):
    if _state.enabled:
        return g * _gelu_derivative(x, approximate)
    # Fused for speed: one pass per arithmetic step, reusing the saved Phi(x) or tanh term.
    xd, gd = x._data, g._data
    xp = array_module(xd)
    if approximate == "tanh":
        t = extra
        # d/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3c x^2)
        d = xd * xd
        d *= 3 * _GELU_TANH_C
        d += 1
        d *= xd
        d *= 0.5 * _SQRT_2_OVER_PI
        d *= 1 - t * t
        d += 0.5
        d += 0.5 * t
    else:
        # d/dx = Phi(x) + x phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
        if xp is np and xd.dtype == gd.dtype == extra.dtype and _contiguous(xd, gd, extra):
            return _const(_gelu_grad_blocks(xd, gd, extra))
        d = xd * xd
        d *= -0.5
        xp.exp(d, out=d)
        d *= xd
        d *= _INV_SQRT_2PI
        d += extra
    d *= gd
    return _const(d)


def _contiguous(*arrays):
    shape = arrays[0].shape
    return all(a.shape == shape and a.flags.c_contiguous for a in arrays)


def _gelu_grad_blocks(x, g, cdf):
    """g (Phi(x) + x exp(-x^2 / 2) / sqrt(2 pi)) over equal-shaped C-contiguous NumPy arrays, in
    cache-sized blocks (backend.blocks)."""
    d = np.empty_like(x)
    xf, gf, cf, df = x.reshape(-1), g.reshape(-1), cdf.reshape(-1), d.reshape(-1)
    for i, j in block_bounds(xf.size):
        xb, db = xf[i:j], df[i:j]
        np.multiply(xb, xb, out=db)
        db *= -0.5
        np.exp(db, out=db)
        db *= xb
        db *= _INV_SQRT_2PI
        db += cf[i:j]
        db *= gf[i:j]
    return d


def _gelu_derivative(x, approximate):
    if approximate == "tanh":
        inner = (x + x * x * x * _GELU_TANH_C) * _SQRT_2_OVER_PI
        t = tanh(inner)
        return (t + 1) * 0.5 + x * (1 - t * t) * ((x * x * (3 * _GELU_TANH_C) + 1) * (0.5 * _SQRT_2_OVER_PI))
    cdf = erfc(x * -_INV_SQRT_2) * 0.5
    return cdf + x * exp(x * x * -0.5) * _INV_SQRT_2PI


GELU = Op("gelu", _gelu_forward, _gelu_vjp, jvp=ELEMENTWISE, save=("x", "extra"))


def gelu(input, approximate="none"):
    """x * Phi(x), Phi the standard normal CDF, or with approximate='tanh'
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). Phi is (1 + erf(x / sqrt 2)) / 2 with erf
    as PyTorch's CPU kernels compute it for float32 (Abramowitz & Stegun 7.1.26, |error| <=
    1.5e-7); other dtypes use the exact erfc."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    _check_float(input, "GeluKernelImpl")
    if input._data.ndim == 0:  # the array code works in place, which NumPy's 0-d results do not allow
        return apply(GELU, (input.reshape(1),), (approximate,)).reshape(())
    return apply(GELU, (input,), (approximate,))


# --------------------------------------------------------------------------- glu
def glu(input, dim=-1):
    """a * sigmoid(b), where a and b are the two halves of ``input`` along ``dim``."""
    if input._data.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = _wrap_dim(dim, input._data.ndim, "glu")
    n = input._data.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    a, b = input.split(n // 2, d)
    return a * sigmoid(b)


# --------------------------------------------------------------------------- softmax family
def _softmax_dim(name, ndim, stacklevel):
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an argument.",
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_fwd(xp, x, dim):
    if x.size == 0:
        return x.copy()
    with np.errstate(invalid="ignore"):  # an all -inf slice gives NaN, as in PyTorch, silently
        e = x - max_axis(xp, x, dim, True)
    xp.exp(e, out=e)
    e *= 1 / sum_axis(xp, e, dim, True)
    return e


def _sub_into(a, b, out):
    """a - b written into ``out`` (which has the broadcast shape), saving an allocation."""
    return array_module(out).subtract(a, b, out=out)


def _softmax_vjp(g, out, dim):
    # d softmax: out * (g - sum(g * out)). Fused (numerics and speed): no intermediate tensors.
    if _state.enabled:
        return out * (g - (g * out).sum(dim, keepdim=True))
    gd, od = g._data, out._data
    gx = gd * od
    s = sum_axis(array_module(gx), gx, dim, True)
    if gx.ndim:
        gx = _sub_into(gd, s, gx)
        gx *= od
    else:
        gx = (gd - s) * od
    return _const(gx)


def _log_softmax_fwd(xp, x, dim):
    if x.size == 0:
        return x.copy()
    with np.errstate(invalid="ignore"):
        s = x - max_axis(xp, x, dim, True)
    lse = xp.log(sum_axis(xp, xp.exp(s), dim, True))
    s -= lse
    return s


def _log_softmax_vjp(g, out, dim):
    # d log_softmax: g - exp(out) * sum(g). Fused (numerics and speed).
    if _state.enabled:
        return g - exp(out) * g.sum(dim, keepdim=True)
    gd, od = g._data, out._data
    xp = array_module(od)
    gx = xp.exp(od)
    gx *= -sum_axis(xp, gd, dim, True)
    gx += gd
    return _const(gx)


def _softmax_jvp(ts, out, dim):
    # d softmax = y * (t - sum(y t))
    t = ts[0]
    return out * (t - (out * t).sum(dim, keepdim=True))


def _log_softmax_jvp(ts, out, dim):
    # d log_softmax = t - sum(softmax * t)
    t = ts[0]
    return t - (exp(out) * t).sum(dim, keepdim=True)


SOFTMAX = Op("softmax", _softmax_fwd, _softmax_vjp, jvp=_softmax_jvp, save=("out",))
LOG_SOFTMAX = Op("log_softmax", _log_softmax_fwd, _log_softmax_vjp, jvp=_log_softmax_jvp, save=("out",))


def _softmax_input(input, dim, dtype, name, stacklevel):
    if dtype is not None:
        input = input.to(dtype)
    _check_float(input, name)
    ndim = input._data.ndim
    if dim is None:
        dim = _softmax_dim(name, ndim, stacklevel + 1)
    d = _wrap_dim(dim, ndim, name)
    return input, d


def _softmax_apply(op, input, d):
    if input._data.ndim == 0:
        return apply(op, (input.reshape(1),), (0,)).reshape(())
    return apply(op, (input,), (d,))


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim`` (max-shifted, so large logits do not overflow)."""
    input, d = _softmax_input(input, dim, dtype, "softmax", _stacklevel)
    return _softmax_apply(SOFTMAX, input, d)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """x - logsumexp(x) along ``dim``, finite for any finite logits."""
    input, d = _softmax_input(input, dim, dtype, "log_softmax", _stacklevel)
    return _softmax_apply(LOG_SOFTMAX, input, d)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along ``dim``."""
    input, d = _softmax_input(input, dim, dtype, "softmin", _stacklevel)
    return _softmax_apply(SOFTMAX, -input, d)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """softmax((logits + g) / tau) with Gumbel(0, 1) noise g; ``hard`` returns one-hot samples
    whose gradient is that of the soft sample (straight-through)."""
    from .._random import _engine
    from .._random_kernels import exponential

    u = exponential(_engine(None), logits._data.size, logits._data.dtype, 1.0).reshape(logits._data.shape)
    gumbels = (logits - ew.log(_const(_to_like(u, logits._data)))) / tau
    y_soft = softmax(gumbels, dim)
    if not hard:
        return y_soft
    d = _wrap_dim(dim, logits._data.ndim, "gumbel_softmax")
    xp = array_module(y_soft._data)
    idx = y_soft._data.argmax(axis=d)
    y_hard = (
        xp.arange(y_soft._data.shape[d]).reshape((-1,) + (1,) * (y_soft._data.ndim - d - 1)) == xp.expand_dims(idx, d)
    ).astype(y_soft._data.dtype)
    return y_soft + (_const(y_hard) - y_soft.detach())


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(relu_, functional=("relu_",))
declare(selu_, functional=("selu_",))
declare(celu_, functional=("celu_",))
declare(threshold_, functional=("threshold_",))
declare(rrelu_, functional=("rrelu_",))
declare(prelu, method=True, functional=("prelu",))
declare(hardshrink, method=True, out=True, functional=("hardshrink",))
declare(relu, torch=False, functional=("relu",))
declare(relu6, torch=False, functional=("relu6",))
declare(leaky_relu, torch=False, functional=("leaky_relu",))
declare(leaky_relu_, torch=False, functional=("leaky_relu_",))
declare(elu, torch=False, functional=("elu",))
declare(elu_, torch=False, functional=("elu_",))
declare(selu, torch=False, functional=("selu",))
declare(celu, torch=False, functional=("celu",))
declare(gelu, torch=False, functional=("gelu",))
declare(silu, torch=False, functional=("silu",))
declare(mish, torch=False, functional=("mish",))
declare(softplus, torch=False, functional=("softplus",))
declare(softsign, torch=False, functional=("softsign",))
declare(hardtanh, torch=False, functional=("hardtanh",))
declare(hardtanh_, torch=False, functional=("hardtanh_",))
declare(hardsigmoid, torch=False, functional=("hardsigmoid",))
declare(hardswish, torch=False, functional=("hardswish",))
declare(logsigmoid, torch=False, functional=("logsigmoid",))
declare(threshold, torch=False, functional=("threshold",))
declare(rrelu, torch=False, functional=("rrelu",))
declare(softshrink, torch=False, functional=("softshrink",))
declare(tanhshrink, torch=False, functional=("tanhshrink",))
declare(glu, torch=False, functional=("glu",))
declare(softmax, torch=False, functional=("softmax",))
declare(log_softmax, torch=False, functional=("log_softmax",))
declare(softmin, torch=False, functional=("softmin",))
declare(gumbel_softmax, torch=False, functional=("gumbel_softmax",))

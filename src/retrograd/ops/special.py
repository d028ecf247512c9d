"""Special functions: erf, erfc and erfcx (the Gaussian error function, its complement and the
scaled complement exp(x^2) erfc(x)).

NumPy has no erf, so it is evaluated here from polynomial fits, in whatever array module the
input lives in (NumPy or CuPy). With z = |x|:

    z < 1       erf(z)  = z * P1(2 z^2 - 1)
    1 <= z < 3  erfc(z) = exp(-z^2) * P2(z - 2)
    z >= 3      erfc(z) = exp(-z^2) / z * P3(6 / z - 1)

and erf(-x) = -erf(x), erfc(-x) = 2 - erfc(x). Each P is the Chebyshev interpolant of the
bracketed smooth function on its interval, written in the power basis (computed at 50 digits
by tools/fit_erf.py). float64 uses degrees 11/19/17 (relative error below 4e-16 against the
exact function); float32 uses degrees 5/9/6 (below 2.5e-7), which keeps the float32 path short.

erfcx(x) = exp(x^2) erfc(x) (in float64) is the bracketed polynomial part alone for x >= 1, so
it stays finite (and ~ 1 / (x sqrt(pi))) where erfc underflows; exp(x^2) (1 - erf(x)) for
|x| < 1; and 2 exp(x^2) - erfcx(-x) for x <= -1, which overflows to inf below -26.6.
"""

import numpy as np

from .._tensor import Tensor
from ._registry import Op, apply
from ._declare import declare
from ._registry import ELEMENTWISE

_P1_F64 = (
    0.9654687386698673,
    -0.1405360890227171,
    0.019852496688984218,
    -0.0022854855611440855,
    0.00021751715603563488,
    -1.75371694412802e-05,
    1.2233827638093572e-06,
    -7.51156925108609e-08,
    4.115751500265885e-09,
    -2.035231956483527e-10,
    9.21125018742823e-12,
    -3.80659122412214e-13,
)
_P2_F64 = (
    0.25539567631050575,
    -0.1067964618534896,
    0.041802752603528726,
    -0.01546063776429149,
    0.005440738537400482,
    -0.0018316642757225372,
    0.0005924699962484308,
    -0.00018477836736927953,
    5.572830931415907e-05,
    -1.6293717931091297e-05,
    4.628197386307233e-06,
    -1.2795264857047954e-06,
    3.4480570326644777e-07,
    -9.072901538050072e-08,
    2.3408246602459806e-08,
    -5.890296320663701e-09,
    1.3914126752786892e-09,
    -3.3746485737542734e-10,
    1.0885208435466582e-10,
    -2.5142267291939364e-11,
)
_P3_F64 = (
    0.5566594068032301,
    -0.01448668119734651,
    -0.00616552130405374,
    0.0009500607347590213,
    9.813814387580748e-05,
    -5.91692828584952e-05,
    5.453327783857763e-06,
    2.7049166243908327e-06,
    -1.0391593905635118e-06,
    4.569571054559184e-08,
    8.104309780763185e-08,
    -2.8885705902099307e-08,
    6.944007971205566e-10,
    3.0464397917106196e-09,
    -1.1275237627092145e-09,
    6.010060509160643e-13,
    1.2454283861038034e-10,
    -3.001711622485126e-11,
)
_P1_F32 = (
    0.9654687770939903,
    -0.14053609137964274,
    0.01985180518381977,
    -0.0022854431428609664,
    0.0002193591913438419,
    -1.7650187079697012e-05,
)
_P2_F32 = (
    0.2553956872355834,
    -0.10679646484624511,
    0.04180220714959358,
    -0.01546048833542819,
    0.00544506862437344,
    -0.001832850945655366,
    0.0005805512234898856,
    -0.00018150937938836523,
    6.883765369214591e-05,
    -1.9895764640729066e-05,
)
_P3_F32 = (
    0.5566594068032301,
    -0.014486382718009769,
    -0.006165619546666866,
    0.0009476730900021575,
    9.893284478862117e-05,
    -5.439771698940334e-05,
    3.8112558302259205e-06,
)

_TWO_OVER_SQRT_PI = 1.1283791670955126


def _coeffs(dtype):
    if dtype == np.float64:
        return _P1_F64, _P2_F64, _P3_F64
    return _P1_F32, _P2_F32, _P3_F32


def _horner(coeffs, v):
    """sum_k coeffs[k] v^k, in place on one work array."""
    r = v * coeffs[-1]
    r += coeffs[-2]
    for c in coeffs[-3::-1]:
        r *= v
        r += c
    return r


def _erf_small(xp, p1, x):
    """erf(x), accurate for |x| <= 1 (elsewhere finite garbage: v is clamped to [-1, 1])."""
    v = x * x
    v *= 2
    v -= 1
    v.clip(-1, 1, out=v)
    r = _horner(p1, v)
    r *= x
    return r


def _erfc_large(xp, p2, p3, z):
    """erfc(z) for z >= 1 (z is 1-d and may be empty).

    exp(-z^2) is taken as exp(-h^2) exp(-(z - h)(z + h)) with h = z rounded to half the
    mantissa bits, so h^2 is exact and the rounding of z^2 does not cost relative accuracy."""
    z = xp.minimum(z, 30)  # erfc(30) underflows to 0 in every precision; keeps inf out
    half_bits = 2.0 ** (21 if z.dtype == np.float64 else 7)
    h = xp.trunc(z * half_bits)
    h /= half_bits
    e = xp.exp(-(h * h))
    e *= xp.exp((h - z) * (h + z))
    mid = z < 3
    out = _horner(p2, z - 2)
    if not bool(mid.all()):
        far = xp.flatnonzero(~mid)
        zf = z[far]
        out[far] = _horner(p3, 6 / zf - 1) / zf
    out *= e
    return out


def _upcast(x):
    if x.dtype.kind not in "fV":
        return x.astype(np.float32)
    return x.astype(np.float32) if x.dtype == np.float16 else x


def _erf_array(xp, x):
    dt, shape = x.dtype, x.shape
    x = _upcast(x).reshape(-1)  # 1-d throughout: NumPy turns 0-d results into scalars
    p1, p2, p3 = _coeffs(x.dtype)
    out = _erf_small(xp, p1, x)
    idx = xp.flatnonzero(xp.abs(x) >= 1)
    if idx.size:
        xb = x[idx]
        out[idx] = xp.copysign(1 - _erfc_large(xp, p2, p3, xp.abs(xb)), xb)
    return out.reshape(shape).astype(dt, copy=False)


def _erfc_array(xp, x):
    dt, shape = x.dtype, x.shape
    x = _upcast(x).reshape(-1)
    p1, p2, p3 = _coeffs(x.dtype)
    out = _erf_small(xp, p1, x)
    xp.subtract(1, out, out=out)
    idx = xp.flatnonzero(xp.abs(x) >= 1)
    if idx.size:
        xb = x[idx]
        out[idx] = _erfc_signed(xp, p2, p3, xb)
    return out.reshape(shape).astype(dt, copy=False)


def _erfc_signed(xp, p2, p3, x):
    """erfc(x) for |x| >= 1: erfc(|x|), or 2 - erfc(|x|) for negative x (no branches)."""
    c = _erfc_large(xp, p2, p3, xp.abs(x))
    neg = xp.signbit(x).astype(c.dtype)
    c *= 1 - 2 * neg
    c += 2 * neg
    return c


_SQRT_HALF = 0.7071067811865476


def normal_cdf_array(xp, x):
    """Phi(x) = erfc(-x / sqrt(2)) / 2, the standard normal CDF, on an array (same dtype).

    For |x| < sqrt(2) it is 1/2 + x P1(x^2 - 1) / (2 sqrt(2)), which saves GELU the scaling
    passes of going through erf; the rest goes through erfc."""
    dt, shape = x.dtype, x.shape
    x = _upcast(x).reshape(-1)
    p1, p2, p3 = _coeffs(x.dtype)
    v = x * x
    idx = xp.flatnonzero(v >= 2)
    v -= 1
    v.clip(-1, 1, out=v)
    cdf = _horner(tuple(c * (0.5 * _SQRT_HALF) for c in p1), v)
    cdf *= x
    cdf += 0.5
    if idx.size:
        c = _erfc_signed(xp, p2, p3, x[idx] * -_SQRT_HALF)
        c *= 0.5
        cdf[idx] = c
    return cdf.reshape(shape).astype(dt, copy=False)


def _exp_square(xp, x):
    """exp(x^2) without the rounding of x^2: x = h + (x - h), h with half the mantissa bits."""
    h = xp.trunc(x * 2.0**21) / 2.0**21
    return xp.exp(h * h) * xp.exp((x - h) * (x + h))


def _erfcx(xp, x):
    """exp(x^2) erfc(x) on a float64 array."""
    flat = x.reshape(-1)
    z = xp.abs(flat)
    out = xp.empty_like(flat)
    inner = z < 1
    if xp.any(inner):
        xi = flat[inner]
        out[inner] = xp.exp(xi * xi) * (1 - _erf_small(xp, _P1_F64, xi))
    outer = ~inner  # nan lands here and stays nan
    if xp.any(outer):
        zo = z[outer]
        middle = zo < 3
        zm = xp.where(middle, zo, 3.0)
        zf = xp.where(middle, 3.0, zo)
        scaled = xp.where(middle, _horner(_P2_F64, zm - 2), _horner(_P3_F64, 6 / zf - 1) / zf)
        neg = flat[outer] < 0
        # 2 exp(x^2) - erfcx(|x|) for x <= -1; exp overflows to inf below -26.6
        mirrored = 2 * _exp_square(xp, xp.maximum(flat[outer], -27.0)) - scaled
        out[outer] = xp.where(neg, mirrored, scaled)
    return out.reshape(x.shape)


def _erfcx_array(xp, x):
    with np.errstate(all="ignore"):
        out = _erfcx(xp, _upcast(x).astype(np.float64))
    return out.astype(x.dtype if x.dtype.kind == "f" else np.float32, copy=False)


def _erf_vjp(g, x):
    from .elementwise import exp

    return g * (exp(-(x * x)) * _TWO_OVER_SQRT_PI)


def _erfc_vjp(g, x):
    from .elementwise import exp

    return g * (exp(-(x * x)) * -_TWO_OVER_SQRT_PI)


def _erfcx_vjp(g, x, out):
    # erfcx'(x) = 2x erfcx(x) - 2/sqrt(pi); the result is saved, as PyTorch saves it
    return g * (2 * x * out - _TWO_OVER_SQRT_PI)


ERF = Op("erf", _erf_array, _erf_vjp, jvp=ELEMENTWISE, save=("x",))
ERFCX = Op("special_erfcx", _erfcx_array, _erfcx_vjp, jvp=ELEMENTWISE, save=("x", "out"))
ERFC = Op("erfc", _erfc_array, _erfc_vjp, jvp=ELEMENTWISE, save=("x",))


def _float_input(input, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input._data.dtype.kind == "c":  # casting would drop the imaginary part
        raise NotImplementedError(f"{name}: not implemented for complex tensors (got {input.dtype})")
    if input._data.dtype.kind not in "fV":
        from .. import _dtype

        return input.to(_dtype.get_default_dtype())
    return input


def erf(input):
    """erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt; d/dx = 2/sqrt(pi) exp(-x^2)."""
    return apply(ERF, (_float_input(input, "erf"),))


def erfc(input):
    """erfc(x) = 1 - erf(x), accurate (relative) for large x; d/dx = -2/sqrt(pi) exp(-x^2)."""
    return apply(ERFC, (_float_input(input, "erfc"),))


def erfcx(input):
    """erfcx(x) = exp(x^2) erfc(x), the scaled complementary error function (finite for large x,
    where erfc underflows; inf for x below -26.6); d/dx = 2x erfcx(x) - 2/sqrt(pi)."""
    return apply(ERFCX, (_float_input(input, "erfcx"),))


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(erf, method=True, inplace=True, torch_inplace=("erf_",), out=True, special=("erf",))
declare(erfc, method=True, inplace=True, torch_inplace=("erfc_",), out=True, special=("erfc",))
declare(erfcx, torch=False, out=True, special=("erfcx",))

"""Fused multiply-add (``a * b + c`` rounded once) on NumPy arrays, and the float32 Box-Muller
block PyTorch's CPU kernels compute with it.

PyTorch's CPU sampling kernels are compiled with FMA contraction, so ``x * (to - from) + from``
and friends round once. NumPy has no fma ufunc; these helpers get the single rounding exactly:

* float32: the product of two float32 values is exact in float64, so ``a * b + c`` in float64
  rounds once there; rounding that to float32 is right unless the float64 result sits exactly
  half-way between two float32 values, which is checked and corrected with the exact error.
* float64: Dekker's exact product and Knuth's exact sum give ``a * b + c`` as a head and a
  small tail; adding them rounds once (the tail's own rounding cannot move the result except
  in cases far rarer than one in 2**50).
"""

import math

import numpy as np

_F32, _F64 = np.float32, np.float64
_LOW29 = np.uint64(0x1FFFFFFF)
_HALF29 = np.uint64(0x10000000)


def fma32(a, b, c):
    """float32 ``a * b + c`` with one rounding (broadcast; at least one operand an array).
    Operands may be float32 values held in float64 arrays (saves conversions in loops)."""
    s = np.multiply(a, b, dtype=_F64)
    s += c
    out = s.astype(_F32)
    low = s.view(np.uint64)
    low &= _LOW29
    tie = low == _HALF29
    if tie.any():
        _fix_ties(out, a, b, c, tie)
    return out


def _fix_ties(out, a, b, c, tie):
    """Redo the elements whose float64 sum fell exactly half-way between two float32 values:
    round toward the exact value (from the exact error of the sum) unless the tie is real."""
    idx = np.nonzero(tie)
    av, bv, cv = (np.broadcast_to(np.asarray(v, _F64), out.shape)[idx] for v in (a, b, c))
    p = av * bv  # exact: both are float32 values
    s = p + cv
    bb = s - p
    err = (p - (s - bb)) + (cv - bb)
    s = np.where(err == 0, s, np.nextafter(s, np.copysign(np.inf, err)))
    out[idx] = s.astype(_F32)


def _split(a):
    """Veltkamp's split: ``a == hi + lo`` with both halves of at most 26 significant bits."""
    t = a * 134217729.0
    hi = t - (t - a)
    return hi, a - hi


def fma64(a, b, c):
    """float64 ``a * b + c`` with one rounding, for an array ``a`` and scalars ``b``, ``c``."""
    a = np.asarray(a, _F64)
    b, c = float(b), float(c)
    if b == 1.0:
        return a + c
    if c == 0.0:
        return a * b
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    ep = ah * bh - p
    ep += ah * bl
    ep += al * bh
    ep += al * bl
    s = p + c
    bb = s - p
    es = p - (s - bb)
    es += c - bb
    es += ep
    s += es
    return s


# --------------------------------------------------------------------------- float32 Box-Muller
# PyTorch's AVX2 kernel turns 16 uniforms into 16 normals with Cephes-style polynomial log and
# sincos (avx_mathfun.h). The steps below do the same float32 arithmetic, with fma wherever the
# compiled kernel fuses (verified against PyTorch bit for bit); the remaining multiply-adds are
# exact either way.
_LOG_P = tuple(
    _F32(v)
    for v in (
        7.0376836292e-2,
        -1.1514610310e-1,
        1.1676998740e-1,
        -1.2420140846e-1,
        1.4249322787e-1,
        -1.6668057665e-1,
        2.0000714765e-1,
        -2.4999993993e-1,
        3.3333331174e-1,
    )
)
_LOG_Q1, _LOG_Q2 = _F32(-2.12194440e-4), _F32(0.693359375)
_SQRTHF = _F32(0.707106781186547524)
_MIN_NORM = np.array(0x00800000, np.int32).view(_F32)
_DP = (_F32(-0.78515625), _F32(-2.4187564849853515625e-4), _F32(-3.77489497744594108e-8))
_COS_P = (_F32(2.443315711809948e-005), _F32(-1.388731625493765e-003), _F32(4.166664568298827e-002))
_SIN_P = (_F32(-1.9515295891e-4), _F32(8.3321608736e-3), _F32(-1.6666654611e-1))
_FOPI = _F32(1.27323954473516)
_TWO_PI = _F32(2.0 * math.pi)
_ONE, _HALF = _F32(1.0), _F32(0.5)


def _log_ps(x):
    """Natural log of positive float32 values, as avx_mathfun's ``log256_ps`` computes it."""
    x = np.maximum(x, _MIN_NORM)
    bits = x.view(np.int32)
    e = ((bits >> 23) - 0x7F).astype(_F32)
    e += _ONE
    x = (bits & ~0x7F800000 | 0x3F000000).view(_F32)  # mantissa in [0.5, 1)
    small = x < _SQRTHF
    e -= small
    x = x - _ONE + np.where(small, x, _F32(0))
    z = x * x
    y = fma32(_LOG_P[0], x, _LOG_P[1])
    for p in _LOG_P[2:]:
        y = fma32(y, x, p)
    y *= x
    y = fma32(y, z, e * _LOG_Q1)
    y -= z * _HALF
    x += y
    x += e * _LOG_Q2
    return x


def _sincos_ps(x):
    """Sine and cosine of non-negative float32 values, as avx_mathfun's ``sincos256_ps``."""
    j = (x * _FOPI).astype(np.int32)
    j += 1
    j &= ~1
    y = j.astype(_F32)
    for dp in _DP:
        x = x + y * dp
    sin_sign = (j & 4) << 29  # the sign bits to flip, as int32 masks
    cos_sign = (~(j - 2) & 4) << 29
    cos_poly_for_sin = (j & 2) != 0
    z = x * x
    yc = fma32(_COS_P[0], z, _COS_P[1])
    yc = fma32(yc, z, _COS_P[2])
    yc *= z
    yc = fma32(yc, z, -(z * _HALF))
    yc += _ONE
    ys = fma32(_SIN_P[0], z, _SIN_P[1])
    ys = fma32(ys, z, _SIN_P[2])
    ys *= z
    ys = fma32(ys, x, x)
    s = np.where(cos_poly_for_sin, yc, ys)
    c = np.where(cos_poly_for_sin, ys, yc)
    s.view(np.int32)[...] ^= sin_sign
    c.view(np.int32)[...] ^= cos_sign
    return s, c


def box_muller16_f32(u, mean, std):
    """Normals from float32 uniforms ``u`` of shape (k, 16): in each row, uniforms 0-7 give the
    radii and 8-15 the angles; row outputs are r cos (first 8) and r sin (last 8)."""
    r = np.sqrt(_F32(-2.0) * _log_ps(_ONE - u[:, :8]))
    s, c = _sincos_ps(_TWO_PI * u[:, 8:])
    out = np.empty_like(u)
    mean, std = _F32(mean), _F32(std)
    if std == 1 and mean == 0:
        np.multiply(r, c, out=out[:, :8])
        np.multiply(r, s, out=out[:, 8:])
    else:
        out[:, :8] = fma32(r * c, std, mean)
        out[:, 8:] = fma32(r * s, std, mean)
    return out

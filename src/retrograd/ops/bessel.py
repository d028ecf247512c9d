"""The Bessel-family functions of ``torch.special``: bessel_j0/j1, bessel_y0/y1, modified_bessel_i0/i1,
modified_bessel_k0/k1 and their exponentially scaled forms, spherical_bessel_j0 and airy_ai.

As in PyTorch these have no derivative: their results never require grad. All are evaluated in
float64 (other floating inputs are upcast and the result cast back; integer inputs give the
default dtype).

J0, J1, Y0, Y1 (x > 0; J0 is even, J1 odd, Y0 and Y1 are nan for x < 0):

- x <= 2: the power series J_n(x) = sum_k (-1)^k (x/2)^(2k+n) / (k! (k+n)!) and (psi the
  digamma function, psi(k+1) = H_k - gamma)
      Y0(x) = (2/pi) [log(x/2) J0(x) - sum_k (-x^2/4)^k psi(k+1) / (k!)^2]
      Y1(x) = -2/(pi x) + (2/pi) log(x/2) J1(x)
              - (x/(2 pi)) sum_k (-x^2/4)^k (psi(k+1) + psi(k+2)) / (k! (k+1)!).
- 2 < x < 25: Miller's algorithm. The recurrence J_(k-1) = (2k/x) J_k - J_(k+1), run downwards
  from a high order, gives J_0, J_1, ... up to one common factor, fixed by
  J_0 + 2 sum_m J_2m = 1. The same values give Neumann's series
      Y0 = (2/pi) (log(x/2) + gamma) J0 - (4/pi) sum_m (-1)^m J_2m / m
  and its derivative Y1 = -Y0' = (2/pi) [(log(x/2) + gamma) J1 - J0/x]
      + (2/pi) sum_m (-1)^m (J_(2m-1) - J_(2m+1)) / m.
- x >= 25: Hankel's expansions J = sqrt(2/(pi x)) (P cos chi - Q sin chi),
  Y = sqrt(2/(pi x)) (P sin chi + Q cos chi), chi = x - (n/2 + 1/4) pi, with
  P = sum_k (-1)^k a_2k / x^2k, Q = sum_k (-1)^k a_(2k+1) / x^(2k+1),
  a_k = prod_{j<=k} (4n^2 - (2j-1)^2) / (k! 8^k); cos chi and sin chi are formed from cos x and
  sin x, so x is never reduced by hand.

I0, I1: the series and asymptotic expansion of ``torch.i0`` and ``torch.special.i1``
(ops/specfun.py). K0, K1 (x > 0; nan for x < 0, inf at 0):

- x <= 2: K0 = sum_k (x^2/4)^k / (k!)^2 (psi(k+1) - log(x/2)),
  K1 = 1/x + (x/2) sum_k (x^2/4)^k / (k! (k+1)!) (log(x/2) - (psi(k+1) + psi(k+2)) / 2).
- x > 2: e^x K_nu(x) = int_0^inf exp(-x (cosh t - 1)) cosh(nu t) dt by the trapezoidal rule
  (32 nodes up to where the integrand falls below e^-45); the integrand is analytic in the
  strip |Im t| < pi/2, so the rule's error falls like exp(-pi^2 / step), below 1e-16 here.

Ai (the Airy function of the first kind), zeta = (2/3) |x|^(3/2):

- |x| <= 2: Maclaurin's series Ai(x) = Ai(0) f(x) + Ai'(0) g(x),
  f = sum_k 3^k (1/3)_k x^3k / (3k)!, g = sum_k 3^k (2/3)_k x^(3k+1) / (3k+1)!.
- 2 < x < 110: Ai(x) = sqrt(x/3) K_(1/3)(zeta) / pi, K by the integral above; 0 beyond (Ai(110)
  is below the smallest double), and nan at +-inf as in PyTorch.
- -11 < x < -2: Ai(x) = sqrt(|x|) (J_(1/3)(zeta) + J_(-1/3)(zeta)) / 3, J by Miller's algorithm
  over the orders 1/3 + k and 2/3 + k (normalised by sum_m (nu + 2m) Gamma(nu + m) / m!
  J_(nu+2m)(z) = (z/2)^nu; one more step of the recurrence gives J_(-1/3)).
- x <= -11: Ai(x) = |x|^(-1/4) / sqrt(pi) [sin(zeta + pi/4) sum_k (-1)^k u_2k zeta^-2k
  - cos(zeta + pi/4) sum_k (-1)^k u_(2k+1) zeta^-(2k+1)],
  u_k = (2k+1)(2k+3)...(6k-1) / (216^k k!).
"""

import math

from .. import _dtype
from .._tensor import Tensor
from ._declare import declare
from ._registry import apply
from .specfun import _bessel_i, no_derivative_op

_GAMMA = 0.57721566490153286061  # Euler's constant
_TWO_OVER_PI = 2 / math.pi
_HANKEL_FROM = 25.0  # Hankel's expansions from here on; Miller's algorithm below


# --------------------------------------------------------------------------- J and Y
def _jy_series(xp, x, n):
    """(J_n(x), Y_n(x)) for 0 < x <= 2 by the power series (n = 0 or 1)."""
    h = x / 2
    q = -(h * h)
    lg = xp.log(h)
    term = xp.ones_like(x) if n == 0 else h.copy()  # (x/2)^n (-x^2/4)^k / (k! (k+n)!)
    j = term.copy()
    psi_k = -_GAMMA  # psi(k + 1)
    psi_kn = psi_k if n == 0 else 1 - _GAMMA  # psi(k + n + 1)
    s = term * (psi_k + psi_kn)
    for k in range(1, 30):
        term = term * q / (k * (k + n))
        psi_k += 1 / k
        psi_kn += 1 / (k + n)
        j += term
        s += term * (psi_k + psi_kn)
    if n == 0:
        y = _TWO_OVER_PI * (lg * j - s / 2)
    else:
        y = -_TWO_OVER_PI / x + _TWO_OVER_PI * lg * j - s / math.pi
    return j, y


def _miller_top(z):
    """An even starting order for Miller's algorithm that is exact to double precision for all
    arguments up to ``z``."""
    return 2 * int((z + 12 * z ** (1 / 3) + 24) / 2)


def _norm_weights(nu, count):
    """c_m = (nu + 2m) Gamma(nu + m) / m! for m < count (c_0 = Gamma(nu + 1), and for nu = 0
    c_0 = 1, c_m = 2): sum_m c_m J_(nu+2m)(z) = (z/2)^nu."""
    c = [math.gamma(nu + 1)]
    g = math.gamma(nu + 1)  # Gamma(nu + m) / m! at m = 1
    for m in range(1, count):
        if m > 1:
            g *= (nu + m - 1) / m
        c.append((nu + 2 * m) * g)
    return c


def _miller(xp, z, nu, top, neumann=False):
    """J_nu(z), J_(nu+1)(z) (and for nu = 0 the sums of Neumann's series for Y0 and Y1) by the
    downward recurrence from order nu + top (z >= 2, so nothing overflows)."""
    c = _norm_weights(nu, top // 2 + 1)
    f_up = xp.zeros_like(z)  # f_(k+1)
    f = xp.full_like(z, 1e-30)  # f_k, k = top
    norm = c[top // 2] * f
    a = xp.zeros_like(z)  # sum_m (-1)^m f_2m / m
    b = xp.zeros_like(z)  # sum_m (-1)^m (f_(2m-1) - f_(2m+1)) / m
    for k in range(top, 0, -1):
        f_down = (2 * (nu + k) / z) * f - f_up
        f_up, f = f, f_down  # now f = f_(k-1)
        i = k - 1
        if i % 2 == 0:
            norm += c[i // 2] * f
            if neumann and i > 0:
                m = i // 2
                a += ((-1) ** m / m) * f
        elif neumann:
            m = (i + 1) // 2  # f_i is f_(2m-1) of term m and f_(2m+1) of term m - 1
            w = (-1) ** m / m - ((-1) ** (m - 1) / (m - 1) if m > 1 else 0.0)
            b += w * f
    scale = (z / 2) ** nu / norm if nu else 1 / norm
    return f * scale, f_up * scale, a * scale, b * scale


def _hankel(xp, x, n, terms=20):
    """(J_n(x), Y_n(x)) for x >= 25 by Hankel's expansions (n = 0 or 1)."""
    mu = 4.0 * n * n
    inv = 1 / x
    p = xp.ones_like(x)
    q = xp.zeros_like(x)
    term = xp.ones_like(x)
    for k in range(1, 2 * terms):
        term = term * ((mu - (2 * k - 1) ** 2) / (k * 8)) * inv
        if k % 2:
            q += term if k % 4 == 1 else -term
        else:
            p += term if k % 4 == 0 else -term
    c, s = xp.cos(x), xp.sin(x)
    r = math.sqrt(0.5)
    if n == 0:  # chi = x - pi/4
        cos_chi, sin_chi = (c + s) * r, (s - c) * r
    else:  # chi = x - 3 pi/4
        cos_chi, sin_chi = (s - c) * r, -(s + c) * r
    amp = xp.sqrt(_TWO_OVER_PI / x)
    return amp * (p * cos_chi - q * sin_chi), amp * (p * sin_chi + q * cos_chi)


def _jy(xp, x, n):
    """(J_n(|x|), Y_n(|x|)) for every element (J1's sign and Y's domain are the callers')."""
    a = xp.abs(x)
    j = xp.full_like(a, xp.nan)
    y = xp.full_like(a, xp.nan)
    small = a <= 2
    if xp.any(small):
        j[small], y[small] = _jy_series(xp, a[small], n)
    mid = (a > 2) & (a < _HANKEL_FROM)
    if xp.any(mid):
        z = a[mid]
        j0, j1, sa, sb = _miller(xp, z, 0.0, _miller_top(float(z.max())), neumann=True)
        lg = xp.log(z / 2) + _GAMMA
        if n == 0:
            j[mid] = j0
            y[mid] = _TWO_OVER_PI * (lg * j0 - 2 * sa)
        else:
            j[mid] = j1
            y[mid] = _TWO_OVER_PI * (lg * j1 - j0 / z + sb)
    large = a >= _HANKEL_FROM
    if xp.any(large):
        j[large], y[large] = _hankel(xp, a[large], n)
    return j, y


def _j0(xp, x):
    return _jy(xp, x.reshape(-1), 0)[0].reshape(x.shape)


def _j1(xp, x):
    j = _jy(xp, x.reshape(-1), 1)[0]
    return xp.where(xp.signbit(x.reshape(-1)), -j, j).reshape(x.shape)


def _y(n):
    def forward(xp, x):
        flat = x.reshape(-1)
        y = _jy(xp, flat, n)[1]
        y = xp.where(flat < 0, xp.nan, xp.where(flat == 0, -xp.inf, y))
        return y.reshape(x.shape)

    return forward


# --------------------------------------------------------------------------- I and K
def _k_small(xp, x, nu):
    """K_nu(x) for 0 < x <= 2 by the series (nu = 0 or 1)."""
    h = x / 2
    q = h * h
    lg = xp.log(h)
    term = xp.ones_like(x)  # (x^2/4)^k / (k! (k+nu)!)
    psi_k = -_GAMMA
    psi_kn = psi_k if nu == 0 else 1 - _GAMMA
    if nu == 0:
        s = term * (psi_k - lg)
    else:
        s = term * (lg - (psi_k + psi_kn) / 2)
    for k in range(1, 25):
        term = term * q / (k * (k + nu))
        psi_k += 1 / k
        psi_kn += 1 / (k + nu)
        s += term * ((psi_k - lg) if nu == 0 else (lg - (psi_k + psi_kn) / 2))
    return s if nu == 0 else 1 / x + h * s


_K_NODES = 32
_K_CUTOFF = 45.0


def _k_scaled_integral(xp, x, nu):
    """e^x K_nu(x) for x > 2 (finite) by the trapezoidal rule on
    int_0^T exp(-2 x sinh(t/2)^2) cosh(nu t) dt, where 2 x sinh(T/2)^2 = 45."""
    top = 2 * xp.arcsinh(xp.sqrt(_K_CUTOFF / (2 * x)))
    step = top / _K_NODES
    total = xp.full_like(x, 0.5)
    for i in range(1, _K_NODES + 1):
        t = step * i
        sh = xp.sinh(t / 2)
        value = xp.exp(-2 * x * sh * sh)
        if nu:
            value *= xp.cosh(nu * t)
        total += value if i < _K_NODES else value / 2
    return total * step


def _k(nu, scaled):
    def forward(xp, x):
        flat = x.reshape(-1)
        out = xp.full_like(flat, xp.nan)
        small = (flat > 0) & (flat <= 2)
        if xp.any(small):
            xs = flat[small]
            k = _k_small(xp, xs, nu)
            out[small] = k * xp.exp(xs) if scaled else k
        large = (flat > 2) & (flat < xp.inf)
        if xp.any(large):
            xl = flat[large]
            k = _k_scaled_integral(xp, xl, nu)
            out[large] = k if scaled else k * xp.exp(-xl)
        out = xp.where(flat == 0, xp.inf, xp.where(flat == xp.inf, 0.0, out))
        return out.reshape(x.shape)

    return forward


# --------------------------------------------------------------------------- Airy Ai
_AI0 = 3 ** (-2 / 3) / math.gamma(2 / 3)  # Ai(0)
_AIP0 = -(3 ** (-1 / 3)) / math.gamma(1 / 3)  # Ai'(0)


def _airy_maclaurin(xp, x):
    x3 = x * x * x
    tf = xp.ones_like(x)
    tg = x.copy()
    f = tf.copy()
    g = tg.copy()
    for k in range(40):
        tf = tf * x3 / ((3 * k + 2) * (3 * k + 3))
        tg = tg * x3 / ((3 * k + 3) * (3 * k + 4))
        f += tf
        g += tg
    return _AI0 * f + _AIP0 * g


def _airy_oscillating_asymptotic(xp, a, terms=32):
    """Ai(-a) for a >= 11."""
    zeta = (2 / 3) * a * xp.sqrt(a)
    inv = 1 / zeta
    p = xp.ones_like(a)
    q = xp.zeros_like(a)
    u = 1.0
    term = xp.ones_like(a)
    for k in range(1, terms):
        u *= (6 * k - 5) * (6 * k - 3) * (6 * k - 1) / ((2 * k - 1) * 216 * k)
        term = term * inv
        if k % 2:
            q += (u if k % 4 == 1 else -u) * term
        else:
            p += (u if k % 4 == 0 else -u) * term
    phase_sin = xp.sin(zeta + math.pi / 4)
    phase_cos = xp.cos(zeta + math.pi / 4)
    return (phase_sin * p - phase_cos * q) / (math.sqrt(math.pi) * xp.sqrt(xp.sqrt(a)))


def _airy(xp, x):
    flat = x.reshape(-1)
    out = xp.full_like(flat, xp.nan)
    near = xp.abs(flat) <= 2
    if xp.any(near):
        out[near] = _airy_maclaurin(xp, flat[near])
    right = (flat > 2) & (flat < 110)  # Ai(x) < 1e-320 beyond; Ai(inf) stays nan, as in PyTorch
    out = xp.where((flat >= 110) & (flat < xp.inf), 0.0, out)
    if xp.any(right):
        xr = flat[right]
        zeta = (2 / 3) * xr * xp.sqrt(xr)
        k = _k_scaled_integral(xp, zeta, 1 / 3)
        out[right] = xp.sqrt(xr / 3) / math.pi * k * xp.exp(-zeta)
    mid = (flat < -2) & (flat > -11)
    if xp.any(mid):
        a = -flat[mid]
        zeta = (2 / 3) * a * xp.sqrt(a)
        top = _miller_top(float(zeta.max()))
        j_third = _miller(xp, zeta, 1 / 3, top)[0]
        j_two_thirds, j_five_thirds = _miller(xp, zeta, 2 / 3, top)[:2]
        j_minus_third = (4 / 3) / zeta * j_two_thirds - j_five_thirds
        out[mid] = xp.sqrt(a) * (j_third + j_minus_third) / 3
    far = flat <= -11
    if xp.any(far):
        out[far] = _airy_oscillating_asymptotic(xp, -flat[far])
    return out.reshape(x.shape)


# --------------------------------------------------------------------------- spherical j0
def _spherical_j0(xp, x):
    safe = xp.where(x == 0, 1.0, x)
    out = xp.where(x == 0, 1.0, xp.sin(safe) / safe)
    return xp.where(xp.isinf(x), 0.0, out)


# --------------------------------------------------------------------------- ops
AIRY_AI = no_derivative_op("special_airy_ai", _airy)
BESSEL_J0 = no_derivative_op("special_bessel_j0", _j0)
BESSEL_J1 = no_derivative_op("special_bessel_j1", _j1)
BESSEL_Y0 = no_derivative_op("special_bessel_y0", _y(0))
BESSEL_Y1 = no_derivative_op("special_bessel_y1", _y(1))
MODIFIED_BESSEL_I0 = no_derivative_op("special_modified_bessel_i0", lambda xp, x: _bessel_i(xp, x, 0))
MODIFIED_BESSEL_I1 = no_derivative_op("special_modified_bessel_i1", lambda xp, x: _bessel_i(xp, x, 1))
MODIFIED_BESSEL_K0 = no_derivative_op("special_modified_bessel_k0", _k(0, False))
MODIFIED_BESSEL_K1 = no_derivative_op("special_modified_bessel_k1", _k(1, False))
SCALED_MODIFIED_BESSEL_K0 = no_derivative_op("special_scaled_modified_bessel_k0", _k(0, True))
SCALED_MODIFIED_BESSEL_K1 = no_derivative_op("special_scaled_modified_bessel_k1", _k(1, True))
SPHERICAL_BESSEL_J0 = no_derivative_op("special_spherical_bessel_j0", _spherical_j0)


def _run(op, input, name):
    """``op`` on ``input`` (integer and boolean inputs as the default dtype), outside the graph:
    these functions have no derivative in PyTorch, so the result does not require grad."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    kind = input._data.dtype.kind
    if kind == "c":
        raise RuntimeError(f"\"{name}\" not implemented for '{input.dtype}' (input of shape {list(input.shape)})")
    if kind not in "fV":
        input = input.to(_dtype.get_default_dtype())
    return apply(op, (input.detach(),))


def airy_ai(input):
    """Ai(x), the Airy function of the first kind (the solution of y'' = x y that decays for
    x -> +inf). No derivative, as in PyTorch."""
    return _run(AIRY_AI, input, "airy_ai")


def bessel_j0(input):
    """J0(x), the Bessel function of the first kind of order 0. No derivative, as in PyTorch."""
    return _run(BESSEL_J0, input, "bessel_j0")


def bessel_j1(input):
    """J1(x), the Bessel function of the first kind of order 1. No derivative, as in PyTorch."""
    return _run(BESSEL_J1, input, "bessel_j1")


def bessel_y0(input):
    """Y0(x), the Bessel function of the second kind of order 0 (-inf at 0, nan for x < 0).
    No derivative, as in PyTorch."""
    return _run(BESSEL_Y0, input, "bessel_y0")


def bessel_y1(input):
    """Y1(x), the Bessel function of the second kind of order 1 (-inf at 0, nan for x < 0).
    No derivative, as in PyTorch."""
    return _run(BESSEL_Y1, input, "bessel_y1")


def modified_bessel_i0(input):
    """I0(x), the modified Bessel function of the first kind of order 0 (the values of
    ``torch.i0``). No derivative, as in PyTorch."""
    return _run(MODIFIED_BESSEL_I0, input, "modified_bessel_i0")


def modified_bessel_i1(input):
    """I1(x), the modified Bessel function of the first kind of order 1 (the values of
    ``torch.special.i1``). No derivative, as in PyTorch."""
    return _run(MODIFIED_BESSEL_I1, input, "modified_bessel_i1")


def modified_bessel_k0(input):
    """K0(x), the modified Bessel function of the second kind of order 0 (inf at 0, nan for
    x < 0). No derivative, as in PyTorch."""
    return _run(MODIFIED_BESSEL_K0, input, "modified_bessel_k0")


def modified_bessel_k1(input):
    """K1(x), the modified Bessel function of the second kind of order 1 (inf at 0, nan for
    x < 0). No derivative, as in PyTorch."""
    return _run(MODIFIED_BESSEL_K1, input, "modified_bessel_k1")


def scaled_modified_bessel_k0(input):
    """e^x K0(x), finite for large x where K0 underflows. No derivative, as in PyTorch."""
    return _run(SCALED_MODIFIED_BESSEL_K0, input, "scaled_modified_bessel_k0")


def scaled_modified_bessel_k1(input):
    """e^x K1(x), finite for large x where K1 underflows. No derivative, as in PyTorch."""
    return _run(SCALED_MODIFIED_BESSEL_K1, input, "scaled_modified_bessel_k1")


def spherical_bessel_j0(input):
    """j0(x) = sin(x) / x, the spherical Bessel function of the first kind of order 0 (1 at 0,
    0 at +-inf). No derivative, as in PyTorch."""
    return _run(SPHERICAL_BESSEL_J0, input, "spherical_bessel_j0")


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(airy_ai, torch=False, out=True, special=("airy_ai",))
declare(bessel_j0, torch=False, out=True, special=("bessel_j0",))
declare(bessel_j1, torch=False, out=True, special=("bessel_j1",))
declare(bessel_y0, torch=False, out=True, special=("bessel_y0",))
declare(bessel_y1, torch=False, out=True, special=("bessel_y1",))
declare(modified_bessel_i0, torch=False, out=True, special=("modified_bessel_i0",))
declare(modified_bessel_i1, torch=False, out=True, special=("modified_bessel_i1",))
declare(modified_bessel_k0, torch=False, out=True, special=("modified_bessel_k0",))
declare(modified_bessel_k1, torch=False, out=True, special=("modified_bessel_k1",))
declare(scaled_modified_bessel_k0, torch=False, out=True, special=("scaled_modified_bessel_k0",))
declare(scaled_modified_bessel_k1, torch=False, out=True, special=("scaled_modified_bessel_k1",))
declare(spherical_bessel_j0, torch=False, out=True, special=("spherical_bessel_j0",))

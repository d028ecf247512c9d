"""torch.special's Bessel family, Airy Ai, erfcx, i0e/i1e, zeta and the orthogonal polynomials:
values against identities that tie the functions together over their whole range (Wronskians,
recurrences, known zeros and closed forms, asymptotic expansions, numpy.polynomial), special
values, dtypes, argument forms, and gradients (gradcheck, gradgradcheck) where PyTorch has them.
The op table (table_extra_pointwise.py) has the power-series and quadrature references."""

import math

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import gradcheck, gradgradcheck

S = rg.special
INF, NAN = math.inf, math.nan


def _f64(values):
    return rg.tensor(np.asarray(values, dtype=np.float64))


def _np(fn, *args):
    return fn(*args).numpy()


# --------------------------------------------------------------------------- J, Y
def test_bessel_wronskian_over_every_method():
    # J1 Y0 - J0 Y1 = 2 / (pi x): series (x <= 2), Miller (2 < x < 25), Hankel (x >= 25)
    x = np.concatenate([np.geomspace(1e-3, 2, 50), np.linspace(2, 30, 400), np.geomspace(30, 1e5, 50)])
    t = _f64(x)
    w = S.bessel_j1(t).numpy() * S.bessel_y0(t).numpy() - S.bessel_j0(t).numpy() * S.bessel_y1(t).numpy()
    np.testing.assert_allclose(w * math.pi * x / 2, 1.0, rtol=2e-14)


@pytest.mark.parametrize(
    "fn, zeros",
    [
        (S.bessel_j0, [2.404825557695773, 5.520078110286311, 8.653727912911013, 30.63460646843198]),
        (S.bessel_j1, [3.831705970207512, 7.015586669815619, 10.17346813506272]),
        (S.bessel_y0, [0.8935769662791675, 3.957678419314858, 7.086051060301773]),
        (S.bessel_y1, [2.197141326031017, 5.429681040794135]),
    ],
)
def test_bessel_known_zeros(fn, zeros):
    assert np.abs(_np(fn, _f64(zeros))).max() < 1e-15


def test_bessel_known_values_and_symmetry():
    x = np.array([0.5, 1.0, 3.0, 10.0, 40.0])
    np.testing.assert_allclose(_np(S.bessel_j0, _f64(-x)), _np(S.bessel_j0, _f64(x)), rtol=0)
    np.testing.assert_allclose(_np(S.bessel_j1, _f64(-x)), -_np(S.bessel_j1, _f64(x)), rtol=0)
    # J0(1), J1(1), Y0(1), Y1(1) (DLMF tables)
    np.testing.assert_allclose(
        [
            S.bessel_j0(_f64(1.0)).item(),
            S.bessel_j1(_f64(1.0)).item(),
            S.bessel_y0(_f64(1.0)).item(),
            S.bessel_y1(_f64(1.0)).item(),
        ],
        [0.7651976865579666, 0.4400505857449335, 0.08825696421567696, -0.7812128213002887],
        rtol=1e-14,
    )


def test_bessel_special_values():
    x = _f64([-INF, -1.0, -0.0, 0.0, INF, NAN])
    np.testing.assert_array_equal(_np(S.bessel_j0, x)[2:4], [1.0, 1.0])
    assert np.isnan(_np(S.bessel_j0, x)[[0, 4, 5]]).all()
    np.testing.assert_array_equal(_np(S.bessel_y0, x)[2:4], [-INF, -INF])
    assert np.isnan(_np(S.bessel_y1, x)[[0, 1, 4, 5]]).all()
    assert S.bessel_y1(_f64(1e-300)).item() == pytest.approx(-2 / (math.pi * 1e-300), rel=1e-15)


# --------------------------------------------------------------------------- I, K
def test_modified_bessel_wronskian():
    # I0 K1 + I1 K0 = 1/x, and scaled: i0e K1e + i1e K0e = 1/x
    x = np.concatenate([np.geomspace(1e-4, 2, 40), np.linspace(2, 50, 200), [300.0, 700.0]])
    t = _f64(x)
    w = _np(S.modified_bessel_i0, t) * _np(S.modified_bessel_k1, t) + _np(S.modified_bessel_i1, t) * _np(
        S.modified_bessel_k0, t
    )
    np.testing.assert_allclose(w * x, 1.0, rtol=4e-15)
    x = np.geomspace(1e-4, 1e12, 200)
    t = _f64(x)
    w = _np(S.i0e, t) * _np(S.scaled_modified_bessel_k1, t) + _np(S.i1e, t) * _np(S.scaled_modified_bessel_k0, t)
    np.testing.assert_allclose(w * x, 1.0, rtol=4e-15)


def test_modified_bessel_k_small_and_large_arguments():
    # K0(x) ~ -log(x/2) - gamma, K1(x) ~ 1/x near 0; e^x K_nu(x) ~ sqrt(pi / (2x)) (1 + (4nu^2-1)/(8x))
    tiny = _f64([1e-200])
    assert S.modified_bessel_k0(tiny).item() == pytest.approx(-math.log(0.5e-200) - 0.5772156649015329, rel=1e-15)
    assert S.modified_bessel_k1(tiny).item() == pytest.approx(1e200, rel=1e-15)
    x = 1e10
    for fn, mu in ((S.scaled_modified_bessel_k0, 0.0), (S.scaled_modified_bessel_k1, 4.0)):
        assert fn(_f64([x])).item() == pytest.approx(math.sqrt(math.pi / (2 * x)) * (1 + (mu - 1) / (8 * x)), rel=1e-15)
    np.testing.assert_allclose(
        _np(S.modified_bessel_k0, _f64([1.0, 5.0])) * np.exp([1.0, 5.0]),
        _np(S.scaled_modified_bessel_k0, _f64([1.0, 5.0])),
    )


def test_modified_bessel_special_values():
    x = _f64([-INF, -1.0, -0.0, 0.0, INF, NAN])
    for fn in (S.modified_bessel_k0, S.modified_bessel_k1, S.scaled_modified_bessel_k0, S.scaled_modified_bessel_k1):
        out = _np(fn, x)
        assert np.isnan(out[[0, 1, 5]]).all()
        np.testing.assert_array_equal(out[2:5], [INF, INF, 0.0])
    np.testing.assert_array_equal(_np(S.modified_bessel_i0, _f64([0.0, 800.0])), [1.0, INF])
    np.testing.assert_array_equal(_np(S.modified_bessel_i0, x), _np(rg.i0, x))
    np.testing.assert_array_equal(_np(S.modified_bessel_i1, x), _np(S.i1, x))


# --------------------------------------------------------------------------- i0e, i1e
def test_scaled_first_kind_values():
    x = np.linspace(-15, 15, 61)
    np.testing.assert_allclose(_np(S.i0e, _f64(x)), np.i0(x) * np.exp(-np.abs(x)), rtol=1e-14)
    big = np.array([1e4, 1e8, 1e300])
    inv = 1 / big
    i0_series = 1 + inv / 8 + 9 / 128 * inv**2
    i1_series = 1 - 3 / 8 * inv - 15 / 128 * inv**2
    np.testing.assert_allclose(_np(S.i0e, _f64(big)), i0_series / np.sqrt(2 * np.pi * big), rtol=1e-11)
    np.testing.assert_allclose(_np(S.i1e, _f64(-big)), -i1_series / np.sqrt(2 * np.pi * big), rtol=1e-11)
    out = _np(S.i1e, _f64([-INF, -0.0, 0.0, INF, NAN]))
    np.testing.assert_array_equal(out[:4], [0.0, 0.0, 0.0, 0.0])
    assert np.signbit(out[0]) and np.isnan(out[4])
    np.testing.assert_array_equal(_np(S.i0e, _f64([-INF, 0.0, INF])), [0.0, 1.0, 0.0])


@pytest.mark.parametrize("fn", [S.i0e, S.i1e, S.erfcx])
def test_differentiable_functions_gradcheck(fn):
    # not at 0, where e^-|x| has its kink (i0e's derivative jumps there, as in PyTorch)
    x = rg.tensor([-25.0, -3.0, -0.7, -0.01, 0.4, 2.0, 7.5, 30.0], dtype=rg.float64, requires_grad=True)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_i1e_gradient_at_zero_is_one_half():
    x = rg.tensor([0.0], dtype=rg.float64, requires_grad=True)
    (g,) = rg.autograd.grad(S.i1e(x).sum(), x)
    assert g.item() == 0.5


# --------------------------------------------------------------------------- erfcx
def test_erfcx_values():
    x = np.linspace(-5, 5, 101)
    erfc = np.vectorize(math.erfc)
    np.testing.assert_allclose(_np(S.erfcx, _f64(x)), np.exp(x * x) * erfc(x), rtol=2e-14)
    big = np.array([1e3, 1e6, 1e100, 1e300])
    inv = 1 / big
    asymptote = (1 - inv**2 / 2 + 3 / 4 * inv**4) * inv / math.sqrt(math.pi)
    np.testing.assert_allclose(_np(S.erfcx, _f64(big)), asymptote, rtol=1e-15)
    np.testing.assert_array_equal(_np(S.erfcx, _f64([-INF, -27.0, 0.0, INF])), [INF, INF, 1.0, 0.0])
    assert np.isnan(S.erfcx(_f64([NAN])).item())
    assert S.erfcx(rg.tensor([2])).dtype == rg.float32


# --------------------------------------------------------------------------- Airy Ai
def test_airy_known_values_zeros_and_asymptote():
    np.testing.assert_allclose(
        _np(S.airy_ai, _f64([-1.0, 0.0, 1.0])), [0.5355608832923521, 0.3550280538878172, 0.1352924163128814], rtol=2e-15
    )
    zeros = [-2.338107410459767, -4.087949444130971, -5.520559828095551, -10.04017434155809, -12.82877675286576]
    assert np.abs(_np(S.airy_ai, _f64(zeros))).max() < 1e-14  # |Ai'| ~ 1 there: the zeros' own rounding
    x = np.array([20.0, 50.0, 100.0])
    z = 2 / 3 * x**1.5
    series = 1 - 5 / (72 * z) + 385 / (10368 * z**2) - 85085 / (2239488 * z**3)
    np.testing.assert_allclose(
        _np(S.airy_ai, _f64(x)), np.exp(-z) / (2 * math.sqrt(math.pi) * x**0.25) * series, rtol=1e-8
    )


def test_airy_is_continuous_where_the_method_changes():
    for edge in (-11.0, -2.0, 2.0):
        x = np.array([np.nextafter(edge, -INF), edge, np.nextafter(edge, INF)])
        out = _np(S.airy_ai, _f64(x))
        assert np.ptp(out) < 1e-14


def test_airy_special_values():
    out = _np(S.airy_ai, _f64([-INF, 200.0, 1e300, INF, NAN]))
    np.testing.assert_array_equal(out[1:3], [0.0, 0.0])
    assert np.isnan(out[[0, 3, 4]]).all()


# --------------------------------------------------------------------------- spherical j0
def test_spherical_bessel_j0():
    x = np.array([1e-300, 1e-5, 0.5, 3.0, 100.0])
    np.testing.assert_allclose(_np(S.spherical_bessel_j0, _f64(x)), np.sin(x) / x, rtol=1e-15)
    np.testing.assert_array_equal(_np(S.spherical_bessel_j0, _f64([-INF, 0.0, INF])), [0.0, 1.0, 0.0])


@pytest.mark.parametrize(
    "fn",
    [
        S.airy_ai,
        S.bessel_j0,
        S.bessel_j1,
        S.bessel_y0,
        S.bessel_y1,
        S.modified_bessel_i0,
        S.modified_bessel_i1,
        S.modified_bessel_k0,
        S.modified_bessel_k1,
        S.scaled_modified_bessel_k0,
        S.scaled_modified_bessel_k1,
        S.spherical_bessel_j0,
    ],
)
def test_no_derivative_dtypes_and_errors(fn):
    x = rg.tensor([0.5, 1.5], requires_grad=True)
    out = fn(x)
    assert out.dtype == rg.float32 and not out.requires_grad and out.grad_fn is None
    assert fn(rg.tensor([1, 2])).dtype == rg.float32
    assert fn(rg.tensor([1.0], dtype=rg.float64)).dtype == rg.float64
    with pytest.raises(TypeError):
        fn(1.0)
    with pytest.raises(RuntimeError):
        fn(rg.tensor([1 + 1j]))


# --------------------------------------------------------------------------- polynomials
def _basis(n):
    return np.eye(n + 1)[n]


X = np.concatenate([np.linspace(-1.5, 1.5, 61), [-1.0, 1.0]])
P = np.polynomial


@pytest.mark.parametrize("n", [0, 1, 2, 5, 6, 7, 12, 30])
def test_polynomials_against_numpy_polynomial(n):
    t = _f64(X)
    np.testing.assert_allclose(
        _np(S.chebyshev_polynomial_t, t, n), P.chebyshev.chebval(X, _basis(n)), rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(
        _np(S.hermite_polynomial_h, t, n), P.hermite.hermval(X, _basis(n)), rtol=1e-12, atol=1e-9
    )
    np.testing.assert_allclose(
        _np(S.hermite_polynomial_he, t, n), P.hermite_e.hermeval(X, _basis(n)), rtol=1e-12, atol=1e-9
    )
    np.testing.assert_allclose(
        _np(S.legendre_polynomial_p, t, n), P.legendre.legval(X, _basis(n)), rtol=1e-12, atol=1e-12
    )
    lx = np.linspace(-2, 20, 45)
    np.testing.assert_allclose(
        _np(S.laguerre_polynomial_l, _f64(lx), n), P.laguerre.lagval(lx, _basis(n)), rtol=1e-11, atol=1e-11
    )


@pytest.mark.parametrize("n", [2, 5, 7, 12, 30])
def test_chebyshev_kinds_relations(n):
    # U_n - U_(n-2) = 2 T_n, V_n = U_n - U_(n-1), W_n = U_n + U_(n-1), shifted p*_n(x) = p_n(2x - 1)
    t = _f64(X)
    u = _np(S.chebyshev_polynomial_u, t, n)
    u1 = _np(S.chebyshev_polynomial_u, t, n - 1)
    u2 = _np(S.chebyshev_polynomial_u, t, n - 2)
    np.testing.assert_allclose(u - u2, 2 * _np(S.chebyshev_polynomial_t, t, n), rtol=1e-12, atol=1e-11)
    np.testing.assert_allclose(_np(S.chebyshev_polynomial_v, t, n), u - u1, rtol=1e-12, atol=1e-11)
    np.testing.assert_allclose(_np(S.chebyshev_polynomial_w, t, n), u + u1, rtol=1e-12, atol=1e-11)
    half = _f64((X + 1) / 2)
    for kind in "tuvw":
        shifted = getattr(S, f"shifted_chebyshev_polynomial_{kind}")
        plain = getattr(S, f"chebyshev_polynomial_{kind}")
        np.testing.assert_allclose(_np(shifted, half, n), _np(plain, t, n), rtol=1e-12, atol=1e-11)


def test_polynomial_degrees_and_special_points():
    x = _f64([-1.0, -0.5, 0.0, 0.5, 1.0])
    for n in (-1.0, -5.0, NAN, INF, -INF):
        np.testing.assert_array_equal(_np(S.legendre_polynomial_p, x, n), 0.0)
    np.testing.assert_array_equal(_np(S.chebyshev_polynomial_t, x, 2.9), _np(S.chebyshev_polynomial_t, x, 2))
    np.testing.assert_array_equal(_np(S.chebyshev_polynomial_t, x, -0.5), 1.0)
    big = 10**9  # the trigonometric forms: no recurrence of 10^9 steps
    np.testing.assert_allclose(_np(S.chebyshev_polynomial_u, _f64([1.0, -1.0]), big), [big + 1, big + 1])
    np.testing.assert_allclose(_np(S.chebyshev_polynomial_w, _f64([1.0, -1.0]), big + 1), [2 * big + 3, -1.0])
    np.testing.assert_allclose(_np(S.chebyshev_polynomial_v, _f64([1.0, -1.0]), big), [1.0, 2 * big + 1])
    assert S.chebyshev_polynomial_t(_f64([0.5]), 3 * big).item() == pytest.approx(math.cos(big * math.pi), abs=1e-6)
    # overflow becomes inf, then nan further along the recurrence
    out = _np(S.hermite_polynomial_h, _f64([INF]), rg.tensor([1.0, 2.0, 3.0]))
    assert out[0] == INF and out[1] == INF and np.isnan(out[2])


def test_polynomial_argument_forms():
    x = rg.tensor([[0.2], [0.7]])
    n = rg.tensor([1, 2, 3])
    out = S.legendre_polynomial_p(x, n)
    assert out.shape == (2, 3) and out.dtype == rg.float32
    want = [[P.legendre.legval(a, _basis(k)) for k in (1, 2, 3)] for a in (0.2, 0.7)]
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-6)
    assert S.hermite_polynomial_h(0.5, rg.tensor([3.0], dtype=rg.float64)).dtype == rg.float64
    assert S.hermite_polynomial_h(rg.tensor([1, 2]), 3).dtype == rg.float32
    assert S.hermite_polynomial_h(rg.tensor([1.0], dtype=rg.float64), rg.tensor([2.0])).dtype == rg.float64
    with pytest.raises(TypeError):
        S.hermite_polynomial_h(0.5, 3)
    with pytest.raises(RuntimeError):
        S.hermite_polynomial_h(rg.tensor([1j]), 3)
    out = S.laguerre_polynomial_l(rg.tensor([0.5], requires_grad=True), rg.tensor(2.0, requires_grad=True))
    assert not out.requires_grad and out.grad_fn is None


# --------------------------------------------------------------------------- zeta
def test_zeta_closed_forms_and_recurrence():
    x = _f64([2.0, 4.0, 6.0])
    np.testing.assert_allclose(S.zeta(x, 1.0).numpy(), [math.pi**2 / 6, math.pi**4 / 90, math.pi**6 / 945], rtol=1e-15)
    # zeta(x, 1/2) = (2^x - 1) zeta(x)
    xs = np.array([1.5, 2.5, 7.0, 30.0])
    np.testing.assert_allclose(S.zeta(_f64(xs), 0.5).numpy(), (2**xs - 1) * S.zeta(_f64(xs), 1.0).numpy(), rtol=2e-15)
    # zeta(x, q) - zeta(x, q + 1) = q^-x, over small and large q and x
    xg, qg = np.meshgrid([1.1, 2.0, 3.7, 12.0, 60.0], [0.01, 0.7, 3.0, 45.0, 1e4])
    z0, z1 = S.zeta(_f64(xg), _f64(qg)).numpy(), S.zeta(_f64(xg), _f64(qg + 1)).numpy()
    # the subtraction itself loses the digits of zeta(x, q) that cancel: compare at that scale
    assert (np.abs((z0 - z1) - qg**-xg) <= 1e-12 * qg**-xg + 4e-16 * z0).all()
    # integer x and negative non-integer q: the series summed through q < 0
    assert S.zeta(_f64([2.0]), -0.5).item() == pytest.approx(8 + S.zeta(_f64([2.0]), 1.5).item(), rel=1e-15)


def test_zeta_special_values():
    cases = [
        ((1.0, 2.0), INF),
        ((0.5, 2.0), NAN),
        ((-INF, 2.0), NAN),
        ((2.0, 0.0), INF),
        ((2.0, -3.0), INF),
        ((2.5, -0.5), NAN),
        ((2.0, INF), NAN),
        ((INF, 0.5), INF),
        ((INF, 1.0), 1.0),
        ((INF, 2.0), NAN),
        ((NAN, -1.0), INF),
        ((NAN, 2.0), NAN),
    ]
    for (x, q), want in cases:
        got = S.zeta(_f64([x]), _f64([q])).item()
        assert (math.isnan(got) and math.isnan(want)) or got == want, (x, q, got)


def test_zeta_gradients():
    q = rg.tensor([0.3, 1.0, 2.5, 40.0], dtype=rg.float64, requires_grad=True)
    assert gradcheck(lambda t: S.zeta(3.5, t), (q,))
    assert gradgradcheck(lambda t: S.zeta(2.5, t), (q,))
    x = rg.tensor([2.0, 3.0], dtype=rg.float64, requires_grad=True)
    out = S.zeta(x, _f64([1.0, 2.0]))
    assert out.requires_grad
    with pytest.raises(NotImplementedError, match="zeta"):
        rg.autograd.grad(out.sum(), x)

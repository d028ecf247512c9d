"""The families added on transforms and the rest: Gumbel, HalfNormal, HalfCauchy, Cauchy,
Weibull, Pareto, Kumaraswamy, LogisticNormal, StudentT, Chi2, FisherSnedecor, Geometric,
NegativeBinomial, Multinomial, RelaxedBernoulli, RelaxedOneHotCategorical, MixtureSameFamily,
InverseGamma, ContinuousBernoulli and OneHotCategoricalStraightThrough: values against closed
forms written with ``math``/NumPy, sample moments, gradients, validation, and their KL
divergences against Monte Carlo estimates."""

import math

import numpy as np
import pytest

import retrograd as torch
from retrograd import distributions as D
from retrograd.distributions import constraints
from retrograd.autograd import gradcheck

lg = np.vectorize(math.lgamma)
EG = 0.5772156649015329


def t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


LOC, SCALE = np.array([0.3, -1.2]), np.array([0.7, 2.0])
V = np.array([0.5, 0.9])


def _check(dist, value, log_prob, mean=None, variance=None, entropy=None, rtol=1e-10):
    np.testing.assert_allclose(dist.log_prob(t(value)).detach().numpy(), log_prob, rtol=rtol, atol=1e-12)
    for got, want in (
        (dist.mean if mean is not None else None, mean),
        (dist.variance if variance is not None else None, variance),
    ):
        if want is not None:
            np.testing.assert_allclose(got.detach().numpy(), want, rtol=rtol)
    if entropy is not None:
        np.testing.assert_allclose(dist.entropy().detach().numpy(), entropy, rtol=rtol)


def test_gumbel_cauchy_half_families():
    z = (V - LOC) / SCALE
    _check(
        D.Gumbel(t(LOC), t(SCALE)),
        V,
        -np.log(SCALE) - z - np.exp(-z),
        LOC + EG * SCALE,
        math.pi**2 * SCALE**2 / 6,
        np.log(SCALE) + EG + 1,
    )
    c = D.Cauchy(t(LOC), t(SCALE))
    _check(c, V, -math.log(math.pi) - np.log(SCALE) - np.log1p(z**2), entropy=np.log(4 * math.pi * SCALE))
    np.testing.assert_allclose(c.cdf(t(V)).numpy(), np.arctan(z) / math.pi + 0.5)
    np.testing.assert_allclose(c.icdf(c.cdf(t(V))).numpy(), V, rtol=1e-10)
    assert np.isnan(c.mean.numpy()).all() and np.isinf(c.variance.numpy()).all()
    s = SCALE
    hn = D.HalfNormal(t(s))
    _check(
        hn,
        V,
        math.log(2) - 0.5 * math.log(2 * math.pi) - np.log(s) - V**2 / (2 * s**2),
        s * math.sqrt(2 / math.pi),
        s**2 * (1 - 2 / math.pi),
        0.5 * math.log(math.pi / 2) + np.log(s) + 0.5,
    )
    np.testing.assert_allclose(hn.cdf(t(V)).numpy(), [math.erf(v / (si * math.sqrt(2))) for v, si in zip(V, s)])
    hc = D.HalfCauchy(t(s))
    _check(hc, V, math.log(2 / math.pi) - np.log(s) - np.log1p((V / s) ** 2), entropy=np.log(2 * math.pi * s))
    assert D.HalfNormal(t(s), validate_args=False).log_prob(t([-1.0, 0.5]))[0].item() == -math.inf


def test_weibull_pareto_kumaraswamy():
    lam, k = np.array([0.7, 2.0]), np.array([1.5, 0.8])
    _check(
        D.Weibull(t(lam), t(k)),
        V,
        np.log(k / lam) + (k - 1) * np.log(V / lam) - (V / lam) ** k,
        lam * np.exp(lg(1 + 1 / k)),
        lam**2 * (np.exp(lg(1 + 2 / k)) - np.exp(lg(1 + 1 / k)) ** 2),
        EG * (1 - 1 / k) + np.log(lam / k) + 1,
    )
    xm, a = np.array([0.3, 0.5]), np.array([2.5, 3.0])
    _check(
        D.Pareto(t(xm), t(a)),
        V,
        np.log(a) + a * np.log(xm) - (a + 1) * np.log(V),
        a * xm / (a - 1),
        xm**2 * a / ((a - 1) ** 2 * (a - 2)),
        np.log(xm / a) + 1 / a + 1,
    )
    a, b = np.array([0.7, 2.0]), np.array([1.5, 3.0])
    mean = b * np.exp(lg(1 + 1 / a) + lg(b) - lg(1 + 1 / a + b))
    m2 = b * np.exp(lg(1 + 2 / a) + lg(b) - lg(1 + 2 / a + b))
    _check(
        D.Kumaraswamy(t(a), t(b)),
        V,
        np.log(a * b) + (a - 1) * np.log(V) + (b - 1) * np.log1p(-(V**a)),
        mean,
        m2 - mean**2,
        rtol=1e-9,
    )
    # the mode, where the density's derivative vanishes (a, b > 1); NaN when a or b < 1
    mode = D.Kumaraswamy(t([2.0, 0.5, 2.0]), t([3.0, 3.0, 0.5])).mode.numpy()
    assert mode[0] == pytest.approx(((2 - 1) / (2 * 3 - 1)) ** 0.5) and np.isnan(mode[1:]).all()
    x = np.linspace(0.01, 0.99, 9801)
    assert abs(x[np.argmax(np.log(x) + 2 * np.log1p(-(x**2)))] - mode[0]) < 2e-4


def test_studentt_chi2_fisher():
    nu = np.array([3.5, 6.0])
    z = (V - LOC) / SCALE
    lp = lg((nu + 1) / 2) - lg(nu / 2) - 0.5 * np.log(nu * math.pi) - np.log(SCALE) - (nu + 1) / 2 * np.log1p(z**2 / nu)
    st = D.StudentT(t(nu), t(LOC), t(SCALE))
    _check(st, V, lp, LOC, SCALE**2 * nu / (nu - 2))
    assert np.isnan(D.StudentT(t([0.5])).mean.numpy()).all() and np.isinf(D.StudentT(t([1.5])).variance.numpy()).all()
    k = np.array([3.5, 6.0])
    chi = D.Chi2(t(k))
    _check(chi, V, (k / 2 - 1) * np.log(V) - V / 2 - k / 2 * math.log(2) - lg(k / 2), k, 2 * k)
    np.testing.assert_allclose(chi.df.detach().numpy(), k)
    d1, d2 = np.array([3.5, 6.0]), np.array([5.0, 9.0])
    lbeta = lg(d1 / 2) + lg(d2 / 2) - lg((d1 + d2) / 2)
    lp = 0.5 * (d1 * np.log(d1 * V) + d2 * np.log(d2) - (d1 + d2) * np.log(d1 * V + d2)) - np.log(V) - lbeta
    var = 2 * d2**2 * (d1 + d2 - 2) / (d1 * (d2 - 2) ** 2 * (d2 - 4))
    _check(D.FisherSnedecor(t(d1), t(d2)), V, lp, d2 / (d2 - 2), var)


def test_count_families():
    p = np.array([0.3, 0.8])
    x = np.array([2.0, 0.0])
    g = D.Geometric(t(p))
    ent = (-(1 - p) * np.log(1 - p) - p * np.log(p)) / p
    _check(g, x, x * np.log(1 - p) + np.log(p), (1 - p) / p, (1 - p) / p**2, ent)
    assert D.Geometric(t([1.0])).log_prob(t([0.0])).item() == 0.0
    r = 3.5
    x = np.array([2.0, 5.0])
    nb = D.NegativeBinomial(r, t(p))
    _check(
        nb, x, lg(x + r) - lg(r) - lg(x + 1) + r * np.log(1 - p) + x * np.log(p), r * p / (1 - p), r * p / (1 - p) ** 2
    )
    q = np.array([0.2, 0.3, 0.5])
    counts = np.array([1.0, 1.0, 3.0])
    m = D.Multinomial(5, t(q))
    _check(m, counts, math.lgamma(6) - lg(counts + 1).sum() + (counts * np.log(q)).sum(), 5 * q, 5 * q * (1 - q))
    # entropy by enumerating every outcome of 5 draws in 3 categories
    outcomes = [(i, j, 5 - i - j) for i in range(6) for j in range(6 - i)]
    logp = np.array(
        [
            math.lgamma(6) - sum(math.lgamma(c + 1) for c in o) + sum(c * math.log(w) for c, w in zip(o, q))
            for o in outcomes
        ]
    )
    assert m.entropy().item() == pytest.approx(-(np.exp(logp) * logp).sum(), rel=1e-10)
    with pytest.raises(NotImplementedError, match="inhomogeneous total_count"):
        D.Multinomial(t([5.0]), t(q))


def test_inverse_gamma_and_continuous_bernoulli():
    a, b = np.array([2.5, 3.5]), np.array([0.7, 2.0])
    _check(
        D.InverseGamma(t(a), t(b)),
        V,
        a * np.log(b) - lg(a) - (a + 1) * np.log(V) - b / V,
        b / (a - 1),
        b**2 / ((a - 1) ** 2 * (a - 2)),
        a + np.log(b) + lg(a) - (1 + a) * np.array([_digamma(x) for x in a]),
        rtol=1e-8,  # the numerical digamma
    )
    assert np.isinf(D.InverseGamma(t([0.5]), t([1.0])).mean.numpy()).all()
    p = np.array([0.2, 0.9])
    c = 2 * np.arctanh(1 - 2 * p) / (1 - 2 * p)
    mean = p / (2 * p - 1) + 1 / (2 * np.arctanh(1 - 2 * p))
    var = p * (p - 1) / (1 - 2 * p) ** 2 + 1 / (2 * np.arctanh(1 - 2 * p)) ** 2
    cb = D.ContinuousBernoulli(t(p))
    _check(cb, V, np.log(c) + V * np.log(p) + (1 - V) * np.log1p(-p), mean, var)
    # the cdf is the integral of the density; icdf inverts it; near p = 1/2 the density is ~uniform
    grid = np.linspace(0, V[0], 20001)
    dens = c[0] * p[0] ** grid * (1 - p[0]) ** (1 - grid)
    integral = np.sum((dens[1:] + dens[:-1]) / 2) * (grid[1] - grid[0])
    assert cb.cdf(t(V))[0].item() == pytest.approx(integral, rel=1e-8)
    np.testing.assert_allclose(cb.icdf(cb.cdf(t(V))).numpy(), V, rtol=1e-10)
    half = D.ContinuousBernoulli(t([0.5]))
    assert half.log_prob(t([0.3])).item() == pytest.approx(0.0, abs=1e-12)
    assert half.mean.item() == pytest.approx(0.5) and half.variance.item() == pytest.approx(1 / 12)


def test_one_hot_straight_through():
    p = t([0.2, 0.3, 0.5], grad=True)
    torch.manual_seed(1)
    s = D.OneHotCategoricalStraightThrough(p).rsample((4,))
    assert ((s == 0) | (s == 1)).all() and (s.sum(-1) == 1).all()
    (s * torch.arange(3.0, dtype=torch.float64)).sum().backward()
    # the gradient is that of 4 * probs . [0, 1, 2] through the normalisation of p
    probs_grad = 4 * (np.arange(3.0) - (np.arange(3.0) * [0.2, 0.3, 0.5]).sum())
    np.testing.assert_allclose(p.grad.numpy(), probs_grad, rtol=1e-12)


def _digamma(x):
    h = 1e-5
    return (math.lgamma(x + h) - math.lgamma(x - h)) / (2 * h)


def test_relaxed_bernoulli_density():
    lam, p = 0.7, np.array([0.3, 0.8])
    alpha = p / (1 - p)
    y = V
    dens = lam * alpha * y ** (-lam - 1) * (1 - y) ** (-lam - 1) / (alpha * y ** (-lam) + (1 - y) ** (-lam)) ** 2
    d = D.RelaxedBernoulli(t(lam), probs=t(p))
    np.testing.assert_allclose(d.log_prob(t(y)).numpy(), np.log(dens), rtol=1e-10)
    assert d.temperature.item() == lam and d.rsample((4,)).shape == (4, 2)


def test_relaxed_one_hot_and_logistic_normal_live_on_the_simplex():
    torch.manual_seed(0)
    d = D.RelaxedOneHotCategorical(t(0.5), logits=t([[0.1, 2.0, -1.0]]))
    s = d.rsample((50,))
    assert s.shape == (50, 1, 3) and torch.allclose(s.sum(-1), torch.ones(50, 1, dtype=torch.float64))
    assert torch.isfinite(d.log_prob(s)).all() and d.event_shape == (3,)
    ln = D.LogisticNormal(t(LOC), t(SCALE))
    s = ln.rsample((20,))
    assert (
        s.shape == (20, 3) and ln.event_shape == (3,) and torch.allclose(s.sum(-1), torch.ones(20, dtype=torch.float64))
    )
    assert torch.isfinite(ln.log_prob(s)).all()
    np.testing.assert_allclose(ln.loc.detach().numpy(), LOC)


def test_mixture_same_family():
    w, mu, sd = np.array([0.3, 0.7]), np.array([0.0, 1.0]), np.array([1.0, 0.5])
    mix = D.MixtureSameFamily(D.Categorical(t(w)), D.Normal(t(mu), t(sd)))
    dens = (w * np.exp(-((0.4 - mu) ** 2) / (2 * sd**2)) / (sd * math.sqrt(2 * math.pi))).sum()
    assert mix.log_prob(t(0.4)).item() == pytest.approx(math.log(dens), rel=1e-12)
    m = (w * mu).sum()
    assert mix.mean.item() == pytest.approx(m) and mix.variance.item() == pytest.approx(
        (w * (sd**2 + mu**2)).sum() - m**2
    )
    assert mix.cdf(t(0.4)).item() == pytest.approx(
        sum(wi * 0.5 * (1 + math.erf((0.4 - a) / (s * 2**0.5))) for wi, a, s in zip(w, mu, sd))
    )
    # batched components with vector events
    comp = D.Independent(D.Normal(torch.zeros(4, 2, 3), torch.ones(4, 2, 3)), 1)
    bm = D.MixtureSameFamily(D.Categorical(torch.ones(4, 2)), comp)
    assert bm.batch_shape == (4,) and bm.event_shape == (3,) and bm.sample((5,)).shape == (5, 4, 3)
    assert bm.log_prob(bm.sample()).shape == (4,) and bm.expand((2, 4)).sample().shape == (2, 4, 3)
    with pytest.raises(ValueError, match="does not equal"):
        D.MixtureSameFamily(D.Categorical(torch.ones(3)), D.Normal(torch.zeros(2), torch.ones(2)))
    with pytest.raises(ValueError, match="Categorical"):
        D.MixtureSameFamily(D.Normal(t(0.0), t(1.0)), D.Normal(torch.zeros(2), torch.ones(2)))


MOMENTS = [
    (lambda: D.Gumbel(t(0.5), t(2.0)), 0.5 + 2 * EG, (math.pi * 2) ** 2 / 6),
    (lambda: D.HalfNormal(t(1.5)), 1.5 * math.sqrt(2 / math.pi), 1.5**2 * (1 - 2 / math.pi)),
    (
        lambda: D.Weibull(t(2.0), t(1.5)),
        2 * math.gamma(1 + 1 / 1.5),
        4 * (math.gamma(1 + 2 / 1.5) - math.gamma(1 + 1 / 1.5) ** 2),
    ),
    (lambda: D.Pareto(t(1.0), t(6.0)), 6 / 5, 6 / (25 * 4)),
    (lambda: D.Kumaraswamy(t(2.0), t(3.0)), None, None),
    (lambda: D.StudentT(t(8.0), t(1.0), t(2.0)), 1.0, 4 * 8 / 6),
    (lambda: D.Chi2(t(3.0)), 3.0, 6.0),
    (lambda: D.FisherSnedecor(t(6.0), t(12.0)), 12 / 10, 2 * 144 * 16 / (6 * 100 * 8)),
    (lambda: D.Geometric(t(0.3)), 0.7 / 0.3, 0.7 / 0.09),
    (lambda: D.NegativeBinomial(t(3.5), t(0.4)), 3.5 * 0.4 / 0.6, 3.5 * 0.4 / 0.36),
    (lambda: D.InverseGamma(t(5.0), t(2.0)), 0.5, 4 / (16 * 3)),
    (lambda: D.ContinuousBernoulli(t(0.2)), None, None),
    (lambda: D.MixtureSameFamily(D.Categorical(t([0.3, 0.7])), D.Normal(t([0.0, 2.0]), t([1.0, 0.5]))), None, None),
]


@pytest.mark.parametrize("make, mean, var", MOMENTS)
def test_sample_moments(make, mean, var):
    torch.manual_seed(11)
    d = make()
    s = d.sample((40000,)).numpy()
    mean = d.mean.item() if mean is None else mean
    var = d.variance.item() if var is None else var
    assert s.mean() == pytest.approx(mean, rel=0.05, abs=0.02)
    assert s.var() == pytest.approx(var, rel=0.1)


def test_multinomial_samples():
    torch.manual_seed(2)
    s = D.Multinomial(10, t([0.2, 0.3, 0.5])).sample((4000,))
    assert s.shape == (4000, 3) and (s.sum(-1) == 10).all() and s.dtype == torch.float64
    np.testing.assert_allclose(s.mean(0).numpy(), [2.0, 3.0, 5.0], rtol=0.05)


def _seeded(fn):
    def f(*args):
        torch.manual_seed(0)
        return fn(*args)

    return f


@pytest.mark.parametrize(
    "fn, params",
    [
        (
            lambda m, s: D.Gumbel(m, s).rsample((2,)) + D.Gumbel(m, s).log_prob(t(V)) + D.Gumbel(m, s).entropy(),
            (LOC, SCALE),
        ),
        (lambda s: D.HalfNormal(s).rsample((2,)) + D.HalfNormal(s).log_prob(t(V)), (SCALE,)),
        (lambda s: D.HalfCauchy(s).rsample((2,)) + D.HalfCauchy(s).log_prob(t(V)), (SCALE,)),
        (
            lambda m, s: D.Cauchy(m, s).rsample((2,)) + D.Cauchy(m, s).log_prob(t(V)) + D.Cauchy(m, s).cdf(t(V)),
            (LOC, SCALE),
        ),
        (
            lambda a, b: D.Weibull(a, b).rsample((2,)) + D.Weibull(a, b).log_prob(t(V)) + D.Weibull(a, b).entropy(),
            (SCALE, [1.5, 0.8]),
        ),
        (lambda a, b: D.Pareto(a, b).rsample((2,)) + D.Pareto(a, b).log_prob(t(V)), ([0.3, 0.5], [2.5, 3.0])),
        (
            lambda a, b: (
                D.Kumaraswamy(a, b).rsample((2,)) + D.Kumaraswamy(a, b).log_prob(t(V)) + D.Kumaraswamy(a, b).entropy()
            ),
            ([0.7, 2.0], [1.5, 3.0]),
        ),
        (lambda m, s: D.LogisticNormal(m, s).rsample((2,)), (LOC, SCALE)),
        (lambda m, s: D.LogisticNormal(m, s).log_prob(t([0.2, 0.5, 0.3])), (LOC, SCALE)),
        (lambda n, m, s: D.StudentT(n, m, s).log_prob(t(V)) + D.StudentT(n, m, s).entropy(), ([3.5, 6.0], LOC, SCALE)),
        (lambda m, s: D.StudentT(t([3.5, 6.0]), m, s).rsample((2,)), (LOC, SCALE)),
        (lambda a, b: D.FisherSnedecor(a, b).log_prob(t(V)), ([3.5, 6.0], [5.0, 9.0])),
        (lambda p: D.Geometric(p).log_prob(t([2.0, 0.0])) + D.Geometric(p).entropy(), ([0.3, 0.8],)),
        (lambda r, p: D.NegativeBinomial(r, p).log_prob(t([2.0, 5.0])), ([3.5, 1.2], [0.3, 0.8])),
        (
            lambda p: D.Multinomial(5, p).log_prob(t([1.0, 1.0, 3.0])) + D.Multinomial(5, p).entropy(),
            ([0.2, 0.3, 0.5],),
        ),
        (
            lambda tmp, p: (
                D.RelaxedBernoulli(tmp, probs=p).rsample((2,)) + D.RelaxedBernoulli(tmp, probs=p).log_prob(t(V))
            ),
            (0.7, [0.3, 0.8]),
        ),
        (lambda tmp, lo: D.RelaxedOneHotCategorical(tmp, logits=lo).rsample((2,)), (0.7, [0.1, 2.0, -1.0])),
        (
            lambda w, m, s: D.MixtureSameFamily(D.Categorical(w), D.Normal(m, s)).log_prob(t(V)),
            ([0.3, 0.7], [0.0, 1.0], [1.0, 0.5]),
        ),
    ],
)
def test_gradcheck(fn, params):
    assert gradcheck(_seeded(fn), tuple(t(p, grad=True) for p in params))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: D.Gumbel(t([0.0]), t([-1.0])), "scale"),
        (lambda: D.HalfNormal(t([0.0])), "scale"),
        (lambda: D.HalfCauchy(t([-2.0])), "scale"),
        (lambda: D.Cauchy(t([0.0]), t([0.0])), "scale"),
        (lambda: D.Weibull(t([1.0]), t([-1.0])), "concentration"),
        (lambda: D.Pareto(t([1.0]), t([0.0])), "rate"),  # as PyTorch: its base Exponential's check
        (lambda: D.Kumaraswamy(t([1.0]), t([-1.0])), "concentration0"),
        (lambda: D.StudentT(t([-1.0])), "df"),
        (lambda: D.Chi2(t([0.0])), "df"),
        (lambda: D.FisherSnedecor(t([1.0]), t([-1.0])), "concentration"),  # as PyTorch: its Gamma's check
        (lambda: D.Geometric(t([0.0])), "to be positive"),
        (lambda: D.Geometric(t([1.5])), "probs"),
        (lambda: D.NegativeBinomial(2.0, t([1.0])), "probs"),
        (lambda: D.NegativeBinomial(-2.0, t([0.5])), "total_count"),
        (lambda: D.Multinomial(3, t([-0.5, 1.5])), "probs"),
        (lambda: D.LogisticNormal(t([0.0]), t([0.0])), "scale"),
        (lambda: D.RelaxedBernoulli(t(0.5), probs=t([1.5])), "probs"),
        (lambda: D.Pareto(t([1.0]), t([2.0])).log_prob(t([0.5])), "support"),
        (lambda: D.HalfNormal(t([1.0])).log_prob(t([-0.5])), "support"),
        (lambda: D.Geometric(t([0.5])).log_prob(t([1.5])), "support"),
        (lambda: D.Kumaraswamy(t([1.0]), t([2.0])).log_prob(t([1.5])), "support"),
        (lambda: D.InverseGamma(t([1.0]), t([-2.0])), "rate"),
        (lambda: D.ContinuousBernoulli(t([1.5]), validate_args=True), "probs has invalid values"),
        (lambda: D.ContinuousBernoulli(t([0.5])).log_prob(t([1.5])), "support"),
    ],
)
def test_validation(call, match):
    with pytest.raises(ValueError, match=match):
        call()


KL_PAIRS = [
    (lambda: D.Gumbel(t(0.3), t(1.2)), lambda: D.Gumbel(t(-0.5), t(2.0))),
    (lambda: D.Gumbel(t(0.3), t(1.2)), lambda: D.Normal(t(-0.5), t(2.0))),
    (lambda: D.Normal(t(0.3), t(1.2)), lambda: D.Gumbel(t(-0.5), t(2.0))),
    (lambda: D.Exponential(t(1.3)), lambda: D.Gumbel(t(-0.5), t(2.0))),
    (lambda: D.Uniform(t(0.3), t(1.5)), lambda: D.Gumbel(t(-0.5), t(2.0))),
    (lambda: D.Gamma(t(2.5), t(1.5)), lambda: D.Gumbel(t(-0.5), t(2.0))),
    (lambda: D.HalfNormal(t(1.2)), lambda: D.HalfNormal(t(0.7))),
    (lambda: D.Pareto(t(1.0), t(3.0)), lambda: D.Pareto(t(0.5), t(2.0))),
    (lambda: D.Pareto(t(1.0), t(3.0)), lambda: D.Exponential(t(0.8))),
    (lambda: D.Cauchy(t(0.3), t(1.2)), lambda: D.Cauchy(t(-0.5), t(2.0))),
    (lambda: D.Geometric(t(0.3)), lambda: D.Geometric(t(0.6))),
    (lambda: D.ContinuousBernoulli(t(0.3)), lambda: D.ContinuousBernoulli(t(0.8))),
    (
        lambda: D.TransformedDistribution(D.Normal(t(0.3), t(1.2)), D.ExpTransform()),
        lambda: D.TransformedDistribution(D.Normal(t(-0.5), t(2.0)), D.ExpTransform()),
    ),
]


@pytest.mark.parametrize("make_p, make_q", KL_PAIRS)
def test_kl_matches_monte_carlo(make_p, make_q):
    torch.manual_seed(5)
    p, q = make_p(), make_q()
    x = p.sample((100000,))
    mc = (p.log_prob(x) - q.log_prob(x)).mean().item()
    kl = D.kl_divergence(p, q).item()
    assert kl >= 0 and kl == pytest.approx(mc, rel=0.05, abs=0.01)


def test_kl_special_cases():
    assert D.kl_divergence(D.Pareto(t(0.5), t(3.0)), D.Pareto(t(1.0), t(2.0))).item() == math.inf
    assert D.kl_divergence(D.Pareto(t(1.0), t(0.5)), D.Exponential(t(1.0))).item() == math.inf
    with pytest.raises(NotImplementedError):
        D.kl_divergence(D.Weibull(t(1.0), t(2.0)), D.Weibull(t(1.0), t(3.0)))


def test_expand_keeps_the_family():
    for d in [
        D.Gumbel(t(0.3), t(1.2)),
        D.HalfNormal(t(1.2)),
        D.HalfCauchy(t(1.2)),
        D.Cauchy(t(0.3), t(1.2)),
        D.Weibull(t(1.0), t(2.0)),
        D.Pareto(t(1.0), t(3.0)),
        D.Kumaraswamy(t(1.0), t(2.0)),
        D.StudentT(t(3.0)),
        D.Chi2(t(3.0)),
        D.FisherSnedecor(t(3.0), t(5.0)),
        D.Geometric(t(0.3)),
        D.NegativeBinomial(t(3.0), t(0.3)),
        D.RelaxedBernoulli(t(0.5), t(0.3)),
    ]:
        e = d.expand((3,))
        assert type(e) is type(d) and e.batch_shape == (3,) and e.sample().shape == (3,)
        np.testing.assert_allclose(e.log_prob(d.sample((3,))).shape, (3,))
    e = D.RelaxedOneHotCategorical(t(0.5), t([0.2, 0.8])).expand((3,))
    assert e.sample().shape == (3, 2)
    e = D.Multinomial(4, t([0.2, 0.8])).expand((3,))
    assert e.sample().shape == (3, 2) and (e.sample().sum(-1) == 4).all()
    e = D.LogisticNormal(t([0.1, 0.2]), t([1.0, 1.0])).expand((3,))
    assert e.sample().shape == (3, 3)


def test_low_rank_multivariate_normal():
    rng = np.random.default_rng(0)
    loc, W, d = rng.normal(size=(2, 3)), rng.normal(size=(3, 2)), rng.uniform(0.5, 1.5, size=3)
    v = rng.normal(size=(2, 3))
    dist = D.LowRankMultivariateNormal(t(loc), t(W), t(d))
    cov = W @ W.T + np.diag(d)
    diff = v - loc
    maha = np.einsum("bi,ij,bj->b", diff, np.linalg.inv(cov), diff)
    logdet = np.linalg.slogdet(cov)[1]
    np.testing.assert_allclose(
        dist.log_prob(t(v)).detach().numpy(), -0.5 * (3 * math.log(2 * math.pi) + logdet + maha), rtol=1e-12
    )
    np.testing.assert_allclose(
        dist.entropy().detach().numpy(), [0.5 * (3 * (1 + math.log(2 * math.pi)) + logdet)] * 2, rtol=1e-12
    )
    np.testing.assert_allclose(dist.covariance_matrix[0].detach().numpy(), cov, rtol=1e-12)
    np.testing.assert_allclose(dist.precision_matrix[0].detach().numpy(), np.linalg.inv(cov), rtol=1e-10)
    L = dist.scale_tril[0].detach().numpy()
    np.testing.assert_allclose(L @ L.T, cov, rtol=1e-12)
    np.testing.assert_allclose(dist.variance.detach().numpy()[0], np.diag(cov), rtol=1e-12)
    assert dist.batch_shape == (2,) and dist.event_shape == (3,) and dist.expand((4, 2)).sample().shape == (4, 2, 3)
    full = D.MultivariateNormal(t(loc), covariance_matrix=t(cov))
    q = D.MultivariateNormal(t(np.zeros(3)), covariance_matrix=t(2 * np.eye(3)))
    np.testing.assert_allclose(D.kl_divergence(dist, q).numpy(), D.kl_divergence(full, q).numpy(), rtol=1e-10)
    np.testing.assert_allclose(D.kl_divergence(q, dist).numpy(), D.kl_divergence(q, full).numpy(), rtol=1e-10)
    torch.manual_seed(4)
    s = D.LowRankMultivariateNormal(t(loc[0]), t(W), t(d)).sample((40000,)).numpy()
    np.testing.assert_allclose(np.cov(s.T), cov, atol=0.1)

    def f(m, w, dd):
        torch.manual_seed(0)
        x = D.LowRankMultivariateNormal(m, w, dd)
        return x.rsample((2,)), x.log_prob(t(v)) + x.entropy()

    assert gradcheck(f, (t(loc, grad=True), t(W, grad=True), t(d, grad=True)))
    with pytest.raises(ValueError, match="cov_factor must be a batch of matrices"):
        D.LowRankMultivariateNormal(t(loc), t(W.T), t(d))
    with pytest.raises(ValueError, match="cov_diag must be a batch of vectors"):
        D.LowRankMultivariateNormal(t(loc), t(W), t(d[:2]))
    with pytest.raises(ValueError, match="parameter loc"):
        D.LowRankMultivariateNormal(t(loc * np.nan), t(W), t(d))
    with pytest.raises(ValueError, match="Incompatible batch shapes"):
        D.LowRankMultivariateNormal(t(np.zeros((2, 3))), t(np.zeros((3, 3, 2))), t(d))


def test_von_mises():
    loc, kappa = np.array([0.3, -2.0, 1.0]), np.array([0.5, 4.0, 12.0])
    v = np.array([0.1, 2.5, -3.0])
    d = D.VonMises(t(loc), t(kappa))
    exact = kappa * np.cos(v - loc) - math.log(2 * math.pi) - np.log(np.i0(kappa))
    np.testing.assert_allclose(d.log_prob(t(v)).detach().numpy(), exact, rtol=1e-6)  # A&S: ~2e-7 relative
    i1 = np.array(
        [sum((k / 2) ** (2 * m + 1) / (math.factorial(m) * math.factorial(m + 1)) for m in range(60)) for k in kappa]
    )
    np.testing.assert_allclose(d.variance.detach().numpy(), 1 - i1 / np.i0(kappa), rtol=1e-5)
    torch.manual_seed(0)
    s = D.VonMises(t([1.0]), t([3.0])).sample((40000,)).numpy()[:, 0]
    assert ((s >= -math.pi) & (s < math.pi)).all()
    resultant = np.mean(np.exp(1j * s))
    assert abs(np.angle(resultant) - 1.0) < 0.02
    assert abs(abs(resultant) - (1 - D.VonMises(t([1.0]), t([3.0])).variance.item())) < 0.01
    assert D.VonMises(t([0.0]), t([1e-8])).sample((10,)).shape == (10, 1)  # tiny concentration
    assert not D.VonMises(t(0.0), t(1.0)).has_rsample
    assert gradcheck(lambda m, k: D.VonMises(m, k).log_prob(t(v)), (t(loc, grad=True), t(kappa, grad=True)))
    with pytest.raises(ValueError, match="concentration"):
        D.VonMises(t([0.0]), t([0.0]))
    with pytest.raises(ValueError, match="support"):
        D.VonMises(t([0.0]), t([1.0])).log_prob(t([4.0]))
    assert D.VonMises(t(0.0), t(1.0)).expand((3,)).sample().shape == (3,)


def test_generalized_pareto():
    loc, scale, c = np.array([0.3, -1.0, 0.0]), np.array([0.7, 2.0, 1.0]), np.array([0.2, -0.3, 0.0])
    v = np.array([0.9, 0.5, 1.5])
    d = D.GeneralizedPareto(t(loc), t(scale), t(c))
    z = (v - loc) / scale
    safe = np.where(c == 0, 1.0, c)
    lp = np.where(c == 0, -np.log(scale) - z, -np.log(scale) - (1 / safe + 1) * np.log1p(safe * z))
    _check(d, v, lp, loc + scale / (1 - c), scale**2 / ((1 - c) ** 2 * (1 - 2 * c)), np.log(scale) + c + 1)
    surv = np.where(c == 0, np.exp(-z), (1 + safe * z) ** (-1 / safe))
    np.testing.assert_allclose(d.cdf(t(v)).detach().numpy(), 1 - surv, rtol=1e-10)
    np.testing.assert_allclose(d.icdf(d.cdf(t(v))).detach().numpy(), v, rtol=1e-9)
    assert d.support.check(t([0.3, 5.6, 1.0])).tolist() == [True, True, True]
    assert not d.support.check(t([0.3, 5.8, 1.0]))[1]  # beyond loc - scale / c for c < 0
    assert np.isnan(D.GeneralizedPareto(t(0.0), t(1.0), t(1.5)).mean.item())
    torch.manual_seed(3)
    s = D.GeneralizedPareto(t(0.0), t(1.0), t(0.2)).sample((40000,)).numpy()
    assert s.mean() == pytest.approx(1 / 0.8, rel=0.05)

    def f(m, sc, cc):
        torch.manual_seed(0)
        g = D.GeneralizedPareto(m, sc, cc)
        return g.rsample((2,)) + g.log_prob(t(v)) + g.entropy()

    assert gradcheck(f, (t(loc, grad=True), t(scale, grad=True), t([0.2, -0.3, 0.1], grad=True)))
    with pytest.raises(ValueError, match="scale"):
        D.GeneralizedPareto(t([0.0]), t([0.0]), t([0.1]))
    with pytest.raises(ValueError, match="support"):
        D.GeneralizedPareto(t([0.0]), t([1.0]), t([-0.5])).log_prob(t([3.0]))


def test_lkj_cholesky():
    eta = 2.5
    d = D.LKJCholesky(2, t(eta))
    rho = np.linspace(-0.999, 0.999, 20001)
    L = np.zeros((rho.size, 2, 2))
    L[:, 0, 0], L[:, 1, 0], L[:, 1, 1] = 1.0, rho, np.sqrt(1 - rho**2)
    dens = np.exp(d.log_prob(t(L)).numpy())
    assert np.sum((dens[1:] + dens[:-1]) / 2) * (rho[1] - rho[0]) == pytest.approx(1.0, abs=1e-4)
    torch.manual_seed(0)
    s = D.LKJCholesky(3, t([0.5, 4.0])).sample((20000,))
    assert s.shape == (20000, 2, 3, 3) and constraints.corr_cholesky.check(s).all()
    corr = (s @ s.mT).numpy()
    # each off-diagonal correlation of an LKJ(eta) D x D matrix has E[r^2] = 1 / (2 eta + D - 1)
    np.testing.assert_allclose((corr[:, :, 1, 0] ** 2).mean(0), [1 / (1 + 2), 1 / (8 + 2)], rtol=0.05)
    np.testing.assert_allclose((corr[:, :, 2, 1] ** 2).mean(0), [1 / (1 + 2), 1 / (8 + 2)], rtol=0.05)
    value = D.LKJCholesky(3, t(1.0)).sample()
    assert gradcheck(lambda c: D.LKJCholesky(3, c).log_prob(value), (t([0.7, 2.0], grad=True),))
    assert D.LKJCholesky(3, t([0.5, 4.0])).expand((4, 2)).sample().shape == (4, 2, 3, 3)
    with pytest.raises(ValueError, match="dim to be an integer greater than or equal to 2"):
        D.LKJCholesky(1)
    with pytest.raises(ValueError, match="concentration"):
        D.LKJCholesky(3, t(0.0))
    with pytest.raises(ValueError, match="support"):
        D.LKJCholesky(2, t(1.0)).log_prob(t([[1.0, 0.0], [0.9, 0.9]]))


def _log_mvgamma(a, p):
    return p * (p - 1) / 4 * math.log(math.pi) + sum(math.lgamma(a + (1 - j) / 2) for j in range(1, p + 1))


def test_wishart():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(3, 3))
    cov = A @ A.T + np.eye(3)
    B = rng.normal(size=(3, 3))
    X = B @ B.T + 3 * np.eye(3)
    nu, p = 4.5, 3
    expected = (
        (nu - p - 1) / 2 * np.linalg.slogdet(X)[1]
        - np.trace(np.linalg.solve(cov, X)) / 2
        - nu * p / 2 * math.log(2)
        - nu / 2 * np.linalg.slogdet(cov)[1]
        - _log_mvgamma(nu / 2, p)
    )
    for kwargs in (
        {"covariance_matrix": t(cov)},
        {"precision_matrix": t(np.linalg.inv(cov))},
        {"scale_tril": t(np.linalg.cholesky(cov))},
    ):
        d = D.Wishart(t(nu), **kwargs)
        assert d.log_prob(t(X)).item() == pytest.approx(expected, rel=1e-10)
        np.testing.assert_allclose(d.mean.numpy(), nu * cov, rtol=1e-10)
        np.testing.assert_allclose(d.mode.numpy(), (nu - p - 1) * cov, rtol=1e-10)
        np.testing.assert_allclose(d.variance.numpy(), nu * (cov**2 + np.outer(np.diag(cov), np.diag(cov))), rtol=1e-10)
    torch.manual_seed(0)
    s = D.Wishart(t(6.0), covariance_matrix=t(cov)).sample((20000,)).numpy()
    np.testing.assert_allclose(s.mean(0), 6.0 * cov, rtol=0.05, atol=0.1)
    assert constraints.positive_definite.check(t(s[:50])).all()
    assert D.Wishart(t([4.0, 5.0]), covariance_matrix=t(cov)).expand((3, 2)).sample().shape == (3, 2, 3, 3)
    # the entropy is -E[log_prob]
    torch.manual_seed(1)
    w = D.Wishart(t(5.0), covariance_matrix=t(cov))
    assert w.entropy().item() == pytest.approx(-w.log_prob(w.sample((20000,))).mean().item(), rel=0.02)
    assert gradcheck(
        lambda df, c: D.Wishart(df, covariance_matrix=c @ c.mT + t(np.eye(3))).log_prob(t(X)),
        (t(nu, grad=True), t(A, grad=True)),
    )

    def draw(tril):
        torch.manual_seed(2)
        return D.Wishart(t(5.0), scale_tril=tril.tril()).rsample((2,))

    assert gradcheck(draw, (t(np.linalg.cholesky(cov), grad=True),))
    with pytest.raises(ValueError, match="greater than ndim - 1"):
        D.Wishart(t(1.5), covariance_matrix=t(cov))
    with pytest.raises(AssertionError, match="Exactly one"):
        D.Wishart(t(5.0), covariance_matrix=t(cov), scale_tril=t(cov))
    with pytest.raises(ValueError, match="covariance_matrix"):
        D.Wishart(t(5.0), covariance_matrix=t(-cov))
    with pytest.warns(UserWarning, match="Low df"):
        D.Wishart(t(2.5), covariance_matrix=t(cov))


@pytest.mark.parametrize(
    "make",
    [
        lambda: D.Normal(t([0.3, -1.0]), t([0.7, 2.0])),
        lambda: D.Exponential(t([0.5, 3.0])),
        lambda: D.Gamma(t([0.7, 3.0]), t([2.0, 0.5])),
        lambda: D.Bernoulli(t([0.2, 0.9])),
        lambda: D.ContinuousBernoulli(t([0.2, 0.9])),
        lambda: D.Wishart(t(5.0), covariance_matrix=t([[2.0, 0.3], [0.3, 1.0]])),
    ],
)
def test_exponential_family_entropy_is_the_bregman_form(make):
    d = make()
    assert isinstance(d, D.ExponentialFamily)
    np.testing.assert_allclose(
        D.ExponentialFamily.entropy(d).detach().numpy(), d.entropy().detach().numpy(), rtol=1e-10
    )


def test_exponential_family_kl_and_custom_family():
    class Rate(D.Exponential):
        pass

    p, q = Rate(t([0.5, 2.0])), Rate(t([1.5, 1.0]))
    np.testing.assert_allclose(
        D.kl_divergence(p, q).numpy(), np.log([0.5 / 1.5, 2.0]) + [1.5 / 0.5, 0.5] - 1, rtol=1e-12
    )

    class Geo(D.ExponentialFamily):
        """A custom family: p(k) = (1 - r) r^k, eta = log r, A = -log(1 - e^eta)."""

        arg_constraints = {}
        _mean_carrier_measure = 0

        def __init__(self, r):
            self.r = r
            super().__init__(r.shape, validate_args=False)

        @property
        def _natural_params(self):
            return (self.r.log(),)

        def _log_normalizer(self, x):
            return -(-x.exp()).log1p()

    r = np.array([0.3, 0.8])
    ent = (-(1 - r) * np.log(1 - r) - r * np.log(r)) / (1 - r)  # the geometric entropy
    np.testing.assert_allclose(Geo(t(r)).entropy().detach().numpy(), ent, rtol=1e-10)
    with pytest.raises(NotImplementedError, match="different exponential families"):
        D.kl_divergence(Geo(t(r)), Rate(t([1.0, 1.0])))

"""retrograd.distributions: values against NumPy/math formulas, sample moments on large seeded
samples, gradients (gradcheck of log_prob and of the reparameterized samplers), validation."""

import math

import numpy as np
import pytest

import retrograd as torch
from retrograd import distributions as D
from retrograd.autograd import gradcheck

lg = np.vectorize(math.lgamma)


def _dg(x):
    """digamma by the asymptotic series after the recurrence (x > 0), independent of retrograd."""
    x = np.asarray(x, dtype=np.float64)
    acc = np.zeros_like(x)
    while np.any(x < 8):
        small = x < 8
        acc = acc - np.where(small, 1 / x, 0)
        x = np.where(small, x + 1, x)
    w = 1 / (x * x)
    return acc + np.log(x) - 0.5 / x - w * (1 / 12 - w * (1 / 120 - w / 252))


def t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


LOC, SCALE = np.array([0.3, -1.2]), np.array([0.7, 2.0])
V = np.array([0.5, 0.9])


# --------------------------------------------------------------------------- values
def _check(dist, value, log_prob, mean=None, variance=None, entropy=None):
    np.testing.assert_allclose(dist.log_prob(t(value)).detach().numpy(), log_prob, rtol=1e-10, atol=1e-12)
    if mean is not None:
        np.testing.assert_allclose(dist.mean.detach().numpy(), mean, rtol=1e-10)
    if variance is not None:
        np.testing.assert_allclose(dist.variance.detach().numpy(), variance, rtol=1e-10)
    if entropy is not None:
        np.testing.assert_allclose(dist.entropy().detach().numpy(), entropy, rtol=1e-8)  # _dg: ~1e-10


def test_normal_and_lognormal_values():
    d = D.Normal(t(LOC), t(SCALE))
    _check(
        d,
        V,
        -((V - LOC) ** 2) / (2 * SCALE**2) - np.log(SCALE) - 0.5 * math.log(2 * math.pi),
        LOC,
        SCALE**2,
        0.5 + 0.5 * math.log(2 * math.pi) + np.log(SCALE),
    )
    cdf = np.array([0.5 * (1 + math.erf((v - m) / (s * math.sqrt(2)))) for v, m, s in zip(V, LOC, SCALE)])
    np.testing.assert_allclose(d.cdf(t(V)).numpy(), cdf, rtol=1e-10)
    np.testing.assert_allclose(d.icdf(d.cdf(t(V))).numpy(), V, rtol=1e-8)
    ln = D.LogNormal(t(LOC), t(SCALE))
    _check(
        ln,
        V,
        -((np.log(V) - LOC) ** 2) / (2 * SCALE**2) - np.log(SCALE * V * math.sqrt(2 * math.pi)),
        np.exp(LOC + SCALE**2 / 2),
        (np.exp(SCALE**2) - 1) * np.exp(2 * LOC + SCALE**2),
        LOC + 0.5 + 0.5 * math.log(2 * math.pi) + np.log(SCALE),
    )
    np.testing.assert_allclose(ln.mode.numpy(), np.exp(LOC - SCALE**2))


def test_uniform_exponential_laplace_values():
    u = D.Uniform(t([0.0, -1.0]), t([1.0, 3.0]))
    _check(u, V, -np.log([1.0, 4.0]), [0.5, 1.0], [1 / 12, 16 / 12], np.log([1.0, 4.0]))
    np.testing.assert_allclose(u.cdf(t(V)).numpy(), [0.5, 1.9 / 4])
    assert D.Uniform(t([0.0]), t([1.0]), validate_args=False).log_prob(t([2.0])).item() == -math.inf
    rate = np.array([0.5, 3.0])
    e = D.Exponential(t(rate))
    _check(e, V, np.log(rate) - rate * V, 1 / rate, 1 / rate**2, 1 - np.log(rate))
    np.testing.assert_allclose(e.icdf(e.cdf(t(V))).numpy(), V, rtol=1e-10)
    lp = D.Laplace(t(LOC), t(SCALE))
    _check(lp, V, -np.log(2 * SCALE) - np.abs(V - LOC) / SCALE, LOC, 2 * SCALE**2, 1 + np.log(2 * SCALE))
    np.testing.assert_allclose(lp.icdf(lp.cdf(t(V))).numpy(), V, rtol=1e-10)


def test_gamma_beta_dirichlet_values():
    a, b = np.array([0.7, 3.0]), np.array([2.0, 0.5])
    g = D.Gamma(t(a), t(b))
    _check(
        g,
        V,
        a * np.log(b) + (a - 1) * np.log(V) - b * V - lg(a),
        a / b,
        a / b**2,
        a - np.log(b) + lg(a) + (1 - a) * _dg(a),
    )
    be = D.Beta(t(a), t(b))
    _check(
        be,
        V,
        (a - 1) * np.log(V) + (b - 1) * np.log(1 - V) + lg(a + b) - lg(a) - lg(b),
        a / (a + b),
        a * b / ((a + b) ** 2 * (a + b + 1)),
        lg(a) + lg(b) - lg(a + b) - (a - 1) * _dg(a) - (b - 1) * _dg(b) + (a + b - 2) * _dg(a + b),
    )
    c = np.array([0.5, 2.0, 3.5])
    x = np.array([0.2, 0.3, 0.5])
    di = D.Dirichlet(t(c))
    _check(
        di,
        x,
        ((c - 1) * np.log(x)).sum() + lg(c.sum()) - lg(c).sum(),
        c / c.sum(),
        c * (c.sum() - c) / (c.sum() ** 2 * (c.sum() + 1)),
        lg(c).sum() - lg(c.sum()) - (3 - c.sum()) * _dg(c.sum()) - ((c - 1) * _dg(c)).sum(),
    )
    np.testing.assert_allclose(D.Dirichlet(t([0.5, 0.2])).mode.numpy(), [1.0, 0.0])
    np.testing.assert_allclose(D.Dirichlet(t([2.0, 3.0])).mode.numpy(), [1 / 3, 2 / 3])


def test_discrete_values():
    p = np.array([0.2, 0.9])
    be = D.Bernoulli(t(p))
    _check(be, [1.0, 0.0], [math.log(0.2), math.log(0.1)], p, p * (1 - p), -(p * np.log(p) + (1 - p) * np.log(1 - p)))
    np.testing.assert_allclose(D.Bernoulli(logits=t([0.0, 2.0])).probs.numpy(), [0.5, 1 / (1 + math.exp(-2))])
    probs = np.array([[0.1, 0.6, 0.3], [0.5, 0.25, 0.25]])
    c = D.Categorical(t(probs * 2))  # normalised
    np.testing.assert_allclose(c.log_prob(t([1, 2]).long()).numpy(), np.log([0.6, 0.25]))
    np.testing.assert_allclose(c.entropy().numpy(), -(probs * np.log(probs)).sum(-1))
    np.testing.assert_array_equal(c.mode.numpy(), [1, 0])
    assert c.batch_shape == (2,) and c.event_shape == ()
    oh = D.OneHotCategorical(t(probs))
    np.testing.assert_allclose(oh.log_prob(t([[0, 1, 0], [0, 0, 1]])).numpy(), np.log([0.6, 0.25]))
    assert oh.event_shape == (3,)
    rate = np.array([0.5, 4.0])
    po = D.Poisson(t(rate))
    k = np.array([2.0, 3.0])
    _check(po, k, k * np.log(rate) - rate - lg(k + 1), rate, rate)
    n, q = np.array([5.0, 10.0]), np.array([0.3, 0.8])
    bi = D.Binomial(t(n), t(q))
    _check(
        bi, k, lg(n + 1) - lg(k + 1) - lg(n - k + 1) + k * np.log(q) + (n - k) * np.log(1 - q), n * q, n * q * (1 - q)
    )
    bi5 = D.Binomial(5, t([0.3]))
    ks = np.arange(6.0)
    pmf = np.exp(lg(6) - lg(ks + 1) - lg(6 - ks) + ks * np.log(0.3) + (5 - ks) * np.log(0.7))
    np.testing.assert_allclose(bi5.entropy().numpy(), [-(pmf * np.log(pmf)).sum()], rtol=1e-10)


def test_multivariate_normal_values():
    A = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]])
    mu = np.array([0.1, -0.4, 1.0])
    x = np.array([0.3, 0.2, 0.4])
    expected = -0.5 * (3 * math.log(2 * math.pi) + np.linalg.slogdet(A)[1] + (x - mu) @ np.linalg.solve(A, x - mu))
    ent = 0.5 * (3 * (1 + math.log(2 * math.pi)) + np.linalg.slogdet(A)[1])
    L = np.linalg.cholesky(A)
    for kw in (dict(covariance_matrix=t(A)), dict(precision_matrix=t(np.linalg.inv(A))), dict(scale_tril=t(L))):
        d = D.MultivariateNormal(t(mu), **kw)
        _check(d, x, expected, mu, np.diag(A), ent)
        np.testing.assert_allclose(d.covariance_matrix.numpy(), A, rtol=1e-10)
        np.testing.assert_allclose(d.precision_matrix.numpy(), np.linalg.inv(A), rtol=1e-8)
        np.testing.assert_allclose(d.scale_tril.numpy(), L, rtol=1e-10)
    batched = D.MultivariateNormal(t(np.zeros((4, 3))), covariance_matrix=t(A))
    assert batched.batch_shape == (4,) and batched.event_shape == (3,)
    assert batched.log_prob(t(np.zeros((5, 4, 3)))).shape == (5, 4)


def test_independent_and_expand():
    base = D.Normal(t(np.zeros((2, 3))), t(np.ones((2, 3))))
    ind = D.Independent(base, 1)
    assert ind.batch_shape == (2,) and ind.event_shape == (3,)
    np.testing.assert_allclose(ind.log_prob(t(np.zeros((2, 3)))).numpy(), 3 * -0.5 * math.log(2 * math.pi))
    np.testing.assert_allclose(ind.entropy().numpy(), base.entropy().sum(-1).numpy())
    e = D.Normal(t([0.0]), t([1.0])).expand((4, 1))
    assert e.batch_shape == (4, 1) and e.sample((2,)).shape == (2, 4, 1)
    assert D.Categorical(t([0.5, 0.5])).expand((3,)).sample().shape == (3,)
    assert D.Gamma(t([1.0]), t([1.0])).expand((5,)).rsample().shape == (5,)
    np.testing.assert_array_equal(D.Bernoulli(t([0.3, 0.6])).enumerate_support().numpy(), [[0, 0], [1, 1]])
    with pytest.raises(ValueError, match="reinterpreted_batch_ndims"):
        D.Independent(base, 3)


# --------------------------------------------------------------------------- sampling
MOMENT_CASES = [
    (lambda: D.Normal(t([1.0, -2.0]), t([0.5, 3.0])), [1.0, -2.0], [0.25, 9.0]),
    (lambda: D.LogNormal(t([0.0]), t([0.4])), None, None),
    (lambda: D.Uniform(t([-1.0]), t([3.0])), None, None),
    (lambda: D.Exponential(t([0.5, 4.0])), None, None),
    (lambda: D.Laplace(t([1.0]), t([2.0])), None, None),
    (lambda: D.Gamma(t([0.3, 2.0, 30.0]), t([1.0, 0.5, 3.0])), None, None),
    (lambda: D.Beta(t([0.5, 3.0]), t([2.0, 3.0])), None, None),
    (lambda: D.Dirichlet(t([0.5, 1.0, 4.0])), None, None),
    (lambda: D.Bernoulli(t([0.1, 0.7])), None, None),
    (lambda: D.Categorical(t([0.2, 0.3, 0.5])), [1.3], [0.61]),
    (lambda: D.OneHotCategorical(t([0.2, 0.3, 0.5])), None, None),
    (lambda: D.Poisson(t([0.5, 7.0])), None, None),
    (lambda: D.Binomial(t([10.0, 3.0]), t([0.3, 0.9])), None, None),
    (lambda: D.MultivariateNormal(t([1.0, 0.0]), t([[2.0, 0.5], [0.5, 1.0]])), None, None),
]


@pytest.mark.parametrize("make,mean,var", MOMENT_CASES)
def test_sample_moments(make, mean, var):
    torch.manual_seed(1234)
    d = make()
    n = 40000
    s = d.sample((n,))
    assert s.shape == (n,) + tuple(d.batch_shape) + tuple(d.event_shape)
    s = s.double().numpy()
    mean = np.asarray(d.mean.numpy() if mean is None else mean)
    var = np.asarray(d.variance.numpy() if var is None else var)
    # 6 standard errors of the mean; the variance within 10% plus a small absolute slack
    assert np.all(np.abs(s.mean(0) - mean) <= 6 * np.sqrt(var / n) + 1e-12)
    assert np.all(np.abs(s.var(0) - var) <= 0.1 * var + 1e-3)
    assert bool(d.support.check(torch.tensor(s[:100])).all())


def test_sampling_is_seeded():
    torch.manual_seed(7)
    a = D.Gamma(t([2.0]), t([1.0])).sample((5,))
    torch.manual_seed(7)
    b = D.Gamma(t([2.0]), t([1.0])).sample((5,))
    np.testing.assert_array_equal(a.numpy(), b.numpy())


# --------------------------------------------------------------------------- gradients
def _seeded(fn):
    def f(*args):
        torch.manual_seed(0)
        return fn(*args)

    return f


@pytest.mark.parametrize(
    "fn,params",
    [
        (lambda m, s: D.Normal(m, s).log_prob(t(V)), (LOC, SCALE)),
        (lambda m, s: D.Normal(m, s).rsample((3,)), (LOC, SCALE)),
        (lambda m, s: D.Normal(m, s).cdf(t(V)) + D.Normal(m, s).entropy(), (LOC, SCALE)),
        (lambda m, s: D.LogNormal(m, s).rsample((3,)) + D.LogNormal(m, s).log_prob(t(V)), (LOC, SCALE)),
        (
            lambda lo, hi: D.Uniform(lo, hi).rsample((3,)) + D.Uniform(lo, hi).log_prob(t([0.0, 0.0])),
            ([-1.0, -2.0], [1.0, 0.5]),
        ),
        (lambda r: D.Exponential(r).rsample((3,)) + D.Exponential(r).log_prob(t(V)), ([0.5, 2.0],)),
        (lambda m, s: D.Laplace(m, s).rsample((3,)) + D.Laplace(m, s).log_prob(t(V)), (LOC, SCALE)),
        (lambda a, b: D.Gamma(a, b).log_prob(t(V)) + D.Gamma(a, b).entropy(), ([0.7, 3.0], [2.0, 0.5])),
        (lambda a, b: D.Beta(a, b).log_prob(t(V)) + D.Beta(a, b).entropy(), ([0.7, 3.0], [2.0, 0.5])),
        (lambda c: D.Dirichlet(c).log_prob(t([0.2, 0.3, 0.5])) + D.Dirichlet(c).entropy(), ([0.5, 2.0, 3.5],)),
        (lambda p: D.Bernoulli(p).log_prob(t([1.0, 0.0])) + D.Bernoulli(p).entropy(), ([0.2, 0.9],)),
        (
            lambda lo: D.Categorical(logits=lo).log_prob(t([0, 2]).long()) + D.Categorical(logits=lo).entropy(),
            ([[0.1, 0.5, -1.0], [2.0, 0.0, 0.3]],),
        ),
        (lambda p: D.Categorical(probs=p).log_prob(t([1]).long()), ([0.2, 0.5, 0.3],)),
        (lambda r: D.Poisson(r).log_prob(t([2.0, 3.0])), ([0.5, 4.0],)),
        (lambda p: D.Binomial(10, p).log_prob(t([2.0, 3.0])) + D.Binomial(10, p).entropy(), ([0.3, 0.8],)),
        (
            lambda m, c: D.MultivariateNormal(m, c @ c.mT + t(np.eye(2))).log_prob(t([0.3, -0.2])),
            ([0.1, 0.4], [[1.0, 0.2], [0.1, 0.5]]),
        ),
        (
            lambda m, c: D.MultivariateNormal(m, scale_tril=(c.tril() + t(2 * np.eye(2)))).rsample((3,)),
            ([0.1, 0.4], [[1.0, 0.2], [0.1, 0.5]]),
        ),
    ],
)
def test_gradcheck(fn, params):
    inputs = tuple(t(p, grad=True) for p in params)
    assert gradcheck(_seeded(fn), inputs)


def _gamma_cdf(a, x):
    """P(a, x) by integrating the density numerically (independent of the library's formula)."""
    u = np.linspace(0.0, 1.0, 200001)
    grid = x * u**4  # dense near 0, where the density may be singular
    dens = np.exp((a - 1) * np.log(np.maximum(grid, 1e-300)) - grid - math.lgamma(a)) * 4 * x * u**3
    return np.trapezoid(dens, u) if hasattr(np, "trapezoid") else np.trapz(dens, u)


@pytest.mark.parametrize("a,x", [(0.5, 0.2), (1.0, 1.3), (3.0, 2.0), (3.0, 12.0), (20.0, 18.0), (40.0, 70.0)])
def test_gamma_implicit_gradient_is_the_inverse_cdf_derivative(a, x):
    from retrograd.ops.standard_gamma import dsample_dalpha

    h = 1e-4
    dF_da = (_gamma_cdf(a + h, x) - _gamma_cdf(a - h, x)) / (2 * h)
    pdf = math.exp((a - 1) * math.log(x) - x - math.lgamma(a))
    got = dsample_dalpha(np.array([x]), np.array([a]))[0]
    assert got == pytest.approx(-dF_da / pdf, rel=1e-4)


def test_rsample_gradients_are_unbiased():
    # E[x] = a / b for Gamma, a / (a + b) for Beta: the mean of pathwise gradients matches
    torch.manual_seed(3)
    a, b = t([0.6, 4.0], grad=True), t([2.0, 0.5], grad=True)
    n = 20000
    D.Gamma(a, b).rsample((n,)).mean(0).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), 1 / b.detach().numpy(), rtol=0.05)
    np.testing.assert_allclose(b.grad.numpy(), -a.detach().numpy() / b.detach().numpy() ** 2, rtol=0.05)
    a, b = t([0.6, 4.0], grad=True), t([2.0, 0.5], grad=True)
    D.Beta(a, b).rsample((n,)).mean(0).sum().backward()
    av, bv = a.detach().numpy(), b.detach().numpy()
    np.testing.assert_allclose(a.grad.numpy(), bv / (av + bv) ** 2, rtol=0.08)
    np.testing.assert_allclose(b.grad.numpy(), -av / (av + bv) ** 2, rtol=0.08)
    c = t([0.5, 1.0, 2.5], grad=True)
    D.Dirichlet(c).rsample((n,)).mean(0)[0].backward()
    cv = c.detach().numpy()
    expected = -cv[0] / cv.sum() ** 2 * np.ones(3) + np.array([1 / cv.sum(), 0, 0])
    np.testing.assert_allclose(c.grad.numpy(), expected, rtol=0.08, atol=0.01)


def test_discrete_distributions_have_no_rsample():
    with pytest.raises(NotImplementedError, match="rsample"):
        D.Bernoulli(t([0.5])).rsample()


# --------------------------------------------------------------------------- kl
KL_PAIRS = [
    (lambda: D.Normal(t([0.2]), t([0.8])), lambda: D.Normal(t([-0.3]), t([1.5]))),
    (lambda: D.LogNormal(t([0.2]), t([0.8])), lambda: D.LogNormal(t([-0.3]), t([1.5]))),
    (lambda: D.Exponential(t([1.5])), lambda: D.Exponential(t([0.4]))),
    (lambda: D.Laplace(t([0.0]), t([1.0])), lambda: D.Laplace(t([0.5]), t([2.0]))),
    (lambda: D.Gamma(t([2.0]), t([1.5])), lambda: D.Gamma(t([3.0]), t([0.5]))),
    (lambda: D.Beta(t([2.0]), t([3.0])), lambda: D.Beta(t([1.5]), t([1.0]))),
    (lambda: D.Dirichlet(t([2.0, 3.0, 1.5])), lambda: D.Dirichlet(t([1.0, 1.0, 2.0]))),
    (lambda: D.Bernoulli(t([0.3])), lambda: D.Bernoulli(t([0.6]))),
    (lambda: D.Categorical(t([0.2, 0.3, 0.5])), lambda: D.Categorical(t([0.4, 0.4, 0.2]))),
    (lambda: D.OneHotCategorical(t([0.2, 0.3, 0.5])), lambda: D.OneHotCategorical(t([0.4, 0.4, 0.2]))),
    (lambda: D.Poisson(t([3.0])), lambda: D.Poisson(t([2.0]))),
    (lambda: D.Binomial(8, t([0.3])), lambda: D.Binomial(8, t([0.6]))),
    (lambda: D.Uniform(t([0.0]), t([1.0])), lambda: D.Uniform(t([-1.0]), t([2.0]))),
    (lambda: D.Uniform(t([0.5]), t([1.0])), lambda: D.Normal(t([0.0]), t([1.0]))),
    (lambda: D.Uniform(t([0.5]), t([1.0])), lambda: D.Exponential(t([2.0]))),
    (lambda: D.Uniform(t([0.5]), t([1.0])), lambda: D.Gamma(t([2.0]), t([3.0]))),
    (lambda: D.Exponential(t([1.5])), lambda: D.Gamma(t([2.0]), t([3.0]))),
    (lambda: D.Gamma(t([2.0]), t([3.0])), lambda: D.Exponential(t([1.5]))),
    (lambda: D.Laplace(t([0.3]), t([1.0])), lambda: D.Normal(t([0.0]), t([2.0]))),
    (
        lambda: D.MultivariateNormal(t([0.0, 1.0]), t([[1.0, 0.3], [0.3, 2.0]])),
        lambda: D.MultivariateNormal(t([0.5, 0.0]), t([[2.0, -0.2], [-0.2, 1.0]])),
    ),
    (
        lambda: D.Independent(D.Normal(t([0.0, 1.0]), t([1.0, 2.0])), 1),
        lambda: D.Independent(D.Normal(t([0.5, 0.0]), t([2.0, 1.0])), 1),
    ),
]


@pytest.mark.parametrize("make_p,make_q", KL_PAIRS)
def test_kl_matches_monte_carlo(make_p, make_q):
    torch.manual_seed(5)
    p, q = make_p(), make_q()
    x = p.sample((100000,))
    log_ratio = (p.log_prob(x) - q.log_prob(x)).numpy()
    kl = D.kl_divergence(p, q).numpy()
    assert kl.shape == tuple(p.batch_shape)
    assert np.all(np.abs(log_ratio.mean(0) - kl) <= 6 * log_ratio.std(0) / np.sqrt(len(x)) + 1e-9)


def test_kl_special_values_and_dispatch():
    assert D.kl_divergence(D.Uniform(t([0.0]), t([2.0])), D.Uniform(t([0.5]), t([1.0]))).item() == math.inf
    assert D.kl_divergence(D.Bernoulli(t([0.5])), D.Bernoulli(t([0.0]))).item() == math.inf
    assert D.kl_divergence(D.Bernoulli(t([0.0])), D.Bernoulli(t([0.5]))).item() == pytest.approx(math.log(2))
    # two exponential families: the Bregman fallback refuses different families, as PyTorch's
    with pytest.raises(NotImplementedError, match="different exponential families"):
        D.kl_divergence(D.Poisson(t([1.0])), D.Normal(t([0.0]), t([1.0])))
    with pytest.raises(NotImplementedError, match="No KL"):
        D.kl_divergence(D.Poisson(t([1.0])), D.Cauchy(t([0.0]), t([1.0])))

    class MyNormal(D.Normal):
        pass

    assert D.kl_divergence(MyNormal(t([0.0]), t([1.0])), D.Normal(t([0.0]), t([1.0]))).item() == 0.0

    @D.register_kl(MyNormal, MyNormal)
    def _kl(p, q):
        return p.loc * 0 + 42.0

    assert D.kl_divergence(MyNormal(t([0.0]), t([1.0])), MyNormal(t([0.0]), t([1.0]))).item() == 42.0
    with pytest.raises(TypeError, match="Distribution subclass"):
        D.register_kl(int, D.Normal)


# --------------------------------------------------------------------------- validation
def test_validation_messages():
    with pytest.raises(
        ValueError,
        match=r"Expected parameter scale \(Tensor of shape \(2,\)\) of distribution "
        r"Normal\(loc: .*, scale: .*\) to satisfy the constraint "
        r"GreaterThan\(lower_bound=0.0\), but found invalid values",
    ):
        D.Normal(t([0.0, 1.0]), t([1.0, -1.0]))
    with pytest.raises(
        ValueError,
        match="Expected value argument .* to be within the support "
        r"\(GreaterThanEq\(lower_bound=0.0\)\)",
    ):
        D.Exponential(t([1.0])).log_prob(t([-1.0]))
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified, but not both."):
        D.Bernoulli()
    with pytest.raises(ValueError, match=r"Expected parameter low .* LessThan\(upper_bound=tensor\(\[0.\]"):
        D.Uniform(t([1.0]), t([0.0]))
    with pytest.raises(ValueError, match="Exactly one of covariance_matrix or precision_matrix or scale_tril"):
        D.MultivariateNormal(t([0.0]))
    with pytest.raises(ValueError, match="positive_definite|PositiveDefinite"):
        D.MultivariateNormal(t([0.0, 0.0]), t([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="The value argument to log_prob must be a Tensor"):
        D.Normal(0.0, 1.0).log_prob(0.5)
    with pytest.raises(ValueError, match="Simplex"):
        D.Dirichlet(t([0.5, 0.5])).log_prob(t([0.5, 0.6]))
    # validate_args=False skips the checks, as in PyTorch
    assert math.isnan(D.Normal(t([0.0]), t([-1.0]), validate_args=False).log_prob(t([0.0])).item())
    D.Distribution.set_default_validate_args(False)
    try:
        D.Normal(t([0.0]), t([-1.0]))
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args("yes")


def test_constraints():
    c = D.constraints
    assert repr(c.positive) == "GreaterThan(lower_bound=0.0)"
    assert repr(c.real_vector) == "IndependentConstraint(Real(), 1)"
    assert c.simplex.event_dim == 1 and c.nonnegative_integer.is_discrete
    np.testing.assert_array_equal(c.real.check(t([1.0, math.nan])).numpy(), [True, False])
    np.testing.assert_array_equal(
        c.integer_interval(0, 3).check(t([0.0, 1.5, 4.0, 3.0])).numpy(), [True, False, False, True]
    )
    assert c.is_dependent(D.Uniform.support) and c.is_dependent(c.dependent)
    np.testing.assert_array_equal(
        c.lower_cholesky.check(t([[[1.0, 0.0], [2.0, 1.0]], [[1.0, 1.0], [0.0, 1.0]]])).numpy(), [True, False]
    )


def test_top_level_access():
    assert torch.distributions.Normal is D.Normal
    import retrograd.distributions.constraints as cons

    assert cons.positive is D.constraints.positive

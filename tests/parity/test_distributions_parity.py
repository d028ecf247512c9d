"""retrograd.distributions against torch.distributions (optional: needs torch): log_prob, cdf,
entropy, mean, variance, KL divergences and the gradients of log_prob and KL in the parameters,
on the same float64 parameters and values."""

import numpy as np
import pytest

import retrograd as rg

torch = pytest.importorskip("torch")

V = [0.4, 0.9]
COV = [[1.5, 0.3], [0.3, 0.8]]

# name, make(L, *params), params, value, extra methods to compare
CASES = [
    ("Normal", lambda L, m, s: L.distributions.Normal(m, s), ([0.3, -1.2], [0.7, 2.0]), V, ("cdf", "icdf")),
    ("LogNormal", lambda L, m, s: L.distributions.LogNormal(m, s), ([0.3, -1.2], [0.7, 2.0]), V, ("cdf",)),
    ("Uniform", lambda L, lo, hi: L.distributions.Uniform(lo, hi), ([0.0, -1.0], [1.0, 3.0]), V, ("cdf", "icdf")),
    ("Exponential", lambda L, r: L.distributions.Exponential(r), ([0.5, 3.0],), V, ("cdf", "icdf")),
    ("Laplace", lambda L, m, s: L.distributions.Laplace(m, s), ([0.3, -1.2], [0.7, 2.0]), V, ("cdf", "icdf")),
    ("Gamma", lambda L, a, b: L.distributions.Gamma(a, b), ([0.7, 3.0], [2.0, 0.5]), V, ()),
    ("Beta", lambda L, a, b: L.distributions.Beta(a, b), ([0.7, 3.0], [2.0, 0.5]), V, ()),
    ("Dirichlet", lambda L, c: L.distributions.Dirichlet(c), ([0.5, 2.0, 3.5],), [0.2, 0.3, 0.5], ()),
    ("Bernoulli", lambda L, p: L.distributions.Bernoulli(p), ([0.2, 0.9],), [1.0, 0.0], ()),
    ("Bernoulli logits", lambda L, lo: L.distributions.Bernoulli(logits=lo), ([-1.0, 2.0],), [1.0, 0.0], ()),
    ("Categorical", lambda L, p: L.distributions.Categorical(p), ([[0.1, 0.6, 0.3], [0.5, 0.25, 0.25]],), [1, 2], ()),
    (
        "Categorical logits",
        lambda L, lo: L.distributions.Categorical(logits=lo),
        ([[0.1, 0.6, -0.3], [1.5, 0.25, 0.0]],),
        [0, 2],
        (),
    ),
    ("OneHotCategorical", lambda L, p: L.distributions.OneHotCategorical(p), ([0.1, 0.6, 0.3],), [0.0, 1.0, 0.0], ()),
    ("Poisson", lambda L, r: L.distributions.Poisson(r), ([0.5, 4.0],), [2.0, 3.0], ()),
    ("Binomial", lambda L, p: L.distributions.Binomial(10, p), ([0.3, 0.8],), [2.0, 9.0], ()),
    (
        "MultivariateNormal",
        lambda L, m, c: L.distributions.MultivariateNormal(m, covariance_matrix=c),
        ([0.1, -0.4], COV),
        [0.3, 0.2],
        (),
    ),
    (
        "MultivariateNormal tril",
        lambda L, m, c: L.distributions.MultivariateNormal(m, scale_tril=c),
        ([0.1, -0.4], [[1.2, 0.0], [0.3, 0.8]]),
        [0.3, 0.2],
        (),
    ),
    (
        "MultivariateNormal precision",
        lambda L, m, c: L.distributions.MultivariateNormal(m, precision_matrix=c),
        ([0.1, -0.4], COV),
        [0.3, 0.2],
        (),
    ),
    (
        "Independent",
        lambda L, m, s: L.distributions.Independent(L.distributions.Normal(m, s), 1),
        ([0.3, -1.2], [0.7, 2.0]),
        V,
        (),
    ),
]


def _t(L, v, grad=False):
    dt = L.int64 if isinstance(v, list) and v and all(isinstance(x, int) for x in v) else L.float64
    return L.tensor(v, dtype=dt, requires_grad=grad and dt is L.float64)


def _run(L, make, params, value, extra):
    ps = [_t(L, p, grad=True) for p in params]
    d = make(L, *ps)
    out = {"log_prob": d.log_prob(_t(L, value))}
    for name in ("mean", "variance"):
        v = getattr(d, name)
        if not bool(L.isnan(v).any()):
            out[name] = v
    if not isinstance(d, (L.distributions.Poisson,)):
        out["entropy"] = d.entropy()
    for name in extra:
        arg = _t(L, [0.3, 0.7]) if name == "icdf" else _t(L, value)
        out[name] = getattr(d, name)(arg)
    total = sum((v * (i + 1)).sum() for i, v in enumerate(out.values()) if v.requires_grad)
    grads = L.autograd.grad(total, ps, allow_unused=True) if isinstance(total, L.Tensor) else [None] * len(ps)
    return ({k: v.detach().numpy() for k, v in out.items()}, [g.numpy() if g is not None else None for g in grads])


@pytest.mark.parametrize("name,make,params,value,extra", CASES, ids=[c[0] for c in CASES])
def test_distribution_matches_torch(name, make, params, value, extra):
    (o1, g1), (o2, g2) = (_run(L, make, params, value, extra) for L in (rg, torch))
    assert o1.keys() == o2.keys()
    for k in o1:
        np.testing.assert_allclose(o1[k], o2[k], rtol=1e-9, atol=1e-11, err_msg=k)
    for a, b in zip(g1, g2):
        if a is None or b is None:
            assert a is None and b is None or np.allclose(a if a is not None else b, 0)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


KL = [
    ("Normal", lambda L, a: (L.distributions.Normal(a, a * 2), L.distributions.Normal(a * 0 + 0.5, a + 1))),
    ("Gamma", lambda L, a: (L.distributions.Gamma(a, a + 1), L.distributions.Gamma(a * 3, a * 0 + 0.5))),
    ("Beta", lambda L, a: (L.distributions.Beta(a, a + 1), L.distributions.Beta(a * 3, a * 0 + 0.5))),
    ("Exponential", lambda L, a: (L.distributions.Exponential(a), L.distributions.Exponential(a * 3))),
    ("Laplace", lambda L, a: (L.distributions.Laplace(a, a + 1), L.distributions.Laplace(a * 0, a * 2))),
    ("Bernoulli", lambda L, a: (L.distributions.Bernoulli(a / 3), L.distributions.Bernoulli(a * 0 + 0.4))),
    ("Poisson", lambda L, a: (L.distributions.Poisson(a), L.distributions.Poisson(a * 2))),
    ("Binomial", lambda L, a: (L.distributions.Binomial(7, a / 3), L.distributions.Binomial(7, a * 0 + 0.4))),
    ("Uniform-Normal", lambda L, a: (L.distributions.Uniform(a, a + 1), L.distributions.Normal(a * 0, a + 1))),
    ("Uniform-Gamma", lambda L, a: (L.distributions.Uniform(a, a + 1), L.distributions.Gamma(a + 1, a * 2))),
    ("Uniform-Exponential", lambda L, a: (L.distributions.Uniform(a, a + 1), L.distributions.Exponential(a))),
    ("Exponential-Gamma", lambda L, a: (L.distributions.Exponential(a), L.distributions.Gamma(a + 1, a * 2))),
    ("Gamma-Exponential", lambda L, a: (L.distributions.Gamma(a + 1, a * 2), L.distributions.Exponential(a))),
    ("Laplace-Normal", lambda L, a: (L.distributions.Laplace(a, a + 1), L.distributions.Normal(a * 0, a * 2))),
    ("LogNormal", lambda L, a: (L.distributions.LogNormal(a, a * 2), L.distributions.LogNormal(a * 0, a + 1))),
    ("Dirichlet", lambda L, a: (L.distributions.Dirichlet(a), L.distributions.Dirichlet(a.flip(0) + 1))),
    ("Categorical", lambda L, a: (L.distributions.Categorical(a), L.distributions.Categorical(a.flip(0) + 1))),
    (
        "OneHotCategorical",
        lambda L, a: (L.distributions.OneHotCategorical(a), L.distributions.OneHotCategorical(a.flip(0) + 1)),
    ),
    (
        "MultivariateNormal",
        lambda L, a: (
            L.distributions.MultivariateNormal(a, scale_tril=L.diag(a + 1)),
            L.distributions.MultivariateNormal(a.flip(0), covariance_matrix=L.diag(a * 2) + 0.1),
        ),
    ),
]


@pytest.mark.parametrize("name,make", KL, ids=[k[0] for k in KL])
def test_kl_matches_torch(name, make):
    results = []
    for L in (rg, torch):
        a = L.tensor([0.6, 1.3], dtype=L.float64, requires_grad=True)
        p, q = make(L, a)
        kl = L.distributions.kl_divergence(p, q)
        (g,) = L.autograd.grad(kl.sum(), [a])
        results.append((kl.detach().numpy(), g.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize(
    "call",
    [
        lambda L: L.distributions.Normal(L.tensor([0.0, 1.0]), L.tensor([1.0, -1.0])),
        lambda L: L.distributions.Exponential(L.tensor([1.0])).log_prob(L.tensor([-1.0])),
        lambda L: L.distributions.Bernoulli(),
        lambda L: L.distributions.Uniform(L.tensor([1.0]), L.tensor([0.0])),
        lambda L: L.distributions.Normal(L.tensor([0.0, 1.0]), L.tensor([1.0, 1.0])).log_prob(L.ones(3)),
    ],
)
def test_validation_errors_match_torch(call):
    messages = []
    for L in (rg, torch):
        with pytest.raises(ValueError) as info:
            call(L)
        messages.append(str(info.value).replace("retrograd.", "torch.").split("\n")[0])
    assert messages[0] == messages[1]


def test_gamma_cdf_and_igamma_match_torch():
    a0 = [0.05, 0.7, 3.0, 20.0, 2.5]
    x0 = [3.0, 0.4, 5.0, 18.0, 40.0]
    results = []
    for L in (rg, torch):
        a = L.tensor(a0, dtype=L.float64)
        x = L.tensor(x0, dtype=L.float64, requires_grad=True)
        rate = L.tensor([1.5], dtype=L.float64, requires_grad=True)
        values = [L.igamma(a, x), L.special.gammaincc(a, x), L.distributions.Gamma(a, rate).cdf(x)]
        grads = L.autograd.grad(sum((v * (i + 1)).sum() for i, v in enumerate(values)), [x, rate])
        results.append(([v.detach().numpy() for v in values], [g.numpy() for g in grads]))
    for p, q in zip(results[0][0] + results[0][1], results[1][0] + results[1][1]):
        np.testing.assert_allclose(p, q, rtol=1e-11, atol=1e-14)

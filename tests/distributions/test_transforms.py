"""distributions.transforms, biject_to/transform_to and TransformedDistribution: each transform
against its formula, its inverse, its log-Jacobian against a numerical derivative, shapes and
event dims, caching, and gradients."""

import math

import numpy as np
import pytest

import retrograd as torch
from retrograd import distributions as D
from retrograd.autograd import gradcheck
from retrograd.distributions import constraints, transforms as T


def t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


X = np.array([-1.3, -0.2, 0.4, 2.1])
POS = np.array([0.3, 0.9, 1.7, 4.0])

SCALAR = [
    (T.ExpTransform(), X, np.exp),
    (T.SigmoidTransform(), X, lambda x: 1 / (1 + np.exp(-x))),
    (T.TanhTransform(), X, np.tanh),
    (T.SoftplusTransform(), X, lambda x: np.log1p(np.exp(x))),
    (T.AffineTransform(0.5, -2.0), X, lambda x: 0.5 - 2.0 * x),
    (
        T.AffineTransform(t([1.0, 2.0, 3.0, 4.0]), t([0.5, 1.0, 2.0, 3.0])),
        X,
        lambda x: [1, 2, 3, 4] + [0.5, 1, 2, 3] * x,
    ),
    (T.PowerTransform(2.5), POS, lambda x: x**2.5),
    (T.PowerTransform(t(-0.5)), POS, lambda x: x**-0.5),
    (T.ExpTransform().inv, POS, np.log),
    (T.ComposeTransform([T.ExpTransform(), T.AffineTransform(1.0, 3.0)]), X, lambda x: 1 + 3 * np.exp(x)),
]


@pytest.mark.parametrize("tr, x, f", SCALAR, ids=[repr(c[0]).split("(")[0] + str(i) for i, c in enumerate(SCALAR)])
def test_scalar_transforms(tr, x, f):
    y = tr(t(x))
    np.testing.assert_allclose(y.numpy(), f(x), rtol=1e-12)
    np.testing.assert_allclose(tr.inv(y).numpy(), x, rtol=1e-6)  # a float32 exponent's reciprocal rounds
    h = 1e-6
    deriv = (f(x + h) - f(x - h)) / (2 * h)
    np.testing.assert_allclose(tr.log_abs_det_jacobian(t(x), y).numpy(), np.log(np.abs(deriv)), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(
        tr.inv.log_abs_det_jacobian(y, t(x)).numpy(), -np.log(np.abs(deriv)), rtol=1e-6, atol=1e-8
    )
    assert tr.bijective and tr.inv.inv is tr
    assert tr.domain.check(t(x)).all() and tr.codomain.check(y).all()
    sign = tr.sign
    sign = sign.numpy() if isinstance(sign, torch.Tensor) else sign
    assert np.all(np.sign(deriv) == sign)


def test_abs_softmax_lower_cholesky_are_not_bijective():
    x = t([[-1.0, 2.0, 0.5]])
    assert T.AbsTransform()(x).tolist() == [[1.0, 2.0, 0.5]] and not T.AbsTransform().bijective
    y = T.SoftmaxTransform()(x)
    np.testing.assert_allclose(y.numpy(), np.exp(x.numpy()) / np.exp(x.numpy()).sum())
    np.testing.assert_allclose(T.SoftmaxTransform()(T.SoftmaxTransform().inv(y)).numpy(), y.numpy())
    m = t([[0.3, 5.0], [-1.2, 0.1]])
    L = T.LowerCholeskyTransform()(m)
    np.testing.assert_allclose(L.numpy(), [[math.exp(0.3), 0.0], [-1.2, math.exp(0.1)]])
    np.testing.assert_allclose(T.LowerCholeskyTransform().inv(L).numpy(), [[0.3, 0.0], [-1.2, 0.1]])
    pd = T.PositiveDefiniteTransform()(m)
    np.testing.assert_allclose(pd.numpy(), (L @ L.mT).numpy())
    assert constraints.positive_definite.check(pd)


def _jacobian(f, x, h=1e-6):
    cols = []
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = h
        cols.append((f(x + e) - f(x - e)) / (2 * h))
    return np.stack(cols, axis=1)


def test_stick_breaking():
    tr = T.StickBreakingTransform()
    x = np.array([0.3, -1.1, 2.0])
    y = tr(t(x))
    assert y.shape == (4,) and abs(y.sum().item() - 1) < 1e-12 and (y > 0).all()
    np.testing.assert_allclose(tr(t(np.zeros(3))).numpy(), np.full(4, 0.25))  # 0 is the uniform vector
    np.testing.assert_allclose(tr.inv(y).numpy(), x, rtol=1e-9)
    J = _jacobian(lambda v: tr(t(v)).numpy()[:-1], x)  # the free coordinates of the simplex
    np.testing.assert_allclose(tr.log_abs_det_jacobian(t(x), y).item(), np.log(abs(np.linalg.det(J))), rtol=1e-6)
    assert tr.forward_shape((2, 3)) == (2, 4) and tr.inverse_shape((2, 4)) == (2, 3)
    assert tr.domain.event_dim == 1 and tr.codomain.event_dim == 1
    with pytest.raises(ValueError, match="Too few dimensions"):
        tr.forward_shape(())


def test_compose_independent_reshape_event_dims():
    c = T.ComposeTransform([T.ExpTransform(), T.StickBreakingTransform()])
    assert c.domain.event_dim == 1 and c.codomain.event_dim == 1 and c.inv.inv is c
    x = t([[0.1, 0.2], [0.3, -0.4]])
    y = c(x)
    assert y.shape == (2, 3)
    ldj = c.log_abs_det_jacobian(x, y)
    expected = x.sum(-1) + T.StickBreakingTransform().log_abs_det_jacobian(x.exp(), y)
    np.testing.assert_allclose(ldj.numpy(), expected.numpy())
    ind = T.IndependentTransform(T.ExpTransform(), 1)
    assert ind.event_dim == 1 and ind.log_abs_det_jacobian(x, x.exp()).tolist() == pytest.approx([0.3, -0.1])
    r = T.ReshapeTransform((2, 3), (6,))
    w = torch.arange(12.0).reshape(2, 2, 3)
    z = r(w)
    assert z.shape == (2, 6) and r.inv(z).shape == (2, 2, 3) and r.log_abs_det_jacobian(w, z).shape == (2,)
    assert r.forward_shape((5, 2, 3)) == (5, 6)
    with pytest.raises(ValueError, match="different numbers of elements"):
        T.ReshapeTransform((2, 3), (5,))
    assert T.identity_transform(x) is x and T.identity_transform.log_abs_det_jacobian(x, x).shape == (2, 2)


def test_caching_and_equality():
    tr = T.ExpTransform(cache_size=1)
    x = t([0.5], grad=True)
    y = tr(x)
    assert tr(x) is y and tr.inv(y) is x
    assert T.ExpTransform() == T.ExpTransform() and T.AffineTransform(1.0, 2.0) == T.AffineTransform(1.0, 2.0)
    assert T.AffineTransform(1.0, 2.0) != T.AffineTransform(1.0, 3.0)
    assert T.ComposeTransform([T.ExpTransform()]) == T.ComposeTransform([T.ExpTransform()])
    assert T.ExpTransform().with_cache(1)._cache_size == 1
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        T.ExpTransform(cache_size=2)


def test_cumulative_distribution_transform():
    n = D.Normal(t(0.5), t(2.0))
    tr = T.CumulativeDistributionTransform(n)
    x = t([0.0, 1.5])
    np.testing.assert_allclose(tr(x).numpy(), n.cdf(x).numpy())
    np.testing.assert_allclose(tr.inv(tr(x)).numpy(), x.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(tr.log_abs_det_jacobian(x, tr(x)).numpy(), n.log_prob(x).numpy())


@pytest.mark.parametrize(
    "constraint",
    [
        constraints.real,
        constraints.positive,
        constraints.nonnegative,
        constraints.greater_than(2.0),
        constraints.less_than(-1.0),
        constraints.unit_interval,
        constraints.interval(-1.0, 3.0),
        constraints.half_open_interval(0.0, 2.0),
        constraints.real_vector,
        constraints.simplex,
    ],
)
def test_biject_to_and_transform_to_land_in_the_constraint(constraint):
    x = t([[-2.0, 0.3, 1.5], [0.1, -0.7, 4.0]])
    for registry in (D.biject_to, D.transform_to):
        tr = registry(constraint)
        y = tr(x)
        assert constraint.check(y).all()
    b = D.biject_to(constraint)
    assert b.bijective
    np.testing.assert_allclose(b.inv(b(x)).numpy(), x.numpy(), rtol=1e-6, atol=1e-9)


def test_registry_misc():
    assert isinstance(D.transform_to(constraints.lower_cholesky), T.LowerCholeskyTransform)
    assert isinstance(D.transform_to(constraints.simplex), T.SoftmaxTransform)
    with pytest.raises(NotImplementedError, match="Cannot transform"):
        D.biject_to(constraints.lower_cholesky)
    with pytest.raises(TypeError):
        D.biject_to.register(3, lambda c: None)


def test_transformed_distribution_matches_the_change_of_variables():
    base = D.Normal(t([0.3, -1.2]), t([0.7, 2.0]))
    d = D.TransformedDistribution(base, [T.ExpTransform()])
    ln = D.LogNormal(t([0.3, -1.2]), t([0.7, 2.0]))
    v = t([0.4, 2.5])
    np.testing.assert_allclose(d.log_prob(v).numpy(), ln.log_prob(v).numpy(), rtol=1e-12)
    np.testing.assert_allclose(d.cdf(v).numpy(), ln.cdf(v).numpy(), rtol=1e-12)
    np.testing.assert_allclose(d.icdf(t([0.2, 0.9])).numpy(), ln.icdf(t([0.2, 0.9])).numpy(), rtol=1e-12)
    assert d.support is T.ExpTransform.codomain and d.has_rsample
    # a decreasing transform flips the cdf
    neg = D.TransformedDistribution(base, T.AffineTransform(0.0, -1.0))
    np.testing.assert_allclose(neg.cdf(-v).numpy(), 1 - base.cdf(v).numpy(), rtol=1e-12)
    # event dims: a stick-breaking transform makes the base Independent
    sb = D.TransformedDistribution(D.Normal(torch.zeros(2, 3), torch.ones(2, 3)), T.StickBreakingTransform())
    assert sb.batch_shape == (2,) and sb.event_shape == (4,) and sb.sample((5,)).shape == (5, 2, 4)
    e = sb.expand((3, 2))
    assert e.batch_shape == (3, 2) and e.log_prob(e.sample()).shape == (3, 2)
    with pytest.raises(ValueError, match="transforms must be a Transform"):
        D.TransformedDistribution(base, [T.ExpTransform(), 3])
    with pytest.raises(ValueError, match="at least 1"):
        D.TransformedDistribution(D.Normal(t(0.0), t(1.0)), T.StickBreakingTransform())


def test_transformed_distribution_gradients():
    def f(m, s):
        torch.manual_seed(0)
        d = D.TransformedDistribution(D.Normal(m, s), [T.TanhTransform(), T.AffineTransform(0.5, 2.0)])
        return d.rsample((2,)) + d.log_prob(t([0.1, 1.2]))

    assert gradcheck(f, (t([0.3, -0.4], grad=True), t([0.7, 0.2], grad=True)))


def test_cat_and_stack_transforms():
    x = t(np.random.default_rng(0).normal(size=(3, 5)))
    cat = T.CatTransform([T.ExpTransform(), T.identity_transform, T.SigmoidTransform()], dim=1, lengths=[2, 2, 1])
    y = cat(x)
    xn = x.numpy()
    np.testing.assert_allclose(
        y.numpy(), np.concatenate([np.exp(xn[:, :2]), xn[:, 2:4], 1 / (1 + np.exp(-xn[:, 4:]))], 1)
    )
    np.testing.assert_allclose(cat.inv(y).numpy(), xn, rtol=1e-10)
    ldj = cat.log_abs_det_jacobian(x, y).numpy()
    np.testing.assert_allclose(ldj[:, :2], xn[:, :2])
    np.testing.assert_allclose(ldj[:, 2:4], 0.0)
    assert cat.bijective and cat.event_dim == 0 and cat.domain.check(x).all()
    st = T.StackTransform([T.ExpTransform(), T.AffineTransform(1.0, 2.0), T.TanhTransform()], dim=0)
    y = st(x)
    np.testing.assert_allclose(y.numpy(), np.stack([np.exp(xn[0]), 1 + 2 * xn[1], np.tanh(xn[2])]))
    np.testing.assert_allclose(st.inv(y).numpy(), xn, rtol=1e-10)
    np.testing.assert_allclose(st.log_abs_det_jacobian(x, y).numpy()[1], math.log(2.0))
    with pytest.raises(AssertionError):
        st(x[:2])
    with pytest.raises(AssertionError):
        cat(x[:, :4])
    c = constraints.cat([constraints.positive, constraints.real], dim=-1, lengths=[2, 3])
    z = D.biject_to(c)(x)
    assert c.check(z).all() and isinstance(D.biject_to(c), T.CatTransform)
    s = constraints.stack([constraints.unit_interval, constraints.real, constraints.positive], dim=0)
    assert s.check(D.transform_to(s)(x)).all()


def test_corr_cholesky_transform():
    tr = T.CorrCholeskyTransform()
    x = t(np.random.default_rng(1).normal(size=(2, 6)))
    y = tr(x)
    yn = y.numpy()
    assert y.shape == (2, 4, 4) and constraints.corr_cholesky.check(y).all()
    np.testing.assert_allclose((yn**2).sum(-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(tr.inv(y).numpy(), x.numpy(), rtol=1e-9)
    rows, cols = np.tril_indices(4, -1)
    J = _jacobian(lambda v: tr(t(v)).numpy()[rows, cols], x.numpy()[0])
    np.testing.assert_allclose(tr.log_abs_det_jacobian(x, y)[0].item(), np.log(abs(np.linalg.det(J))), rtol=1e-6)
    assert tr.forward_shape((5, 6)) == (5, 4, 4) and tr.inverse_shape((5, 4, 4)) == (5, 6)
    with pytest.raises(ValueError, match="lower-diagonal"):
        tr.forward_shape((5,))
    assert isinstance(D.biject_to(constraints.corr_cholesky), T.CorrCholeskyTransform)
    assert gradcheck(lambda v: tr(v), (t(x.numpy()[0], grad=True),))


def test_lognormal_is_a_transformed_normal():
    d = D.LogNormal(t([0.3, -1.2]), t([0.7, 2.0]))
    assert isinstance(d, D.TransformedDistribution) and isinstance(d.base_dist, D.Normal)
    assert d.transforms == [T.ExpTransform()] and type(d.expand((3, 2))) is D.LogNormal
    assert d.expand((3, 2)).sample().shape == (3, 2)


def test_mixture_support_checks_every_component():
    m = D.MixtureSameFamily(D.Categorical(torch.ones(2)), D.Uniform(t([0.0, 0.5]), t([1.0, 2.0])))
    assert isinstance(m.support, constraints.MixtureSameFamilyConstraint)
    assert m.support.check(t([0.7, 0.2, 1.5])).tolist() == [True, False, False]
    with pytest.raises(ValueError, match="support"):
        m.log_prob(t([0.2]))
    assert D.utils.euler_constant == pytest.approx(0.5772156649015329)

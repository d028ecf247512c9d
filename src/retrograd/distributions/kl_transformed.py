"""KL divergences PyTorch registers for the transformed and heavy-tailed families (Gumbel,
HalfNormal, Pareto, Cauchy, Geometric, ContinuousBernoulli, LowRankMultivariateNormal, and
TransformedDistribution pairs with the same transforms), registered with ``kl.register_kl`` when the package loads."""

import math

from . import kl as _kl
from .bounded import ContinuousBernoulli
from .continuous import Exponential, Normal, Uniform
from .counts import Geometric
from .exp_family import ExponentialFamily
from .gamma import Gamma
from .heavy_tailed import Cauchy
from .kl import register_kl
from .lowrank import LowRankMultivariateNormal
from .multivariate import MultivariateNormal
from .transformed_distribution import TransformedDistribution
from .transformed_families import Gumbel, HalfNormal, Pareto
from .utils import _sum_rightmost

_EULER_GAMMA = 0.57721566490153286060
_HALF_LOG_2PI_E = 0.5 * (1 + math.log(2 * math.pi))


@register_kl(TransformedDistribution, TransformedDistribution)
def _kl_transformed_transformed(p, q):
    """KL is invariant under a shared bijection: the KL of the bases."""
    if p.transforms != q.transforms or p.event_shape != q.event_shape:
        raise NotImplementedError("KL between transformed distributions needs the same transforms and event shape")
    return _kl.kl_divergence(p.base_dist, q.base_dist)


@register_kl(HalfNormal, HalfNormal)
def _kl_halfnormal_halfnormal(p, q):
    return _kl.kl_divergence(p.base_dist, q.base_dist)


@register_kl(Gumbel, Gumbel)
def _kl_gumbel_gumbel(p, q):
    r = p.scale / q.scale
    a = q.loc / q.scale
    b = p.loc / q.scale
    return -r.log() - a + b + r * _EULER_GAMMA + (a + (1 + r).lgamma() - b).exp() - (1 + _EULER_GAMMA)


@register_kl(Gumbel, Normal)
def _kl_gumbel_normal(p, q):
    r = p.scale / q.scale
    t1 = (r / math.sqrt(2 * math.pi)).log()
    t2 = (math.pi * r * 0.5).pow(2) / 3
    t3 = ((p.loc + p.scale * _EULER_GAMMA - q.loc) / q.scale).pow(2) * 0.5
    return -t1 + t2 + t3 - (_EULER_GAMMA + 1)


@register_kl(Normal, Gumbel)
def _kl_normal_gumbel(p, q):
    m = p.loc / q.scale
    v = (p.scale / q.scale).pow(2)
    a = q.loc / q.scale
    return -0.5 * v.log() + m - a + (-m + 0.5 * v + a).exp() - _HALF_LOG_2PI_E


@register_kl(Exponential, Gumbel)
def _kl_exponential_gumbel(p, q):
    k = p.rate * q.scale
    a = q.loc / q.scale
    return k.log() - 1 - a + a.exp() * k / (k + 1) + k.reciprocal()


@register_kl(Uniform, Gumbel)
def _kl_uniform_gumbel(p, q):
    c = q.scale / (p.high - p.low)
    hi = (p.high - q.loc) / q.scale
    lo = (p.low - q.loc) / q.scale
    return c.log() + 0.5 * (hi + lo) - c * ((-hi).exp() - (-lo).exp())


@register_kl(Gamma, Gumbel)
def _kl_gamma_gumbel(p, q):
    c = p.concentration
    k = p.rate * q.scale
    a = q.loc / q.scale
    t1 = (c - 1) * c.digamma() - c.lgamma() - c
    t2 = k.log() + c / k
    t3 = a.exp() * (1 + k.reciprocal()).pow(-c) - a
    return t1 + t2 + t3


@register_kl(Pareto, Pareto)
def _kl_pareto_pareto(p, q):
    alpha_ratio = q.alpha / p.alpha
    result = q.alpha * (p.scale / q.scale).log() - alpha_ratio.log() + alpha_ratio - 1
    return _kl._inf_where(p.scale < q.scale, result)  # p puts mass where q has none


@register_kl(Pareto, Exponential)
def _kl_pareto_exponential(p, q):
    k = p.scale * q.rate
    result = (p.alpha / k).log() - p.alpha.reciprocal() + p.alpha * k / (p.alpha - 1) - 1
    return _kl._inf_where(p.alpha <= 1, result)  # p has no mean


@register_kl(Cauchy, Cauchy)
def _kl_cauchy_cauchy(p, q):
    return ((p.scale + q.scale).pow(2) + (p.loc - q.loc).pow(2)).log() - (4 * p.scale * q.scale).log()


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p, q):
    return -p.entropy() - (-q.probs).log1p() / p.probs - q.logits


@register_kl(ContinuousBernoulli, ContinuousBernoulli)
def _kl_continuous_bernoulli_continuous_bernoulli(p, q):
    t1 = p.mean * (p.logits - q.logits)
    t2 = p._cont_bern_log_norm() + (-p.probs).log1p()
    t3 = -q._cont_bern_log_norm() - (-q.probs).log1p()
    return t1 + t2 + t3


def _as_full(d):
    return MultivariateNormal(d.loc, covariance_matrix=d.covariance_matrix, validate_args=False)


@register_kl(LowRankMultivariateNormal, LowRankMultivariateNormal)
@register_kl(LowRankMultivariateNormal, MultivariateNormal)
@register_kl(MultivariateNormal, LowRankMultivariateNormal)
def _kl_lowrank_multivariate_normal(p, q):
    """The KL of the full-covariance normals (O(n^3), where PyTorch uses the low-rank structure)."""
    if p.event_shape != q.event_shape:
        raise ValueError(
            "KL-divergence between two (Low Rank) Multivariate Normals with different event shapes cannot be computed"
        )
    full = [_as_full(d) if isinstance(d, LowRankMultivariateNormal) else d for d in (p, q)]
    return _kl.kl_divergence(*full)


@register_kl(ExponentialFamily, ExponentialFamily)
def _kl_expfamily_expfamily(p, q):
    """The Bregman divergence of the log normalizer, for two members of one family:
    A(eta_q) - A(eta_p) - <eta_q - eta_p, grad A(eta_p)>."""
    from ..autograd import grad

    if type(p) is not type(q):
        raise NotImplementedError(
            "The cross KL-divergence between different exponential families cannot be computed using Bregman "
            "divergences"
        )
    p_params = [n.detach().requires_grad_() for n in p._natural_params]
    q_params = q._natural_params
    log_norm = p._log_normalizer(*p_params)
    grads = grad(log_norm.sum(), p_params, create_graph=True)
    result = q._log_normalizer(*q_params) - log_norm
    for pn, qn, g in zip(p_params, q_params, grads):
        result = result - _sum_rightmost((qn - pn) * g, len(q.event_shape))
    return result

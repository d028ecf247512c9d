"""retrograd.distributions: PyTorch's ``torch.distributions`` (a subset; see the class list).

Every computation uses retrograd ops, so parameters may require grad (``log_prob``,
``entropy``, ``kl_divergence`` and the ``rsample`` of reparameterized distributions are
differentiable) and the same code runs on CuPy. Random draws come from the default generator
(``manual_seed``). ``transforms`` holds the invertible maps ``TransformedDistribution`` pushes a
base distribution through; ``biject_to``/``transform_to`` give one onto a constraint's region.
"""

from . import constraints, transforms
from .constraints import Constraint  # noqa: F401
from .circular import VonMises
from .bounded import ContinuousBernoulli, InverseGamma, OneHotCategoricalStraightThrough
from .constraint_registry import biject_to, transform_to
from .continuous import Exponential, Laplace, LogNormal, Normal, Uniform
from .counts import Geometric, Multinomial, NegativeBinomial
from .discrete import Bernoulli, Binomial, Categorical, OneHotCategorical, Poisson
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .gamma import Beta, Dirichlet, Gamma
from .heavy_tailed import Cauchy, Chi2, FisherSnedecor, GeneralizedPareto, StudentT
from .kl import kl_divergence, register_kl
from . import kl_transformed  # noqa: F401  (registers the KL pairs of the families below)
from .lkj import LKJCholesky
from .lowrank import LowRankMultivariateNormal
from .mixture import MixtureSameFamily
from .multivariate import Independent, MultivariateNormal
from .relaxed import RelaxedBernoulli, RelaxedOneHotCategorical
from .transformed_distribution import TransformedDistribution
from .wishart import Wishart
from .transformed_families import Gumbel, HalfCauchy, HalfNormal, Kumaraswamy, LogisticNormal, Pareto, Weibull
from .transforms import (
    AbsTransform,
    AffineTransform,
    CatTransform,
    ComposeTransform,
    CorrCholeskyTransform,
    CumulativeDistributionTransform,
    ExpTransform,
    IndependentTransform,
    LowerCholeskyTransform,
    PositiveDefiniteTransform,
    PowerTransform,
    ReshapeTransform,
    SigmoidTransform,
    SoftmaxTransform,
    SoftplusTransform,
    StackTransform,
    StickBreakingTransform,
    TanhTransform,
    Transform,
    identity_transform,
)

__all__ = [
    "constraints",
    "transforms",
    "Distribution",
    "ExponentialFamily",
    "Normal",
    "LogNormal",
    "Uniform",
    "Exponential",
    "Laplace",
    "Bernoulli",
    "Categorical",
    "OneHotCategorical",
    "Poisson",
    "Binomial",
    "Gamma",
    "Beta",
    "Dirichlet",
    "MultivariateNormal",
    "Independent",
    "kl_divergence",
    "register_kl",
    "biject_to",
    "transform_to",
    "TransformedDistribution",
    "Cauchy",
    "Chi2",
    "StudentT",
    "FisherSnedecor",
    "Gumbel",
    "HalfNormal",
    "HalfCauchy",
    "Weibull",
    "Pareto",
    "Kumaraswamy",
    "LogisticNormal",
    "RelaxedBernoulli",
    "RelaxedOneHotCategorical",
    "Geometric",
    "NegativeBinomial",
    "Multinomial",
    "MixtureSameFamily",
    "LowRankMultivariateNormal",
    "VonMises",
    "GeneralizedPareto",
    "LKJCholesky",
    "Wishart",
    "InverseGamma",
    "ContinuousBernoulli",
    "OneHotCategoricalStraightThrough",
    "Transform",
    "AbsTransform",
    "AffineTransform",
    "CatTransform",
    "ComposeTransform",
    "CorrCholeskyTransform",
    "CumulativeDistributionTransform",
    "ExpTransform",
    "IndependentTransform",
    "LowerCholeskyTransform",
    "PositiveDefiniteTransform",
    "PowerTransform",
    "ReshapeTransform",
    "SigmoidTransform",
    "SoftmaxTransform",
    "SoftplusTransform",
    "StackTransform",
    "StickBreakingTransform",
    "TanhTransform",
    "identity_transform",
]

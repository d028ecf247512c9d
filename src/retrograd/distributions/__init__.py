"""retrograd.distributions: PyTorch's ``torch.distributions`` (a subset; see the class list).

Every computation uses retrograd ops, so parameters may require grad (``log_prob``,
``entropy``, ``kl_divergence`` and the ``rsample`` of reparameterized distributions are
differentiable) and the same code runs on CuPy. Random draws come from the default generator
(``manual_seed``).
"""

from . import constraints
from .constraints import Constraint  # noqa: F401
from .continuous import Exponential, Laplace, LogNormal, Normal, Uniform
from .discrete import Bernoulli, Binomial, Categorical, OneHotCategorical, Poisson
from .distribution import Distribution
from .gamma import Beta, Dirichlet, Gamma
from .kl import kl_divergence, register_kl
from .multivariate import Independent, MultivariateNormal

__all__ = [
    "constraints",
    "Distribution",
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
]

"""retrograd.special: PyTorch's ``torch.special`` names. Re-exports, plus a few one-line
compositions (entr, ndtr, ndtri, log_ndtr, xlog1py)."""
import math

from .ops.elementwise import exp2, expm1, log1p, round, sigmoid as expit, xlogy, where  # noqa: F401
from .ops.reduction import logsumexp  # noqa: F401
from .ops.special import erf, erfc  # noqa: F401
from .ops.specfun import (digamma, digamma as psi, erfinv, i0, i1, lgamma as gammaln,  # noqa: F401
                          mvlgamma as multigammaln, polygamma)
from .ops.pointwise import logit, sinc  # noqa: F401
from .ops.nn_toplevel import softmax, log_softmax  # noqa: F401
from .ops.incomplete_gamma import igamma as gammainc, igammac as gammaincc  # noqa: F401

__all__ = ["exp2", "expm1", "log1p", "round", "expit", "xlogy", "where", "logsumexp", "erf", "erfc", "digamma", "psi",
           "erfinv", "i0", "i1", "gammaln", "multigammaln", "polygamma", "logit", "sinc", "softmax", "log_softmax",
           "entr", "ndtr", "ndtri", "log_ndtr", "xlog1py", "gammainc", "gammaincc"]

_SQRT_HALF = math.sqrt(0.5)


def entr(input):
    """-x log(x) for x > 0, 0 at x = 0, -inf for x < 0."""
    pos = input > 0
    safe = where(pos, input, 1.0)
    value = where(pos, -safe * safe.log(), 0.0)
    return where(input < 0, -math.inf, value)


def ndtr(input):
    """The standard normal CDF, (1 + erf(x / sqrt 2)) / 2."""
    return (1 + erf(input * _SQRT_HALF)) * 0.5


def ndtri(input):
    """The inverse of ndtr: sqrt(2) erfinv(2p - 1)."""
    return erfinv(input * 2 - 1) * math.sqrt(2.0)


def log_ndtr(input):
    """log(ndtr(x)), written as log(erfc(-x / sqrt 2) / 2) to keep precision for negative x."""
    return (erfc(-input * _SQRT_HALF) * 0.5).log()


def xlog1py(input, other):
    """x * log1p(y), 0 where x == 0."""
    zero = input == 0
    return where(zero, 0.0, input * log1p(where(zero, 0.0, other)))


# PyTorch's out= forms: each function named in OUT_FORMS["special"] (ops/_out.py) is the plain
# function wrapped to write its result into `out`; every other function here refuses out=.
from .ops._out import OUT_FORMS as _OUT_FORMS, with_out as _with_out  # noqa: E402
for _name in _OUT_FORMS["special"]:
    globals()[_name] = _with_out(globals()[_name], _name)
del _name

"""``LKJCholesky``: the LKJ distribution over correlation matrices, on their Cholesky factors."""

import math

from .._creation import arange, randn, zeros
from ..ops.shape import cat
from .._size import Size
from .._typeinfo import finfo
from ..autograd.grad_mode import no_grad
from ..ops.specfun import lgamma, mvlgamma
from . import constraints
from .distribution import Distribution
from .gamma import Beta
from .utils import broadcast_all

__all__ = ["LKJCholesky"]


class LKJCholesky(Distribution):
    """Lower Cholesky factors L of D x D correlation matrices with density proportional to
    det(L L^T)^(concentration - 1) (Lewandowski, Kurowicka and Joe, 2009). ``sample`` builds each
    row by the onion method from Beta draws and a uniform direction (with the paper's Beta
    parameters: PyTorch 2.13's sampler is biased for dim >= 3); no ``rsample``."""

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim, concentration=1.0, validate_args=None):
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        # the onion method: row i's squared off-diagonal norm is Beta(i / 2, concentration + (D - 1 - i) / 2)
        # (row 0 has none; its entry is unused). PyTorch 2.13 draws Beta(i - 1/2, ...) for i >= 2, which
        # makes the correlations of rows 2 and on too large.
        marginal = self.concentration + 0.5 * (dim - 2)
        offset = arange(dim - 1, dtype=self.concentration.dtype, device=self.concentration.device)
        offset = cat([zeros(1, dtype=offset.dtype, device=offset.device), offset])
        self._beta = Beta(0.5 * offset + 0.5, marginal.unsqueeze(-1) - 0.5 * offset)
        super().__init__(self.concentration.size(), Size((dim, dim)), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = Size(batch_shape)
        new.dim = self.dim
        new.concentration = self.concentration.expand(batch_shape)
        new._beta = self._beta.expand(tuple(batch_shape) + (self.dim,))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape=Size()):
        with no_grad():
            y = self._beta.sample(sample_shape).unsqueeze(-1)
            u = randn(tuple(self._extended_shape(sample_shape)), dtype=y.dtype, device=y.device).tril(-1)
            norm = u.norm(dim=-1, keepdim=True)
            direction = u / norm.clamp(min=finfo(u.dtype).tiny)  # row 0 has no entries: 0 / tiny is 0
            w = y.sqrt() * direction
            diag = (1 - (w**2).sum(-1)).clamp(min=finfo(w.dtype).tiny).sqrt()
            return w + diag.diag_embed()

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diag = value.diagonal(0, -1, -2)[..., 1:]
        order = arange(2, self.dim + 1, dtype=self.concentration.dtype, device=self.concentration.device)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized = (order * diag.log()).sum(-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        normalizer = 0.5 * dm1 * math.log(math.pi) + mvlgamma(alpha - 0.5, dm1) - lgamma(alpha) * dm1
        return unnormalized - normalizer

"""``ExponentialFamily``: distributions with density h(x) exp(<eta, t(x)> - A(eta)).

A family gives its natural parameters eta (``_natural_params``), its log normalizer A
(``_log_normalizer``) and E[log h(x)] (``_mean_carrier_measure``); its entropy and the KL
divergence between two members of one family then follow from A alone, as Bregman divergences
(A's gradient, by autograd, is the mean of t(x)).
"""

from ..autograd import grad as _grad
from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """The base class of exponential families (see the module docstring)."""

    @property
    def _natural_params(self):
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        raise NotImplementedError

    def entropy(self):
        """H = A(eta) - <eta, grad A(eta)> - E[log h(x)]."""
        result = -self._mean_carrier_measure
        params = [p.detach().requires_grad_() for p in self._natural_params]
        log_norm = self._log_normalizer(*params)
        grads = _grad(log_norm.sum(), params, create_graph=True)
        result = result + log_norm
        for p, g in zip(params, grads):
            result = result - (p * g).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result

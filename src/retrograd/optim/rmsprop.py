"""RMSprop (Hinton), optionally centered and with momentum."""
import numpy as np

from .._tensor import Tensor
from ..backend import array_module
from ..sparse import SparseTensor
from .optimizer import (Optimizer, check_arguments, _advance, _bump, _closure_loss,
                        _ensure_step_tensors, _step_tensor, _to_scalar)


class RMSprop(Optimizer):
    r"""RMSprop, PyTorch's update rule. With :math:`g` the gradient (:math:`-g` when
    ``maximize``):

    .. math::
        g &\leftarrow g + \lambda\theta, \qquad v \leftarrow \alpha v + (1 - \alpha) g^2 \\
        \tilde v &= v - \bar g^2 \text{ with } \bar g \leftarrow \alpha\bar g + (1 - \alpha) g
            \text{ if centered, else } v \\
        b &\leftarrow \mu b + g / (\sqrt{\tilde v} + \epsilon), \quad
            \theta \leftarrow \theta - \gamma b \quad\text{if momentum } \mu > 0, \text{ else }
            \theta \leftarrow \theta - \gamma g / (\sqrt{\tilde v} + \epsilon)

    State: ``step``, ``square_avg`` (v), ``momentum_buffer`` (b, when momentum > 0) and
    ``grad_avg`` (:math:`\bar g`, when centered).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False, differentiable=False):
        check_arguments("RMSprop", lr, differentiable, epsilon=eps, momentum=momentum,
                        weight_decay=weight_decay, alpha=alpha)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _after_load(self):
        _ensure_step_tensors(self)

    def step(self, closure=None):
        loss = _closure_loss(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            alpha, eps, wd = group["alpha"], group["eps"], group["weight_decay"]
            mom, centered, maximize = group["momentum"], group["centered"], group["maximize"]
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if type(g) is SparseTensor:
                    raise RuntimeError("RMSprop does not support sparse gradients")
                pd, gd = p._data, g._data
                state = self.state[p]
                if not state:
                    zeros = array_module(pd).zeros_like
                    state["step"] = _step_tensor()
                    state["square_avg"] = Tensor._make(zeros(pd), None, False)
                    if mom > 0:
                        state["momentum_buffer"] = Tensor._make(zeros(pd), None, False)
                    if centered:
                        state["grad_avg"] = Tensor._make(zeros(pd), None, False)
                _advance(state)
                if maximize or wd != 0:
                    work = self._tmp("g", pd)
                    if wd != 0:
                        np.multiply(pd, wd, out=work)
                        np.subtract(work, gd, out=work) if maximize else np.add(gd, work, out=work)
                    else:
                        np.negative(gd, out=work)
                    gd = work
                v = state["square_avg"]._data
                t = self._tmp("t", pd)
                v *= alpha
                np.multiply(gd, gd, out=t)
                t *= 1 - alpha
                v += t
                if centered:
                    ga = state["grad_avg"]._data
                    np.subtract(gd, ga, out=t)  # ga.lerp_(g, 1 - alpha)
                    t *= 1 - alpha
                    ga += t
                    np.multiply(ga, ga, out=t)
                    np.subtract(v, t, out=t)
                    np.sqrt(t, out=t)
                else:
                    np.sqrt(v, out=t)
                t += eps
                if mom > 0:
                    b = state["momentum_buffer"]._data
                    b *= mom
                    np.divide(gd, t, out=t)
                    b += t
                    np.multiply(b, lr, out=t)
                else:
                    np.divide(gd, t, out=t)
                    t *= lr
                pd -= t
                _bump(p)
        return loss

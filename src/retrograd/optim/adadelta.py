"""Adadelta (Zeiler)."""
import numpy as np

from .._tensor import Tensor
from ..backend import array_module
from ..sparse import SparseTensor
from .optimizer import (Optimizer, check_arguments, _advance, _bump, _closure_loss,
                        _ensure_step_tensors, _step_tensor, _to_scalar)


class Adadelta(Optimizer):
    r"""Adadelta, PyTorch's update rule. With :math:`g` the gradient (:math:`-g` when
    ``maximize``):

    .. math::
        g &\leftarrow g + \lambda\theta, \qquad v \leftarrow \rho v + (1 - \rho) g^2 \\
        \Delta &= \frac{\sqrt{u + \epsilon}}{\sqrt{v + \epsilon}}\, g, \qquad
        u \leftarrow \rho u + (1 - \rho)\Delta^2, \qquad \theta \leftarrow \theta - \gamma\Delta

    State: ``step``, ``square_avg`` (v) and ``acc_delta`` (u).
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_arguments("Adadelta", lr, differentiable, epsilon=eps, weight_decay=weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _after_load(self):
        _ensure_step_tensors(self)

    def step(self, closure=None):
        loss = _closure_loss(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            rho, eps, wd, maximize = group["rho"], group["eps"], group["weight_decay"], group["maximize"]
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if type(g) is SparseTensor:
                    raise RuntimeError("Adadelta does not support sparse gradients")
                pd, gd = p._data, g._data
                state = self.state[p]
                if not state:
                    zeros = array_module(pd).zeros_like
                    state["step"] = _step_tensor()
                    state["square_avg"] = Tensor._make(zeros(pd), None, False)
                    state["acc_delta"] = Tensor._make(zeros(pd), None, False)
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
                u = state["acc_delta"]._data
                t = self._tmp("t", pd)
                d = self._tmp("d", pd)
                v *= rho
                np.multiply(gd, gd, out=t)
                t *= 1 - rho
                v += t
                np.add(v, eps, out=t)  # std = sqrt(v + eps)
                np.sqrt(t, out=t)
                np.add(u, eps, out=d)  # delta = sqrt(u + eps) / std * g
                np.sqrt(d, out=d)
                d /= t
                d *= gd
                u *= rho
                np.multiply(d, d, out=t)
                t *= 1 - rho
                u += t
                d *= lr
                pd -= d
                _bump(p)
        return loss

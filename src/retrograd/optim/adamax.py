"""Adamax (Kingma and Ba): Adam with the infinity norm in place of the second moment."""

import numpy as np

from ..backend import array_module
from ._work import Workspace, grad_term, lerp_
from .optimizer import _zero_state, Optimizer, check_arguments, _closure_loss, _ensure_step_tensors, _to_scalar


def adamax(params, grads, exp_avgs, exp_infs, state_steps, *, lr, beta1, beta2, eps, weight_decay, maximize, work=None):
    r"""Adamax over arrays, in place (PyTorch's ``_single_tensor_adamax``). With :math:`t` the
    step count (already advanced) and :math:`g` the gradient (:math:`-g` when ``maximize``):

    .. math::
        g &\leftarrow g + \lambda\theta, \qquad m \leftarrow \beta_1 m + (1 - \beta_1) g \\
        u &\leftarrow \max(\beta_2 u, |g| + \epsilon), \qquad
        \theta \leftarrow \theta - \frac{\gamma}{1 - \beta_1^t} \frac{m}{u}
    """
    if work is None:
        work = Workspace()
    for pd, gd, m, u, step in zip(params, grads, exp_avgs, exp_infs, state_steps):
        xp = np if type(pd) is np.ndarray else array_module(pd)
        gd = grad_term(xp, pd, gd, weight_decay, maximize, work)
        t = work.get("t", pd)
        lerp_(xp, m, gd, 1 - beta1, t)
        u *= beta2
        xp.abs(gd, out=t)
        t += eps
        xp.maximum(u, t, out=u)
        xp.divide(m, u, out=t)
        t *= lr / (1 - beta1**step)
        pd -= t


class Adamax(Optimizer):
    r"""Adamax, PyTorch's update rule (see :func:`adamax`).

    State per parameter: ``step`` (a 0-d float32 tensor), ``exp_avg`` (m) and ``exp_inf`` (u).
    ``foreach=True`` runs the step on flat buffers (same result).
    """

    _buffers = ("exp_avg", "exp_inf")

    def __init__(
        self,
        params,
        lr=2e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        foreach=None,
        *,
        maximize=False,
        differentiable=False,
        capturable=False,
    ):
        check_arguments("Adamax", lr, betas=betas, epsilon=eps, weight_decay=weight_decay)
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            capturable=capturable,
        )
        super().__init__(params, defaults)

    def _after_load(self):
        _ensure_step_tensors(self)

    def _init_state(self, p, group, state):
        _zero_state(p, state, "exp_avg", "exp_inf")

    def step(self, closure=None):
        loss = _closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            self._run(
                adamax,
                self._gather(group),
                group,
                lr=_to_scalar(group["lr"]),
                beta1=beta1,
                beta2=beta2,
                eps=group["eps"],
                weight_decay=group["weight_decay"],
                maximize=group["maximize"],
            )
        return loss

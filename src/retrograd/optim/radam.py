"""RAdam (Liu et al.): Adam with the variance of the adaptive learning rate rectified."""

import numpy as np

from ..backend import array_module
from ._work import Workspace, grad_term, lerp_
from .optimizer import _zero_state, Optimizer, check_arguments, _closure_loss, _ensure_step_tensors, _to_scalar


def radam(
    params,
    grads,
    exp_avgs,
    exp_avg_sqs,
    state_steps,
    *,
    lr,
    beta1,
    beta2,
    eps,
    weight_decay,
    decoupled_weight_decay,
    maximize,
    work=None,
):
    r"""RAdam over arrays, in place (PyTorch's ``_single_tensor_radam``). With :math:`t` the step
    count (already advanced) and :math:`g` the gradient (:math:`-g` when ``maximize``):

    .. math::
        \theta &\leftarrow \theta(1 - \gamma\lambda) \text{ if decoupled_weight_decay, else }
            g \leftarrow g + \lambda\theta \\
        m &\leftarrow \beta_1 m + (1 - \beta_1) g, \qquad v \leftarrow \beta_2 v + (1 - \beta_2) g^2 \\
        \rho_\infty &= \frac{2}{1 - \beta_2} - 1, \qquad
        \rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1 - \beta_2^t} \\
        \theta &\leftarrow \theta - \gamma \frac{m}{1 - \beta_1^t}
            \frac{\sqrt{1 - \beta_2^t}}{\sqrt v + \epsilon}\, r_t \quad\text{if } \rho_t > 5,
            \text{ else } \theta - \gamma \frac{m}{1 - \beta_1^t}, \\
        r_t &= \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\rho_\infty}{(\rho_\infty - 4)(\rho_\infty - 2)\rho_t}}
    """
    if work is None:
        work = Workspace()
    rho_inf = 2 / (1 - beta2) - 1
    for pd, gd, m, v, step in zip(params, grads, exp_avgs, exp_avg_sqs, state_steps):
        xp = np if type(pd) is np.ndarray else array_module(pd)
        if weight_decay != 0 and decoupled_weight_decay:
            pd *= 1 - lr * weight_decay
            gd = grad_term(xp, pd, gd, 0, maximize, work)
        else:
            gd = grad_term(xp, pd, gd, weight_decay, maximize, work)
        t = work.get("t", pd)
        lerp_(xp, m, gd, 1 - beta1, t)
        v *= beta2
        xp.multiply(gd, gd, out=t)
        t *= 1 - beta2
        v += t
        bc1 = 1 - beta1**step
        bc2 = 1 - beta2**step
        rho_t = rho_inf - 2 * step * beta2**step / bc2
        u = work.get("u", pd)
        xp.divide(m, bc1, out=u)
        u *= lr
        if rho_t > 5.0:
            xp.sqrt(v, out=t)
            t += eps
            xp.divide(bc2**0.5, t, out=t)
            u *= t
            u *= ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        pd -= u


class RAdam(Optimizer):
    r"""RAdam, PyTorch's update rule (see :func:`radam`); with ``decoupled_weight_decay`` it is
    RAdamW.

    State per parameter: ``step`` (a 0-d float32 tensor), ``exp_avg`` (m) and ``exp_avg_sq``
    (v). ``foreach=True`` runs the step on flat buffers (same result).
    """

    _buffers = ("exp_avg", "exp_avg_sq")

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        decoupled_weight_decay=False,
        *,
        foreach=None,
        maximize=False,
        capturable=False,
        differentiable=False,
    ):
        check_arguments("RAdam", lr, betas=betas, epsilon=eps, weight_decay=weight_decay)
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _after_load(self):
        _ensure_step_tensors(self)

    def _init_state(self, p, group, state):
        _zero_state(p, state, "exp_avg", "exp_avg_sq")

    def step(self, closure=None):
        loss = _closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            self._run(
                radam,
                self._gather(group),
                group,
                lr=_to_scalar(group["lr"]),
                beta1=beta1,
                beta2=beta2,
                eps=group["eps"],
                weight_decay=group["weight_decay"],
                decoupled_weight_decay=group["decoupled_weight_decay"],
                maximize=group["maximize"],
            )
        return loss

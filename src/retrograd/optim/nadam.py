"""NAdam (Dozat): Adam with Nesterov momentum, with the momentum schedule of the paper."""

import numpy as np

from .._tensor import Tensor
from ..backend import array_module
from ._work import Workspace, grad_term, lerp_
from .optimizer import Optimizer, check_arguments, _closure_loss, _ensure_step_tensors, _step_tensor, _to_scalar


def nadam(
    params,
    grads,
    exp_avgs,
    exp_avg_sqs,
    mu_products,
    state_steps,
    *,
    lr,
    beta1,
    beta2,
    eps,
    weight_decay,
    momentum_decay,
    decoupled_weight_decay,
    maximize,
    work=None,
):
    r"""NAdam over arrays, in place (PyTorch's ``_single_tensor_nadam``). With :math:`t` the
    step count (already advanced), :math:`g` the gradient (:math:`-g` when ``maximize``) and
    :math:`\mu_k = \beta_1 (1 - \tfrac12 0.96^{k\psi})` (``momentum_decay`` :math:`\psi`):

    .. math::
        \theta &\leftarrow \theta(1 - \gamma\lambda) \text{ if decoupled_weight_decay, else }
            g \leftarrow g + \lambda\theta \\
        P &\leftarrow P\mu_t \quad (\text{``mu_product``, a 0-d float32 array}), \qquad
        m \leftarrow \beta_1 m + (1 - \beta_1) g, \qquad v \leftarrow \beta_2 v + (1 - \beta_2) g^2 \\
        \theta &\leftarrow \theta - \gamma\frac{1 - \mu_t}{1 - P}\frac{g}{D}
            - \gamma\frac{\mu_{t+1}}{1 - P\mu_{t+1}}\frac{m}{D}, \qquad
        D = \sqrt{v / (1 - \beta_2^t)} + \epsilon
    """
    if work is None:
        work = Workspace()
    for pd, gd, m, v, mp, step in zip(params, grads, exp_avgs, exp_avg_sqs, mu_products, state_steps):
        xp = np if type(pd) is np.ndarray else array_module(pd)
        if weight_decay != 0 and decoupled_weight_decay:
            pd *= 1 - lr * weight_decay
            gd = grad_term(xp, pd, gd, 0, maximize, work)
        else:
            gd = grad_term(xp, pd, gd, weight_decay, maximize, work)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
        mp *= mu  # in the state's float32, as PyTorch
        prod = float(mp)
        t = work.get("t", pd)
        d = work.get("d", pd)
        lerp_(xp, m, gd, 1 - beta1, t)
        v *= beta2
        xp.multiply(gd, gd, out=t)
        t *= 1 - beta2
        v += t
        xp.divide(v, 1 - beta2**step, out=d)
        xp.sqrt(d, out=d)
        d += eps
        xp.divide(gd, d, out=t)
        t *= lr * (1.0 - mu) / (1.0 - prod)
        pd -= t
        xp.divide(m, d, out=t)
        t *= lr * mu_next / (1.0 - prod * mu_next)
        pd -= t


class NAdam(Optimizer):
    r"""NAdam, PyTorch's update rule (see :func:`nadam`); with ``decoupled_weight_decay`` it is
    NAdamW.

    State per parameter: ``step`` and ``mu_product`` (0-d float32 tensors), ``exp_avg`` (m) and
    ``exp_avg_sq`` (v). The per-parameter ``mu_product`` keeps this step per tensor under
    ``foreach=True`` too (the same result).
    """

    _buffers = ("exp_avg", "exp_avg_sq", "mu_product")
    _flat_ok = False

    def __init__(
        self,
        params,
        lr=2e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        momentum_decay=4e-3,
        decoupled_weight_decay=False,
        *,
        foreach=None,
        maximize=False,
        capturable=False,
        differentiable=False,
    ):
        check_arguments("NAdam", lr, betas=betas, epsilon=eps, weight_decay=weight_decay, momentum_decay=momentum_decay)
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _after_load(self):
        _ensure_step_tensors(self)
        for st in self.state.values():
            if isinstance(st, dict) and "mu_product" in st and not isinstance(st["mu_product"], Tensor):
                st["mu_product"] = _step_tensor(float(st["mu_product"]))

    def _init_state(self, p, group, state):
        zeros = array_module(p._data).zeros_like
        state["step"] = _step_tensor()
        state["mu_product"] = _step_tensor(1.0)
        state["exp_avg"] = Tensor._make(zeros(p._data), None, False)
        state["exp_avg_sq"] = Tensor._make(zeros(p._data), None, False)

    def step(self, closure=None):
        loss = _closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            self._run(
                nadam,
                self._gather(group),
                group,
                lr=_to_scalar(group["lr"]),
                beta1=beta1,
                beta2=beta2,
                eps=group["eps"],
                weight_decay=group["weight_decay"],
                momentum_decay=group["momentum_decay"],
                decoupled_weight_decay=group["decoupled_weight_decay"],
                maximize=group["maximize"],
            )
        return loss

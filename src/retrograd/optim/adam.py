"""Adam (Kingma and Ba), optionally AMSGrad and decoupled weight decay (which is AdamW)."""

import math

import numpy as np

from .._tensor import Tensor
from ..backend import array_module
from ..sparse import SparseTensor
from ._sparse import adam_rows
from ._work import Workspace, grad_term
from .optimizer import _zero_state, Optimizer, check_arguments, _closure_loss, _ensure_step_tensors, _to_scalar


def adam(
    params,
    grads,
    exp_avgs,
    exp_avg_sqs,
    max_exp_avg_sqs,
    state_steps,
    *,
    amsgrad,
    beta1,
    beta2,
    lr,
    weight_decay,
    eps,
    maximize,
    decoupled_weight_decay,
    work=None,
):
    r"""Adam over arrays, in place (PyTorch's ``_single_tensor_adam``). With :math:`t` the
    parameter's step count (``state_steps[i]``, already advanced) and :math:`g` its gradient
    (:math:`-g` when ``maximize``):

    .. math::
        \theta &\leftarrow \theta(1 - \gamma\lambda) \text{ if decoupled_weight_decay, else }
            g \leftarrow g + \lambda\theta \\
        m &\leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
        v \leftarrow \beta_2 v + (1 - \beta_2) g^2 \\
        \hat v &= \max(\hat v_{\text{prev}}, v) \text{ if amsgrad, else } v \\
        \theta &\leftarrow \theta - \frac{\gamma}{1 - \beta_1^t}\,
            \frac{m}{\sqrt{\hat v} / \sqrt{1 - \beta_2^t} + \epsilon}

    ``max_exp_avg_sqs`` entries are None without amsgrad. A ``SparseTensor`` gradient gets the
    lazy row-wise update (``_sparse.adam_rows``; AdamW's, the class decides whether to accept it).
    """
    if work is None:
        work = Workspace()
    for pd, gd, m, v, vmax, step in zip(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps):
        bc1 = 1 - beta1**step
        bc2_sqrt = math.sqrt(1 - beta2**step)
        step_size = lr / bc1
        if type(gd) is SparseTensor:
            adam_rows(
                pd,
                gd,
                m,
                v,
                vmax if amsgrad else None,
                lr=lr,
                beta1=beta1,
                beta2=beta2,
                eps=eps,
                weight_decay=weight_decay,
                maximize=maximize,
                step_size=step_size,
                bias_correction2_sqrt=bc2_sqrt,
            )
            continue
        xp = np if type(pd) is np.ndarray else array_module(pd)
        if weight_decay != 0 and decoupled_weight_decay:
            pd *= 1 - lr * weight_decay
            gd = grad_term(xp, pd, gd, 0, maximize, work)
        else:
            gd = grad_term(xp, pd, gd, weight_decay, maximize, work)
        t = work.get("t", pd)
        # m.lerp_(g, 1 - beta1) = m + (1 - beta1) (g - m)
        xp.subtract(gd, m, out=t)
        t *= 1 - beta1
        m += t
        # v = beta2 v + (1 - beta2) g^2
        v *= beta2
        xp.multiply(gd, gd, out=t)
        t *= 1 - beta2
        v += t
        if amsgrad:
            xp.maximum(vmax, v, out=vmax)
            v = vmax
        # denominator sqrt(v) / sqrt(1 - beta2^t) + eps, then theta -= step_size * m / denom
        xp.sqrt(v, out=t)
        t /= bc2_sqrt
        t += eps
        xp.divide(m, t, out=t)
        t *= step_size
        pd -= t


class Adam(Optimizer):
    r"""Adam, PyTorch's update rule (see :func:`adam`).

    State per parameter: ``step`` (a 0-d float32 tensor), ``exp_avg`` (m), ``exp_avg_sq`` (v)
    and, with amsgrad, ``max_exp_avg_sq``. Sparse gradients are refused (use ``SparseAdam``, or
    ``AdamW``, which updates the touched rows lazily). ``foreach=True`` or ``fused=True`` runs the
    step on flat buffers (same result).
    """

    _buffers = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _sparse_refusal = "{name} does not support sparse gradients, please consider SparseAdam instead"

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        amsgrad=False,
        *,
        foreach=None,
        maximize=False,
        capturable=False,
        differentiable=False,
        fused=None,
        decoupled_weight_decay=False,
    ):
        if isinstance(lr, Tensor) and foreach and not capturable:
            raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
        check_arguments(type(self).__name__, lr, betas=betas, epsilon=eps, weight_decay=weight_decay)
        betas = tuple(float(b) for b in betas)
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    def _after_load(self):
        _ensure_step_tensors(self)

    def _init_state(self, p, group, state):
        _zero_state(p, state, "exp_avg", "exp_avg_sq", *(("max_exp_avg_sq",) if group["amsgrad"] else ()))

    def step(self, closure=None):
        loss = _closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            self._run(
                adam,
                self._gather(group),
                group,
                amsgrad=group["amsgrad"],
                beta1=beta1,
                beta2=beta2,
                lr=_to_scalar(group["lr"]),
                weight_decay=group["weight_decay"],
                eps=group["eps"],
                maximize=group["maximize"],
                decoupled_weight_decay=group["decoupled_weight_decay"],
            )
        return loss

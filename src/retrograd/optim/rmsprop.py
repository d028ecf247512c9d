"""RMSprop (Hinton), optionally centered and with momentum."""

import numpy as np

from .._tensor import Tensor
from ..backend import array_module
from ._work import Workspace, grad_term
from .optimizer import Optimizer, check_arguments, _closure_loss, _ensure_step_tensors, _step_tensor, _to_scalar


def rmsprop(
    params,
    grads,
    square_avgs,
    grad_avgs,
    momentum_buffers,
    state_steps,
    *,
    lr,
    alpha,
    eps,
    weight_decay,
    momentum,
    centered,
    maximize,
    work=None,
):
    r"""RMSprop over arrays, in place (PyTorch's ``_single_tensor_rmsprop``). With :math:`g` the
    gradient (:math:`-g` when ``maximize``):

    .. math::
        g &\leftarrow g + \lambda\theta, \qquad v \leftarrow \alpha v + (1 - \alpha) g^2 \\
        \tilde v &= v - \bar g^2 \text{ with } \bar g \leftarrow \alpha\bar g + (1 - \alpha) g
            \text{ if centered, else } v \\
        b &\leftarrow \mu b + g / (\sqrt{\tilde v} + \epsilon), \quad
            \theta \leftarrow \theta - \gamma b \quad\text{if momentum } \mu > 0, \text{ else }
            \theta \leftarrow \theta - \gamma g / (\sqrt{\tilde v} + \epsilon)

    ``grad_avgs`` entries are None unless centered, ``momentum_buffers`` entries None unless
    momentum > 0. The rule does not use the step counts (PyTorch keeps them in the state)."""
    if work is None:
        work = Workspace()
    plain = weight_decay == 0 and not maximize  # the gradient is used as it is
    for pd, gd, v, ga, b in zip(params, grads, square_avgs, grad_avgs, momentum_buffers):
        xp = np if type(pd) is np.ndarray else array_module(pd)
        gd = gd if plain else grad_term(xp, pd, gd, weight_decay, maximize, work)
        t = work.get("t", pd)
        v *= alpha
        xp.multiply(gd, gd, out=t)
        t *= 1 - alpha
        v += t
        if centered:
            xp.subtract(gd, ga, out=t)  # ga.lerp_(g, 1 - alpha)
            t *= 1 - alpha
            ga += t
            xp.multiply(ga, ga, out=t)
            xp.subtract(v, t, out=t)
            xp.sqrt(t, out=t)
        else:
            xp.sqrt(v, out=t)
        t += eps
        if momentum > 0:
            b *= momentum
            xp.divide(gd, t, out=t)
            b += t
            xp.multiply(b, lr, out=t)
        else:
            xp.divide(gd, t, out=t)
            t *= lr
        pd -= t


class RMSprop(Optimizer):
    r"""RMSprop, PyTorch's update rule (see :func:`rmsprop`).

    State: ``step``, ``square_avg`` (v), ``momentum_buffer`` (b, when momentum > 0) and
    ``grad_avg`` (:math:`\bar g`, when centered). ``foreach=True`` runs the step on flat buffers
    (same result).
    """

    _buffers = ("square_avg", "grad_avg", "momentum_buffer")

    def __init__(
        self,
        params,
        lr=1e-2,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0,
        momentum=0,
        centered=False,
        capturable=False,
        foreach=None,
        maximize=False,
        differentiable=False,
    ):
        check_arguments("RMSprop", lr, epsilon=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        defaults = dict(
            lr=lr,
            momentum=momentum,
            alpha=alpha,
            eps=eps,
            centered=centered,
            weight_decay=weight_decay,
            capturable=capturable,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _after_load(self):
        _ensure_step_tensors(self)

    def _init_state(self, p, group, state):
        zeros = array_module(p._data).zeros_like
        state["step"] = _step_tensor()
        state["square_avg"] = Tensor._make(zeros(p._data), None, False)
        if group["momentum"] > 0:
            state["momentum_buffer"] = Tensor._make(zeros(p._data), None, False)
        if group["centered"]:
            state["grad_avg"] = Tensor._make(zeros(p._data), None, False)

    def step(self, closure=None):
        loss = _closure_loss(closure)
        for group in self.param_groups:
            self._run(
                rmsprop,
                self._gather(group),
                group,
                lr=_to_scalar(group["lr"]),
                alpha=group["alpha"],
                eps=group["eps"],
                weight_decay=group["weight_decay"],
                momentum=group["momentum"],
                centered=group["centered"],
                maximize=group["maximize"],
            )
        return loss

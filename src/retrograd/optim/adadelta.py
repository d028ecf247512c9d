"""Adadelta (Zeiler)."""

import numpy as np

from ..backend import array_module
from ._work import Workspace, grad_term
from .optimizer import _zero_state, Optimizer, check_arguments, _closure_loss, _ensure_step_tensors, _to_scalar


def adadelta(params, grads, square_avgs, acc_deltas, state_steps, *, lr, rho, eps, weight_decay, maximize, work=None):
    r"""Adadelta over arrays, in place (PyTorch's ``_single_tensor_adadelta``). With :math:`g`
    the gradient (:math:`-g` when ``maximize``):

    .. math::
        g &\leftarrow g + \lambda\theta, \qquad v \leftarrow \rho v + (1 - \rho) g^2 \\
        \Delta &= \frac{\sqrt{u + \epsilon}}{\sqrt{v + \epsilon}}\, g, \qquad
        u \leftarrow \rho u + (1 - \rho)\Delta^2, \qquad \theta \leftarrow \theta - \gamma\Delta

    The rule does not use the step counts (PyTorch keeps them in the state)."""
    if work is None:
        work = Workspace()
    plain = weight_decay == 0 and not maximize  # the gradient is used as it is
    for pd, gd, v, u in zip(params, grads, square_avgs, acc_deltas):
        xp = np if type(pd) is np.ndarray else array_module(pd)
        gd = gd if plain else grad_term(xp, pd, gd, weight_decay, maximize, work)
        t = work.get("t", pd)
        d = work.get("d", pd)
        v *= rho
        xp.multiply(gd, gd, out=t)
        t *= 1 - rho
        v += t
        xp.add(v, eps, out=t)  # std = sqrt(v + eps)
        xp.sqrt(t, out=t)
        xp.add(u, eps, out=d)  # delta = sqrt(u + eps) / std * g
        xp.sqrt(d, out=d)
        d /= t
        d *= gd
        u *= rho
        xp.multiply(d, d, out=t)
        t *= 1 - rho
        u += t
        d *= lr
        pd -= d


class Adadelta(Optimizer):
    r"""Adadelta, PyTorch's update rule (see :func:`adadelta`).

    State: ``step``, ``square_avg`` (v) and ``acc_delta`` (u). ``foreach=True`` runs the step on
    flat buffers (same result).
    """

    _buffers = ("square_avg", "acc_delta")

    def __init__(
        self,
        params,
        lr=1.0,
        rho=0.9,
        eps=1e-6,
        weight_decay=0,
        foreach=None,
        *,
        capturable=False,
        maximize=False,
        differentiable=False,
    ):
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_arguments("Adadelta", lr, epsilon=eps, weight_decay=weight_decay)
        defaults = dict(
            lr=lr,
            rho=rho,
            eps=eps,
            weight_decay=weight_decay,
            maximize=maximize,
            capturable=capturable,
            foreach=foreach,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _after_load(self):
        _ensure_step_tensors(self)

    def _init_state(self, p, group, state):
        _zero_state(p, state, "square_avg", "acc_delta")

    def step(self, closure=None):
        loss = _closure_loss(closure)
        for group in self.param_groups:
            self._run(
                adadelta,
                self._gather(group),
                group,
                lr=_to_scalar(group["lr"]),
                rho=group["rho"],
                eps=group["eps"],
                weight_decay=group["weight_decay"],
                maximize=group["maximize"],
            )
        return loss

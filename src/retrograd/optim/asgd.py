"""ASGD (Polyak and Juditsky): SGD with a decaying step size and a running average of the
iterates."""

import numpy as np

from .._tensor import Tensor
from ..backend import array_module
from ._work import Workspace, grad_term
from .optimizer import Optimizer, check_arguments, _closure_loss, _ensure_step_tensors, _step_tensor, _to_scalar


def asgd(params, grads, mus, axs, etas, state_steps, *, lr, lambd, alpha, t0, weight_decay, maximize, work=None):
    r"""ASGD over arrays, in place (PyTorch's ``_single_tensor_asgd``). With :math:`t` the step
    count (already advanced), :math:`g` the gradient (:math:`-g` when ``maximize``), and
    :math:`\eta`, :math:`\mu` the parameter's 0-d ``eta`` and ``mu`` arrays (float32 as PyTorch
    keeps them):

    .. math::
        g &\leftarrow g + \lambda_{wd}\theta, \qquad
        \theta \leftarrow \theta(1 - \lambda\eta) - \eta g \\
        \bar\theta &\leftarrow \bar\theta + \mu(\theta - \bar\theta) \text{ (``ax``; a copy of }
            \theta \text{ while } \mu = 1) \\
        \eta &\leftarrow \gamma / (1 + \lambda\gamma t)^{\alpha}, \qquad
        \mu \leftarrow 1 / \max(1, t - t_0)
    """
    if work is None:
        work = Workspace()
    for pd, gd, mu, ax, eta, step in zip(params, grads, mus, axs, etas, state_steps):
        xp = np if type(pd) is np.ndarray else array_module(pd)
        gd = grad_term(xp, pd, gd, weight_decay, maximize, work)
        e = float(eta)
        pd *= 1 - lambd * e
        t = work.get("t", pd)
        xp.multiply(gd, e, out=t)
        pd -= t
        m = float(mu)
        if m != 1:
            xp.subtract(pd, ax, out=t)
            t *= m
            ax += t
        else:
            ax[...] = pd
        # rounded to float32 whatever the arrays' dtype (a loaded state has the parameter's),
        # as PyTorch makes each value a default-dtype tensor before copying it in
        eta[()] = np.float32(lr / ((1 + lambd * lr * step) ** alpha))
        mu[()] = np.float32(1 / max(1, step - t0))


def _scalar_like(a, value):
    """A 0-d float32 tensor on ``a``'s device (PyTorch keeps ``eta`` and ``mu`` there)."""
    if type(a) is np.ndarray:
        return _step_tensor(value)
    with a.device:
        return Tensor._make(array_module(a).full((), value, dtype=np.float32), None, False)


class ASGD(Optimizer):
    r"""Averaged SGD, PyTorch's update rule (see :func:`asgd`).

    State per parameter: ``step``, ``eta`` and ``mu`` (0-d float32 tensors, the last two on the
    parameter's device) and ``ax`` (the averaged parameter). The per-parameter ``eta`` and
    ``mu`` keep this step per tensor under ``foreach=True`` too (PyTorch's foreach variant
    computes ``eta`` in float32 arithmetic, its per-tensor one, followed here, in float64).
    """

    _buffers = ("mu", "ax", "eta")
    _flat_ok = False

    def __init__(
        self,
        params,
        lr=1e-2,
        lambd=1e-4,
        alpha=0.75,
        t0=1e6,
        weight_decay=0,
        foreach=None,
        maximize=False,
        differentiable=False,
        capturable=False,
    ):
        check_arguments("ASGD", lr, weight_decay=weight_decay)
        defaults = dict(
            lr=lr,
            lambd=lambd,
            alpha=alpha,
            t0=t0,
            weight_decay=weight_decay,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            capturable=capturable,
        )
        super().__init__(params, defaults)

    def _after_load(self):
        _ensure_step_tensors(self)
        for st in self.state.values():
            for key in ("eta", "mu"):
                if isinstance(st, dict) and key in st and not isinstance(st[key], Tensor):
                    st[key] = _step_tensor(float(st[key]))

    def _init_state(self, p, group, state):
        xp = array_module(p._data)
        state["step"] = _step_tensor()
        state["eta"] = _scalar_like(p._data, _to_scalar(group["lr"]))
        state["mu"] = _scalar_like(p._data, 1.0)
        state["ax"] = Tensor._make(xp.zeros_like(p._data), None, False)

    def step(self, closure=None):
        loss = _closure_loss(closure)
        for group in self.param_groups:
            self._run(
                asgd,
                self._gather(group),
                group,
                lr=_to_scalar(group["lr"]),
                lambd=group["lambd"],
                alpha=group["alpha"],
                t0=group["t0"],
                weight_decay=group["weight_decay"],
                maximize=group["maximize"],
            )
        return loss

"""Stochastic gradient descent, with momentum (optionally Nesterov), dampening, weight decay."""

import numpy as np

from ..backend import array_module
from ..sparse import SparseTensor
from ._sparse import sgd_rows
from ._work import Workspace, grad_term
from .optimizer import Optimizer, check_arguments, _closure_loss, _to_scalar


def sgd(params, grads, momentum_buffers, *, lr, momentum, dampening, weight_decay, nesterov, maximize, work=None):
    r"""SGD over arrays, in place (PyTorch's ``_single_tensor_sgd``). For each parameter
    :math:`\theta` with gradient :math:`g` (:math:`-g` when ``maximize``):

    .. math::
        g &\leftarrow g + \lambda\theta  \quad\text{(weight_decay } \lambda\text{)} \\
        b &\leftarrow g \text{ at the first step, else } \mu b + (1 - \tau) g
            \quad\text{(momentum } \mu\text{, dampening } \tau\text{)} \\
        g &\leftarrow g + \mu b \text{ if nesterov, else } b \\
        \theta &\leftarrow \theta - \gamma g

    ``momentum_buffers[i]`` is None before the first step with momentum; the kernel puts the
    new buffer in the list. A ``SparseTensor`` gradient without weight decay updates only its
    rows (``_sparse.sgd_rows``); with weight decay it is made dense, as in PyTorch.
    """
    if work is None:
        work = Workspace()
    plain = weight_decay == 0 and not maximize  # the gradient is used as it is
    for i, (pd, gd) in enumerate(zip(params, grads)):
        if type(gd) is SparseTensor:
            if weight_decay == 0:
                momentum_buffers[i] = sgd_rows(
                    pd,
                    gd,
                    momentum_buffers[i],
                    lr=lr,
                    momentum=momentum,
                    dampening=dampening,
                    nesterov=nesterov,
                    maximize=maximize,
                )
                continue
            gd = gd.to_dense()._data
        xp = np if type(pd) is np.ndarray else array_module(pd)
        d = gd if plain else grad_term(xp, pd, gd, weight_decay, maximize, work)
        spare = d is not gd  # d lives in a work array, free to overwrite
        if momentum != 0:
            b = momentum_buffers[i]
            if b is None:
                momentum_buffers[i] = b = d.copy()
            else:
                if type(b) is SparseTensor:  # gradients were sparse before: continue densely
                    momentum_buffers[i] = b = b.to_dense()._data
                b *= momentum
                if dampening != 0:
                    t = work.get("d", pd)
                    xp.multiply(d, 1 - dampening, out=t)
                    b += t
                else:
                    b += d
            if nesterov:
                t = work.get("n", pd)
                xp.multiply(b, momentum, out=t)  # g + mu * b
                xp.add(d, t, out=t)
                d, spare = t, True
            else:
                d, spare = b, False
        upd = d if spare else work.get("u", pd)
        xp.multiply(d, lr, out=upd)
        xp.subtract(pd, upd, out=pd)


class SGD(Optimizer):
    r"""Stochastic gradient descent, PyTorch's update rule (see :func:`sgd`).

    The momentum buffer ``b`` is kept in ``state[p]["momentum_buffer"]`` (only when
    ``momentum != 0``). Sparse gradients (``nn.Embedding(sparse=True)``) are supported as in
    PyTorch: without momentum the update touches only the rows in the gradient; with momentum
    the buffer is a sparse tensor over every row touched so far; with ``weight_decay`` the
    gradient becomes dense. ``foreach=True`` or ``fused=True`` runs the step on flat buffers (same
    result).
    """

    _buffers = ("momentum_buffer",)
    _has_step = False
    _sparse_refusal = None

    def __init__(
        self,
        params,
        lr=1e-3,
        momentum=0,
        dampening=0,
        weight_decay=0,
        nesterov=False,
        *,
        maximize=False,
        foreach=None,
        differentiable=False,
        fused=None,
    ):
        check_arguments("SGD", lr, momentum=momentum, weight_decay=weight_decay)
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
            foreach=foreach,
            differentiable=differentiable,
            fused=fused,
        )
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def _has_state(self, group):
        return group["momentum"] != 0

    def step(self, closure=None):
        loss = _closure_loss(closure)
        for group in self.param_groups:
            self._run(
                sgd,
                self._gather(group),
                group,
                lr=_to_scalar(group["lr"]),
                momentum=group["momentum"],
                dampening=group["dampening"],
                weight_decay=group["weight_decay"],
                nesterov=group["nesterov"],
                maximize=group["maximize"],
            )
        return loss

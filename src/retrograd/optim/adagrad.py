"""Adagrad (Duchi et al.), with learning-rate decay; sparse gradients supported."""

import numpy as np

from .._tensor import Tensor
from ..backend import array_module
from ..sparse import SparseTensor
from ._sparse import adagrad_rows
from ._work import Workspace, grad_term
from .optimizer import Optimizer, check_arguments, _closure_loss, _ensure_step_tensors, _step_tensor, _to_scalar


def adagrad(params, grads, state_sums, state_steps, *, lr, weight_decay, lr_decay, eps, maximize, work=None):
    r"""Adagrad over arrays, in place (PyTorch's ``_single_tensor_adagrad``). With :math:`t` the
    step count (``state_steps[i]``, already advanced) and :math:`g` the gradient (:math:`-g`
    when ``maximize``):

    .. math::
        g &\leftarrow g + \lambda\theta, \qquad
        \tilde\gamma = \gamma / (1 + (t - 1)\,\eta) \quad\text{(lr_decay } \eta\text{)} \\
        s &\leftarrow s + g^2, \qquad \theta \leftarrow \theta - \tilde\gamma\, g / (\sqrt{s} + \epsilon)

    A ``SparseTensor`` gradient updates only its rows (``_sparse.adagrad_rows``); weight decay
    is then refused, as in PyTorch."""
    if work is None:
        work = Workspace()
    plain = weight_decay == 0 and not maximize  # the gradient is used as it is
    for pd, gd, s, step in zip(params, grads, state_sums, state_steps):
        clr = lr / (1 + (step - 1) * lr_decay)
        if type(gd) is SparseTensor:
            if weight_decay != 0:
                raise RuntimeError("weight_decay option is not compatible with sparse gradients")
            adagrad_rows(pd, gd, s, clr=clr, eps=eps, maximize=maximize)
            continue
        xp = np if type(pd) is np.ndarray else array_module(pd)
        gd = gd if plain else grad_term(xp, pd, gd, weight_decay, maximize, work)
        t = work.get("t", pd)
        xp.multiply(gd, gd, out=t)
        s += t
        xp.sqrt(s, out=t)
        t += eps
        xp.divide(gd, t, out=t)
        t *= clr
        pd -= t


class Adagrad(Optimizer):
    r"""Adagrad, PyTorch's update rule (see :func:`adagrad`).

    ``s`` (``state[p]["sum"]``) starts at ``initial_accumulator_value``; the state is created in
    the constructor, as in PyTorch. A sparse gradient updates only its rows (``weight_decay`` is
    then refused, as in PyTorch). ``foreach=True`` or ``fused=True`` runs the dense steps on flat
    buffers (same result).
    """

    _buffers = ("sum",)
    _sparse_refusal = None

    def __init__(
        self,
        params,
        lr=1e-2,
        lr_decay=0,
        weight_decay=0,
        initial_accumulator_value=0,
        eps=1e-10,
        foreach=None,
        *,
        maximize=False,
        differentiable=False,
        fused=None,
    ):
        check_arguments(
            "Adagrad",
            lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            epsilon=eps,
        )
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            eps=eps,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            fused=fused,
        )
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                if not state:
                    self._init_state(p, group, state)

    def _init_state(self, p, group, state):
        state["step"] = _step_tensor()
        state["sum"] = Tensor._make(
            array_module(p._data).full_like(p._data, group["initial_accumulator_value"]), None, False
        )

    def _after_load(self):
        _ensure_step_tensors(self)

    def step(self, closure=None):
        loss = _closure_loss(closure)
        for group in self.param_groups:
            self._run(
                adagrad,
                self._gather(group),
                group,
                lr=_to_scalar(group["lr"]),
                weight_decay=group["weight_decay"],
                lr_decay=group["lr_decay"],
                eps=group["eps"],
                maximize=group["maximize"],
            )
        return loss

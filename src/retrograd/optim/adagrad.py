"""Adagrad (Duchi et al.), with learning-rate decay; sparse gradients supported."""
import numpy as np

from .._tensor import Tensor
from ..backend import array_module
from ..sparse import SparseTensor, coalesced_rows, rows_view
from .optimizer import (Optimizer, check_arguments, _advance, _bump, _closure_loss,
                        _ensure_step_tensors, _step_tensor, _to_scalar)


class Adagrad(Optimizer):
    r"""Adagrad, PyTorch's update rule. With :math:`t` the step count and :math:`g` the gradient
    (:math:`-g` when ``maximize``):

    .. math::
        g &\leftarrow g + \lambda\theta, \qquad
        \tilde\gamma = \gamma / (1 + (t - 1)\,\eta) \quad\text{(lr_decay } \eta\text{)} \\
        s &\leftarrow s + g^2, \qquad \theta \leftarrow \theta - \tilde\gamma\, g / (\sqrt{s} + \epsilon)

    ``s`` (``state[p]["sum"]``) starts at ``initial_accumulator_value``; the state is created in
    the constructor, as in PyTorch. A sparse gradient updates only its rows (``weight_decay`` is
    then refused, as in PyTorch).
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        check_arguments("Adagrad", lr, differentiable, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, epsilon=eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        state = self.state[p]
        if not state:
            state["step"] = _step_tensor()
            state["sum"] = Tensor._make(array_module(p._data).full_like(
                p._data, group["initial_accumulator_value"]), None, False)
        return state

    def _after_load(self):
        _ensure_step_tensors(self)

    def step(self, closure=None):
        loss = _closure_loss(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            lr_decay, wd, eps, maximize = (group["lr_decay"], group["weight_decay"], group["eps"],
                                           group["maximize"])
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                state = self._init_state(p, group)
                step = _advance(state)
                clr = lr / (1 + (step - 1) * lr_decay)
                s = state["sum"]._data
                pd = p._data
                if type(g) is SparseTensor:
                    if wd != 0:
                        raise RuntimeError("weight_decay option is not compatible with sparse gradients")
                    sd = g.sparse_dim()
                    rows, gv = coalesced_rows(g)
                    if maximize:
                        gv = -gv
                    S, P = rows_view(s, sd), rows_view(pd, sd)
                    sr = S[rows]
                    sr += gv * gv
                    S[rows] = sr
                    std = np.sqrt(sr, out=sr)
                    std += eps
                    np.divide(gv, std, out=std)
                    std *= clr
                    P[rows] -= std
                else:
                    gd = g._data
                    if maximize or wd != 0:
                        work = self._tmp("g", pd)
                        if wd != 0:
                            np.multiply(pd, wd, out=work)
                            np.subtract(work, gd, out=work) if maximize else np.add(gd, work, out=work)
                        else:
                            np.negative(gd, out=work)
                        gd = work
                    t = self._tmp("t", pd)
                    np.multiply(gd, gd, out=t)
                    s += t
                    np.sqrt(s, out=t)
                    t += eps
                    np.divide(gd, t, out=t)
                    t *= clr
                    pd -= t
                _bump(p)
        return loss

"""Rprop (Riedmiller and Braun): per-element step sizes adapted to the sign of the gradient."""

import numpy as np

from .._tensor import Tensor
from ..backend import array_module
from ._work import Workspace
from .optimizer import Optimizer, check_arguments, _closure_loss, _ensure_step_tensors, _step_tensor, _to_scalar


def rprop(
    params,
    grads,
    prevs,
    step_sizes,
    state_steps,
    *,
    step_size_min,
    step_size_max,
    etaminus,
    etaplus,
    maximize,
    work=None,
):
    r"""Rprop over arrays, in place (PyTorch's ``_single_tensor_rprop``). With :math:`g` the
    gradient (:math:`-g` when ``maximize``), :math:`g'` the previous step's (``prev``) and
    :math:`s` the per-element step size:

    .. math::
        s &\leftarrow \operatorname{clamp}(s \cdot \eta, s_{\min}, s_{\max}), \qquad
        \eta = \eta_+ \text{ where } g g' > 0,\ \eta_- \text{ where } g g' < 0,\ 1 \text{ where } g g' = 0 \\
        g &\leftarrow 0 \text{ where } g g' < 0, \qquad
        \theta \leftarrow \theta - \operatorname{sign}(g)\, s, \qquad g' \leftarrow g

    As in PyTorch, whose sign of NaN is 0, a NaN product counts as 0 and a NaN gradient moves
    nothing (it is kept as :math:`g'`). The rule does not use the step counts (PyTorch keeps them
    in the state)."""
    if work is None:
        work = Workspace()
    for pd, gd, prev, s in zip(params, grads, prevs, step_sizes):
        xp = np if type(pd) is np.ndarray else array_module(pd)
        f = work.get("t", pd)
        with np.errstate(invalid="ignore"):  # inf * 0 is NaN, handled below, silently
            xp.multiply(gd, prev, out=f)
        if maximize:  # (-g) g'
            xp.negative(f, out=f)
        turned = f < 0  # the gradient changed sign: shrink the step, skip this update
        grew = f > 0
        f.fill(1.0)  # also where the product is NaN: PyTorch's sign(NaN) is 0
        f[grew] = etaplus
        f[turned] = etaminus
        s *= f
        xp.clip(s, step_size_min, step_size_max, out=s)
        if maximize:
            xp.negative(gd, out=prev)
        else:
            prev[...] = gd
        prev[turned] = 0
        xp.greater(prev, 0, out=f)  # sign(prev), 0 for NaN as PyTorch's
        f -= prev < 0
        f *= s
        pd -= f


class Rprop(Optimizer):
    r"""Rprop, PyTorch's update rule (see :func:`rprop`).

    State per parameter: ``step`` (a 0-d float32 tensor), ``prev`` (the last gradient used) and
    ``step_size`` (starting at ``lr``; later changes of ``lr`` do not affect it, as in PyTorch).
    ``foreach=True`` runs the step on flat buffers (same result).
    """

    _buffers = ("prev", "step_size")

    def __init__(
        self,
        params,
        lr=1e-2,
        etas=(0.5, 1.2),
        step_sizes=(1e-6, 50),
        *,
        capturable=False,
        foreach=None,
        maximize=False,
        differentiable=False,
    ):
        check_arguments("Rprop", lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(
            lr=lr,
            etas=tuple(etas),
            step_sizes=tuple(step_sizes),
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            capturable=capturable,
        )
        super().__init__(params, defaults)

    def _after_load(self):
        _ensure_step_tensors(self)

    def _init_state(self, p, group, state):
        xp = array_module(p._data)
        state["step"] = _step_tensor()
        state["prev"] = Tensor._make(xp.zeros_like(p._data), None, False)
        state["step_size"] = Tensor._make(xp.full_like(p._data, _to_scalar(group["lr"])), None, False)

    def step(self, closure=None):
        loss = _closure_loss(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            self._run(
                rprop,
                self._gather(group),
                group,
                step_size_min=step_size_min,
                step_size_max=step_size_max,
                etaminus=etaminus,
                etaplus=etaplus,
                maximize=group["maximize"],
            )
        return loss

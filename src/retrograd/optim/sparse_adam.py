"""SparseAdam: Adam's update applied only to the rows present in a sparse gradient."""
import math

import numpy as np

from .._tensor import Tensor
from ..backend import array_module
from ..sparse import SparseTensor, coalesced_rows, rows_view
from .optimizer import Optimizer, check_arguments, _bump, _closure_loss, _to_scalar


class SparseAdam(Optimizer):
    r"""Adam masked to the rows of a sparse gradient (``nn.Embedding(sparse=True)``), PyTorch's
    update rule. For the rows ``r`` present in the (coalesced) gradient, with :math:`t` the
    parameter's step count:

    .. math::
        m_r &\leftarrow \beta_1 m_r + (1 - \beta_1) g_r, \qquad
        v_r \leftarrow \beta_2 v_r + (1 - \beta_2) g_r^2 \\
        \theta_r &\leftarrow \theta_r - \gamma\,\frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t}\,
            \frac{m_r}{\sqrt{v_r} + \epsilon}

    Other rows, and their moments, are untouched. Note that :math:`\epsilon` is added to
    :math:`\sqrt{v}` before the bias correction here, unlike in ``Adam``. Time and temporary
    memory scale with the rows touched. State: ``step`` (an int), ``exp_avg``, ``exp_avg_sq``.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if not 0.0 < lr:  # SparseAdam wants both strictly positive
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        check_arguments("SparseAdam", lr, betas=betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, maximize=maximize)
        super().__init__(params, defaults)
        sparse = [[i, j] for i, g in enumerate(self.param_groups) for j, p in enumerate(g["params"])
                  if p.is_sparse]
        if sparse:
            raise ValueError(f"Sparse params at indices {sparse}: SparseAdam requires dense "
                             f"parameter tensors")

    def step(self, closure=None):
        loss = _closure_loss(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            beta1, beta2 = group["betas"]
            eps, maximize = group["eps"], group.get("maximize", False)
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if type(g) is not SparseTensor:
                    raise RuntimeError("SparseAdam does not support dense gradients, please "
                                       "consider Adam instead")
                state = self.state[p]
                if not state:
                    zeros = array_module(p._data).zeros_like
                    state["step"] = 0
                    state["exp_avg"] = Tensor._make(zeros(p._data), None, False)
                    state["exp_avg_sq"] = Tensor._make(zeros(p._data), None, False)
                state["step"] = step = int(state["step"]) + 1
                rows, gv = coalesced_rows(g)
                if rows.shape[0] == 0:
                    continue
                if maximize:
                    gv = -gv
                sd = g.sparse_dim()
                M = rows_view(state["exp_avg"]._data, sd)
                V = rows_view(state["exp_avg_sq"]._data, sd)
                m, v = M[rows], V[rows]
                m += (gv - m) * (1 - beta1)
                v += (gv * gv - v) * (1 - beta2)
                M[rows] = m
                V[rows] = v
                step_size = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
                denom = np.sqrt(v, out=v)
                denom += eps
                np.divide(m, denom, out=m)
                m *= step_size
                P = rows_view(p._data, sd)
                P[rows] -= m
                _bump(p)
        return loss

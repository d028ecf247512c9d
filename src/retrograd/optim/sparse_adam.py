"""SparseAdam: Adam's update applied only to the rows present in a sparse gradient."""

import math

from .._tensor import Tensor
from ..backend import array_module
from ._sparse import sparse_adam_rows
from .optimizer import Optimizer, check_arguments, _closure_loss, _to_scalar


def sparse_adam(params, grads, exp_avgs, exp_avg_sqs, state_steps, *, eps, beta1, beta2, lr, maximize, work=None):
    r"""SparseAdam over arrays and ``SparseTensor`` gradients, in place (PyTorch's
    ``sparse_adam``). For the rows ``r`` present in the (coalesced) gradient, with :math:`t` the
    parameter's step count (``state_steps[i]``, already advanced):

    .. math::
        m_r &\leftarrow \beta_1 m_r + (1 - \beta_1) g_r, \qquad
        v_r \leftarrow \beta_2 v_r + (1 - \beta_2) g_r^2 \\
        \theta_r &\leftarrow \theta_r - \gamma\,\frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t}\,
            \frac{m_r}{\sqrt{v_r} + \epsilon}

    Other rows, and their moments, are untouched. ``work`` is accepted for the common kernel
    signature (the row updates need no scratch arrays)."""
    for pd, g, m, v, step in zip(params, grads, exp_avgs, exp_avg_sqs, state_steps):
        step_size = lr * math.sqrt(1 - beta2**step) / (1 - beta1**step)
        sparse_adam_rows(pd, g, m, v, step_size=step_size, beta1=beta1, beta2=beta2, eps=eps, maximize=maximize)


class SparseAdam(Optimizer):
    r"""Adam masked to the rows of a sparse gradient (``nn.Embedding(sparse=True)``), PyTorch's
    update rule (see :func:`sparse_adam`). Note that :math:`\epsilon` is added to
    :math:`\sqrt{v}` before the bias correction here, unlike in ``Adam``. Time and temporary
    memory scale with the rows touched. State: ``step`` (an int, as in PyTorch), ``exp_avg``,
    ``exp_avg_sq``. Dense gradients are refused.
    """

    _buffers = ("exp_avg", "exp_avg_sq")
    _sparse_refusal = None
    _dense_refusal = "{name} does not support dense gradients, please consider Adam instead"
    _flat_ok = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if not 0.0 < lr:  # SparseAdam wants both strictly positive
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        check_arguments("SparseAdam", lr, betas=betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, maximize=maximize)
        super().__init__(params, defaults)
        sparse = [[i, j] for i, g in enumerate(self.param_groups) for j, p in enumerate(g["params"]) if p.is_sparse]
        if sparse:
            raise ValueError(f"Sparse params at indices {sparse}: SparseAdam requires dense parameter tensors")

    def _init_state(self, p, group, state):
        zeros = array_module(p._data).zeros_like
        state["step"] = 0
        state["exp_avg"] = Tensor._make(zeros(p._data), None, False)
        state["exp_avg_sq"] = Tensor._make(zeros(p._data), None, False)

    def step(self, closure=None):
        loss = _closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            self._run(
                sparse_adam,
                self._gather(group),
                group,
                eps=group["eps"],
                beta1=beta1,
                beta2=beta2,
                lr=_to_scalar(group["lr"]),
                maximize=group.get("maximize", False),
            )
        return loss

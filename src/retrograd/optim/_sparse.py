"""The optimizer updates for sparse gradients (``nn.Embedding(sparse=True)``).

Each function updates one parameter array in place from a ``SparseTensor`` gradient, touching
only the rows present in it, so that time and temporary memory scale with the rows touched.
The algorithms' kernels call them for their sparse gradients; the dense rules stay free of
sparse cases.
"""

import numpy as np

from .._tensor import Tensor
from ..sparse import SparseTensor, add_into, coalesced_rows, combine, rows_view


def sgd_rows(param, grad, buf, *, lr, momentum, dampening, nesterov, maximize):
    """SGD on the rows of ``grad`` (no weight decay, which makes the gradient dense).

    ``buf`` is the momentum buffer: None before the first step (it becomes a coalesced copy of
    the gradient), a ``SparseTensor`` over every row touched so far (it decays there at every
    step: the same trajectory as dense momentum with zero gradients elsewhere), or a dense array
    (gradients were dense before). Returns the buffer, updated in place where it existed."""
    if maximize:
        grad = -grad
    if momentum != 0:
        if buf is None:
            buf = grad.coalesce().clone()
        elif type(buf) is SparseTensor:
            buf._data = combine(momentum, buf, 1 - dampening, grad)._data
        else:
            buf *= momentum
            add_into(buf, grad, None if dampening == 0 else 1 - dampening)
        b = buf if type(buf) is SparseTensor else Tensor._make(buf, None, False)
        grad = grad + b * momentum if nesterov else b
    if type(grad) is SparseTensor:
        add_into(param, grad, -lr)
    else:
        param -= grad._data * lr
    return buf


def adagrad_rows(param, grad, state_sum, *, clr, eps, maximize):
    """Adagrad on the rows of ``grad``, with the step's decayed learning rate ``clr``."""
    sd = grad.sparse_dim()
    rows, gv = coalesced_rows(grad)
    if maximize:
        gv = -gv
    S, P = rows_view(state_sum, sd), rows_view(param, sd)
    sr = S[rows]
    sr += gv * gv
    S[rows] = sr
    std = np.sqrt(sr, out=sr)
    std += eps
    np.divide(gv, std, out=std)
    std *= clr
    P[rows] -= std


def adam_rows(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    max_exp_avg_sq,
    *,
    lr,
    beta1,
    beta2,
    eps,
    weight_decay,
    maximize,
    step_size,
    bias_correction2_sqrt,
):
    """The AdamW update restricted to the rows of ``grad`` (AdamW's lazy sparse update): those
    rows are decayed, and their moments and values updated; other rows are left alone.
    ``max_exp_avg_sq`` is None without amsgrad."""
    sd = grad.sparse_dim()
    rows, gv = coalesced_rows(grad)
    if maximize:
        gv = -gv
    P = rows_view(param, sd)
    M = rows_view(exp_avg, sd)
    V = rows_view(exp_avg_sq, sd)
    pr, m, v = P[rows], M[rows], V[rows]
    if weight_decay != 0:
        pr *= 1 - lr * weight_decay
    m += (gv - m) * (1 - beta1)
    v *= beta2
    v += gv * gv * (1 - beta2)
    M[rows] = m
    V[rows] = v
    if max_exp_avg_sq is not None:
        VM = rows_view(max_exp_avg_sq, sd)
        v = np.maximum(VM[rows], v)
        VM[rows] = v
    denom = np.sqrt(v)
    denom /= bias_correction2_sqrt
    denom += eps
    np.divide(m, denom, out=denom)
    denom *= step_size
    pr -= denom
    P[rows] = pr


def sparse_adam_rows(param, grad, exp_avg, exp_avg_sq, *, step_size, beta1, beta2, eps, maximize):
    """SparseAdam's update of the rows of ``grad`` (``eps`` added before the bias correction,
    which ``step_size`` carries)."""
    rows, gv = coalesced_rows(grad)
    if rows.shape[0] == 0:
        return
    if maximize:
        gv = -gv
    sd = grad.sparse_dim()
    M = rows_view(exp_avg, sd)
    V = rows_view(exp_avg_sq, sd)
    m, v = M[rows], V[rows]
    m += (gv - m) * (1 - beta1)
    v += (gv * gv - v) * (1 - beta2)
    M[rows] = m
    V[rows] = v
    denom = np.sqrt(v, out=v)
    denom += eps
    np.divide(m, denom, out=m)
    m *= step_size
    P = rows_view(param, sd)
    P[rows] -= m

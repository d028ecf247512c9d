"""Adam (Kingma and Ba), optionally AMSGrad and decoupled weight decay (which is AdamW)."""
import math

import numpy as np

from .._tensor import Tensor
from ..backend import array_module
from ..sparse import SparseTensor, coalesced_rows, rows_view
from .optimizer import (Optimizer, check_arguments, _advance, _bump, _closure_loss, _ensure_step_tensors,
                        _step_tensor, _to_scalar)


class Adam(Optimizer):
    r"""Adam, PyTorch's update rule. With :math:`t` the parameter's step count and :math:`g` its
    gradient (:math:`-g` when ``maximize``):

    .. math::
        \theta &\leftarrow \theta(1 - \gamma\lambda) \text{ if decoupled_weight_decay, else }
            g \leftarrow g + \lambda\theta \\
        m &\leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
        v \leftarrow \beta_2 v + (1 - \beta_2) g^2 \\
        \hat v &= \max(\hat v_{\text{prev}}, v) \text{ if amsgrad, else } v \\
        \theta &\leftarrow \theta - \frac{\gamma}{1 - \beta_1^t}\,
            \frac{m}{\sqrt{\hat v} / \sqrt{1 - \beta_2^t} + \epsilon}

    State per parameter: ``step`` (a 0-d float32 tensor), ``exp_avg`` (m), ``exp_avg_sq`` (v)
    and, with amsgrad, ``max_exp_avg_sq``. Sparse gradients are refused (use ``SparseAdam``, or
    ``AdamW``, which updates the touched rows lazily).
    """

    _sparse_ok = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        check_arguments(type(self).__name__, lr, differentiable, betas=betas, epsilon=eps,
                        weight_decay=weight_decay)
        betas = tuple(float(b) for b in betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _after_load(self):
        _ensure_step_tensors(self)

    def _init_state(self, p, amsgrad):
        xp_zeros = array_module(p._data).zeros_like
        state = {"step": _step_tensor(),
                 "exp_avg": Tensor._make(xp_zeros(p._data), None, False),
                 "exp_avg_sq": Tensor._make(xp_zeros(p._data), None, False)}
        if amsgrad:
            state["max_exp_avg_sq"] = Tensor._make(xp_zeros(p._data), None, False)
        return state

    def step(self, closure=None):
        loss = _closure_loss(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            beta1, beta2 = group["betas"]
            eps = group["eps"]
            wd = group["weight_decay"]
            amsgrad = group["amsgrad"]
            maximize = group["maximize"]
            decoupled = group["decoupled_weight_decay"]
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if type(g) is SparseTensor and not self._sparse_ok:
                    raise RuntimeError(f"{type(self).__name__} does not support sparse gradients, "
                                       f"please consider SparseAdam instead")
                state = self.state[p]
                if not state:
                    state.update(self._init_state(p, amsgrad))
                step = _advance(state)
                bc1 = 1 - beta1 ** step
                bc2_sqrt = math.sqrt(1 - beta2 ** step)
                step_size = lr / bc1
                if type(g) is SparseTensor:
                    self._lazy_rows(p, g, state, lr, beta1, beta2, eps, wd, amsgrad, maximize,
                                    step_size, bc2_sqrt)
                else:
                    self._dense(p._data, g._data, state, lr, beta1, beta2, eps, wd, amsgrad,
                                maximize, decoupled, step_size, bc2_sqrt)
                _bump(p)
        return loss

    def _dense(self, pd, gd, state, lr, beta1, beta2, eps, wd, amsgrad, maximize, decoupled,
               step_size, bc2_sqrt):
        if wd != 0 and decoupled:
            pd *= 1 - lr * wd
        if maximize or (wd != 0 and not decoupled):
            work = self._tmp("g", pd)
            if wd != 0 and not decoupled:
                np.multiply(pd, wd, out=work)
                if maximize:
                    np.subtract(work, gd, out=work)
                else:
                    np.add(gd, work, out=work)
            else:
                np.negative(gd, out=work)
            gd = work
        m = state["exp_avg"]._data
        v = state["exp_avg_sq"]._data
        t = self._tmp("t", pd)
        # m.lerp_(g, 1 - beta1) = m + (1 - beta1) (g - m)
        np.subtract(gd, m, out=t)
        t *= 1 - beta1
        m += t
        # v = beta2 v + (1 - beta2) g^2
        v *= beta2
        np.multiply(gd, gd, out=t)
        t *= 1 - beta2
        v += t
        if amsgrad:
            vmax = state["max_exp_avg_sq"]._data
            np.maximum(vmax, v, out=vmax)
            v = vmax
        # denominator sqrt(v) / sqrt(1 - beta2^t) + eps, then theta -= step_size * m / denom
        np.sqrt(v, out=t)
        t /= bc2_sqrt
        t += eps
        np.divide(m, t, out=t)
        t *= step_size
        pd -= t

    def _lazy_rows(self, p, g, state, lr, beta1, beta2, eps, wd, amsgrad, maximize, step_size,
                   bc2_sqrt):
        """The AdamW update restricted to the rows present in a sparse gradient."""
        sd = g.sparse_dim()
        rows, gv = coalesced_rows(g)
        if maximize:
            gv = -gv
        P = rows_view(p._data, sd)
        M = rows_view(state["exp_avg"]._data, sd)
        V = rows_view(state["exp_avg_sq"]._data, sd)
        pr, m, v = P[rows], M[rows], V[rows]
        if wd != 0:
            pr *= 1 - lr * wd
        m += (gv - m) * (1 - beta1)
        v *= beta2
        v += gv * gv * (1 - beta2)
        M[rows] = m
        V[rows] = v
        if amsgrad:
            VM = rows_view(state["max_exp_avg_sq"]._data, sd)
            v = np.maximum(VM[rows], v)
            VM[rows] = v
        denom = np.sqrt(v)
        denom /= bc2_sqrt
        denom += eps
        np.divide(m, denom, out=denom)
        denom *= step_size
        pr -= denom
        P[rows] = pr

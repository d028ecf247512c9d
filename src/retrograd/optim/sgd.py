"""Stochastic gradient descent, with momentum (optionally Nesterov), dampening, weight decay."""
import numpy as np

from .._tensor import Tensor
from ..sparse import SparseTensor, add_into, combine
from .optimizer import Optimizer, check_arguments, _bump, _closure_loss, _to_scalar


class SGD(Optimizer):
    r"""Stochastic gradient descent, PyTorch's update rule. Each step, for every parameter
    :math:`\theta` with gradient :math:`g` (:math:`-g` when ``maximize``):

    .. math::
        g &\leftarrow g + \lambda\theta  \quad\text{(weight_decay } \lambda\text{)} \\
        b &\leftarrow g \text{ at the first step, else } \mu b + (1 - \tau) g
            \quad\text{(momentum } \mu\text{, dampening } \tau\text{)} \\
        g &\leftarrow g + \mu b \text{ if nesterov, else } b \\
        \theta &\leftarrow \theta - \gamma g

    The momentum buffer ``b`` is kept in ``state[p]["momentum_buffer"]`` (only when
    ``momentum != 0``).

    Sparse gradients (``nn.Embedding(sparse=True)``) are supported as in PyTorch: without
    momentum the update touches only the rows in the gradient; with momentum the buffer is a
    sparse tensor over every row touched so far (it decays there at every step, which is the
    same trajectory as dense momentum with zero gradients elsewhere); with ``weight_decay`` the
    gradient becomes dense.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        check_arguments("SGD", lr, differentiable, momentum=momentum, weight_decay=weight_decay)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach,
                        differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = _closure_loss(closure)
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            wd = group["weight_decay"]
            mom = group["momentum"]
            damp = group["dampening"]
            nesterov = group["nesterov"]
            maximize = group["maximize"]
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                state = self.state[p] if mom != 0 else None
                if type(g) is SparseTensor and wd == 0:
                    self._sparse_update(p, g, state, lr, mom, damp, nesterov, maximize)
                else:
                    gd = g.to_dense()._data if type(g) is SparseTensor else g._data
                    self._dense_update(p._data, gd, state, lr, wd, mom, damp, nesterov, maximize)
                _bump(p)
        return loss

    def _dense_update(self, pd, gd, state, lr, wd, mom, damp, nesterov, maximize):
        work = None  # a work array that gd now lives in, free to overwrite
        if wd != 0 or maximize:
            work = self._tmp("g", pd)
            if wd != 0:
                np.multiply(pd, wd, out=work)
                if maximize:
                    np.subtract(work, gd, out=work)
                else:
                    np.add(gd, work, out=work)
            else:
                np.negative(gd, out=work)
            gd = work
        if mom != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                b = gd.copy()
                state["momentum_buffer"] = Tensor._make(b, None, False)
            elif type(buf) is SparseTensor:  # gradients were sparse before: continue densely
                b = buf.to_dense()._data
                b *= mom
                b += gd if damp == 0 else gd * (1 - damp)
                state["momentum_buffer"] = Tensor._make(b, None, False)
            else:
                b = buf._data
                b *= mom
                if damp != 0:
                    t = self._tmp("d", pd)
                    np.multiply(gd, 1 - damp, out=t)
                    b += t
                else:
                    b += gd
            if nesterov:
                t = self._tmp("n", pd)
                np.multiply(b, mom, out=t)  # g + mu * b
                np.add(gd, t, out=t)
                gd = work = t
            else:
                gd = b
                work = None
        upd = work if work is not None else self._tmp("u", pd)
        np.multiply(gd, lr, out=upd)
        np.subtract(pd, upd, out=pd)

    def _sparse_update(self, p, g, state, lr, mom, damp, nesterov, maximize):
        if maximize:
            g = -g
        if mom != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.coalesce().clone()
            elif type(buf) is SparseTensor:
                buf._data = combine(mom, buf, 1 - damp, g)._data
            else:
                b = buf._data
                b *= mom
                add_into(b, g, None if damp == 0 else 1 - damp)
            g = g + buf * mom if nesterov else buf
        if type(g) is SparseTensor:
            add_into(p._data, g, -lr)
        else:
            p._data -= g._data * lr

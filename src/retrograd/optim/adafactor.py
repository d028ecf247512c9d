"""Adafactor (Shazeer and Stern): Adam-like steps with the second moment of a matrix kept as
row and column factors, as PyTorch's ``optim.Adafactor``."""

import numpy as np

from .._tensor import Tensor
from ..backend import array_module
from .optimizer import Optimizer, _closure_loss, _ensure_step_tensors, _step_tensor, _to_scalar


def _lerp(avg, new, w):
    """``avg.lerp_(new, w)`` with PyTorch's two formulas."""
    if w < 0.5:
        avg += w * (new - avg)
    else:
        avg[...] = new - (1 - w) * (new - avg)


def adafactor(
    params,
    grads,
    row_vars,
    col_vars,
    variances,
    state_steps,
    *,
    lr,
    beta2_decay,
    eps1,
    eps2,
    d,
    weight_decay,
    maximize,
    work=None,
):
    r"""Adafactor over arrays, in place (PyTorch's ``_single_tensor_adafactor``). With :math:`t`
    the step count (already advanced), :math:`g` the gradient (:math:`-g` when ``maximize``),
    :math:`\hat\beta_t = t^{c}` (``beta2_decay`` :math:`c \le 0`) and
    :math:`\rho_t = \min(\gamma, 1/\sqrt t)`:

    .. math::
        \alpha &= \max(\epsilon_2, \mathrm{RMS}(\theta))\,\rho_t, \qquad
            \theta \leftarrow \theta(1 - \gamma\lambda) \\
        R &\leftarrow \mathrm{lerp}(R, \mathrm{mean}_{-1}(g^2), \hat\beta_t), \quad
        C \leftarrow \mathrm{lerp}(C, \mathrm{mean}_{-2}(g^2), \hat\beta_t), \quad
        \hat v = R C / \max(\mathrm{mean}_{-2}(R), \epsilon_1)
            \quad\text{(matrices; else } \hat v = v \leftarrow \mathrm{lerp}(v, g^2, \hat\beta_t)) \\
        u &= g / \sqrt{\max(\hat v, \epsilon_1^2)}, \qquad
        \theta \leftarrow \theta - \frac{\alpha}{\max(1, \mathrm{RMS}(u) / d)}\, u

    ``eps1`` None is the machine epsilon of the first parameter's dtype (for all of them, as in
    PyTorch)."""
    for pd, gd, R, C, v, step in zip(params, grads, row_vars, col_vars, variances, state_steps):
        xp = np if type(pd) is np.ndarray else array_module(pd)
        if maximize:
            gd = -gd
        if eps1 is None:
            eps1 = float(xp.finfo(pd.dtype).eps)
        beta_hat = step**beta2_decay
        rho = min(lr, 1 / (step**0.5))
        alpha = max(eps2, float(xp.sqrt((pd * pd).sum())) / (pd.size**0.5)) * rho
        if weight_decay != 0:
            pd *= 1 - lr * weight_decay
        sq = gd * gd
        if gd.ndim > 1:
            _lerp(R, sq.mean(axis=-1, keepdims=True), beta_hat)
            _lerp(C, sq.mean(axis=-2, keepdims=True), beta_hat)
            est = R @ C
            est /= xp.maximum(R.mean(axis=-2, keepdims=True), eps1)
        else:
            _lerp(v, sq, beta_hat)
            est = v.copy()
        xp.maximum(est, eps1 * eps1, out=est)
        xp.sqrt(est, out=est)
        xp.divide(gd, est, out=est)
        denom = max(1.0, float(xp.sqrt((est * est).sum())) / ((est.size**0.5) * d))
        est *= alpha / denom
        pd -= est


class Adafactor(Optimizer):
    r"""Adafactor, PyTorch's update rule (see :func:`adafactor`).

    State per parameter: ``step`` (a 0-d float32 tensor) and, for a parameter of two or more
    dimensions, ``row_var`` and ``col_var`` (its last dimension, resp. the one before, reduced
    to 1), else ``variance``. The rule is not elementwise: ``foreach=True`` runs it per tensor
    (the same result).
    """

    _buffers = ("row_var", "col_var", "variance")
    _flat_ok = False

    def __init__(
        self,
        params,
        lr=1e-2,
        beta2_decay=-0.8,
        eps=(None, 1e-3),
        d=1.0,
        weight_decay=0.0,
        *,
        foreach=None,
        maximize=False,
    ):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = dict(
            lr=lr,
            beta2_decay=beta2_decay,
            eps=tuple(eps),
            d=d,
            weight_decay=weight_decay,
            foreach=foreach,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _after_load(self):
        _ensure_step_tensors(self)

    def _init_state(self, p, group, state):
        g = p._grad._data
        zeros = array_module(g).zeros_like  # on the gradient's device
        state["step"] = _step_tensor()
        if g.ndim > 1:
            state["row_var"] = Tensor._make(zeros(g[..., :1]), None, False)
            state["col_var"] = Tensor._make(zeros(g[..., :1, :]), None, False)
        else:
            state["variance"] = Tensor._make(zeros(g), None, False)

    def step(self, closure=None):
        loss = _closure_loss(closure)
        for group in self.param_groups:
            eps1, eps2 = group["eps"]
            self._run(
                adafactor,
                self._gather(group),
                group,
                lr=_to_scalar(group["lr"]),
                beta2_decay=group["beta2_decay"],
                eps1=eps1,
                eps2=eps2,
                d=group["d"],
                weight_decay=group["weight_decay"],
                maximize=group["maximize"],
            )
        return loss

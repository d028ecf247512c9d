"""Muon (Jordan et al.): momentum SGD whose update of a matrix is orthogonalised by a
Newton-Schulz iteration, as PyTorch's ``optim.Muon``."""

import math

import numpy as np

from .._tensor import Tensor
from ..backend import array_module
from .optimizer import Optimizer, _closure_loss, _to_scalar

EPS = 1e-7
DEFAULT_A = 3.4445
DEFAULT_B = -4.7750
DEFAULT_C = 2.0315
DEFAULT_NS_STEPS = 5


def _bf16(xp, x):
    """``x`` rounded to bfloat16 (to nearest, ties to even), as float32: the upper 16 bits of
    each float32. NaN stays NaN."""
    x = xp.ascontiguousarray(x, dtype=np.float32)
    u = x.view(np.uint32)
    rounded = (u + (np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1)))) & np.uint32(0xFFFF0000)
    out = rounded.view(np.float32)
    return xp.where(xp.isnan(x), x, out)


def zeropower_via_newtonschulz(grad, ns_coefficients, ns_steps, eps):
    r"""The orthogonal factor of the 2-d array ``grad`` (:math:`UV^\top` of its SVD),
    approximately: ``grad`` scaled to unit Frobenius norm, then ``ns_steps`` iterations
    :math:`X \leftarrow aX + (bG + cG^2)X`, :math:`G = XX^\top` (on the wide orientation). As in
    PyTorch the iteration runs in bfloat16 (emulated here: float32 products, each result
    rounded to bfloat16); returns float32 arrays holding bfloat16 values."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if grad.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = ns_coefficients
    xp = np if type(grad) is np.ndarray else array_module(grad)
    x = _bf16(xp, grad)
    tall = grad.shape[0] > grad.shape[1]
    if tall:
        x = x.T
    norm = _bf16(xp, xp.sqrt((x * x).sum(dtype=np.float32)))
    norm = xp.maximum(norm, _bf16(xp, xp.float32(eps)))
    x = _bf16(xp, x / norm)
    for _ in range(ns_steps):
        gram = _bf16(xp, x @ x.T)
        update = _bf16(xp, np.float32(b) * gram + np.float32(c) * (gram @ gram))
        x = _bf16(xp, np.float32(a) * x + update @ x)
    return x.T if tall else x


def _adjust_lr(lr, adjust_lr_fn, shape):
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return lr * math.sqrt(max(1, rows / cols))
    if adjust_lr_fn == "match_rms_adamw":
        return lr * 0.2 * math.sqrt(max(rows, cols))
    return lr


def muon(
    params,
    grads,
    momentum_buffers,
    *,
    lr,
    weight_decay,
    momentum,
    nesterov,
    ns_coefficients,
    ns_steps,
    eps,
    adjust_lr_fn,
    work=None,
):
    r"""Muon over 2-d arrays, in place (PyTorch's ``_single_tensor_muon``):

    .. math::
        b &\leftarrow \mu b + (1 - \mu) g, \qquad
        u = \mathrm{NS}(g + \mu (b - g) \text{ if nesterov, else } b) \\
        \theta &\leftarrow \theta(1 - \gamma\lambda) - \gamma' u

    with NS the Newton-Schulz orthogonalisation (:func:`zeropower_via_newtonschulz`) and
    :math:`\gamma'` the rate adjusted to the shape (``adjust_lr_fn``: ``"original"``
    :math:`\gamma\sqrt{\max(1, m/n)}`, ``"match_rms_adamw"`` :math:`0.2\gamma\sqrt{\max(m, n)}`).
    """
    for pd, gd, buf in zip(params, grads, momentum_buffers):
        if gd.ndim != 2:
            raise ValueError("Param gradient must be a 2D matrix")
        w = 1 - momentum
        if w < 0.5:
            buf += w * (gd - buf)
        else:
            buf[...] = gd - (1 - w) * (gd - buf)
        if nesterov:
            if momentum < 0.5:
                upd = gd + momentum * (buf - gd)
            else:
                upd = buf - (1 - momentum) * (buf - gd)
        else:
            upd = buf
        upd = zeropower_via_newtonschulz(upd, ns_coefficients, ns_steps, eps)
        pd *= 1 - lr * weight_decay
        pd -= _adjust_lr(lr, adjust_lr_fn, pd.shape) * upd.astype(pd.dtype)


class Muon(Optimizer):
    r"""Muon, PyTorch's update rule (see :func:`muon`), for 2-d parameters only (use another
    optimizer for biases, norms and embeddings, as the method intends).

    State per parameter: ``momentum_buffer``. ``foreach=True`` is not supported (as in
    PyTorch, which refuses it too).
    """

    _buffers = ("momentum_buffer",)
    _has_step = False
    _flat_ok = False

    def __init__(
        self,
        params,
        lr=1e-3,
        weight_decay=0.1,
        momentum=0.95,
        nesterov=True,
        ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C),
        eps=EPS,
        ns_steps=DEFAULT_NS_STEPS,
        adjust_lr_fn=None,
    ):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ("original", "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = dict(
            lr=lr,
            weight_decay=weight_decay,
            momentum=momentum,
            nesterov=nesterov,
            ns_coefficients=tuple(ns_coefficients),
            eps=eps,
            ns_steps=ns_steps,
            adjust_lr_fn=adjust_lr_fn,
        )
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(
                        f"Muon only supports 2D parameters whereas we found a parameter with size: {tuple(p.shape)}"
                    )

    def _init_state(self, p, group, state):
        state["momentum_buffer"] = Tensor._make(array_module(p._grad._data).zeros_like(p._grad._data), None, False)

    def step(self, closure=None):
        loss = _closure_loss(closure)
        for group in self.param_groups:
            self._run(
                muon,
                self._gather(group),
                group,
                lr=_to_scalar(group["lr"]),
                weight_decay=group["weight_decay"],
                momentum=group["momentum"],
                nesterov=group["nesterov"],
                ns_coefficients=group["ns_coefficients"],
                ns_steps=group["ns_steps"],
                eps=group["eps"],
                adjust_lr_fn=group["adjust_lr_fn"],
            )
        return loss

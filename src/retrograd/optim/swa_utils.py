"""Weight averaging (SWA, EMA) as PyTorch's ``optim.swa_utils``: ``AveragedModel`` keeps a
running average of a model's parameters, ``SWALR`` anneals the rate to a constant for the
averaging phase, and ``update_bn`` recomputes batch-norm statistics for the averaged weights.
"""

import itertools
import math
from copy import deepcopy

from .._creation import tensor
from .._dtype import int64
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..nn.modules.batchnorm import _BatchNorm
from ..nn.modules.module import Module
from .lr_scheduler import LRScheduler, _per_group

__all__ = [
    "AveragedModel",
    "update_bn",
    "SWALR",
    "get_ema_multi_avg_fn",
    "get_swa_multi_avg_fn",
    "get_ema_avg_fn",
    "get_swa_avg_fn",
]


def _check_decay(decay):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def get_ema_multi_avg_fn(decay=0.999):
    """An exponential moving average over lists of tensors, in place:
    ``ema = decay * ema + (1 - decay) * current`` (a lerp for floating tensors)."""
    _check_decay(decay)

    def ema_update(ema_param_list, current_param_list, _):
        with no_grad():
            if ema_param_list[0].is_floating_point():
                for e, c in zip(ema_param_list, current_param_list):
                    e.lerp_(c, 1 - decay)
            else:
                for e, c in zip(ema_param_list, current_param_list):
                    e.copy_(e * decay + c * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    """The running mean over lists of floating tensors, in place: after ``n`` averaged models,
    ``avg.lerp_(current, 1 / (n + 1))``. Integer tensors are refused (RuntimeError), as in
    PyTorch."""

    def swa_update(averaged_param_list, current_param_list, num_averaged):
        with no_grad():
            if averaged_param_list[0].is_floating_point():
                w = 1 / (float(num_averaged) + 1)
                for a, c in zip(averaged_param_list, current_param_list):
                    a.lerp_(c, w)
            else:
                raise RuntimeError(
                    f"get_swa_multi_avg_fn: cannot average {averaged_param_list[0].dtype} "
                    f"tensors in place (an integer mean is not an integer; PyTorch "
                    f"refuses them too); average integer buffers with avg_fn="
                    f"get_swa_avg_fn(), or leave use_buffers=False"
                )

    return swa_update


def get_ema_avg_fn(decay=0.999):
    """An exponential moving average of one tensor: returns ``decay * ema + (1 - decay) * current``."""
    _check_decay(decay)

    def ema_update(ema_param, current_param, num_averaged):
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    """The running mean of one tensor: returns ``avg + (current - avg) / (n + 1)``."""

    def swa_update(averaged_param, current_param, num_averaged):
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    """A copy of ``model`` whose parameters are the average of the models given to
    ``update_parameters``: their running mean (SWA) by default, or what ``avg_fn`` (one tensor
    at a time, returning the new average) or ``multi_avg_fn`` (lists of tensors of one device
    and dtype, in place) compute. The first update copies the model. ``n_averaged`` (an int64
    buffer) counts the updates.

    With ``use_buffers`` the buffers (e.g. batch-norm statistics) are averaged too; otherwise
    they are copied from the model at each update. ``device`` moves the copy there.
    """

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype=int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def _pairs(self, model):
        if self.use_buffers:
            mine = itertools.chain(self.module.parameters(), self.module.buffers())
            theirs = itertools.chain(model.parameters(), model.buffers())
        else:
            mine, theirs = self.parameters(), model.parameters()
        return [(a.detach(), b.detach().to(a.device)) for a, b in zip(mine, theirs)]

    def update_parameters(self, model):
        """Average ``model``'s parameters (and buffers, with ``use_buffers``) into this one."""
        with no_grad():
            pairs = self._pairs(model)
            n = int(self.n_averaged.item())
            if n == 0:
                for a, b in pairs:
                    a.copy_(b)
            elif self.avg_fn is not None:
                for a, b in pairs:
                    a.copy_(self.avg_fn(a, b, self.n_averaged.to(a.device)))
            elif self.multi_avg_fn is not None:
                groups = {}
                for a, b in pairs:
                    groups.setdefault((str(a.device), a.dtype), []).append((a, b))
                for (device, _), grp in groups.items():
                    self.multi_avg_fn([a for a, _ in grp], [b for _, b in grp], self.n_averaged.to(device))
            else:
                avg = get_swa_avg_fn()
                for a, b in pairs:
                    a.copy_(avg(a, b, self.n_averaged.to(a.device)))
            if not self.use_buffers:
                for a, b in zip(self.module.buffers(), model.buffers()):
                    a.detach().copy_(b.detach().to(a.device))
            self.n_averaged += 1


def update_bn(loader, model, device=None):
    """Recompute the running statistics of ``model``'s batch-norm layers with one pass over
    ``loader`` (its items are inputs, or lists/tuples whose first element is the input; moved
    to ``device`` when given), averaging over all batches equally (momentum None). The layers'
    momenta and the model's training mode are restored afterwards."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    try:
        with no_grad():
            for batch in loader:
                if isinstance(batch, (list, tuple)):
                    batch = batch[0]
                if device is not None:
                    batch = batch.to(device)
                model(batch)
    finally:
        for module, momentum in momenta.items():
            module.momentum = momentum
        model.train(was_training)


class SWALR(LRScheduler):
    r"""Anneals each group's rate to ``swa_lr`` over ``anneal_epochs`` steps (cosine or linear)
    and keeps it there: at step :math:`k`,
    :math:`\eta_k = \alpha_k\, \text{swa\_lr} + (1 - \alpha_k)\, \eta_0`, with
    :math:`\alpha_k` the annealing curve at :math:`k / \text{anneal\_epochs}`, the initial
    rate :math:`\eta_0` recovered from the group's current rate (so the schedule follows a rate
    set by another scheduler before it)."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        for lr, group in zip(_per_group("swa_lr", optimizer, swa_lr), optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._anneal_strategy = anneal_strategy
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    def anneal_func(self, t):
        """The share of ``swa_lr`` at the fraction ``t`` of the annealing."""
        if self._anneal_strategy == "cos":
            return (1 - math.cos(math.pi * t)) / 2
        return t

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        return swa_lr if alpha == 1 else (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self):
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        span = max(1, self.anneal_epochs)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / span)))
        alpha = self.anneal_func(max(0, min(1, step / span)))
        groups = self.optimizer.param_groups
        initial = [
            self._get_initial_lr(float(g["lr"]) if isinstance(g["lr"], Tensor) else g["lr"], g["swa_lr"], prev_alpha)
            for g in groups
        ]
        return [g["swa_lr"] * alpha + lr * (1 - alpha) for g, lr in zip(groups, initial)]

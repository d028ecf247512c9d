"""``torch.amp.GradScaler``: loss scaling for float16 training, with PyTorch's state machine.

Per iteration: ``scaler.scale(loss).backward()``, optionally ``scaler.unscale_(optimizer)``
(to clip the true gradients), ``scaler.step(optimizer)``, ``scaler.update()``. ``step`` unscales
the gradients if that was not done, and skips ``optimizer.step()`` when any of them holds an
inf or a NaN. ``update`` multiplies the scale by ``backoff_factor`` after a skipped step and by
``growth_factor`` after ``growth_interval`` unskipped steps in a row.
"""

import warnings
from enum import Enum

import numpy as np

__all__ = ["OptState", "GradScaler"]


class OptState(Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _fresh_state():
    return {"stage": OptState.READY, "found_inf": None}


class GradScaler:
    """Scales the loss so that small float16 gradients do not flush to zero, and unscales the
    gradients before the optimizer uses them. With ``enabled=False`` every method passes
    through (``scale`` returns its argument, ``step`` calls ``optimizer.step``, ``get_scale`` is
    1.0). For ``device="cuda"`` without a GPU it warns and disables itself, as PyTorch does."""

    def __init__(
        self,
        device="cuda",
        init_scale=2.0**16,
        growth_factor=2.0,
        backoff_factor=0.5,
        growth_interval=2000,
        enabled=True,
    ):
        self._device = device
        self._enabled = enabled
        if device == "cuda" and enabled:
            from .. import cuda

            if not cuda.is_available():
                warnings.warn(
                    "torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
                    UserWarning,
                    stacklevel=2,
                )
                self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
            self._init_scale = init_scale
            self._scale = None  # a float32 0-dim tensor, made by the first scale()
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            self._growth_tracker = None  # consecutive unskipped steps (an int once scale() ran)
            self._per_optimizer_states = {}

    # ------------------------------------------------------------------ scaling
    def _lazy_init(self, device):
        from .._creation import full

        self._scale = full((), self._init_scale, dtype="float32", device=device)
        self._growth_tracker = self._init_growth_tracker

    def scale(self, outputs):
        """``outputs * scale`` for a tensor, or for each tensor of a (nested) list or tuple."""
        if not self._enabled:
            return outputs
        from .._tensor import Tensor

        if isinstance(outputs, Tensor):
            if self._scale is None:
                self._lazy_init(outputs.device)
            return outputs * self._scale.to(outputs.device)
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        if hasattr(outputs, "__iter__"):
            return map(self.scale, outputs)
        raise ValueError("outputs must be a Tensor or an iterable of Tensors")

    def _state(self, optimizer):
        st = self._per_optimizer_states.get(id(optimizer))
        if st is None:
            st = self._per_optimizer_states[id(optimizer)] = _fresh_state()
        return st

    def _check_started(self, what):
        if self._scale is None:
            raise AssertionError(
                f"Attempted {what} but _scale is None.  This may indicate your script did not "
                f"use scaler.scale(loss or outputs) earlier in the iteration."
            )

    def _unscale_grads(self, optimizer, inv_scale, allow_fp16):
        """Multiply every gradient by ``inv_scale`` in place; whether any held an inf or NaN (None
        when no parameter has a gradient)."""
        from .._tensor import Tensor
        from ..autograd.grad_mode import no_grad

        found = None
        with no_grad():
            for group in optimizer.param_groups:
                for p in group["params"]:
                    if not isinstance(p, Tensor):
                        raise AssertionError(f"expected param to be torch.Tensor, got {type(p).__name__}")
                    g = p.grad
                    if g is None:
                        continue
                    if not allow_fp16 and g.dtype.name == "float16":
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    values = g
                    if g.is_sparse:  # its stored values (summed first in float16, where a sum may overflow)
                        if g.dtype.name == "float16":
                            p.grad = g = g.coalesce()
                        values = g._values()
                    if not found:
                        found = not bool(values.isfinite().all())
                    g.mul_(inv_scale)
        return found

    def unscale_(self, optimizer):
        """Divide ``optimizer``'s gradients by the scale, in place (once per iteration, before
        ``step``); records whether they hold infs or NaNs."""
        if not self._enabled:
            return
        self._check_started("unscale_")
        st = self._state(optimizer)
        if st["stage"] is OptState.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if st["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        # the reciprocal in float64, rounded to float32, as PyTorch computes it
        inv_scale = float(np.float32(1.0 / float(np.float32(self._scale.item()))))
        st["found_inf"] = self._unscale_grads(optimizer, inv_scale, False)
        st["stage"] = OptState.UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step(*args, **kwargs)`` after unscaling, unless a gradient holds an inf or
        NaN; returns what it returned (None when skipped)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_started("step")
        st = self._state(optimizer)
        if st["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if st["stage"] is OptState.READY:
            self.unscale_(optimizer)
        if st["found_inf"] is None:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        result = None
        if not st["found_inf"]:
            result = optimizer.step(*args, **kwargs)
        st["stage"] = OptState.STEPPED
        return result

    def update(self, new_scale=None):
        """Set the scale for the next iteration: ``new_scale`` when given (a float or a one-element
        tensor), else backed off after a skipped step or grown after ``growth_interval``
        unskipped ones."""
        if not self._enabled:
            return
        self._check_started("update")
        if new_scale is not None:
            from .._tensor import Tensor

            if isinstance(new_scale, float):
                self._scale.fill_(new_scale)
            else:
                reason = (
                    "new_scale should be a float or a 1-element torch.cuda.FloatTensor or "
                    "torch.FloatTensor with requires_grad=False."
                )
                if (
                    not isinstance(new_scale, Tensor)
                    or new_scale.device.type != self._device
                    or new_scale.numel() != 1
                    or new_scale.requires_grad
                ):
                    raise AssertionError(reason)
                self._scale.copy_(new_scale.reshape(()))
        else:
            found = [s["found_inf"] for s in self._per_optimizer_states.values() if s["found_inf"] is not None]
            if not found:
                raise AssertionError("No inf checks were recorded prior to update.")
            scale = self._scale.item()  # products in double, stored rounded to float32, as PyTorch's kernel
            if any(found):
                self._scale.fill_(scale * self._backoff_factor)
                self._growth_tracker = 0
            else:
                done = self._growth_tracker + 1
                if done == self._growth_interval:
                    with np.errstate(over="ignore"):
                        grown = np.float32(scale * self._growth_factor)
                    if np.isfinite(grown):
                        self._scale.fill_(float(grown))
                    done = 0
                self._growth_tracker = done
        self._per_optimizer_states = {}

    # ------------------------------------------------------------------ state
    def get_scale(self):
        """The current scale (a Python float; 1.0 when disabled)."""
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else self._scale.item()

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = new_interval

    def _get_growth_tracker(self):
        if not self._enabled:
            return 0
        return self._init_growth_tracker if self._growth_tracker is None else self._growth_tracker

    def is_enabled(self):
        return self._enabled

    def state_dict(self):
        """scale, growth_factor, backoff_factor, growth_interval and _growth_tracker ({} when
        disabled)."""
        if not self._enabled:
            return {}
        return {
            "scale": self.get_scale(),
            "growth_factor": self._growth_factor,
            "backoff_factor": self._backoff_factor,
            "growth_interval": self._growth_interval,
            "_growth_tracker": self._get_growth_tracker(),
        }

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError(
                "The source state dict is empty, possibly because it was saved from a disabled instance of GradScaler."
            )
        self._init_scale = state_dict["scale"]
        if self._scale is not None:
            self._scale.fill_(state_dict["scale"])
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        if self._growth_tracker is not None:
            self._growth_tracker = state_dict["_growth_tracker"]

    def __getstate__(self):
        state = self.__dict__.copy()
        if self._enabled:
            if self._per_optimizer_states:
                raise AssertionError(
                    "A GradScaler instance may only be pickled at the beginning "
                    "of an iteration, or at the end after scaler.update()."
                )
            state["_init_scale"] = self.get_scale()
            state["_init_growth_tracker"] = self._get_growth_tracker()
            state["_scale"] = None
            state["_growth_tracker"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)

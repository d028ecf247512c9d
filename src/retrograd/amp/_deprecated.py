"""The device-specific spellings PyTorch keeps for old scripts: ``torch.cpu.amp`` and
``torch.cuda.amp``. Each warns (FutureWarning) and builds the ``torch.amp`` object."""

import functools
import warnings

from .. import _dtype
from .autocast_mode import autocast as _autocast, custom_bwd as _custom_bwd, custom_fwd as _custom_fwd
from .grad_scaler import GradScaler as _GradScaler


def _deprecated(old, new):
    """Warn that ``old(args...)`` is deprecated; ``new`` is the full replacement call."""
    warnings.warn(f"`{old}(args...)` is deprecated. Please use `{new}` instead.", FutureWarning, stacklevel=3)


class CpuAutocast(_autocast):
    """``torch.cpu.amp.autocast``: ``torch.amp.autocast("cpu", ...)`` (deprecated)."""

    def __init__(self, enabled=True, dtype=_dtype.bfloat16, cache_enabled=True):
        _deprecated("torch.cpu.amp.autocast", "torch.amp.autocast('cpu', args...)")
        super().__init__("cpu", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class CudaAutocast(_autocast):
    """``torch.cuda.amp.autocast``: ``torch.amp.autocast("cuda", ...)`` (deprecated)."""

    def __init__(self, enabled=True, dtype=_dtype.float16, cache_enabled=True):
        _deprecated("torch.cuda.amp.autocast", "torch.amp.autocast('cuda', args...)")
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class CpuGradScaler(_GradScaler):
    """``torch.cpu.amp.GradScaler``: ``torch.amp.GradScaler("cpu", ...)`` (deprecated)."""

    def __init__(self, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000, enabled=True):
        _deprecated("torch.cpu.amp.GradScaler", "torch.amp.GradScaler('cpu', args...)")
        super().__init__("cpu", init_scale, growth_factor, backoff_factor, growth_interval, enabled)


class CudaGradScaler(_GradScaler):
    """``torch.cuda.amp.GradScaler``: ``torch.amp.GradScaler("cuda", ...)`` (deprecated)."""

    def __init__(self, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000, enabled=True):
        _deprecated("torch.cuda.amp.GradScaler", "torch.amp.GradScaler('cuda', args...)")
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled)


for _cls, _name in (
    (CpuAutocast, "autocast"),
    (CudaAutocast, "autocast"),
    (CpuGradScaler, "GradScaler"),
    (CudaGradScaler, "GradScaler"),
):
    _cls.__name__ = _cls.__qualname__ = _name


def cuda_custom_fwd(fwd=None, *, cast_inputs=None):
    """``torch.cuda.amp.custom_fwd``: ``torch.amp.custom_fwd(device_type="cuda")`` (deprecated)."""
    _deprecated("torch.cuda.amp.custom_fwd", "torch.amp.custom_fwd(args..., device_type='cuda')")
    if fwd is None:
        return functools.partial(_custom_fwd, device_type="cuda", cast_inputs=cast_inputs)
    return _custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def cuda_custom_bwd(bwd=None):
    """``torch.cuda.amp.custom_bwd``: ``torch.amp.custom_bwd(device_type="cuda")`` (deprecated)."""
    _deprecated("torch.cuda.amp.custom_bwd", "torch.amp.custom_bwd(args..., device_type='cuda')")
    if bwd is None:
        return functools.partial(_custom_bwd, device_type="cuda")
    return _custom_bwd(bwd, device_type="cuda")

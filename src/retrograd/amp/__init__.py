"""``torch.amp``: autocast (mixed precision regions) and GradScaler (loss scaling, loaded on
first use)."""

from .autocast_mode import autocast, custom_bwd, custom_fwd, is_autocast_available

__all__ = ["autocast", "custom_bwd", "custom_fwd", "is_autocast_available", "GradScaler"]


def __getattr__(name):
    if name == "GradScaler":
        from .grad_scaler import GradScaler

        return GradScaler
    raise AttributeError(f"module 'retrograd.amp' has no attribute '{name}'")

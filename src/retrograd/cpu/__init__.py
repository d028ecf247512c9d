"""``torch.cpu``: the host as a device (always there, one of it) and ``torch.cpu.amp``."""

from . import amp

__all__ = ["amp", "is_available", "device_count", "current_device", "synchronize"]


def is_available():
    return True


def device_count():
    return 1


def current_device():
    return "cpu"


def synchronize(device=None):
    """Nothing to wait for: CPU ops run synchronously."""

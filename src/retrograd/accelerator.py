"""``retrograd.accelerator``: PyTorch's device-generic accelerator queries.

retrograd's one accelerator is CUDA through CuPy (``device="cuda"``). It is the current
accelerator when CuPy is installed and sees a GPU; otherwise the answers are those of a
CPU-only PyTorch build: ``is_available()`` False, ``current_accelerator()`` None,
``device_count()`` 0, and the per-device calls raise.
"""

from . import cuda as _cuda
from ._device import device as _device, to_device as _to_device

__all__ = [
    "is_available",
    "current_accelerator",
    "device_count",
    "current_device_index",
    "current_device_idx",
    "set_device_index",
    "set_device_idx",
    "synchronize",
    "device_index",
]


def is_available():
    """True when CuPy is installed and sees at least one GPU."""
    return _cuda.is_available()


def current_accelerator(check_available=False):
    """``device("cuda")`` when a GPU is usable through CuPy, else None. (PyTorch can name an
    accelerator it was built for even without a device; retrograd has one only with a device,
    so ``check_available`` changes nothing.)"""
    return _device("cuda") if _cuda.is_available() else None


def device_count():
    return _cuda.device_count() if _cuda.is_available() else 0


def _require(op):
    if not _cuda.is_available():
        raise RuntimeError(
            f"accelerator.{op}(): no accelerator is available (retrograd's is CUDA "
            f"through CuPy: install cupy and run on a machine with an NVIDIA GPU)"
        )


def current_device_index():
    """The index of the current GPU."""
    _require("current_device_index")
    return _cuda.current_device()


def set_device_index(device):
    """Make ``device`` (an index, "cuda:1" or a device) the current GPU."""
    _require("set_device_index")
    if isinstance(device, int):
        device = _device("cuda", device)
    d = _to_device(device)
    if d.type != "cuda":
        raise ValueError(f"accelerator.set_device_index(): expected a cuda device or an index, got {device!r}")
    _cuda.set_device(d)


def synchronize(device=None):
    """Wait for all work queued on the GPU."""
    _require("synchronize")
    _cuda.synchronize(device)


current_device_idx = current_device_index
set_device_idx = set_device_index


class device_index:
    """``with accelerator.device_index(i):`` makes GPU ``i`` current inside the block and restores
    the previous one after; ``None`` changes nothing (and needs no accelerator)."""

    def __init__(self, device, /):
        self.idx = device
        self._prev = None

    def __enter__(self):
        if self.idx is not None:
            self._prev = current_device_index()
            set_device_index(self.idx)
        return None

    def __exit__(self, *exc):
        if self._prev is not None:
            set_device_index(self._prev)
            self._prev = None
        return False

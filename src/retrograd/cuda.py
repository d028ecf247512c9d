"""``retrograd.cuda``: what PyTorch scripts ask of ``torch.cuda``, answered through CuPy.

``device="cuda"`` arrays are CuPy arrays; this module never imports CuPy unless asked, so
``is_available()`` on a machine without it is cheap and False.
"""

import importlib.util
import sys as _sys


def is_available():
    """True when CuPy is installed and sees at least one NVIDIA GPU."""
    from .backend import cuda_available

    return cuda_available()


def device_count():
    if importlib.util.find_spec("cupy") is None:
        return 0
    from .backend import cupy

    return cupy().cuda.runtime.getDeviceCount()


def current_device():
    from .backend import cupy

    return cupy().cuda.Device().id


def set_device(device):
    from ._device import to_device
    from .backend import cupy

    d = to_device(device)
    cupy().cuda.Device(d.index or 0).use()


def get_device_name(device=None):
    from .backend import cupy

    cp = cupy()
    index = current_device() if device is None else getattr(device, "index", device) or 0
    name = cp.cuda.runtime.getDeviceProperties(index)["name"]
    return name.decode() if isinstance(name, bytes) else name


def synchronize(device=None):
    """Wait for all work queued on the GPU (for timing)."""
    from .backend import cupy

    cupy().cuda.Device().synchronize()


def manual_seed(seed):
    """Random numbers are drawn on the host and copied, so the CPU generator's seed governs
    cuda tensors too; this seeds it, like ``retrograd.manual_seed``."""
    from ._creation import manual_seed as _seed

    _seed(seed)


manual_seed_all = manual_seed


def empty_cache():
    """Free CuPy's cached, unused GPU memory blocks."""
    if importlib.util.find_spec("cupy") is not None:
        from .backend import cupy

        cupy().get_default_memory_pool().free_all_blocks()


def _pool_bytes(device, used):
    """The bytes of CuPy's memory pool on ``device`` (the current one when None): in use by
    tensors (``used``) or held from the driver; 0 without CuPy."""
    if importlib.util.find_spec("cupy") is None:
        return 0
    from ._device import to_device
    from .backend import cupy

    cp = cupy()
    index = current_device() if device is None else (to_device(device).index or 0)
    with cp.cuda.Device(index):
        pool = cp.get_default_memory_pool()
        return pool.used_bytes() if used else pool.total_bytes()


def memory_allocated(device=None):
    """Bytes held by cuda tensors on ``device`` (CuPy's memory pool in use); 0 without CuPy."""
    return _pool_bytes(device, True)


def memory_reserved(device=None):
    """Bytes CuPy's memory pool holds from the driver on ``device``, in use or cached; 0 without
    CuPy."""
    return _pool_bytes(device, False)


def _no_peaks(name):
    """The peak statistics: 0 on a machine without CuPy, where no cuda memory was ever
    allocated (as PyTorch's answer before CUDA is initialised); CuPy's pool keeps no peak, so
    with it they raise rather than report the current value as the peak."""
    if importlib.util.find_spec("cupy") is None:
        return 0
    raise NotImplementedError(
        f"torch.cuda.{name}: CuPy's memory pool records no peak; memory_allocated() gives the current bytes"
    )


def max_memory_allocated(device=None):
    return _no_peaks("max_memory_allocated")


def max_memory_reserved(device=None):
    return _no_peaks("max_memory_reserved")


def reset_peak_memory_stats(device=None):
    _no_peaks("reset_peak_memory_stats")


def reset_max_memory_allocated(device=None):
    _no_peaks("reset_max_memory_allocated")


# ``torch.cuda.amp`` (``from torch.cuda.amp import GradScaler`` in older scripts): this module is
# not a package, so the submodule is registered by name
from .amp import _cuda as amp  # noqa: E402

_sys.modules[__name__ + ".amp"] = amp

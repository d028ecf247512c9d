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


def memory_allocated(device=None):
    if importlib.util.find_spec("cupy") is None:
        return 0
    from .backend import cupy

    return cupy().get_default_memory_pool().used_bytes()


# ``torch.cuda.amp`` (``from torch.cuda.amp import GradScaler`` in older scripts): this module is
# not a package, so the submodule is registered by name
from .amp import _cuda as amp  # noqa: E402

_sys.modules[__name__ + ".amp"] = amp

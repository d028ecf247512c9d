"""``torch.version``: which library this is and what it was built against.

``__version__`` is retrograd's own version (``retrograd.__version__``), not a PyTorch version:
code that gates features on ``torch.__version__`` sees retrograd's. ``cuda`` is the CUDA runtime
version of the installed CuPy (as "12.4"), or None without CuPy, as a CPU build of PyTorch
says; it is looked up on first access, so importing this module never imports CuPy."""

import importlib.util

from . import __version__

__all__ = ["__version__", "debug", "cuda", "git_version", "hip", "rocm", "xpu"]  # noqa: F822  (cuda: __getattr__)

debug = False
git_version = None  # retrograd is not built from a recorded commit
hip = None
rocm = None
xpu = None


def _cuda_version():
    if importlib.util.find_spec("cupy") is None:
        return None
    from .backend import cupy

    v = cupy().cuda.runtime.runtimeGetVersion()  # as 12040 for 12.4
    return f"{v // 1000}.{v % 1000 // 10}"


def __getattr__(name):
    if name == "cuda":
        value = _cuda_version()
        globals()["cuda"] = value
        return value
    raise AttributeError(f"module 'retrograd.version' has no attribute {name!r}")

"""The array-module layer: NumPy for ``cpu``, CuPy for ``cuda`` (imported only when asked for).

Op code never imports numpy or cupy for array work itself; it receives ``xp``, the module that
owns its arrays, from :func:`array_module`.
"""

import importlib.util
import warnings

import numpy as np

from .._device import CPU, META, device
from . import meta as _meta
from .meta import MetaArray
from .memory import apply_default_policy, keep_freed_memory  # noqa: F401

apply_default_policy()


QUIET = [None]  # the filter quiet_float_warnings installed last


def quiet_float_warnings():
    """PyTorch gives inf and nan silently (1 / 0, log(0), sqrt(-1), overflow); NumPy warns. This
    filter drops NumPy's floating-point warnings raised from retrograd's own code, and only
    those. Errors PyTorch raises (integer division by zero) are checked where they happen, never
    left to a warning.

    A filter installed once at import is lost when the import ran inside
    ``warnings.catch_warnings()`` (pytest collects test modules so), and a later
    ``simplefilter("error")`` would go in front of it; so the op runner (ops/_registry.apply)
    checks that this filter still comes first in ``warnings.filters`` and calls this again when
    it does not. That check costs a few tens of nanoseconds per op where NumPy's error state
    (``np.errstate``) around each forward costs microseconds."""
    warnings.filterwarnings(
        "ignore", r"(divide by zero|invalid value|overflow|underflow) encountered in", RuntimeWarning, r"retrograd\."
    )
    QUIET[0] = warnings.filters[0]


quiet_float_warnings()


def keep_quiet():
    """Install the filter again where it no longer comes first (the check apply makes), for the
    code that converts values outside an op (tensor creation)."""
    filters = warnings.filters
    if not filters or filters[0] is not QUIET[0]:
        quiet_float_warnings()


_cupy = None


class OutOfMemoryError(RuntimeError):
    """A cuda allocation failed (``torch.OutOfMemoryError``, ``torch.cuda.OutOfMemoryError``):
    CuPy's own out-of-memory error, converted by the allocator ``cupy()`` installs."""


def _converting_allocator(malloc, cupy_oom):
    """An allocator for CuPy that calls ``malloc`` (its memory pool's) and raises CuPy's
    out-of-memory error ``cupy_oom`` as ``OutOfMemoryError``, so that ``except
    torch.cuda.OutOfMemoryError`` catches it as in PyTorch."""

    def allocate(size):
        try:
            return malloc(size)
        except cupy_oom as e:
            raise OutOfMemoryError(f"CUDA out of memory: {e}") from e

    return allocate


def cupy():
    """Import CuPy lazily, with a clear error when it is missing."""
    global _cupy
    if _cupy is None:
        try:
            import cupy as cp
        except ImportError as e:
            raise RuntimeError(
                "device='cuda' needs CuPy: install it with `pip install cupy-cuda12x` "
                "(or the wheel matching your CUDA version)"
            ) from e
        cp.cuda.set_allocator(
            _converting_allocator(cp.get_default_memory_pool().malloc, cp.cuda.memory.OutOfMemoryError)
        )
        _cupy = cp
    return _cupy


def cuda_available():
    """True when CuPy is installed and sees at least one NVIDIA GPU (CuPy is imported only then)."""
    if importlib.util.find_spec("cupy") is None:
        return False
    try:
        return cupy().cuda.runtime.getDeviceCount() > 0
    except Exception:  # CuPy without a driver or device
        return False


def array_module(a):
    """``numpy`` for NumPy arrays and scalars, ``cupy`` for CuPy arrays."""
    if type(a) is np.ndarray or _cupy is None:
        return np
    return _cupy.get_array_module(a)


def device_of(a):
    if type(a) is np.ndarray:
        return CPU
    if type(a) is MetaArray:
        return META
    if _cupy is None or not isinstance(a, _cupy.ndarray):
        return CPU
    return device("cuda", a.device.id)


def xp_for(dev):
    if dev.type == "cpu":
        return np
    return _meta.xp if dev.type == "meta" else cupy()


def to_device_array(a, dev):
    """Move an array to ``dev`` (a copy only when it changes device). To ``meta`` only the
    layout goes (kept when it is dense, as PyTorch's ``preserve_format``); nothing comes back
    from ``meta``: NotImplementedError, as in PyTorch."""
    if dev.type == "cpu":
        if type(a) is np.ndarray:
            return a
        if type(a) is MetaArray:
            raise NotImplementedError(_meta.NO_DATA)
        return a.get() if _cupy is not None and isinstance(a, _cupy.ndarray) else np.asarray(a)
    if type(a) is MetaArray:
        if dev.type == "meta":
            return a
        raise NotImplementedError(_meta.NO_DATA)
    if dev.type == "meta":
        return _meta.layout_of(a)
    cp = cupy()
    with cp.cuda.Device(dev.index or 0):
        return cp.asarray(a)


def to_numpy(a):
    return to_device_array(a, CPU)

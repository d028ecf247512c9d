"""Top-level helpers of PyTorch's documented API that are plain Python here: ``_assert``,
``get_device_module``, ``frombuffer``, ``from_file``, ``from_dlpack`` and the ``sym_*`` functions
(on concrete numbers: retrograd has no symbolic shapes, so every size it meets is a plain int)."""

import math
import warnings

import numpy as np

from . import _dtype, _typeinfo
from ._device import device as _device
from ._tensor import Tensor

__all__ = [
    "_assert",
    "get_device_module",
    "frombuffer",
    "from_dlpack",
    "from_file",
    "sym_float",
    "sym_int",
    "sym_max",
    "sym_min",
    "sym_not",
    "sym_ite",
    "sym_sum",
]


def _assert(condition, message):
    """``assert condition, message`` as a function (PyTorch's traceable assert)."""
    if not condition:
        raise AssertionError(message)


def get_device_module(device=None):
    """The module of a device type (``retrograd.cuda`` for ``"cuda"``, ``retrograd.cpu`` for
    ``"cpu"``); with None, the current accelerator's, or ``retrograd.cpu`` without one."""
    import importlib

    if isinstance(device, _device):
        kind = device.type
    elif isinstance(device, str):
        kind = _device(device).type
    elif device is None:
        from . import accelerator

        current = accelerator.current_accelerator()
        kind = "cpu" if current is None else current.type
    else:
        raise RuntimeError(f"Invalid value of device '{device}', expect torch.device, str, or None")
    try:
        return importlib.import_module(f"retrograd.{kind}")
    except ImportError:
        raise RuntimeError(
            f"Device '{kind}' does not have a corresponding module registered as 'torch.{kind}'."
        ) from None


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor viewing the memory of an object with the buffer protocol (bytes, bytearray,
    memoryview, array.array, mmap): ``count`` elements of ``dtype`` (all, with -1) from byte
    ``offset``. Writes through either are seen by both; a read-only buffer gives a warning, as in
    PyTorch, and a tensor that refuses writes."""
    d = _dtype.to_dtype(dtype)
    view = memoryview(buffer)
    if view.readonly:
        warnings.warn(
            "The given buffer is not writable, and PyTorch does not support non-writable tensors. "
            "Writing to this tensor will fail here.",
            UserWarning,
            stacklevel=2,
        )
    nbytes, size = view.nbytes, d.np.itemsize
    if nbytes == 0:
        raise ValueError(f"both buffer length (0) and count ({count}) must not be 0")
    if not 0 <= offset < nbytes:
        raise ValueError(
            f"offset ({offset} bytes) must be non-negative and no greater than buffer length ({nbytes} bytes) minus 1"
        )
    if count == -1:
        if (nbytes - offset) % size:
            raise ValueError(
                f"buffer length ({nbytes - offset} bytes) after offset ({offset} bytes) must be a multiple "
                f"of element size ({size})"
            )
        count = (nbytes - offset) // size
    elif count <= 0 or offset + count * size > nbytes:
        raise ValueError(
            f"requested buffer length ({count} * {size} bytes) after offset ({offset} bytes) must not be "
            f"greater than actual buffer length ({nbytes} bytes)"
        )
    data = np.frombuffer(buffer, dtype=d.np, count=count, offset=offset)
    t = Tensor._make(data, None, False)
    if requires_grad:
        t.requires_grad_(True)
    return t


def from_file(filename, shared=None, size=0, *, dtype=None, layout=None, device=None, pin_memory=False):
    """A 1-D tensor of ``size`` elements of ``dtype`` (the default dtype by default) mapped from
    the file ``filename``. With ``shared=True`` writes to the tensor go to the file (which is
    created, or extended with zeros, to hold them); otherwise the file must hold them and the
    tensor is a private copy-on-write mapping. CPU tensors only; ``pin_memory`` cannot be
    honoured (retrograd does not page-lock memory) and is refused."""
    import os

    from ._device import device as _to_device

    if layout is not None:
        _typeinfo.factory_options("from_file", layout, False)
    if device is not None and _to_device(device).type != "cpu":
        raise RuntimeError(f"from_file: only CPU tensors can map a file, got device={device}")
    if pin_memory:
        raise RuntimeError("from_file: pin_memory=True is not supported (retrograd does not pin host memory)")
    d = _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)
    size = int(size)
    nbytes = size * d.np.itemsize
    path = os.fspath(filename)
    if shared:
        if not os.path.exists(path) or os.path.getsize(path) < nbytes:
            with open(path, "ab") as f:
                f.truncate(max(nbytes, os.path.getsize(path) if os.path.exists(path) else 0))
        mode = "r+"
    else:
        if not os.path.exists(path):
            raise RuntimeError(f"unable to open file <{path}> in read-only mode: No such file or directory (2)")
        if os.path.getsize(path) < nbytes:
            raise RuntimeError(
                f"from_file: the file <{path}> holds {os.path.getsize(path)} bytes, fewer than the {nbytes} "
                f"of {size} elements of {d}"
            )
        mode = "c"
    # a plain ndarray view of the mapping (it keeps the mapping alive): the tensor code checks for
    # exactly numpy.ndarray
    data = np.memmap(path, dtype=d.np, mode=mode, shape=(size,)).view(np.ndarray) if size else np.empty(0, d.np)
    return Tensor._make(data, None, False)


def from_dlpack(ext_tensor):
    """A tensor sharing the memory of an object that exports DLPack (``__dlpack__``): a NumPy
    or CuPy array, a PyTorch or JAX tensor... A CPU object becomes a CPU tensor, a CUDA one a
    cuda tensor (with CuPy). A bare DLPack capsule (PyTorch's older interface) is refused: NumPy
    and CuPy only consume objects with ``__dlpack__``."""
    if not hasattr(ext_tensor, "__dlpack__"):
        raise TypeError(
            f"from_dlpack: expected an object with __dlpack__ (an array or tensor), got {type(ext_tensor).__name__}; "
            "a bare DLPack capsule is not supported"
        )
    if isinstance(ext_tensor, Tensor):
        return ext_tensor
    kind, _ = ext_tensor.__dlpack_device__()
    if kind == 1:  # kDLCPU
        data = np.from_dlpack(ext_tensor)
    elif kind == 2:  # kDLCUDA
        from .backend import cupy

        data = cupy().from_dlpack(ext_tensor)
    else:
        raise RuntimeError(f"from_dlpack: DLPack device type {kind} is not supported (only the CPU and CUDA)")
    _dtype.from_np(data.dtype)
    return Tensor._make(data, None, False)


def sym_float(a):
    """``float(a)``."""
    return float(a)


def sym_int(a):
    """``a`` as an int, truncating a float toward zero."""
    return math.trunc(a) if isinstance(a, float) else int(a)


def sym_max(a, b):
    """The larger of two numbers; a float if either is."""
    m = max(a, b)
    return float(m) if isinstance(a, float) or isinstance(b, float) else m


def sym_min(a, b):
    """The smaller of two numbers; a float if either is."""
    m = min(a, b)
    return float(m) if isinstance(a, float) or isinstance(b, float) else m


def sym_not(a):
    """``not a``."""
    return not a


def sym_ite(b, t, f):
    """``t if b else f``."""
    return t if b else f


def sym_sum(args):
    """The sum of a sequence of numbers (0 when empty)."""
    return sum(args)

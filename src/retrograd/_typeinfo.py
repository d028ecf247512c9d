"""Numeric limits of dtypes (``finfo``, ``iinfo``) and the layout / memory-format tags.

retrograd tensors are always dense (``strided``); memory formats are accepted wherever PyTorch
takes them and the array module keeps its own layout."""

import numpy as np

from . import _dtype
from ._device import to_device
from .backend import cuda_available


class finfo:
    """Machine limits of a floating-point dtype (the default dtype when none is given); a complex
    dtype gives its parts' (complex64: float32's), as in PyTorch."""

    def __init__(self, type=None):
        d = _dtype.get_default_dtype() if type is None else _dtype.to_dtype(type)
        npd = np.dtype(d.np)
        if npd.kind == "c":
            npd = np.dtype(npd.char.lower())  # complex64 -> float32, complex128 -> float64
            d = _dtype.to_dtype(npd.name)
        if npd.kind not in "fV":
            raise TypeError(f"finfo(): argument 'type' must be a floating point dtype (got {d})")
        info = np.finfo(npd)
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.tiny)
        self.resolution = 10.0 ** -int(info.precision)
        self.dtype = d.name if hasattr(d, "name") else str(npd)

    def __repr__(self):
        return (
            f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
            f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})"
        )


class iinfo:
    """Limits of an integer (or bool) dtype."""

    def __init__(self, type):
        d = _dtype.to_dtype(type)
        npd = np.dtype(d.np)
        if npd.kind == "b":
            self.bits, self.min, self.max = 8, 0, 1
        elif npd.kind in "iu":
            info = np.iinfo(npd)
            self.bits, self.min, self.max = int(info.bits), int(info.min), int(info.max)
        else:
            raise TypeError(f"iinfo(): argument 'type' must be an integer dtype (got {d})")
        self.dtype = d.name if hasattr(d, "name") else str(npd)

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


class layout:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"retrograd.{self.name}"

    def __reduce__(self):
        return self.name


class memory_format:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"retrograd.{self.name}"

    def __reduce__(self):
        return self.name


strided = layout("strided")
sparse_coo = layout("sparse_coo")
contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")


def tensor_layout(self):
    """Tensor.layout: always strided (a sparse tensor reports its own)."""
    return strided


_CHANNELS_LAST = {4: (0, 2, 3, 1), 5: (0, 2, 3, 4, 1)}


def memory_layout(ndim, memory_format, op, shape=()):
    """The NumPy layout a result with ``memory_format`` gets: "K" (PyTorch's preserve_format:
    the input's order of strides, the default), "C" (contiguous_format), or for channels_last
    (4-D) and channels_last_3d (5-D) the dim order in which the memory is row-major."""
    if memory_format is None or memory_format is preserve_format:
        return "K"
    if memory_format is contiguous_format:
        return "C"
    if (memory_format is channels_last and ndim == 4) or (memory_format is channels_last_3d and ndim == 5):
        return _CHANNELS_LAST[ndim]
    if memory_format in (channels_last, channels_last_3d):
        raise RuntimeError(
            f"{op}: required rank {4 if memory_format is channels_last else 5} tensor to use "
            f"{memory_format}, but got a tensor of shape {list(shape)}"
        )
    raise TypeError(f"{op}(): memory_format must be a torch.memory_format, not {memory_format!r}")


def factory_options(op, layout, pin_memory, device=None, sparse=False):
    """Checks a factory's ``layout=`` and ``pin_memory=`` and answers whether a sparse COO result
    is asked for (only where ``sparse`` says the factory builds one). ``layout`` None or
    ``strided`` gives a dense tensor; ``sparse_coo`` elsewhere raises NotImplementedError;
    anything else is a TypeError. ``pin_memory=True`` raises RuntimeError, as PyTorch's CPU
    build does, unless CUDA is available; then a CPU result is returned unpinned, as
    ``Tensor.pin_memory()`` returns it (host memory is never page-locked here), and a CUDA one
    is an error (only CPU tensors can be pinned)."""
    if pin_memory:
        _check_pin(op, device)
    if layout is None or layout is strided:
        return False
    if not isinstance(layout, type(strided)):
        raise TypeError(f"{op}(): argument 'layout' must be retrograd.layout, not {type(layout).__name__}")
    if layout is sparse_coo and sparse:
        return True
    raise NotImplementedError(
        f"{op}: layout={layout} is not supported (only retrograd.strided); build the strided "
        f"tensor and convert it with .to_sparse()"
    )


def _check_pin(op, device):
    if not cuda_available():
        raise RuntimeError(
            f"{op}: pin_memory=True requires a CUDA or other accelerator backend; no pinned memory "
            f"allocator is available on this system"
        )
    if to_device(device).type != "cpu":
        raise RuntimeError(f"{op}: only dense CPU tensors can be pinned (pin_memory=True with device={device})")

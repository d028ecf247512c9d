"""Tensor factories (random ones come from ``_random``, PyTorch's CPU generator).

Every factory takes ``dtype=``, ``device=`` and ``requires_grad=`` as in PyTorch.
"""

import builtins
import math

import numpy as np

from . import _dtype, _typeinfo
from ._device import to_device
from . import _upcalls
from ._tensor import Tensor
from ._compile.state import _cap
from .backend import array_module, keep_quiet, to_device_array, xp_for


def _array_from(data, dtype, device):
    """Build an array from Python data, NumPy arrays or Tensors, inferring dtype like PyTorch."""
    keep_quiet()  # a value beyond the dtype's range becomes inf silently, as in PyTorch
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, (list, tuple)) and _contains_tensor(data):
        arr = np.array(_tolist_deep(data))
    else:
        arr = data
    if dtype is None:
        if isinstance(arr, (np.ndarray, np.generic)) or hasattr(arr, "__cuda_array_interface__"):
            arr = arr if hasattr(arr, "dtype") else np.asarray(arr)
            if arr.dtype not in _dtype._FROM_NP:
                arr = np.asarray(arr).astype(_infer_np(arr))
        else:
            arr = _python_array(data)
            if arr.dtype.kind in "fV":
                arr = arr.astype(_dtype.get_default_dtype().np)
            elif arr.dtype.kind == "i":
                arr = arr.astype(np.int64, copy=False)
            elif arr.dtype.kind == "c":
                arr = arr.astype(_dtype.default_complex_dtype().np)
            elif arr.dtype.kind != "b":
                raise TypeError(
                    f"can't convert data of type {type(data).__name__} (NumPy dtype {arr.dtype}) to a tensor"
                )
    else:
        npd = _dtype.to_np(dtype)
        if hasattr(arr, "astype") and not isinstance(arr, (list, tuple)):
            arr = arr.astype(npd, copy=False)
        elif npd.kind in "iu":
            arr = _python_array(arr)
            if arr.dtype.kind in "iuf":
                _check_fits(arr, npd)
            arr = arr.astype(npd)
        else:
            arr = np.asarray(arr, dtype=npd)
    dev = to_device(device)
    return to_device_array(arr, dev)


def _python_array(data):
    """``np.asarray`` of Python data, with PyTorch's errors: an int beyond int64 is a ValueError
    (unless a float in the data makes it all float), None a RuntimeError, other non-numbers a
    TypeError."""
    arr = np.asarray(data)
    if arr.dtype.kind not in "uO":  # NumPy goes to uint64 or object for ints beyond int64
        return arr
    huge = None
    floats = False
    for v in arr.ravel().tolist() if arr.ndim else [arr.item()]:
        if isinstance(v, float):
            floats = True
        elif v is None:
            raise RuntimeError("Could not infer dtype of NoneType")
        elif not isinstance(v, int):
            raise TypeError(f"new(): invalid data type '{type(v).__name__}'")
        elif huge is None and not -(2**63) <= v < 2**63:
            huge = v
    if floats or huge is None:
        return arr.astype(np.float64 if floats else np.int64)
    raise ValueError(f"Overflow when unpacking long long: {huge} does not fit in int64")


def _check_fits(arr, npd):
    """PyTorch refuses values an integer dtype cannot hold (ints may wrap into an unsigned type
    from as low as minus its maximum; floats may not, and NaN never fits)."""
    if not arr.size:
        return
    info = np.iinfo(npd)
    lo = -int(info.max) if npd.kind == "u" and arr.dtype.kind not in "fV" else int(info.min)
    low, high = arr.min(), arr.max()
    if not (lo <= low and high <= info.max):  # NaN fails both comparisons
        bad = low if not lo <= low else high
        raise RuntimeError(
            f"value cannot be converted to type {npd.name} without overflow: {bad} is outside [{lo}, {info.max}]"
        )


def _check_fill(value, npd):
    """PyTorch's check on a scalar fill value for a tensor of NumPy dtype ``npd``: returns the
    value to fill with (a negative int wraps into an unsigned dtype, as in PyTorch)."""
    if isinstance(value, complex) and npd.kind != "c":
        raise RuntimeError(f"value cannot be converted to type {npd.name} without overflow: {value} is complex")
    if isinstance(value, builtins.bool) or not isinstance(value, (int, float)):
        return value
    if npd.kind in "iu":
        _check_fits(np.array([value]), npd)
        return np.array(value).astype(npd) if npd.kind == "u" and value < 0 else value
    if npd.kind in "fV" and math.isfinite(value) and abs(value) > float(np.finfo(npd).max):
        raise RuntimeError(f"value cannot be converted to type {npd.name} without overflow: {value}")
    return value


def _infer_np(arr):
    k = arr.dtype.kind
    if arr.dtype.char in "E45":  # bfloat16 or float8 (ml_dtypes) keep their dtype
        return _dtype.from_np(arr.dtype).np
    if k == "f":
        return np.float64
    if k in "iu":
        return np.int64
    if k == "b":
        return np.bool_
    if k == "c":
        return np.complex128
    raise TypeError(f"can't convert NumPy array of dtype {arr.dtype} to a tensor")


def _contains_tensor(seq):
    for v in seq:
        if isinstance(v, Tensor):
            return True
        if isinstance(v, (list, tuple)) and _contains_tensor(v):
            return True
    return False


def _tolist_deep(seq):
    return [
        v.tolist() if isinstance(v, Tensor) else _tolist_deep(v) if isinstance(v, (list, tuple)) else v for v in seq
    ]


def _finish(arr, requires_grad):
    t = Tensor._make(arr, None, False)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new leaf tensor holding a copy of ``data``."""
    if pin_memory:
        _typeinfo.factory_options("tensor", None, pin_memory, device)
    arr = _array_from(data, dtype, device)
    if (
        isinstance(data, Tensor)
        or arr is data
        or (isinstance(data, np.ndarray) and type(arr) is np.ndarray and np.may_share_memory(arr, data))
    ):
        arr = arr.copy()
    if _cap.active:
        _cap.recorder.constant(arr, data)
    return _finish(arr, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with a NumPy array or Tensor when dtype and device allow."""
    if isinstance(data, Tensor):
        if (dtype is None or _dtype.to_dtype(dtype) == data.dtype) and (
            device is None or to_device(device) == data.device
        ):
            return data
        return data.to(dtype=dtype, device=device)
    return _finish(_array_from(data, dtype, device), False)


def from_numpy(ndarray):
    """A tensor sharing memory with ``ndarray`` (writes through either are seen by both)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _dtype.from_np(ndarray.dtype)
    return Tensor._make(ndarray, None, False)


def _size_arg(sizes, size, op):
    """The size given positionally (``zeros(2, 3)``, ``zeros((2, 3))``) or as ``size=``; not both."""
    if size is None:
        return sizes
    if sizes:
        raise TypeError(f"{op}() got the size both positionally {list(sizes)} and as size={size!r}")
    return (size,) if isinstance(size, (int, np.integer)) else (tuple(size),)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"size must be a sequence of ints, got {size!r}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
    return tuple(int(s) for s in size)


def _np_dtype(dtype):
    return (_dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)).np


def _fill(fn, size, dtype, device, requires_grad):
    xp = xp_for(to_device(device))
    size = _size(size)
    npd = _np_dtype(dtype)
    try:
        arr = _cap.recorder.call(fn, (xp, size, npd), "factory") if _cap.active else fn(xp, size, npd)
    except (MemoryError, ValueError) as e:
        raise _memory_error(size, npd, e) from None
    return _finish(arr, requires_grad)


_TOO_BIG = ("array is too big", "Maximum allowed size exceeded")


def _memory_error(size, npd, e):
    """PyTorch reports a failed allocation, or a size whose byte count overflows, as a
    RuntimeError (NumPy: MemoryError, ValueError). Any other ValueError is returned as it is."""
    if isinstance(e, ValueError) and not str(e).startswith(_TOO_BIG):
        return e
    why = "not enough memory" if isinstance(e, MemoryError) else "storage size calculation overflowed"
    return RuntimeError(f"{why}: a tensor of shape {list(size)} and dtype {npd.name} could not be allocated ({e})")


def _sparse_zeros(size, dtype, device, requires_grad):
    """An all-zero sparse COO tensor of ``size`` (no stored elements), as PyTorch's zeros and
    empty give for ``layout=sparse_coo``."""
    from .sparse._ops import sparse_coo_tensor

    size = _size(size)
    indices = np.zeros((len(size), 0), np.int64)
    values = zeros(0, dtype=dtype, device=device)
    return sparse_coo_tensor(indices, values, size, requires_grad=requires_grad)


def zeros(*sizes, size=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """A tensor of zeros; ``layout=sparse_coo`` gives a sparse one with no stored elements."""
    size = _size_arg(sizes, size, "zeros")
    if (layout is not None or pin_memory) and _typeinfo.factory_options("zeros", layout, pin_memory, device, True):
        return _sparse_zeros(size, dtype, device, requires_grad)
    return _fill(lambda xp, s, d: xp.zeros(s, d), size, dtype, device, requires_grad)


def ones(*sizes, size=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    size = _size_arg(sizes, size, "ones")
    if layout is not None or pin_memory:
        _typeinfo.factory_options("ones", layout, pin_memory, device)
    return _fill(lambda xp, s, d: xp.ones(s, d), size, dtype, device, requires_grad)


def empty(
    *sizes, size=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False, memory_format=None
):
    """An uninitialised tensor; ``layout=sparse_coo`` gives a sparse one with no stored elements."""
    size = _size_arg(sizes, size, "empty")
    if (layout is not None or pin_memory) and _typeinfo.factory_options("empty", layout, pin_memory, device, True):
        _sparse_memory_format("empty", memory_format)
        return _sparse_zeros(size, dtype, device, requires_grad)
    made = _fill(lambda xp, s, d: xp.empty(s, d), size, dtype, device, requires_grad)
    if memory_format is None or memory_format is _typeinfo.contiguous_format:
        return made
    if memory_format is _typeinfo.preserve_format:
        raise RuntimeError("empty: preserve memory format is unsupported by the empty operator (use empty_like)")
    return _laid_out(made, made, memory_format, "empty")


def _sparse_memory_format(op, memory_format):
    if memory_format is not None and memory_format is not _typeinfo.preserve_format:
        raise RuntimeError(f"{op}: memory format option is only supported by strided tensors, got {memory_format}")


def full(size, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    if layout is not None or pin_memory:
        _typeinfo.factory_options("full", layout, pin_memory, device)
    if dtype is None:
        dtype = (
            _dtype.bool
            if isinstance(fill_value, bool)
            else _dtype.int64
            if isinstance(fill_value, int)
            else _dtype.default_complex_dtype()
            if isinstance(fill_value, complex)
            else _dtype.get_default_dtype()
        )
    fill_value = _check_fill(fill_value, _dtype.to_np(dtype))
    return _fill(
        lambda xp, s, d: xp.full(s, fill_value, d),
        (size,) if isinstance(size, int) else tuple(size),
        dtype,
        device,
        requires_grad,
    )


def _like(t, dtype, device, op=None, layout=None, pin_memory=False):
    """The (dtype, device) of a ``*_like(t)`` factory, whose ``layout``/``pin_memory`` options
    (``op`` names it in errors) are checked by ``_typeinfo.factory_options``."""
    dev = t.device if device is None else device
    if layout is not None or pin_memory:
        _typeinfo.factory_options(op, layout, pin_memory, dev)
    return (t.dtype if dtype is None else dtype), dev


def _laid_out(t, made, memory_format, op):
    """``made`` (a new C-ordered tensor of ``t``'s shape) laid out as ``memory_format`` says:
    by default PyTorch's preserve_format, the order of ``t``'s strides when ``t`` is dense."""
    layout = _typeinfo.memory_layout(t._data.ndim, memory_format, op, t._data.shape)
    a = made._data
    if layout == "C" or a.ndim < 2:
        return made
    if layout == "K":
        src = t._data
        if src.flags.c_contiguous:
            return made
        arr = array_module(a).empty_like(src, dtype=a.dtype, order="K")
    else:
        inverse = tuple(sorted(range(len(layout)), key=layout.__getitem__))
        arr = array_module(a).empty(tuple(a.shape[i] for i in layout), a.dtype).transpose(inverse)
    arr[...] = a
    made._data = arr
    return made


def zeros_like(
    input, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False, memory_format=None
):
    d, dev = _like(input, dtype, device)
    if (layout is not None or pin_memory) and _typeinfo.factory_options("zeros_like", layout, pin_memory, dev, True):
        _sparse_memory_format("zeros_like", memory_format)
        return _sparse_zeros(input.shape, d, dev, requires_grad)
    return _laid_out(
        input, zeros(input._data.shape, dtype=d, device=dev, requires_grad=requires_grad), memory_format, "zeros_like"
    )


def ones_like(
    input, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False, memory_format=None
):
    d, dev = _like(input, dtype, device, "ones_like", layout, pin_memory)
    return _laid_out(
        input, ones(input._data.shape, dtype=d, device=dev, requires_grad=requires_grad), memory_format, "ones_like"
    )


def empty_like(
    input, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False, memory_format=None
):
    d, dev = _like(input, dtype, device, "empty_like", layout, pin_memory)
    return _laid_out(
        input, empty(input._data.shape, dtype=d, device=dev, requires_grad=requires_grad), memory_format, "empty_like"
    )


def full_like(
    input,
    fill_value,
    *,
    dtype=None,
    layout=None,
    device=None,
    requires_grad=False,
    pin_memory=False,
    memory_format=None,
):
    d, dev = _like(input, dtype, device, "full_like", layout, pin_memory)
    return _laid_out(
        input,
        full(input._data.shape, fill_value, dtype=d, device=dev, requires_grad=requires_grad),
        memory_format,
        "full_like",
    )


def arange(start=0, end=None, step=1, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """Values from ``start`` up to (not including) ``end`` in steps of ``step``. As in PyTorch, a
    step of the wrong sign, a zero step, a non-finite bound or a size beyond int64 is an error."""
    if layout is not None or pin_memory:
        _typeinfo.factory_options("arange", layout, pin_memory, device)
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    if not step or step != step:
        raise RuntimeError(f"arange: step must be nonzero (start={start}, end={end}, step={step})")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"arange: unsupported range: {start} -> {end}")
    if (end - start) * step < 0:
        raise RuntimeError(
            f"arange: upper bound and lower bound inconsistent with step sign (start={start}, end={end}, step={step})"
        )
    if dtype is None:
        dtype = _dtype.int64 if all(isinstance(v, (int, np.integer)) for v in vals) else _dtype.get_default_dtype()
    npd = _dtype.to_np(dtype)
    if all(isinstance(v, (int, np.integer)) for v in vals):
        n = -(-(int(end) - int(start)) // int(step))  # exact ceil for Python ints
        if any(not -(2**63) <= int(v) < 2**63 for v in vals):
            raise RuntimeError(
                f"arange: value cannot be converted to type int64 without overflow "
                f"(start={start}, end={end}, step={step})"
            )
    else:
        n = math.ceil((end - start) / step)
    if n >= 2**63 // max(npd.itemsize, 1):
        raise RuntimeError(f"arange: invalid size {n}, possible overflow? (start={start}, end={end}, step={step})")
    xp = xp_for(to_device(device))
    try:
        if _cap.active:  # a compiled function's first call: a kernel with constant arguments
            arr = _cap.recorder.call(_arange_values, (xp, start, step, n, npd), "arange")
        else:
            arr = _arange_values(xp, start, step, n, npd)
    except MemoryError as e:
        raise _memory_error((n,), npd, e) from None
    return _finish(arr, requires_grad)


def _check_steps(name, steps):
    if steps < 0:
        raise RuntimeError(f"{name}: number of steps must be non-negative, got {steps}")


def _arange_values(xp, start, step, n, npd):
    if npd.kind in "fV":
        return (start + step * xp.arange(n, dtype=np.float64)).astype(npd)
    return (start + step * xp.arange(n, dtype=np.int64)).astype(npd)


def linspace(start, end, steps, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    if layout is not None or pin_memory:
        _typeinfo.factory_options("linspace", layout, pin_memory, device)
    _check_steps("linspace", steps)
    return _fill(lambda xp, s, d: xp.linspace(start, end, steps).astype(d), (steps,), dtype, device, requires_grad)


def logspace(
    start, end, steps, base=10.0, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False
):
    if layout is not None or pin_memory:
        _typeinfo.factory_options("logspace", layout, pin_memory, device)
    _check_steps("logspace", steps)
    return _fill(
        lambda xp, s, d: xp.logspace(start, end, steps, base=base).astype(d), (steps,), dtype, device, requires_grad
    )


def eye(n, m=None, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    if layout is not None or pin_memory:
        _typeinfo.factory_options("eye", layout, pin_memory, device)
    for name, v in (("n", n), ("m", m)):
        if v is not None and v < 0:
            raise RuntimeError(f"eye: {name} must be greater or equal to 0, got {v}")
    return _fill(lambda xp, s, d: xp.eye(*s, dtype=d), (n, n if m is None else m), dtype, device, requires_grad)


# ----------------------------------------------------------------------------- random numbers
# They live in _random (PyTorch's CPU generator); their names stay importable from here.
from ._random import (  # noqa: E402, F401
    Generator,
    _check_random_range,
    _rng,
    bernoulli,
    check_probability,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    multinomial,
    normal,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    seed,
    set_rng_state,
)


# the legacy constructor Tensor([...]) converts its data with this module's converter
_upcalls.array_from = _array_from

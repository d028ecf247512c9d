"""``torch.autocast`` and the functions that read and set the autocast state.

Which ops cast, and to what, is decided where they are defined (``_autocast.autocast_call``);
this module switches the thread-local state on and off.
"""

import functools
import warnings

from .. import _dtype
from .._autocast import DEVICE_TYPES, _amp, clear_cache

__all__ = ["autocast", "custom_fwd", "custom_bwd", "is_autocast_available"]

_CPU_DTYPES = ("bfloat16", "float16")
_CUDA_DTYPES = ("float16", "bfloat16")


def _check_device_type(device_type, what):
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if device_type not in DEVICE_TYPES:
        raise RuntimeError(
            f"{what}: device_type {device_type!r} is not supported: retrograd's autocast "
            f"has the device types {', '.join(DEVICE_TYPES)}"
        )


def _cuda_available():
    from .. import cuda

    return cuda.is_available()


def is_autocast_available(device_type):
    """Whether retrograd's autocast knows ``device_type`` ("cpu" and "cuda"; like PyTorch's, True
    for "cuda" without a GPU, where an ``autocast("cuda")`` region warns and disables itself)."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    return device_type in DEVICE_TYPES


def is_autocast_enabled(device_type=None):
    """Whether autocast is on for ``device_type`` (for "cuda" when none is given, as in PyTorch)."""
    if device_type is None:
        return _amp.cuda
    _check_device_type(device_type, "is_autocast_enabled")
    return getattr(_amp, device_type)


def set_autocast_enabled(device_type, enabled=None):
    """``set_autocast_enabled(device_type, enabled)``, or the older ``set_autocast_enabled(enabled)``
    for "cuda"."""
    if enabled is None:
        device_type, enabled = "cuda", device_type
    _check_device_type(device_type, "set_autocast_enabled")
    setattr(_amp, device_type, bool(enabled))
    _amp.refresh()


def get_autocast_dtype(device_type):
    """The dtype the listed ops cast to under autocast for ``device_type``."""
    _check_device_type(device_type, "get_autocast_dtype")
    return getattr(_amp, device_type + "_dtype")


def set_autocast_dtype(device_type, dtype):
    _check_device_type(device_type, "set_autocast_dtype")
    setattr(_amp, device_type + "_dtype", _dtype.to_dtype(dtype))


def is_autocast_cpu_enabled():
    return _amp.cpu


def get_autocast_cpu_dtype():
    return _amp.cpu_dtype


def get_autocast_gpu_dtype():
    return _amp.cuda_dtype


def is_autocast_cache_enabled():
    return _amp.cache_enabled


def set_autocast_cache_enabled(enabled):
    _amp.cache_enabled = bool(enabled)


def clear_autocast_cache():
    clear_cache()


class autocast:
    """Mixed precision for a region (a context manager) or a function (a decorator).

    In the region, the ops PyTorch lists for autocast cast their floating inputs on
    ``device_type`` to ``dtype`` (matrix products, convolutions, attention) or to float32
    (losses, some reductions and decompositions); other ops run in their inputs' widest type.
    ``dtype`` defaults to ``get_autocast_dtype(device_type)`` (bfloat16 on "cpu", float16 on
    "cuda"). As in PyTorch, an unsupported dtype, or "cuda" without a GPU, warns and disables
    the region. ``cache_enabled`` (default: ``is_autocast_cache_enabled()``) keeps one cast of
    each weight for the outermost region. Regions nest; ``enabled=False`` turns autocast off
    inside an enclosing one."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        _check_device_type(device_type, "autocast")
        self.device = device_type
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else _dtype.to_dtype(dtype)
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None else bool(cache_enabled)
        enabled = bool(enabled)
        if enabled and device_type == "cuda" and not _cuda_available():
            warnings.warn(
                "User provided device_type of 'cuda', but CUDA is not available. Disabling autocast.",
                UserWarning,
                stacklevel=2,
            )
            enabled = False
        supported = _CPU_DTYPES if device_type == "cpu" else _CUDA_DTYPES
        if enabled and self.fast_dtype.name not in supported:
            kind = "CPU" if device_type == "cpu" else "CUDA"
            warnings.warn(
                f"In {kind} autocast, but the target dtype is not supported. Disabling autocast.\n"
                f"{kind} Autocast only supports dtypes of "
                f"{', '.join('torch.' + n for n in supported)} currently.",
                UserWarning,
                stacklevel=2,
            )
            enabled = False
        self._enabled = enabled

    def __enter__(self):
        st = _amp
        dev = self.device
        self._prev = (getattr(st, dev), getattr(st, dev + "_dtype"), st.cache_enabled, st.excluded)
        setattr(st, dev, self._enabled)
        setattr(st, dev + "_dtype", self.fast_dtype)
        st.cache_enabled = self._cache_enabled
        st.excluded = 0
        st.depth += 1
        st.refresh()
        return self

    def __exit__(self, *exc):
        st = _amp
        dev = self.device
        st.depth -= 1
        if st.depth == 0:
            clear_cache()
        enabled, dtype, cache, excluded = self._prev
        setattr(st, dev, enabled)
        setattr(st, dev + "_dtype", dtype)
        st.cache_enabled = cache
        st.excluded = excluded
        st.refresh()
        return False

    def _copy(self):
        new = object.__new__(type(self))
        new.device, new.fast_dtype = self.device, self.fast_dtype
        new._cache_enabled, new._enabled = self._cache_enabled, self._enabled
        return new

    def __call__(self, func):
        @functools.wraps(func)
        def run_in_autocast(*args, **kwargs):
            with self._copy():  # a fresh region per call, so recursive calls nest correctly
                return func(*args, **kwargs)

        return run_in_autocast


def _cast_inputs(value, dtype, device_type):
    from .._tensor import Tensor

    if isinstance(value, Tensor):
        d = value._data.dtype
        on_device = value.device.type == device_type
        return value.to(dtype) if on_device and d.kind in "fV" and d.char != "d" else value
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_inputs(v, dtype, device_type) for v in value)
    if isinstance(value, dict):
        return {k: _cast_inputs(v, dtype, device_type) for k, v in value.items()}
    return value


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """Decorator for the ``forward`` of a custom ``autograd.Function``: it runs with the autocast
    state of the caller, or, when autocast is on for ``device_type`` and ``cast_inputs`` is a
    dtype, with autocast off and its floating inputs on that device cast to ``cast_inputs``.
    The backward (decorated with :func:`custom_bwd`) then runs with the forward's state."""
    _check_device_type(device_type, "custom_fwd")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        ctx = args[0]
        ctx._dtype = get_autocast_dtype(device_type)
        if cast_inputs is None:
            ctx._fwd_used_autocast = is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        autocast_on = is_autocast_enabled(device_type)
        ctx._fwd_used_autocast = False
        if not autocast_on:
            return fwd(*args, **kwargs)
        target = _dtype.to_dtype(cast_inputs)
        with autocast(device_type, enabled=False):
            return fwd(*_cast_inputs(args, target, device_type), **_cast_inputs(kwargs, target, device_type))

    return decorate_fwd


def custom_bwd(bwd=None, *, device_type):
    """Decorator for the ``backward`` of a custom ``autograd.Function`` whose forward used
    :func:`custom_fwd`: it runs with the autocast state the forward ran with."""
    _check_device_type(device_type, "custom_bwd")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        ctx = args[0]
        with autocast(device_type, enabled=ctx._fwd_used_autocast, dtype=ctx._dtype):
            return bwd(*args, **kwargs)

    return decorate_bwd

"""``retrograd.cuda``: what PyTorch scripts ask of ``torch.cuda``, answered through CuPy.

``device="cuda"`` arrays are CuPy arrays; this module never imports CuPy unless asked, so
``is_available()`` on a machine without it is cheap and False.

Without CUDA (no CuPy, or no GPU) the answers are those of a CPU-only PyTorch build: queries
that need a device (``current_device``, ``get_device_properties``, ``synchronize``, ...) raise
AssertionError; the seeding and RNG-state setters do nothing (PyTorch queues them until CUDA
starts, which never happens); ``is_bf16_supported()`` is False, ``memory_stats()`` empty.
"""

import importlib.util
import sys as _sys
import warnings as _warnings
from collections import OrderedDict as _OrderedDict


from .backend import OutOfMemoryError as OutOfMemoryError  # the same class as torch.OutOfMemoryError


def _require(name, error=AssertionError):
    """CuPy, when CUDA is available; else the error a CPU-only PyTorch build raises there
    (AssertionError for the queries, RuntimeError for Stream, Event and ``device``)."""
    if not is_available():
        raise error(
            f"torch.cuda.{name}(): CUDA is not available here (retrograd runs cuda tensors through CuPy: "
            "pip install cupy-cuda12x, on a machine with an NVIDIA GPU)"
        )
    from .backend import cupy

    return cupy()


def _index(device):
    """The device index of ``device`` (None, an int, a string or a device): the current one
    for None or a bare ``"cuda"``."""
    if device is None:
        return current_device()
    if isinstance(device, int):
        return device
    from ._device import to_device

    d = to_device(device)
    if d.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {d}")
    return current_device() if d.index is None else d.index


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
    return _require("current_device").cuda.Device().id


def set_device(device):
    cp = _require("set_device")
    index = _index(device)
    if index >= 0:  # PyTorch: a negative index is a no-op
        cp.cuda.Device(index).use()


def is_initialized():
    """Whether CUDA has been started here (CuPy imported and a GPU seen)."""
    from . import backend

    return backend._cupy is not None and is_available()


def init():
    """Start CUDA now (it starts on first use anyway)."""
    _require("init").cuda.Device().use()


def _properties(device):
    cp = _require("get_device_properties")
    return cp.cuda.runtime.getDeviceProperties(_index(device))


def get_device_name(device=None):
    name = _properties(device)["name"]
    return name.decode() if isinstance(name, bytes) else name


def get_device_capability(device=None):
    """``(major, minor)``: the compute capability of ``device`` (the current one for None)."""
    p = _properties(device)
    return int(p["major"]), int(p["minor"])


class _CudaDeviceProperties:
    """What ``get_device_properties`` answers: ``name``, ``major``, ``minor``,
    ``total_memory`` (bytes), ``multi_processor_count``."""

    __slots__ = ("name", "major", "minor", "total_memory", "multi_processor_count")

    def __init__(self, p):
        name = p["name"]
        self.name = name.decode() if isinstance(name, bytes) else name
        self.major, self.minor = int(p["major"]), int(p["minor"])
        self.total_memory = int(p["totalGlobalMem"])
        self.multi_processor_count = int(p["multiProcessorCount"])

    def __repr__(self):
        return (
            f"_CudaDeviceProperties(name='{self.name}', major={self.major}, minor={self.minor}, "
            f"total_memory={self.total_memory // 2**20}MB, multi_processor_count={self.multi_processor_count})"
        )


def get_device_properties(device=None):
    return _CudaDeviceProperties(_properties(device))


def mem_get_info(device=None):
    """``(free, total)`` bytes of the device's memory, as the driver reports them."""
    cp = _require("mem_get_info")
    with cp.cuda.Device(_index(device)):
        free, total = cp.cuda.runtime.memGetInfo()
    return int(free), int(total)


def is_bf16_supported(including_emulation=True):
    """False: retrograd's bfloat16 arrays are NumPy's (the ml_dtypes package), which CuPy cannot
    hold, so no bfloat16 cuda tensor can be made whatever the GPU."""
    return False


def get_arch_list():
    """The GPU architectures kernels were compiled for: none (CuPy compiles its kernels for the
    GPU it runs on, at run time)."""
    return []


def get_gencode_flags():
    return ""


def synchronize(device=None):
    """Wait for all work queued on the GPU (for timing)."""
    cp = _require("synchronize")
    with cp.cuda.Device(_index(device)):
        cp.cuda.Device().synchronize()


# --- random numbers ---------------------------------------------------------------------------
#
# cuda tensors draw on the host from the default (CPU) generator and are copied (see
# retrograd._random), so with CUDA these seed and read that generator. Without CUDA PyTorch
# queues the setters until CUDA starts, which never happens: they do nothing, and the CPU
# stream goes on undisturbed (``torch.cuda.manual_seed(s)`` does not reseed ``torch.randn``).


def manual_seed(seed):
    """Seed the generator cuda tensors draw from (the default one); nothing without CUDA."""
    int(seed)  # PyTorch checks the argument even where it queues the call
    if is_available():
        from ._random import manual_seed as _seed

        _seed(seed)


manual_seed_all = manual_seed


def seed():
    """Seed the generator cuda tensors draw from with a random number; nothing without CUDA."""
    if is_available():
        from ._random import seed as _seed

        _seed()


seed_all = seed


def initial_seed():
    _require("initial_seed")
    from ._random import initial_seed as _initial

    return _initial()


def get_rng_state(device="cuda"):
    _require("get_rng_state")
    from ._random import get_rng_state as _get

    return _get()


def set_rng_state(new_state, device="cuda"):
    if is_available():
        from ._random import set_rng_state as _set

        _set(new_state)


def get_rng_state_all():
    """One state per device: theirs is the one generator they all draw from."""
    return [get_rng_state(i) for i in range(device_count())] if is_available() else []


def set_rng_state_all(new_states):
    for state in new_states:
        set_rng_state(state)


# --- devices, streams and events ----------------------------------------------------------------


class device:
    """``with torch.cuda.device(i):`` makes device ``i`` current inside the block; ``None`` or a
    negative index changes nothing (and needs no CUDA)."""

    def __init__(self, device):
        self.idx = -1 if device is None else _index_or_minus_one(device)
        self._prev = None

    def __enter__(self):
        if self.idx < 0:
            return None
        cp = _require("device", RuntimeError)
        self._prev = cp.cuda.Device()
        cp.cuda.Device(self.idx).use()
        return None

    def __exit__(self, *exc):
        if self._prev is not None:
            self._prev.use()
            self._prev = None
        return False


def _index_or_minus_one(d):
    """``d``'s cuda index, or -1 for a non-cuda device (``device_of`` a CPU tensor)."""
    if isinstance(d, int):
        return d
    from ._device import to_device

    d = to_device(d)
    return -1 if d.type != "cuda" else (d.index if d.index is not None else 0)


class device_of(device):
    """``with torch.cuda.device_of(t):`` makes ``t``'s device current; nothing for a CPU tensor."""

    def __init__(self, obj):
        super().__init__(obj.device if obj.is_cuda else None)


class Stream:
    """A CUDA stream (CuPy's): work queued under ``with torch.cuda.stream(s):`` runs on it.
    ``priority`` is CuPy's (lower runs first)."""

    def __init__(self, device=None, priority=0, **kwargs):
        if kwargs:  # PyTorch's stream_id/device_index/device_type wrap an existing stream
            raise NotImplementedError(f"torch.cuda.Stream: {sorted(kwargs)} not supported (a new stream only)")
        cp = _require("Stream", RuntimeError)
        index = _index(device)
        with cp.cuda.Device(index):
            self._stream = cp.cuda.Stream(non_blocking=True, priority=priority or None)
        self.device = _device_obj(index)

    @classmethod
    def _wrap(cls, stream, index):
        s = cls.__new__(cls)
        s._stream, s.device = stream, _device_obj(index)
        return s

    @property
    def cuda_stream(self):
        return self._stream.ptr

    def query(self):
        return self._stream.done

    def synchronize(self):
        self._stream.synchronize()

    def wait_event(self, event):
        self._stream.wait_event(event._event)

    def wait_stream(self, stream):
        self.wait_event(stream.record_event())

    def record_event(self, event=None):
        event = Event() if event is None else event
        event.record(self)
        return event

    def __eq__(self, other):
        return isinstance(other, Stream) and self._stream.ptr == other._stream.ptr

    def __hash__(self):
        return hash(self._stream.ptr)

    def __repr__(self):
        return f"<torch.cuda.Stream device={self.device} cuda_stream={self._stream.ptr:#x}>"


def _device_obj(index):
    from ._device import device as _device

    return _device("cuda", index)


def current_stream(device=None):
    cp = _require("current_stream")
    index = _index(device)
    with cp.cuda.Device(index):
        return Stream._wrap(cp.cuda.get_current_stream(), index)


def default_stream(device=None):
    cp = _require("default_stream")
    return Stream._wrap(cp.cuda.Stream.null, _index(device))


class StreamContext:
    """``with torch.cuda.stream(s):`` (this context): CuPy ops inside run on ``s``; ``None``
    changes nothing."""

    def __init__(self, stream):
        self.stream = stream
        self._prev = None

    def __enter__(self):
        if self.stream is not None:
            from .backend import cupy

            self._prev = cupy().cuda.get_current_stream()
            self.stream._stream.use()
        return self.stream

    def __exit__(self, *exc):
        if self._prev is not None:
            self._prev.use()
            self._prev = None
        return False


def stream(stream):
    return StreamContext(stream)


class Event:
    """A CUDA event (CuPy's), to order streams and to time GPU work:
    ``start.record(); ...; end.record(); end.synchronize(); start.elapsed_time(end)`` (ms)."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False, external=False):
        cp = _require("Event", RuntimeError)
        if external:
            raise NotImplementedError("torch.cuda.Event(external=True): external events are not supported")
        self._event = cp.cuda.Event(block=blocking, disable_timing=not enable_timing, interprocess=interprocess)

    def record(self, stream=None):
        self._event.record(None if stream is None else stream._stream)

    def wait(self, stream=None):
        (current_stream() if stream is None else stream).wait_event(self)

    def query(self):
        return self._event.done

    def synchronize(self):
        self._event.synchronize()

    def elapsed_time(self, end_event):
        """Milliseconds from this event to ``end_event`` (both recorded, timing enabled)."""
        from .backend import cupy

        return float(cupy().cuda.get_elapsed_time(self._event, end_event._event))

    def __repr__(self):
        return f"<torch.cuda.Event {self._event.ptr:#x}>"


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


def memory_stats(device=None):
    """The memory statistics PyTorch's allocator keeps, as far as CuPy's pool knows them (the
    current bytes allocated and reserved); empty before CUDA starts, as in PyTorch."""
    if not is_initialized():
        return _OrderedDict()
    used, held = memory_allocated(device), memory_reserved(device)
    return _OrderedDict([("allocated_bytes.all.current", used), ("reserved_bytes.all.current", held)])


def memory_summary(device=None, abbreviated=False):
    """A short text of ``memory_stats`` (CuPy's pool keeps no per-size or peak figures)."""
    stats = memory_stats(device)
    used, held = stats.get("allocated_bytes.all.current", 0), stats.get("reserved_bytes.all.current", 0)
    where = "CUDA not started" if not stats else f"device {_index(device)}"
    return (
        f"|  retrograd cuda memory summary ({where})\n"
        f"|  allocated: {used / 2**20:.1f} MiB (in use by tensors)\n"
        f"|  reserved:  {held / 2**20:.1f} MiB (held by CuPy's memory pool)\n"
    )


def memory_cached(device=None):
    _warnings.warn("`torch.cuda.memory_cached` has been renamed to `torch.cuda.memory_reserved`", FutureWarning, 2)
    return memory_reserved(device)


def max_memory_cached(device=None):
    _warnings.warn(
        "`torch.cuda.max_memory_cached` has been renamed to `torch.cuda.max_memory_reserved`", FutureWarning, 2
    )
    return max_memory_reserved(device)


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

# The legacy typed constructors of cuda tensors (``torch.cuda.FloatTensor``, ...)
from ._legacy import CUDA_TYPES as _CUDA_TYPES  # noqa: E402

FloatTensor = _CUDA_TYPES["FloatTensor"]
DoubleTensor = _CUDA_TYPES["DoubleTensor"]
HalfTensor = _CUDA_TYPES["HalfTensor"]
LongTensor = _CUDA_TYPES["LongTensor"]
IntTensor = _CUDA_TYPES["IntTensor"]
ShortTensor = _CUDA_TYPES["ShortTensor"]
CharTensor = _CUDA_TYPES["CharTensor"]
ByteTensor = _CUDA_TYPES["ByteTensor"]
BoolTensor = _CUDA_TYPES["BoolTensor"]

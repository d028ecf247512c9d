"""Tensor factories and random number generation.

Every factory takes ``dtype=``, ``device=`` and ``requires_grad=`` as in PyTorch. Random
numbers come from a NumPy ``Generator`` seeded by ``manual_seed`` (one global default, plus
``Generator`` objects for code that wants its own stream); on cuda they are drawn on the host
and copied, so a seed gives the same numbers on every device.
"""
import builtins
import math

import numpy as np

from . import _dtype
from ._device import to_device
from ._tensor import Tensor
from .backend import keep_quiet, to_device_array, xp_for


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
            elif arr.dtype.kind != "b":
                raise TypeError(f"can't convert data of type {type(data).__name__} "
                                f"(NumPy dtype {arr.dtype}) to a tensor")
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
    for v in (arr.ravel().tolist() if arr.ndim else [arr.item()]):
        if isinstance(v, float):
            floats = True
        elif v is None:
            raise RuntimeError("Could not infer dtype of NoneType")
        elif not isinstance(v, int):
            raise TypeError(f"new(): invalid data type '{type(v).__name__}'")
        elif huge is None and not -2 ** 63 <= v < 2 ** 63:
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
        raise RuntimeError(f"value cannot be converted to type {npd.name} without overflow: {bad} is "
                           f"outside [{lo}, {info.max}]")


def _check_fill(value, npd):
    """PyTorch's check on a scalar fill value for a tensor of NumPy dtype ``npd``: returns the
    value to fill with (a negative int wraps into an unsigned dtype, as in PyTorch)."""
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
    raise TypeError(f"can't convert NumPy array of dtype {arr.dtype} to a tensor")


def _contains_tensor(seq):
    for v in seq:
        if isinstance(v, Tensor):
            return True
        if isinstance(v, (list, tuple)) and _contains_tensor(v):
            return True
    return False


def _tolist_deep(seq):
    return [v.tolist() if isinstance(v, Tensor) else _tolist_deep(v) if isinstance(v, (list, tuple))
            else v for v in seq]


def _finish(arr, requires_grad):
    t = Tensor._make(arr, None, False)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new leaf tensor holding a copy of ``data``."""
    arr = _array_from(data, dtype, device)
    if isinstance(data, Tensor) or arr is data or (isinstance(data, np.ndarray) and type(arr) is np.ndarray
                                                   and np.may_share_memory(arr, data)):
        arr = arr.copy()
    return _finish(arr, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with a NumPy array or Tensor when dtype and device allow."""
    if isinstance(data, Tensor):
        if ((dtype is None or _dtype.to_dtype(dtype) == data.dtype)
                and (device is None or to_device(device) == data.device)):
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
        arr = fn(xp, size, npd)
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
    return RuntimeError(f"{why}: a tensor of shape {list(size)} and dtype {npd.name} could not be "
                        f"allocated ({e})")


def zeros(*sizes, size=None, dtype=None, layout=None, device=None, requires_grad=False):
    size = _size_arg(sizes, size, "zeros")
    return _fill(lambda xp, s, d: xp.zeros(s, d), size, dtype, device, requires_grad)


def ones(*sizes, size=None, dtype=None, layout=None, device=None, requires_grad=False):
    size = _size_arg(sizes, size, "ones")
    return _fill(lambda xp, s, d: xp.ones(s, d), size, dtype, device, requires_grad)


def empty(*sizes, size=None, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    size = _size_arg(sizes, size, "empty")
    return _fill(lambda xp, s, d: xp.empty(s, d), size, dtype, device, requires_grad)


def full(size, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False):
    if dtype is None:
        dtype = (_dtype.bool if isinstance(fill_value, bool) else _dtype.int64
                 if isinstance(fill_value, int) else _dtype.get_default_dtype())
    fill_value = _check_fill(fill_value, _dtype.to_np(dtype))
    return _fill(lambda xp, s, d: xp.full(s, fill_value, d), (size,) if isinstance(size, int) else tuple(size),
                 dtype, device, requires_grad)


def _like(t, dtype, device):
    return (t.dtype if dtype is None else dtype), (t.device if device is None else device)


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    d, dev = _like(input, dtype, device)
    return zeros(input._data.shape, dtype=d, device=dev, requires_grad=requires_grad)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    d, dev = _like(input, dtype, device)
    return ones(input._data.shape, dtype=d, device=dev, requires_grad=requires_grad)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    d, dev = _like(input, dtype, device)
    return empty(input._data.shape, dtype=d, device=dev, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    d, dev = _like(input, dtype, device)
    return full(input._data.shape, fill_value, dtype=d, device=dev, requires_grad=requires_grad)


def arange(start=0, end=None, step=1, *, dtype=None, layout=None, device=None,
           requires_grad=False):
    """Values from ``start`` up to (not including) ``end`` in steps of ``step``. As in PyTorch, a
    step of the wrong sign, a zero step, a non-finite bound or a size beyond int64 is an error."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    if not step or step != step:
        raise RuntimeError(f"arange: step must be nonzero (start={start}, end={end}, step={step})")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"arange: unsupported range: {start} -> {end}")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange: upper bound and lower bound inconsistent with step sign "
                           f"(start={start}, end={end}, step={step})")
    if dtype is None:
        dtype = _dtype.int64 if all(isinstance(v, (int, np.integer)) for v in vals) else _dtype.get_default_dtype()
    npd = _dtype.to_np(dtype)
    if all(isinstance(v, (int, np.integer)) for v in vals):
        n = -(-(int(end) - int(start)) // int(step))  # exact ceil for Python ints
        if any(not -2 ** 63 <= int(v) < 2 ** 63 for v in vals):
            raise RuntimeError(f"arange: value cannot be converted to type int64 without overflow "
                               f"(start={start}, end={end}, step={step})")
    else:
        n = math.ceil((end - start) / step)
    if n >= 2 ** 63 // max(npd.itemsize, 1):
        raise RuntimeError(f"arange: invalid size {n}, possible overflow? (start={start}, end={end}, "
                           f"step={step})")
    xp = xp_for(to_device(device))
    try:
        arr = (start + step * xp.arange(n, dtype=np.float64)).astype(npd) if npd.kind in "fV" else \
            (start + step * xp.arange(n, dtype=np.int64)).astype(npd)
    except MemoryError as e:
        raise _memory_error((n,), npd, e) from None
    return _finish(arr, requires_grad)


def _check_steps(name, steps):
    if steps < 0:
        raise RuntimeError(f"{name}: number of steps must be non-negative, got {steps}")


def linspace(start, end, steps, *, dtype=None, layout=None, device=None, requires_grad=False):
    _check_steps("linspace", steps)
    return _fill(lambda xp, s, d: xp.linspace(start, end, steps).astype(d), (steps,), dtype, device,
                 requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    _check_steps("logspace", steps)
    return _fill(lambda xp, s, d: xp.logspace(start, end, steps, base=base).astype(d), (steps,), dtype,
                 device, requires_grad)


def eye(n, m=None, *, dtype=None, layout=None, device=None, requires_grad=False):
    for name, v in (("n", n), ("m", m)):
        if v is not None and v < 0:
            raise RuntimeError(f"eye: {name} must be greater or equal to 0, got {v}")
    return _fill(lambda xp, s, d: xp.eye(*s, dtype=d), (n, n if m is None else m), dtype, device,
                 requires_grad)


# ----------------------------------------------------------------------------- random numbers
class Generator:
    """A random stream (``retrograd.Generator().manual_seed(0)``), backed by NumPy's PCG64."""

    def __init__(self, device="cpu"):
        self.device = to_device(device)
        self._seed = 67280421310721
        self._rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed):
        """Seed this generator with an int in [-2**63, 2**64); negative seeds wrap to uint64 as
        in PyTorch."""
        seed = int(seed)
        if not -2 ** 63 <= seed < 2 ** 64:
            raise ValueError(f"Overflow when unpacking long long: seed {seed} is outside [-2**63, 2**64)")
        self._seed = seed % 2 ** 64
        self._rng = np.random.default_rng(self._seed)
        return self

    def seed(self):
        s = int(np.random.SeedSequence().entropy % (2 ** 63))
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        from ._creation import tensor as _t
        import json
        state = json.dumps(self._rng.bit_generator.state)
        return _t(np.frombuffer(state.encode(), dtype=np.uint8).copy())

    def set_state(self, state):
        import json
        self._rng.bit_generator.state = json.loads(bytes(np.asarray(state._data, dtype=np.uint8)).decode())
        return self


default_generator = Generator()


def manual_seed(seed):
    """Seed the default generator; returns it, as PyTorch does."""
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)


def _rng(generator):
    return (generator or default_generator)._rng


def _random(draw, size, generator, dtype, device, requires_grad):
    size = _size(size)
    npd = _np_dtype(dtype)
    try:
        arr = draw(_rng(generator), size).astype(npd, copy=False)
    except (MemoryError, ValueError) as e:
        raise _memory_error(size, npd, e) from None
    return _finish(to_device_array(arr, to_device(device)), requires_grad)


def _draw_dtype(np_dtype):
    """The dtype to draw floats in: NumPy's generator draws float32 and float64 natively, so
    a float32 tensor never passes through a float64 temporary twice its size."""
    return np_dtype if np_dtype in (np.float32, np.float64) else np.float64


def fill_uniform(rng, arr):
    """Fill the float array ``arr`` with U[0, 1) samples in place (no temporary when NumPy can
    draw straight into it)."""
    if arr.dtype in (np.float32, np.float64) and arr.flags.c_contiguous:
        rng.random(out=arr, dtype=arr.dtype)
    else:
        arr[...] = rng.random(arr.shape)


def fill_normal(rng, arr):
    """Fill the float array ``arr`` with standard normal samples in place."""
    if arr.dtype in (np.float32, np.float64) and arr.flags.c_contiguous:
        rng.standard_normal(out=arr, dtype=arr.dtype)
    else:
        arr[...] = rng.standard_normal(arr.shape)


def rand(*sizes, size=None, generator=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Uniform samples on [0, 1)."""
    size = _size_arg(sizes, size, "rand")
    npd = _np_dtype(dtype)
    return _random(lambda r, s: r.random(s, dtype=_draw_dtype(npd)), size, generator, dtype, device,
                   requires_grad)


def randn(*sizes, size=None, generator=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Standard normal samples."""
    size = _size_arg(sizes, size, "randn")
    npd = _np_dtype(dtype)
    return _random(lambda r, s: r.standard_normal(s, dtype=_draw_dtype(npd)), size, generator, dtype,
                   device, requires_grad)


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, layout=None,
            device=None, requires_grad=False):
    """Integers uniform on [low, high); int64 unless ``dtype`` says otherwise."""
    if size is None:
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    npd = np.dtype(np.int64) if dtype is None else _dtype.to_np(dtype)
    _check_random_range(low, high, npd)
    return _random(lambda r, s: r.integers(low, high, s), (size,) if isinstance(size, int) else tuple(size),
                   generator, _dtype.from_np(npd), device, requires_grad)


def _check_random_range(low, high, npd):
    """PyTorch's checks on randint's bounds: ``low < high``, both ints in int64, and for an
    integer dtype, ``low`` and ``high - 1`` representable in it."""
    for v in (low, high):
        if isinstance(v, int) and not -2 ** 63 <= v < 2 ** 63:
            raise ValueError(f"Overflow when unpacking long long: randint bound {v} does not fit in int64")
    if not low < high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    if npd.kind in "iub":
        info = np.iinfo(npd) if npd.kind != "b" else np.iinfo(np.uint8)
        hi = 1 if npd.kind == "b" else info.max
        for name, v in (("from", low), ("to - 1", high - 1)):
            if not info.min <= v <= hi:
                raise RuntimeError(f"randint: {name} ({v}) is out of bounds for {npd.name}")


def randperm(n, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False):
    _size((n,))
    arr = _rng(generator).permutation(n).astype(np.int64 if dtype is None else _dtype.to_np(dtype))
    return _finish(to_device_array(arr, to_device(device)), requires_grad)


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    d, dev = _like(input, dtype, device)
    return rand(input._data.shape, dtype=d, device=dev, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    d, dev = _like(input, dtype, device)
    return randn(input._data.shape, dtype=d, device=dev, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None, requires_grad=False,
                 memory_format=None):
    if high is None:
        low, high = 0, low
    d, dev = _like(input, dtype, device)
    return randint(low, high, input._data.shape, dtype=d, device=dev, requires_grad=requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, layout=None,
           device=None, requires_grad=False):
    """Normal samples with the given mean and std (floats, or tensors broadcast together)."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean._data if isinstance(mean, Tensor) else mean
        s = std._data if isinstance(std, Tensor) else std
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        ref = mean if isinstance(mean, Tensor) else std
        if not (np.asarray(s) >= 0).all():
            raise RuntimeError(f"normal expects all elements of std >= 0.0 (std of shape {list(np.shape(s))})")
        arr = (_rng(generator).standard_normal(shape) * np.asarray(s) + np.asarray(m)).astype(ref._data.dtype)
        return _finish(to_device_array(arr, ref.device), requires_grad)
    if not std >= 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    return _random(lambda r, s: r.normal(mean, std, s), size, generator, dtype, device, requires_grad)


def bernoulli(input, p=None, *, generator=None):
    """Samples of 0/1 with probabilities ``input`` (or the scalar ``p``), same dtype as ``input``."""
    probs = np.asarray(input._data if p is None else p)
    check_probability("bernoulli", probs)
    arr = (_rng(generator).random(input._data.shape) < probs).astype(input._data.dtype)
    return _finish(to_device_array(arr, input.device), False)


def check_probability(name, p):
    """Bernoulli probabilities must lie in [0, 1] (NaN does not), as PyTorch checks."""
    ok = (p >= 0) & (p <= 1)
    if not (ok.all() if hasattr(ok, "all") else ok):
        what = f"p={float(p)}" if np.ndim(p) == 0 else f"a tensor of shape {list(np.shape(p))}"
        raise RuntimeError(f"{name} expects p to be in [0, 1], but got {what}")


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Draw category indices with probabilities proportional to the rows of ``input``."""
    probs = np.asarray(input.detach().numpy(force=True), dtype=np.float64)
    rows = probs.reshape(-1, probs.shape[-1])
    rng = _rng(generator)
    out_rows = []
    for row in rows:
        if (row < 0).any() or not np.isfinite(row).all() or row.sum() <= 0:
            raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or "
                               "element < 0, or sums to zero")
        if not replacement and num_samples > (row > 0).sum():
            raise RuntimeError("multinomial: cannot sample n_sample > prob_dist.size(-1) samples "
                               "without replacement")
        out_rows.append(rng.choice(len(row), size=num_samples, replace=replacement, p=row / row.sum()))
    arr = np.stack(out_rows).reshape(probs.shape[:-1] + (num_samples,)).astype(np.int64)
    return _finish(to_device_array(arr, input.device), False)

"""Random numbers with PyTorch's CPU generator: the same seed gives the same numbers.

``manual_seed(s)`` followed by ``rand``, ``randn``, ``randint``, ``randperm``, ``normal``,
``bernoulli``, ``multinomial`` or a random in-place op (``uniform_``, ``normal_``, ...) gives
PyTorch's CPU values bit for bit, for float32, float64, float16 and bfloat16 (and the integer
dtypes), at every size: the engine is PyTorch's mt19937 (``_mt19937``) and the samplers its kernels
(``_random_kernels``). Tensors on cuda draw on the host with the same engine and are copied,
so a seed gives the same numbers on every device (PyTorch's own cuda numbers differ).
"""

import math
import os
import warnings

import numpy as np

from . import _dtype, _typeinfo
from . import _random_kernels as K
from . import _creation as _c
from ._device import to_device
from ._mt19937 import DEFAULT_SEED, MT19937
from ._tensor import Tensor
from .backend import to_device_array
from .backend.meta import MetaArray


from .autograd._vmap_state import _vm
from ._compile.state import _cap, recorded_draw


class Generator:
    """A random stream (``retrograd.Generator().manual_seed(0)``): PyTorch's CPU generator."""

    __slots__ = ("device", "_engine")

    def __init__(self, device="cpu"):
        self.device = to_device(device)
        self._engine = MT19937(DEFAULT_SEED)

    def manual_seed(self, seed):
        """Seed this generator with an int in [-2**63, 2**64); negative seeds wrap to uint64 as
        in PyTorch. Returns the generator."""
        seed = int(seed)
        if not -(2**63) <= seed < 2**64:
            raise ValueError(f"Overflow when unpacking long long: seed {seed} is outside [-2**63, 2**64)")
        self._engine.manual_seed(seed % 2**64)
        return self

    def seed(self):
        """Seed from the operating system's entropy; returns the 64-bit seed used."""
        s = int.from_bytes(os.urandom(8), "little")
        self._engine.manual_seed(s)
        return s

    def initial_seed(self):
        return self._engine.initial_seed

    def get_state(self):
        """The state as a uint8 tensor in PyTorch's layout (5056 bytes)."""
        return _c._finish(np.frombuffer(self._engine.get_state(), dtype=np.uint8).copy(), False)

    def set_state(self, new_state):
        """Restore a state from ``get_state`` (this library's or PyTorch's). Returns the generator."""
        if not isinstance(new_state, Tensor) or new_state.dtype != _dtype.uint8:
            got = new_state.dtype if isinstance(new_state, Tensor) else type(new_state).__name__
            raise TypeError(f"set_state: expected a uint8 (Byte) tensor, but got {got}")
        self._engine.set_state(np.ascontiguousarray(new_state.numpy(force=True)).tobytes())
        return self

    @property
    def _rng(self):
        """A NumPy ``Generator`` on this stream, for distributions with no PyTorch-exact sampler here."""
        return self._engine.numpy_generator()


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


def set_rng_state(new_state):
    default_generator.set_state(new_state)


def _engine(generator):
    if _vm.active:  # a random draw inside vmap: its randomness mode decides
        _vm.random_draw()
    if _cap.active:  # the default generator's draws are recorded through _drawn; no other
        _cap.recorder.unrecorded("a random draw")
    if generator is None:
        return default_generator._engine
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a retrograd.Generator, not {type(generator).__name__}")
    return generator._engine


def _drawn(kernel, *inputs, generator, label):
    """``kernel(*inputs, generator)``: an array drawn from ``generator`` (the kernel takes the
    engine from it). While a compiled function's first call records, a draw from the default
    generator is recorded as a kernel that draws again at every replay, so the stream advances
    as in eager mode; a draw from another generator fails that capture (``_engine``)."""
    if generator is None:
        return recorded_draw(kernel, *inputs, None, label=label)
    return kernel(*inputs, generator)


def _rng(generator):
    """A NumPy ``Generator`` on ``generator``'s stream (the default one for None)."""
    return _engine(generator).numpy_generator()


# --------------------------------------------------------------------------- layouts
def _layout(arr):
    """How PyTorch walks a new tensor laid out like ``arr`` (``empty_like``'s preserve format):
    ``(like, contiguous)``, ``like`` an array whose memory order is the walk. A dense
    permutation of a contiguous layout keeps its order; anything else is C order."""
    if arr.flags.c_contiguous or arr.ndim < 2 or not _dense(arr):
        return np.empty(arr.shape, np.uint8), True
    return arr, False


def _dense(arr):
    dims = sorted((abs(s), n) for s, n in zip(arr.strides, arr.shape) if n != 1)
    step = arr.itemsize
    for stride, n in dims:
        if stride != step:
            return False
        step *= n
    return True


def draw_like(arr, draw):
    """Values for a new tensor laid out like ``arr`` (``empty_like``): ``draw(n, contiguous)``
    gives them in PyTorch's walk order; they come back as a C-ordered array of ``arr``'s shape."""
    like, contiguous = _layout(arr)
    return K.in_order(draw(arr.size, contiguous), like)


def draw_into(arr, draw):
    """Values an in-place op writes into ``arr`` itself, walked in its own memory order (as
    ``draw_like``, for the tensor's actual layout)."""
    return K.in_order(draw(arr.size, arr.flags.c_contiguous), arr)


# --------------------------------------------------------------------------- factories
def _complex_parts(npd, draw):
    """For a complex dtype, ``draw(n, real_dtype)`` made to fill the real and imaginary parts (2n
    reals, interleaved, as PyTorch draws into ``view_as_real`` of the tensor); else ``draw``."""
    if npd.kind != "c":
        return lambda n: draw(n, npd)
    real = np.dtype(np.float64 if npd == np.complex128 else np.float32)
    return lambda n: draw(2 * n, real).view(npd)


def _float_dtype(npd, op, complex_ok=False):
    if npd.kind == "c" and complex_ok:
        return
    if npd.char in "45":
        raise NotImplementedError(f'{op}: "{op}" is not implemented for {npd.name}; draw in float32 and convert')
    if not K.is_float(npd):
        raise RuntimeError(f'{op}: "{op}" is only implemented for floating-point dtypes, not {npd.name}')


_HALF_SQRT = math.sqrt(0.5)


def _new(size, dtype, device, requires_grad, values, generator, label, *params):
    """A new tensor of ``size``: ``values(engine, n, dtype, *params)`` drawn from ``generator``."""
    size = _c._size(size)
    npd = _c._np_dtype(dtype)
    if generator is not None:
        _engine(generator)  # a bad generator raises before the dtype checks, as before any draw
    arr = _drawn(_new_array, values, size, npd, to_device(device), *params, generator=generator, label=label)
    return _c._finish(arr, requires_grad)


def _new_array(values, size, npd, device, *params_and_generator):
    *params, generator = params_and_generator
    if device.type == "meta":  # no values, and no draw: the generator does not advance
        return MetaArray(size, npd)
    try:
        arr = values(_engine(generator), math.prod(size), npd, *params).reshape(size)
    except (MemoryError, ValueError) as e:
        raise _c._memory_error(size, npd, e) from None
    return to_device_array(arr, device)


def _uniform01(eng, n, npd):
    _float_dtype(npd, "uniform_", complex_ok=True)
    return _complex_parts(npd, lambda m, d: K.uniform(eng, m, d, 0.0, 1.0))(n)


def _standard_normal(eng, n, npd, contiguous=True):
    _float_dtype(npd, "normal_", complex_ok=True)
    if npd.kind == "c":
        return _complex_parts(npd, lambda m, d: K.normal(eng, m, d, 0.0, _HALF_SQRT, contiguous))(n)
    return K.normal(eng, n, npd, 0.0, 1.0, contiguous)


def rand(
    *sizes, size=None, generator=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False
):
    """Uniform samples on [0, 1) (for complex dtypes, in both the real and imaginary parts)."""
    if layout is not None or pin_memory:
        _typeinfo.factory_options("rand", layout, pin_memory, device)
    size = _c._size_arg(sizes, size, "rand")
    return _new(size, dtype, device, requires_grad, _uniform01, generator, "rand")


def randn(
    *sizes, size=None, generator=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False
):
    """Standard normal samples (for complex dtypes, real and imaginary parts each of variance
    1/2, so that E|z|^2 = 1, as in PyTorch)."""
    if layout is not None or pin_memory:
        _typeinfo.factory_options("randn", layout, pin_memory, device)
    size = _c._size_arg(sizes, size, "randn")
    return _new(size, dtype, device, requires_grad, _standard_normal, generator, "randn")


def randint(
    low=0,
    high=None,
    size=None,
    *,
    generator=None,
    dtype=None,
    layout=None,
    device=None,
    requires_grad=False,
    pin_memory=False,
):
    """Integers uniform on [low, high); int64 unless ``dtype`` says otherwise."""
    if layout is not None or pin_memory:
        _typeinfo.factory_options("randint", layout, pin_memory, device)
    if size is None:
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    npd = np.dtype(np.int64) if dtype is None else _dtype.to_np(dtype)
    if npd.kind == "c":
        raise RuntimeError(f'randint: "random_from_to" is not implemented for complex dtype {npd.name}')
    low, high = _int_bound(low), _int_bound(high)
    _check_random_range(low, high, npd)
    size = (size,) if isinstance(size, int) else tuple(size)
    return _new(size, _dtype.from_np(npd), device, requires_grad, random_between, generator, "randint", low, high)


def _int_bound(v):
    """An integer bound (a one-element integer tensor counts, as in PyTorch; floats do not)."""
    if isinstance(v, Tensor) and v._data.dtype.kind in "iu" and v._data.size == 1:
        return int(v.item())
    return v


def random_between(eng, n, npd, low, high):
    """``n`` integers on [low, high) as ``random_(low, high)`` draws them into dtype ``npd``
    (``high=None``: up to the dtype's largest value, inclusive)."""
    npd = np.dtype(npd)
    if K.is_float(npd):
        low, high = K.update_bounds(low, high, npd)
        if high is not None and not low < high:
            raise RuntimeError(
                f"random_ expects 'from' casted to dtype to be less than 'to' casted to "
                f"dtype, but got from={low} >= to={high}"
            )
    if high is None:
        if low == -(2**63):
            return K.random_from_to(eng, n, npd, low, 2**64)
        high = K.int_range(npd) + 1
    return K.random_from_to(eng, n, npd, low, high - low)


def _check_random_range(low, high, npd):
    """PyTorch's checks on randint's bounds: ``low < high``, both ints in int64, and for an
    integer dtype, ``low`` and ``high - 1`` representable in it."""
    for v in (low, high):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            raise TypeError(f"randint(): bounds must be integers, got {v!r}")
        if not -(2**63) <= v < 2**63:
            raise ValueError(f"Overflow when unpacking long long: randint bound {v} does not fit in int64")
    if not low < high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    if npd.kind in "iub":
        info = np.iinfo(npd) if npd.kind != "b" else np.iinfo(np.uint8)
        hi = 1 if npd.kind == "b" else info.max
        for name, v in (("from", low), ("to - 1", high - 1)):
            if not info.min <= v <= hi:
                raise RuntimeError(f"randint: {name} ({v}) is out of bounds for {npd.name}")
    elif K.is_float(npd):
        digits = K.digits(npd)
        for name, v in (("from", low), ("to - 1", high - 1)):
            if not -(2**digits) <= v <= 2**digits:
                warnings.warn(
                    f"{name} is out of bounds [-(2^{digits}), 2^{digits}]. Due to precision "
                    f"limitations {npd.name} can support discrete uniform distribution only "
                    f"within this range.",
                    UserWarning,
                    stacklevel=3,
                )
    else:
        raise NotImplementedError(f'randint: "random_from_to" is not implemented for {npd.name}')


def randperm(n, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """A random permutation of 0, ..., n - 1 (int64 unless ``dtype`` says otherwise)."""
    if layout is not None or pin_memory:
        _typeinfo.factory_options("randperm", layout, pin_memory, device)
    _c._size((n,))
    npd = np.dtype(np.int64) if dtype is None else _dtype.to_np(dtype)
    if npd.kind != "b" and n > 0 and n - 1 > _largest_exact(npd):
        raise RuntimeError(f"randperm: n ({n}) is too large for result dtype {npd.name}")
    arr = K.randperm(_engine(generator), int(n)).astype(npd)
    return _c._finish(to_device_array(arr, to_device(device)), requires_grad)


def _largest_exact(npd):
    if K.is_float(npd):
        return 2 ** K.digits(npd)
    return int(np.iinfo(npd).max)


def rand_like(
    input,
    *,
    generator=None,
    dtype=None,
    layout=None,
    device=None,
    requires_grad=False,
    pin_memory=False,
    memory_format=None,
):
    """``rand`` with ``input``'s shape (values laid out as PyTorch lays out ``empty_like``)."""
    d, dev = _c._like(input, dtype, device, "rand_like", layout, pin_memory)
    npd = _dtype.to_np(d)
    _float_dtype(npd, "uniform_", complex_ok=True)
    return _like_values(input, dev, requires_grad, npd, _uniform_like, memory_format, "rand_like", generator)


def randn_like(
    input,
    *,
    generator=None,
    dtype=None,
    layout=None,
    device=None,
    requires_grad=False,
    pin_memory=False,
    memory_format=None,
):
    """``randn`` with ``input``'s shape (values laid out as PyTorch lays out ``empty_like``)."""
    d, dev = _c._like(input, dtype, device, "randn_like", layout, pin_memory)
    npd = _dtype.to_np(d)
    _float_dtype(npd, "normal_", complex_ok=True)
    return _like_values(input, dev, requires_grad, npd, _normal_like, memory_format, "randn_like", generator)


def randint_like(
    input,
    low=0,
    high=None,
    *,
    generator=None,
    dtype=None,
    layout=None,
    device=None,
    requires_grad=False,
    pin_memory=False,
    memory_format=None,
):
    """``randint`` with ``input``'s shape (values laid out as PyTorch lays out ``empty_like``)."""
    if high is None:
        low, high = 0, low
    d, dev = _c._like(input, dtype, device, "randint_like", layout, pin_memory)
    npd = _dtype.to_np(d)
    low, high = _int_bound(low), _int_bound(high)
    _check_random_range(low, high, npd)
    return _like_values(
        input, dev, requires_grad, npd, _integers_like, memory_format, "randint_like", generator, low, high
    )


def _uniform_like(eng, n, contiguous, npd):
    return _uniform01(eng, n, npd)


def _normal_like(eng, n, contiguous, npd):
    return _standard_normal(eng, n, npd, contiguous)


def _integers_like(eng, n, contiguous, npd, low, high):
    return random_between(eng, n, npd, low, high)


def _like_values(input, device, requires_grad, npd, draw, memory_format, op, generator, *params):
    """A new tensor laid out as ``empty_like(input, memory_format=...)`` lays it out (by default
    in ``input``'s order of strides when it is dense), its values ``draw(engine, n, contiguous,
    npd, *params)`` drawn from ``generator`` in that memory order, as PyTorch fills it."""
    if generator is not None:
        _engine(generator)
    arr = _drawn(
        _like_array,
        input._data,
        npd,
        to_device(device),
        draw,
        memory_format,
        op,
        *params,
        generator=generator,
        label=op,
    )
    return _c._finish(arr, requires_grad)


def _like_array(src, npd, device, draw, memory_format, op, *params_and_generator):
    *params, generator = params_and_generator
    if device.type == "meta":
        return _c.empty_like(
            Tensor._make(src, None, False), dtype=_dtype.from_np(npd), device=device, memory_format=memory_format
        )._data
    if memory_format is not None and memory_format is not _typeinfo.preserve_format:
        made = Tensor._make(np.empty(src.shape, np.uint8), None, False)
        src = _c._laid_out(Tensor._make(src, None, False), made, memory_format, op)._data
    like, contiguous = _layout(src)
    arr = K.in_order(draw(_engine(generator), src.size, contiguous, npd, *params), like).astype(npd, copy=False)
    if not contiguous:  # the values are C-ordered: copy them into like's layout
        order = sorted(range(like.ndim), key=lambda d: -abs(like.strides[d]))
        out = np.empty([like.shape[d] for d in order], npd).transpose(np.argsort(order))
        out[...] = arr
        arr = out
    return to_device_array(arr, device)


def normal(
    mean=0.0,
    std=1.0,
    size=None,
    *,
    generator=None,
    dtype=None,
    layout=None,
    device=None,
    requires_grad=False,
    pin_memory=False,
):
    """Normal samples with the given mean and std: floats with ``size``, or tensors broadcast
    together (standard normals scaled by ``std`` then shifted by ``mean``, as PyTorch does)."""
    if layout is not None or pin_memory:
        _typeinfo.factory_options("normal", layout, pin_memory, device)
    if generator is not None:
        _engine(generator)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        if size is not None:
            raise TypeError("normal(): size= is only accepted when mean and std are numbers")
        m = mean._data if isinstance(mean, Tensor) else mean
        s = std._data if isinstance(std, Tensor) else std
        ref = mean if isinstance(mean, Tensor) else std
        _float_dtype(ref._data.dtype, "normal")
        out = _drawn(
            _normal_of_tensors,
            m,
            s,
            isinstance(mean, Tensor),
            isinstance(std, Tensor),
            ref._data.dtype,
            ref.device,
            generator=generator,
            label="normal",
        )
        return _c._finish(out, requires_grad)
    if not std >= 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    if size is None:
        raise TypeError("normal(): with a float mean and std, size is required")
    size = (size,) if isinstance(size, int) else tuple(size)

    return _new(size, dtype, device, requires_grad, _normal_values, generator, "normal", float(mean), float(std))


def _normal_values(eng, n, npd, mean, std):
    if npd.kind == "c":
        raise NotImplementedError(
            f"normal: complex dtype {npd.name} is not supported; use randn(..., dtype=...) * std + mean"
        )
    _float_dtype(npd, "normal_")
    return K.normal(eng, n, npd, mean, std, True)


def _normal_of_tensors(m, s, m_is_tensor, s_is_tensor, npd, device, generator):
    """``normal(mean, std)`` with a tensor mean or std (``m``, ``s``: arrays or floats):
    standard normals of the broadcast shape, times ``s`` (or drawn with the float ``s``), plus
    ``m``."""
    if device.type == "meta":  # the broadcast shape only: nothing drawn
        return MetaArray(
            np.broadcast_shapes(np.shape(m) if m_is_tensor else (), np.shape(s) if s_is_tensor else ()), npd
        )
    s_host = np.asarray(s.get() if hasattr(s, "get") else s)
    if not (s_host >= 0).all():
        raise RuntimeError(f"normal expects all elements of std >= 0.0 (std of shape {list(np.shape(s))})")
    shape = np.broadcast_shapes(np.shape(m), np.shape(s))
    n = math.prod(shape)
    m_host = np.asarray(m.get() if hasattr(m, "get") else m)
    eng = _engine(generator)
    if s_is_tensor:
        out = K.normal(eng, n, npd, 0.0, 1.0, True).reshape(shape)
        out *= s_host.astype(npd, copy=False)
    else:
        out = K.normal(eng, n, npd, 0.0, float(s), True).reshape(shape)
    out += m_host.astype(npd, copy=False) if m_is_tensor else m
    return to_device_array(out, device)


def bernoulli(input, p=None, *, generator=None):
    """Samples of 0/1 with probabilities ``input`` (or the scalar ``p``), same dtype as ``input``."""
    if generator is not None:
        _engine(generator)
    if p is not None:
        check_probability("bernoulli", np.asarray(p))
        p = float(p)
    return _c._finish(
        _drawn(_bernoulli_array, input._data, p, input.device, generator=generator, label="bernoulli"), False
    )


def _bernoulli_array(data, p, device, generator):
    if type(data) is MetaArray:  # the input's shape and dtype only (row-major): nothing drawn
        return MetaArray(data.shape, data.dtype)
    eng = _engine(generator)
    if p is None:
        probs = np.asarray(data.get() if hasattr(data, "get") else data)
        check_probability("bernoulli", probs)
        arr = K.bernoulli_tensor(eng, probs.ravel()).reshape(probs.shape).astype(data.dtype)
    else:
        arr = draw_like(data, lambda n, c: K.bernoulli_scalar(eng, n, p)).astype(data.dtype)
    return to_device_array(arr, device)


def check_probability(name, p):
    """Bernoulli probabilities must lie in [0, 1] (NaN does not), as PyTorch checks."""
    ok = (p >= 0) & (p <= 1)
    if not (ok.all() if hasattr(ok, "all") else ok):
        what = f"p={float(p)}" if np.ndim(p) == 0 else f"a tensor of shape {list(np.shape(p))}"
        raise RuntimeError(f"{name} expects p to be in [0, 1], but got {what}")


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Category indices drawn with probabilities proportional to the rows of ``input``.

    Without replacement (or for one sample) PyTorch's exponential race: the largest
    ``p / q`` with ``q ~ Exp(1)`` (one draw per category, in ``input``'s dtype). With
    replacement: per row, one float64 uniform per sample looked up in the normalised running
    sum of the row."""
    shape = input._data.shape
    if len(shape) not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {list(shape)}")
    if not K.is_float(input._data.dtype):
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got {input._data.dtype.name}")
    k = shape[-1]
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples (got {num_samples})")
    if not replacement and num_samples > k:
        raise RuntimeError(
            f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples without "
            f"replacement (n_sample={num_samples}, categories={k})"
        )
    if generator is not None:
        _engine(generator)
    arr = _drawn(
        _multinomial_array,
        input._data,
        num_samples,
        replacement,
        input.device,
        generator=generator,
        label="multinomial",
    )
    return _c._finish(arr, False)


def _multinomial_array(a, num_samples, replacement, device, generator):
    """``multinomial``'s draws from the probability rows ``a`` (their values checked here)."""
    if type(a) is MetaArray:  # the result's shape only: nothing drawn
        return MetaArray((*a.shape[:-1], num_samples), np.int64)
    data = np.asarray(a.get() if hasattr(a, "get") else a)
    rows = np.ascontiguousarray(data.reshape(-1, data.shape[-1]))
    if not (np.isfinite(rows).all() and (rows >= 0).all()):
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    if (rows.sum(axis=1) <= 0).any():
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
    eng = _engine(generator)
    if not replacement or num_samples == 1:
        q = K.exponential(eng, rows.size, rows.dtype, 1.0).reshape(rows.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = rows / q
        out = np.argsort(-ratio, axis=1, kind="stable")[:, :num_samples]
    else:
        out = np.empty((len(rows), num_samples), np.int64)
        for i, row in enumerate(rows):
            cum = np.cumsum(row)
            cum /= cum[-1]
            cum[-1] = 1
            out[i] = np.searchsorted(cum, K.unit(eng, num_samples, np.float64), side="left")
    arr = out.reshape(data.shape[:-1] + (num_samples,)).astype(np.int64)
    return to_device_array(arr, device)


# --------------------------------------------------------------------------- in-place fills
# The values ``Tensor.uniform_`` & co. write: drawn in the order PyTorch walks the tensor's
# memory, returned as a C-ordered array of its shape and dtype.
def _float_target(arr, op):
    """Refuse a fill that only floating tensors take (float16/32/64 and bfloat16)."""
    _no_float8(arr, op)
    if not K.is_float(arr.dtype):
        raise RuntimeError(f'{op}: "{op}" is only implemented for floating-point tensors, not {arr.dtype.name}')


def _no_float8(arr, op):
    """PyTorch has no random kernels for the float8 types: refuse them as it does."""
    if arr.dtype.char in "45":
        raise NotImplementedError(
            f'{op}: "{op}" is not implemented for {arr.dtype.name} tensors; draw in float32 and convert'
        )


def _fill(arr, sampler, generator, label, *params):
    """The values an in-place random op writes into ``arr``: ``sampler(engine, n, dtype,
    contiguous, *params)`` drawn from ``generator`` in ``arr``'s memory order (``draw_into``),
    cast to ``arr``'s dtype."""
    if generator is not None:
        _engine(generator)
    if type(arr) is MetaArray:  # nothing to fill, and no draw: the generator does not advance
        return arr
    return _drawn(_fill_array, arr, sampler, *params, generator=generator, label=label)


def _fill_array(arr, sampler, *params_and_generator):
    *params, generator = params_and_generator
    eng = _engine(generator)
    return draw_into(arr, lambda n, c: sampler(eng, n, arr.dtype, c, *params)).astype(arr.dtype, copy=False)


def _uniform_sampler(eng, n, npd, contiguous, a, b):
    return K.uniform(eng, n, npd, a, b)


def _normal_sampler(eng, n, npd, contiguous, mean, std):
    return K.normal(eng, n, npd, mean, std, contiguous)


def _bernoulli_sampler(eng, n, npd, contiguous, p):
    return K.bernoulli_scalar(eng, n, p)


def _default_range_sampler(eng, n, npd, contiguous):
    return K.random_default(eng, n, npd)


def _range_sampler(eng, n, npd, contiguous, low, high):
    return random_between(eng, n, npd, low, high)


def _exponential_sampler(eng, n, npd, contiguous, lambd):
    return K.exponential(eng, n, npd, lambd)


def _log_normal_sampler(eng, n, npd, contiguous, mean, std):
    return K.log_normal(eng, n, npd, mean, std)


def _cauchy_sampler(eng, n, npd, contiguous, median, sigma):
    return K.cauchy(eng, n, npd, median, sigma)


def _geometric_sampler(eng, n, npd, contiguous, p):
    return K.geometric(eng, n, npd, p)


def uniform_values(arr, a, b, generator):
    _float_target(arr, "uniform_")
    a, b = float(a), float(b)
    if not a <= b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}")
    if b - a > float(np.finfo(arr.dtype).max):
        raise RuntimeError(
            f"uniform_ expects to-from <= std::numeric_limits<{arr.dtype.name}>::max(), "
            f"but found to={b} and from={a} which result in to-from to exceed the limit"
        )
    return _fill(arr, _uniform_sampler, generator, "uniform_", a, b)


def normal_values(arr, mean, std, generator):
    _float_target(arr, "normal_")
    if not std >= 0:
        raise RuntimeError(f"normal_ expects std >= 0.0, but found std {std}")
    return _fill(arr, _normal_sampler, generator, "normal_", float(mean), float(std))


def bernoulli_values(arr, p, generator):
    _no_float8(arr, "bernoulli_")
    if isinstance(p, Tensor):
        if generator is not None:
            _engine(generator)
        return _drawn(_bernoulli_fill_array, arr, p._data, generator=generator, label="bernoulli_")
    check_probability("bernoulli_", np.asarray(p))
    return _fill(arr, _bernoulli_sampler, generator, "bernoulli_", float(p))


def _bernoulli_fill_array(arr, p, generator):
    eng = _engine(generator)
    probs = np.asarray(p.get() if hasattr(p, "get") else p)
    check_probability("bernoulli_", probs)
    try:
        probs = np.broadcast_to(probs, arr.shape)
    except ValueError:
        raise RuntimeError(
            f"bernoulli_: the probabilities of shape {list(probs.shape)} can't be "
            f"broadcast to the tensor's shape {list(arr.shape)}"
        ) from None
    return K.in_order(K.bernoulli_tensor(eng, K.walk(probs, arr)), arr).astype(arr.dtype)


def random_values(arr, low, high, generator):
    """``random_(low, high)``; ``low=0, high=None`` is ``random_()`` (the dtype's default range)."""
    if generator is not None:
        _engine(generator)
    npd = arr.dtype
    _no_float8(arr, "random_")
    if npd.kind not in "iub" and not K.is_float(npd):
        raise RuntimeError(f"random_: not implemented for {npd.name}")
    if low == 0 and high is None:
        return _fill(arr, _default_range_sampler, generator, "random_")
    if high is not None:
        _check_random_range(low, high, npd)
    return _fill(arr, _range_sampler, generator, "random_", low, high)


def exponential_values(arr, lambd, generator):
    _float_target(arr, "exponential_")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    return _fill(arr, _exponential_sampler, generator, "exponential_", float(lambd))


def log_normal_values(arr, mean, std, generator):
    _float_target(arr, "log_normal_")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    return _fill(arr, _log_normal_sampler, generator, "log_normal_", float(mean), float(std))


def cauchy_values(arr, median, sigma, generator):
    _float_target(arr, "cauchy_")
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    return _fill(arr, _cauchy_sampler, generator, "cauchy_", float(median), float(sigma))


def geometric_values(arr, p, generator):
    _no_float8(arr, "geometric_")
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    return _fill(arr, _geometric_sampler, generator, "geometric_", float(p))

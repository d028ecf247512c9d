"""PyTorch's CPU sampling algorithms over an mt19937 stream, vectorised with NumPy.

Each function consumes the stream exactly as PyTorch's CPU kernel does for the same call and
returns the same values bit for bit (float32 and float64, and float16 and bfloat16, whose samples
PyTorch computes in float32 from 24-bit uniforms and rounds):

* uniform on [a, b): ``(bits & (2**d - 1)) * 2**-d * (b - a) + a`` with one rounding, where
  ``d`` is 24 (float32, float16, bfloat16: one 32-bit output) or 53 (float64, one 64-bit value);
  a value that rounds to ``b`` (in the result's dtype) is replaced by ``a``;
* normal, contiguous with 16 or more elements: all uniforms first, then Box-Muller on blocks
  of 16 (the last, partial block redrawn as 16 fresh uniforms); float32 uses PyTorch's AVX2
  polynomial log/sincos (``_fma``), float64 the C library's log/cos/sin;
* normal otherwise (fewer than 16 elements, or not contiguous): scalar Box-Muller from two
  float64 uniforms per pair, the sine half cached in the generator for the next draw;
* integers on [from, to): ``value % (to - from) + from`` from a 32-bit output (a 64-bit value
  for ranges of 2**32 or more on int64/float/double); ``random_()`` without bounds takes
  ``value % (max + 1)``;
* bernoulli(p): ``uniform < p`` (float64 uniform for a scalar or float64 ``p``, else float32);
* randperm(n): Fisher-Yates swaps with ``random() % (n - i)`` (inside-out with 64-bit values
  from n >= 2**32 / 20).
"""

import math

import numpy as np

from ._fma import box_muller16_f32, fma32, fma64

_F32, _F64 = np.float32, np.float64
_DIGITS = {np.dtype(np.float16): 11, np.dtype(np.float32): 24, np.dtype(np.float64): 53}


def is_float(npd):
    """Whether the random kernels draw into ``npd`` as a floating type: float16/32/64 and
    bfloat16 (an ml_dtypes type, NumPy kind "V", char "E"); not the float8 types (chars "4" and
    "5"), which PyTorch's random kernels refuse."""
    npd = np.dtype(npd)
    return npd.char == "E" or (npd.kind == "f" and npd.char not in "45")


def digits(npd):
    """The significand bits (PyTorch's ``numeric_limits<T>::digits``) of float dtype ``npd``:
    11, 24 and 53 for float16/32/64, 8 for bfloat16."""
    npd = np.dtype(npd)
    return 8 if npd.name == "bfloat16" else _DIGITS[npd]


def torch_order(shape, strides):
    """The axes permutation in which PyTorch's TensorIterator walks a tensor: by decreasing
    stride (memory order), ties keeping their order; C order for a contiguous tensor."""
    axes = [i for i in range(len(shape)) if shape[i] != 1]
    axes.sort(key=lambda i: -abs(strides[i]))
    return [i for i in range(len(shape)) if shape[i] == 1] + axes


def in_order(flat, like):
    """Lay out ``flat`` (values in PyTorch's iteration order over array ``like``) as an array of
    ``like``'s shape."""
    if like.flags.c_contiguous or like.ndim < 2:
        return flat.reshape(like.shape)
    perm = torch_order(like.shape, like.strides)
    out = np.empty(like.shape, flat.dtype)
    out.transpose(perm)[...] = flat.reshape([like.shape[i] for i in perm])
    return out


def walk(values, like):
    """The elements of ``values`` (an array of ``like``'s shape) in the order PyTorch walks
    ``like``, flattened: the inverse of ``in_order``."""
    if like.flags.c_contiguous or like.ndim < 2:
        return np.ascontiguousarray(values).ravel()
    return np.ascontiguousarray(values.transpose(torch_order(like.shape, like.strides))).ravel()


def unit(eng, n, npd):
    """``n`` uniforms on [0, 1) of float dtype ``npd`` (float16 as float32 values on 2**-11)."""
    d = _DIGITS[np.dtype(npd)]
    if d == 53:  # the low 53 bits of (first << 32 | second), assembled exactly in float64
        w = eng.random(2 * n)
        out = (w[0::2] & np.uint32((1 << 21) - 1)).astype(_F64)
        out *= 2.0**-21
        low = w[1::2].astype(_F64)
        low *= 2.0**-53
        out += low
        return out
    bits = eng.random(n)
    bits &= np.uint32((1 << d) - 1)
    out = bits.astype(_F32)
    out *= _F32(2.0**-d)
    return out


def _low_precision(npd):
    """float16 and bfloat16 (an ml_dtypes type, NumPy kind "V"): PyTorch computes their samples
    in float32 from float32 uniforms (24 bits) and rounds each to the dtype."""
    npd = np.dtype(npd)
    return npd.kind == "V" or npd == np.float16


def uniform(eng, n, npd, a, b):
    """``n`` samples of U[a, b) in float dtype ``npd``: a value that rounds to ``b`` (in ``npd``)
    becomes ``a``, as in PyTorch, so the range stays half-open. float16 and bfloat16 compute
    ``x * (b - a) + a`` in float32 with one rounding (a fused multiply-add) and round that."""
    npd = np.dtype(npd)
    if _low_precision(npd):
        out = fma32(unit(eng, n, _F32), _F32(b) - _F32(a), _F32(a)).astype(npd)
    else:
        out = _uniform(eng, n, npd, a, b)
    if a != b:
        out[out == npd.type(b)] = npd.type(a)
    return out


def _uniform(eng, n, npd, a, b):
    x = unit(eng, n, npd)
    lo, hi = npd.type(a), npd.type(b)
    if lo == -hi != 0:  # x * 2b - b rounds once either way: (2x - 1) * b is exact up to the product
        x *= 2
        x -= 1
        x *= x.dtype.type(hi)
        return x.astype(npd, copy=False)
    if npd == _F64:
        return fma64(x, b - a, a)
    span = _F32(hi - lo)
    out = x * span if lo == 0 else fma32(x, span, _F32(lo))
    return out.astype(npd, copy=False)


def normal(eng, n, npd, mean, std, contiguous):
    """``n`` samples of N(mean, std**2) in float dtype ``npd``, as ``normal_`` draws them into a
    tensor of ``n`` elements (``contiguous`` picks PyTorch's block path when n >= 16)."""
    low = _low_precision(npd)
    if n < 16 or not contiguous:
        return _rounded(normal_scalar(eng, n, mean, std), npd)
    npd = np.dtype(npd)
    block = _block_f64 if npd == _F64 else _block_f32
    full = n // 16 * 16
    out = np.empty(n, _F64 if npd == _F64 else _F32)
    # the uniforms are drawn in order, a chunk at a time (the same stream as drawing them all at
    # once), so the temporaries are a chunk's, not n's: n of them, of which the last n - full
    # go unused; float16 and bfloat16 (in float32) draw only the full blocks' before the tail's
    for start in range(0, full if low else n, _CHUNK):
        u = unit(eng, min(_CHUNK, (full if low else n) - start), _F32 if low else npd)
        rows = (min(start + _CHUNK, full) - start) // 16
        if rows > 0:
            out[start : start + 16 * rows] = block(u[: 16 * rows].reshape(rows, 16), mean, std).ravel()
    if full != n:
        out[n - 16 :] = block(unit(eng, 16, _F32 if low else npd).reshape(1, 16), mean, std).ravel()
    return out.astype(npd, copy=False)


_ROWS = 4096  # blocks of 16 per pass, so the float32 kernel's temporaries stay in cache
_CHUNK = 16 * 16 * _ROWS  # uniforms drawn at a time by normal (a multiple of 16)


def _block_f32(u, mean, std):
    if len(u) <= _ROWS:
        return box_muller16_f32(u, mean, std)
    return np.concatenate([box_muller16_f32(u[i : i + _ROWS], mean, std) for i in range(0, len(u), _ROWS)])


def _block_f64(u, mean, std):
    r = np.sqrt(-2.0 * np.log(1.0 - u[:, :8]))
    theta = (2.0 * math.pi) * u[:, 8:]
    out = np.empty_like(u)
    out[:, :8] = fma64(r * np.cos(theta), std, mean)
    out[:, 8:] = fma64(r * np.sin(theta), std, mean)
    return out


def normal_scalar(eng, n, mean, std):
    """PyTorch's one-at-a-time Box-Muller sampler (float64 values), with the generator's cache:
    each pair of uniforms gives r cos (returned) and r sin (kept for the next draw)."""
    vals = np.empty(n, _F64)
    start = 0
    if n and eng.normal_double is not None:
        vals[0] = eng.normal_double
        eng.normal_double = None
        start = 1
    m = n - start
    if m > 0:
        pairs = (m + 1) // 2
        u = unit(eng, 2 * pairs, _F64).reshape(pairs, 2)
        r = np.sqrt(-2.0 * np.log1p(-u[:, 1]))
        theta = (2.0 * math.pi) * u[:, 0]
        both = np.empty((pairs, 2))
        both[:, 0] = r * np.cos(theta)
        both[:, 1] = r * np.sin(theta)
        flat = both.ravel()
        vals[start:] = flat[:m]
        if m % 2:
            eng.normal_double = float(flat[-1])
    return fma64(vals, std, mean)


# --------------------------------------------------------------------------- integers
def int_range(npd):
    """PyTorch's inclusive upper bound for ``random_(from)`` on dtype ``npd``."""
    if npd.kind == "b":
        return 1
    if is_float(npd):
        return min(1 << digits(npd), 2**63 - 1)
    return int(np.iinfo(npd).max)


def random_from_to(eng, n, npd, low, span):
    """``n`` integers ``value % span + low`` (``span`` = to - from, up to 2**64), cast to ``npd``
    as PyTorch's static_cast does (wrapping for integer dtypes)."""
    npd = np.dtype(npd)
    wide = span >= 1 << 32 and npd in (np.dtype(np.int64), np.dtype(_F64), np.dtype(_F32))
    if span == 1 << 64:  # the whole int64 range: the 64 bits as they come
        return _cast_int64(eng.random64(n).view(np.int64), npd)
    if wide:
        v = _mod(eng.random64(n), np.uint64(span))
    elif span == 1 << 32:
        v = eng.random(n).astype(np.uint64)
    else:
        v = _mod(eng.random(n), np.uint32(span)).astype(np.uint64)
    if low:
        v += np.uint64(low % (1 << 64))
    return _cast_int64(v.view(np.int64), npd)


def random_default(eng, n, npd):
    """``random_()`` without bounds: [0, max] for integer dtypes, [0, 2**digits] for floats."""
    npd = np.dtype(npd)
    if npd.kind == "b":
        return (eng.random(n) & np.uint32(1)).astype(bool)
    wide = npd in (np.dtype(np.int64), np.dtype(_F64))
    mod = (1 << digits(npd)) + 1 if is_float(npd) else int(np.iinfo(npd).max) + 1
    v = _mod(eng.random64(n), np.uint64(mod)) if wide else _mod(eng.random(n), np.uint32(mod))
    return v.astype(npd)


def _mod(v, d):
    """``v % d`` for a scalar ``d``: NumPy divides by a scalar quickly but takes remainders
    slowly, so this goes through the quotient."""
    q = v // d
    q *= d
    return v - q


def _cast_int64(v, npd):
    if npd.kind == "b":
        return v != 0
    return v.astype(npd)


def update_bounds(low, high, npd):
    """PyTorch's adjustment of integer bounds for a float dtype: ``from`` moves up and ``to``
    down to values the dtype can hold exactly near them."""
    d = digits(npd)
    t = np.dtype(npd).type
    if int(t(low + 1)) < low:
        n = abs(low + 1).bit_length() - 1
        low = int(t(low + 1)) + (1 << (n - d + 1))
    if high is not None and int(t(high - 1)) >= high:
        n = abs(high - 1).bit_length() - 1
        high = int(t(high - 1)) - (1 << (n - d + 1))
    return low, high


# --------------------------------------------------------------------------- bernoulli, exponential
def bernoulli_scalar(eng, n, p):
    """``n`` Bernoulli(p) draws as bools (one float64 uniform each)."""
    return unit(eng, n, _F64) < p


def bernoulli_tensor(eng, probs):
    """Bernoulli draws for a flat array of probabilities (float64 uniforms for float64
    probabilities, float32 uniforms otherwise)."""
    if probs.dtype == _F64:
        return unit(eng, probs.size, _F64) < probs
    return unit(eng, probs.size, _F32) < probs.astype(_F32, copy=False)


def _rounded(vals, npd):
    """Float64 samples as dtype ``npd``; float16 and bfloat16 through float32, as PyTorch rounds
    them (directly, one value in about 10,000 would round the other way)."""
    return (vals.astype(_F32) if _low_precision(npd) else vals).astype(npd)


def exponential(eng, n, npd, lambd):
    """``n`` samples of Exp(lambd): ``-1 / lambd * log1p(-u)`` with float64 uniforms."""
    u = unit(eng, n, _F64)
    return _rounded((-1.0 / lambd) * np.log1p(-u), npd)


def geometric(eng, n, npd, p):
    """``n`` samples of Geometric(p) on 1, 2, ...: ``ceil(log(u) / log1p(-p))``."""
    u = unit(eng, n, _F64)
    with np.errstate(divide="ignore"):
        return np.ceil(np.log(u) / math.log1p(-p)).astype(npd)


def cauchy(eng, n, npd, median, sigma):
    """``n`` Cauchy samples: ``median + sigma * tan(pi * (u - 0.5))``."""
    u = unit(eng, n, _F64)
    return _rounded(fma64(np.tan(math.pi * (u - 0.5)), sigma, median), npd)


def log_normal(eng, n, npd, mean, std):
    """``n`` samples of exp(N(mean, std**2)), from the one-at-a-time normal sampler."""
    return _rounded(np.exp(normal_scalar(eng, n, mean, std)), npd)


# --------------------------------------------------------------------------- permutations
_SMALL_PERM = (2**32 - 1) // 20


def forward_swaps(targets):
    """The result of ``for i: swap(a[i], a[targets[i]])`` on ``a = range(len(targets) + 1)``,
    where ``targets[i] >= i``, without a Python loop.

    Step i never touches positions below i, so ``a[i]`` ends as the value at ``targets[i]`` when
    step i runs. That is ``targets[i]`` itself if no earlier step swapped into that position,
    else what position k (the last earlier step aiming there) held when step k ran. What position
    k held then is, the same way, its own index or what the last step aiming at k found: a chain
    of earlier steps, followed to its start by pointer doubling."""
    m = len(targets)
    n = m + 1
    bits = max(m.bit_length(), 1)
    keys = np.sort((targets << bits) | np.arange(m))  # steps grouped by target, in step order
    order = keys & ((1 << bits) - 1)
    st = keys >> bits
    same = st[1:] == st[:-1]
    prev = np.full(m, -1, np.int64)  # the last earlier step with the same target
    prev[order[1:][same]] = order[:-1][same]
    last = np.ones(m, bool)
    last[:-1] = ~same
    last_step, last_target = order[last], st[last]
    # the last step before position p's own step that aimed at p (a step aiming at itself is not)
    writer = np.where(last_step == last_target, prev[last_step], last_step)
    root = np.arange(n)
    has = writer >= 0
    root[last_target[has]] = writer[has]
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    out = np.empty(n, np.int64)
    out[:m] = np.where(prev >= 0, root[prev], targets)
    out[m] = root[m]
    return out


def randperm(eng, n):
    """A random permutation of range(n) as an int64 array."""
    if n < _SMALL_PERM:
        if n < 2:
            return np.arange(n, dtype=np.int64)
        picks = (eng.random(n - 1) % np.arange(n, 1, -1, dtype=np.uint32)).astype(np.int64)
        picks += np.arange(n - 1)
        return forward_swaps(picks)
    picks = (eng.random64(n) % np.arange(1, n + 1, dtype=np.uint64)).tolist()
    perm = [0] * n
    for i, z in enumerate(picks):
        perm[i] = perm[z]
        perm[z] = i
    return np.array(perm, dtype=np.int64)

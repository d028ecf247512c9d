"""``retrograd.testing``: ``assert_close``, with PyTorch's default tolerances and messages,
``make_tensor``, PyTorch's random test tensors (the same draws from the same seed), and the
deprecated ``assert_allclose`` (PyTorch's looser tolerances, NaNs equal, no dtype check).

Inputs may be tensors, NumPy arrays, Python numbers, or sequences and mappings of them
(compared item by item). Two values are close when ``|actual - expected| <= atol + rtol *
|expected|`` elementwise; NaNs match only with ``equal_nan=True``, infinities only the same
infinity. Integer and bool values must be equal.
"""

import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from . import _dtype
from ._tensor import Tensor
from .backend import to_numpy

__all__ = ["assert_close", "assert_allclose", "make_tensor"]

# PyTorch's default (rtol, atol) per dtype; integer and bool dtypes compare exactly.
_DEFAULT_TOLERANCES = {
    "float16": (1e-3, 1e-5),
    "bfloat16": (1.6e-2, 1e-5),
    "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7),
}


def _default_tolerances(*dtypes):
    """The loosest default tolerances of ``dtypes`` (both are used when dtypes may differ)."""
    pairs = [_DEFAULT_TOLERANCES.get(d.name, (0.0, 0.0)) for d in dtypes]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


# The tolerances of the deprecated ``assert_allclose`` when none are given (looser than
# ``assert_close``'s); other dtypes compare exactly.
_ALLCLOSE_TOLERANCES = {"float16": (1e-3, 1e-3), "float32": (1e-4, 1e-5), "float64": (1e-5, 1e-8)}


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """Deprecated since PyTorch 1.12 (a FutureWarning; use ``assert_close``): ``assert_close``
    with NaNs equal by default, no dtype check, ``expected`` made a tensor of ``actual``'s dtype
    when it is not one, and looser default tolerances: float16 (1e-3, 1e-3), float32 (1e-4,
    1e-5), float64 (1e-5, 1e-8)."""
    warnings.warn(
        "`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a future "
        "release. Please use `torch.testing.assert_close()` instead.",
        FutureWarning,
        stacklevel=2,
    )
    from ._creation import tensor

    if not isinstance(actual, Tensor):
        actual = tensor(actual)
    if not isinstance(expected, Tensor):
        expected = tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        pairs = [_ALLCLOSE_TOLERANCES.get(t.dtype.name, (0.0, 0.0)) for t in (actual, expected)]
        rtol, atol = max(p[0] for p in pairs), max(p[1] for p in pairs)
    assert_close(
        actual,
        expected,
        rtol=rtol,
        atol=atol,
        equal_nan=equal_nan,
        check_device=True,
        check_dtype=False,
        check_stride=False,
        msg=msg or None,
    )


def assert_close(
    actual,
    expected,
    *,
    allow_subclasses=True,
    rtol=None,
    atol=None,
    equal_nan=False,
    check_device=True,
    check_dtype=True,
    check_layout=True,
    check_stride=False,
    msg=None,
):
    """Raise ``AssertionError`` unless ``actual`` and ``expected`` are close (see the module doc).

    ``rtol`` and ``atol`` must be given together; when omitted they are PyTorch's defaults for
    the dtype: float16 (1e-3, 1e-5), float32 (1.3e-6, 1e-5), float64 (1e-7, 1e-7), else exact.
    ``check_dtype``/``check_device``/``check_stride`` also compare those attributes of tensors
    (layouts are always strided here). ``msg`` replaces the message: a string, or a callable
    that receives the generated message and returns one.
    """
    if (rtol is None) != (atol is None):
        raise ValueError(
            f"Both 'rtol' and 'atol' must be either specified or omitted, but got no "
            f"{'rtol' if rtol is None else 'atol'}."
        )
    options = dict(
        allow_subclasses=allow_subclasses,
        rtol=rtol,
        atol=atol,
        equal_nan=equal_nan,
        check_device=check_device,
        check_dtype=check_dtype,
        check_stride=check_stride,
    )
    failure = _compare(actual, expected, (), options)
    if failure is not None:
        text, path = failure
        if path:
            text += f"\n\nThe failure occurred for item {''.join(f'[{p!r}]' for p in path)}"
        if callable(msg):
            text = msg(text)
        elif msg is not None:
            text = msg
        raise AssertionError(text)


def _is_tensor_like(x):
    return isinstance(x, (Tensor, np.ndarray))


def _is_number(x):
    return isinstance(x, (bool, int, float, np.number, np.bool_))


def _compare(actual, expected, path, options):
    """None when close, else (message, path to the failing item)."""
    if _is_tensor_like(actual) or _is_tensor_like(expected):
        if not (_is_tensor_like(actual) and _is_tensor_like(expected)):
            raise TypeError(
                f"assert_close(): cannot compare {type(actual).__name__} with "
                f"{type(expected).__name__}: both must be tensors (or arrays), numbers, "
                f"sequences or mappings"
            )
        if not options["allow_subclasses"] and type(actual) is not type(expected):
            return (
                f"Except for Python scalars, type equality is required if allow_subclasses=False, "
                f"but got {type(actual).__name__} and {type(expected).__name__} instead."
            ), path
        text = _compare_tensors(actual, expected, options)
        return None if text is None else (text, path)
    if _is_number(actual) and _is_number(expected):
        text = _compare_scalars(actual, expected, options)
        return None if text is None else (text, path)
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        if set(actual) != set(expected):
            return (
                f"The keys of the mappings do not match:\nMissing keys in the actual mapping: "
                f"{sorted(map(repr, set(expected) - set(actual)))}\nExtra keys in the actual "
                f"mapping: {sorted(map(repr, set(actual) - set(expected)))}"
            ), path
        for key in expected:
            failure = _compare(actual[key], expected[key], path + (key,), options)
            if failure is not None:
                return failure
        return None
    if (
        isinstance(actual, Sequence)
        and isinstance(expected, Sequence)
        and not isinstance(actual, str)
        and not isinstance(expected, str)
    ):
        if len(actual) != len(expected):
            return (f"The length of the sequences mismatch: {len(actual)} != {len(expected)}"), path
        for i, (a, e) in enumerate(zip(actual, expected)):
            failure = _compare(a, e, path + (i,), options)
            if failure is not None:
                return failure
        return None
    if actual is None and expected is None:
        return None
    raise TypeError(
        f"assert_close(): no way to compare inputs of type {type(actual).__name__} and "
        f"{type(expected).__name__} (tensors, arrays, numbers, sequences and mappings are "
        f"supported)"
    )


def _meta(t):
    """(dtype, device, shape, strides in elements, host array) of a tensor or NumPy array (no
    array for a meta tensor, which has no values)."""
    if isinstance(t, Tensor):
        return t.dtype, str(t.device), tuple(t.shape), t.stride(), None if t.is_meta else to_numpy(t._data)
    a = np.asarray(t)
    strides = tuple(s // a.itemsize for s in a.strides) if a.itemsize else ()
    return _dtype.from_np(a.dtype), "cpu", a.shape, strides, a


def _compare_tensors(actual, expected, options):
    a_dtype, a_dev, a_shape, a_stride, a = _meta(actual)
    e_dtype, e_dev, e_shape, e_stride, e = _meta(expected)
    if a_shape != e_shape:
        return f"The values for attribute 'shape' do not match: {list(a_shape)} != {list(e_shape)}."
    if options["check_device"] and a_dev != e_dev:
        return f"The values for attribute 'device' do not match: {a_dev} != {e_dev}."
    if options["check_dtype"] and a_dtype != e_dtype:
        return f"The values for attribute 'dtype' do not match: {a_dtype} != {e_dtype}."
    if options["check_stride"] and a_stride != e_stride:
        return f"The values for attribute 'stride()' do not match: {a_stride} != {e_stride}."
    if a is None or e is None:  # a meta tensor: its attributes are all there is to compare
        return None
    rtol, atol = options["rtol"], options["atol"]
    if rtol is None:
        rtol, atol = _default_tolerances(a_dtype, e_dtype)
    exact = a_dtype.name not in _DEFAULT_TOLERANCES and e_dtype.name not in _DEFAULT_TOLERANCES
    ok = _close(a, e, rtol, atol, options["equal_nan"])
    if ok.all():
        return None
    return _mismatch_message(a, e, ok, rtol, atol, exact)


def _close(a, e, rtol, atol, equal_nan):
    a = a.astype(np.float64) if a.dtype.kind in "biuV" else a
    e = e.astype(np.float64) if e.dtype.kind in "biuV" else e
    with np.errstate(invalid="ignore", over="ignore"):
        ok = a == e  # equal values, infinities of the same sign included
        finite = np.isfinite(a) & np.isfinite(e)
        ok |= finite & (np.abs(a - e) <= atol + rtol * np.abs(e))
        if equal_nan:
            ok |= np.isnan(a) & np.isnan(e)
    return ok


def _mismatch_message(a, e, ok, rtol, atol, exact):
    total = ok.size
    bad = total - int(ok.sum())
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        abs_diff = np.abs(a64 - e64)
        rel_diff = abs_diff / np.abs(e64)
    abs_diff = np.where(ok, 0.0, abs_diff)
    rel_diff = np.where(ok, 0.0, rel_diff)
    lines = [
        f"Tensor-likes are not {'equal' if exact else 'close'}!",
        "",
        f"Mismatched elements: {bad} / {total} ({bad / total:.1%})",
    ]
    for what, diff, tol in (("absolute", abs_diff, atol), ("relative", rel_diff, rtol)):
        flat = np.nan_to_num(diff, nan=np.inf).ravel()
        i = int(np.argmax(flat))
        where = tuple(int(k) for k in np.unravel_index(i, diff.shape)) if diff.ndim else ()
        value = diff.ravel()[i] if diff.size else 0.0
        value = int(value) if exact and what == "absolute" and math.isfinite(value) else value
        line = f"Greatest {what} difference: {value} at index {where}"
        lines.append(line if exact else f"{line} (up to {tol} allowed)")
    return "\n".join(lines)


def _compare_scalars(actual, expected, options):
    rtol, atol = options["rtol"], options["atol"]
    a_kind, e_kind = _scalar_dtype(actual), _scalar_dtype(expected)
    if options["check_dtype"] and a_kind != e_kind:
        return f"The values for attribute 'dtype' do not match: {a_kind} != {e_kind}."
    floats = "float64" in (a_kind, e_kind)
    if rtol is None:
        rtol, atol = (1e-7, 1e-7) if floats else (0.0, 0.0)
    a, e = float(actual), float(expected)
    ok = _close(np.array(a), np.array(e), rtol, atol, options["equal_nan"])
    if ok:
        return None
    diff = abs(a - e)
    rel = diff / abs(e) if e != 0 else math.inf
    if not floats:
        return f"Scalars are not equal!\n\nExpected {expected} but got {actual}.\nAbsolute difference: {diff:g}"
    return (
        f"Scalars are not close!\n\nExpected {expected} but got {actual}.\n"
        f"Absolute difference: {diff} (up to {atol} allowed)\n"
        f"Relative difference: {rel} (up to {rtol} allowed)"
    )


def _scalar_dtype(x):
    """The dtype PyTorch gives a Python or NumPy scalar: bool, int64 or float64."""
    if isinstance(x, (bool, np.bool_)):
        return "bool"
    return "int64" if isinstance(x, (int, np.integer)) else "float64"


# --------------------------------------------------------------------------- make_tensor
def _bounds(low, high, lowest, highest, default_low, default_high, dtype, integral):
    """``[low, high)`` with the defaults filled in, checked and clamped to what ``dtype`` holds
    (``[lowest, highest)``); integer bounds are rounded up, as PyTorch's make_tensor does."""
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low == high and not integral:
        import warnings

        warnings.warn(
            "Passing `low==high` to `torch.testing.make_tensor` for floating or complex types is "
            "deprecated since 2.1 and will be removed in 2.3. Use `torch.full(...)` instead.",
            FutureWarning,
            stacklevel=3,
        )
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest or low >= highest:
        raise ValueError(
            f"The value interval specified by `low` and `high` is [{low}, {high}), but {dtype} only "
            f"supports [{lowest}, {highest})"
        )
    low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)
    return (math.ceil(low), math.ceil(high)) if integral else (low, high)


def make_tensor(
    *shape,
    dtype,
    device,
    low=None,
    high=None,
    requires_grad=False,
    noncontiguous=False,
    exclude_zero=False,
    memory_format=None,
):
    """A tensor of ``shape`` filled with random values in ``[low, high)``, as PyTorch's
    ``torch.testing.make_tensor`` draws them (so a seed gives PyTorch's values): integers by
    ``randint`` (default [-9, 10), bool [0, 2)), floats by ``uniform_`` (default [-9, 9); complex:
    the real and imaginary parts each). ``noncontiguous`` draws twice as many values along the
    last dim and returns every other one from the second; ``exclude_zero`` replaces zeros by 1 (integers) or the
    smallest normal number; ``requires_grad`` applies to floating and complex dtypes."""
    from ._creation import empty
    from ._random import randint
    from ._typeinfo import finfo, iinfo
    from .ops.complex import view_as_real

    if len(shape) == 1 and isinstance(shape[0], Sequence):
        shape = tuple(shape[0])
    dt = _dtype.to_dtype(dtype)
    if noncontiguous and memory_format is not None:
        raise ValueError(
            f"The parameters `noncontiguous` and `memory_format` are mutually exclusive, but got "
            f"noncontiguous={noncontiguous} and memory_format={memory_format}"
        )
    if requires_grad and not (dt.is_floating_point or dt.is_complex):
        raise ValueError(f"`requires_grad=True` is not supported for boolean and integral dtypes, but got dtype={dt}")
    noncontiguous = noncontiguous and math.prod(shape) > 1
    if noncontiguous:  # drawn twice as long in the last dim, then every other value from the second
        shape = (*shape[:-1], 2 * shape[-1])
    if dt == _dtype.bool:
        low, high = _bounds(low, high, 0, 2, 0, 2, dt, True)
        result = randint(low, high, shape, device=device, dtype=dt)
    elif not (dt.is_floating_point or dt.is_complex):
        info = iinfo(dt)
        top = info.max + (1 if dt != _dtype.int64 else 0)
        low, high = _bounds(low, high, info.min, top, -9, 10, dt, True)
        result = randint(low, high, shape, device=device, dtype=dt)
    else:
        info = finfo(dt)
        low, high = _bounds(low, high, info.min, info.max, -9, 9, dt, False)
        result = empty(shape, device=device, dtype=dt)
        target = view_as_real(result) if dt.is_complex else result
        if high - low >= info.max:  # uniform_ needs high - low to be finite: draw at half scale
            target.uniform_(low / 2, high / 2).mul_(2)
        else:
            target.uniform_(low, high)
    if noncontiguous:
        result = result[..., 1::2]
    elif memory_format is not None:
        result = result.clone(memory_format=memory_format)
    if exclude_zero:
        result[result == 0] = 1 if not (dt.is_floating_point or dt.is_complex) else finfo(dt).tiny
    if dt.is_floating_point or dt.is_complex:
        result.requires_grad_(requires_grad)
    return result

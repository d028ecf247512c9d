"""``retrograd.testing``: ``assert_close``, with PyTorch's default tolerances and messages.

Inputs may be tensors, NumPy arrays, Python numbers, or sequences and mappings of them
(compared item by item). Two values are close when ``|actual - expected| <= atol + rtol *
|expected|`` elementwise; NaNs match only with ``equal_nan=True``, infinities only the same
infinity. Integer and bool values must be equal.
"""

import math
from collections.abc import Mapping, Sequence

import numpy as np

from . import _dtype
from ._tensor import Tensor
from .backend import to_numpy

__all__ = ["assert_close"]

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

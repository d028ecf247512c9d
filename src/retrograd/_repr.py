"""PyTorch-style printing: ``tensor([1.0000, 2.5000], requires_grad=True)``, with the options of
``set_printoptions``."""

import math
import sys

import numpy as np

from . import _dtype
from .backend import to_numpy
from .backend.meta import MetaArray


_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}
_options = {**_PROFILES["default"], "sci_mode": None}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """PyTorch's printing options: digits after the point (``precision``), the element count
    above which a tensor is summarised (``threshold``) with ``edgeitems`` per end of each dim,
    the line width, and ``sci_mode`` (True: always scientific, False: never, None: PyTorch's
    choice). ``profile`` ("default", "short", "full") first resets all of them; the other
    arguments given then override it. Arguments left None keep their current value."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}, got {profile!r}")
        _options.update(_PROFILES[profile])
    for name, value in (
        ("precision", precision),
        ("threshold", threshold),
        ("edgeitems", edgeitems),
        ("linewidth", linewidth),
    ):
        if value is not None:
            _options[name] = value
    _options["sci_mode"] = sci_mode  # None restores PyTorch's automatic choice, as in PyTorch


def _float_formatter(values):
    """PyTorch's choice of number format for float values (torch/_tensor_str.py's rules), from the
    nonzero finite ones: integers print as ``3.`` unless their magnitudes span more than 1000x
    or pass 1e8; other values print with ``precision`` decimals unless the span passes 1000x, the
    largest 1e8 or the smallest falls below 1e-4, which switch to scientific notation (or as
    ``sci_mode`` forces). Every value is right-aligned to the widest nonzero finite one."""
    p = _options["precision"]
    nonzero = values[np.isfinite(values) & (values != 0)]
    sci, integral, width = False, True, 1
    if nonzero.size:
        mags = np.abs(nonzero)
        amax, amin = mags.max(), mags.min()
        integral = bool(np.all(nonzero == np.ceil(nonzero)))
        sci = amax / amin > 1000.0 or amax > 1.0e8 or (not integral and amin < 1.0e-4)
        if sci:
            width = max(len(f"{v:.{p}e}") for v in (nonzero.max(), nonzero.min()))
        elif integral:
            width = max(len(f"{v:.0f}") for v in (nonzero.max(), nonzero.min())) + 1
        else:
            width = max(len(f"{v:.{p}f}") for v in (nonzero.max(), nonzero.min()))
    if _options["sci_mode"] is not None:
        sci = _options["sci_mode"]
    if sci:
        return lambda v: f"{v:.{p}e}".rjust(width)
    if integral:
        return lambda v: (f"{v:.0f}." if np.isfinite(v) else f"{v:.0f}").rjust(width)
    return lambda v: f"{v:.{p}f}".rjust(width)


def _shown(data):
    """The elements the printout shows: all of them, or past the threshold only the first and
    last ``edgeitems`` along each dim (the number format is chosen from these, as in PyTorch)."""
    if data.size <= _options["threshold"]:
        return data
    k = _options["edgeitems"]
    for axis, n in enumerate(data.shape):
        if n > 2 * k:
            data = np.concatenate((data.take(range(k), axis), data.take(range(n - k, n), axis)), axis)
    return data


def tensor_repr(t, name="tensor"):
    if type(t._data) is MetaArray:
        return _meta_repr(t, name)
    data = to_numpy(t._data)
    if data.dtype.char in "E45":  # bfloat16, float8: printed through float32, which holds them exactly
        data = data.astype(np.float32)
    prefix = f"{name}("
    if data.dtype.kind in "fV":
        fmt = _float_formatter(_shown(data).astype(np.float64).ravel())
        formatter = {"float_kind": fmt}
    elif data.dtype.kind == "c":
        flat = _shown(data).astype(np.complex128).ravel()
        fr, fi = _float_formatter(flat.real), _float_formatter(np.abs(flat.imag))
        formatter = {"complex_kind": lambda v: f"{fr(v.real)}{'-' if v.imag < 0 else '+'}{fi(abs(v.imag)).strip()}j"}
    else:
        formatter = None
    if data.size == 0:
        body = "[]" if data.ndim == 1 else f"size={tuple(data.shape)}"
    else:
        threshold = _options["threshold"]
        body = np.array2string(
            data,
            separator=", ",
            prefix=prefix,
            formatter=formatter,
            threshold=sys.maxsize if threshold == math.inf else int(threshold),
            edgeitems=_options["edgeitems"],
            max_line_width=_options["linewidth"],
        )
        body = body.replace(", ..., ", ",  ..., ")  # PyTorch pads the ellipsis of a summarised row
    extras = []
    if t.device.type != "cpu":
        extras.append(f"device='{t.device}'")
    default = _dtype.get_default_dtype()
    d = t.dtype
    if d not in (default, _dtype.int64, _dtype.bool, _dtype.default_complex_dtype()):
        extras.append(f"dtype={d!r}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._rg:
        extras.append("requires_grad=True")
    return prefix + ", ".join([body] + extras) + ")"


def _meta_repr(t, name):
    """A meta tensor has no values to print: ``tensor(..., device='meta', size=(2, 3))``, with
    its dtype unless it is the default one, and its autograd state. As PyTorch, a part that
    would take the line past ``linewidth`` starts a new line, indented under the first value."""
    parts = ["device='meta'", f"size={tuple(t._data.shape)}"]
    if t.dtype != _dtype.get_default_dtype():
        parts.append(f"dtype={t.dtype!r}")
    if t.grad_fn is not None:
        parts.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._rg:
        parts.append("requires_grad=True")
    text = f"{name}(..."
    indent = len(name) + 1
    width = len(text) + 2  # PyTorch counts the line's length from one before its start
    for part in parts:
        if width + len(part) + 2 > _options["linewidth"]:
            text += ",\n" + " " * indent + part
            width = indent + len(part)
        else:
            text += ", " + part
            width += len(part) + 2
    return text + ")"

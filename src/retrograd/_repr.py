"""PyTorch-style printing: ``tensor([1.0000, 2.5000], requires_grad=True)``, with the options of
``set_printoptions``."""

import math

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
    """``(format, width)`` by PyTorch's choice of number format for float values
    (torch/_tensor_str.py's rules), from the nonzero finite ones: integers print as ``3.`` unless
    their magnitudes span more than 1000x or pass 1e8; other values print with ``precision``
    decimals unless the span passes 1000x, the largest 1e8 or the smallest falls below 1e-4,
    which switch to scientific notation (or as ``sci_mode`` forces). Every value is
    right-aligned to ``width``, that of the widest nonzero finite one."""
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
        return (lambda v: f"{v:.{p}e}".rjust(width)), width
    if integral:
        return (lambda v: (f"{v:.0f}." if np.isfinite(v) else f"{v:.0f}").rjust(width)), width
    return (lambda v: f"{v:.{p}f}".rjust(width)), width


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


def _value_format(data):
    """``(format, element_length)``: each value's text, and the room PyTorch counts per value
    on a line (its formatter's width and the ", " after it)."""
    shown = _shown(data)
    kind = data.dtype.kind
    if kind in "fV":
        fmt, width = _float_formatter(shown.astype(np.float64).ravel())
        return fmt, width + 2
    if kind == "c":
        flat = shown.astype(np.complex128).ravel()
        (fr, wr), (fi, wi) = _float_formatter(flat.real), _float_formatter(flat.imag)

        def fmt(v):
            imag = (fi(v.imag) + "j").lstrip()
            return fr(v.real) + (imag if imag[0] in "+-" else "+" + imag)

        return fmt, wr + wi + 3
    width = max([len(str(v)) for v in shown.ravel().tolist()] + [1])
    return (lambda v: str(v).rjust(width)), width + 2


def _vector_text(values, indent, summarize, fmt, element_length):
    edge = _options["edgeitems"]
    per_line = max(1, int(math.floor((_options["linewidth"] - indent) / element_length)))
    if summarize and len(values) > 2 * edge:
        items = [fmt(v) for v in values[:edge]] + [" ..."] + [fmt(v) for v in values[len(values) - edge :]]
    else:
        items = [fmt(v) for v in values]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _array_text(a, indent, summarize, fmt, element_length):
    """PyTorch's layout of the values: one row of a vector wraps after as many values as fit in
    ``linewidth`` past the indent; the rows of each further dim are separated by as many newlines
    as the dims below them; a summarised dim shows ``edgeitems`` rows at each end around ``...``."""
    if a.ndim == 0:
        return fmt(a.item())
    if a.ndim == 1:
        return _vector_text(a.tolist() if a.dtype.kind != "V" else list(a), indent, summarize, fmt, element_length)
    n, edge = a.shape[0], _options["edgeitems"]
    if summarize and n > 2 * edge:
        rows = [_array_text(a[i], indent + 1, summarize, fmt, element_length) for i in range(edge)]
        rows += ["..."] + [_array_text(a[i], indent + 1, summarize, fmt, element_length) for i in range(n - edge, n)]
    else:
        rows = [_array_text(a[i], indent + 1, summarize, fmt, element_length) for i in range(n)]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _with_suffixes(text, suffixes, indent):
    """``text`` and its suffixes (``dtype=...``, ``grad_fn=<...>``), each after ", " or, where it
    would take the line past ``linewidth``, on a new line under the first value, then ")"."""
    width = len(text) - text.rfind("\n") + 1  # PyTorch counts the line from one before its start
    for part in suffixes:
        if width + len(part) + 2 > _options["linewidth"]:
            text += ",\n" + " " * indent + part
            width = indent + len(part)
        else:
            text += ", " + part
            width += len(part) + 2
    return text + ")"


def tensor_repr(t, name="tensor"):
    if type(t._data) is MetaArray:
        return _meta_repr(t, name)
    data = to_numpy(t._data)
    if data.dtype.char in "E45":  # bfloat16, float8: printed through float32, which holds them exactly
        data = data.astype(np.float32)
    prefix = f"{name}("
    indent = len(prefix)
    suffixes = []
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    d = t.dtype
    if data.size == 0:
        if data.ndim != 1:
            suffixes.append(f"size={tuple(data.shape)}")
        if d != _dtype.get_default_dtype():  # no values to tell an integer tensor by
            suffixes.append(f"dtype={d!r}")
        body = "[]"
    else:
        if d not in (_dtype.get_default_dtype(), _dtype.int64, _dtype.bool, _dtype.default_complex_dtype()):
            suffixes.append(f"dtype={d!r}")
        fmt, element_length = _value_format(data)
        body = _array_text(data, indent, data.size > _options["threshold"], fmt, element_length)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._rg:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + body, suffixes, indent)


def _meta_repr(t, name):
    """A meta tensor has no values to print: ``tensor(..., device='meta', size=(2, 3))``, with
    its dtype unless it is the default one, and its autograd state, placed as other suffixes."""
    parts = ["device='meta'", f"size={tuple(t._data.shape)}"]
    if t.dtype != _dtype.get_default_dtype():
        parts.append(f"dtype={t.dtype!r}")
    if t.grad_fn is not None:
        parts.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._rg:
        parts.append("requires_grad=True")
    return _with_suffixes(f"{name}(...", parts, len(name) + 1)

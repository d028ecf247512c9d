"""PyTorch-style printing: ``tensor([1.0000, 2.5000], requires_grad=True)``, with the options of
``set_printoptions``."""

import math
import sys

import numpy as np

from . import _dtype
from .backend import to_numpy


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
    p = _options["precision"]
    sci = _options["sci_mode"]
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return lambda v: str(v)
    amax = np.abs(finite).max()
    amin = np.abs(finite[finite != 0]).min() if (finite != 0).any() else 0.0
    if sci is None and np.all(finite == np.round(finite)) and amax < 1e8:
        width = len(f"{amax:.0f}") + 1
        return lambda v: (f"{v:.0f}." if np.isfinite(v) else str(v)).rjust(width)
    if sci or (sci is None and (amax >= 1e8 or (amin and amin < 1e-4) or (amin and amax / amin > 1e3 and amax >= 1e3))):
        return lambda v: f"{v:.{p}e}"
    width = len(f"{amax:.{p}f}") + (1 if (finite < 0).any() else 0)
    return lambda v: f"{v:.{p}f}".rjust(width)


def tensor_repr(t, name="tensor"):
    data = to_numpy(t._data)
    if data.dtype.char in "E45":  # bfloat16, float8: printed through float32, which holds them exactly
        data = data.astype(np.float32)
    prefix = f"{name}("
    if data.dtype.kind in "fV":
        fmt = _float_formatter(data.astype(np.float64).ravel())
        formatter = {"float_kind": fmt}
    elif data.dtype.kind == "c":
        flat = data.astype(np.complex128).ravel()
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
        body = body.replace("True", "True").replace("False", "False")
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

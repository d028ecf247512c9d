"""PyTorch-style printing: ``tensor([1.0000, 2.5000], requires_grad=True)``."""
import numpy as np

from . import _dtype
from .backend import to_numpy


def _float_formatter(values):
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return lambda v: str(v)
    amax = np.abs(finite).max()
    amin = np.abs(finite[finite != 0]).min() if (finite != 0).any() else 0.0
    if np.all(finite == np.round(finite)) and amax < 1e8:
        width = len(f"{amax:.0f}") + 1
        return lambda v: (f"{v:.0f}." if np.isfinite(v) else str(v)).rjust(width)
    if amax >= 1e8 or (amin and amin < 1e-4) or (amin and amax / amin > 1e3 and amax >= 1e3):
        return lambda v: f"{v:.4e}"
    width = len(f"{amax:.4f}") + (1 if (finite < 0).any() else 0)
    return lambda v: f"{v:.4f}".rjust(width)


def tensor_repr(t, name="tensor"):
    data = to_numpy(t._data)
    prefix = f"{name}("
    if data.dtype.kind == "f":
        fmt = _float_formatter(data.astype(np.float64).ravel())
        formatter = {"float_kind": fmt}
    else:
        formatter = None
    if data.size == 0:
        body = "[]" if data.ndim == 1 else f"size={tuple(data.shape)}"
    else:
        body = np.array2string(data, separator=", ", prefix=prefix, formatter=formatter,
                               threshold=1000, edgeitems=3, max_line_width=80)
        body = body.replace("True", "True").replace("False", "False")
    extras = []
    if t.device.type != "cpu":
        extras.append(f"device='{t.device}'")
    default = _dtype.get_default_dtype()
    d = t.dtype
    if d not in (default, _dtype.int64, _dtype.bool):
        extras.append(f"dtype={d!r}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._rg:
        extras.append("requires_grad=True")
    return prefix + ", ".join([body] + extras) + ")"

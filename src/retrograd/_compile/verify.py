"""The safety net: a capture's first replay is checked against eager mode, bit for bit.

The replay runs the same kernels in the same order as eager mode, so the two agree exactly
unless the recording missed something: a side effect no hook saw, a Python value the function
computed from state that changes between calls. ``check`` runs the call both ways from the same
state (the replay first; then every parameter, buffer, gradient, optimizer and scheduler state
and the default generator are put back; then eager mode) and compares the outputs and that
state. On a mismatch the capture is dropped to eager mode with a warning. Either way the call
returns eager mode's results, and leaves eager mode's state.

The backward that a replay's CompiledFunctionBackward runs is not part of this check (there is no
eager backward to compare with inside the call).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from .._random import get_rng_state, set_rng_state
from .._tensor import Tensor


class Snapshot:
    """The state a call may change: tensors (values, arrays, gradients, versions), optimizers,
    schedulers and the default generator."""

    def __init__(self, tensors: list[Tensor], stateful: list[Any]) -> None:
        self.tensors = []
        for t in tensors:
            g = t._grad
            gd = None if type(g) is not Tensor else g._data
            vc = t._version_counter()
            self.tensors.append((t, t._data, _copy(t._data), g, gd, None if gd is None else _copy(gd), vc.value))
        self.stateful = [(obj, copy.deepcopy(obj.state_dict())) for obj in stateful]
        self.rng = get_rng_state()

    def restore(self) -> None:
        for t, data, values, g, gd, gvalues, version in self.tensors:
            t._data = data
            if values is not None:
                data[...] = values
            t._grad = g
            if g is not None and gd is not None:
                g._data = gd
                gd[...] = gvalues
            t._version_counter().value = version
        for obj, state in self.stateful:
            obj.load_state_dict(copy.deepcopy(state))
        set_rng_state(self.rng)


def _copy(a: Any) -> Any:
    return a.copy() if isinstance(a, np.ndarray) else None


def state_of(tensors: list[Tensor], stateful: list[Any]) -> list[Any]:
    """Copies of what ``Snapshot`` covers, to compare two runs."""
    out: list[Any] = []
    for t in tensors:
        g = t._grad
        out.append(_copy(t._data))
        out.append(None if type(g) is not Tensor else _copy(g._data))
    for obj in stateful:
        out.append(copy.deepcopy(obj.state_dict()))
    out.append(get_rng_state()._data.copy())
    return out


def same(a: Any, b: Any) -> bool:
    """Bitwise equality of two nested results (tensors, arrays, numbers, lists, dicts)."""
    if isinstance(a, Tensor):
        a = a._data
    if isinstance(b, Tensor):
        b = b._data
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()
        )
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    try:
        return bool(a == b)
    except Exception:
        return a is b

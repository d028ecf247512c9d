"""The safety net: a capture's first replay is checked against eager mode, bit for bit.

The replay runs the same kernels in the same order as eager mode, so the two agree exactly
unless the recording missed something: a side effect no hook saw, a Python value the function
computed from state that changes between calls. ``check`` runs the call both ways from the same
state (the replay first; then every parameter, buffer, gradient, optimizer and scheduler state
and the default generator are put back; then eager mode) and compares the outputs and that
state. On a mismatch the capture is dropped to eager mode with a warning. Either way the call
returns eager mode's results, and leaves eager mode's state.

When the outputs need gradients, ``same_backward`` also runs both backward passes from the same
output gradients (``accumulate=False``, the eager graph retained for the caller's own backward)
and compares the gradients they give the parameters and inputs; it is skipped when a leaf has a
hook (the check would run it).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from .._random import get_rng_state, set_rng_state
from .._tensor import Tensor, make_tensor
from ..backend import array_module
from ..autograd.grad_mode import _state


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


def same_backward(plan: Any, replayed: Any, out: Any, leaves: list[Any]) -> bool:
    """Whether the replay's recorded backward gives the gradients eager mode's graph gives."""
    from ..autograd import engine
    from .backward import _edge
    from .capture import has_hooks
    from .guards import flatten

    rep: list[Any] = []
    eag: list[Any] = []
    flatten(replayed, rep)
    flatten(out, eag)
    if len(rep) != len(eag):
        return False
    node = None
    roots: list[Any] = [None] * len(plan.out_likes)
    for r, e in zip(rep, eag):
        if isinstance(r, Tensor) and type(r.grad_fn).__name__ == "CompiledFunctionBackward":
            node = r.grad_fn
            if e.grad_fn is None:
                return False
            roots[r._out_nr] = e
    if node is None or any(e is None for e in roots):
        return True  # no output of this call needs a gradient
    targets = [leaves[x] if kind == "arg" else x for kind, x in plan.targets]
    if any(t._grad_acc is not None and has_hooks(t._grad_acc._extra) for t in targets if t.grad_fn is None):
        return True
    seeds = [make_tensor(array_module(e._data).ones_like(e._data), None, False) for e in roots]  # 0-d stays an array
    edges: dict[Any, int] = {}
    for t in targets:
        edges.setdefault(_edge(t), len(edges))
    eager = engine.execute([(e.grad_fn, e._out_nr) for e in roots], seeds, True, False, edges, accumulate=False)
    prev = _state.enabled
    _state.enabled = False  # as the engine runs a node without create_graph
    try:
        mine = node._apply(list(seeds), True)
    finally:
        _state.enabled = prev
    for t, g in zip(targets, mine):
        e = eager[edges[_edge(t)]] if eager is not None else None
        if (g is None) != (e is None) or (g is not None and not same(g, e)):
            return False
    return True


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

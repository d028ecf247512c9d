"""The capture flag: ``_cap.active`` is True while a compiled function's first call records.

Every place that makes an array outside a recorded kernel checks this one attribute (the
in-place ops, comparisons, factories, random draws, the engine's accumulation, the optimizer's
and scheduler's steps, the conversions to Python values) and hands its work to ``_cap.recorder``
(a ``capture.Recorder``); ops and backward nodes reach the recorder through the observers of
``apply`` and the engine. Off, a hook costs one attribute read. The state is per thread: another
thread's ops are never recorded into this thread's capture.
"""

import threading
from typing import Any

from ..backend.meta import MetaArray


class _CaptureState(threading.local):
    active: bool = False
    recorder: Any = None  # a capture.Recorder while active (this module imports nothing of it)


_cap = _CaptureState()


def recorded(kernel: Any, *inputs: Any, label: str, n_out: int = 1) -> Any:
    """``kernel(*inputs)``: the raw array work an op does outside its Op (the indices of a sort,
    the interpolation weights of a resize). While a compiled function's first call records, it
    is recorded as one kernel of the schedule, so a replay recomputes it from the current
    inputs; otherwise it is just the call. ``kernel`` must return new arrays (``n_out`` of them
    in a tuple when ``n_out > 1``), never NumPy scalars."""
    if _cap.active:
        return _cap.recorder.call(kernel, inputs, label, n_out=n_out)
    return kernel(*inputs)


def shape_constant(t: Any) -> Any:
    """``t`` (a tensor) made by the library from shapes and Python arguments only, never from
    tensor values (interpolation weights, pooling matrices, index grids). Those are all guarded,
    so while a compiled function's first call records, its array becomes a constant of the
    capture instead of an unknown array that fails it. Returns ``t``."""
    if _cap.active:
        _cap.recorder.shape_constant(t._data)
    return t


def recorded_check(kernel: Any, *inputs: Any, label: str) -> None:
    """``kernel(*inputs)``, a check of tensor values that raises on bad input (an index out of
    range, a probability outside [0, 1]). While a compiled function's first call records, it is
    recorded as a kernel of the schedule, so every replay checks its own inputs as eager mode
    does. Meta arrays have no values to check: with one among the inputs, nothing runs."""
    for a in inputs:
        if type(a) is MetaArray:
            return
    if _cap.active:
        _cap.recorder.call(kernel, inputs, label, keep=False, check=True)
    else:
        kernel(*inputs)


def reads_values(what: str) -> None:
    """Library code is about to read tensor values into Python and branch on them (a formula
    chosen by whether an input holds a zero, a size taken from the largest index). A replay
    would repeat the branch taken at capture, whatever the new values, so while a compiled
    function's first call records this is a graph break, as ``Tensor.item()`` is."""
    if _cap.active:
        _cap.recorder.graph_break(what)


def recorded_draw(kernel: Any, *inputs: Any, label: str) -> Any:
    """``kernel(*inputs)``, an array drawn from the default generator (``randn``,
    ``rand_like``, ``normal_``, ...). While a compiled function's first call records, it is
    recorded as a kernel that draws again at every replay, so the generator advances as in
    eager mode and each replay gets new numbers (a replay stopped at a graph break puts the
    generator's state back); otherwise it is just the call."""
    if _cap.active:
        return _cap.recorder.call(kernel, inputs, label, draws=True)
    return kernel(*inputs)


def sized_by_values(arr: Any, what: str) -> Any:
    """``arr``, an array a recorded kernel gave, has a shape that depends on tensor values (the
    rows of ``nonzero``, the elements a boolean mask selects, ``bincount``'s length). Python
    takes shapes for constants (a replay repeats what it did with them), so while a compiled
    function's first call records, the shape is a graph break the replay checks: a replay that
    finds another shape stops there and that path is captured. Returns ``arr``."""
    if _cap.active:
        _cap.recorder.graph_break(what, arr, _shape_of)
    return arr


def _shape_of(a: Any) -> tuple[int, ...]:
    return tuple(a.shape)


def constant_index(arr: Any) -> Any:
    """``arr``, an index array made from a Python list or range (``x[[0, 2]]``): a constant of
    the capture while a compiled function's first call records. Returns ``arr``."""
    if _cap.active:
        _cap.recorder.shape_constant(arr)
    return arr


def not_replayable(what: str) -> None:
    """Library code is about to do work a replay cannot repeat (an in-place write into a sparse
    tensor's storage, a sparse op whose Python reads index values). While a compiled function's
    first call records, that capture fails closed: the function runs eagerly for that guard
    state, with ``what`` as the reason."""
    if _cap.active:
        _cap.recorder.unrecorded(what)

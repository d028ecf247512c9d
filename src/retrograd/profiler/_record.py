"""Recording: while a profile is active, every op (``ops/_registry.apply``) and every backward
node (``autograd/engine``) runs through an observer here, which times it as a range.

Off, nothing here runs: the op and node paths each check one module-level observer (None). One
profile records at a time, on every thread; each thread keeps its own stack of open ranges, so
ranges nest per thread.
"""

import itertools
import os
import sys
import threading
import time

import numpy as np

from .._tensor import Tensor
from ..autograd import engine as _engine
from ..autograd.grad_mode import _state
from ..autograd.graph import AccumulateGrad
from ..ops import _registry
from ._events import FunctionEvent

_clock = time.perf_counter_ns


class _Open(threading.local):
    stack = None  # the open ranges of this thread (innermost last), per recorder


_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_PKG_NN = _PKG + "nn" + os.sep


def python_stack(frame):
    """The Python frames from ``frame`` outwards, innermost first, as PyTorch writes them
    (``"file.py(12): forward"``): the caller's code and the ``nn`` modules' ``forward``s, not the
    library's own machinery (op dispatch, autograd, the profiler)."""
    out = []
    while frame is not None:
        code = frame.f_code
        name = code.co_filename
        if not name.startswith(_PKG) or name.startswith(_PKG_NN):
            out.append(f"{name}({frame.f_lineno}): {code.co_name}")
        frame = frame.f_back
    return out


class Recorder:
    """The events of one recording session (what one profile collects between start and stop)."""

    def __init__(self, record_shapes, profile_memory, with_stack=False):
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.events = []
        self.t0 = _clock()
        self._open = _Open()
        self._ids = itertools.count().__next__

    def begin(self, name, category, inputs=None):
        stack = self._open.stack
        if stack is None:
            stack = self._open.stack = []
        shapes = ()
        if inputs is not None and self.record_shapes:
            shapes = [list(t._data.shape) if isinstance(t, Tensor) else [] for t in inputs]
        ev = FunctionEvent(self._ids(), name, threading.get_ident(), _clock() - self.t0, category, shapes)
        if self.with_stack:
            ev.stack = python_stack(sys._getframe(1))
        if stack:
            parent = stack[-1]
            ev.cpu_parent = parent
            parent.cpu_children.append(ev)
        stack.append(ev)
        self.events.append(ev)
        return ev

    def end(self, ev):
        ev.end_ns = _clock() - self.t0
        stack = self._open.stack
        # pop through ranges left open by an exception inside them
        while stack:
            if stack.pop() is ev:
                break

    def observe_op(self, op, inputs, args):
        ev = self.begin("aten::" + op.name, "cpu_op", inputs)
        prev = _state.observing
        _state.observing = True
        try:
            out = _registry.apply(op, inputs, args)
        finally:
            _state.observing = prev
            self.end(ev)
        if self.profile_memory and not op.is_view:
            data = out._data
            if type(data) is np.ndarray:
                ev.own_cpu_memory = data.nbytes
            else:
                ev.own_device_memory = data.nbytes
        return out

    def observe_node(self, node, fn, *args):
        name = "torch::autograd::AccumulateGrad" if type(node) is AccumulateGrad else node.name()
        ev = self.begin(name, "cpu_op")
        try:
            return fn(*args)
        finally:
            self.end(ev)


_lock = threading.Lock()
_active = None  # the Recorder recording now, or None


def start(record_shapes, profile_memory, with_stack=False):
    """Start recording; RuntimeError when a profile is already recording."""
    global _active
    with _lock:
        if _active is not None:
            raise RuntimeError(
                "profiler: a profile is already recording; profiles cannot be nested (stop the running one first)"
            )
        rec = Recorder(record_shapes, profile_memory, with_stack)
        _active = rec
        _registry.set_op_observer(rec.observe_op)
        _engine.set_node_observer(rec.observe_node)
    return rec


def stop(rec):
    """Stop recording ``rec``; the events it has are final."""
    global _active
    with _lock:
        if _active is rec:
            _registry.set_op_observer(None)
            _engine.set_node_observer(None)
            _active = None


def active():
    return _active

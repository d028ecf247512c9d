"""``compile(fn)``: a cache of captures per function, each replayed while its guards hold.

The first call with a new guard state runs ``fn`` eagerly while ``capture.Recorder`` records it.
If the recording is complete, the call's kernels become a ``Schedule`` and its replay code
(``replay.build``); later calls whose guards hold bind the arrays of the sources and run that
code, then wrap the result arrays as the outputs. A recording that failed (a graph break, an
array made outside recording, a backward hook, ...) is cached too, as "run eagerly" for that
guard state, with its reason (``explain``); a warning says so once per function. A failed guard
captures again, up to ``config.cache_size_limit`` captures per function, after which the function
runs eagerly with one warning (PyTorch's recompile limit).
"""

from __future__ import annotations

import functools
import warnings
import weakref
from typing import Any

import numpy as np

from .._tensor import Tensor, make_tensor
from ..autograd import engine as _engine
from ..autograd.graph import Node
from ..ops import _registry
from ..backend import QUIET, quiet_float_warnings
from . import replay as _replay
from .capture import Recorder, _Unknown, set_data
from .guards import Guards, discover, flatten, source_meta
from .schedule import Const, Entry, Schedule
from .state import _cap


class _Config:
    """``torch._dynamo.config``: the settings retrograd's compile reads."""

    __slots__ = ("cache_size_limit", "verbose")

    def __init__(self) -> None:
        self.cache_size_limit = 8  # captures per function, as PyTorch's default
        self.verbose = False


config = _Config()
_all: weakref.WeakSet[CompiledFunction] = weakref.WeakSet()
_disabled = [0]  # > 0 inside compiler.disable'd code


class _FreedBackward(Node):
    """The grad_fn of an output whose backward already ran inside the compiled function: a
    second backward fails as eager mode's does."""

    __slots__ = ()

    def __init__(self) -> None:
        self._next = ()
        self._seq = 0
        self._in_shapes = ()
        self._in_dtypes = ()

    def name(self) -> str:
        return "CompiledFunctionBackward"

    def _apply(self, grads: list[Any], retain: bool) -> tuple[Any, ...]:
        raise RuntimeError(
            "Trying to backward through the graph a second time (or directly access saved tensors after "
            "they have already been freed): the backward inside the compiled function freed them. Specify "
            "retain_graph=True if you need to backward through the graph a second time."
        )


_ARG, _DATA, _GRAD = 0, 1, 2


class Capture:
    """One guard state of a function: its replay, or the reason it runs eagerly."""

    __slots__ = ("guards", "eager", "replay", "binders", "outputs", "schedule", "n_freed")

    def __init__(self, guards: Guards, eager: str | None = None) -> None:
        self.guards = guards
        self.eager = eager
        self.replay: Any = None
        self.binders: list[tuple[int, Any]] = []
        self.outputs: Any = None
        self.schedule: Schedule | None = None

    def run(self, leaves: list[Any]) -> Any:
        ins = []
        for kind, x in self.binders:
            if kind == _ARG:
                v = leaves[x]
                ins.append(v if type(v) is np.ndarray else v._data)
            elif kind == _DATA:
                ins.append(x._data)
            else:
                ins.append(x._grad._data)
        filters = warnings.filters
        if not filters or filters[0] is not QUIET[0]:
            quiet_float_warnings()
        res = self.replay(*ins)
        return _build(self.outputs, res, leaves, [None])


def _build(spec: Any, res: tuple[Any, ...], leaves: list[Any], freed: list[Any]) -> Any:
    kind = spec[0]
    if kind == "t":
        _, i, rg, nr = spec
        if not rg:
            return make_tensor(res[i], None, False)
        node = freed[0]
        if node is None:
            node = freed[0] = _FreedBackward()
        t = make_tensor(res[i], node, True)
        t._out_nr = nr
        return t
    if kind == "arg":
        return leaves[spec[1]]
    if kind == "obj":
        return spec[1]
    if kind == "seq":
        items = [_build(s, res, leaves, freed) for s in spec[2]]
        return items if spec[1] is list else spec[1](items)
    if kind == "dict":
        return {k: _build(s, res, leaves, freed) for k, s in spec[1]}
    return spec[1]  # a constant


class _Finish:
    """Turns a complete recording into a Capture (or the reason it cannot be one)."""

    def __init__(self, rec: Recorder, leaves: list[Any], persistent_start: list[tuple[Tensor, Any]]) -> None:
        self.rec = rec
        self.arg_ids = {id(x): i for i, x in enumerate(leaves)}
        self.persistent = {id(t) for t, _ in persistent_start}
        self.start = persistent_start
        self.results: list[int] = []
        self.n_out = 0

    def output_spec(self, obj: Any) -> Any:
        if isinstance(obj, Tensor):
            i = self.arg_ids.get(id(obj))
            if i is not None:
                return ("arg", i)
            if id(obj) in self.persistent:
                return ("obj", obj)
            if type(obj) is not Tensor:
                raise _Unknown(f"an output of type {type(obj).__name__}")
            slot = self.rec.ref(obj._data)
            rg = obj._rg
            if rg:
                fn = obj.grad_fn
                released = getattr(fn, "_is_released", None)
                if fn is None or self.rec.backward_runs == 0 or released is None or not released():
                    raise _Unknown("an output that needs a gradient (compile the step that calls backward)")
            self.results.append(slot)
            nr = self.n_out
            self.n_out += 1
            return ("t", len(self.results) - 1, rg, nr)
        if isinstance(obj, np.ndarray):
            raise _Unknown("a NumPy array output")
        t = type(obj)
        if t is tuple or t is list or (isinstance(obj, tuple) and hasattr(obj, "_fields")):
            items = [self.output_spec(x) for x in obj]
            if t is not tuple and t is not list:
                return ("seq", lambda xs, t=t: t(*xs), items)
            return ("seq", t, items)
        if t is dict:
            return ("dict", [(k, self.output_spec(v)) for k, v in obj.items()])
        return ("const", obj)

    def capture(self, guards: Guards, out: Any) -> Capture:
        rec = self.rec
        if rec.failed is not None:
            return Capture(guards, rec.failed)
        try:
            for t, a in self.start:  # a parameter given a new array: the replay rebinds it
                if t._data is not a:
                    rec.entries.append(Entry(set_data, (Const(t), rec.ref(t._data)), (), "set_data"))
            outputs = self.output_spec(out)
        except _Unknown as e:
            return Capture(guards, f"the function returns or keeps {e}")
        schedule = Schedule(rec.entries, tuple(rec.input_slots), tuple(self.results))
        c = Capture(guards)
        c.schedule = schedule
        c.replay = _replay.build(schedule)
        c.outputs = outputs
        persistent, metas = [], []
        for slot, how in zip(rec.input_slots, rec.sources):
            kind, x = how
            if kind == "arg":
                c.binders.append((_ARG, x))
            else:
                c.binders.append((_DATA if kind == "data" else _GRAD, x))
                persistent.append(how)
                metas.append(source_meta(how) if kind == "grad" else _start_meta(rec.arrays[slot], x))
        guards.add_sources(persistent, metas, list(rec.accumulated.values()))
        return c


def _start_meta(a: Any, t: Tensor) -> Any:
    return ((type(a), a.shape, a.dtype, a.strides), t._rg)


class CompiledFunction:
    """``compile(fn)``'s result: call it as ``fn``."""

    def __init__(self, fn: Any, fullgraph: bool = False) -> None:
        self.fn = fn
        self.fullgraph = fullgraph
        self.cache: list[Capture] = []
        self.breaks: list[tuple[str, str]] = []
        self.reasons: list[str] = []  # why captures run eagerly
        self.recompiles: list[str] = []  # the guard that failed before each new capture
        self._warned = False
        functools.update_wrapper(self, fn)
        _all.add(self)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _cap.recorder is not None or _disabled[0]:  # inside another capture, or disabled
            return self.fn(*args, **kwargs)
        leaves: list[Any] = []
        key = flatten((args, kwargs), leaves)
        why = None
        for c in self.cache:
            why = c.guards.failure(leaves, key)
            if why is None:
                if c.eager is not None:
                    return self.fn(*args, **kwargs)
                return c.run(leaves)
        if len(self.cache) >= config.cache_size_limit:
            if not self._warned:
                self._warned = True
                warnings.warn(
                    f"compile: {_name(self.fn)} hit config.cache_size_limit ({config.cache_size_limit}) "
                    f"captures (last guard to fail: {why}); it runs eagerly from now on",
                    UserWarning,
                    stacklevel=2,
                )
            return self.fn(*args, **kwargs)
        if why is not None:
            self.recompiles.append(why)
        return self._capture(args, kwargs, leaves, key)

    def _roots(self, args: Any, kwargs: Any) -> list[Any]:
        return [self.fn, args, kwargs]

    def _capture(self, args: Any, kwargs: Any, leaves: list[Any], key: Any) -> Any:
        if _registry._observer is not None or _engine._observer is not None:
            self.reasons.append("the profiler is recording")
            return self.fn(*args, **kwargs)
        modules, persistent = discover(self._roots(args, kwargs))
        guards = Guards(key, leaves, modules)
        rec = Recorder(leaves, persistent, self.fullgraph)
        start = [(t, t._data) for t in persistent]
        _cap.recorder = rec
        _cap.active = True
        _registry.set_op_observer(rec.apply)
        _engine.set_node_observer(rec.node_apply)
        try:
            out = self.fn(*args, **kwargs)
        finally:
            _cap.active = False
            _cap.recorder = None
            _registry.set_op_observer(None)
            _engine.set_node_observer(None)
        capture = _Finish(rec, leaves, start).capture(guards, out)
        self.cache.append(capture)
        self.breaks += rec.breaks
        if capture.eager is not None:
            self.reasons.append(capture.eager)
            if not self._warned and not rec.breaks:
                self._warned = True
                warnings.warn(f"compile: {_name(self.fn)} runs eagerly: {capture.eager}", UserWarning, stacklevel=3)
        return out

    def reset(self) -> None:
        self.cache.clear()
        self.breaks.clear()
        self.reasons.clear()
        self.recompiles.clear()
        self._warned = False


def _name(fn: Any) -> str:
    return getattr(fn, "__qualname__", None) or type(fn).__name__


def reset() -> None:
    """Forget every capture (``torch._dynamo.reset()``, ``torch.compiler.reset()``)."""
    for f in list(_all):
        f.reset()

"""``compile(fn)``: a cache of captures per function, each replayed while its guards hold.

The first call with a new guard state runs ``fn`` eagerly while ``capture.Recorder`` records it.
If the recording is complete, the call's kernels become a ``Schedule`` and its replay code
(``replay.build``); later calls whose guards hold bind the arrays of the sources and run that
code, then wrap the result arrays as the outputs. A recording that failed (an array made outside
recording, a backward hook, a print, a graph break it cannot split at, ...) is cached too, as
"run eagerly" for that guard state, with its reason (``explain``); a warning says so once per
function. A failed guard captures again, up to ``config.cache_size_limit`` captures per
function, after which the function runs eagerly with one warning (PyTorch's recompile limit).
Unless compiled with ``dynamic=False``, a capture recorded at a second batch size is merged with
the first into one capture for every batch size when the two allow it (``dynamic.py``);
``specialized`` keeps why they did not.

**Graph breaks.** A capture follows the eager run, not the bytecode, so it cannot resume the
Python after a break on its own. Python that reads a value (``.item()``, ``bool(t)``, ``if t``,
``.tolist()``, ``float(t)``, ``int(t)``, a tensor as an index) did what it did because of that
value; everything else it reads is guarded. So a break splits the recorded kernels into pieces
with a check between them (``capture.check_break``): the replay computes the value again from the
replayed array and goes on with the next piece while it is the recorded one, the same Python
having then made the same kernels. A different value stops the replay at the check; the next
capture of the same guard state is tried (one capture per path the values take, such as both
arms of an ``if``), or the call captures that path (running eagerly, so its result and its
prints are eager mode's). Stopping half-way is sound only because nothing before a check has an
effect the eager call would repeat: a break after a write into a parameter, buffer, gradient or
argument, a gradient accumulation, an optimizer or scheduler step (the recorder notes the first)
makes the function run eagerly; rebinding a gradient (``.grad = g``, ``zero_grad()``) and
dropout's draws are not such effects, since a stopped replay puts the gradient and the
generator's state back (``capture.undo``). A break whose value is not a plain Python value
(``print(t)``, ``.numpy()``, ``compiler.disable``) runs the function eagerly too. A break that
has given more than ``_MAX_BREAK_VALUES`` values (a loss logged with ``.item()``: data, not a
decision) no longer splits; its function runs eagerly from then on. A print to ``sys.stdout``
or a ``logging`` record made during the capture runs the function eagerly, since a replay would
not print or log: so ``print(loss.item())`` prints at every call, eagerly. Other Python effects
are seen only where the guards look (the containers the function reaches, and the Python values
it reads, ``guards.python_reads``: a capture that changed one runs eagerly): a write to a file
inside a replayed function is not repeated.
``fullgraph=True`` raises at the first break, naming the user's file:line.
"""

from __future__ import annotations

import functools
import gc
import sys
import warnings
import weakref
from typing import Any

import numpy as np

from .._tensor import Tensor, make_tensor
from ..sparse._tensor import SparseTensor
from ..autograd import engine as _engine
from ..autograd.graph import Node
from ..ops import _registry
from ..backend import QUIET, array_module, quiet_float_warnings
from . import replay as _replay
from .backward import BackwardPlan, CompiledFunctionBackward, record_backward
from .capture import (
    BreakChanged,
    Recorder,
    Unsupported,
    _Unknown,
    accumulate_grad,
    same_value,
    set_data,
    undo,
    undo_log,
)
from .guards import Guards, changed_container, containers, discover, flatten, python_reads
from .schedule import Const, Entry, Schedule
from .verify import Snapshot, same, same_backward, state_of
from . import dynamic as _dynamic
from . import fusion as _passes  # the schedule passes (fusion, buffer reuse): fusion.py
from .state import _cap


class _Config:
    """``torch._dynamo.config``: the settings retrograd's compile reads."""

    __slots__ = ("cache_size_limit", "verify")

    def __init__(self) -> None:
        self.cache_size_limit = 8  # captures per function, as PyTorch's default
        self.verify = True  # check each capture's first replay against eager mode (verify.py)


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


# where a replay binds each source: an argument's array, a parameter's or buffer's, a gradient's,
# a sparse argument's indices or values, those of a sparse tensor the function reaches
_ARG, _DATA, _GRAD, _SPARSE_ARG, _SPARSE = 0, 1, 2, 3, 4
# A graph break that has given more values than this (over captures and replays) reads data
# rather than a control-flow decision: no longer split there (its function runs eagerly).
_MAX_BREAK_VALUES = 3


class _Watched:
    """Stands for ``sys.stdout`` while a call is recorded: passes every write on and notes that
    one happened (a print, which a replay would not repeat)."""

    __slots__ = ("stream", "wrote")

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.wrote = False

    def write(self, text: str) -> Any:
        self.wrote = True
        return self.stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


class _Logged:
    """Stands for ``logging``'s record factory while a call is recorded: makes each record with
    the factory it stands for and notes that one was made (a log call a replay would not repeat;
    a record is made only for a message the logger's level lets through)."""

    __slots__ = ("factory", "made")

    def __init__(self, factory: Any) -> None:
        self.factory = factory
        self.made = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.made = True
        return self.factory(*args, **kwargs)


def _watch(stdout: _Watched, logged: _Logged | None) -> None:
    sys.stdout = stdout
    if logged is not None:
        sys.modules["logging"].setLogRecordFactory(logged)


def _unwatch(stdout: _Watched, logged: _Logged | None) -> None:
    """Put back what ``_watch`` replaced, unless the function replaced it in turn."""
    if sys.stdout is stdout:
        sys.stdout = stdout.stream
    logging = sys.modules.get("logging")
    if logged is not None and logging is not None and logging.getLogRecordFactory() is logged:
        logging.setLogRecordFactory(logged.factory)


class Capture:
    """One guard state of a function: its replay, or the reason it runs eagerly."""

    __slots__ = (
        "guards",
        "eager",
        "replay",
        "binders",
        "outputs",
        "schedule",
        "layouts",
        "backward",
        "n_outputs",
        "verified",
        "persistent",
        "sparse",
        "stateful",
        "splits",
    )

    def __init__(self, guards: Guards, eager: str | None = None) -> None:
        self.guards = guards
        self.eager = eager
        self.replay: Any = None
        self.binders: list[tuple[int, Any]] = []
        self.outputs: Any = None
        self.schedule: Schedule | None = None
        self.layouts: list[Any] = []  # per slot, as the recorder noted it (the passes read it)
        self.backward: BackwardPlan | None = None
        self.n_outputs = 0
        self.verified = not config.verify
        self.persistent: list[Tensor] = []
        self.sparse: list[Any] = []  # the sparse tensors the function reaches
        self.stateful: list[Any] = []
        self.splits: list[tuple[str, str, Any]] = []  # the graph breaks it checks: (what, site, value)

    def run(self, leaves: list[Any]) -> Any:
        ins = []
        for kind, x in self.binders:
            if kind == _ARG:
                v = leaves[x]
                ins.append(v if type(v) is np.ndarray else v._data)
            elif kind == _DATA:
                ins.append(x._data)
            elif kind == _GRAD:
                ins.append(x._grad._data)
            elif kind == _SPARSE_ARG:
                c = leaves[x[0]]._data
                ins.append(c.values if x[1] else c.indices)
            else:
                ins.append(x.array())
        filters = warnings.filters
        if not filters or filters[0] is not QUIET[0]:
            quiet_float_warnings()
        if self.splits:  # it may stop at a graph break: note what to put back (capture.undo)
            undo_log.pairs = []
            undo_log.rng = None
            try:
                res = self.replay(*ins)
            except BaseException:
                undo()
                raise
        else:
            res = self.replay(*ins)
        nodes: list[Any] = [None, None]
        plan = self.backward
        if plan is not None:
            targets = [
                None if i is None else (leaves[x] if kind == "arg" else x)
                for (kind, x), i in zip(plan.targets, plan.positions)
            ]
            nodes[1] = CompiledFunctionBackward(plan, res[self.n_outputs :], targets)
        return _build(self.outputs, res, leaves, nodes)


def _build(spec: Any, res: tuple[Any, ...], leaves: list[Any], nodes: list[Any]) -> Any:
    kind = spec[0]
    if kind == "t":
        _, i, rg, nr = spec
        if not rg:
            return make_tensor(res[i], None, False)
        if rg == "node":
            node = nodes[1]
        else:
            node = nodes[0]
            if node is None:
                node = nodes[0] = _FreedBackward()
        t = make_tensor(res[i], node, True)
        t._out_nr = nr
        return t
    if kind == "arg":
        return leaves[spec[1]]
    if kind == "obj":
        return spec[1]
    if kind == "seq":
        items = [_build(s, res, leaves, nodes) for s in spec[2]]
        return items if spec[1] is list else spec[1](items)
    if kind == "dict":
        return {k: _build(s, res, leaves, nodes) for k, s in spec[1]}
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
        self.need_grad: list[Tensor] = []  # outputs whose backward is recorded
        self.leaves = leaves
        self.persistent_tensors = [t for t, _ in persistent_start]
        self.options: dict[str, Any] | None = None  # passes hook: compile(options=...)

    def output_spec(self, obj: Any) -> Any:
        if type(obj) is SparseTensor:
            i = self.arg_ids.get(id(obj))
            if i is None:  # its indices and values would be arrays of the capture call
                raise _Unknown("a sparse tensor other than an argument")
            return ("arg", i)
        if isinstance(obj, Tensor):
            i = self.arg_ids.get(id(obj))
            if i is not None:
                return ("arg", i)
            if id(obj) in self.persistent:
                return ("obj", obj)
            if type(obj) is not Tensor:
                raise _Unknown(f"an output of type {type(obj).__name__}")
            slot = self.rec.ref(obj._data)
            rg: Any = obj._rg
            nr = 0
            if rg:
                fn = obj.grad_fn
                if fn is None:
                    raise _Unknown("an output that requires grad without a grad_fn")
                released = getattr(fn, "_is_released", None)
                if released is not None and released():
                    nr = self.n_out
                    self.n_out += 1
                elif self.rec.backward_runs:
                    raise _Unknown("an output that needs a gradient after a backward inside the function")
                else:  # its backward is recorded (record_backward) and replayed by one node
                    rg = "node"
                    nr = len(self.need_grad)
                    self.need_grad.append(obj)
            self.results.append(slot)
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
        c = Capture(guards)
        c.splits = rec.splits
        c.n_outputs = len(self.results)
        gout: list[int] = []
        if self.need_grad:
            try:
                c.backward, saved, gout = self.plan_backward()
            except _Unknown as e:
                return Capture(guards, f"the function returns {e}")
            except (RuntimeError, NotImplementedError) as e:  # eager mode raises it at backward()
                return Capture(guards, f"the backward of its outputs raises ({type(e).__name__}: {e})")
            self.results += saved
        inputs = tuple(s for s in rec.input_slots if s not in set(gout))
        _store_fresh_gradients(rec, inputs, self.results)
        schedule = Schedule(rec.entries, inputs, tuple(self.results))
        c.schedule = schedule
        c.layouts = rec.layouts
        c.verified = c.verified or not _passes.exact(self.options)  # passes hook
        c.replay = _replay.Replay(prepare=functools.partial(_passes.optimize, schedule, rec.layouts, self.options))
        c.outputs = outputs
        persistent, metas = [], []
        for slot, how, meta in zip(rec.input_slots, rec.sources, rec.metas):
            kind, x = how
            if kind == "gout":
                continue
            if kind == "arg":
                c.binders.append((_ARG, x))
            elif kind == "sarg":
                c.binders.append((_SPARSE_ARG, x))
            elif kind == "sparse":
                c.binders.append((_SPARSE, x))
                persistent.append(how)
                metas.append(meta)
            else:
                c.binders.append((_DATA if kind == "data" else _GRAD, x))
                persistent.append(how)
                metas.append(meta)
        for t in rec.grad_reads.values():  # a .grad the Python read: its presence as at the start
            if not any(kind == "grad" and x is t for kind, x in persistent):
                persistent.append(("grad", t))
                metas.append(rec.grad_start[id(t)])
        guards.add_sources(persistent, metas, list(rec.accumulated.values()))
        return c

    def plan_backward(self) -> tuple[BackwardPlan, list[int], list[int]]:
        """Record the backward of the outputs that need one; returns the plan, the forward slots
        it reads (kept by the forward replay) and the slots of the output gradients."""
        rec = self.rec
        targets: list[tuple[tuple[str, Any], Tensor]] = []
        for i, x in enumerate(self.leaves):
            if isinstance(x, Tensor) and x._rg:
                targets.append((("arg", i), x))
        for t in self.persistent_tensors:
            if t._rg and t.grad_fn is None and id(t) not in self.arg_ids:
                targets.append((("obj", t), t))
        entries, grad_slots, gout = record_backward(rec, self.need_grad, targets)
        defined = {o for e in entries for o in e.outputs if o is not None}
        read = [s for e in entries for s in e.inputs if type(s) is int] + [s for s in grad_slots if s is not None]
        gout_set = set(gout)
        saved = list(dict.fromkeys(s for s in read if s not in defined and s not in gout_set))
        plan = BackwardPlan()
        results = list(dict.fromkeys(s for s in grad_slots if s is not None))
        plan.schedule = Schedule(entries, tuple(saved) + tuple(gout), tuple(results))
        plan.replay = _replay.Replay(
            prepare=functools.partial(_passes.optimize, plan.schedule, rec.layouts, self.options)
        )
        plan.targets = [how for how, _ in targets]
        plan.positions = [None if s is None else results.index(s) for s in grad_slots]
        plan.shapes = [t._data.shape for _, t in targets]
        plan.dtypes = [t._data.dtype for _, t in targets]
        plan.out_likes = [(array_module(t._data), t._data.shape, t._data.dtype) for t in self.need_grad]
        return plan, saved, gout


def _store_fresh_gradients(rec: Recorder, inputs: tuple[int, ...], results: list[int]) -> None:
    """Let an accumulation store a gradient without copying it where eager mode would: an array
    of its own (not a view) that nothing reads later. (While recording, the recorder's own
    references made the engine copy every gradient.)"""
    entries = rec.entries
    slots_of: dict[int, list[int]] = {}  # slots that may hold the same array (a recycled id: more)
    for s, i in enumerate(rec.ids):
        slots_of.setdefault(i, []).append(s)
    last: dict[int, int] = {}
    for i, e in enumerate(entries):
        for s in e.inputs:
            if type(s) is int:
                last[s] = i
    pinned = set(inputs) | set(results)
    for i, e in enumerate(entries):
        if e.kernel is not accumulate_grad or not e.inputs[2].value:
            continue
        g = e.inputs[1]
        same = slots_of[rec.ids[g]]
        if g in rec.fresh and not pinned.intersection(same) and all(last.get(s, -1) <= i for s in same):
            e.inputs = (e.inputs[0], g, Const(False))


class CompiledFunction:
    """``compile(fn)``'s result: call it as ``fn``."""

    def __init__(self, fn: Any, fullgraph: bool = False, dynamic: bool | None = None) -> None:
        self.fn = fn
        self.fullgraph = fullgraph
        self.dynamic = dynamic  # compile(dynamic=...): which sizes may generalise (dynamic.py)
        self.specialized: list[str] = []  # why a changed dynamic size did not generalise
        self.cache: list[Capture] = []
        self.breaks: list[tuple[str, str]] = []
        self.reasons: list[str] = []  # why captures run eagerly
        self.recompiles: list[str] = []  # the guard that failed before each new capture
        self.break_values: dict[tuple[str, str], list[Any]] = {}  # per graph break: the values seen
        self.unstable: set[tuple[str, str]] = set()  # graph breaks whose value changes: not split
        self._warned = False
        self.options = _passes.OPTIONS  # compile(options=...), checked by fusion.check_options
        functools.update_wrapper(self, fn)
        _all.add(self)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _cap.recorder is not None or _disabled[0]:  # inside another capture, or disabled
            return self.fn(*args, **kwargs)
        leaves: list[Any] = []
        key = flatten((args, kwargs), leaves)
        why = stopped = None
        for c in self.cache:
            why = c.guards.failure(leaves, key)
            if why is None:
                cached = c
                if c.guards.dynamic is not None:
                    c = c.guards.dynamic.at(leaves)  # the capture for this size
                if c.eager is not None:
                    return self.fn(*args, **kwargs)
                try:
                    if not c.verified:
                        return self._verify(c, leaves, args, kwargs)
                    return c.run(leaves)
                except BreakChanged as e:  # nothing before the check had an effect: try the next
                    stopped = self._break_changed(c, e)
                    if cached not in self.cache:
                        break
        why = stopped or why
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

    def _break_changed(self, c: Capture, e: BreakChanged) -> str:
        """A replay of ``c`` stopped at a graph break whose value changed. Once a break has given
        more than ``_MAX_BREAK_VALUES`` values (it reads data, not a control-flow decision), the
        captures that check it are dropped and the next capture runs eagerly there."""
        what, site, expected = c.splits[e.index]
        seen = self.break_values.setdefault((what, site), [])
        if not any(same_value(v, e.value) for v in seen):
            seen.append(e.value)
        if len(seen) > _MAX_BREAK_VALUES:
            self.unstable.add((what, site))
            self.cache = [x for x in self.cache if all((w, s) != (what, site) for w, s, _ in x.splits)]
        return f"the value of {what} at {site} changed ({_short(expected)}, now {_short(e.value)})"

    def _roots(self, args: Any, kwargs: Any) -> list[Any]:
        return [self.fn, args, kwargs]

    def _capture(self, args: Any, kwargs: Any, leaves: list[Any], key: Any) -> Any:
        if _registry._observer is not None or _engine._observer is not None:
            self.reasons.append("the profiler is recording")
            return self.fn(*args, **kwargs)
        roots = self._roots(args, kwargs)
        modules, found, stateful = discover(roots)
        persistent = [t for t in found if type(t) is not SparseTensor]
        sparse = [t for t in found if type(t) is SparseTensor]
        plain, unguardable = python_reads(self.fn, args, kwargs, modules)
        guards = Guards(key, leaves, modules, plain)
        watched = containers(roots, modules)
        rec = Recorder(leaves, persistent, self.fullgraph, tuple(sparse))
        rec.unstable = self.unstable
        start = [(t, t._data) for t in persistent]
        stdout = _Watched(sys.stdout)
        logging = sys.modules.get("logging")  # a function that logs has imported it
        logged = None if logging is None else _Logged(logging.getLogRecordFactory())
        _cap.recorder = rec
        _cap.active = True
        _registry.set_op_observer(rec.apply)
        _engine.set_node_observer(rec.node_apply)
        collecting = gc.isenabled()
        gc.disable()  # the recording holds every array: collections would scan them over and over
        _watch(stdout, logged)
        try:
            out = self.fn(*args, **kwargs)
            _cap.active = False
            _unwatch(stdout, logged)  # only the function's own prints and log calls count
            finish = _Finish(rec, leaves, start)
            finish.options = self.options  # passes hook
            capture = finish.capture(guards, out)
            capture.persistent = persistent
            capture.sparse = sparse
            capture.stateful = stateful
            touched = changed_container(watched) or guards.changed_value()
            if touched is not None and capture.eager is None:
                capture.eager = f"it changed {touched} (a Python side effect a replay would not repeat)"
            if unguardable is not None and capture.eager is None:
                capture.eager = unguardable
            if capture.eager is not None:
                guards.drop_changed()
            if stdout.wrote and capture.eager is None:
                capture.eager = "it printed to sys.stdout (a Python side effect a replay would not repeat)"
            if logged is not None and logged.made and capture.eager is None:
                capture.eager = "it logged a message (a Python side effect a replay would not repeat)"
        finally:
            _unwatch(stdout, logged)
            _cap.active = False
            _cap.recorder = None
            _registry.set_op_observer(None)
            _engine.set_node_observer(None)
            if collecting:
                gc.enable()
        if capture.eager is not None or not self._generalise(capture, leaves):
            self.cache.append(capture)
        self.breaks += rec.breaks
        for what, site, value in capture.splits:
            seen = self.break_values.setdefault((what, site), [])
            if not any(same_value(v, value) for v in seen):
                seen.append(value)
        if capture.eager is not None and self.fullgraph:
            raise Unsupported(f"compile(fullgraph=True): {_name(self.fn)} cannot be captured whole: {capture.eager}")
        if capture.eager is not None:
            self.reasons.append(capture.eager)
            if not self._warned and not rec.breaks:
                self._warned = True
                warnings.warn(f"compile: {_name(self.fn)} runs eagerly: {capture.eager}", UserWarning, stacklevel=3)
        return out

    def _generalise(self, capture: Capture, leaves: list[Any]) -> bool:
        """Merge ``capture`` with an earlier capture recorded at another dynamic size, into one
        capture for every size (dynamic.py); False when there is none to merge with."""
        if self.dynamic is False or any(c.guards.dynamic is not None and c.guards.dynamic.broken for c in self.cache):
            return False  # never, or no longer: a generalisation of this function failed its check
        dims = _dynamic.dynamic_dims(leaves, self.dynamic)
        if not any(dims):
            return False
        for old in self.cache:
            merged = _dynamic.merge(old, capture, dims, self.options)
            if isinstance(merged, str):
                self.specialized.append(merged)
            elif merged is not None:
                return True
        return False

    def _verify(self, c: Capture, leaves: list[Any], args: Any, kwargs: Any) -> Any:
        """Run the call replayed and eagerly from the same state; keep the capture only if both
        agree bit for bit (verify.py). Returns eager mode's results."""
        c.verified = True
        tensors = c.persistent + [x for x in leaves if isinstance(x, Tensor)] + _sparse_arrays(leaves + c.sparse)
        before = Snapshot(tensors, c.stateful)
        try:
            replayed = c.run(leaves)
            ok = True
        except BreakChanged:  # another path: no effect happened before the check
            before.restore()
            c.verified = False
            raise
        except Exception as e:  # a replay that fails where eager mode works: not kept
            replayed, ok = repr(e), False
        replayed_state = state_of(tensors, c.stateful)
        before.restore()
        out = self.fn(*args, **kwargs)
        agree = ok and same(replayed, out) and same(replayed_state, state_of(tensors, c.stateful))
        if agree and c.backward is not None:
            agree = same_backward(c.backward, replayed, out, leaves)
        if not agree and c.guards.dynamic is not None:
            size = c.guards.dynamic.reject(c)
            self.specialized.append(f"size {size}: its replay did not match eager mode")
            warnings.warn(
                f"compile: {_name(self.fn)}: the capture generalised over a dynamic size did not match eager "
                f"mode at size {size}; new sizes capture again",
                UserWarning,
                stacklevel=3,
            )
        elif not agree:
            c.eager = "its replay did not match eager mode (an effect the recording did not see)"
            self.reasons.append(c.eager)
            warnings.warn(f"compile: {_name(self.fn)} runs eagerly: {c.eager}", UserWarning, stacklevel=3)
        return out

    def reset(self) -> None:
        self.cache.clear()
        self.breaks.clear()
        self.reasons.clear()
        self.recompiles.clear()
        self.specialized.clear()
        self.break_values.clear()
        self.unstable.clear()
        self._warned = False


def _sparse_arrays(objects: list[Any]) -> list[Tensor]:
    """The indices and values of the sparse tensors among ``objects``, each as a tensor over the
    same array: what a call may write into (``s._values().mul_(2)``), for ``Snapshot``."""
    return [
        make_tensor(a, None, False)
        for x in objects
        if type(x) is SparseTensor
        for a in (x._data.indices, x._data.values)
    ]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _name(fn: Any) -> str:
    return getattr(fn, "__qualname__", None) or type(fn).__name__


def reset() -> None:
    """Forget every capture (``torch._dynamo.reset()``, ``torch.compiler.reset()``)."""
    for f in list(_all):
        f.reset()

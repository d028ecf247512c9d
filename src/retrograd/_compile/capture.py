"""The recorder: what each hook records while a compiled function's first call runs eagerly.

Values are known by their array objects. A value a recorded kernel reads is

- a *source*: the array of a tensor argument, or of a parameter, buffer or gradient the function
  reaches (``function.discover`` finds them: closures, globals, ``self``, modules, optimizers),
  or the indices or values of a sparse tensor argument or one the function reaches
  (``SparseField``); the replay binds it afresh from that tensor at each call;
- the output of an earlier entry;
- or a constant argument (a Python number, a dtype, the array module, a shape).

Anything else is an array made outside recording (a NumPy computation on ``.numpy()``, a tensor
the function reaches in a way discovery does not see): a replay would read it as it was at
capture time, a stale value. The recorder never takes it as a constant: it marks the capture
failed (``fail``), the call finishes eagerly, and that function runs eagerly for that guard
state (the reason is kept for ``explain``). Work the recorder cannot replay (random draws from
a generator other than the default one, backward hooks, ``create_graph``, vmap, forward-mode
AD, saved tensor hooks) fails the same way. Conversions to Python values (``.item()``,
``bool(t)``, ``print(t)``) are graph breaks: recorded with the user's file:line, and raised at
once under ``fullgraph=True``; one that gives a plain value before any effect becomes a
``check_break`` entry (``Recorder.split``; ``function`` describes the design), any other fails
the capture.

Kernels run with the flag off (``_pause``), so what they do inside is not recorded twice; an
eager call (``optimizer.step``, ``zero_grad``, ``scheduler.step``) is recorded as one entry that
runs the same call again at replay time, reading its scalars (lr, step count) then.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import weakref
from typing import Any

import numpy as np

from .._autocast import _amp
from .._random import get_rng_state, set_rng_state
from .._tensor import Tensor, make_tensor
from ..autograd.graph import OpNode
from ..autograd._forward_state import _fw
from ..autograd._vmap_state import _vm
from ..autograd.grad_mode import _state
from ..backend import array_module
from ..ops._registry import apply as _apply, low_precision_forward
from ..sparse._tensor import SparseTensor
from .schedule import Const, Entry
from .state import _cap

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Unsupported(RuntimeError):
    """A graph break under ``fullgraph=True`` (``torch._dynamo.exc.Unsupported``)."""


class _Unknown(Exception):
    """An array that is neither a source nor an earlier entry's output."""


class BreakChanged(Exception):
    """Raised by a replay's ``check_break`` entry: the value Python read at graph break
    ``index`` differs from the one recorded, so the Python after it may do something else."""

    def __init__(self, index: int, value: Any) -> None:
        super().__init__(index, value)
        self.index = index
        self.value = value


def same_value(a: Any, b: Any) -> bool:
    """Whether two values Python read from tensors are the same: same type, same value, and for
    floats the same sign of zero, NaN equal to NaN (Python code given either behaves alike)."""
    if type(a) is not type(b):
        return False
    if type(a) is float:
        return (a == b and math.copysign(1.0, a) == math.copysign(1.0, b)) or (a != a and b != b)
    if type(a) is complex:
        return same_value(a.real, b.real) and same_value(a.imag, b.imag)
    if type(a) is list:
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    return bool(a == b)


def check_break(a: Any, convert: Any, expected: Any, index: int, last: bool) -> None:
    """A graph break's guard inside a replay: Python's value of ``a`` must be the recorded one.
    Past the last break the replay cannot stop any more: nothing is noted for ``undo``."""
    value = convert(a)
    if not same_value(value, expected):
        raise BreakChanged(index, value)
    if last:
        undo_log.pairs = undo_log.rng = None


class _UndoLog(threading.local):
    """What a replay changed while it may still stop at a graph break, to be put back: ``pairs``,
    ``(tensor, its former .grad)`` for each gradient it unbound (``.grad = ...``,
    ``zero_grad()``), or None when nothing is noted; ``rng``, the default generator's state
    before the replay's first draw (dropout), or None."""

    pairs: list[tuple[Tensor, Any]] | None = None
    rng: Any = None


undo_log = _UndoLog()


def undo() -> None:
    """Put back what ``undo_log`` noted (a replay stopped before its last break)."""
    pairs, rng = undo_log.pairs, undo_log.rng
    undo_log.pairs = undo_log.rng = None
    for t, g in reversed(pairs or ()):
        t._grad = g
    if rng is not None:
        set_rng_state(rng)


def drawing(kernel: Any) -> Any:
    """A kernel that draws from the default generator (dropout's mask, ``randn``) as a replay
    kernel that first notes the generator's state (at the replay's first draw), for ``undo``."""

    def run(*args: Any) -> Any:
        if undo_log.pairs is not None and undo_log.rng is None:
            undo_log.rng = get_rng_state()
        return kernel(*args)

    return run


def dropping_grads(zero_grad: Any, params: Any) -> Any:
    """``Optimizer.zero_grad`` or ``Module.zero_grad`` (``set_to_none=True``) as a replay kernel
    that notes the gradients it drops (of the parameters ``params(owner)`` gives), so that
    ``undo`` can put them back: it only unbinds them."""

    def kernel(owner: Any) -> None:
        pairs = undo_log.pairs
        if pairs is not None:
            pairs += [(p, p._grad) for p in params(owner) if p._grad is not None]
        zero_grad(owner, True)

    return kernel


def _optimizer_params(opt: Any) -> list[Any]:
    return [p for group in opt.param_groups for p in group["params"]]


def _module_params(module: Any) -> Any:
    return module.parameters()


_ZERO_GRADS = {"Optimizer.zero_grad": _optimizer_params, "Module.zero_grad": _module_params}


def has_hooks(extra: Any) -> bool:
    """Whether a node's extras hold a hook (removed hooks leave empty lists behind)."""
    return bool(extra) and any(v for k, v in extra.items() if k != "metadata")


def is_array(v: Any) -> bool:
    return isinstance(v, np.ndarray) or hasattr(type(v), "__cuda_array_interface__")


def user_site() -> str:
    """file:line of the innermost frame outside retrograd (the user's code)."""
    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_PKG_DIR):
        f = f.f_back
    return f"{f.f_code.co_filename}:{f.f_lineno}" if f is not None else "<unknown>"


# --------------------------------------------------------------------------- replay kernels
# The kernels of entries that are not an op's forward: each does what eager mode did there.
def copy_kernel(a: Any) -> Any:
    return a.copy(order="K")


def accumulate_grad(var: Tensor, g: Any, copy: bool) -> Any:
    """The engine's dense accumulation into a leaf's ``.grad`` (``engine._accumulate``)."""
    old = var._grad
    if old is None:
        if copy:
            g = g.copy(order="K")
        var._grad = make_tensor(g, None, False)
        return g
    old._data += g
    old._version_counter().bump()
    return old._data


def set_grad(t: Tensor, g: Any) -> None:
    pairs = undo_log.pairs
    if pairs is not None:
        pairs.append((t, t._grad))
    t._grad = None if g is None else make_tensor(g, None, False)


def _weak(arr: Any) -> Any:
    try:
        return weakref.ref(arr)
    except TypeError:  # an array type without weak references: held
        return lambda: arr


def _meta(a: Any) -> tuple[Any, ...]:
    """An array's metadata as the guards compare it (``guards.source_meta``)."""
    return (type(a), a.shape, a.dtype, a.strides)


def sparse_meta(t: Any) -> tuple[Any, ...]:
    """What a capture takes for constant about a sparse tensor: its dense shape, whether it is
    coalesced (Python branches on it), its indices' and values' array metadata (so its nnz: the
    kernels' shapes), ``requires_grad`` and leaf-ness. Its index and value *contents* are not:
    the replay binds its current arrays."""
    c = t._data
    return (c.shape, c.coalesced, _meta(c.indices), _meta(c.values), t._rg, t.grad_fn is None)


class SparseField:
    """One array of a sparse tensor the function reaches (not an argument): its indices
    (``field`` 0) or values (1), a source of the capture bound afresh at each call. Compared by
    the tensor's identity (a sparse tensor's ``==`` is not a Python truth value)."""

    __slots__ = ("tensor", "field")

    def __init__(self, tensor: Any, field: int) -> None:
        self.tensor = tensor
        self.field = field

    def array(self) -> Any:
        c = self.tensor._data
        return c.values if self.field else c.indices

    def __eq__(self, other: object) -> bool:
        return type(other) is SparseField and other.tensor is self.tensor and other.field == self.field

    def __hash__(self) -> int:
        return hash((id(self.tensor), self.field))


def _owner(a: Any) -> Any:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _address(a: Any) -> int:
    return a.__array_interface__["data"][0]


def alias_view(x: Any, offset: int, shape: tuple[int, ...], strides: tuple[int, ...], dtype: Any) -> Any:
    """The view, ``offset`` bytes from the start of ``x``, that library code made with NumPy
    (a reshape of a target, a slice): the same memory, read when the replay reaches it."""
    owner = _owner(x)
    start = _address(x) - _address(owner) + offset
    return np.ndarray(shape, dtype, buffer=owner, offset=start, strides=strides)


def set_data(t: Tensor, a: Any) -> None:
    t._data = a


def bump_version(vc: Any) -> None:
    vc.bump()


def vjp_kernel(op: Any, needs: tuple[bool, ...] | None, n_saved: int, n_out: int) -> Any:
    """An op's whole backward as one kernel: ``kernel(g, *saved, *args)`` on arrays, run as the
    engine runs it (grad mode off, autocast excluded); returns the input gradients' arrays."""
    codes = op._codes

    def kernel(g: Any, *values: Any) -> Any:
        saved = [v if c == -2 or v is None else make_tensor(v, None, False) for c, v in zip(codes, values[:n_saved])]
        prev = _state.enabled
        _state.enabled = False
        _amp.excluded += 1
        _amp.refresh()
        try:
            gt = make_tensor(g, None, False)
            if needs is not None:
                out = op.backward(gt, needs, *saved, *values[n_saved:])
            else:
                out = op.backward(gt, *saved, *values[n_saved:])
        finally:
            _state.enabled = prev
            _amp.excluded -= 1
            _amp.refresh()
        if type(out) is not tuple:
            out = (out,)
        res = tuple(None if t is None else t._data for t in out)
        return res[0] if n_out == 1 else res

    return kernel


def _tensor_args_kernel(kernel: Any, positions: tuple[int, ...]) -> Any:
    """``kernel`` given Tensors (around the arrays) at ``positions``, as the op's args held them."""

    def call(*values: Any) -> Any:
        vs = list(values)
        for i in positions:
            vs[i] = make_tensor(vs[i], None, False)
        return kernel(*vs)

    return call


def _low_kernel(op: Any, n: int) -> Any:
    def kernel(xp: Any, *values: Any) -> Any:
        return low_precision_forward(op, values[:n], values[n:])

    return kernel


def _array_kernel(kernel: Any, has_extra: bool) -> Any:
    """``kernel`` with a NumPy scalar result made a 0-d array (as ``apply`` does)."""

    def as_array(*a: Any) -> Any:
        out = kernel(*a)
        if has_extra:
            out, extra = out
            return (out if type(out) is np.ndarray or not isinstance(out, np.generic) else np.asarray(out)), extra
        return out if type(out) is np.ndarray or not isinstance(out, np.generic) else np.asarray(out)

    return as_array


def _call_kw(fn: Any, kwargs: dict[str, Any]) -> Any:
    if not kwargs:
        return fn

    def call(*args: Any) -> Any:
        return fn(*args, **kwargs)

    return call


_PLAIN = frozenset((int, float, bool, str, type(None), complex))  # constants without a second look


def _has_value(v: Any) -> bool:
    """Whether ``v`` holds an array or a tensor (at any depth of lists, tuples and dicts: an
    indexing key is a named tuple of tuples of arrays)."""
    if isinstance(v, Tensor) or is_array(v):
        return True
    if isinstance(v, (list, tuple)):
        return any(_has_value(x) for x in v)
    if isinstance(v, dict):
        return any(_has_value(x) for x in v.values())
    return False


class Hole:
    """The place of the ``i``-th array in the template of a nested argument (``_template``)."""

    __slots__ = ("i",)

    def __init__(self, i: int) -> None:
        self.i = i

    def __eq__(self, other: object) -> bool:
        return type(other) is Hole and other.i == self.i

    def __hash__(self) -> int:
        return hash((Hole, self.i))

    def __repr__(self) -> str:
        return f"Hole({self.i})"


def _template(v: Any, arrays: list[Any]) -> Any:
    """``v`` (a tuple, named tuple or list, nested) with each array replaced by a ``Hole``
    numbering it in ``arrays``, where it is appended."""
    if is_array(v):
        arrays.append(v)
        return Hole(len(arrays) - 1)
    if isinstance(v, Tensor):
        raise _Unknown("a tensor inside a nested argument")
    if isinstance(v, list):
        return [_template(x, arrays) for x in v]
    if isinstance(v, tuple):
        items = [_template(x, arrays) for x in v]
        return type(v)(*items) if hasattr(v, "_fields") else tuple(items)
    return v


def _filled(t: Any, arrays: tuple[Any, ...]) -> Any:
    """The inverse of ``_template``: ``t`` with each ``Hole`` replaced by its array."""
    if type(t) is Hole:
        return arrays[t.i]
    if isinstance(t, list):
        return [_filled(x, arrays) for x in t]
    if isinstance(t, tuple):
        items = [_filled(x, arrays) for x in t]
        return type(t)(*items) if hasattr(t, "_fields") else tuple(items)
    return t


def _nested_args_kernel(kernel: Any, nested: tuple[tuple[int, int], ...], total: int) -> Any:
    """``kernel`` given its nested arguments back: the arrays of all of them come last (``total``
    in all); ``nested`` holds, per nested argument, its position (where its template is) and how
    many of those arrays it takes, in order."""

    def call(*values: Any) -> Any:
        vs = list(values[: len(values) - total])
        arrays = values[len(values) - total :]
        start = 0
        for pos, n in nested:
            vs[pos] = _filled(vs[pos], arrays[start : start + n])
            start += n
        return kernel(*vs)

    return call


# --------------------------------------------------------------------------- the recorder
class Recorder:
    """Records one call: the entries, the sources, and why it cannot be replayed (``failed``)."""

    def __init__(
        self, leaves: list[Any], persistent: list[Tensor], fullgraph: bool, sparse: tuple[Any, ...] = ()
    ) -> None:
        self.slot: dict[int, int] = {}  # id(array) -> slot
        self.owners: dict[int, int] = {}  # id(the array owning a known array's memory) -> its slot
        # by slot: its array, held weakly (a capture keeps no more memory alive than eager mode;
        # a recycled id is told apart by the reference), and its id when it was defined
        self.arrays: list[Any] = []
        self.ids: list[int] = []
        self.layouts: list[Any] = []  # passes hook (fusion.py): per slot, (shape, dtype, C-contiguous) or None
        self.fresh: set[int] = set()  # slots of gradients that own their memory (not views)
        self.entries: list[Entry] = []
        self.sources: list[tuple[str, Any]] = []  # per input slot: ("arg", i), ("data", t), ("grad", t)
        self.metas: list[Any] = []  # per input slot: its array's metadata when bound (the guards')
        self.input_slots: list[int] = []
        self.failed: str | None = None
        self.breaks: list[tuple[str, str]] = []
        # the graph breaks the replay checks (check_break entries), by index: (what, site, value)
        self.splits: list[tuple[str, str, Any]] = []
        self.unstable: set[tuple[str, str]] = set()  # (what, site) of breaks not to split at
        self.effect: str | None = None  # the first effect a replay cannot take back (see split)
        self.checks: list[Entry] = []  # the check_break entries
        self.fullgraph = fullgraph
        self.backward_runs = 0
        self.in_node = 0  # > 0 while a backward node runs: failures are the node's
        self.node_failed: str | None = None
        self.accumulated: dict[int, Tensor] = {}  # leaves an entry accumulates into
        for i, leaf in enumerate(leaves):
            if type(leaf) is SparseTensor:  # two sources: its indices and its values
                self._bind(("sarg", (i, 0)), leaf._data.indices)
                self._bind(("sarg", (i, 1)), leaf._data.values)
            else:
                self._bind(("arg", i), leaf._data if isinstance(leaf, Tensor) else leaf)
        # entries that name a tensor object (a gradient accumulated into it, .grad assigned,
        # clip_grad_norm_ over it) are recorded only for tensors that are the same objects at
        # every call: parameters and buffers, never the tensors of the arguments
        self.arg_ids = {id(leaf) for leaf in leaves if isinstance(leaf, Tensor)}
        self.persist: dict[int, tuple[str, Tensor, Any]] = {}
        self.persist_ids = {id(t) for t in persistent}
        self.persist_vcs: set[int] = set()
        # per parameter or buffer: its gradient's metadata at the start (None: no gradient), and
        # those whose .grad the function read (``if p.grad is not None:``): guarded as they were
        self.grad_start: dict[int, Any] = {}
        self.grad_reads: dict[int, Tensor] = {}
        for t in persistent:
            self.persist.setdefault(id(t._data), ("data", t, t._data))
            g = t._grad
            self.grad_start[id(t)] = None if type(g) is not Tensor else _meta(g._data)
            if type(g) is Tensor:
                self.persist.setdefault(id(g._data), ("grad", t, g._data))
                self.persist_vcs.add(id(g._version_counter()))
            self.persist_vcs.add(id(t._version_counter()))
        for t in sparse:  # a sparse tensor the function reaches: its arrays bound when read
            for field in (0, 1):
                f = SparseField(t, field)
                self.persist.setdefault(id(f.array()), ("sparse", f, f.array()))

    # ----------------------------------------------------------------- values
    def read_grad(self, t: Tensor) -> None:
        """The function read ``t.grad``: Python may branch on whether it exists (``Module``'s
        own loops aside), so a parameter's or buffer's gradient is guarded as it was at the
        start. An argument's gradient is not: its tensor is a new object at each call."""
        if id(t) in self.grad_start:
            self.grad_reads.setdefault(id(t), t)

    def _bind(self, how: tuple[str, Any], arr: Any) -> int:
        s = self._define(arr)
        self.sources.append(how)
        self.input_slots.append(s)
        meta = _meta(arr)
        if how[0] == "data":  # guards.source_meta's form
            self.metas.append((meta, how[1]._rg))
        elif how[0] == "sparse":
            self.metas.append(sparse_meta(how[1].tensor))
        else:
            self.metas.append(meta)
        return s

    def _define(self, arr: Any) -> int:
        s = len(self.arrays)
        self.arrays.append(_weak(arr))
        self.ids.append(id(arr))
        self.layouts.append((arr.shape, arr.dtype, arr.flags.c_contiguous) if type(arr) is np.ndarray else None)
        self.slot[id(arr)] = s
        if type(arr) is np.ndarray:
            self.owners[id(_owner(arr))] = s
        return s

    def known(self, arr: Any) -> bool:
        """Whether ``arr`` is the array of a slot (an earlier entry's output or a source)."""
        s = self.slot.get(id(arr))
        return s is not None and self.arrays[s]() is arr

    def array(self, s: int) -> Any:
        """Slot ``s``'s array, or None once eager mode has freed it."""
        return self.arrays[s]()

    def ref(self, arr: Any) -> int:
        s = self.slot.get(id(arr))
        if s is not None and self.arrays[s]() is arr:
            return s
        p = self.persist.get(id(arr))
        if p is not None:
            return self._bind((p[0], p[1]), arr)
        if type(arr) is np.ndarray and arr.base is not None:
            owner = _owner(arr)
            known = self.owners.get(id(owner))
            if known is not None:
                x = self.arrays[known]()
                if x is None or _owner(x) is not owner:
                    known = None
            if known is None:  # a view of a parameter or buffer not read yet
                for kind, t, a in self.persist.values():
                    if type(a) is np.ndarray and _owner(a) is owner:
                        known = self.ref(a)
                        break
            if known is not None:  # a view of a known array: replayed as the same view
                x = self.arrays[known]()
                spec = (
                    known,
                    Const(_address(arr) - _address(x)),
                    Const(arr.shape),
                    Const(arr.strides),
                    Const(arr.dtype),
                )
                s = self._define(arr)
                self.entries.append(Entry(alias_view, spec, (s,), "view"))
                return s
        raise _Unknown(f"an array of shape {list(np.shape(arr))} made outside the recorded ops")

    def _spec(self, values: Any) -> tuple[Any, ...]:
        spec = []
        for v in values:
            if type(v) in _PLAIN:
                spec.append(Const(v))
            elif is_array(v):
                spec.append(self.ref(v))
            elif _has_value(v):
                raise _Unknown(f"a tensor or array inside an argument of type {type(v).__name__}")
            else:
                spec.append(Const(v))
        return tuple(spec)

    def fail(self, reason: str) -> None:
        if self.in_node:
            if self.node_failed is None:
                self.node_failed = reason
        elif self.failed is None:
            self.failed = reason

    def unrecorded(self, what: str) -> None:
        """Something the replay cannot repeat happened: this capture is not used."""
        self.fail(f"{what} at {user_site()} cannot be recorded")

    def graph_break(self, what: str, arr: Any = None, convert: Any = None) -> None:
        """Python reads a tensor's value: ``convert(arr)`` is what it gets (None: a break the
        replay cannot check, such as a string or an array; the capture runs eagerly)."""
        if self.in_node:  # inside an op's backward: that backward is replayed whole
            return self.fail(what)
        site = user_site()
        self.breaks.append((what, site))
        if self.fullgraph:
            raise Unsupported(
                f"compile(fullgraph=True): {what} at {site} needs the tensor's value in Python (a "
                f"graph break); move it out of the compiled function or compile with fullgraph=False"
            )
        if self.failed is not None:
            return
        why = self.split(what, site, arr, convert)
        if why is not None:
            self.fail(f"graph break: {what} at {site}: {why}")

    def split(self, what: str, site: str, arr: Any, convert: Any) -> str | None:
        """Record a graph break as a ``check_break`` entry: the replay computes the value Python
        read and goes on only while it is the recorded one, since the Python after the break (not
        replayed) did what it did because of that value. Returns why it cannot, or None.

        A changed value makes the replay stop at the check and the call run eagerly from the
        start, so no entry before a check may have an effect that running it again would repeat:
        a write into a parameter, buffer, gradient or argument, an optimizer or scheduler step
        (``effect`` names the first). Rebinding a gradient (``.grad = g``, ``zero_grad()``) and
        dropout's draws are not: the replay notes the former gradient and the generator's state,
        and ``undo`` puts them back."""
        if convert is None:
            return "the value it gives Python is not one a replay can check"
        if (what, site) in self.unstable:
            return "the value it reads changed at each call (it runs eagerly from now on)"
        if self.effect is not None:
            return f"it comes after {self.effect}, which a replay that finds another value there could not take back"
        try:
            slot = self.ref(arr)
        except _Unknown as e:
            return f"it reads {e}"
        try:
            value = self._pause(convert, arr)
        except Exception:  # eager mode raises it next (no single element, ...)
            return "the conversion fails"
        index = len(self.splits)
        self.splits.append((what, site, value))
        self.checks.append(
            Entry(check_break, (slot, Const(convert), Const(value), Const(index), Const(True)), (), "graph_break")
        )
        if len(self.checks) > 1:  # the one before is not the last check any more
            self.checks[-2].inputs = (*self.checks[-2].inputs[:4], Const(False))
        self.entries.append(self.checks[-1])
        return None

    def _note_effect(self, what: str) -> None:
        if self.effect is None:
            self.effect = f"{what} at {user_site()}"

    def _writes_source(self, values: tuple[Any, ...]) -> bool:
        """Whether an in-place kernel given ``values`` may write into the memory of a source (an
        argument, parameter, buffer or gradient), rather than of an array the call made itself."""
        arrays = [v for v in values if is_array(v)]
        for s in self.input_slots:
            src = self.arrays[s]()
            if src is None or any(type(a) is not np.ndarray or np.may_share_memory(a, src) for a in arrays):
                return True
        return False

    # ----------------------------------------------------------------- hooks
    def _pause(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        _cap.active = False
        try:
            return fn(*args, **kwargs)
        finally:
            _cap.active = True

    def apply(self, op: Any, inputs: Any, args: tuple[Any, ...]) -> Tensor:
        """The op observer of ``ops._registry.apply`` while recording: run the op, record its
        forward kernel (paused: just run it)."""
        cap = _cap
        state = _state
        prev = state.observing
        state.observing = True  # apply runs the op itself, not through this observer again
        if not cap.active:
            try:
                return _apply(op, inputs, args)
            finally:
                state.observing = prev
        cap.active = False
        try:
            result = _apply(op, inputs, args)
        finally:
            state.observing = prev
            cap.active = True
        if self.failed is None:
            if _vm.active or _fw.active or _state.node_extras:
                self.fail(f"{op.name} under vmap, forward-mode AD, anomaly mode or saved tensor hooks")
            else:
                try:
                    self._record_op(op, inputs, args, result)
                except _Unknown as e:
                    self.fail(f"{op.name} at {user_site()} reads {e}")
        return result

    def _record_op(self, op: Any, inputs: Any, args: tuple[Any, ...], result: Tensor) -> None:
        spec: list[Any] = []
        first = None
        low = False
        for t in inputs:
            if isinstance(t, Tensor):
                a = t._data
                if not is_array(a):
                    raise _Unknown(f"a {type(t).__name__}")
                if first is None:
                    first = a
                low = low or a.dtype.char in op._low
                spec.append(self.ref(a))
            else:
                spec.append(Const(t))
        wrapped = []  # positions of tensors among the args (where's condition): rewrapped
        nested: list[tuple[int, int]] = []  # args holding arrays deeper (an indexing key): rebuilt
        tail: list[Any] = []  # the arrays of the nested args, read after all the others
        for v in args:
            if type(v) is Tensor and is_array(v._data):
                wrapped.append(1 + len(spec))
                spec.append(self.ref(v._data))
            elif isinstance(v, (tuple, list)) and _has_value(v):
                arrays: list[Any] = []
                nested.append((1 + len(spec), 0))
                spec.append(Const(_template(v, arrays)))
                nested[-1] = (nested[-1][0], len(arrays))
                tail += [self.ref(a) for a in arrays]
            else:
                spec += self._spec((v,))
        spec += tail
        kernel = op.forward
        if low:
            kernel = _low_kernel(op, len(inputs))
        if wrapped:
            kernel = _tensor_args_kernel(kernel, tuple(wrapped))
        out = result._data
        if out.ndim == 0:
            kernel = _array_kernel(kernel, op._has_extra)
        if nested:
            kernel = _nested_args_kernel(kernel, tuple(nested), len(tail))
        xp = np if type(first) is np.ndarray else array_module(first)
        outs: tuple[int | None, ...]
        if op._has_extra:
            extra = None
            node = result.grad_fn
            if node is not None and getattr(node, "op", None) is op:
                extra = node._saved[op._codes.index(-2)]
            outs = (self._define(out), None if extra is None else self._define(extra))
        else:
            outs = (self._define(out),)
        self.entries.append(Entry(kernel, (Const(xp), *spec), outs, op.name))

    def call(
        self,
        kernel: Any,
        inputs: tuple[Any, ...],
        label: str,
        keep: bool = True,
        n_out: int = 1,
        draws: bool = False,
        check: bool = False,
    ) -> Any:
        """Run ``kernel(*inputs)`` and record it; ``keep``: its result is a new value (else it
        writes into an input, unless it is a ``check`` that only reads them and may raise);
        ``n_out`` > 1: a tuple of that many arrays; ``draws``: it draws from the default
        generator."""
        try:
            spec = self._spec(inputs) if self.failed is None else None
        except _Unknown as e:
            self.fail(f"{label} at {user_site()} reads {e}")
            spec = None
        if not keep and not check and self._writes_source(inputs):
            self._note_effect(f"an in-place write ({label})")
        out = self._pause(kernel, *inputs)
        if draws or label == "dropout_mask":  # a draw: the generator's state is put back by undo()
            kernel = drawing(kernel)
        if keep and n_out == 1 and isinstance(out, np.generic):  # a 0-d result: the array Tensor keeps
            kernel = _array_kernel(kernel, False)
            out = np.asarray(out)
        if spec is not None:
            if n_out > 1:
                outs: tuple[int | None, ...] = tuple(self._define(o) for o in out)
            else:
                outs = (self._define(out),) if keep else ()
            self.entries.append(Entry(kernel, spec, outs, label))
        return out

    def constant(self, arr: Any, data: Any) -> None:
        """``tensor(data)`` of Python numbers: a constant, copied afresh at each replay."""
        if _has_value(data) or (isinstance(data, (list, tuple)) and _nested_value(data)):
            return  # made from a tensor or an array: unknown, so reading it fails the capture
        if self.failed is None:
            self.entries.append(Entry(copy_kernel, (Const(arr.copy()),), (self._define(arr),), "tensor"))

    def shape_constant(self, arr: Any) -> None:
        """An array the library computed from shapes and Python arguments only (interpolation
        weights, pooling matrices): every one of those is guarded, so it is a constant of the
        capture, copied afresh at each replay."""
        if self.failed is None and not self.known(arr):
            self.entries.append(Entry(copy_kernel, (Const(arr.copy()),), (self._define(arr),), "constant"))

    def eager_call(self, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any], label: str) -> Any:
        """A call replayed as it is (``optimizer.step()``, ``zero_grad()``): it reads its
        scalars and the tensors' current state when it runs."""
        drops = label in _ZERO_GRADS and args[1:] == (True,) and not kwargs
        if not drops:  # zero_grad(set_to_none=True) only unbinds gradients: undone by undo()
            self._note_effect(label)
        out = self._pause(fn, *args, **kwargs)
        if self.failed is None:
            if any(_has_value(a) or callable(a) for a in (*args[1:], *kwargs.values())):
                self.fail(f"{label} at {user_site()} with a tensor or closure argument cannot be recorded")
            elif drops:
                self.entries.append(Entry(dropping_grads(fn, _ZERO_GRADS[label]), (Const(args[0]),), (), label))
            else:
                self.entries.append(Entry(_call_kw(fn, kwargs), tuple(Const(a) for a in args), (), label))
        return out

    def eager_call_on(self, fn: Any, tensors: list[Tensor], args: tuple[Any, ...], label: str) -> Any:
        """``fn(tensors, *args)`` replayed as it is (``clip_grad_norm_``: it reads the gradients
        of ``tensors`` when it runs), provided they are parameters or buffers the capture found
        (the same objects at every call). Its result is not a recorded value."""
        self._note_effect(label)
        out = self._pause(fn, tensors, *args)
        if self.failed is None:
            if not all(id(t) in self.persist_ids and id(t) not in self.arg_ids for t in tensors) or any(
                _has_value(a) for a in args
            ):
                self.fail(f"{label} at {user_site()} on tensors other than parameters or buffers")
            else:
                self.entries.append(Entry(fn, (Const(list(tensors)), *map(Const, args)), (), label))
        return out

    def accumulate(self, fn: Any, node: Any, g: Any, create_graph: bool) -> None:
        """The engine adding ``g`` into a leaf's ``.grad``."""
        var = node._variable()
        old = None if var is None else var._grad
        self._note_effect("a gradient accumulation into .grad")
        self._pause(fn, node, g, create_graph)
        if self.failed is not None or var is None or g is None or not var._rg:  # nothing accumulated
            return
        if create_graph or has_hooks(node._extra):
            return self.unrecorded("a gradient hook on a leaf (or create_graph)")
        if type(g) is not Tensor or (old is not None and type(old) is not Tensor):
            return self.unrecorded("a sparse gradient")
        if id(var) not in self.persist_ids or id(var) in self.arg_ids:  # the entry names the leaf
            return self.unrecorded("a backward into a leaf other than a parameter or buffer the function reaches")
        try:
            spec = (Const(var), self.ref(g._data))
            if old is not None:
                self.ref(old._data)
        except _Unknown as e:
            return self.fail(f"the gradient accumulated into a leaf reads {e}")
        new = var._grad._data
        copy = old is None and new is not g._data
        if g._data.base is None:
            self.fresh.add(spec[1])
        self.entries.append(Entry(accumulate_grad, (*spec, Const(copy)), (self._define(new),), "accumulate_grad"))
        self.accumulated[id(var)] = var

    def set_grad(self, t: Tensor, value: Any) -> None:
        """``t.grad = value`` (it only rebinds the gradient: undone by ``undo``, not an effect)."""
        if self.failed is not None:
            return
        if value is not None and (type(value) is not Tensor or value._rg):
            return self.unrecorded("assigning a sparse gradient or one that requires grad to .grad")
        if id(t) not in self.persist_ids or id(t) in self.arg_ids:
            return self.unrecorded("assigning .grad of a tensor other than a parameter or buffer the function reaches")
        try:
            spec = Const(None) if value is None else self.ref(value._data)
        except _Unknown as e:
            return self.fail(f"assigning .grad at {user_site()} reads {e}")
        self.entries.append(Entry(set_grad, (Const(t), spec), (), "set_grad"))

    def bump(self, t: Tensor) -> None:
        """An in-place write to ``t`` bumped its version: repeated for parameters and buffers."""
        vc = t._version_counter()
        if id(vc) in self.persist_vcs and self.failed is None:
            self.entries.append(Entry(bump_version, (Const(vc),), (), "bump_version"))

    def node_apply(self, node: Any, fn: Any, *args: Any) -> Any:
        """The engine's node observer while recording. An op's backward is recorded kernel by
        kernel when it runs through ``apply``; when it computes with NumPy directly (the fast
        paths of linear, conv, ...), it is recorded as one kernel that runs the whole backward
        again at replay time (``vjp_kernel``)."""
        if not _cap.active or self.failed is not None or fn != getattr(node, "_apply", None):
            return fn(*args)
        buf, retain = args
        start = len(self.entries)
        saved = getattr(node, "_saved", None)
        self.in_node += 1
        self.node_failed = None
        try:
            outs = fn(buf, retain)
        finally:
            self.in_node -= 1
        why, self.node_failed = self.node_failed, None
        if why is None:
            for g in outs:
                if g is not None and not self._known_gradient(g):
                    why = "a gradient computed outside apply"
                    break
        if why is None:
            return outs
        del self.entries[start:]
        if type(node) is not OpNode or not isinstance(saved, (list, tuple)) or buf[0] is None:
            self.fail(f"the backward of {node.name()} ({why}) cannot be recorded")
            return outs
        try:
            spec = [self.ref(buf[0]._data)]
            for item in saved:
                if item is None:
                    spec.append(Const(None))
                else:
                    spec.append(self.ref(item._data) if isinstance(item, Tensor) else self.ref(item))
            wrapped = []  # positions of tensors among the args (sdpa's float mask): rewrapped
            for v in node.args:
                if type(v) is Tensor and is_array(v._data):
                    wrapped.append(len(spec))
                    spec.append(self.ref(v._data))
                else:
                    spec += self._spec((v,))
        except _Unknown as e:
            self.fail(f"the backward of {node.name()} reads {e}")
            return outs
        needs = tuple(e is not None for e in node._next) if node.op.needs else None
        kernel = vjp_kernel(node.op, needs, len(saved), len(outs))
        if wrapped:
            kernel = _tensor_args_kernel(kernel, tuple(wrapped))
        slots = tuple(None if g is None else self._define(g._data) for g in outs)
        self.entries.append(
            Entry(
                kernel, tuple(spec), slots if len(slots) > 1 else tuple(s for s in slots if s is not None), node.name()
            )
        )
        return outs

    def _known_gradient(self, g: Any) -> bool:
        """Whether a gradient a node gave is made of recorded arrays (a sparse one, passed on to
        the node that made the sparse tensor, of its indices and values)."""
        if type(g) is Tensor:
            return self.known(g._data)
        if type(g) is SparseTensor:
            c = g._data
            return c.expand is None and self.known(c.indices) and self.known(c.values)
        return False

    def backward(self, create_graph: bool) -> None:
        self.backward_runs += 1
        if create_graph:
            self.unrecorded("backward with create_graph=True")


def _nested_value(seq: Any) -> bool:
    for x in seq:
        if isinstance(x, (list, tuple)):
            if _nested_value(x):
                return True
        elif isinstance(x, Tensor) or is_array(x):
            return True
    return False

"""``compile(dynamic=...)``: one capture for every size of a dimension that changes (the batch,
a sequence length).

A recording is concrete: its constants hold the sizes it ran with (reshape targets, factory
shapes, ``sum_to_shape`` targets, a mean's element count, slice bounds, view offsets), its
guards hold each argument's exact shape. A capture is generalised over a size ``s`` from two
recordings at two sizes, never from one:

1. The first call records and replays a capture specialised to its shapes, as without
   ``dynamic``.
2. A call that fails that capture's guards only because some dimensions of tensor arguments
   changed, from one size ``b1`` to one size ``b2`` in every argument that changed (both at
   least 2: sizes 0 and 1 always specialise, as PyTorch's), records again. ``merge`` compares the
   two recordings: they must be the same program, entry by entry (the same kernels, a closure
   compared by its code and the values of its cells; the same slots; the same outputs, sources
   and guards apart from those dimensions), and every constant that differs must be explained
   as a function of the size through both recordings: an integer ``a*s + c`` (``a``, ``c``
   integers), a tuple, list or slice of such integers, a float ``1.0 / n``, ``float(n)`` or
   ``n / (n - 1)`` for ``n = a*s + c``. Anything else (another number of kernels, a Python loop over the batch,
   a constant of another form) means that size specialises: the second recording is kept as a
   capture of its own, as without ``dynamic``.
3. The merged capture (``Generic``) accepts any size ``s >= 2`` at those positions, every other
   guard as recorded. At a size it has not run yet it evaluates its constants at ``s``, runs the
   schedule passes (fusion, buffer reuse: their buffers have that size's shapes) and checks that
   size's first replay against eager mode bit for bit (``verify.py``), whatever
   ``config.verify`` says: two sizes determine the formulas, they do not prove them. A mismatch
   stops the generalisation (``reject``): the call returns eager mode's results, and that size
   and every size not replayed yet capture again, specialised.

Under ``dynamic=True`` and ``dynamic=None`` (the default) any dimension of a tensor argument
may vary (the batch, the length of a sequence that grows in a sampling loop), as PyTorch's
automatic dynamic shapes make every dimension that changed dynamic; under ``dynamic=False``
none. The dimensions that did not change between the two recordings stay guarded exactly.
PyTorch's two differ (``True`` traces sizes symbolically from the first call, ``None`` makes a
dimension dynamic once it changed); here both generalise at the second size, as ``None`` does
there.
"""

from __future__ import annotations

import functools
import types
from typing import Any

import numpy as np

from .._tensor import Tensor
from ..sparse._tensor import SparseTensor
from . import fusion, replay
from .backward import BackwardPlan
from .capture import Hole, accumulate_grad, same_value as _same_scalar
from .guards import leaf_meta, same_guard, same_module_states
from .schedule import Const, Entry, Schedule

SIZES_KEPT = 16  # replays of a Generic kept at once (each holds its own code and buffers)
DYNAMIC_INDICES = "_dynamo_dynamic_indices"  # the attribute mark_dynamic sets (PyTorch's name)


class Differ(Exception):
    """Two recordings that are not one program over a size: the reason."""


# --------------------------------------------------------------------------- symbolic values
class Sym:
    """A constant as a function of the dynamic size ``s``."""

    __slots__ = ()

    def at(self, s: int) -> Any:
        raise NotImplementedError


class Affine(Sym):
    """The integer ``a*s + c``."""

    __slots__ = ("a", "c")

    def __init__(self, a: int, c: int) -> None:
        self.a = a
        self.c = c

    def at(self, s: int) -> int:
        return self.a * s + self.c

    def __repr__(self) -> str:
        return f"{self.a}*s{self.c:+d}"


class Reciprocal(Sym):
    """The float ``1.0 / (a*s + c)``."""

    __slots__ = ("d",)

    def __init__(self, d: Affine) -> None:
        self.d = d

    def at(self, s: int) -> float:
        return 1.0 / self.d.at(s)

    def __repr__(self) -> str:
        return f"1/({self.d})"


class AsFloat(Sym):
    """The float ``float(a*s + c)``."""

    __slots__ = ("d",)

    def __init__(self, d: Affine) -> None:
        self.d = d

    def at(self, s: int) -> float:
        return float(self.d.at(s))

    def __repr__(self) -> str:
        return f"float({self.d})"


class Unbiased(Sym):
    """The float ``n / (n - 1)`` for ``n = a*s + c``: Bessel's correction of a variance over
    ``n`` values (batch norm's running variance)."""

    __slots__ = ("d",)

    def __init__(self, d: Affine) -> None:
        self.d = d

    def at(self, s: int) -> float:
        n = self.d.at(s)
        return n / (n - 1)

    def __repr__(self) -> str:
        return f"n/(n-1), n = {self.d}"


class Items(Sym):
    """A tuple (named tuples too), list or slice whose items are constants or symbolic values."""

    __slots__ = ("kind", "items")

    def __init__(self, kind: type, items: list[Any]) -> None:
        self.kind = kind
        self.items = items

    def at(self, s: int) -> Any:
        values = [value_at(v, s) for v in self.items]
        if self.kind is slice:
            return slice(*values)
        if self.kind is tuple or self.kind is list:
            return self.kind(values)
        return self.kind(*values)  # a named tuple

    def __repr__(self) -> str:
        return f"{self.kind.__name__}{self.items}"


def value_at(v: Any, s: int) -> Any:
    return v.at(s) if isinstance(v, Sym) else v


def same_value(a: Any, b: Any) -> bool:
    """Whether two recorded constants are the same value: equal numbers of the same type,
    equal sequences and arrays, the same object, or functions of the same code over the same
    values (the closures a kernel is made of at each recording)."""
    if a is b:
        return True
    t = type(a)
    if t is not type(b):
        return False
    if t in (float, int, bool, str, complex):  # a float's sign of zero counts, NaN equals NaN
        return _same_scalar(a, b)
    if isinstance(a, np.dtype):
        return bool(a == b)
    if t is list or isinstance(a, tuple):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if t is dict:
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if t is slice:
        return same_value((a.start, a.stop, a.step), (b.start, b.stop, b.step))
    if t is Hole:  # an array's place in an indexing key
        return a.i == b.i
    if t is np.ndarray:
        return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()
    if isinstance(a, np.generic):
        return a.dtype == b.dtype and a.tobytes() == b.tobytes()
    if t is types.FunctionType:
        return (
            a.__code__ is b.__code__
            and same_value(a.__defaults__, b.__defaults__)
            and same_value(a.__kwdefaults__, b.__kwdefaults__)
            and same_value(_cells(a), _cells(b))
        )
    if t is types.MethodType:
        return a.__self__ is b.__self__ and same_value(a.__func__, b.__func__)
    if t is functools.partial:
        return same_value((a.func, a.args, a.keywords), (b.func, b.args, b.keywords))
    return False


def _cells(fn: types.FunctionType) -> list[Any]:
    out = []
    for cell in fn.__closure__ or ():
        try:
            out.append(cell.cell_contents)
        except ValueError:  # an empty cell
            out.append(Differ)
    return out


def _affine(v1: int, v2: int, b1: int, b2: int) -> Affine:
    step, rest = divmod(v2 - v1, b2 - b1)
    if rest:
        raise Differ(f"the constant {v1} at size {b1} is {v2} at size {b2}: not a*s + c with integer a, c")
    return Affine(step, v1 - step * b1)


def _denominator(v: float, form: type) -> int:
    """The integer ``n`` that ``v`` would be made from by ``form`` (checked by the caller)."""
    if form is Reciprocal:
        return round(1.0 / v)
    if form is AsFloat:
        return round(v)
    return round(v / (v - 1.0))  # v = n / (n - 1)


def generalise(v1: Any, v2: Any, b1: int, b2: int) -> Any:
    """``v1`` (recorded at size ``b1``) and ``v2`` (at ``b2``) as one value: ``v1`` itself when
    they are the same, else a ``Sym`` giving both; raises ``Differ`` when there is none."""
    if same_value(v1, v2):
        return v1
    t = type(v1)
    if t is not type(v2):
        raise Differ(f"a constant of type {t.__name__} at size {b1} is of type {type(v2).__name__} at size {b2}")
    if t is int:
        return _affine(v1, v2, b1, b2)
    if t is list or t is slice or isinstance(v1, tuple):
        xs = [v1.start, v1.stop, v1.step] if t is slice else v1
        ys = [v2.start, v2.stop, v2.step] if t is slice else v2
        if len(xs) != len(ys):
            raise Differ(f"a {t.__name__} of length {len(xs)} at size {b1} has length {len(ys)} at size {b2}")
        return Items(t, [generalise(x, y, b1, b2) for x, y in zip(xs, ys)])
    if t is float:
        for form in (Reciprocal, AsFloat, Unbiased):
            try:
                d1, d2 = (_denominator(v1, form), _denominator(v2, form))
                sym = form(_affine(d1, d2, b1, b2))
                if _same_scalar(sym.at(b1), v1) and _same_scalar(sym.at(b2), v2):
                    return sym
            except (ZeroDivisionError, OverflowError, ValueError, Differ):
                continue
        raise Differ(f"the float {v1!r} at size {b1} is {v2!r} at size {b2}: not 1/n, n or n/(n - 1) for n = a*s + c")
    raise Differ(f"a constant of type {t.__name__} differs between sizes {b1} and {b2}")


# --------------------------------------------------------------------------- merging two recordings
def _shape_index(meta: tuple[Any, ...]) -> int:
    return 2 if len(meta) == 7 else 1  # guards.leaf_meta: a Tensor's or an array's


def dynamic_dims(leaves: list[Any], dynamic: bool | None) -> list[set[int]]:
    """Per argument, the dimensions that may vary: all of them unless ``dynamic=False``, and those
    ``mark_dynamic`` marked."""
    out = []
    for x in leaves:
        dims = set(getattr(x, DYNAMIC_INDICES, ()) or ()) if isinstance(x, Tensor) else set()
        if type(x) is SparseTensor:  # its nnz shapes the kernels: a new one captures again
            out.append(dims)
            continue
        if dynamic is not False:
            dims.update(range(np.ndim(x._data if isinstance(x, Tensor) else x)))
        out.append(dims)
    return out


def sizes_of(old: tuple[Any, ...], new: tuple[Any, ...], dims: list[set[int]]) -> Any:
    """``(b1, b2, where)`` when the argument metadata ``old`` and ``new`` (``guards.leaf_meta``)
    differ only in allowed dimensions, all from one size ``b1`` to one size ``b2`` (``where``:
    the (argument, dimension) pairs that changed); else None."""
    pairs, where = set(), []
    for i, (m1, m2) in enumerate(zip(old, new)):
        k = _shape_index(m1)
        if len(m1) != len(m2) or len(m1[k]) != len(m2[k]):
            return None
        for d, (x, y) in enumerate(zip(m1[k], m2[k])):
            if x != y:
                if d not in dims[i]:
                    return None
                pairs.add((x, y))
                where.append((i, d))
    if len(pairs) != 1:
        return None
    ((b1, b2),) = pairs
    if min(b1, b2) < 2:
        return None
    return b1, b2, where


def _entries(e1: list[Entry], e2: list[Entry], b1: int, b2: int, what: str) -> list[Entry]:
    if len(e1) != len(e2):
        raise Differ(f"the {what} runs {len(e1)} kernels at size {b1} and {len(e2)} at size {b2}")
    out = []
    for x, y in zip(e1, e2):
        if x.label != y.label or x.outputs != y.outputs or len(x.inputs) != len(y.inputs):
            raise Differ(f"the {what} runs {x.label} at size {b1} where it runs {y.label} at size {b2}")
        if not same_value(x.kernel, y.kernel):
            raise Differ(f"the kernel of {x.label} in the {what} is made for each size")
        ins: list[Any] = []
        for a, b in zip(x.inputs, y.inputs):
            if type(a) is not type(b) or (type(a) is int and a != b):
                raise Differ(f"{x.label} in the {what} reads other values at size {b2}")
            if type(a) is int:
                ins.append(a)
            elif x.kernel is accumulate_grad and a.value is not b.value:
                # whether a fresh gradient is stored without a copy depends on which arrays the
                # recording happened to free first: copying is right at every size
                ins.append(Const(True))
            else:
                try:
                    v = generalise(a.value, b.value, b1, b2)
                except Differ as e:
                    raise Differ(f"{x.label} in the {what}: {e}") from None
                ins.append(a if v is a.value else Const(v))
        out.append(Entry(x.kernel, tuple(ins), x.outputs, x.label))
    return out


def _schedule(s1: Schedule, s2: Schedule, b1: int, b2: int, what: str) -> Schedule:
    entries = _entries(s1.entries, s2.entries, b1, b2, what)
    if s1.inputs != s2.inputs or s1.results != s2.results:
        raise Differ(f"the {what} binds or returns other slots at size {b2}")
    return Schedule(entries, s1.inputs, s1.results)


def _layouts(l1: list[Any], l2: list[Any], b1: int, b2: int) -> list[Any]:
    if len(l1) != len(l2):
        raise Differ(f"the recording holds {len(l1)} values at size {b1} and {len(l2)} at size {b2}")
    out: list[Any] = []
    for x, y in zip(l1, l2):
        if x is None or y is None:
            if x is not y:
                raise Differ("a value is of another array type at another size")
            out.append(None)
            continue
        if x[1] != y[1] or x[2] != y[2]:
            raise Differ(f"a value of shape {list(x[0])} changes dtype or contiguity at size {b2}")
        out.append((generalise(x[0], y[0], b1, b2), x[1], x[2]))
    return out


def _same_spec(a: Any, b: Any) -> bool:
    """Whether two outputs specs (``function._Finish.output_spec``) build the same outputs."""
    if type(a) is not tuple or type(b) is not tuple or len(a) != len(b) or a[0] != b[0]:
        return False
    kind = a[0]
    if kind == "seq":
        return same_value(a[1], b[1]) and len(a[2]) == len(b[2]) and all(map(_same_spec, a[2], b[2]))
    if kind == "dict":
        return [k for k, _ in a[1]] == [k for k, _ in b[1]] and all(
            _same_spec(x, y) for (_, x), (_, y) in zip(a[1], b[1])
        )
    return same_value(a[1:], b[1:])


def _same_how(a: Any, b: Any) -> bool:
    """Whether two lists of sources (``(kind, argument index or tensor)``) name the same ones."""
    return len(a) == len(b) and all(x[0] == y[0] and (x[1] is y[1] or same_value(x[1], y[1])) for x, y in zip(a, b))


def _same_guards(g1: Any, g2: Any) -> bool:
    """Whether two captures' guards agree on everything but their tensor arguments."""
    return (
        g1.key == g2.key
        and g1.modes == g2.modes
        and len(g1.modules) == len(g2.modules)
        and all(m is n for m, n in zip(g1.modules, g2.modules))
        and same_module_states(g1.module_states, g2.module_states)
        and g1.global_hooks == g2.global_hooks
        and _same_how(g1.sources, g2.sources)
        and same_value(g1.metas, g2.metas)
        and len(g1.accum) == len(g2.accum)
        and all(a is b for a, b in zip(g1.accum, g2.accum))
        and len(g1.plain) == len(g2.plain)
        and all(same_guard(x, y) for x, y in zip(g1.plain, g2.plain))
    )


class Generic:
    """A capture over every size ``s >= 2`` of its dynamic dimensions (see the module
    docstring); its guards' ``dynamic`` is this object."""

    __slots__ = (
        "base",
        "where",
        "leaves",
        "forward",
        "layouts",
        "backward",
        "options",
        "sizes",
        "expected",
        "dropped",
        "eager",
        "broken",
    )

    def __init__(self, base: Any, where: list[tuple[int, int]], leaves: tuple[Any, ...]) -> None:
        self.base = base  # the first capture: what does not depend on the size
        self.where = where  # (argument, dimension) pairs holding the size
        self.leaves = leaves  # each argument's metadata, shapes and strides symbolic
        self.forward: Schedule | None = None
        self.layouts: list[Any] = []
        self.backward: tuple[Schedule, list[Any], list[Any]] | None = None  # schedule, shapes, out_likes
        self.options: Any = None
        self.sizes: dict[int, Any] = {}  # size -> its Capture, at most SIZES_KEPT (the oldest made go first)
        self.expected: dict[int, tuple[Any, ...]] = {}  # size -> the arguments' metadata there
        # sizes whose replay was dropped to keep SIZES_KEPT: they run eagerly when they come back,
        # since a loop over more sizes than are kept (a generation loop growing its sequence)
        # would otherwise rebuild a replay at every call, which costs more than an eager call
        self.dropped: set[int] = set()
        self.eager: Any = None  # the Capture that says so (made when first needed)
        self.broken: str | None = None  # why new sizes no longer generalise

    def size(self, leaves: list[Any]) -> int | None:
        i, d = self.where[0]
        x = leaves[i]
        shape = (x._data if isinstance(x, Tensor) else x).shape
        return shape[d] if d < len(shape) else None

    def failure(self, leaves: list[Any]) -> str | None:
        """Why the arguments do not fit this capture at their size, or None."""
        s = self.size(leaves)
        if s is None or len(leaves) != len(self.leaves):
            return "a tensor argument changed its number of dimensions"
        if s in self.dropped:
            return None  # at() gives the eager capture
        if s not in self.sizes:
            if s < 2:
                return f"dynamic size {s}: sizes 0 and 1 are specialised"
            if self.broken is not None:
                return f"dynamic size {s}: {self.broken}"
        expected = self.expected.get(s)
        try:
            if expected is None:
                expected = tuple(tuple(value_at(v, s) for v in meta) for meta in self.leaves)
            for i, x in enumerate(leaves):
                if leaf_meta(x) != expected[i]:
                    return f"tensor argument {i} changed shape, dtype, strides or requires_grad"
            if s not in self.sizes:
                self._add(s)
            self.expected[s] = expected
        except Exception as e:  # a formula has no value there: 1/(s - 3) at size 3, a negative shape
            return f"dynamic size {s}: a constant of the capture has no value there ({e})"
        return None

    def at(self, leaves: list[Any]) -> Any:
        """The capture of the arguments' size (``failure`` made it)."""
        s = self.size(leaves)
        assert s is not None  # failure checked it
        c = self.sizes.get(s)
        if c is None:  # a dropped size
            if self.eager is None:
                self.eager = type(self.base)(
                    self.base.guards, f"more than {SIZES_KEPT} sizes: the sizes whose replays were dropped run eagerly"
                )
            return self.eager
        return c

    def _add(self, s: int) -> None:
        """Make the capture of size ``s``, checked at its first replay (the formulas are a guess),
        dropping the oldest one beyond SIZES_KEPT."""
        if len(self.sizes) >= SIZES_KEPT:
            first = next(iter(self.sizes))
            self.expected.pop(first, None)
            del self.sizes[first]
            self.dropped.add(first)
        c = self._make(s)
        c.verified = False
        self.sizes[s] = c

    def _make(self, s: int) -> Any:
        base = self.base
        assert self.forward is not None
        c = type(base)(base.guards)  # a Capture (function.py, which imports this module)
        c.binders = base.binders
        c.outputs = base.outputs
        c.n_outputs = base.n_outputs
        c.persistent = base.persistent
        c.sparse = base.sparse
        c.stateful = base.stateful
        c.splits = base.splits  # the same checks at every size (merge requires it)
        c.layouts = [None if x is None else (value_at(x[0], s), x[1], x[2]) for x in self.layouts]
        c.schedule = _schedule_at(self.forward, s)
        c.replay = replay.Replay(fusion.optimize(c.schedule, c.layouts, self.options))
        if self.backward is not None:
            schedule, shapes, out_likes = self.backward
            plan, old = BackwardPlan(), base.backward
            plan.schedule = _schedule_at(schedule, s)
            plan.replay = replay.Replay(fusion.optimize(plan.schedule, c.layouts, self.options))
            plan.targets = old.targets
            plan.positions = old.positions
            plan.dtypes = old.dtypes
            plan.shapes = [value_at(x, s) for x in shapes]
            plan.out_likes = [(xp, value_at(shape, s), dtype) for xp, shape, dtype in out_likes]
            c.backward = plan
        return c

    def reject(self, c: Any) -> int:
        """``c``'s first replay did not match eager mode: no size generalises from now on, and
        ``c``'s size captures again. Returns that size."""
        s = next(k for k, v in self.sizes.items() if v is c)
        del self.sizes[s]
        self.expected.pop(s, None)
        self.broken = f"the capture generalised over it did not match eager mode at size {s}"
        return s


def _schedule_at(schedule: Schedule, s: int) -> Schedule:
    entries = []
    for e in schedule.entries:
        if any(type(x) is Const and isinstance(x.value, Sym) for x in e.inputs):
            ins = tuple(Const(x.value.at(s)) if type(x) is Const and isinstance(x.value, Sym) else x for x in e.inputs)
            e = Entry(e.kernel, ins, e.outputs, e.label)
        entries.append(e)
    return Schedule(entries, schedule.inputs, schedule.results)


def merge(old: Any, new: Any, dims: list[set[int]], options: Any) -> Generic | str | None:
    """One ``Generic`` capture from two captures recorded at two sizes, when ``new`` differs
    from ``old`` only in the sizes ``dims`` allows; a string: why they cannot be merged (that
    size specialises); None: they differ in more than a dynamic size."""
    g1, g2 = old.guards, new.guards
    if old.eager is not None or old.schedule is None or g1.dynamic is not None or len(g1.leaves) != len(g2.leaves):
        return None
    found = sizes_of(g1.leaves, g2.leaves, dims)
    if found is None or not _same_guards(g1, g2):
        return None
    b1, b2, where = found
    try:
        if not _exact(options):
            raise Differ("compile(options=...) asks for a fused replay that is not bit for bit eager mode's")
        if len(old.splits) != len(new.splits) or not all(
            (w1, s1) == (w2, s2) and same_value(v1, v2) for (w1, s1, v1), (w2, s2, v2) in zip(old.splits, new.splits)
        ):  # a value Python read at a graph break that depends on the size: not generalised
            raise Differ("the graph breaks gave other values at another size")
        leaves = tuple(tuple(generalise(x, y, b1, b2) for x, y in zip(m1, m2)) for m1, m2 in zip(g1.leaves, g2.leaves))
        for (i, d), meta in zip(where, [leaves[i] for i, _ in where]):
            dim = meta[_shape_index(meta)].items[d]
            if not (type(dim) is Affine and dim.a == 1 and dim.c == 0):
                raise Differ(f"dimension {d} of tensor argument {i} is not the size itself")
        if not _same_spec(old.outputs, new.outputs):
            raise Differ("the function returns other outputs (or Python values) at another size")
        if (
            old.n_outputs != new.n_outputs
            or not _same_how(old.binders, new.binders)
            or (old.backward is None) != (new.backward is None)
        ):
            raise Differ("the recording reads other sources at another size")
        generic = Generic(old, where, leaves)
        generic.options = options
        generic.forward = _schedule(old.schedule, new.schedule, b1, b2, "forward")
        generic.layouts = _layouts(old.layouts, new.layouts, b1, b2)
        p1, p2 = old.backward, new.backward
        if p1 is not None:
            if not (_same_how(p1.targets, p2.targets) and p1.positions == p2.positions and p1.dtypes == p2.dtypes):
                raise Differ("the backward has other targets at another size")
            if len(p1.shapes) != len(p2.shapes) or len(p1.out_likes) != len(p2.out_likes):
                raise Differ("the backward has other targets at another size")
            shapes = [generalise(x, y, b1, b2) for x, y in zip(p1.shapes, p2.shapes)]
            out_likes = []
            for (xp, s1, d1), (xq, s2, d2) in zip(p1.out_likes, p2.out_likes):
                if xp is not xq or d1 != d2:
                    raise Differ("an output's gradient has another type at another size")
                out_likes.append((xp, generalise(s1, s2, b1, b2), d1))
            generic.backward = (_schedule(p1.schedule, p2.schedule, b1, b2, "backward"), shapes, out_likes)
    except Differ as e:
        return f"sizes {b1} and {b2} of dimension {where[0][1]} of tensor argument {where[0][0]}: {e}"
    generic.sizes = {b1: old, b2: new}
    new.guards = g1
    g1.dynamic = generic
    return generic


def _exact(options: Any) -> bool:
    from .fusion import exact

    return exact(options)


def mark_dynamic(
    t: Any,
    index: Any,
    *,
    hint_override: Any = None,
    min: Any = None,  # noqa: A002
    max: Any = None,  # noqa: A002
    specialize_on: Any = None,
) -> None:
    """``torch._dynamo.mark_dynamic``: dimension ``index`` (an int or a list of ints) of ``t`` may
    vary between calls of a compiled function it is passed to, unless that was compiled with
    ``dynamic=False`` (which never generalises; dimension 0 may vary without a mark). Here a
    marked dimension generalises at its second size (two recordings, see the module docstring),
    not at the first call as PyTorch's symbolic trace makes it. A dimension out of range raises
    IndexError (PyTorch records it and never uses it); a negative one counts from the end.
    Ranges (``min``, ``max``), ``hint_override`` and ``specialize_on`` are not supported:
    NotImplementedError."""
    if min is not None or max is not None or hint_override is not None or specialize_on is not None:
        raise NotImplementedError(
            "mark_dynamic: min, max, hint_override and specialize_on are not supported (retrograd keeps no "
            "ranges or size hints)"
        )
    if not isinstance(t, Tensor):
        raise TypeError(f"mark_dynamic: expected a Tensor, got {type(t).__name__}")
    dims = [index] if isinstance(index, int) else list(index)
    ndim = t.dim()
    for d in dims:
        if type(d) is not int:
            raise TypeError(f"mark_dynamic: index must be an int or a list of ints, got {type(d).__name__}")
        if not -ndim <= d < ndim:
            raise IndexError(f"mark_dynamic: dimension {d} out of range for a tensor of {ndim} dimensions")
    marked = set(getattr(t, DYNAMIC_INDICES, ()) or ())
    setattr(t, DYNAMIC_INDICES, marked | {d % ndim for d in dims})

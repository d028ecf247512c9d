"""What a capture depended on, checked before each replay; and how the function's state is found.

``flatten`` turns a call's arguments into its tensors (and NumPy arrays) and a key holding
everything else by value (Python numbers, strings, None, the structure of lists, tuples and
dicts), so that a replay is taken only for equal non-tensor arguments.

``discover`` finds the state a function reaches besides its arguments: the tensors, modules and
optimizers in its closure, in the globals its code names, in ``self`` of a bound method (and one
level into plain objects, lists and dicts there). Their tensors are the capture's persistent
sources; the modules' ``training`` flags, parameters, buffers, submodules and hooks are guarded.

``Guards`` holds, for one capture: the key, each argument's metadata (type, shape, dtype, strides,
``requires_grad``, leaf or not), which arguments share one array, the global modes (grad mode,
inference mode, autocast, the default dtype), the modules' state, the metadata of every
parameter, buffer or gradient the replay reads, that no hook was added to a leaf the replay
accumulates into, and the Python values the call can read besides its arguments (``plain``,
found by ``python_reads``). A capture bakes each such value in (a scalar multiplied into a
kernel, a flag that chose a branch, a size), so a changed one recompiles rather than replaying a
stale result. ``python_reads`` follows the code the call can run, statically, as PyTorch's
dynamo guards what its trace read: the function, and every Python function, method, property
and callable object reachable from it through globals, closure cells, attributes and
arguments, and the ``forward`` and hooks of the user's modules (code of retrograd, NumPy and
the standard library apart: of a library module, its public plain attributes are guarded, which
its code reads). In that code, each read that starts at a global, a closure cell,
or a parameter the code never assigns (``self``, an argument), followed by attribute loads and
subscripts by constants (``cfg.scale``, ``self.opts.eps``, ``CONFIG["lr_scale"]``,
``Cls.SCALE``), is guarded at each step where Python finds the value: a dict or namespace entry
(an instance's ``__dict__``, each class of the MRO up to the one that holds it, a module's
globals), a cell, a list item, a slot; plain values (numbers, strings, bools, None, tuples of
them) by value, any other object by identity. An object or container the code uses otherwise
(passes to a helper, iterates, calls a method of) has what it holds guarded, three levels down
(its attributes and entries and their number; beyond ``_MAX_ENTRIES`` entries, all of them in
one check by identity), and the methods of its class are followed.
Each check reads a dict entry, a cell or a list item and compares it with the value held: tens
of nanoseconds each. Values the analysis cannot follow are not guarded: those reached only
through a local variable or a call's result (``ref().scale``, ``random.random()``). Code that
reads names it cannot see (``globals()``, ``eval``, ``exec``), a container of more than
``_MAX_ITEMS`` entries passed on, or more than ``_MAX_FUNCTIONS`` functions make the capture
run eagerly, with the reason. A guarded value that the capture itself changed (``STEPS += 1``,
``self.last = out``) is a Python side effect a replay would not repeat: that capture runs
eagerly. A capture generalised over a dynamic size (``dynamic.Generic``, in ``dynamic``) checks
the tensor arguments' metadata at their size instead.
"""

from __future__ import annotations

import dis
import functools
import inspect
import operator
import os
import sys
import sysconfig
import types
from typing import Any

import numpy as np

from .._autocast import _amp
from .._dtype import get_default_dtype
from .._tensor import Tensor
from ..sparse._tensor import SparseTensor
from ..autograd._forward_state import _fw
from ..autograd._vmap_state import _vm
from ..autograd.grad_mode import _state
from .capture import has_hooks, same_value, sparse_meta

_TENSOR = object()  # stands for a tensor (or array) argument in a key


def flatten(obj: Any, leaves: list[Any]) -> Any:
    """The key of ``obj``; its tensors and arrays are appended to ``leaves``, in order."""
    if isinstance(obj, Tensor) or isinstance(obj, np.ndarray) or type(obj) is SparseTensor:
        leaves.append(obj)
        return _TENSOR
    t = type(obj)
    if t is tuple or t is list:
        return (t, tuple([flatten(x, leaves) for x in obj]))
    if t is dict:
        return (t, tuple([(k, flatten(v, leaves)) for k, v in obj.items()]))
    if t in (int, float, bool, str, type(None), complex):
        return (t, obj)
    return (t, _Identity(obj))


class _Identity:
    """A non-tensor argument compared by identity (a module, a function, an object)."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def __eq__(self, other: object) -> bool:
        return type(other) is _Identity and other.obj is self.obj

    def __hash__(self) -> int:
        return id(self.obj)


def leaf_meta(x: Any) -> tuple[Any, ...]:
    if isinstance(x, Tensor):
        a = x._data
        return (type(x), type(a), a.shape, a.dtype, a.strides, x._rg, x.grad_fn is None)
    if type(x) is SparseTensor:
        return (type(x), sparse_meta(x))
    return (type(x), x.shape, x.dtype, x.strides)


def _arrays_of(x: Any) -> tuple[Any, ...]:
    if isinstance(x, Tensor):
        return (x._data,)
    if type(x) is SparseTensor:
        return (x._data.indices, x._data.values)
    return (x,)


def aliasing(leaves: list[Any]) -> tuple[int, ...]:
    """For each array of the arguments (a sparse tensor has two: its indices and values), the
    position of the first with the same array: the recorder knows values by their arrays, so a
    capture of ``f(a, a)`` reads one slot for both, which replayed for ``f(a, b)`` would read
    ``b`` where eager mode reads ``a``."""
    first: dict[int, int] = {}
    arrays = [a for x in leaves for a in _arrays_of(x)]
    return tuple([first.setdefault(id(a), i) for i, a in enumerate(arrays)])


def modes() -> tuple[Any, ...]:
    """The global state a recording depends on."""
    return (
        _state.enabled,
        _state.inference,
        _state.node_extras,
        _fw.active,
        _vm.active,
        _amp.on,
        _amp.cpu,
        _amp.cuda,
        _amp.cpu_dtype,
        _amp.cuda_dtype,
        get_default_dtype(),
    )


def _module_state(m: Any) -> tuple[Any, ...]:
    """What a capture depends on in module ``m``: its training flag, the objects of its
    parameters, buffers and submodules, and the keys of its hook dicts (``_module_unchanged``)."""
    return (
        m.training,
        tuple(m._parameters.values()),
        tuple(m._buffers.values()),
        tuple(m._modules.values()),
        tuple(m._forward_pre_hooks),
        tuple(m._forward_hooks),
        tuple(m._backward_hooks),
        tuple(m._backward_pre_hooks),
    )


def _same_objects(d: dict[Any, Any], objects: tuple[Any, ...]) -> bool:
    return len(d) == len(objects) and all(map(operator.is_, d.values(), objects))


def _same_keys(d: dict[Any, Any], keys: tuple[Any, ...]) -> bool:
    return len(d) == len(keys) and (not keys or tuple(d) == keys)


def same_module_states(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> bool:
    """Whether two captures saw the same modules' states (objects by identity: a tensor's
    ``==`` is elementwise)."""
    return len(a) == len(b) and all(
        x[0] == y[0]
        and all(len(p) == len(q) and all(map(operator.is_, p, q)) for p, q in zip(x[1:4], y[1:4]))
        and x[4:] == y[4:]
        for x, y in zip(a, b)
    )


def _module_unchanged(m: Any, state: tuple[Any, ...]) -> bool:
    """``_module_state(m) == state`` without building the tuples (it runs before every replay
    for every module the function reaches), objects compared by identity."""
    training, params, buffers, modules, pre, fwd, bwd, bwd_pre = state
    return (
        m.training == training
        and _same_objects(m._parameters, params)
        and _same_objects(m._buffers, buffers)
        and _same_objects(m._modules, modules)
        and _same_keys(m._forward_pre_hooks, pre)
        and _same_keys(m._forward_hooks, fwd)
        and _same_keys(m._backward_hooks, bwd)
        and _same_keys(m._backward_pre_hooks, bwd_pre)
    )


def _global_hooks() -> tuple[Any, ...]:
    from ..nn.modules import module as _m

    return (
        tuple(_m._global_forward_pre_hooks),
        tuple(_m._global_forward_hooks),
        tuple(_m._global_backward_hooks),
        tuple(_m._global_backward_pre_hooks),
    )


def _array_meta(a: Any) -> tuple[Any, ...]:
    return (type(a), a.shape, a.dtype, a.strides)


def source_meta(how: tuple[str, Any]) -> Any:
    kind, t = how
    if kind == "sparse":
        return sparse_meta(t.tensor)
    if kind == "data":
        return (_array_meta(t._data), t._rg)
    g = t._grad
    return None if type(g) is not Tensor else _array_meta(g._data)


_PLAIN = (int, float, bool, str, type(None), complex)
_MISSING = object()


def _function_reads(roots: list[Any]) -> list[tuple[str, Any, Any, Any]]:
    """``(kind, holder, key, value)`` for what the functions in ``roots`` read besides their
    arguments: their closure cells (``"cell"``, key None) and the globals their code names
    (``"global"``)."""
    found: list[tuple[str, Any, Any, Any]] = []
    for r in roots:
        fn = r.__func__ if isinstance(r, types.MethodType) else r
        if not isinstance(fn, types.FunctionType):
            continue
        for cell in fn.__closure__ or ():
            try:
                found.append(("cell", cell, None, cell.cell_contents))
            except ValueError:  # an empty cell
                pass
        g = fn.__globals__
        for name in sorted(_names(fn.__code__)):
            if name in g:
                found.append(("global", g, name, g[name]))
    return found


def _public_attributes(modules: list[Any]) -> list[tuple[str, Any, Any, Any]]:
    """``("attr", module, name, value)`` for the public attributes of ``modules`` (``training``
    apart: the module state guards it)."""
    return [
        ("attr", m, name, v)
        for m in modules
        for name, v in vars(m).items()
        if not name.startswith("_") and name != "training"
    ]


def containers(roots: list[Any], modules: list[Any]) -> list[tuple[str, Any, Any]]:
    """``(name, container, contents)`` for each list, dict or set the functions in ``roots`` can
    reach through a closure cell or a global their code names, and each public one a module of
    ``modules`` holds: what a call that changes them (``history.append(out)``) did is a Python
    side effect, which a replay would not repeat."""
    return [
        (_describe(kind, holder, key), v, _contents(v))
        for kind, holder, key, v in _function_reads(roots) + _public_attributes(modules)
        if isinstance(v, (list, dict, set))
    ]


def _describe(kind: str, holder: Any, key: Any) -> str:
    if kind == "cell":
        return "a closure variable"
    if kind == "global":
        return f"global {key!r}"
    return f"attribute {key!r} of a {type(holder).__name__}"


def _contents(c: Any) -> tuple[Any, ...]:
    if isinstance(c, dict):
        return tuple((k, id(v)) for k, v in c.items())
    if isinstance(c, set):
        return tuple(sorted(map(id, c)))
    return tuple(map(id, c))


def changed_container(found: list[tuple[str, Any, Any]]) -> str | None:
    """The first of ``found`` whose contents changed since it was taken, or None."""
    for name, c, contents in found:
        if _contents(c) != contents:
            return name
    return None


def _hooked(var: Tensor) -> bool:
    acc = var._grad_acc
    return acc is not None and has_hooks(acc._extra)


class Guards:
    """The checks one capture needs (see the module docstring); ``failure`` names the first that
    fails, or returns None."""

    __slots__ = (
        "key",
        "leaves",
        "aliases",
        "modes",
        "modules",
        "module_states",
        "module_tensors",
        "global_hooks",
        "sources",
        "metas",
        "accum",
        "plain",
        "entries",
        "others",
        "dynamic",
    )

    def __init__(
        self, key: Any, leaves: list[Any], modules: list[Any], plain: list[tuple[str, Any, Any, Any, str]]
    ) -> None:
        """Taken at the start of the capture (the function may change what it reads)."""
        self.key = key
        self.set_plain(plain)
        self.leaves = tuple(leaf_meta(x) for x in leaves)
        self.aliases = aliasing(leaves) if len(leaves) > 1 else ()
        self.modes = modes()
        self.modules = modules
        self.module_states = [_module_state(m) for m in modules]
        # tensors kept as plain attributes of a module (self.mask = ...): sources of the capture,
        # bound by object, so rebinding one captures again
        self.module_tensors = [
            (vars(m), name, v)
            for m in modules
            for name, v in vars(m).items()
            if isinstance(v, Tensor) or type(v) is SparseTensor
        ]
        self.global_hooks = _global_hooks() if modules else None
        self.sources: list[tuple[str, Any]] = []
        self.metas: list[Any] = []
        self.accum: list[Tensor] = []
        self.dynamic: Any = None  # a dynamic.Generic: checks the tensor arguments at their size

    def add_sources(self, sources: list[tuple[str, Any]], metas: list[Any], accumulated: list[Tensor]) -> None:
        """The persistent sources the replay reads, with their metadata at the capture's start,
        and the leaves it accumulates into."""
        self.sources = sources
        self.metas = metas
        self.accum = accumulated

    def failure(self, leaves: list[Any], key: Any) -> str | None:
        if key != self.key:
            return "a non-tensor argument changed"
        if self.dynamic is not None:
            why = self.dynamic.failure(leaves)
            if why is not None:
                return why
        else:
            mine = self.leaves
            for i, x in enumerate(leaves):
                if leaf_meta(x) != mine[i]:
                    return f"tensor argument {i} changed shape, dtype, strides or requires_grad"
        if self.aliases and aliasing(leaves) != self.aliases:
            return "tensor arguments alias differently (the same tensor passed twice, or no longer)"
        if modes() != self.modes:
            return "grad mode, inference mode, autocast or the default dtype changed"
        for m, state in zip(self.modules, self.module_states):
            if not _module_unchanged(m, state):
                return f"module {type(m).__name__}: training flag, parameters, buffers or hooks changed"
        for attrs, name, t in self.module_tensors:
            if attrs.get(name) is not t:
                return f"the tensor attribute {name!r} of a module was rebound"
        if self.global_hooks is not None and _global_hooks() != self.global_hooks:
            return "global module hooks changed"
        for how, meta in zip(self.sources, self.metas):
            if source_meta(how) != meta:
                if how[0] == "sparse":
                    return "a sparse tensor the function reads changed shape, nnz, dtype, coalescing or requires_grad"
                return "a parameter, buffer or gradient changed shape, dtype, strides or presence"
        for var in self.accum:
            if _hooked(var):
                return "a hook was added to a leaf"
        what = self.changed_value()
        return None if what is None else f"the Python value of {what} changed"

    def drop_changed(self) -> None:
        """Forget the Python values that changed since the capture began: a capture that runs
        eagerly because the function changes them must not fail its guards at every call."""
        self.set_plain([g for g in self.plain if same_plain(_now(g), g[3])])

    def set_plain(self, plain: list[tuple[str, Any, Any, Any, str]]) -> None:
        """The guards on Python values, kept apart by kind: most read a dict entry."""
        self.plain = plain
        self.entries = [(h, k, v, what) for kind, h, k, v, what in plain if kind is _DICT]
        self.others = [g for g in plain if g[0] is not _DICT]

    def changed_value(self) -> str | None:
        """What the first Python value of ``plain`` that changed since the capture began is
        (see ``python_reads``), or None."""
        for holder, key, value, what in self.entries:
            now = holder.get(key, _MISSING)
            if now is not value and not same_plain(now, value) and not _imported(value, now):
                return what
        for kind, holder, key, value, what in self.others:
            now = _read(kind, holder, key)
            if now is not value and not same_plain(now, value) and not _imported(value, now):
                return what
        return None


def _imported(before: Any, now: Any) -> bool:
    """A submodule that the call imported (``torch.distributions`` loads on first use): not a
    side effect to run eagerly for, since the next call finds it there and fails the guard that
    saw it missing, so it captures again."""
    return before is _MISSING and isinstance(now, types.ModuleType)


def _now(guard: tuple[str, Any, Any, Any, str]) -> Any:
    kind, holder, key = guard[:3]
    return holder.get(key, _MISSING) if kind is _DICT else _read(kind, holder, key)


# --------------------------------------------------------------------------- discovery
def discover(roots: list[Any]) -> tuple[list[Any], list[Tensor], list[Any]]:
    """The modules (every submodule), persistent tensors, and optimizers and schedulers
    reachable from ``roots``."""
    # classes of packages not imported yet have no instances: never import them here
    Module = _class_of("retrograd.nn.modules.module", "Module")
    LRScheduler = _class_of("retrograd.optim.lr_scheduler", "LRScheduler")
    Optimizer = _class_of("retrograd.optim.optimizer", "Optimizer")

    modules: dict[int, Any] = {}
    tensors: dict[int, Tensor] = {}
    stateful: dict[int, Any] = {}
    seen: set[int] = set()

    def visit(obj: Any, depth: int) -> None:
        if id(obj) in seen or depth < 0:
            return
        seen.add(id(obj))
        if isinstance(obj, Tensor) or type(obj) is SparseTensor:
            tensors.setdefault(id(obj), obj)
        elif isinstance(obj, Module):
            for m in obj.modules():
                modules.setdefault(id(m), m)
                for t in (*m._parameters.values(), *m._buffers.values()):
                    if t is not None:
                        tensors.setdefault(id(t), t)
                for t in vars(m).values():  # a tensor kept as a plain attribute (Guards checks it)
                    if isinstance(t, Tensor) or type(t) is SparseTensor:
                        tensors.setdefault(id(t), t)
        elif isinstance(obj, Optimizer):
            stateful.setdefault(id(obj), obj)
            for group in obj.param_groups:
                for p in group["params"]:
                    tensors.setdefault(id(p), p)
        elif isinstance(obj, LRScheduler):
            stateful.setdefault(id(obj), obj)
            visit(obj.optimizer, depth)
        elif isinstance(obj, types.FunctionType):
            _visit_function(obj, visit, depth)
        elif isinstance(obj, types.MethodType):
            visit(obj.__self__, depth)
            visit(obj.__func__, depth)
        elif isinstance(obj, (list, tuple, set, frozenset)):
            for x in obj:
                visit(x, depth - 1)
        elif isinstance(obj, dict):
            for x in obj.values():
                visit(x, depth - 1)
        elif isinstance(obj, (types.ModuleType, type, types.BuiltinFunctionType)) or obj is None:
            return
        elif hasattr(obj, "__dict__"):
            for x in vars(obj).values():
                visit(x, depth - 1)

    for r in roots:
        visit(r, 3)
    return list(modules.values()), list(tensors.values()), list(stateful.values())


def _class_of(module: str, name: str) -> Any:
    m = sys.modules.get(module)
    return () if m is None else getattr(m, name)


def _visit_function(fn: types.FunctionType, visit: Any, depth: int) -> None:
    for cell in fn.__closure__ or ():
        try:
            visit(cell.cell_contents, depth - 1)
        except ValueError:  # an empty cell
            pass
    g = fn.__globals__
    for name in _names(fn.__code__):
        if name in g:
            visit(g[name], depth - 1)
    if fn.__defaults__:
        visit(fn.__defaults__, depth - 1)


def _names(code: types.CodeType) -> set[str]:
    """The global names ``code`` and the code nested in it (lambdas, comprehensions) use."""
    names = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names |= _names(c)
    return names


# --------------------------------------------------------------------------- Python reads
# A guard on a Python value is ``(kind, holder, key, value, what)``: reading ``key`` of ``holder``
# the way ``kind`` says must give ``value`` again (the same object, or for a plain value an equal
# one of the same type); ``what`` names it in a recompile reason.
_DICT = "dict"  # holder.get(key): a dict, an instance's __dict__, a class's or a module's namespace
_CELL = "cell"  # a closure cell's contents
_INDEX = "index"  # holder[key] of a list, missing when out of range
_LEN = "len"  # len(holder): a container that gained or lost entries
_GETATTR = "getattr"  # getattr(holder, key): a slot, or an object with its own attribute lookup
_SET = "set"  # frozenset(holder) of a set
_ITEMS = "items"  # a dict's or list's entries as a _Snapshot: the same objects

_MAX_FUNCTIONS = 256  # functions one capture's guards follow
_MAX_ENTRIES = 64  # entries of one container (or attributes of one object) guarded one by one
_MAX_ITEMS = 10_000  # entries of one container guarded at all (by identity beyond _MAX_ENTRIES)
_MAX_GUARDS = 4096
_DEPTH = 3  # levels into the objects and containers passed along (see ``_Reads.escape``)
# attribute lookups that are Python's own: instance __dict__, then the classes
_GENERIC_GETATTRIBUTE = (object.__getattribute__, types.SimpleNamespace.__getattribute__)
_UNGUARDABLE = frozenset(("globals", "eval", "exec"))  # builtins that read names the code does not


def _read(kind: str, holder: Any, key: Any) -> Any:
    if kind is _CELL:
        try:
            return holder.cell_contents
        except ValueError:  # an empty cell
            return _MISSING
    if kind is _INDEX:
        return holder[key] if -len(holder) <= key < len(holder) else _MISSING
    if kind is _LEN:
        return len(holder)
    if kind is _SET:
        return frozenset(holder)
    if kind is _ITEMS:
        return _snapshot(holder)
    try:
        return getattr(holder, key, _MISSING)
    except Exception:  # a lookup that fails now: a value no capture saw
        return _MISSING


class _Snapshot:
    """The entries of a dict (keys and values) or a list, equal to another snapshot when they
    are the same objects."""

    __slots__ = ("items",)

    def __init__(self, items: tuple[Any, ...]) -> None:
        self.items = items

    def __eq__(self, other: object) -> bool:
        a, b = self.items, other.items if isinstance(other, _Snapshot) else None
        return b is not None and len(a) == len(b) and all(map(operator.is_, a, b))

    def __hash__(self) -> int:
        return len(self.items)


def _snapshot(c: Any) -> _Snapshot:
    return _Snapshot((*c, *c.values()) if isinstance(c, dict) else tuple(c))


def same_plain(a: Any, b: Any) -> bool:
    """Whether ``a`` may stand for ``b`` in a capture: the same object, or equal plain values
    of the same type (``capture.same_value``), or tuples of such."""
    if a is b:
        return True
    t = type(a)
    if t is not type(b):
        return False
    if t in _PLAIN:
        return same_value(a, b)
    if t is tuple or t is frozenset:
        return len(a) == len(b) and all(same_plain(x, y) for x, y in zip(a, b))
    return t is _Snapshot and a == b


def same_guard(a: tuple[str, Any, Any, Any, str], b: tuple[str, Any, Any, Any, str]) -> bool:
    """Whether two guards on Python values check the same (a class's namespace is read through
    a new proxy each time: those are the same when their contents are)."""
    h, k = a[1], b[1]
    same_holder = h is k or (type(h) is types.MappingProxyType and type(k) is types.MappingProxyType and h == k)
    return a[0] is b[0] and same_holder and a[2] == b[2] and same_plain(a[3], b[3])


@functools.lru_cache(maxsize=None)
def _library_dirs() -> tuple[str, ...]:
    """Where the code lives whose reads are not followed: retrograd's own (its state is guarded
    as modules, parameters and modes), NumPy's, and the standard library's."""
    paths = sysconfig.get_paths()
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    dirs = [here, os.path.dirname(os.path.abspath(np.__file__)), paths["stdlib"], paths["platstdlib"]]
    return tuple(os.path.join(d, "") for d in dirs)


@functools.lru_cache(maxsize=None)
def _site_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    return tuple(os.path.join(paths[k], "") for k in ("purelib", "platlib"))


def _library_code(code: types.CodeType) -> bool:
    f = code.co_filename
    return f.startswith(_library_dirs()) and not f.startswith(_site_dirs())


def _library_type(t: type) -> bool:
    m = t.__module__ or ""
    return m.split(".")[0] in ("retrograd", "numpy", "builtins")


# The instructions of a read: a root (a global, a cell, a local) and then attribute loads and
# subscripts by constants, in the opcodes of Python 3.10 to 3.14.
_ROOT_OPS = {
    "LOAD_GLOBAL": "global",
    "LOAD_DEREF": "deref",
    "LOAD_CLASSDEREF": "deref",
    "LOAD_FAST": "fast",
    "LOAD_FAST_CHECK": "fast",
    "LOAD_FAST_BORROW": "fast",
    "LOAD_FAST_LOAD_FAST": "fast",
    "LOAD_FAST_BORROW_LOAD_FAST_BORROW": "fast",
}
_ATTR_OPS = frozenset(("LOAD_ATTR", "LOAD_METHOD"))
_CONST_OPS = frozenset(("LOAD_CONST", "LOAD_SMALL_INT"))
_STORE_OPS = frozenset(
    (
        "STORE_FAST",
        "DELETE_FAST",
        "STORE_DEREF",
        "DELETE_DEREF",
        "STORE_FAST_STORE_FAST",
        "STORE_FAST_LOAD_FAST",
        "STORE_FAST_MAYBE_NULL",
    )
)

# (root kind, root name, steps, escapes): ``steps`` are ("attr", name) or ("item", constant);
# ``escapes``: the value read is used otherwise than read from (passed on, iterated, called)
_Chain = tuple[str, str, tuple[tuple[str, Any], ...], bool]


def _subscript(ins: Any) -> bool:
    return ins.opname == "BINARY_SUBSCR" or (ins.opname == "BINARY_OP" and ins.argrepr == "[]")


@functools.lru_cache(maxsize=4096)
def _scan(code: types.CodeType) -> tuple[tuple[_Chain, ...], frozenset[str], tuple[types.CodeType, ...]]:
    """The reads in ``code`` (see ``_Chain``; an assignment ``a.b = v`` or ``G = v`` is one too,
    so that a capture which made it is seen), the local names it assigns (in it and the code
    nested in it), and that nested code."""
    ins = list(dis.get_instructions(code))
    chains: list[_Chain] = []
    stored: set[str] = set()
    cur: tuple[str, str, list[tuple[str, Any]]] | None = None
    i = 0
    while i < len(ins):
        op, arg = ins[i].opname, ins[i].argval
        if cur is not None:
            kind, name, steps = cur
            nxt = ins[i + 1] if i + 1 < len(ins) else None
            if op in _ATTR_OPS or op == "STORE_ATTR":
                steps.append(("attr", arg))
                if op == "STORE_ATTR":
                    chains.append((kind, name, tuple(steps), False))
                    cur = None
                i += 1
                continue
            if op in _CONST_OPS and nxt is not None and (_subscript(nxt) or nxt.opname == "STORE_SUBSCR"):
                steps.append(("item", arg))
                if nxt.opname == "STORE_SUBSCR":
                    chains.append((kind, name, tuple(steps), False))
                    cur = None
                i += 2
                continue
            chains.append((kind, name, tuple(steps), True))
            cur = None
        if op in _ROOT_OPS:
            names = arg if isinstance(arg, tuple) else (arg,)
            for n in names[:-1]:
                chains.append((_ROOT_OPS[op], n, (), True))
            cur = (_ROOT_OPS[op], names[-1], [])
        elif op in ("STORE_GLOBAL", "DELETE_GLOBAL"):
            chains.append(("global", arg, (), False))
        elif op in _STORE_OPS:
            stored.update(arg if isinstance(arg, tuple) else (arg,))
        i += 1
    if cur is not None:
        chains.append((cur[0], cur[1], tuple(cur[2]), True))
    nested = tuple(c for c in code.co_consts if isinstance(c, types.CodeType))
    for c in nested:
        stored |= _scan(c)[1]
    return tuple(dict.fromkeys(chains)), frozenset(stored), nested


class _Unguardable(Exception):
    """What the code reads cannot be guarded: the capture fails closed with this reason."""


class _Reads:
    """Walks the code a call can run and collects the guards on what it reads (``python_reads``)."""

    def __init__(self) -> None:
        self.guards: list[tuple[str, Any, Any, Any, str]] = []
        self.keys: set[tuple[str, int, Any]] = set()
        self.functions: set[tuple[int, int]] = set()
        self.escaped: set[int] = set()
        self.keep: list[Any] = []  # what the sets of ids above refer to, alive while they hold
        self.modules: set[int] = set()  # the discovered modules: ``Guards`` checks their state

    def guard(self, kind: str, holder: Any, key: Any, value: Any, what: str) -> None:
        try:
            k = (kind, id(holder), key)
            if k in self.keys:
                return
        except TypeError:  # an unhashable key: compared once, never equal again
            k = (kind, id(holder), id(key))
        self.keys.add(k)
        self.guards.append((kind, holder, key, value, what))
        if len(self.guards) > _MAX_GUARDS:
            raise _Unguardable(f"it reads more than {_MAX_GUARDS} Python values")

    def function(self, fn: Any, known: dict[str, Any], where: str) -> None:
        """Follow a Python function: ``known`` maps its parameters to the values they hold
        (``self`` of a method, the arguments of the compiled call)."""
        code = fn.__code__
        if _library_code(code):
            return
        k = (id(code), id(known.get(code.co_varnames[0])) if code.co_varnames and known else 0)
        if k in self.functions:
            return
        self.functions.add(k)
        self.keep.append(known)
        if len(self.functions) > _MAX_FUNCTIONS:
            raise _Unguardable(f"it reaches more than {_MAX_FUNCTIONS} Python functions")
        stored = _scan(code)[1]
        env: dict[str, tuple[str, Any]] = {n: ("value", v) for n, v in known.items() if n not in stored}
        for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
            env[name] = ("cell", cell)
        for d in (*(fn.__defaults__ or ()), *(fn.__kwdefaults__ or {}).values()):
            self.escape(d, f"a default of {where}", _DEPTH)
        self.code(code, fn.__globals__, env, where)

    def code(self, code: types.CodeType, g: dict[str, Any], env: dict[str, tuple[str, Any]], where: str) -> None:
        chains, _, nested = _scan(code)
        for kind, name, steps, escapes in chains:
            if kind == "global":
                if name in g:
                    root = g[name]
                    self.guard(_DICT, g, name, root, f"global {name!r}")
                elif name in _UNGUARDABLE:
                    raise _Unguardable(f"{where} calls {name}() (what it reads by name cannot be guarded)")
                else:
                    continue  # a builtin
            else:
                bound = env.get(name)
                if bound is None:
                    continue  # a local variable: not known before the call runs
                how, root = bound
                if how == "cell":
                    cell = root
                    try:
                        root = cell.cell_contents
                    except ValueError:
                        root = _MISSING
                    self.guard(_CELL, cell, None, root, f"closure variable {name!r}")
                    if root is _MISSING:
                        continue
            self.chain(root, steps, escapes, name, where)
        for c in nested:  # lambdas, comprehensions, nested functions: their cells are the outer's
            self.code(c, g, {n: env[n] for n in c.co_freevars if n in env}, where)

    def chain(self, value: Any, steps: tuple[tuple[str, Any], ...], escapes: bool, text: str, where: str) -> None:
        for op, key in steps:
            step = f"{text}.{key}" if op == "attr" else f"{text}[{key!r}]"
            what = f"{step} (in {where})"
            nxt = self.attr(value, key, what, where) if op == "attr" else self.item(value, key, what)
            if nxt is _MISSING:
                self.escape(value, text, _DEPTH)  # read some other way: what it holds is guarded
                return
            value, text = nxt, step
        if escapes:
            self.escape(value, text, _DEPTH)

    def attr(self, obj: Any, name: str, text: str, where: str) -> Any:
        """Guard ``obj.name`` as Python looks it up and return its value, or _MISSING where the
        lookup is not followed."""
        if isinstance(obj, (Tensor, np.ndarray)) or type(obj) in _PLAIN:
            return _MISSING  # a tensor's metadata is guarded as a source's; a plain value is fixed
        if isinstance(obj, types.ModuleType):
            value = vars(obj).get(name, _MISSING)
            self.guard(_DICT, vars(obj), name, value, text)
            return value
        t = obj if isinstance(obj, type) else type(obj)
        mro = t.__mro__
        owner = next((c for c in mro if name in vars(c)), None)
        found = _MISSING if owner is None else vars(owner)[name]
        if not isinstance(obj, type):
            if t.__getattribute__ not in _GENERIC_GETATTRIBUTE and not _library_type(t):
                value = _read(_GETATTR, obj, name)  # its own lookup: read as the code reads it
                self.guard(_GETATTR, obj, name, value, text)
                return value
            if hasattr(type(found), "__set__") or hasattr(type(found), "__delete__"):  # a data descriptor
                self.guard(_DICT, vars(owner), name, found, text)  # type: ignore[arg-type]
                if isinstance(found, property):
                    if found.fget is not None:
                        self.escape(types.MethodType(found.fget, obj), text, _DEPTH)
                    return _MISSING
                value = _read(_GETATTR, obj, name)  # a slot
                self.guard(_GETATTR, obj, name, value, text)
                return value
            d = getattr(obj, "__dict__", None)
            if type(d) is dict:
                value = d.get(name, _MISSING)
                if value is not _MISSING or found is not _MISSING:
                    self.guard(_DICT, d, name, value, text)
                if value is not _MISSING:
                    return value
            Module = _class_of("retrograd.nn.modules.module", "Module")
            if found is _MISSING and isinstance(obj, Module):  # a parameter, buffer or submodule
                for held in (obj._parameters, obj._buffers, obj._modules):
                    if name in held:
                        if id(obj) not in self.modules:  # (a discovered module's state is guarded)
                            self.guard(_DICT, held, name, held[name], text)
                        return held[name]
        # a class attribute (and none of the classes before its owner may gain one)
        for c in mro:
            if c is object:
                break
            self.guard(_DICT, vars(c), name, vars(c).get(name, _MISSING), f"{text} (of class {c.__name__})")
            if c is owner:
                break
        if isinstance(found, types.FunctionType):
            return found if isinstance(obj, type) else types.MethodType(found, obj)
        if isinstance(found, staticmethod):
            return found.__func__
        if isinstance(found, classmethod):
            return types.MethodType(found.__func__, t)
        if found is not _MISSING:
            return found if not hasattr(type(found), "__get__") else _MISSING
        if hasattr(t, "__getattr__") and not _library_type(t):
            value = _read(_GETATTR, obj, name)
            self.guard(_GETATTR, obj, name, value, text)
            return value
        return _MISSING

    def item(self, obj: Any, key: Any, text: str) -> Any:
        """Guard ``obj[key]`` for a constant ``key`` and return its value, or _MISSING."""
        t = type(obj)
        if isinstance(obj, dict) and t.__getitem__ is dict.__getitem__:
            try:
                value = obj.get(key, _MISSING)
            except TypeError:  # unhashable
                return _MISSING
            self.guard(_DICT, obj, key, value, text)
            return value
        if (t is list or t is tuple) and type(key) is int:
            value = obj[key] if -len(obj) <= key < len(obj) else _MISSING
            if t is list:
                self.guard(_INDEX, obj, key, value, text)
            return value
        return _MISSING

    def entries(self, c: Any, what: str) -> None:
        """Guard the number of entries of a dict or list, each of them too when they are more
        than ``_MAX_ENTRIES`` (by identity, in one pass at C speed: an entry rebound to an equal
        value captures again); the caller guards fewer one by one, by value."""
        if len(c) <= _MAX_ENTRIES:
            self.guard(_LEN, c, None, len(c), what)
        else:
            self.guard(_ITEMS, c, None, _snapshot(c), what)

    def escape(self, value: Any, text: str, depth: int) -> None:
        """``value`` is used some other way than read from (passed on, iterated, called): guard
        what it holds, ``depth`` levels down, and follow the Python functions it calls."""
        t = type(value)
        if t in _PLAIN or depth <= 0 or id(value) in self.escaped:
            return
        self.escaped.add(id(value))
        self.keep.append(value)
        if t is types.FunctionType:
            self.function(value, {}, _qualname(value))
            return
        if t is types.MethodType:
            fn = value.__func__
            if type(fn) is types.FunctionType and fn.__code__.co_varnames:
                self.function(fn, {fn.__code__.co_varnames[0]: value.__self__}, _qualname(fn))
            return
        if t is functools.partial:
            for x in (value.func, *value.args, *value.keywords.values()):
                self.escape(x, text, depth)
            return
        Module = _class_of("retrograd.nn.modules.module", "Module")
        if isinstance(value, Module):
            self.module(value)
            return
        if isinstance(value, type):
            if not _library_type(value):  # a class the code calls: what its methods read
                self.methods(value, None, value.__name__, depth)
            return
        if isinstance(value, (Tensor, np.ndarray, types.ModuleType)):
            return
        if _library_type(t) and t not in (dict, list, tuple, set, frozenset):
            return
        if isinstance(value, (dict, list, set)) and len(value) > _MAX_ITEMS:
            raise _Unguardable(
                f"it passes on {text}, a {t.__name__} of {len(value)} entries (more than {_MAX_ITEMS} "
                "to guard); pass the values it needs as arguments"
            )
        if isinstance(value, dict):
            self.entries(value, f"the entries of {text}")
            for k, x in value.items():
                if len(value) <= _MAX_ENTRIES:
                    self.guard(_DICT, value, k, x, f"{text}[{k!r}]")
                self.escape(x, f"{text}[{k!r}]", depth - 1)
        elif t is list:
            self.entries(value, f"the entries of {text}")
            for i, x in enumerate(value):
                if len(value) <= _MAX_ENTRIES:
                    self.guard(_INDEX, value, i, x, f"{text}[{i}]")
                self.escape(x, f"{text}[{i}]", depth - 1)
        elif t is tuple or t is frozenset:
            for x in value:
                self.escape(x, text, depth - 1)
        elif t is set:
            self.guard(_SET, value, None, frozenset(value), f"the contents of {text}")
        else:
            self.instance(value, text, depth)

    def instance(self, obj: Any, text: str, depth: int) -> None:
        """A plain object passed on: its attributes, the plain values its classes hold, and the
        methods of its classes (with ``self`` the object)."""
        d = getattr(obj, "__dict__", None)
        if type(d) is dict:
            if len(d) > _MAX_ITEMS:
                raise _Unguardable(f"it passes on {text}, an object of more than {_MAX_ITEMS} attributes")
            self.entries(d, f"the attributes of {text}")
            for k, x in d.items():
                if len(d) <= _MAX_ENTRIES:
                    self.guard(_DICT, d, k, x, f"{text}.{k}")
                self.escape(x, f"{text}.{k}", depth - 1)
        self.methods(type(obj), obj, text, depth)

    def methods(self, cls: type, obj: Any, text: str, depth: int) -> None:
        """The user's classes in ``cls``'s MRO: their plain class attributes, and their methods
        and properties, followed with ``self`` bound to ``obj`` (None: a class used itself, whose
        methods are followed as functions)."""
        for c in cls.__mro__:
            if _library_type(c) or getattr(c, "__module__", None) == "types":
                continue
            for k, x in vars(c).items():
                if k.startswith("__") and k != "__call__" and (k != "__init__" or obj is not None):
                    continue  # (a class called runs its __init__; an object's ran already)
                if isinstance(x, (staticmethod, classmethod)):
                    x = x.__func__
                elif isinstance(x, property):
                    x = x.fget
                if type(x) in _PLAIN:
                    self.guard(_DICT, vars(c), k, x, f"{text}.{k} (of class {c.__name__})")
                elif isinstance(x, types.FunctionType):
                    self.escape(x if obj is None else types.MethodType(x, obj), f"{text}.{k}", depth)

    def arguments(self, obj: Any, objects: list[Any]) -> None:
        """Append to ``objects`` the objects among a call's arguments: the key holds them by
        identity (``flatten``), so what they hold is to be guarded; the lists, tuples and dicts
        around them the key holds already, entry by entry."""
        t = type(obj)
        if t is tuple or t is list or t is dict:
            self.escaped.add(id(obj))
            self.keep.append(obj)
            for x in obj.values() if t is dict else obj:
                self.arguments(x, objects)
        elif t not in _PLAIN:
            objects.append(obj)

    def module(self, m: Any) -> None:
        """A module's methods (its ``forward`` among them) and hooks, where they are the user's
        code (its state and public attributes are guarded as a module's)."""
        key = ("module", id(m), None)
        if key in self.keys:
            return
        self.keys.add(key)
        self.keep.append(m)
        self.methods(type(m), m, "self", _DEPTH)
        for hooks in (m._forward_pre_hooks, m._forward_hooks):
            for h in hooks.values():
                self.escape(h, f"a hook of {type(m).__name__}", _DEPTH)


def python_reads(fn: Any, args: Any, kwargs: Any, modules: list[Any]) -> tuple[list[Any], str | None]:
    """The guards on the Python values a call of ``fn`` can read besides its tensors (see the
    module docstring), and why they cannot be guarded (None when they can).

    Every Python function the call can reach is followed, through ``fn``'s globals, closure
    cells and arguments, what they hold, and the modules: in its code, a read starting at a
    global, a cell, or a parameter that the code does not assign (``self``, an argument),
    followed by attribute loads and subscripts by constants (``cfg.scale``, ``self.opts.eps``,
    ``CONFIG["lr_scale"]``), guards each value on the way where Python finds it (the instance's
    ``__dict__``, the class's namespace, a dict's entry), plain values by value and objects by
    identity. An object or container the code uses otherwise (passes to a helper, iterates,
    calls a method of) has what it holds guarded, three levels down, and the methods of its
    class are followed. A function, method or callable object found so is followed in turn."""
    reads = _Reads()
    reads.modules = {id(m) for m in modules}
    for m in modules:
        for name, v in vars(m).items():
            if not name.startswith("_") and name != "training" and type(v) in _PLAIN:
                reads.guard(_DICT, vars(m), name, v, f"attribute {name!r} of a {type(m).__name__}")
    try:
        objects: list[Any] = []
        reads.arguments((args, kwargs), objects)
        target, known = fn, {}
        if isinstance(fn, types.MethodType) and type(fn.__func__) is types.FunctionType:
            target = fn.__func__
            names = target.__code__.co_varnames
            if names:
                known[names[0]] = fn.__self__
        if type(target) is types.FunctionType:
            try:
                bound = inspect.signature(fn).bind(*args, **kwargs)
                bound.apply_defaults()
                known.update(bound.arguments)
            except (TypeError, ValueError):  # the call raises: nothing to guard beyond it
                pass
            reads.function(target, known, _qualname(target))
        else:
            reads.escape(fn, _qualname(fn), _DEPTH)
        for m in modules:
            reads.module(m)
        for obj in objects:
            reads.escape(obj, "an argument", _DEPTH)
    except _Unguardable as e:
        return reads.guards, str(e)
    except RecursionError:
        return reads.guards, "the code it reaches nests too deep to be guarded"
    return reads.guards, None


def _qualname(fn: Any) -> str:
    name = getattr(fn, "__qualname__", None) or type(fn).__name__
    return str(name).rsplit("<locals>.", 1)[-1]

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
accumulates into, and the Python numbers, strings, bools and None the function can read besides
its arguments (``plain_values``: its closure cells and the globals its code names, and the public
attributes of its modules), by value: a capture bakes such a value in, so a changed one
recompiles rather than replaying a stale result. A capture generalised over a dynamic size
(``dynamic.Generic``, in ``dynamic``) checks the tensor arguments' metadata at their size instead.
"""

from __future__ import annotations

import sys
import types
from typing import Any

import numpy as np

from .._autocast import _amp
from .._dtype import get_default_dtype
from .._tensor import Tensor
from ..autograd._forward_state import _fw
from ..autograd._vmap_state import _vm
from ..autograd.grad_mode import _state
from .capture import has_hooks

_TENSOR = object()  # stands for a tensor (or array) argument in a key


def flatten(obj: Any, leaves: list[Any]) -> Any:
    """The key of ``obj``; its tensors and arrays are appended to ``leaves``, in order."""
    if isinstance(obj, Tensor) or isinstance(obj, np.ndarray):
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
    return (type(x), x.shape, x.dtype, x.strides)


def aliasing(leaves: list[Any]) -> tuple[int, ...]:
    """For each argument, the index of the first argument with the same array: the recorder
    knows values by their arrays, so a capture of ``f(a, a)`` reads one slot for both, which
    replayed for ``f(a, b)`` would read ``b`` where eager mode reads ``a``."""
    first: dict[int, int] = {}
    return tuple([first.setdefault(id(x._data if isinstance(x, Tensor) else x), i) for i, x in enumerate(leaves)])


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
    return (
        m.training,
        tuple(map(id, m._parameters.values())),
        tuple(map(id, m._buffers.values())),
        tuple(map(id, m._modules.values())),
        tuple(m._forward_pre_hooks),
        tuple(m._forward_hooks),
        tuple(m._backward_hooks),
        tuple(m._backward_pre_hooks),
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


def plain_values(roots: list[Any], modules: list[Any]) -> list[tuple[str, Any, Any, Any]]:
    """``(kind, holder, key, value)`` for each plain Python value the functions in ``roots`` read
    from a closure cell or a global their code names, and each public plain attribute of
    ``modules`` (``"attr"``)."""
    reads = _function_reads(roots) + _public_attributes(modules)
    return [r for r in reads if type(r[3]) in _PLAIN]


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


def _current(kind: str, holder: Any, key: Any) -> Any:
    if kind == "cell":
        try:
            return holder.cell_contents
        except ValueError:
            return _MISSING
    if kind == "global":
        return holder.get(key, _MISSING)
    return vars(holder).get(key, _MISSING)


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
        "global_hooks",
        "sources",
        "metas",
        "accum",
        "plain",
        "dynamic",
    )

    def __init__(self, key: Any, leaves: list[Any], modules: list[Any], plain: list[tuple[str, Any, Any, Any]]) -> None:
        """Taken at the start of the capture (the function may change what it reads)."""
        self.key = key
        self.plain = plain
        self.leaves = tuple(leaf_meta(x) for x in leaves)
        self.aliases = aliasing(leaves) if len(leaves) > 1 else ()
        self.modes = modes()
        self.modules = modules
        self.module_states = [_module_state(m) for m in modules]
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
            if _module_state(m) != state:
                return f"module {type(m).__name__}: training flag, parameters, buffers or hooks changed"
        if self.global_hooks is not None and _global_hooks() != self.global_hooks:
            return "global module hooks changed"
        for how, meta in zip(self.sources, self.metas):
            if source_meta(how) != meta:
                return "a parameter, buffer or gradient changed shape, dtype, strides or presence"
        for var in self.accum:
            if _hooked(var):
                return "a hook was added to a leaf"
        for kind, holder, key, value in self.plain:
            now = _current(kind, holder, key)
            if now is not value and (type(now) is not type(value) or now != value):
                return f"the Python value of {_describe(kind, holder, key)} changed"
        return None


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
        if isinstance(obj, Tensor):
            tensors.setdefault(id(obj), obj)
        elif isinstance(obj, Module):
            for m in obj.modules():
                modules.setdefault(id(m), m)
                for t in (*m._parameters.values(), *m._buffers.values()):
                    if t is not None:
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

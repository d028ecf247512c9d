"""The memory inspector: how many bytes a graph's saved tensors hold, per node, per saved
tensor and per module, each storage counted once.

::

    with graph.track_modules(model):        # optional: which module made which nodes
        loss = model(x).sum()
        report = graph.memory(loss)
    print(report)                           # a table
    report.total, report.by_node(), report.by_module(), report.checkpoint("block")

A node's bytes are those of the distinct storages its saved tensors use (a view counts its whole
storage, since it keeps all of it alive); ``total`` counts every storage once, however many
views of it and nodes saving it there are. Leaves (parameters, inputs) are counted too, and
reported apart: they live on without the graph. Freed nodes (after a backward) hold nothing.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .graph import AccumulateGrad
from ._graph_walk import ModuleScopes, Saved, arrays_of, is_tensor, saved, storage, walk

if TYPE_CHECKING:
    from .graph import Node


@dataclass
class SavedMemory:
    """One saved tensor: its own size and the storage it keeps alive (``storage`` numbers the
    storages of the report; ``shared``: another saved item uses that storage too)."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    nbytes: int
    storage: int
    storage_bytes: int
    leaf: bool
    hooked: bool = False
    shared: bool = False


@dataclass
class NodeMemory:
    """One node: the bytes of the distinct storages it saved, and each saved tensor."""

    node: Node
    name: str
    module: str | None
    bytes: int
    saved: list[SavedMemory]
    freed: bool = False


@dataclass
class ModuleMemory:
    """One module (by its name in ``named_modules``; "" is the model itself): ``bytes`` over the
    nodes made in its forward, its submodules' included; ``self_bytes`` over its own only."""

    name: str
    nodes: int = 0
    bytes: int = 0
    self_bytes: int = 0


@dataclass
class CheckpointEstimate:
    """What ``checkpoint`` would change for one module: ``saved_bytes`` its nodes' saved
    activations hold now (leaves left out: they stay), ``checkpointed_bytes`` what it would
    hold checkpointed (its inputs), ``saving`` the estimated drop of the graph's total."""

    module: str
    saved_bytes: int
    checkpointed_bytes: int
    saving: int


@dataclass
class MemoryReport:
    """What the saved tensors of a graph hold; see the module docstring."""

    nodes: list[NodeMemory]
    storages: dict[int, int]  # storage number -> bytes
    leaf_storages: set[int]
    scopes: ModuleScopes | None = None
    _module_inputs: dict[str, set[int]] = field(default_factory=dict)
    _input_sizes: dict[int, int] = field(default_factory=dict)  # inputs no node saved

    @property
    def total(self) -> int:
        """Bytes of the distinct storages the graph's saved tensors use."""
        return sum(self.storages.values())

    @property
    def leaf_bytes(self) -> int:
        return sum(b for s, b in self.storages.items() if s in self.leaf_storages)

    @property
    def activation_bytes(self) -> int:
        return self.total - self.leaf_bytes

    def by_node(self) -> list[NodeMemory]:
        """One entry per node of the graph, roots first."""
        return list(self.nodes)

    def by_module(self) -> dict[str | None, ModuleMemory]:
        """One entry per module that made nodes (and its enclosing modules), plus None for nodes
        made outside every tracked module. Empty unless the graph was made under
        ``track_modules``."""
        if self.scopes is None:
            return {}
        result: dict[str | None, ModuleMemory] = {}
        inclusive: dict[str | None, set[int]] = {}
        own: dict[str | None, set[int]] = {}
        for nm in self.nodes:
            keys = {s.storage for s in nm.saved}
            own.setdefault(nm.module, set()).update(keys)
            for name in _enclosing(nm.module):
                entry = result.setdefault(name, ModuleMemory(name if name is not None else "(outside modules)"))
                entry.nodes += 1
                inclusive.setdefault(name, set()).update(keys)
        for name, entry in result.items():
            entry.bytes = sum(self.storages[s] for s in inclusive[name])
            entry.self_bytes = sum(self.storages[s] for s in own.get(name, set()))
        return result

    def checkpoint(self, module: str) -> CheckpointEstimate:
        """The estimate for wrapping ``module`` (a name from ``by_module``) in ``checkpoint``."""
        if self.scopes is None or module not in self._module_inputs:
            raise KeyError(
                f"memory report: no module named {module!r} made nodes of this graph (make the "
                f"graph under graph.track_modules(model) and name a module of it)"
            )
        inside: set[int] = set()
        outside: set[int] = set()  # storages that stay: saved outside the module, or never packed
        for nm in self.nodes:
            keys = {s.storage for s in nm.saved if s.storage not in self.leaf_storages}
            (inside if module in _enclosing(nm.module) else outside).update(keys)
        inputs = self._module_inputs[module] - self.leaf_storages
        freed = inside - outside - inputs
        added = inputs - inside - outside

        def size(keys: set[int]) -> int:
            return sum(self.storages.get(k, self._input_sizes.get(k, 0)) for k in keys)

        return CheckpointEstimate(module, size(inside), size(inputs), size(freed) - size(added))

    def __str__(self) -> str:
        lines = [
            f"graph memory: {len(self.nodes)} nodes, {sum(len(n.saved) for n in self.nodes)} saved "
            f"tensors in {len(self.storages)} storages, {_fmt(self.total)} in all "
            f"({_fmt(self.activation_bytes)} activations, {_fmt(self.leaf_bytes)} leaves)"
        ]
        rows: list[tuple[str, ...]] = [("node", "module", "holds", "saved", "shape", "dtype", "bytes", "storage")]
        for nm in self.nodes:
            head = (nm.name, "-" if nm.module is None else nm.module or "(model)", _fmt(nm.bytes))
            if nm.freed:
                rows.append(head + ("(freed)", "", "", "", ""))
            elif not nm.saved:
                rows.append(head + ("-", "", "", "", ""))
            for i, s in enumerate(nm.saved):
                tags = "".join(
                    [" leaf" if s.leaf else "", " hooked" if s.hooked else "", " shared" if s.shared else ""]
                )
                rows.append(
                    (head if i == 0 else ("", "", ""))
                    + (
                        s.name,
                        str(list(s.shape)),
                        s.dtype,
                        _fmt(s.nbytes),
                        f"#{s.storage} {_fmt(s.storage_bytes)}{tags}",
                    )
                )
        if self.scopes is None:  # no module column
            rows = [r[:1] + r[2:] for r in rows]
        lines.append(_table(rows))
        modules = self.by_module()
        if modules:
            mrows: list[tuple[str, ...]] = [("module", "nodes", "saved", "own saved", "checkpointed", "would free")]
            for name, mm in sorted(modules.items(), key=lambda kv: _module_order(kv[0])):
                est = self.checkpoint(name) if name is not None and name in self._module_inputs else None
                mrows.append(
                    (
                        mm.name or "(model)",
                        str(mm.nodes),
                        _fmt(mm.bytes),
                        _fmt(mm.self_bytes),
                        _fmt(est.checkpointed_bytes) if est else "",
                        _fmt(est.saving) if est else "",
                    )
                )
            lines += [
                "",
                "by module (saved: with submodules; checkpointed: what checkpoint(module) would keep)",
                _table(mrows),
            ]
        return "\n".join(lines)

    __repr__ = __str__


def memory(*roots: Any, modules: track_modules | None = None) -> MemoryReport:
    """The memory report of the graph behind ``roots`` (tensors). Per module when the graph was
    made under ``track_modules``: the innermost one active on this thread, or ``modules``."""
    graph = walk(roots)
    tracker = modules if modules is not None else _current()
    scopes = tracker.scopes if tracker is not None else None
    numbers: dict[int, int] = {}
    storages: dict[int, int] = {}
    leaves: set[int] = set()
    uses: dict[int, int] = {}
    nodes: list[NodeMemory] = []

    def number(array: Any) -> int:
        key, nbytes = storage(array)
        n = numbers.get(key)
        if n is None:
            n = numbers[key] = len(numbers) + 1
            storages[n] = nbytes
        return n

    # the storages of the graph's leaves that require grad (parameters): leaves however saved
    leaf_keys = set()
    for node in graph.nodes:
        var = node.variable if type(node) is AccumulateGrad else None
        if var is not None:
            leaf_keys.add(storage(var._data)[0])
    for node in graph.nodes:
        items = saved(node)
        entries: list[SavedMemory] = []
        for s in items:
            for a in arrays_of(s):
                n = number(a)
                uses[n] = uses.get(n, 0) + 1
                if s.leaf or _is_leaf_view(s) or storage(a)[0] in leaf_keys:
                    leaves.add(n)
                entries.append(
                    SavedMemory(s.name, tuple(a.shape), str(a.dtype), int(a.nbytes), n, storages[n], s.leaf, s.hooked)
                )
        module = scopes.module_of(node) if scopes is not None else None
        nodes.append(
            NodeMemory(
                node,
                node.name(),
                module,
                sum(storages[k] for k in {e.storage for e in entries}),
                entries,
                freed=any(s.freed for s in items),
            )
        )
    for nm in nodes:
        for e in nm.saved:
            e.shared = uses[e.storage] > 1
    inputs: dict[str, set[int]] = {}
    input_sizes: dict[int, int] = {}
    if scopes is not None:
        for name, arrays in scopes.inputs_of(graph.nodes).items():
            keys = inputs[name] = set()
            for a, leaf in arrays:
                key, nbytes = storage(a)
                num = numbers.get(key)
                if num is None:  # an input no node saved: checkpoint would keep it
                    num = numbers[key] = -len(numbers) - 1
                    input_sizes[num] = nbytes
                if leaf:
                    leaves.add(num)
                keys.add(num)
    return MemoryReport(nodes, storages, leaves, scopes, inputs, input_sizes)


def _is_leaf_view(s: Saved) -> bool:
    base = getattr(s.tensor, "_base", None) if s.tensor is not None else None
    return base is not None and base.grad_fn is None


def _module_order(name: str | None) -> tuple[Any, ...]:
    """Sort key: None last; "layers.10" after "layers.2"."""
    if name is None:
        return (1,)
    return (0,) + tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in name.split(".") if p)


def _enclosing(module: str | None) -> list[str | None]:
    """``module`` and the modules around it, by name: "a.b.c" -> ["a.b.c", "a.b", "a", ""]."""
    if module is None:
        return [None]
    if module == "":
        return [""]
    parts = module.split(".")
    names: list[str | None] = [".".join(parts[:i]) for i in range(len(parts), 0, -1)]
    return names + [""]


# ----------------------------------------------------------------------------- module tracking
class _Trackers(threading.local):
    def __init__(self) -> None:
        self.stack: list[track_modules] = []


_trackers = _Trackers()


def _current() -> track_modules | None:
    return _trackers.stack[-1] if _trackers.stack else None


class track_modules:
    """Inside it, the forward of ``model`` and of each of its submodules records which graph
    nodes it made (through forward hooks, removed on exit), so that ``memory`` reports per
    module and estimates what ``checkpoint`` would save. One forward at a time: the nodes of
    forwards running on other threads meanwhile would be attributed to these modules."""

    def __init__(self, model: Any) -> None:
        if not hasattr(model, "named_modules"):
            raise TypeError(f"track_modules expects an nn.Module, got {type(model).__name__}")
        self.model = model
        self.scopes = ModuleScopes()
        self._handles: list[Any] = []

    def __enter__(self) -> track_modules:
        for name, module in self.model.named_modules():
            self._handles.append(module.register_forward_pre_hook(functools.partial(self._pre, name)))
            self._handles.append(module.register_forward_hook(functools.partial(self._post, name), always_call=True))
        _trackers.stack.append(self)
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        for h in self._handles:
            h.remove()
        self._handles = []
        if self in _trackers.stack:
            _trackers.stack.remove(self)
        return False

    def _pre(self, name: str, module: Any, args: tuple[Any, ...]) -> None:
        self.scopes.enter(name, [a for a in args if is_tensor(a)])

    def _post(self, name: str, module: Any, args: tuple[Any, ...], output: Any) -> None:
        self.scopes.exit(name)


def _fmt(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if abs(n) >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n} B"


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for j, r in enumerate(rows):
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if j == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)

"""Reading a recorded graph without running it: its nodes, what each saved, where it came from.

Shared by the graph pictures (``_graph_draw``) and the memory inspector (``_graph_memory``).
Nothing here unpacks a saved tensor (no version checks, no unpack hooks run): saved items are
read as stored. A storage is the array that owns the memory (the end of a view's ``base``
chain), so views of one array, and one tensor saved by two nodes, share a storage.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .graph import AccumulateGrad, HookedSavedTensor, Node, OpNode, _seq_counter

if TYPE_CHECKING:
    from .._tensor import Tensor

# what op.save's names are called in pictures and reports
_SAVE_LABELS = {"x": "input0", "y": "input1", "z": "input2", "out": "result", "extra": "extra"}


@dataclass
class Saved:
    """One item a node saved for backward: ``array`` is None when it is freed, or held in a form
    that is not an array (packed by saved tensor hooks into something else)."""

    name: str
    array: Any = None
    tensor: Any = None  # the saved Tensor, when the node keeps the Tensor itself
    leaf: bool = False  # a graph leaf (a parameter, an input): it lives on without the graph
    hooked: bool = False  # packed by saved tensor hooks
    freed: bool = False


@dataclass
class Graph:
    """The nodes reachable from some root tensors, each once, roots first (every node comes
    before the nodes its edges lead to)."""

    roots: list[Any]
    nodes: list[Node]
    # node -> [(shape, dtype)] of each output, where known (from its consumers' records)
    outputs: dict[Node, dict[int, tuple[tuple[int, ...], Any]]] = field(default_factory=dict)


def is_tensor(x: object) -> bool:
    return hasattr(x, "_data") and hasattr(x, "grad_fn")


def root_node(t: Tensor) -> Node | None:
    """Where ``t``'s gradient enters the graph: its grad_fn, or its AccumulateGrad when it is a
    leaf that requires grad; None when it has no graph."""
    if t.grad_fn is not None:
        return t.grad_fn
    if t.requires_grad:
        return t._grad_accumulator()
    return None


def walk(roots: Sequence[Any]) -> Graph:
    """The graph behind ``roots`` (tensors), in topological order from the roots."""
    tensors = list(roots)
    for t in tensors:
        if not is_tensor(t):
            raise TypeError(f"expected Tensors as roots, got {type(t).__name__}")
    starts = [n for n in (root_node(t) for t in tensors) if n is not None]
    # count the incoming edges, then emit a node once all its consumers are out (Kahn)
    deps: dict[Node, int] = {n: 0 for n in starts}
    stack = list(dict.fromkeys(starts))
    seen = set(stack)
    while stack:
        node = stack.pop()
        for e in node._next:
            if e is None:
                continue
            child = e[0]
            deps[child] = deps.get(child, 0) + 1
            if child not in seen:
                seen.add(child)
                stack.append(child)
    # a root reached from another root waits for it, like any node
    ready = [n for n in dict.fromkeys(starts) if deps[n] == 0]
    order: list[Node] = []
    outputs: dict[Node, dict[int, tuple[tuple[int, ...], Any]]] = {}
    for t in tensors:
        n = root_node(t)
        if n is not None:
            outputs.setdefault(n, {})[t._out_nr if t.grad_fn is not None else 0] = (tuple(t.shape), t.dtype)
    while ready:
        node = ready.pop()
        order.append(node)
        shapes: Sequence[Any] = getattr(node, "_in_shapes", ())
        dtypes: Sequence[Any] = getattr(node, "_in_dtypes", ())
        for i, e in enumerate(node._next):
            if e is None:
                continue
            child, nr = e
            if i < len(shapes) and shapes[i] is not None:
                outputs.setdefault(child, {}).setdefault(nr, (tuple(shapes[i]), dtypes[i]))
            deps[child] -= 1
            if deps[child] == 0:
                ready.append(child)
    for node in order:
        if type(node) is AccumulateGrad:
            var = node.variable
            if var is not None:
                outputs.setdefault(node, {})[0] = (tuple(var.shape), var.dtype)
        else:
            for nr, meta in enumerate(getattr(node, "_out_meta", ()) or ()):
                if meta is not None:
                    outputs.setdefault(node, {}).setdefault(nr, (tuple(meta[0]), meta[1]))
    return Graph(tensors, order, outputs)


def saved(node: Node) -> list[Saved]:
    """What ``node`` saved for backward, in order (freed items are marked so)."""
    if isinstance(node, OpNode):
        names = [_SAVE_LABELS[s] for s in node.op.save]
        items = node._saved
        if type(items) is str:
            return [Saved(n, freed=True) for n in names]
        return [s for s in (_item(n, item) for n, item in zip(names, items)) if s is not None]
    if type(node) is AccumulateGrad:
        return []
    items = getattr(node, "_saved", ())  # a custom Function's node: None once freed
    if items is None:
        return [Saved("saved", freed=True)]
    return [s for s in (_item(f"saved{i}", item) for i, item in enumerate(items)) if s is not None]


def _item(name: str, item: Any) -> Saved | None:
    if item is None:
        return None
    if type(item) is HookedSavedTensor:
        history = item.history
        packed = item.packed
        # a leaf when the hook kept the tensor itself (not, say, a checkpoint's record)
        direct = is_tensor(packed) or (isinstance(packed, (tuple, list)) and any(is_tensor(v) for v in packed))
        leaf = direct and isinstance(history, tuple) and history[0] is None
        arrays = list(_held_arrays(packed))
        if not direct:
            name += " (packed)"  # the arrays are what the packed value holds, not the tensor
        return Saved(name, arrays[0] if len(arrays) == 1 else (arrays or None), leaf=leaf, hooked=True)
    if _is_array(item):  # a saved output: its array
        return Saved(name, item)
    if is_tensor(item):
        return Saved(name, item._data, tensor=item, leaf=item.grad_fn is None)
    inner = getattr(item, "tensor", None)  # a custom Function's saved input
    if inner is not None and is_tensor(inner):
        return Saved(name, inner._data, tensor=inner, leaf=inner.grad_fn is None)
    data = getattr(item, "data", None)  # a custom Function's saved output: its array
    if _is_array(data):
        return Saved(name, data)
    return None  # a Python scalar or other non-tensor argument


def _is_array(x: object) -> bool:
    return hasattr(x, "nbytes") and hasattr(x, "shape") and hasattr(x, "dtype") and not is_tensor(x)


def _held_arrays(packed: Any) -> Iterator[Any]:
    """The arrays a saved-tensor hook's packed value keeps: a tensor, tensors in a tuple or list
    (one level), and those of an object with ``_held_tensors()`` (a checkpoint's record)."""
    values = packed if isinstance(packed, (tuple, list)) else (packed,)
    for v in values:
        if is_tensor(v):
            yield v._data
        elif _is_array(v):
            yield v
        else:
            held: Callable[[], Iterable[Any]] | None = getattr(v, "_held_tensors", None)
            if held is not None:
                for t in held():
                    if is_tensor(t):
                        yield t._data


def arrays_of(s: Saved) -> list[Any]:
    if s.array is None:
        return []
    return list(s.array) if isinstance(s.array, list) else [s.array]


def storage(array: Any) -> tuple[int, int]:
    """``(key, nbytes)`` of the storage behind ``array``: the last object of its ``base`` chain
    that has a size (the array owning the memory). The key is valid while the array lives."""
    owner = array
    obj = getattr(array, "base", None)
    while obj is not None:
        if hasattr(obj, "nbytes"):
            owner = obj
        obj = getattr(obj, "base", None)
    return id(owner), int(owner.nbytes)


# ----------------------------------------------------------------------------- modules
class ModuleScopes:
    """Which module made which nodes: the forward of each module of a model records the span of
    node sequence numbers made during it; a node belongs to the innermost module whose span
    holds it. Nothing runs per node (the spans come from forward hooks)."""

    def __init__(self) -> None:
        # one per forward call: (first seq, end seq, module name, its tensor inputs' arrays, each
        # with whether the input was a leaf)
        self.spans: list[tuple[int, int, str, list[tuple[Any, bool]]]] = []
        self._open = threading.local()
        self._bounds: list[int] | None = None
        self._owners: list[str | None] = []

    def enter(self, name: str, args: Sequence[Any]) -> None:
        stack = getattr(self._open, "stack", None)
        if stack is None:
            stack = self._open.stack = []
        inputs = [(a._data, a.grad_fn is None) for a in args if is_tensor(a)]
        stack.append((name, next(_seq_counter), inputs))

    def exit(self, name: str) -> None:
        stack = self._open.stack
        while stack:
            opened, first, inputs = stack.pop()
            if opened == name:
                self.spans.append((first, next(_seq_counter), name, inputs))
                self._bounds = None
                return

    def module_of(self, node: Node) -> str | None:
        """The innermost module whose forward made ``node``; None when none did."""
        if self._bounds is None:
            self._index()
        assert self._bounds is not None
        i = bisect.bisect_right(self._bounds, node._seq) - 1
        return self._owners[i] if i >= 0 else None

    def inputs_of(self, nodes: Sequence[Node]) -> dict[str, list[tuple[Any, bool]]]:
        """Per module name, the inputs of its forward calls that made some of ``nodes``."""
        seqs = sorted(n._seq for n in nodes)
        result: dict[str, list[tuple[Any, bool]]] = {}
        for first, end, name, inputs in self.spans:
            i = bisect.bisect_left(seqs, first)
            if i < len(seqs) and seqs[i] < end:
                result.setdefault(name, []).extend(inputs)
        return result

    def _index(self) -> None:
        # sweep the nested spans into consecutive pieces, each owned by its innermost module
        events = sorted([(s, 1, n) for s, e, n, _ in self.spans] + [(e, 0, n) for s, e, n, _ in self.spans])
        bounds: list[int] = []
        owners: list[str | None] = []
        open_: list[str] = []
        for at, starts, name in events:
            if starts:
                open_.append(name)
            elif name in open_:
                del open_[len(open_) - 1 - open_[::-1].index(name)]
            bounds.append(at)
            owners.append(open_[-1] if open_ else None)
        self._bounds, self._owners = bounds, owners

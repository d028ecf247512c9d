"""The backward pass.

``execute`` walks the graph once from the roots to count, for every node, how many edges point
at it (its dependencies); then runs nodes from a ready queue, newest first (by sequence number,
as PyTorch does), each as soon as all of its incoming gradients have been summed into its input
buffer. The walk and the run are loops over explicit stacks and heaps, never recursion, so a
graph as deep as memory allows works with the default recursion limit.

When ``targets`` are given (``autograd.grad``, or ``backward(inputs=...)``), only the nodes that
lie on a path to a target run: the others are never counted or executed.

After a node runs, its saved tensors are released unless ``retain_graph``.

Threads: a backward runs entirely on the thread that called it, and everything it keeps while
it runs (buffers, the ready heap, its ``GraphTask`` with the final callbacks) is its own. What
threads share is the graph: gradients summed into a ``.grad`` (a leaf's, under its
AccumulateGrad's lock; a non-leaf's, under ``_nonleaf_grad_lock``) are atomic with respect to
other backward passes.
"""

from __future__ import annotations

import heapq
import itertools
import os
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .grad_mode import _state
from .._autocast import _amp
from .graph import AccumulateGrad, GraphTask, Node, running as _running
from .graph import current_graph_task, queue_callback  # noqa: F401  (their public place: autograd.engine)
from . import anomaly as _anomaly
from .._compile.state import _cap
from ._forward_state import _fw, set_tangent as _set_tangent

if TYPE_CHECKING:
    from types import FrameType

    from .._tensor import Tensor
    from .graph import Edge, Grad, NodeExtras

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _user_frame_site() -> str | None:
    f: FrameType | None = sys._getframe(2)
    while f is not None and f.f_code.co_filename.startswith(_PKG_DIR):
        f = f.f_back
    return f"at {f.f_code.co_filename}:{f.f_lineno}" if f is not None else None


# The profiler's observer (retrograd.profiler), set while it records: each node runs as
# ``observer(node, fn, *args)``, which calls ``fn(*args)`` between its clock readings. A backward
# reads it once, when it starts.
_observer: Callable[..., Any] | None = None


def set_node_observer(observer: Callable[..., Any] | None) -> None:
    """Run every node of a backward through ``observer(node, fn, *args)`` (None: stop)."""
    global _observer
    _observer = observer


def _collect(roots: Iterable[Node], with_parents: bool) -> tuple[dict[Node, int], dict[Node, list[Node]] | None]:
    """Count the dependencies (incoming edges) of every node reachable from ``roots``; with
    ``with_parents``, also map each node to the nodes with an edge into it."""
    deps = dict.fromkeys(roots, 0)  # a root may also be reachable from another root
    parents: dict[Node, list[Node]] | None = {} if with_parents else None
    seen = set(roots)
    stack = list(seen)
    pop, push, add = stack.pop, stack.append, seen.add
    while stack:
        node = pop()
        for e in node._next:
            if e is None:
                continue
            child = e[0]
            if child in seen:
                deps[child] += 1
            else:
                deps[child] = 1
                add(child)
                push(child)
            if parents is not None:
                parents.setdefault(child, []).append(node)
    return deps, parents


def _needed(target_nodes: Iterable[Node], parents: dict[Node, list[Node]]) -> set[Node]:
    """Nodes from which some target is reachable through at least one edge."""
    needed: set[Node] = set()
    stack = list(target_nodes)
    while stack:
        for p in parents.get(stack.pop(), ()):
            if p not in needed:
                needed.add(p)
                stack.append(p)
    return needed


def _run_graph(
    roots: Sequence[Edge],
    grads: Sequence[Grad],
    retain_graph: bool | None,
    create_graph: bool,
    targets: dict[Edge, int] | None,
    accumulate: bool,
) -> list[Grad] | None:
    """Run backward from ``roots`` (a list of ``(node, output_nr)``) seeded with ``grads``.

    ``targets`` maps ``(node, output_nr)`` to a slot index: the gradient arriving there is
    captured into the returned list. With ``accumulate=False`` (``autograd.grad``) no leaf
    ``.grad`` is touched; with ``accumulate=True`` and targets (``backward(inputs=...)``) only the
    targets' ``.grad`` are; without targets, every leaf's is.
    """
    # the main loop's variables (declared for the type checker: it sets them to None to drop
    # its references)
    node: Node | None
    buf: list[Grad] | None
    outs: tuple[Grad, ...] | None
    ready: Node | None
    child: Node | None
    root_nodes = list(dict.fromkeys(n for n, _ in roots))
    deps, parents = _collect(root_nodes, targets is not None)
    for n in root_nodes:
        deps.setdefault(n, 0)
    # With targets: target_nodes maps each target node to its (output_nr, slot) pairs, needed
    # holds the nodes to run and captured the gradients found. Without: target_nodes is None and
    # the other two are never read.
    target_nodes: dict[Node, list[tuple[int, int]]] | None = None
    needed: set[Node] = set()
    captured: list[Grad] = []
    if targets is not None and parents is not None:
        captured = [None] * len(targets)
        target_nodes = {}
        for (node, nr), slot in targets.items():
            target_nodes.setdefault(node, []).append((nr, slot))
        needed = _needed(target_nodes, parents)
        # Count only edges from needed nodes into needed or target nodes.
        deps = {n: 0 for n in root_nodes}
        for node in needed:
            for e in node._next:
                if e is not None and (e[0] in needed or e[0] in target_nodes):
                    deps[e[0]] = deps.get(e[0], 0) + 1

    buffers: dict[Node, list[Grad]] = {}
    for (node, nr), g in zip(roots, grads):
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node.n_outputs
        prev = buf[nr]
        buf[nr] = g if prev is None else prev._grad_sum(g)

    tie = itertools.count()
    next_tie = tie.__next__
    heap = [(-n._seq, next_tie(), n) for n in root_nodes if deps[n] == 0]
    heapq.heapify(heap)
    heappop, heappush = heapq.heappop, heapq.heappush
    retain = create_graph if retain_graph is None else retain_graph
    check_nan = _anomaly._state.enabled
    pop_buffer = buffers.pop
    observer = _observer

    prev_mode = _state.enabled
    # in a forward-mode level the vjps take their differentiable path, so tangents flow through
    # them (forward over reverse) even without create_graph
    _state.enabled = create_graph or _fw.active
    node = None  # the next node when it is known to come first, bypassing the heap
    _amp.excluded += 1  # backward ops run in the forward's dtypes, never autocast
    _amp.refresh()
    try:
        while True:
            if node is None:
                if not heap:
                    break
                node = heappop(heap)[2]
            buf = pop_buffer(node, None)
            if buf is None:
                buf = [None] * node.n_outputs
            extra = node._extra
            if extra is not None:
                buf = _pre_hooks(extra, buf, create_graph)
            if target_nodes is not None:
                hits = target_nodes.get(node)
                if hits is not None:
                    for nr, slot in hits:
                        captured[slot] = buf[nr]
                if node not in needed:
                    if hits is not None and accumulate and type(node) is AccumulateGrad:
                        _accumulate(node, buf[0], create_graph)
                    node = None
                    continue
            if type(node) is AccumulateGrad:
                if observer is None:
                    _accumulate(node, buf[0], create_graph)
                else:
                    observer(node, _accumulate, node, buf[0], create_graph)
                if extra is not None and "hooks" in extra:
                    _post_hooks(extra, (), buf)  # grad_fn hooks on a leaf's accumulator
                node = buf = None
                continue

            outs = node._apply(buf, retain) if observer is None else observer(node, node._apply, buf, retain)
            if len(outs) > 1 and outs[0] is not None and (len(outs) > 2 or outs[0] is outs[1]):
                outs = _distinct(outs)
            if extra is not None and "hooks" in extra:
                outs = _post_hooks(extra, outs, buf)
            buf = None
            if check_nan:
                _anomaly.check_grads(node, outs)

            # an entry is None only where the edge is None, and then it is not read
            shapes: tuple[Any, ...] = node._in_shapes
            dtypes = node._in_dtypes
            ready = None
            i = 0
            for e in node._next:
                if e is not None:
                    child = e[0]
                    if target_nodes is None or child in needed or child in target_nodes:
                        g = outs[i]
                        if g is not None:
                            gd = g._data
                            if gd.shape != shapes[i]:
                                g = _sum_to(g, shapes[i], node, i)
                            if gd.dtype is not dtypes[i] and gd.dtype != dtypes[i]:
                                if gd.dtype.kind == "c" and dtypes[i].kind != "c":
                                    g = g.real  # a real input's gradient is the real part
                                g = g.to(dtypes[i])
                            cbuf = buffers.get(child)
                            nr = e[1]
                            if cbuf is None:
                                if child.n_outputs == 1:
                                    buffers[child] = [g]
                                else:
                                    cbuf = buffers[child] = [None] * child.n_outputs
                                    cbuf[nr] = g
                            else:
                                prev = cbuf[nr]
                                # gradients of two classes (dense and sparse): the first one's
                                # class says how they sum
                                cbuf[nr] = (
                                    g if prev is None else prev + g if type(prev) is type(g) else prev._grad_sum(g)
                                )
                        d = deps[child] - 1
                        deps[child] = d
                        if d == 0:
                            if ready is not None:
                                heappush(heap, (-ready._seq, next_tie(), ready))
                            ready = child
                i += 1
            # The last node made ready runs next without a heap round trip when nothing queued
            # comes before it (the common case in a chain).
            if ready is not None and heap and heap[0][0] < -ready._seq:
                heappush(heap, (-ready._seq, next_tie(), ready))
                ready = None
            node = ready
            # drop the engine's own references, so AccumulateGrad can tell a fresh gradient
            outs = g = gd = prev = ready = child = None
    except Exception as e:
        if check_nan and node is not None:
            _anomaly.annotate(e, node)
        raise
    finally:
        _state.enabled = prev_mode
        _amp.excluded -= 1
        _amp.refresh()
    return captured if target_nodes is not None else None


# ``_broadcast.sum_to_shape``, registered there when it loads (it is an op, and the op record
# loads after the engine; ops.reduction loads it with the package).
_sum_to_shape: Callable[[Tensor, tuple[int, ...]], Tensor]


def register_sum_to_shape(fn: Callable[[Tensor, tuple[int, ...]], Tensor]) -> None:
    global _sum_to_shape
    _sum_to_shape = fn


def _sum_to(g: Tensor, shape: tuple[int, ...], node: Node, i: int) -> Tensor:
    """Undo broadcasting: sum ``g`` down to ``shape`` (the one place where this happens)."""
    try:
        return _sum_to_shape(g, shape)
    except ValueError:
        raise RuntimeError(
            f"Function {node.name()} returned an invalid gradient at index {i} - got "
            f"{list(g._data.shape)} but expected shape compatible with {list(shape)}"
        ) from None


def _pre_hooks(extra: NodeExtras, buf: list[Grad], create_graph: bool) -> list[Grad]:
    if _cap.active and (extra.get("tensor_hooks") or extra.get("retains") or extra.get("pre_hooks")):
        _cap.recorder.unrecorded("a backward hook (or retain_grad)")
    tensor_hooks = extra.get("tensor_hooks")
    if tensor_hooks:
        for nr, hooks in tensor_hooks.items():
            for hook in list(hooks):
                g = buf[nr]
                if g is None:
                    break
                r = hook(g)
                if r is not None:
                    if r._data.shape != g._data.shape:
                        raise RuntimeError(
                            f"hook '{_hook_name(hook)}' has changed the size of value: the gradient "
                            f"of shape {list(g._data.shape)} was replaced by one of shape "
                            f"{list(r._data.shape)}"
                        )
                    buf[nr] = r
    retains = extra.get("retains")
    if retains:
        for nr, ref in retains.items():
            t = ref()
            g = buf[nr]
            if t is not None and g is not None:
                g = g if create_graph else g.detach()
                with _nonleaf_grad_lock:
                    t._grad = g.clone() if t._grad is None else t._grad + g
    pre = extra.get("pre_hooks")
    if pre:
        for pre_hook in list(pre):
            rs = pre_hook(tuple(buf))
            if rs is not None:
                _check_arity(pre_hook, rs, len(buf))
                buf = list(rs)
    return buf


def _post_hooks(extra: NodeExtras, outs: tuple[Grad, ...], buf: list[Grad]) -> tuple[Grad, ...]:
    if _cap.active:
        _cap.recorder.unrecorded("a backward hook")
    for hook in list(extra["hooks"]):
        r = hook(tuple(outs), tuple(buf))
        if r is not None:
            _check_arity(hook, r, len(outs))
            outs = tuple(r)
    return outs


def _hook_name(hook: Callable[..., Any]) -> str:
    return getattr(hook, "__name__", type(hook).__name__)


def _check_arity(hook: Callable[..., Any], values: Sequence[Grad], expected: int) -> None:
    if len(values) != expected:
        raise RuntimeError(
            f"hook '{_hook_name(hook)}' has returned an incorrect number of values "
            f"(got {len(values)}, but expected {expected})"
        )


def _accumulate(node: AccumulateGrad, g: Grad, create_graph: bool) -> None:
    """AccumulateGrad: add ``g`` into the leaf's ``.grad``, then run its post-accumulate hooks,
    both under the node's lock (another thread's backward into the same leaf waits).

    The first gradient is stored without a copy when nothing else can see its memory (a fresh
    array referenced only by ``g``); otherwise it is copied, so two leaves never share storage.
    Later gradients are added in place, or out of place under ``create_graph``.
    """
    if _cap.active:  # a compiled function's first call: record the accumulation
        return _cap.recorder.accumulate(_accumulate, node, g, create_graph)
    var = node._variable()
    if var is None or g is None:
        return
    lock = node._lock
    lock.acquire()  # cheaper than a with statement (a third of its cost, uncontended)
    try:
        old = var._grad
        if not var._rg:
            pass  # requires_grad switched off after the forward: no gradient, as in PyTorch
        elif old is None:
            if create_graph:
                var._grad = g
            elif g.grad_fn is None and g._data.base is None and _unshared(g):
                var._grad = g
            else:
                var._grad = g.detach().clone()
        elif create_graph or old._rg or old.is_sparse or g.is_sparse:
            var._grad = old._grad_sum(g)  # out of place; the gradient's class says how to sum
        else:
            old._data += g._data
            old._version_counter().bump()
        extra = node._extra
        if extra is not None and "post_accumulate" in extra:
            for hook in list(extra["post_accumulate"]):
                hook(var)
    finally:
        lock.release()


def _distinct(outs: tuple[Grad, ...]) -> tuple[Grad, ...]:
    """Give each input its own Tensor object when a backward returns one object twice (add)."""
    seen: set[int] = set()
    result: list[Grad] = []
    for g in outs:
        if g is not None:
            if id(g) in seen:
                g = _alias(g)
            seen.add(id(g))
        result.append(g)
    return tuple(result)


def _alias(g: Tensor) -> Tensor:
    a = type(g)._make(g._data, g.grad_fn, g._rg)  # of g's class: a sparse gradient stays sparse
    a._out_nr = g._out_nr
    if g.grad_fn is None and g._rg:
        a._grad_acc = g._grad_accumulator()  # a leaf's alias feeds the same accumulator
    if g._fw_grad is not None:  # forward over reverse: the alias keeps the tangent
        _set_tangent(a, g._fw_grad)
    return a


# A gradient that reaches _accumulate fresh is referenced only by the engine's input buffer,
# _accumulate's and _unshared's parameters and getrefcount's argument; its array only by it.
_FRESH_TENSOR_REFS = 4


def _unshared(g: Tensor) -> bool:
    return sys.getrefcount(g._data) <= 2 and sys.getrefcount(g) <= _FRESH_TENSOR_REFS


# Non-leaf gradients (retain_grad, backward(inputs=...)) are summed out of place under this
# lock, so concurrent backward passes through one non-leaf add up; they are rare and cheap to
# serialize, unlike the leaves' accumulation, which has one lock per leaf.
_nonleaf_grad_lock = threading.Lock()


def add_nonleaf_grad(t: Tensor, g: Tensor) -> None:
    """``t.grad += g`` for a non-leaf ``t``, out of place (``g`` is kept as is when ``t`` has no
    gradient yet), atomic with respect to other threads' backward passes."""
    with _nonleaf_grad_lock:
        t._grad = g if t._grad is None else t._grad + g


def execute(
    roots: Sequence[Edge],
    grads: Sequence[Grad],
    retain_graph: bool | None,
    create_graph: bool,
    targets: dict[Edge, int] | None = None,
    accumulate: bool = True,
    site: str | None = None,
) -> list[Grad] | None:
    """Run the backward pass (see ``_run_graph``), then the callbacks queued during it.

    ``site`` (the user's file:line of the backward call) is what nodes freed by this backward
    record, for the error of a later backward through them."""
    if _cap.active:
        _cap.recorder.backward(create_graph)
    task = GraphTask()
    tasks = _running.tasks
    prev_site = _running.site
    tasks.append(task)
    _running.site = site
    try:
        captured = _run_graph(roots, grads, retain_graph, create_graph, targets, accumulate)
        for callback in task.callbacks:  # the loop also reaches callbacks queued by callbacks
            callback()
    finally:
        tasks.pop()
        _running.site = prev_site
    return captured

"""Graph nodes: the backward side of every recorded op.

A ``Node`` holds edges ``(next_node, input_nr)`` to the nodes that produced its inputs (or to a
leaf's ``AccumulateGrad``), a sequence number (newer nodes run first), and optional hooks. An
``OpNode`` is the node of a built-in op: it keeps the op, the tensors the op saved, the op's
non-tensor arguments and each input's shape and dtype, so that the engine can sum a broadcast
gradient back to its input's shape.

Saved tensors: inputs are kept as the Tensor objects themselves (so a double backward reaches
them); the output is kept as its raw array plus its version counter, never as the output Tensor,
so no tensor -> node -> tensor cycle keeps the graph alive. Each saved tensor remembers its
version; unpacking checks it, so an in-place change after saving is an error at backward time.

Threads: graph state that threads can share is guarded. An AccumulateGrad is made once per
leaf (under a lock, ``new_grad_accumulator``) and carries its own lock, so gradients from
backward passes on several threads are summed atomically. What a backward is running lives in
``running``, a thread-local.
"""

from __future__ import annotations

import functools
import itertools
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypedDict, TypeVar

from . import anomaly
from ._forward_state import set_tangent as _set_tangent
from ._handles import ListHookHandle
from .grad_mode import _node_extra_probes, _refresh_node_extras
from ..backend import to_numpy, to_device_array

if TYPE_CHECKING:  # names for annotations only (they are not evaluated at run time)
    from typing import TypeAlias

    from .._device import device
    from .._tensor import Tensor
    from ..ops._registry import Op

    # A gradient is a Tensor or None (no gradient); an edge leads to output ``nr`` of a node
    # (None: the input needs no gradient).
    Grad: TypeAlias = Tensor | None
    Edge: TypeAlias = tuple["Node", int]
    TensorHook: TypeAlias = Callable[[Tensor], Tensor | None]
    PreHook: TypeAlias = Callable[[tuple[Grad, ...]], Sequence[Grad] | None]
    PostHook: TypeAlias = Callable[[tuple[Grad, ...], tuple[Grad, ...]], Sequence[Grad] | None]
    # saved tensor hooks: (pack_hook, unpack_hook)
    HookPair: TypeAlias = tuple[Callable[[Tensor], Any], Callable[[Any], Tensor]]

    class NodeExtras(TypedDict, total=False):
        """What a node's ``_extra`` dict may hold (each key set on first use)."""

        metadata: dict[Any, Any]
        hooks: list[PostHook]  # register_hook
        pre_hooks: list[PreHook]  # register_prehook
        tensor_hooks: dict[int, list[TensorHook]]  # Tensor.register_hook, by output number
        retains: dict[int, weakref.ref[Tensor]]  # Tensor.retain_grad, by output number
        post_accumulate: list[Callable[[Tensor], object]]  # AccumulateGrad only
        trace: list[Any]  # anomaly mode: the forward stack


_F = TypeVar("_F", bound=Callable[..., Any])

_seq_counter = itertools.count()
_make_lock = threading.Lock()  # makes each leaf's AccumulateGrad exactly once


class _Running(threading.local):
    """Per thread: the backward calls running now (the innermost last, see ``engine``) and the
    user's file:line of the innermost one, which a node records when it frees its saved
    tensors (so a second backward can name the call that freed them)."""

    site: str | None = None

    def __init__(self) -> None:
        self.tasks: list[GraphTask] = []


running = _Running()


class GraphTask:
    """One running backward call: the final callbacks queued during it (PyTorch's
    ``Variable._execution_engine.queue_callback``), run once it has finished every node,
    and ``hook_state``, a dict where hooks keep what they have seen in this backward
    (``register_multi_grad_hook``)."""

    __slots__ = ("callbacks", "hook_state")

    def __init__(self) -> None:
        self.callbacks: list[Callable[[], object]] = []
        self.hook_state: dict[object, Any] = {}


def current_graph_task() -> GraphTask | None:
    """The innermost backward running on this thread, or None."""
    tasks = running.tasks
    return tasks[-1] if tasks else None


def queue_callback(callback: Callable[[], object]) -> None:
    """Run ``callback()`` when the backward that is running now on this thread (the innermost
    one, when a hook runs a backward of its own) has finished all its nodes."""
    tasks = running.tasks
    if not tasks:
        raise RuntimeError(
            "queue_callback can only be called while a backward is running on the "
            "calling thread (from a hook, for instance)"
        )
    tasks[-1].callbacks.append(callback)


# Tensor and make_tensor: ``_tensor`` imports this module (a tensor makes its version counter and
# its AccumulateGrad node here), so it registers them when it loads and the graph never imports it.
_Tensor: type[Tensor]
_make_tensor: Callable[[Any, Node | None, bool], Tensor]


def register_tensor(cls: type[Tensor], make: Callable[[Any, Node | None, bool], Tensor]) -> None:
    global _Tensor, _make_tensor
    _Tensor, _make_tensor = cls, make


class Node:
    """Base class of graph nodes. Rarely used state (hooks, metadata) lives in ``_extra``, a dict
    made on first use; ``_extra`` defaults to None on the class."""

    __slots__ = ("_next", "_seq", "__weakref__", "__dict__")
    _next: tuple[Edge | None, ...]  # one edge per input, None where no gradient is needed
    _seq: float  # creation order (an int; AccumulateGrad's is infinite)
    n_outputs: int = 1
    _extra: NodeExtras | None = None
    # forward mode: the tangent of the output an OpNode saved, given back to it on unpack
    _fw_grad: Tensor | None = None
    # Every node the engine runs (all but AccumulateGrad) sets these: each input's shape and
    # dtype (None where no gradient is needed), to which its gradient is summed and cast.
    _in_shapes: tuple[tuple[int, ...] | None, ...]
    _in_dtypes: tuple[Any, ...]

    def name(self) -> str:
        return type(self).__name__

    @property
    def next_functions(self) -> tuple[tuple[Node | None, int], ...]:
        return tuple((e[0], e[1]) if e is not None else (None, 0) for e in self._next)

    @property
    def metadata(self) -> dict[Any, Any]:
        return self._extras().setdefault("metadata", {})

    def _extras(self) -> NodeExtras:
        if self._extra is None:
            self._extra = {}
        return self._extra

    def _hook_list(self, key: Literal["hooks", "pre_hooks", "post_accumulate"]) -> list[Any]:
        return self._extras().setdefault(key, [])

    def register_hook(self, fn: PostHook) -> ListHookHandle:
        """``fn(grad_inputs, grad_outputs)`` runs after the node; it may return new grad_inputs."""
        return ListHookHandle(self._hook_list("hooks"), fn)

    def register_prehook(self, fn: PreHook) -> ListHookHandle:
        """``fn(grad_outputs)`` runs before the node; it may return new grad_outputs."""
        return ListHookHandle(self._hook_list("pre_hooks"), fn)

    def _register_tensor_hook(self, output_nr: int, fn: TensorHook) -> ListHookHandle:
        hooks = self._extras().setdefault("tensor_hooks", {}).setdefault(output_nr, [])
        return ListHookHandle(hooks, fn)

    def _apply(self, grads: list[Grad], retain: bool) -> tuple[Grad, ...]:
        """The node's backward: gradients for its inputs (one per edge) from ``grads``, those
        of its outputs; ``retain=False`` frees what it saved. Every subclass defines it."""
        raise NotImplementedError(f"{self.name()} has no backward")

    def __call__(self, *grads: Grad) -> tuple[Grad, ...]:
        return self._apply(list(grads), retain=True)

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"


class OpNode(Node):
    """The node of a built-in op. Its vjp is ``op.backward(g, *saved, *args)``.

    ``_saved`` holds, in the order of ``op.save``, the saved input Tensors, the output's array
    (rebuilt on unpack with this node as its grad_fn) and any extra; ``_versions`` holds the
    version each saved input had when saved, and ``_out_vc`` the output's version counter.
    """

    __slots__ = ("op", "_saved", "_versions", "_out_vc", "args", "_in_shapes", "_in_dtypes")
    op: Op
    # What op.save names (Tensors, the output's array, the extra); a HookedOpNode keeps
    # HookedSavedTensors among them. Once freed, a str (a Sequence too): the call site of the
    # backward that freed it.
    _saved: Sequence[Any]
    _versions: Sequence[int | None]  # per saved item: its version when saved (None: no check)
    _out_vc: VersionCounter  # the output's version counter, when the output is saved
    args: tuple[Any, ...]

    def __init__(
        self,
        op: Op,
        next_edges: tuple[Edge | None, ...],
        args: tuple[Any, ...],
        in_shapes: tuple[tuple[int, ...] | None, ...],
        in_dtypes: tuple[Any, ...],
    ) -> None:
        self._next = next_edges
        self._seq = next(_seq_counter)
        self.op = op
        self.args = args
        self._in_shapes = in_shapes
        self._in_dtypes = in_dtypes

    def name(self) -> str:
        op = self.op
        return op.node_name if op.namer is None else op.namer(self.args)

    # grad_fn._saved_self / _saved_other / _saved_result: the saved input or output, as PyTorch's
    # nodes expose them (unpacked: saved tensor hooks run, a freed graph raises). Properties, not
    # __getattr__: a class with __getattr__ pays for it on every attribute read, the engine's too.
    def _saved_item(self, code: int, name: str) -> Any:
        codes = self.op._codes
        if code not in codes:
            raise AttributeError(f"'{self.name()}' object has no attribute '{name}'")
        return self._unpack_saved()[codes.index(code)]

    _saved_self = property(lambda self: self._saved_item(0, "_saved_self"))
    _saved_other = property(lambda self: self._saved_item(1, "_saved_other"))
    _saved_result = property(lambda self: self._saved_item(-1, "_saved_result"))

    def _unpack_saved(self) -> Sequence[Any]:
        saved = self._saved
        if type(saved) is str:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (or directly access saved "
                f"tensors after they have already been freed): the saved tensors of {self.name()} "
                f"were freed by the backward call {saved}. Specify "
                f"retain_graph=True if you need to backward through the graph a second time or if "
                f"you need to access saved tensors after calling backward."
            )
        codes = self.op._codes
        if len(codes) == 1 and codes[0] == 0:  # the common case: only the input x
            version = self._versions[0]
            if version is not None:
                vc = saved[0]._vc
                if vc is not None and vc.value != version:
                    raise _modified_error(saved[0]._data, version, vc, self)
            return saved
        out: list[Any] = []
        for code, item, version in zip(codes, saved, self._versions):
            if code >= 0:
                if version is not None:
                    vc = item._vc
                    if vc is not None and vc.value != version:
                        raise _modified_error(item._data, version, vc, self)
            elif code == -1:
                vc = self._out_vc
                if vc.value != 0:
                    raise _modified_error(item, 0, vc, self)
                item = _make_tensor(item, self, True)
                item._vc = vc
                if self._fw_grad is not None:
                    _set_tangent(item, self._fw_grad)
            out.append(item)
        return out

    def _apply(self, grads: list[Grad], retain: bool) -> tuple[Grad, ...]:
        g = grads[0]
        if g is None:
            return (None,) * len(self._next)
        op = self.op
        saved = self._unpack_saved() if op._codes else ()
        if op.needs:
            needs: tuple[bool, ...]
            edges = self._next
            if len(edges) == 2:
                needs = (edges[0] is not None, edges[1] is not None)
            else:
                needs = tuple([e is not None for e in edges])
            out = op.backward(g, needs, *saved, *self.args)
        else:
            out = op.backward(g, *saved, *self.args)
        if not retain:
            # Released: _saved now holds the call site of the backward that freed it (a str),
            # which the error of a second backward quotes.
            self._saved = running.site or "before"
        return out if type(out) is tuple else (out,)

    def _release(self) -> None:
        self._saved = "before"

    def _is_released(self) -> bool:
        return type(self._saved) is str

    @property
    def _saved_tensors(self) -> tuple[Any, ...]:
        return tuple(self._unpack_saved())


class SavedTensor:
    """A tensor saved for backward, with the version of its storage at save time.

    An input is kept as the Tensor itself (a double backward must reach it). The node's own
    output is kept as its array and version counter only, and rebuilt on unpack with the node as
    its ``grad_fn``, so no output -> node -> output cycle keeps memory alive.
    """

    __slots__ = ("tensor", "data", "vc", "version")

    def __init__(self, tensor: Tensor | None = None, data: Any = None, vc: VersionCounter | None = None) -> None:
        if tensor is not None:
            vc = tensor._version_counter()
        assert vc is not None, "SavedTensor needs a tensor or a version counter"
        self.tensor = tensor
        self.data = data
        self.vc: VersionCounter = vc
        self.version = vc.value

    def unpack(self, node: Node) -> Tensor:
        vc = self.vc
        if vc.value != self.version:
            data = self.data if self.tensor is None else self.tensor._data
            raise _modified_error(data, self.version, vc, node)
        if self.tensor is not None:
            return self.tensor
        t = _Tensor._make(self.data, node, True)
        t._vc = vc
        return t


def _modified_error(data: Any, version: int | None, vc: VersionCounter, node: Node) -> RuntimeError:
    lw = vc.last_write
    where = f" It was last modified in place at {lw[0]}:{lw[1]}." if lw else ""
    return RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: a tensor of shape {list(data.shape)} and dtype {data.dtype}, saved by "
        f"{node.name()}, is at version {vc.value}; expected version {version} instead.{where} "
        f"Hint: clone the tensor before modifying it in place, or modify it after backward."
    )


class VersionCounter:
    """Counts in-place writes to a tensor's storage; shared by a tensor and all its views."""

    __slots__ = ("value", "last_write", "views")

    def __init__(self) -> None:
        self.value = 0
        # (file, line) of the latest in-place write, for error messages
        self.last_write: tuple[str, int] | None = None
        # weak references to views made in grad mode (autograd/views.py)
        self.views: list[weakref.ref[Tensor]] | None = None

    def bump(self, where: tuple[str, int] | None = None) -> None:
        self.value += 1
        self.last_write = where


def prune_views(views: list[weakref.ref[Tensor]]) -> None:
    """Drop dead references from a version counter's list of views (called by
    ``_link_view`` every 64 appends; pruning only at powers of two keeps it amortised O(1))."""
    n = len(views)
    if n & (n - 1) == 0:
        views[:] = [r for r in views if r() is not None]


class AccumulateGrad(Node):
    """The node of a leaf tensor that requires grad: adds incoming gradients into ``.grad``.

    It holds its leaf weakly (the leaf holds it strongly), so no cycle forms. Its sequence
    number is the largest possible, so a leaf's gradient is accumulated as soon as it is ready.
    ``_lock`` is held while a gradient is summed into ``.grad`` and the post-accumulate hooks
    run, so backward passes on several threads never lose each other's contributions. It is
    reentrant: a hook may run a backward that reaches the same leaf on its own thread.
    """

    __slots__ = ("_variable", "_lock")
    _variable: weakref.ref[Tensor]
    _lock: threading.RLock

    def __init__(self, variable: Tensor) -> None:
        self._next = ()
        self._seq = float("inf")
        self._extra = None
        self._variable = weakref.ref(variable)
        self._lock = threading.RLock()

    @property
    def variable(self) -> Tensor | None:
        return self._variable()

    def _apply(self, grads: list[Grad], retain: bool) -> tuple[Grad, ...]:
        return ()


def new_grad_accumulator(tensor: Tensor) -> AccumulateGrad:
    """``tensor``'s AccumulateGrad, made if it has none yet: once, even when several threads
    ask for it at the same time (each must feed the same node, or their locks would differ)."""
    with _make_lock:
        acc = tensor._grad_acc
        if acc is None:
            acc = tensor._grad_acc = AccumulateGrad(tensor)
    return acc


# ----------------------------------------------------------------------------- public helpers
class GradientEdge(tuple):
    """``(node, output_nr)``: where a tensor's gradient enters the graph."""

    __slots__ = ()

    def __new__(cls, node: Node, output_nr: int) -> GradientEdge:
        return tuple.__new__(cls, (node, output_nr))

    node = property(lambda self: self[0])
    output_nr = property(lambda self: self[1])


def get_gradient_edge(tensor: Tensor) -> GradientEdge:
    """The edge through which ``tensor``'s gradient flows (its grad_fn, or its AccumulateGrad)."""
    if not tensor._rg:
        raise RuntimeError("It is not possible to get the gradient edge for a Tensor that does not require gradients")
    if tensor.grad_fn is not None:
        return GradientEdge(tensor.grad_fn, tensor._out_nr)
    return GradientEdge(tensor._grad_accumulator(), 0)


def increment_version(tensor: Tensor | Sequence[Tensor]) -> None:
    """Bump ``tensor``'s version counter, as an in-place op would (for writes done behind
    autograd's back, e.g. through NumPy)."""
    for t in tensor if isinstance(tensor, (tuple, list)) else (tensor,):
        if isinstance(t, _Tensor):
            t._version_counter().bump()


# ----------------------------------------------------------------------------- saved tensor hooks
class _HookState(threading.local):
    # (pack_hook, unpack_hook) pairs; the innermost one applies
    stack: tuple[HookPair, ...] = ()
    disabled_message: str | None = None


_hook_state = _HookState()
_node_extra_probes.append(lambda: bool(_hook_state.stack))


def node_extras(node: OpNode) -> None:
    """Per-node work while anomaly mode or saved tensor hooks are on (called by ``apply`` only
    then): record the forward trace; pack the node's saved tensors with the hooks."""
    if anomaly._state.enabled:
        anomaly.record_trace(node)
    stack = _hook_state.stack
    if stack and node._saved:
        _pack_saved(node, stack[-1])


def _pack_saved(node: OpNode, hooks: HookPair) -> None:
    packed: list[Any] = []
    for code, item in zip(node.op._codes, node._saved):
        if code >= 0 and isinstance(item, _Tensor):
            item = HookedSavedTensor(hooks, tensor=item)
        elif code == -1:
            item = HookedSavedTensor(hooks, data=item, vc=node._out_vc)
        elif code == -2 and _is_array(item):
            # an array the forward returned beside its result (attention weights, a mask): PyTorch
            # packs every saved tensor, and checkpoint relies on it to free them
            item = HookedSavedTensor(hooks, data=item, vc=VersionCounter(), raw=True)
        packed.append(item)
    node._saved = packed
    node.__class__ = HookedOpNode


def _is_array(item: Any) -> bool:
    """Whether ``item`` is an array of the array module (NumPy or CuPy), not a tuple or scalar."""
    return (
        getattr(item, "ndim", None) is not None
        and getattr(item, "dtype", None) is not None
        and not isinstance(item, (tuple, list))
    )


class HookedOpNode(OpNode):
    """An OpNode whose saved tensors went through saved tensor hooks (same layout as OpNode)."""

    __slots__ = ()

    def _unpack_saved(self) -> Sequence[Any]:
        saved = self._saved
        if type(saved) is str:
            return OpNode._unpack_saved(self)  # raises the "freed" error
        return [s.unpack(self) if type(s) is HookedSavedTensor else s for s in saved]


class HookedSavedTensor:
    """A saved tensor kept as whatever ``pack_hook`` returned; ``unpack_hook`` gives it back.

    The tensor itself is not kept, only its version and its place in the graph (grad_fn and
    output number, or a leaf's AccumulateGrad), so that the unpacked tensor is version-checked
    and differentiable (double backward) like the original.
    """

    __slots__ = ("packed", "unpack_hook", "vc", "version", "history")
    unpack_hook: Callable[[Any], Tensor]
    # an input: (grad_fn, output_nr, requires_grad, AccumulateGrad or None); the node's own
    # output: its output number; an extra array saved beside the output: None
    history: tuple[Node | None, int, bool, AccumulateGrad | None] | int | None

    def __init__(
        self,
        hooks: HookPair,
        tensor: Tensor | None = None,
        data: Any = None,
        vc: VersionCounter | None = None,
        out_nr: int = 0,
        raw: bool = False,
    ) -> None:
        pack, self.unpack_hook = hooks
        if tensor is not None:
            vc = tensor._version_counter()
            acc = tensor._grad_accumulator() if tensor._rg and tensor.grad_fn is None else None
            self.history = (tensor.grad_fn, tensor._out_nr, tensor._rg, acc)
            arg = tensor
        else:
            self.history = None if raw else out_nr  # output out_nr of the node that saved it
            arg = _Tensor._make(data, None, False)
            arg._vc = vc
        assert vc is not None, "a saved output comes with its version counter"
        self.vc: VersionCounter = vc
        self.version = vc.value
        self.packed = pack(arg)

    def unpack(self, node: OpNode) -> Any:
        vc = self.vc
        t = self.unpack_hook(self.packed)
        if not isinstance(t, _Tensor):
            raise TypeError(
                f"Output of saved tensor unpack_hook expected to be a Tensor but got "
                f"result of type {type(t).__name__} (while unpacking a tensor saved by "
                f"{node.name()})"
            )
        if vc.value != self.version:
            raise _modified_error(t._data, self.version, vc, node)
        h = self.history
        if h is None:
            return t._data  # an extra array: the op's backward takes it raw
        if isinstance(h, int):
            out = _Tensor._make(t._data, node, True)
            if h:
                out._out_nr = h
        else:
            grad_fn, out_nr, rg, acc = h
            if not rg:
                return t if not t._rg else t.detach()
            out = _Tensor._make(t._data, grad_fn, True)
            if out_nr:
                out._out_nr = out_nr
            if acc is not None:
                out._grad_acc = acc
        out._vc = vc
        return out


class saved_tensors_hooks:
    """Context manager: tensors saved for backward inside it are stored as ``pack_hook(tensor)``
    and restored with ``unpack_hook(packed)`` when backward needs them.

    ``unpack_hook`` must return a tensor with the same content as the one given to
    ``pack_hook``. The hooks in effect when a tensor is saved are the ones used to unpack it.
    Hooks are per thread, and nested contexts use the innermost pair.
    """

    def __init__(self, pack_hook: Callable[[Tensor], Any], unpack_hook: Callable[[Any], Tensor]) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> saved_tensors_hooks:
        msg = _hook_state.disabled_message
        if msg is not None:
            raise RuntimeError(msg)
        _hook_state.stack = _hook_state.stack + ((self.pack_hook, self.unpack_hook),)
        _refresh_node_extras()
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        _hook_state.stack = _hook_state.stack[:-1]
        _refresh_node_extras()
        return False


def current_hooks() -> HookPair | None:
    """The (pack, unpack) pair in effect on this thread, or None."""
    stack = _hook_state.stack
    return stack[-1] if stack else None


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors are moved to CPU memory in the forward and back to their device in the
    backward (tensors already on the CPU are kept as they are)."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        def pack(t: Tensor) -> tuple[device, Tensor]:
            if t.device.type == "cpu":
                return (t.device, t)
            return (t.device, _Tensor._make(to_numpy(t._data), None, False))

        def unpack(packed: tuple[device, Tensor]) -> Tensor:
            device, t = packed
            if device.type == "cpu":
                return t
            return _Tensor._make(to_device_array(t._data, device), None, False)

        super().__init__(pack, unpack)


class disable_saved_tensors_hooks:
    """Inside it, entering ``saved_tensors_hooks`` raises RuntimeError(error_message)."""

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __enter__(self) -> disable_saved_tensors_hooks:
        self._prev = _hook_state.disabled_message
        _hook_state.disabled_message = self.error_message
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        _hook_state.disabled_message = self._prev
        return False

    def __call__(self, fn: _F) -> _F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with disable_saved_tensors_hooks(self.error_message):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


# ----------------------------------------------------------------------------- multi-grad hooks
class _MultiHandle:
    __slots__ = ("_handles",)

    def __init__(self, handles: list[Any]) -> None:
        self._handles = handles

    def remove(self) -> None:
        for h in self._handles:
            h.remove()

    def __enter__(self) -> _MultiHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def register_multi_grad_hook(
    tensors: Sequence[Tensor], fn: Callable[[Any], object], *, mode: str = "all"
) -> _MultiHandle:
    """Call ``fn`` once per backward that computes gradients for some of ``tensors``.

    ``mode="all"``: ``fn(grads)`` with one entry per tensor (None for those this backward did
    not reach), called when the backward has finished its nodes. ``mode="any"``: ``fn(grad)``
    with the first of their gradients to be computed, as soon as it is. What has been seen so
    far is kept per running backward, so backward passes on several threads (or one inside a
    hook) each get their own call.
    """
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    tensors = tuple(tensors)
    key = object()  # this registration's entry in each graph task's hook_state

    def make_hook(i: int) -> Callable[[Tensor], None]:
        def hook(grad: Tensor) -> None:
            task = current_graph_task()
            assert task is not None, "a tensor hook runs inside a backward"
            state = task.hook_state
            if mode == "any":
                if key not in state:
                    state[key] = True
                    fn(grad)
                return
            grads = state.get(key)
            if grads is None:
                grads = state[key] = [None] * len(tensors)
                queue_callback(lambda: fn(state.pop(key)))
            grads[i] = grad

        return hook

    return _MultiHandle([t.register_hook(make_hook(i)) for i, t in enumerate(tensors) if t.requires_grad])


# ----------------------------------------------------------------------------- inspection
# Pictures of a graph (_graph_draw) and the memory its saved tensors hold (_graph_memory): loaded
# on first use, so that importing retrograd does not pay for them.
_INSPECTION = {
    "draw": "draw",
    "GraphPicture": "draw",
    "PictureNode": "draw",
    "memory": "memory",
    "track_modules": "memory",
    "MemoryReport": "memory",
    "NodeMemory": "memory",
    "SavedMemory": "memory",
    "ModuleMemory": "memory",
    "CheckpointEstimate": "memory",
}


def __getattr__(name: str) -> Any:
    where = _INSPECTION.get(name)
    if where == "draw":
        from . import _graph_draw

        return getattr(_graph_draw, name)
    if where == "memory":
        from . import _graph_memory

        return getattr(_graph_memory, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_INSPECTION))

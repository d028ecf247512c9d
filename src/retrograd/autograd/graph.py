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
"""
import itertools
import weakref

_seq_counter = itertools.count()


class Node:
    """Base class of graph nodes. Rarely used state (hooks, metadata) lives in ``_extra``, a dict
    made on first use; ``_extra`` defaults to None on the class."""

    __slots__ = ("_next", "_seq", "__weakref__", "__dict__")
    n_outputs = 1
    _extra = None

    def name(self):
        return type(self).__name__

    @property
    def next_functions(self):
        return tuple((e[0], e[1]) if e is not None else (None, 0) for e in self._next)

    @property
    def metadata(self):
        return self._extras().setdefault("metadata", {})

    def _extras(self):
        if self._extra is None:
            self._extra = {}
        return self._extra

    def _hook_list(self, key):
        return self._extras().setdefault(key, [])

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` runs after the node; it may return new grad_inputs."""
        from ..utils.hooks import RemovableHandle
        return RemovableHandle(self._hook_list("hooks"), fn)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` runs before the node; it may return new grad_outputs."""
        from ..utils.hooks import RemovableHandle
        return RemovableHandle(self._hook_list("pre_hooks"), fn)

    def _register_tensor_hook(self, output_nr, fn):
        from ..utils.hooks import RemovableHandle
        hooks = self._extras().setdefault("tensor_hooks", {}).setdefault(output_nr, [])
        return RemovableHandle(hooks, fn)

    def __call__(self, *grads):
        return self._apply(list(grads), retain=True)

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"


class OpNode(Node):
    """The node of a built-in op. Its vjp is ``op.backward(g, *saved, *args)``.

    ``_saved`` holds, in the order of ``op.save``, the saved input Tensors, the output's array
    (rebuilt on unpack with this node as its grad_fn) and any extra; ``_versions`` holds the
    version each saved input had when saved, and ``_out_vc`` the output's version counter.
    """

    __slots__ = ("op", "_saved", "_versions", "_out_vc", "args", "_in_shapes", "_in_dtypes")

    def __init__(self, op, next_edges, args, in_shapes, in_dtypes):
        self._next = next_edges
        self._seq = next(_seq_counter)
        self.op = op
        self.args = args
        self._in_shapes = in_shapes
        self._in_dtypes = in_dtypes

    def name(self):
        return self.op.node_name

    def _unpack_saved(self):
        saved = self._saved
        if type(saved) is str:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (or directly access saved "
                f"tensors after they have already been freed): the saved tensors of {self.name()} "
                f"were freed by the backward call {saved}. Specify "
                f"retain_graph=True if you need to backward through the graph a second time or if "
                f"you need to access saved tensors after calling backward.")
        codes = self.op._codes
        if len(codes) == 1 and codes[0] == 0:  # the common case: only the input x
            version = self._versions[0]
            if version is not None:
                vc = saved[0]._vc
                if vc is not None and vc.value != version:
                    raise _modified_error(saved[0]._data, version, vc, self)
            return saved
        out = []
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
                from .._tensor import make_tensor
                item = make_tensor(item, self, True)
                item._vc = vc
            out.append(item)
        return out

    def _apply(self, grads, retain):
        g = grads[0]
        if g is None:
            return (None,) * len(self._next)
        op = self.op
        saved = self._unpack_saved() if op._codes else ()
        if op.needs:
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
            self._saved = backward_site[0] or "before"
        return out if type(out) is tuple else (out,)

    def _release(self):
        self._saved = "before"

    def _is_released(self):
        return type(self._saved) is str

    @property
    def _saved_tensors(self):
        return tuple(self._unpack_saved())


# The user's file:line of the backward call that is running (set by the engine), so that a
# second backward through freed buffers can name the call that freed them.
backward_site = [None]


class SavedTensor:
    """A tensor saved for backward, with the version of its storage at save time.

    An input is kept as the Tensor itself (a double backward must reach it). The node's own
    output is kept as its array and version counter only, and rebuilt on unpack with the node as
    its ``grad_fn``, so no output -> node -> output cycle keeps memory alive.
    """

    __slots__ = ("tensor", "data", "vc", "version")

    def __init__(self, tensor=None, data=None, vc=None):
        if tensor is not None:
            vc = tensor._version_counter()
        self.tensor = tensor
        self.data = data
        self.vc = vc
        self.version = vc.value

    def unpack(self, node):
        vc = self.vc
        if vc.value != self.version:
            data = self.data if self.tensor is None else self.tensor._data
            raise _modified_error(data, self.version, vc, node)
        if self.tensor is not None:
            return self.tensor
        from .._tensor import Tensor
        t = Tensor._make(self.data, node, True)
        t._vc = vc
        return t


def _modified_error(data, version, vc, node):
    where = f" It was last modified in place at {vc.last_write}." if vc.last_write else ""
    return RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: a tensor of shape {list(data.shape)} and dtype {data.dtype}, saved by "
        f"{node.name()}, is at version {vc.value}; expected version {version} instead.{where} "
        f"Hint: clone the tensor before modifying it in place, or modify it after backward.")


class VersionCounter:
    """Counts in-place writes to a tensor's storage; shared by a tensor and all its views."""

    __slots__ = ("value", "last_write")

    def __init__(self):
        self.value = 0
        self.last_write = None

    def bump(self, where=None):
        self.value += 1
        self.last_write = where


class AccumulateGrad(Node):
    """The node of a leaf tensor that requires grad: adds incoming gradients into ``.grad``.

    It holds its leaf weakly (the leaf holds it strongly), so no cycle forms. Its sequence
    number is the largest possible, so a leaf's gradient is accumulated as soon as it is ready.
    """

    __slots__ = ("_variable",)

    def __init__(self, variable):
        self._next = ()
        self._seq = float("inf")
        self._extra = None
        self._variable = weakref.ref(variable)

    @property
    def variable(self):
        return self._variable()

    def _apply(self, grads, retain):
        return ()


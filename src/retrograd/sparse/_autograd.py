"""Recording sparse ops in the autograd graph.

A sparse op computes its result on arrays, then ``record`` gives the result a ``SparseNode``
when grad mode is on and an input requires grad. The node's backward is a closure
``backward(g, needs) -> one gradient per input``; a gradient of a sparse input may be sparse
(any pattern: it stands for its dense equivalent) or dense, as in PyTorch.

Sparse backwards compute on arrays: they are first order only. A backward with
``create_graph=True`` through a sparse node raises instead of giving a graph-less gradient.
"""

from ..autograd import anomaly
from ..autograd.grad_mode import _state
from ..autograd.graph import Node, _seq_counter, running


class SparseNode(Node):
    """The node of a sparse op (see the module docstring)."""

    __slots__ = ("_name", "_backward", "_saves", "_in_shapes", "_in_dtypes")

    def __init__(self, name, backward, edges, inputs, saves=True):
        self._next = edges
        self._seq = next(_seq_counter)
        self._name = name
        self._backward = backward
        self._saves = saves
        self._in_shapes = tuple(tuple(t._data.shape) if e is not None else None for t, e in zip(inputs, edges))
        self._in_dtypes = tuple(t._data.dtype if e is not None else None for t, e in zip(inputs, edges))

    def name(self):
        return self._name

    def _apply(self, grads, retain):
        g = grads[0]
        if g is None:
            return (None,) * len(self._next)
        backward = self._backward
        if type(backward) is str:
            raise RuntimeError(
                f"Trying to backward through the graph a second time: the saved tensors of "
                f"{self._name} were freed by the backward call {backward}. Specify "
                f"retain_graph=True if you need to backward through the graph a second time."
            )
        if _state.enabled:
            raise RuntimeError(
                f"{self._name}: double backward (create_graph=True) through a sparse op is not supported"
            )
        out = backward(g, tuple(e is not None for e in self._next))
        if not retain and self._saves:
            self._backward = running.site or "before"
        return out


def _edge(t):
    if t is None or not t._rg:
        return None
    fn = t.grad_fn
    return (fn, t._out_nr) if fn is not None else (t._grad_accumulator(), 0)


def needs_grad(*inputs):
    """Whether a node would be recorded for ``inputs`` (Tensors, SparseTensors or None)."""
    return _state.enabled and any(t is not None and t._rg for t in inputs)


def record(name, result, inputs, backward, saves=True):
    """Make ``result`` the output of a node ``name`` over ``inputs`` when a gradient is needed;
    returns ``result``. ``saves=False``: the backward needs only the gradient, so, as in
    PyTorch, a second backward through the node is allowed."""
    if needs_grad(*inputs):
        node = SparseNode(name, backward, tuple(_edge(t) for t in inputs), inputs, saves)
        result.grad_fn = node
        result._rg = True
        if anomaly._state.enabled:
            anomaly.record_trace(node)
    return result


def saved(t, name):
    """A getter for the tensor ``t`` saved by op ``name``: it raises, as the engine does for
    built-in ops, when ``t`` was modified in place after it was saved."""
    version = t._version

    def get():
        if t._version != version:
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: a tensor of shape {list(t.shape)}, saved by {name}, is at "
                f"version {t._version}; expected version {version} instead."
            )
        return t

    return get

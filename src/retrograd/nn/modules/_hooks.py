"""The identity graph node that runs full backward hooks.

A module's full backward hooks must see the gradients with respect to *all* of its tensor
inputs at once, and its backward pre-hooks the gradients with respect to all of its outputs at
once. ``_IdentityNode`` gives that: a graph node with one output per wrapped tensor whose
backward is the identity; the engine runs it once, after every gradient flowing into it has been
summed, so a callback placed in it sees the complete set.
"""

from ..._tensor import Tensor
from ...autograd.graph import Node, _seq_counter
from ...autograd.grad_mode import _state


class _IdentityNode(Node):
    """Backward of ``BackwardHookFunction``: passes gradients through, after ``callback``."""

    __slots__ = ("n_outputs", "_in_shapes", "_in_dtypes", "_callback")

    def __init__(self, tensors, callback):
        self._next = tuple(_edge(t) for t in tensors)
        self._seq = next(_seq_counter)
        self.n_outputs = len(tensors)
        self._in_shapes = tuple(t._data.shape for t in tensors)
        self._in_dtypes = tuple(t._data.dtype for t in tensors)
        self._callback = callback

    def name(self):
        return "BackwardHookFunctionBackward"

    def _apply(self, grads, retain):
        grads = tuple(grads)
        if self._callback is not None:
            grads = self._callback(grads)
        return grads


def _edge(t):
    if t.grad_fn is not None:
        return (t.grad_fn, t._out_nr)
    return (t._grad_accumulator(), 0)


def _wrap(tensors, callback):
    """Route ``tensors`` through one identity node; returns the new tensors (same storage)."""
    node = _IdentityNode(tensors, callback)
    out = []
    for i, t in enumerate(tensors):
        w = Tensor._make(t._data, node, True)
        w._out_nr = i
        w._vc = t._version_counter()
        out.append(w)
    return out


class BackwardHook:
    """Runs one module call's full backward hooks and backward pre-hooks.

    ``setup_input_hook`` routes the call's tensor arguments that require grad through one
    identity node, ``setup_output_hook`` does the same for the outputs. The output node runs
    first in backward: it records ``grad_output`` (after the pre-hooks may replace it). The input
    node runs when the gradients of all inputs are complete and calls the full backward hooks
    with ``(module, grad_input, grad_output)``; a hook may return a replacement ``grad_input``.
    Positions that hold no tensor (or one that needs no gradient) get ``None``.
    """

    def __init__(self, module, user_hooks, user_pre_hooks):
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs = None
        self.n_inputs = 0
        self.n_outputs = 0
        self.input_index = None
        self.output_index = None

    @staticmethod
    def _wrappable(args):
        return [i for i, a in enumerate(args) if isinstance(a, Tensor) and a._rg]

    @staticmethod
    def _pack(index, values, n):
        full = [None] * n
        for i, v in zip(index, values):
            full[i] = v
        return tuple(full)

    def setup_input_hook(self, args):
        self.n_inputs = len(args)
        index = self._wrappable(args)
        if not index or not _state.enabled:
            return args
        self.input_index = index
        wrapped = _wrap([args[i] for i in index], self._input_callback if self.user_hooks else None)
        args = list(args)
        for i, w in zip(index, wrapped):
            args[i] = w
        return tuple(args)

    def setup_output_hook(self, result):
        single = isinstance(result, Tensor)
        outputs = (result,) if single else tuple(result) if isinstance(result, (tuple, list)) else None
        if outputs is None:
            return result
        self.n_outputs = len(outputs)
        index = self._wrappable(outputs)
        if not index or not _state.enabled:
            return result
        self.output_index = index
        wrapped = _wrap([outputs[i] for i in index], self._output_callback)
        new = list(outputs)
        for i, w in zip(index, wrapped):
            new[i] = w
        if single:
            return new[0]
        return type(result)(new) if isinstance(result, list) else tuple(new)

    def _output_callback(self, grads):
        self.grad_outputs = self._pack(self.output_index, grads, self.n_outputs)
        for hook in self.user_pre_hooks:
            r = hook(self.module, self.grad_outputs)
            if r is None:
                continue
            r = (r,) if isinstance(r, Tensor) else tuple(r)
            if len(r) != self.n_outputs:
                raise RuntimeError(
                    f"Backward pre hook returned an invalid number of grad_output, got "
                    f"{len(r)}, but expected {self.n_outputs}"
                )
            self.grad_outputs = r
        grad_outputs = self.grad_outputs
        if self.input_index is None:
            # No input needs a gradient: the input node never runs, so the hooks run here.
            grad_inputs = (None,) * self.n_inputs
            for hook in self.user_hooks:
                r = hook(self.module, grad_inputs, grad_outputs)
                if r is not None and not all(g is None for g in (r if isinstance(r, tuple) else (r,))):
                    raise RuntimeError(
                        "Backward hook for Modules where no input requires gradient "
                        "should always return None or None for all gradients."
                    )
            self.grad_outputs = None
        return tuple(grad_outputs[i] for i in self.output_index)

    def _input_callback(self, grads):
        if self.grad_outputs is None:
            return grads
        grad_inputs = self._pack(self.input_index, grads, self.n_inputs)
        for hook in self.user_hooks:
            r = hook(self.module, grad_inputs, self.grad_outputs)
            if r is None:
                continue
            r = (r,) if isinstance(r, Tensor) else tuple(r)
            if len(r) != self.n_inputs:
                raise RuntimeError(
                    f"Backward hook returned an invalid number of grad_input, got "
                    f"{len(r)}, but expected {self.n_inputs}"
                )
            grad_inputs = r
        self.grad_outputs = None
        return tuple(grad_inputs[i] for i in self.input_index)

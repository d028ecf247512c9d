"""Activation checkpointing: trade compute for memory (``torch.utils.checkpoint``).

``checkpoint(fn, *args)`` runs ``fn`` without keeping what its ops save for backward, and runs
it a second time, during backward, to get those tensors back.

Non-reentrant variant (``use_reentrant=False``, recommended): ``fn`` runs under saved tensor
hooks whose pack hook keeps only a ticket (the position of the saved tensor in the order of
saving). The first unpack in backward recomputes ``fn`` on the same inputs, with the random
number generator put back to its state at the forward (so dropout draws the same mask),
collecting the tensors its ops save in the same order; each ticket then gets its tensor. The
graph built in the forward is the one backward runs through, so ``autograd.grad``, hooks and
double backward work as without checkpointing.

Reentrant variant (``use_reentrant=True``): a custom Function whose forward runs ``fn`` under
``no_grad`` and whose backward reruns it with grad enabled and calls ``backward`` on it.
"""

import contextlib
import warnings

from .. import autograd
from ..autograd.graph import saved_tensors_hooks

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "detach_variable", "noop_context_fn"]


class CheckpointError(RuntimeError):
    """The recomputation did not save the same tensors as the original forward."""


def noop_context_fn():
    return contextlib.nullcontext(), contextlib.nullcontext()


def detach_variable(inputs):
    """Detached copies of the tensors in ``inputs`` that keep their ``requires_grad``."""
    from .._tensor import Tensor

    if not isinstance(inputs, tuple):
        raise RuntimeError(f"Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}")
    out = []
    for inp in inputs:
        if isinstance(inp, Tensor):
            x = inp.detach()
            x.requires_grad = inp.requires_grad
            inp = x
        out.append(inp)
    return tuple(out)


def _default_use_reentrant(use_reentrant):
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be passed "
            "explicitly. use_reentrant=False is recommended, but if you need to preserve "
            "the current default behavior, you can pass use_reentrant=True. Refer to "
            "docs for more details on the differences between the two variants.",
            stacklevel=3,
        )
        return True
    return use_reentrant


def checkpoint(
    function,
    *args,
    use_reentrant=None,
    context_fn=noop_context_fn,
    determinism_check="default",
    debug=False,
    early_stop=True,
    **kwargs,
):
    """``function(*args, **kwargs)``, recomputed during backward instead of keeping what its ops
    saved. ``preserve_rng_state=True`` (a keyword) replays the same random numbers."""
    use_reentrant = _default_use_reentrant(use_reentrant)
    preserve = kwargs.pop("preserve_rng_state", True)
    if determinism_check not in ("default", "none"):
        raise ValueError(f"determinism_check should be one of ['default', 'none'], but got {determinism_check!r}")
    if use_reentrant:
        if context_fn is not noop_context_fn or debug:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        return CheckpointFunction.apply(function, preserve, *args)
    return _checkpoint_without_reentrant(function, preserve, context_fn, determinism_check == "default", args, kwargs)


# ----------------------------------------------------------------------------- non-reentrant
class _Frame:
    """One checkpointed call: how to recompute it, and the tensors a recomputation saved."""

    def __init__(self, recompute, check):
        self.recompute = recompute
        self.check = check
        self.metadata = []  # (shape, dtype) of each tensor saved in the forward, in order
        self.recomputed = {}  # ticket -> tensor, filled by a recomputation, emptied by unpacks

    def pack(self, t):
        self.metadata.append((tuple(t.shape), t.dtype))
        return (self, len(self.metadata) - 1)

    def _held_tensors(self):
        """The tensors this record keeps (its inputs, for the recomputation): the memory
        inspector (autograd.graph.memory) counts them."""
        return self.inputs

    def unpack_ticket(self, ticket):
        if ticket not in self.recomputed:
            self.recomputed = self.recompute()
            self._check_recomputed()
        return self.recomputed.pop(ticket)

    def _check_recomputed(self):
        if not self.check:
            return
        if len(self.recomputed) != len(self.metadata):
            raise CheckpointError(
                f"torch.utils.checkpoint: A different number of tensors was saved during the "
                f"original forward and recomputation: {len(self.metadata)} in the forward, "
                f"{len(self.recomputed)} in the recomputation. The checkpointed function must do "
                f"the same work both times (no data-dependent control flow on global state)."
            )
        bad = [
            f"tensor at position {i}: saved metadata {m[0]} {m[1]}, recomputed metadata "
            f"{tuple(self.recomputed[i].shape)} {self.recomputed[i].dtype}"
            for i, m in enumerate(self.metadata)
            if (tuple(self.recomputed[i].shape), self.recomputed[i].dtype) != m
        ]
        if bad:
            raise CheckpointError(
                "torch.utils.checkpoint: Recomputed values for the following "
                "tensors have different metadata than during the forward pass.\n" + "\n".join(bad)
            )


def _unpack(packed):
    frame, ticket = packed
    return frame.unpack_ticket(ticket)


def _checkpoint_without_reentrant(function, preserve, context_fn, check, args, kwargs):
    from .._creation import get_rng_state, set_rng_state

    if not autograd.is_grad_enabled():
        return function(*args, **kwargs)
    rng_state = get_rng_state() if preserve else None
    fwd_ctx, recompute_ctx = context_fn()
    inputs = detach_variable(tuple(args))  # the recomputation's own leaves, same values

    def recompute():
        saved = {}

        def pack(t):
            saved[len(saved)] = t
            return None

        def unpack(_):
            raise CheckpointError(
                "torch.utils.checkpoint: unpacking a tensor saved during a recomputation is not supported"
            )

        current = get_rng_state() if preserve else None
        try:
            if preserve:
                set_rng_state(rng_state)
            with autograd.enable_grad(), saved_tensors_hooks(pack, unpack), recompute_ctx:
                function(*inputs, **kwargs)
        finally:
            if preserve:
                set_rng_state(current)
        return saved

    frame = _Frame(recompute, check)
    frame.inputs = inputs
    with saved_tensors_hooks(frame.pack, _unpack), fwd_ctx:
        return function(*args, **kwargs)


# ----------------------------------------------------------------------------- reentrant
class CheckpointFunction(autograd.Function):
    """The reentrant variant: backward reruns the function and backpropagates through it."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        from .._tensor import Tensor
        from .._creation import get_rng_state

        ctx.run_function = run_function
        ctx.preserve_rng_state = preserve_rng_state
        if preserve_rng_state:
            ctx.fwd_rng_state = get_rng_state()
        ctx.inputs = []
        ctx.tensor_indices = []
        tensors = []
        for i, arg in enumerate(args):
            if isinstance(arg, Tensor):
                tensors.append(arg)
                ctx.tensor_indices.append(i)
                ctx.inputs.append(None)
            else:
                ctx.inputs.append(arg)
        ctx.save_for_backward(*tensors)
        return run_function(*args)

    @staticmethod
    def backward(ctx, *grad_outputs):
        from .._tensor import Tensor
        from .._creation import get_rng_state, set_rng_state

        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = t
        detached = detach_variable(tuple(inputs))
        current = get_rng_state() if ctx.preserve_rng_state else None
        try:
            if ctx.preserve_rng_state:
                set_rng_state(ctx.fwd_rng_state)
            with autograd.enable_grad():
                outputs = ctx.run_function(*detached)
        finally:
            if ctx.preserve_rng_state:
                set_rng_state(current)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        outs, grads = [], []
        for out, g in zip(outputs, grad_outputs):
            if isinstance(out, Tensor) and out.requires_grad:
                outs.append(out)
                grads.append(g)
        if not outs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        autograd.backward(outs, grads)
        return (None, None) + tuple(inp.grad if isinstance(inp, Tensor) else None for inp in detached)


# ----------------------------------------------------------------------------- sequential
def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run ``functions`` (a list, or a Sequential) in order on ``input``, in ``segments``
    chunks; all but the last chunk are checkpointed."""
    use_reentrant = _default_use_reentrant(use_reentrant)
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if hasattr(functions, "children") and not isinstance(functions, (list, tuple)):
        functions = list(functions.children())
    functions = list(functions)

    def run(start, end):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x

        return forward

    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run(end + 1, len(functions) - 1)(input)

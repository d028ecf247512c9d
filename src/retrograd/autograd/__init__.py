"""Reverse-mode automatic differentiation: ``backward`` and ``grad`` over the recorded graph."""

import warnings

from .. import _upcalls
from .grad_mode import (
    no_grad,
    enable_grad,
    set_grad_enabled,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
)
from .anomaly import detect_anomaly, set_detect_anomaly, is_anomaly_enabled
from . import graph, engine
from .engine import _user_frame_site
from .gradcheck import gradcheck, gradgradcheck  # the functions shadow their submodule, as in PyTorch

__all__ = [
    "Function",
    "explain_grad",
    "backward",
    "grad",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "inference_mode",
    "is_grad_enabled",
    "detect_anomaly",
    "set_detect_anomaly",
    "gradcheck",
    "gradgradcheck",
    "is_inference_mode_enabled",
    "is_anomaly_enabled",
    "FunctionCtx",
    "once_differentiable",
    "InplaceFunction",
    "function",
    "functional",
    "forward_ad",
    "graph",
    "engine",
    "profiler",
    "Variable",
    "variable",
]


# Loaded on first use, so that ``import retrograd`` does not pay for them: submodules, and names
# (name -> its submodule). autograd.profiler loads retrograd.profiler. Forward mode is turned on
# only through forward_ad, which registers what the core calls when it loads.
_LAZY_SUBMODULES = ("profiler", "function", "functional", "forward_ad", "explain", "variable")
_LAZY_NAMES = {
    "Function": "function",
    "FunctionCtx": "function",
    "once_differentiable": "function",
    "InplaceFunction": "function",
    "explain_grad": "explain",
    "Variable": "variable",
}


def __getattr__(name):
    import importlib

    if name in _LAZY_NAMES:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY_NAMES[name]}"), name)
        globals()[name] = value
        return value
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'retrograd.autograd' has no attribute '{name}'")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_SUBMODULES) | set(_LAZY_NAMES))


def _as_tuple(x):
    if x is None:
        return None
    from .._tensor import Tensor
    from ..sparse import SparseTensor

    if isinstance(x, (Tensor, SparseTensor)):
        return (x,)
    return tuple(x)


def _root_edge(t):
    if t.grad_fn is not None:
        return (t.grad_fn, t._out_nr)
    return (t._grad_accumulator(), 0)


def _make_grads(outputs, grad_outputs, create_graph, is_grads_batched=False):
    """Check or create the seed gradient of each output (ones for scalars)."""
    from .._tensor import Tensor
    from .._creation import ones_like

    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if g is None:
            if out._data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs; output {i} has shape "
                    f"{list(out._data.shape)}: pass `gradient` (or grad_outputs) of that shape"
                )
            if out._data.dtype.kind not in "fV":
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got {out.dtype}")
            g = ones_like(out)
        else:
            if not isinstance(g, Tensor):
                from .._creation import tensor

                g = tensor(g, dtype=out.dtype)
            if g._data.shape != out._data.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {list(g._data.shape)} and "
                    f"output[{i}] has a shape of {list(out._data.shape)}."
                )
            if g._data.dtype.kind != out._data.dtype.kind:
                raise TypeError(f"For output {i}: gradient dtype {g.dtype} does not match the output dtype {out.dtype}")
            if not create_graph:
                g = g.detach()
        grads.append(g)
    return grads


def _check_outputs(outputs):
    for i, out in enumerate(outputs):
        if not out._rg:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn "
                f"(shape {list(out._data.shape)}): make sure some input of the computation has "
                f"requires_grad=True and that it did not run under no_grad()"
            )


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None, inputs=None):
    """Sum the gradients of ``tensors`` with respect to graph leaves into their ``.grad``."""
    from .._tensor import Tensor

    outputs = _as_tuple(tensors)
    if grad_tensors is None:
        grad_tensors = grad_variables
    grad_outputs = _as_tuple(grad_tensors) if grad_tensors is not None else (None,) * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"got {len(grad_outputs)} gradients for {len(outputs)} tensors")
    _check_outputs(outputs)
    grads = _make_grads(outputs, grad_outputs, create_graph)
    roots = [_root_edge(t) for t in outputs]
    site = _user_frame_site()
    if inputs is None:
        engine.execute(roots, grads, retain_graph, create_graph, site=site)
        return
    inputs = _as_tuple(inputs)
    if not inputs:
        raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    targets = {}
    for t in inputs:
        if not isinstance(t, Tensor) and not getattr(t, "is_sparse", False):
            raise TypeError("backward(inputs=...) expects tensors")
        if not t._rg:
            raise RuntimeError(f"One of the differentiated Tensors (shape {list(t._data.shape)}) does not require grad")
        targets.setdefault(_root_edge(t), len(targets))
    captured = engine.execute(roots, grads, retain_graph, create_graph, targets, accumulate=True, site=site)
    for t in inputs:
        if t.grad_fn is not None:
            g = captured[targets[_root_edge(t)]]
            if g is not None:
                engine.add_nonleaf_grad(t, g if create_graph else g.detach())


# Tensor.backward calls this (Tensor sits below this namespace; it is registered here)
_upcalls.backward = backward


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph=None,
    create_graph=False,
    only_inputs=True,
    allow_unused=None,
    is_grads_batched=False,
    materialize_grads=False,
):
    """Return the gradients of ``outputs`` with respect to ``inputs`` without touching ``.grad``.

    ``is_grads_batched=True`` (one vector-Jacobian product per leading slice of the grad
    outputs) needs vmap, which retrograd does not have yet: NotImplementedError. ``only_inputs``
    is deprecated and ignored in PyTorch too (a warning when False)."""
    if is_grads_batched:
        raise NotImplementedError(
            "autograd.grad(is_grads_batched=True) needs batched gradients (vmap), "
            "which retrograd does not implement yet; call grad once per grad output"
        )
    if not only_inputs:
        warnings.warn(
            "only_inputs argument is deprecated and is ignored now (defaults to True). To "
            "accumulate gradient for other parts of the graph, please use torch.autograd.backward.",
            UserWarning,
            stacklevel=2,
        )
    from .._tensor import Tensor
    from .._creation import zeros_like

    outputs = _as_tuple(outputs)
    inputs_t = _as_tuple(inputs)
    if not inputs_t:
        raise RuntimeError("grad: the `inputs` argument to `grad()` cannot be empty")
    if allow_unused is None:
        allow_unused = materialize_grads
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True")
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    else:
        grad_outputs = _as_tuple(grad_outputs)
        if len(grad_outputs) != len(outputs):
            raise RuntimeError(
                f"grad requires one grad_output per output: got {len(grad_outputs)} "
                f"grad_outputs for {len(outputs)} outputs"
            )
    _check_outputs(outputs)
    targets = {}
    slots = []
    for i, t in enumerate(inputs_t):
        if not isinstance(t, Tensor) and not getattr(t, "is_sparse", False):
            raise TypeError(f"grad: input {i} is a {type(t).__name__}, expected a Tensor")
        if not t._rg:
            raise RuntimeError(
                f"One of the differentiated Tensors (input {i}, shape {list(t._data.shape)}) does not require grad"
            )
        slots.append(targets.setdefault(_root_edge(t), len(targets)))
    grads = _make_grads(outputs, grad_outputs, create_graph)
    roots = [_root_edge(t) for t in outputs]
    captured = engine.execute(
        roots, grads, retain_graph, create_graph, targets, accumulate=False, site=_user_frame_site()
    )
    result = []
    for i, (t, slot) in enumerate(zip(inputs_t, slots)):
        g = captured[slot]
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"One of the differentiated Tensors appears to not have been used in the graph "
                    f"(input {i}, shape {list(t._data.shape)}). Set allow_unused=True if this is the "
                    f"desired behavior."
                )
            if materialize_grads:
                g = zeros_like(t)
        elif not create_graph:
            tangent = g._fw_grad if type(g) is Tensor else None  # (a sparse gradient has none)
            g = g.detach()
            if tangent is not None:  # forward over reverse: the gradient keeps its tangent
                from ._forward_state import set_tangent

                set_tangent(g, tangent.detach())
        result.append(g)
    return tuple(result)

"""Forward-mode automatic differentiation: dual tensors and their tangents.

Inside ``dual_level()``, ``make_dual(x, t)`` returns a view of ``x`` that carries the tangent
``t``; every op applied to a dual tensor computes its output's tangent (the Jacobian-vector
product) alongside its value, and ``unpack_dual(y)`` returns ``(primal, tangent)``. Leaving the
level deletes every tangent made in it. Only one level exists at a time, as in PyTorch.

Each op's tangent comes from the ``jvp`` rule of its ``Op`` record (ops/_registry.py), written
with retrograd ops (so it is itself differentiable in reverse mode); an op without one derives
its tangent from its vjp (the double-vjp trick, ``derived_jvp``). The rules run with forward
mode switched off (``_fw.active``), so the ops inside them never make tangents of tangents.

A tangent lives on its tensor as the attribute ``_fw_grad`` (None by default); the level keeps
weak references to the tensors it gave one, to delete them on exit. The state ``apply`` checks,
and the bookkeeping the core needs, are in ``_forward_state`` (the core's layer).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from ._forward_state import ELEMENTWISE, LINEAR, MULTILINEAR, _fw, enter_level, exit_level, set_tangent
from ._forward_state import has_tangent  # noqa: F401  (used through this module by autograd.Function)
from .grad_mode import _state

if TYPE_CHECKING:
    from .._tensor import Tensor

__all__ = ["UnpackedDualTensor", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual", "dual_level"]


class UnpackedDualTensor(NamedTuple):
    """What ``unpack_dual`` returns: the primal, and the tangent (None when there is none)."""

    primal: Tensor
    tangent: Tensor | None


def enter_dual_level() -> int:
    """Enter the forward-mode level (0) and return it; a second, nested level is refused."""
    if _fw.level >= 0:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    enter_level()
    return 0


def exit_dual_level(*, level: int | None = None) -> None:
    """Leave the current level, deleting every tangent made in it."""
    if level is None:
        level = _fw.level
    if level != _fw.level:
        raise RuntimeError(
            "Trying to exit a forward AD level that was not the last one that was created. This is not supported."
        )
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    for ref in _fw.duals:
        t = ref()
        if t is not None:
            t.__dict__.pop("_fw_grad", None)
    exit_level()


class dual_level:
    """Context manager (and decorator) for a forward-mode level: all forward-mode computation
    happens inside it; ``__enter__`` returns the level. Levels do not nest (RuntimeError)."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: object) -> None:
        exit_dual_level()

    def __call__(self, fn: Any) -> Any:
        import functools

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with dual_level():
                return fn(*args, **kwargs)

        return wrapper


def _check_level(level: int | None, what: str) -> int:
    if level is None:
        level = _fw.level
    if level < 0:
        raise RuntimeError(
            f"Trying to {what} for forward AD but no level exists, make sure to enter_dual_level() first."
        )
    if level != _fw.level:
        raise RuntimeError(f"forward AD level {level} does not exist: the only level is {_fw.level}")
    return level


def make_dual(tensor: Tensor, tangent: Tensor, *, level: int | None = None) -> Tensor:
    """A view of ``tensor`` carrying ``tangent`` (kept as is, not copied). Backward
    differentiable with respect to ``tensor``. Both must be floating point or complex and of the
    same shape; neither may already carry a tangent."""
    _check_level(level, "create a dual Tensor")
    from ._vmap_state import _vm, guard

    if _vm.active:  # forward mode inside vmap has no batching: vmap runs the function per example
        guard(tensor, tangent)
    from .._tensor import Tensor

    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError(f"make_dual expects two Tensors, got {type(tensor).__name__} and {type(tangent).__name__}")
    if tensor._data.dtype.kind not in "fc":
        raise ValueError(f"Expected primal to be floating point or complex, but got: {tensor.dtype}")
    if tangent._data.dtype.kind not in "fc":
        raise ValueError(f"Expected tangent to be floating point or complex, but got: {tangent.dtype}")
    if tangent._data.shape != tensor._data.shape:
        raise RuntimeError(
            f"Trying to set a forward gradient that has a different size than that of "
            f"the original Tensor, this is not supported. Tensor is of size "
            f"{list(tensor._data.shape)} while the given forward gradient is of size "
            f"{list(tangent._data.shape)}."
        )
    if tensor._fw_grad is not None:
        raise RuntimeError(
            f"Making a dual Tensor based on a Tensor that already has a forward "
            f"gradient at the same level {_fw.level} is not supported."
        )
    if tangent._fw_grad is not None:
        raise RuntimeError(
            f"Setting a forward grad that itself has a forward gradient at the same level {_fw.level} is not supported."
        )
    _fw.active = False
    try:
        dual = tensor.view_as(tensor)
    finally:
        _fw.active = True
    set_tangent(dual, tangent)
    return dual


def unpack_dual(tensor: Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)`` of ``tensor``: inside a level the primal is a view of ``tensor``
    without tangent (backward differentiable), and the tangent is the stored one (or None);
    outside any level, ``(tensor, None)``."""
    if level is None:
        level = _fw.level
    if level < 0:
        return UnpackedDualTensor(tensor, None)
    _check_level(level, "unpack a dual Tensor")
    tangent = tensor._fw_grad
    prev = _fw.active
    _fw.active = False
    try:
        primal = tensor.view_as(tensor)
    finally:
        _fw.active = prev
    return UnpackedDualTensor(primal, tangent)


# ----------------------------------------------------------------------------- propagation
class _suspended:
    """Forward mode off while a jvp rule runs (its own ops must not make tangents)."""

    __slots__ = ("prev",)

    def __enter__(self) -> None:
        self.prev = _fw.active
        _fw.active = False

    def __exit__(self, *exc: object) -> None:
        _fw.active = self.prev


def propagate(op: Any, inputs: Any, args: tuple[Any, ...], result: Tensor, extra: Any) -> None:
    """Called by ``apply`` after ``op`` made ``result`` while a level is active: give ``result``
    the tangent of ``op`` at the inputs' tangents, when some input has one."""
    tangents = tuple([getattr(t, "_fw_grad", None) for t in inputs])
    for tan in tangents:
        if tan is not None:
            break
    else:
        return
    if result._data.dtype.kind not in "fcV" or _state.inference:
        return
    if result._data.dtype.kind == "c" or any(
        getattr(t, "_data", None) is not None and t._data.dtype.kind == "c" for t in inputs
    ):
        shapes = ", ".join(f"{list(t.shape)} {t.dtype}" for t in inputs if hasattr(t, "_data"))
        raise NotImplementedError(
            f"{op.name}: forward-mode AD through complex tensors is not supported yet "
            f"(inputs {shapes}); use reverse mode (backward, autograd.grad, jacrev)"
        )
    saved = _saved_like(op, inputs, result, extra)
    _fw.active = False
    try:
        rule = op.jvp
        if rule is None:
            out = derived_jvp(op, tangents, saved, args, result)
        elif rule is ELEMENTWISE:
            out = _elementwise(op, tangents, saved, args)
        elif rule is LINEAR:
            out = _linear(op, inputs, tangents, args)
        elif rule is MULTILINEAR:
            out = _multilinear(op, inputs, tangents, args)
        else:
            out = rule(tangents, *saved, *args)
    finally:
        _fw.active = True
    if out is not None:
        out = fit_tangent(out, result)
        set_tangent(result, out)
        node = result.grad_fn
        if op._saves_out and node is not None:
            set_tangent(node, out)  # backward rebuilds the saved output: it gets its tangent back


def _elementwise(
    op: Any, tangents: tuple[Tensor | None, ...], saved: list[Any], args: tuple[Any, ...]
) -> Tensor | None:
    total = None
    n = len(tangents)
    for i, t in enumerate(tangents):
        if t is None:
            continue
        if op.needs:
            g = op.backward(t, tuple([j == i for j in range(n)]), *saved, *args)
        else:
            g = op.backward(t, *saved, *args)
        if type(g) is tuple:
            g = g[i]
        if g is not None:
            total = g if total is None else total + g
    return total


def _multilinear(op: Any, inputs: Any, tangents: tuple[Tensor | None, ...], args: tuple[Any, ...]) -> Tensor | None:
    from ..ops._registry import apply

    total = None
    for i, t in enumerate(tangents):
        if t is None:
            continue
        operands = list(inputs)
        operands[i] = t
        term = apply(op, operands, args)
        total = term if total is None else total + term
    return total


def _linear(op: Any, inputs: Any, tangents: tuple[Tensor | None, ...], args: tuple[Any, ...]) -> Tensor:
    from ..ops._registry import apply

    if len(tangents) == 1:
        return apply(op, tangents, args)
    from .._creation import zeros_like

    filled = [t if t is not None else zeros_like(x) if hasattr(x, "_fw_grad") else x for t, x in zip(tangents, inputs)]
    return apply(op, filled, args)


def fit_tangent(tangent: Tensor, like: Tensor) -> Tensor:
    """``tangent`` with ``like``'s shape and dtype (a rule may return a broadcastable tangent)."""
    with _suspended():
        if tangent._data.shape != like._data.shape:
            tangent = tangent.expand(like._data.shape).clone()
        if tangent._data.dtype != like._data.dtype:
            tangent = tangent.to(like.dtype)
    return tangent


def _saved_like(op: Any, inputs: Any, result: Tensor, extra: Any) -> list[Any]:
    """What the op's backward would receive as saved values, in the order of ``op.save``."""
    saved = []
    for code in op._codes:
        if code >= 0:
            saved.append(inputs[code])
        elif code == -1:
            saved.append(result)
        else:
            saved.append(extra)
    return saved


def derived_jvp(
    op: Any, tangents: tuple[Tensor | None, ...], saved: list[Any], args: tuple[Any, ...], result: Tensor
) -> Tensor | None:
    """The tangent of an op without a jvp rule, from its vjp: the vjp ``u -> J^T u`` is linear in
    ``u``, so ``J t = d/du <J^T u, t>``, one reverse pass through the vjp's own graph."""
    from .grad_mode import enable_grad
    from . import grad as _grad
    from .._creation import zeros_like

    u = zeros_like(result).requires_grad_(True)
    create_graph = _state.enabled
    with enable_grad():
        if op.needs:
            grads = op.backward(u, tuple([t is not None for t in tangents]), *saved, *args)
        else:
            grads = op.backward(u, *saved, *args)
        if type(grads) is not tuple:
            grads = (grads,)
        total = None
        for g, t in zip(grads, tangents):
            if g is None or t is None:
                continue
            term = (g * t.to(g.dtype)).sum()
            total = term if total is None else total + term
        if total is None or not total._rg:
            return None
        (jt,) = _grad(total, u, create_graph=create_graph, allow_unused=True)
    return jt


def inplace(t: Tensor, op: str, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    """``t = fn(t, *args)`` in place when a tangent is involved: the value is written as any
    in-place op writes it, and ``t``'s tangent is updated in place (made when ``t`` had none;
    through a view, the base gets a zero tangent whose region is the view's)."""
    from ..ops import _inplace as ip
    from .._tensor import Tensor

    base = t._base
    recording = _state.enabled and (
        t._rg or (base is not None and base._rg) or any(isinstance(o, Tensor) and o._rg for o in args)
    )
    if recording:
        ip._check_inplace(t, op)
        old = ip._old_value(t)
    else:
        old = Tensor._make(t._data.copy(), None, False)
    if t._fw_grad is not None:
        with _suspended():  # a copy: what the op saves must not see the tangent's update below
            old._fw_grad = t._fw_grad.clone()
    if recording:
        r = fn(old, *args, **kwargs)
    else:
        with ip._no_grad():
            r = fn(old, *args, **kwargs)
    ip._check_cast(t, r, op)
    ip._write(t, r, op)
    ip._bump(t)
    if recording and r.grad_fn is not None:
        ip._rebase(t, r)
    _write_tangent(t, r)
    return t


def _write_tangent(t: Tensor, r: Tensor) -> None:
    new = r._fw_grad
    own = t._fw_grad
    with _suspended():
        if own is None:
            if new is None:
                return
            if t._base is not None:
                own = _view_tangent(t)
            if own is None:
                set_tangent(t, fit_tangent(new, t).clone())
                return
        if new is None:
            own.zero_()
        else:
            own.copy_(new)


def _view_tangent(view: Tensor) -> Tensor | None:
    """Give ``view``'s base a zero tangent (when it has none) and return the view's region of
    it, so that what is written through the view shows in the base's tangent. None when the
    base's layout cannot be reproduced (the view then gets a tangent of its own)."""
    import numpy as np
    from .._creation import zeros_like
    from .._tensor import Tensor

    base = view._base
    bt = base._fw_grad
    if bt is None:
        bt = zeros_like(base)
        if bt._data.strides != base._data.strides:
            return None
        set_tangent(base, bt)
    b, v = base._data, view._data
    if type(b) is not np.ndarray or bt._data.strides != b.strides:
        return None
    offset = v.__array_interface__["data"][0] - b.__array_interface__["data"][0]
    flat = bt._data.reshape(-1) if bt._data.flags.c_contiguous else None
    if flat is None:
        return None
    region = np.lib.stride_tricks.as_strided(flat[offset // b.itemsize :], v.shape, v.strides)
    vt = Tensor._make(region, None, False)
    vt._base = bt
    vt._vc = bt._version_counter()
    set_tangent(view, vt)
    return vt


# The core calls these while a level is active (it never imports this module).
_fw.propagate = propagate
_fw.inplace = inplace

"""The backward of a compiled call whose outputs need gradients (``compile(model)`` in training).

At capture time, after the forward is recorded, ``record_backward`` runs the eager engine once
over the captured graph, seeded with placeholder gradients for the outputs, with
``accumulate=False`` and the gradients of the leaves and inputs that require grad as targets,
while the recorder records: the same kernels the user's later backward would run, in the same
order. ``retain_graph=True`` keeps the first call's graph intact for the user's own backward.

At replay, the outputs carry one node, ``CompiledFunctionBackward``, with an edge to each target
(a parameter's AccumulateGrad, an input's grad_fn): its backward runs the recorded backward
schedule on the arrays the forward replay kept, so the eager engine accumulates ``.grad`` as
usual, leaf hooks included. ``retain_graph`` keeps or frees those arrays as eager mode keeps or
frees saved tensors; a second backward after they were freed raises eager mode's error.
``create_graph=True`` is refused (NotImplementedError): there is no differentiable graph to
build from a replay.
"""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor, make_tensor
from ..autograd import engine as _engine
from ..backend import array_module
from ..autograd.graph import Node, running
from ..autograd.grad_mode import _state
from .capture import Recorder, _Unknown
from .schedule import Schedule
from .state import _cap


class BackwardPlan:
    """What a replay needs to give its outputs a CompiledFunctionBackward node."""

    __slots__ = ("replay", "schedule", "targets", "positions", "shapes", "dtypes", "out_likes")

    def __init__(self) -> None:
        self.replay: Any = None
        self.schedule: Schedule | None = None
        self.targets: list[tuple[str, Any]] = []  # ("arg", i) or ("obj", tensor): who gets a gradient
        self.positions: list[int | None] = []  # per target: its index among the results, or None
        self.shapes: list[Any] = []
        self.dtypes: list[Any] = []
        self.out_likes: list[Any] = []  # per output: (array module, shape, dtype)


def _edge(t: Tensor) -> Any:
    fn = t.grad_fn
    if fn is not None:
        return (fn, t._out_nr)
    return (t._grad_accumulator(), 0)


def record_backward(rec: Recorder, outputs: list[Tensor], targets: list[tuple[tuple[str, Any], Tensor]]) -> Any:
    """Record the backward of ``outputs`` into the targets' gradients; returns the plan's parts:
    (schedule entries, gradient slots, gout slots), or raises ``_Unknown``."""
    fwd_entries = rec.entries
    rec.entries = []
    seeds = []
    gout = []
    for out in outputs:
        a = array_module(out._data).ones_like(out._data)
        seeds.append(make_tensor(a, None, False))
        gout.append(rec._bind(("gout", len(gout)), a))
    target_map = {}
    for _, t in targets:
        target_map.setdefault(_edge(t), len(target_map))
    roots = [(out.grad_fn, out._out_nr) for out in outputs]
    _cap.active = True
    try:
        captured = _engine.execute(roots, seeds, True, False, target_map, accumulate=False)
    finally:
        _cap.active = False
    if rec.failed is not None:
        raise _Unknown(f"its backward: {rec.failed}")
    entries = rec.entries
    rec.entries = fwd_entries
    slots = []
    for _, t in targets:
        g = captured[target_map[_edge(t)]] if captured is not None else None
        if g is not None and type(g) is not Tensor:
            raise _Unknown("a sparse gradient")
        slots.append(None if g is None else rec.ref(g._data))
    return entries, slots, gout


class CompiledFunctionBackward(Node):
    """The one node of a replayed call's outputs: replays the recorded backward."""

    __slots__ = ("_plan", "_arrays", "_freed_at")

    def __init__(self, plan: BackwardPlan, arrays: tuple[Any, ...], targets: list[Tensor | None]) -> None:
        self._plan = plan
        self._arrays: tuple[Any, ...] | None = arrays
        self._freed_at: str | None = None
        self._seq = _engine_seq()
        self._next = tuple(None if t is None else _edge(t) for t in targets)
        self._in_shapes = tuple(plan.shapes)
        self._in_dtypes = tuple(plan.dtypes)

    @property
    def n_outputs(self) -> int:  # type: ignore[override]
        return len(self._plan.out_likes)

    def name(self) -> str:
        return "CompiledFunctionBackward"

    def _apply(self, grads: list[Any], retain: bool) -> tuple[Any, ...]:
        arrays = self._arrays
        if arrays is None:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (or directly access saved tensors "
                f"after they have already been freed): the saved arrays of CompiledFunctionBackward were "
                f"freed by the backward call {self._freed_at}. Specify retain_graph=True if you need to "
                f"backward through the graph a second time."
            )
        if _state.enabled:
            raise NotImplementedError(
                "backward(create_graph=True) through the output of a compiled function: a replay has no "
                "differentiable graph; call the function uncompiled (torch.compiler.disable) for higher "
                "order gradients"
            )
        plan = self._plan
        gs = []
        for g, (xp, shape, dtype) in zip(grads, plan.out_likes):
            gs.append(xp.zeros(shape, dtype) if g is None else g._data)
        res = plan.replay(*arrays, *gs)
        if not retain:
            self._arrays = None
            self._freed_at = running.site or "before"
        return tuple(None if i is None else make_tensor(res[i], None, False) for i in plan.positions)


def _engine_seq() -> int:
    from ..autograd.graph import _seq_counter

    return next(_seq_counter)

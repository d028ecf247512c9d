"""Undoing broadcasting: ``sum_to_shape``, the op the engine applies to every gradient whose
shape differs from its input's (and the one place where broadcasting is undone). It lives in the
core because the engine needs it; ``ops.reduction`` re-exports it."""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..ops._registry import Op, apply
from .engine import register_sum_to_shape

if TYPE_CHECKING:
    from .._tensor import Tensor


def _sum_to_shape(xp: ModuleType, x: Any, shape: tuple[int, ...], in_shape: tuple[int, ...]) -> Any:
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and x.shape[i + lead] != 1)
    y = x.sum(axis=axes, keepdims=True) if axes else x
    return y.reshape(shape)


def _sum_to_shape_vjp(g: Tensor, shape: tuple[int, ...], in_shape: tuple[int, ...]) -> Tensor:
    return g.expand(in_shape)


SUM_TO_SHAPE = Op("sum_to_shape", _sum_to_shape, _sum_to_shape_vjp, node_name="SumToShapeBackward0")


def sum_to_shape(x: Tensor, shape: Sequence[int]) -> Tensor:
    """Sum ``x`` over the dims that broadcasting added or stretched, so that it has ``shape``.

    This is the one place where broadcasting is undone. Raises ValueError when ``shape`` does
    not broadcast to ``x.shape``."""
    shape = tuple(shape)
    xs = x._data.shape
    if xs == shape:
        return x
    lead = len(xs) - len(shape)
    if lead < 0 or any(s != 1 and s != xs[i + lead] for i, s in enumerate(shape)):
        raise ValueError(f"shape {list(shape)} does not broadcast to {list(xs)}")
    return apply(SUM_TO_SHAPE, (x,), (shape, xs))


register_sum_to_shape(sum_to_shape)  # the engine sums every broadcast gradient with it

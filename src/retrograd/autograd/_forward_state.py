"""The core's part of forward-mode AD (autograd/forward_ad.py has the rest): the process-wide
state that ``ops._registry.apply`` checks, tangent bookkeeping, and the ``jvp=`` markers.

``_fw.active`` is True while a dual level exists and no jvp rule is running; ``apply`` reads it
only while the ``FORWARD`` bit of its switch (autograd/_modes.py) is set, which ``enter_level``
and ``exit_level`` turn. The upper layer (forward_ad) registers the functions the core calls
while it is True (``propagate``, ``inplace``), so the core never imports it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from ._modes import FORWARD, set_mode


def _unregistered(*_: Any) -> Any:
    raise AssertionError("forward mode is active but autograd.forward_ad is not loaded")


class _ForwardState:
    """Process-wide, as PyTorch's dual levels are (not per thread)."""

    __slots__ = ("active", "level", "duals", "propagate", "inplace")

    def __init__(self) -> None:
        self.active = False
        self.level = -1
        self.duals: list[weakref.ref[Any]] = []  # what got a tangent in the level
        self.propagate: Callable[..., None] = _unregistered
        self.inplace: Callable[..., Any] = _unregistered


_fw = _ForwardState()


def enter_level() -> None:
    """Start the (one) dual level: forward mode on."""
    _fw.level = 0
    _fw.active = True
    set_mode(FORWARD, True)


def exit_level() -> None:
    """End the dual level (its tangents are deleted by the caller): forward mode off."""
    _fw.duals = []
    _fw.level = -1
    _fw.active = False
    set_mode(FORWARD, False)


def set_tangent(t: Any, tangent: Any) -> None:
    """Give ``t`` (a Tensor, or the graph node whose saved output it is) the tangent
    ``tangent`` in the current level; leaving the level deletes it."""
    t._fw_grad = tangent
    _fw.duals.append(weakref.ref(t))


def has_tangent(items: Any) -> bool:
    """Whether any Tensor among ``items`` carries a tangent."""
    for t in items:
        if getattr(t, "_fw_grad", None) is not None:
            return True
    return False


# Markers for the common shapes of Jacobian, given as ``Op(..., jvp=MARKER)``.
def LINEAR(*_: Any) -> Any:
    """The op is linear in its tensor inputs taken together, so its tangent is the op applied to
    the tangents, with zeros for inputs without one (a view's tangent is the same view)."""
    raise AssertionError("a marker, never called")


def MULTILINEAR(*_: Any) -> Any:
    """The op is linear in each tensor input separately (matmul, einsum of two operands): its
    tangent is the sum, over the inputs with a tangent, of the op with that input replaced by
    its tangent."""
    raise AssertionError("a marker, never called")


def ELEMENTWISE(*_: Any) -> Any:
    """The op is elementwise (with broadcasting), so its Jacobian with respect to each input is
    diagonal and equal to its transpose: the tangent is the sum over inputs of the op's own vjp
    applied to that input's tangent."""
    raise AssertionError("a marker, never called")

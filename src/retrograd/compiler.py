"""``torch.compiler``: ``reset``, ``disable``, ``is_compiling`` for ``retrograd.compile``."""

from __future__ import annotations

import functools
from typing import Any

from ._compile.function import _disabled, reset
from ._compile.state import _cap

__all__ = ["allow_in_graph", "disable", "is_compiling", "is_dynamo_compiling", "reset"]


def allow_in_graph(fn: Any) -> Any:
    """Let calls to ``fn`` be captured into a compiled graph. retrograd's capture records the ops
    each call runs, whichever function runs them, so every function is already in the graph:
    ``fn`` is returned unchanged (a list or tuple of functions as a list), as PyTorch returns it."""
    if isinstance(fn, (list, tuple)):
        return [allow_in_graph(f) for f in fn]
    if not callable(fn):
        raise AssertionError(f"allow_in_graph expects a callable, got {type(fn).__name__}")
    return fn


def disable(fn: Any = None, recursive: bool = True, *, reason: str | None = None) -> Any:
    """Run ``fn`` (and everything it calls) eagerly, never captured: called inside a compiled
    function it is a graph break (that function runs eagerly; ``fullgraph=True`` raises), and
    compiled functions it calls run eagerly. Usable as a decorator."""
    if not recursive:
        raise NotImplementedError(
            "torch.compiler.disable(recursive=False): retrograd cannot compile the functions a "
            "disabled function calls on their own; use recursive=True"
        )
    if fn is None:
        return lambda f: disable(f, recursive, reason=reason)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        capturing = _cap.active
        if capturing:
            why = f" ({reason})" if reason else ""
            _cap.recorder.graph_break(f"a call to {getattr(fn, '__qualname__', fn)}, disabled by torch.compiler{why}")
            _cap.active = False  # the capture is given up: the rest runs eagerly
        _disabled[0] += 1
        try:
            return fn(*args, **kwargs)
        finally:
            _disabled[0] -= 1
            _cap.active = capturing

    return wrapper


def is_compiling() -> bool:
    """True while a compiled function's first call is being captured."""
    return _cap.active


is_dynamo_compiling = is_compiling

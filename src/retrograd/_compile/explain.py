"""``explain(fn)(*args)``: capture ``fn`` once and report what the capture found, shaped like
PyTorch's ``torch._dynamo.ExplainOutput`` as far as it applies.

retrograd does not split a function at a graph break: a function with a break runs eagerly (one
eager region, no graph). ``graph_count`` is therefore 1 for a function that replays and 0 for one
that runs eagerly; ``break_reasons`` lists every break with the user's file:line, and
``eager_reason`` says why a function without breaks could not be replayed (an array made outside
the recorded ops, a backward hook, ...).
"""

from __future__ import annotations

import functools
from typing import Any

from .function import CompiledFunction


class GraphBreakReason:
    """One graph break: ``reason`` and ``user_stack`` (the user's frame, as "file:line")."""

    __slots__ = ("reason", "user_stack")

    def __init__(self, reason: str, site: str) -> None:
        self.reason = reason
        self.user_stack = [site]

    def __repr__(self) -> str:
        return f"GraphBreakReason(reason={self.reason!r}, user_stack={self.user_stack!r})"


class ExplainOutput:
    """What ``explain`` found (see the module docstring)."""

    def __init__(self, fn: CompiledFunction) -> None:
        capture = fn.cache[-1] if fn.cache else None
        replays = capture is not None and capture.eager is None
        self.graph_count = 1 if replays else 0
        self.break_reasons = [GraphBreakReason(r, s) for r, s in fn.breaks]
        self.graph_break_count = len(self.break_reasons)
        self.eager_reason = None if capture is None or replays or fn.breaks else capture.eager
        entries = capture.schedule.entries if replays and capture.schedule is not None else []
        self.ops_per_graph = [[e.label for e in entries]] if replays else []
        self.op_count = len(entries)
        self.graphs = [capture.schedule] if replays else []

    def __str__(self) -> str:
        lines = [
            f"Graph Count: {self.graph_count}",
            f"Graph Break Count: {self.graph_break_count}",
            f"Op Count: {self.op_count}",
        ]
        if self.break_reasons:
            lines.append("Break Reasons:")
            lines += [f"  {b.reason} at {b.user_stack[0]}" for b in self.break_reasons]
        if self.eager_reason:
            lines.append(f"Runs eagerly: {self.eager_reason}")
        return "\n".join(lines)


def explain(fn: Any) -> Any:
    """``explain(fn)(*args, **kwargs)`` runs ``fn`` once under capture and returns an
    ExplainOutput (the call's side effects happen, as in PyTorch)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> ExplainOutput:
        import warnings

        compiled = CompiledFunction(fn)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the report says why it runs eagerly
            compiled(*args, **kwargs)
        return ExplainOutput(compiled)

    return run

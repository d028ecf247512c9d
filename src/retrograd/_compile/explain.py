"""``explain(fn)(*args)``: capture ``fn`` once and report what the capture found, shaped like
PyTorch's ``torch._dynamo.ExplainOutput`` as far as it applies.

A graph break that the replay can check (``.item()``, ``bool(t)``, ``.tolist()``, ``float(t)``,
``int(t)``, an index) splits the capture into pieces (``function.py``): ``graph_count`` counts the
pieces that hold kernels, ``ops_per_graph`` and ``graphs`` list them, piece by piece. A capture
that runs eagerly (a break it cannot check, a break after an effect, an array made outside the
recorded ops, ...) has no graph: ``graph_count`` is 0 and ``eager_reason`` says why.
``break_reasons`` lists every break with the user's file:line.
"""

from __future__ import annotations

import functools
from typing import Any

from .capture import check_break
from .function import CompiledFunction
from .schedule import Entry, Schedule


class GraphBreakReason:
    """One graph break: ``reason`` and ``user_stack`` (the user's frame, as "file:line")."""

    __slots__ = ("reason", "user_stack")

    def __init__(self, reason: str, site: str) -> None:
        self.reason = reason
        self.user_stack = [site]

    def __repr__(self) -> str:
        return f"GraphBreakReason(reason={self.reason!r}, user_stack={self.user_stack!r})"


def pieces(schedule: Schedule) -> list[Schedule]:
    """``schedule`` cut at its graph breaks, each piece with the slots it reads from before it
    (``inputs``) and those that a later check, piece or the caller reads (``results``); pieces
    without kernels are left out."""
    entries = schedule.entries
    cuts = [i for i, e in enumerate(entries) if e.kernel is check_break]
    out = []
    for lo, hi in zip([0] + [c + 1 for c in cuts], cuts + [len(entries)]):
        run: list[Entry] = entries[lo:hi]
        if not run:
            continue
        defined = {o for e in run for o in e.outputs if o is not None}
        reads = dict.fromkeys(s for e in run for s in e.inputs if type(s) is int and s not in defined)
        later = set(schedule.results) | {s for e in entries[hi:] for s in e.inputs if type(s) is int}
        results = tuple(s for s in dict.fromkeys(o for e in run for o in e.outputs) if s is not None and s in later)
        out.append(Schedule(run, tuple(reads), results))
    return out


class ExplainOutput:
    """What ``explain`` found (see the module docstring)."""

    def __init__(self, fn: CompiledFunction) -> None:
        capture = fn.cache[-1] if fn.cache else None
        replays = capture is not None and capture.eager is None and capture.schedule is not None
        self.break_reasons = [GraphBreakReason(r, s) for r, s in fn.breaks]
        self.graph_break_count = len(self.break_reasons)
        self.eager_reason = None if capture is None or replays else capture.eager
        self.graphs = pieces(capture.schedule) if replays and capture.schedule is not None else []
        self.graph_count = len(self.graphs)
        self.ops_per_graph = [[e.label for e in g.entries] for g in self.graphs]
        self.op_count = sum(len(g.entries) for g in self.graphs)

    def __str__(self) -> str:
        lines = [
            f"Graph Count: {self.graph_count}",
            f"Graph Break Count: {self.graph_break_count}",
            f"Op Count: {self.op_count}",
        ]
        if self.break_reasons:
            lines.append("Break Reasons:")
            lines += [f"  {b.reason} at {b.user_stack[0]}" for b in self.break_reasons]
        if self.ops_per_graph:
            lines.append("Ops per Graph:")
            lines += [f"  {i + 1}: {', '.join(ops)}" for i, ops in enumerate(self.ops_per_graph)]
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

"""A schedule turned into code: one straight-line Python function per schedule.

``build(schedule)`` generates (as torch.fx does) a function whose body is one line per entry,
``v7 = k3(v2, c3_1)``, with the slots as local variables and the kernels and constants bound as
its globals; a slot is deleted after its last reader, so an intermediate is freed when eager
mode would free it. A call binds ``schedule.inputs`` from its arguments and returns the
``schedule.results``. No Tensor, node or engine object takes part.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .schedule import Schedule


def source(schedule: Schedule) -> tuple[str, dict[str, Any]]:
    """The generated code of ``schedule`` and the namespace its names refer to."""
    entries = schedule.entries
    keep = set(schedule.results)
    last: dict[int, int] = {}
    for i, e in enumerate(entries):
        for s in e.inputs:
            if type(s) is int:
                last[s] = i
    names: dict[str, Any] = {}
    args = ", ".join(f"v{s}" for s in schedule.inputs)
    lines = [f"def replay({args}):"]
    for s in schedule.inputs:  # inputs nothing reads are dropped at once
        if s not in last and s not in keep:
            lines.append(f"    del v{s}")
    for i, e in enumerate(entries):
        k = f"k{i}"
        names[k] = e.kernel
        parts = []
        for j, s in enumerate(e.inputs):
            if type(s) is int:
                parts.append(f"v{s}")
            else:
                c = f"c{i}_{j}"
                names[c] = s.value
                parts.append(c)
        call = f"{k}({', '.join(parts)})"
        outs = e.outputs
        if not outs:
            lines.append(f"    {call}")
        elif len(outs) == 1:
            lines.append(f"    v{outs[0]} = {call}")
        else:
            lines.append(f"    {', '.join('_' if o is None else f'v{o}' for o in outs)}, = {call}")
        dead = [s for s in e.inputs if type(s) is int and last.get(s) == i and s not in keep]
        dead += [o for o in outs if o is not None and o not in last and o not in keep]
        if dead:
            lines.append(f"    del {', '.join(f'v{s}' for s in dict.fromkeys(dead))}")
    lines.append(f"    return ({''.join(f'v{s}, ' for s in schedule.results)})")
    return "\n".join(lines) + "\n", names


def build(schedule: Schedule) -> Callable[..., tuple[Any, ...]]:
    """The replay function of ``schedule``: ``replay(*input_arrays) -> result arrays``."""
    code, names = source(schedule)
    namespace = dict(names)
    exec(compile(code, "<retrograd compiled replay>", "exec"), namespace)  # noqa: S102
    fn = namespace["replay"]
    fn.__retrograd_source__ = code  # for debugging: print(fn.__retrograd_source__)
    return fn

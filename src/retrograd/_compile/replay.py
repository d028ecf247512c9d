"""A schedule turned into code: one straight-line Python function per schedule.

``build(schedule)`` generates (as torch.fx does) a function whose body is one line per entry,
``v7 = k3(v2, c3_1)``, with the slots as local variables and the kernels and constants bound as
its globals; a slot is deleted after its last reader, so an intermediate is freed when eager
mode would free it. A call binds ``schedule.inputs`` from its arguments and returns the
``schedule.results``. No Tensor, node or engine object takes part (the kernel of an op backward
recorded whole wraps its arrays in Tensors for that backward, see ``capture.vjp_kernel``).

``interpret(schedule)`` runs the same entries in a loop, and ``Replay`` uses it for a capture's
first replay, generating the code from the second on: generating and compiling the code costs
about as much as an eager step of small ops, which a function called once should not pay.
A pass that rewrites a schedule (buffer reuse, fusion) runs before ``Replay`` is made.
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
    namespace["__name__"] = __name__  # NumPy's float warnings from here are retrograd's (silenced)
    exec(compile(code, "<retrograd compiled replay>", "exec"), namespace)  # noqa: S102
    fn = namespace["replay"]
    fn.__retrograd_source__ = code  # for debugging: print(fn.__retrograd_source__)
    return fn


def interpret(schedule: Schedule) -> Callable[..., tuple[Any, ...]]:
    """The replay as a loop over the entries (no code generated): what a capture runs first, so
    that the first call does not pay for generating code that a function called once never
    needs. Frees each slot after its last reader, as the generated code does."""
    entries = schedule.entries
    keep = set(schedule.results)
    last: dict[int, int] = {}
    for i, e in enumerate(entries):
        for s in e.inputs:
            if type(s) is int:
                last[s] = i
    plan = []
    for i, e in enumerate(entries):
        dead = [s for s in e.inputs if type(s) is int and last.get(s) == i and s not in keep]
        dead += [o for o in e.outputs if o is not None and o not in last and o not in keep]
        plan.append((e.kernel, e.inputs, e.outputs, tuple(dict.fromkeys(dead))))
    inputs, results = schedule.inputs, schedule.results

    def run(*values: Any) -> tuple[Any, ...]:
        env = dict(zip(inputs, values))
        for kernel, ins, outs, dead in plan:
            r = kernel(*[env[s] if type(s) is int else s.value for s in ins])
            if len(outs) == 1:
                env[outs[0]] = r
            elif outs:
                for o, v in zip(outs, r):
                    if o is not None:
                        env[o] = v
            for s in dead:
                env.pop(s, None)
        return tuple(env[s] for s in results)

    return run


class Replay:
    """A schedule's replay: interpreted at first, generated code from the ``after``-th call on
    (a function replayed once or twice does not pay for generating its code).

    ``Replay(prepare=f)`` takes the schedule as ``f()``, made at the first call (or the first
    read of ``schedule``): a capture hands over its passes (fusion, buffer reuse, in
    ``fusion.optimize``) this way, so the call that captures does not pay for them; the first
    replay, which is checked against eager mode, runs their result."""

    __slots__ = ("_schedule", "_prepare", "fn", "calls", "after")

    def __init__(self, schedule: Schedule | None = None, after: int = 2, prepare: Any = None) -> None:
        self._schedule = schedule
        self._prepare = prepare
        self.fn: Any = None
        self.calls = 0
        self.after = after
        if prepare is None:
            self._start()

    @property
    def schedule(self) -> Schedule:
        if self._schedule is None:
            self._schedule = self._prepare()
            self._prepare = None
        return self._schedule

    def _start(self) -> None:
        self.fn = interpret(self.schedule) if self.after > 0 else build(self.schedule)

    def __call__(self, *values: Any) -> tuple[Any, ...]:
        if self.fn is None:
            self._start()
        calls = self.calls = self.calls + 1
        if calls == self.after:
            self.fn = build(self.schedule)
        return self.fn(*values)

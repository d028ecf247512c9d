"""The recorded program: a flat list of array kernels over numbered value slots.

A ``Schedule`` is plain data, so that a pass (buffer reuse, fusion) can rewrite it before it is
turned into code by ``replay.build``:

- ``entries``: the kernels in the order eager mode ran them. An ``Entry`` calls
  ``kernel(*args)`` where each item of ``inputs`` is a slot number (an ``int``: the array that
  slot holds) or a ``Const`` (its ``value`` as it is: a dtype, an axis, a Python number, the
  array module, a tensor whose state the kernel updates). ``outputs`` says what the kernel
  returns: ``()`` nothing that is kept (it writes into one of its inputs, in place), ``(s,)``
  one array, into slot ``s``; ``(s, t, ...)`` a tuple unpacked into those slots, ``None`` for an
  element that is dropped. A slot is written once; an in-place kernel writes into the memory of
  an input slot, so its readers must stay after it (the order of ``entries`` is the order of
  effects, never reorder across a kernel with ``outputs == ()``).
- ``inputs``: the slots bound, in order, from the values given to the replay (the arrays of
  the tensors the function reads: arguments, parameters, buffers, gradients).
- ``results``: the slots handed back, in order (the outputs' arrays, and what a recorded
  backward reads later).

Every kernel is the one eager mode ran (an op's ``forward``, a NumPy ufunc, a factory), with the
same arguments, so a replay computes bit for bit what eager mode computes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Const:
    """A constant argument of an entry."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        v = self.value
        shape = getattr(v, "shape", None)
        if isinstance(shape, tuple) and hasattr(v, "strides"):
            return f"Const({type(v).__name__}{list(shape)})"
        text = repr(v) if isinstance(v, (int, float, str, bool, tuple, type(None))) else type(v).__name__
        return f"Const({text if len(text) <= 40 else text[:37] + '...'})"


class Entry:
    """``outputs = kernel(*inputs)``, see the module docstring; ``label`` names it for reports."""

    __slots__ = ("kernel", "inputs", "outputs", "label")

    def __init__(
        self, kernel: Callable[..., Any], inputs: tuple[Any, ...], outputs: tuple[int | None, ...], label: str
    ) -> None:
        self.kernel = kernel
        self.inputs = inputs
        self.outputs = outputs
        self.label = label

    def __repr__(self) -> str:
        ins = ", ".join(f"v{i}" if type(i) is int else repr(i) for i in self.inputs)
        outs = ", ".join("_" if o is None else f"v{o}" for o in self.outputs)
        return f"{outs or '()'} = {self.label}({ins})"


class Schedule:
    """A recorded program: ``entries`` over slots, bound from ``inputs``, returning ``results``."""

    __slots__ = ("entries", "inputs", "results")

    def __init__(self, entries: list[Entry], inputs: tuple[int, ...], results: tuple[int, ...]) -> None:
        self.entries = entries
        self.inputs = inputs
        self.results = results

    def __repr__(self) -> str:
        lines = [f"inputs: {', '.join(f'v{i}' for i in self.inputs)}"]
        lines += [repr(e) for e in self.entries]
        lines.append(f"results: {', '.join(f'v{i}' for i in self.results)}")
        return "\n".join(lines)

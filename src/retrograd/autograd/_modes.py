"""The one switch ``apply`` (ops/_registry.py) reads for every op.

A *mode* changes how every op runs: vmap (the op goes to its batching rule), the profiler (the
op runs between clock readings), forward-mode AD (the result gets a tangent), per-node extras
(anomaly traces, saved tensor hooks), meta tensors (an op with a meta input computes only its
result's layout). Each mode owns one bit of ``switch.on``, set while the
mode is on anywhere in the process. While ``switch.on`` is 0 (no mode on), ``apply`` takes its
plain path and pays one attribute read for all of them; otherwise it calls the registry's
``_divert`` before the op and ``_after`` after it, which check each mode's own state.

A new mode joins by taking the next bit below, calling ``set_mode(BIT, on)`` (process-wide
state) or ``count_mode(BIT, +1/-1)`` (state kept per thread: the bit stays set while some
thread has it on) when it turns on and off, and adding its branch to ``_divert`` (work before
or instead of the op) or ``_after`` (work on the result) in ops/_registry.py.
"""

from __future__ import annotations

import threading

from ..backend import meta as _backend_meta

VMAP = 1  # a vmap level exists (autograd/_vmap_state.py)
PROFILER = 2  # an op observer is set (retrograd.profiler)
FORWARD = 4  # a forward-mode dual level exists (autograd/forward_ad.py)
NODE_EXTRAS = 8  # some thread has anomaly mode or saved tensor hooks on (grad_mode._state.node_extras)
META = 16  # a meta tensor's array is alive (backend/meta.py): ops check their inputs for one


class _Switch:
    __slots__ = ("on",)

    def __init__(self) -> None:
        self.on = 0  # the bits of the modes that are on


switch = _Switch()
_lock = threading.Lock()
_counts: dict[int, int] = {}  # per-thread modes: how many threads have each on


def set_mode(bit: int, on: bool) -> None:
    """Turn the bit of a process-wide mode on or off."""
    with _lock:
        switch.on = switch.on | bit if on else switch.on & ~bit


def count_mode(bit: int, delta: int) -> None:
    """A thread turned a per-thread mode on (+1) or off (-1): its bit is set while the count of
    threads that have it on is positive."""
    with _lock:
        n = _counts[bit] = _counts.get(bit, 0) + delta
        switch.on = switch.on | bit if n > 0 else switch.on & ~bit


def _meta_mode(on: bool) -> None:
    set_mode(META, on)


_backend_meta.on_live_change(_meta_mode)

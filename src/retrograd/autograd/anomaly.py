"""Anomaly detection: record where each node was created, and fail on NaN gradients.

Under ``detect_anomaly()`` every recorded node keeps the user's stack at creation; a backward
node that returns a NaN gradient raises a RuntimeError naming the node and the forward line
that created it.
"""

import functools
import os
import threading
import traceback
import warnings

from .grad_mode import _node_extra_probes, _refresh_node_extras

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _State(threading.local):
    enabled = False
    check_nan = True


_state = _State()
_node_extra_probes.append(lambda: _state.enabled)


def is_anomaly_enabled():
    return _state.enabled


def is_anomaly_check_nan_enabled():
    return _state.check_nan


class detect_anomaly:
    """Context manager and decorator enabling anomaly detection."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        warnings.warn(
            "Anomaly Detection has been enabled. This mode will increase the runtime and "
            "should only be enabled for debugging.",
            stacklevel=2,
        )

    def __enter__(self):
        self._prev = (_state.enabled, _state.check_nan)
        _state.enabled, _state.check_nan = True, self.check_nan
        _refresh_node_extras()

    def __exit__(self, *exc):
        _state.enabled, _state.check_nan = self._prev
        _refresh_node_extras()
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


class set_detect_anomaly:
    """Set anomaly detection on or off; takes effect at construction, undone on exit."""

    def __init__(self, mode, check_nan=True):
        self._prev = (_state.enabled, _state.check_nan)
        _state.enabled, _state.check_nan = bool(mode), check_nan
        _refresh_node_extras()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _state.enabled, _state.check_nan = self._prev
        _refresh_node_extras()
        return False


def record_trace(node):
    """Keep the user's part of the current stack on ``node`` (called only in anomaly mode)."""
    frames = [f for f in traceback.extract_stack()[:-2] if not f.filename.startswith(_PKG_DIR)]
    node._extras()["trace"] = frames


def forward_trace(node):
    frames = node._extra.get("trace") if node._extra else None
    if not frames:
        return "(no forward trace: the node was created outside detect_anomaly)"
    return "".join(traceback.format_list(frames[-5:]))


def annotate(exc, node):
    """Add the forward trace of ``node`` to an error raised while it ran (anomaly mode)."""
    if getattr(exc, "_anomaly_noted", False):
        return
    note = f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n{forward_trace(node)}"
    try:
        exc._anomaly_noted = True
    except AttributeError:
        pass
    # PyTorch warns with the forward trace; the note also puts it in the traceback itself
    # (Python 3.11+ prints __notes__; on 3.10 the list is set for handlers that read it).
    warnings.warn(note)
    if hasattr(exc, "add_note"):
        exc.add_note(note)
    else:
        try:
            exc.__notes__ = [*getattr(exc, "__notes__", ()), note]
        except (AttributeError, TypeError):
            pass


def check_grads(node, outs):
    if not _state.check_nan:
        return
    for i, g in enumerate(outs):
        if g is None:
            continue
        xp_data = g._data.values if g.is_sparse else g._data
        if xp_data.dtype.kind in "fV" and bool((xp_data != xp_data).any()):
            err = RuntimeError(
                f"Function '{node.name()}' returned nan values in its {i}th output. The forward "
                f"call that created this node was:\n{forward_trace(node)}"
            )
            err._anomaly_noted = True
            raise err

"""The capture flag: ``_cap.active`` is True while a compiled function's first call records.

Every place that makes an array outside a recorded kernel checks this one attribute (the
in-place ops, comparisons, factories, random draws, the engine's accumulation, the optimizer's
and scheduler's steps, the conversions to Python values) and hands its work to ``_cap.recorder``
(a ``capture.Recorder``); ops and backward nodes reach the recorder through the observers of
``apply`` and the engine. Off, a hook costs one attribute read. The state is per thread: another
thread's ops are never recorded into this thread's capture.
"""

import threading
from typing import Any


class _CaptureState(threading.local):
    active: bool = False
    recorder: Any = None  # a capture.Recorder while active (this module imports nothing of it)


_cap = _CaptureState()

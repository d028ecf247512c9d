"""The capture flag: ``_cap.active`` is True while a compiled function's first call records.

Every place that makes an array outside a recorded kernel checks this one attribute (``apply``,
the in-place ops, comparisons, factories, random draws, the engine's accumulation, the
optimizer's step, the conversions to Python values) and hands its work to ``_cap.recorder``
(a ``capture.Recorder``). Off, a hook costs one attribute read.
"""


class _CaptureState:
    __slots__ = ("active", "recorder")

    def __init__(self):
        self.active = False
        self.recorder = None


_cap = _CaptureState()

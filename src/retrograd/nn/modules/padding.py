"""Padding layers: Constant/Zero/Reflection/Replication/CircularPad{1,2,3}d.

``padding`` is an int (the same on every side) or one (left, right) pair per padded dim, last
dim first, as in ``F.pad``: 2 numbers for 1d, 4 for 2d, 6 for 3d.
"""

from .. import functional as F
from ._utils import _ntuple
from .module import Module

__all__ = [
    "ConstantPad1d",
    "ConstantPad2d",
    "ConstantPad3d",
    "ZeroPad1d",
    "ZeroPad2d",
    "ZeroPad3d",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReflectionPad3d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "ReplicationPad3d",
    "CircularPad1d",
    "CircularPad2d",
    "CircularPad3d",
]


class _PadNd(Module):
    _nd = 1
    _mode = "constant"

    def __init__(self, padding):
        super().__init__()
        padding = _ntuple(2 * self._nd, "_pad")(padding)
        if len(padding) != 2 * self._nd:
            raise ValueError(f"{type(self).__name__}: padding must be an int or {2 * self._nd} numbers, got {padding}")
        self.padding = padding

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class _CircularPadNd(_PadNd):
    _mode = "circular"

    def forward(self, input):
        if input.dim() not in (self._nd + 1, self._nd + 2):
            raise ValueError(f"expected {self._nd + 1}D or {self._nd + 2}D input (got {input.dim()}D input)")
        return F.pad(input, self.padding, "circular")


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim with the constant ``value``."""

    _nd = 1


class ConstantPad2d(_ConstantPadNd):
    """Pads the last 2 dims with the constant ``value``."""

    _nd = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last 3 dims with the constant ``value``."""

    _nd = 3


class ZeroPad1d(_ZeroPadNd):
    """Pads the last dim with zeros."""

    _nd = 1


class ZeroPad2d(_ZeroPadNd):
    """Pads the last 2 dims with zeros."""

    _nd = 2


class ZeroPad3d(_ZeroPadNd):
    """Pads the last 3 dims with zeros."""

    _nd = 3


class ReflectionPad1d(_PadNd):
    """Pads the last dim with the input's reflection (the edge not repeated)."""

    _nd = 1
    _mode = "reflect"


class ReflectionPad2d(_PadNd):
    """Pads the last 2 dims with the input's reflection (the edge not repeated)."""

    _nd = 2
    _mode = "reflect"


class ReflectionPad3d(_PadNd):
    """Pads the last 3 dims with the input's reflection (the edge not repeated)."""

    _nd = 3
    _mode = "reflect"


class ReplicationPad1d(_PadNd):
    """Pads the last dim by repeating the edge values."""

    _nd = 1
    _mode = "replicate"


class ReplicationPad2d(_PadNd):
    """Pads the last 2 dims by repeating the edge values."""

    _nd = 2
    _mode = "replicate"


class ReplicationPad3d(_PadNd):
    """Pads the last 3 dims by repeating the edge values."""

    _nd = 3
    _mode = "replicate"


class CircularPad1d(_CircularPadNd):
    """Pads the last dim by wrapping the input around."""

    _nd = 1


class CircularPad2d(_CircularPadNd):
    """Pads the last 2 dims by wrapping the input around."""

    _nd = 2


class CircularPad3d(_CircularPadNd):
    """Pads the last 3 dims by wrapping the input around."""

    _nd = 3

"""MaxUnpool1d/2d/3d: partial inverses of max pooling from the indices it returned."""

from .. import functional as F
from ._utils import _single, _pair, _triple
from .module import Module

__all__ = ["MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d"]


class _MaxUnpoolNd(Module):
    _ntuple = staticmethod(_pair)
    _fn = None

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = self._ntuple(kernel_size)
        self.stride = self._ntuple(stride if stride is not None else kernel_size)
        self.padding = self._ntuple(padding)

    def forward(self, input, indices, output_size=None):
        """Puts each value of ``input`` at its index in a zero output; ``output_size`` picks among
        the input sizes the pooling could have come from."""
        return getattr(F, self._fn)(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """Inverse of MaxPool1d (non-maximal positions are zero)."""

    _ntuple = staticmethod(_single)
    _fn = "max_unpool1d"


class MaxUnpool2d(_MaxUnpoolNd):
    """Inverse of MaxPool2d (non-maximal positions are zero)."""

    _ntuple = staticmethod(_pair)
    _fn = "max_unpool2d"


class MaxUnpool3d(_MaxUnpoolNd):
    """Inverse of MaxPool3d (non-maximal positions are zero)."""

    _ntuple = staticmethod(_triple)
    _fn = "max_unpool3d"

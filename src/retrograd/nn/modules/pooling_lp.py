"""Power-average pooling: LPPool1d/2d/3d, ``(sum over the window of x ** p) ** (1 / p)``."""

from .. import functional as F
from .module import Module

__all__ = ["LPPool1d", "LPPool2d", "LPPool3d"]


class _LPPoolNd(Module):
    _fn = None

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def forward(self, input):
        return getattr(F, self._fn)(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self):
        return (
            f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"ceil_mode={self.ceil_mode}"
        )


class LPPool1d(_LPPoolNd):
    """LP pooling over windows of the last dim of (N, C, L) or (C, L) inputs (p = inf: max |x|)."""

    _fn = "lp_pool1d"


class LPPool2d(_LPPoolNd):
    """LP pooling over kH x kW windows of (N, C, H, W) or (C, H, W) inputs."""

    _fn = "lp_pool2d"


class LPPool3d(_LPPoolNd):
    """LP pooling over kD x kH x kW windows of (N, C, D, H, W) or (C, D, H, W) inputs."""

    _fn = "lp_pool3d"

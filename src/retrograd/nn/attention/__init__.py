"""``torch.nn.attention``: choosing the kernels ``scaled_dot_product_attention`` may use.

retrograd has one kernel, the math one (``SDPBackend.MATH``): attention runs it whenever it is
enabled, and raises when a ``sdpa_kernel`` block (or ``torch.backends.cuda.enable_math_sdp``)
leaves it out, rather than running a kernel the caller excluded."""

import contextlib
import enum

from ...ops.attention import SDP_ENABLED

__all__ = ["SDPBackend", "sdpa_kernel"]


class SDPBackend(enum.IntEnum):
    """The attention kernels PyTorch names (the values are PyTorch's)."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


_KEYS = {
    SDPBackend.MATH: "math",
    SDPBackend.FLASH_ATTENTION: "flash",
    SDPBackend.EFFICIENT_ATTENTION: "mem_efficient",
    SDPBackend.CUDNN_ATTENTION: "cudnn",
}


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """Within the block, ``scaled_dot_product_attention`` may use only ``backends`` (one
    ``SDPBackend`` or a list of them); the previous choice comes back after it. With
    ``set_priority`` the list's order is the order of preference, which changes nothing here:
    there is one kernel."""
    if isinstance(backends, SDPBackend):
        backends = [backends]
    backends = list(backends)
    for b in backends:
        if not isinstance(b, SDPBackend):
            raise TypeError(f"sdpa_kernel: backends must be SDPBackend values, got {b!r}")
        if b not in _KEYS:
            raise ValueError(f"sdpa_kernel: {b.name} cannot be enabled (it is not a kernel of the CPU or CUDA)")
    previous = dict(SDP_ENABLED)
    for b, key in _KEYS.items():
        SDP_ENABLED[key] = b in backends
    try:
        yield
    finally:
        SDP_ENABLED.update(previous)

"""``torch.backends.cuda``: the matmul precision flags, recorded as set (CuPy's matmuls use
full float32 precision whatever they say), and the attention kernels' switches."""

import contextlib
import warnings

from ..ops.attention import SDP_ENABLED


class _MatmulFlags:
    """``torch.backends.cuda.matmul``: ``allow_tf32`` and the reduced-precision reductions."""

    __slots__ = ("allow_tf32", "allow_fp16_reduced_precision_reduction", "allow_bf16_reduced_precision_reduction")

    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True


matmul = _MatmulFlags()

__all__ = [
    "matmul",
    "is_built",
    "enable_math_sdp",
    "math_sdp_enabled",
    "enable_flash_sdp",
    "flash_sdp_enabled",
    "enable_mem_efficient_sdp",
    "mem_efficient_sdp_enabled",
    "enable_cudnn_sdp",
    "cudnn_sdp_enabled",
    "sdp_kernel",
]


def is_built():
    """Whether retrograd can run on NVIDIA GPUs: True when CuPy is installed."""
    import importlib.util

    return importlib.util.find_spec("cupy") is not None


# The attention kernels scaled_dot_product_attention may use (on any device, as in PyTorch).
# retrograd has only the math kernel: see torch.nn.attention.
def enable_math_sdp(enabled):
    """Enable or disable the math attention kernel (retrograd's only one)."""
    SDP_ENABLED["math"] = bool(enabled)


def math_sdp_enabled():
    return SDP_ENABLED["math"]


def enable_flash_sdp(enabled):
    """Recorded: retrograd has no flash attention kernel."""
    SDP_ENABLED["flash"] = bool(enabled)


def flash_sdp_enabled():
    return SDP_ENABLED["flash"]


def enable_mem_efficient_sdp(enabled):
    """Recorded: retrograd has no memory-efficient attention kernel."""
    SDP_ENABLED["mem_efficient"] = bool(enabled)


def mem_efficient_sdp_enabled():
    return SDP_ENABLED["mem_efficient"]


def enable_cudnn_sdp(enabled):
    """Recorded: retrograd has no cuDNN attention kernel."""
    SDP_ENABLED["cudnn"] = bool(enabled)


def cudnn_sdp_enabled():
    return SDP_ENABLED["cudnn"]


@contextlib.contextmanager
def sdp_kernel(enable_flash=True, enable_math=True, enable_mem_efficient=True, enable_cudnn=True):
    """Deprecated in PyTorch for ``torch.nn.attention.sdpa_kernel``: within the block, only the
    kernels whose flag is True are enabled."""
    warnings.warn(
        "torch.backends.cuda.sdp_kernel() is deprecated. In the future, this context manager will be removed. "
        "Please see torch.nn.attention.sdpa_kernel() for the new context manager, with updated signature.",
        FutureWarning,
        stacklevel=3,
    )
    previous = dict(SDP_ENABLED)
    SDP_ENABLED.update(flash=bool(enable_flash), math=bool(enable_math))
    SDP_ENABLED.update(mem_efficient=bool(enable_mem_efficient), cudnn=bool(enable_cudnn))
    try:
        yield
    finally:
        SDP_ENABLED.update(previous)

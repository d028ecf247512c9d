"""``torch.backends.cuda``: the matmul precision flags, recorded as set (CuPy's matmuls use
full float32 precision whatever they say)."""


class _MatmulFlags:
    """``torch.backends.cuda.matmul``: ``allow_tf32`` and the reduced-precision reductions."""

    __slots__ = ("allow_tf32", "allow_fp16_reduced_precision_reduction", "allow_bf16_reduced_precision_reduction")

    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True


matmul = _MatmulFlags()

__all__ = ["matmul", "is_built"]


def is_built():
    """Whether retrograd can run on NVIDIA GPUs: True when CuPy is installed."""
    import importlib.util

    return importlib.util.find_spec("cupy") is not None

"""``torch.backends.cpu``: the CPU's vector capability, as PyTorch names it."""

__all__ = ["get_cpu_capability"]


def get_cpu_capability():
    """ "DEFAULT": retrograd dispatches no SIMD-specific kernels of its own (NumPy chooses)."""
    return "DEFAULT"

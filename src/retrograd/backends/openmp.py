"""``torch.backends.openmp``: retrograd's CPU kernels are NumPy's; no OpenMP runtime of its own."""

__all__ = ["is_available"]


def is_available():
    return False

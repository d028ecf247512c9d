"""``torch.backends.mkl``: whether matrix products run on Intel MKL.

PyTorch's ``is_available()`` says whether it was built with MKL. retrograd routes float32 and
float64 matrix products through MKL's ``cblas_?gemm`` when the optional ``mkl`` wheel is installed
(``pip install retrograd[mkl]``), the CPU is Intel's (or the environment sets ``RETROGRAD_BLAS=mkl``)
and the environment does not set ``RETROGRAD_BLAS=numpy`` (retrograd/backend/blas.py); otherwise
NumPy's BLAS computes them.
"""

from ..backend import blas

__all__ = ["is_available"]


def is_available():
    """True when matrix products go through MKL (the library is loaded at this first question)."""
    lib = blas.active()
    return lib is not None and lib.name == "mkl"

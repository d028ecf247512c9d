"""retrograd.linalg: PyTorch's torch.linalg namespace. Re-exports only; the ops live in
ops/decomposition.py, ops/linalg.py and ops/reduction.py."""
from .ops.decomposition import (LinAlgError, inv, det, slogdet, solve, solve_triangular, cholesky, qr,  # noqa: F401
                                eigh, eigvalsh, svd, svdvals, matrix_power, pinv, matrix_rank, matrix_norm,
                                norm, cond)
from .ops.reduction import vector_norm  # noqa: F401
from .ops.linalg import matmul, multi_dot, vdot as vecdot  # noqa: F401
from .ops.indexing import diagonal as _diagonal


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The ``offset`` diagonal of the matrices in A (dims dim1, dim2), as a view."""
    return _diagonal(A, offset, dim1, dim2)

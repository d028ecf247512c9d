"""retrograd.linalg: PyTorch's torch.linalg namespace. Re-exports only; the ops live in
ops/decomposition.py, ops/linalg.py and ops/reduction.py."""
from .ops.decomposition import (LinAlgError, inv, det, slogdet, solve, solve_triangular, cholesky, qr,
                                eigh, eigvalsh, svd, svdvals, matrix_power, pinv, matrix_rank, matrix_norm,
                                norm, cond)
from .ops.reduction import vector_norm
from .ops.linalg import matmul, multi_dot
from .ops.indexing import diagonal as _diagonal
from ._autocast import LOWER as _LOWER, ACTIVE as _AMP, _amp, autocast_call as _autocast_call
from .ops.numeric import linalg_cross as cross  # noqa: F401

__all__ = ["LinAlgError", "inv", "det", "slogdet", "solve", "solve_triangular", "cholesky", "qr", "eigh",
           "eigvalsh", "svd", "svdvals", "matrix_power", "pinv", "matrix_rank", "matrix_norm", "norm",
           "cond", "vector_norm", "matmul", "multi_dot", "cross", "vecdot", "diagonal"]


def vecdot(x, y, *, dim=-1):
    """sum(x * y) over ``dim``, with broadcasting (real tensors: no conjugation)."""
    if _AMP[0] and _amp.on:
        return _autocast_call(vecdot, _LOWER, x, y, dim=dim)
    return (x * y).sum(dim)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The ``offset`` diagonal of the matrices in A (dims dim1, dim2), as a view."""
    return _diagonal(A, offset, dim1, dim2)


# PyTorch's out= forms: each function named in OUT_FORMS["linalg"] (ops/_out.py) is the plain
# function wrapped to write its result into `out`; every other function here refuses out=.
from .ops._out import OUT_FORMS as _OUT_FORMS, with_out as _with_out  # noqa: E402
for _name in _OUT_FORMS["linalg"]:
    globals()[_name] = _with_out(globals()[_name], _name)
del _name

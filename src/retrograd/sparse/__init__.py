"""Sparse COO tensors and ``retrograd.sparse`` (PyTorch's ``torch.sparse``).

``SparseTensor`` (``_tensor``) is its own class with the sparse COO surface; its storage and
array routines are in ``_storage``, its ops in ``_ops`` and ``_linalg``, their autograd nodes in
``_autograd``. The engine and the optimizers meet sparse gradients through a few entry points
re-exported here (``add_into``, ``coalesced_rows``, ``combine``, ``rows_view``,
``embedding_grad``) and the gradient's ``_grad_sum``.
"""

from ._linalg import addmm, log_softmax, softmax, sparse_mm as mm, sum
from ._linalg import spmm  # noqa: F401  (retrograd.spmm)

# internal entry points used elsewhere in retrograd (not part of torch.sparse's API)
from ._ops import (  # noqa: F401
    binary,
    combine,
    dense_add,
    dense_to_dense,
    embedding_grad,
    is_sparse,
    sparse_coo_tensor,
    to_sparse,
    to_sparse_coo,
)
from ._storage import add_into, coalesced_rows, flat_index, rows_view  # noqa: F401
from ._tensor import SparseTensor  # noqa: F401

__all__ = ["addmm", "log_softmax", "mm", "softmax", "sum"]

"""Randomized low-rank SVD and PCA (``torch.svd_lowrank``/``torch.pca_lowrank``; Halko, Martinsson
and Tropp 2009, algorithms 4.4 and 5.1): an orthonormal basis of A's range from A times a
Gaussian matrix, refined by ``niter`` subspace iterations, then the SVD of the small projected
matrix. Written in differentiable ops; the Gaussian draw is ``randn``, as in PyTorch, so a seed
gives PyTorch's result."""

from .._tensor import Tensor
from ._declare import declare

__all__ = ["svd_lowrank", "pca_lowrank"]


def _floating(A):
    from .. import _dtype

    return A.dtype if A.is_floating_point() or A.is_complex() else _dtype.float32


def _approximate_basis(A, q, niter, M):
    from .._creation import randn
    from .decomposition import qr

    R = randn(A.shape[-1], q, dtype=_floating(A), device=A.device)
    X = A @ R
    if M is not None:
        X = X - M @ R
    Q = qr(X).Q
    for _ in range(niter):
        X = A.mH @ Q
        if M is not None:
            X = X - M.mH @ Q
        Q = qr(X).Q
        X = A @ Q
        if M is not None:
            X = X - M @ Q
        Q = qr(X).Q
    return Q


def _svd_lowrank(A, q, niter, M):
    from .decomposition import svd

    q = 6 if q is None else q
    niter = 2 if niter is None else niter
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.shape)
    if m < n:  # work with the tall one
        A = A.mH
        M = None if M is None else M.mH
    Q = _approximate_basis(A, q, niter, M)
    B = Q.mH @ A
    if M is not None:
        B = B - Q.mH @ M
    U, S, Vh = svd(B, full_matrices=False)
    V = Vh.mH
    U = Q @ U
    if m < n:
        U, V = V, U
    return U, S, V


def svd_lowrank(A, q=6, niter=2, M=None):
    """(U, S, V) with A ~ U diag(S) V^H of rank ``q`` (of A - M when ``M`` is given), from a
    random projection with ``niter`` subspace iterations; batched over leading dims."""
    if not isinstance(A, Tensor) or A.dim() < 2:
        raise RuntimeError("svd_lowrank: expected a tensor of at least 2 dimensions")
    return _svd_lowrank(A, q, niter, M)


def pca_lowrank(A, q=None, center=True, niter=2):
    """The principal components of the rows of A: ``svd_lowrank`` of A minus its column means
    (``center``), with ``q`` = min(6, m, n) by default."""
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not (q >= 0 and q <= min(m, n)):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return _svd_lowrank(A, q, niter, None)
    return _svd_lowrank(A - A.mean(dim=(-2,), keepdim=True), q, niter, None)


declare(svd_lowrank)
declare(pca_lowrank)

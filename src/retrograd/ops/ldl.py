"""The LDL factorization of symmetric (or Hermitian) indefinite matrices: ``linalg.ldl_factor``,
``ldl_factor_ex`` and ``ldl_solve``.

A = P L D L^T P^T (L^H for ``hermitian=True``), with L unit lower triangular and D block
diagonal with 1 x 1 and 2 x 2 blocks, found by Bunch-Kaufman diagonal pivoting (LAPACK's sytf2,
lower triangle: only A's lower triangle is read). The result is LAPACK's compact form, as in
PyTorch: ``LD`` holds D on and beside the diagonal and L's multipliers below it, and ``pivots``
(int32, from 1) records the interchanges: ``pivots[k] = p > 0`` is a 1 x 1 block at k after
rows and columns k and p - 1 were swapped; ``pivots[k] = pivots[k + 1] = -p`` is a 2 x 2 block
at k, k + 1 after rows and columns k + 1 and p - 1 were swapped.

No derivative exists in PyTorch for these functions; a backward through them raises here too.
"""

import numpy as np

from .._tensor import Tensor
from ..autograd.grad_mode import is_grad_enabled
from ..backend import array_module, to_numpy
from ._declare import declare
from ._registry import Op, apply
from .decomposition import LinAlgError, _check_matrix
from .reduction import return_types

_ALPHA = (1.0 + 17.0**0.5) / 8.0  # Bunch-Kaufman's threshold: minimises the element growth bound


def _abs1(xp, x):
    """LAPACK's magnitude for pivot searches: |re| + |im| (|x| for real x)."""
    return xp.abs(x.real) + xp.abs(x.imag) if x.dtype.kind == "c" else xp.abs(x)


def _factor_one(xp, a, hermitian):
    """Overwrite the lower triangle of the square matrix ``a`` with its compact LDL form; returns
    (pivots, info), info the index (from 1) of the first zero 1 x 1 pivot or 0."""
    n = a.shape[0]
    herm = hermitian and a.dtype.kind == "c"
    conj = xp.conj if herm else (lambda x: x)
    piv = np.zeros(n, np.int32)
    info = 0
    k = 0
    while k < n:
        step = 1
        absakk = abs(float(a[k, k].real)) if herm else float(_abs1(xp, a[k, k]))
        colmax = 0.0
        if k < n - 1:
            col = _abs1(xp, a[k + 1 :, k])
            imax = k + 1 + int(col.argmax())
            colmax = float(col[imax - k - 1])
        if max(absakk, colmax) == 0.0 or absakk != absakk:
            if info == 0:
                info = k + 1
            p = k
            if herm:
                a[k, k] = a[k, k].real
        else:
            if absakk >= _ALPHA * colmax:
                p = k
            else:
                # the largest off-diagonal magnitude in row / column imax of the trailing matrix
                rowmax = float(_abs1(xp, a[imax, k:imax]).max())
                if imax < n - 1:
                    rowmax = max(rowmax, float(_abs1(xp, a[imax + 1 :, imax]).max()))
                aimax = abs(float(a[imax, imax].real)) if herm else float(_abs1(xp, a[imax, imax]))
                if absakk >= _ALPHA * colmax * (colmax / rowmax):
                    p = k
                elif aimax >= _ALPHA * rowmax:
                    p = imax
                else:
                    p, step = imax, 2
            kk = k + step - 1
            if p != kk:  # swap rows and columns kk and p of the trailing matrix (its lower half)
                if p < n - 1:
                    a[p + 1 :, [kk, p]] = a[p + 1 :, [p, kk]]
                seg = a[kk + 1 : p, kk].copy()
                a[kk + 1 : p, kk] = conj(a[p, kk + 1 : p])
                a[p, kk + 1 : p] = conj(seg)
                if herm:
                    a[p, kk] = xp.conj(a[p, kk])
                a[kk, kk], a[p, p] = a[p, p], a[kk, kk].copy()
                if step == 2:
                    a[k + 1, k], a[p, k] = a[p, k], a[k + 1, k].copy()
            if herm:
                a[k, k] = a[k, k].real
                if step == 2:
                    a[k + 1, k + 1] = a[k + 1, k + 1].real
            if step == 1 and k < n - 1:
                # A22 -= x d^-1 x^T, then x / d is L's column
                d_inv = 1.0 / (a[k, k].real if herm else a[k, k])
                x = a[k + 1 :, k].copy()
                a[k + 1 :, k + 1 :] += xp.outer(x, -d_inv * conj(x))
                a[k + 1 :, k] = x * d_inv
            elif step == 2 and k < n - 2:
                # A22 -= [x y] D^-1 [x y]^T for the 2 x 2 block D, written as LAPACK scales it
                x, y = a[k + 2 :, k].copy(), a[k + 2 :, k + 1].copy()
                if herm:
                    d = abs(a[k + 1, k])
                    d11, d22 = a[k + 1, k + 1].real / d, a[k, k].real / d
                    d21 = a[k + 1, k] / d
                    t = (1.0 / (d11 * d22 - 1.0)) / d
                    wk = t * (d11 * x - d21 * y)
                    wkp1 = t * (d22 * y - xp.conj(d21) * x)
                else:
                    d21 = a[k + 1, k]
                    d11, d22 = a[k + 1, k + 1] / d21, a[k, k] / d21
                    t = (1.0 / (d11 * d22 - 1.0)) / d21
                    wk = t * (d11 * x - y)
                    wkp1 = t * (d22 * y - x)
                a[k + 2 :, k + 2 :] -= xp.outer(x, conj(wk))
                a[k + 2 :, k + 2 :] -= xp.outer(y, conj(wkp1))
                a[k + 2 :, k] = wk
                a[k + 2 :, k + 1] = wkp1
                if herm:
                    idx = xp.arange(k + 2, n)
                    a[idx, idx] = a[idx, idx].real
        if step == 1:
            piv[k] = p + 1
        else:
            piv[k] = piv[k + 1] = -(p + 1)
        k += step
    return piv, info


def _factor(xp, a, hermitian):
    """(LD, pivots, info) of every matrix of the batch ``a``."""
    n = a.shape[-1]
    flat = xp.tril(a).reshape((-1, n, n)).copy()
    pivots = np.zeros((flat.shape[0], n), np.int32)
    info = np.zeros(flat.shape[0], np.int32)
    for i in range(flat.shape[0]):
        pivots[i], info[i] = _factor_one(xp, flat[i], hermitian)
    batch = a.shape[:-2]
    return xp.tril(flat).reshape(a.shape), xp.asarray(pivots.reshape(batch + (n,))), xp.asarray(info.reshape(batch))


def _no_derivative(name):
    def backward(g, *saved):
        raise NotImplementedError(f"derivative for aten::{name} is not implemented")

    return backward


LDL_FACTOR = Op(
    "linalg_ldl_factor_ex",
    lambda xp, a, hermitian: _factor(xp, a, hermitian)[0],
    _no_derivative("linalg_ldl_factor_ex"),
)


def ldl_factor_ex(A, *, hermitian=False, check_errors=False):
    """``(LD, pivots, info)``: the compact LDL factorization (see the module docstring) and, per
    matrix, the index (from 1) of the first zero 1 x 1 pivot (0 when D has none; the
    factorization is still complete, but D is singular). With ``check_errors`` a nonzero info
    raises LinAlgError."""
    _check_matrix(A, "ldl_factor_ex", square=True, complex_ok=True)
    if A.dtype.itemsize < 4:
        raise NotImplementedError(f'"ldl_factor_kernel_cpu" not implemented for {A.dtype} (shape {list(A.shape)})')
    xp = array_module(A._data)
    ld, pivots, info = _factor(xp, A._data, bool(hermitian))
    if A.requires_grad and is_grad_enabled():
        # recorded as a node (factorized again) so that a backward through it raises, as in PyTorch
        LD = apply(LDL_FACTOR, (A,), (bool(hermitian),))
    else:
        LD = Tensor._make(ld, None, False)
    if check_errors:
        _raise_singular(np.asarray(to_numpy(info)), "torch.linalg.ldl_factor_ex")
    return return_types.linalg_ldl_factor_ex(LD, Tensor._make(pivots, None, False), Tensor._make(info, None, False))


def _raise_singular(info, op):
    bad = np.flatnonzero(info.reshape(-1))
    if bad.size:
        i = int(bad[0])
        where = f"(Batch element {i}): " if info.ndim else ""
        raise LinAlgError(
            f"{op}: {where}The factorization could not be completed because the input is singular: "
            f"the 1 x 1 pivot D[{int(info.reshape(-1)[i])}] is zero."
        )


def ldl_factor(A, *, hermitian=False):
    """``(LD, pivots)``: ``ldl_factor_ex``'s factorization; a singular D raises LinAlgError."""
    LD, pivots, info = ldl_factor_ex(A, hermitian=hermitian)
    _raise_singular(np.asarray(info.cpu().numpy()), "torch.linalg.ldl_factor")
    return return_types.linalg_ldl_factor(LD, pivots)


def _solve_one(xp, ld, piv, b, herm):
    """Solve A X = b in place from A's compact LDL form (LAPACK's sytrs, lower)."""
    n = ld.shape[0]
    conj = xp.conj if herm else (lambda x: x)
    k = 0
    while k < n:  # P L D y = b, one block at a time
        if piv[k] > 0:
            p = piv[k] - 1
            b[[k, p]] = b[[p, k]]
            b[k + 1 :] -= xp.outer(ld[k + 1 :, k], b[k])
            b[k] /= ld[k, k].real if herm else ld[k, k]
            k += 1
        else:
            p = -piv[k] - 1
            b[[k + 1, p]] = b[[p, k + 1]]
            b[k + 2 :] -= xp.outer(ld[k + 2 :, k], b[k])
            b[k + 2 :] -= xp.outer(ld[k + 2 :, k + 1], b[k + 1])
            akm1k = ld[k + 1, k]
            akm1 = ld[k, k] / (akm1k.conjugate() if herm else akm1k)
            ak = ld[k + 1, k + 1] / akm1k
            denom = akm1 * ak - 1.0
            bkm1 = b[k] / (akm1k.conjugate() if herm else akm1k)
            bk = b[k + 1] / akm1k
            b[k] = (ak * bkm1 - bk) / denom
            b[k + 1] = (akm1 * bk - bkm1) / denom
            k += 2
    k = n - 1
    while k >= 0:  # L^T P^T x = y (L^H for Hermitian A)
        if piv[k] > 0:
            b[k] -= conj(ld[k + 1 :, k]) @ b[k + 1 :]
            p = piv[k] - 1
            b[[k, p]] = b[[p, k]]
            k -= 1
        else:
            b[k] -= conj(ld[k + 1 :, k]) @ b[k + 1 :]
            b[k - 1] -= conj(ld[k + 1 :, k - 1]) @ b[k + 1 :]
            p = -piv[k] - 1
            b[[k, p]] = b[[p, k]]
            k -= 2
    return b


def _solve(xp, ld, b, piv, hermitian):
    herm = hermitian and ld.dtype.kind == "c"
    n = ld.shape[-1]
    batch = b.shape[:-2]
    ld_b = xp.broadcast_to(ld, batch + (n, n)).reshape((-1, n, n))
    piv_b = np.broadcast_to(piv, batch + (n,)).reshape((-1, n))
    out = b.reshape((-1,) + b.shape[-2:]).copy()
    for i in range(out.shape[0]):
        _solve_one(xp, ld_b[i], piv_b[i], out[i], herm)
    return out.reshape(b.shape)


LDL_SOLVE = Op("linalg_ldl_solve", _solve, _no_derivative("linalg_ldl_solve"), save=())


def ldl_solve(LD, pivots, B, *, hermitian=False):
    """X with A X = B from A's ``ldl_factor`` (LD, pivots); B is (*, n, k), its batch dims
    broadcast with LD's. ``hermitian`` must be the value the factorization was made with."""
    from .._dtype import int32, int64

    op = "torch.linalg.ldl_solve"
    _check_matrix(LD, "ldl_solve", square=True, complex_ok=True)
    for name, t in (("pivots", pivots), ("B", B)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: argument '{name}' must be Tensor, not {type(t).__name__}")
    if B.dim() < 2:
        raise IndexError(f"{op}: B must have at least 2 dimensions (got shape {list(B.shape)})")
    if tuple(pivots.shape) != tuple(LD.shape[:-1]):
        raise RuntimeError(
            f"{op}: Expected LD.shape[:-1] and pivots.shape to be the same, but got pivots with shape "
            f"{list(pivots.shape)} instead"
        )
    if pivots.dtype not in (int32, int64):
        raise RuntimeError(f"{op}: Expected pivots to be integers. Got {pivots.dtype}")
    if B.dtype != LD.dtype:
        raise RuntimeError(
            f"Expected b and A to have the same dtype, but found b of type {B.dtype} and A of type {LD.dtype} instead."
        )
    n = LD.shape[-1]
    if B.shape[-2] != n:
        raise RuntimeError(
            f"Incompatible matrix sizes for {op}: each A matrix is {n} by {n} but each b matrix is "
            f"{B.shape[-2]} by {B.shape[-1]}"
        )
    batch = tuple(np.broadcast_shapes(tuple(LD.shape[:-2]), tuple(B.shape[:-2])))
    if tuple(B.shape[:-2]) != batch:
        B = B.expand(batch + tuple(B.shape[-2:]))
    piv = np.asarray(pivots.cpu().numpy()).astype(np.int64)
    return apply(LDL_SOLVE, (LD, B), (piv, bool(hermitian)))


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(ldl_factor_ex, torch=False, out=True, linalg=("ldl_factor_ex",))
declare(ldl_factor, torch=False, out=True, linalg=("ldl_factor",))
declare(ldl_solve, torch=False, out=True, linalg=("ldl_solve",))

"""Matrix functions and decompositions: inv, det, slogdet, solve, solve_triangular, cholesky,
qr, svd, eigh, and what is built on them (matrix norms, pinv, matrix_power, matrix_rank).

Every op works on the last two dims and batches over the leading ones. Forward calls the
array module's LAPACK routines; every backward is written in retrograd ops, so it can be
differentiated again. Standard results (real case), with G the incoming gradient:

    inv:       Y = A^-1              gA = -Y^T G Y^T
    det:       d = det A             gA = G d A^-T
    slogdet:   l = log|det A|        gA = G A^-T
    solve:     X = A^-1 B            gB = A^-T G,  gA = -gB X^T
    cholesky:  A = L L^T             gA = sym(L^-T Phi(L^T G) L^-1)    (Phi: lower half, diag / 2)
    qr:        A = Q R (m >= n)      gA = (GQ + Q copyltu(M)) R^-T,  M = R GR^T - GQ^T Q
    eigh:      A = V diag(w) V^T     gA = V (diag(Gw) + F o V^T GV) V^T,  F_ij = 1/(w_j - w_i)
    svd:       A = U diag(s) V^T     see _svd_vjp

A decomposition with several outputs is one node whose output packs them side by side in a
flat last dim; the public function slices them out (views), so gradients reaching any of
them meet in that node.
"""

import numpy as np

from .._tensor import Tensor
from ..backend import array_module, to_numpy
from ._registry import COMPLEX_AUTOGRAD, Op, apply
from .elementwise import where
from .indexing import tril, triu, diagonal, diag_embed
from .reduction import return_types
from ._declare import declare
from .._autocast import FLOAT32, ACTIVE as _AMP, _amp, autocast_call


class LinAlgError(RuntimeError):
    """A matrix function failed on its input (singular, not positive-definite, ...)."""


def _lapack(fn, op, shape, what):
    try:
        return fn()
    except np.linalg.LinAlgError as e:
        raise LinAlgError(f"linalg.{op}: {what} (input of shape {list(shape)}; {e})") from None


def _check_float(A, op, complex_ok=False):
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.{op}: expected a Tensor, got {type(A).__name__}")
    if A._data.dtype.kind not in ("fVc" if complex_ok else "fV"):
        kinds = "floating point or complex" if complex_ok else "floating point"
        raise RuntimeError(f"linalg.{op}: Expected a {kinds} tensor as input. Got {A.dtype}")


def _check_matrix(A, op, square=False, complex_ok=False):
    _check_float(A, op, complex_ok)
    shape = A._data.shape
    if len(shape) < 2:
        raise RuntimeError(f"linalg.{op}: The input tensor A must have at least 2 dimensions (got shape {list(shape)})")
    if square and shape[-1] != shape[-2]:
        raise RuntimeError(
            f"linalg.{op}: A must be batches of square matrices, but they are "
            f"{shape[-2]} by {shape[-1]} matrices (shape {list(shape)})"
        )


def _eye(n, like):
    from .._creation import eye

    return eye(n, dtype=like.dtype, device=like.device)


def _mat(v):
    """A batch of vectors (..., n) as rows (..., 1, n), to scale the columns of a matrix."""
    return v.unsqueeze(-2)


def _col(v):
    """A batch of vectors (..., n) as columns (..., n, 1), to scale the rows of a matrix."""
    return v.unsqueeze(-1)


# --------------------------------------------------------------------------- inv, det, slogdet
def _inv_fwd(xp, a):
    return _lapack(
        lambda: xp.linalg.inv(a), "inv", a.shape, "The input matrix is singular, the inversion could not be completed"
    )


def _inv_jvp(ts, out):
    # d A^-1 = -A^-1 dA A^-1
    return -(out @ ts[0] @ out)


INV = Op("linalg_inv", _inv_fwd, lambda g, out: -(out.mT @ g @ out.mT), jvp=_inv_jvp, save=("out",))


def inv(A):
    """The inverse of each square matrix in A."""
    if _AMP[0] and _amp.on:
        return autocast_call(inv, FLOAT32, A)
    _check_matrix(A, "inv", square=True)
    return apply(INV, (A,))


def _det_vjp(g, x, out):
    try:
        return _col(_col(g * out)) * inv(x).mT
    except LinAlgError:
        return _det_singular_vjp(g, x)


DET = Op("linalg_det", lambda xp, a: xp.linalg.det(a), _det_vjp, save=("x", "out"))


def _det_singular_vjp(g, x):
    # d det / dA = adj(A)^T, which exists for singular A too: with A = U diag(s) V^T,
    # adj(A)^T = det(U) det(V) U diag(prod_{j != i} s_j) V^T.
    U, s, Vh = svd(x, full_matrices=False)
    n = s._data.shape[-1]
    others = []
    for i in range(n):
        keep = [j for j in range(n) if j != i]
        others.append(s[..., keep].prod(-1) if keep else s[..., :0].sum(-1) + 1)
    from .shape import stack

    p = stack(others, -1)
    xp = array_module(x._data)
    sign = Tensor._make(xp.sign(xp.linalg.det(U._data) * xp.linalg.det(Vh._data)), None, False)
    return _col(_col(g * sign)) * (U * _mat(p)) @ Vh


def det(A):
    """The determinant of each square matrix in A."""
    _check_matrix(A, "det", square=True)
    return apply(DET, (A,))


def _logabsdet_fwd(xp, a):
    return xp.linalg.slogdet(a)[1]


LOGABSDET = Op("linalg_slogdet", _logabsdet_fwd, lambda g, x: _col(_col(g)) * inv(x).mT, save=("x",))


def slogdet(A):
    """(sign, log|det|) of each square matrix; exact where det itself under- or overflows."""
    _check_matrix(A, "slogdet", square=True)
    xp = array_module(A._data)
    sign = Tensor._make(xp.linalg.slogdet(A._data)[0], None, False)
    return return_types.linalg_slogdet(sign, apply(LOGABSDET, (A,)))


def logdet(A):
    """log(det A): nan where det < 0, -inf where det == 0."""
    sign, logabs = slogdet(A)
    return where(sign < 0, float("nan"), logabs)


# --------------------------------------------------------------------------- solve
def _solve_fwd(xp, a, b):
    return _lapack(
        lambda: xp.linalg.solve(a, b), "solve", a.shape, "The solver failed because the input matrix is singular"
    )


def _solve_vjp(g, needs, a, out):
    gb = solve(a.mH, g)
    ga = -(gb @ out.mH) if needs[0] else None
    return ga, (gb if needs[1] else None)


SOLVE = Op("linalg_solve", _solve_fwd, _solve_vjp, save=("x", "out"), needs=True)
COMPLEX_AUTOGRAD.add(SOLVE)  # the backward conjugates (A^H, X^H)


def solve(A, B, *, left=True):
    """X with A X = B (``left=False``: X A = B). B may be a (batch of) vector(s). Real or
    complex; the gradient is gB = A^-H G, gA = -gB X^H."""
    _check_matrix(A, "solve", square=True, complex_ok=True)
    _check_float(B, "solve", complex_ok=True)
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(
            f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
            f"{A.dtype} and B of type {B.dtype} instead"
        )
    if not left:
        return solve(A.mT, B.mT).mT
    n = A._data.shape[-1]
    vector = B._data.ndim == 1 or (B._data.ndim == A._data.ndim - 1 and B._data.shape == A._data.shape[:-1])
    b = _col(B) if vector else B
    if b._data.shape[-2] != n:
        raise RuntimeError(
            f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
            f"({A._data.shape[-2]}x{n} and {b._data.shape[-2]}x{b._data.shape[-1]}); "
            f"A has shape {list(A._data.shape)}, B has shape {list(B._data.shape)}"
        )
    from .elementwise import _operands

    a, b = _operands(A, b)
    batch = np.broadcast_shapes(a._data.shape[:-2], b._data.shape[:-2])
    if a._data.shape[:-2] != batch:
        a = a.expand(batch + a._data.shape[-2:])
    if b._data.shape[:-2] != batch:
        b = b.expand(batch + b._data.shape[-2:])
    x = apply(SOLVE, (a, b))
    return x.squeeze(-1) if vector else x


def _tri(xp, a, upper, unit):
    t = xp.triu(a) if upper else xp.tril(a)
    if unit:
        t = t.copy()
        idx = xp.arange(a.shape[-1])
        t[..., idx, idx] = 1
    return t


def _solve_tri_fwd(xp, a, b, upper, unit):
    return _lapack(
        lambda: xp.linalg.solve(_tri(xp, a, upper, unit), b),
        "solve_triangular",
        a.shape,
        "The triangular matrix is singular",
    )


def _solve_tri_vjp(g, needs, a, out, upper, unit):
    gb = solve_triangular(a.mT, g, upper=not upper, unitriangular=unit)
    ga = None
    if needs[0]:
        full = -(gb @ out.mT)
        k = 1 if unit else 0
        ga = triu(full, k) if upper else tril(full, -k)
    return ga, (gb if needs[1] else None)


SOLVE_TRI = Op("linalg_solve_triangular", _solve_tri_fwd, _solve_tri_vjp, save=("x", "out"), needs=True)


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with A X = B (``left=False``: X A = B) for triangular A; only A's ``upper`` or lower
    triangle is read (and not its diagonal when ``unitriangular``)."""
    _check_matrix(A, "solve_triangular", square=True)
    _check_matrix(B, "solve_triangular")
    if not left:
        return solve_triangular(A.mT, B.mT, upper=not upper, unitriangular=unitriangular).mT
    from .elementwise import _operands

    a, b = _operands(A, B)
    batch = np.broadcast_shapes(a._data.shape[:-2], b._data.shape[:-2])
    if a._data.shape[:-2] != batch:
        a = a.expand(batch + a._data.shape[-2:])
    if b._data.shape[:-2] != batch:
        b = b.expand(batch + b._data.shape[-2:])
    return apply(SOLVE_TRI, (a, b), (bool(upper), bool(unitriangular)))


# --------------------------------------------------------------------------- cholesky
def _cholesky_fwd(xp, a):
    return _lapack(
        lambda: xp.linalg.cholesky(a),
        "cholesky",
        a.shape,
        "The factorization could not be completed because the input is not positive-definite",
    )


def _cholesky_vjp(g, L):
    phi = tril(L.mT @ g)
    phi = phi - diag_embed(diagonal(phi, 0, -2, -1)) * 0.5
    s = solve_triangular(L, solve_triangular(L.mT, phi, upper=True), upper=False, left=False)
    return (s + s.mT) * 0.5


CHOLESKY = Op("linalg_cholesky", _cholesky_fwd, _cholesky_vjp, save=("out",))


def cholesky(A, *, upper=False):
    """L (lower, or U = L^T with ``upper``) with A = L L^T, for symmetric positive-definite A
    (only the lower triangle of A is read)."""
    if _AMP[0] and _amp.on:
        return autocast_call(cholesky, FLOAT32, A, upper=upper)
    _check_matrix(A, "cholesky", square=True)
    L = apply(CHOLESKY, (A,))
    return L.mT if upper else L


# --------------------------------------------------------------------------- packed outputs
def _pack(xp, *arrays):
    batch = arrays[0].shape[:-2] if arrays[0].ndim >= 2 else arrays[0].shape[:-1]
    return xp.concatenate([a.reshape(batch + (-1,)) for a in arrays], axis=-1)


def _unpack(t, shapes):
    """Slices of the packed tensor ``t`` reshaped to ``shapes`` (trailing shapes)."""
    out, start = [], 0
    batch = t._data.shape[:-1]
    for s in shapes:
        n = int(np.prod(s)) if s else 1
        out.append(t[..., start : start + n].reshape(batch + tuple(s)))
        start += n
    return out


# --------------------------------------------------------------------------- qr
def _qr_fwd(xp, a, mode, shapes):
    q, r = xp.linalg.qr(a, mode=mode)
    return _pack(xp, q, r)


def _copyltu(m):
    """The symmetric matrix with m's lower triangle (and diagonal)."""
    return tril(m) + tril(m, -1).mT


def _qr_square_tall_vjp(gQ, gR, Q, R):
    M = R @ gR.mT - gQ.mT @ Q
    b = gQ + Q @ _copyltu(M)
    return solve_triangular(R.mT, b, upper=False, left=False)


def _qr_vjp(g, out, mode, shapes):
    (m, k), (_, n) = shapes
    Q, R = _unpack(out, shapes)
    gQ, gR = _unpack(g, shapes)
    if mode == "complete" and m > n:
        raise NotImplementedError(
            "linalg.qr: the derivative of mode='complete' is not defined when "
            f"nrows > ncols (input {m}x{n}); use mode='reduced'"
        )
    if m >= n:
        return _qr_square_tall_vjp(gQ, gR, Q, R)
    # wide: A = [X | Y] with X square, R = [U | V]; X = Q U, Y = Q V
    from .shape import cat

    U, V = R[..., :, :m], R[..., :, m:]
    gU, gV = gR[..., :, :m], gR[..., :, m:]
    Y = Q @ V
    gX = _qr_square_tall_vjp(gQ + Y @ gV.mT, gU, Q, U)
    return cat([gX, Q @ gV], -1)


QR = Op("linalg_qr", _qr_fwd, _qr_vjp, save=("out",))


def qr(A, mode="reduced"):
    """(Q, R) with A = Q R, Q orthonormal columns, R upper triangular. ``mode``: 'reduced'
    (k = min(m, n) columns), 'complete' (square Q) or 'r' (R only; Q is empty)."""
    if _AMP[0] and _amp.on:
        return autocast_call(qr, FLOAT32, A, mode)
    _check_matrix(A, "qr")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(
            f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', or 'complete'"
        )
    m, n = A._data.shape[-2:]
    k = min(m, n)
    qcols = m if mode == "complete" else k
    rrows = m if mode == "complete" else k
    shapes = ((m, qcols), (rrows, n))
    packed = apply(QR, (A,), ("complete" if mode == "complete" else "reduced", shapes))
    Q, R = _unpack(packed, shapes)
    if mode == "r":
        from .._creation import empty

        Q = empty(0, dtype=A.dtype, device=A.device)
    return return_types.linalg_qr(Q, R)


# --------------------------------------------------------------------------- eigh
def _eigh_fwd(xp, a, uplo, shapes):
    w, v = xp.linalg.eigh(a, UPLO=uplo)
    return _pack(xp, w[..., None, :], v)


def _off_diag_inverse(d):
    """F_ij = 1 / d_ij off the diagonal, 0 on it (d is a batch of square matrices)."""
    n = d._data.shape[-1]
    on = _eye(n, d).to(bool) if n else _eye(n, d) > 0
    return where(on, 0.0, 1.0 / where(on, 1.0, d))


def _eigh_vjp(g, out, uplo, shapes):
    w, V = _unpack(out, shapes)
    gw, gV = _unpack(g, shapes)
    w, gw = w.squeeze(-2), gw.squeeze(-2)
    F = _off_diag_inverse(_mat(w) - _col(w))
    inner = diag_embed(gw) + F * (V.mT @ gV)
    return V @ inner @ V.mT


EIGH = Op("linalg_eigh", _eigh_fwd, _eigh_vjp, save=("out",))


def eigh(A, UPLO="L"):
    """(eigenvalues ascending, eigenvectors as columns) of symmetric A, reading its lower
    (``UPLO='L'``) or upper triangle. The gradient assumes distinct eigenvalues and a loss
    that does not depend on the eigenvectors' signs."""
    _check_matrix(A, "eigh", square=True)
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"linalg.eigh: Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    n = A._data.shape[-1]
    shapes = ((1, n), (n, n))
    packed = apply(EIGH, (A,), (UPLO, shapes))
    w, V = _unpack(packed, shapes)
    return return_types.linalg_eigh(w.squeeze(-2), V)


def eigvalsh(A, UPLO="L"):
    return eigh(A, UPLO).eigenvalues


# --------------------------------------------------------------------------- eig
def _complex_of(dtype):
    """The complex NumPy dtype holding ``dtype``'s values (float32 -> complex64, ...)."""
    return np.result_type(dtype, np.complex64)


def _eig_fwd(xp, a, shapes):
    if hasattr(xp.linalg, "eig"):
        w, v = xp.linalg.eig(a)  # LAPACK's geev: each eigenvector has 2-norm 1
    else:  # an array module without a general eigensolver (older CuPy): on the host, moved back
        w, v = np.linalg.eig(to_numpy(a))
        w, v = xp.asarray(w), xp.asarray(v)
    c = _complex_of(a.dtype)
    return _pack(xp, w[..., None, :].astype(c, copy=False), v.astype(c, copy=False))


def _eig_vjp(g, out, shapes):
    # With E_ij = L_j - L_i (i != j) and M = V^H gV:
    #   gA = V^-H (diag(gL) + (M - V^H V diag(Re M_ii)) / conj(E)) V^H, the quotient off the diagonal.
    # A loss that sees the phase of an eigenvector has Im M_ii != 0 and no gradient.
    from .complex import conj, imag, real

    L, V = _unpack(out, shapes)
    gL, gV = _unpack(g, shapes)
    L, gL = L.squeeze(-2), gL.squeeze(-2)
    eye = _eye(L._data.shape[-1], V)
    Vh = V.mH
    M = Vh @ gV
    M_ii = (M * eye).sum(-1)
    if bool((imag(M_ii).detach().abs() > 1e-2).any()):
        raise RuntimeError(
            "linalg_eig_backward: The eigenvectors in the complex case are specified up to multiplication "
            "by e^{i phi}. The specified loss function depends on this quantity, so it is ill-defined."
        )
    M = M - Vh @ (V * _mat(real(M_ii)))
    E = conj(_mat(L) - _col(L)) + eye  # 1 on the diagonal, which is then replaced by gL
    inner = M / E * (1 - eye) + eye * _mat(gL)
    return solve(Vh, inner @ Vh)


EIG = Op("linalg_eig", _eig_fwd, _eig_vjp, save=("out",))
COMPLEX_AUTOGRAD.add(EIG)


def _check_eig_input(A, op):
    _check_matrix(A, op, square=True, complex_ok=True)
    if A.dtype.itemsize < 4:
        raise NotImplementedError(f'"linalg_{op}" not implemented for {A.dtype} (input of shape {list(A.shape)})')
    if not bool(array_module(A._data).isfinite(A._data).all()):
        raise RuntimeError(f"torch.linalg.{op}: input tensor should not contain infs or NaNs.")


def eig(A):
    """(eigenvalues, eigenvectors) of general square matrices: A V = V diag(L), complex for
    real A too (complex64 or complex128), each eigenvector (column of V) of norm 1; neither
    is sorted. An eigenvector is defined up to a factor e^{i phi}: the gradient assumes
    distinct eigenvalues and a loss that does not depend on that phase (backward raises
    when it does, as PyTorch's)."""
    _check_eig_input(A, "eig")
    n = A._data.shape[-1]
    shapes = ((1, n), (n, n))
    L, V = _unpack(apply(EIG, (A,), (shapes,)), shapes)
    return return_types.linalg_eig(L.squeeze(-2), V)


def eigvals(A):
    """The eigenvalues of general square matrices (complex, unsorted): ``eig(A).eigenvalues``,
    with its gradient."""
    _check_eig_input(A, "eigvals")
    return eig(A).eigenvalues


# --------------------------------------------------------------------------- svd
def _svd_fwd(xp, a, full, shapes):
    u, s, vh = xp.linalg.svd(a, full_matrices=full)
    return _pack(xp, u, s[..., None, :], vh)


def _svd_vjp(g, out, full, shapes):
    # With k = min(m, n), S = diag(s), F_ij = 1 / (s_j^2 - s_i^2) off the diagonal:
    #   J = F o (U^T gU - gU^T U),  K = F o (V^T gV - gV^T V)
    #   gA = U (diag(gs) + J S + S K) V^T + (I - U U^T) gU S^-1 V^T + U S^-1 gV^T (I - V V^T)
    (m, k), _, (_, n) = shapes
    if full and m != n:
        raise NotImplementedError(
            "linalg.svd: the derivative with full_matrices=True is only "
            f"defined for square matrices (input {m}x{n}); use "
            f"full_matrices=False"
        )
    U, s, Vh = _unpack(out, shapes)
    gU, gs, gVh = _unpack(g, shapes)
    s, gs = s.squeeze(-2), gs.squeeze(-2)
    V, gV = Vh.mT, gVh.mT
    F = _off_diag_inverse(_mat(s * s) - _col(s * s))
    UtgU = U.mT @ gU
    VtgV = V.mT @ gV
    J = F * (UtgU - UtgU.mT)
    K = F * (VtgV - VtgV.mT)
    inner = diag_embed(gs) + J * _mat(s) + _col(s) * K
    gA = U @ inner @ Vh
    if m > k:
        gA = gA + ((gU - U @ UtgU) / _mat(s)) @ Vh
    if n > k:
        gA = gA + U @ ((gV.mT - VtgV.mT @ V.mT) / _col(s))
    return gA


SVD = Op("linalg_svd", _svd_fwd, _svd_vjp, save=("out",))


def svd(A, full_matrices=True, *, driver=None):
    """(U, S, Vh) with A = U diag(S) Vh, S descending. The gradient assumes distinct singular
    values and a loss that does not depend on the singular vectors' signs."""
    if _AMP[0] and _amp.on:
        return autocast_call(svd, FLOAT32, A, full_matrices, driver=driver)
    _check_matrix(A, "svd")
    m, n = A._data.shape[-2:]
    k = min(m, n)
    shapes = ((m, m if full_matrices else k), (1, k), (n if full_matrices else k, n))
    packed = apply(SVD, (A,), (bool(full_matrices), shapes))
    U, S, Vh = _unpack(packed, shapes)
    return return_types.linalg_svd(U, S.squeeze(-2), Vh)


def svdvals(A, *, driver=None):
    """The singular values of A, descending."""
    return svd(A, full_matrices=False).S


# --------------------------------------------------------------------------- built on the above
def matrix_power(A, n):
    """A @ A @ ... (n times); n = 0 gives the identity, n < 0 powers of inv(A)."""
    shape = A._data.shape
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices (got shape {list(shape)})")
    n = int(n)
    if n == 0:
        # The identity, as a fresh tensor in A's graph with a zero gradient (PyTorch's result
        # requires grad too): where() picks the identity everywhere without arithmetic on A.
        from .._creation import eye, zeros

        e = eye(shape[-1], dtype=A.dtype, device=A.device).expand(shape)
        return where(zeros(shape, dtype=bool, device=A.device), A, e)
    if n < 0:
        A, n = inv(A), -n
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return result


def _tolerance(s, atol, rtol, m, n):
    """max(atol, rtol * s_max) per matrix, as a constant (..., 1) tensor. Without rtol it is
    eps * max(m, n), or 0 when a positive atol is given (PyTorch's rule)."""
    a = s._data
    xp = array_module(a)
    smax = a.max(axis=-1, keepdims=True) if a.shape[-1] else xp.zeros(a.shape[:-1] + (1,), a.dtype)
    atol = 0.0 if atol is None else (atol._data[..., None] if isinstance(atol, Tensor) else atol)
    if rtol is None:
        rtol = np.finfo(a.dtype).eps * max(m, n) if np.all(np.asarray(atol) <= 0) else 0.0
    elif isinstance(rtol, Tensor):
        rtol = rtol._data[..., None]
    return Tensor._make(xp.maximum(atol, rtol * smax).astype(a.dtype), None, False)


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """The Moore-Penrose pseudo-inverse, V diag(1/s) U^T over the singular values above
    max(atol, rtol * s_max)."""
    if _AMP[0] and _amp.on:
        return autocast_call(pinv, FLOAT32, A, atol=atol, rtol=rtol, hermitian=hermitian)
    _check_matrix(A, "pinv")
    m, n = A._data.shape[-2:]
    U, s, Vh = svd(A, full_matrices=False)
    keep = s > _tolerance(s, atol, rtol, m, n)
    s_inv = where(keep, 1.0 / where(keep, s, 1.0), 0.0)
    return Vh.mT @ (_col(s_inv) * U.mT)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    """The number of singular values above max(atol, rtol * s_max) (int64, no gradient)."""
    _check_matrix(A, "matrix_rank")
    m, n = A._data.shape[-2:]
    s = Tensor._make(array_module(A._data).linalg.svd(A._data, compute_uv=False), None, False)
    return (s > _tolerance(s, atol, rtol, m, n)).sum(-1)


_LSTSQ_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def lstsq(A, B, rcond=None, *, driver=None):
    r"""Least squares: the X minimising :math:`\|A X - B\|_F` for A of shape (*, m, n) and B of
    shape (*, m, k) (or (*, m): one right-hand side; the batch dims broadcast), the one of least
    norm when several do (A wide or rank-deficient). Returns ``(solution, residuals, rank,
    singular_values)`` as PyTorch does:

    - ``driver="gels"`` assumes A has full rank and solves through QR: of A when m >= n
      (:math:`X = R^{-1} Q^T B`), of :math:`A^T` when m < n (:math:`X = Q R^{-T} B`).
    - ``"gelsy"`` (the default), ``"gelsd"`` and ``"gelss"`` find the rank: singular values at
      most ``rcond`` times the largest count as zero (``rcond`` defaults to the dtype's eps
      times max(m, n)), and :math:`X = A^+ B` over the rest. (LAPACK's gelsy finds the rank from
      a pivoted QR instead; the threshold is the same.)
    - ``residuals`` is :math:`\|A X - B\|^2` per column, shape (*, k), when m > n, the driver
      is not gelsy and every A has full rank; else empty. ``rank`` (int64, shape (*)) comes from
      gelsy, gelsd and gelss, ``singular_values`` (shape (*, min(m, n))) from gelsd and gelss;
      empty otherwise. Gradients reach A and B through the solution and residuals."""
    op = "torch.linalg.lstsq"
    for t in (A, B):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected Tensors, got {type(t).__name__}")
    if A._data.ndim < 2:
        raise RuntimeError(f"{op}: input must have at least 2 dimensions (got shape {list(A.shape)}).")
    if B._data.ndim < 1:
        raise RuntimeError(f"{op}: other must have at least 1 dimension (got shape {list(B.shape)}).")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(
            f"{op}: Expected input and other to have the same dtype, but got input's dtype {A.dtype} and "
            f"other's dtype {B.dtype}"
        )
    _check_float(A, "lstsq")
    driver = "gelsy" if driver is None else driver
    if driver not in _LSTSQ_DRIVERS:
        raise RuntimeError(f"{op}: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    vector = B._data.ndim == 1 or B._data.ndim == A._data.ndim - 1
    if vector:
        B = B.unsqueeze(-1)
    m, n = A._data.shape[-2:]
    if B._data.shape[-2] != m:
        raise RuntimeError(
            f"{op}: input.size(-2) should match other.size(-2) (shapes {list(A.shape)}, {list(B.shape)})"
        )
    from .shape import broadcast_shapes

    batch = tuple(broadcast_shapes(A._data.shape[:-2], B._data.shape[:-2]))
    A = A.expand(batch + (m, n))
    B = B.expand(batch + B._data.shape[-2:])
    xp = array_module(A._data)
    real = A._data.real.dtype
    empty_real = Tensor._make(xp.empty((0,), real), None, False)
    if driver == "gels":
        if m >= n:
            Q, R = qr(A)
            X = solve_triangular(R, Q.mT @ B, upper=True)
        else:
            Q, R = qr(A.mT)
            X = Q @ solve_triangular(R.mT, B, upper=False)
        rank = Tensor._make(xp.empty((0,), np.int64), None, False)
        full_rank = True
    else:
        X = pinv(A, rtol=rcond) @ B
        rank = matrix_rank(A, rtol=rcond)
        full_rank = bool((rank._data == n).all())
    if driver in ("gelsd", "gelss"):
        S = Tensor._make(xp.linalg.svd(A._data, compute_uv=False), None, False)
    else:
        S = empty_real
    if m > n and driver != "gelsy" and full_rank:
        residuals = ((A @ X - B).abs() ** 2).sum(-2)
    else:
        residuals = empty_real
    if vector:
        X = X.squeeze(-1)
    return return_types.linalg_lstsq(X, residuals, rank, S)


def _matrix_dims(A, dim, op):
    from .._tensor import _wrap_dim

    if len(dim) != 2:
        raise RuntimeError(f"linalg.{op}: dim must be a 2-tuple. Got {tuple(dim)}")
    d0, d1 = (_wrap_dim(d, A._data.ndim, op) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.{op}: dims must be different. Got ({dim[0]}, {dim[1]})")
    return d0, d1


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """Frobenius ('fro'), nuclear ('nuc'), max/min singular value (2, -2), max/min absolute
    column sum (1, -1) or row sum (inf, -inf) over the matrices in dims ``dim``."""
    from .reduction import vector_norm, amax, amin
    from .elementwise import abs as _abs

    if dtype is not None:
        A = A.to(dtype)
    _check_matrix(A, "matrix_norm")
    d0, d1 = _matrix_dims(A, dim, "matrix_norm")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    inf = float("inf")
    if ord in ("nuc", 2, -2):
        s = svdvals(A.movedim((d0, d1), (-2, -1)))
        r = s.sum(-1) if ord == "nuc" else s.amax(-1) if ord == 2 else s.amin(-1)
        if keepdim:
            for d in sorted((d0, d1)):
                r = r.unsqueeze(d)
        return r
    if ord in (1, -1, inf, -inf):
        summed, reduced = (d0, d1) if ord in (1, -1) else (d1, d0)
        sums = _abs(A).sum(summed, keepdim=True)
        r = (amax if ord > 0 else amin)(sums, reduced, keepdim=True)
        return r if keepdim else r.squeeze((d0, d1))
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """A vector norm (dim an int, or 1-D input) or a matrix norm (dim a 2-tuple, or 2-D
    input with ``ord``); without ord and dim, the 2-norm of all elements."""
    from .reduction import vector_norm

    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None:
        if len(dim) == 1:
            return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A._data.ndim == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    if A._data.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    raise RuntimeError(
        f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A._data.ndim}D."
    )


def cond(A, p=None):
    """The condition number: s_max / s_min (p=None or 2), or norm(A, p) * norm(inv(A), p)."""
    if p is None or p in (2, -2):
        s = svdvals(A)
        r = s.amax(-1) / s.amin(-1)
        return 1.0 / r if p == -2 else r
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


# --------------------------------------------------------------------------- torch.* legacy forms
def svd_legacy(input, some=True, compute_uv=True):
    """torch.svd: (U, S, V) with V (not V^T); ``some=False`` gives square U and V."""
    U, S, Vh = svd(input, full_matrices=not some)
    if not compute_uv:
        from .._creation import zeros

        m, n = input._data.shape[-2:]
        bs = input._data.shape[:-2]
        return return_types.svd(
            zeros(bs + (m, m if not some else min(m, n)), dtype=input.dtype),
            S,
            zeros(bs + (n, n if not some else min(m, n)), dtype=input.dtype),
        )
    return return_types.svd(U, S, Vh.mT)


def qr_legacy(input, some=True):
    """torch.qr: (Q, R), reduced unless ``some=False``."""
    Q, R = qr(input, "reduced" if some else "complete")
    return return_types.qr(Q, R)


def cholesky_legacy(input, upper=False):
    return cholesky(input, upper=upper)


def pinverse(input, rcond=1e-15):
    """torch.pinverse: pinv with singular values below rcond * s_max dropped."""
    if _AMP[0] and _amp.on:
        return autocast_call(pinverse, FLOAT32, input, rcond)
    return pinv(input, rtol=rcond)


def slogdet_legacy(input):
    sign, logabsdet = slogdet(input)
    return return_types.slogdet(sign, logabsdet)


def _check_rhs(A, B, op):
    if A.dim() < 2 or B.dim() < 2 or A.shape[-1] != A.shape[-2] or A.shape[-1] != B.shape[-2]:
        raise RuntimeError(
            f"Incompatible matrix sizes for {op}: each A matrix is {A.shape[-2] if A.dim() > 1 else '?'} by "
            f"{A.shape[-1]} but each b matrix is {B.shape[-2] if B.dim() > 1 else '?'} by {B.shape[-1]}"
        )


def cholesky_solve(input, input2, upper=False):
    """X with A X = ``input`` for A = L L^T given its Cholesky factor L = ``input2`` (U^T U with
    ``upper``): two triangular solves, batched with broadcasting."""
    _check_rhs(input2, input, "cholesky_solve")
    if upper:
        y = solve_triangular(input2.mT, input, upper=False)
        return solve_triangular(input2, y, upper=True)
    y = solve_triangular(input2, input, upper=False)
    return solve_triangular(input2.mT, y, upper=True)


def cholesky_inverse(input, upper=False):
    """(L L^T)^-1 (or (U^T U)^-1 with ``upper``) from the Cholesky factor ``input``."""
    if input.dim() < 2 or input.shape[-1] != input.shape[-2]:
        raise RuntimeError(
            f"cholesky_inverse: A must be batches of square matrices, but they are "
            f"{input.shape[-2] if input.dim() > 1 else 1} by {input.shape[-1] if input.dim() else 1} matrices"
        )
    return cholesky_solve(_eye(input.shape[-1], input).expand(input.shape), input, upper=upper)


def triangular_solve(input, A, upper=True, transpose=False, unitriangular=False):
    """The older spelling of ``linalg.solve_triangular(A, input)`` (arguments reversed; A^T X =
    ``input`` with ``transpose``), returning ``(solution, cloned_coefficient)`` with a copy of A."""
    _check_rhs(A, input, "triangular_solve")
    coefficient = A.mT if transpose else A
    x = solve_triangular(coefficient, input, upper=upper != transpose, unitriangular=unitriangular)
    return return_types.triangular_solve(x, A.clone())


def lu(A, pivot=True, get_infos=False):
    """The LU factorization with partial pivoting of (a batch of) m x n matrices, in LAPACK's
    packed form: (LU, pivots) with L's strict lower part and U in LU, and pivots (int32,
    1-based) saying row i was swapped with row pivots[i]; with ``get_infos`` also the index (from
    1) of the first zero pivot, 0 when there is none. Computed by Gaussian elimination in
    differentiable ops (the pivots chosen on the values), so gradients flow to A."""
    from .. import _dtype
    from .._creation import arange, tensor
    from .indexing import gather
    from .shape import cat

    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    _check_matrix(A, "lu")
    m, n = A.shape[-2], A.shape[-1]
    batch = tuple(A.shape[:-2])
    k_max = min(m, n)
    pivots = np.zeros(batch + (k_max,), dtype=np.int32)
    info = np.zeros(batch, dtype=np.int32)
    rows = np.broadcast_to(np.arange(m), batch + (m,)).copy()
    X = A
    for k in range(k_max):
        col = np.abs(np.asarray(X.detach().cpu().numpy())[..., k:, k])
        p = col.argmax(-1) + k
        pivots[..., k] = p + 1
        info = np.where((info == 0) & (col.max(-1, initial=0) == 0), k + 1, info)
        perm = np.broadcast_to(np.arange(m), batch + (m,)).copy()
        idx = np.indices(batch) if batch else ()
        perm[(*idx, np.full(batch, k, dtype=np.int64))] = p
        perm[(*idx, p)] = k
        rows = np.take_along_axis(rows, perm, -1)
        X = gather(X, -2, tensor(perm, dtype=_dtype.int64, device=A.device).unsqueeze(-1).expand(batch + (m, n)))
        pivot_row = X[..., k : k + 1, :]
        d = X[..., k, k].unsqueeze(-1)
        safe = d + (d.detach() == 0).to(d.dtype)  # a zero pivot leaves its column as it is
        factors = X[..., k + 1 :, k] / safe
        lower = X[..., k + 1 :, :] - factors.unsqueeze(-1) * pivot_row
        mask = (arange(n, device=A.device) == k).to(X.dtype)
        lower = lower * (1 - mask) + factors.unsqueeze(-1) * mask  # column k holds the multipliers
        keep = (arange(n, device=A.device) < k).to(X.dtype)
        lower = X[..., k + 1 :, :] * keep + lower * (1 - keep)
        X = cat([X[..., : k + 1, :], lower], -2)
    piv = tensor(pivots, dtype=_dtype.int32, device=A.device)
    if get_infos:
        return return_types._lu_with_info(X, piv, tensor(info, dtype=_dtype.int32, device=A.device))
    return X, piv


def _lu_rows(LU_pivots, m):
    """The row order the pivots' swaps give (P^T A = A[rows])."""
    piv = np.asarray(LU_pivots.detach().cpu().numpy()).astype(np.int64) - 1
    batch = piv.shape[:-1]
    rows = np.broadcast_to(np.arange(m), batch + (m,)).copy()
    idx = np.indices(batch) if batch else ()
    for k in range(piv.shape[-1]):
        a = rows[(*idx, np.full(batch, k, dtype=np.int64))].copy()
        b = rows[(*idx, piv[..., k])].copy()
        rows[(*idx, np.full(batch, k, dtype=np.int64))] = b
        rows[(*idx, piv[..., k])] = a
    return rows


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """(P, L, U) with A = P L U from ``lu``'s packed result: L unit lower triangular (m x k), U
    upper triangular (k x n), P the permutation matrix of the pivots; an empty tensor for the
    parts not asked for."""
    from .._creation import empty, eye, tensor

    m, n = LU_data.shape[-2], LU_data.shape[-1]
    k = min(m, n)
    if unpack_data:
        L = LU_data[..., :, :k].tril(-1) + eye(m, k, dtype=LU_data.dtype, device=LU_data.device)
        U = LU_data[..., :k, :].triu()
    else:
        L = U = empty(0, dtype=LU_data.dtype, device=LU_data.device)
    if unpack_pivots:
        rows = _lu_rows(LU_pivots, m)
        P = np.zeros(rows.shape + (m,))
        np.put_along_axis(P, rows[..., None], 1.0, -1)  # P^T has a 1 at (i, rows[i])
        P = tensor(np.swapaxes(P, -1, -2), dtype=LU_data.dtype, device=LU_data.device)
    else:
        P = empty(0, dtype=LU_data.dtype, device=LU_data.device)
    return return_types.lu_unpack(P, L, U)


def lu_solve(input, LU_data, LU_pivots):
    """X with A X = ``input`` from A's ``lu`` factorization: two triangular solves on the
    permuted right-hand side."""
    from .. import _dtype
    from .._creation import tensor
    from .indexing import gather

    _check_rhs(LU_data, input, "lu_solve")
    n = LU_data.shape[-1]
    rows = tensor(_lu_rows(LU_pivots, n), dtype=_dtype.int64, device=input.device)
    batch = tuple(np.broadcast_shapes(tuple(input.shape[:-2]), tuple(rows.shape[:-1])))
    b = input.expand(batch + tuple(input.shape[-2:]))
    b = gather(b, -2, rows.expand(batch + (n,)).unsqueeze(-1).expand(batch + tuple(input.shape[-2:])))
    y = solve_triangular(LU_data, b, upper=False, unitriangular=True)
    return solve_triangular(LU_data, y, upper=True)


# --------------------------------------------------------------------------- the _ex forms
# They report failures in ``info`` (int32, one per matrix, 0 for success) instead of raising. A
# failed matrix's result is undefined in PyTorch (LAPACK's partial output); here it is NaN, and
# the others are computed by the differentiable op on a batch where the failed ones are I.
def _cholesky_info(a):
    """Per matrix: 0, or the order (from 1) of the first leading minor that is not positive-definite."""
    flat = a.reshape((-1,) + a.shape[-2:])
    info = np.zeros(flat.shape[0], np.int32)
    for i, m in enumerate(flat):
        try:
            np.linalg.cholesky(m)
        except np.linalg.LinAlgError:
            info[i] = next(k for k in range(1, m.shape[-1] + 1) if not _is_pd(m[:k, :k]))
    return info.reshape(a.shape[:-2])


def _is_pd(m):
    try:
        np.linalg.cholesky(m)
    except np.linalg.LinAlgError:
        return False
    return True


def _with_failures(A, info, fn):
    """``fn`` on A with the matrices whose ``info`` is nonzero replaced by I, those results NaN."""
    from .. import _dtype
    from .._creation import tensor

    bad = tensor(info != 0, dtype=_dtype.bool, device=A.device)
    if not bool(bad.any()):
        return fn(A)
    n = A.shape[-1]
    safe = where(bad[..., None, None], _eye(n, A).expand(A.shape), A)
    out = fn(safe)
    nan_mask = bad.reshape(bad.shape + (1,) * (out.dim() - bad.dim()))
    return where(nan_mask, float("nan"), out)


def _first_failure(info):
    flat = np.asarray(info).reshape(-1)
    bad = np.flatnonzero(flat)
    return (int(bad[0]), int(flat[bad[0]])) if bad.size else None


def cholesky_ex(A, *, upper=False, check_errors=False):
    """``(L, info)``: ``cholesky`` that reports, per matrix, the order of the first leading minor
    that is not positive-definite in ``info`` (0: factorized) instead of raising; with
    ``check_errors`` a failure raises LinAlgError."""
    from .. import _dtype
    from .._creation import tensor

    _check_matrix(A, "cholesky_ex", square=True)
    info = _cholesky_info(np.asarray(A.detach().cpu().numpy()))
    failed = _first_failure(info)
    if check_errors and failed is not None:
        where_ = f"(Batch element {failed[0]}): " if A.dim() > 2 else ""
        raise LinAlgError(
            f"linalg.cholesky_ex: {where_}The factorization could not be completed because the input is not "
            f"positive-definite (the leading minor of order {failed[1]} is not positive-definite)."
        )
    L = _with_failures(A, info, lambda a: cholesky(a, upper=upper))
    return return_types.linalg_cholesky_ex(L, tensor(info, dtype=_dtype.int32, device=A.device))


def _lu_info(A):
    return np.asarray(lu(A.detach(), get_infos=True)[2].cpu().numpy())


def inv_ex(A, *, check_errors=False):
    """``(inverse, info)``: ``inv`` that reports a singular matrix in ``info`` (the index, from 1,
    of the first zero pivot of its LU factorization) instead of raising; with ``check_errors``
    it raises LinAlgError."""
    from .. import _dtype
    from .._creation import tensor

    _check_matrix(A, "inv_ex", square=True)
    info = _lu_info(A)
    failed = _first_failure(info)
    if check_errors and failed is not None:
        where_ = f"(Batch element {failed[0]}): " if A.dim() > 2 else ""
        raise LinAlgError(
            f"linalg.inv_ex: {where_}The diagonal element {failed[1]} is zero, the inversion could not be "
            f"completed because the input matrix is singular."
        )
    return return_types.linalg_inv_ex(_with_failures(A, info, inv), tensor(info, dtype=_dtype.int32, device=A.device))


def solve_ex(A, B, *, left=True, check_errors=False):
    """``(result, info)``: ``solve`` that reports a singular A in ``info`` (as ``inv_ex``) instead
    of raising; with ``check_errors`` it raises LinAlgError."""
    from .. import _dtype
    from .._creation import tensor

    _check_matrix(A, "solve_ex", square=True)
    info = _lu_info(A)
    failed = _first_failure(info)
    if check_errors and failed is not None:
        where_ = f"(Batch element {failed[0]}): " if A.dim() > 2 else ""
        raise LinAlgError(f"torch.linalg.solve_ex: {where_}The solver failed because the input matrix is singular.")
    if failed is None:
        result = solve(A, B, left=left)
    else:
        bad = tensor(info != 0, dtype=_dtype.bool, device=A.device)
        safe = where(bad[..., None, None], _eye(A.shape[-1], A).expand(A.shape), A)
        result = solve(safe, B, left=left)
        vector = B.dim() == 1 or (B.dim() == A.dim() - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
        result = where(bad.reshape(bad.shape + (1,) * (1 if vector else 2)), float("nan"), result)
    return return_types.linalg_solve_ex(result, tensor(info, dtype=_dtype.int32, device=A.device))


def linalg_lu_factor_ex(A, *, pivot=True, check_errors=False):
    """``(LU, pivots, info)``: ``lu``'s packed factorization and, per matrix, the index (from 1)
    of the first zero pivot U[k, k] (0 when there is none); with ``check_errors`` a zero pivot
    is a RuntimeError."""
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    LU, pivots, info = lu(A, get_infos=True)
    if check_errors:
        _raise_zero_pivot(info, "torch.linalg.lu_factor_ex")
    return return_types.linalg_lu_factor_ex(LU, pivots, info)


def _raise_zero_pivot(info, op):
    bad = np.flatnonzero(np.asarray(info.cpu().numpy()).reshape(-1))
    if bad.size:
        i = int(bad[0])
        k = int(np.asarray(info.cpu().numpy()).reshape(-1)[i]) - 1
        where = f"(Batch element {i}): " if info.dim() else ""
        raise RuntimeError(
            f"{op}: {where}U[{k + 1},{k + 1}] is zero and using it on lu_solve would result in a division by zero. "
            f"If you still want to perform the factorization, consider calling linalg.lu(A, pivot) or "
            f"linalg.lu_factor_ex(A, pivot)"
        )


def linalg_lu_factor(A, *, pivot=True):
    """``(LU, pivots)`` with A = P L U packed as ``lu`` gives it; a zero pivot is a RuntimeError
    (``lu_factor_ex`` reports it instead)."""
    LU, pivots, info = linalg_lu_factor_ex(A, pivot=pivot)
    _raise_zero_pivot(info, "torch.linalg.lu_factor")
    return return_types.linalg_lu_factor(LU, pivots)


def linalg_lu(A, *, pivot=True):
    """``(P, L, U)`` with A = P L U: P a permutation matrix, L unit lower triangular (m x k), U
    upper triangular (k x n), k = min(m, n)."""
    LU, pivots, _ = linalg_lu_factor_ex(A, pivot=pivot)
    P, L, U = lu_unpack(LU, pivots)
    return return_types.linalg_lu(P, L, U)


def linalg_lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """X with A X = B from A's ``lu_factor`` (``adjoint``: A^T X = B; ``left=False``: X A = B
    or X A^T = B). With A = P L U, A^T X = B is U^T L^T P^T X = B: two triangular solves, then
    the rows put back in P's order."""
    from .. import _dtype
    from .._creation import tensor
    from .indexing import gather

    if B.dim() < 2:
        raise RuntimeError("linalg.lu_solve: The input tensor B must have at least 2 dimensions.")
    if not left:
        return linalg_lu_solve(LU, pivots, B.mT, adjoint=not adjoint).mT
    if not adjoint:
        return lu_solve(B, LU, pivots)
    _check_rhs(LU, B, "lu_solve")
    n = LU.shape[-1]
    y = solve_triangular(LU.mT, B, upper=False)  # U^T y = B
    z = solve_triangular(LU.mT, y, upper=True, unitriangular=True)  # L^T z = y
    # X = P z, where (P^T X)[i] = X[rows[i]]: so X[rows[i]] = z[i], X = z[argsort(rows)]
    order = np.argsort(_lu_rows(pivots, n), axis=-1)
    idx = tensor(order, dtype=_dtype.int64, device=B.device)
    batch = tuple(np.broadcast_shapes(tuple(z.shape[:-2]), tuple(idx.shape[:-1])))
    z = z.expand(batch + tuple(z.shape[-2:]))
    return gather(z, -2, idx.expand(batch + (n,)).unsqueeze(-1).expand(batch + tuple(z.shape[-2:])))


def vander(x, *, N=None):
    """The Vandermonde matrix of x (shape (*, n)): column j holds x ** j, j = 0 .. N-1 (N = n by
    default), increasing powers as in ``torch.linalg.vander``."""
    from .shape import cat

    if x.dim() < 1:
        raise RuntimeError("linalg.vander: x must have at least one dimension.")
    n = x.shape[-1] if N is None else N
    if n < 1:
        raise RuntimeError(f"linalg.vander: N must be greater than 1 (got {n}).")
    ones = (x * 0 + 1).unsqueeze(-1)
    if n == 1:
        return ones
    # running products x, x^2, ... (as PyTorch builds it: exact for integers, no pow)
    return cat([ones, x.unsqueeze(-1).expand(*x.shape, n - 1).cumprod(-1)], -1)


def tensorinv(A, ind=2):
    """The inverse of A as a map from its first ``ind`` dims to the rest: A reshaped to a
    square (prod(shape[:ind]), prod(shape[ind:])) matrix, inverted, shaped shape[ind:] + shape[:ind]."""
    if ind <= 0:
        raise RuntimeError(f"linalg.tensorinv: Expected a strictly positive integer for 'ind', but got {ind}")
    out_shape, in_shape = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    rows, cols = int(np.prod(out_shape)), int(np.prod(in_shape))
    if rows != cols:
        raise RuntimeError(
            f"linalg.tensorinv: Expected self to satisfy the requirement prod(self.shape[ind:]) == "
            f"prod(self.shape[:ind]), but got {cols} != {rows}"
        )
    return inv(A.reshape(rows, cols)).reshape(in_shape + out_shape)


def tensorsolve(A, B, dims=None):
    """X with ``tensordot(A, X, X.ndim) == B``: A's dims ``dims`` (if given) move to the end,
    then A is a (B.numel(), rest) matrix and X has A's remaining shape."""
    from .shape import movedim

    if dims is not None:
        nd = A.dim()
        dims = [d % nd for d in dims]
        A = movedim(A, dims, list(range(nd - len(dims), nd)))
    x_shape = tuple(A.shape[B.dim() :])
    rows, cols = B.numel(), int(np.prod(x_shape))
    if tuple(A.shape[: B.dim()]) != tuple(B.shape) or rows != cols:
        raise RuntimeError(
            f"linalg.tensorsolve: Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
            f"prod(self.shape[:other.ndim]), but got {cols} != {rows}"
        )
    return solve(A.reshape(rows, cols), B.reshape(rows)).reshape(x_shape)


def _geqrf_forward(part):
    def forward(xp, a):
        h, tau = xp.linalg.qr(a.astype(xp.float64) if a.dtype.kind == "f" else a, mode="raw")
        out = xp.swapaxes(h, -1, -2) if part == 0 else tau  # raw mode gives LAPACK's array transposed
        return xp.ascontiguousarray(out).astype(a.dtype, copy=False)

    return forward


def _geqrf_backward(g, *saved):
    raise NotImplementedError("the derivative for 'geqrf' is not implemented.")


GEQRF_A = Op("geqrf", _geqrf_forward(0), _geqrf_backward)
GEQRF_TAU = Op("geqrf", _geqrf_forward(1), _geqrf_backward)


def geqrf(input):
    """LAPACK's QR in Householder form: (a, tau) with R on and above a's diagonal and the
    Householder vectors below it (``householder_product(a, tau)`` is Q). Not differentiable, as
    in PyTorch: a backward through it raises."""
    _check_matrix(input, "geqrf")
    return return_types.geqrf(apply(GEQRF_A, (input,)), apply(GEQRF_TAU, (input,)))


def orgqr(input, tau):
    """``linalg.householder_product(input, tau)``: Q's first n columns from ``geqrf``'s form."""
    return householder_product(input, tau)


def ormqr(input, tau, other, left=True, transpose=False):
    """``other`` multiplied by the full m x m Q of the Householder form (``input``, ``tau``):
    Q other, Q^H other (``transpose``), or other Q, other Q^H (``left=False``)."""
    from .resample import pad

    _check_matrix(input, "ormqr")
    m, n = input.shape[-2], input.shape[-1]
    k = tau.shape[-1]
    if k > min(m, n):
        raise RuntimeError(
            f"torch.ormqr: input.shape[-1] must be greater than or equal to tau.shape[-1], got {n} and {k}"
        )
    size = other.shape[-2] if left else other.shape[-1]
    if k != min(size, n):
        raise RuntimeError(
            f"torch.ormqr: tau.shape[-1] must be equal to min(other.shape[{-2 if left else -1}], input.shape[-1])"
        )
    if size != m:
        raise RuntimeError(
            f"torch.ormqr: other.shape[{-2 if left else -1}] must be equal to input.shape[-2], got {size} and {m}"
        )
    square = pad(input[..., :, : min(k, n)], [0, m - min(k, n)])  # the reflectors in an m x m matrix
    Q = householder_product(square, tau)
    if transpose:
        Q = Q.mH
    return Q @ other if left else other @ Q


# --------------------------------------------------------------------------- matrix_exp, householder_product
def matrix_exp(A):
    """``exp(A) = sum A^k / k!`` of square matrices (batched), by scaling and squaring: A / 2^s
    with 1-norm at most 1/2, an 18-term Taylor sum (truncation below 1e-22 relative), then s
    squarings. Written in differentiable ops, so its gradient is that of the same product."""
    import math

    _check_matrix(A, "matrix_exp", square=True)
    a = np.asarray(A.detach().cpu().numpy()) if A.numel() else np.zeros((1, 1))
    norm = float(np.abs(a).sum(-2).max()) if a.size else 0.0
    s = max(0, math.ceil(math.log2(norm)) + 1) if norm > 0.5 else 0
    X = A / (2**s) if s else A
    eye = _eye(A.shape[-1], A)
    result = term = eye + 0 * X
    for k in range(1, 19):
        term = term @ X / k
        result = result + term
    for _ in range(s):
        result = result @ result
    return result


def householder_product(A, tau):
    """The first n columns of ``H_1 H_2 ... H_k`` for A (..., m, n), tau (..., k), where
    ``H_i = I - tau_i v_i v_i^H`` and v_i is column i of A below the diagonal with a 1 on it
    (LAPACK's orgqr). Written in differentiable ops."""
    _check_matrix(A, "householder_product")
    m, n = A.shape[-2], A.shape[-1]
    k = tau.shape[-1]
    if n > m:
        raise RuntimeError(
            f"torch.linalg.householder_product: input.shape[-2] must be greater than or equal to "
            f"input.shape[-1], got {m} and {n}"
        )
    if k > n:
        raise RuntimeError(
            f"torch.linalg.householder_product: input.shape[-1] must be greater than or equal to "
            f"tau.shape[-1], got {n} and {k}"
        )
    if tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise RuntimeError(
            f"torch.linalg.householder_product: Expected batch dimensions of tau {list(tau.shape[:-1])} "
            f"to be equal to those of input {list(A.shape[:-2])}"
        )
    from .._creation import tensor

    rows = np.arange(m)
    Q = _eye(m, A) + 0 * A.sum(-1, keepdim=True)  # (..., m, m), batch-shaped
    for i in range(k):
        below = tensor((rows > i).astype(np.float64), dtype=A.dtype, device=A.device)
        unit = tensor((rows == i).astype(np.float64), dtype=A.dtype, device=A.device)
        v = A[..., :, i] * below + unit  # (..., m)
        Qv = Q @ v.unsqueeze(-1)  # (..., m, 1)
        Q = Q - tau[..., i, None, None] * Qv @ v.conj().unsqueeze(-2)
    return Q[..., :, :n]


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(det, method=True, out=("linalg",), linalg=("det",))
declare(logdet, method=True)
declare(inv, name="inverse", method=True, out=True, linalg=("inv",))
declare(matrix_power, method=True, out=True, linalg=("matrix_power",))
declare(pinverse, method=True)
declare(svd_legacy, name="svd", method=True, out=True)
declare(qr_legacy, name="qr", method=True, out=True)
declare(cholesky_legacy, name="cholesky", method=True, out=True)
declare(slogdet_legacy, name="slogdet", method=True, out=True)
declare(slogdet, torch=False, out=True, linalg=("slogdet",))
declare(solve, torch=False, out=True, linalg=("solve",))
declare(solve_triangular, torch=False, out=True, linalg=("solve_triangular",))
declare(cholesky, torch=False, out=True, linalg=("cholesky",))
declare(qr, torch=False, out=True, linalg=("qr",))
declare(eigh, torch=False, out=True, linalg=("eigh",))
declare(eigvalsh, torch=False, out=True, linalg=("eigvalsh",))
declare(eig, torch=False, out=True, linalg=("eig",))
declare(eigvals, torch=False, out=True, linalg=("eigvals",))
declare(svd, torch=False, out=True, linalg=("svd",))
declare(svdvals, torch=False, out=True, linalg=("svdvals",))
declare(pinv, torch=False, out=True, linalg=("pinv",))
declare(matrix_rank, torch=False, out=True, linalg=("matrix_rank",))
declare(lstsq, torch=False, linalg=("lstsq",))
declare(linalg_lu_factor, torch=False, out=True, linalg=("lu_factor",))
declare(cholesky_ex, torch=False, out=True, linalg=("cholesky_ex",))
declare(inv_ex, torch=False, out=True, linalg=("inv_ex",))
declare(solve_ex, torch=False, out=True, linalg=("solve_ex",))
declare(linalg_lu_factor_ex, torch=False, out=True, linalg=("lu_factor_ex",))
declare(linalg_lu, torch=False, out=True, linalg=("lu",))
declare(linalg_lu_solve, torch=False, out=True, linalg=("lu_solve",))
declare(vander, torch=False, linalg=("vander",))
declare(tensorinv, torch=False, out=True, linalg=("tensorinv",))
declare(tensorsolve, torch=False, out=True, linalg=("tensorsolve",))
declare(matrix_norm, torch=False, out=True, linalg=("matrix_norm",))
declare(norm, torch=False, out=True, linalg=("norm",))
declare(cond, torch=False, out=True, linalg=("cond",))
declare(matrix_exp, method=True, linalg=("matrix_exp",))
declare(householder_product, torch=False, out=True, linalg=("householder_product",))
declare(cholesky_solve, method=True, out=True)
declare(cholesky_inverse, method=True, out=True)
declare(triangular_solve, method=True, out=True)
declare(lu, method=True)
declare(lu_unpack, out=True)
declare(lu_solve, method=True, out=True)
declare(geqrf, method=True, out=True)
declare(orgqr, method=True, out=True)
declare(ormqr, method=True, out=True)

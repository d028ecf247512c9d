"""Op table: einsum and friends, and torch.linalg. Inputs are made well-conditioned inside each
call (a + 3 I, a a^T + n I, a + a^T); results that have a sign freedom (singular vectors,
eigenvectors) are compared with the sign of each vector fixed by its first entry."""
import numpy as np

from .optable import OpSpec

NO_DERIVATIVE = {"gradcheck": "no derivative (as in PyTorch)", "gradgradcheck": "no derivative (as in PyTorch)"}
NO_COMPLEX_FWD = {"forward_ad": "forward-mode AD through complex tensors is not supported yet (it raises)"}


def _np_lu_packed(a):
    """LAPACK's packed LU with partial pivoting (L's strict lower part and U in one array)."""
    a = np.array(a, dtype=float)
    n = a.shape[-1]
    for k in range(n):
        p = k + np.argmax(np.abs(a[..., k:, k]), axis=-1)
        idx = np.indices(a.shape[:-2]) if a.ndim > 2 else ()
        rows_k = a[(*idx, k)].copy() if a.ndim > 2 else a[k].copy()
        if a.ndim > 2:
            a[(*idx, k)] = a[(*idx, p)]
            a[(*idx, p)] = rows_k
        else:
            a[k], a[p] = a[p].copy(), rows_k
        a[..., k + 1 :, k] /= a[..., k : k + 1, k]
        a[..., k + 1 :, k + 1 :] -= a[..., k + 1 :, k : k + 1] * a[..., k : k + 1, k + 1 :]
    return a


def _np_ldl_unpivoted(a):
    """The compact LDL form of a diagonally dominant positive-definite matrix, where Bunch-Kaufman
    takes every diagonal element as a 1 x 1 pivot: from a = C C^T, D = diag(C)^2 and L = C / diag(C)."""
    c = np.linalg.cholesky(a)
    d = np.diagonal(c, 0, -2, -1)
    return np.tril(c / d[..., None, :], -1) + np.eye(a.shape[-1]) * (d * d)[..., None, :]


def build(rg):
    L = rg.linalg

    def wc(a):
        return a + 3 * rg.eye(a.shape[-1], dtype=a.dtype)

    def spd(a):
        return a @ a.mT + a.shape[-1] * rg.eye(a.shape[-1], dtype=a.dtype)

    def sym(a):
        return a + a.mT

    def gauge(u):          # each column's sign fixed by its first entry
        return u * u[..., :1, :].sign()

    def np_wc(a):
        return a + 3 * np.eye(a.shape[-1])

    def np_spd(a):
        return a @ a.swapaxes(-1, -2) + a.shape[-1] * np.eye(a.shape[-1])

    def np_sym(a):
        return a + a.swapaxes(-1, -2)

    def np_gauge(u):
        return u * np.sign(u[..., :1, :])

    def eig_invariants(lv):
        lam, v = lv
        return rg.stack([(lam * lam).real.sum(-1), (v[..., 0, :].abs() * lam.real).sum(-1),
                         (v[..., 1, :].abs() ** 2 * (lam * lam).imag).sum(-1)], -1)

    def np_eig_invariants(lv):
        lam, v = lv
        return np.stack([(lam * lam).real.sum(-1), (np.abs(v[..., 0, :]) * lam.real).sum(-1),
                         (np.abs(v[..., 1, :]) ** 2 * (lam * lam).imag).sum(-1)], -1)

    def cube(z):
        return z * z * z

    def np_c2r(z):
        return np.stack([np.real(z), np.imag(z)], -1)

    def svd_parts(usv):
        u, s, vh = usv
        return rg.cat([gauge(u).flatten(-2), s, gauge(vh.mT).flatten(-2)], -1)

    def np_svd_parts(a, full=False):
        u, s, vh = np.linalg.svd(a, full_matrices=full)
        return np.concatenate([np_gauge(u).reshape(a.shape[:-2] + (-1,)), s,
                               np_gauge(vh.swapaxes(-1, -2)).reshape(a.shape[:-2] + (-1,))], -1)

    def np_qr_parts(a, mode="reduced"):
        q, r = np.linalg.qr(a, mode=mode)
        return np.concatenate([q.reshape(-1), r.reshape(-1)])

    def np_tri_solve(a, b, upper, unit=False):
        t = np.triu(a) if upper else np.tril(a)
        if unit:
            t = t - np.diag(np.diag(t)) + np.eye(t.shape[-1])
        return np.linalg.solve(t, b)

    def np_lu(a):           # LAPACK's packed LU with partial pivoting, by elimination
        a = a.astype(np.float64).copy()
        m, n = a.shape[-2:]
        for k in range(min(m, n)):
            p = int(np.abs(a[k:, k]).argmax()) + k
            a[[k, p]] = a[[p, k]]
            if a[k, k] != 0:
                a[k + 1:, k] /= a[k, k]
                a[k + 1:, k + 1:] -= np.outer(a[k + 1:, k], a[k, k + 1:])
        return a

    def np_householder(a, tau):   # Q's first n columns: H_1 ... H_k applied to I's columns
        m, n = a.shape
        q = np.eye(m)
        for i, t in enumerate(tau):
            v = np.where(np.arange(m) > i, a[:, i], 0.0)
            v[i] = 1.0
            q = q @ (np.eye(m) - t * np.outer(v, v))
        return q[:, :n]

    def np_kron(a, b):
        return np.kron(a, b)

    T = []
    # ---------------------------------------------------------------- einsum, tensordot, kron
    E = [
        ("matmul", "ij,jk->ik", [(3, 4), (4, 2)]),
        ("batch", "bij,bjk->bik", [(2, 3, 4), (2, 4, 2)]),
        ("implicit", "ij,jk", [(3, 4), (4, 2)]),
        ("implicit_order", "ba", [(3, 4)]),
        ("trace", "ii", [(3, 3)]),
        ("diag", "ii->i", [(3, 3)]),
        ("repeated_3", "iji->j", [(2, 3, 2)]),
        ("sum_all", "ij->", [(3, 4)]),
        ("sum_one_operand_dim", "ij,j->i", [(3, 4), (4,)]),
        ("outer", "i,j->ij", [(3,), (4,)]),
        ("ellipsis", "...ij,...jk->...ik", [(2, 3, 4), (4, 2)]),
        ("ellipsis_broadcast", "...i,...i->...", [(2, 1, 3), (4, 3)]),
        ("ellipsis_implicit", "...ij", [(2, 3, 4)]),
        ("size1_broadcast", "ij,ij->ij", [(1, 4), (3, 4)]),
        ("three_operands", "ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
        ("four_operands", "ab,bc,cd,d->a", [(2, 3), (3, 2), (2, 3), (3,)]),
        ("diag_times_vector", "ii,i->", [(3, 3), (3,)]),
        ("scalars", ",->", [(), ()]),
        ("empty_contraction", "ij,jk->ik", [(2, 0), (0, 3)]),
        ("bilinear", "bn,anm,bm->ba", [(2, 3), (4, 3, 2), (2, 2)]),
    ]
    for name, eq, shapes in E:
        # an empty contraction gives zeros: its (empty) inputs get empty, all-zero gradients
        grad = "zero" if 0 in sum(shapes, ()) else "nonzero"
        T.append(OpSpec(f"einsum_{name}", lambda *a, eq=eq: rg.einsum(eq, *a),
                        lambda *a, eq=eq: np.einsum(eq, *a), [shapes], grad=grad))
    T += [
        OpSpec("einsum_list_operands", lambda a, b: rg.einsum("ij,kj->ik", [a, b]),
               lambda a, b: a @ b.T, [[(3, 4), (2, 4)]]),
        OpSpec("einsum_noncontig", lambda a, b: rg.einsum("ij,jk->ik", a.t(), b.t()),
               lambda a, b: a.T @ b.T, [[(4, 3), (2, 4)]]),
        OpSpec("einsum_spaces", lambda a: rg.einsum("i j -> j i", a), lambda a: a.T, [[(3, 4)]]),
        OpSpec("tensordot_int", lambda a, b: rg.tensordot(a, b, 2), lambda a, b: np.tensordot(a, b, 2),
               [[(2, 3, 4), (3, 4, 2)]]),
        OpSpec("tensordot_lists", lambda a, b: rg.tensordot(a, b, dims=([1, 0], [0, 2])),
               lambda a, b: np.tensordot(a, b, axes=([1, 0], [0, 2])), [[(3, 4, 2), (4, 2, 3)]]),
        OpSpec("tensordot_zero", lambda a, b: rg.tensordot(a, b, dims=0), lambda a, b: np.tensordot(a, b, 0),
               [[(2, 3), (2,)]]),
        OpSpec("kron", rg.kron, np_kron, [[(2, 3), (3, 2)], [(2,), (3,)], [(2, 3), (3,)], [(2, 1, 2), (2, 2)]]),
        OpSpec("kron_method", lambda a, b: a.kron(b.t()), lambda a, b: np.kron(a, b.T), [[(2, 2), (3, 2)]],
               skip={"parity": "PyTorch 2.13's kron raises on a transposed operand (view of a non-contiguous input)"}),
        OpSpec("multi_dot", lambda a, b, c: L.multi_dot([a, b, c]), lambda a, b, c: a @ b @ c,
               [[(3,), (3, 4), (4, 2)], [(2, 3), (3, 4), (4,)]]),
    ]
    # ---------------------------------------------------------------- inverse, determinants, solves
    T += [
        OpSpec("linalg_inv", lambda a: L.inv(wc(a)), lambda a: np.linalg.inv(np_wc(a)),
               [[(3, 3)], [(2, 3, 3)], [(0, 2, 2)]]),
        OpSpec("inverse_method_noncontig", lambda a: wc(a).mT.inverse(), lambda a: np.linalg.inv(np_wc(a).T), [[(3, 3)]]),
        OpSpec("linalg_det", L.det, np.linalg.det, [[(3, 3)], [(2, 3, 3)], [(1, 1)]]),
        OpSpec("det_method", lambda a: a.t().det(), lambda a: np.linalg.det(a.T), [[(4, 4)]]),
        OpSpec("linalg_slogdet", lambda a: L.slogdet(a).logabsdet, lambda a: np.linalg.slogdet(a)[1],
               [[(3, 3)], [(2, 3, 3)]]),
        OpSpec("slogdet_sign", lambda a: rg.slogdet(a)[0], lambda a: np.linalg.slogdet(a)[0], [[(3, 3)]],
               skip={"gradcheck": "sign is piecewise constant", "gradgradcheck": "same", "parity_grad": "PyTorch's slogdet sign records a node (zero gradient); retrograd's sign does not require grad"}, grad="none"),
        OpSpec("logdet", lambda a: rg.logdet(spd(a)), lambda a: np.log(np.linalg.det(np_spd(a))), [[(3, 3)]]),
        OpSpec("linalg_solve", lambda a, b: L.solve(wc(a), b), lambda a, b: np.linalg.solve(np_wc(a), b),
               [[(3, 3), (3, 2)], [(2, 3, 3), (3, 2)], [(3, 3), (2, 3, 1)]]),
        OpSpec("linalg_solve_vector", lambda a, b: L.solve(wc(a), b),
               lambda a, b: np.linalg.solve(np_wc(a), b[..., None])[..., 0], [[(3, 3), (3,)], [(2, 3, 3), (2, 3)]]),
        OpSpec("linalg_solve_left_false", lambda a, b: L.solve(wc(a), b, left=False),
               lambda a, b: np.linalg.solve(np_wc(a).T, b.T).T, [[(3, 3), (2, 3)]]),
        OpSpec("linalg_solve_triangular_upper", lambda a, b: L.solve_triangular(wc(a), b, upper=True),
               lambda a, b: np_tri_solve(np_wc(a), b, True), [[(3, 3), (3, 2)]]),
        OpSpec("linalg_solve_triangular_lower_right_unit",
               lambda a, b: L.solve_triangular(a, b, upper=False, left=False, unitriangular=True),
               lambda a, b: np_tri_solve(a.T, b.T, True, True).T, [[(3, 3), (2, 3)]]),
        OpSpec("lu", lambda a: rg.lu(a)[0], np_lu, [[(3, 3)], [(4, 3)], [(3, 5)]]),
        OpSpec("lu_method_batched", lambda a: a.lu()[0], lambda a: np.stack([np_lu(x) for x in a]), [[(2, 3, 3)]]),
        OpSpec("lu_unpack", lambda a: rg.cat([t.flatten() for t in rg.lu_unpack(*rg.lu(a))[1:]]),
               lambda a: np.concatenate([np.tril(np_lu(a), -1).ravel() + np.eye(3).ravel(), np.triu(np_lu(a)).ravel()]),
               [[(3, 3)]]),
        OpSpec("lu_solve", lambda b, a: rg.lu_solve(b, *rg.lu(wc(a))), lambda b, a: np.linalg.solve(np_wc(a), b),
               [[(3, 2), (3, 3)], [(2, 3, 1), (2, 3, 3)]]),
        OpSpec("lu_solve_method", lambda b, a: b.lu_solve(*wc(a).lu()), lambda b, a: np.linalg.solve(np_wc(a), b),
               [[(3, 2), (3, 3)]]),
        OpSpec("orgqr", lambda a, t: rg.orgqr(a, t), lambda a, t: np_householder(a, t), [[(4, 3), (2,)], [(3, 3), (3,)]],
               low=-1.0, high=1.0),
        OpSpec("ormqr_left_transpose", lambda a, t, c: rg.ormqr(a, t, c, transpose=True),
               lambda a, t, c: np_householder(np.pad(a, ((0, 0), (0, 1))), t).T @ c,
               [[(4, 3), (3,), (4, 2)]], low=-1.0, high=1.0),
        OpSpec("ormqr_right_method", lambda a, t, c: a.ormqr(t, c, left=False),
               lambda a, t, c: c @ np_householder(np.pad(a, ((0, 0), (0, 1))), t),
               [[(4, 3), (3,), (3, 4)]], low=-1.0, high=1.0),
        OpSpec("cholesky_solve", lambda b, a: rg.cholesky_solve(b, L.cholesky(spd(a))),
               lambda b, a: np.linalg.solve(np_spd(a), b), [[(3, 2), (3, 3)], [(2, 3, 1), (3, 3)]]),
        OpSpec("cholesky_solve_upper_method", lambda b, a: b.cholesky_solve(L.cholesky(spd(a), upper=True), upper=True),
               lambda b, a: np.linalg.solve(np_spd(a), b), [[(3, 2), (3, 3)]]),
        OpSpec("cholesky_inverse", lambda a: rg.cholesky_inverse(L.cholesky(spd(a))),
               lambda a: np.linalg.inv(np_spd(a)), [[(3, 3)], [(2, 3, 3)]]),
        OpSpec("cholesky_inverse_upper_method", lambda a: L.cholesky(spd(a), upper=True).cholesky_inverse(upper=True),
               lambda a: np.linalg.inv(np_spd(a)), [[(3, 3)]]),
        OpSpec("triangular_solve", lambda b, a: rg.triangular_solve(b, wc(a)).solution,
               lambda b, a: np_tri_solve(np_wc(a), b, True), [[(3, 2), (3, 3)], [(2, 3, 2), (3, 3)]]),
        OpSpec("triangular_solve_lower_transpose_unit_method",
               lambda b, a: b.triangular_solve(a, upper=False, transpose=True, unitriangular=True).solution,
               lambda b, a: np_tri_solve(np.tril(a).T, b, True, True), [[(3, 2), (3, 3)]]),
    ]
    # ---------------------------------------------------------------- decompositions
    T += [
        OpSpec("linalg_cholesky", lambda a: L.cholesky(spd(a)), lambda a: np.linalg.cholesky(np_spd(a)),
               [[(3, 3)], [(2, 3, 3)]]),
        OpSpec("linalg_cholesky_upper", lambda a: L.cholesky(spd(a), upper=True),
               lambda a: np.linalg.cholesky(np_spd(a)).swapaxes(-1, -2), [[(3, 3)]]),
        OpSpec("cholesky_method", lambda a: spd(a).cholesky(), lambda a: np.linalg.cholesky(np_spd(a)), [[(2, 2)]]),
        OpSpec("linalg_qr", lambda a: rg.cat([t.reshape(-1) for t in L.qr(a)]), np_qr_parts,
               [[(4, 3)], [(3, 3)], [(2, 4)]]),
        OpSpec("linalg_qr_batch_noncontig", lambda a: L.qr(a.mT).Q, lambda a: np.linalg.qr(a.swapaxes(-1, -2))[0],
               [[(2, 3, 4)]]),
        OpSpec("linalg_qr_r", lambda a: L.qr(a, mode="r").R, lambda a: np.linalg.qr(a, mode="r"), [[(4, 3)]],
               skip={"parity_grad": "PyTorch has no derivative for mode='r' (RuntimeError); retrograd differentiates R"}),
        OpSpec("linalg_qr_complete", lambda a: L.qr(a, mode="complete").Q,
               lambda a: np.linalg.qr(a, mode="complete")[0], [[(4, 3)]],
               skip={"gradcheck": "Q of mode='complete' with m > n has no derivative", "gradgradcheck": "same"}, grad="raises"),
        OpSpec("qr_legacy", lambda a: rg.cat([t.reshape(-1) for t in a.qr()]), np_qr_parts, [[(3, 2)]]),
        OpSpec("linalg_eigh_values", lambda a: L.eigh(sym(a)).eigenvalues, lambda a: np.linalg.eigvalsh(np_sym(a)),
               [[(3, 3)], [(2, 4, 4)]]),
        OpSpec("linalg_eigh_vectors", lambda a: gauge(L.eigh(sym(a))[1]),
               lambda a: np_gauge(np.linalg.eigh(np_sym(a))[1]), [[(3, 3)], [(2, 3, 3)]]),
        OpSpec("linalg_eigh_upper", lambda a: L.eigh(a, UPLO="U").eigenvalues,
               lambda a: np.linalg.eigvalsh(np.triu(a) + np.triu(a, 1).T), [[(3, 3)]],
               skip={"gradcheck": "reads one triangle; the gradient is defined for symmetric perturbations",
                     "gradgradcheck": "same"}),
        OpSpec("linalg_eigvalsh", lambda a: L.eigvalsh(sym(a)), lambda a: np.linalg.eigvalsh(np_sym(a)), [[(3, 3)]]),
        # eig's eigenvalues and eigenvectors are unsorted and each eigenvector has a phase freedom: the
        # results compared are sums over the eigenpairs of phase-free quantities
        OpSpec("linalg_eig_pairs", lambda a: eig_invariants(L.eig(a)), lambda a: np_eig_invariants(np.linalg.eig(a)),
               [[(3, 3)], [(2, 4, 4)]], skip=NO_COMPLEX_FWD),
        OpSpec("linalg_eigvals", lambda a: rg.view_as_real(cube(L.eigvals(a)).sum(-1)),
               lambda a: np_c2r((np.linalg.eigvals(a) ** 3).sum(-1)), [[(3, 3)], [(2, 3, 3)]], skip=NO_COMPLEX_FWD),
        OpSpec("linalg_ldl_solve", lambda a, b: L.ldl_solve(*L.ldl_factor(sym(a)), b),
               lambda a, b: np.linalg.solve(np_sym(a), b), [[(3, 3), (3, 2)], [(2, 4, 4), (2, 4, 1)]],
               skip=NO_DERIVATIVE, grad="raises"),
        OpSpec("linalg_ldl_factor_ex_LD", lambda a: L.ldl_factor_ex(wc(sym(a))).LD,
               lambda a: _np_ldl_unpivoted(np_wc(np_sym(a))), [[(3, 3)], [(2, 4, 4)]], low=0.0, high=0.5,
               skip=NO_DERIVATIVE, grad="raises"),
        OpSpec("linalg_svd", lambda a: svd_parts(L.svd(a, full_matrices=False)), np_svd_parts,
               [[(4, 3)], [(3, 4)], [(3, 3)], [(2, 3, 2)]]),
        OpSpec("linalg_svd_full_square", lambda a: svd_parts(L.svd(a)), lambda a: np_svd_parts(a, True), [[(3, 3)]]),
        OpSpec("linalg_svd_full_tall", lambda a: L.svd(a).U.abs(), lambda a: np.abs(np.linalg.svd(a)[0]), [[(4, 2)]],
               skip={"gradcheck": "full_matrices=True on a non-square matrix has no derivative",
                     "gradgradcheck": "same", "parity_grad": "retrograd has no derivative of full_matrices=True for a non-square input (NotImplementedError); PyTorch has one"}, grad="raises"),
        OpSpec("svd_legacy", lambda a: gauge(a.svd()[2]), lambda a: np_gauge(np.linalg.svd(a, False)[2].T), [[(4, 3)]]),
        OpSpec("linalg_svdvals", L.svdvals, lambda a: np.linalg.svd(a, compute_uv=False), [[(4, 3)], [(2, 2, 3)]]),
    ]
    # ---------------------------------------------------------------- built on decompositions
    inf = float("inf")
    T += [
        OpSpec("linalg_matrix_power", lambda a: L.matrix_power(a, 3), lambda a: np.linalg.matrix_power(a, 3),
               [[(3, 3)], [(2, 2, 2)]]),
        OpSpec("matrix_power_zero", lambda a: a.matrix_power(0), lambda a: np.linalg.matrix_power(a, 0), [[(3, 3)]], grad="zero"),
        OpSpec("matrix_power_negative", lambda a: rg.matrix_power(wc(a), -2),
               lambda a: np.linalg.matrix_power(np_wc(a), -2), [[(3, 3)]]),
        OpSpec("linalg_pinv", L.pinv, np.linalg.pinv, [[(4, 3)], [(3, 4)], [(2, 3, 3)]]),
        OpSpec("linalg_cholesky_ex", lambda a: L.cholesky_ex(a @ a.mT + 3 * rg.eye(3, dtype=a.dtype)).L,
               lambda a: np.linalg.cholesky(a @ np.swapaxes(a, -1, -2) + 3 * np.eye(3)), [[(3, 3)], [(2, 3, 3)]]),
        OpSpec("linalg_inv_ex", lambda a: L.inv_ex(a + 3 * rg.eye(3, dtype=a.dtype)).inverse,
               lambda a: np.linalg.inv(a + 3 * np.eye(3)), [[(3, 3)], [(2, 3, 3)]]),
        OpSpec("linalg_solve_ex", lambda a, b: L.solve_ex(a + 3 * rg.eye(3, dtype=a.dtype), b).result,
               lambda a, b: np.linalg.solve(a + 3 * np.eye(3), b), [[(3, 3), (3, 2)]]),
        OpSpec("linalg_lu_factor", lambda a: L.lu_factor(a).LU, lambda a: _np_lu_packed(a), [[(3, 3)], [(2, 4, 4)]]),
        OpSpec("linalg_lu_factor_ex", lambda a: L.lu_factor_ex(a).LU, lambda a: _np_lu_packed(a), [[(3, 3)]]),
        OpSpec("linalg_lu_U", lambda a: L.lu(a).U, lambda a: np.triu(_np_lu_packed(a)), [[(3, 3)]]),
        OpSpec("linalg_lu_solve", lambda a, b: L.lu_solve(*L.lu_factor(a), b), np.linalg.solve, [[(3, 3), (3, 2)]]),
        OpSpec("linalg_lu_solve_adjoint_right", lambda a, b: L.lu_solve(*L.lu_factor(a), b, left=False, adjoint=True),
               lambda a, b: np.linalg.solve(a, b.T).T, [[(3, 3), (2, 3)]]),
        OpSpec("linalg_vander", lambda x: L.vander(x, N=4), lambda x: x[..., None] ** np.arange(4), [[(3,)], [(2, 3)]]),
        OpSpec("linalg_tensorinv", lambda a: L.tensorinv(a, ind=1), lambda a: np.linalg.tensorinv(a, ind=1), [[(4, 2, 2)]]),
        OpSpec("linalg_tensorsolve", L.tensorsolve, np.linalg.tensorsolve, [[(2, 3, 6), (2, 3)]]),
        OpSpec("linalg_lstsq", lambda a, b: L.lstsq(a, b).solution,
               lambda a, b: np.linalg.lstsq(a, b, rcond=None)[0], [[(5, 3), (5, 2)], [(3, 5), (3, 2)]]),
        OpSpec("linalg_lstsq_gels", lambda a, b: L.lstsq(a, b, driver="gels").solution,
               lambda a, b: np.linalg.lstsq(a, b, rcond=None)[0], [[(5, 3), (5, 2)], [(3, 5), (3, 2)]]),
        OpSpec("linalg_lstsq_residuals", lambda a, b: L.lstsq(a, b, driver="gelsd").residuals,
               lambda a, b: np.linalg.lstsq(a, b, rcond=None)[1], [[(5, 3), (5, 2)]]),
        OpSpec("pinverse", lambda a: rg.pinverse(a), np.linalg.pinv, [[(3, 2)]]),
        OpSpec("linalg_matrix_norm_fro", L.matrix_norm, lambda a: np.linalg.norm(a, "fro", axis=(-2, -1)),
               [[(3, 4)], [(2, 3, 4)]]),
        OpSpec("linalg_matrix_norm_nuc", lambda a: L.matrix_norm(a, "nuc"), lambda a: np.linalg.norm(a, "nuc"), [[(3, 4)]]),
        OpSpec("linalg_matrix_norm_2_dims", lambda a: L.matrix_norm(a, 2, dim=(0, 2), keepdim=True),
               lambda a: np.linalg.norm(a, 2, axis=(0, 2), keepdims=True), [[(3, 2, 4)]]),
        OpSpec("linalg_matrix_norm_neg2", lambda a: L.matrix_norm(a, -2), lambda a: np.linalg.norm(a, -2), [[(3, 4)]]),
        OpSpec("linalg_matrix_norm_1", lambda a: L.matrix_norm(a, 1), lambda a: np.linalg.norm(a, 1, axis=(-2, -1)),
               [[(3, 4)], [(2, 3, 4)]]),
        OpSpec("linalg_matrix_norm_neg1", lambda a: L.matrix_norm(a, -1), lambda a: np.linalg.norm(a, -1), [[(3, 4)]]),
        OpSpec("linalg_matrix_norm_inf_keepdim", lambda a: L.matrix_norm(a, inf, keepdim=True),
               lambda a: np.linalg.norm(a, inf, axis=(-2, -1), keepdims=True), [[(2, 3, 4)]]),
        OpSpec("linalg_matrix_norm_neginf", lambda a: L.matrix_norm(a, -inf), lambda a: np.linalg.norm(a, -inf), [[(3, 4)]]),
        OpSpec("linalg_norm_default", L.norm, lambda a: np.sqrt((a * a).sum()), [[(3, 4)], [(2, 3, 4)], [(5,)]]),
        OpSpec("linalg_norm_vector_ord", lambda a: L.norm(a, 3), lambda a: np.linalg.norm(a, 3), [[(5,)]]),
        OpSpec("linalg_norm_matrix_ord", lambda a: L.norm(a, "nuc"), lambda a: np.linalg.norm(a, "nuc"), [[(3, 4)]]),
        OpSpec("linalg_norm_dim", lambda a: L.norm(a, dim=1, keepdim=True),
               lambda a: np.linalg.norm(a, axis=1, keepdims=True), [[(3, 4)]]),
        OpSpec("linalg_norm_dims", lambda a: L.norm(a, inf, dim=(0, 1)), lambda a: np.linalg.norm(a, inf, axis=(0, 1)),
               [[(3, 4)]]),
        OpSpec("linalg_vector_norm", lambda a: L.vector_norm(a, 1, dim=(0, 2)),
               lambda a: np.abs(a).sum((0, 2)), [[(2, 3, 4)]]),
        OpSpec("linalg_cond", L.cond, np.linalg.cond, [[(3, 3)]]),
        OpSpec("linalg_cond_fro", lambda a: L.cond(wc(a), "fro"), lambda a: np.linalg.cond(np_wc(a), "fro"), [[(3, 3)]],
               skip={"parity_grad": "PyTorch 2.13's cond(A, 'fro') backward raises (a saved tensor is modified in place)"}),
        OpSpec("linalg_diagonal", lambda a: L.diagonal(a, offset=1), lambda a: np.diagonal(a, 1, -2, -1).copy(),
               [[(2, 3, 4)]]),
        OpSpec("linalg_matrix_rank", lambda a: L.matrix_rank(a @ a[..., :2, :]),
               lambda a: np.linalg.matrix_rank(a @ a[..., :2, :]), [[(3, 2)], [(2, 4, 2)]],
               skip={"gradcheck": "integer output", "gradgradcheck": "integer output", "dtype": "returns int64"}, grad="none"),
    ]
    return T

"""torch.linalg and einsum behaviour: errors, result types, legacy forms, special cases."""

import math

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import gradcheck

L = rg.linalg


def _t(values, requires_grad=False):
    return rg.tensor(values, dtype=rg.float64, requires_grad=requires_grad)


def test_namespace_and_aliases():
    import retrograd.linalg as linalg

    assert linalg is rg.linalg
    for name in [
        "norm",
        "vector_norm",
        "matrix_norm",
        "inv",
        "det",
        "slogdet",
        "solve",
        "cholesky",
        "qr",
        "svd",
        "svdvals",
        "eigh",
        "eigvalsh",
        "matrix_power",
        "pinv",
        "solve_triangular",
        "matrix_rank",
        "multi_dot",
        "LinAlgError",
    ]:
        assert hasattr(linalg, name), name
    a = _t([[2.0, 1.0], [1.0, 3.0]])
    np.testing.assert_allclose(rg.inverse(a).numpy(), np.linalg.inv(a.numpy()))
    np.testing.assert_allclose(rg.det(a).item(), 5.0)
    np.testing.assert_allclose(rg.cholesky(a).numpy(), np.linalg.cholesky(a.numpy()))
    np.testing.assert_allclose(a.cholesky(upper=True).numpy(), np.linalg.cholesky(a.numpy()).T)


def test_singular_and_not_positive_definite_errors():
    singular = _t([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(L.LinAlgError, match=r"singular.*\[2, 2\]"):
        L.inv(singular)
    with pytest.raises(RuntimeError, match="singular"):
        L.solve(singular, _t([1.0, 1.0]))
    with pytest.raises(RuntimeError, match="positive-definite"):
        L.cholesky(_t([[1.0, 2.0], [2.0, 1.0]]))


def test_shape_and_dtype_errors():
    with pytest.raises(RuntimeError, match="square"):
        L.inv(rg.zeros(2, 3))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        L.det(rg.zeros(3))
    with pytest.raises(RuntimeError, match="floating point"):
        L.inv(rg.tensor([[1, 0], [0, 1]]))
    with pytest.raises(RuntimeError, match="Incompatible shapes"):
        L.solve(rg.eye(3), rg.ones(2, 1))
    with pytest.raises(RuntimeError, match="1D or 2D"):
        L.norm(rg.ones(2, 2, 2), 1)


def test_det_gradient_of_singular_matrix_is_adjugate():
    a = _t([[1.0, 2.0], [2.0, 4.0]], True)
    L.det(a).backward()
    np.testing.assert_allclose(a.grad.numpy(), [[4.0, -2.0], [-2.0, 1.0]], atol=1e-12)
    b = _t([[1.0, 2.0, 0.5], [2.0, 4.0, 1.0], [0.3, -1.0, 2.0]], True)
    assert gradcheck(L.det, (b,))


def test_result_types():
    a = _t([[2.0, 1.0], [1.0, 3.0]])
    r = L.slogdet(-a)
    assert type(r).__name__ == "linalg_slogdet" and r.sign.item() == 1.0
    assert rg.slogdet(_t([[0.0, 1.0], [1.0, 0.0]])).sign.item() == -1.0
    assert type(rg.slogdet(a)).__name__ == "slogdet"
    e = L.eigh(a)
    assert type(e).__name__ == "linalg_eigh" and e.eigenvalues.shape == (2,) and e.eigenvectors.shape == (2, 2)
    s = L.svd(rg.ones(3, 2, dtype=rg.float64), full_matrices=False)
    assert type(s).__name__ == "linalg_svd" and (s.U.shape, s.S.shape, s.Vh.shape) == ((3, 2), (2,), (2, 2))
    q = L.qr(rg.ones(3, 2, dtype=rg.float64))
    assert type(q).__name__ == "linalg_qr" and q.Q.shape == (3, 2) and q.R.shape == (2, 2)
    assert L.qr(rg.ones(3, 2, dtype=rg.float64), mode="r").Q.numel() == 0


def test_logdet_of_negative_determinant_is_nan():
    assert np.isnan(rg.logdet(_t([[0.0, 1.0], [1.0, 0.0]])).item())
    assert rg.logdet(_t([[0.0, 0.0], [0.0, 1.0]])).item() == float("-inf")


def test_legacy_svd_returns_v_and_full_option():
    a = rg.tensor(np.random.default_rng(0).standard_normal((4, 3)))
    U, S, V = rg.svd(a)
    np.testing.assert_allclose((U @ rg.diag(S) @ V.mT).numpy(), a.numpy(), atol=1e-12)
    U, S, V = a.svd(some=False)
    assert U.shape == (4, 4) and V.shape == (3, 3)


def test_full_matrices_and_complete_mode_backward_errors():
    a = _t(np.random.default_rng(0).standard_normal((4, 3)), True)
    with pytest.raises(NotImplementedError, match="full_matrices"):
        L.svd(a).U.sum().backward()
    with pytest.raises(NotImplementedError, match="complete"):
        L.qr(a, mode="complete").Q.sum().backward()


def test_pinv_tolerances_and_matrix_rank():
    a = _t([[1.0, 0.0], [0.0, 1e-10]])
    np.testing.assert_allclose(L.pinv(a).numpy(), np.diag([1.0, 1e10]))
    np.testing.assert_allclose(L.pinv(a, atol=1e-5).numpy(), np.diag([1.0, 0.0]))
    np.testing.assert_allclose(rg.pinverse(a, rcond=1e-5).numpy(), np.diag([1.0, 0.0]))
    assert L.matrix_rank(a).item() == 2
    assert L.matrix_rank(a, rtol=1e-5).item() == 1
    assert L.matrix_rank(rg.ones(2, 3, 3)).tolist() == [1, 1]


def test_einsum_errors():
    a = rg.ones(2, 3)
    with pytest.raises(ValueError, match="operands"):
        rg.einsum("ij,jk->ik", a)
    with pytest.raises(RuntimeError, match="subscript j"):
        rg.einsum("ij,jk->ik", a, rg.ones(2, 2))
    with pytest.raises(ValueError, match="output subscript k"):
        rg.einsum("ij->k", a)
    with pytest.raises(RuntimeError, match="number of subscripts"):
        rg.einsum("ijk->i", a)
    with pytest.raises(ValueError, match="more than once"):
        rg.einsum("ij->ii", a)
    with pytest.raises(RuntimeError, match="repeated"):
        rg.einsum("ii->i", a)


def test_einsum_gradient_of_repeated_indices_accumulates():
    a = _t(np.arange(9.0).reshape(3, 3), True)
    rg.einsum("ii->", a).backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.eye(3))


def test_tensordot_errors():
    with pytest.raises(RuntimeError, match="contracted dimensions need to match"):
        rg.tensordot(rg.ones(2, 3), rg.ones(2, 3), dims=([0], [1]))


def test_matrix_power_integer_matrix():
    a = rg.tensor([[1, 1], [1, 0]])
    assert L.matrix_power(a, 5).tolist() == [[8, 5], [5, 3]]


def test_vecdot_broadcasts_over_dim():
    x = _t(np.arange(6.0).reshape(2, 3))
    y = _t([1.0, 0.0, 2.0])
    assert L.vecdot(x, y).tolist() == [4.0, 13.0]
    assert L.vecdot(x, x, dim=0).tolist() == [9.0, 17.0, 29.0]


def test_lstsq_outputs_by_driver():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    A, B = rg.tensor(a), rg.tensor(b)
    x_np, res_np, rank_np, s_np = np.linalg.lstsq(a, b, rcond=None)
    for driver in (None, "gels", "gelsy", "gelsd", "gelss"):
        r = rg.linalg.lstsq(A, B, driver=driver)
        np.testing.assert_allclose(r.solution.numpy(), x_np, rtol=1e-10, atol=1e-12)
        if driver in (None, "gelsy"):
            assert r.residuals.shape == (0,)
        else:
            np.testing.assert_allclose(r.residuals.numpy(), res_np, rtol=1e-10)
        assert r.rank.shape == ((0,) if driver == "gels" else ()) and r.rank.dtype == rg.int64
        if driver in ("gelsd", "gelss"):
            np.testing.assert_allclose(r.singular_values.numpy(), s_np, rtol=1e-10)
            assert r.rank.item() == rank_np
        else:
            assert r.singular_values.shape == (0,)


def test_lstsq_vector_batch_and_minimum_norm():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2, 5, 3))
    b = rng.standard_normal((2, 5))  # one right-hand side per matrix
    x = rg.linalg.lstsq(rg.tensor(a), rg.tensor(b)).solution
    assert x.shape == (2, 3)
    for i in range(2):
        np.testing.assert_allclose(x[i].numpy(), np.linalg.lstsq(a[i], b[i], rcond=None)[0], rtol=1e-10)
    d = rng.standard_normal((5, 3))
    d[:, 2] = d[:, 1]  # rank 2: the minimum-norm solution, as pinv gives
    r = rg.linalg.lstsq(rg.tensor(d), rg.tensor(b[0]), driver="gelsd")
    np.testing.assert_allclose(r.solution.numpy(), np.linalg.pinv(d) @ b[0], rtol=1e-8)
    assert r.rank.item() == 2 and r.residuals.shape == (0,)
    wide = rng.standard_normal((3, 5))
    np.testing.assert_allclose(
        rg.linalg.lstsq(rg.tensor(wide), rg.tensor(b[0, :3])).solution.numpy(),
        np.linalg.pinv(wide) @ b[0, :3],
        rtol=1e-8,
    )


def test_lstsq_refusals():
    a = rg.ones(5, 3, dtype=rg.float64)
    with pytest.raises(RuntimeError, match="same dtype"):
        rg.linalg.lstsq(a, rg.ones(5, 2))
    with pytest.raises(RuntimeError, match="driver"):
        rg.linalg.lstsq(a, rg.ones(5, 2, dtype=rg.float64), driver="gesv")
    with pytest.raises(RuntimeError, match="size\\(-2\\)"):
        rg.linalg.lstsq(a, rg.ones(4, 2, dtype=rg.float64))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        rg.linalg.lstsq(rg.ones(3, dtype=rg.float64), rg.ones(3, dtype=rg.float64))


def test_linalg_lu_family():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((2, 4, 4))
    A = rg.tensor(a)
    P, L, U = rg.linalg.lu(A)
    np.testing.assert_allclose((P @ L @ U).numpy(), a, rtol=1e-12, atol=1e-12)
    LU, piv = rg.linalg.lu_factor(A)
    assert piv.dtype == rg.int32 and rg.linalg.lu_factor_ex(A).info.tolist() == [0, 0]
    b = rng.standard_normal((2, 4, 3))
    B = rg.tensor(b)
    np.testing.assert_allclose(rg.linalg.lu_solve(LU, piv, B).numpy(), np.linalg.solve(a, b), rtol=1e-10)
    at = np.swapaxes(a, -1, -2)
    np.testing.assert_allclose(rg.linalg.lu_solve(LU, piv, B, adjoint=True).numpy(), np.linalg.solve(at, b), rtol=1e-10)
    c = np.swapaxes(b, -1, -2)  # X A = C
    np.testing.assert_allclose(
        rg.linalg.lu_solve(LU, piv, rg.tensor(c), left=False).numpy(),
        np.swapaxes(np.linalg.solve(at, b), -1, -2),
        rtol=1e-10,
    )
    s = np.zeros((2, 3, 3))
    s[0] = np.eye(3)
    assert rg.linalg.lu_factor_ex(rg.tensor(s)).info.tolist() == [0, 1]
    with pytest.raises(RuntimeError, match="Batch element 1.*U\\[1,1\\] is zero"):
        rg.linalg.lu_factor(rg.tensor(s))
    with pytest.raises(RuntimeError, match="U\\[1,1\\] is zero"):
        rg.linalg.lu_factor_ex(rg.tensor(s), check_errors=True)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        rg.linalg.lu_solve(LU, piv, B[0, :, 0])


def test_linalg_vander_tensorinv_tensorsolve():
    x = rg.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(rg.linalg.vander(x, N=4).numpy(), np.vander([1.0, 2.0, 3.0], 4, increasing=True))
    assert rg.linalg.vander(rg.tensor([2, 3])).tolist() == [[1, 2], [1, 3]]
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 6, 8, 3))
    np.testing.assert_allclose(
        rg.linalg.tensorinv(rg.tensor(a), ind=2).numpy(), np.linalg.tensorinv(a, ind=2), rtol=1e-8
    )
    a2, b2 = rng.standard_normal((2, 3, 6)), rng.standard_normal((2, 3))
    np.testing.assert_allclose(
        rg.linalg.tensorsolve(rg.tensor(a2), rg.tensor(b2)).numpy(), np.linalg.tensorsolve(a2, b2), rtol=1e-8
    )
    with pytest.raises(RuntimeError, match="prod"):
        rg.linalg.tensorinv(rg.ones(2, 3), ind=1)
    with pytest.raises(RuntimeError, match="strictly positive"):
        rg.linalg.tensorinv(rg.ones(2, 2), ind=0)


def test_ex_forms_report_failures_in_info():
    a = np.tile(np.eye(3), (2, 1, 1))
    a[1, 2, 2] = -1.0  # not positive-definite from the third leading minor on
    A = rg.tensor(a, requires_grad=True)
    L, info = rg.linalg.cholesky_ex(A)
    assert info.dtype == rg.int32 and info.tolist() == [0, 3]
    np.testing.assert_array_equal(L[0].detach().numpy(), np.eye(3))
    assert np.isnan(L[1].detach().numpy()).all()
    L[0].sum().backward()  # the factorized matrix still has its gradient
    assert np.isfinite(A.grad.numpy()).all() and not A.grad[1].any()
    s = np.tile(np.eye(3), (2, 1, 1))
    s[1, 1, 1] = 0.0
    inverse, info = rg.linalg.inv_ex(rg.tensor(s))
    assert info.tolist() == [0, 2] and np.isnan(inverse[1].numpy()).all()
    np.testing.assert_array_equal(inverse[0].numpy(), np.eye(3))
    result, info = rg.linalg.solve_ex(rg.tensor(s), rg.ones(2, 3, dtype=rg.float64))
    assert info.tolist() == [0, 2] and result[0].tolist() == [1.0, 1.0, 1.0] and np.isnan(result[1].numpy()).all()
    with pytest.raises(rg.linalg.LinAlgError, match="leading minor of order 3"):
        rg.linalg.cholesky_ex(A, check_errors=True)
    with pytest.raises(rg.linalg.LinAlgError, match="diagonal element 2 is zero"):
        rg.linalg.inv_ex(rg.tensor(s), check_errors=True)
    with pytest.raises(rg.linalg.LinAlgError, match="singular"):
        rg.linalg.solve_ex(rg.tensor(s), rg.ones(2, 3, dtype=rg.float64), check_errors=True)


@pytest.mark.parametrize(
    "eq, shapes",
    [
        ("bhid,bhjd->bhij", [(1, 2, 5, 4), (1, 2, 6, 4)]),
        ("ij,jk->ik", [(2, 3), (3, 4)]),
        ("ij,jk->ki", [(2, 3), (3, 4)]),
        ("bij,bjk,bkl->bil", [(2, 3, 4), (2, 4, 5), (2, 5, 2)]),
        ("ij->i", [(3, 4)]),
    ],
)
def test_einsum_products_are_contiguous(eq, shapes):
    ops = [rg.tensor(np.random.default_rng(i).standard_normal(s)) for i, s in enumerate(shapes)]
    out = rg.einsum(eq, *ops)
    assert out.is_contiguous()
    np.testing.assert_allclose(out.numpy(), np.einsum(eq, *[o.numpy() for o in ops]), rtol=1e-12)
    out.view(-1)  # PyTorch scripts view the product directly


def test_einsum_of_one_operand_that_rearranges_owns_its_memory():
    # NumPy returns a view of the operand for 'ij->ji' or 'ii->i'; untracked, an in-place change
    # of it would reach the operand behind autograd's back, so the result is a copy
    a = rg.zeros(2, 3)
    b = rg.einsum("ij->ji", a)
    b.add_(1)
    assert float(a.sum()) == 0.0
    x = rg.randn(3, 3, dtype=rg.float64, requires_grad=True)
    y = x * 1
    d = rg.einsum("ii->i", y)
    d.mul_(2)
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(d.detach().numpy(), 2 * np.diag(x.detach().numpy()), rtol=1e-12)


def test_beta_zero_ignores_input_nan_and_inf():
    # "If beta is 0, then input will be ignored, and nan and inf in it will not be propagated"
    bad = [math.nan, math.inf]
    m1, m2 = rg.tensor([[1.0], [2.0]]), rg.tensor([[3.0, 4.0]])
    expect = (m1 @ m2).tolist()
    assert rg.addmm(rg.tensor([bad, bad]), m1, m2, beta=0).tolist() == expect
    assert rg.baddbmm(rg.tensor([[bad, bad]]), m1[None], m2[None], beta=0).tolist() == [expect]
    assert rg.addbmm(rg.tensor([bad, bad]), m1[None], m2[None], beta=0).tolist() == expect
    assert rg.addmv(rg.tensor(bad[:1] * 2), m1 @ m2, rg.tensor([1.0, 1.0]), beta=0).tolist() == [7.0, 14.0]
    assert rg.addr(rg.tensor([bad, bad]), rg.tensor([1.0, 2.0]), rg.tensor([3.0, 4.0]), beta=0).tolist() == expect
    x = rg.tensor([bad, bad], requires_grad=True)
    rg.addmm(x, m1, m2, beta=0, alpha=2).sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_einsum_sublist_form():
    """``einsum(a, [0, 1], b, [1, 2], [0, 2])``: ints name the subscripts (0-25 a-z, 26-51 A-Z),
    Ellipsis the batch dims, a trailing sublist the output; gradients as the string form."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    ta, tb = rg.tensor(a), rg.tensor(b)
    np.testing.assert_allclose(rg.einsum(ta, [0, 1], tb, [1, 2]).numpy(), a @ b)
    np.testing.assert_allclose(rg.einsum(ta, [0, 1], tb, [1, 2], [2, 0]).numpy(), (a @ b).T)
    np.testing.assert_allclose(rg.einsum(ta, [Ellipsis, 30], tb, [30, 2], [Ellipsis, 2]).numpy(), a @ b)
    np.testing.assert_allclose(rg.einsum(ta, [0, 1], [1]).numpy(), a.sum(0))
    assert gradcheck(
        lambda x, y: rg.einsum(x, [0, 1], y, [1, 2], [0, 2]),
        (rg.tensor(a, requires_grad=True), rg.tensor(b, requires_grad=True)),
    )
    with pytest.raises(ValueError, match=r"\[0, 52\)"):
        rg.einsum(ta, [0, 52])
    with pytest.raises(TypeError, match="sublist"):
        rg.einsum(ta, [0, 1], [1, 2], tb)

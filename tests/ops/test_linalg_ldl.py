"""torch.linalg.ldl_factor, ldl_factor_ex and ldl_solve: the compact form (LAPACK's, as PyTorch
returns it) rebuilt into A independently of the factorization, solves against NumPy, singular
matrices, bad inputs, and the absent derivative."""

import numpy as np
import pytest

import retrograd as rg

L = rg.linalg


def _rebuild(ld, piv, hermitian):
    """P L D L^T P^T (L^H for ``hermitian``) from the compact form, read as LAPACK documents it:
    A = (P_1 L_1)(P_2 L_2) ... D ... with one interchange and one unit block column per block."""
    n = ld.shape[0]
    t = (lambda m: m.conj().T) if hermitian else (lambda m: m.T)
    M = np.eye(n, dtype=ld.dtype)
    D = np.zeros_like(ld)
    k = 0
    while k < n:
        s, p = (1, piv[k] - 1) if piv[k] > 0 else (2, -piv[k] - 1)
        P = np.eye(n, dtype=ld.dtype)
        P[[k + s - 1, p]] = P[[p, k + s - 1]]
        Lk = np.eye(n, dtype=ld.dtype)
        Lk[k + s :, k : k + s] = ld[k + s :, k : k + s]
        D[k : k + s, k : k + s] = np.tril(ld[k : k + s, k : k + s])
        if s == 2:  # the block's upper element mirrors its lower one
            D[k, k + 1] = ld[k + 1, k].conj() if hermitian else ld[k + 1, k]
        M = M @ P @ Lk
        k += s
    return M @ D @ t(M)


def _symmetric(a, hermitian):
    low = np.tril(a)
    upper = np.tril(a, -1).conj().T if hermitian else np.tril(a, -1).T
    if hermitian:
        low = low - 1j * np.diag(np.diag(a).imag) if np.iscomplexobj(a) else low
    return low + upper


@pytest.mark.parametrize("kind", ["real", "complex_symmetric", "hermitian"])
def test_ldl_factor_rebuilds_the_matrix_and_solves(kind):
    rng = np.random.default_rng(0)
    hermitian = kind == "hermitian"
    for n in range(1, 7):
        a = rng.standard_normal((n, n))
        if kind != "real":
            a = a + 1j * rng.standard_normal((n, n))
        a[np.diag_indices(n)] *= 0.05  # small diagonal: 2 x 2 pivots
        LD, piv = L.ldl_factor(rg.tensor(a), hermitian=hermitian)
        assert LD.dtype == rg.tensor(a).dtype and piv.dtype == rg.int32 and tuple(piv.shape) == (n,)
        ld = LD.numpy()
        np.testing.assert_array_equal(np.triu(ld, 1), 0)
        A = _symmetric(a, hermitian)
        np.testing.assert_allclose(_rebuild(ld, piv.numpy(), hermitian), A, atol=1e-10)
        b = rng.standard_normal((n, 3)) + (1j * rng.standard_normal((n, 3)) if kind != "real" else 0)
        x = L.ldl_solve(LD, piv, rg.tensor(b), hermitian=hermitian)
        np.testing.assert_allclose(x.numpy(), np.linalg.solve(A, b), atol=1e-9)


def test_a_zero_diagonal_takes_a_two_by_two_pivot():
    LD, piv = L.ldl_factor(rg.tensor([[0.0, 1.0], [1.0, 0.0]]))
    assert piv.tolist() == [-2, -2]
    np.testing.assert_array_equal(LD.numpy(), [[0.0, 0.0], [1.0, 0.0]])


def test_only_the_lower_triangle_is_read_batches_and_float32():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    garbage = a + np.triu(rng.standard_normal((4, 4)), 1).astype(np.float32)
    LD, piv = L.ldl_factor(rg.tensor(a))
    LD2, piv2 = L.ldl_factor(rg.tensor(garbage))
    np.testing.assert_array_equal(LD.numpy(), LD2.numpy())
    assert LD.dtype == rg.float32 and tuple(LD.shape) == (2, 3, 4, 4) and tuple(piv.shape) == (2, 3, 4)
    b = rng.standard_normal((5, 1, 1, 4, 2)).astype(np.float32)  # batch dims broadcast with LD's
    x = L.ldl_solve(LD, piv, rg.tensor(b))
    assert tuple(x.shape) == (5, 2, 3, 4, 2) and x.dtype == rg.float32
    sym = np.tril(a) + np.swapaxes(np.tril(a, -1), -1, -2)
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(sym.astype(np.float64), b), rtol=1e-3, atol=1e-3)


def test_singular_matrices_are_reported_in_info_or_raise():
    a = np.stack([np.eye(3), np.diag([1.0, 0.0, 2.0])])
    LD, piv, info = L.ldl_factor_ex(rg.tensor(a))
    assert info.dtype == rg.int32 and info.tolist() == [0, 2]
    np.testing.assert_array_equal(LD[1].numpy(), np.diag([1.0, 0.0, 2.0]))
    with pytest.raises(rg.linalg.LinAlgError, match=r"Batch element 1.*singular"):
        L.ldl_factor_ex(rg.tensor(a), check_errors=True)
    with pytest.raises(RuntimeError, match="singular"):
        L.ldl_factor(rg.tensor(a))
    assert L.ldl_factor_ex(rg.zeros(3, 3)).info.item() == 1


def test_bad_inputs_raise_as_pytorch():
    with pytest.raises(RuntimeError, match="square matrices, but they are 2 by 3"):
        L.ldl_factor(rg.ones(2, 3))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        L.ldl_factor_ex(rg.ones(3))
    with pytest.raises(RuntimeError, match="floating point or complex"):
        L.ldl_factor(rg.ones(3, 3, dtype=rg.int64))
    with pytest.raises(NotImplementedError, match="float16"):
        L.ldl_factor(rg.ones(3, 3, dtype=rg.float16))
    LD, piv = L.ldl_factor(rg.tensor([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(IndexError, match="at least 2 dimensions"):
        L.ldl_solve(LD, piv, rg.ones(2))
    with pytest.raises(RuntimeError, match="Incompatible matrix sizes"):
        L.ldl_solve(LD, piv, rg.ones(3, 1))
    with pytest.raises(RuntimeError, match="same dtype"):
        L.ldl_solve(LD, piv, rg.ones(2, 1, dtype=rg.float64))
    with pytest.raises(RuntimeError, match="pivots with shape"):
        L.ldl_solve(LD, piv[:1], rg.ones(2, 1))
    with pytest.raises(RuntimeError, match="pivots to be integers"):
        L.ldl_solve(LD, piv.float(), rg.ones(2, 1))
    np.testing.assert_allclose(L.ldl_solve(LD, piv.long(), rg.ones(2, 1)).numpy(), [[1 / 3], [1 / 3]], rtol=1e-6)


def test_no_derivative_as_in_pytorch():
    A = rg.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
    LD, piv = L.ldl_factor(A)
    assert LD.requires_grad
    with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_factor_ex is not implemented"):
        LD.sum().backward()
    B = rg.ones(2, 1, requires_grad=True)
    x = L.ldl_solve(LD.detach(), piv, B)
    with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_solve is not implemented"):
        x.sum().backward()


def test_out_forms():
    A = rg.tensor([[2.0, 1.0], [1.0, 3.0]])
    LD, piv, info = rg.empty(2, 2), rg.empty(2, dtype=rg.int32), rg.empty((), dtype=rg.int32)
    res = L.ldl_factor_ex(A, out=(LD, piv, info))
    assert res.LD is LD and res.pivots is piv and res.info is info
    np.testing.assert_allclose(LD.numpy(), [[2.0, 0.0], [0.5, 2.5]])
    assert piv.tolist() == [1, 2] and info.item() == 0
    X = rg.empty(2, 1)
    assert L.ldl_solve(LD, piv, rg.ones(2, 1), out=X) is X
    np.testing.assert_allclose((A @ X).numpy(), [[1.0], [1.0]], rtol=1e-6)

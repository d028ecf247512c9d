"""torch.linalg.eig and eigvals (general square matrices, complex results) and the complex matrix
products their gradient is written in (matmul, linalg.solve).

Eigenpairs are unsorted and each eigenvector is defined up to a factor e^{i phi}, so values are
checked through A V = V diag(L), the norm of each eigenvector and the eigenvalues as a multiset;
gradients through losses that do not see the phase."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import gradcheck, gradgradcheck


def _real(shape, seed=0):
    return rg.tensor(np.random.default_rng(seed).standard_normal(shape), dtype=rg.float64)


def _assert_same_multiset(got, want, atol):
    """got and want hold the same values up to order (each value matched to its nearest)."""
    left = list(want)
    for z in got:
        k = int(np.argmin([abs(z - w) for w in left]))
        assert abs(z - left.pop(k)) <= atol, (got, want)


@pytest.mark.parametrize("dtype", [rg.float32, rg.float64, rg.complex64, rg.complex128])
def test_eig_values_vectors_and_dtypes(dtype):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2, 3, 5, 5))
    if dtype.is_complex:
        a = a + 1j * rng.standard_normal(a.shape)
    A = rg.tensor(a, dtype=dtype)
    L, V = rg.linalg.eig(A)
    complex_dtype = {rg.float32: rg.complex64, rg.float64: rg.complex128}.get(dtype, dtype)
    assert L.dtype == complex_dtype and V.dtype == complex_dtype
    assert tuple(L.shape) == (2, 3, 5) and tuple(V.shape) == (2, 3, 5, 5)
    tol = 1e-4 if complex_dtype == rg.complex64 else 1e-10
    a_c = A.numpy().astype(complex)
    lam, vec = L.numpy().astype(complex), V.numpy().astype(complex)
    np.testing.assert_allclose(a_c @ vec, vec * lam[..., None, :], atol=tol * 10)
    np.testing.assert_allclose(np.linalg.norm(vec, axis=-2), 1.0, rtol=tol)
    ref = np.linalg.eigvals(a_c)
    for got, want in zip(lam.reshape(-1, 5), ref.reshape(-1, 5)):
        _assert_same_multiset(got, want, atol=tol * 10)
    ev = rg.linalg.eigvals(A)
    assert ev.dtype == complex_dtype
    np.testing.assert_allclose(ev.numpy(), L.numpy(), atol=tol)


def test_eig_of_a_rotation_has_a_conjugate_pair_and_empty_inputs_work():
    L = rg.linalg.eig(rg.tensor([[0.0, -1.0], [1.0, 0.0]])).eigenvalues
    np.testing.assert_allclose(np.sort_complex(L.numpy()), [-1j, 1j], atol=1e-7)
    L, V = rg.linalg.eig(rg.zeros(2, 0, 0))
    assert tuple(L.shape) == (2, 0) and tuple(V.shape) == (2, 0, 0) and L.dtype == rg.complex64
    assert tuple(rg.linalg.eigvals(rg.zeros(0, 0, dtype=rg.float64)).shape) == (0,)


def _phase_free(L, V):
    """A real function of the eigenpairs that neither their order nor the eigenvectors' phases
    change."""
    return rg.stack([(L * L * L).real.sum(-1), (L * L).imag.sum(-1), (V.abs() * L.real.unsqueeze(-2)).sum((-2, -1))])


def test_eig_gradients_of_a_real_matrix():
    A = _real((2, 4, 4), seed=2).requires_grad_()
    assert gradcheck(lambda a: _phase_free(*rg.linalg.eig(a)), (A,))
    assert gradgradcheck(lambda a: _phase_free(*rg.linalg.eig(a)), (A,))
    assert gradcheck(lambda a: rg.view_as_real(rg.linalg.eigvals(a)).sum(-2), (A,))
    L, V = rg.linalg.eig(A)
    _phase_free(L, V).sum().backward()
    assert A.grad.dtype == rg.float64  # a real input gets the real part of its complex gradient


def test_eig_gradients_of_a_complex_matrix():
    re, im = _real((3, 3), seed=3).requires_grad_(), _real((3, 3), seed=4).requires_grad_()

    def f(a, b):
        return _phase_free(*rg.linalg.eig(rg.complex(a, b)))

    assert gradcheck(f, (re, im))
    assert gradgradcheck(f, (re, im))


def test_eig_gradient_of_the_eigenvalues_is_the_first_order_perturbation():
    # dL_k = u_k^H dA v_k / (u_k^H v_k), u_k the left eigenvector: for a diagonal A, dL_k = dA_kk
    A = rg.tensor(np.diag([1.0, 2.0, 5.0]), requires_grad=True)
    rg.linalg.eigvals(A).real.sum().backward()
    np.testing.assert_allclose(A.grad.numpy(), np.eye(3), atol=1e-12)


def test_eig_backward_refuses_a_loss_that_sees_the_eigenvectors_phase():
    A = _real((3, 3), seed=5).requires_grad_()
    L, V = rg.linalg.eig(A)
    with pytest.raises(RuntimeError, match="linalg_eig_backward: The eigenvectors in the complex case"):
        V.sum().abs().backward()


def test_eig_bad_inputs_raise_as_pytorch():
    for op in (rg.linalg.eig, rg.linalg.eigvals):
        with pytest.raises(RuntimeError, match="square matrices, but they are 2 by 3"):
            op(rg.ones(2, 3))
        with pytest.raises(RuntimeError, match="at least 2 dimensions"):
            op(rg.ones(3))
        with pytest.raises(RuntimeError, match="floating point or complex"):
            op(rg.ones(3, 3, dtype=rg.int64))
        with pytest.raises(NotImplementedError, match="float16"):
            op(rg.ones(3, 3, dtype=rg.float16))
        with pytest.raises(RuntimeError, match="should not contain infs or NaNs"):
            op(rg.tensor([[1.0, float("nan")], [0.0, 1.0]]))
        with pytest.raises(TypeError):
            op(np.eye(2))


def test_eig_out_and_namespace():
    A = _real((3, 3))
    L_out = rg.empty(3, dtype=rg.complex128)
    V_out = rg.empty(3, 3, dtype=rg.complex128)
    res = rg.linalg.eig(A, out=(L_out, V_out))
    assert res.eigenvalues is L_out and res.eigenvectors is V_out
    np.testing.assert_allclose(L_out.numpy(), rg.linalg.eigvals(A).numpy())
    assert "eig" in rg.linalg.__all__ and "eigvals" in rg.linalg.__all__
    assert not hasattr(rg, "eig")  # torch.eig was removed from PyTorch (it only raises there)


def test_complex_matmul_and_solve_gradients():
    parts = [_real((3, 3), seed=s).requires_grad_() for s in range(4)]

    def product(a, b, c, d):
        return rg.view_as_real(rg.complex(a, b) @ rg.complex(c, d))

    def solved(a, b, c, d):
        A = rg.complex(a, b) + 4 * rg.eye(3, dtype=rg.float64)
        return rg.view_as_real(rg.linalg.solve(A, rg.complex(c, d)))

    def dot(a, b, c, d):
        return rg.view_as_real(rg.complex(a, b)[0] @ rg.complex(c, d)[1])

    for f in (product, solved, dot):
        assert gradcheck(f, parts)
        assert gradgradcheck(f, parts)


def test_view_as_real_of_a_zero_dim_complex_tensor():
    z = rg.tensor(1 + 2j)
    r = rg.view_as_real(z)
    assert r.tolist() == [1.0, 2.0]
    r[0] = 5.0  # a view
    assert z.item() == 5 + 2j


def test_eig_forward_with_an_array_module_without_a_general_eigensolver():
    # CuPy before its geev has linalg.eigh but no linalg.eig: the forward runs on the host
    import types

    from retrograd.ops import decomposition

    host_only = types.SimpleNamespace(linalg=types.SimpleNamespace(), asarray=np.asarray, concatenate=np.concatenate)
    a = np.random.default_rng(6).standard_normal((2, 3, 3))
    packed = decomposition._eig_fwd(host_only, a, ((1, 3), (3, 3)))
    w, v = np.linalg.eig(a)
    np.testing.assert_allclose(packed[..., :3], w)
    np.testing.assert_allclose(packed[..., 3:].reshape(2, 3, 3), v)

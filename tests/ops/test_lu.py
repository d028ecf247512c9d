"""lu, lu_unpack and lu_solve (the factorization rebuilds A, LAPACK's pivots and infos, and bad
input) and geqrf/orgqr/ormqr (the Householder form rebuilds A); values and gradients are in the
op table, tests/ops/table_linalg.py."""

import numpy as np
import pytest

import retrograd as rg


@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3), (5, 3), (3, 5)])
def test_lu_rebuilds_the_matrix(shape):
    a = np.random.default_rng(0).normal(size=shape)
    LU, piv = rg.lu(rg.tensor(a))
    assert piv.dtype == rg.int32 and piv.shape == shape[:-2] + (min(shape[-2:]),)
    assert (piv >= 1).all() and (piv <= shape[-2]).all()
    P, L, U = rg.lu_unpack(LU, piv)
    np.testing.assert_allclose((P @ L @ U).numpy(), a, atol=1e-12)
    assert (np.abs(np.tril(L.numpy(), -1)) <= 1 + 1e-12).all()  # partial pivoting bounds the multipliers
    np.testing.assert_array_equal(np.diagonal(L.numpy(), axis1=-2, axis2=-1), 1.0)


def test_pivots_infos_and_flags():
    a = rg.tensor([[0.0, 1.0], [2.0, 3.0]])
    LU, piv = a.lu()
    assert piv.tolist() == [2, 2]  # row 0 was swapped with row 1 (1-based)
    res = rg.lu(rg.zeros(3, 3), get_infos=True)
    assert res.pivots.tolist() == [1, 2, 3] and res.info.item() == 1
    assert rg.lu(rg.eye(2), get_infos=True).info.item() == 0
    P, L, U = rg.lu_unpack(LU, piv, unpack_data=False)
    assert L.numel() == 0 and U.numel() == 0 and P.tolist() == [[0.0, 1.0], [1.0, 0.0]]
    assert rg.lu_unpack(LU, piv, unpack_pivots=False).P.numel() == 0
    with pytest.raises(RuntimeError, match="without pivoting"):
        rg.lu(a, pivot=False)


def test_lu_solve():
    a = np.random.default_rng(1).normal(size=(2, 3, 3)) + 3 * np.eye(3)
    b = np.random.default_rng(2).normal(size=(2, 3, 2))
    x = rg.lu_solve(rg.tensor(b), *rg.lu(rg.tensor(a)))
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(a, b), rtol=1e-10)
    with pytest.raises(RuntimeError, match="Incompatible matrix sizes"):
        rg.lu_solve(rg.ones(2, 2), *rg.lu(rg.tensor(a)))


@pytest.mark.parametrize("shape", [(4, 3), (2, 4, 3), (3, 3), (3, 4)])
def test_geqrf_orgqr_ormqr(shape):
    a = np.random.default_rng(3).normal(size=shape)
    g = rg.geqrf(rg.tensor(a))
    m, n = shape[-2:]
    k = min(m, n)
    assert g.a.shape == shape and g.tau.shape == shape[:-2] + (k,)
    R = np.triu(g.a.numpy())[..., :k, :]
    Q = rg.ormqr(g.a, g.tau, rg.eye(m, dtype=rg.float64).expand(shape[:-2] + (m, m))).numpy()
    np.testing.assert_allclose(Q[..., :, :k] @ R, a, atol=1e-12)
    np.testing.assert_allclose(np.swapaxes(Q, -1, -2) @ Q, np.broadcast_to(np.eye(m), Q.shape), atol=1e-12)
    if m >= n:
        np.testing.assert_allclose(rg.orgqr(g.a, g.tau).numpy(), Q[..., :, :n], atol=1e-12)
        assert g.a.orgqr(g.tau).shape == shape
    x = rg.tensor(a, requires_grad=True)
    with pytest.raises(NotImplementedError, match="geqrf"):
        (x.geqrf().a.sum() + x.sum()).backward()
    with pytest.raises(RuntimeError, match="must be equal to"):
        rg.ormqr(g.a, g.tau, rg.ones(m + 1, 2))

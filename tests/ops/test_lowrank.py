"""svd_lowrank/pca_lowrank: exact on low-rank matrices, the leading singular values of others,
gradients, and bad input."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import gradcheck

RNG = np.random.default_rng(0)
LOW = RNG.normal(size=(2, 9, 3)) @ RNG.normal(size=(2, 3, 6))  # rank 3


@pytest.mark.parametrize("a", [LOW, LOW.swapaxes(-1, -2)])
def test_svd_lowrank_is_exact_on_a_low_rank_matrix(a):
    rg.manual_seed(0)
    U, S, V = rg.svd_lowrank(rg.tensor(a), q=3)
    m, n = a.shape[-2:]
    assert U.shape == (2, m, 3) and S.shape == (2, 3) and V.shape == (2, n, 3)
    np.testing.assert_allclose((U * S.unsqueeze(-2)) @ V.mT, a, atol=1e-10)
    np.testing.assert_allclose(S.numpy(), np.linalg.svd(a, compute_uv=False)[..., :3], rtol=1e-10)
    np.testing.assert_allclose((U.mT @ U).numpy(), np.broadcast_to(np.eye(3), (2, 3, 3)), atol=1e-12)


def test_pca_lowrank_centers():
    x = RNG.normal(size=(30, 4)) * [3.0, 1.0, 0.5, 0.1] + 7.0
    rg.manual_seed(1)
    U, S, V = rg.pca_lowrank(rg.tensor(x), q=4)
    np.testing.assert_allclose(S.numpy(), np.linalg.svd(x - x.mean(0), compute_uv=False), rtol=1e-8)
    rg.manual_seed(1)
    _, S2, _ = rg.pca_lowrank(rg.tensor(x), q=4, center=False)
    np.testing.assert_allclose(S2.numpy(), np.linalg.svd(x, compute_uv=False), rtol=1e-8)
    assert rg.pca_lowrank(rg.tensor(x))[1].shape == (4,)


def test_gradients():
    def f(a):
        rg.manual_seed(0)
        U, S, V = rg.svd_lowrank(a, q=2, niter=1)
        return S, (U * S.unsqueeze(-2)) @ V.mT

    assert gradcheck(f, (rg.tensor(RNG.normal(size=(5, 2)) @ RNG.normal(size=(2, 4)), requires_grad=True),))


def test_bad_input():
    with pytest.raises(ValueError, match="not greater than min"):
        rg.pca_lowrank(rg.ones(3, 2), q=3)
    with pytest.raises(ValueError, match="niter"):
        rg.pca_lowrank(rg.ones(3, 2), niter=-1)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        rg.svd_lowrank(rg.ones(3))

"""sum and mean over one middle dim of a large float array take a BLAS path (a vector-matrix
product with ones); its values, shapes and dtypes must be NumPy's."""

import numpy as np
import pytest

import retrograd as rg


@pytest.mark.parametrize("shape,dim", [((64, 40, 8), 1), ((64, 40, 8), -2), ((4096, 3), 0), ((3, 2048, 2, 2), 1)])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sum_and_mean_over_a_middle_dim(shape, dim, keepdim, dtype):
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    from retrograd.ops.reduction import _middle_sum

    assert _middle_sum(np, x, (dim % x.ndim,), keepdim) is not None  # the BLAS path is taken
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for fn in ("sum", "mean"):
        got = getattr(rg.tensor(x), fn)(dim, keepdim=keepdim).numpy()
        want = getattr(x, fn)(axis=dim, keepdims=keepdim)
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.sqrt(x.shape[dim]))


def test_middle_mean_gradient():
    x = rg.tensor(np.random.default_rng(1).standard_normal((64, 40, 8)), requires_grad=True)
    x.mean(1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((64, 40, 8), 1 / 40))
    assert rg.autograd.gradcheck(
        lambda t: t.mean(0), (rg.tensor(np.random.default_rng(2).standard_normal((2048, 2)), requires_grad=True),)
    )


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_middle_sum_keeps_nan_and_inf():
    x = np.ones((2048, 2, 2))
    x[5, 0, 0], x[7, 1, 1], x[9, 1, 1] = np.nan, np.inf, -np.inf
    got = rg.tensor(x).sum(0).numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(x.sum(0)))

"""Sums, means and extremes over one axis take faster paths than NumPy's own reduction
(backend.reductions): a product with a ones vector for float sums over the last or a middle
axis, ``initial=`` for float extremes. Their values, shapes and dtypes must be NumPy's."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.backend import reductions


@pytest.fixture
def products(monkeypatch):
    """Counts the ones vectors the product path asks for (each product asks once)."""
    calls = []
    real = reductions._ones

    def counted(n, dtype):
        calls.append((n, dtype))
        return real(n, dtype)

    monkeypatch.setattr(reductions, "_ones", counted)
    return calls


SHAPES = [
    ((64, 40, 8), 1),
    ((64, 40, 8), -2),
    ((4096, 3), 0),
    ((3, 2048, 2, 2), 1),
    ((1024, 128), -1),
    ((8, 64, 65), 2),
]


@pytest.mark.parametrize("shape,dim", SHAPES)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sum_and_mean_over_one_dim(products, shape, dim, keepdim, dtype):
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for fn in ("sum", "mean"):
        del products[:]
        got = getattr(rg.tensor(x), fn)(dim, keepdim=keepdim).numpy()
        assert products, "the product path was not taken"
        want = getattr(x, fn)(axis=dim, keepdims=keepdim)
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.sqrt(x.shape[dim]))


@pytest.mark.parametrize("shape,dim", [((10, 3), 1), ((100, 4000), 1), ((4, 5), 0), ((2, 2, 2), 2)])
def test_short_long_or_small_reductions_stay_on_numpy(products, shape, dim):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    got = rg.tensor(x).sum(dim).numpy()
    assert not products
    np.testing.assert_array_equal(got, x.sum(axis=dim))


def test_float16_mean_keeps_numpys_float32_accumulation(products):
    x = np.full((64, 4096), 0.1, np.float16)
    np.testing.assert_array_equal(rg.tensor(x).mean(1).numpy(), x.mean(axis=1))
    assert not products


def test_middle_mean_gradient():
    x = rg.tensor(np.random.default_rng(1).standard_normal((64, 40, 8)), requires_grad=True)
    x.mean(1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((64, 40, 8), 1 / 40))
    assert rg.autograd.gradcheck(
        lambda t: t.mean(0), (rg.tensor(np.random.default_rng(2).standard_normal((2048, 2)), requires_grad=True),)
    )


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
@pytest.mark.parametrize("shape,dim", [((2048, 2, 2), 0), ((256, 64), 1)])
def test_product_sums_keep_nan_and_inf(shape, dim):
    x = np.ones(shape)
    x.reshape(-1)[[5, 70, 90]] = np.nan, np.inf, -np.inf
    x.reshape(-1)[200] = np.inf
    got = rg.tensor(x).sum(dim).numpy()
    want = x.sum(dim)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(got[np.isfinite(want)], want[np.isfinite(want)])
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(want))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape,dim", [((1024, 128), 1), ((1024, 16), -1), ((7, 33, 5), (0, 2)), ((64, 3), 0)])
def test_extremes_are_numpys(dtype, shape, dim):
    x = np.random.default_rng(3).standard_normal(shape).astype(dtype)
    x.reshape(-1)[::97] = -np.inf
    x.reshape(-1)[5] = np.nan
    x.reshape(-1)[11] = -0.0
    t = rg.tensor(x)
    for got, want in ((t.amax(dim), x.max(axis=dim)), (t.amin(dim), x.min(axis=dim))):
        np.testing.assert_array_equal(got.numpy(), want)  # NaN where NumPy has NaN, same values elsewhere


def test_extreme_of_an_all_minus_inf_row():
    x = np.full((4, 128), -np.inf, np.float32)
    assert np.all(rg.tensor(x).amax(1).numpy() == -np.inf)
    assert np.all(rg.tensor(-x).amin(1).numpy() == np.inf)


@pytest.mark.parametrize(
    "shape,dim,keepdim", [((0, 3), 0, False), ((0, 3), 0, True), ((3, 0), 0, False), ((0, 3), 1, False)]
)
def test_logsumexp_of_empty_slices_is_minus_inf_as_in_pytorch(shape, dim, keepdim):
    x = rg.zeros(*shape, requires_grad=True)
    out = rg.logsumexp(x, dim, keepdim=keepdim)
    want_shape = tuple(1 if i == dim else n for i, n in enumerate(shape)) if keepdim else shape[:dim] + shape[dim + 1 :]
    assert tuple(out.shape) == want_shape
    assert np.all(out.detach().numpy() == -np.inf)
    out.sum().backward()
    assert tuple(x.grad.shape) == shape


def test_all_any_keep_uint8_and_nansum_of_integers_is_an_integer_sum():
    u = rg.tensor([[0, 3], [1, 2]], dtype=rg.uint8)
    assert u.all().dtype == rg.uint8 and u.all().item() == 0
    assert u.any(1).dtype == rg.uint8 and u.any(1).tolist() == [1, 1]
    assert rg.tensor([0, 2]).all().dtype == rg.bool
    s = rg.nansum(rg.tensor([True, True, False]))
    assert s.dtype == rg.int64 and s.item() == 2
    assert rg.nansum(rg.tensor([1, 2], dtype=rg.int8), 0).dtype == rg.int64


def test_an_integer_dtype_asked_for_is_kept_by_sum_prod_and_scans():
    # NumPy sums and scans small integers in int64; dtype= is the result dtype
    t = rg.tensor([[100, 100], [3, -4]], dtype=rg.int8)
    a = np.array([[100, 100], [3, -4]])
    assert t.sum(dtype=rg.int32).dtype == rg.int32 and t.sum(dtype=rg.int32).item() == a.sum()
    assert t.sum(0, dtype=rg.int16).dtype == rg.int16
    assert t.cumsum(0, dtype=rg.int32).dtype == rg.int32
    assert t.cumsum(0, dtype=rg.int32).tolist() == a.cumsum(0).tolist()
    assert t.cumprod(1, dtype=rg.int16).tolist() == a.cumprod(1).tolist()
    assert t.prod(dtype=rg.int32).dtype == rg.int32 and t.prod(dtype=rg.int32).item() == a.prod()
    assert t.prod(1, dtype=rg.int8).tolist() == a.prod(1).astype(np.int8).tolist()  # wraps, as in int8
    assert t.sum().dtype == rg.int64 and t.cumsum(1).dtype == rg.int64


def test_half_precision_scans_accumulate_in_float32():
    # a float16 running sum of 0.1s stalls at 256 (0.1 is below half an ulp there)
    y = rg.tensor([0.1] * 3000, dtype=rg.float16, requires_grad=True)
    c = y.cumsum(0)
    assert c.dtype == rg.float16 and c[-1].item() == 300.0
    c.sum().backward()
    assert y.grad[0].item() == 3000.0 and y.grad.dtype == rg.float16
    x = rg.tensor([60000.0, 60000.0, -60000.0, -50000.0], dtype=rg.float16)
    assert x.cumsum(0).tolist() == [60000.0, np.inf, 60000.0, 10016.0]
    b = rg.tensor([1.01] * 500, dtype=rg.bfloat16)  # 1.0078125 in bfloat16
    assert b.cumprod(0)[-1].item() == b.float().cumprod(0)[-1].to(rg.bfloat16).item()

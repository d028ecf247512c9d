"""Statistics beyond the op table: ties in mode, NaN and argument rules of quantile, the
counting ops (histc, bincount, isin), and logcumsumexp at extremes."""

import math

import numpy as np
import pytest

import retrograd as rg


def test_mode_ties_take_the_smallest_value_and_its_last_index():
    x = rg.tensor([[1.0, 2, 2, 3, 3, 0], [5, 5, 1, 1, 7, 7]])
    values, indices = rg.mode(x, 1)
    assert values.tolist() == [2.0, 1.0] and indices.tolist() == [2, 3]
    r = rg.tensor([3, 1, 3, 1, 2]).mode()
    assert r.values.item() == 1 and r.indices.item() == 3
    k = x.mode(0, keepdim=True)
    assert k.values.shape == (1, 6)
    w = rg.tensor([1.0, 4.0, 1.0, 2.0], requires_grad=True)
    w.mode().values.backward()
    assert w.grad.tolist() == [0.0, 0.0, 1.0, 0.0]


def test_quantile_rules():
    x = rg.tensor([1.0, math.nan, 3.0])
    assert math.isnan(rg.quantile(x, 0.5).item())
    assert rg.nanquantile(x, 0.5).item() == 2.0
    assert math.isnan(rg.nanquantile(rg.full((2,), math.nan), 0.5).item())
    assert rg.quantile(rg.arange(4.0), 0.5, interpolation="nearest").item() == 2.0
    assert rg.quantile(rg.ones(2, 3), rg.tensor([0.1, 0.9]), dim=1).shape == (2, 2)
    with pytest.raises(RuntimeError, match="range"):
        rg.quantile(rg.ones(3), 1.5)
    with pytest.raises(RuntimeError, match="float or double"):
        rg.quantile(rg.tensor([1, 2]), 0.5)
    with pytest.raises(RuntimeError, match="interpolation"):
        rg.quantile(rg.ones(3), 0.5, interpolation="cubic")
    with pytest.raises(RuntimeError, match="same dtype"):
        rg.quantile(rg.ones(3), rg.tensor([0.5], dtype=rg.float64))


def test_histc():
    assert rg.histc(rg.tensor([1.0, 2, 1, 5]), bins=4, min=0, max=3).tolist() == [0.0, 2.0, 1.0, 0.0]
    assert rg.histc(rg.tensor([2.0, 2, 2]), bins=4).tolist() == [0.0, 0.0, 3.0, 0.0]
    h = rg.tensor([0.0, 0.5, 1.0]).histc(bins=2)
    assert h.tolist() == [1.0, 2.0] and h.dtype == rg.float32


def test_bincount_and_isin():
    i = rg.tensor([0, 1, 1, 3])
    assert rg.bincount(i).tolist() == [1, 2, 0, 1]
    assert i.bincount(minlength=6).tolist() == [1, 2, 0, 1, 0, 0]
    b = rg.bincount(i, weights=rg.tensor([1.0, 2, 3, 4]))
    assert b.tolist() == [1.0, 5.0, 0.0, 4.0] and b.dtype == rg.float32
    assert rg.bincount(i, weights=rg.tensor([1, 2, 3, 4])).dtype == rg.float64
    for low in (rg.float16, rg.bfloat16):  # summed in float64, as PyTorch does
        h = rg.bincount(i, weights=rg.tensor([0.5, 2, 3, 4], dtype=low))
        assert h.dtype == rg.float64 and h.tolist() == [0.5, 5.0, 0.0, 4.0]
    with pytest.raises(RuntimeError, match="non-negative"):
        rg.bincount(rg.tensor([1, -1]))
    with pytest.raises(RuntimeError, match="1-d"):
        rg.bincount(rg.tensor([[1]]))
    assert rg.isin(rg.tensor([1, 2, 3]), rg.tensor([2, 3])).tolist() == [False, True, True]
    assert rg.isin(rg.tensor([1, 2, 3]), 2, invert=True).tolist() == [True, False, True]
    assert rg.isin(2, rg.tensor([1, 2])).item() is True


def test_logcumsumexp_extremes():
    x = rg.tensor([-1000.0, 0.0, -1e10, -math.inf], dtype=rg.float64)
    np.testing.assert_allclose(rg.logcumsumexp(x, 0).numpy(), [-1000.0, 0.0, 0.0, 0.0])
    y = rg.tensor([-math.inf, -math.inf, 1.0], dtype=rg.float64, requires_grad=True)
    out = y.logcumsumexp(0)
    assert out.tolist()[:2] == [-math.inf, -math.inf]
    out.sum().backward()
    assert y.grad.tolist() == [0.0, 0.0, 1.0]


def test_cov_rules_and_renorm_():
    with pytest.raises(RuntimeError, match="integral"):
        rg.cov(rg.ones(2, 3), fweights=rg.tensor([1.0, 1, 1]))
    with pytest.raises(RuntimeError, match="negative"):
        rg.cov(rg.ones(2, 3), aweights=rg.tensor([1.0, -1, 1]))
    assert rg.cov(rg.tensor([1.0, 2.0, 4.0])).item() == pytest.approx(7 / 3)
    x = rg.tensor([[1.0, 2.0], [3.0, 4.0]])
    x.renorm_(2, 0, 3)
    np.testing.assert_allclose(x.numpy(), [[1.0, 2.0], [1.8, 2.4]], rtol=1e-6)


def test_std_and_p_norm_gradients_are_zero_where_the_value_is_zero():
    # a constant slice has std 0 and an all-zero slice p-norm 0: PyTorch takes the (infinite)
    # slope of the root there as 0, so the gradient is 0 rather than nan
    x = rg.tensor([[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]], dtype=rg.float64, requires_grad=True)
    x.std(1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, 0.0, 0.0], [-0.5, 0.0, 0.5]])
    x.grad = None
    rg.std_mean(x, 1, correction=0)[0].sum().backward()
    assert np.isfinite(x.grad.numpy()).all() and (x.grad.numpy()[0] == 0).all()
    x.grad = None
    (x * rg.tensor([[0.0], [1.0]], dtype=rg.float64)).norm(p=3, dim=1).sum().backward()
    v = np.array([1.0, 2.0, 3.0])
    want = v**2 / (v**3).sum() ** (2 / 3)  # d ||v||_3 / dv = v^2 / ||v||_3^2
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, 0.0, 0.0], want])
    y = rg.tensor([[0.5, 1.5, -2.0]], dtype=rg.float64, requires_grad=True)
    assert rg.autograd.gradcheck(lambda t: t.std(1), (y,))
    assert rg.autograd.gradcheck(lambda t: rg.linalg.vector_norm(t, 3.5, dim=1), (y,))


def test_vector_norm_of_half_precision_accumulates_in_float32():
    # 300^2 + 400^2 overflows float16 (max 65504); PyTorch accumulates in float32
    x = rg.tensor([300.0, 400.0], dtype=rg.float16, requires_grad=True)
    n = rg.linalg.vector_norm(x)
    assert n.dtype == rg.float16 and n.item() == 500.0
    assert x.norm(p=3).item() == float(np.float16((300.0**3 + 400.0**3) ** (1 / 3)))
    n.backward()
    np.testing.assert_allclose(x.grad.numpy().astype(np.float64), [0.6, 0.8], rtol=1e-3)
    assert rg.linalg.vector_norm(x.detach().to(rg.bfloat16)).item() == 500.0


def test_p_norm_gradient_at_an_infinite_norm_is_zero_for_the_finite_inputs():
    x = rg.tensor([-1.0, 4.0, -math.inf, 2.0], requires_grad=True)
    x.norm(p=3).backward()
    g = x.grad.tolist()
    assert g[0] == 0.0 and g[1] == 0.0 and g[3] == 0.0 and math.isnan(g[2])
    e = rg.zeros(3, 0, dtype=rg.float16, requires_grad=True)
    n = rg.norm(e, p=3, dim=1)
    n.sum().backward()
    assert n.tolist() == [0.0, 0.0, 0.0] and tuple(e.grad.shape) == (3, 0)

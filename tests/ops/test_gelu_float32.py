"""GELU's normal CDF on either path: with MKL in use, VML's one-pass v?CdfNorm
(backend/vml.py); without it, float32 computes erf by Abramowitz & Stegun 7.1.26 (|error| <=
1.5e-7, PyTorch's vectorised CPU formula) in cache-sized blocks and float64 the exact path.
Every test runs on both paths (the MKL one where the mkl wheel is installed)."""

import math
import os

import numpy as np
import pytest

import retrograd as rg
from retrograd.backend import blas, vml
from retrograd.backend.blocks import BLOCK


def _mkl():
    """MKL's library, loaded whatever the CPU (by default only on Intel's), or None."""
    if os.environ.get("RETROGRAD_BLAS", "").lower() == "numpy":
        return None
    lib = blas.active()
    return lib if lib is not None and lib.name == "mkl" else blas.load_mkl()


@pytest.fixture(params=["numpy", "mkl"], autouse=True)
def path(request):
    lib = None
    if request.param == "mkl":
        lib = _mkl()
        if lib is None:
            pytest.skip("MKL is not available (pip install retrograd[mkl])")
    prev = blas.use(lib)
    try:
        yield request.param
    finally:
        blas.use(prev)


def _exact(x):
    x = x.astype(np.float64)
    cdf = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in x.ravel()]).reshape(x.shape)
    pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    return x * cdf, cdf + x * pdf


def _sample(n, seed=0):
    x = (np.random.default_rng(seed).standard_normal(n) * 3).astype(np.float32)
    x[:8] = [0.0, -0.0, 1e-30, -1e-30, 9.0, -9.0, 40.0, -40.0]
    return x


def test_values_within_the_formulas_error_over_several_blocks():
    x = _sample(3 * BLOCK + 123)
    got = rg.nn.functional.gelu(rg.tensor(x)).numpy()
    want, _ = _exact(x)
    assert got.dtype == np.float32
    # erf's 1.5e-7 and the rounding of 1 - t P(t) e^(-z^2) near 1 make Phi's error about
    # 1.6e-7 at worst (measured 3.2e-7 |x| over a million draws for GELU), as for PyTorch's
    err = np.abs(got - want)
    assert np.all(err <= 4e-7 * np.abs(x) + 1e-30), float(err.max())


def test_each_value_is_the_same_whatever_block_it_falls_in():
    x = _sample(2 * BLOCK + 7, seed=1)
    whole = rg.nn.functional.gelu(rg.tensor(x)).numpy()
    for i in (0, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK + 6):
        alone = rg.nn.functional.gelu(rg.tensor(x[i : i + 1])).numpy()
        assert alone.view(np.uint32)[0] == whole.view(np.uint32)[i]


def test_signed_zero_infinities_and_nan():
    x = np.array([0.0, -0.0, np.inf, np.nan, -np.nan], np.float32)
    got = rg.nn.functional.gelu(rg.tensor(x)).numpy()
    assert got[0] == 0 and not np.signbit(got[0])
    assert got[1] == 0 and np.signbit(got[1])
    assert got[2] == np.inf
    assert np.isnan(got[3]) and np.isnan(got[4])


def test_strided_and_batched_inputs_agree_with_contiguous_ones():
    x = _sample(4 * 1000).reshape(40, 100)
    strided = rg.nn.functional.gelu(rg.tensor(x)[:, ::2]).numpy()
    contiguous = rg.nn.functional.gelu(rg.tensor(np.ascontiguousarray(x[:, ::2]))).numpy()
    np.testing.assert_array_equal(strided, contiguous)


@pytest.mark.parametrize("n", [9, 2 * BLOCK + 9])
def test_gradient_is_phi_plus_x_pdf(n):
    x = _sample(n, seed=2)
    g = np.random.default_rng(3).standard_normal(n).astype(np.float32)
    t = rg.tensor(x, requires_grad=True)
    rg.nn.functional.gelu(t).backward(rg.tensor(g))
    _, d = _exact(x)
    want = g * d
    err = np.abs(t.grad.numpy() - want)
    assert np.all(err <= 4e-7 * np.maximum(1, np.abs(x)) * np.abs(g) + 1e-37), float(err.max())


def test_float64_gives_the_exact_cdf():
    x = _sample(1000).astype(np.float64)
    got = rg.nn.functional.gelu(rg.tensor(x)).numpy()
    want, _ = _exact(x)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)


def test_each_path_is_the_one_taken(path, monkeypatch):
    calls = []
    monkeypatch.setattr(vml, "cdf_norm", lambda x, f=vml.cdf_norm: calls.append(f(x)) or calls[-1])
    rg.nn.functional.gelu(rg.tensor(_sample(10)))
    assert (calls[0] is not None) == (path == "mkl")


@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-7), (np.float64, 1e-15)])
def test_vml_cdf_norm_is_phi_at_every_alignment(path, dtype, tol):
    x = _sample(5000).astype(dtype)
    got = vml.cdf_norm(x)
    if path == "numpy":
        assert got is None
        return
    want = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in x.astype(np.float64)])
    assert got.dtype == dtype and got.shape == x.shape
    assert np.abs(got - want).max() <= tol
    buf = np.empty(x.size + 16, dtype)
    for offset in range(1, 16, 5):  # other addresses: the same bits (a replay must match eager)
        moved = buf[offset : offset + x.size]
        moved[...] = x
        assert np.array_equal(vml.cdf_norm(moved), got)
    assert np.array_equal(vml.cdf_norm(x.reshape(50, 100)[:, ::2]), got.reshape(50, 100)[:, ::2])
    assert vml.cdf_norm(x.astype(np.float16)) is None


@pytest.mark.parametrize(
    "make, stride",
    [
        (lambda: rg.randn(2, 6, 5, 5).contiguous(memory_format=rg.channels_last), (150, 1, 30, 6)),
        (lambda: rg.randn(4, 5).t(), (1, 5)),
        (lambda: rg.randn(2, 3, 4, 5)[:, :, ::2], (30, 10, 5, 1)),
    ],
)
def test_gelu_float32_keeps_a_dense_layout(make, stride):
    """As PyTorch's element-wise kernels: a channels-last or transposed input gives a result laid
    out the same way (a strided one a row-major result), with the row-major input's values."""
    x = make()
    y = rg.nn.functional.gelu(x)
    assert y.stride() == stride
    np.testing.assert_array_equal(y.numpy(), rg.nn.functional.gelu(x.contiguous()).numpy())
    xg = x.detach().requires_grad_()
    rg.nn.functional.gelu(xg).sum().backward()
    xc = x.contiguous().detach().requires_grad_()
    rg.nn.functional.gelu(xc).sum().backward()
    np.testing.assert_allclose(xg.grad.numpy(), xc.grad.numpy(), rtol=1e-6)

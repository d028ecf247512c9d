"""ReLU's gradient (threshold_backward): g where the output is not <= 0, as PyTorch's (a NaN
output passes its gradient on); large float arrays take a bitwise select in blocks."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.backend.blocks import BLOCK


def _want(x, g):
    out = np.maximum(x, 0)
    return np.where(out <= 0, np.zeros((), g.dtype), g)


@pytest.mark.parametrize("n", [7, 2 * BLOCK + 5])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_gradient_bits(n, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    x[:4] = [np.nan, 0.0, -0.0, 1.0]
    g[3:7] = [np.inf, -np.inf, np.nan, -0.0]
    x[4:7] = [2.0, 3.0, 4.0]
    t = rg.tensor(x, requires_grad=True)
    rg.relu(t).backward(rg.tensor(g))
    got = t.grad.numpy()
    assert got.dtype == dtype
    bits = f"u{np.dtype(dtype).itemsize}"
    np.testing.assert_array_equal(got.view(bits), _want(x, g).view(bits))
    assert got[0] == g[0]  # NaN input: the gradient passes, as in PyTorch


def test_strided_gradient_takes_the_plain_path_with_the_same_values():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2 * BLOCK + 3, 2)).astype(np.float32)
    g = rng.standard_normal((2 * BLOCK + 3, 2)).astype(np.float32)
    t = rg.tensor(x[:, 0], requires_grad=True)
    rg.relu(t).backward(rg.tensor(g)[:, 1])
    np.testing.assert_array_equal(t.grad.numpy(), _want(x[:, 0], g[:, 1]))

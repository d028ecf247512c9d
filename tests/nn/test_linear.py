"""Identity, Linear, Bilinear, Flatten, Unflatten: forward, initialisation, gradients."""

import math

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn

from ._util import assert_uniform, module_gradcheck, t64


def test_linear_forward_matches_numpy():
    m = nn.Linear(4, 3)
    x = np.random.randn(2, 5, 4).astype(np.float32)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    np.testing.assert_allclose(m(rg.tensor(x)).detach().numpy(), x @ w.T + b, rtol=1e-5, atol=1e-6)
    nb = nn.Linear(4, 3, bias=False)
    assert nb.bias is None and [n for n, _ in nb.named_parameters()] == ["weight"]
    np.testing.assert_allclose(
        nb(rg.tensor(x)).detach().numpy(), x @ nb.weight.detach().numpy().T, rtol=1e-5, atol=1e-6
    )


def test_linear_default_init():
    m = nn.Linear(100, 1000)
    assert m.weight.shape == (1000, 100) and m.bias.shape == (1000,)
    assert_uniform(m.weight, 1 / math.sqrt(100))
    assert_uniform(m.bias, 1 / math.sqrt(100), rel=0.15)
    assert m.weight.dtype == rg.float32
    assert nn.Linear(2, 2, dtype=rg.float64).weight.dtype == rg.float64


def test_linear_gradcheck():
    m = nn.Linear(3, 2)
    assert module_gradcheck(m, t64(np.random.randn(4, 3), requires_grad=True))


def test_bilinear():
    m = nn.Bilinear(3, 4, 2)
    x1 = np.random.randn(5, 3)
    x2 = np.random.randn(5, 4)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    expected = np.einsum("ni,kij,nj->nk", x1, w, x2) + b
    if not hasattr(nn.functional, "bilinear"):
        pytest.skip("F.bilinear not available yet")
    out = m(rg.tensor(x1, dtype=rg.float32), rg.tensor(x2, dtype=rg.float32))
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-4, atol=1e-5)
    m = nn.Bilinear(2, 3, 2)
    assert module_gradcheck(m, t64(np.random.randn(2, 2), True), t64(np.random.randn(2, 3), True))


def test_bilinear_init():
    m = nn.Bilinear(50, 10, 20)
    assert m.weight.shape == (20, 50, 10)
    assert_uniform(m.weight, 1 / math.sqrt(50))
    assert repr(m) == "Bilinear(in1_features=50, in2_features=10, out_features=20, bias=True)"


def test_identity_flatten_unflatten():
    x = rg.randn(2, 3, 4, 5)
    assert nn.Identity(54, unused=1)(x) is x
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    assert nn.Unflatten(1, (3, 1))(rg.randn(2, 3)).shape == (2, 3, 1)
    y = nn.Unflatten(-1, [2, 2])(nn.Flatten(2)(rg.randn(2, 3, 2, 2)))
    assert y.shape == (2, 3, 2, 2)
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(nn.Unflatten(1, (2, 5))) == "Unflatten(dim=1, unflattened_size=(2, 5))"
    with pytest.raises(TypeError):
        nn.Unflatten(1, 3)
    x = t64(np.random.randn(2, 6), requires_grad=True)
    assert module_gradcheck(nn.Sequential(nn.Unflatten(1, (2, 3)), nn.Flatten()), x)

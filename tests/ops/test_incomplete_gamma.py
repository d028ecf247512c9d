"""igamma / igammac (special.gammainc / gammaincc): values against numerical integration of the
density, PyTorch's special values, the gradient in x, and the refused gradient in a."""

import math

import numpy as np
import pytest

import retrograd as torch
from retrograd.autograd import gradcheck, gradgradcheck


def _lower_by_quadrature(a, x):
    k = max(4.0, 2.0 / a)  # t = x u^k makes the integrand ~ u^(k a - 1): smooth at 0
    u = np.linspace(0.0, 1.0, 400001)
    grid = x * u**k
    dens = np.exp((a - 1) * np.log(np.maximum(grid, 1e-300)) - grid - math.lgamma(a)) * k * x * u ** (k - 1)
    return float(np.sum((dens[1:] + dens[:-1]) * np.diff(u)) / 2)


@pytest.mark.parametrize(
    "a,x", [(0.5, 0.2), (1.0, 1.3), (3.0, 2.0), (3.0, 12.0), (20.0, 18.0), (2.5, 40.0), (0.05, 3.0)]
)
def test_values(a, x):
    p = torch.igamma(torch.tensor([a], dtype=torch.float64), torch.tensor([x], dtype=torch.float64)).item()
    q = torch.special.gammaincc(torch.tensor([a], dtype=torch.float64), torch.tensor([x], dtype=torch.float64)).item()
    assert p == pytest.approx(_lower_by_quadrature(a, x), rel=1e-7, abs=1e-12)
    assert p + q == pytest.approx(1.0, abs=1e-14)
    if a == 1.0:
        assert q == pytest.approx(math.exp(-x), rel=1e-13)  # Q(1, x) = e^-x


def test_upper_tail_keeps_relative_accuracy():
    # Q(1, x) = e^-x exactly; 1 - P would be 0 here
    q = torch.igammac(torch.tensor([1.0], dtype=torch.float64), torch.tensor([50.0], dtype=torch.float64)).item()
    assert q == pytest.approx(math.exp(-50.0), rel=1e-12)


def test_special_values_and_dtypes():
    inf = math.inf
    a = torch.tensor([0.0, 2.0, -1.0, 2.0, inf, 2.0])
    x = torch.tensor([1.0, 0.0, 1.0, inf, 3.0, -1.0])
    got = torch.igamma(a, x).tolist()
    assert got[:2] == [1.0, 0.0] and math.isnan(got[2]) and got[3:5] == [1.0, 0.0] and math.isnan(got[5])
    assert torch.igamma(a, x).dtype is torch.float32
    assert torch.special.gammainc is not None and torch.tensor([2.0]).igammac(torch.tensor([1.0])).item() > 0.7
    with pytest.raises(RuntimeError, match="not implemented for"):
        torch.igamma(torch.tensor([1]), torch.tensor([2]))
    o = torch.empty(0)
    assert torch.special.gammainc(torch.tensor([2.0]), torch.tensor([1.0]), out=o) is o


def test_gradients():
    a = torch.tensor([0.7, 3.0, 20.0], dtype=torch.float64)
    x = torch.tensor([0.4, 5.0, 18.0], dtype=torch.float64, requires_grad=True)
    assert gradcheck(lambda v: torch.igamma(a, v), (x,))
    assert gradcheck(lambda v: torch.igammac(a, v), (x,))
    assert gradgradcheck(lambda v: torch.igamma(a, v), (x,))
    with pytest.raises(NotImplementedError, match="with respect to a"):
        torch.igamma(a.clone().requires_grad_(), x).sum().backward()


def test_gamma_cdf():
    from retrograd import distributions as D

    conc, rate = torch.tensor([0.7, 3.0], dtype=torch.float64), torch.tensor([2.0, 0.5], dtype=torch.float64)
    v = torch.tensor([0.5, 4.0], dtype=torch.float64, requires_grad=True)
    cdf = D.Gamma(conc, rate).cdf(v)
    np.testing.assert_allclose(
        cdf.detach().numpy(), [_lower_by_quadrature(0.7, 1.0), _lower_by_quadrature(3.0, 2.0)], rtol=1e-7
    )
    assert gradcheck(lambda value: D.Gamma(conc, rate).cdf(value), (v,))

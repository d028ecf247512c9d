"""Activation modules against NumPy formulas; options, repr and gradients."""

import math

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn

from ._util import module_gradcheck, t64


def np_softplus(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta)


def np_erf(x):
    return np.vectorize(math.erf)(x)


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

# module factory, NumPy reference
CASES = {
    "ReLU": (lambda: nn.ReLU(), lambda x: np.maximum(x, 0)),
    "ReLU6": (lambda: nn.ReLU6(), lambda x: np.clip(x, 0, 6)),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    "ELU": (lambda: nn.ELU(0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x))),
    "SELU": (lambda: nn.SELU(), lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x))),
    "CELU": (lambda: nn.CELU(2.0), lambda x: np.maximum(x, 0) + np.minimum(0, 2.0 * np.expm1(x / 2.0))),
    "GELU": (lambda: nn.GELU(), lambda x: 0.5 * x * (1 + np_erf(x / math.sqrt(2)))),
    "GELU_tanh": (
        lambda: nn.GELU("tanh"),
        lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
    ),
    "SiLU": (lambda: nn.SiLU(), lambda x: x / (1 + np.exp(-x))),
    "Mish": (lambda: nn.Mish(), lambda x: x * np.tanh(np.log1p(np.exp(x)))),
    "Softplus": (lambda: nn.Softplus(2.0, 3.0), lambda x: np_softplus(x, 2.0, 3.0)),
    "Softsign": (lambda: nn.Softsign(), lambda x: x / (1 + np.abs(x))),
    "Hardtanh": (lambda: nn.Hardtanh(-0.5, 1.5), lambda x: np.clip(x, -0.5, 1.5)),
    "Hardsigmoid": (lambda: nn.Hardsigmoid(), lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    "Hardswish": (lambda: nn.Hardswish(), lambda x: x * np.clip(x + 3, 0, 6) / 6),
    "LogSigmoid": (lambda: nn.LogSigmoid(), lambda x: -np.log1p(np.exp(-x))),
    "Sigmoid": (lambda: nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    "Tanh": (lambda: nn.Tanh(), np.tanh),
    "Threshold": (lambda: nn.Threshold(0.1, 20.0), lambda x: np.where(x > 0.1, x, 20.0)),
    "Softshrink": (lambda: nn.Softshrink(0.5), lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0))),
    "Hardshrink": (lambda: nn.Hardshrink(0.5), lambda x: np.where(np.abs(x) > 0.5, x, 0)),
    "Tanhshrink": (lambda: nn.Tanhshrink(), lambda x: x - np.tanh(x)),
}


def _samples():
    # avoid the kinks (0, +-0.5, thresholds) where finite differences are meaningless
    x = np.random.default_rng(0).uniform(-4, 4, (3, 7))
    for k in (0.0, 0.1, 0.5, -0.5, 1.5, -0.5, 3.0, -3.0, 6.0, 1.5):
        x[np.abs(x - k) < 0.05] += 0.11
    return x


@pytest.mark.parametrize("name", list(CASES))
def test_activation_forward_and_gradcheck(name):
    make, ref = CASES[name]
    x = _samples()
    out = make()(rg.tensor(x, dtype=rg.float32))
    assert out.dtype == rg.float32 and out.shape == x.shape
    np.testing.assert_allclose(out.numpy(), ref(x), rtol=1e-5, atol=1e-5)
    out64 = make()(t64(x))
    np.testing.assert_allclose(out64.numpy(), ref(x), rtol=1e-10, atol=1e-12)
    assert module_gradcheck(make(), t64(x[:1, :5], requires_grad=True))


@pytest.mark.parametrize(
    "name",
    ["ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "CELU", "SiLU", "Mish", "Hardtanh", "Hardsigmoid", "Hardswish"],
)
def test_inplace_variants(name):
    make, ref = CASES[name]
    cls = type(make())
    args = {"LeakyReLU": (0.2,), "ELU": (0.5,), "CELU": (2.0,), "Hardtanh": (-0.5, 1.5)}.get(name, ())
    m = cls(*args, inplace=True)
    x = _samples()
    t = rg.tensor(x)
    out = m(t)
    np.testing.assert_allclose(out.numpy(), ref(x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(t.numpy(), ref(x), rtol=1e-5, atol=1e-6)  # written in place


def test_softmax_family():
    x = np.random.randn(2, 3, 4)
    e = np.exp(x - x.max(1, keepdims=True))
    sm = e / e.sum(1, keepdims=True)
    np.testing.assert_allclose(nn.Softmax(dim=1)(t64(x)).numpy(), sm, rtol=1e-10)
    np.testing.assert_allclose(nn.LogSoftmax(dim=1)(t64(x)).numpy(), np.log(sm), rtol=1e-10)
    em = np.exp(-x - (-x).max(-1, keepdims=True))
    np.testing.assert_allclose(nn.Softmin(dim=-1)(t64(x)).numpy(), em / em.sum(-1, keepdims=True), rtol=1e-10)
    s2 = nn.Softmax2d()(t64(x[None]))
    np.testing.assert_allclose(s2.numpy()[0], np.exp(x) / np.exp(x).sum(0), rtol=1e-10)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        out = nn.Softmax()(t64(x))  # 3-D input: legacy dim 0
    np.testing.assert_allclose(out.numpy(), np.exp(x) / np.exp(x).sum(0), rtol=1e-10)
    assert module_gradcheck(nn.LogSoftmax(1), t64(np.random.randn(2, 3), requires_grad=True))
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"


def test_glu_and_prelu():
    x = np.random.randn(2, 6)
    np.testing.assert_allclose(nn.GLU()(t64(x)).numpy(), x[:, :3] / (1 + np.exp(-x[:, 3:])), rtol=1e-10)
    p = nn.PReLU(3)
    assert p.weight.tolist() == pytest.approx([0.25] * 3)
    p.double()
    with rg.no_grad():
        p.weight.copy_(t64([0.1, 0.2, 0.3]))
    x = np.random.randn(2, 3, 4)
    ref = np.where(x > 0, x, np.array([0.1, 0.2, 0.3])[None, :, None] * x)
    np.testing.assert_allclose(p(t64(x)).detach().numpy(), ref, rtol=1e-10)
    assert module_gradcheck(nn.PReLU(2), t64(np.random.randn(1, 2, 3) + 0.1, requires_grad=True))


def test_reprs():
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"
    assert repr(nn.LeakyReLU(0.1, True)) == "LeakyReLU(negative_slope=0.1, inplace=True)"
    assert repr(nn.ELU()) == "ELU(alpha=1.0)"
    assert repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"
    assert repr(nn.Softplus()) == "Softplus(beta=1.0, threshold=20.0)"
    assert repr(nn.Hardtanh()) == "Hardtanh(min_val=-1.0, max_val=1.0)"
    assert repr(nn.ReLU6()) == "ReLU6()"
    assert repr(nn.PReLU()) == "PReLU(num_parameters=1)"
    assert repr(nn.GLU()) == "GLU(dim=-1)"
    assert repr(nn.Sigmoid()) == "Sigmoid()"
    with pytest.raises(ValueError):
        nn.Hardtanh(1.0, -1.0)

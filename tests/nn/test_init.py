"""nn.init: fan and gain rules, the distributions of each initialiser, generators."""

import math

import numpy as np
import pytest

import retrograd as rg
from retrograd.nn import init

from ._util import assert_normal, assert_uniform


def test_calculate_gain():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == pytest.approx(0.75)
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", True)


def test_fans():
    assert init._calculate_fan_in_and_fan_out(rg.empty(5, 3)) == (3, 5)
    assert init._calculate_fan_in_and_fan_out(rg.empty(8, 4, 3, 3)) == (36, 72)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(rg.empty(3))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(rg.empty(3, 3), mode="fan_avg")


def test_uniform_normal_constant():
    t = rg.empty(100, 50)
    assert init.uniform_(t, -2.0, 2.0) is t
    assert_uniform(t, 2.0)
    assert_normal(init.normal_(rg.empty(100, 50), 1.0, 3.0), 1.0, 3.0)
    assert init.constant_(rg.empty(3), 0.5).tolist() == [0.5] * 3
    assert init.ones_(rg.empty(2)).tolist() == [1.0, 1.0]
    assert init.zeros_(rg.ones(2)).tolist() == [0.0, 0.0]
    np.testing.assert_array_equal(init.eye_(rg.empty(2, 3)).numpy(), np.eye(2, 3))
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(rg.empty(3))


def test_xavier():
    t = rg.empty(200, 100)
    init.xavier_uniform_(t, gain=2.0)
    assert_uniform(t, 2.0 * math.sqrt(6 / 300))
    init.xavier_normal_(t)
    assert_normal(t, 0.0, math.sqrt(2 / 300))


def test_kaiming():
    t = rg.empty(64, 16, 3, 3)  # fan_in 144, fan_out 576
    init.kaiming_uniform_(t, nonlinearity="relu")
    assert_uniform(t, math.sqrt(2) * math.sqrt(3 / 144))
    init.kaiming_uniform_(t, a=math.sqrt(5))  # Linear/Conv default: 1/sqrt(fan_in)
    assert_uniform(t, 1 / math.sqrt(144))
    init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu")
    assert_normal(t, 0.0, math.sqrt(2 / 576))
    init.kaiming_normal_(t, a=0.2, mode="fan_in")
    assert_normal(t, 0.0, math.sqrt(2 / 1.04) / math.sqrt(144))
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(rg.empty(0, 3))


def test_trunc_normal():
    t = init.trunc_normal_(rg.empty(100, 100), mean=0.5, std=1.0, a=-1.0, b=2.0)
    a = t.numpy()
    assert a.min() >= -1.0 and a.max() <= 2.0
    assert abs(a.mean() - 0.5) < 0.03  # symmetric interval around the mean
    with pytest.warns(UserWarning, match="more than 2 std"):  # as PyTorch warns
        narrow = init.trunc_normal_(rg.empty(500), std=1.0, a=3.0, b=3.5)
    assert narrow.numpy().min() >= 3.0 and narrow.numpy().max() <= 3.5


def test_orthogonal():
    for shape in [(6, 4), (4, 6), (3, 2, 2)]:
        t = init.orthogonal_(rg.empty(*shape), gain=2.0)
        m = t.numpy().reshape(shape[0], -1).astype(np.float64)
        if m.shape[0] >= m.shape[1]:
            np.testing.assert_allclose(m.T @ m, 4 * np.eye(m.shape[1]), atol=1e-5)
        else:
            np.testing.assert_allclose(m @ m.T, 4 * np.eye(m.shape[0]), atol=1e-5)
    with pytest.raises(ValueError, match="2 or more"):
        init.orthogonal_(rg.empty(3))


def test_sparse_and_dirac():
    t = init.sparse_(rg.empty(10, 20), sparsity=0.3)
    assert ((t.numpy() == 0).sum(axis=0) >= 3).all()
    w = init.dirac_(rg.empty(4, 2, 3, 3))
    x = rg.randn(1, 2, 5, 5).numpy()
    assert w.numpy()[0, 0, 1, 1] == 1 and w.numpy()[1, 1, 1, 1] == 1 and w.numpy().sum() == 2
    del x


def test_generator_and_default_seed_reproducible():
    g = rg.Generator().manual_seed(3)
    a = init.normal_(rg.empty(5), generator=g).tolist()
    g.manual_seed(3)
    assert init.normal_(rg.empty(5), generator=g).tolist() == a
    rg.manual_seed(7)
    b = init.xavier_uniform_(rg.empty(3, 3)).tolist()
    rg.manual_seed(7)
    assert init.xavier_uniform_(rg.empty(3, 3)).tolist() == b


def test_init_on_parameter_records_nothing():
    from retrograd import nn

    p = nn.Parameter(rg.empty(3, 3))
    for fn in (init.uniform_, init.normal_, init.xavier_uniform_, init.kaiming_normal_, init.zeros_, init.orthogonal_):
        out = fn(p)
        assert out is p and p.is_leaf and p.grad_fn is None and p.requires_grad


def test_float64_tensor_keeps_dtype():
    t = init.normal_(rg.empty(3, dtype=rg.float64))
    assert t.dtype == rg.float64

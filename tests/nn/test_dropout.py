"""Dropout modules: train/eval behaviour, scaling, channel dropout."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn


def test_dropout_train_and_eval():
    m = nn.Dropout(0.3)
    x = rg.ones(200, 100)
    y = m(x).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    m.eval()
    assert m(x) is x or np.array_equal(m(x).numpy(), x.numpy())
    assert np.array_equal(nn.Dropout(0.0)(x).numpy(), x.numpy())
    assert not nn.Dropout(1.0)(x).numpy().any()


def test_dropout_gradient_uses_the_same_mask():
    x = rg.ones(50, 40, requires_grad=True)
    y = nn.Dropout(0.5)(x)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.detach().numpy())


def test_dropout2d_zeroes_whole_channels():
    y = nn.Dropout2d(0.5)(rg.ones(8, 16, 3, 3)).numpy()
    per_channel = y.reshape(8, 16, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))
    assert 0.2 < (per_channel[..., 0] == 0).mean() < 0.8
    m = nn.Dropout2d().eval()
    assert np.array_equal(m(rg.ones(2, 3, 2, 2)).numpy(), np.ones((2, 3, 2, 2)))


def test_dropout_args_and_repr():
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)
    assert repr(nn.Dropout()) == "Dropout(p=0.5, inplace=False)"
    assert repr(nn.Dropout2d(0.1, inplace=True)) == "Dropout2d(p=0.1, inplace=True)"


def test_dropout_respects_model_mode():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    x = rg.randn(3, 4)
    model.eval()
    np.testing.assert_array_equal(model(x).detach().numpy(), model[0](x).detach().numpy())
    model.train()
    assert not np.array_equal(model(x).detach().numpy(), model[0](x).detach().numpy())

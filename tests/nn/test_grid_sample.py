"""affine_grid and grid_sample: the identity transform, argument rules and the align_corners
warning (values and gradients are in the op table)."""

import numpy as np
import pytest

import retrograd as rg
import retrograd.nn.functional as F


def test_identity_grid_reproduces_the_input():
    x = rg.randn(2, 3, 4, 5, dtype=rg.float64)
    theta = rg.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=rg.float64).expand(2, 2, 3)
    for align in (True, False):
        grid = F.affine_grid(theta, (2, 3, 4, 5), align_corners=align)
        assert grid.shape == (2, 4, 5, 2)
        np.testing.assert_allclose(F.grid_sample(x, grid, align_corners=align).numpy(), x.numpy(), atol=1e-12)


def test_gradient_reaches_theta():
    theta = rg.tensor([[[0.9, 0.1, 0.05], [-0.1, 1.1, 0.0]]], dtype=rg.float64, requires_grad=True)
    x = rg.randn(1, 1, 3, 3, dtype=rg.float64)
    F.grid_sample(x, F.affine_grid(theta, (1, 1, 3, 3), align_corners=False), align_corners=False).sum().backward()
    assert theta.grad is not None and np.isfinite(theta.grad.numpy()).all()


def test_rules():
    x = rg.ones(1, 1, 2, 2)
    g = rg.zeros(1, 1, 1, 2)
    with pytest.warns(UserWarning, match="align_corners"):
        F.grid_sample(x, g)
    with pytest.warns(UserWarning, match="align_corners"):
        F.affine_grid(rg.zeros(1, 2, 3), (1, 1, 2, 2))
    with pytest.raises(NotImplementedError, match="bicubic"):
        F.grid_sample(x, g, mode="bicubic", align_corners=False)
    with pytest.raises(ValueError, match="padding_mode"):
        F.grid_sample(x, g, padding_mode="wrap", align_corners=False)
    with pytest.raises(RuntimeError, match="same dtype"):
        F.grid_sample(x, g.double(), align_corners=False)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        F.grid_sample(x, rg.zeros(1, 1, 1, 1, 3), align_corners=False)
    with pytest.raises(ValueError, match="Nx2x3"):
        F.affine_grid(rg.zeros(1, 3, 4), (1, 1, 2, 2), align_corners=False)
    # a point outside the input reads zeros; with border padding, the nearest edge
    far = rg.tensor([[[[3.0, 0.0]]]])
    y = rg.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    assert F.grid_sample(y, far, align_corners=True).item() == 0.0
    assert F.grid_sample(y, far, padding_mode="border", align_corners=True).item() == 3.0

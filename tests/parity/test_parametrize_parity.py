"""Parity with PyTorch for nn.utils.parametrize/parametrizations and the older hook-based
weight_norm/spectral_norm: PyTorch's state dict loads, the parametrized weights, outputs and
gradients agree, and the power-iteration buffers advance alike."""

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import retrograd as rg  # noqa: E402
from retrograd import nn  # noqa: E402
from retrograd.nn.utils import parametrizations as rg_pz  # noqa: E402
from retrograd.nn.utils import parametrize as rg_p  # noqa: E402

t_pz = torch.nn.utils.parametrizations


def _to_rg(sd):
    return {k: rg.tensor(v.detach().numpy()) for k, v in sd.items()}


def _close(a, b, rtol=1e-9, atol=1e-12):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol)


def _compare(t_mod, r_mod, shape, train=True, steps=2):
    """Same state dict, then ``steps`` forward/backward passes: outputs, weights, buffers, grads."""
    r_mod.load_state_dict(_to_rg(t_mod.state_dict()))
    assert list(r_mod.state_dict()) == list(t_mod.state_dict())
    t_mod.train(train)
    r_mod.train(train)
    x = np.random.default_rng(0).standard_normal(shape)
    for _ in range(steps):
        t_out, r_out = t_mod(torch.tensor(x)), r_mod(rg.tensor(x))
        _close(r_out, t_out)
        _close(r_mod.weight, t_mod.weight)
        (t_out**2).sum().backward()
        (r_out**2).sum().backward()
        for (name, a), (_, b) in zip(t_mod.named_parameters(), r_mod.named_parameters()):
            np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-8, atol=1e-11, err_msg=name)
        for (name, a), (_, b) in zip(t_mod.named_buffers(), r_mod.named_buffers()):
            np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_parametrization(dim):
    torch.manual_seed(0)
    t = t_pz.weight_norm(torch.nn.Conv1d(3, 4, 2).double(), dim=dim)
    r = rg_pz.weight_norm(nn.Conv1d(3, 4, 2).double(), dim=dim)
    assert type(r).__name__ == type(t).__name__ == "ParametrizedConv1d"
    _compare(t, r, (2, 3, 5))


@pytest.mark.parametrize("module,shape", [("Linear", (3, 5)), ("ConvTranspose2d", (1, 4, 3, 3))])
@pytest.mark.parametrize("train", [True, False])
def test_spectral_norm_parametrization(module, shape, train):
    torch.manual_seed(0)
    args = (5, 4) if module == "Linear" else (4, 3, 2)
    t = t_pz.spectral_norm(getattr(torch.nn, module)(*args).double(), n_power_iterations=2)
    r = rg_pz.spectral_norm(getattr(nn, module)(*args).double(), n_power_iterations=2)
    _compare(t, r, shape, train=train)


@pytest.mark.parametrize(
    "orthogonal_map,shape",
    [
        ("matrix_exp", (4, 4)),
        ("cayley", (4, 4)),
        ("householder", (5, 3)),
        ("matrix_exp", (3, 5)),
        ("householder", (3, 5)),
        ("cayley", (5, 3)),
    ],
)
def test_orthogonal_parametrization(orthogonal_map, shape):
    torch.manual_seed(0)
    t = t_pz.orthogonal(torch.nn.Linear(shape[1], shape[0]).double(), orthogonal_map=orthogonal_map)
    r = rg_pz.orthogonal(nn.Linear(shape[1], shape[0]).double(), orthogonal_map=orthogonal_map)
    _compare(t, r, (2, shape[1]))
    # assigning an orthogonal matrix goes through right_inverse (the trivialization's base)
    q = torch.linalg.qr(torch.randn(max(shape), max(shape), dtype=torch.float64))[0][: shape[0], : shape[1]]
    if shape[0] < shape[1]:
        q = torch.linalg.qr(torch.randn(shape[1], shape[0], dtype=torch.float64))[0].mT
    with torch.no_grad():
        t.weight = q
    r.weight = rg.tensor(q.numpy())
    _close(r.weight, t.weight, rtol=1e-8, atol=1e-10)


def test_remove_and_cached_and_custom_parametrization():
    class Symmetric(torch.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).mT

    class RgSymmetric(nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).mT

    torch.manual_seed(0)
    t = torch.nn.Linear(3, 3).double()
    r = nn.Linear(3, 3).double()
    r.load_state_dict(_to_rg(t.state_dict()))
    torch.nn.utils.parametrize.register_parametrization(t, "weight", Symmetric())
    rg_p.register_parametrization(r, "weight", RgSymmetric())
    _compare(t, r, (2, 3))
    with torch.nn.utils.parametrize.cached(), rg_p.cached():
        assert r.weight is r.weight
        _close(r.weight, t.weight)
    torch.nn.utils.parametrize.remove_parametrizations(t, "weight")
    rg_p.remove_parametrizations(r, "weight")
    assert type(r) is nn.Linear and list(r.state_dict()) == list(t.state_dict())
    _close(r.weight, t.weight)


@pytest.mark.parametrize("dim", [0, None])
def test_hook_weight_norm(dim):
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.nn.utils.weight_norm(torch.nn.Linear(4, 3).double(), dim=dim)
        r = nn.utils.weight_norm(nn.Linear(4, 3).double(), dim=dim)
    _compare(t, r, (2, 4))
    torch.nn.utils.remove_weight_norm(t)
    nn.utils.remove_weight_norm(r)
    assert list(r.state_dict()) == list(t.state_dict())
    _close(r.weight, t.weight)


@pytest.mark.parametrize("train", [True, False])
def test_hook_spectral_norm(train):
    torch.manual_seed(0)
    t = torch.nn.utils.spectral_norm(torch.nn.Conv2d(2, 3, 2).double(), n_power_iterations=3)
    r = nn.utils.spectral_norm(nn.Conv2d(2, 3, 2).double(), n_power_iterations=3)
    _compare(t, r, (1, 2, 4, 4), train=train)
    torch.nn.utils.remove_spectral_norm(t)
    nn.utils.remove_spectral_norm(r)
    assert list(r.state_dict()) == list(t.state_dict())
    _close(r.weight, t.weight)


def test_householder_product_and_matrix_exp_match_torch():
    rng = np.random.default_rng(1)
    a, tau = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 3))
    _close(
        rg.linalg.householder_product(rg.tensor(a), rg.tensor(tau)),
        torch.linalg.householder_product(torch.tensor(a), torch.tensor(tau)),
    )
    m = rng.standard_normal((2, 4, 4)) * 3
    _close(rg.linalg.matrix_exp(rg.tensor(m)), torch.linalg.matrix_exp(torch.tensor(m)), rtol=1e-10)

"""nn.utils.parametrize and parametrizations (weight_norm, spectral_norm, orthogonal), the older
hook-based weight_norm/spectral_norm, and linalg.matrix_exp/householder_product they use."""

import copy
import pickle
import warnings

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.autograd import gradcheck
from retrograd.nn.utils import parametrizations as pz
from retrograd.nn.utils import parametrize as P

from ._util import t64

R = np.random.default_rng(5)


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).mT

    def right_inverse(self, A):
        return A.triu()


class Transposed(nn.Module):
    def forward(self, X):
        return X.mT


class SplitSum(nn.Module):
    """A parametrization by two tensors: weight = a + b."""

    def forward(self, a, b):
        return a + b

    def right_inverse(self, w):
        return w / 2, w / 2


def test_register_property_state_dict_and_remove():
    m = nn.Linear(3, 3).double()
    w0 = m.weight.detach().clone()
    P.register_parametrization(m, "weight", Symmetric())
    assert type(m).__name__ == "ParametrizedLinear" and P.type_before_parametrizations(m) is nn.Linear
    assert P.is_parametrized(m) and P.is_parametrized(m, "weight") and not P.is_parametrized(m, "bias")
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original"]
    w = m.weight.detach().numpy()
    np.testing.assert_allclose(w, w.T)
    np.testing.assert_allclose(m.parametrizations.weight.original.detach().numpy(), np.triu(w0.numpy()))
    m.weight = t64(np.arange(9.0).reshape(3, 3))  # through right_inverse
    np.testing.assert_allclose(m.weight.detach().numpy(), [[0, 1, 2], [1, 4, 5], [2, 5, 8]])
    m(t64(np.ones((1, 3)))).sum().backward()
    assert m.parametrizations.weight.original.grad is not None
    P.remove_parametrizations(m, "weight")
    assert type(m) is nn.Linear and isinstance(m.weight, nn.Parameter)
    np.testing.assert_allclose(m.weight.detach().numpy(), [[0, 1, 2], [1, 4, 5], [2, 5, 8]])
    assert not hasattr(m, "parametrizations")


def test_sequence_originals_chains_and_errors():
    m = nn.Linear(2, 2).double()
    w = m.weight.detach().numpy().copy()
    P.register_parametrization(m, "weight", SplitSum())
    assert sorted(m.state_dict()) == ["bias", "parametrizations.weight.original0", "parametrizations.weight.original1"]
    np.testing.assert_allclose(m.weight.detach().numpy(), w)
    P.register_parametrization(m, "weight", Symmetric())  # appended to the chain
    assert len(m.parametrizations.weight) == 2
    np.testing.assert_allclose(m.weight.detach().numpy(), np.triu(w) + np.triu(w, 1).T)
    with pytest.raises(ValueError, match="sequence of tensors"):
        P.remove_parametrizations(m, "weight", leave_parametrized=False)
    P.remove_parametrizations(m, "weight")
    np.testing.assert_allclose(m.weight.detach().numpy(), np.triu(w) + np.triu(w, 1).T)
    with pytest.raises(ValueError, match="does not have a parameter"):
        P.register_parametrization(m, "nothing", Symmetric())
    with pytest.raises(ValueError, match="may not change the shape"):
        P.register_parametrization(nn.Linear(3, 2), "weight", Transposed())


def test_buffer_parametrization_cached_and_copies():
    m = nn.BatchNorm1d(3)
    P.register_parametrization(m, "running_var", nn.Softplus())
    assert "parametrizations.running_var.original" in m.state_dict()
    m2 = nn.Linear(2, 2)
    P.register_parametrization(m2, "weight", Symmetric())
    assert m2.weight is not m2.weight
    with P.cached():
        assert m2.weight is m2.weight
    clone = copy.deepcopy(m2)
    np.testing.assert_allclose(clone.weight.detach().numpy(), m2.weight.detach().numpy())
    with pytest.raises(RuntimeError, match="state_dict"):
        pickle.dumps(m2)


def test_transfer_parametrizations_shares_the_originals():
    src = pz.weight_norm(nn.Linear(3, 2))
    dst = P.transfer_parametrizations_and_params(src, nn.Linear(3, 2))
    assert P.is_parametrized(dst, "weight")
    assert dst.parametrizations.weight.original0 is src.parametrizations.weight.original0
    np.testing.assert_allclose(dst.weight.detach().numpy(), src.weight.detach().numpy())


def test_weight_norm_values_and_gradcheck():
    m = pz.weight_norm(nn.Linear(4, 3).double())
    g, v = m.parametrizations.weight.original0, m.parametrizations.weight.original1
    assert tuple(g.shape) == (3, 1)
    vv = v.detach().numpy()
    np.testing.assert_allclose(
        m.weight.detach().numpy(), g.detach().numpy() * vv / np.linalg.norm(vv, axis=1, keepdims=True)
    )
    x = t64(R.standard_normal((2, 4)), True)
    assert gradcheck(lambda x, g, v, b: m(x), (x, g, v, m.bias))
    whole = pz.weight_norm(nn.Linear(4, 3).double(), dim=None)
    assert whole.parametrizations.weight.original0.dim() == 0


def test_spectral_norm_reaches_the_largest_singular_value():
    m = pz.spectral_norm(nn.Linear(6, 4).double(), n_power_iterations=5)
    w = m.parametrizations.weight.original.detach().numpy()
    for _ in range(10):
        m.weight
    np.testing.assert_allclose(np.linalg.svd(m.weight.detach().numpy(), compute_uv=False)[0], 1.0, rtol=1e-8)
    m.eval()
    u = m.parametrizations.weight[0]._u.numpy().copy()
    m.weight
    np.testing.assert_array_equal(m.parametrizations.weight[0]._u.numpy(), u)  # no iteration in eval
    np.testing.assert_allclose(m.weight.detach().numpy() * np.linalg.svd(w, compute_uv=False)[0], w, rtol=1e-8)
    x = t64(R.standard_normal((2, 6)), True)
    assert gradcheck(lambda x, w: m(x), (x, m.parametrizations.weight.original))  # eval: u, v fixed
    with pytest.raises(ValueError, match="n_power_iterations"):
        pz.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)


@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
def test_orthogonal_is_orthogonal_and_differentiable(orthogonal_map, shape):
    if orthogonal_map != "householder" or shape != (4, 4):
        m = pz.orthogonal(nn.Linear(shape[1], shape[0]).double(), orthogonal_map=orthogonal_map)
        w = m.weight.detach().numpy()
        gram = w.T @ w if shape[0] >= shape[1] else w @ w.T
        np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-12)
        x = t64(R.standard_normal((2, shape[1])))
        original = m.parametrizations.weight.original
        if orthogonal_map == "householder":
            # its sign step X.diagonal().int() jumps at the initial -1; move the diagonal off it
            with rg.no_grad():
                original.add_(t64(0.1 * R.standard_normal(tuple(original.shape))))
                original.diagonal().fill_(-1.5)
        assert gradcheck(lambda w: m(x), (original,))


def test_orthogonal_errors():
    with pytest.raises(ValueError, match="matrix or batch"):
        pz.orthogonal(nn.Linear(3, 3), "bias")
    with pytest.raises(ValueError, match="orthogonal_map"):
        pz.orthogonal(nn.Linear(3, 3), orthogonal_map="qr")
    m = pz.orthogonal(nn.Linear(3, 3), orthogonal_map="cayley", use_trivialization=False)
    with pytest.raises(NotImplementedError, match="use_trivialization=False"):
        m.weight = rg.eye(3)


def test_hook_weight_norm_and_removal():
    m = nn.Linear(4, 3).double()
    w = m.weight.detach().numpy().copy()
    with pytest.warns(FutureWarning):
        nn.utils.weight_norm(m)
    assert sorted(m.state_dict()) == ["bias", "weight_g", "weight_v"]
    np.testing.assert_allclose(m.weight.detach().numpy(), w)
    m.weight_g.data = m.weight_g.detach() * 2
    m(t64(np.ones((1, 4))))
    np.testing.assert_allclose(m.weight.detach().numpy(), 2 * w)
    with warnings.catch_warnings(), pytest.raises(RuntimeError, match="two weight_norm"):
        warnings.simplefilter("ignore")
        nn.utils.weight_norm(m)
    nn.utils.remove_weight_norm(m)
    assert sorted(m.state_dict()) == ["bias", "weight"]
    with pytest.raises(ValueError, match="not found"):
        nn.utils.remove_weight_norm(m)


def test_hook_spectral_norm_and_removal():
    m = nn.utils.spectral_norm(nn.Linear(5, 3).double(), n_power_iterations=20)
    assert sorted(m.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    m(t64(np.ones((1, 5))))
    np.testing.assert_allclose(np.linalg.svd(m.weight.detach().numpy(), compute_uv=False)[0], 1.0, rtol=1e-8)
    nn.utils.remove_spectral_norm(m)
    assert sorted(m.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(np.linalg.svd(m.weight.detach().numpy(), compute_uv=False)[0], 1.0, rtol=1e-8)


def test_matrix_exp_against_eigendecomposition_and_gradcheck():
    a = R.standard_normal((2, 4, 4))
    sym = a + np.swapaxes(a, -1, -2)
    w, v = np.linalg.eigh(sym)
    ref = v @ (np.exp(w)[..., None] * np.swapaxes(v, -1, -2))
    np.testing.assert_allclose(rg.linalg.matrix_exp(t64(sym)).numpy(), ref, rtol=1e-10)
    np.testing.assert_allclose(rg.linalg.matrix_exp(t64(np.zeros((3, 3)))).numpy(), np.eye(3))
    assert gradcheck(rg.linalg.matrix_exp, (t64(R.standard_normal((3, 3)), True),))


def test_householder_product_against_explicit_reflections():
    a, tau = R.standard_normal((5, 3)), R.standard_normal(2)
    q = np.eye(5)
    for i in range(2):
        v = np.where(np.arange(5) > i, a[:, i], 0.0)
        v[i] = 1.0
        q = q @ (np.eye(5) - tau[i] * np.outer(v, v))
    np.testing.assert_allclose(rg.linalg.householder_product(t64(a), t64(tau)).numpy(), q[:, :3], rtol=1e-12)
    assert gradcheck(rg.linalg.householder_product, (t64(a, True), t64(tau, True)))
    with pytest.raises(RuntimeError, match="greater than or equal"):
        rg.linalg.householder_product(t64(a.T), t64(tau))

"""torch.linalg.eig and eigvals against PyTorch itself (optional: needs torch): result dtypes,
eigenvalues, eigenvectors up to their phase, the gradient of phase-free losses, and the
exceptions raised for bad inputs and for a loss that depends on the phase."""

import numpy as np
import pytest

import retrograd as rg

from .errors import assert_raises_like

torch = pytest.importorskip("torch")


def _phase_free(lib, L, V):
    return (L * L * L).real.sum() + (L * L).imag.sum() + (V.abs() * L.real.unsqueeze(-2)).sum()


def _matched(L_rg, L_t):
    """The order of PyTorch's eigenvalues that matches retrograd's (per matrix)."""
    order = np.empty(L_rg.shape, dtype=np.int64)
    for idx in np.ndindex(L_rg.shape[:-1]):
        order[idx] = [int(np.argmin(np.abs(L_t[idx] - z))) for z in L_rg[idx]]
    return order


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
def test_eig_values_vectors_and_dtypes_match_pytorch(dtype):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4, 4))
    if dtype.startswith("complex"):
        a = a + 1j * rng.standard_normal(a.shape)
    L_rg, V_rg = rg.linalg.eig(rg.tensor(a, dtype=getattr(rg, dtype)))
    L_t, V_t = torch.linalg.eig(torch.tensor(a, dtype=getattr(torch, dtype)))
    assert str(L_rg.dtype).split(".")[-1] == str(L_t.dtype).split(".")[-1]
    assert str(V_rg.dtype).split(".")[-1] == str(V_t.dtype).split(".")[-1]
    assert tuple(L_rg.shape) == tuple(L_t.shape) and tuple(V_rg.shape) == tuple(V_t.shape)
    tol = 1e-4 if dtype in ("float32", "complex64") else 1e-10
    order = _matched(L_rg.numpy(), L_t.numpy())
    L_t_matched = np.take_along_axis(L_t.numpy(), order, -1)
    np.testing.assert_allclose(L_rg.numpy(), L_t_matched, atol=tol)
    # the same eigenvector up to a unit factor: |<v_rg, v_t>| = 1
    V_t_matched = np.take_along_axis(V_t.numpy(), order[..., None, :], -1)
    overlap = np.abs((V_rg.numpy().conj() * V_t_matched).sum(-2))
    np.testing.assert_allclose(overlap, 1.0, atol=tol * 10)
    ev_rg = rg.linalg.eigvals(rg.tensor(a, dtype=getattr(rg, dtype)))
    assert str(ev_rg.dtype).split(".")[-1] == str(L_t.dtype).split(".")[-1]


@pytest.mark.parametrize("complex_input", [False, True])
def test_eig_gradient_of_a_phase_free_loss_matches_pytorch(complex_input):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2, 4, 4))
    if complex_input:
        a = a + 1j * rng.standard_normal(a.shape)
    grads = []
    for lib in (rg, torch):
        A = lib.tensor(a, requires_grad=True)
        _phase_free(lib, *lib.linalg.eig(A)).backward()
        grads.append(A.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-8, atol=1e-10)


def test_eigvals_gradient_matches_pytorch():
    a = np.random.default_rng(2).standard_normal((3, 3))
    w = np.random.default_rng(3).standard_normal(3) + 1j * np.random.default_rng(4).standard_normal(3)
    grads = []
    for lib in (rg, torch):
        A = lib.tensor(a, requires_grad=True)
        (lib.linalg.eigvals(A) * lib.tensor(w)).real.sum().backward()
        grads.append(A.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize(
    "case",
    [
        lambda lib: lib.linalg.eig(lib.ones(2, 3)),
        lambda lib: lib.linalg.eigvals(lib.ones(3)),
        lambda lib: lib.linalg.eig(lib.ones(3, 3, dtype=lib.int64)),
        lambda lib: lib.linalg.eigvals(lib.ones(2, 2, dtype=lib.float16)),
        lambda lib: lib.linalg.eig(lib.tensor([[1.0, float("inf")], [0.0, 1.0]])),
        lambda lib: lib.linalg.eig(lib.tensor([[0.0, -1.0], [1.0, 0.5]], requires_grad=True))[1].sum().abs().backward(),
    ],
)
@pytest.mark.filterwarnings("ignore:ComplexHalf support is experimental")
def test_eig_errors_match_pytorch(case):
    assert_raises_like(torch, case)


def test_torch_eig_is_removed_in_both():
    with pytest.raises(RuntimeError, match="removed"):
        torch.eig(torch.eye(2))
    assert not hasattr(rg, "eig")

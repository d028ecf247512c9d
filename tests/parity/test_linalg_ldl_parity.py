"""torch.linalg.ldl_factor, ldl_factor_ex and ldl_solve against PyTorch itself (optional: needs
torch): the same compact form (LD, pivots, info) for real, complex symmetric and Hermitian
matrices, including those that take 2 x 2 pivots and singular ones, the same solutions, and the
same exception types."""

import numpy as np
import pytest

import retrograd as rg

from .errors import assert_raises_like

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("kind", ["float32", "float64", "complex_symmetric", "hermitian"])
def test_ldl_factor_and_solve_match_pytorch(kind):
    rng = np.random.default_rng(0)
    hermitian = kind == "hermitian"
    for trial in range(40):
        n = 1 + trial % 6
        a = rng.standard_normal((2, n, n))
        if kind in ("complex_symmetric", "hermitian"):
            a = a + 1j * rng.standard_normal(a.shape)
        if trial % 3 == 0:
            a[..., np.arange(n), np.arange(n)] *= 0.01  # small diagonal: 2 x 2 pivots
        if trial % 5 == 0 and n > 2:
            a[1, :, 1] = a[1, 1, :] = 0  # singular: a zero pivot reported in info
        if kind == "float32":
            a = a.astype(np.float32)
        got = rg.linalg.ldl_factor_ex(rg.tensor(a), hermitian=hermitian)
        want = torch.linalg.ldl_factor_ex(torch.tensor(a), hermitian=hermitian)
        np.testing.assert_array_equal(got.pivots.numpy(), want.pivots.numpy())
        np.testing.assert_array_equal(got.info.numpy(), want.info.numpy())
        tol = 1e-4 if kind == "float32" else 1e-9
        np.testing.assert_allclose(got.LD.numpy(), want.LD.numpy(), rtol=tol, atol=tol)
        assert str(got.LD.dtype).split(".")[-1] == str(want.LD.dtype).split(".")[-1]
        assert str(got.pivots.dtype).split(".")[-1] == str(want.pivots.dtype).split(".")[-1] == "int32"
        if not want.info.any():
            b = rng.standard_normal((2, n, 2)).astype(a.dtype)
            x = rg.linalg.ldl_solve(got.LD, got.pivots, rg.tensor(b), hermitian=hermitian).numpy()
            y = torch.linalg.ldl_solve(want.LD, want.pivots, torch.tensor(b), hermitian=hermitian).numpy()
            assert x.shape == y.shape
            np.testing.assert_allclose(x, y, rtol=1e-3 if kind == "float32" else 1e-7, atol=tol)


def _factored(lib):
    return lib.linalg.ldl_factor(lib.tensor([[1.0, 2.0], [2.0, 1.0]]))


@pytest.mark.parametrize(
    "case",
    [
        lambda lib: lib.linalg.ldl_factor(lib.ones(2, 3)),
        lambda lib: lib.linalg.ldl_factor_ex(lib.ones(3)),
        lambda lib: lib.linalg.ldl_factor(lib.ones(3, 3, dtype=lib.int64)),
        lambda lib: lib.linalg.ldl_factor(lib.ones(3, 3, dtype=lib.float16)),
        lambda lib: lib.linalg.ldl_factor(lib.zeros(3, 3)),
        lambda lib: lib.linalg.ldl_factor_ex(lib.zeros(2, 3, 3), check_errors=True),
        lambda lib: lib.linalg.ldl_solve(*_factored(lib), lib.ones(2)),
        lambda lib: lib.linalg.ldl_solve(*_factored(lib), lib.ones(3, 1)),
        lambda lib: lib.linalg.ldl_solve(*_factored(lib), lib.ones(2, 1, dtype=lib.float64)),
        lambda lib: lib.linalg.ldl_solve(_factored(lib)[0], _factored(lib)[1].float(), lib.ones(2, 1)),
        lambda lib: lib.linalg.ldl_factor(lib.eye(2, requires_grad=True))[0].sum().backward(),
        lambda lib: lib.linalg.ldl_solve(*_factored(lib), lib.ones(2, 1, requires_grad=True)).sum().backward(),
    ],
)
def test_ldl_errors_match_pytorch(case):
    assert_raises_like(torch, case)

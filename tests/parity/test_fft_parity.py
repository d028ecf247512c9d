"""torch.fft and the complex ops against PyTorch itself (optional: needs torch): values, and
the gradients of a real loss, on the same float64 inputs."""

import numpy as np
import pytest

import retrograd as rg

torch = pytest.importorskip("torch")

CASES = [
    ("fft", lambda L, z, x: L.fft.fft(z, n=8, norm="ortho")),
    ("ifft", lambda L, z, x: L.fft.ifft(z, dim=0)),
    ("fft real", lambda L, z, x: L.fft.fft(x, n=4)),
    ("fft2", lambda L, z, x: L.fft.fft2(z, s=(2, 7), norm="forward")),
    ("ifftn", lambda L, z, x: L.fft.ifftn(z)),
    ("rfft", lambda L, z, x: L.fft.rfft(x, n=7)),
    ("irfft", lambda L, z, x: L.fft.irfft(z, norm="ortho")),
    ("irfft n", lambda L, z, x: L.fft.irfft(z, n=9)),
    ("rfft2", lambda L, z, x: L.fft.rfft2(x, norm="forward")),
    ("irfft2", lambda L, z, x: L.fft.irfft2(z, s=(3, 5))),
    ("rfftn", lambda L, z, x: L.fft.rfftn(x, s=(4, -1))),
    ("irfftn", lambda L, z, x: L.fft.irfftn(z, dim=(0, 1), norm="forward")),
    ("hfft", lambda L, z, x: L.fft.hfft(z, n=6)),
    ("ihfft", lambda L, z, x: L.fft.ihfft(x, norm="ortho")),
    ("hfft2", lambda L, z, x: L.fft.hfft2(z)),
    ("ihfftn", lambda L, z, x: L.fft.ihfftn(x)),
    ("shifts", lambda L, z, x: L.fft.ifftshift(L.fft.fftshift(z, dim=1) * 2, dim=(0,)) + x),
    ("complex ops", lambda L, z, x: (z * z.conj() / (z + 2)).abs() + z.angle() + x * (1 + 2j)),
]


def _loss(L, out, w):
    if out.is_complex():
        return (L.view_as_real(out.resolve_conj()) * L.tensor(w, dtype=L.float64)).sum()
    return (out * L.tensor(w[..., 0], dtype=L.float64)).sum()


@pytest.mark.parametrize("name,call", CASES, ids=[c[0] for c in CASES])
def test_fft_matches_torch(name, call):
    rng = np.random.default_rng(0)
    zr, zi, xr = (rng.standard_normal((3, 6)) for _ in range(3))
    results = []
    for L in (rg, torch):
        a = L.tensor(zr, dtype=L.float64, requires_grad=True)
        b = L.tensor(zi, dtype=L.float64, requires_grad=True)
        x = L.tensor(xr, dtype=L.float64, requires_grad=True)
        out = call(L, L.complex(a, b), x)
        w = np.random.default_rng(1).standard_normal(tuple(out.shape) + (2,))
        _loss(L, out, w).backward()
        grads = [t.grad.numpy() if t.grad is not None else None for t in (a, b, x)]
        results.append((out.detach().resolve_conj().numpy(), grads))
    (o1, g1), (o2, g2) = results
    assert o1.dtype == o2.dtype
    np.testing.assert_allclose(o1, o2, rtol=1e-9, atol=1e-10)
    for p, q in zip(g1, g2):
        if p is None or q is None:
            assert p is None and q is None
        else:
            np.testing.assert_allclose(p, q, rtol=1e-9, atol=1e-10)


def test_complex_leaf_gradient_matches_torch():
    z0 = np.array([1 + 2j, -0.5 + 1j])
    grads = []
    for L in (rg, torch):
        z = L.tensor(z0, dtype=L.complex128, requires_grad=True)
        (L.fft.fft(z) * (2 - 1j)).abs().sum().backward()
        grads.append(z.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10)


def test_fftfreq_matches_torch():
    for n, d in ((5, 0.1), (6, 1.0)):
        np.testing.assert_allclose(rg.fft.fftfreq(n, d).numpy(), torch.fft.fftfreq(n, d).numpy())
        np.testing.assert_allclose(rg.fft.rfftfreq(n, d).numpy(), torch.fft.rfftfreq(n, d).numpy())


def test_complex_checkpoints_load_in_torch(tmp_path):
    rg.save({"z": rg.fft.fft(rg.tensor([1.0, 2.0, 0.5]))}, tmp_path / "a.pt")
    loaded = torch.load(tmp_path / "a.pt", weights_only=True)["z"]
    assert loaded.dtype == torch.complex64
    np.testing.assert_allclose(loaded.numpy(), np.fft.fft([1.0, 2.0, 0.5]), rtol=1e-6)
    torch.save({"z": torch.tensor([5 + 1j], dtype=torch.complex128)}, tmp_path / "b.pt")
    assert rg.load(tmp_path / "b.pt")["z"].tolist() == [5 + 1j]

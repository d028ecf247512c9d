"""torch.fft: values against numpy.fft, gradients by gradcheck/gradgradcheck (real losses of
complex results through view_as_real, complex inputs built from real parts), PyTorch's errors."""

import numpy as np
import pytest

import retrograd as torch
from retrograd.autograd import gradcheck, gradgradcheck

NORMS = [None, "backward", "ortho", "forward"]
_rng = np.random.default_rng(0)
X = _rng.standard_normal((3, 6))
Z = X + 1j * _rng.standard_normal((3, 6))

VALUE_CASES = [
    ("fft", Z, dict(n=8), lambda a, norm: np.fft.fft(a, n=8, norm=norm)),
    ("fft", X, dict(dim=0), lambda a, norm: np.fft.fft(a, axis=0, norm=norm)),
    ("ifft", Z, dict(n=5), lambda a, norm: np.fft.ifft(a, n=5, norm=norm)),
    ("rfft", X, dict(n=7), lambda a, norm: np.fft.rfft(a, n=7, norm=norm)),
    ("irfft", Z, {}, lambda a, norm: np.fft.irfft(a, norm=norm)),
    ("irfft", Z, dict(n=9), lambda a, norm: np.fft.irfft(a, n=9, norm=norm)),
    ("hfft", Z, dict(n=6), lambda a, norm: np.fft.hfft(a, n=6, norm=norm)),
    ("ihfft", X, {}, lambda a, norm: np.fft.ihfft(a, norm=norm)),
    ("fft2", Z, {}, lambda a, norm: np.fft.fft2(a, norm=norm)),
    ("ifft2", Z, dict(s=(2, 7)), lambda a, norm: np.fft.ifft2(a, s=(2, 7), norm=norm)),
    ("fftn", X, {}, lambda a, norm: np.fft.fftn(a, norm=norm)),
    ("ifftn", Z, dict(dim=0), lambda a, norm: np.fft.ifftn(a, axes=(0,), norm=norm)),
    ("rfft2", X, {}, lambda a, norm: np.fft.rfft2(a, norm=norm)),
    ("irfft2", Z, {}, lambda a, norm: np.fft.irfft2(a, norm=norm)),
    ("rfftn", X, dict(s=(4, 5)), lambda a, norm: np.fft.rfftn(a, s=(4, 5), axes=(0, 1), norm=norm)),
    ("irfftn", Z, dict(s=(4, 5)), lambda a, norm: np.fft.irfftn(a, s=(4, 5), axes=(0, 1), norm=norm)),
]


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name,a,kw,ref", VALUE_CASES, ids=[c[0] for c in VALUE_CASES])
def test_values_match_numpy(name, a, kw, ref, norm):
    out = getattr(torch.fft, name)(torch.tensor(a), norm=norm, **kw)
    expected = ref(a, norm)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-10)


def test_dtypes():
    x = torch.randn(4)
    assert torch.fft.fft(x).dtype is torch.complex64
    assert torch.fft.rfft(x.double()).dtype is torch.complex128
    assert torch.fft.irfft(torch.fft.rfft(x)).dtype is torch.float32
    assert torch.fft.fft(torch.arange(4)).dtype is torch.complex64
    np.testing.assert_allclose(torch.fft.irfft(torch.fft.rfft(x), n=4).numpy(), x.numpy(), atol=1e-6)


def test_hermitian_family_round_trips():
    x = torch.tensor(X)
    np.testing.assert_allclose(torch.fft.hfft(torch.fft.ihfft(x), n=6).numpy(), X, atol=1e-12)
    np.testing.assert_allclose(torch.fft.hfftn(torch.fft.ihfftn(x), s=(3, 6)).numpy(), X, atol=1e-12)
    np.testing.assert_allclose(torch.fft.hfft2(torch.fft.ihfft2(x), s=(3, 6)).numpy(), X, atol=1e-12)
    # hfft of a one-sided Hermitian spectrum is the fft of the full signal
    full = np.fft.fft(Z[0])
    herm = np.concatenate([full[:4], np.conj(full[1:3][::-1])])  # Hermitian, 6 points
    np.testing.assert_allclose(torch.fft.hfft(torch.tensor(herm[:4]), n=6).numpy(), np.fft.fft(herm).real, atol=1e-10)


def test_freqs_and_shifts():
    np.testing.assert_allclose(torch.fft.fftfreq(5, 0.1).numpy(), np.fft.fftfreq(5, 0.1), rtol=1e-6)
    np.testing.assert_allclose(torch.fft.fftfreq(6).numpy(), np.fft.fftfreq(6), rtol=1e-6)
    r = torch.fft.rfftfreq(6, dtype=torch.float64)
    assert r.dtype is torch.float64 and r.tolist() == pytest.approx(list(np.fft.rfftfreq(6)))
    assert torch.fft.fftfreq(4, requires_grad=True).requires_grad
    a = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(torch.fft.fftshift(torch.tensor(a)).numpy(), np.fft.fftshift(a))
    np.testing.assert_array_equal(torch.fft.ifftshift(torch.tensor(a)).numpy(), np.fft.ifftshift(a))
    np.testing.assert_array_equal(torch.fft.fftshift(torch.tensor(a), dim=1).numpy(), np.fft.fftshift(a, axes=1))
    np.testing.assert_array_equal(
        torch.fft.ifftshift(torch.tensor(a), dim=(0,)).numpy(), np.fft.ifftshift(a, axes=(0,))
    )


def test_out():
    x = torch.randn(6)
    o = torch.empty(0, dtype=torch.complex64)
    assert torch.fft.fft(x, out=o) is o
    np.testing.assert_allclose(o.numpy(), np.fft.fft(x.numpy()), rtol=1e-5, atol=1e-5)
    f = torch.empty(3)
    torch.fft.fftfreq(3, out=f)
    np.testing.assert_allclose(f.numpy(), np.fft.fftfreq(3), rtol=1e-6)
    with pytest.raises(TypeError):
        torch.fft.fftshift(x, out=x)


@pytest.mark.parametrize(
    "call,exc,match",
    [
        (lambda: torch.fft.fft(torch.randn(4), norm="foo"), RuntimeError, "Invalid normalization mode"),
        (lambda: torch.fft.fft(torch.randn(4), n=0), RuntimeError, r"Invalid number of data points \(0\)"),
        (lambda: torch.fft.irfft(torch.randn(1, dtype=torch.complex64)), RuntimeError, "Invalid number of data"),
        (lambda: torch.fft.fftn(torch.randn(3, 3), dim=(0, 0)), RuntimeError, "FFT dims must be unique"),
        (lambda: torch.fft.fftn(torch.randn(3, 3), s=(4,), dim=(0, 1)), RuntimeError, "same length"),
        (lambda: torch.fft.rfft(torch.randn(3, dtype=torch.complex64)), RuntimeError, "expects a real input"),
        (lambda: torch.fft.ihfft(torch.randn(3, dtype=torch.complex64)), RuntimeError, "expects a real input"),
        (lambda: torch.fft.fft(torch.randn(3, dtype=torch.float16)), RuntimeError, "Unsupported dtype Half"),
        (lambda: torch.fft.fft(torch.randn(3), dim=3), IndexError, "Dimension out of range"),
        (lambda: torch.fft.fft2(torch.randn(3)), IndexError, "Dimension out of range"),
    ],
)
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def _cx(a, b):
    return torch.complex(a, b)


GRAD_CASES = [
    ("fft n", lambda a, b, norm: torch.view_as_real(torch.fft.fft(_cx(a, b), n=8, norm=norm)), 2),
    ("ifft2 s", lambda a, b, norm: torch.view_as_real(torch.fft.ifft2(_cx(a, b), s=(2, 7), norm=norm)), 2),
    ("fftn real", lambda a, norm: torch.view_as_real(torch.fft.fftn(a, norm=norm)), 1),
    ("rfft n", lambda a, norm: torch.view_as_real(torch.fft.rfft(a, n=5, norm=norm)), 1),
    ("rfftn", lambda a, norm: torch.view_as_real(torch.fft.rfftn(a, norm=norm)), 1),
    ("irfft", lambda a, b, norm: torch.fft.irfft(_cx(a, b), norm=norm), 2),
    ("irfft odd n", lambda a, b, norm: torch.fft.irfft(_cx(a, b), n=7, norm=norm), 2),
    ("irfftn s", lambda a, b, norm: torch.fft.irfftn(_cx(a, b), s=(4, 6), norm=norm), 2),
    ("hfft", lambda a, b, norm: torch.fft.hfft(_cx(a, b), norm=norm), 2),
    ("ihfft", lambda a, norm: torch.view_as_real(torch.fft.ihfft(a, norm=norm)), 1),
    ("abs of fft", lambda a, norm: torch.fft.fft(a, norm=norm).abs(), 1),
    ("fftshift", lambda a, norm: torch.fft.ifftshift(torch.fft.fftshift(a, dim=1) * 2), 1),
]


@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
@pytest.mark.parametrize("name,f,n_in", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradients(name, f, n_in, norm):
    rng = np.random.default_rng(1)
    inputs = tuple(torch.tensor(rng.standard_normal((3, 6)), requires_grad=True) for _ in range(n_in))
    fn = lambda *xs: f(*xs, norm)  # noqa: E731
    assert gradcheck(fn, inputs)
    if norm is None:  # the backward ops are the same for every norm; only the scale differs
        assert gradgradcheck(fn, inputs)


def test_gradient_of_power_spectrum():
    # Parseval: sum |fft(x)|^2 = n sum x^2, so the gradient is 2 n x
    x = torch.tensor(X[0], requires_grad=True)
    spec = torch.fft.fft(x)
    (spec * spec.conj()).real.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * 6 * X[0], rtol=1e-10)

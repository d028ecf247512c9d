"""stft/istft: frames and spectra against NumPy, the round trip, gradients, and bad input."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import gradcheck


def _np_stft(x, n_fft, hop, window, center=True, onesided=True):
    if center:
        x = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(n_fft // 2, n_fft // 2)], mode="reflect")
    n = 1 + (x.shape[-1] - n_fft) // hop
    frames = np.stack([x[..., i * hop : i * hop + n_fft] * window for i in range(n)], axis=-2)
    spec = np.fft.rfft(frames, axis=-1) if onesided else np.fft.fft(frames, axis=-1)
    return np.swapaxes(spec, -1, -2)


X = np.random.default_rng(0).normal(size=(2, 40))


@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("onesided", [True, False])
def test_stft_matches_numpy(center, onesided):
    w = np.hanning(18)[1:-1]  # 16 taps, nonzero at both ends
    s = rg.stft(
        rg.tensor(X), 16, hop_length=5, window=rg.tensor(w), center=center, onesided=onesided, return_complex=True
    )
    np.testing.assert_allclose(s.numpy(), _np_stft(X, 16, 5, w, center, onesided), rtol=1e-10, atol=1e-12)
    one = rg.stft(
        rg.tensor(X[0]), 16, hop_length=5, window=rg.tensor(w), center=center, onesided=onesided, return_complex=True
    )
    np.testing.assert_allclose(one.numpy(), s.numpy()[0], rtol=1e-12)


def test_window_padding_normalization_and_real_output():
    w = np.hanning(12)
    s = rg.stft(rg.tensor(X), 16, win_length=12, window=rg.tensor(w), normalized=True, return_complex=True)
    padded = np.pad(w, (2, 2))
    np.testing.assert_allclose(s.numpy(), _np_stft(X, 16, 4, padded) / 4, rtol=1e-10, atol=1e-12)
    with pytest.warns(UserWarning, match="return_complex=False is deprecated"):
        r = rg.stft(rg.tensor(X), 16, window=rg.tensor(np.hanning(16)), return_complex=False)
    assert r.shape == (2, 9, 11, 2)
    with pytest.warns(UserWarning, match="rectangular window"):
        rect = rg.stft(rg.tensor(X), 16, return_complex=True)
    np.testing.assert_allclose(rect.numpy(), _np_stft(X, 16, 4, np.ones(16)), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("hop, center", [(4, True), (5, True), (3, False)])
def test_istft_inverts_stft(hop, center):
    w = rg.tensor(np.hanning(18)[1:-1])
    s = rg.stft(rg.tensor(X), 16, hop_length=hop, window=w, center=center, return_complex=True)
    y = rg.istft(s, 16, hop_length=hop, window=w, center=center, length=40 if center else None)
    n = y.shape[-1]
    np.testing.assert_allclose(y.numpy(), X[:, :n], rtol=1e-9, atol=1e-12)
    full = rg.stft(rg.tensor(X), 16, hop_length=hop, window=w, center=center, onesided=False, return_complex=True)
    np.testing.assert_allclose(
        rg.istft(full, 16, hop_length=hop, window=w, center=center).numpy()[:, :n], X[:, :n], atol=1e-9
    )
    with pytest.warns(UserWarning, match="padded with zeros"):
        assert rg.istft(s, 16, hop_length=hop, window=w, center=center, length=60).shape == (2, 60)


def test_gradients():
    w = rg.tensor(np.hanning(8))

    def f(x):
        s = rg.stft(x, 8, hop_length=3, window=w, return_complex=True)
        return rg.view_as_real(s), rg.istft(s, 8, hop_length=3, window=w, length=x.shape[-1])

    assert gradcheck(f, (rg.tensor(X[:, :14], requires_grad=True),))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: rg.stft(rg.ones(40), 16), "return_complex parameter be given"),
        (lambda: rg.stft(rg.ones(40), 16, hop_length=0, return_complex=True), "hop_length > 0"),
        (lambda: rg.stft(rg.ones(40), 16, win_length=20, return_complex=True), "win_length"),
        (lambda: rg.stft(rg.ones(40), 16, window=rg.ones(10), return_complex=True), "window"),
        (lambda: rg.stft(rg.ones(10), 16, center=False, return_complex=True), "n_fft"),
        (lambda: rg.stft(rg.ones(2, 2, 40), 16, return_complex=True), "1D or 2D"),
        (lambda: rg.istft(rg.ones(9, 5), 16), "complex-valued input"),
        (lambda: rg.istft(rg.ones(9, 5, dtype=rg.complex64), 16, window=rg.hann_window(16), center=False), "NOLA"),
    ],
)
@pytest.mark.filterwarnings("ignore:A window was not provided")
def test_bad_input(call, match):
    with pytest.raises(RuntimeError, match=match):
        call()

"""The short-time Fourier transform and its inverse (``torch.stft``/``torch.istft``), written
with differentiable ops: padding, ``unfold`` into frames, a window, ``fft.rfft``/``fft.fft``;
the inverse by ``irfft``/``ifft`` of each frame and an overlap-add (``fold``) divided by the
summed squared window."""

import warnings

from .._tensor import Tensor
from ._declare import declare

__all__ = ["stft", "istft"]


def _window(window, n_fft, win_length, like, op):
    from .._creation import ones

    if window is None:
        window = ones(win_length, dtype=like.real.dtype if like.is_complex() else like.dtype, device=like.device)
    elif window.dim() != 1 or window.shape[0] != win_length:
        raise RuntimeError(
            f"{op}: expected a 1D window tensor of size equal to win_length={win_length}, but got window with "
            f"size {list(window.shape)}"
        )
    if win_length < n_fft:
        from .resample import pad

        left = (n_fft - win_length) // 2
        window = pad(window, [left, n_fft - win_length - left])
    return window


def _check_lengths(n_fft, hop_length, win_length, op):
    if hop_length <= 0:
        raise RuntimeError(f"{op}: expected hop_length > 0, but got hop_length={hop_length}")
    if win_length <= 0 or win_length > n_fft:
        raise RuntimeError(f"{op}: expected 0 < win_length <= n_fft, but got win_length={win_length}")


def stft(
    input,
    n_fft,
    hop_length=None,
    win_length=None,
    window=None,
    center=True,
    pad_mode="reflect",
    normalized=False,
    onesided=None,
    return_complex=None,
):
    """The spectrum of each frame of ``input`` (a signal (L) or a batch (B, L)): frames of
    ``n_fft`` samples every ``hop_length`` (n_fft // 4), times ``window`` (ones of ``win_length``,
    zero-padded to ``n_fft`` on both sides), Fourier transformed; (B, freq, frames) complex.
    ``center`` pads the signal by n_fft // 2 on both sides with ``pad_mode`` first;
    ``normalized`` scales by n_fft^-1/2; ``onesided`` (the default for real input and window)
    keeps the n_fft // 2 + 1 non-negative frequencies. ``return_complex`` must be given for a
    real input; False returns ``view_as_real`` of the result (deprecated in PyTorch)."""
    from .complex import view_as_real
    from .fft import fft, rfft
    from .resample import pad

    if not isinstance(input, Tensor) or input.dim() not in (1, 2):
        shape = list(input.shape) if isinstance(input, Tensor) else type(input).__name__
        raise RuntimeError(f"stft: expected a 1D or 2D tensor, but got {shape}")
    complex_input = input.is_complex() or (window is not None and window.is_complex())
    if return_complex is None:
        if not complex_input:
            raise RuntimeError(
                "stft requires the return_complex parameter be given for real inputs, and will further require "
                "that return_complex=True in a future PyTorch release."
            )
        return_complex = True
    if not return_complex:
        warnings.warn(
            "stft with return_complex=False is deprecated. In a future pytorch release, stft will return complex "
            "tensors for all inputs, and return_complex=False will raise an error.",
            UserWarning,
            stacklevel=2,
        )
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    _check_lengths(n_fft, hop_length, win_length, "stft")
    if window is None:
        warnings.warn(
            "A window was not provided. A rectangular window will be applied,which is known to cause spectral "
            "leakage. Other windows such as torch.hann_window or torch.hamming_window are recommended to reduce "
            "spectral leakage.To suppress this warning and use a rectangular window, explicitly set "
            "`window=torch.ones(n_fft, device=<device>)`.",
            UserWarning,
            stacklevel=2,
        )
    window = _window(window, n_fft, win_length, input, "stft")
    x = input if input.dim() == 2 else input.unsqueeze(0)
    if center:
        half = n_fft // 2
        x = pad(x.unsqueeze(0), [half, half], mode=pad_mode).squeeze(0)
    length = x.shape[-1]
    if n_fft <= 0 or n_fft > length:
        raise RuntimeError(f"stft: expected 0 < n_fft <= {length}, but got n_fft={n_fft}")
    frames = x.unfold(-1, n_fft, hop_length) * window  # (B, frames, n_fft)
    if onesided is None:
        onesided = not complex_input
    if onesided and complex_input:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    spec = rfft(frames, dim=-1) if onesided else fft(frames, dim=-1)
    if normalized:
        spec = spec * n_fft**-0.5
    # contiguous (PyTorch returns the transposed view): view_as_real here needs a dense tensor
    spec = spec.transpose(-1, -2).contiguous()
    if input.dim() == 1:
        spec = spec.squeeze(0)
    return spec if return_complex else view_as_real(spec)


def istft(
    input,
    n_fft,
    hop_length=None,
    win_length=None,
    window=None,
    center=True,
    normalized=False,
    onesided=None,
    length=None,
    return_complex=False,
):
    """The signal whose ``stft`` (same arguments) is ``input`` ((freq, frames) or
    (B, freq, frames), complex): each frame inverse transformed, windowed, overlap-added and
    divided by the overlap-added squared window (which must not vanish: the NOLA condition);
    trimmed by n_fft // 2 at the start with ``center``, and to ``length`` samples when given
    (zero-padded if longer). ``return_complex=False`` keeps the real part."""
    from .fft import ifft, irfft
    from .resample import pad
    from .conv import fold

    if not isinstance(input, Tensor) or not input.is_complex():
        raise RuntimeError(
            "istft requires a complex-valued input tensor matching the output from stft with return_complex=True."
        )
    if input.dim() not in (2, 3):
        raise RuntimeError(f"istft: expected a tensor with 2 or 3 dimensions of complex, but got {input.dim()}")
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    _check_lengths(n_fft, hop_length, win_length, "istft")
    if window is None:
        warnings.warn(
            "A window was not provided. A rectangular window will be applied.Please provide the same window used "
            "by stft to make the inversion lossless.To suppress this warning and use a rectangular window, "
            "explicitly set `window=torch.ones(n_fft, device=<device>)`.",
            UserWarning,
            stacklevel=2,
        )
    spec = input if input.dim() == 3 else input.unsqueeze(0)
    n_freq, n_frames = spec.shape[-2], spec.shape[-1]
    if onesided is None:
        onesided = n_freq != n_fft
    expected_freq = n_fft // 2 + 1 if onesided else n_fft
    if n_freq != expected_freq:
        raise RuntimeError(
            f"istft: expected the frequency dimension (3rd to the last) of the input tensor to match n_fft / 2 + 1 "
            f"when onesided=True, but got {n_freq}"
            if onesided
            else f"istft: expected the frequency dimension to be n_fft={n_fft} when onesided=False, got {n_freq}"
        )
    if onesided and return_complex:
        raise RuntimeError("cannot have onesided output if window or input is complex")
    window = _window(window, n_fft, win_length, spec.real, "istft")
    if normalized:
        spec = spec * n_fft**0.5
    frames = spec.transpose(-1, -2)  # (B, frames, freq)
    frames = irfft(frames, n=n_fft, dim=-1) if onesided else ifft(frames, dim=-1)
    if not onesided and not return_complex:
        frames = frames.real
    frames = frames * window
    total = n_fft + hop_length * (n_frames - 1)

    def overlap_add(f):  # f: (B, frames, n_fft) -> (B, total)
        out = fold(f.transpose(-1, -2), output_size=(1, total), kernel_size=(1, n_fft), stride=(1, hop_length))
        return out.reshape(f.shape[0], total)

    signal = overlap_add(frames)
    envelope = overlap_add((window.abs() ** 2).expand(1, n_frames, n_fft))[0]
    start = n_fft // 2 if center else 0
    end = total - n_fft // 2 if center else total
    if length is not None:
        end = start + length
    kept = envelope[start:end]
    if kept.numel() and float(kept.abs().min()) < 1e-11:
        raise RuntimeError(
            f"istft: window overlap add min: {float(kept.abs().min())} is below 1e-11; the window and hop_length "
            "do not satisfy the NOLA condition"
        )
    signal = signal[:, start:end] / kept
    if length is not None and signal.shape[-1] < length:
        warnings.warn(
            "The length of signal is shorter than the length parameter. Result is being padded with zeros in the "
            "tail. Please check your center and hop_length settings.",
            UserWarning,
            stacklevel=2,
        )
        signal = pad(signal, [0, length - signal.shape[-1]])
    if input.dim() == 2:
        signal = signal.squeeze(0)
    return signal


declare(stft, method=True)
declare(istft, method=True)

"""retrograd.fft: PyTorch's torch.fft namespace. Re-exports only; the transforms live in
ops/fft.py."""
from .ops.fft import (fft, ifft, fft2, ifft2, fftn, ifftn, rfft, irfft, rfft2, irfft2, rfftn, irfftn, hfft,
                      ihfft, hfft2, ihfft2, hfftn, ihfftn, fftfreq, rfftfreq, fftshift, ifftshift)

__all__ = ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2", "rfftn", "irfftn",
           "hfft", "ihfft", "hfft2", "ihfft2", "hfftn", "ihfftn", "fftfreq", "rfftfreq", "fftshift", "ifftshift"]

# PyTorch's out= forms: each function named in OUT_FORMS["fft"] (ops/_out.py) is the plain
# function wrapped to write its result into `out`; every other function here refuses out=.
from .ops._out import OUT_FORMS as _OUT_FORMS, with_out as _with_out  # noqa: E402
for _name in _OUT_FORMS["fft"]:
    globals()[_name] = _with_out(globals()[_name], _name)
del _name

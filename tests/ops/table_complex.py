"""Op table: complex numbers and the FFTs. The samples are real; each spec builds its complex
input with ``complex(x, y)`` and returns a real result (``view_as_real``, ``abs``, ...), so
gradcheck and the NumPy references work on real arrays."""
import numpy as np

from .optable import OpSpec

C = [[(3, 4), (3, 4)]]     # real and imaginary parts of a (3, 4) complex input
C1 = [[(6,), (6,)]]


def _ri(z):
    return np.stack([z.real, z.imag], -1)


# forward mode refuses complex tensors for now (NotImplementedError), so those checks are skipped
_NO_FWD = {"forward_ad": "forward-mode AD through complex tensors is not supported yet (it raises)"}


def build(rg):
    specs = _build(rg)
    for s in specs:
        if s.name not in ("resolve_conj", "fft_fftshift", "fft_ifftshift"):
            s.skip = {**_NO_FWD, **s.skip}
    return specs


def _build(rg):
    fft = rg.fft

    def z(x, y):
        return rg.complex(x, y)

    specs = [
        OpSpec("complex_view_as_real", lambda x, y: rg.view_as_real(z(x, y)), lambda x, y: np.stack([x, y], -1), C),
        OpSpec("view_as_complex", lambda x: rg.view_as_real(rg.view_as_complex(x) * 2),
               lambda x: 2 * x, [[(3, 2)]]),
        OpSpec("conj_complex", lambda x, y: rg.view_as_real(rg.conj(z(x, y)).resolve_conj()), lambda x, y: _ri(np.conj(x + 1j * y)), C),
        OpSpec("conj_physical_complex", lambda x, y: rg.view_as_real(rg.conj_physical(z(x, y))),
               lambda x, y: _ri(np.conj(x + 1j * y)), C),
        OpSpec("resolve_conj", lambda x: rg.resolve_conj(x) * 1, lambda x: x, [[(3, 4)]]),
        OpSpec("real_imag", lambda x, y: rg.real(z(x, y)) * 2 + rg.imag(z(x, y)),
               lambda x, y: 2 * x + y, C),
        OpSpec("angle_complex", lambda x, y: rg.angle(z(x, y)), lambda x, y: np.angle(x + 1j * y), C, low=0.2, high=2),
        OpSpec("polar", lambda r, t: rg.view_as_real(rg.polar(r, t)), lambda r, t: _ri(r * np.exp(1j * t)), C,
               low=0.2, high=2),
    ]
    c2c = {"fft": np.fft.fft, "ifft": np.fft.ifft, "fft2": np.fft.fft2, "ifft2": np.fft.ifft2,
           "fftn": np.fft.fftn, "ifftn": np.fft.ifftn, "hfft": np.fft.hfft}
    for name, ref in c2c.items():
        specs.append(OpSpec(f"fft_{name}", lambda x, y, f=getattr(fft, name): _real(rg, f(z(x, y))),
                            lambda x, y, ref=ref: _np_real(ref(x + 1j * y)), C))
    r2c = {"rfft": np.fft.rfft, "ihfft": np.fft.ihfft, "rfft2": np.fft.rfft2, "rfftn": np.fft.rfftn}
    for name, ref in r2c.items():
        # (ihfft's result is a lazily conjugated view in PyTorch: resolved before view_as_real)
        specs.append(OpSpec(f"fft_{name}", lambda x, f=getattr(fft, name): rg.view_as_real(f(x).resolve_conj()),
                            lambda x, ref=ref: _ri(ref(x)), [[(3, 4)]]))
    c2r = {"irfft": (np.fft.irfft, {}), "irfft2": (np.fft.irfft2, {}), "irfftn": (np.fft.irfftn, {})}
    for name, (ref, _) in c2r.items():
        specs.append(OpSpec(f"fft_{name}", lambda x, y, f=getattr(fft, name): f(z(x, y), norm="ortho"),
                            lambda x, y, ref=ref: ref(x + 1j * y, norm="ortho"), C,
                            skip={"gradcheck": "a one-sided input is not Hermitian off its first bin: "
                                               "finite differences see the discarded parts; checked in "
                                               "tests/ops/test_fft.py on Hermitian inputs", "gradgradcheck": "same"}))
    specs += [
        OpSpec("fft_hfft2", lambda x, y: fft.hfft2(z(x, y), s=(3, 6)), lambda x, y: np.fft.irfft2(np.conj(x + 1j * y), s=(3, 6)) * 18,
               C, skip={"gradcheck": "as irfft", "gradgradcheck": "same"}),
        OpSpec("fft_hfftn", lambda x, y: fft.hfftn(z(x, y), s=(3, 6)), lambda x, y: np.fft.irfftn(np.conj(x + 1j * y), s=(3, 6)) * 18,
               C, skip={"gradcheck": "as irfft", "gradgradcheck": "same"}),
        OpSpec("fft_ihfft2", lambda x: rg.view_as_real(fft.ihfft2(x).resolve_conj()), lambda x: _ri(np.conj(np.fft.rfft2(x)) / 12),
               [[(3, 4)]]),
        OpSpec("fft_ihfftn", lambda x: rg.view_as_real(fft.ihfftn(x).resolve_conj()), lambda x: _ri(np.conj(np.fft.rfftn(x)) / 12),
               [[(3, 4)]]),
        OpSpec("fft_fftshift", lambda x: fft.fftshift(x) * 1, np.fft.fftshift, [[(3, 4)], [(5,)]]),
        OpSpec("fft_ifftshift", lambda x: fft.ifftshift(x) * 1, np.fft.ifftshift, [[(3, 4)], [(5,)]]),
    ]
    return specs


def _real(rg, t):
    return rg.view_as_real(t) if t.is_complex() else t


def _np_real(a):
    return _ri(a) if np.iscomplexobj(a) else a

"""Discrete Fourier transforms (``torch.fft``), with gradients.

Every transform is built from four ops, each with its backward beside it:

- ``fft_c2c``: the complex transform over some dims, forward or inverse, unnormalised and then
  multiplied by a real ``scale``. Its adjoint is the other direction with the same scale.
- ``fft_r2c``: the one-sided transform of a real tensor (the last transformed dim keeps
  n // 2 + 1 entries). Its adjoint pads the gradient back to the full length with zeros, runs
  the inverse complex transform and keeps the real part.
- ``fft_c2r``: the inverse of a one-sided spectrum, giving a real signal of ``n`` entries. Its
  adjoint is the one-sided transform of the gradient, with the entries that stand for two
  conjugate frequencies (all but the first and, for even n, the last) doubled, as PyTorch does.
- ``fft_resize``: zero-pads or trims dims to the requested signal sizes (``n``/``s``); its
  adjoint resizes the gradient back.

Each backward is written with these ops, so gradients of gradients work. Gradients follow
PyTorch's convention for complex tensors (see ops/complex.py). ``norm`` scales as in PyTorch:
"backward" (the default) leaves the forward transform unscaled and divides the inverse by n,
"forward" the other way round, "ortho" divides both by sqrt(n).
"""

import math

from .. import _dtype
from .._tensor import Tensor, _wrap_dim
from .._typeinfo import factory_options
from ._registry import COMPLEX_AUTOGRAD, Op, apply
from ._declare import declare
from .complex import conj, real


# --------------------------------------------------------------------------- the ops
def _complex_of(xp, x):
    return xp.complex128 if x.dtype in (xp.float64, xp.complex128) else xp.complex64


def _c2c(xp, x, dims, forward, scale):
    if forward:
        out = xp.fft.fftn(x, axes=dims)
    else:
        out = xp.fft.ifftn(x, axes=dims, norm="forward")  # unnormalised inverse
    out = out.astype(x.dtype, copy=False)
    if scale != 1:
        out *= scale
    return out


def _c2c_vjp(g, dims, forward, scale):
    return c2c(g, dims, not forward, scale)


def _r2c(xp, x, dims, scale, last_n):
    out = xp.fft.rfftn(x, axes=dims).astype(_complex_of(xp, x), copy=False)
    if scale != 1:
        out *= scale
    return out


def _r2c_vjp(g, dims, scale, last_n):
    full = resize(g, (dims[-1],), (last_n,))
    return real(c2c(full, dims, False, scale))


def _c2r(xp, y, dims, last_n, scale):
    sizes = [y.shape[d] for d in dims[:-1]] + [last_n]
    out = xp.fft.irfftn(y, s=sizes, axes=dims, norm="forward")
    out = out.astype(y.real.dtype, copy=False)
    if scale != 1:
        out *= scale
    return out


def _c2r_vjp(g, dims, last_n, scale):
    gi = r2c(g, dims, scale)
    m = gi._data.shape[dims[-1]]
    doubled = last_n - m  # entries 1 .. doubled stand for two conjugate frequencies each
    if doubled <= 0:
        return gi
    from .._creation import ones

    w = ones(m, dtype=_dtype.from_np(gi._data.real.dtype), device=gi.device)
    w[1 : 1 + doubled] = 2
    shape = [1] * gi._data.ndim
    shape[dims[-1]] = m
    return gi * w.reshape(shape)


def _resize(xp, x, dims, sizes, in_sizes):
    index = [slice(None)] * x.ndim
    pad = [(0, 0)] * x.ndim
    for d, n in zip(dims, sizes):
        if n < x.shape[d]:
            index[d] = slice(0, n)
        else:
            pad[d] = (0, n - x.shape[d])
    out = x[tuple(index)]
    return xp.pad(out, pad) if any(p[1] for p in pad) else out.copy()


def _resize_vjp(g, dims, sizes, in_sizes):
    return resize(g, dims, in_sizes)


C2C = Op("fft_c2c", _c2c, _c2c_vjp, node_name="FftC2CBackward0")
R2C = Op("fft_r2c", _r2c, _r2c_vjp, node_name="FftR2CBackward0")
C2R = Op("fft_c2r", _c2r, _c2r_vjp, node_name="FftC2RBackward0")
RESIZE = Op("fft_resize", _resize, _resize_vjp, node_name="ConstantPadNdBackward0")
COMPLEX_AUTOGRAD.update({C2C, R2C, C2R, RESIZE})


def c2c(x, dims, forward, scale):
    return apply(C2C, (x,), (tuple(dims), forward, scale))


def r2c(x, dims, scale):
    return apply(R2C, (x,), (tuple(dims), scale, x._data.shape[dims[-1]]))


def c2r(y, dims, last_n, scale):
    return apply(C2R, (y,), (tuple(dims), last_n, scale))


def resize(x, dims, sizes):
    """``x`` zero-padded or trimmed so that dim ``dims[i]`` has ``sizes[i]`` entries."""
    shape = x._data.shape
    if all(shape[d] == n for d, n in zip(dims, sizes)):
        return x
    return apply(RESIZE, (x,), (tuple(dims), tuple(sizes), tuple(shape[d] for d in dims)))


# --------------------------------------------------------------------------- argument handling
_NORMS = (None, "backward", "ortho", "forward")


def _scale(norm, n, inverse):
    """The factor applied to the unnormalised transform of ``n`` points for ``norm``."""
    if norm not in _NORMS:
        raise RuntimeError(f'Invalid normalization mode: "{norm}" (expected "backward", "ortho" or "forward")')
    if norm == "ortho":
        return 1 / math.sqrt(n)
    if (norm == "forward") != inverse:  # forward-normalised forward, or backward-normalised inverse
        return 1 / n
    return 1.0


_SWAP = {None: "forward", "backward": "forward", "forward": "backward", "ortho": "ortho"}


def _swap(norm):
    if norm not in _NORMS:
        raise RuntimeError(f'Invalid normalization mode: "{norm}" (expected "backward", "ortho" or "forward")')
    return _SWAP[norm]


def _input(name, input, want):
    """``input`` promoted for transform ``name`` (integers to the default float dtype): ``want``
    is "real" (a complex input is an error) or "complex" (a real input is made complex)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"fft_{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    k = input._data.dtype.kind
    if k in "iub":
        input = input.to(_dtype.get_default_dtype())
    elif input.dtype is _dtype.float16:
        raise RuntimeError(
            f"{name}: Unsupported dtype Half (float16 transforms need CUDA in PyTorch; convert to float32)"
        )
    if want == "real" and k == "c":
        raise RuntimeError(f"{name} expects a real input tensor, but got {input.dtype}")
    if want == "complex" and k != "c":
        input = input.to(input.dtype.to_complex())
    return input


def _check_n(n):
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return n


def _plan(name, input, s, dim, default_all=True):
    """The dims to transform and the signal size for each (None where the size is kept), from
    PyTorch's ``s`` and ``dim`` arguments of the n-dimensional transforms."""
    ndim = input._data.ndim
    if dim is not None:
        dims = [dim] if isinstance(dim, int) else list(dim)
        dims = [_wrap_dim(d, ndim, f"fft_{name}") for d in dims]
        if s is not None and len(s) != len(dims):
            raise RuntimeError(
                f"fft_{name}: When given, dim and shape arguments must have the same length "
                f"(s={list(s)}, dim={list(dim) if not isinstance(dim, int) else dim})"
            )
    elif s is not None:
        if len(s) > ndim:
            raise RuntimeError(
                f"fft_{name}: Got shape with {len(s)} values but input tensor only has {ndim} dimensions."
            )
        dims = list(range(ndim - len(s), ndim))
    else:
        dims = list(range(ndim))
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"fft_{name}: FFT dims must be unique (got {dims})")
    sizes = [None] * len(dims) if s is None else [None if int(v) == -1 else _check_n(int(v)) for v in s]
    return dims, sizes


def _filled(input, dims, sizes):
    return [input._data.shape[d] if n is None else n for d, n in zip(dims, sizes)]


# --------------------------------------------------------------------------- the public transforms
def _cfft(name, input, s, dim, norm, inverse):
    input = _input(name, input, "complex")
    dims, sizes = _plan(name, input, s, dim)
    if not dims:
        return input.clone()
    sizes = _filled(input, dims, sizes)
    scale = _scale(norm, math.prod(sizes), inverse)
    return c2c(resize(input, dims, sizes), dims, not inverse, scale)


def _rfft(name, input, s, dim, norm):
    input = _input(name, input, "real")
    dims, sizes = _plan(name, input, s, dim)
    if not dims:
        raise RuntimeError(f"{name} must transform at least one axis")
    sizes = _filled(input, dims, sizes)
    scale = _scale(norm, math.prod(sizes), False)
    return r2c(resize(input, dims, sizes), dims, scale)


def _irfft(name, input, s, dim, norm):
    input = _input(name, input, "complex")
    dims, sizes = _plan(name, input, s, dim)
    if not dims:
        raise RuntimeError(f"{name} must transform at least one axis")
    last = sizes[-1]
    if last is None:
        last = _check_n(2 * (input._data.shape[dims[-1]] - 1))
    sizes = _filled(input, dims, sizes[:-1] + [last // 2 + 1])
    scale = _scale(norm, math.prod(sizes[:-1]) * last, True)
    return c2r(resize(input, dims, sizes), dims, last, scale)


def _one(n, dim):
    return None if n is None else (n,), dim


def fft(input, n=None, dim=-1, norm=None):
    """The 1-D discrete Fourier transform of ``input`` along ``dim`` (zero-padded or trimmed to
    ``n`` points first). Real inputs give complex results."""
    s, d = _one(n, dim)
    return _cfft("fft", input, s, (d,), norm, False)


def ifft(input, n=None, dim=-1, norm=None):
    """The 1-D inverse discrete Fourier transform along ``dim``."""
    s, d = _one(n, dim)
    return _cfft("ifft", input, s, (d,), norm, True)


def fft2(input, s=None, dim=(-2, -1), norm=None):
    """The 2-D discrete Fourier transform over ``dim``."""
    return _cfft("fft2", input, s, dim, norm, False)


def ifft2(input, s=None, dim=(-2, -1), norm=None):
    """The 2-D inverse discrete Fourier transform over ``dim``."""
    return _cfft("ifft2", input, s, dim, norm, True)


def fftn(input, s=None, dim=None, norm=None):
    """The N-D discrete Fourier transform over ``dim`` (all dims, or the last len(s) dims when
    only ``s`` is given)."""
    return _cfft("fftn", input, s, dim, norm, False)


def ifftn(input, s=None, dim=None, norm=None):
    """The N-D inverse discrete Fourier transform."""
    return _cfft("ifftn", input, s, dim, norm, True)


def rfft(input, n=None, dim=-1, norm=None):
    """The 1-D transform of a real signal: the n // 2 + 1 non-negative frequencies."""
    s, d = _one(n, dim)
    return _rfft("rfft", input, s, (d,), norm)


def irfft(input, n=None, dim=-1, norm=None):
    """The inverse of rfft: a real signal of ``n`` points (default 2 (m - 1) for m input entries)
    from its non-negative frequencies. The imaginary parts of the zero (and, for even n, the
    last) frequency are ignored."""
    s, d = _one(n, dim)
    return _irfft("irfft", input, s, (d,), norm)


def rfft2(input, s=None, dim=(-2, -1), norm=None):
    """The 2-D transform of a real signal, one-sided in the last dim."""
    return _rfft("rfft2", input, s, dim, norm)


def irfft2(input, s=None, dim=(-2, -1), norm=None):
    """The inverse of rfft2."""
    return _irfft("irfft2", input, s, dim, norm)


def rfftn(input, s=None, dim=None, norm=None):
    """The N-D transform of a real signal, one-sided in the last transformed dim."""
    return _rfft("rfftn", input, s, dim, norm)


def irfftn(input, s=None, dim=None, norm=None):
    """The inverse of rfftn."""
    return _irfft("irfftn", input, s, dim, norm)


def hfft(input, n=None, dim=-1, norm=None):
    """The transform of a Hermitian-symmetric signal given by its first half: a real spectrum of
    ``n`` points (irfft of the conjugate, with the opposite normalisation)."""
    s, d = _one(n, dim)
    return _irfft("hfft", conj(_input("hfft", input, "complex")), s, (d,), _swap(norm))


def ihfft(input, n=None, dim=-1, norm=None):
    """The inverse of hfft: the one-sided inverse transform of a real signal."""
    s, d = _one(n, dim)
    return conj(_rfft("ihfft", input, s, (d,), _swap(norm)))


def hfft2(input, s=None, dim=(-2, -1), norm=None):
    """The 2-D hfft."""
    return _irfft("hfft2", conj(_input("hfft2", input, "complex")), s, dim, _swap(norm))


def ihfft2(input, s=None, dim=(-2, -1), norm=None):
    """The 2-D ihfft."""
    return conj(_rfft("ihfft2", input, s, dim, _swap(norm)))


def hfftn(input, s=None, dim=None, norm=None):
    """The N-D hfft."""
    return _irfft("hfftn", conj(_input("hfftn", input, "complex")), s, dim, _swap(norm))


def ihfftn(input, s=None, dim=None, norm=None):
    """The N-D ihfft."""
    return conj(_rfft("ihfftn", input, s, dim, _swap(norm)))


# --------------------------------------------------------------------------- frequencies and shifts
def _freq_dtype(name, dtype, layout, pin_memory, device):
    if layout is not None or pin_memory:
        factory_options(name, layout, pin_memory, device)
    d = _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)
    if not (d.is_floating_point or d.is_complex):
        raise RuntimeError(f"{name}: expected a floating point or complex dtype, got {d}")
    return d


def fftfreq(n, d=1.0, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """The sample frequencies of an ``n``-point transform with sample spacing ``d``:
    [0, 1, ..., (n - 1) // 2, -(n // 2), ..., -1] / (d n)."""
    from .._creation import arange

    dt = _freq_dtype("fftfreq", dtype, layout, pin_memory, device)
    k = arange(n, dtype=_dtype.int64, device=device)
    k = k - (k >= (n + 1) // 2).to(_dtype.int64) * n
    out = (k.to(dt) / (d * n)).detach()
    return out.requires_grad_(True) if requires_grad else out


def rfftfreq(n, d=1.0, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """The non-negative sample frequencies of an ``n``-point real transform: [0, ..., n // 2] / (d n)."""
    from .._creation import arange

    dt = _freq_dtype("rfftfreq", dtype, layout, pin_memory, device)
    out = (arange(n // 2 + 1, dtype=_dtype.int64, device=device).to(dt) / (d * n)).detach()
    return out.requires_grad_(True) if requires_grad else out


def _shift(name, input, dim, sign):
    ndim = input._data.ndim
    if dim is None:
        dims = list(range(ndim))
    else:
        dims = [_wrap_dim(d, ndim, name) for d in ([dim] if isinstance(dim, int) else dim)]
    if not dims:
        return input.clone()
    shifts = [sign * (input._data.shape[d] // 2) for d in dims]
    return input.roll(shifts, dims)


def fftshift(input, dim=None):
    """Move the zero frequency to the centre: a roll by n // 2 along each of ``dim`` (all dims)."""
    return _shift("fftshift", input, dim, 1)


def ifftshift(input, dim=None):
    """The inverse of fftshift: a roll by -(n // 2)."""
    return _shift("ifftshift", input, dim, -1)


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (torch.fft.X, out=): see _declare.py
declare(fft, torch=False, out=True, fft=("fft",))
declare(ifft, torch=False, out=True, fft=("ifft",))
declare(fft2, torch=False, out=True, fft=("fft2",))
declare(ifft2, torch=False, out=True, fft=("ifft2",))
declare(fftn, torch=False, out=True, fft=("fftn",))
declare(ifftn, torch=False, out=True, fft=("ifftn",))
declare(rfft, torch=False, out=True, fft=("rfft",))
declare(irfft, torch=False, out=True, fft=("irfft",))
declare(rfft2, torch=False, out=True, fft=("rfft2",))
declare(irfft2, torch=False, out=True, fft=("irfft2",))
declare(rfftn, torch=False, out=True, fft=("rfftn",))
declare(irfftn, torch=False, out=True, fft=("irfftn",))
declare(hfft, torch=False, out=True, fft=("hfft",))
declare(ihfft, torch=False, out=True, fft=("ihfft",))
declare(hfft2, torch=False, out=True, fft=("hfft2",))
declare(ihfft2, torch=False, out=True, fft=("ihfft2",))
declare(hfftn, torch=False, out=True, fft=("hfftn",))
declare(ihfftn, torch=False, out=True, fft=("ihfftn",))
declare(fftfreq, torch=False, out=True, fft=("fftfreq",))
declare(rfftfreq, torch=False, out=True, fft=("rfftfreq",))
declare(fftshift, torch=False, fft=("fftshift",))
declare(ifftshift, torch=False, fft=("ifftshift",))

"""Complex tensors: real and imaginary parts, conj, abs, angle, view_as_real/view_as_complex,
complex, polar, with gradients.

Gradients follow PyTorch's convention for complex numbers: for a real loss L of z = x + iy, the
gradient reaching z is dL/dx + i dL/dy (the conjugate Wirtinger derivative, doubled). So the
backward of a holomorphic f multiplies by conj(f'(z)), that of real(z) is the real gradient
itself, and a real input of a complex op receives the real part of its complex gradient (the
engine takes it).

Only ops whose backward is right under that convention may record on complex tensors; they
are listed in ``_registry.COMPLEX_AUTOGRAD`` (here, the linear ones of other families too).
"""

import warnings

from .. import _dtype
from ..backend import array_module
from .._tensor import Tensor
from ._declare import declare
from ._registry import COMPLEX_AUTOGRAD, Op, apply
from . import elementwise as _ew
from . import indexing as _ix
from . import reduction as _red
from . import resample as _rs
from . import shape as _sh
from ..autograd import _broadcast
from ..autograd import views as _views


def _require_complex(name, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input._data.dtype.kind != "c":
        raise RuntimeError(
            f"{name} expects a complex tensor, got one of dtype {input.dtype} (shape {list(input._data.shape)})"
        )


# --------------------------------------------------------------------------- real, imag, complex
REAL = Op("real", lambda xp, x: x.real, lambda g: g, is_view=True)  # the engine casts g to complex
IMAG = Op("imag", lambda xp, x: x.imag, lambda g: complex(g * 0, g), is_view=True)


def real(input):
    """The real part of a complex tensor, as a view (the tensor itself for real dtypes)."""
    if input._data.dtype.kind != "c":
        return input
    return apply(REAL, (input,))


def imag(input):
    """The imaginary part of a complex tensor, as a view."""
    if input._data.dtype.kind != "c":
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return apply(IMAG, (input,))


def _complex(xp, re, im):
    out = xp.empty(re.shape, dtype=xp.complex128 if re.dtype == xp.float64 else xp.complex64)
    out.real = re
    out.imag = im
    return out


COMPLEX = Op(
    "complex", _complex, lambda g, needs: (real(g) if needs[0] else None, imag(g) if needs[1] else None), needs=True
)


def _float_pair(op, names, a, b):
    """``a`` and ``b`` broadcast together, after checking that both are float32 or float64
    tensors of one dtype (the parts of ``complex`` and ``polar``)."""
    for name, t in zip(names, (a, b)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(t).__name__}")
        if t._data.dtype.kind != "f" or t.dtype is _dtype.float16:
            raise RuntimeError(
                f"{op}(): expected both inputs to be float32 or float64 tensors, got {name} of dtype {t.dtype}"
            )
    if a.dtype is not b.dtype:
        raise RuntimeError(f"{op}(): expected both inputs to have the same dtype, got {a.dtype} and {b.dtype}")
    return _sh.broadcast_tensors(a, b)


def complex(real, imag):
    """real + i imag, of the complex dtype matching the (equal, float32 or float64) input dtypes."""
    return apply(COMPLEX, _float_pair("complex", ("real", "imag"), real, imag))


def _polar(xp, r, t):
    return _complex(xp, r * xp.cos(t), r * xp.sin(t))


def _polar_vjp(g, needs, out):
    # From the result z = r e^(it) alone, as PyTorch (so abs and angle may be modified in place
    # before backward): dz/dr = z / |z|, dz/dt = i z, and a real input receives
    # Re(conj(dz/dp) g).
    gc = g * conj(out)
    ga = gt = None
    if needs[0]:
        r = apply(COMPLEX_ABS, (out,))
        # 0 where abs is 0 (the numerator is 0 there): the result alone keeps no angle there,
        # and PyTorch's gradient is 0 there too
        ga = real(gc) / _ew.where(r == 0, 1.0, r)
    if needs[1]:
        gt = imag(gc)
    return ga, gt


POLAR = Op("polar", _polar, _polar_vjp, save=("out",), needs=True)


def polar(abs, angle):
    """abs * (cos(angle) + i sin(angle))."""
    return apply(POLAR, _float_pair("polar", ("abs", "angle"), abs, angle))


# --------------------------------------------------------------------------- conj, abs, angle
CONJ = Op("conj", lambda xp, x: xp.conj(x), lambda g: conj(g), node_name="ConjBackward0")


def conj(input):
    """The complex conjugate (a copy; PyTorch returns a lazily conjugated view, which reads the
    same). The tensor itself for real dtypes."""
    if input._data.dtype.kind != "c":
        return input
    return apply(CONJ, (input,))


def _nonzero_abs(z):
    """|z|, with 1 where z is 0 (a safe divisor: z / that is 0 there)."""
    a = _ew.abs(z)
    with_grad_free_mask = (a == 0).detach()
    return a + with_grad_free_mask


def sgn(input):
    """z / |z| for complex z (0 at 0); the sign for real tensors."""
    if input._data.dtype.kind != "c":
        return _ew.sign(input)
    return input / _nonzero_abs(input)


COMPLEX_ABS = Op("abs", lambda xp, x: xp.abs(x), lambda g, x: g * sgn(x), save=("x",))


def abs(input):
    """|z| (real, of the matching precision) for complex tensors."""
    _require_complex("abs", input)
    return apply(COMPLEX_ABS, (input,))


def _angle(xp, x, np_dtype):
    if x.dtype.kind == "c":
        return xp.angle(x)
    return xp.where(xp.isnan(x), x, xp.where(x < 0, xp.pi, 0)).astype(np_dtype)


def _angle_vjp(g, x, np_dtype):
    if x._data.dtype.kind != "c":
        return g * 0
    # d atan2(y, x) = (x dy - y dx) / |z|^2, so the gradient is g (-y + ix) / |z|^2 = g i z / |z|^2
    r = _nonzero_abs(x)
    return g * x * 1j / (r * r)


ANGLE = Op("angle", _angle, _angle_vjp, save=("x",))


def angle(input):
    """The argument of each element (atan2(imag, real)); for real tensors pi where negative, else 0."""
    k = input._data.dtype.kind
    npd = input._data.dtype if k == "f" else input._data.real.dtype if k == "c" else _dtype.get_default_dtype().np
    return apply(ANGLE, (input,), (npd,))


# --------------------------------------------------------------------------- views
def _view_as_real(xp, x):
    if x.flags.c_contiguous:
        return x.reshape(x.shape + (1,)).view(x.real.dtype)  # (..., 1) complex: (..., 2) real, 0-d too
    part = x.real  # the real parts, in x's memory with x's strides; the imaginary part follows each
    return xp.lib.stride_tricks.as_strided(part, x.shape + (2,), x.strides + (part.itemsize,))


def _view_as_complex(xp, x):
    # the last dim (2 elements, stride 1) becomes one complex element; the other strides halve
    return x.view(xp.complex128 if x.dtype == xp.float64 else xp.complex64)[..., 0]


VIEW_AS_REAL = Op("view_as_real", _view_as_real, lambda g: view_as_complex(g.contiguous()), is_view=True)
VIEW_AS_COMPLEX = Op("view_as_complex", _view_as_complex, lambda g: view_as_real(g), is_view=True)
# in-place through a view of another element type than its base works on the real form
_views.VIEW_AS_REAL, _views.VIEW_AS_COMPLEX = VIEW_AS_REAL, VIEW_AS_COMPLEX


def view_as_real(input):
    """A real view of a complex tensor with a last dim of size 2 (real, imaginary)."""
    _require_complex("view_as_real", input)
    return apply(VIEW_AS_REAL, (input,))


def view_as_complex(input):
    """A complex view of a float32/float64 tensor whose last dim has size 2 and stride 1."""
    d = input._data
    if d.dtype.kind != "f" or input.dtype is _dtype.float16:
        raise RuntimeError(
            f"view_as_complex is only supported for float and double tensors, but got a "
            f"tensor of scalar type: {input.dtype}"
        )
    if not d.ndim or d.shape[-1] != 2:
        raise RuntimeError(f"view_as_complex: Tensor must have a last dimension of size 2 (got shape {list(d.shape)})")
    strides = input.stride()
    if strides[-1] != 1:
        raise RuntimeError(
            f"view_as_complex: Tensor must have a last dimension with stride 1 (strides {list(strides)})"
        )
    if any(st % 2 for st in strides[:-1]):
        raise RuntimeError(
            f"view_as_complex: Tensor must have a stride divisible by 2 for all but last dimension "
            f"(strides {list(strides)})"
        )
    if input.storage_offset() % 2:
        raise RuntimeError(
            f"view_as_complex: Tensor must have a storage_offset divisible by 2 (offset {input.storage_offset()})"
        )
    return apply(VIEW_AS_COMPLEX, (input,))


def warn_discard_imag():
    warnings.warn("Casting complex values to real discards the imaginary part", UserWarning, stacklevel=4)


# Linear ops with real coefficients have the same backward for complex tensors; mul and div
# conjugate (elementwise._mul_vjp, _div_vjp).
COMPLEX_AUTOGRAD.update(
    {
        REAL,
        IMAG,
        COMPLEX,
        POLAR,
        CONJ,
        COMPLEX_ABS,
        ANGLE,
        VIEW_AS_REAL,
        VIEW_AS_COMPLEX,
        _ew.ADD,
        _ew.SUB,
        _ew.NEG,
        _ew.MUL,
        _ew.DIV,
        _ew.ADD_SCALAR,
        _ew.SUB_SCALAR,
        _ew.RSUB_SCALAR,
        _red.SUM,
        _red.MEAN,
        _sh.VIEW,
        _sh.RESHAPE,
        _sh.PERMUTE,
        _sh.EXPAND,
        _sh.CAT,
        _sh.FLIP,
        _sh.ROLL,
        _sh.TO_COPY,
        _sh.CLONE,
        _sh.MOVE,
        *_ix.GETITEM_OPS,
        _ix.INDEX_PUT_ZEROS,
        _rs.CONSTANT_PAD,
        _broadcast.SUM_TO_SHAPE,
    }
)


# --------------------------------------------------------------------------- queries and aliases
conj_physical = conj


def conj_physical_(input):
    """Conjugate in place (nothing to do for real dtypes)."""
    if input._data.dtype.kind == "c":
        if input._rg:
            raise RuntimeError(
                f"conj_physical_: in-place conjugation of a tensor that requires grad "
                f"(shape {list(input._data.shape)}) is not supported; use conj()"
            )
        d = input._data
        d[...] = array_module(d).conj(d)
        input._version_counter().bump()
    return input


def is_conj(input):
    return False  # conj() returns a conjugated copy, never a lazily conjugated view


def is_neg(input):
    return False


def resolve_conj(input):
    return input


resolve_neg = resolve_conj


def isreal(input):
    """True where the element is real (its imaginary part is 0; everywhere for real dtypes)."""
    if input._data.dtype.kind == "c":
        return imag(input).detach() == 0
    from .._creation import ones_like

    return ones_like(input, dtype=_dtype.bool)


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(conj, method=True)
declare(real)
declare(imag)
declare(complex, out=True)
declare(polar, out=True)
declare(angle, method=True, out=True)
declare(view_as_real)
declare(view_as_complex)
declare(resolve_conj, aliases=("resolve_neg",), method=True)
declare(is_conj, method=True)
declare(is_neg, method=True)
declare(isreal, method=True)
declare(conj, name="conj_physical", method=True, inplace=conj_physical_, torch_inplace=("conj_physical_",), out=True)

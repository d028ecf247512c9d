"""Geometry and integration: cdist, cross products, trapezoid rules. All composed of
differentiable ops.

cdist(x1, x2, p)[..., i, j] = ||x1[..., i, :] - x2[..., j, :]||_p. For p = 2 with more than 25
rows on either side (PyTorch's default compute_mode), it uses
    d^2 = |a|^2 + |b|^2 - 2 a.b,   d = sqrt(max(d^2, 1e-30))
(one matrix product instead of a (P, R, M) difference tensor), as PyTorch does.

cross(a, b)_i = a_(i+1) b_(i+2) - a_(i+2) b_(i+1)   (indices mod 3).

trapezoid(y, x) = sum_i (x_(i+1) - x_i) (y_(i+1) + y_i) / 2 along dim;
cumulative_trapezoid keeps the running sums.
"""

import builtins

from .._tensor import Tensor, _wrap_dim
from . import elementwise as ew
from . import shape as sh
from .reduction import vector_norm
from .._warn import warn_user
from ._declare import declare
from .._autocast import FLOAT32, ACTIVE as _AMP, _amp, autocast_call

_MM_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """p-norm distances between the rows of x1 (..., P, M) and of x2 (..., R, M): (..., P, R);
    batch dims broadcast."""
    if _AMP[0] and _amp.on:
        return autocast_call(cdist, FLOAT32, x1, x2, p, compute_mode)
    _no_half_kernel("cdist", x1, x2)
    if x1._data.ndim < 2 or x2._data.ndim < 2:
        raise RuntimeError(
            f"cdist only supports at least 2D tensors, X1 got: {x1._data.ndim}D, X2 got: {x2._data.ndim}D"
        )
    if x1._data.shape[-1] != x2._data.shape[-1]:
        raise RuntimeError(
            f"X1 and X2 must have the same number of columns. X1: {x1._data.shape[-1]} X2: {x2._data.shape[-1]}"
        )
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values (got {p})")
    if compute_mode not in _MM_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    if x1._data.dtype.kind not in "fV" or x2._data.dtype.kind not in "fV":
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {x1.dtype}, X2 got: {x2.dtype}")
    if x1._data.dtype != x2._data.dtype:
        raise RuntimeError(f"cdist: expected X1 and X2 to have the same dtype, but got {x1.dtype} and {x2.dtype}")
    P, R = x1._data.shape[-2], x2._data.shape[-2]
    use_mm = p == 2 and (compute_mode == _MM_MODES[1] or (compute_mode == _MM_MODES[0] and (P > 25 or R > 25)))
    if use_mm:
        a2 = (x1 * x1).sum(-1, keepdim=True)
        b2 = (x2 * x2).sum(-1).unsqueeze(-2)
        d2 = a2 + b2 - 2 * (x1 @ x2.transpose(-1, -2))
        return ew.sqrt(ew.clamp(d2, min=1e-30))
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return vector_norm(diff, float(p), -1)


def _cross(a, b, d):
    return a.roll(-1, d) * b.roll(-2, d) - a.roll(-2, d) * b.roll(-1, d)


def _cross_operands(input, other, name):
    if not (isinstance(input, Tensor) and isinstance(other, Tensor)):
        raise TypeError(f"{name}: both arguments must be tensors")
    if input._data.dtype != other._data.dtype:  # PyTorch does not promote here
        raise RuntimeError(
            f"{name}: expected both inputs to have the same dtype, but got {input.dtype} "
            f"{list(input._data.shape)} and {other.dtype} {list(other._data.shape)}"
        )
    a, b = input, other
    if a._data.ndim != b._data.ndim:
        raise RuntimeError(
            f"{name}: inputs dimension {a._data.ndim} and {b._data.ndim} must match "
            f"(shapes {list(a._data.shape)} and {list(b._data.shape)})"
        )
    return sh.broadcast_tensors(a, b)


def linalg_cross(input, other, *, dim=-1):
    """The cross product of 3-vectors along ``dim`` (the inputs broadcast)."""
    a, b = _cross_operands(input, other, "linalg.cross")
    d = _wrap_dim(dim, a._data.ndim, "linalg.cross")
    if a._data.shape[d] != 3:
        raise RuntimeError(
            f"linalg.cross: inputs dimension {d} must have length 3. Got {a._data.shape[d]} "
            f"(shapes {list(input._data.shape)} and {list(other._data.shape)})"
        )
    return _cross(a, b, d)


def cross(input, other, dim=None):
    """torch.cross: along ``dim``, or (deprecated default) the first dim of size 3."""
    if dim is None:
        warn_user(
            "Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass "
            "the dim explicitly or simply use torch.linalg.cross.\nThe default value of dim will "
            "change to agree with that of linalg.cross in a future release.",
            UserWarning,
        )
        a, b = _cross_operands(input, other, "cross")
        sizes = a._data.shape
        if 3 not in sizes:
            raise RuntimeError(
                f"no dimension of size 3 in input (shapes {list(input._data.shape)} and {list(other._data.shape)})"
            )
        dim = sizes.index(3)
    return linalg_cross(input, other, dim=dim)


def _intervals(y, x, dx, d):
    """The pieces (width, mean height) of the trapezoid rule along d."""
    n = y._data.shape[d]
    lo, hi = y.narrow(d, 0, n - 1), y.narrow(d, 1, n - 1)
    if x is None:
        return (lo + hi) * (0.5 * dx)
    if x._data.ndim == 1:
        if x._data.shape[0] != n:
            raise RuntimeError(
                f"trapezoid: There must be one `x` value for each sample point (x has "
                f"{x._data.shape[0]} values, y has {n} along dim {d})"
            )
        w = x[1:] - x[:-1]
        w = w.reshape((-1,) + (1,) * (y._data.ndim - d - 1))
    else:
        xd = _wrap_dim(d - y._data.ndim, x._data.ndim, "trapezoid")
        m = x._data.shape[xd]
        w = x.narrow(xd, 1, m - 1) - x.narrow(xd, 0, m - 1)
    return w * (lo + hi) * 0.5


def _trapezoid_args(y, x, dx, dim, name):
    if x is not None and not isinstance(x, Tensor):
        x, dx = None, x  # trapezoid(y, 0.5): a number in x's place is the spacing
    if dx is None:
        dx = 1
    d = _wrap_dim(dim, y._data.ndim, name)
    if y._data.dtype.kind not in "fV":
        y = ew._float_input(y)
    return y, x, dx, d


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The integral of y along ``dim`` by the trapezoid rule, with sample points ``x`` (a
    tensor) or a constant spacing ``dx``."""
    y, x, dx, d = _trapezoid_args(y, x, dx, dim, "trapezoid")
    if y._data.shape[d] == 0:
        return y.sum(d)
    return _intervals(y, x, dx, d).sum(d)


def trapz(y, x=None, *, dx=None, dim=-1):
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoid-rule integral along ``dim`` (one element shorter than y)."""
    y, x, dx, d = _trapezoid_args(y, x, dx, dim, "cumulative_trapezoid")
    if y._data.shape[d] == 0:
        return y
    return _intervals(y, x, dx, d).cumsum(d)


_HALF_NAMES = {"float16": "Half", "bfloat16": "BFloat16"}


def _no_half_kernel(name, *tensors):
    """PyTorch's CPU has no float16/bfloat16 kernel for ``name``: NotImplementedError, as there."""
    for t in tensors:
        d = t._data.dtype.name
        if d in _HALF_NAMES:
            raise NotImplementedError(
                f"\"{name}\" not implemented for '{_HALF_NAMES[d]}' (input of shape "
                f"{list(t.shape)}); convert with .float() first"
            )


# --------------------------------------------------------------------------- gradient (finite differences)
def _axis_gradient(f, d, h, edge_order):
    """df/dx along d; h is a number (uniform spacing) or a 1-D coordinates tensor."""
    n = f._data.shape[d]
    if n < edge_order + 1:
        raise RuntimeError(
            f"torch.gradient expected each dimension size to be at least edge_order+1 "
            f"(got size {n} along dim {d}, edge_order {edge_order})"
        )

    def at(start, length):
        return f.narrow(d, start, length)

    def coords(v):
        return v.reshape((-1,) + (1,) * (f._data.ndim - d - 1))

    if isinstance(h, Tensor):
        x = h.to(f.dtype)
        dx = x[1:] - x[:-1]
        a, b = coords(dx[:-1]), coords(dx[1:])
        inner = (a * a * at(2, n - 2) - b * b * at(0, n - 2) + (b * b - a * a) * at(1, n - 2)) / (a * b * (a + b))
        if edge_order == 1:
            first = (at(1, 1) - at(0, 1)) / dx[0]
            last = (at(n - 1, 1) - at(n - 2, 1)) / dx[-1]
        else:
            h1, h2 = dx[0], dx[1]
            first = (
                -(2 * h1 + h2) / (h1 * (h1 + h2)) * at(0, 1)
                + (h1 + h2) / (h1 * h2) * at(1, 1)
                - h1 / (h2 * (h1 + h2)) * at(2, 1)
            )
            h1, h2 = dx[-2], dx[-1]
            last = (
                h2 / (h1 * (h1 + h2)) * at(n - 3, 1)
                - (h1 + h2) / (h1 * h2) * at(n - 2, 1)
                + (2 * h2 + h1) / (h2 * (h1 + h2)) * at(n - 1, 1)
            )
    else:
        h = float(h)
        inner = (at(2, n - 2) - at(0, n - 2)) / (2 * h)
        if edge_order == 1:
            first = (at(1, 1) - at(0, 1)) / h
            last = (at(n - 1, 1) - at(n - 2, 1)) / h
        else:
            first = (-1.5 * at(0, 1) + 2 * at(1, 1) - 0.5 * at(2, 1)) / h
            last = (0.5 * at(n - 3, 1) - 2 * at(n - 2, 1) + 1.5 * at(n - 1, 1)) / h
    return sh.cat([first, inner, last], d)


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Estimates of the derivative of ``input`` along each of ``dim`` (all dims by default), one
    tensor per dim. ``spacing``: a number, one number per dim, or one coordinates tensor per dim."""
    if edge_order not in (1, 2):
        raise RuntimeError(f"torch.gradient only supports edge_order=1 and edge_order=2 (got {edge_order})")
    nd = input._data.ndim
    if dim is None:
        dims = list(builtins.range(nd))
    elif isinstance(dim, int):
        dims = [_wrap_dim(dim, nd, "gradient")]
    else:
        dims = [_wrap_dim(d, nd, "gradient") for d in dim]
    if isinstance(spacing, (list, tuple)):
        spacings = list(spacing)
        if len(spacings) == 1 and len(dims) > 1 and not isinstance(spacings[0], Tensor):
            spacings = spacings * len(dims)
        if len(spacings) != len(dims):
            raise RuntimeError(
                f"torch.gradient expected spacing to be unspecified, a scalar or it's spacing and "
                f"dim arguments to have the same length, but got a spacing argument of length "
                f"{len(spacings)} and a dim argument of length {len(dims)}."
            )
    else:
        spacings = [spacing] * len(dims)
    f = ew._float_input(input)
    return tuple(_axis_gradient(f, d, h, edge_order) for d, h in zip(dims, spacings))


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(cdist)
declare(cross, method=True, out=True)
declare(trapezoid)
declare(trapz)
declare(cumulative_trapezoid)
declare(linalg_cross, name="cross", torch=False, out=True, linalg=("cross",))
declare(gradient)

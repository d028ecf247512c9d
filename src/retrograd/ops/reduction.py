"""Reductions: sum, mean, prod, amax/amin, max/min, var/std, logsumexp, norm, all/any, argmax.

``dim`` may be None (all dims), an int or a tuple; ``keepdim`` keeps reduced dims as size 1.
``sum_to_shape`` is the one place that undoes broadcasting; the engine calls it.
"""

import builtins
from collections import namedtuple

import numpy as np

from .. import _dtype
from .._tensor import Tensor, _wrap_dim
from .._compile.state import reads_values, recorded
from ..backend import array_module
from ..backend.reductions import max_axis, mean_axis, min_axis, sum_axis
from ._registry import Op, apply
from ._registry import LINEAR
from ..autograd._broadcast import SUM_TO_SHAPE, sum_to_shape  # noqa: F401  (defined in the core: the engine's)
from ._declare import declare
from .._autocast import FLOAT32, ACTIVE as _AMP, _amp, autocast_call


def _refuse_complex(name, *operands, **kw):
    from .elementwise import _refuse_complex as refuse

    refuse(name, *operands, **kw)


def _dims(dim, ndim, op):
    """Normalise ``dim`` to a sorted tuple of non-negative ints (all dims for None)."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        return (_wrap_dim(int(dim), ndim, op),) if ndim else ()
    dims = tuple(sorted({_wrap_dim(int(d), ndim, op) for d in dim})) if ndim else ()
    if dim and len(dims) != len(dim) and ndim:
        raise RuntimeError(f"{op}: dim {tuple(dim)} appears multiple times in the list of dims")
    return dims


def _keep_shape(shape, dims):
    """``shape`` with the reduced ``dims`` set to 1 (the keepdim shape)."""
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def _expand_back(g, in_shape, dims, keepdim):
    """Broadcast a reduced gradient back to the input's shape."""
    if not keepdim and dims:
        g = g.reshape(_keep_shape(in_shape, dims))
    return g.expand(in_shape)


# --------------------------------------------------------------------------- sum, mean
def _sum(xp, x, dims, keepdim, shape):
    r = sum_axis(xp, x, dims, keepdim)
    # NumPy sums small integers in int64; the dtype asked for (sum(dtype=int32)) is kept
    return r if r.dtype == x.dtype else r.astype(x.dtype)


def _sum_vjp(g, dims, keepdim, shape):
    return _expand_back(g, shape, dims, keepdim)


SUM = Op("sum", _sum, _sum_vjp, jvp=LINEAR)


def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum over ``dim``. Integer and bool inputs sum to int64, as in PyTorch."""
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "biu":
        input = input.to(_dtype.int64)
    dims = _dims(dim, input._data.ndim, "sum")
    return apply(SUM, (input,), (dims, keepdim, input._data.shape))


def _mean(xp, x, dims, keepdim, shape):
    return mean_axis(xp, x, dims, keepdim)


def _mean_vjp(g, dims, keepdim, shape):
    n = 1
    for d in dims:
        n *= shape[d]
    return _expand_back(g / n, shape, dims, keepdim)


MEAN = Op("mean", _mean, _mean_vjp, jvp=LINEAR)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind not in "fcV":
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a "
            f"floating point or complex dtype. Got: {input.dtype}"
        )
    dims = _dims(dim, input._data.ndim, "mean")
    return apply(MEAN, (input,), (dims, keepdim, input._data.shape))


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    from .elementwise import where, isnan

    if input._data.dtype.kind not in "fcV":  # no NaN to skip: an integer sum (int64), as sum
        return sum(input, dim, keepdim, dtype=dtype)
    return sum(where(isnan(input), 0.0, input), dim, keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    from .elementwise import isnan, logical_not

    count = sum(logical_not(isnan(input)), dim, keepdim).to(input.dtype)
    return nansum(input, dim, keepdim, dtype=dtype) / count


# --------------------------------------------------------------------------- prod
def _prod(xp, x, dims, keepdim):
    return x.prod(axis=dims, keepdims=keepdim, dtype=x.dtype)  # prod(dtype=int32) stays int32


def _prod_vjp(g, x, out, dims, keepdim):
    # d prod / dx_i = prod of the others: out / x_i where x_i != 0; where x_i == 0 it is the
    # product of the non-zero others if x_i is the only zero of its slice, else 0.
    from .elementwise import where

    shape = x._data.shape
    g = _expand_back(g, shape, dims, keepdim)
    out = _expand_back(out, shape, dims, keepdim)
    is_zero = x == 0
    reads_values("the backward of prod, whose formula depends on whether the input holds a zero")
    if not bool(is_zero._data.any()):
        return g * out / x
    nonzero_x = where(is_zero, 1.0, x)
    prod_nonzero = _expand_back(prod(nonzero_x, dims, keepdim=True) if dims else nonzero_x, shape, dims, True)
    n_zero = _expand_back(sum(is_zero, dims, keepdim=True), shape, dims, True)
    others = where(is_zero, where(n_zero == 1, prod_nonzero, 0.0), out / nonzero_x)
    return g * others


PROD = Op("prod", _prod, _prod_vjp, save=("x", "out"))


def prod(input, dim=None, keepdim=False, *, dtype=None):
    if _AMP[0] and _amp.on:
        return autocast_call(prod, FLOAT32, input, dim, keepdim, dtype=dtype)
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "biu":
        input = input.to(_dtype.int64)
    dims = dim if isinstance(dim, tuple) else _dims(dim, input._data.ndim, "prod")
    return apply(PROD, (input,), (dims, keepdim))


# --------------------------------------------------------------------------- amax, amin, max, min
def _amax(xp, x, dims, keepdim):
    return max_axis(xp, x, dims, keepdim)


def _amin(xp, x, dims, keepdim):
    return min_axis(xp, x, dims, keepdim)


def _extreme_vjp(g, x, out, dims, keepdim):
    # the gradient is shared equally among the elements that attain the extreme
    shape = x._data.shape
    mask = (x == _expand_back(out, shape, dims, keepdim)).to(g.dtype)
    count = mask.sum(dims, keepdim=True)
    return _expand_back(g, shape, dims, keepdim) * mask / count


AMAX = Op("amax", _amax, _extreme_vjp, save=("x", "out"))
AMIN = Op("amin", _amin, _extreme_vjp, save=("x", "out"))


def _check_nonempty(input, dims, op, all_dims=False):
    """PyTorch refuses to reduce an empty tensor without a dim (RuntimeError) or along an
    empty dim (IndexError)."""
    if input._data.size:
        return
    if all_dims:
        dims = ()
    for d in dims:
        if input._data.shape[d] == 0:
            raise IndexError(
                f"{op}(): Expected reduction dim {d} to have non-zero size (input shape {list(input._data.shape)})"
            )
    if not dims and input._data.size == 0:
        raise RuntimeError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0.")


def amax(input, dim=(), keepdim=False):
    _refuse_complex("amax", input)
    dims = _dims(None if dim == () else dim, input._data.ndim, "amax")
    _check_nonempty(input, dims, "amax", dim == () or dim is None)
    return apply(AMAX, (input,), (dims, keepdim))


def amin(input, dim=(), keepdim=False):
    _refuse_complex("amin", input)
    dims = _dims(None if dim == () else dim, input._data.ndim, "amin")
    _check_nonempty(input, dims, "amin", dim == () or dim is None)
    return apply(AMIN, (input,), (dims, keepdim))


class _ReturnTypes:
    max = namedtuple("max", ["values", "indices"])
    min = namedtuple("min", ["values", "indices"])
    sort = namedtuple("sort", ["values", "indices"])
    topk = namedtuple("topk", ["values", "indices"])
    median = namedtuple("median", ["values", "indices"])
    mode = namedtuple("mode", ["values", "indices"])
    var_mean = namedtuple("var_mean", ["var", "mean"])
    kthvalue = namedtuple("kthvalue", ["values", "indices"])
    aminmax = namedtuple("aminmax", ["min", "max"])
    nanmedian = namedtuple("nanmedian", ["values", "indices"])
    cummax = namedtuple("cummax", ["values", "indices"])
    cummin = namedtuple("cummin", ["values", "indices"])
    slogdet = namedtuple("slogdet", ["sign", "logabsdet"])
    linalg_slogdet = namedtuple("linalg_slogdet", ["sign", "logabsdet"])
    qr = namedtuple("qr", ["Q", "R"])
    linalg_qr = namedtuple("linalg_qr", ["Q", "R"])
    svd = namedtuple("svd", ["U", "S", "V"])
    linalg_svd = namedtuple("linalg_svd", ["U", "S", "Vh"])
    linalg_eigh = namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
    linalg_eig = namedtuple("linalg_eig", ["eigenvalues", "eigenvectors"])
    linalg_ldl_factor = namedtuple("linalg_ldl_factor", ["LD", "pivots"])
    linalg_ldl_factor_ex = namedtuple("linalg_ldl_factor_ex", ["LD", "pivots", "info"])
    linalg_cholesky_ex = namedtuple("linalg_cholesky_ex", ["L", "info"])
    linalg_inv_ex = namedtuple("linalg_inv_ex", ["inverse", "info"])
    linalg_solve_ex = namedtuple("linalg_solve_ex", ["result", "info"])
    linalg_lu_factor = namedtuple("linalg_lu_factor", ["LU", "pivots"])
    linalg_lu_factor_ex = namedtuple("linalg_lu_factor_ex", ["LU", "pivots", "info"])
    linalg_lu = namedtuple("linalg_lu", ["P", "L", "U"])
    linalg_lstsq = namedtuple("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])
    triangular_solve = namedtuple("triangular_solve", ["solution", "cloned_coefficient"])
    lu_unpack = namedtuple("lu_unpack", ["P", "L", "U"])
    geqrf = namedtuple("geqrf", ["a", "tau"])
    _lu_with_info = namedtuple("_lu_with_info", ["LU", "pivots", "info"])


return_types = _ReturnTypes


def _max_min(input, dim, keepdim, other, is_max):
    from .elementwise import maximum, minimum

    name = "max" if is_max else "min"
    if isinstance(dim, Tensor):
        other, dim = dim, None
    if other is not None:
        return maximum(input, other) if is_max else minimum(input, other)
    if dim is None:
        _check_nonempty(input, (), name)
        return amax(input) if is_max else amin(input)
    d = _wrap_dim(dim, input._data.ndim, name)
    if input._data.ndim and input._data.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size")
    idx = argmax(input, d, keepdim=True) if is_max else argmin(input, d, keepdim=True)
    from .indexing import gather

    values = gather(input, d, idx) if input._data.ndim else input
    if not keepdim and input._data.ndim:
        values = values.squeeze(d)
        idx = idx.squeeze(d)
    return getattr(return_types, name)(values, idx)


def max(input, dim=None, keepdim=False, *, other=None):
    """Largest value: over all elements, along ``dim`` (values and indices), or against ``other``."""
    return _max_min(input, dim, keepdim, other, True)


def min(input, dim=None, keepdim=False, *, other=None):
    return _max_min(input, dim, keepdim, other, False)


def aminmax(input, *, dim=None, keepdim=False):
    return return_types.aminmax(
        amin(input, () if dim is None else dim, keepdim), amax(input, () if dim is None else dim, keepdim)
    )


def _arg_kernel(data, fn, axis, keepdim):
    """The int64 index array of ``data.argmax``/``argmin`` along ``axis`` (None: flattened)."""
    if axis is None:
        r = getattr(data.reshape(-1), fn)(keepdims=True).astype(np.int64)
        return r.reshape((1,) * data.ndim if keepdim else ())
    return getattr(data, fn)(axis=axis, keepdims=keepdim).astype(np.int64, copy=False)


def _arg(input, dim, keepdim, fn, name):
    _refuse_complex(name, input, error=RuntimeError)
    data = input._data
    if dim is None:
        if data.size == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        return Tensor._make(recorded(_arg_kernel, data, fn, None, keepdim, label=name), None, False)
    d = _wrap_dim(dim, data.ndim, name)
    if data.ndim == 0:
        return Tensor._make(recorded(_zero_index_like, data, label=name), None, False)
    if data.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size")
    return Tensor._make(recorded(_arg_kernel, data, fn, d, keepdim, label=name), None, False)


def _zero_index_like(data):
    return array_module(data).zeros((), dtype=np.int64)


def argmax(input, dim=None, keepdim=False):
    """Index of the largest value (first one among ties); int64, not differentiable."""
    return _arg(input, dim, keepdim, "argmax", "argmax")


def argmin(input, dim=None, keepdim=False):
    return _arg(input, dim, keepdim, "argmin", "argmin")


# --------------------------------------------------------------------------- var, std
def _correction(unbiased, correction):
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """sum(|x - mean|^2) / (N - correction) over ``dim``; correction defaults to 1 (Bessel).
    Real for complex input (float32 for complex64)."""
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    c = _correction(unbiased, correction)
    dims = _dims(dim, input._data.ndim, "var")
    n = 1
    for d in dims:
        n *= input._data.shape[d]
    centered = input - mean(input, dims, keepdim=True)
    if input._data.dtype.kind == "c":  # |x - mean|^2: a real variance, as in PyTorch
        from .complex import imag, real

        re, im = real(centered), imag(centered)
        return sum(re * re + im * im, dims, keepdim) / builtins.max(n - c, 0)
    return sum(centered * centered, dims, keepdim) / builtins.max(n - c, 0)


def _root(xp, s, e):
    return s**e


def _root_vjp(g, s, out, e):
    # d s^e / ds = e * s^e / s, taken as 0 where s == 0 (as PyTorch does for std and p-norms at
    # 0, whose slope there is infinite while every input slope is 0)
    from .elementwise import where

    zero = s == 0
    return where(zero, 0.0, g * e * where(zero, 1.0, s) ** (e - 1))  # (0 at s = inf)


def _root_jvp(ts, s, out, e):
    return _root_vjp(ts[0], s, out, e)


# s**e for 0 < e < 1 (std = var**0.5, the p-norm = (sum |x|^p)**(1/p)), with a gradient of 0 at s = 0
ROOT = Op("pow", _root, _root_vjp, jvp=_root_jvp, save=("x", "out"), node_name="NormBackward1")
STD_ROOT = Op("std", _root, _root_vjp, jvp=_root_jvp, save=("x", "out"), node_name="StdBackward0")


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """sqrt(var); the gradient is 0 where the deviation is 0 (a constant slice), as in PyTorch."""
    return apply(STD_ROOT, (var(input, dim, unbiased, keepdim, correction=correction),), (0.5,))


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return (var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return (std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim))


# --------------------------------------------------------------------------- logsumexp
def _logsumexp(xp, x, dims, keepdim):
    if x.size == 0:  # sums of nothing: log(0) = -inf, as in PyTorch
        shape = _keep_shape(x.shape, dims) if keepdim else tuple(n for i, n in enumerate(x.shape) if i not in dims)
        return xp.full(shape, -np.inf, dtype=x.dtype)
    # max-shifted for numerical stability; an all -inf slice gives -inf, not nan (complex input:
    # shifted by the largest real part)
    m = max_axis(xp, x, dims, True) if x.dtype.kind != "c" else max_axis(xp, x.real, dims, True)
    m = xp.where(xp.isfinite(m), m, 0)
    s = xp.log(sum_axis(xp, xp.exp(x - m), dims, True)) + m
    return s if keepdim else s.reshape(tuple(n for i, n in enumerate(x.shape) if i not in dims))


def _logsumexp_vjp(g, x, out, dims, keepdim):
    # d/dx logsumexp(x) = softmax(x) = exp(x - out)
    from .elementwise import exp

    shape = x._data.shape
    return _expand_back(g, shape, dims, keepdim) * exp(x - _expand_back(out, shape, dims, keepdim))


def _logsumexp_jvp(ts, x, out, dims, keepdim):
    # d logsumexp = sum(softmax(x) * t)
    from .elementwise import exp

    shape = x._data.shape
    return (exp(x - _expand_back(out, shape, dims, keepdim)) * ts[0]).sum(dims, keepdim=keepdim)


LOGSUMEXP = Op("logsumexp", _logsumexp, _logsumexp_vjp, jvp=_logsumexp_jvp, save=("x", "out"))


def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(x))) over ``dim``, computed without overflow; fused backward for numerics."""
    if input._data.dtype.kind not in "fcV":
        input = input.to(_dtype.get_default_dtype())
    dims = _dims(dim, input._data.ndim, "logsumexp")
    return apply(LOGSUMEXP, (input,), (dims, keepdim))


# --------------------------------------------------------------------------- norm
def _norm2(xp, x, dims, keepdim):
    return xp.sqrt((x * x).sum(axis=dims, keepdims=keepdim))


def _norm2_vjp(g, x, out, dims, keepdim):
    # d||x||/dx = x / ||x||, taken as 0 where the norm is 0 (as PyTorch does)
    from .elementwise import where

    shape = x._data.shape
    out = _expand_back(out, shape, dims, keepdim)
    return _expand_back(g, shape, dims, keepdim) * where(out == 0, 0.0, x / where(out == 0, 1.0, out))


def _norm2_jvp(ts, x, out, dims, keepdim):
    # d||x|| = <x, t> / ||x||, taken as 0 where the norm is 0
    from .elementwise import where

    dot = (x * ts[0]).sum(dims, keepdim=keepdim)
    return where(out == 0, 0.0, dot / where(out == 0, 1.0, out))


NORM2 = Op("norm", _norm2, _norm2_vjp, jvp=_norm2_jvp, save=("x", "out"), node_name="NormBackward1")


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The p-norm of ``x`` over ``dim`` (all elements by default): (sum |x|^p)^(1/p)."""
    from .elementwise import abs as _abs

    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind not in "fV":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point input, got {x.dtype}")
    if x.dtype in (_dtype.float16, _dtype.bfloat16):
        # accumulated in float32, as PyTorch does: squares of half values overflow (300^2 + 400^2)
        return vector_norm(x.to(_dtype.float32), ord, dim, keepdim).to(x.dtype)
    dims = _dims(dim, x._data.ndim, "vector_norm")
    if ord == 2:
        return apply(NORM2, (x,), (dims, keepdim))
    if ord == float("inf"):
        return amax(_abs(x), dims, keepdim)
    if ord == float("-inf"):
        return amin(_abs(x), dims, keepdim)
    if ord == 0:
        return sum((x != 0).to(x.dtype), dims, keepdim)
    if ord == 1:
        return sum(_abs(x), dims, keepdim)
    return apply(ROOT, (sum(_abs(x) ** ord, dims, keepdim),), (1.0 / ord,))


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Tensor.norm: the Frobenius/2-norm by default, else the vector p-norm over ``dim``."""
    if p == "fro" or p is None:
        p = 2
    if p == "nuc":
        raise NotImplementedError("norm(p='nuc') is not supported; use linalg.matrix_norm")
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


# --------------------------------------------------------------------------- all, any, count
# bool results, but uint8 for a uint8 input (as PyTorch keeps it)
def _all(a, dims, keepdim):
    r = a.astype(bool, copy=False).all(axis=dims, keepdims=keepdim)
    return r.astype(np.uint8) if a.dtype == np.uint8 else r


def _any(a, dims, keepdim):
    r = a.astype(bool, copy=False).any(axis=dims, keepdims=keepdim)
    return r.astype(np.uint8) if a.dtype == np.uint8 else r


def all(input, dim=None, keepdim=False):
    dims = _dims(dim, input._data.ndim, "all")
    return Tensor._make(recorded(_all, input._data, dims, keepdim, label="all"), None, False)


def any(input, dim=None, keepdim=False):
    dims = _dims(dim, input._data.ndim, "any")
    return Tensor._make(recorded(_any, input._data, dims, keepdim, label="any"), None, False)


def sum_to_size(self, *args, size=None):
    """``Tensor.sum_to_size(*size)``: sum the dimensions that broadcasting to this shape added
    or expanded, so the result has shape ``size`` (ints, one sequence, or ``size=``)."""
    from .shape import _shape_arg, _sizes_or_keyword

    return sum_to_shape(self, _shape_arg(_sizes_or_keyword("sum_to_size", args, "size", size)))


def _count_nonzero(a, dims):
    return (a != 0).sum(axis=dims).astype(np.int64)


def count_nonzero(input, dim=None):
    dims = _dims(dim, input._data.ndim, "count_nonzero")
    return Tensor._make(recorded(_count_nonzero, input._data, dims, label="count_nonzero"), None, False)


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(sum, method=True, out=True)
declare(nansum, method=True, out=True)
declare(mean, method=True, out=True)
declare(nanmean, method=True, out=True)
declare(prod, method=True)
declare(amax, method=True, out=True)
declare(amin, method=True, out=True)
declare(aminmax, method=True, out=True)
declare(max, method=True, out=True)
declare(min, method=True, out=True)
declare(argmax, method=True, out=True)
declare(argmin, method=True, out=True)
declare(var, method=True, out=True)
declare(std, method=True, out=True)
declare(var_mean)
declare(std_mean)
declare(logsumexp, method=True, out=True, special=("logsumexp",))
declare(norm, method=True, out=True)
declare(all, method=True, out=True)
declare(any, method=True, out=True)
declare(count_nonzero, method=True)
declare(sum_to_size, torch=False, method=True)
declare(vector_norm, torch=False, out=True, linalg=("vector_norm",))

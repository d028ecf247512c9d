"""PyTorch's ``out=`` form of a function: the result is written into a tensor the caller owns.

``with_out(fn, name)`` returns the public function: ``f(*args, out=None, **kwargs)`` computes
``fn(*args, **kwargs)`` and, when ``out`` is given, writes the result into it and returns
``out``. The rules are PyTorch's (``torch.add(a, b, out=o)``):

- autograd does not record through ``out=``: if grad mode is on and any input, or ``out``
  itself, requires grad, it is a RuntimeError;
- the result's dtype must be castable to ``out``'s (float into an integer ``out``, or anything
  but bool into a bool ``out``, is a RuntimeError); a wider ``out`` receives the cast values;
- an empty ``out`` of another shape is resized silently; a non-empty one is resized with
  PyTorch's deprecation warning (a view cannot be resized: RuntimeError);
- the result and ``out`` must be on the same device;
- functions with several results (``sort``, ``max(dim)``, ...) take a tuple of tensors and
  return the same named tuple type holding them.

The write bumps ``out``'s version counter like any in-place write, so a node that saved ``out``
fails loudly at backward time. Tensor methods never take ``out`` (as in PyTorch), so they bind
the plain function and pay nothing for this.
"""
import inspect
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .. import _dtype
from .._tensor import Tensor
from ..autograd.grad_mode import _state
from ..backend import array_module

_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "V": 2, "c": 3}


def with_out(fn: Callable[..., Any], name: str | None = None) -> Callable[..., Any]:
    """The public form of ``fn`` that also accepts PyTorch's keyword-only ``out=``."""
    name = name or fn.__name__

    def f(*args: Any, out: Any = None, **kwargs: Any) -> Any:
        if out is None:
            return fn(*args, **kwargs)
        _refuse_grad(name, args, kwargs, out)
        return write_out(name, fn(*args, **kwargs), out)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = fn.__doc__
    f.__module__ = fn.__module__
    f.__wrapped__ = fn  # type: ignore[attr-defined]
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        sig = None
    if sig is not None:
        params = [p for p in sig.parameters.values() if p.name != "out"]
        at = len(params)
        if params and params[-1].kind is inspect.Parameter.VAR_KEYWORD:
            at -= 1
        params.insert(at, inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None))
        f.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    return f


def _tensors(values: Iterable[Any]) -> Iterator[Tensor]:
    for v in values:
        if isinstance(v, Tensor):
            yield v
        elif isinstance(v, (list, tuple)):
            yield from (t for t in v if isinstance(t, Tensor))


def _refuse_grad(name: str, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> None:
    if not _state.enabled:
        return
    outs = out if isinstance(out, (list, tuple)) else (out,)
    for t in (*_tensors(args), *_tensors(kwargs.values()), *_tensors(outs)):
        if t._rg:
            raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                               f"differentiation, but one of the arguments requires grad (a tensor of "
                               f"shape {list(t._data.shape)}). Call it without out=, or under "
                               f"torch.no_grad().")


def write_out(name: str, result: Any, out: Any) -> Any:
    """Write ``result`` (a Tensor, or a tuple of them) into ``out``; returns ``out`` (or the
    result's named tuple type holding the ``out`` tensors)."""
    if isinstance(result, Tensor):
        if not isinstance(out, Tensor):
            raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
        _write_one(name, result, out)
        return out
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result) or \
                not all(isinstance(o, Tensor) for o in out):
            raise TypeError(f"{name}(): argument 'out' must be a tuple of {len(result)} Tensors "
                            f"(got {type(out).__name__})")
        for r, o in zip(result, out):
            _write_one(name, r, o)
        return type(result)(*out) if hasattr(result, "_fields") else tuple(out)
    raise TypeError(f"{name}() does not return a tensor, so it has no out= form")


def _write_one(name: str, r: Tensor, out: Tensor) -> None:
    rd, od = r._data.dtype, out._data.dtype
    if _KIND_RANK.get(rd.kind, 3) > _KIND_RANK.get(od.kind, 3):
        raise RuntimeError(f"{name}(): result type {_dtype.from_np(rd)} can't be cast to the desired "
                           f"output type {_dtype.from_np(od)}")
    if r.device != out.device:
        raise RuntimeError(f"{name}(): expected out tensor to have device {r.device}, but got "
                           f"{out.device} instead")
    shape = r._data.shape
    if out._data.shape != shape:
        _resize(name, out, shape)
    data = out._data
    value = r._data
    if data.flags.writeable is False:
        raise RuntimeError(f"{name}(): cannot write into out: its storage is read-only (a broadcast "
                           f"or expanded tensor of shape {list(data.shape)}); clone() it first")
    data[...] = value
    out._version_counter().bump()


def _resize(name: str, out: Tensor, shape: tuple[int, ...]) -> None:
    if out._base is not None:
        raise RuntimeError(f"{name}(): out is a view of shape {list(out._data.shape)} and the result "
                           f"has shape {list(shape)}; a view cannot be resized")
    if out._data.size:
        warnings.warn(f"An output with one or more elements was resized since it had shape "
                      f"{list(out._data.shape)}, which does not match the required output shape "
                      f"{list(shape)}. This behavior is deprecated, and in a future PyTorch release "
                      f"outputs will not be resized unless they have zero elements. You can explicitly "
                      f"reuse an out tensor t by resizing it, inplace, to zero elements with "
                      f"t.resize_(0).", UserWarning, stacklevel=5)
    out._data = array_module(out._data).empty(shape, dtype=out._data.dtype)



# The functions of each public namespace that have PyTorch's out= form: those of PyTorch 2.13
# that accept out= when called (checked against torch itself by the parity suite). Each
# namespace wraps these names with ``with_out``; every other public function refuses out=.
OUT_FORMS = {
    "torch": frozenset({
        "abs", "absolute", "acos", "acosh", "add", "addbmm", "addcdiv", "addcmul", "addmm",
        "addmv", "addr", "alias_copy", "all", "amax", "amin", "aminmax", "any", "arange", "arccos",
        "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "argmax", "argmin",
        "as_strided_copy", "asin", "asinh", "atan", "atan2", "atanh", "baddbmm", "bitwise_and",
        "bitwise_left_shift", "bitwise_not", "bitwise_or", "bitwise_right_shift", "bitwise_xor",
        "bmm", "bucketize", "cat", "ceil", "chain_matmul", "cholesky", "clamp", "clamp_max",
        "clamp_min", "clip", "column_stack", "concat", "concatenate", "conj_physical", "copysign",
        "cos", "cosh", "cross", "cummax", "cummin", "cumprod", "cumsum", "deg2rad", "detach_copy",
        "diag", "diagonal_copy", "diff", "digamma", "div", "divide", "dot", "dstack", "empty",
        "eq", "erf", "erfc", "erfinv", "exp", "exp2", "expand_copy", "expm1", "eye", "fix",
        "float_power", "floor", "floor_divide", "fmax", "fmin", "fmod", "frac", "frexp", "full",
        "gather", "gcd", "ge", "ger", "greater", "greater_equal", "gt", "hardshrink", "heaviside",
        "histc", "histogram", "hstack", "hypot", "i0", "index_add", "index_copy", "index_select",
        "inner", "inverse", "isin", "isneginf", "isposinf", "kron", "kthvalue", "lcm", "ldexp",
        "le", "lerp", "less", "less_equal", "lgamma", "linspace", "log", "log10", "log1p", "log2",
        "log_softmax", "logaddexp", "logaddexp2", "logcumsumexp", "logical_and", "logical_not",
        "logical_or", "logical_xor", "logit", "logspace", "logsumexp", "lt", "masked_select",
        "matmul", "matrix_power", "max", "maximum", "mean", "median", "min", "minimum", "mm",
        "mode", "msort", "mul", "multinomial", "multiply", "mv", "mvlgamma", "nan_to_num",
        "nanmean", "nanmedian", "nanquantile", "nansum", "narrow_copy", "ne", "neg", "negative",
        "nextafter", "nonzero", "norm", "normal", "not_equal", "ones", "outer", "permute_copy",
        "polygamma", "pow", "qr", "quantile", "rad2deg", "rand", "randint", "randn", "randperm",
        "range", "reciprocal", "remainder", "renorm", "round", "row_stack", "rsqrt", "scatter",
        "scatter_add", "searchsorted", "select_copy", "sgn", "sigmoid", "sign", "signbit", "sin",
        "sinc", "sinh", "slice_copy", "slice_scatter", "slogdet", "softmax", "sort", "split_copy",
        "split_with_sizes_copy", "sqrt", "square", "squeeze_copy", "stack", "std", "sub",
        "subtract", "sum", "svd", "t_copy", "take", "take_along_dim", "tan", "tanh", "tensordot",
        "threshold", "topk", "transpose_copy", "tril", "triu", "true_divide", "trunc",
        "unbind_copy", "unfold_copy", "unsqueeze_copy", "var", "vdot", "view_copy", "vstack",
        "xlogy", "zeros",
    }),
    "special": frozenset({
        "digamma", "entr", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "gammaln", "i0",
        "i1", "log1p", "log_ndtr", "logit", "logsumexp", "multigammaln", "ndtr", "ndtri",
        "polygamma", "psi", "round", "sinc", "xlog1py", "xlogy",
    }),
    "linalg": frozenset({
        "cholesky", "cond", "cross", "det", "eigh", "eigvalsh", "inv", "matmul", "matrix_norm",
        "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve",
        "solve_triangular", "svd", "svdvals", "vecdot", "vector_norm",
    }),
}

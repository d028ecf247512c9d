"""In-place ops (``add_``, ``mul_``, ``zero_``, ``x[i] = v``, ``+=`` ...).

Each writes into the tensor's own storage and bumps its version counter, so a node that saved
the old value fails loudly at backward time instead of computing a wrong gradient.

When grad mode is on and the op must be recorded, the result is computed out of place from a
copy of the old value (the copy is what backward sees), written into the storage, and the
tensor is *rebased*: its ``grad_fn`` becomes the new node. In-place on a leaf that requires
grad is an error outside ``no_grad``, as in PyTorch. When nothing is recorded (the optimizer's
``p.add_(...)`` under ``no_grad``), NumPy's in-place ufuncs write directly, with no temporary.
"""
import os
import sys

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ..autograd.grad_mode import _state
from ..autograd._forward_state import _fw, has_tangent as _has_tangent
from . import elementwise as ew
from ._registry import Op, apply


_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _where_called():
    """(file, line) of the user's code that called the in-place op (library frames skipped)."""
    f = sys._getframe(2)
    while f is not None and f.f_code.co_filename.startswith(_PKG_DIR):
        f = f.f_back
    return None if f is None else (f.f_code.co_filename, f.f_lineno)


def _bump(t):
    t._version_counter().bump(_where_called())


def _check_inplace(t, op):
    """The in-place ops that PyTorch refuses when they would be recorded."""
    if t.grad_fn is None and t._rg:
        raise RuntimeError(f"a leaf Variable that requires grad is being used in an in-place "
                           f"operation ({op}_ on a tensor of shape {list(t._data.shape)}); wrap it "
                           f"in `with torch.no_grad():` if this is an update of a parameter.")
    if t._base is not None:
        from ..autograd.views import check_view_inplace
        check_view_inplace(t, op)



def _check_cast(t, r, op):
    k_in, k_out = t._data.dtype.kind, r._data.dtype.kind
    rank = {"b": 0, "u": 1, "i": 1, "f": 2}
    if rank.get(k_out, 3) > rank.get(k_in, 3):
        raise RuntimeError(f"result type {_dtype.from_np(r._data.dtype)} can't be cast to the "
                           f"desired output type {t.dtype} (in-place {op}_)")


def _recording(t, others):
    if _fw.active and _dual_involved(t, others):
        return True  # apply_inplace then updates the tangent too
    if not _state.enabled:
        return False
    if t._rg:
        return True
    base = t._base
    if base is not None and base._rg:
        return True
    return any(isinstance(o, Tensor) and o._rg for o in others)


def apply_inplace(t, op, fn, *args, **kwargs):
    """``t = fn(t, *args)`` written into t's storage; records and rebases when grad is on."""
    if _fw.active and _dual_involved(t, args):
        return _fw.inplace(t, op, fn, args, kwargs)  # forward_ad.inplace
    if _recording(t, args):
        _check_inplace(t, op)
        r = fn(_old_value(t), *args, **kwargs)
        _check_cast(t, r, op)
        _write(t, r, op)
        _bump(t)
        if r.grad_fn is not None:
            _rebase(t, r)
        return t
    with _no_grad():
        r = fn(t, *args, **kwargs)
    _check_cast(t, r, op)
    _write(t, r, op)
    _bump(t)
    return t


def _dual_involved(t, others):
    """Whether an in-place op on ``t`` involves a forward-mode tangent (of t, its base, or another
    operand)."""
    base = t._base
    return (t._fw_grad is not None or (base is not None and base._fw_grad is not None)
            or _has_tangent(others))


def _old_value(t):
    """A copy of t's values with t's history: what the recorded op reads (and may save), since
    t's own storage is about to be overwritten. No node is recorded for the copy."""
    old = Tensor._make(t._data.copy(), t.grad_fn, t._rg)
    if t._out_nr:
        old._out_nr = t._out_nr
    return old


def _overlap_error(t):
    return RuntimeError(f"unsupported operation: more than one element of the written-to tensor "
                        f"(shape {list(t._data.shape)}, strides {list(t.stride())}) refers to a "
                        f"single memory location. Please clone() the tensor before performing the "
                        f"operation.")


def _write(t, r, op="in-place op"):
    if r._data.shape != t._data.shape:
        try:
            bshape = np.broadcast_shapes(r._data.shape, t._data.shape)
        except ValueError:
            bshape = None
        if bshape != t._data.shape:
            raise RuntimeError(f"output with shape {list(t._data.shape)} doesn't match the broadcast "
                               f"shape {list(bshape or r._data.shape)} (in-place {op}_)")
    try:
        t._data[...] = r._data
    except ValueError:
        if not t._data.flags.writeable:
            raise _overlap_error(t) from None
        raise


def _rebase(t, r):
    """Make ``t`` the output of ``r``'s node (t's old history is reached through that node)."""
    from ..autograd import views
    if t._base is not None:
        views.rebase_view(t, r)
        return
    views.set_history(t, r.grad_fn, r._out_nr)
    if t._vc.views:
        views.refresh_views(t)


class _no_grad:
    def __enter__(self):
        self.prev = _state.enabled
        _state.enabled = False

    def __exit__(self, *exc):
        _state.enabled = self.prev


# --------------------------------------------------------------------------- arithmetic
def _ufunc_inplace(t, ufunc, other, op):
    """Fast path with nothing to record: NumPy writes straight into t's storage."""
    o = other._data if isinstance(other, Tensor) else other
    try:
        ufunc(t._data, o, out=t._data, casting="same_kind")
    except (TypeError, np._core._exceptions._UFuncOutputCastingError if hasattr(np, "_core") else TypeError) as e:
        raise RuntimeError(f"result type of in-place {op}_ can't be cast to the desired output type "
                           f"{t.dtype}: {e}") from None
    except ValueError:
        if not t._data.flags.writeable:
            raise _overlap_error(t) from None
        raise RuntimeError(f"output with shape {list(t._data.shape)} doesn't match the broadcast shape "
                           f"of the in-place {op}_ (other has shape "
                           f"{list(np.shape(o))})") from None
    _bump(t)
    return t


def _add_sparse_(self, other, alpha):
    """``self += alpha * other`` for a sparse ``other``: only its rows are written."""
    if _recording(self, (other,)) or self._data.dtype.kind != "f":
        dense = other.to_dense()
        return apply_inplace(self, "add", ew.add, dense if alpha == 1 else dense * alpha)
    from ..sparse import add_into
    add_into(self._data, other, None if alpha == 1 else alpha)
    _bump(self)
    return self


def add_(self, other, *, alpha=1):
    if getattr(other, "is_sparse", False):
        return _add_sparse_(self, other, alpha)
    if alpha != 1:
        other = other * alpha
    if not _recording(self, (other,)) and self._data.dtype.kind == "f":
        return _ufunc_inplace(self, np.add, other, "add")
    return apply_inplace(self, "add", ew.add, other)


def sub_(self, other, *, alpha=1):
    if getattr(other, "is_sparse", False):
        return _add_sparse_(self, other, -alpha)
    if alpha != 1:
        other = other * alpha
    if not _recording(self, (other,)) and self._data.dtype.kind == "f":
        return _ufunc_inplace(self, np.subtract, other, "sub")
    return apply_inplace(self, "sub", ew.sub, other)


def mul_(self, other):
    if not _recording(self, (other,)) and self._data.dtype.kind == "f":
        return _ufunc_inplace(self, np.multiply, other, "mul")
    return apply_inplace(self, "mul", ew.mul, other)


def div_(self, other, *, rounding_mode=None):
    if rounding_mode is None and not _recording(self, (other,)) and self._data.dtype.kind == "f":
        return _ufunc_inplace(self, np.true_divide, other, "div")
    return apply_inplace(self, "div", ew.div, other, rounding_mode=rounding_mode)


def pow_(self, exponent):
    return apply_inplace(self, "pow", ew.pow, exponent)


def floor_divide_(self, other):
    return apply_inplace(self, "floor_divide", ew.floor_divide, other)


def remainder_(self, other):
    return apply_inplace(self, "remainder", ew.remainder, other)


def addcmul_(self, tensor1, tensor2, *, value=1):
    return apply_inplace(self, "addcmul", ew.addcmul, tensor1, tensor2, value=value)


def addcdiv_(self, tensor1, tensor2, *, value=1):
    return apply_inplace(self, "addcdiv", ew.addcdiv, tensor1, tensor2, value=value)


def lerp_(self, end, weight):
    return apply_inplace(self, "lerp", ew.lerp, end, weight)


def clamp_(self, min=None, max=None):
    return apply_inplace(self, "clamp", ew.clamp, min, max)


clip_ = clamp_


def clamp_min_(self, min):
    return clamp_(self, min=min)


def clamp_max_(self, max):
    return clamp_(self, max=max)


def _unary_inplace(name, fn):
    def op(self):
        return apply_inplace(self, name, fn)
    op.__name__ = name + "_"
    op.__doc__ = f"In-place {name}."
    return op


neg_ = _unary_inplace("neg", ew.neg)
abs_ = _unary_inplace("abs", ew.abs)
exp_ = _unary_inplace("exp", ew.exp)
log_ = _unary_inplace("log", ew.log)
sqrt_ = _unary_inplace("sqrt", ew.sqrt)
rsqrt_ = _unary_inplace("rsqrt", ew.rsqrt)
sin_ = _unary_inplace("sin", ew.sin)
cos_ = _unary_inplace("cos", ew.cos)
tanh_ = _unary_inplace("tanh", ew.tanh)
sigmoid_ = _unary_inplace("sigmoid", ew.sigmoid)
relu_ = _unary_inplace("relu", ew.relu)
reciprocal_ = _unary_inplace("reciprocal", ew.reciprocal)
floor_ = _unary_inplace("floor", ew.floor)
ceil_ = _unary_inplace("ceil", ew.ceil)
round_ = _unary_inplace("round", ew.round)
trunc_ = _unary_inplace("trunc", ew.trunc)
sign_ = _unary_inplace("sign", ew.sign)
square_ = _unary_inplace("square", ew.square)


# --------------------------------------------------------------------------- fill, copy, random
def _fill_fwd(xp, x, v):
    out = xp.empty_like(x)
    out[...] = v
    return out


def _fill_vjp(g, needs):
    from .._creation import zeros_like
    # the old values are overwritten: their gradient is zero; v's is the sum (done by the engine)
    return (zeros_like(g) if needs[0] else None), (g if needs[1] else None)


FILL = Op("fill", _fill_fwd, _fill_vjp, needs=True, node_name="FillBackward0")
COPY = Op("copy", _fill_fwd, _fill_vjp, needs=True, node_name="CopyBackwards")


def _filled(t, value, op=FILL):
    if isinstance(value, Tensor):
        if value._data.ndim and op is FILL:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value._data.ndim} dimensions.")
        if value._data.dtype != t._data.dtype:
            value = value.to(t.dtype)
    return apply(op, (t, value))


def zero_(self):
    if _recording(self, ()):
        return apply_inplace(self, "zero", _filled, 0)
    self._data[...] = 0
    _bump(self)
    return self


def fill_(self, value):
    if not isinstance(value, Tensor):
        from .._creation import _check_fill
        value = _check_fill(value, self._data.dtype)
    if _recording(self, (value,)):
        return apply_inplace(self, "fill", _filled, value)
    if isinstance(value, Tensor) and value._data.ndim:
        _filled(self, value)  # raises the dimension error
    self._data[...] = value._data if isinstance(value, Tensor) else value
    _bump(self)
    return self


def _copied(t, src):
    return _filled(t, src.to(t.device), COPY)


def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast, cast) into this tensor; the gradient flows back to ``src``."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")
    try:
        ok = np.broadcast_shapes(src._data.shape, self._data.shape) == self._data.shape
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(f"copy_: the source of shape {list(src._data.shape)} can't be broadcast "
                           f"to the destination's shape {list(self._data.shape)}")
    if _recording(self, (src,)):
        return apply_inplace(self, "copy", _copied, src)
    from ..backend import to_device_array
    self._data[...] = to_device_array(src._data, self.device)
    _bump(self)
    return self


def _random_fill(self, arr, op):
    if _recording(self, ()):
        from .._creation import tensor
        return apply_inplace(self, op, lambda t: _filled_random(t, tensor(arr, dtype=t.dtype)))
    self._data[...] = arr
    _bump(self)
    return self


def _filled_random(t, values):
    return apply(_RANDOM_FILL, (t, values))


# the values are random: no gradient reaches the overwritten tensor (PyTorch's UniformBackward0 ...)
_RANDOM_FILL = Op("random_fill", _fill_fwd, _fill_vjp, needs=True, node_name="FillBackward0")


def _fill_in_place(self, fill, rng, scale, shift):
    """Fill a CPU float tensor's storage with ``fill`` samples * scale + shift, no temporary."""
    data = self._data
    fill(rng, data)
    if scale != 1:
        data *= scale
    if shift != 0:
        data += shift
    _bump(self)
    return self


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    from .._creation import _rng, fill_uniform
    if _can_fill_in_place(self):
        return _fill_in_place(self, fill_uniform, _rng(generator), b - a, a)
    return _random_fill(self, _rng(generator).uniform(a, b, self._data.shape), "uniform")


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    from .._creation import _rng, fill_normal
    if not std >= 0:
        raise RuntimeError(f"normal_ expects std >= 0.0, but found std {std}")
    if _can_fill_in_place(self):
        return _fill_in_place(self, fill_normal, _rng(generator), std, mean)
    return _random_fill(self, _rng(generator).normal(mean, std, self._data.shape), "normal")


def _can_fill_in_place(t):
    """A plain CPU float tensor outside the graph: NumPy can draw straight into its storage."""
    return type(t._data) is np.ndarray and t._data.dtype.kind == "f" and not _recording(t, ())


def bernoulli_(self, p=0.5, *, generator=None):
    from .._creation import _rng, check_probability
    probs = p._data if isinstance(p, Tensor) else p
    check_probability("bernoulli_", probs)
    return _random_fill(self, _rng(generator).random(self._data.shape) < probs, "bernoulli")


def random_(self, from_=0, to=None, *, generator=None):
    from .._creation import _rng
    if to is None:
        from_, to = 0, from_ if from_ else 2 ** 24
    return _random_fill(self, _rng(generator).integers(from_, to, self._data.shape), "random")


def exponential_(self, lambd=1.0, *, generator=None):
    from .._creation import _rng
    return _random_fill(self, _rng(generator).exponential(1.0 / lambd, self._data.shape),
                        "exponential")


# --------------------------------------------------------------------------- setitem
def setitem(self, index, value):
    """``self[index] = value``; differentiable with respect to both self and value."""
    from .indexing import index_put_
    return index_put_(self, index, value)


# --------------------------------------------------------------------------- more in-place forms
def _binary_inplace(name, fn):
    def op(self, other):
        return apply_inplace(self, name, fn, other)
    op.__name__ = name + "_"
    op.__doc__ = f"In-place {name}."
    return op


acos_ = _unary_inplace("acos", ew.acos)
asin_ = _unary_inplace("asin", ew.asin)
atan_ = _unary_inplace("atan", ew.atan)
arccos_, arcsin_, arctan_ = acos_, asin_, atan_
cosh_ = _unary_inplace("cosh", ew.cosh)
sinh_ = _unary_inplace("sinh", ew.sinh)
tan_ = _unary_inplace("tan", ew.tan)
exp2_ = _unary_inplace("exp2", ew.exp2)
expm1_ = _unary_inplace("expm1", ew.expm1)
log10_ = _unary_inplace("log10", ew.log10)
log1p_ = _unary_inplace("log1p", ew.log1p)
log2_ = _unary_inplace("log2", ew.log2)
frac_ = _unary_inplace("frac", ew.frac)
fix_ = trunc_
negative_ = neg_
absolute_ = abs_
sgn_ = sign_
atan2_ = _binary_inplace("atan2", ew.atan2)
arctan2_ = atan2_
fmod_ = _binary_inplace("fmod", ew.fmod)
hypot_ = _binary_inplace("hypot", ew.hypot)
xlogy_ = _binary_inplace("xlogy", ew.xlogy)
multiply_ = mul_
subtract_ = sub_
divide_ = true_divide_ = div_


def float_power_(self, exponent):
    """In-place float_power: the result is float64, so ``self`` must be float64 already."""
    if self._data.dtype != np.float64:
        raise RuntimeError(f"the base given to float_power_ has dtype {self.dtype} but the "
                           f"operation's result requires dtype {_dtype.float64}")
    return apply_inplace(self, "float_power", ew.float_power, exponent)


def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
    return apply_inplace(self, "nan_to_num", ew.nan_to_num, nan, posinf, neginf)


def _replace_fwd(xp, x, values):
    return values.astype(x.dtype, copy=False)


def _replace_vjp(g, values):
    return g * 0


def _valued_inplace(name, fn, arity):
    """In-place comparison or logical op: ``self`` takes the (0/1) values of ``fn``, cast to its
    dtype. The result does not depend smoothly on the old values, so their gradient is zero;
    the node keeps that explicit (the old history must not receive the new values' gradient)."""
    node = Op(name, _replace_fwd, _replace_vjp,
              node_name="".join(p.capitalize() for p in name.split("_")) + "Backward0")

    def replaced(t, *others):
        values = fn(t, *others)._data
        return apply(node, (t,), (values,))

    if arity == 1:
        def op(self):
            return apply_inplace(self, name, replaced)
    else:
        def op(self, other):
            return apply_inplace(self, name, replaced, other)
    op.__name__ = name + "_"
    op.__doc__ = f"In-place {name}: self takes the values of {name}(self{', other' if arity == 2 else ''})."
    return op


eq_ = _valued_inplace("eq", ew.eq, 2)
ne_ = _valued_inplace("ne", ew.ne, 2)
lt_ = _valued_inplace("lt", ew.lt, 2)
le_ = _valued_inplace("le", ew.le, 2)
gt_ = _valued_inplace("gt", ew.gt, 2)
ge_ = _valued_inplace("ge", ew.ge, 2)
not_equal_, less_, less_equal_, greater_, greater_equal_ = ne_, lt_, le_, gt_, ge_
logical_and_ = _valued_inplace("logical_and", ew.logical_and, 2)
logical_or_ = _valued_inplace("logical_or", ew.logical_or, 2)
logical_xor_ = _valued_inplace("logical_xor", ew.logical_xor, 2)
logical_not_ = _valued_inplace("logical_not", ew.logical_not, 1)
bitwise_and_ = _binary_inplace("bitwise_and", ew.bitwise_and)
bitwise_or_ = _binary_inplace("bitwise_or", ew.bitwise_or)
bitwise_xor_ = _binary_inplace("bitwise_xor", ew.bitwise_xor)
bitwise_not_ = _unary_inplace("bitwise_not", ew.bitwise_not)


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with samples of exp(N(mean, std^2))."""
    from .._creation import _rng
    return _random_fill(self, _rng(generator).lognormal(mean, std, self._data.shape), "log_normal")


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with Cauchy samples: median + sigma * tan(pi (U - 1/2))."""
    from .._creation import _rng
    return _random_fill(self, median + sigma * _rng(generator).standard_cauchy(self._data.shape),
                        "cauchy")


def geometric_(self, p, *, generator=None):
    """Fill with the number of Bernoulli(p) trials up to the first success (1, 2, ...)."""
    from .._creation import _rng
    return _random_fill(self, _rng(generator).geometric(p, self._data.shape), "geometric")


# --------------------------------------------------------------------------- in-place metadata
def _restride_(self, op, fn, *args):
    """``squeeze_``, ``t_``, ...: this tensor becomes the view ``fn(self, *args)`` of itself.

    The storage is unchanged; the tensor's array, history and version change (a node that saved
    the old shape fails loudly, as for any in-place op). Refused, as in PyTorch, on a leaf that
    requires grad and on views of one."""
    if _recording(self, ()):
        _check_inplace(self, op)
    r = fn(self, *args)
    self._data = r._data
    if r._fw_grad is not None:
        self._fw_grad = r._fw_grad  # forward mode: the tangent is restrided alike
    if r.grad_fn is not None:
        from ..autograd import views
        views.set_history(self, r.grad_fn, r._out_nr)
    _bump(self)
    return self


def squeeze_(self, dim=None):
    from .shape import squeeze
    return _restride_(self, "squeeze", squeeze, dim)


def unsqueeze_(self, dim):
    from .shape import unsqueeze
    return _restride_(self, "unsqueeze", unsqueeze, dim)


def t_(self):
    from .shape import t
    return _restride_(self, "t", t)


def transpose_(self, dim0, dim1):
    from .shape import transpose
    return _restride_(self, "transpose", transpose, dim0, dim1)


swapaxes_ = swapdims_ = transpose_


def apply_(self, callable):
    """Replace each element x by ``callable(x)`` (a Python function; CPU tensors only)."""
    if self._rg:
        raise RuntimeError("Can't call apply_() on Variable that requires grad. Use "
                           "var.detach().apply_() instead.")
    if type(self._data) is not np.ndarray:
        raise TypeError(f"apply_ is only implemented on CPU tensors (got a {self.device} tensor)")
    values = [callable(v) for v in self._data.reshape(-1).tolist()]
    self._data[...] = np.asarray(values).astype(self._data.dtype).reshape(self._data.shape)
    _bump(self)
    return self

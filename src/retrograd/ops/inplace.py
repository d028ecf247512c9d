"""Ops that exist only in place: ``zero_``, ``fill_``, ``copy_``, the random fills
(``uniform_``, ``normal_``, ...), ``x[i] = v`` and ``apply_``.

Each writes into the tensor's storage through ``_inplace`` (version bump, recording and rebase
when grad mode is on); in-place forms of ops that also exist out of place are declared with
their op, in its family file.
"""
import numpy as np

from .._tensor import Tensor
from ._declare import declare
from ._inplace import _bump, _recording, apply_inplace
from ._registry import Op, apply


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


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(fill_, method=True)
declare(zero_, method=True)
declare(copy_, torch=False, method=True)
declare(uniform_, torch=False, method=True)
declare(normal_, torch=False, method=True)
declare(bernoulli_, torch=False, method=True)
declare(random_, torch=False, method=True)
declare(exponential_, torch=False, method=True)
declare(apply_, torch=False, method=True)
declare(log_normal_, torch=False, method=True)
declare(cauchy_, torch=False, method=True)
declare(geometric_, torch=False, method=True)

"""Ops that exist only in place: ``zero_``, ``fill_``, ``copy_``, the random fills
(``uniform_``, ``normal_``, ...), ``x[i] = v`` and ``apply_``.

Each writes into the tensor's storage through ``_inplace`` (version bump, recording and rebase
when grad mode is on); in-place forms of ops that also exist out of place are declared with
their op, in its family file.
"""

import numpy as np

from .._compile.state import _cap
from .._tensor import Tensor
from ._declare import declare
from ._inplace import _bump, _recording, apply_inplace, write
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
            raise RuntimeError(
                f"fill_ only supports 0-dimension value tensor but got tensor with {value._data.ndim} dimensions."
            )
        if value._data.dtype != t._data.dtype:
            value = value.to(t.dtype)
    return apply(op, (t, value))


def zero_(self):
    if _recording(self, ()):
        return apply_inplace(self, "zero", _filled, 0)
    write(self, 0, "zero_")
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
    write(self, value._data if isinstance(value, Tensor) else value, "fill_")
    _bump(self)
    return self


def _copied(t, src):
    return _filled(t, src.to(t.device), COPY)


def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast, cast) into this tensor; the gradient flows back to ``src``."""
    if not isinstance(src, Tensor):
        if getattr(src, "is_sparse", False) is True:
            raise RuntimeError(
                f"copy_: copying a sparse tensor (shape {list(src.shape)}) into a dense one "
                f"(shape {list(self._data.shape)}) is not supported; call .to_dense() on the source"
            )
        raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")
    try:
        ok = np.broadcast_shapes(src._data.shape, self._data.shape) == self._data.shape
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(
            f"copy_: the source of shape {list(src._data.shape)} can't be broadcast "
            f"to the destination's shape {list(self._data.shape)}"
        )
    if _recording(self, (src,)):
        return apply_inplace(self, "copy", _copied, src)
    from ..backend import to_device_array

    write(self, to_device_array(src._data, self.device), "copy_")
    _bump(self)
    return self


def _random_fill(self, arr, op):
    if _recording(self, ()):
        from .._creation import tensor

        return apply_inplace(self, op, lambda t: _filled_random(t, tensor(arr, dtype=t.dtype)))
    write(self, arr, op + "_")
    _bump(self)
    return self


def _filled_random(t, values):
    return apply(_RANDOM_FILL, (t, values))


# the values are random: no gradient reaches the overwritten tensor (PyTorch's UniformBackward0 ...)
_RANDOM_FILL = Op("random_fill", _fill_fwd, _fill_vjp, needs=True, node_name="FillBackward0")


def uniform_(self, from_=0.0, to=1.0, *, generator=None):
    """Fill with values drawn uniformly from [from, to). PyTorch's first parameter is ``from``,
    a Python keyword, so it can only be passed by position; ``to=`` works by name."""
    from .._random import uniform_values

    return _random_fill(self, uniform_values(self._data, from_, to, generator), "uniform")


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    from .._random import normal_values

    return _random_fill(self, normal_values(self._data, mean, std, generator), "normal")


def bernoulli_(self, p=0.5, *, generator=None):
    from .._random import bernoulli_values

    return _random_fill(self, bernoulli_values(self._data, p, generator), "bernoulli")


def random_(self, from_=0, to=None, *, generator=None):
    """``random_()``: the dtype's default range; ``random_(to)``: [0, to); ``random_(from, to)``."""
    from .._random import random_values

    if to is None and from_ not in (0, -(2**63)):  # random_(to); random_(-2**63, None) is the full range
        from_, to = 0, from_
    return _random_fill(self, random_values(self._data, from_, to, generator), "random")


def exponential_(self, lambd=1.0, *, generator=None):
    from .._random import exponential_values

    return _random_fill(self, exponential_values(self._data, lambd, generator), "exponential")


# --------------------------------------------------------------------------- setitem
def setitem(self, index, value):
    """``self[index] = value``; differentiable with respect to both self and value."""
    from .indexing import index_put_

    return index_put_(self, index, value)


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with samples of exp(N(mean, std^2))."""
    from .._random import log_normal_values

    return _random_fill(self, log_normal_values(self._data, mean, std, generator), "log_normal")


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with Cauchy samples: median + sigma * tan(pi (U - 1/2))."""
    from .._random import cauchy_values

    return _random_fill(self, cauchy_values(self._data, median, sigma, generator), "cauchy")


def geometric_(self, p, *, generator=None):
    """Fill with the number of Bernoulli(p) trials up to the first success (1, 2, ...)."""
    from .._random import geometric_values

    return _random_fill(self, geometric_values(self._data, p, generator), "geometric")


def apply_(self, callable):
    """Replace each element x by ``callable(x)`` (a Python function; CPU tensors only)."""
    if self._rg:
        raise RuntimeError("Can't call apply_() on Variable that requires grad. Use var.detach().apply_() instead.")
    if type(self._data) is not np.ndarray:
        raise TypeError(f"apply_ is only implemented on CPU tensors (got a {self.device} tensor)")
    if _cap.active:  # Python reads every value: a compiled function runs eagerly
        _cap.recorder.unrecorded("Tensor.apply_ (a Python function of each element)")
    values = [callable(v) for v in self._data.reshape(-1).tolist()]
    self._data[...] = np.asarray(values).astype(self._data.dtype).reshape(self._data.shape)
    _bump(self)
    return self


def map_(self, tensor, callable):
    """Replace each element x by ``callable(x, y)``, y the element of ``tensor`` (broadcast to
    this tensor's shape) at the same place (a Python function; CPU tensors only)."""
    if self._rg:
        raise RuntimeError("Can't call map_() on Variable that requires grad. Use var.detach().map_() instead.")
    if type(self._data) is not np.ndarray or type(tensor._data) is not np.ndarray:
        raise TypeError(f"map_ is only implemented on CPU tensors (got {self.device} and {tensor.device} tensors)")
    if _cap.active:  # Python reads every value: a compiled function runs eagerly
        _cap.recorder.unrecorded("Tensor.map_ (a Python function of each element)")
    try:
        other = np.broadcast_to(tensor._data, self._data.shape)
    except ValueError:
        raise RuntimeError(
            f"map_: the tensor of shape {list(tensor.shape)} is not broadcastable to this tensor's shape "
            f"{list(self.shape)}"
        ) from None
    pairs = zip(self._data.reshape(-1).tolist(), other.reshape(-1).tolist())
    values = [callable(a, b) for a, b in pairs]
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
declare(map_, torch=False, method=True)

"""The core's part of ``vmap`` (func/_vmap.py has the transform, func/_batch_rules.py the rules).

A batched value is a ``BatchedTensor``: a Tensor standing for one example of a batch, holding
the whole batch as a physical tensor ``_value`` with the batch at dimension ``_bdim``, for the
vmap level ``_level`` (levels count from 1, outermost first; the value may itself be batched at
a lower level). Its ``shape``, ``dtype`` and the other metadata are the example's: ``_data`` is
a read-only view of example 0, so argument checks written against ``_data`` see the right shape
and dtype. Its values are only ever computed by ``apply``: while a level is active, ``apply``
hands every op to ``dispatch``, which finds the highest level among the inputs and runs the op's
batching rule on the physical values (a rule calls ``apply`` again, so lower levels, autograd
and forward mode see ordinary ops).

``_vm.active`` is True while a level exists; entering the first level and leaving the last turn
the ``VMAP`` bit of the switch ``apply`` reads (autograd/_modes.py), so ops outside vmap pay
nothing for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._tensor import Tensor
from ._modes import VMAP, set_mode

_new = object.__new__


class DataAccess(BaseException):
    """Raised when library code computes in Python on a batched tensor's values (an op without
    a batching rule that works on raw arrays): vmap then runs the function once per example.
    A BaseException, so that no ``except Exception`` in between swallows it."""


# NumPy functions that read only metadata (shape, dtype), allowed on an example's _data
_METADATA_FUNCTIONS = frozenset(
    (
        "shape",
        "ndim",
        "size",
        "result_type",
        "iscomplexobj",
        "isrealobj",
        "may_share_memory",
        "shares_memory",
        "min_scalar_type",
        "can_cast",
    )
)


class _Example(np.ndarray):
    """A batched tensor's ``_data``: example 0's shape and dtype; computing with its values (a
    ufunc, a NumPy function) raises DataAccess, since they stand for a whole batch."""

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        raise DataAccess(ufunc.__name__)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if func.__name__ in _METADATA_FUNCTIONS:
            plain = [a.view(np.ndarray) if isinstance(a, _Example) else a for a in args]
            return func(*plain, **kwargs)
        raise DataAccess(func.__name__)

    def _values(self, *_: Any, **__: Any) -> Any:
        raise DataAccess("ndarray value access")

    # the methods that read values without a ufunc
    argmax = argmin = argsort = sort = nonzero = take = put = item = tolist = tobytes = searchsorted = argpartition = (
        partition
    ) = compress = choose = repeat = __float__ = __int__ = __index__ = __bool__ = __complex__ = __iter__ = _values


def _unregistered(*_: Any) -> Any:
    raise AssertionError("vmap is active but func._batch_rules is not loaded")


class _VmapState:
    """Process-wide: the active levels' batch sizes and randomness modes."""

    __slots__ = (
        "active",
        "sizes",
        "randomness",
        "dispatch",
        "inplace",
        "random_draw",
        "elementwise_call",
        "class_targets",
        "embedding",
    )

    def __init__(self) -> None:
        self.active = False
        self.sizes: list[int] = []  # batch size of level i + 1
        self.randomness: list[str] = []  # "error", "different" or "same", per level
        # registered by func/_batch_rules.py, called only while active (see there)
        self.dispatch: Callable[..., Any] = _unregistered
        self.inplace: Callable[..., Any] = _unregistered
        self.random_draw: Callable[..., Any] = _unregistered
        self.elementwise_call: Callable[..., Any] = _unregistered
        self.class_targets: Callable[..., Any] = _unregistered
        self.embedding: Callable[..., Any] = _unregistered

    def push(self, size: int, randomness: str) -> int:
        self.sizes.append(size)
        self.randomness.append(randomness)
        self.active = True
        set_mode(VMAP, True)
        return len(self.sizes)

    def pop(self) -> None:
        self.sizes.pop()
        self.randomness.pop()
        self.active = bool(self.sizes)
        set_mode(VMAP, self.active)


_vm = _VmapState()


class BatchedTensor(Tensor):
    """One example of a batch inside ``vmap`` (see the module docstring)."""

    # example 0, read-only, as an _Example array: metadata for code that reads _data
    @property  # type: ignore[override]
    def _data(self) -> Any:
        if self._level > len(_vm.sizes):
            raise RuntimeError(
                "vmap: a batched tensor was used after the vmap that made it returned (it escaped, "
                "for example through a global or a closure); return it from the function instead"
            )
        a = self._value._data
        v = a[(slice(None),) * self._bdim + (0, Ellipsis)]
        if type(v) is np.ndarray or type(v) is _Example:
            v = v.view(_Example)
            v.flags.writeable = False
        return v

    @_data.setter
    def _data(self, value: Any) -> None:
        raise RuntimeError(
            "vmap: an operation tried to replace a batched tensor's storage (set_, or an "
            "in-place op without a batching rule); this is not supported inside vmap"
        )

    def __repr__(self) -> str:
        return f"BatchedTensor(lvl={self._level}, bdim={self._bdim}, value=\n{self._value!r}\n)"

    def item(self) -> Any:
        raise RuntimeError(
            "vmap: It looks like you're calling .item() on a Tensor. We don't support vmap over "
            "calling .item() on a Tensor, please try to rewrite what you're doing with other "
            "operations."
        )

    def __bool__(self) -> bool:
        raise RuntimeError(
            "vmap: It looks like you're attempting to use a Tensor in some data-dependent "
            "control flow (bool() of a batched tensor). We don't support that yet, please "
            "shout over at https://github.com/pytorch/functorch/issues/257 ."
        )

    # the values as NumPy data: vmap falls back to one run per example
    def tolist(self) -> Any:
        raise DataAccess("tolist")

    def numpy(self, *, force: bool = False) -> Any:
        raise DataAccess("numpy")

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        raise DataAccess("__array__")

    def __float__(self) -> float:
        return self.item()  # type: ignore[no-any-return]

    __int__ = __float__  # type: ignore[assignment]
    __index__ = __float__  # type: ignore[assignment]

    def detach(self) -> Tensor:
        return wrap(self._value.detach(), self._bdim, self._level)  # type: ignore[no-any-return]

    def detach_(self) -> Tensor:
        self._value.detach_()
        return self

    @property
    def data(self) -> Tensor:  # type: ignore[override]
        return self.detach()

    @property
    def requires_grad(self) -> bool:  # type: ignore[override]
        return bool(self._value.requires_grad)

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        raise DataAccess("requires_grad")

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        # reverse-mode transforms other than grad (vjp, jacrev, hessian) inside vmap: once per example
        raise DataAccess("requires_grad_")


def guard(*tensors: Any) -> None:
    """For library code that computes on ``_data`` with NumPy: inside vmap, a batched tensor
    among ``tensors`` makes vmap run the function once per example instead."""
    for t in tensors:
        if type(t) is BatchedTensor:
            raise DataAccess("raw array computation")


def wrap(value: Any, bdim: int | None, level: int) -> Any:
    """``value`` (a Tensor) batched at ``level`` along ``bdim``; unchanged for ``bdim=None``."""
    if bdim is None or not isinstance(value, Tensor):
        return value
    t = _new(BatchedTensor)
    t.grad_fn = None
    t._rg = False
    t._vc = None
    t._value = value
    t._bdim = bdim
    t._level = level
    return t


def level_of(items: Sequence[Any]) -> int:
    """The highest vmap level among ``items`` (0: none batched)."""
    level = 0
    for t in items:
        if type(t) is BatchedTensor and t._level > level:
            level = t._level
    return level


def unwrap(t: Any, level: int) -> tuple[Any, int | None]:
    """(physical value, batch dim) of ``t`` at ``level``: ``(t, None)`` when not batched there."""
    if type(t) is BatchedTensor and t._level == level:
        return t._value, t._bdim
    return t, None

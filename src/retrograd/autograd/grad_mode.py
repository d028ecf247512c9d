"""Grad modes: whether ops record graph nodes. Thread-local, as in PyTorch.

Each mode object works as a context manager and as a decorator. A new thread starts with
grad enabled and inference mode off.
"""

import functools
import threading
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from ._modes import NODE_EXTRAS, count_mode

_F = TypeVar("_F", bound=Callable[..., Any])


class _State(threading.local):
    # Class attributes are the per-thread defaults.
    enabled = True
    inference = False
    # True while every new node needs extra work (anomaly traces, saved tensor hooks): the flag
    # ops/_registry.apply checks for both, once the process-wide switch (_modes) says that some
    # thread has it on.
    node_extras = False
    # True while the profiler's op observer runs an op (ops/_registry.apply): the op it runs
    # then goes straight through.
    observing = False


_state = _State()


def is_grad_enabled() -> bool:
    return _state.enabled


def is_inference_mode_enabled() -> bool:
    return _state.inference


def _bare_decorator(cls: type, orig_func: Any) -> Any:
    """``cls()``, or, for ``@cls`` written without parentheses (PyTorch accepts both),
    ``orig_func`` decorated by ``cls()``."""
    if orig_func is None:
        return object.__new__(cls)
    if not callable(orig_func):
        raise TypeError(f"{cls.__name__}() takes no arguments")
    return cls()(orig_func)


class _Mode:
    """Base of the grad-mode context managers; subclasses set ``_enter`` and ``_exit``."""

    def __enter__(self) -> None:
        raise NotImplementedError

    def __exit__(self, *exc: object) -> Literal[False]:
        raise NotImplementedError

    def __call__(self, fn: _F) -> _F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__(*self._args()):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    def _args(self) -> tuple[bool, ...]:
        return ()

    def clone(self) -> "_Mode":
        return self.__class__(*self._args())


class no_grad(_Mode):
    """Disable graph recording: ops on tensors that require grad produce tensors that do not."""

    def __new__(cls, orig_func: Any = None) -> Any:
        return _bare_decorator(cls, orig_func)

    def __enter__(self) -> None:
        self._prev = _state.enabled
        _state.enabled = False

    def __exit__(self, *exc: object) -> Literal[False]:
        _state.enabled = self._prev
        return False


class enable_grad(_Mode):
    """Enable graph recording inside a ``no_grad`` region."""

    def __new__(cls, orig_func: Any = None) -> Any:
        return _bare_decorator(cls, orig_func)

    def __enter__(self) -> None:
        self._prev = _state.enabled
        _state.enabled = True

    def __exit__(self, *exc: object) -> Literal[False]:
        _state.enabled = self._prev
        return False


class set_grad_enabled(_Mode):
    """Set grad mode to ``mode``; takes effect at construction (like PyTorch), undone on exit."""

    def __init__(self, mode: bool) -> None:
        self._mode = bool(mode)
        self._prev = _state.enabled
        _state.enabled = self._mode

    def _args(self) -> tuple[bool, ...]:
        return (self._mode,)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> Literal[False]:
        _state.enabled = self._prev
        return False

    def __call__(self, fn: _F) -> _F:
        _state.enabled = self._prev  # used as a decorator: do not change the mode now
        return super().__call__(fn)


class inference_mode(_Mode):
    """Like ``no_grad``; tensors made inside are inference tensors (never recorded later)."""

    def __new__(cls, mode: Any = True) -> Any:
        if mode is None or isinstance(mode, bool):
            return object.__new__(cls)
        return cls()(mode)  # ``@inference_mode`` without parentheses

    def __init__(self, mode: bool = True) -> None:
        self._mode = bool(mode)

    def _args(self) -> tuple[bool, ...]:
        return (self._mode,)

    def __enter__(self) -> None:
        self._prev = (_state.enabled, _state.inference)
        if self._mode:
            _state.enabled = False
            _state.inference = True
        else:
            _state.inference = False

    def __exit__(self, *exc: object) -> Literal[False]:
        _state.enabled, _state.inference = self._prev
        return False

    def __call__(self, fn: Any) -> Any:
        if not callable(fn) or isinstance(fn, bool):
            return inference_mode(fn)
        return super().__call__(fn)


# One probe per source of per-node work (anomaly mode, saved tensor hooks): each source, which
# sits above this module, appends its probe at import and calls _refresh_node_extras on a change.
_node_extra_probes: list = []


def _refresh_node_extras() -> None:
    on = any(probe() for probe in _node_extra_probes)
    if on != _state.node_extras:
        _state.node_extras = on
        count_mode(NODE_EXTRAS, 1 if on else -1)

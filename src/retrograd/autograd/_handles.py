"""Handles returned by ``register_*hook`` calls.

``RemovableHandle`` is PyTorch's: hooks live in ordered dicts keyed by the handle's id (modules,
optimizers). Graph nodes keep their hooks in plain lists, which the engine walks on every
backward; ``ListHookHandle`` removes a hook from such a list.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable, Iterable
from typing import Any

_handle_ids = itertools.count()


class RemovableHandle:
    """Removes a hook from the dict(s) it was registered in; usable as a context manager.

    ``hooks_dict`` maps handle ids to hooks; ``extra_dict`` are further dicts keyed by the same
    id (flags such as ``with_kwargs`` and ``always_call``). The dicts must support weak
    references (``OrderedDict`` does), so a handle never keeps its owner alive.
    """

    def __init__(
        self, hooks_dict: dict[int, Any], *, extra_dict: dict[int, Any] | Iterable[dict[int, Any]] | None = None
    ) -> None:
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = next(_handle_ids)
        if extra_dict is None:
            extra_dict = []
        elif isinstance(extra_dict, dict):
            extra_dict = [extra_dict]
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extra_dict)

    def remove(self) -> None:
        hooks = self.hooks_dict_ref()
        if hooks is not None:
            hooks.pop(self.id, None)
        for ref in self.extra_dict_ref:
            d = ref()
            if d is not None:
                d.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


class ListHookHandle:
    """Removes its hook from the list it was added to; usable as a context manager."""

    __slots__ = ("_hooks", "_fn")

    def __init__(self, hooks: list[Callable[..., Any]], fn: Callable[..., Any]) -> None:
        hooks.append(fn)
        self._hooks = hooks
        self._fn = fn

    def remove(self) -> None:
        try:
            self._hooks.remove(self._fn)
        except ValueError:
            pass

    def __enter__(self) -> ListHookHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

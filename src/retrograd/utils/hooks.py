"""Handles returned by ``register_*hook`` calls."""


class RemovableHandle:
    """Removes its hook from the list it was added to; usable as a context manager."""

    __slots__ = ("_hooks", "_fn")

    def __init__(self, hooks, fn):
        hooks.append(fn)
        self._hooks = hooks
        self._fn = fn

    def remove(self):
        try:
            self._hooks.remove(self._fn)
        except ValueError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()

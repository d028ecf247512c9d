"""The globals a user allows in PyTorch-format checkpoints read with ``weights_only=True``
(``retrograd.serialization.add_safe_globals`` and friends, PyTorch's API)."""

import contextlib

_user_globals = []


def add_safe_globals(safe_globals):
    """Allow ``load(..., weights_only=True)`` to use these globals (functions or classes) when a
    checkpoint names them. An entry is the object, or ``(object, "module.name")`` to allow it
    under a name other than its own ``__module__.__qualname__``."""
    for g in safe_globals:
        _check_entry(g)
    _user_globals.extend(safe_globals)


def get_safe_globals():
    """The globals the user allowed with ``add_safe_globals`` (a new list)."""
    return list(_user_globals)


def clear_safe_globals():
    """Forget every global allowed with ``add_safe_globals``."""
    _user_globals.clear()


@contextlib.contextmanager
def safe_globals(safe_globals):
    """Allow these globals (as ``add_safe_globals``) inside the ``with`` block only."""
    for g in safe_globals:
        _check_entry(g)
    before = list(_user_globals)
    _user_globals.extend(safe_globals)
    try:
        yield
    finally:
        _user_globals[:] = before


def _check_entry(g):
    if isinstance(g, tuple):
        if not (len(g) == 2 and isinstance(g[1], str) and "." in g[1]):
            raise TypeError(f"add_safe_globals: a tuple entry must be (object, 'module.name'), got {g!r}")
    elif not callable(g):
        raise TypeError(f"add_safe_globals: expected functions or classes, got {type(g).__name__}")


def user_table():
    table = {}
    for g in _user_globals:
        if isinstance(g, tuple):
            table[g[1]] = g[0]
        else:
            table[f"{g.__module__}.{g.__qualname__}"] = g
    return table

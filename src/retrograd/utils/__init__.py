"""Utilities: hooks handles, checkpointing, data loading, benchmark timers.

``data``, ``checkpoint`` and ``benchmark`` load on first use (``retrograd.utils.data``, or ``import
retrograd.utils.data``): ``nn`` imports this package for its hook handles, and the data loader
brings multiprocessing and the distributed package with it."""

import importlib

__all__ = ["data", "checkpoint", "benchmark"]


def __getattr__(name):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))

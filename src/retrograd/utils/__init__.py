"""Utilities: hooks handles, checkpointing, data loading."""

from . import data
from . import checkpoint

__all__ = ["data", "checkpoint"]

"""Internals of utils.data that PyTorch documents: ``_utils.collate.collate``."""

from . import collate  # noqa: F401

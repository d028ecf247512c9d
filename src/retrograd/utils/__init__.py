"""Utilities: hooks handles, checkpointing, data loading."""

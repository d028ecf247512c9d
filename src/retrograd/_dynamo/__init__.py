"""``torch._dynamo``: the capture behind ``retrograd.compile`` (``_compile/``): ``explain``,
``reset``, ``disable``, ``allow_in_graph``, ``mark_dynamic``, ``config.cache_size_limit`` and ``exc.Unsupported``."""

from . import exc
from .._compile.explain import ExplainOutput, explain
from .._compile.dynamic import mark_dynamic
from .._compile.function import config, reset
from ..compiler import allow_in_graph, disable, is_compiling

__all__ = [
    "ExplainOutput",
    "allow_in_graph",
    "config",
    "disable",
    "exc",
    "explain",
    "is_compiling",
    "mark_dynamic",
    "reset",
]

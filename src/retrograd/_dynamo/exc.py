"""``torch._dynamo.exc``: the error a graph break raises under ``compile(fullgraph=True)``."""

from .._compile.capture import Unsupported

__all__ = ["Unsupported"]

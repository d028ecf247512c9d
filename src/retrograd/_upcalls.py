"""What the core calls in the layers above it, registered there at import, so that the core
imports nothing above itself: the legacy constructor ``Tensor([...])`` converts Python data with
the factories' converter (``_creation`` registers ``array_from``), and ``Tensor.backward`` is
``autograd.backward`` (the autograd namespace registers ``backward``)."""

from collections.abc import Callable
from typing import Any

array_from: Callable[..., Any] | None = None
backward: Callable[..., Any] | None = None

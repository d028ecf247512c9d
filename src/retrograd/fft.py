"""retrograd.fft: PyTorch's ``torch.fft`` names, bound from the ops' declarations (their ``fft=``
names, with ``out=`` where declared; see ops/_declare.py). The transforms live in ops/fft.py."""

from .ops import _families  # noqa: F401  (every op family's declarations have run)
from .ops._declare import namespace as _namespace

_FUNCTIONS = _namespace("fft")
globals().update(_FUNCTIONS)
__all__ = sorted(_FUNCTIONS)

"""retrograd.special: PyTorch's ``torch.special`` names, bound from the ops' declarations (their
``special=`` names, with ``out=`` where declared; see ops/_declare.py)."""

from .ops import _families  # noqa: F401  (every op family's declarations have run)
from .ops._declare import namespace as _namespace

_FUNCTIONS = _namespace("special")
globals().update(_FUNCTIONS)
__all__ = sorted(_FUNCTIONS)

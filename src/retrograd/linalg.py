"""retrograd.linalg: PyTorch's ``torch.linalg`` names, bound from the ops' declarations (their
``linalg=`` names, with ``out=`` where declared; see ops/_declare.py)."""

from .ops import _families  # noqa: F401  (every op family's declarations have run)
from .ops._declare import namespace as _namespace
from .ops.decomposition import LinAlgError

_FUNCTIONS = _namespace("linalg")
globals().update(_FUNCTIONS)
__all__ = ["LinAlgError", *sorted(_FUNCTIONS)]

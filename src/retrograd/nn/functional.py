"""retrograd.nn.functional: PyTorch's functional API, bound from the ops' declarations (their
``functional=`` names; see ops/_declare.py). Each op lives in its family file under ops/."""

from ..ops import _families  # noqa: F401  (every op family's declarations have run)
from ..ops._declare import namespace as _namespace

_FUNCTIONS = _namespace("functional")
globals().update(_FUNCTIONS)
__all__ = sorted(_FUNCTIONS)

"""Warnings that point at the user's line.

A fixed ``stacklevel`` is wrong as soon as a function is reached through another layer (an
``out=`` wrapper, an nn module, a composite op). ``warn_user`` walks out of the package instead,
so the warning names the first caller outside retrograd, as a PyTorch warning raised from C++
names the Python line that called into it.
"""

import os
import sys
import warnings

_PKG_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_user(message, category=UserWarning):
    """``warnings.warn(message, category)`` attributed to the first frame outside the package."""
    f = sys._getframe(1)
    level = 2  # stacklevel 2 is warn_user's caller
    while f is not None and f.f_code.co_filename.startswith(_PKG_DIR):
        f = f.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)

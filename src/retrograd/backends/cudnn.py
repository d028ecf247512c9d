"""``torch.backends.cudnn``: flags recorded as scripts set them; retrograd never calls cuDNN
(GPU arrays go through CuPy), so ``is_available()`` is False, as on a PyTorch build without it."""

import contextlib

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True

__all__ = ["enabled", "benchmark", "deterministic", "allow_tf32", "is_available", "version", "flags"]


def is_available():
    return False


def version():
    """None: no cuDNN library is loaded (PyTorch's answer when cuDNN is unavailable)."""
    return None


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, deterministic=False, allow_tf32=True):
    """Set the four flags for the ``with`` block, then restore them."""
    g = globals()
    names = ("enabled", "benchmark", "deterministic", "allow_tf32")
    saved = {n: g[n] for n in names}
    g.update(zip(names, (enabled, benchmark, deterministic, allow_tf32)))
    try:
        yield
    finally:
        g.update(saved)

"""Memory and storage methods that are no-ops for CPU tensors in one process: pin_memory,
is_pinned, share_memory_, is_shared, and new_empty_strided."""
from ._declare import declare


def pin_memory(self, device=None):
    """The tensor itself: host memory is not pinned (page-locked) by retrograd."""
    return self


def is_pinned(self, device=None):
    return False


def share_memory_(self):
    """The tensor itself: not moved to shared memory (DataLoader workers send tensors by value)."""
    return self


def is_shared(self):
    return False


def new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad=False, layout=None,
                      pin_memory=False):
    from .construct import empty_strided
    return empty_strided(size, stride, dtype=dtype or self.dtype, device=device or self.device,
                         requires_grad=requires_grad)


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(pin_memory, torch=False, method=True)
declare(is_pinned, torch=False, method=True)
declare(share_memory_, torch=False, method=True)
declare(is_shared, torch=False, method=True)
declare(new_empty_strided, torch=False, method=True)

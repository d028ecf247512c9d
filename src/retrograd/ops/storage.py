"""Memory and storage methods that are no-ops for CPU tensors in one process: pin_memory,
is_pinned, share_memory_, is_shared, and new_empty_strided."""

from ._declare import declare


def pin_memory(self, device=None):
    """The tensor itself: host memory is not pinned (page-locked) by retrograd."""
    return self


def is_pinned(self, device=None):
    return False


def share_memory_(self):
    """Refused: retrograd's tensors cannot live in shared memory yet; processes receive copies
    (DataLoader workers and torch.multiprocessing send tensors by value), so updates made in one
    process would silently not reach the others (Hogwild training would not train)."""
    raise NotImplementedError(
        f"share_memory_: tensors cannot be moved to shared memory in retrograd yet (a "
        f"tensor of shape {list(self.shape)}); other processes receive copies, so "
        f"their in-place updates would not be seen here. Train in one process, or "
        f"send results back explicitly."
    )


def is_shared(self):
    return False


def new_empty_strided(
    self, size, stride, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False
):
    from .construct import empty_strided

    return empty_strided(
        size,
        stride,
        dtype=dtype or self.dtype,
        layout=layout,
        device=device or self.device,
        requires_grad=requires_grad,
        pin_memory=pin_memory,
    )


# --------------------------------------------------------------------------- public surfaces
# Where each function appears (retrograd.X, Tensor.X, in-place X_, out=, other namespaces): see _declare.py
declare(pin_memory, torch=False, method=True)
declare(is_pinned, torch=False, method=True)
declare(share_memory_, torch=False, method=True)
declare(is_shared, torch=False, method=True)
declare(new_empty_strided, torch=False, method=True)

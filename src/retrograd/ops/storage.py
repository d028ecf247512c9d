"""Memory and storage methods: pin_memory and is_pinned (no-ops for CPU tensors),
share_memory_ and is_shared (tensors in memory other processes see), new_empty_strided."""

import os

import numpy as np

from .._tensor import _STATE_ATTRS
from ._declare import declare


def pin_memory(self, device=None):
    """The tensor itself: host memory is not pinned (page-locked) by retrograd."""
    return self


def is_pinned(self, device=None):
    return False


def share_memory_(self):
    """Move the tensor's data into shared memory, so that other processes given the tensor see
    and make the same writes (Hogwild training: ``model.share_memory()``, then processes that
    each step an optimizer on the same parameters). A no-op when it is shared already, and for
    tensors on a GPU, as in PyTorch.

    The data moves to a file in ``/dev/shm`` (the temporary directory where there is none),
    mapped into memory; processes forked afterwards share the mapping, and a tensor pickled by
    ``multiprocessing`` (a ``Process`` argument under "spawn", a ``Queue`` item) reaches the
    other process as a mapping of the same file. The file is removed when the process that
    made it exits. The tensor keeps its values, version counter and autograd state.

    On a view, the data of the tensor it views moves, and the view with it. Other views of the
    same data made before the call keep the old memory (PyTorch moves them too): share a
    tensor before taking the views that other processes should see."""
    if self.device.type != "cpu" or _shared_file(self._data) is not None:
        return self
    base = self._base
    if base is None:
        self._data = _shared_copy(self._data)
    else:
        old = base._data
        base._data = _shared_copy(old)
        offset = self._data.__array_interface__["data"][0] - old.__array_interface__["data"][0]
        memmap, start = _shared_file(base._data)
        self._data = np.ndarray(
            self._data.shape, self._data.dtype, buffer=memmap, offset=start + offset, strides=self._data.strides
        )
        _register_reducer(type(base))
    _register_reducer(type(self))
    return self


def is_shared(self):
    """Whether the tensor's data lives in shared memory (``share_memory_``)."""
    return self.device.type == "cpu" and _shared_file(self._data) is not None


# Shared memory: a tensor's array is a view of a ``numpy.memmap`` of a file in /dev/shm. The
# files this process made are removed at its exit; those it attached to belong to their maker.
# (tempfile and atexit load on the first share: ``import retrograd`` does not need them.)
_OWN_FILES = []


def _remove_own_files():
    for path in _OWN_FILES:
        try:
            os.unlink(path)
        except OSError:
            pass


def _shared_copy(a):
    """A copy of the array ``a`` in a new shared file (same shape, dtype and values)."""
    import atexit
    import tempfile

    if not _OWN_FILES:
        atexit.register(_remove_own_files)
    shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    fd, path = tempfile.mkstemp(prefix="retrograd-shm-", dir=shm)
    _OWN_FILES.append(path)
    try:
        os.ftruncate(fd, max(a.nbytes, 1))
    finally:
        os.close(fd)
    flat = np.memmap(path, dtype=a.dtype, mode="r+", shape=(max(a.size, 1),))
    out = flat[: a.size].reshape(a.shape)
    out[...] = a
    return out


def _shared_file(a):
    """``(memmap, byte offset)`` when ``a`` views a shared file this package mapped, else None."""
    base = a
    while base is not None and not isinstance(base, np.memmap):
        base = getattr(base, "base", None)
    if base is None or not isinstance(getattr(base, "filename", None), str):
        return None
    if not os.path.basename(base.filename).startswith("retrograd-shm-"):
        return None
    offset = a.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    return base, offset


def _reduce_tensor(t):
    """How ``multiprocessing`` pickles a tensor: a shared one as its file, offset, shape,
    strides and dtype (the other process maps the same memory); any other by value."""
    found = _shared_file(t._data) if t.device.type == "cpu" else None
    if found is None:
        import pickle

        return t.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
    if t.grad_fn is not None:
        raise RuntimeError(
            "Cowardly refusing to serialize non-leaf tensor which requires_grad, since autograd does "
            "not support crossing process boundaries.  If you just want to transfer the data, call "
            "detach() on the tensor before serializing (e.g., putting it on the queue)."
        )
    base, offset = found
    a = t._data
    user_attrs = {k: v for k, v in t.__dict__.items() if k not in _STATE_ATTRS}
    return _rebuild_shared, (
        type(t),
        base.filename,
        offset,
        a.shape,
        a.strides,
        a.dtype.str,
        t.requires_grad,
        user_attrs,
    )


def _rebuild_shared(cls, path, offset, shape, strides, dtype, requires_grad, user_attrs):
    """The other side of ``_reduce_tensor``: the tensor as a view of the mapped file."""
    whole = np.memmap(path, dtype=np.uint8, mode="r+")
    a = np.ndarray(shape, np.dtype(dtype), buffer=whole, offset=offset, strides=strides)
    t = cls._make(a, None, False)
    if requires_grad:
        t.requires_grad_(True)
    t.__dict__.update(user_attrs)
    return t


def _register_reducer(cls):
    from multiprocessing.reduction import ForkingPickler

    if ForkingPickler._extra_reducers.get(cls) is not _reduce_tensor:
        ForkingPickler.register(cls, _reduce_tensor)


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

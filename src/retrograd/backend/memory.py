"""Allocator policy: keep freed memory in the process for reuse (glibc only).

A training step allocates and frees the same large temporaries (activations, im2col buffers,
gradients) every iteration. By default glibc hands large freed blocks straight back to the
kernel (``mmap``/``munmap``, and trimming the heap top), so the next step faults every page in
again: about 2.7 us per fresh 4 KiB page, which measured as roughly 4,000 faults and a fifth of
the CPU time of a LeNet training step here. Raising the mmap threshold to its maximum (32 MiB)
and the trim threshold to 1 GiB keeps those blocks in the heap for the next step; peak memory
does not grow, since the same blocks are reused.

This changes the process-wide allocator, so it is applied once at import and can be turned off
by setting ``RETROGRAD_KEEP_FREED_MEMORY=0`` before importing retrograd, or undone at run time
with ``keep_freed_memory(False)``. It is a no-op where the C library is not glibc.
"""

import ctypes
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_MAX = 32 * 1024 * 1024  # glibc's upper bound on 64-bit systems
_KEEP_TRIM = 1 << 30
_GLIBC_DEFAULTS = (128 * 1024, 128 * 1024 * 2)  # mmap threshold, trim threshold

_libc = None


def _glibc():
    global _libc
    if _libc is None:
        if not sys.platform.startswith("linux"):
            _libc = False
        else:
            try:
                libc = ctypes.CDLL("libc.so.6")  # glibc's soname (find_library would run ldconfig)
                libc.gnu_get_libc_version  # only glibc has it (musl does not)
                libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
                _libc = libc
            except (OSError, AttributeError):
                _libc = False
    return _libc


def keep_freed_memory(enable=True):
    """Keep (``True``) or return (``False``, glibc's defaults) freed memory. Returns whether the
    policy could be applied (False off glibc)."""
    libc = _glibc()
    if not libc:
        return False
    mmap_threshold, trim_threshold = (_MMAP_THRESHOLD_MAX, _KEEP_TRIM) if enable else _GLIBC_DEFAULTS
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) and bool(
        libc.mallopt(_M_TRIM_THRESHOLD, trim_threshold)
    )


def apply_default_policy():
    if os.environ.get("RETROGRAD_KEEP_FREED_MEMORY", "1") != "0":
        keep_freed_memory(True)

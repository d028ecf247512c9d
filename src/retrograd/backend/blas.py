"""Matrix products through Intel MKL's CBLAS ``?gemm``, when the optional ``mkl`` wheel is installed.

``matmul(a, b, out=None)`` computes ``a @ b``. For NumPy float32 or float64 matrices (2-D, or
stacks whose batch dims are all 1) of at least ``MKL_MIN_WORK`` multiply-adds it calls
``cblas_sgemm`` / ``cblas_dgemm``::

    C = op(A) op(B),   op(X) = X or X^T

in row-major order: a matrix whose rows are contiguous (C order, a row slice, a column slice of
a wider matrix) is read as stored, one whose columns are contiguous (a transpose, F order) is
read with the transpose flag, so ``w.T`` or ``g.T`` costs no copy. An output whose columns are
contiguous is written as ``C^T = op(B)^T op(A)^T``. Anything else (other dtypes, CuPy arrays,
batched stacks, small products, strides BLAS cannot express, an output overlapping an input,
empty dims, sizes past 32-bit BLAS integers) goes to NumPy's matmul, which gives the same value
up to rounding. Stacks stay on NumPy because MKL's ``cblas_?gemm_batch_strided`` ran slower than
NumPy's stacked matmul on the benchmark workloads' stacks (attention's 64 products 64x64 @ 64x32,
a convolution's per-sample products).

Why: on Intel's AVX-512 CPUs NumPy's bundled OpenBLAS runs float32 products 1.2-1.7x slower than
MKL (bench/README.md, "Kernels"); on other vendors' CPUs MKL is the slower one, and is not
loaded. ``pip install retrograd[mkl]`` installs the wheel; nothing else changes. The library
(``libmkl_rt``) is found where the wheel installs it (the environment's ``lib`` directory) and
loaded with ctypes at the first product.

``matmul_add(a, b, out)`` computes ``out += a @ b`` as one GEMM with beta = 1, which NumPy's
matmul cannot: no temporary for the product, and ``out`` may be any window BLAS can address. It
runs on MKL when loaded, else on NumPy's own bundled OpenBLAS (its CBLAS gemm, found through
threadpoolctl and called with ctypes), else adds NumPy's product. The stride-1 convolution's
input gradient is built from it (ops/conv.py).

Switches and settings:
- ``RETROGRAD_BLAS=numpy`` in the environment keeps every product on NumPy. On a CPU of another
  vendor than Intel MKL stays unloaded too (its kernels there are slower than OpenBLAS's, see
  ``_choose``) unless ``RETROGRAD_BLAS=mkl`` asks for it.
  ``retrograd.backends.mkl.is_available()`` says whether the MKL path is active.
- threads: at load, MKL's pool takes the size of NumPy's BLAS pool (one thread by default, see
  retrograd._runtime) unless ``MKL_NUM_THREADS`` or ``OMP_NUM_THREADS`` sizes it; from then on
  ``set_num_threads`` (threadpoolctl, which finds the loaded ``libmkl_rt``) sizes both.
- reproducibility: a replayed step (compile) must give eager mode's bits, though its buffers sit
  at other addresses. MKL promises run-to-run bitwise results only in its Conditional Numerical
  Reproducibility mode (and at a fixed thread count), which is switched on at load
  (``MKL_CBWR_Set(MKL_CBWR_AUTO)``: the CPU's own code branch) unless ``MKL_CBWR`` in the
  environment chose a mode. The tests check that differently aligned copies give the same bits.
"""

import ctypes
import glob
import os
import site
import sys
import sysconfig

import numpy as np
from threadpoolctl import threadpool_info

from . import array_module

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112
FLIP = {NO_TRANS: TRANS, TRANS: NO_TRANS}
_MKL_CBWR_AUTO = 2
# A call through ctypes costs about 7 us more than NumPy's matmul (the call itself, MKL's entry,
# three pointer reads); below about 2M multiply-adds OpenBLAS finished first on the benchmark
# workloads' shapes (64x128 @ 128x10: 3 us against 10 us), from 2M up MKL did (32x128 @ 128x512,
# an LSTM step: 1.13x; 128x784 @ 784x512: 1.24x).
MKL_MIN_WORK = 1 << 21


def _layout(a):
    """``(flag, ld)`` under which row-major BLAS reads the 2-D array ``a`` (rows, cols): NO_TRANS
    when its rows are contiguous (ld = the row stride in elements), TRANS when its columns are
    (ld = the column stride); None when neither (or a stride is not a whole, large enough number
    of elements)."""
    r, c = a.shape
    s0, s1 = a.strides
    it = a.itemsize
    if c == 1 or s1 == it:
        if r == 1:
            return NO_TRANS, c
        if s0 >= c * it and s0 % it == 0:
            return NO_TRANS, s0 // it
    if r == 1 or s0 == it:
        if c == 1:
            return TRANS, r
        if s1 >= r * it and s1 % it == 0:
            return TRANS, s1 // it
    return None


class Cblas:
    """The ``sgemm`` and ``dgemm`` of a CBLAS library loaded with ctypes.

    ``lib`` is the ctypes library, ``symbols`` the names of its float32 and float64 gemm
    (``cblas_sgemm``, ``cblas_dgemm`` for MKL; other builds prefix or suffix them), ``int_type``
    the ctypes type of its BLAS integers (``c_int`` for LP64, ``c_int64`` for ILP64). Products
    with fewer than ``min_work`` multiply-adds (m n k) are left to NumPy."""

    __slots__ = ("name", "min_work", "lib", "_gemm", "_int_max")

    def __init__(self, lib, symbols, int_type=ctypes.c_int, name="cblas", min_work=0):
        self.name = name
        self.min_work = min_work
        self.lib = lib
        self._int_max = 2 ** (8 * ctypes.sizeof(int_type) - 1) - 1
        self._gemm = {}
        for dtype, symbol, real in zip((np.float32, np.float64), symbols, (ctypes.c_float, ctypes.c_double)):
            f = getattr(lib, symbol)
            f.restype = None
            ints = [int_type] * 3
            ptr = ctypes.c_void_p
            f.argtypes = [ctypes.c_int] * 3 + ints + [real, ptr, int_type, ptr, int_type, real, ptr, int_type]
            self._gemm[np.dtype(dtype)] = f

    def matmul(self, a, b, out=None, accumulate=False):
        """``a @ b`` for 2-D NumPy arrays of a dtype this library has, into ``out`` when given
        (``out += a @ b`` with ``accumulate``: BLAS's beta = 1, whatever the size); None when the
        operands are outside what this path takes (the caller then uses NumPy)."""
        f = self._gemm.get(a.dtype)
        if f is None or b.dtype != a.dtype:
            return None
        m, k = a.shape
        k2, n = b.shape
        if k != k2 or m == 0 or n == 0 or k == 0 or (m * n * k < self.min_work and not accumulate):
            return None
        la, lb = _layout(a), _layout(b)
        if la is None or lb is None or max(la[1], lb[1], m, n, k) > self._int_max:
            return None
        if out is None:
            out = np.empty((m, n), a.dtype)
            lc = (NO_TRANS, n)
        else:
            if type(out) is not np.ndarray or out.shape != (m, n) or out.dtype != a.dtype:
                return None
            lc = _layout(out)
            if lc is None or lc[1] > self._int_max or not out.flags.writeable:
                return None
            if np.may_share_memory(out, a) or np.may_share_memory(out, b):
                return None
        pa, pb, pc = a.ctypes.data, b.ctypes.data, out.ctypes.data
        it = a.itemsize
        if pa % it or pb % it or pc % it:  # BLAS needs element-aligned pointers
            return None
        beta = 1.0 if accumulate else 0.0
        if lc[0] == NO_TRANS:
            f(ROW_MAJOR, la[0], lb[0], m, n, k, 1.0, pa, la[1], pb, lb[1], beta, pc, lc[1])
        else:  # out^T = b^T a^T, with out^T's rows contiguous
            f(ROW_MAJOR, FLIP[lb[0]], FLIP[la[0]], n, m, k, 1.0, pb, lb[1], pa, la[1], beta, pc, lc[1])
        return out


_UNSET = object()
_active = [_UNSET]  # the Cblas in use, None when products stay on NumPy
_adding = [_UNSET]  # the Cblas matmul_add uses, None when it adds NumPy's product


def load_numpy_blas():
    """NumPy's own bundled OpenBLAS as a Cblas, or None. NumPy's matmul has no beta (it cannot
    add into its output), so ``matmul_add`` calls the library's gemm itself. Its CBLAS symbols
    carry the build's prefix and suffix: ``scipy_cblas_sgemm64_`` with 64-bit integers in the
    scipy-openblas builds NumPy's wheels ship."""
    for info in threadpool_info():
        if info.get("internal_api") != "openblas":
            continue
        try:
            lib = ctypes.CDLL(info["filepath"])
        except OSError:
            continue
        for prefix, suffix, int_type in (
            ("scipy_", "64_", ctypes.c_int64),
            ("", "64_", ctypes.c_int64),
            ("scipy_", "", ctypes.c_int),
            ("", "", ctypes.c_int),
        ):
            names = tuple(f"{prefix}cblas_{t}gemm{suffix}" for t in "sd")
            if all(hasattr(lib, n) for n in names):
                return Cblas(lib, names, int_type, "openblas")
    return None


def _find_mkl():
    """The path of ``libmkl_rt`` that the ``mkl`` wheel installs into the environment's data
    directory (``<prefix>/lib``; ``Library/bin`` on Windows), or into the user base; None when
    absent."""
    roots = dict.fromkeys((sysconfig.get_paths()["data"], sys.prefix, site.getuserbase()))
    for root in roots:
        for pattern in ("lib/libmkl_rt.so.*", "lib/libmkl_rt.*.dylib", "Library/bin/mkl_rt.*.dll"):
            found = sorted(glob.glob(os.path.join(root, pattern)))
            if found:
                return found[-1]
    return None


def load_mkl():
    """Load MKL, size its thread pool and switch on reproducibility (see the module docstring);
    None when the wheel is missing or its library does not load."""
    path = _find_mkl()
    if path is None:
        return None
    # the size of NumPy's BLAS pool (retrograd.get_num_threads), read before MKL joins the
    # pools threadpoolctl sees
    threads = max((p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"), default=1)
    try:
        lib = ctypes.CDLL(path)
        blas = Cblas(lib, ("cblas_sgemm", "cblas_dgemm"), ctypes.c_int, "mkl", MKL_MIN_WORK)
    except (OSError, AttributeError):
        return None
    if not os.environ.get("MKL_CBWR"):
        # mkl_rt's C entry points are the mixed-case names (the lower-case ones are Fortran's,
        # which take pointers)
        lib.MKL_CBWR_Set.argtypes = [ctypes.c_int]
        lib.MKL_CBWR_Set(_MKL_CBWR_AUTO)
    if not (os.environ.get("MKL_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")):
        lib.MKL_Set_Num_Threads.argtypes = [ctypes.c_int]
        lib.MKL_Set_Num_Threads(threads)
    return blas


def cpu_vendor():
    """The CPU's vendor string as Linux reports it (``GenuineIntel``, ``AuthenticAMD``, ...), or
    None where /proc/cpuinfo does not say (other systems, other architectures)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("vendor_id"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _choose():
    """The Cblas ``RETROGRAD_BLAS`` and the CPU call for: ``numpy`` keeps NumPy; ``mkl`` loads MKL
    whatever the CPU; unset, MKL is loaded unless the CPU is another vendor's than Intel. MKL's
    kernels for other x86 CPUs are its slow generic ones: on an AMD EPYC with AVX-512 its sgemm
    took 1.9-2.2x NumPy's OpenBLAS at one thread, and the gpt, lstm and mnist_cnn workloads 1.5-1.6x
    their NumPy time (bench/README.md, "Kernels")."""
    mode = os.environ.get("RETROGRAD_BLAS", "").lower()
    if mode == "numpy":
        return None
    if mode != "mkl" and cpu_vendor() not in (None, "GenuineIntel"):
        return None
    return load_mkl()


def active():
    """The Cblas products go through (loaded at the first call), or None for NumPy."""
    lib = _active[0]
    if lib is _UNSET:
        lib = _choose()
        _active[0] = lib
    return lib


def use(lib):
    """Route the products through ``lib`` (a Cblas, or None for NumPy); returns the previous one.
    For tests and for switching at run time."""
    prev = active()
    _active[0] = lib
    return prev


def adding():
    """The Cblas ``matmul_add`` runs on: the active one (MKL), else NumPy's own OpenBLAS; None
    when neither is there (then it adds NumPy's product, through a temporary)."""
    lib = _adding[0]
    if lib is _UNSET:
        lib = active() or load_numpy_blas()
        _adding[0] = lib
    return lib


def use_adding(lib):
    """Make ``matmul_add`` run on ``lib`` (a Cblas, or None for NumPy); returns the previous one."""
    prev = adding()
    _adding[0] = lib
    return prev


def matmul_add(a, b, out):
    """``out += a @ b`` for 2-D arrays, as one GEMM with beta = 1 where a CBLAS library takes
    the operands (``adding()``): no temporary, and ``out`` may be any view BLAS can address
    (rows of a wider matrix, a window shifted along a flat buffer). Returns ``out``."""
    lib = _adding[0]
    if lib is _UNSET:
        lib = adding()
    # NumPy's own OpenBLAS through ctypes computes the same product as NumPy's matmul, so it pays
    # only where the add pass it saves outweighs the call (about 5 us more): from 32K outputs
    # (an LSTM step's 32 x 512 gates: 3.5 us slower through ctypes; a convolution tap's 32 x 2704
    # block: faster). MKL's GEMM is faster than OpenBLAS's at every size that reaches here.
    if lib is not None and type(a) is np.ndarray and (lib is _active[0] or out.size >= _ADD_MIN_OUT):
        if lib.matmul(a, b, out, accumulate=True) is not None:
            return out
    out += a @ b
    return out


_ADD_MIN_OUT = 1 << 15


def matmul(a, b, out=None):
    """``a @ b`` (``np.matmul(a, b, out=out)``), through BLAS where the module docstring says."""
    lib = _active[0]
    if lib is _UNSET:
        lib = active()
    if lib is not None and type(a) is np.ndarray and type(b) is np.ndarray:
        a2, b2, out2 = a, b, out
        if a.ndim != 2 or b.ndim != 2:
            a2, b2, out2 = _squeeze_batch(a, b, out)
        if a2 is not None:
            r = lib.matmul(a2, b2, out2)
            if r is not None:
                if out is not None:
                    return out
                return r if r.ndim == max(a.ndim, b.ndim) else r.reshape(_batch_shape(a, b) + r.shape)
    if out is None:
        return a @ b
    return array_module(a).matmul(a, b, out=out)


def _batch_shape(a, b):
    return (1,) * (max(a.ndim, b.ndim) - 2)


def _squeeze_batch(a, b, out):
    """The 2-D matrices of ``a @ b`` when both are at least 2-D and every batch dim is 1."""
    if a.ndim < 2 or b.ndim < 2 or a.size == 0 or b.size == 0:
        return None, None, None
    if any(d != 1 for d in a.shape[:-2]) or any(d != 1 for d in b.shape[:-2]):
        return None, None, None
    a2 = a.reshape(a.shape[-2:]) if a.ndim > 2 else a
    b2 = b.reshape(b.shape[-2:]) if b.ndim > 2 else b
    out2 = None
    if out is not None:
        if type(out) is not np.ndarray or out.shape != _batch_shape(a, b) + (a.shape[-2], b.shape[-1]):
            return None, None, None
        out2 = out.reshape(out.shape[-2:])
    return a2, b2, out2

"""Process-level settings that PyTorch scripts set and query: thread counts, determinism, the
float32 matmul precision, and small helpers (typename, can_cast).

retrograd computes with NumPy (or CuPy), so most of these have nothing to switch:
- threads: NumPy's BLAS owns the intra-op thread pool (with MKL's, once the optional MKL path of
  backend/blas.py has loaded it); ``set_num_threads`` resizes them through threadpoolctl. At
  import retrograd sizes it to one thread (see ``limit_blas_threads_at_import``) unless the user
  chose a size through the environment. Inter-op threads: recorded only (ops run one at a time).
- determinism: retrograd's CPU ops are deterministic (scatter-adds use NumPy's ordered
  ``add.at``), so the flag is recorded and reported; nothing else changes.
- the float32 matmul precision is recorded: NumPy always computes float32 products in float32.
"""

import os
import warnings

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from . import _dtype

_state = {
    "num_interop_threads": None,
    "deterministic": False,
    "deterministic_warn_only": False,
    "matmul_precision": "highest",
}
_limiter = []  # the threadpoolctl limit in force, kept alive

# Environment variables through which a user sizes the BLAS/OpenMP pools before start-up.
THREAD_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


def _cpu_count():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def limit_blas_threads_at_import():
    """Start NumPy's BLAS pool at one thread, unless the environment already sizes it.

    Why one: retrograd's ops are small next to their Python overhead, and a multi-threaded BLAS
    call waits for its slowest thread. On a machine where another process holds a core, that
    thread waits for a scheduler slice at every call: one MNIST epoch of the demo took 75-131 s
    with NumPy's default two threads on a loaded 2-core machine, 5.5-15 s with one (4.5 s and
    5.0 s on the idle machine). Large matrix products gain from more threads: call
    ``set_num_threads(n)`` for them, as in PyTorch.
    """
    if any(os.environ.get(v) for v in THREAD_ENV_VARS):
        return
    _limiter[:] = [threadpool_limits(limits=1, user_api="blas")]


def get_num_threads():
    """The number of threads used for intra-op parallelism (NumPy's BLAS pool)."""
    counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    return max(counts) if counts else 1


def set_num_threads(n):
    """Set the number of intra-op threads: the size of NumPy's BLAS pool."""
    if isinstance(n, bool) or not isinstance(n, int) and not hasattr(n, "__index__"):
        raise TypeError(f"set_num_threads(): argument 'int' must be int, not {type(n).__name__}")
    n = int(n)
    if n <= 0:
        raise RuntimeError(f"set_num_threads expects a positive integer (got {n})")
    _limiter[:] = [threadpool_limits(limits=n, user_api="blas")]


def get_num_interop_threads():
    n = _state["num_interop_threads"]
    return _cpu_count() if n is None else n


def set_num_interop_threads(n):
    """Recorded only: retrograd runs one op at a time."""
    n = int(n)
    if n <= 0:
        raise RuntimeError(f"set_num_interop_threads expects a positive integer (got {n})")
    _state["num_interop_threads"] = n


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Recorded and reported: retrograd's CPU ops are deterministic already."""
    _state["deterministic"] = bool(mode)
    _state["deterministic_warn_only"] = bool(warn_only) and bool(mode)


def are_deterministic_algorithms_enabled():
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    return _state["deterministic_warn_only"]


_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def set_deterministic_debug_mode(debug_mode):
    """0/'default': off, 1/'warn': deterministic with warnings, 2/'error': deterministic."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(
                f"invalid value of debug_mode, expected one of `default`, `warn`, `error`, but got {debug_mode}"
            )
        debug_mode = _DEBUG_MODES[debug_mode]
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode():
    if not _state["deterministic"]:
        return 0
    return 1 if _state["deterministic_warn_only"] else 2


def set_float32_matmul_precision(precision):
    """Accepted and recorded ('highest', 'high' or 'medium'); float32 products stay float32."""
    if precision not in ("highest", "high", "medium"):
        warnings.warn(
            f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
            f"set_float32_matmul_precision call has no effect.",
            UserWarning,
            stacklevel=2,
        )
        return
    _state["matmul_precision"] = precision


def get_float32_matmul_precision():
    return _state["matmul_precision"]


def typename(obj):
    """The type name PyTorch reports: ``tensor.type()`` for tensors, else module.qualname."""
    from ._tensor import Tensor

    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or type(obj).__qualname__
    if not isinstance(obj, type) and not callable(obj):
        module, qualname = type(obj).__module__, type(obj).__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "V": 2, "c": 3}


def can_cast(from_, to):
    """Whether PyTorch's type promotion allows casting ``from_`` to ``to``: never to a lower
    kind (float to integer, integer to bool); any size within a kind."""
    a, b = np.dtype(_dtype.to_np(from_)).kind, np.dtype(_dtype.to_np(to)).kind
    return _KIND_RANK[a] <= _KIND_RANK[b]


_MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
_BACKENDS = ("inductor", "eager", "aot_eager")


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None, disable=False):
    """``torch.compile``: capture ``model`` (a function or an ``nn.Module``) at its first call and
    replay its array kernels at later calls (docs/DESIGN.md, "Compiled replay").

    Returns a callable that behaves as ``model`` (an ``OptimizedModule`` for a module); without
    ``model``, a decorator. ``fullgraph=True`` raises ``Unsupported`` at a graph break (``.item()``,
    ``if t:``, ``print(t)``, ...) instead of splitting the capture there or running the function
    eagerly (``_compile/function.py``). ``disable=True`` returns ``model``
    itself. Every ``mode`` runs the same replay (there is no autotuning or CUDA graph to choose),
    and ``backend`` may be "inductor", "eager" or "aot_eager", which all replay the recorded
    kernels. ``dynamic=None`` (the default) or ``True``: a second call whose tensor arguments
    differ only in their batch size (dimension 0, and the dimensions
    ``torch._dynamo.mark_dynamic`` marked) records once more, and the two recordings become one
    capture for every batch size >= 2 where the kernels allow it (``_compile/dynamic.py``);
    elsewhere that size specialises. ``dynamic=False`` never generalises: a new shape captures
    again. ``options`` sets
    retrograd's passes over the replayed schedule (``_compile/fusion.py``): ``"fusion"``
    (elementwise fusion, default True), ``"fusion_engine"`` ("numpy", default, or "numexpr"),
    ``"buffer_reuse"`` (default True), ``"print_schedule"`` (print each optimized schedule when
    the passes run, at its first replay, default False); another key (an inductor option) is a NotImplementedError.
    """
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    if mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(m for m in _MODES if m)}")
    if callable(backend) and not isinstance(backend, str):
        raise NotImplementedError(
            "compile(backend=<callable>): retrograd has no FX graph to hand a custom backend; use "
            "backend='inductor' (the default), 'eager' or 'aot_eager'"
        )
    if backend not in _BACKENDS:
        raise RuntimeError(f"compile: invalid backend {backend!r}; retrograd supports {', '.join(_BACKENDS)}")
    from ._compile.fusion import check_options

    opts = check_options(options)
    if dynamic not in (None, True, False):
        raise RuntimeError(f"compile: dynamic must be None, True or False, got {dynamic!r}")
    if model is None:
        return lambda fn: compile(
            fn, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode, options=options, disable=disable
        )
    if disable:
        return model
    if not callable(model):
        raise RuntimeError(f"compile: expected a callable or an nn.Module, got {type(model).__name__}")
    from ._compile.function import CompiledFunction
    from ._compile.module import OptimizedModule
    from .nn.modules.module import Module

    compiled = CompiledFunction(model.__call__ if isinstance(model, Module) else model, fullgraph, dynamic)
    compiled.options = opts
    if isinstance(model, Module):
        return OptimizedModule(model, compiled)
    return compiled


_warn_always = [False]


def set_warn_always(b):
    """Recorded: retrograd's warnings follow Python's warning filters."""
    _warn_always[0] = bool(b)


def is_warn_always_enabled():
    return _warn_always[0]


def set_flush_denormal(mode):
    """Not supported (NumPy keeps denormals): returns False, as PyTorch does on such CPUs."""
    return False


_TENSOR_TYPES = {"FloatTensor": "float32", "DoubleTensor": "float64", "HalfTensor": "float16"}


def set_default_tensor_type(t):
    """Deprecated in PyTorch: sets the default float dtype (and, for a cuda type, the default
    device) from a name such as 'torch.DoubleTensor'."""
    from ._device import set_default_device

    warnings.warn(
        "torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
        "torch.set_default_dtype() and torch.set_default_device() as alternatives.",
        UserWarning,
        stacklevel=2,
    )
    name = t if isinstance(t, str) else getattr(t, "__name__", str(t))
    kind = name.rsplit(".", 1)[-1]
    if kind not in _TENSOR_TYPES:
        raise TypeError(f"only floating-point types are supported as the default type (got {name})")
    _dtype.set_default_dtype(getattr(_dtype, _TENSOR_TYPES[kind]))
    set_default_device("cuda" if ".cuda." in name else None)

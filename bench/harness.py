"""Measurement primitives: thread pinning, library loading, interleaved timing, peak memory.

Everything here runs inside one worker process (see worker.py); the thread environment
variables must already be set by the parent before NumPy or torch is imported.
"""

import gc
import importlib
import os
import resource
import statistics
import sys
import time
import traceback

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def thread_env(n):
    """Environment for a worker pinned to `n` threads, to be set before any import."""
    env = dict(os.environ)
    env.update({name: str(n) for name in THREAD_ENV})
    env.update({"OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_THREAD_TIMEOUT": "1"})
    # Some machines force an older OpenBLAS kernel (OPENBLAS_CORETYPE, with OPENBLAS_L2_SIZE)
    # to dodge bugs of old OpenBLAS builds; it slows a current NumPy's BLAS by about 1.5x and
    # would make the comparison with torch's own BLAS unfair. Unset both, for the workers only.
    if env.pop("OPENBLAS_CORETYPE", None) is not None:
        env.pop("OPENBLAS_L2_SIZE", None)
    return env


def load(name):
    """Import library `name`; retrograd comes from this checkout's src/ first."""
    if name == "retrograd" and os.path.join(REPO, "src") not in sys.path:
        sys.path.insert(0, os.path.join(REPO, "src"))
    return importlib.import_module(name)


def pin_threads(n, libs):
    """Pin every library's thread pools to `n`; returns a note on how NumPy's BLAS was pinned.

    torch's intra-op pool via torch.set_num_threads, NumPy's BLAS and OpenMP pools via
    threadpoolctl when installed (else only the environment variables set at start-up apply).
    """
    for lib in libs:
        setter = getattr(lib, "set_num_threads", None)
        if setter is not None:
            try:
                setter(n)
            except Exception:  # a library that does not support it yet keeps its default
                pass
        # retrograd loads MKL (the optional mkl wheel) at its first product; asking loads it now,
        # so that the pinning below and the note include it
        mkl = getattr(getattr(lib, "backends", None), "mkl", None)
        if mkl is not None and hasattr(mkl, "is_available"):
            mkl.is_available()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return "env"
    pin_threads.limits = threadpool_limits(n)  # kept alive: the limit lasts while it exists
    from threadpoolctl import threadpool_info

    kernels = sorted(
        {f"{i.get('internal_api')} {i.get('architecture')}" for i in threadpool_info() if i.get("user_api") == "blas"}
    )
    return "threadpoolctl" + (f" ({', '.join(kernels)})" if kernels else "")


def describe_error(exc):
    """'ExceptionType: first line of message', short enough for a table cell."""
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def try_build(build, *args, warmup=2):
    """Build a step and run its warm-up; returns (step, None) or (None, reason)."""
    try:
        step = build(*args)
        for _ in range(warmup):
            step()
        return step, None
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        return None, describe_error(exc)


def try_build_compiled(build, name, lib, data, warmup=2):
    """The step of `build` under `lib.compile`, captured after `warmup` eager steps (the
    optimizer's state exists by then); returns (step, None, info) or (None, reason, {}). `info`:
    one eager step's time, the capture's (the first compiled call) and whether it replays."""
    try:
        step = build(name, lib, data)
        for _ in range(warmup):
            step()
        eager_s = sorted(timed(step) for _ in range(3))[1]  # the median of 3 eager steps
        compiled = lib.compile(step)
        capture_s = timed(compiled)
        for _ in range(warmup):
            compiled()
        replays = sum(getattr(c, "eager", 0) is None for c in getattr(compiled, "cache", ()))
        reasons = list(getattr(compiled, "reasons", ()))
        info = {"eager_step_s": eager_s, "capture_s": capture_s, "replays": replays, "eager_reasons": reasons}
        return compiled, None, info
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        return None, describe_error(exc), {}


def timed(step):
    t0 = time.perf_counter()
    step()
    return time.perf_counter() - t0


def time_interleaved(cand, ref, reps, budget_s, min_reps=3):
    """Time `cand` and `ref` alternately (cand, ref, cand, ref, ...).

    Either may be None (unavailable). Stops after `reps` pairs, or earlier once `budget_s`
    seconds have passed and at least `min_reps` pairs ran. Returns the median step time of
    each and the median of the per-pair ratios cand/ref; alternating keeps slow drifts of the
    machine (other load, frequency) out of the ratio.
    """
    gc.collect()
    tc, tr = [], []
    start = time.perf_counter()
    for i in range(reps):
        if cand is not None:
            tc.append(timed(cand))
        if ref is not None:
            tr.append(timed(ref))
        if i + 1 >= min_reps and time.perf_counter() - start > budget_s:
            break
    out = {
        "cand_s": statistics.median(tc) if tc else None,
        "ref_s": statistics.median(tr) if tr else None,
        "pairs": max(len(tc), len(tr)),
    }
    out["ratio"] = statistics.median(a / b for a, b in zip(tc, tr)) if tc and tr else None
    return out


# --- peak memory --------------------------------------------------------------------------------


def _status_kb(field):
    """A field of /proc/self/status in KiB (Linux), or None elsewhere."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss():
    """Reset the kernel's peak-RSS mark to the current RSS (Linux >= 4.0); False if it can't."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def current_rss_bytes():
    kb = _status_kb("VmRSS")
    return kb * 1024 if kb is not None else peak_rss_bytes()


def peak_rss_bytes():
    """Peak RSS since start (or since reset_peak_rss): VmHWM, else ru_maxrss."""
    kb = _status_kb("VmHWM")
    if kb is not None:
        return kb * 1024
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024  # macOS reports bytes, Linux KiB

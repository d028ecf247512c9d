"""Where a workload's step time goes: NumPy/BLAS work versus Python-level overhead.

Two views, because one profiler cannot see everything:

- cProfile (always): exact per-function times. It records C functions of NumPy that are
  *called* (np.zeros, ndarray.sum, ufunc.reduce, np.dot, ...), but not ufuncs or array
  operators (`a * b`, `a @ b`, np.exp(a)): their time lands in the calling Python function.
  So its NumPy share is a lower bound and "retrograd Python" includes inline array work.
- py-spy (when installed): native stack sampling, which sees every NumPy/BLAS frame. A sample
  counts as native when a frame of NumPy's or its BLAS's shared libraries (or torch's, when
  torch itself is profiled) sits below the innermost Python frame; every other sample is
  Python-level overhead (interpreter, object allocation, graph bookkeeping). This is the share
  to read, when present.
"""

import cProfile
import os
import pstats
import re

MARKER = "profiled_region"  # the function whose samples py-spy's view counts

NATIVE_LIBS = re.compile(r"numpy|openblas|libgomp|libmkl|libblas|liblapack|libtorch|libc10", re.I)
PY_FRAME = re.compile(r"\((?:.*\.py|<frozen [^>]*>):\d+\)$")


def profiled_region(steps):
    """Run each step; its frame marks the samples that belong to the workload."""
    for step in steps:
        step()


def cprofile_breakdown(steps, top=8):
    """Run `steps` under cProfile; returns shares of total time by bucket and the top functions."""
    prof = cProfile.Profile()
    prof.enable()
    profiled_region(steps)
    prof.disable()
    stats = pstats.Stats(prof).stats
    buckets = {"numpy_c": 0.0, "numpy_py": 0.0, "retrograd_py": 0.0, "workload_py": 0.0, "other": 0.0}
    rows = []
    for (path, line, func), (_, ncalls, tottime, _, _) in stats.items():
        buckets[_bucket(path, func)] += tottime
        rows.append((tottime, ncalls, _label(path, line, func)))
    total = sum(buckets.values()) or 1.0
    rows.sort(reverse=True)
    return {
        "total_s": total,
        "shares": {k: v / total for k, v in buckets.items()},
        "top": [{"func": label, "calls": n, "share": t / total} for t, n, label in rows[:top]],
    }


def _bucket(path, func):
    if path == "~":  # a C function cProfile saw being called
        return "numpy_c" if "numpy" in func else "other"
    norm = path.replace(os.sep, "/")
    if "/numpy/" in norm:
        return "numpy_py"
    if "/retrograd/" in norm:
        return "retrograd_py"
    if "/bench/" in norm:
        return "workload_py"
    return "other"


def _label(path, line, func):
    if path == "~":
        return func
    parts = path.replace(os.sep, "/").split("/")
    return f"{'/'.join(parts[-2:])}:{line}({func})"


def parse_pyspy_raw(text):
    """Shares from py-spy's raw (collapsed-stack) output, counting only samples inside MARKER."""
    counts = {"native": 0, "python": 0}
    for line in text.splitlines():
        stack, _, n = line.rpartition(" ")
        frames = stack.split(";")
        marks = [i for i, f in enumerate(frames) if f.startswith(MARKER + " ")]
        if not marks or not n.isdigit():
            continue
        frames = frames[marks[0] :]
        last_py = max(i for i, f in enumerate(frames) if PY_FRAME.search(f))
        native = frames[last_py + 1 :]
        key = "native" if any(NATIVE_LIBS.search(f.rpartition("(")[2]) for f in native) else "python"
        counts[key] += int(n)
    total = sum(counts.values())
    if not total:
        return None
    return {"samples": total, "native": counts["native"] / total, "python": counts["python"] / total}

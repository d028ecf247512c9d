"""The effect of compile's passes (fusion, buffer reuse, the fusion engine) on the bench steps.

    python bench/compile_passes.py [--workloads op_overhead,mlp,cnn,gpt_manual] [--reps 15]

In one process at one thread, each workload's step runs eagerly under PyTorch (when installed)
and compiled under retrograd with each set of `compile(options=...)` below, interleaved; it
prints median step times, the median per-step ratio to PyTorch eager, how many entries the
replayed schedule has, and the peak memory of one step (tracemalloc: NumPy's allocations, plus
the buffers a compiled step owns between calls) against retrograd's eager step.
"""

import argparse
import gc
import os
import statistics
import sys
import time
import tracemalloc

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import workloads  # noqa: E402

VARIANTS = {
    "no fusion": {"fusion": False},
    "fusion": {},
    "fusion, no reuse": {"buffer_reuse": False},
    "numexpr": {"fusion_engine": "numexpr"},
}


def _data(name):
    return getattr(workloads, name.replace("_manual", "").replace("_sdpa", "") + "_data")(np.random.default_rng(0))


def _compiled(rg, name, data, options):
    step = getattr(workloads, name + "_build")(rg, data)
    for _ in range(2):  # the optimizer's state exists before the capture
        step()
    c = rg.compile(step, options=options)
    for _ in range(3):  # capture, verified replay, code generated
        c()
    return c


def _owned_bytes(c):
    """Bytes of the buffers the fused kernels of ``c``'s captures write into."""
    seen = {}
    for cap in c.cache:
        replays = [cap.replay] + ([cap.backward.replay] if cap.backward is not None else [])
        for r in replays:
            for e in r.schedule.entries:
                bufs = getattr(e.kernel, "__globals__", {}).get("_bufs")
                if bufs is not None:
                    for a in bufs.arrays:
                        seen[id(a)] = a.nbytes
    return sum(seen.values())


def _peak(step):
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    step()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak


def run(name, reps, torch):
    import retrograd as rg

    data = _data(name)
    steps = {}
    if torch is not None:
        steps["torch eager"] = getattr(workloads, name + "_build")(torch, data)
        steps["torch eager"]()
    eager = getattr(workloads, name + "_build")(rg, data)
    for _ in range(2):
        eager()
    steps["retrograd eager"] = eager
    for label, options in VARIANTS.items():
        steps[label] = _compiled(rg, name, data, options)
    times = {k: [] for k in steps}
    gc.collect()
    for _ in range(reps):
        for k, f in steps.items():
            t0 = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t0)
    eager_peak = min(_peak(eager) for _ in range(2))
    print(f"\n{name}: {reps} interleaved steps, 1 thread")
    print(f"  {'variant':18s} {'median ms':>10s} {'/ torch':>8s} {'entries':>8s} {'peak MiB':>9s} {'/ eager':>8s}")
    ref = times.get("torch eager")
    for k, ts in times.items():
        ratio = statistics.median(a / b for a, b in zip(ts, ref)) if ref else float("nan")
        entries = peak = ""
        rel = ""
        if k in VARIANTS:
            c = steps[k]
            entries = str(len(c.cache[0].replay.schedule.entries)) if c.cache[0].eager is None else "eager"
            p = min(_peak(c) for _ in range(2)) + _owned_bytes(c)
            peak, rel = f"{p / 2**20:.2f}", f"{p / max(eager_peak, 1):.2f}"
        elif k == "retrograd eager":
            peak, rel = f"{eager_peak / 2**20:.2f}", "1.00"
        print(f"  {k:18s} {statistics.median(ts) * 1e3:10.3f} {ratio:8.2f} {entries:>8s} {peak:>9s} {rel:>8s}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workloads", default="op_overhead,mlp,cnn,gpt_manual")
    p.add_argument("--reps", type=int, default=15)
    a = p.parse_args(argv)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        torch = None
    try:
        import numexpr

        numexpr.set_num_threads(1)
    except ImportError:
        print("numexpr is not installed: the numexpr variant runs the NumPy engine")
    for name in a.workloads.split(","):
        run(name, a.reps, torch)


if __name__ == "__main__":
    main()

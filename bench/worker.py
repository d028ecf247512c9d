"""One measurement in a fresh process: `python bench/worker.py '<json job>'`.

The parent (run.py) sets the thread environment before this process starts, so NumPy's and
torch's pools come up pinned. The last stdout line is `RESULT <json>`. Jobs, by "mode":

  time     one workload, candidate and torch interleaved, at job["threads"] threads (with
           job["compiled"]: the candidate's step under its compile; job["torch_compiled"]: torch's
           under torch.compile, else eagerly)
  memory   peak RSS of one workload under one library, above the RSS after imports
  import   seconds to import one library (nothing else imported before it)
  profile  cProfile breakdown of one workload under the candidate
  spin     run the candidate's steps inside breakdown.MARKER, for a sampling profiler outside
"""

import json
import math
import os
import sys
import time


def main(job):
    mode = job["mode"]
    if mode == "import":
        return import_time(job["library"])
    import harness
    import workloads

    data = workloads.make_data(job["workload"])
    if mode == "time":
        return time_job(job, data, harness, workloads)
    if mode == "memory":
        return memory_job(job, data, harness, workloads)
    if mode in ("profile", "spin"):
        return profile_job(job, data, harness, workloads)
    raise ValueError(f"unknown mode {mode!r}")


def import_time(name):
    """Only json, sys and time are imported before: the library pays for everything it needs."""
    if name == "retrograd":  # this checkout's package, as harness.load does
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src"))
    t0 = time.perf_counter()
    try:
        __import__(name)
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {"seconds": time.perf_counter() - t0}


def load_libs(job, harness):
    """{role: module or error string} for the candidate and the torch reference."""
    libs = {}
    for role, name in (("cand", job["candidate"]), ("ref", "torch")):
        try:
            libs[role] = harness.load(name)
        except Exception as exc:
            libs[role] = harness.describe_error(exc)
    return libs


def own_copy(data):
    """A library's own copy of a workload's inputs, so that none sees another's writes (plain
    values, like a graph's node count, are immutable and shared)."""
    return {k: v.copy() if hasattr(v, "copy") else v for k, v in data.items()}


def time_job(job, data, harness, workloads):
    libs = load_libs(job, harness)
    mods = [m for m in libs.values() if not isinstance(m, str)]
    out = {"blas_pinning": harness.pin_threads(job["threads"], mods)}
    steps = {}
    for role, lib in libs.items():
        if isinstance(lib, str):
            steps[role], out[role + "_error"] = None, "not installed: " + lib
            continue
        own = own_copy(data)
        if job.get("compiled" if role == "cand" else "torch_compiled"):
            steps[role], out[role + "_error"], out["compiled" if role == "cand" else "ref_compiled"] = (
                harness.try_build_compiled(workloads.build, job["workload"], lib, own, warmup=job["warmup"])
            )
            continue
        steps[role], out[role + "_error"] = harness.try_build(
            workloads.build, job["workload"], lib, own, warmup=job["warmup"]
        )
    out.update(harness.time_interleaved(steps["cand"], steps["ref"], job["reps"], job["budget_s"]))
    return out


def memory_job(job, data, harness, workloads):
    try:
        lib = harness.load(job["library"])
    except Exception as exc:
        return {"error": "not installed: " + harness.describe_error(exc)}
    harness.pin_threads(job["threads"], [lib])
    reset = harness.reset_peak_rss()
    base = harness.current_rss_bytes()
    if job.get("torch_compiled" if job["library"] == "torch" else "compiled"):
        step, err, _ = harness.try_build_compiled(workloads.build, job["workload"], lib, data, warmup=job["steps"])
    else:
        step, err = harness.try_build(workloads.build, job["workload"], lib, data, warmup=job["steps"])
    if err:
        return {"error": err}
    return {"peak_bytes": harness.peak_rss_bytes() - base, "baseline_bytes": base, "peak_reset": reset}


def profile_job(job, data, harness, workloads):
    import breakdown

    try:
        lib = harness.load(job["candidate"])
    except Exception as exc:
        return {"error": "not installed: " + harness.describe_error(exc)}
    harness.pin_threads(1, [lib])
    step, err = harness.try_build(workloads.build, job["workload"], lib, data, warmup=job["warmup"])
    if err:
        return {"error": err}
    n = min(200, max(3, math.ceil(job["seconds"] / harness.timed(step))))
    if job["mode"] == "spin":
        breakdown.profiled_region([step] * n)
        return {"steps": n}
    return dict(breakdown.cprofile_breakdown([step] * n), steps=n)


if __name__ == "__main__":
    result = main(json.loads(sys.argv[1]))
    sys.stdout.flush()
    print("RESULT " + json.dumps(result))

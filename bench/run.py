"""Run the benchmark suite: retrograd against PyTorch on the same workloads.

    python bench/run.py [--workloads mlp,cnn] [--threads 1,2] [--reps 20] [--quick] [--profile]

Every measurement runs in a fresh worker process (worker.py) with its thread pools pinned
before any import, so one failing or crashing workload never stops the suite. Prints tables,
then one machine-readable line `RATIOS {...}`; full results go to bench/results/latest.json.
"""

import argparse
import importlib.metadata
import importlib.util
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import report
from harness import REPO, thread_env
from workloads import WORKLOADS

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "worker.py")
TORCH_HINT = "torch is not installed: `pip install torch==2.13.0` to compare; reporting absolute times only"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--workloads", default=",".join(WORKLOADS), help="comma-separated subset of: " + ", ".join(WORKLOADS)
    )
    p.add_argument("--threads", default=None, help="comma-separated thread counts (default 1,2)")
    p.add_argument("--reps", type=int, default=None, help="timed pairs per workload (default 20)")
    p.add_argument("--warmup", type=int, default=None, help="untimed steps first (default 2)")
    p.add_argument(
        "--budget",
        type=float,
        default=None,
        help="seconds of timing per workload and thread count, at least 3 pairs (default 30)",
    )
    p.add_argument("--quick", action="store_true", help="few reps, 1 thread: a smoke run in about a minute")
    p.add_argument("--profile", action="store_true", help="also break down the candidate's step time")
    p.add_argument(
        "--candidate",
        default="retrograd",
        choices=["retrograd", "torch"],
        help="library measured against torch; `torch` is a self-check whose ratios should be ~1",
    )
    p.add_argument(
        "--compiled",
        action="store_true",
        help="run the candidate's steps under its compile() (captured after the warm-up) against torch eager",
    )
    p.add_argument(
        "--torch-compiled",
        action="store_true",
        help="run torch's steps under torch.compile (inductor, which needs a C++ compiler) instead of eagerly",
    )
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory runs")
    p.add_argument("--no-import", action="store_true", help="skip the import-time runs")
    p.add_argument("--timeout", type=float, default=900, help="seconds before a worker is abandoned")
    p.add_argument(
        "--json", default=os.path.join(HERE, "results", "latest.json"), help="where to write the full results"
    )
    a = p.parse_args(argv)
    a.workloads = [w for w in a.workloads.split(",") if w]
    unknown = [w for w in a.workloads if w not in WORKLOADS]
    if unknown:
        p.error(f"unknown workloads {unknown}; choose from {list(WORKLOADS)}")
    quick = {"threads": "1", "reps": 5, "warmup": 1, "budget": 5.0}
    full = {"threads": "1,2", "reps": 20, "warmup": 2, "budget": 30.0}
    for key, value in (quick if a.quick else full).items():
        if getattr(a, key) is None:
            setattr(a, key, value)
    a.threads = [int(t) for t in a.threads.split(",")]
    return a


def run_worker(job, threads, timeout, wrap=()):
    """Run one worker job; returns its result dict, or {"error": ...} if it crashed or hung."""
    cmd = [*wrap, sys.executable, WORKER, json.dumps(job)]
    # its own process group, so that a timeout also ends what a wrapper (py-spy) started
    with subprocess.Popen(
        cmd,
        env=thread_env(threads),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return {"error": f"timed out after {timeout:.0f} s"}
    for line in reversed(stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    tail = (stderr.strip().splitlines() or ["no output"])[-1]
    return {"error": f"worker failed (exit {proc.returncode}): {tail[:150]}"}


def progress(msg):
    print(msg, file=sys.stderr, flush=True)


def measure_times(args):
    out = {}
    for n in args.threads:
        for w in args.workloads:
            progress(f"time   {w} @ {n} thread(s)")
            job = {
                "mode": "time",
                "workload": w,
                "threads": n,
                "candidate": args.candidate,
                "reps": args.reps,
                "warmup": args.warmup,
                "budget_s": args.budget,
                "compiled": args.compiled,
                "torch_compiled": args.torch_compiled,
            }
            out.setdefault(str(n), {})[w] = run_worker(job, n, args.timeout)
    return out


def measure_memory(args, roles):
    """Peak RSS per workload and role ("cand", "ref"), each in its own process."""
    out = {}
    for w in args.workloads:
        for role, lib in roles.items():
            progress(f"memory {w} under {lib}")
            job = {
                "mode": "memory",
                "workload": w,
                "library": lib,
                "threads": 1,
                "steps": args.warmup + 1,
                "compiled": args.compiled,
                "torch_compiled": args.torch_compiled,
            }
            out.setdefault(w, {})[role] = run_worker(job, 1, args.timeout)
    return out


def measure_imports(args, roles, repeats=3):
    """Median import time per role over fresh processes."""
    out = {}
    for role, lib in roles.items():
        progress(f"import {lib}")
        runs = [
            run_worker({"mode": "import", "library": lib}, 1, args.timeout) for _ in range(1 if args.quick else repeats)
        ]
        secs = [r["seconds"] for r in runs if "seconds" in r]
        out[role] = {"seconds": statistics.median(secs)} if secs else runs[0]
    return out


def find_pyspy():
    beside = os.path.join(os.path.dirname(sys.executable), "py-spy")
    return beside if os.path.exists(beside) else shutil.which("py-spy")


def measure_profiles(args):
    pyspy = find_pyspy()
    if pyspy is None:
        progress("profile: py-spy not installed (`pip install py-spy`): cProfile view only")
    out = {}
    for w in args.workloads:
        progress(f"profile {w}")
        job = {
            "mode": "profile",
            "workload": w,
            "candidate": args.candidate,
            "warmup": args.warmup,
            "seconds": 2.0 if args.quick else 5.0,
        }
        res = run_worker(job, 1, args.timeout)
        if pyspy and "error" not in res:
            res["sampled"] = sample_native(pyspy, dict(job, mode="spin"), args.timeout)
        out[w] = res
    return out


def sample_native(pyspy, job, timeout):
    """py-spy's native-stack view of a spin job: shares of native library code and Python."""
    import breakdown

    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "stacks.txt")
        wrap = (pyspy, "record", "--native", "--rate", "500", "--format", "raw", "-o", raw, "--")
        res = run_worker(job, 1, timeout, wrap=wrap)
        if "error" in res:
            return res
        if not os.path.exists(raw):
            return {"error": "py-spy wrote no samples (is ptrace allowed here?)"}
        with open(raw) as f:
            return breakdown.parse_pyspy_raw(f.read()) or {"error": "no samples in the workload"}


def environment(args, has_torch):
    def version(dist):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return None

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "numpy": version("numpy"),
        "torch": version("torch") if has_torch else None,
        "threadpoolctl": version("threadpoolctl"),
        "candidate": args.candidate,
        "reps": args.reps,
        "warmup": args.warmup,
        "budget_s": args.budget,
        "threads": args.threads,
        "compiled": args.compiled,
        "torch_compiled": args.torch_compiled,
    }


def main(argv=None):
    args = parse_args(argv)
    has_torch = importlib.util.find_spec("torch") is not None
    if not has_torch:
        progress(TORCH_HINT)
    roles = {"cand": args.candidate, **({"ref": "torch"} if has_torch else {})}
    t0 = time.time()
    results = {"env": environment(args, has_torch), "time": measure_times(args)}
    if not args.no_memory:
        results["memory"] = measure_memory(args, roles)
    if not args.no_import:
        results["import"] = measure_imports(args, roles)
    if args.profile:
        results["profile"] = measure_profiles(args)
    results["elapsed_s"] = time.time() - t0
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(results, f, indent=1)
    report.print_report(results, has_torch)
    if not has_torch:
        print(TORCH_HINT)
    print("RATIOS " + json.dumps(report.ratios(results)))


if __name__ == "__main__":
    main()

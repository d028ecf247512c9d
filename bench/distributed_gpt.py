"""Data-parallel throughput of the `gpt` workload on 1 and 2 MPI ranks, 1 thread each.

    python bench/distributed_gpt.py [--workload gpt_manual|gpt_sdpa] [--steps 10] [--ranks 1,2]

Runs, each under `mpiexec -n <ranks>` with every rank pinned to one thread:
  plain    one process, the model without DistributedDataParallel (the baseline)
  ddp@N    N ranks, DistributedDataParallel, each rank a full batch of its own (batch 16), so
           the global batch is 16 N (weak scaling)

and reports per configuration the median step time (the slowest rank's, step by step), the
throughput in sequences per second, the scaling efficiency (throughput over N times the
baseline's), and the share of step time spent in MPI calls by the gradient reducer: `comm` is
all of it (launching the bucket reductions, progressing them from the gradient hooks, waiting
at the end of backward), `exposed` only the wait at the end of backward, i.e. what overlap did
not hide. Needs mpi4py (pip install 'retrograd[mpi]'). On a machine with fewer free cores
than ranks the ranks share cores and the efficiency says more about the machine than the code.
The last line is machine-readable: DISTRIBUTED {...}.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)


def worker(args):
    import harness

    torch = harness.load("retrograd")
    harness.pin_threads(1, [torch])
    import workloads
    import retrograd.distributed as dist
    from retrograd.nn.parallel import DistributedDataParallel

    dist.init_process_group()
    rank, world = dist.get_rank(), dist.get_world_size()
    data = workloads.make_data(args.workload, seed=rank)  # every rank its own batch
    workloads._seed(torch)
    model = workloads.gpt_model(torch, sdpa=args.workload == "gpt_sdpa")
    ddp = DistributedDataParallel(model) if args.ddp else model
    opt = torch.optim.AdamW(ddp.parameters(), lr=3e-4)
    idx, targets = torch.from_numpy(data["idx"]), torch.from_numpy(data["targets"])

    def step():
        loss = ddp(idx, targets)
        loss.backward()
        opt.step()
        opt.zero_grad()

    for _ in range(args.warmup):
        step()
    reducer = ddp.reducer if args.ddp else None
    comm0 = (reducer.comm_seconds, reducer.wait_seconds) if reducer else (0.0, 0.0)
    dist.barrier()
    times = []
    start = time.perf_counter()
    for i in range(args.steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
        # every rank must run the same number of steps: rank 0 decides when the budget is spent
        stop = [i >= 2 and time.perf_counter() - start > args.budget]
        dist.broadcast_object_list(stop, src=0)
        if stop[0]:
            break
    comm = (reducer.comm_seconds - comm0[0], reducer.wait_seconds - comm0[1]) if reducer else (0.0, 0.0)
    everyone = [None] * world
    dist.all_gather_object(everyone, {"times": times, "comm": comm[0], "wait": comm[1]})
    if rank == 0:
        per_step = [max(r["times"][i] for r in everyone) for i in range(len(times))]
        total = sum(sum(r["times"]) for r in everyone)
        result = {
            "ranks": world,
            "ddp": args.ddp,
            "steps": len(times),
            "step_s": statistics.median(per_step),
            "batch": int(data["idx"].shape[0]) * world,
            "comm_share": sum(r["comm"] for r in everyone) / total,
            "exposed_share": sum(r["wait"] for r in everyone) / total,
        }
        print("RESULT " + json.dumps(result), flush=True)
    dist.destroy_process_group()


def mpiexec():
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return here if os.access(here, os.X_OK) else shutil.which("mpiexec")


def run_config(args, ranks, ddp):
    import harness

    cmd = [
        mpiexec(),
        "-n",
        str(ranks),
        sys.executable,
        os.path.abspath(__file__),
        "--worker",
        "--workload",
        args.workload,
        "--steps",
        str(args.steps),
        "--warmup",
        str(args.warmup),
        "--budget",
        str(args.budget),
    ] + (["--ddp"] if ddp else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, env=harness.thread_env(1), timeout=args.timeout)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-5:]
    return {"ranks": ranks, "ddp": ddp, "error": " | ".join(tail)}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workload", default="gpt_manual", choices=["gpt_manual", "gpt_sdpa"])
    p.add_argument("--ranks", default="1,2", help="rank counts to run with DDP (default 1,2)")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--budget", type=float, default=30.0, help="seconds of timed steps per run")
    p.add_argument("--timeout", type=float, default=600.0)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--ddp", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args)
    if mpiexec() is None:
        sys.exit("no mpiexec found: pip install 'retrograd[mpi]'")

    results = [run_config(args, 1, ddp=False)]
    for n in (int(x) for x in args.ranks.split(",")):
        results.append(run_config(args, n, ddp=True))
    base = results[0].get("step_s")
    print(f"{args.workload}: batch 16 per rank, AdamW, 1 thread per rank, {os.cpu_count()} cores")
    print(f"{'config':<8} {'step ms':>8} {'seq/s':>8} {'efficiency':>10} {'comm':>6} {'exposed':>8}")
    summary = {}
    for r in results:
        name = f"ddp@{r['ranks']}" if r["ddp"] else "plain"
        if "error" in r:
            print(f"{name:<8} unavailable: {r['error']}")
            summary[name] = None
            continue
        thr = r["batch"] / r["step_s"]
        eff = thr / (r["ranks"] * 16 / base) if base else float("nan")
        print(
            f"{name:<8} {r['step_s'] * 1e3:8.1f} {thr:8.1f} {eff:10.2f} {r['comm_share']:6.1%} "
            f"{r['exposed_share']:8.1%}"
        )
        summary[name] = {
            "step_ms": round(r["step_s"] * 1e3, 2),
            "seq_per_s": round(thr, 2),
            "efficiency": round(eff, 3),
            "comm_share": round(r["comm_share"], 4),
            "exposed_share": round(r["exposed_share"], 4),
        }
    print("DISTRIBUTED " + json.dumps(summary))


if __name__ == "__main__":
    main()

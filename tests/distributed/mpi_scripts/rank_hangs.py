"""Rank 1 stays alive but never joins (first argument: "init", it is late to
init_process_group; "collective", it never calls the collectives rank 0 waits in). Rank 0 must
time out, per the timeouts given, and the job must end."""

import datetime
import os
import sys
import time

import retrograd as torch
import retrograd.distributed as dist

where = sys.argv[1]
rank = int(os.environ.get("PMI_RANK", "0"))
if rank == 1:
    if where == "init":
        time.sleep(30)  # the abort ends this process long before
    else:
        dist.init_process_group(timeout=datetime.timedelta(seconds=1))
        time.sleep(30)
    sys.exit(0)
dist.init_process_group(timeout=datetime.timedelta(seconds=1))
work = dist.all_reduce(torch.ones(3), async_op=True)
try:
    work.wait(timeout=datetime.timedelta(milliseconds=200))
except dist.DistBackendError as e:
    print(f"Work.wait raised: {e}", flush=True)
dist.barrier()  # the group's timeout: 1 s
print("rank 0 got past the barrier", flush=True)

"""Rank 1 leaves the job (the first argument says how) while rank 0 waits for it in a
collective. The default timeout (30 minutes) is left as it is: rank 0 must learn that rank 1
left, not wait for the deadline."""

import os
import sys

import retrograd as torch
import retrograd.distributed as dist

how = sys.argv[1]
dist.init_process_group()
if dist.get_rank() == 1:
    if how == "exit1":
        sys.exit(1)
    if how == "os_exit":
        os._exit(3)
    assert how == "return"  # the script ends here for rank 1, normally
else:
    t = torch.ones(3)
    dist.all_reduce(t)
    print("rank 0 got past the collective", flush=True)

"""Rank 1 takes part in one all_reduce and leaves. Rank 0 finishes that all_reduce (rank 1's
departure must not fail it), then waits in a barrier that rank 1 never joins."""

import time

import retrograd as torch
import retrograd.distributed as dist

dist.init_process_group()
t = torch.ones(3)
if dist.get_rank() == 1:
    dist.all_reduce(t)
else:
    work = dist.all_reduce(t, async_op=True)
    time.sleep(0.5)  # rank 1 has usually left by now
    work.wait()
    assert t.tolist() == [2.0, 2.0, 2.0]
    print("rank 0 completed the all_reduce", flush=True)
    dist.barrier()
    print("rank 0 got past the barrier", flush=True)

"""Rank 1 raises while rank 0 waits in a collective that rank 1 never joins."""

import retrograd as torch
import retrograd.distributed as dist

dist.init_process_group()
if dist.get_rank() == 1:
    raise ValueError("deliberate failure on rank 1")
t = torch.ones(3)
dist.all_reduce(t)  # would wait forever without the abort
print("rank 0 got past the collective", flush=True)

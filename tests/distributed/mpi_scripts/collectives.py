"""Every collective of retrograd.distributed on N ranks, against values computed by hand."""

import numpy as np

import retrograd as torch
import retrograd.distributed as dist
from retrograd.distributed import ReduceOp

dist.init_process_group(backend="mpi")
assert dist.is_initialized()
r, n = dist.get_rank(), dist.get_world_size()
ranks = np.arange(n)


def check(t, expected):
    np.testing.assert_allclose(np.asarray(t), expected, rtol=1e-6, err_msg=f"rank {r}")


def mine(dtype=torch.float64):
    return torch.tensor([1, 2, 3], dtype=dtype) * (r + 1)


# all_reduce, every op, in place
per_rank = np.array([[1, 2, 3]]) * (ranks[:, None] + 1)
for op, ref in [
    (ReduceOp.SUM, per_rank.sum(0)),
    (ReduceOp.AVG, per_rank.mean(0)),
    (ReduceOp.MAX, per_rank.max(0)),
    (ReduceOp.MIN, per_rank.min(0)),
    (ReduceOp.PRODUCT, per_rank.prod(0)),
]:
    t = mine()
    v = t._version
    assert dist.all_reduce(t, op=op) is None
    check(t, ref)
    assert t._version > v
for dtype in (torch.float32, torch.int64, torch.int32):
    t = mine(dtype)
    dist.all_reduce(t)
    assert t.dtype == dtype
    check(t, per_rank.sum(0))
t = torch.tensor([r == 0, False, True])
dist.all_reduce(t)
check(t, [True, False, True])
t = torch.tensor([r == 0, True])
dist.all_reduce(t, op=ReduceOp.MIN)
check(t, [n == 1, True])
t = torch.tensor([1, 2]) * (r + 1)
dist.all_reduce(t, op=ReduceOp.BOR)
check(t, np.bitwise_or.reduce(np.array([[1, 2]]) * (ranks[:, None] + 1)))
try:
    dist.all_reduce(torch.tensor([1, 2]), op=ReduceOp.AVG)
    raise AssertionError("AVG on integers should fail")
except TypeError as e:
    assert "AVG" in str(e)

# a non-contiguous view: the result lands in the base's storage
base = torch.arange(6, dtype=torch.float64).view(2, 3) * (r + 1)
view = base.t()
work = dist.all_reduce(view, op=ReduceOp.SUM, async_op=True)
assert work.wait()
assert work.is_completed()
check(base, np.arange(6).reshape(2, 3) * (ranks + 1).sum())
assert work.result()[0] is view

# several async all_reduce in flight at once
ts = [mine() * k for k in range(3)]
works = [dist.all_reduce(t, op=ReduceOp.AVG, async_op=True) for t in ts]
for w in works:
    w.wait()
for k, t in enumerate(ts):
    check(t, per_rank.mean(0) * k)

# broadcast from every source, blocking and async
for src in range(n):
    t = torch.full((2, 2), float(r))
    dist.broadcast(t, src=src)
    check(t, np.full((2, 2), src))
    t = torch.full((3,), float(r))
    dist.broadcast(t, src, async_op=True).wait()
    check(t, np.full(3, src))

# all_gather and all_gather_into_tensor
out = [torch.zeros(2, 2) for _ in range(n)]
dist.all_gather(out, torch.full((2, 2), float(r)))
for i, t in enumerate(out):
    check(t, np.full((2, 2), i))
out = [torch.zeros(3, dtype=torch.int64) for _ in range(n)]
dist.all_gather(out, torch.arange(3) + 10 * r, async_op=True).wait()
for i, t in enumerate(out):
    check(t, np.arange(3) + 10 * i)
stacked = torch.zeros(n, 2)
dist.all_gather_into_tensor(stacked, torch.tensor([r, -r], dtype=torch.float32))
check(stacked, np.stack([ranks, -ranks], 1))
flat = torch.zeros(2 * n)
dist.all_gather_into_tensor(flat, torch.tensor([r, -r], dtype=torch.float32), async_op=True).wait()
check(flat, np.stack([ranks, -ranks], 1).reshape(-1))
try:
    dist.all_gather([torch.zeros(2)] * (n + 1), torch.zeros(2))
    raise AssertionError("a tensor_list of the wrong length should fail")
except ValueError as e:
    assert "one per rank" in str(e)

# reduce_scatter and reduce_scatter_tensor: rank i gets the sum of every rank's i-th part
inputs = [torch.full((2,), float(10 * r + i)) for i in range(n)]
o = torch.zeros(2)
dist.reduce_scatter(o, inputs)
check(o, np.full(2, (10 * ranks + r).sum()))
o = torch.zeros(2)
dist.reduce_scatter(o, inputs, op=ReduceOp.MAX, async_op=True).wait()
check(o, np.full(2, 10 * (n - 1) + r))
o = torch.zeros(2, dtype=torch.float64)
dist.reduce_scatter_tensor(o, torch.arange(2 * n, dtype=torch.float64) * (r + 1), op=ReduceOp.AVG)
check(o, np.arange(2 * r, 2 * r + 2) * (ranks + 1).mean())

# reduce, gather, scatter towards and from the last rank
last = n - 1
t = mine()
dist.reduce(t, dst=last)
if r == last:
    check(t, per_rank.sum(0))
g = [torch.zeros(1) for _ in range(n)] if r == last else None
dist.gather(torch.full((1,), r + 5.0), g, dst=last)
if r == last:
    check(torch.cat(g), ranks + 5.0)
s = torch.zeros(2)
dist.scatter(s, [torch.full((2,), i + 0.5) for i in range(n)] if r == last else None, src=last)
check(s, np.full(2, r + 0.5))

# Python objects
objs = [None] * n
dist.all_gather_object(objs, {"rank": r})
assert objs == [{"rank": i} for i in range(n)]
lst = [r, "from", r]
dist.broadcast_object_list(lst, src=last)
assert lst == [last, "from", last]
got = [] if r == last else None
dist.gather_object(("rank", r), got, dst=last)
if r == last:
    assert got == [("rank", i) for i in range(n)], got

# a sub-group of the even ranks
evens = dist.new_group(list(range(0, n, 2)))
if r % 2 == 0:
    assert dist.get_world_size(evens) == (n + 1) // 2
    t = torch.ones(1)
    dist.all_reduce(t, group=evens)
    check(t, [(n + 1) // 2])
else:
    assert dist.get_rank(evens) == -1

dist.barrier()
dist.barrier(async_op=True).wait()
dist.destroy_process_group()
assert not dist.is_initialized()
print(f"OK {r}", flush=True)

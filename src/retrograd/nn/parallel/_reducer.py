"""Gradient averaging for DistributedDataParallel, overlapped with the backward pass.

The parameters are split into buckets, in reverse registration order (roughly the order in
which backward produces their gradients), each bucket one flat array of at most
``bucket_cap_mb`` (the first at most 1 MiB, so communication starts early). A post-accumulate
hook on every parameter copies its gradient into its bucket slot once the engine has summed it
into ``.grad``; when a bucket's last slot is filled the bucket is summed across ranks with a
non-blocking ``Iallreduce`` while backward goes on. Buckets are launched strictly in order,
because MPI needs every rank to issue its collectives in the same order. A callback queued on
the engine runs when backward has finished: it waits for every bucket (within the group's
timeout, failing early if a rank left: ``distributed._watch``), divides by the world size and
writes the averages back into each ``.grad``, so ``backward()`` returns with averaged gradients:

    grad_p  <-  (1 / world_size) * sum over ranks r of grad_p(r)

Parameters that got no gradient in an iteration (``find_unused_parameters=True``) fill their
slot with their current ``.grad`` (kept from ``no_sync`` steps) or zeros, so buckets still
complete; a parameter that no rank used keeps its ``.grad`` as it was. Parameters of modules
with ``sparse=True`` (embeddings) have sparse gradients: they are not bucketed but gathered
(indices and values of every rank, concatenated, values divided by the world size), never
densified.

MPI advances non-blocking collectives when the process calls into MPI, so each hook also tests
the newest request in flight: that keeps the reductions moving during backward.
"""

import functools
import time

import numpy as np

from ..._tensor import Tensor
from ...autograd import engine
from ...autograd.graph import AccumulateGrad
from ...backend import to_numpy, array_module

FIRST_BUCKET_BYTES = 1024 * 1024


class Bucket:
    """Parameters reduced together: their indices, each one's (offset, size) in ``buffer``."""

    def __init__(self, indices, params):
        self.indices = indices
        self.offsets = []
        n = 0
        for i in indices:
            self.offsets.append((n, params[i].numel()))
            n += params[i].numel()
        self.buffer = np.zeros(n, dtype=params[indices[0]]._data.dtype)


def assign_buckets(params, order, cap_bytes, first_cap_bytes=FIRST_BUCKET_BYTES):
    """Split ``order`` (parameter indices) into consecutive runs of one dtype each, of at most
    ``cap_bytes`` (``first_cap_bytes`` for the first), a larger parameter alone in its own."""
    buckets, current, size, cap = [], [], 0, min(first_cap_bytes, cap_bytes)
    for i in order:
        p = params[i]
        nbytes = p.numel() * p.element_size()
        if current and (p.dtype != params[current[0]].dtype or size + nbytes > cap):
            buckets.append(current)
            current, size, cap = [], 0, cap_bytes
        current.append(i)
        size += nbytes
    if current:
        buckets.append(current)
    return buckets


class Reducer:
    def __init__(self, names, params, pg, mpi, bucket_cap_bytes, find_unused, sparse):
        self.names = names
        self.params = params
        self.pg = pg
        self.mpi = mpi
        self.find_unused = find_unused
        self.sparse = [i for i in range(len(params)) if sparse[i]]
        dense_reversed = [i for i in reversed(range(len(params))) if not sparse[i]]
        self.buckets = [Bucket(b, params) for b in assign_buckets(params, dense_reversed, bucket_cap_bytes)]
        self.slot = {}  # parameter index -> (bucket number, offset, size)
        for k, b in enumerate(self.buckets):
            for i, (off, n) in zip(b.indices, b.offsets):
                self.slot[i] = (k, off, n)
        self.local_used = np.zeros(len(params), dtype=np.uint8)
        self.comm_seconds = 0.0  # time inside MPI calls (launch, progress, wait, sparse)
        self.wait_seconds = 0.0  # of which: blocked at the end of backward
        self.events = None  # a list to record ("launch" | "wait" | "done", index, time) in
        self.expect_sync = False
        self._reset()
        self.handles = [
            p.register_post_accumulate_grad_hook(functools.partial(self._on_grad, i)) for i, p in enumerate(params)
        ]

    def _reset(self):
        self.ready = np.zeros(len(self.params), dtype=bool)
        self.pending = [len(b.indices) for b in self.buckets]
        self.next_bucket = 0
        self.requests = []
        self.unused = ()
        self.callback_queued = False

    def _log(self, kind, index):
        if self.events is not None:
            self.events.append((kind, index, time.perf_counter()))

    # ------------------------------------------------------------------ forward side
    def prepare_for_backward(self, sync, outputs=None):
        """Called after each forward with grad enabled: whether the next backward averages
        gradients (False inside ``no_sync``); with ``find_unused``, which parameters the
        outputs do not depend on."""
        self._reset()
        self.expect_sync = sync
        if sync and self.find_unused:
            used = _reachable_leaves(outputs)
            self.unused = [i for i, p in enumerate(self.params) if id(p) not in used]

    # ------------------------------------------------------------------ backward side
    def _on_grad(self, i, param):
        self.local_used[i] = 1
        if not self.expect_sync:  # no_sync(), or a backward the last forward did not prepare
            return
        if not self.callback_queued:
            self.callback_queued = True
            engine.queue_callback(self._finish)
            for j in self.unused:
                self._mark_ready(j)
        self._mark_ready(i)

    def _mark_ready(self, i):
        if self.ready[i]:
            raise RuntimeError(
                f"DistributedDataParallel: parameter '{self.names[i]}' got its gradient twice in one "
                f"backward pass (its module may be used by two forward passes whose losses are "
                f"backpropagated together): run one forward per backward"
            )
        self.ready[i] = True
        slot = self.slot.get(i)
        if slot is None:  # sparse: gathered at the end
            return
        k, off, n = slot
        g = self.params[i]._grad
        view = self.buckets[k].buffer[off : off + n]
        if g is None:
            view.fill(0)
        elif g.is_sparse:
            raise RuntimeError(
                f"DistributedDataParallel: parameter '{self.names[i]}' got a sparse gradient, but only "
                f"parameters of modules constructed with sparse=True are reduced as sparse"
            )
        else:
            view[...] = to_numpy(g._data).reshape(-1)
        self.pending[k] -= 1
        if self.pending[k] == 0 and k == self.next_bucket:
            self._launch_ready_buckets()
        elif self.requests:
            t0 = time.perf_counter()
            self.requests[-1].Test()  # lets MPI progress the reductions in flight
            self.comm_seconds += time.perf_counter() - t0

    def _launch_ready_buckets(self):
        while self.next_bucket < len(self.buckets) and self.pending[self.next_bucket] == 0:
            k = self.next_bucket
            self._log("launch", k)
            t0 = time.perf_counter()
            self.requests.append(self.pg.comm.Iallreduce(self.mpi.IN_PLACE, self.buckets[k].buffer, op=self.mpi.SUM))
            self.comm_seconds += time.perf_counter() - t0
            self.next_bucket = k + 1

    def _finish(self):
        """End of backward: complete every bucket, wait, write the averages into ``.grad``."""
        missing = np.flatnonzero(~self.ready)
        if len(missing) and not self.find_unused:
            names = ", ".join(f"'{self.names[i]}'" for i in missing)
            self._reset()
            self.expect_sync = False
            raise RuntimeError(
                f"DistributedDataParallel: on rank {self.pg.rank()}, these parameters got no gradient "
                f"in this backward pass: {names}. Every parameter must take part in computing the "
                f"loss; if some legitimately get no gradient in some iterations, pass "
                f"find_unused_parameters=True to DistributedDataParallel."
            )
        for i in missing:
            self._mark_ready(i)
        self._log("wait", len(self.requests))
        t0 = time.perf_counter()
        self.pg.comm.wait(self.requests, "DistributedDataParallel: averaging gradients")
        globally_used = None
        if self.find_unused:
            globally_used = self.local_used.copy()
            self.pg.comm.Allreduce(self.mpi.IN_PLACE, globally_used, op=self.mpi.MAX)
        waited = time.perf_counter() - t0
        self.wait_seconds += waited
        self.comm_seconds += waited
        world = self.pg.size()
        for b in self.buckets:
            np.divide(b.buffer, world, out=b.buffer, casting="unsafe")
            for i, (off, n) in zip(b.indices, b.offsets):
                if globally_used is None or globally_used[i]:
                    _set_grad(self.params[i], b.buffer[off : off + n])
        if self.sparse:
            t0 = time.perf_counter()
            for i in self.sparse:
                if globally_used is None or globally_used[i]:
                    self._gather_sparse(i)
            self.comm_seconds += time.perf_counter() - t0
        self.local_used[:] = 0
        self._reset()
        self.expect_sync = False
        self._log("done", 0)

    def _gather_sparse(self, i):
        """Every rank's (indices, values) of a sparse gradient, concatenated in rank order."""
        p = self.params[i]
        g = p._grad
        if g is not None and not g.is_sparse:
            raise RuntimeError(
                f"DistributedDataParallel: parameter '{self.names[i]}' belongs to a module with "
                f"sparse=True but got a dense gradient"
            )
        comm = self.pg.comm
        meta = None if g is None else (g._nnz(), g.sparse_dim())
        metas = comm.allgather(meta)
        sparse_dim = next(m[1] for m in metas if m is not None)
        counts = [0 if m is None else m[0] for m in metas]
        dense_shape = tuple(p.shape[sparse_dim:])
        if g is None:
            idx = np.zeros((0, sparse_dim), dtype=np.int64)
            vals = np.zeros((0,) + dense_shape, dtype=p._data.dtype)
        else:
            idx = np.ascontiguousarray(to_numpy(g._indices()._data).T, dtype=np.int64)
            vals = np.ascontiguousarray(to_numpy(g._values()._data))
        total = sum(counts)
        all_idx = np.empty((total, sparse_dim), dtype=np.int64)
        all_vals = np.empty((total,) + dense_shape, dtype=vals.dtype)
        per_value = int(np.prod(dense_shape, dtype=np.int64))
        comm.Allgatherv(idx, [all_idx, [c * sparse_dim for c in counts]])
        comm.Allgatherv(vals, [all_vals, [c * per_value for c in counts]])
        np.divide(all_vals, self.pg.size(), out=all_vals, casting="unsafe")
        from ...sparse import sparse_coo_tensor

        p._grad = sparse_coo_tensor(
            Tensor._make(np.ascontiguousarray(all_idx.T), None, False),
            Tensor._make(all_vals, None, False),
            tuple(p.shape),
        ).coalesce()


def _set_grad(param, flat):
    """Write ``flat`` (the averaged gradient) into ``param.grad`` in place, or create it."""
    g = param._grad
    shape = param._data.shape
    if g is None or g.is_sparse or (type(g._data) is np.ndarray and not g._data.flags.writeable):
        xp = array_module(param._data)
        param._grad = Tensor._make(xp.asarray(flat.reshape(shape)).astype(param._data.dtype), None, False)
        return
    if type(g._data) is np.ndarray:
        np.copyto(g._data, flat.reshape(shape), casting="unsafe")
    else:
        g._data[...] = array_module(g._data).asarray(flat.reshape(shape))
    g._version_counter().bump()


def _reachable_leaves(outputs):
    """ids of the leaf tensors whose AccumulateGrad the graph of ``outputs`` reaches."""
    stack = [t.grad_fn for t in _tensors_in(outputs) if t.grad_fn is not None]
    leaves = {id(t) for t in _tensors_in(outputs) if t.grad_fn is None and t.requires_grad}
    seen = set(stack)
    while stack:
        node = stack.pop()
        if isinstance(node, AccumulateGrad):
            leaves.add(id(node.variable))
            continue
        for child, _ in node.next_functions:
            if child is not None and child not in seen:
                seen.add(child)
                stack.append(child)
    return leaves


def _tensors_in(obj):
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            yield from _tensors_in(o)
    elif isinstance(obj, dict):
        for o in obj.values():
            yield from _tensors_in(o)
    elif hasattr(obj, "__dataclass_fields__"):
        for name in obj.__dataclass_fields__:
            yield from _tensors_in(getattr(obj, name))

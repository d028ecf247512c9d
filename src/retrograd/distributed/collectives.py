"""Collectives on tensors, as in ``torch.distributed``, each one MPI call.

Every collective must be called by every rank of the group, in the same order. Results are
written in place into the tensors passed in (never through autograd: these are data moves, like
PyTorch's, and bump the written tensors' version counters). With ``async_op=True`` the call
returns a ``Work`` at once and the tensors hold the result after ``work.wait()``; otherwise it
returns None when done. Either way the collective runs as MPI's non-blocking form
(``Iallreduce``, ``Ibcast``, ...) and is waited for with the group's timeout, failing early
when a rank it needs has left the job (``_watch``).

Tensors travel as contiguous host arrays: a contiguous NumPy tensor is used in place, anything
else is copied to a staging buffer and the result copied back. ``src``/``dst`` are global ranks
(``group_src``/``group_dst`` ranks within ``group``), as in PyTorch.
"""

import numpy as np

from .._tensor import Tensor
from ..backend import to_numpy
from .process_group import ReduceOp, Work, _resolve, _state


# ----------------------------------------------------------------------------- buffers


def _check(t, fn, what="tensor"):
    if not isinstance(t, Tensor):
        raise TypeError(f"{fn}: {what} must be a Tensor, got {type(t).__name__}")


def _send_array(t):
    """A contiguous host array with ``t``'s values (``t``'s own storage when possible)."""
    a = t._data
    if type(a) is not np.ndarray:
        a = to_numpy(a)
    return np.ascontiguousarray(a)


def _recv_array(t):
    """A contiguous host array to receive into, and a function that stores it into ``t``."""
    a = t._data
    if type(a) is np.ndarray and a.flags.c_contiguous and a.flags.writeable:
        return a, lambda: t._version_counter().bump()
    buf = np.ascontiguousarray(to_numpy(a))

    def store():
        _store(t, buf)

    return buf, store


def _store(t, arr):
    """Write ``arr`` (host array of ``t``'s size) into ``t``'s storage and bump its version."""
    a = t._data
    if type(a) is np.ndarray:
        a[...] = arr.reshape(a.shape)
    else:
        from ..backend import array_module

        a[...] = array_module(a).asarray(arr.reshape(a.shape))
    t._version_counter().bump()


# Boolean tensors reduce as 0/1 bytes: SUM and MAX act as "or", PRODUCT and MIN as "and".
_BOOL_OPS = {
    ReduceOp.SUM: "MAX",
    ReduceOp.MAX: "MAX",
    ReduceOp.BOR: "MAX",
    ReduceOp.PRODUCT: "MIN",
    ReduceOp.MIN: "MIN",
    ReduceOp.BAND: "MIN",
    ReduceOp.BXOR: "BXOR",
}
_OPS = {
    ReduceOp.SUM: "SUM",
    ReduceOp.AVG: "SUM",
    ReduceOp.PRODUCT: "PROD",
    ReduceOp.MIN: "MIN",
    ReduceOp.MAX: "MAX",
    ReduceOp.BAND: "BAND",
    ReduceOp.BOR: "BOR",
    ReduceOp.BXOR: "BXOR",
}


def _reduction(op, dtype, fn):
    """The MPI op for ``op`` on arrays of ``dtype``; checks what MPI cannot do."""
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{fn}: op must be a ReduceOp (e.g. ReduceOp.SUM), got {op!r}")
    if dtype == np.bool_:
        name = _BOOL_OPS.get(op)
    else:
        name = _OPS.get(op)
        if op is ReduceOp.AVG and dtype.kind not in "fcV":
            raise TypeError(f"{fn}: ReduceOp.AVG needs a floating-point tensor, got {dtype}")
        if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and dtype.kind not in "iu":
            raise TypeError(f"{fn}: {op} needs an integer or bool tensor, got {dtype}")
    if name is None:
        raise ValueError(f"{fn}: {op} is not supported by the MPI backend")
    return getattr(_state.mpi, name)


def _as_reducible(arr):
    """MPI has no sum over C bools: reduce them as bytes."""
    return arr.view(np.uint8) if arr.dtype == np.bool_ else arr


def _launch(pg, what, async_op, request, finish, result=None):
    """A started collective (its MPI ``request``): behind a ``Work``, or waited for now (with
    the group's timeout); ``finish`` runs once the data has arrived (copies back, averaging)."""
    work = Work(pg.comm, [request], what, finish, result)
    if async_op:
        return work
    work.wait()
    return None


def _root(pg, fn, rank, group_rank):
    if group_rank is not None:
        if rank is not None and pg.ranks[group_rank] != rank:
            raise ValueError(f"{fn}: give either a global rank or a group rank, not both")
        r = group_rank
    else:
        r = pg.group_rank(rank)
    if not 0 <= r < pg.size():
        raise ValueError(f"{fn}: rank {r} is out of range for a group of {pg.size()}")
    return r


def _then(*steps):
    def run():
        for s in steps:
            if s is not None:
                s()

    return run


def _average(buf, op, pg):
    if op is ReduceOp.AVG:
        return lambda: np.divide(buf, pg.size(), out=buf, casting="unsafe")
    return None


# ----------------------------------------------------------------------------- collectives


def barrier(group=None, async_op=False, device_ids=None):
    """Wait until every rank of the group has reached the barrier."""
    pg = _resolve(group)
    if pg is None:
        return None
    return _launch(pg, "barrier", async_op, pg.comm.Ibarrier(), None)


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine ``tensor`` across ranks with ``op``; every rank's ``tensor`` receives the result."""
    _check(tensor, "all_reduce")
    pg = _resolve(group)
    if pg is None:
        return None
    buf, store = _recv_array(tensor)
    mop = _reduction(op, buf.dtype, "all_reduce")
    red = _as_reducible(buf)
    in_place = _state.mpi.IN_PLACE
    return _launch(
        pg,
        "all_reduce",
        async_op,
        pg.comm.Iallreduce(in_place, red, op=mop),
        _then(_average(buf, op, pg), store),
        [tensor],
    )


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Combine ``tensor`` across ranks; only rank ``dst``'s ``tensor`` receives the result."""
    _check(tensor, "reduce")
    pg = _resolve(group)
    if pg is None:
        return None
    root = _root(pg, "reduce", dst if dst is not None or group_dst is not None else 0, group_dst)
    mop = _reduction(op, tensor._data.dtype, "reduce")
    comm = pg.comm
    if pg.rank() == root:
        buf, store = _recv_array(tensor)
        red = _as_reducible(buf)
        args = (_state.mpi.IN_PLACE, red)
        finish = _then(_average(buf, op, pg), store)
    else:
        args = (_as_reducible(_send_array(tensor)), None)
        finish = None
    return _launch(pg, "reduce", async_op, comm.Ireduce(*args, op=mop, root=root), finish, [tensor])


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every other rank."""
    _check(tensor, "broadcast")
    pg = _resolve(group)
    if pg is None:
        return None
    if src is None and group_src is None:
        raise ValueError("broadcast: give the source rank (src=...)")
    root = _root(pg, "broadcast", src, group_src)
    if pg.rank() == root:
        buf, store = _send_array(tensor), None
    else:
        buf, store = _recv_array(tensor)
    return _launch(pg, "broadcast", async_op, pg.comm.Ibcast(buf, root=root), store, [tensor])


def _check_same(fn, tensors, like, what):
    for i, t in enumerate(tensors):
        _check(t, fn, f"{what}[{i}]")
        if t._data.dtype != like._data.dtype or t._data.size != like._data.size:
            raise ValueError(
                f"{fn}: {what}[{i}] has shape {list(t.shape)} and dtype {t.dtype}, but "
                f"the input tensor has shape {list(like.shape)} and dtype {like.dtype}; "
                f"they must have the same number of elements and dtype"
            )


def _check_count(fn, tensors, pg, what):
    if len(tensors) != pg.size():
        raise ValueError(f"{fn}: {what} has {len(tensors)} tensors, expected one per rank of the group ({pg.size()})")


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Every rank receives every rank's ``tensor``: ``tensor_list[i]`` gets rank i's."""
    _check(tensor, "all_gather")
    pg = _resolve(group)
    if pg is None:
        return None
    _check_count("all_gather", tensor_list, pg, "tensor_list")
    _check_same("all_gather", tensor_list, tensor, "tensor_list")
    send = _send_array(tensor)
    recv = np.empty((pg.size(),) + send.shape, dtype=send.dtype)

    def finish():
        for t, part in zip(tensor_list, recv):
            _store(t, part)

    return _launch(pg, "all_gather", async_op, pg.comm.Iallgather(send, recv), finish, list(tensor_list))


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Concatenate every rank's ``input_tensor`` (in rank order) into ``output_tensor``, whose
    size is the group size times the input's: stacked on a new first dimension or along dim 0."""
    _check(output_tensor, "all_gather_into_tensor", "output_tensor")
    _check(input_tensor, "all_gather_into_tensor", "input_tensor")
    pg = _resolve(group)
    if pg is None:
        return None
    _check_scaled("all_gather_into_tensor", output_tensor, input_tensor, pg, "output", "input")
    send = _send_array(input_tensor)
    recv, store = _recv_array(output_tensor)
    return _launch(pg, "all_gather_into_tensor", async_op, pg.comm.Iallgather(send, recv), store, [output_tensor])


def _check_scaled(fn, big, small, pg, big_name, small_name):
    if big._data.dtype != small._data.dtype or big._data.size != small._data.size * pg.size():
        raise ValueError(
            f"{fn}: the {big_name} tensor (shape {list(big.shape)}, {big.dtype}) must "
            f"have {pg.size()} times as many elements as the {small_name} tensor (shape "
            f"{list(small.shape)}, {small.dtype}), and the same dtype"
        )


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``input_list[i]`` across ranks with ``op`` and leave the result on rank i, in
    ``output`` (MPI ``Reduce_scatter``)."""
    _check(output, "reduce_scatter", "output")
    pg = _resolve(group)
    if pg is None:
        return None
    _check_count("reduce_scatter", input_list, pg, "input_list")
    _check_same("reduce_scatter", input_list, output, "input_list")
    send = np.concatenate([_send_array(t).reshape(-1) for t in input_list])
    buf, store = _recv_array(output)
    mop = _reduction(op, buf.dtype, "reduce_scatter")
    counts = [output._data.size] * pg.size()
    red_send, red_recv = _as_reducible(send), _as_reducible(buf)
    return _launch(
        pg,
        "reduce_scatter",
        async_op,
        pg.comm.Ireduce_scatter(red_send, red_recv, counts, op=mop),
        _then(_average(buf, op, pg), store),
        [output],
    )


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """``reduce_scatter`` with the inputs concatenated in one tensor (MPI
    ``Reduce_scatter_block``): rank i gets the reduction of the i-th equal slice of ``input``."""
    _check(output, "reduce_scatter_tensor", "output")
    _check(input, "reduce_scatter_tensor", "input")
    pg = _resolve(group)
    if pg is None:
        return None
    _check_scaled("reduce_scatter_tensor", input, output, pg, "input", "output")
    send = _as_reducible(_send_array(input))
    buf, store = _recv_array(output)
    mop = _reduction(op, buf.dtype, "reduce_scatter_tensor")
    red = _as_reducible(buf)
    return _launch(
        pg,
        "reduce_scatter_tensor",
        async_op,
        pg.comm.Ireduce_scatter_block(send, red, op=mop),
        _then(_average(buf, op, pg), store),
        [output],
    )


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """Rank ``dst`` receives every rank's ``tensor`` into ``gather_list`` (None elsewhere)."""
    _check(tensor, "gather")
    pg = _resolve(group)
    if pg is None:
        return None
    root = _root(pg, "gather", dst if dst is not None or group_dst is not None else 0, group_dst)
    send = _send_array(tensor)
    recv, finish = None, None
    if pg.rank() == root:
        if gather_list is None:
            raise ValueError("gather: the destination rank must pass gather_list")
        _check_count("gather", gather_list, pg, "gather_list")
        _check_same("gather", gather_list, tensor, "gather_list")
        recv = np.empty((pg.size(),) + send.shape, dtype=send.dtype)

        def finish():
            for t, part in zip(gather_list, recv):
                _store(t, part)
    elif gather_list:
        raise ValueError("gather: only the destination rank passes gather_list")
    return _launch(pg, "gather", async_op, pg.comm.Igather(send, recv, root=root), finish, gather_list)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """Rank ``src`` sends ``scatter_list[i]`` to rank i, which receives it into ``tensor``."""
    _check(tensor, "scatter")
    pg = _resolve(group)
    if pg is None:
        return None
    root = _root(pg, "scatter", src if src is not None or group_src is not None else 0, group_src)
    send = None
    if pg.rank() == root:
        if scatter_list is None:
            raise ValueError("scatter: the source rank must pass scatter_list")
        _check_count("scatter", scatter_list, pg, "scatter_list")
        _check_same("scatter", scatter_list, tensor, "scatter_list")
        send = np.stack([_send_array(t).reshape(-1) for t in scatter_list])
    elif scatter_list:
        raise ValueError("scatter: only the source rank passes scatter_list")
    recv, store = _recv_array(tensor)
    return _launch(pg, "scatter", async_op, pg.comm.Iscatter(send, recv, root=root), store, [tensor])


# ----------------------------------------------------------------------------- Python objects


def all_gather_object(object_list, obj, group=None):
    """``object_list[i]`` receives rank i's ``obj`` (any picklable object)."""
    pg = _resolve(group)
    if pg is None:
        return None
    _check_count("all_gather_object", object_list, pg, "object_list")
    object_list[:] = pg.comm.allgather(obj)


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """Replace ``object_list``'s items on every rank with rank ``src``'s (same length everywhere)."""
    pg = _resolve(group)
    if pg is None:
        return None
    root = _root(pg, "broadcast_object_list", src if src is not None or group_src is not None else 0, group_src)
    objs = pg.comm.bcast(list(object_list) if pg.rank() == root else None, root=root)
    object_list[:] = objs


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    """Rank ``dst`` receives every rank's ``obj`` into ``object_gather_list``."""
    pg = _resolve(group)
    if pg is None:
        return None
    root = _root(pg, "gather_object", dst if dst is not None or group_dst is not None else 0, group_dst)
    objs = pg.comm.gather(obj, root=root)
    if pg.rank() == root:
        if object_gather_list is None:
            raise ValueError("gather_object: the destination rank must pass object_gather_list")
        object_gather_list[:] = objs

"""DistributedDataParallel: the same model on every rank, gradients averaged during backward.

Each rank runs the script on its own share of the data (``DistributedSampler``); the wrapper
makes the replicas start equal (rank 0's parameters and buffers are broadcast at construction)
and stay equal (every backward leaves each ``.grad`` holding the average over ranks, so the
optimizers take identical steps). How the averaging overlaps backward is described in
``_reducer.py``.
"""

from contextlib import contextmanager

import numpy as np

from ..._tensor import Tensor
from ...autograd.grad_mode import is_grad_enabled
from ...backend import to_numpy, array_module
from ...distributed import process_group as _pg
from ..modules.module import Module
from ._reducer import Reducer


class DistributedDataParallel(Module):
    """Data-parallel training over the ranks of ``process_group`` (the world by default).

    ``forward`` calls the wrapped ``module`` (also available as ``.module``). Arguments as in
    PyTorch: ``broadcast_buffers`` re-broadcasts rank 0's buffers before each forward;
    ``bucket_cap_mb`` (default 25) sizes the buckets reduced together; with
    ``find_unused_parameters`` parameters may get no gradient in some iterations.
    ``device_ids``, ``output_device``, ``dim``, ``check_reduction``, ``gradient_as_bucket_view``,
    ``static_graph`` and the rest are accepted for compatibility and have no effect.
    """

    def __init__(
        self,
        module,
        device_ids=None,
        output_device=None,
        dim=0,
        broadcast_buffers=True,
        process_group=None,
        bucket_cap_mb=None,
        find_unused_parameters=False,
        check_reduction=False,
        gradient_as_bucket_view=False,
        static_graph=False,
        delay_all_reduce_named_params=None,
        param_to_hook_all_reduce=None,
        mixed_precision=None,
        device_mesh=None,
    ):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel expects an nn.Module, got {type(module).__name__}")
        pg = _pg._resolve(process_group)
        if pg is None:
            raise ValueError("DistributedDataParallel: this rank is not a member of process_group")
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError(
                "DistributedDataParallel is not needed when a module doesn't have any "
                "parameter that requires a gradient."
            )
        self.module = module
        self.process_group = pg
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.device_ids = device_ids

        _check_same_parameters(pg, named)
        _broadcast_from_rank0(pg, [p for _, p in module.named_parameters()] + [b for _, b in module.named_buffers()])
        # Embedding(sparse=True) and EmbeddingBag(sparse=True) produce sparse weight gradients.
        sparse_ids = {
            id(m.weight)
            for m in module.modules()
            if getattr(m, "sparse", False) is True and isinstance(getattr(m, "weight", None), Tensor)
        }
        self.reducer = Reducer(
            [n for n, _ in named],
            [p for _, p in named],
            pg,
            _pg._state.mpi,
            self.bucket_bytes_cap,
            find_unused_parameters,
            [id(p) in sparse_ids for _, p in named],
        )

    def forward(self, *inputs, **kwargs):
        if self.broadcast_buffers and self.require_forward_param_sync and self.process_group.size() > 1:
            buffers = [b for _, b in self.module.named_buffers()]
            if buffers:
                _broadcast_from_rank0(self.process_group, buffers)
        out = self.module(*inputs, **kwargs)
        if is_grad_enabled():
            sync = self.require_backward_grad_sync
            self.reducer.prepare_for_backward(sync, out if sync and self.find_unused_parameters else None)
        return out

    @contextmanager
    def no_sync(self):
        """Backward passes of forwards run inside only accumulate into ``.grad`` locally; the
        first backward after leaving averages the accumulated gradients."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def extra_repr(self):
        return f"world_size={self.process_group.size()}, buckets={len(self.reducer.buckets)}"


def _check_same_parameters(pg, named):
    """Every rank must hold the same parameters (names, shapes, dtypes) as rank 0."""
    mine = [(n, tuple(p.shape), str(p.dtype)) for n, p in named]
    everyone = pg.comm.allgather(mine)
    ref = everyone[0]
    for rank, theirs in enumerate(everyone[1:], 1):
        if len(theirs) != len(ref):
            raise RuntimeError(
                f"DistributedDataParallel: rank {rank} has {len(theirs)} parameters that "
                f"require grad but rank 0 has {len(ref)}: every rank must build the "
                f"same model"
            )
        for (n0, s0, d0), (n, s, d) in zip(ref, theirs):
            if (n0, s0, d0) != (n, s, d):
                raise RuntimeError(
                    f"DistributedDataParallel: parameter '{n}' has shape {list(s)} and dtype {d} on "
                    f"rank {rank}, but rank 0's parameter at that position is '{n0}' with shape "
                    f"{list(s0)} and dtype {d0}: every rank must build the same model"
                )


def _broadcast_from_rank0(pg, tensors):
    """Overwrite ``tensors`` with rank 0's values, one broadcast per dtype."""
    if pg.size() == 1:
        return
    by_dtype = {}
    for t in tensors:
        by_dtype.setdefault(t._data.dtype.str, []).append(t)
    for group in by_dtype.values():
        flat = np.concatenate([to_numpy(t._data).reshape(-1) for t in group])
        pg.comm.Bcast(flat, root=0)
        off = 0
        for t in group:
            n = t._data.size
            part = flat[off : off + n].reshape(t._data.shape)
            off += n
            if type(t._data) is np.ndarray:
                t._data[...] = part
            else:
                t._data[...] = array_module(t._data).asarray(part)
            t._version_counter().bump()

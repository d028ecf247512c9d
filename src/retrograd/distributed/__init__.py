"""retrograd.distributed: processes that train together, over MPI (``torch.distributed``'s API).

Start the same script on N processes with MPI's launcher::

    mpiexec -n 4 python train.py

and call ``init_process_group()`` in it: each process gets its rank (0..N-1) and the world size
from MPI. Communication goes through ``mpi4py``, imported on first use (``pip install
'retrograd[mpi]'`` installs it with the MPICH wheel; on a cluster, ``pip install mpi4py`` builds
against the site's MPI). A script run without a launcher is rank 0 of a world of one process,
with or without mpi4py installed, so the same script runs on a laptop.

Collectives (``all_reduce``, ``broadcast``, ``all_gather``, ``reduce_scatter``, ...) write
their result in place into the tensors given, as in PyTorch; ``async_op=True`` returns a
``Work`` to ``wait()`` on. ``nn.parallel.DistributedDataParallel`` builds data-parallel
training on them.

Failures. MPI collectives have no timeout, and MPICH does not end a job when a rank leaves
cleanly. So, once the world has more than one process:

- A rank that raises (an uncaught exception) prints its number and traceback to stderr and calls
  ``MPI_Abort`` on ``COMM_WORLD``: the launcher kills every process of the job, which exits with a
  non-zero status.
- A rank that leaves while the others still communicate (its script returns, ``sys.exit(n)``
  with any ``n``, ``exit()``) tells them, as it exits, how many collectives it started on each
  group. The first collective that waits for it (at once if one already does) raises
  ``DistBackendError`` naming that rank; uncaught, that aborts the job. A rank that left after
  taking part in the collective the others are still finishing does not fail it.
- Every collective waits at most the group's timeout (``init_process_group(timeout=...)``, a
  ``datetime.timedelta``; ``new_group(timeout=...)``; ``Work.wait(timeout=...)``), 30 minutes by
  default (``default_pg_timeout``, as for PyTorch's gloo; ranks that wait for one rank's
  evaluation or checkpoint must fit in it), then raises ``DistBackendError`` naming the ranks it
  may be waiting for. ``init_process_group`` itself waits at most that long for every rank.
- ``MPI_Abort`` leaves MPICH's shared-memory file of each node in ``/dev/shm``
  (``mpich_shm_*``, 2 MB); the aborting rank removes that of its own node first.

Not covered: a rank killed by a signal (``SIGKILL``, the OOM killer) or ended by ``os._exit``
runs no handler; the launcher kills the job, but the shared-memory file stays. A rank that is
alive but never joins a collective (stuck in a loop, calling collectives in a different order)
is indistinguishable from a slow one until the timeout passes. Shared-memory files of other nodes
than the aborting rank's, and of other MPI implementations, are not removed. After a
``DistBackendError`` the group's communication state is undefined: let the error end the job.
"""

from .process_group import (
    Backend,
    ReduceOp,
    reduce_op,
    ProcessGroup,
    GroupMember,
    group,
    Work,
    is_available,
    is_mpi_available,
    get_default_backend_for_device,
    is_gloo_available,
    is_nccl_available,
    is_torchelastic_launched,
    is_initialized,
    init_process_group,
    destroy_process_group,
    new_group,
    get_rank,
    get_world_size,
    get_global_rank,
    get_group_rank,
    get_process_group_ranks,
    get_backend,
)
from .constants import default_pg_timeout
from ._watch import DistError, DistBackendError
from .collectives import (
    barrier,
    all_reduce,
    reduce,
    broadcast,
    all_gather,
    all_gather_into_tensor,
    reduce_scatter,
    reduce_scatter_tensor,
    gather,
    scatter,
    all_gather_object,
    broadcast_object_list,
    gather_object,
)

__all__ = [
    "Backend",
    "ReduceOp",
    "reduce_op",
    "ProcessGroup",
    "GroupMember",
    "group",
    "Work",
    "is_available",
    "is_mpi_available",
    "get_default_backend_for_device",
    "is_gloo_available",
    "is_nccl_available",
    "is_torchelastic_launched",
    "is_initialized",
    "init_process_group",
    "destroy_process_group",
    "new_group",
    "get_rank",
    "get_world_size",
    "get_global_rank",
    "get_group_rank",
    "get_process_group_ranks",
    "get_backend",
    "default_pg_timeout",
    "DistError",
    "DistBackendError",
    "barrier",
    "all_reduce",
    "reduce",
    "broadcast",
    "all_gather",
    "all_gather_into_tensor",
    "reduce_scatter",
    "reduce_scatter_tensor",
    "gather",
    "scatter",
    "all_gather_object",
    "broadcast_object_list",
    "gather_object",
]

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

Failures. MPI collectives have no timeout: a rank that dies leaves the others waiting in their
next collective. So, once the world has more than one process, ``init_process_group`` installs a
``sys.excepthook`` that, on an uncaught exception on any rank, prints that rank's number and
traceback to stderr and calls ``MPI_Abort`` on ``COMM_WORLD``: the launcher then kills every
process of the job, which exits with a non-zero status. Two cases are not covered: a rank that
returns or calls ``sys.exit()`` early while the others still communicate (they wait for it; end
such a rank by raising instead), and a rank stuck in a loop of its own (use the scheduler's time
limit). A rank killed by a signal is handled by the launcher, which ends the job.
"""
from .process_group import (Backend, ReduceOp, reduce_op, ProcessGroup, GroupMember, group, Work,
                            is_available, is_mpi_available, is_gloo_available, is_nccl_available,
                            is_torchelastic_launched, is_initialized, init_process_group,
                            destroy_process_group, new_group, get_rank, get_world_size,
                            get_global_rank, get_group_rank, get_process_group_ranks, get_backend)
from .collectives import (barrier, all_reduce, reduce, broadcast, all_gather, all_gather_into_tensor,
                          reduce_scatter, reduce_scatter_tensor, gather, scatter, all_gather_object,
                          broadcast_object_list, gather_object)

"""Where the MPI comes from: ``mpi4py`` (imported on first use), or a one-process stand-in.

``load()`` returns a module-like object with ``COMM_WORLD``, ``IN_PLACE``, the reduction ops and
``Request``. With mpi4py installed that is ``mpi4py.MPI`` itself. Without it, a script started
as a single process still runs: the stand-in below implements the few calls this package makes
for a world of one process, where every collective is a copy or nothing at all. A script that a
launcher started on several processes (``mpiexec``, ``srun``, ``torchrun``) but that cannot
import mpi4py gets an ImportError saying how to install it.
"""

import os

import numpy as np

INSTALL_HINT = (
    "install it with `pip install 'retrograd[mpi]'` (mpi4py and the MPICH wheel), or "
    "`pip install mpi4py` on a cluster to bind to the site's MPI"
)

# Variables that launchers set to the number of processes they started.
_LAUNCHER_SIZE_VARS = (
    "PMI_SIZE",
    "OMPI_COMM_WORLD_SIZE",
    "PMIX_SIZE",
    "MV2_COMM_WORLD_SIZE",
    "MPI_LOCALNRANKS",
    "SLURM_STEP_NUM_TASKS",
    "WORLD_SIZE",
)


def launcher_world_size():
    """The largest process count a launcher announced in the environment (1 when none did)."""
    size = 1
    for var in _LAUNCHER_SIZE_VARS:
        try:
            size = max(size, int(os.environ.get(var, "1")))
        except ValueError:
            pass
    return size


def available():
    """Whether mpi4py can be imported (without importing it, which would start MPI)."""
    import importlib.util

    return importlib.util.find_spec("mpi4py") is not None


def load():
    """``mpi4py.MPI`` when installed; otherwise the one-process stand-in, or an ImportError when
    a launcher started several processes."""
    try:
        from mpi4py import MPI

        return MPI
    except ImportError as e:
        n = launcher_world_size()
        if n > 1:
            raise ImportError(f"retrograd.distributed needs mpi4py to run on {n} processes: {INSTALL_HINT}") from e
        return SELF_MPI


class _Op:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"MPI.{self.name}"


class _Done:
    """A request that completed when it was made (every operation of a one-process world)."""

    def Wait(self, status=None):
        return None

    def Test(self, status=None):
        return True

    @staticmethod
    def Waitall(requests, statuses=None):
        return None

    @staticmethod
    def Testall(requests, statuses=None):
        return True


def _copy(sendbuf, recvbuf):
    if sendbuf is not SELF_MPI.IN_PLACE:
        recvbuf.reshape(-1)[...] = np.asarray(sendbuf).reshape(-1)


class _SelfComm:
    """COMM_WORLD of a single process: rank 0 of 1; collectives copy their input or do nothing."""

    rank = 0
    size = 1

    def Get_rank(self):
        return 0

    def Get_size(self):
        return 1

    def Dup(self):
        return self

    def Split(self, color=0, key=0):
        return self

    def Free(self):
        pass

    def Abort(self, errorcode=0):
        os._exit(errorcode)

    def Barrier(self):
        pass

    def Allreduce(self, sendbuf, recvbuf, op=None):
        _copy(sendbuf, recvbuf)

    def Reduce(self, sendbuf, recvbuf, op=None, root=0):
        _copy(sendbuf, recvbuf)

    def Bcast(self, buf, root=0):
        pass

    def Allgather(self, sendbuf, recvbuf):
        _copy(sendbuf, recvbuf)

    def Allgatherv(self, sendbuf, recvbuf):
        _copy(sendbuf, recvbuf[0] if isinstance(recvbuf, (list, tuple)) else recvbuf)

    def Gather(self, sendbuf, recvbuf, root=0):
        _copy(sendbuf, recvbuf)

    def Gatherv(self, sendbuf, recvbuf, root=0):
        _copy(sendbuf, recvbuf[0] if isinstance(recvbuf, (list, tuple)) else recvbuf)

    def Scatter(self, sendbuf, recvbuf, root=0):
        _copy(sendbuf, recvbuf)

    def Reduce_scatter(self, sendbuf, recvbuf, recvcounts=None, op=None):
        _copy(sendbuf, recvbuf)

    def Reduce_scatter_block(self, sendbuf, recvbuf, op=None):
        _copy(sendbuf, recvbuf)

    def __getattr__(self, name):
        # The non-blocking form of every collective: run it now, hand back a finished request.
        blocking_name = name[1:2].upper() + name[2:]  # Iallreduce -> Allreduce
        if name.startswith("I") and blocking_name in _SelfComm.__dict__:
            blocking = getattr(self, blocking_name)

            def start(*args, **kwargs):
                blocking(*args, **kwargs)
                return _Done()

            return start
        raise AttributeError(name)

    def allgather(self, obj):
        return [obj]

    def bcast(self, obj, root=0):
        return obj

    def gather(self, obj, root=0):
        return [obj]

    def scatter(self, objs, root=0):
        return objs[0]


class _SelfMPI:
    """The part of ``mpi4py.MPI`` this package uses, for a world of one process."""

    IN_PLACE = object()
    UNDEFINED = -32766
    SUM, PROD, MAX, MIN = _Op("SUM"), _Op("PROD"), _Op("MAX"), _Op("MIN")
    BAND, BOR, BXOR = _Op("BAND"), _Op("BOR"), _Op("BXOR")
    LAND, LOR = _Op("LAND"), _Op("LOR")
    Request = _Done
    COMM_WORLD = _SelfComm()

    @staticmethod
    def Is_initialized():
        return True

    @staticmethod
    def Get_library_version():
        return "none (one process, mpi4py not installed)"


SELF_MPI = _SelfMPI()

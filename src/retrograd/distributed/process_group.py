"""The default process group (MPI's world), sub-groups, reduction ops and pending work.

A ``ProcessGroup`` wraps an MPI communicator (a ``_watch.Comm``: its collectives wait with the
group's timeout and notice ranks that left). The default group is a duplicate of ``COMM_WORLD``,
so the library's messages never mix with those of user code that calls mpi4py itself. Ranks and
world size come from the launcher (``mpiexec -n N``); a script started without one is rank 0 of a
world of 1.
"""

import datetime
import enum

from . import _mpi, _faults, _watch
from .constants import default_pg_timeout


class Backend(str):
    """Backend names. Only MPI exists; ``gloo`` and ``nccl`` are accepted and mean MPI, so
    scripts written for PyTorch's backends run unchanged."""

    MPI = "mpi"
    GLOO = "gloo"
    NCCL = "nccl"
    UNDEFINED = "undefined"

    def __new__(cls, name):
        name = str(name).lower()
        for part in name.split(","):
            b = part.split(":")[-1].strip()
            if b not in ("mpi", "gloo", "nccl"):
                raise ValueError(
                    f"Invalid backend: '{name}': retrograd.distributed runs on MPI "
                    f"(backend 'mpi'; 'gloo' and 'nccl' are accepted as aliases)"
                )
        return str.__new__(cls, "mpi")


class ReduceOp(enum.Enum):
    """How ``all_reduce`` and friends combine the ranks' tensors, element by element.

    ``AVG`` is ``SUM`` divided by the group size (floating-point tensors only).
    """

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"
    PREMUL_SUM = "premul_sum"


ReduceOp.RedOpType = ReduceOp  # PyTorch also spells it ReduceOp.RedOpType.SUM
reduce_op = ReduceOp  # deprecated PyTorch alias


def _timeout_seconds(timeout, fn):
    """``timeout`` (a ``datetime.timedelta``; None for ``default_pg_timeout``) in seconds."""
    if timeout is None:
        timeout = default_pg_timeout
    if not isinstance(timeout, datetime.timedelta):
        raise TypeError(
            f"{fn}: expected timeout argument to be of type datetime.timedelta, got {type(timeout).__name__}"
        )
    seconds = timeout.total_seconds()
    if seconds <= 0:
        raise ValueError(f"{fn}: timeout must be positive, got {timeout}")
    return seconds


class ProcessGroup:
    """A set of ranks that communicate: a ``_watch.Comm`` plus the global rank of each member."""

    def __init__(self, comm, ranks):
        self.comm = comm
        self.ranks = list(ranks)  # global ranks, in group-rank order

    def rank(self):
        return self.comm.Get_rank()

    def size(self):
        return self.comm.Get_size()

    def group_rank(self, global_rank):
        try:
            return self.ranks.index(global_rank)
        except ValueError:
            raise ValueError(f"Global rank {global_rank} is not part of group {self}") from None

    def name(self):
        return "mpi"

    def __repr__(self):
        return f"ProcessGroup(backend='mpi', ranks={self.ranks})"


class _State:
    mpi = None  # mpi4py.MPI or the one-process stand-in
    world = None  # the default ProcessGroup
    groups = []  # every ProcessGroup created, so destroy_process_group frees them


_state = _State()


class GroupMember:
    """``GroupMember.WORLD`` is the default group once initialised; ``NON_GROUP_MEMBER`` is what
    ``new_group`` returns on ranks outside the new group."""

    WORLD = None
    NON_GROUP_MEMBER = object()


group = GroupMember  # ``dist.group.WORLD`` in PyTorch


def is_available():
    """True: the package works on every install (a world of one process needs no MPI)."""
    return True


def is_mpi_available():
    return _mpi.available()


def get_default_backend_for_device(device):
    """The backend collectives on ``device`` use: MPI, for the CPU and for cuda tensors alike
    (PyTorch answers gloo and nccl; both names are accepted here and mean MPI)."""
    from .._device import to_device

    d = to_device(device)
    if d.type not in ("cpu", "cuda"):
        raise ValueError(f"Default backend not registered for device : {d.type}")
    return "mpi"


def is_gloo_available():
    return False


def is_nccl_available():
    return False


def is_torchelastic_launched():
    return False


def is_initialized():
    return _state.world is not None


def _world():
    if _state.world is None:
        raise ValueError("Default process group has not been initialized, please make sure to call init_process_group.")
    return _state.world


def _resolve(group):
    """The ProcessGroup for a ``group=`` argument, or None on ranks outside it."""
    world = _world()
    if group is None or group is GroupMember.WORLD:
        return world
    if group is GroupMember.NON_GROUP_MEMBER:
        return None
    if not isinstance(group, ProcessGroup):
        raise TypeError(f"group must be a ProcessGroup from new_group() or None, got {type(group).__name__}")
    return group


def init_process_group(
    backend=None,
    init_method=None,
    timeout=None,
    world_size=-1,
    rank=-1,
    store=None,
    group_name="",
    pg_options=None,
    device_id=None,
):
    """Join the MPI world started by the launcher (``mpiexec -n N python script.py``).

    Rank and world size come from MPI; ``world_size`` and ``rank``, when given, must agree with
    it. ``timeout`` (a ``datetime.timedelta``, default ``default_pg_timeout``: 30 minutes) bounds
    how long a collective of the default group, and this call itself, wait for the other ranks
    before raising ``DistBackendError``. ``init_method``, ``store``, ``group_name``,
    ``pg_options`` and ``device_id`` are accepted for compatibility: MPI needs no rendezvous.
    When the world has more than one process, an uncaught exception on any rank aborts the whole
    job, and a rank that exits makes the collectives that wait for it fail at once (see the
    package docstring).
    """
    if _state.world is not None:
        raise ValueError("trying to initialize the default process group twice!")
    seconds = _timeout_seconds(timeout, "init_process_group")
    if backend is not None:
        Backend(backend)
    if store is not None and (world_size == -1 or rank == -1):
        raise ValueError("world_size and rank must be given when store is given")
    mpi = _mpi.load()
    comm = mpi.COMM_WORLD
    size, me = comm.Get_size(), comm.Get_rank()
    launched = _mpi.launcher_world_size()
    if size == 1 and launched > 1:
        raise RuntimeError(
            f"init_process_group: the environment announces {launched} processes but MPI sees a "
            f"world of 1. retrograd.distributed runs on MPI: start the script with "
            f"`mpiexec -n {launched} python script.py` (not torchrun), with the mpiexec that "
            f"belongs to the MPI mpi4py was built for."
        )
    if world_size not in (-1, None) and int(world_size) != size:
        raise ValueError(
            f"init_process_group: world_size={world_size} was given but MPI started "
            f"{size} process(es); start the job with `mpiexec -n {world_size}`"
        )
    if rank not in (-1, None) and int(rank) != me:
        raise ValueError(f"init_process_group: rank={rank} was given but MPI assigned rank {me} to this process")
    if size > 1:
        _faults.install(mpi)  # first: a rank that leaves while others wait below must tell them
    raw = _watch.init_world(mpi, seconds)
    _state.mpi = mpi
    _state.world = ProcessGroup(_watch.Comm(mpi, raw, _watch.new_gid(), range(size), seconds), range(size))
    _state.groups = [_state.world]
    GroupMember.WORLD = _state.world


def destroy_process_group(group=None):
    """Free ``group``'s communicator, or, without an argument, every group and the default one
    (``init_process_group`` may then be called again). MPI itself stays up until the process
    exits."""
    if group is None or group is GroupMember.WORLD:
        for g in _state.groups:
            _free(g)
        _state.world = None
        _state.groups = []
        GroupMember.WORLD = None
        _faults.uninstall()
        return
    if isinstance(group, ProcessGroup):
        _free(group)
        if group in _state.groups:
            _state.groups.remove(group)


def _free(g):
    if g.comm is not None and g.comm.raw is not _state.mpi.COMM_WORLD:
        g.comm.Free()
    g.comm = None


def new_group(
    ranks=None,
    timeout=None,
    backend=None,
    pg_options=None,
    use_local_synchronization=False,
    group_desc=None,
    device_id=None,
):
    """A group of the given global ``ranks`` (all ranks when None). Every rank of the world must
    call it, in the same order as the other ``new_group`` calls; ranks outside the group get
    ``GroupMember.NON_GROUP_MEMBER``. ``timeout`` bounds the group's collectives, as for
    ``init_process_group`` (``default_pg_timeout`` when None)."""
    world = _world()
    seconds = _timeout_seconds(timeout, "new_group")
    n = world.size()
    members = sorted(set(range(n) if ranks is None else (int(r) for r in ranks)))
    for r in members:
        if not 0 <= r < n:
            raise ValueError(f"new_group: rank {r} is out of range for a world of {n} processes")
    me = world.rank()
    inside = me in members
    raw = world.comm.Split(0 if inside else _state.mpi.UNDEFINED, members.index(me) if inside else 0)
    gid = _watch.new_gid()  # on every rank, members or not: group numbers agree across ranks
    if not inside:
        return GroupMember.NON_GROUP_MEMBER
    g = ProcessGroup(_watch.Comm(_state.mpi, raw, gid, members, seconds), members)
    _state.groups.append(g)
    return g


def get_rank(group=None):
    """This process's rank in ``group`` (the world by default); -1 outside the group."""
    pg = _resolve(group)
    return -1 if pg is None else pg.rank()


def get_world_size(group=None):
    """The number of processes in ``group`` (the world by default); -1 outside the group."""
    pg = _resolve(group)
    return -1 if pg is None else pg.size()


def get_global_rank(group, group_rank):
    pg = _resolve(group)
    return pg.ranks[group_rank]


def get_group_rank(group, global_rank):
    pg = _resolve(group)
    return pg.group_rank(global_rank)


def get_process_group_ranks(group):
    pg = _resolve(group)
    return list(pg.ranks)


def get_backend(group=None):
    _resolve(group)
    return Backend("mpi")


class Work:
    """A collective in flight on ``comm`` (a ``_watch.Comm``), named ``what`` in errors.
    ``wait()`` blocks until it is done and this rank's tensors hold the result, or raises
    ``DistBackendError`` (a rank left, or the timeout passed); ``is_completed()`` checks without
    blocking."""

    def __init__(self, comm, requests, what, finish=None, result=None):
        self._comm = comm
        self._seq = comm.started
        self._what = what
        self._requests = list(requests)
        self._finish = finish
        self._result = result
        self._done = False

    def _complete(self):
        self._done = True
        self._requests = []
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()

    def wait(self, timeout=None):
        """Wait for completion, at most ``timeout`` (a ``datetime.timedelta``; None or zero for
        the group's timeout)."""
        if not self._done:
            seconds = None
            if timeout is not None and timeout != datetime.timedelta(0):
                seconds = _timeout_seconds(timeout, "Work.wait")
            self._comm.wait(self._requests, self._what, self._seq, seconds)
            self._complete()
        return True

    def is_completed(self):
        if not self._done and _state.mpi.Request.Testall(self._requests):
            self._complete()
        return self._done

    def is_success(self):
        return self.is_completed()

    def exception(self):
        return None

    def result(self):
        self.wait()
        return self._result

    def synchronize(self):
        self.wait()

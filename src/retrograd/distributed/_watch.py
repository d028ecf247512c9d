"""Collectives that cannot wait forever: a deadline, and notice of ranks that have left.

MPI's collectives have no timeout, and a rank that leaves the job cleanly (its script returns or
calls ``sys.exit``) is not a failure to MPI: the ranks still waiting for it would wait forever.
So every collective is started in MPI's non-blocking form (``Iallreduce``, ``Ibcast``, ...) and
its requests are polled until they complete, watching two things meanwhile:

- departures. When a process leaves, an atexit handler (``announce``) tells every other rank how
  many collectives it started on each group. A rank waiting in the n-th collective of a group
  learns at once that a member which left after starting fewer than n will never join it, and
  raises ``DistBackendError`` naming that rank. The counts make this exact: a rank that left
  after completing the collective others are still finishing is not mistaken for a missing one.
- the deadline: the group's timeout (``init_process_group(timeout=...)``, 30 minutes by default
  as for PyTorch's gloo). When it passes, ``DistBackendError`` names the ranks that may be
  missing. This covers a rank that is alive but never joins (hung, busy, or calling collectives
  in a different order), which cannot be told apart from a slow one.

Groups are numbered in creation order (``init_process_group`` and every ``new_group``, which all
ranks call in the same order), so the counts a rank sends mean the same on every rank.
"""

import functools
import os
import pickle
import time

import numpy as np

SPIN_POLLS = 100  # polls before each further one yields the core
CHECK_SECONDS = 0.01  # while a collective waits, look for departures and the deadline this often
NOTICE_TAG = 77


class DistError(RuntimeError):
    """An error of ``retrograd.distributed`` (``torch.distributed.DistError``)."""


class DistBackendError(DistError):
    """A collective failed: a rank left the job, or the group's timeout passed. The group's
    communication state is then undefined: end the job (an uncaught error aborts it)."""


DistError.__module__ = DistBackendError.__module__ = "retrograd.distributed"


class _Registry:
    next_gid = 0
    comms = []  # every Comm made in this process, for the counts sent at exit
    departures = None  # Departures, once a world of several processes exists


_registry = _Registry()
_yield = getattr(os, "sched_yield", None) or (lambda: time.sleep(0))


def _poll(mpi, requests, deadline, check):
    """Poll ``requests`` until all complete (True) or ``deadline`` (monotonic) passes (False),
    calling ``check()`` every ``CHECK_SECONDS``. Polling never sleeps, as MPI moves data only
    inside MPI calls (a pause would slow large transfers); like MPI's own wait it yields the
    core between polls after the first ``SPIN_POLLS``."""
    testall = mpi.Request.Testall
    if testall(requests):
        return True
    next_check = time.monotonic() + CHECK_SECONDS
    polls = 0
    while not testall(requests):
        polls += 1
        if polls > SPIN_POLLS:
            _yield()  # let a rank that shares this core run (its data is awaited here)
        now = time.monotonic()
        if now >= next_check:
            check()
            if now >= deadline:
                return False
            next_check = now + CHECK_SECONDS
    return True


class Departures:
    """Notices of ranks that left the job, exchanged on a private duplicate of COMM_WORLD."""

    __slots__ = ("mpi", "comm", "left")

    def __init__(self, mpi, comm):
        self.mpi = mpi
        self.comm = comm
        self.left = {}  # global rank -> {group id: collectives it started}

    def receive(self):
        status = self.mpi.Status()
        while self.comm.iprobe(source=self.mpi.ANY_SOURCE, tag=NOTICE_TAG, status=status):
            source = status.Get_source()
            self.left[source] = self.comm.recv(source=source, tag=NOTICE_TAG)

    def announce(self, wait_seconds=1.0):
        """Tell every other rank what this one started, as it leaves. The notices are small and
        leave at once; a rank that is gone already does not hold this one up."""
        started = {c.gid: c.started for c in _registry.comms}
        me, n = self.comm.Get_rank(), self.comm.Get_size()
        sends = [self.comm.isend(started, dest=r, tag=NOTICE_TAG) for r in range(n) if r != me]
        _poll(self.mpi, sends, time.monotonic() + wait_seconds, lambda: None)


def init_world(mpi, timeout):
    """Wait (up to ``timeout`` seconds) until every rank has reached ``init_process_group``,
    then set up the departure notices (once per process). Returns a duplicate of COMM_WORLD."""
    world = mpi.COMM_WORLD
    n = world.Get_size()
    if n > 1 and not _poll(mpi, [world.Ibarrier()], time.monotonic() + timeout, lambda: None):
        raise DistBackendError(
            f"init_process_group: not every one of the {n} ranks called init_process_group within "
            f"{timeout:g} s (this is rank {world.Get_rank()}); a rank may have failed or exited "
            f"before it, or be stuck"
        )
    if n > 1 and _registry.departures is None:
        _registry.departures = Departures(mpi, world.Dup())
    return world.Dup()


def new_gid():
    """The next group number; every rank of the world calls this for every group created."""
    gid = _registry.next_gid
    _registry.next_gid += 1
    return gid


_STARTS = frozenset(
    {
        "Ibarrier",
        "Iallreduce",
        "Ireduce",
        "Ibcast",
        "Iallgather",
        "Iallgatherv",
        "Igather",
        "Igatherv",
        "Iscatter",
        "Ireduce_scatter",
        "Ireduce_scatter_block",
    }
)
_BLOCKING = {name[1].upper() + name[2:]: name for name in _STARTS}  # Allreduce -> Iallreduce


class Comm:
    """An MPI communicator whose collectives wait with a deadline and notice departed ranks.

    ``Iallreduce(...)`` and the other non-blocking starts return MPI requests, to be completed
    with ``wait``; the blocking names (``Allreduce(...)``) start and wait in one call. ``ranks``
    are the members' global ranks; ``timeout`` is in seconds.
    """

    __slots__ = ("mpi", "raw", "gid", "ranks", "timeout", "started")

    def __init__(self, mpi, raw, gid, ranks, timeout):
        self.mpi = mpi
        self.raw = raw
        self.gid = gid
        self.ranks = list(ranks)
        self.timeout = float(timeout)
        self.started = 0  # collectives started on this communicator, by this rank
        _registry.comms.append(self)

    def Get_rank(self):
        return self.raw.Get_rank()

    def Get_size(self):
        return self.raw.Get_size()

    def Free(self):
        self.raw.Free()

    def _start(self, name, *args, **kwargs):
        self.started += 1
        return getattr(self.raw, name)(*args, **kwargs)

    def _start_and_wait(self, name, *args, **kwargs):
        self.wait([self._start(_BLOCKING[name], *args, **kwargs)], f"MPI {name}")

    def __getattr__(self, name):
        if name in _STARTS:
            return functools.partial(self._start, name)
        if name in _BLOCKING:
            return functools.partial(self._start_and_wait, name)
        raise AttributeError(f"Comm has no attribute {name!r}")

    # ------------------------------------------------------------------ waiting
    def wait(self, requests, what, seq=None, timeout=None):
        """Complete ``requests``, those of this group's collective number ``seq`` (the latest
        started by default) and earlier ones, within ``timeout`` seconds (the group's by
        default); ``what`` names the operation in errors."""
        seq = self.started if seq is None else seq
        limit = self.timeout if timeout is None else float(timeout)
        check = functools.partial(self._check_departures, what, seq)
        if not _poll(self.mpi, requests, time.monotonic() + limit, check):
            raise DistBackendError(self._timeout_message(what, seq, limit))

    def _left_members(self):
        departures = _registry.departures
        if departures is None:
            return {}
        departures.receive()
        return {r: departures.left[r].get(self.gid, 0) for r in self.ranks if r in departures.left}

    def _check_departures(self, what, seq):
        for rank, started in self._left_members().items():
            if started < seq:
                raise DistBackendError(
                    f"{what} cannot complete on rank {self.ranks[self.Get_rank()]}: rank {rank} "
                    f"left the job (its process exited) after starting {started} collective(s) on the "
                    f"group of ranks {self.ranks}, so it will never join collective number {seq} "
                    f"of that group, which this rank is waiting in"
                )

    def _timeout_message(self, what, seq, limit):
        me = self.ranks[self.Get_rank()]
        left = self._left_members()
        others = [r for r in self.ranks if r != me]
        if left:
            who = f"rank(s) {sorted(left)} left the job after starting this collective, without completing it"
        elif len(others) == 1:
            who = f"waiting for rank {others[0]}, which is not known to have left"
        else:
            who = f"waiting for at least one of ranks {others}, none of which is known to have left"
        return (
            f"{what} timed out on rank {me} after {limit:g} s (collective number {seq} of the "
            f"group of ranks {self.ranks}): {who}. A rank that is alive but never joins "
            f"(stuck, busy, or calling collectives in a different order) looks the same as a slow one; "
            f"raise the limit with init_process_group(timeout=datetime.timedelta(...)) if "
            f"ranks legitimately wait this long"
        )

    def synchronize(self, what):
        """A barrier with the deadline, before an MPI call that has no non-blocking form."""
        self.wait([self._start("Ibarrier")], what)

    def Split(self, color=0, key=0):
        self.synchronize("new_group")
        return self.raw.Split(color, key)

    # ------------------------------------------------------------------ Python objects
    def allgather(self, obj):
        """Every rank's ``obj`` (pickled), in rank order."""
        data = _pickled(obj)
        sizes = np.empty(self.Get_size(), dtype=np.int64)
        self.Allgather(np.array([data.size], dtype=np.int64), sizes)
        out = np.empty(int(sizes.sum()), dtype=np.uint8)
        self.Allgatherv(data, [out, sizes])
        return _unpickled(out, sizes)

    def bcast(self, obj, root=0):
        """Rank ``root``'s ``obj`` on every rank."""
        mine = self.Get_rank() == root
        data = _pickled(obj) if mine else None
        size = np.array([data.size if mine else 0], dtype=np.int64)
        self.Bcast(size, root=root)
        if not mine:
            data = np.empty(int(size[0]), dtype=np.uint8)
        self.Bcast(data, root=root)
        return obj if mine else pickle.loads(data.tobytes())

    def gather(self, obj, root=0):
        """Every rank's ``obj`` on rank ``root`` (None elsewhere)."""
        mine = self.Get_rank() == root
        data = _pickled(obj)
        sizes = np.empty(self.Get_size(), dtype=np.int64) if mine else None
        self.Gather(np.array([data.size], dtype=np.int64), sizes, root=root)
        out = np.empty(int(sizes.sum()), dtype=np.uint8) if mine else None
        self.Gatherv(data, [out, sizes] if mine else None, root=root)
        return _unpickled(out, sizes) if mine else None


def _pickled(obj):
    return np.frombuffer(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL), dtype=np.uint8)


def _unpickled(flat, sizes):
    out, offset = [], 0
    for s in sizes:
        out.append(pickle.loads(flat[offset : offset + s].tobytes()))
        offset += int(s)
    return out

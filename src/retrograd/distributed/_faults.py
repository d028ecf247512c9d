"""Failing fast: a rank that fails or leaves must not leave the others waiting.

Installed by ``init_process_group`` when the world has more than one process:

- an uncaught exception on a rank: ``sys.excepthook`` prints one line naming the rank and the
  error, then its traceback (through the previous hook), flushes both streams, then ``abort``s
  the job. The launcher may drop the traceback when it tears the job down; the line comes first.
- a rank that leaves (its script returns, ``sys.exit(n)`` with any ``n``, ``exit()``): an atexit
  handler tells every other rank how many collectives it started (``_watch.Departures``). A rank
  waiting for it in a collective, now or later, raises ``DistBackendError`` naming it, which
  aborts the job. (Without this MPICH's ``MPI_Finalize`` waits for every rank, so the leaving
  rank would wait for the others while they wait for it.)

``abort`` calls ``MPI_Abort`` on ``COMM_WORLD``: the launcher kills every process of the job and
exits with a non-zero status. MPICH processes killed that way never remove the shared-memory file
they share on a node (``/dev/shm/mpich_shm_*``, 2 MB each), so the aborting rank removes the ones
it has mapped first; the others keep their mappings until they are killed.
"""

import atexit
import os
import sys
import time

from . import _watch

_installed = [None]  # (our hook, the hook it replaced) while installed
_FORWARD_GRACE_S = 0.5  # seconds between the last flush and MPI_Abort
_leaving = [None]  # the mpi module, once the atexit handler is registered (once per process)


def mpich_shared_memory_files():
    """The MPICH shared-memory files this process has mapped (Linux; empty elsewhere)."""
    try:
        with open("/proc/self/maps") as maps:
            lines = maps.read().splitlines()
    except OSError:
        return []
    paths = set()
    for line in lines:
        parts = line.split(None, 5)
        if len(parts) == 6 and parts[5].startswith("/dev/shm/mpich_") and not parts[5].endswith("(deleted)"):
            paths.add(parts[5])
    return sorted(paths)


def abort(mpi, errorcode=1):
    """End the whole job now: flush, remove this node's MPICH shared memory, ``MPI_Abort``."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    for path in mpich_shared_memory_files():
        try:
            os.unlink(path)
        except OSError:
            pass
    # the launcher forwards each rank's output asynchronously and drops what it has not
    # forwarded when it tears the job down: give it a moment to pass on the error just written
    time.sleep(_FORWARD_GRACE_S)
    mpi.COMM_WORLD.Abort(errorcode)


def _announce_departure():
    mpi = _leaving[0]
    departures = _watch._registry.departures
    if departures is None or mpi.Is_finalized():
        return
    try:
        departures.announce()
    except Exception:
        pass  # leaving anyway; the others' timeout still applies


def install(mpi):
    if _leaving[0] is None:
        _leaving[0] = mpi
        atexit.register(_announce_departure)
    if _installed[0] is not None:
        return
    previous = sys.excepthook

    def abort_on_uncaught(exc_type, exc, tb):
        world = mpi.COMM_WORLD
        try:
            sys.stdout.flush()
        except Exception:
            pass
        try:
            # The error itself goes into this one line, written and flushed first: when
            # the launcher tears the job down it may drop output still in its pipes,
            # such as the traceback that follows.
            sys.stderr.write(
                f"retrograd.distributed: rank {world.Get_rank()} of "
                f"{world.Get_size()} raised {exc_type.__name__}: {exc}; "
                "aborting the job (MPI_Abort)\n"
            )
            sys.stderr.flush()
            previous(exc_type, exc, tb)
            sys.stderr.flush()
        finally:
            abort(mpi, 1)

    sys.excepthook = abort_on_uncaught
    _installed[0] = (abort_on_uncaught, previous)


def uninstall():
    if _installed[0] is None:
        return
    hook, previous = _installed[0]
    if sys.excepthook is hook:
        sys.excepthook = previous
    _installed[0] = None

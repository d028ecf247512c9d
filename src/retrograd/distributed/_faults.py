"""Failing fast: an uncaught exception on one rank aborts the whole MPI job.

Without this, the other ranks would wait forever in their next collective for a message the
failed rank will never send (MPI has no timeout on collectives). The hook prints which rank
failed and its traceback (through the previous ``sys.excepthook``), flushes both streams, then
calls ``MPI_Abort`` on ``COMM_WORLD``; the launcher kills every process of the job and exits
with a non-zero status.
"""
import sys

_installed = [None]  # (our hook, the hook it replaced) while installed


def install(mpi):
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
            sys.stderr.write(f"retrograd.distributed: rank {world.Get_rank()} of {world.Get_size()} "
                             f"raised {exc_type.__name__}; aborting the job (MPI_Abort)\n")
            previous(exc_type, exc, tb)
            sys.stderr.flush()
        finally:
            world.Abort(1)

    sys.excepthook = abort_on_uncaught
    _installed[0] = (abort_on_uncaught, previous)


def uninstall():
    if _installed[0] is None:
        return
    hook, previous = _installed[0]
    if sys.excepthook is hook:
        sys.excepthook = previous
    _installed[0] = None

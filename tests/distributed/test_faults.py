"""A rank that leaves or never joins must end the job with an error naming it, not hang it.

The MPI jobs run under a subprocess timeout (``_launch.run``), so a regression fails instead of
hanging; each job takes about a second. ``_launch.run`` also checks that no job leaves MPICH
shared-memory files in /dev/shm.
"""

import datetime

import pytest

import retrograd as torch
import retrograd.distributed as dist
from retrograd.distributed import _watch

from . import _launch


@pytest.mark.parametrize("how", ["exit1", "return"])
def test_a_rank_that_leaves_fails_the_collective_waiting_for_it(how):
    rc, out = _launch.run("rank_leaves.py", how, n=2, timeout=60)
    assert rc != 0, out
    assert "got past the collective" not in out
    assert "DistBackendError: all_reduce cannot complete on rank 0: rank 1 left the job" in out, out
    assert "after starting 0 collective(s)" in out, out
    assert "rank 0 of 2 raised DistBackendError: " in out, out
    assert "aborting the job (MPI_Abort)" in out, out


def test_a_rank_that_dies_without_exiting_python_ends_the_job():
    # os._exit skips every handler: the launcher itself ends the job. MPICH's shared memory
    # is then left behind for the launcher (of the test) to remove.
    rc, out = _launch.run("rank_leaves.py", "os_exit", n=2, timeout=60, leaves_shared_memory=True)
    assert rc != 0, out
    assert "got past the collective" not in out


def test_a_rank_that_left_after_a_collective_does_not_fail_it():
    rc, out = _launch.run("rank_leaves_after.py", n=2, timeout=60)
    assert rc != 0, out
    assert "rank 0 completed the all_reduce" in out, out
    assert "got past the barrier" not in out
    assert (
        "barrier cannot complete on rank 0: rank 1 left the job (its process exited) after starting 1 collective(s)"
    ) in out, out
    assert "collective number 2" in out, out


def test_a_collective_times_out_naming_the_rank_it_waits_for():
    rc, out = _launch.run("rank_hangs.py", "collective", n=2, timeout=60)
    assert rc != 0, out
    assert "Work.wait raised: all_reduce timed out on rank 0 after 0.2 s" in out, out
    assert "DistBackendError: barrier timed out on rank 0 after 1 s" in out, out
    assert "waiting for rank 1, which is not known to have left" in out, out
    assert "got past the barrier" not in out


def test_init_process_group_times_out_when_a_rank_is_late():
    rc, out = _launch.run("rank_hangs.py", "init", n=2, timeout=60)
    assert rc != 0, out
    assert "not every one of the 2 ranks called init_process_group within 1 s" in out, out


# ----------------------------------------------------------------------------- in this process


@pytest.fixture
def world_of_one(monkeypatch):
    for var in (
        "PMI_SIZE",
        "OMPI_COMM_WORLD_SIZE",
        "PMIX_SIZE",
        "MV2_COMM_WORLD_SIZE",
        "MPI_LOCALNRANKS",
        "SLURM_STEP_NUM_TASKS",
        "WORLD_SIZE",
    ):
        monkeypatch.delenv(var, raising=False)
    yield
    if dist.is_initialized():
        dist.destroy_process_group()


def test_timeouts_are_timedeltas(world_of_one):
    assert dist.default_pg_timeout == datetime.timedelta(minutes=30)
    assert issubclass(dist.DistBackendError, dist.DistError)
    assert issubclass(dist.DistError, RuntimeError)
    with pytest.raises(TypeError, match="timedelta"):
        dist.init_process_group(timeout=30)
    with pytest.raises(ValueError, match="positive"):
        dist.init_process_group(timeout=datetime.timedelta(seconds=-1))
    assert not dist.is_initialized()
    dist.init_process_group(timeout=datetime.timedelta(seconds=5))
    assert dist.group.WORLD.comm.timeout == 5.0
    assert dist.new_group([0]).comm.timeout == dist.default_pg_timeout.total_seconds()
    assert dist.new_group([0], timeout=datetime.timedelta(minutes=1)).comm.timeout == 60.0
    work = dist.all_reduce(torch.ones(2), async_op=True)
    assert work.wait(timeout=datetime.timedelta(seconds=1))
    with pytest.raises(TypeError, match="timedelta"):
        dist.all_reduce(torch.ones(2), async_op=True).wait(timeout=1.0)


class _Never:
    """MPI requests that never complete."""

    class Request:
        @staticmethod
        def Testall(requests):
            return False


class _Raw:
    def __init__(self, rank):
        self.rank = rank

    def Get_rank(self):
        return self.rank

    def Get_size(self):
        return 3


class _Departed:
    def __init__(self, left):
        self.left = left

    def receive(self):
        pass


def test_waiting_names_the_ranks(monkeypatch):
    comm = _watch.Comm(_Never, _Raw(0), gid=1000, ranks=[0, 2, 5], timeout=0.01)
    comm.started = 4
    monkeypatch.setattr(_watch._registry, "departures", None)
    with pytest.raises(dist.DistBackendError, match=r"waiting for at least one of ranks \[2, 5\]"):
        comm.wait([object()], "all_reduce")
    # rank 5 left after starting the 4th collective: not missing from it, but from the 5th
    monkeypatch.setattr(_watch._registry, "departures", _Departed({5: {1000: 4, 7: 9}}))
    with pytest.raises(dist.DistBackendError, match=r"rank\(s\) \[5\] left the job after starting"):
        comm.wait([object()], "all_reduce")
    comm.timeout = 3600.0  # must fail at once, not after the timeout
    comm.started = 5
    with pytest.raises(
        dist.DistBackendError,
        match="rank 5 left the job .* after starting 4 collective.* never join collective number 5",
    ):
        comm.wait([object()], "broadcast")
    monkeypatch.setattr(_watch._registry, "departures", _Departed({2: {}}))
    with pytest.raises(dist.DistBackendError, match="rank 2 left .* after starting 0 collective"):
        comm.wait([object()], "broadcast")

"""Collectives on two MPI processes, failure handling, and the world of one process."""

import sys

import numpy as np
import pytest

import retrograd as torch
import retrograd.distributed as dist
from retrograd.distributed import _faults, _mpi

from . import _launch


def test_collectives_on_two_ranks():
    _launch.run_ok("collectives.py", n=2)


def test_a_rank_that_raises_aborts_the_job():
    rc, out = _launch.run("rank_raises.py", n=2, timeout=60)
    assert rc != 0
    assert "deliberate failure on rank 1" in out
    assert "rank 1 of 2 raised ValueError" in out
    assert "got past the collective" not in out


@pytest.fixture(params=["mpi4py", "no mpi4py"])
def backend_source(request, monkeypatch):
    if request.param == "mpi4py":
        pytest.importorskip("mpi4py")
    else:
        monkeypatch.setitem(sys.modules, "mpi4py", None)
    for var in _mpi._LAUNCHER_SIZE_VARS:
        monkeypatch.delenv(var, raising=False)
    yield request.param
    if dist.is_initialized():
        dist.destroy_process_group()


def test_not_initialized_is_an_error():
    assert dist.is_available()
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match="init_process_group"):
        dist.get_rank()
    with pytest.raises(ValueError, match="init_process_group"):
        dist.all_reduce(torch.ones(1))


def test_world_of_one_process(backend_source):
    dist.init_process_group(backend="gloo", init_method="env://", world_size=1, rank=0)
    assert dist.is_initialized() and dist.get_rank() == 0 and dist.get_world_size() == 1
    with pytest.raises(ValueError, match="twice"):
        dist.init_process_group()
    t = torch.tensor([1.0, 2.0])
    dist.all_reduce(t, op=dist.ReduceOp.AVG)
    dist.broadcast(t, src=0)
    assert dist.all_reduce(t, async_op=True).wait()
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])
    out = [torch.zeros(2)]
    dist.all_gather(out, t)
    np.testing.assert_array_equal(out[0].numpy(), [1.0, 2.0])
    o = torch.zeros(2)
    dist.reduce_scatter_tensor(o, t)
    np.testing.assert_array_equal(o.numpy(), [1.0, 2.0])
    objs = [None]
    dist.all_gather_object(objs, "x")
    assert objs == ["x"]
    dist.barrier()
    assert _faults._installed[0] is None  # one process: nothing to abort
    dist.destroy_process_group()
    assert not dist.is_initialized()


def test_mismatched_world_size_is_an_error(backend_source):
    with pytest.raises(ValueError, match="world_size=4"):
        dist.init_process_group(world_size=4)


def test_several_processes_without_mpi4py_say_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    monkeypatch.setenv("PMI_SIZE", "2")
    with pytest.raises(ImportError, match=r"pip install 'retrograd\[mpi\]'"):
        dist.init_process_group()
    assert not dist.is_initialized()


def test_unknown_backend():
    with pytest.raises(ValueError, match="Invalid backend"):
        dist.init_process_group(backend="tcp")


def test_importing_retrograd_does_not_start_mpi():
    import subprocess

    code = "import sys, retrograd; import retrograd.distributed; print('mpi4py' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

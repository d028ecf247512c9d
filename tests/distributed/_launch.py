"""Run a script under ``mpiexec -n N`` from a test; skip when mpi4py or mpiexec is missing."""

import importlib.util
import os
import shutil
import signal
import subprocess
import sys

import pytest

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mpi_scripts")


def mpiexec():
    """The mpiexec installed beside this Python (the MPICH wheel's), else the one on PATH."""
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return here if os.access(here, os.X_OK) else shutil.which("mpiexec")


def require_mpi():
    if importlib.util.find_spec("mpi4py") is None:
        pytest.skip("mpi4py is not installed (pip install 'retrograd[mpi]')")
    if mpiexec() is None:
        pytest.skip("no mpiexec found beside the Python interpreter or on PATH")


def run(script, *args, n=2, timeout=60, leaves_shared_memory=False):
    """Run ``mpi_scripts/<script>`` on ``n`` processes, one thread each; returns
    (exit status, stdout + stderr). The whole process group is killed on timeout.

    Every rank first reports the MPICH shared-memory files it maps (``_run.py``); the job must
    have removed them when it ends (MPICH does on a normal exit, the library when it aborts a
    job). Whatever is left is removed, and fails the test unless ``leaves_shared_memory`` (a
    job ended by the launcher itself, which nobody can clean up after)."""
    require_mpi()
    env = dict(
        os.environ,
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        PYTHONUNBUFFERED="1",
        # harmless for MPICH; lets Open MPI run as root and with more ranks than cores
        OMPI_ALLOW_RUN_AS_ROOT="1",
        OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
        OMPI_MCA_rmaps_base_oversubscribe="1",
    )
    cmd = [
        mpiexec(),
        "-n",
        str(n),
        sys.executable,
        os.path.join(SCRIPTS, "_run.py"),
        os.path.join(SCRIPTS, script),
        *map(str, args),
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        _remove_shared_memory(out)
        pytest.fail(f"{script} on {n} processes did not finish within {timeout} s:\n{out}")
    left = _remove_shared_memory(out)
    if left and not leaves_shared_memory:
        pytest.fail(f"{script} on {n} processes left {left} behind (removed now):\n{out}")
    return proc.returncode, out


def _remove_shared_memory(out):
    """Remove the shared-memory files the job reported that still exist; returns them."""
    reported = {
        line.split(" ", 1)[1].strip() for line in out.splitlines() if line.startswith("SHARED-MEMORY /dev/shm/mpich_")
    }
    left = sorted(p for p in reported if os.path.exists(p))
    for path in left:
        try:
            os.unlink(path)
        except OSError:
            pass
    return left


def run_ok(script, *args, n=2, timeout=60):
    """Run a script that prints 'OK <rank>' on every rank when its checks pass."""
    rc, out = run(script, *args, n=n, timeout=timeout)
    assert rc == 0, f"{script} exited with status {rc}:\n{out}"
    for r in range(n):
        assert f"OK {r}" in out, f"rank {r} of {script} did not finish:\n{out}"
    return out

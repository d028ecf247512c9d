"""Run the MPI test script given as the first argument, after printing the MPICH shared-memory
files this rank has mapped (``SHARED-MEMORY <path>``, read from /proc/self/maps): the launcher
checks that the job removed them, and removes what it left."""

import runpy
import sys

from mpi4py import MPI  # noqa: F401  (starts MPI, which creates and maps the files)

try:
    with open("/proc/self/maps") as maps:
        mapped = {line.split(None, 5)[-1].strip() for line in maps if "/dev/shm/mpich_" in line}
except OSError:  # not Linux
    mapped = set()
for path in sorted(mapped):
    if not path.endswith("(deleted)"):
        print(f"SHARED-MEMORY {path}", flush=True)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")

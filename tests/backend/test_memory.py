"""The allocator policy keeps freed large blocks, so repeated big temporaries stop faulting."""

import os
import subprocess
import sys
import textwrap

import pytest

from retrograd.backend import memory

pytestmark = pytest.mark.skipif(not memory._glibc(), reason="glibc only")

# A step allocates activations of several sizes, computes from them, and frees them all, as
# a training step does; glibc's adaptive thresholds alone return part of that to the kernel.
SCRIPT = textwrap.dedent("""
    import resource, sys
    sys.path.insert(0, {src!r})
    import numpy as np
    import retrograd
    sizes = [3_200_000, 800_000, 12_800_000, 400_000, 6_400_000, 1_600_000]
    def step():
        keep = [np.ones(n // 4, dtype=np.float32) for n in sizes]
        tmp = [k * 2.0 for k in keep]
    for _ in range(3):
        step()
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(10):
        step()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
""")


def _faults(env_value):
    src = os.path.join(os.path.dirname(memory.__file__), "..", "..")
    env = dict(os.environ, RETROGRAD_KEEP_FREED_MEMORY=env_value)
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(src=os.path.abspath(src))],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip())


def test_repeated_large_temporaries_do_not_fault_with_the_policy():
    kept = _faults("1")
    returned = _faults("0")
    assert kept < 200  # reused from the heap
    assert returned > 10 * 2000  # about 5,000 fresh pages a step without the policy


def test_policy_can_be_switched_off_and_on():
    assert memory.keep_freed_memory(False)
    assert memory.keep_freed_memory(True)
